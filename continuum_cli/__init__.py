"""The `continuum` command line: the composition root that wires agents, orchestrator, TUI and tools.

Each subcommand lives in `cli/commands/<name>.py` and imports its heavy dependencies lazily, so a
device with only the `agent` extra can run `continuum agent ...` without Ray, Kubernetes or Textual.
"""
