"""Real local services for contract tests: a Mosquitto broker on a free port, free ports."""
