"""`continuum bench fuzz`: throw >= 100k hostile inputs at every parser a device or operator can reach.

Each target pairs a generator of hostile inputs (seeded, so a crash reproduces) with a check that
returns an outcome label: `accepted`, `ignored` or `rejected:<reason>`. Anything the check raises is a
crash: the input, the exception and its location are kept and the run exits 1. The hypothesis tests in
tests/fuzz drive the same checks with shrinking; this module is the fast, high-volume run.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from benchmarks import fuzz_scenarios, fuzzgen

__all__ = ["Crash", "FuzzReport", "Target", "main", "run_fuzz", "targets"]

MAX_PAYLOAD_BYTES = 64 * 1024
"""Payload limit the decoders are fuzzed with (they must enforce their own, whatever the broker allows)."""


@dataclass(frozen=True)
class Target:
    """A parser under fuzz: `generate(rng)` makes one input, `check(input)` returns its outcome label."""

    name: str
    generate: Callable[[random.Random], object]
    check: Callable[[object], str]
    close: Callable[[], None] | None = None
    weight: float = 1.0
    """Share of the cases relative to other targets (network round trips are slower than parsing)."""


@dataclass(frozen=True)
class Crash:
    """One input that made a target raise instead of accepting or rejecting it."""

    target: str
    case: str
    error: str
    where: str


@dataclass
class FuzzReport:
    """Counts per target and outcome, plus every crash."""

    seed: int
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    crashes: list[Crash] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def cases(self) -> int:
        """Inputs tried, crashes included."""
        return sum(sum(c.values()) for c in self.outcomes.values())

    def rejected_by_reason(self) -> Counter[str]:
        """Rejections over every target, by `<target>:<reason>`."""
        total: Counter[str] = Counter()
        for name, counts in self.outcomes.items():
            for label, n in counts.items():
                if label.startswith("rejected:"):
                    total[f"{name}:{label.removeprefix('rejected:')}"] += n
        return total


def _topic_check(case: object) -> str:
    from protos.topics import InvalidTopic, parse_topic

    assert isinstance(case, str)
    try:
        parse_topic(case)
    except InvalidTopic as exc:
        return "rejected:" + fuzzgen.topic_reason(str(exc))
    return "accepted"


def _decode_check(case: object) -> str:
    from orchestrator.ingest.decoding import Inbound, Rejected, decode

    assert isinstance(case, fuzzgen.MqttCase)
    result = decode(case.topic, case.payload, 0.0, MAX_PAYLOAD_BYTES, case.retained)
    if result is None:
        return "ignored"
    if isinstance(result, Rejected):
        return f"rejected:{result.reason}"
    if not isinstance(result, Inbound):
        raise TypeError(f"decode returned {type(result).__name__}")
    return "accepted_nonfinite" if fuzzgen.has_nonfinite(result.message) else "accepted"


def _scenario_check(case: object) -> str:
    """parse_scenario: a Scenario or a ScenarioError; an accepted one must plan (or be Infeasible) with
    finite, non-negative figures."""
    from orchestrator.planner import Infeasible, ScenarioError, parse_scenario, plan

    assert isinstance(case, dict)
    try:
        scenario = parse_scenario(case)
    except ScenarioError as exc:
        return "rejected:" + fuzz_scenarios.scenario_reason(str(exc))
    try:
        result = plan(scenario)
    except Infeasible:
        return "accepted:infeasible"
    figures = (result.latency_ms, result.cost_usd, result.device_energy_j)
    if not all(math.isfinite(v) and v >= 0 for v in figures):
        raise AssertionError(f"plan figures {figures} are not finite and non-negative")
    return "accepted:planned"


class OfflineConnection:
    """The agent's connection as seen by its command handler: never connected, refuses to publish."""

    connected = False
    on_message: Callable[..., None] | None = None

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> int:
        from agents.transport.mqtt import NotConnected

        raise NotConnected(topic)

    def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscriptions are irrelevant offline."""


def _agent_command_check() -> Callable[[object], str]:
    """The agent's real command handler (`DeviceSession.handle_message`), with an in-memory plan store.

    The handler never raises by design (it counts `commands_rejected:internal_error` instead), so that
    counter is what a crash looks like here. An accepted plan whose model name is not a safe id is a
    crash too: the plan cache uses the model name as a file name.
    """
    from typing import Any, cast

    from agents.plans import PlanStore
    from agents.session.bdseq import MemoryBdSeq
    from agents.session.device import DeviceIdentity, DeviceSession
    from agents.transport.mqtt import Message
    from protos.topics import InvalidId, validate_id
    from protos.v1 import control_pb2

    class _Nothing:
        def capabilities(self) -> control_pb2.Capabilities:
            return control_pb2.Capabilities()

        def models(self) -> list[control_pb2.ModelInfo]:
            return []

        def fill(self, telemetry: control_pb2.Telemetry, now_s: float) -> None:
            return None

    nothing = _Nothing()
    session = DeviceSession(
        DeviceIdentity("f1", "dev-1"),
        cast(Any, OfflineConnection()),
        MemoryBdSeq(),
        nothing,
        nothing,
        PlanStore(),
    )

    def check(case: object) -> str:
        assert isinstance(case, bytes)
        before = session.counters.copy()
        session.handle_message(Message(session.topics["cmd"], case, False, qos=1))
        delta = session.counters - before
        if delta["commands_rejected:internal_error"]:
            raise RuntimeError("the command handler raised internally (see the agent log)")
        rejected = [key.split(":", 1)[1] for key in delta if key.startswith("commands_rejected:")]
        if rejected:
            return f"rejected:{rejected[0]}"
        if delta["commands:plan_update"]:
            command = control_pb2.Command.FromString(case)
            try:
                validate_id(command.plan_update.model, "model name")
            except InvalidId as exc:
                raise AssertionError(f"accepted a plan for an unsafe model name: {exc}") from exc
        accepted = [key.split(":", 1)[1] for key in delta if key.startswith("commands:")]
        return f"accepted:{accepted[0]}" if accepted else "ignored"

    return check


def _operator_target() -> Target:
    from benchmarks.fuzz_operator import OperatorStack

    stack = OperatorStack()
    return Target("operator.grpc", fuzzgen.operator_call, stack.check, stack.close, weight=0.25)


def _available(module: str) -> str | None:
    """None when `module` imports, else why not (a target whose code has not landed is reported, not run)."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as exc:
        return f"{module}: {exc}"
    return None


