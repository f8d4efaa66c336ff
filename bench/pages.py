"""Pages beside the JSON of the same documents (issue 24): req/s of a person's page against
the JSON biography it is drawn from (target: the page at least 0.5x), and of the home page and
its search against GET /persons?q=. Writes its own "Pages" section of bench/RESULTS.md
(between its markers; every other line as it was). Needs wrk (Debian: apt-get install wrk).

    python bench/pages.py                          # 5 s per measurement, 16 connections
    python bench/pages.py --seconds 3 --out /tmp/RESULTS.md

A fresh `starosta demo` archive in a temporary directory, served by `starosta serve` (granian,
one worker) as `make run` serves it; Monclús found as GET /persons?q=monclus finds him. Each
measurement: wrk -t2 -cN after a 1 s warm-up, the page requested as a browser asks for it
(`Accept: text/html...`), never conditionally (no If-None-Match: every answer is a full
page). Client and server share the machine's cores: compare the ratios, not the figures.
The server runs in its own process group, stopped by that group's id at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:  # bench/ is no package
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import sections  # noqa: E402  (bench/sections.py: the report's sections)

ROOT = Path(__file__).resolve().parent.parent
STAROSTA = str(Path(sys.executable).parent / "starosta")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
BEGIN = "## Pages beside the JSON of the same documents (issue 24)"
END = "<!-- end of the Pages section (bench/pages.py) -->"
TARGET = 0.5  # a person's page at least half the JSON biography's req/s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, accept: str = "application/json") -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read()


def wrk(url: str, seconds: float, connections: int, accept: str) -> dict:
    """One wrk run after a 1 s warm-up: req/s, p50 and p99 (ms), non-2xx answers."""
    def once(duration: float) -> str:
        cmd = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout",
               "30s", "--latency", "-H", f"Accept: {accept}", url]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
        if done.returncode != 0 or "Requests/sec" not in done.stdout:
            raise RuntimeError(f"wrk failed on {url}: {done.stdout[-500:]} {done.stderr[-500:]}")
        return done.stdout

    once(1)
    out = once(seconds)

    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50": ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
            "p99": ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def serve(db: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([STAROSTA, "serve", "--db", db, "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            get(base + "/health")
            return proc, base
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("starosta serve exited") from None
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError("starosta serve did not answer in 60 s")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def measure(args: argparse.Namespace) -> list[tuple[str, str, dict, int]]:
    """(what, URL path, wrk figures, answer bytes) of each measurement."""
    work = Path(tempfile.mkdtemp(prefix="starosta-bench-pages-"))
    try:
        db = str(work / "demo.db")
        made = subprocess.run([STAROSTA, "demo", "--db", db], capture_output=True, text=True,
                              timeout=600, cwd=ROOT)
        if made.returncode != 0:
            raise RuntimeError(f"starosta demo failed: {made.stderr[-1000:]}")
        proc, base = serve(db)
        try:
            hits = json.loads(get(base + "/persons?q=monclus"))["items"]
            person = next(h["id"] for h in hits if h["label"].startswith("Vicente"))
            plan = [("JSON biography", f"/persons/{person}/biography", "application/json"),
                    ("the person's page", f"/persons/{person}", BROWSER),
                    ("JSON search", "/persons?q=monclus", "application/json"),
                    ("the home page's search", "/?q=monclus", BROWSER),
                    ("the home page", "/", BROWSER)]
            out = []
            for what, path, accept in plan:
                size = len(get(base + path, accept))
                out.append((what, path, wrk(base + path, args.seconds, args.connections, accept),
                            size))
            return out
        finally:
            stop(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def render(results: list[tuple[str, str, dict, int]], args: argparse.Namespace) -> list[str]:
    by = {what: figures for what, _, figures, _ in results}
    ratio = by["the person's page"]["rps"] / by["JSON biography"]["rps"]
    search = by["the home page's search"]["rps"] / by["JSON search"]["rps"]
    lines = [BEGIN, "",
             f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC by `python bench/pages.py "
             f"--seconds {args.seconds:g} --connections {args.connections}` on the demo archive "
             f"(wrk -t2 -c{args.connections}, {args.seconds:g} s after a 1 s warm-up; client and "
             f"server on the same {os.cpu_count()} cores; pages asked for as a browser asks, never "
             "conditionally).", "",
             f"- **A person's page at {ratio:.2f}x the JSON biography's req/s** (target "
             f"{TARGET}x: {'met' if ratio >= TARGET else 'missed'}).",
             f"- The home page's search at {search:.2f}x GET /persons?q= (it searches four kinds "
             "of record, the JSON one).", "",
             "| What | URL | Bytes | req/s | p50 | p99 | non-2xx |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for what, path, f, size in results:
        lines.append(f"| {what} | `{path}` | {size:,} | {f['rps']:,.0f} | {f['p50']:.1f} ms | "
                     f"{f['p99']:.1f} ms | {f['non2xx']} |")
    lines += ["", "The person's page is drawn from the stored biography (the same read as the "
              "JSON); its content is rendered once per document version (the document's ETag, "
              "the cited log position and its sources' records) and kept, so a request "
              "reads the document's version, the cited position and its hash, and fills the "
              "layout.", END]
    return lines


def replace_section(path: Path, lines: list[str]) -> None:
    """Rewrite this section of the report only (bench/sections.py)."""
    sections.replace(path, lines, BEGIN, END)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5, help="wrk duration per measurement")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md", help="the report")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed (Debian/Ubuntu: apt-get install wrk)", file=sys.stderr)
        return 2
    results = measure(args)
    lines = render(results, args)
    replace_section(args.out, lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
