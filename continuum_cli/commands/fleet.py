"""`continuum fleet ...`: look at and steer a running orchestrator over its operator gRPC API."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from continuum_cli.errors import CliError

if TYPE_CHECKING:
    from tui.operator_values import DeviceDetailValues, DeviceSummaryValues, PlanValues

__all__ = ["detail_json", "device_json", "plan_json", "register", "run"]

Call = Callable[[Any, float, list[tuple[str, str]]], Any]
"""One operator RPC: (stub, timeout, metadata) -> its reply."""


def _add_action(
    actions: argparse._SubParsersAction[Any], name: str, help_text: str
) -> argparse.ArgumentParser:
    """One action's parser with the flags every action shares (where, how, as whom)."""
    sub: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
    sub.add_argument(
        "--target",
        default=os.environ.get("CONTINUUM_TARGET", "127.0.0.1:50051"),
        help="orchestrator gRPC HOST:PORT (default $CONTINUUM_TARGET or 127.0.0.1:50051)",
    )
    sub.add_argument("--json", action="store_true", help="print JSON")
    sub.add_argument(
        "--token",
        default=os.environ.get("CONTINUUM_TOKEN", ""),
        help="operator token for actions (default $CONTINUUM_TOKEN)",
    )
    sub.add_argument("--timeout", type=float, default=5.0, help="deadline of the call in seconds")
    sub.add_argument(
        "--tls-ca",
        "--ca",
        default="",
        metavar="FILE",
        help="CA bundle that signed the orchestrator's certificate: connect with TLS",
    )
    sub.add_argument(
        "--tls-cert",
        "--cert",
        default="",
        metavar="FILE",
        help="client certificate (PEM) for an orchestrator that requires mutual TLS; needs --key",
    )
    sub.add_argument("--tls-key", "--key", default="", metavar="FILE", help="private key (PEM) of --cert")
    sub.set_defaults(handler=run)
    return sub


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add `fleet` with its actions."""
    parser = subparsers.add_parser(
        "fleet", help="list, inspect and steer the fleet of a running orchestrator"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        return _add_action(actions, name, help_text)

    ls = action("ls", "list devices")
    ls.add_argument("--fleet", default="", help="only this fleet")
    ls.add_argument("--state", default="", choices=["", "online", "stale", "offline"], help="only this state")
    action("show", "one device: capabilities, links, plans and why").add_argument("device")
    pin = action("pin", "pin a model's plan on a device")
    pin.add_argument("device")
    pin.add_argument("model")
    pin.add_argument(
        "--tiers", default="", help="comma-separated tier per layer; empty pins the current plan"
    )
    unpin = action("unpin", "let the orchestrator plan a model again")
    unpin.add_argument("device")
    unpin.add_argument("model")
    drain = action("drain", "drain a device (everything runs locally) or, with --site, an edge site")
    drain.add_argument("device", nargs="?", default="")
    drain.add_argument("--site", default="", help="drain this edge site instead of a device")
    drain.add_argument("--undo", action="store_true", help="undrain")
    action("replan", "replan a device now (no device: the whole fleet)").add_argument(
        "device", nargs="?", default=""
    )
    action("rebirth", "ask a device to publish its birth again").add_argument("device")
    action("tiers", "list edge sites and the cloud")
    events = action("events", "recent events")
    events.add_argument("--device", default="")
    events.add_argument("--kind", default="")
    events.add_argument("--limit", type=int, default=50)


def _iso(unix_ms: int) -> str:
    return dt.datetime.fromtimestamp(unix_ms / 1000, tz=dt.UTC).isoformat(timespec="milliseconds")


def plan_json(plan: PlanValues) -> dict[str, Any]:
    """A plan as a continuum.plan/v1 document, plus the orchestrator's bookkeeping."""
    figures = plan["predicted"]
    alternatives: dict[str, Any] = {}
    for alt in plan["alternatives"]:
        alternatives[alt["name"]] = (
            {
                "latency_ms": alt["figures"]["latency_ms"],
                "cost_usd": alt["figures"]["cost_usd"],
                "device_energy_j": alt["figures"]["device_energy_j"],
            }
            if alt["feasible"]
            else None
        )
    return {
        "format": "continuum.plan/v1",
        "assignment": dict(zip(plan["layers"], plan["tiers"], strict=True)),
        "latency_ms": figures["latency_ms"],
        "cost_usd": figures["cost_usd"],
        "device_energy_j": figures["device_energy_j"],
        "breakdown": {"compute_ms": plan["compute_ms"], "transfer_ms": plan["transfer_ms"]},
        "alternatives": alternatives,
        "model": plan["model"],
        "version": plan["version"],
        "reason": plan["reason"],
        "pinned": plan["pinned"],
        "objective": plan["objective"],
        "measured_latency_ms": plan["measured_latency_ms"],
        "decided": _iso(plan["decided_unix_ms"]) if plan["decided_unix_ms"] else None,
    }