def targets(with_grpc: bool = True) -> tuple[list[Target], dict[str, str]]:
    """The targets whose code exists in this tree, and the others with the reason they cannot run."""
    candidates: list[
        tuple[str, str, Callable[[random.Random], object], Callable[[], Callable[[object], str]]]
    ] = [
        ("topics.parse_topic", "protos.topics", fuzzgen.topic, lambda: _topic_check),
        ("orchestrator.decode", "orchestrator.ingest.decoding", fuzzgen.mqtt_case, lambda: _decode_check),
        (
            "planner.parse_scenario",
            "orchestrator.planner",
            fuzz_scenarios.scenario_doc,
            lambda: _scenario_check,
        ),
        ("agent.command_handler", "agents.session.device", fuzzgen.command_payload, _agent_command_check),
    ]
    ready: list[Target] = []
    missing: dict[str, str] = {}
    for name, module, generate, make_check in candidates:
        why = _available(module)
        if why is None:
            ready.append(Target(name, generate, make_check()))
        else:
            missing[name] = why
    if with_grpc:
        try:
            ready.append(_operator_target())
        except (ImportError, OSError, RuntimeError, TimeoutError) as exc:
            missing["operator.grpc"] = f"cannot start a broker and an orchestrator: {exc}"
    return ready, missing


