"""Benchmarks, one module per area, each runnable as `continuum bench <area>` and printing figures."""
