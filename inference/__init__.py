"""The split-inference library shared by the agent and the tier workers: model zoo, graph cutting,
ONNX Runtime execution and tensor framing. Imports `protos` only."""