def run_fuzz(cases: int, seed: int = 0, only: Sequence[str] = (), with_grpc: bool = True) -> FuzzReport:
    """Run `cases` inputs spread evenly over the available targets (or those named in `only`).

    `with_grpc` starts Mosquitto and an orchestrator process to fuzz the real Operator gRPC API.
    """
    available, missing = targets(with_grpc and (not only or "operator.grpc" in only))
    chosen = [t for t in available if not only or t.name in only]
    report = FuzzReport(seed=seed, unavailable=missing)
    if not chosen:
        return report
    started = time.perf_counter()
    # Handlers log every rejected input (100k warnings would drown the figures); numeric warnings
    # (overflow, NaN from inf * 0) are errors, so a crash names the line that computed garbage.
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            _run_targets(chosen, cases, seed, report)
    finally:
        logging.disable(logging.NOTSET)
        for target in available:
            if target.close is not None:
                target.close()
    report.seconds = time.perf_counter() - started
    return report


def _run_targets(chosen: Sequence[Target], cases: int, seed: int, report: FuzzReport) -> None:
    weights = sum(t.weight for t in chosen)
    shares = [int(cases * t.weight / weights) for t in chosen]
    shares[0] += cases - sum(shares)
    for index, (target, share) in enumerate(zip(chosen, shares, strict=True)):
        rng = random.Random(seed * 1_000_003 + index)
        counts: Counter[str] = Counter()
        for _ in range(share):
            case = target.generate(rng)
            try:
                counts[target.check(case)] += 1
            except Exception as exc:  # a crash is what we are looking for; record it and go on
                counts["crash"] += 1
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                report.crashes.append(
                    Crash(
                        target.name,
                        repr(case)[:300],
                        f"{type(exc).__name__}: {exc}"[:300],
                        f"{frame.filename}:{frame.lineno}",
                    )
                )
        report.outcomes[target.name] = counts


def render(report: FuzzReport) -> str:
    """The human-readable summary printed by `continuum bench fuzz`."""
    lines = [
        f"fuzz: {report.cases} cases, {len(report.crashes)} crashes, seed {report.seed}, "
        f"{report.seconds:.1f} s ({report.cases / max(report.seconds, 1e-9):,.0f} cases/s)",
    ]
    for name, counts in sorted(report.outcomes.items()):
        lines.append(f"  {name}: {sum(counts.values())} cases")
        lines += [f"    {label:<32} {n:>8}" for label, n in sorted(counts.items())]
    for name, why in sorted(report.unavailable.items()):
        lines.append(f"  {name}: NOT RUN ({why})")
    for crash in report.crashes[:20]:
        lines.append(f"  CRASH {crash.target} at {crash.where}: {crash.error}\n    input: {crash.case}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `continuum bench fuzz [--cases N] [--seed S] [--target NAME ...]`; exit 1 on any crash."""
    parser = argparse.ArgumentParser(prog="continuum bench fuzz", description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000, help="inputs in total (default 100000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; a crash reproduces with it")
    parser.add_argument("--target", action="append", default=[], help="only this target (repeat)")
    parser.add_argument(
        "--no-grpc",
        action="store_true",
        help="skip the Operator API target (it starts Mosquitto and an orchestrator)",
    )
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    report = run_fuzz(args.cases, args.seed, args.target, with_grpc=not args.no_grpc)
    if args.json:
        document = {
            "cases": report.cases,
            "crashes": len(report.crashes),
            "seconds": round(report.seconds, 2),
            "seed": report.seed,
            "outcomes": {name: dict(sorted(counts.items())) for name, counts in report.outcomes.items()},
            "rejected_by_reason": dict(sorted(report.rejected_by_reason().items())),
            "crash_samples": [vars(c) for c in report.crashes[:20]],
            "not_run": report.unavailable,
        }
        print(json.dumps(document, indent=2))
    else:
        print(render(report))
    return 1 if report.crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
