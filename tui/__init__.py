"""The operator console (Textual). Talks to the orchestrator over gRPC only; imports `protos` only."""
