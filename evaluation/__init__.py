"""Trace-replay evaluation: the production estimator, hysteresis and planner replayed over real traces."""
