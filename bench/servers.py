"""HTTP throughput of the real app under granian and uvicorn, against a bare Litestar endpoint
measured in the same run (the ceiling). Needs wrk (Debian: apt-get install wrk) and, for the
comparison, uvicorn[standard] (pip install 'uvicorn[standard]'). Ratios, never asserted.

    python bench/servers.py --seconds 10 --connections 64
"""

from __future__ import annotations

import argparse
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
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(server: str, target: str, port: int, env: dict) -> subprocess.Popen:
    if server == "granian":
        cmd = [str(BIN / "granian"), "--interface", "asgi", "--factory", "--loop", "uvloop",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--no-ws", target]
    else:
        cmd = [str(BIN / "uvicorn"), "--factory", "--loop", "uvloop", "--http", "httptools",
               "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning", target]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError(f"{server} did not start")


def wrk(url: str, seconds: int, connections: int, script: str | None = None, body: str = "") -> tuple[float, str]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", script]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "WRK_BODY": body, "WRK_TOKEN": "demo-contributor-token"},
                         timeout=seconds + 60).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    return rate, p99


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    servers = ["granian"] + (["uvicorn"] if (BIN / "uvicorn").exists() else [])
    tmp = tempfile.mkdtemp()
    db = f"{tmp}/demo.db"
    subprocess.run([str(BIN / "starosta"), "demo", "--db", db], check=True, capture_output=True)
    env = {**os.environ, "STAROSTA_DB": db}
    import sqlite3
    conn = sqlite3.connect(db)
    person = conn.execute("SELECT id FROM persons WHERE label = 'Vicente Monclús Guallar'").fetchone()[0]
    source = conn.execute("SELECT id FROM sources LIMIT 1").fetchone()[0]
    conn.close()
    body = json.dumps({"kind": "occupation", "person": person, "occupation": "benchmark (synthetic)",
                       "citation": {"source": source}})
    rows = []
    for server in servers:
        for name, target, path, script in (
                ("ceiling: bare Litestar GET", "bench.ceiling_app:app", "/health", None),
                ("GET /health", "starosta.service.api.app:app_from_env", "/health", None),
                ("GET biography (Monclús)", "starosta.service.api.app:app_from_env", f"/persons/{person}/biography", None),
                ("POST /claims (FULL, group commit)", "starosta.service.api.app:app_from_env", "/claims", "bench/post_claim.lua")):
            port = free_port()
            proc = start(server, target, port, env)
            try:
                rate, p99 = wrk(f"http://127.0.0.1:{port}{path}", args.seconds, args.connections, script, body)
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
            rows.append((server, name, rate, p99))
    ceilings = {s: r for s, n, r, _ in rows if n.startswith("ceiling")}
    print(f"{'server':<8} {'endpoint':<36} {'req/s':>9} {'p99':>9} {'vs ceiling':>10}")
    for server, name, rate, p99 in rows:
        print(f"{server:<8} {name:<36} {rate:>9,.0f} {p99:>9} {rate / ceilings[server]:>9.2f}x")
    if "uvicorn" in ceilings:
        print(f"granian / uvicorn on the bare endpoint: {ceilings['granian'] / ceilings['uvicorn']:.2f}x")


if __name__ == "__main__":
    main()
