"""The regression flag of `make bench` (bench/run.py): each row's ratio beside the same row's in
the report being replaced, flagged when it moved the wrong way by more than 20%. Pure functions
over report text; nothing here measures or asserts a time."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_module():
    if "bench_run" in sys.modules:
        return sys.modules["bench_run"]
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


REPORT = """# Benchmarks: the project beside its ceilings

Written by `make bench` (`bench/run.py`) on 2026-11-24 16:32, in 8.2 minutes.

## Targets (issues 8 and 25)

| measure | project | ceiling or reference | ratio | target | verdict | previous run |
| --- | --- | --- | --- | --- | --- | --- |
| GET biography, Monclús, demo archive (38.2 KiB) | 7,771 req/s | bare GET: 20,414 req/s | 0.38x | >= 0.8x | missed by 52% | - |
| biography p99 at 1,000,706 vs at 10,164 events | 3.62 ms | 3.69 ms | 0.98x | <= 1.5x | met | - |
| a row with a pipe \\| in it | x | y | 2.00x |  |  | - |

## Ceilings without a server

| ceiling | figure |
| --- | --- |
| raw SQLite | 5,084 rows/s |
"""


def test_row_key_ignores_sizes_and_counts():
    run = _run_module()
    assert run.row_key("GET biography, Monclús, demo archive (38.2 KiB)") == \
        run.row_key("GET biography, Monclús, demo archive (45.5 KiB)")
    assert run.row_key("biography p99 at 1,000,706 vs at 10,164 events") == \
        run.row_key("biography p99 at 1,002,113 vs at 10,010 events")
    assert run.row_key("GET /health, demo archive") != run.row_key("GET biography, demo archive")


def test_previous_ratios_reads_only_the_targets_table(tmp_path):
    run = _run_module()
    path = tmp_path / "RESULTS.md"
    path.write_text(REPORT)
    ratios = run.previous_ratios(path)
    assert ratios == {run.row_key("GET biography, Monclús, demo archive (38.2 KiB)"): 0.38,
                      run.row_key("biography p99 at 1,000,706 vs at 10,164 events"): 0.98,
                      run.row_key("a row with a pipe | in it"): 2.0}
    assert run.previous_ratios(tmp_path / "missing.md") == {}


def test_regression_follows_the_target_direction(tmp_path):
    run = _run_module()
    path = tmp_path / "RESULTS.md"
    path.write_text(REPORT)
    previous = run.previous_ratios(path)
    Row = run.Row
    # higher is better (">=" target): a fall past 20% is flagged, a smaller one is not
    assert run.regression(Row("GET biography, Monclús, demo archive (40 KiB)", ratio=0.29, target=">= 0.8x"),
                          previous).startswith("**regressed**: 0.38x (-24%)")
    assert run.regression(Row("GET biography, Monclús, demo archive (40 KiB)", ratio=0.32, target=">= 0.8x"),
                          previous) == "0.38x (-16%)"
    assert run.regression(Row("GET biography, Monclús, demo archive (40 KiB)", ratio=0.9, target=">= 0.8x"),
                          previous) == "0.38x (+137%)"
    # lower is better ("<=" target): a rise past 20% is flagged
    assert run.regression(Row("biography p99 at 1,000,000 vs at 10,000 events", ratio=1.25, target="<= 1.5x"),
                          previous).startswith("**regressed**")
    assert run.regression(Row("biography p99 at 1,000,000 vs at 10,000 events", ratio=0.5, target="<= 1.5x"),
                          previous) == "0.98x (-49%)"
    # nothing to compare with
    assert run.regression(Row("a new row", ratio=1.0, target=">= 1x"), previous) == ""
    assert run.regression(Row("GET biography, Monclús, demo archive", ratio=None), previous) == ""
