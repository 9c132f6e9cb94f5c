"""`continuum fleet ...` against the RECORDED fleet: every action's text and JSON output, byte for byte.

The expected outputs in fleet_cli_outputs.json were recorded from the CLI before its conversion moved
into `tui.operator_values`; set CONTINUUM_RECORD_FLEET_CLI=1 to record them again after a deliberate
change of output.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from continuum_cli.main import main
from tests.tui.recorded_fleet import OPERATOR_TOKEN, RecordedServer, ThreadedRecordedServer

_OUTPUTS = Path(__file__).with_name("fleet_cli_outputs.json")

CASES: dict[str, list[str]] = {
    "ls": ["ls"],
    "ls-json": ["ls", "--json"],
    "ls-filtered": ["ls", "--fleet", "south", "--state", "online"],
    "show": ["show", "cam-001"],
    "show-json": ["show", "cam-004", "--json"],
    "show-missing": ["show", "cam-999"],
    "tiers": ["tiers"],
    "tiers-json": ["tiers", "--json"],
    "tiers-empty": ["tiers"],
    "events": ["events"],
    "events-json": ["events", "--json", "--limit", "3"],
    "events-filtered": ["events", "--device", "cam-002", "--kind", "replan"],
    "pin": ["pin", "cam-001", "resnet18", "--tiers", "edge,edge,edge,edge,edge,edge"],
    "pin-json": ["pin", "cam-001", "resnet18", "--json"],
    "pin-no-token": ["pin", "cam-001", "resnet18"],
    "unpin": ["unpin", "cam-002", "resnet18"],
    "unpin-json": ["unpin", "cam-002", "resnet18", "--json"],
    "drain": ["drain", "cam-003"],
    "drain-undo-json": ["drain", "cam-005", "--undo", "--json"],
    "drain-site": ["drain", "--site", "edge-a"],
    "drain-site-json": ["drain", "--site", "edge-b", "--undo", "--json"],
    "drain-neither": ["drain"],
    "drain-both": ["drain", "cam-001", "--site", "edge-a"],
    "replan": ["replan", "cam-001"],
    "replan-fleet-json": ["replan", "--json"],
    "rebirth": ["rebirth", "cam-006"],
    "rebirth-json": ["rebirth", "cam-006", "--json"],
}
_NO_TOKEN = {"pin-no-token"}
_WIRE_MAPS = {"compute_ms", "transfer_ms"}
"""Protobuf map fields: their iteration order differs from one process to the next, so their entries
are compared in sorted order; every other key must come in the recorded order."""


def _canonical(stdout: str) -> object:
    """JSON output with its keys kept in order (wire maps sorted); other output as it is."""
    try:
        pairs = json.loads(stdout, object_pairs_hook=list)
    except json.JSONDecodeError:
        return stdout
    assert stdout == json.dumps(json.loads(stdout), indent=2 if "\n" in stdout.strip() else None) + "\n"
    return _sort_maps(pairs)


def _sort_maps(value: object) -> object:
    if isinstance(value, list):
        items = [_sort_maps(item) for item in value]
        if all(isinstance(item, tuple) for item in value):
            return [(k, sorted(v) if k in _WIRE_MAPS else v) for k, v in items]  # type: ignore[misc]
        return items
    if isinstance(value, tuple):
        return (value[0], _sort_maps(value[1]))
    return value


@pytest.fixture(scope="module")
def server() -> Iterator[RecordedServer]:
    with ThreadedRecordedServer() as running:
        yield running


def _run(server: RecordedServer, case: str) -> dict[str, object]:
    # Every case starts from the recorded state, so one action's change never shows in another's output.
    server.servicer.__init__()  # type: ignore[misc]
    if case == "tiers-empty":
        server.servicer.tiers = []
    token = [] if case in _NO_TOKEN else ["--token", OPERATOR_TOKEN]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["fleet", *CASES[case], "--target", server.target, *token])
    return {
        "status": status,
        "stdout": out.getvalue(),
        "stderr": err.getvalue().replace(server.target, "TARGET"),
        "requests": [list(action) for action in server.servicer.actions],
        "cam-001 tiers": list(server.servicer.details["cam-001"].plans[0].tiers),
    }


def test_every_action_prints_what_it_printed_before(server: RecordedServer) -> None:
    got = {case: _run(server, case) for case in CASES}
    if os.environ.get("CONTINUUM_RECORD_FLEET_CLI"):
        _OUTPUTS.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(_OUTPUTS.read_text(encoding="utf-8"))
    for case in CASES:
        assert _canonical(str(got[case].pop("stdout"))) == _canonical(expected[case].pop("stdout")), case
        assert got[case] == expected[case], case


_WITHOUT_TEXTUAL = """
import sys
sys.modules["textual"] = None  # as where the tui extra is not installed: any import of it fails
from tui import operator_values
from continuum_cli.main import main
from protos.v1 import operator_pb2
device = operator_values.device_summary(operator_pb2.DeviceSummary(id="d", battery_percent=-1))
assert device["battery_percent"] is None
status = main(["fleet", "ls", "--target", "127.0.0.1:1", "--timeout", "2"])
loaded = sorted(m for m, module in sys.modules.items() if module and m.startswith(("textual", "tui")))
print(status, loaded)
"""


def test_the_fleet_command_and_its_converter_need_no_textual() -> None:
    """`continuum fleet` shares the console's converter but must run where textual is not installed."""
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TEXTUAL], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1 ['tui', 'tui.operator_values']", done.stdout
    assert "no orchestrator answers at 127.0.0.1:1" in done.stderr
