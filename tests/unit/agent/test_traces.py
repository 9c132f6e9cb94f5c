"""Reading network traces in the three formats, and the shipped samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agents.sim.traces import SHIPPED_TRACES, TraceError, load_trace, shipped_trace


def test_two_column_trace_is_a_step_function_that_wraps(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("0.0 4.0\n1.0 2.0\n2.0 6.0\n")
    trace = load_trace(path)
    assert trace.name == "t"
    assert trace.mbps_at(0.5) == 4.0
    assert trace.mbps_at(1.0) == 2.0
    assert trace.mbps_at(2.7) == 6.0
    assert trace.duration_s == pytest.approx(3.0)
    assert trace.mbps_at(3.5) == 4.0  # wrapped
    assert trace.mean_mbps == pytest.approx(4.0)


def test_times_are_shifted_to_start_at_zero(tmp_path: Path) -> None:
    path = tmp_path / "fcc.log"
    path.write_text("180.0\t1.0\n185.0\t3.0\n")
    trace = load_trace(path)
    assert trace.times_s.tolist() == [0.0, 5.0]
    assert trace.mean_mbps == pytest.approx(2.0)


def test_mahimahi_packets_are_binned_into_mbps(tmp_path: Path) -> None:
    path = tmp_path / "cell.up"
    # 1000 packets of 1500 B in the first second = 12 Mbps, 500 in the next = 6 Mbps.
    stamps = [i for i in range(1000)] + [1000 + 2 * i for i in range(500)]
    path.write_text("\n".join(str(s) for s in stamps) + "\n")
    trace = load_trace(path, fmt="mahimahi")
    assert trace.mbps.tolist() == pytest.approx([12.0, 6.0])
    assert load_trace(path).mbps.tolist() == pytest.approx([12.0, 6.0])  # auto-detected


def test_csv_reads_the_named_column_and_skips_missing_values(tmp_path: Path) -> None:
    path = tmp_path / "run.csv"
    path.write_text("time_s,dl_mbps,ul_mbps\n0,10,1\n1,-,2\n2,30,3\n")
    down = load_trace(path, column="dl_mbps")
    assert down.times_s.tolist() == [0.0, 2.0]
    assert down.mbps.tolist() == [10.0, 30.0]
    assert load_trace(path, column="ul_mbps").mbps.tolist() == [1.0, 2.0, 3.0]


def test_csv_without_a_column_name_says_which_columns_exist(tmp_path: Path) -> None:
    path = tmp_path / "run.csv"
    path.write_text("time_s,a,b\n0,1,2\n")
    with pytest.raises(TraceError, match=r"pass column="):
        load_trace(path)


def test_a_malformed_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("0 1\n1 x\n")
    with pytest.raises(TraceError, match=r"bad.txt:2"):
        load_trace(path)


def test_negative_throughput_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "neg.txt"
    path.write_text("0 1\n1 -3\n")
    with pytest.raises(TraceError, match=">= 0"):
        load_trace(path)


@pytest.mark.parametrize("name", SHIPPED_TRACES)
def test_every_shipped_trace_loads_with_a_plausible_mean(name: str) -> None:
    trace = shipped_trace(name)
    assert len(trace) > 10
    assert 0.1 < trace.mean_mbps < 100.0
    assert np.all(np.diff(trace.times_s) >= 0)


def test_an_unknown_shipped_trace_lists_the_known_ones() -> None:
    with pytest.raises(TraceError, match="norway_bus_1"):
        shipped_trace("nope")
