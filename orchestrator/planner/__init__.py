"""The planner: pure placement computation (cost model, optimisers); no I/O, clocks or Ray."""
