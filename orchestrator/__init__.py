"""The control plane: planner, fleet sessions, Ray-sharded state, replanning, gRPC API, metrics, Kubernetes.

Imports `protos` and `inference` only; never the agent or the TUI.
"""