def device_json(device: DeviceSummaryValues) -> dict[str, Any]:
    """A device summary as the JSON `fleet ls` prints."""
    return {
        "id": device["id"],
        "fleet": device["fleet"],
        "state": device["state"],
        "last_seen": _iso(device["last_seen_unix_ms"]),
        "last_seen_unix_ms": device["last_seen_unix_ms"],
        "site": device["site"],
        "link_type": device["link_type"],
        "rtt_ms": device["rtt_ms"],
        "uplink_mbps": device["uplink_mbps"],
        "battery_percent": device["battery_percent"],
        "drained": device["drained"],
        "plans": {
            p["model"]: {
                "tiers": p["tiers"],
                "version": p["version"],
                "latency_ms": p["predicted"]["latency_ms"],
                "pinned": p["pinned"],
            }
            for p in device["plans"]
        },
    }


def detail_json(detail: DeviceDetailValues) -> dict[str, Any]:
    """A device detail as the JSON `fleet show` prints: the `fleet ls` entry, then the depth."""
    doc = device_json(detail["summary"])
    doc["agent_version"] = detail["agent_version"]
    doc["bd_seq"] = detail["bd_seq"]
    caps = detail["capabilities"]
    doc["capabilities"] = {
        key: caps[key] for key in ("arch", "cpu_count", "memory_bytes", "os", "device_class", "speed_factor")
    }
    doc["links"] = {
        link["target"]: {
            key: link[key] for key in ("rtt_ms", "uplink_mbps", "downlink_mbps", "loss", "link_type")
        }
        for link in detail["links"]
    }
    doc["plans"] = {p["model"]: plan_json(p) for p in detail["plans"]}
    doc["recent_events"] = [
        {"time": _iso(e["unix_ms"]), "kind": e["kind"], "message": e["message"]}
        for e in detail["recent_events"]
    ]
    return doc


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in [header, *rows]
    ]
    return "\n".join(lines)


def _read(path: str, flag: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CliError(f"cannot read {flag} {path}: {exc.strerror}; pass a readable PEM file") from exc


def _call(args: argparse.Namespace, fn: Call) -> Any:
    import grpc

    from protos.v1 import operator_pb2_grpc

    if bool(args.tls_cert) != bool(args.tls_key):
        raise CliError("--cert and --key go together: pass both for mutual TLS, or neither")
    if args.tls_ca or args.tls_cert:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=_read(args.tls_ca, "--ca") if args.tls_ca else None,
            private_key=_read(args.tls_key, "--key") if args.tls_key else None,
            certificate_chain=_read(args.tls_cert, "--cert") if args.tls_cert else None,
        )
        channel = grpc.secure_channel(args.target, credentials)
    else:
        channel = grpc.insecure_channel(args.target)
    metadata = [("authorization", f"Bearer {args.token}")] if args.token else []
    try:
        with channel:
            return fn(operator_pb2_grpc.OperatorStub(channel), args.timeout, metadata)
    except grpc.RpcError as exc:
        code = exc.code()
        detail = exc.details()
        if code == grpc.StatusCode.UNAVAILABLE:
            raise CliError(
                f"no orchestrator answers at {args.target} ({detail}); start one or pass --target", 1
            ) from exc
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            raise CliError(
                f"{args.target} did not answer within {args.timeout}s; raise --timeout", 1
            ) from exc
        raise CliError(f"{code.name.lower()}: {detail}", 1) from exc


# Each action imports the wire and its reading when it runs: every `continuum` command builds this
# parser, and most of them never talk to an operator API.


def _ls(args: argparse.Namespace) -> int:
    from protos.v1 import operator_pb2 as op
    from tui import operator_values as values

    request = op.ListDevicesRequest(fleet=args.fleet, state=args.state)
    response = _call(args, lambda s, t, m: s.ListDevices(request, timeout=t))
    devices = [device_json(values.device_summary(d)) for d in response.devices]
    if args.json:
        print(json.dumps(devices, indent=2))
        return 0
    rows = [
        [
            d["id"],
            d["fleet"],
            d["state"],
            d["site"],
            d["link_type"],
            f"{d['uplink_mbps']:.1f}",
            f"{d['rtt_ms']:.1f}",
            d["last_seen"][11:23],
            " ".join(f"{m}:{'/'.join(sorted(set(p['tiers'])))}" for m, p in d["plans"].items()),
        ]
        for d in devices
    ]
    print(_table(rows, ["ID", "FLEET", "STATE", "SITE", "LINK", "UP_MBPS", "RTT_MS", "LAST_SEEN", "PLANS"]))
    return 0


