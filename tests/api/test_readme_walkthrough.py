"""The README's walkthrough, run command by command against a fresh demo server, so it cannot rot;
then run again against the same server, so that it gives the same answers on every run.

Each command line of the walkthrough's ```sh blocks runs in one bash session (variables carry
over); a following `# -> A ... B` line says the command's output contains A, then later B.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ROOT, STAROSTA, free_port, run_cli, stop

MARK = "@@walkthrough-step"


def walkthrough() -> list[tuple[str, str | None]]:
    """Return (command, expectation or None) for every command of the README's walkthrough."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Walkthrough", 1)[1].split("\n## ", 1)[0]
    steps: list[tuple[str, str | None]] = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for line in block.splitlines():
            if line.startswith("# -> "):
                command, _ = steps[-1]
                steps[-1] = (command, line[len("# -> "):])
            elif line.strip() and not line.startswith("#"):
                steps.append((line, None))
    return steps


def is_public_read(command: str) -> bool:
    """A command whose output is a public read of the archive (no token, no write, no variable
    set): it must print the same bytes on every run of the walkthrough."""
    return not re.match(r"\w+=|\w+\(\)", command) and "-X POST" not in command \
        and "Authorization" not in command


@pytest.fixture
def demo_server(tmp_path) -> Iterator[int]:
    """A fresh demo archive served by `starosta serve` on a free port; yields the port."""
    db = str(tmp_path / "demo.db")
    loaded = run_cli("demo", "--db", db, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert "demo-reviewer-token" in loaded.stdout
    port = free_port()
    server = subprocess.Popen([STAROSTA, "serve", "--db", db, "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)  # start-up poll, bounded by the deadline
        yield port
    finally:
        stop(server)


def run_walkthrough(steps: list[tuple[str, str | None]], port: int) -> list[str]:
    """Run every command in one bash session against the server on `port`; return each
    command's output."""
    script = "set -euo pipefail\n" + "".join(
        f"printf '\\n{MARK} {i}\\n'\n{command.replace('127.0.0.1:8000', f'127.0.0.1:{port}')}\n"
        for i, (command, _) in enumerate(steps))
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": os.environ["PATH"]})
    assert done.returncode == 0, f"the walkthrough failed:\n{done.stdout}\n{done.stderr}"
    outputs = re.split(rf"\n{MARK} \d+\n", done.stdout)[1:]
    assert len(outputs) == len(steps)
    return outputs


def check_answers(steps: list[tuple[str, str | None]], outputs: list[str], run: str) -> None:
    for (command, expectation), output in zip(steps, outputs):
        if expectation is None:
            continue
        at = 0
        for part in (p.strip() for p in expectation.split("...")):
            found = output.find(part, at)
            assert found >= 0, f"{run}: {command!r}\nexpected {part!r} in:\n{output[:2000]}"
            at = found + len(part)


@pytest.mark.slow
def test_every_walkthrough_command_answers_as_the_readme_says(demo_server: int) -> None:
    steps = walkthrough()
    assert len(steps) >= 10 and sum(1 for _, e in steps if e) >= 8
    check_answers(steps, run_walkthrough(steps, demo_server), "on a fresh demo")


@pytest.mark.slow
def test_the_walkthrough_answers_the_same_on_every_run(demo_server: int) -> None:
    steps = walkthrough()
    first = run_walkthrough(steps, demo_server)
    second = run_walkthrough(steps, demo_server)
    check_answers(steps, first, "first run")
    check_answers(steps, second, "second run on the same server")
    public = [i for i, (command, _) in enumerate(steps) if is_public_read(command)]
    # the biography, the population, the ledger, the counts: all of them, not only the # -> parts
    assert len(public) >= 6 and any("biography" in steps[i][0] for i in public)
    for i in public:
        assert first[i] == second[i], f"{steps[i][0]!r} answered otherwise on a second run:\n" \
                                      f"{first[i][:1000]}\n---\n{second[i][:1000]}"
