"""The split-inference library shared by the agent and the tier workers.

`zoo` (models built here), `layers` (the planner's layers mapped onto nodes), `cutting` (plans -> stages ->
subgraphs), `runtime` (ONNX Runtime), `profiling` and `profiles` (measured `model` objects), `tensors` (hop
framing), `hops` (the gRPC hop client) and `linkemu` (token-bucket link EMULATION). Imports `protos` only.
"""
