"""The edge and cloud side of split inference: Ray tier workers, InferenceHop gateways, metrics.

`services.DataPlane` brings it all up; `workers.py` holds every Ray call; `routing.py` is the pure policy.
Run standalone with `python -m orchestrator.dataplane`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.services import DemoContext, Service

__all__ = ["demo_services"]


def demo_services(context: DemoContext) -> list[Service]:
    """The data plane's services for `continuum demo` (imported lazily: Ray and gRPC load only here)."""
    from orchestrator.dataplane.demo import demo_services as build

    return build(context)
