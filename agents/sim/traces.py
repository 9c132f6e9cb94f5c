"""Network throughput traces: read the three formats we meet into one `Trace` value.

Formats: `two_column` (`time_s mbps` per line, whitespace separated, as Pensieve and Oboe ship them),
`mahimahi` (one millisecond timestamp per line, each a 1500-byte delivery opportunity; binned into
`window_s` windows), and `csv` (a header row; a named throughput column in Mbps and an optional time column).
Pure parsing apart from reading the file; a malformed file raises TraceError naming the line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["SHIPPED_TRACES", "Trace", "TraceError", "TraceFormat", "load_trace", "shipped_trace"]

TraceFormat = Literal["auto", "two_column", "mahimahi", "csv"]
MAHIMAHI_PACKET_BYTES = 1500
DATA_DIR = Path(__file__).parent / "data"
SHIPPED_TRACES: tuple[str, ...] = (
    "norway_bus_1",
    "norway_train_4",
    "norway_ferry_5",
    "oboe_trace_0",
    "oboe_trace_1",
    "fcc_amazon_part1",
)
_TIME_COLUMNS = ("time_s", "time", "timestamp", "t", "seconds")


class TraceError(ValueError):
    """A trace file that cannot be read; the message names the file, the line and what to fix."""


@dataclass(frozen=True, eq=False)
class Trace:
    """Throughput over time: `mbps[i]` holds from `times_s[i]` until the next sample (a step function).

    Times start at 0. Past the end the trace repeats with period `duration_s`, so a simulation may run
    longer than its trace.
    """

    times_s: npt.NDArray[np.float64]
    mbps: npt.NDArray[np.float64]
    name: str
    duration_s: float = field(default=0.0)

    def __post_init__(self) -> None:
        if self.times_s.shape != self.mbps.shape or self.times_s.size == 0:
            raise TraceError(f"trace {self.name!r} needs equally long, non-empty time and Mbps arrays")
        if np.any(np.diff(self.times_s) < 0):
            raise TraceError(f"trace {self.name!r}: times must not go backwards")
        if np.any(~np.isfinite(self.mbps)) or np.any(self.mbps < 0):
            raise TraceError(f"trace {self.name!r}: throughput must be finite and >= 0")
        if self.duration_s <= 0:
            step = float(np.median(np.diff(self.times_s))) if self.times_s.size > 1 else 1.0
            object.__setattr__(self, "duration_s", float(self.times_s[-1]) + max(step, 1e-3))

    def mbps_at(self, t: float) -> float:
        """Throughput at time `t` seconds (wrapping past the end)."""
        wrapped = t % self.duration_s
        index = int(np.searchsorted(self.times_s, wrapped, side="right")) - 1
        return float(self.mbps[max(index, 0)])

    @property
    def mean_mbps(self) -> float:
        """Time-weighted mean throughput over one period."""
        edges = np.append(self.times_s, self.duration_s)
        weights = np.diff(edges)
        total = float(weights.sum())
        if total <= 0:
            return float(self.mbps.mean())
        return float((self.mbps * weights).sum() / total)

    def __len__(self) -> int:
        return int(self.times_s.size)


def load_trace(
    path: str | Path,
    fmt: TraceFormat = "auto",
    column: str | None = None,
    *,
    window_s: float = 1.0,
    name: str | None = None,
) -> Trace:
    """Read a trace file; `fmt="auto"` guesses from the extension and the first data line."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise TraceError(f"cannot read trace {path}: {exc.strerror or exc}") from exc
    trace_name = name or path.stem
    chosen = _detect(path, text) if fmt == "auto" else fmt
    if chosen == "two_column":
        times, values = _parse_two_column(text, path)
    elif chosen == "mahimahi":
        times, values = _parse_mahimahi(text, path, window_s)
    elif chosen == "csv":
        times, values = _parse_csv(text, path, column)
    else:
        raise TraceError(f"unknown trace format {fmt!r}; use auto, two_column, mahimahi or csv")
    times = times - times[0]
    duration = float(times[-1]) + window_s if chosen == "mahimahi" else 0.0
    return Trace(times, values, trace_name, duration)


def shipped_trace(name: str) -> Trace:
    """One of the small traces shipped in agents/sim/data (see its README for origin and licence)."""
    for candidate in sorted(DATA_DIR.glob(f"{name}.*")):
        if candidate.suffix in (".txt", ".log", ".csv"):
            return load_trace(candidate, name=name)
    raise TraceError(f"no shipped trace {name!r}; choose one of {', '.join(SHIPPED_TRACES)}")


def _detect(path: Path, text: str) -> TraceFormat:
    if path.suffix.lower() == ".csv":
        return "csv"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if "," in first:
        return "csv"
    if len(first.split()) == 1 and first.isdigit():
        return "mahimahi"
    return "two_column"


def _arrays(times: list[float], values: list[float]) -> tuple[npt.NDArray[np.float64], ...]:
    return np.asarray(times, dtype=np.float64), np.asarray(values, dtype=np.float64)


def _parse_two_column(text: str, path: Path) -> tuple[npt.NDArray[np.float64], ...]:
    times: list[float] = []
    values: list[float] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) < 2:
            raise TraceError(f"{path}:{number}: expected `time_s mbps`, got {line.strip()!r}")
        try:
            times.append(float(parts[0]))
            values.append(float(parts[1]))
        except ValueError as exc:
            raise TraceError(f"{path}:{number}: not a number in {line.strip()!r}") from exc
    if not times:
        raise TraceError(f"{path}: no samples; expected lines of `time_s mbps`")
    return _arrays(times, values)


def _parse_mahimahi(text: str, path: Path, window_s: float) -> tuple[npt.NDArray[np.float64], ...]:
    stamps: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        try:
            stamps.append(int(stripped))
        except ValueError as exc:
            raise TraceError(f"{path}:{number}: expected one integer millisecond timestamp") from exc
    if not stamps:
        raise TraceError(f"{path}: no delivery opportunities (one ms timestamp per line)")
    window_ms = window_s * 1000.0
    bins = (np.asarray(stamps, dtype=np.float64) // window_ms).astype(np.int64)
    counts = np.bincount(bins)
    mbps = counts * MAHIMAHI_PACKET_BYTES * 8 / 1e6 / window_s
    times = np.arange(counts.size, dtype=np.float64) * window_s
    return times, mbps.astype(np.float64)


def _parse_csv(text: str, path: Path, column: str | None) -> tuple[npt.NDArray[np.float64], ...]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in (reader.fieldnames or [])]
    if not fields:
        raise TraceError(f"{path}: a CSV trace needs a header row")
    time_column = next((f for f in fields if f.lower() in _TIME_COLUMNS), None)
    if column is None:
        candidates = [f for f in fields if f != time_column]
        if len(candidates) != 1:
            raise TraceError(f"{path}: pass column= naming the Mbps column; the header has {fields}")
        column = candidates[0]
    if column not in fields:
        raise TraceError(f"{path}: no column {column!r}; the header has {fields}")
    times: list[float] = []
    values: list[float] = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if row.get(column, "") in ("", "-"):
            continue
        try:
            values.append(float(row[column]))
            times.append(float(row[time_column]) if time_column else float(len(times)))
        except ValueError as exc:
            raise TraceError(f"{path}:{number}: not a number in column {column!r}") from exc
    if not values:
        raise TraceError(f"{path}: no data rows")
    return _arrays(times, values)
