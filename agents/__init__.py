"""The device agent: probes, MQTT session, store-and-forward, commands, daemon install, simulated fleet.

Imports `protos` and `inference` only; installs with the `agent` extra (no Ray, Kubernetes, Textual).
"""
