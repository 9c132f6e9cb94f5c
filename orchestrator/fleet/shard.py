"""One shard of the fleet: the devices whose id hashes to it, their sessions, links and plans.

A shard is plain Python with no I/O and no clock: the control loop passes batches and `now_s` in,
and publishes what comes back. The same class runs in-process (local backend) or inside a Ray actor
(`orchestrator.fleet.ray_backend`), so its logic is tested without Ray.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.domain.commands import Command, CommandBody, Drain, Rebirth
from orchestrator.domain.messages import Birth, Inbound, TelemetryReport
from orchestrator.domain.views import DeviceDetail, DeviceSummary
from orchestrator.fleet import describe
from orchestrator.fleet.adoption import adopt_birth
from orchestrator.fleet.records import DeviceRecord, EventRecord, Outbound, ShardOutput
from orchestrator.fleet.sessions import (
    Session,
    SessionPolicy,
    Transition,
    on_birth,
    on_death,
    on_telemetry,
    sweep,
)
from orchestrator.replanning.replanner import PlanContext, Replanner
from orchestrator.replanning.trigger import replan_due
from protos.topics import device_topic

__all__ = ["ActionResult", "FleetShard"]


@dataclass(frozen=True, slots=True)
class ActionResult:
    """Outcome of an operator action on a shard: ok, or a canonical failure with a message."""

    status: str  # "ok", "not_found", "invalid_argument", "failed_precondition"
    message: str


def _unix_ms(now_s: float) -> int:
    return int(now_s * 1000)


class FleetShard:
    """The state of the devices of one shard, and every decision about them."""

    def __init__(
        self,
        policy: SessionPolicy,
        replanner: Replanner | None = None,
        history: int = 60,
        rebirth_on_retained: bool = True,
    ) -> None:
        self._policy = policy
        self._replanner = replanner
        self._history = history
        self._rebirth_on_retained = rebirth_on_retained
        self._devices: dict[str, DeviceRecord] = {}
        self._revision = 0
        self._changed: OrderedDict[str, int] = OrderedDict()
        self._dirty: set[str] = set()
        self._context = PlanContext()

    def _record(self, fleet: str, device: str) -> DeviceRecord:
        record = self._devices.get(device)
        if record is None:
            record = DeviceRecord(Session(device, fleet))
            record.uplink_history = deque(maxlen=self._history)
            record.rtt_history = deque(maxlen=self._history)
            self._devices[device] = record
        record.session.fleet = fleet
        return record

    def _touch(self, record: DeviceRecord) -> None:
        self._revision += 1
        record.revision = self._revision
        changed = self._changed
        changed[record.session.device_id] = self._revision
        changed.move_to_end(record.session.device_id)

    def command(self, record: DeviceRecord, now_s: float, body: CommandBody) -> Command:
        """A Command for `record`'s device with a fresh id."""
        record.next_command += 1
        return Command(
            f"{record.session.device_id}:{record.session.bd_seq}:{record.next_command}", _unix_ms(now_s), body
        )

    def _rebirth(self, record: DeviceRecord, reason: str, now_s: float, out: ShardOutput) -> None:
        command = self.command(record, now_s, Rebirth(reason))
        topic = device_topic(record.session.fleet, record.session.device_id, "cmd")
        out.commands.append(Outbound(topic, command, "rebirth"))
        out.events.append(EventRecord(_unix_ms(now_s), "rebirth", record.session.device_id, reason))

    def _transition(self, record: DeviceRecord, t: Transition, now_s: float, out: ShardOutput) -> None:
        if t.changed:
            self._touch(record)
            if t.after == "offline" and t.outcome in ("ended", "expired"):
                out.events.append(EventRecord(_unix_ms(now_s), "death", record.session.device_id, t.reason))
            elif t.after != "online" or t.before != "offline":
                out.events.append(
                    EventRecord(
                        _unix_ms(now_s),
                        "state",
                        record.session.device_id,
                        f"{t.before} -> {t.after}: {t.reason}",
                    )
                )
        if t.rebirth:
            self._rebirth(record, t.reason, now_s, out)

    def apply(self, batch: Sequence[Inbound], now_s: float) -> ShardOutput:
        """Apply a batch of births, telemetry and deaths in arrival order, then replan what changed."""
        out = ShardOutput()
        arrivals: dict[str, float] = {}
        for item in batch:
            record = self._record(item.fleet, item.device)
            message = item.message
            if isinstance(message, TelemetryReport):
                t = on_telemetry(
                    record.session,
                    message.bd_seq,
                    message.seq,
                    message.historical,
                    item.received_s,
                    self._policy,
                )
                out.count(f"telemetry_{t.outcome}")
                if t.outcome in ("accepted", "gap") and self._observe(record, message):
                    self._dirty.add(item.device)
                    arrivals.setdefault(item.device, item.received_s)
                self._transition(record, t, item.received_s, out)
            elif isinstance(message, Birth):
                t = on_birth(record.session, message.bd_seq, item.received_s, item.retained)
                out.count(f"birth_{t.outcome}")
                if t.outcome in ("new_session", "duplicate"):
                    # A birth older than a plan numbered since: that plan goes again (see `adoption`).
                    self._send_plans(record, adopt_birth(record, message), item.received_s, out)
                    self._dirty.add(item.device)
                    self._touch(record)
                if t.outcome == "new_session":
                    out.events.append(EventRecord(_unix_ms(now_s), "birth", item.device, t.reason))
                    arrivals.setdefault(item.device, item.received_s)
                    if item.retained and self._rebirth_on_retained:
                        self._rebirth(record, "orchestrator started: confirm your session", now_s, out)
                self._transition(record, t, item.received_s, out)
            else:
                t = on_death(record.session, message.bd_seq, item.received_s)
                out.count(f"death_{t.outcome}")
                self._transition(record, t, item.received_s, out)
        self._replan(now_s, arrivals, out)
        return out

    def _send_plans(
        self, record: DeviceRecord, models: Sequence[str], now_s: float, out: ShardOutput
    ) -> None:
        """Send the current plans of `models` as they stand (an operator's pin, or a repeat)."""
        if self._replanner is None:
            return
        topic = device_topic(record.session.fleet, record.session.device_id, "cmd")
        mode = "device" if record.drained else "all"
        for model in models:
            update = self._replanner.update(record.plans[model], model, mode)
            command = self.command(record, now_s, update)
            out.commands.append(Outbound(topic, command, "plan_update", None, self._replanner.expiry_s))

    def _observe(self, record: DeviceRecord, telemetry: TelemetryReport) -> bool:
        """Record the reported links and load; True when they moved enough to replan."""
        links = dict(telemetry.links)
        record.links = links
        record.cpu_percent = telemetry.cpu_percent
        if record.battery_percent >= 0 or not telemetry.on_ac:
            record.battery_percent = (
                telemetry.battery_percent if not telemetry.on_ac else record.battery_percent
            )
        for name, p50_ms in telemetry.measured_p50_ms.items():
            plan = record.plans.get(name)
            if plan is not None:
                plan.measured_latency_ms = p50_ms
        edge = links.get("edge")
        if edge is not None:
            record.uplink_history.append(edge.uplink_mbps)
            record.rtt_history.append(edge.rtt_ms)
        self._touch(record)
        if self._replanner is None:
            return False
        return replan_due(record, links, telemetry.link_changed, self._replanner)

    def _replan(self, now_s: float, arrivals: dict[str, float], out: ShardOutput) -> None:
        if self._replanner is None or not self._dirty:
            return
        records = [
            self._devices[d] for d in sorted(self._dirty) if self._devices[d].session.state == "online"
        ]
        self._dirty.clear()
        if not records:
            return
        try:
            decisions = self._replanner.replan(records, self._context, now_s)
        except Exception as exc:  # a planner failure must never stop sessions or ingest
            out.count("replan_failed", len(records))
            out.events.append(
                EventRecord(
                    _unix_ms(now_s), "error", "", f"replanning {len(records)} device(s) failed: {exc!r}"
                )
            )
            return
        for decision in decisions:
            record = decision.record
            out.replans += 1
            self._touch(record)
            out.events.append(
                EventRecord(
                    _unix_ms(now_s),
                    "switch" if decision.switched else "replan",
                    record.session.device_id,
                    decision.message,
                )
            )
            if decision.publish is not None:
                out.switches += int(decision.switched)
                topic = device_topic(record.session.fleet, record.session.device_id, "cmd")
                command = self.command(record, now_s, decision.publish)
                out.commands.append(
                    Outbound(
                        topic,
                        command,
                        "plan_update",
                        arrivals.get(record.session.device_id),
                        self._replanner.expiry_s,
                    )
                )

    def tick(self, now_s: float) -> ShardOutput:
        """Apply the staleness bounds to every device."""
        out = ShardOutput()
        heard_after = now_s - min(self._policy.stale_after_s, self._policy.offline_after_s)
        for record in self._devices.values():
            session = record.session
            if session.state == "offline" or session.last_seen_s > heard_after:
                continue  # the common case, kept cheap: this loop visits every device each second
            t = sweep(session, now_s, self._policy)
            if t is not None:
                self._transition(record, t, now_s, out)
        return out

    def set_context(self, context: PlanContext, now_s: float) -> ShardOutput:
        """New tier load or drained sites: replan every online device."""
        self._context = context
        self._dirty.update(d for d, r in self._devices.items() if r.session.state == "online")
        out = ShardOutput()
        self._replan(now_s, {}, out)
        return out

    def counts(self) -> dict[str, int]:
        """Devices by state."""
        counts = {"online": 0, "stale": 0, "offline": 0}
        for record in self._devices.values():
            counts[record.session.state] += 1
        return counts

    def summaries(self, fleet: str = "", state: str = "") -> list[DeviceSummary]:
        """Summaries of the devices matching `fleet` and `state` (empty matches all)."""
        return [
            describe.summary(r)
            for r in self._devices.values()
            if (not fleet or r.session.fleet == fleet) and (not state or r.session.state == state)
        ]

    def changes_since(self, revision: int) -> tuple[int, list[DeviceSummary]]:
        """The shard's revision now and the devices changed after `revision`.

        Devices are kept in order of their last change, so this walks only the changed ones."""
        changed: list[DeviceSummary] = []
        for device_id in reversed(self._changed):
            if self._changed[device_id] <= revision:
                break
            changed.append(describe.summary(self._devices[device_id]))
        changed.reverse()
        return self._revision, changed

    def detail(self, device_id: str) -> DeviceDetail | None:
        """Everything about one device, or None when the shard does not know it."""
        record = self._devices.get(device_id)
        if record is None:
            return None
        if self._replanner is not None:
            self._replanner.explain(record)
        return describe.detail(record)

    def has(self, device_id: str) -> bool:
        """Whether the shard knows the device."""
        return device_id in self._devices

    def rebirth(self, device_id: str, now_s: float) -> tuple[ActionResult, ShardOutput]:
        """Ask one device to publish its birth again."""
        out = ShardOutput()
        record = self._devices.get(device_id)
        if record is None:
            return ActionResult("not_found", f"no device {device_id!r}"), out
        self._rebirth(record, "requested by an operator", now_s, out)
        return ActionResult("ok", f"rebirth requested from {device_id}"), out

    def drain(self, device_id: str, drained: bool, now_s: float) -> tuple[ActionResult, ShardOutput]:
        """Drain a device (everything runs on it) or undrain it; tells the device and replans it."""
        out = ShardOutput()
        record = self._devices.get(device_id)
        if record is None:
            return ActionResult("not_found", f"no device {device_id!r}"), out
        record.drained = drained
        self._touch(record)
        command = self.command(record, now_s, Drain(drained))
        out.commands.append(Outbound(device_topic(record.session.fleet, device_id, "cmd"), command, "drain"))
        out.events.append(
            EventRecord(_unix_ms(now_s), "action", device_id, "drained" if drained else "undrained")
        )
        self._dirty.add(device_id)
        self._replan(now_s, {}, out)
        return ActionResult("ok", f"{device_id} {'drained' if drained else 'undrained'}"), out

    def pin(
        self, device_id: str, model: str, tiers: Sequence[str], pinned: bool, now_s: float
    ) -> tuple[ActionResult, ShardOutput]:
        """Pin a model's plan on a device (`tiers` per layer; empty pins the current plan), or unpin it."""
        out = ShardOutput()
        record = self._devices.get(device_id)
        if record is None:
            return ActionResult("not_found", f"no device {device_id!r}"), out
        if self._replanner is None:
            return ActionResult("failed_precondition", "this orchestrator has no models to plan"), out
        error = self._replanner.pin(record, model, tuple(tiers), pinned)
        if error is not None:
            return ActionResult(error[0], error[1]), out
        self._touch(record)
        action = "pinned" if pinned else "unpinned"
        plan = record.plans[model]
        out.events.append(
            EventRecord(_unix_ms(now_s), "action", device_id, f"{model} {action}: {plan.tiers}")
        )
        self._send_plans(record, [model], now_s, out)
        self._dirty.add(device_id)
        self._replan(now_s, {}, out)
        return ActionResult("ok", f"{model} on {device_id} {action}"), out

    def replan(self, device_id: str, now_s: float) -> tuple[ActionResult, ShardOutput]:
        """Replan one device now ("" replans the whole shard)."""
        out = ShardOutput()
        if device_id and device_id not in self._devices:
            return ActionResult("not_found", f"no device {device_id!r}"), out
        targets = [device_id] if device_id else list(self._devices)
        for d in targets:
            self._devices[d].planned_links = {}
        self._dirty.update(targets)
        self._replan(now_s, {}, out)
        return ActionResult("ok", f"replanned {len(targets)} device(s)"), out
