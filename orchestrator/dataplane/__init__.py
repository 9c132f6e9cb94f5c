"""The edge and cloud side of split inference: Ray tier workers, InferenceHop gateways, metrics.

`services.DataPlane` brings it all up; `workers.py` holds every Ray call; `routing.py` is the pure policy.
Run standalone with `python -m orchestrator.dataplane`.
"""
