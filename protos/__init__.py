"""Wire contracts: the .proto files, their generated code and the MQTT topic scheme.

Imports nothing of ours. Generated code lives in `protos.v1` (regenerate with `make protos`).
"""

PROTOCOL_VERSION = 1
"""The control-plane protocol version every payload carries; receivers refuse others."""

__all__ = ["PROTOCOL_VERSION"]