def _show(args: argparse.Namespace) -> int:
    from protos.v1 import operator_pb2 as op
    from tui import operator_values as values

    request = op.GetDeviceRequest(device_id=args.device)
    doc = detail_json(values.device_detail(_call(args, lambda s, t, m: s.GetDevice(request, timeout=t))))
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(
        f"{doc['id']}  {doc['state']}  fleet={doc['fleet']} site={doc['site']} last_seen={doc['last_seen']}"
    )
    for target, link in doc["links"].items():
        speeds = f"{link['uplink_mbps']:.1f} Mb/s up, {link['rtt_ms']:.1f} ms rtt"
        print(f"  link {target}: {speeds} ({link['link_type']})")
    for model, plan in doc["plans"].items():
        print(
            f"  plan {model} v{plan['version']}{' (pinned)' if plan['pinned'] else ''}: "
            f"{plan['latency_ms']:.1f} ms — {plan['reason']}"
        )
        print("    " + " ".join(f"{k}={v}" for k, v in plan["assignment"].items()))
    return 0


_TIER_KEYS: Final = ("tier", "site", "capacity", "queue_depth", "utilisation", "cost_per_hour", "drained")


def _tiers(args: argparse.Namespace) -> int:
    from protos.v1 import operator_pb2 as op
    from tui import operator_values as values

    response = _call(args, lambda s, t, m: s.ListTiers(op.ListTiersRequest(), timeout=t))
    tiers = [{key: tier[key] for key in _TIER_KEYS} for tier in map(values.tier_view, response.tiers)]
    if args.json:
        print(json.dumps(tiers, indent=2))
        return 0
    # With no tiers the header still names the first column, as it always has.
    header = [key.upper() for key in (_TIER_KEYS if tiers else _TIER_KEYS[:1])]
    print(_table([[str(v) for v in tier.values()] for tier in tiers], header))
    return 0


def _events(args: argparse.Namespace) -> int:
    from protos.v1 import operator_pb2 as op
    from tui import operator_values as values

    request = op.ListEventsRequest(device_id=args.device, kind=args.kind, limit=args.limit)
    response = _call(args, lambda s, t, m: s.ListEvents(request, timeout=t))
    events = [
        {
            "id": e["id"],
            "time": _iso(e["unix_ms"]),
            "kind": e["kind"],
            "device": e["device_id"],
            "message": e["message"],
        }
        for e in map(values.event, response.events)
    ]
    if args.json:
        print(json.dumps(events, indent=2))
    else:
        print("\n".join(f"{e['time']} {e['kind']:8} {e['device']:16} {e['message']}" for e in events))
    return 0


def _act(args: argparse.Namespace, call: Call) -> int:
    """Send one operator action (with the token) and print the orchestrator's answer."""
    from tui import operator_values as values

    answer = values.action_response(_call(args, call))
    print(json.dumps(answer) if args.json else answer["message"])
    return 0


def _pin(args: argparse.Namespace) -> int:
    from protos.v1 import operator_pb2 as op

    tiers = [x for x in args.tiers.split(",") if x]
    request = op.PinPlanRequest(device_id=args.device, model=args.model, tiers=tiers)
    return _act(args, lambda s, t, m: s.PinPlan(request, timeout=t, metadata=m))


def _unpin(args: argparse.Namespace) -> int:
    from protos.v1 import operator_pb2 as op

    request = op.UnpinPlanRequest(device_id=args.device, model=args.model)
    return _act(args, lambda s, t, m: s.UnpinPlan(request, timeout=t, metadata=m))


def _drain(args: argparse.Namespace) -> int:
    from protos.v1 import operator_pb2 as op

    if bool(args.site) == bool(args.device):
        raise CliError("name a device or --site SITE (one of them)")
    if args.site:
        site = op.DrainSiteRequest(site=args.site, drained=not args.undo)
        return _act(args, lambda s, t, m: s.DrainSite(site, timeout=t, metadata=m))
    device = op.DrainDeviceRequest(device_id=args.device, drained=not args.undo)
    return _act(args, lambda s, t, m: s.DrainDevice(device, timeout=t, metadata=m))


def _replan(args: argparse.Namespace) -> int:
    from protos.v1 import operator_pb2 as op

    request = op.ReplanRequest(device_id=args.device)
    return _act(args, lambda s, t, m: s.Replan(request, timeout=t, metadata=m))


def _rebirth(args: argparse.Namespace) -> int:
    from protos.v1 import operator_pb2 as op

    request = op.RebirthRequest(device_id=args.device)
    return _act(args, lambda s, t, m: s.RequestRebirth(request, timeout=t, metadata=m))


_ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "ls": _ls,
    "show": _show,
    "tiers": _tiers,
    "events": _events,
    "pin": _pin,
    "unpin": _unpin,
    "drain": _drain,
    "replan": _replan,
    "rebirth": _rebirth,
}


def run(args: argparse.Namespace) -> int:
    """Dispatch the action."""
    return _ACTIONS[args.action](args)
