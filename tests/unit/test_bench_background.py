"""bench/background.py: a long command beside the bench is stopped while anything is measured
and continued after, and its record (read by bench/scale.py's --archive) counts the pause out.
Real processes and signals; nothing here asserts a time."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc (Linux)")


def _module(name: str, filename: str):
    if name not in sys.modules:
        if str(BENCH) not in sys.path:
            sys.path.insert(0, str(BENCH))
        spec = importlib.util.spec_from_file_location(name, BENCH / filename)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def background(tmp_path, monkeypatch):
    module = _module("background", "background.py")
    monkeypatch.setattr(module, "REGISTRY", tmp_path / "background.json")
    return module


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _wait_for(predicate, limit: float = 10.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_a_registered_command_is_stopped_inside_paused_and_continued_after(background) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        with background._locked() as state:
            state[str(proc.pid)] = {"command": "sleep", "paused_s": 0.0}
        with background.paused():
            assert _wait_for(lambda: _state(proc.pid) == "T")
            with background.paused():  # nested: the outer block still holds it
                pass
            assert _state(proc.pid) == "T"
        assert _wait_for(lambda: _state(proc.pid) != "T")
        saved = json.loads(background.REGISTRY.read_text())
        assert saved[str(proc.pid)]["paused_s"] > 0
    finally:
        proc.kill()
        proc.wait()
    with background.paused():  # its leader gone, the group is dropped from the registry
        pass
    assert json.loads(background.REGISTRY.read_text()) == {}


def test_the_record_gives_the_command_its_output_and_is_read_by_bench_scale(background, tmp_path) -> None:
    record = tmp_path / "s.db.import.json"
    rc = background.run([sys.executable, "-c", "print('imported 5 events; head abc')"], record)
    saved = json.loads(record.read_text())
    assert rc == 0 and saved["rc"] == 0
    assert saved["tail"] == ["imported 5 events; head abc"]
    assert saved["seconds"] == pytest.approx(saved["wall_s"] - saved["paused_s"])
    assert json.loads(background.REGISTRY.read_text()) == {}  # unregistered when it ended
    scale = _module("bench_scale", "scale.py")
    given = scale.given_record(tmp_path / "s.db", ".import.json")
    assert given["apart"] is True and given["tail"] == saved["tail"]
    assert scale.given_record(tmp_path / "missing.db", ".import.json") == {}
    failed = tmp_path / "f.db.import.json"
    assert background.run([sys.executable, "-c", "raise SystemExit(3)"], failed) == 3
    assert scale.given_record(tmp_path / "f.db", ".import.json") == {}  # a failed command gives no figures


def test_an_archive_needs_its_export(tmp_path) -> None:
    scale = _module("bench_scale", "scale.py")
    with pytest.raises(SystemExit):
        scale.parse_args(["--sizes", "10k", "--postgres-events", "0", "--archive", f"10k={tmp_path / 'a.db'}"])
    args = scale.parse_args(["--sizes", "10k", "--postgres-events", "0", "--export", f"10k={tmp_path / 'a.jsonl'}",
                             "--archive", f"10k={tmp_path / 'a.db'}"])
    assert args.archives == {10_000: tmp_path / "a.db"}


def test_the_time_a_command_spends_paused_is_counted_out_of_its_record(background, tmp_path) -> None:
    record = tmp_path / "x.json"
    done: list[int] = []
    runner = threading.Thread(target=lambda: done.append(background.run(
        [sys.executable, "-c", "import time; time.sleep(1.5)"], record)))
    runner.start()
    assert _wait_for(lambda: background.REGISTRY.exists() and json.loads(background.REGISTRY.read_text()))
    assert "running" in json.loads(record.read_text())  # not yet a record anybody takes for figures
    scale = _module("bench_scale", "scale.py")
    assert not scale.finished(record)
    with background.paused():
        time.sleep(0.6)
    runner.join(timeout=30)
    saved = json.loads(record.read_text())
    assert done == [0] and scale.finished(record)
    assert saved["paused_s"] >= 0.5
    assert saved["seconds"] < saved["wall_s"] - 0.4


def test_a_bench_never_stops_its_own_group(background) -> None:
    import os

    with background._locked() as state:
        state[str(os.getpgrp())] = {"command": "this very test", "paused_s": 0.0}
    with background.paused():  # would stop the test itself if it signalled its own group
        pass
    assert _state(os.getpid()) != "T"
