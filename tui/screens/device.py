"""One device: capabilities, links over time, every plan with its alternatives and why it won, events."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Label, Sparkline, Static

from tui import actions
from tui.actions import OperatorAction
from tui.models import AlternativeInfo, DeviceDetail, PlanInfo
from tui.render import (
    STATE_STYLES,
    fmt_ago,
    fmt_bytes,
    fmt_cost,
    fmt_ms,
    split_bar,
    split_label,
)
from tui.screens.base import OperatorScreen, ScreenContext
from tui.widgets.status_bar import StatusBar

__all__ = ["DeviceScreen"]

_CHOSEN = "▶ chosen"


class DeviceScreen(OperatorScreen):
    """Polls GetDevice while shown; the highlighted plan row is what p(in) and u(npin) act on."""

    HELP = "Device: one device in depth"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back"),
        Binding(
            "p", "pin", "Pin row", tooltip="pin the highlighted row: the chosen plan or that alternative"
        ),
        Binding("u", "unpin", "Unpin"),
        Binding("d", "drain", "Drain", tooltip="drain or undrain this device"),
        Binding("r", "replan", "Replan"),
        Binding("b", "rebirth", "Rebirth"),
    ]

    def __init__(self, context: ScreenContext, device_id: str) -> None:
        super().__init__(context)
        self.device_id = device_id
        self.detail: DeviceDetail | None = None

    def compose(self) -> ComposeResult:
        """Title and status, then the sections in a scrolling column."""
        yield Header()
        yield StatusBar()
        yield Label(f"Device {self.device_id} — loading…", id="device-title")
        with VerticalScroll(id="device-body"):
            yield DataTable(id="plans", cursor_type="row", zebra_stripes=True)
            yield Static("", id="why")
            with Horizontal(id="device-top"):
                with Vertical(id="links"):
                    yield Static("", id="links-now")
                    yield Label("", id="uplink-label")
                    yield Sparkline([], id="uplink-spark")
                    yield Label("", id="rtt-label")
                    yield Sparkline([], id="rtt-spark")
                yield Static("", id="capabilities")
            yield DataTable(id="device-events", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        """Set up the tables and start polling."""
        self.query_one("#capabilities").border_title = "Capabilities"
        self.query_one("#links").border_title = "Links over time"
        plans = self.query_one("#plans", DataTable)
        plans.border_title = "Plans: chosen vs alternatives"
        self.fixed_columns(
            plans,
            [
                ("MODEL", 12),
                ("OPTION", 13),
                ("SPLIT d|e|c", 11),
                ("LAT ms", 7),
                ("COST/req", 8),
                ("ENERGY J", 8),
                ("MEAS ms", 7),
            ],
            "NOTE",
        )
        events = self.query_one("#device-events", DataTable)
        events.border_title = "Recent events"
        self.fixed_columns(events, [("WHEN", 5), ("KIND", 8)], "MESSAGE")
        plans.focus()
        self.update_status()
        self.poll()
        self.set_interval(self.context.poll_interval_s, self.poll)

    @work(exclusive=True, group="device-poll")
    async def poll(self) -> None:
        """Fetch the device and redraw (skipped while another screen is on top)."""
        if not self.is_current and self.detail is not None:
            return
        detail = await self.fetch(
            self.context.reads.get_device(self.device_id), "#device-title", f"Device {self.device_id}"
        )
        if detail is None:
            return
        if detail != self.detail:
            self.show(detail)
        self.update_status()

    def show(self, detail: DeviceDetail) -> None:
        """Draw a device detail."""
        self.detail = detail
        row = detail.row
        title = Text()
        title.append(f"{row.id}", style="bold")
        title.append(f"  fleet {row.fleet} · ")
        title.append(row.state, style=STATE_STYLES.get(row.state, "magenta"))
        if row.drained:
            title.append(" · DRAINED", style="bold yellow")
        title.append(
            f" · site {row.site or '—'} · agent {detail.agent_version or '—'} · bdSeq {detail.bd_seq}"
        )
        title.append(f" · seen {fmt_ago(self.context.clock_ms(), row.last_seen_unix_ms)} ago")
        self.query_one("#device-title", Label).update(title)
        self._show_capabilities(detail)
        self._show_links(detail)
        self._show_plans(detail.plans)
        events = self.query_one("#device-events", DataTable)
        events.clear()
        now = self.context.clock_ms()
        for event in sorted(detail.events, key=lambda e: e.id, reverse=True):
            events.add_row(fmt_ago(now, event.unix_ms), event.kind, event.message)

    def _show_capabilities(self, detail: DeviceDetail) -> None:
        caps = detail.capabilities
        row = detail.row
        battery = f"{row.battery_percent:.0f}%" if row.battery_percent is not None else "none"
        power = f"battery {battery}" + (" (on AC)" if caps.on_ac else "")
        lines = [
            f"class    {caps.device_class or '—'}  (speed ×{caps.speed_factor:g})",
            f"arch     {caps.arch or '—'}, {caps.cpu_count} CPUs, {fmt_bytes(caps.memory_bytes)}",
            f"os       {caps.os or '—'}",
            f"accel    {', '.join(caps.accelerators) or 'none'}",
            f"ORT EPs  {', '.join(caps.execution_providers) or '—'}",
            f"power    {power}",
        ]
        self.query_one("#capabilities", Static).update("\n".join(lines))

    def _show_links(self, detail: DeviceDetail) -> None:
        lines = [
            f"{link.target:<5} {link.link_type or '':<8} {fmt_ms(link.rtt_ms):>5}ms "
            f"↑{fmt_ms(link.uplink_mbps)} ↓{fmt_ms(link.downlink_mbps)} Mb/s loss {link.loss:.0%}"
            for link in detail.links
        ]
        self.query_one("#links-now", Static).update("\n".join(lines) or "no link estimates yet")
        uplink = list(detail.row.uplink_history_mbps)
        rtt = list(detail.row.rtt_history_ms)
        self.query_one("#uplink-label", Label).update(_series_label("uplink Mb/s", uplink))
        self.query_one("#rtt-label", Label).update(_series_label("RTT to edge ms", rtt))
        self.query_one("#uplink-spark", Sparkline).data = uplink
        self.query_one("#rtt-spark", Sparkline).data = rtt

    def _show_plans(self, plans: tuple[PlanInfo, ...]) -> None:
        table = self.query_one("#plans", DataTable)
        keep = table.cursor_row
        table.clear()
        for plan in plans:
            note = f"v{plan.version}" + (" PINNED" if plan.pinned else "")
            table.add_row(
                plan.model,
                Text(_CHOSEN, style="bold green"),
                _bar(plan.tiers),
                fmt_ms(plan.predicted.latency_ms),
                fmt_cost(plan.predicted.cost_usd),
                f"{plan.predicted.energy_j:.3f}",
                fmt_ms(plan.measured_latency_ms),
                note,
                key=f"{plan.model}|",
            )
            for alt in plan.alternatives:
                figures = alt.figures
                table.add_row(
                    "",
                    Text(alt.name, style="" if alt.feasible else "dim strike"),
                    _bar(alt.tiers),
                    fmt_ms(figures.latency_ms) if alt.feasible else "—",
                    fmt_cost(figures.cost_usd) if alt.feasible else "—",
                    f"{figures.energy_j:.3f}" if alt.feasible else "—",
                    "",
                    _compare(plan, alt) if alt.feasible else "infeasible",
                    key=f"{plan.model}|{alt.name}",
                )
        if not plans:
            table.add_row("—", "no plan yet", "", "", "", "", "", "", key="|")
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        self._show_why()

    def _selected(self) -> tuple[PlanInfo, str] | None:
        """The plan of the highlighted row and the alternative name ("" for the chosen plan)."""
        table = self.query_one("#plans", DataTable)
        if self.detail is None or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or "|"
        model, _, alternative = key.partition("|")
        plan = next((p for p in self.detail.plans if p.model == model), None)
        return (plan, alternative) if plan is not None else None

    @on(DataTable.RowHighlighted, "#plans")
    def _row_highlighted(self) -> None:
        self._show_why()

    def _show_why(self) -> None:
        chosen = self._selected()
        why = self.query_one("#why", Static)
        why.border_title = "Why it won"
        if chosen is None:
            why.update("no plan yet: the orchestrator has not placed a model on this device")
            return
        plan, _ = chosen
        text = Text()
        text.append(f"{plan.model}: ", style="bold")
        text.append(plan.reason or "no reason given")
        text.append(f"\nobjective {plan.objective or '—'} · {split_label(plan.tiers)}")
        for label, parts in (("compute", plan.compute_ms), ("transfer", plan.transfer_ms)):
            shown = [f"{k} {fmt_ms(v)}ms" for k, v in sorted(parts.items(), key=_tier_first) if v > 0]
            if shown:
                text.append(f" · {label} " + ", ".join(shown))
        why.update(text)

    def context_actions(self) -> list[OperatorAction]:
        """Pin the highlighted option, unpin, drain, replan, rebirth this device."""
        if self.detail is None:
            return []
        row = self.detail.row
        found: list[OperatorAction] = []
        chosen = self._selected()
        pin = self._pin_action()
        if chosen is not None and pin is not None:
            found += [pin, actions.unpin_plan(row, chosen[0].model)]
        return [*found, actions.drain_device(row), actions.replan(row.id), actions.rebirth(row.id)]

    def _pin_action(self) -> OperatorAction | None:
        chosen = self._selected()
        if chosen is None or self.detail is None:
            return None
        plan, alternative = chosen
        alt = next((a for a in plan.alternatives if a.name == alternative), None)
        tiers = alt.tiers if alt is not None and alt.feasible else ()
        return actions.pin_plan(self.detail.row, plan.model, tiers)

    def action_back(self) -> None:
        """Back to the fleet."""
        self.dismiss()

    def action_pin(self) -> None:
        """Pin the highlighted row: the chosen plan, or the alternative under the cursor."""
        if action := self._pin_action():
            self.request(action)

    def action_unpin(self) -> None:
        """Unpin the highlighted model."""
        if self.detail is not None and (chosen := self._selected()):
            self.request(actions.unpin_plan(self.detail.row, chosen[0].model))

    def action_drain(self) -> None:
        """Drain or undrain this device."""
        if self.detail is not None:
            self.request(actions.drain_device(self.detail.row))

    def action_replan(self) -> None:
        """Replan this device."""
        self.request(actions.replan(self.device_id))

    def action_rebirth(self) -> None:
        """Ask this device to publish its birth again."""
        self.request(actions.rebirth(self.device_id))


def _tier_first(item: tuple[str, float]) -> tuple[int, str]:
    """Order breakdown entries device, edge, cloud, then links by name (wire maps have no order)."""
    order = {"device": 0, "edge": 1, "cloud": 2}
    return (order.get(item[0], 3), item[0])


def _bar(tiers: tuple[str, ...]) -> Text:
    text = Text()
    for piece, style in split_bar(tiers, 10):
        text.append(piece, style=style)
    return text


def _compare(plan: PlanInfo, alt: AlternativeInfo) -> str:
    if alt.tiers and alt.tiers == plan.tiers:
        return "= the chosen placement"
    delta = alt.figures.latency_ms - plan.predicted.latency_ms
    return f"{delta:+.1f} ms vs chosen"


def _series_label(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no history yet"
    return f"{name} {fmt_ms(values[-1])} (range {fmt_ms(min(values))}–{fmt_ms(max(values))})"
