"""`continuum fleet ...`: look at and steer a running orchestrator over its operator gRPC API."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from collections.abc import Callable
from typing import Any

from continuum_cli.errors import CliError

__all__ = ["device_json", "plan_json", "register", "run"]


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add `fleet` with its actions."""
    parser = subparsers.add_parser(
        "fleet", help="list, inspect and steer the fleet of a running orchestrator"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
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


def plan_json(view: Any) -> dict[str, Any]:
    """A PlanView as a continuum.plan/v1 document, plus the orchestrator's bookkeeping."""
    figures = view.predicted
    alternatives: dict[str, Any] = {}
    for alt in view.alternatives:
        alternatives[alt.name] = (
            {
                "latency_ms": alt.figures.latency_ms,
                "cost_usd": alt.figures.cost_usd,
                "device_energy_j": alt.figures.device_energy_j,
            }
            if alt.feasible
            else None
        )
    return {
        "format": "continuum.plan/v1",
        "assignment": dict(zip(view.layers, view.tiers, strict=True)),
        "latency_ms": figures.latency_ms,
        "cost_usd": figures.cost_usd,
        "device_energy_j": figures.device_energy_j,
        "breakdown": {"compute_ms": dict(view.compute_ms), "transfer_ms": dict(view.transfer_ms)},
        "alternatives": alternatives,
        "model": view.model,
        "version": view.version,
        "reason": view.reason,
        "pinned": view.pinned,
        "objective": view.objective,
        "measured_latency_ms": view.measured_latency_ms,
        "decided": _iso(view.decided_unix_ms) if view.decided_unix_ms else None,
    }


def device_json(summary: Any) -> dict[str, Any]:
    """A DeviceSummary as the JSON `fleet ls` prints."""
    return {
        "id": summary.id,
        "fleet": summary.fleet,
        "state": summary.state,
        "last_seen": _iso(summary.last_seen_unix_ms),
        "last_seen_unix_ms": summary.last_seen_unix_ms,
        "site": summary.site,
        "link_type": summary.link_type,
        "rtt_ms": summary.rtt_ms,
        "uplink_mbps": summary.uplink_mbps,
        "battery_percent": summary.battery_percent if summary.battery_percent >= 0 else None,
        "drained": summary.drained,
        "plans": {
            p.model: {
                "tiers": list(p.tiers),
                "version": p.version,
                "latency_ms": p.predicted.latency_ms,
                "pinned": p.pinned,
            }
            for p in summary.plans
        },
    }


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


def _call(args: argparse.Namespace, fn: Callable[[Any, Any, list[tuple[str, str]]], Any]) -> Any:
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


def run(args: argparse.Namespace) -> int:
    """Dispatch the action."""
    from protos.v1 import operator_pb2 as op

    a = args.action
    if a == "ls":
        response = _call(
            args,
            lambda s, t, m: s.ListDevices(
                op.ListDevicesRequest(fleet=args.fleet, state=args.state), timeout=t
            ),
        )
        devices = [device_json(d) for d in response.devices]
        if args.json:
            print(json.dumps(devices, indent=2))
        else:
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
            print(
                _table(
                    rows, ["ID", "FLEET", "STATE", "SITE", "LINK", "UP_MBPS", "RTT_MS", "LAST_SEEN", "PLANS"]
                )
            )
        return 0
    if a == "show":
        detail = _call(
            args, lambda s, t, m: s.GetDevice(op.GetDeviceRequest(device_id=args.device), timeout=t)
        )
        doc = device_json(detail.summary)
        doc["agent_version"] = detail.agent_version
        doc["bd_seq"] = detail.bd_seq
        caps = detail.capabilities
        doc["capabilities"] = {
            "arch": caps.arch,
            "cpu_count": caps.cpu_count,
            "memory_bytes": caps.memory_bytes,
            "os": caps.os,
            "device_class": caps.device_class,
            "speed_factor": caps.speed_factor,
        }
        doc["links"] = {
            link.target: {
                "rtt_ms": link.rtt_ms,
                "uplink_mbps": link.uplink_mbps,
                "downlink_mbps": link.downlink_mbps,
                "loss": link.loss,
                "link_type": link.link_type,
            }
            for link in detail.links
        }
        doc["plans"] = {p.model: plan_json(p) for p in detail.plans}
        doc["recent_events"] = [
            {"time": _iso(e.unix_ms), "kind": e.kind, "message": e.message} for e in detail.recent_events
        ]
        if args.json:
            print(json.dumps(doc, indent=2))
        else:
            print(
                f"{doc['id']}  {doc['state']}  fleet={doc['fleet']} site={doc['site']} "
                f"last_seen={doc['last_seen']}"
            )
            for target, link in doc["links"].items():
                print(
                    f"  link {target}: {link['uplink_mbps']:.1f} Mb/s up, "
                    f"{link['rtt_ms']:.1f} ms rtt ({link['link_type']})"
                )
            for model, plan in doc["plans"].items():
                print(
                    f"  plan {model} v{plan['version']}{' (pinned)' if plan['pinned'] else ''}: "
                    f"{plan['latency_ms']:.1f} ms — {plan['reason']}"
                )
                print("    " + " ".join(f"{k}={v}" for k, v in plan["assignment"].items()))
        return 0
    if a == "tiers":
        response = _call(args, lambda s, t, m: s.ListTiers(op.ListTiersRequest(), timeout=t))
        tiers = [
            {
                "tier": x.tier,
                "site": x.site,
                "capacity": x.capacity,
                "queue_depth": x.queue_depth,
                "utilisation": x.utilisation,
                "cost_per_hour": x.cost_per_hour,
                "drained": x.drained,
            }
            for x in response.tiers
        ]
        print(
            json.dumps(tiers, indent=2)
            if args.json
            else _table(
                [[str(v) for v in t.values()] for t in tiers],
                [k.upper() for k in (tiers[0] if tiers else {"tier": 0})],
            )
        )
        return 0
    if a == "events":
        response = _call(
            args,
            lambda s, t, m: s.ListEvents(
                op.ListEventsRequest(device_id=args.device, kind=args.kind, limit=args.limit), timeout=t
            ),
        )
        events = [
            {"id": e.id, "time": _iso(e.unix_ms), "kind": e.kind, "device": e.device_id, "message": e.message}
            for e in response.events
        ]
        print(
            json.dumps(events, indent=2)
            if args.json
            else "\n".join(f"{e['time']} {e['kind']:8} {e['device']:16} {e['message']}" for e in events)
        )
        return 0
    calls: dict[str, Callable[[Any, Any, list[tuple[str, str]]], Any]] = {
        "pin": lambda s, t, m: s.PinPlan(
            op.PinPlanRequest(
                device_id=args.device, model=args.model, tiers=[x for x in args.tiers.split(",") if x]
            ),
            timeout=t,
            metadata=m,
        ),
        "unpin": lambda s, t, m: s.UnpinPlan(
            op.UnpinPlanRequest(device_id=args.device, model=args.model), timeout=t, metadata=m
        ),
        "replan": lambda s, t, m: s.Replan(op.ReplanRequest(device_id=args.device), timeout=t, metadata=m),
        "rebirth": lambda s, t, m: s.RequestRebirth(
            op.RebirthRequest(device_id=args.device), timeout=t, metadata=m
        ),
    }
    if a == "drain":
        if bool(args.site) == bool(args.device):
            raise CliError("name a device or --site SITE (one of them)")
        calls["drain"] = (
            (
                lambda s, t, m: s.DrainSite(
                    op.DrainSiteRequest(site=args.site, drained=not args.undo), timeout=t, metadata=m
                )
            )
            if args.site
            else (
                lambda s, t, m: s.DrainDevice(
                    op.DrainDeviceRequest(device_id=args.device, drained=not args.undo), timeout=t, metadata=m
                )
            )
        )
    response = _call(args, calls[a])
    print(json.dumps({"ok": response.ok, "message": response.message}) if args.json else response.message)
    return 0
