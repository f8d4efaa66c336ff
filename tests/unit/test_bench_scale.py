"""`make bench-scale` (bench/scale.py): its arguments, and a section rendered from figures
(nothing here runs a benchmark or asserts a time)."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _scale():
    if "bench_scale" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_scale", BENCH / "scale.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_scale"] = module
        spec.loader.exec_module(module)
    return sys.modules["bench_scale"]


def test_counts_of_events_read_as_written() -> None:
    scale = _scale()
    assert [scale.parse_count(x) for x in ("10k", "1m", "10M", "2.5m", "1_000_000", "1,000", "0")] == [
        10_000, 1_000_000, 10_000_000, 2_500_000, 1_000_000, 1_000, 0]
    for bad in ("ten", "1g", "-5", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError):
            scale.parse_count(bad)
    assert scale.parse_sizes("10m,10k,1m,1m") == [10_000, 1_000_000, 10_000_000]
    with pytest.raises(argparse.ArgumentTypeError):
        scale.parse_sizes("500")
    assert [scale.label(x) for x in (10_000, 1_000_000, 10_000_000, 12_345)] == ["10k", "1M", "10M", "12,345"]
    assert scale.persons_for(10_000_000) == 264_550  # "about 265,000 persons"


def test_the_defaults_are_the_issues_sizes() -> None:
    args = _scale().parse_args([])
    assert args.sizes == [10_000, 1_000_000, 10_000_000]
    assert args.postgres_events == 1_000_000
    assert args.exports == {} and not args.keep and not args.no_write


def test_options_are_checked_against_the_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    scale = _scale()
    args = scale.parse_args(["--sizes", "10k,1m", "--export", "1m=/x/synth.jsonl", "--postgres-events", "0",
                             "--seconds", "2", "--keep"])
    assert args.exports == {1_000_000: Path("/x/synth.jsonl")} and args.postgres_events == 0 and args.keep
    for argv in (["--sizes", "10k", "--postgres-events", "1m"],  # PostgreSQL reuses an export of --sizes
                 ["--sizes", "10k", "--postgres-events", "0", "--export", "1m=/x"],
                 ["--export", "1m"], ["--sizes", "lots"]):
        with pytest.raises(SystemExit):
            scale.parse_args(argv)
    assert "error" in capsys.readouterr().err


def _figures(events: int, p99: float) -> dict:
    read = {"project": {"rps": 1000.0, "p99": p99}, "bare": {"rps": 2000.0, "p99": 1.0}, "ratio": 0.5,
            "bytes": 4000, "path": "/x"}
    step = {"seconds": events / 5000, "rss_mib": 80.0, "timed_out": False}
    return {"target": events, "persons": events // 38, "events": events, "synth": step, "import": step,
            "rebuild": {**step, "rate": 5000.0}, "jsonl": events * 650,
            "storage": {"file": events * 1300, "documents": {"count": 10, "bytes": 8_000, "sample": 10, "stored": 0.2,
                                                            "zlib6": 0.2},
                        "objects": [{"name": "events", "kind": "table", "table": "events", "owner": "log",
                                     "bytes": events * 600},
                                    {"name": "claims", "kind": "table", "table": "claims", "owner": "claims",
                                     "bytes": events * 700}]},
            "targets": {"person": "P-1", "person_claims": 30, "busiest_claims": 40, "place": "PL-1", "year": 1937,
                        "year_episodes": 9, "fund": "F-1", "fund_entries": 90},
            "reads": {"biography": read, "population": read, "ledger": read}}


def test_a_section_is_rendered_between_its_markers() -> None:
    scale = _scale()
    fake = argparse.Namespace(sizes=[10_000, 1_000_000], connections=16, seconds=5, rounds=1)
    run = argparse.Namespace(sizes={10_000: _figures(10_000, 2.0), 1_000_000: _figures(1_000_000, 3.0)},
                             postgres={"target": 1_000_000, "skipped": "no server binaries"}, failures=[],
                             args=fake)
    lines = scale.render(run, {"nproc": "2", "cpu": "test"}, "python bench/scale.py", dt.datetime(2026, 12, 7))
    text = "\n".join(lines)
    assert lines[0] == scale.BEGIN and lines[-1] == scale.END and "2026-12-07" in text
    assert "| SQLite file / JSONL (target <= 1.5x) | 12 MiB, 2.00x | 1,240 MiB, 2.00x |" in text
    assert "p99 / p99 at 10k (target <= 1.5x) | 1.00x | 1.50x |" in text
    assert "Not measured: no server binaries" in text
    assert "10M events not run here" in text  # the projection from the 1M figures
