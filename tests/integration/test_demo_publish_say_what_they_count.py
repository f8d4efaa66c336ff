"""`starosta demo` and `starosta publish` say what they counted (issue 22, item 6): the demo's
claim lines beside the name claims its registrations submit and the review outcomes; publish's
claims as the public claims in force, by kind, adding up to its count. Through the real
command in a subprocess; the figures checked against the published file itself."""

from __future__ import annotations

import re
import sqlite3
import subprocess

from tests.conftest import ROOT, STAROSTA


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([STAROSTA, *args], capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_demo_and_publish_say_what_they_counted(tmp_path) -> None:
    db, out = str(tmp_path / "demo.db"), str(tmp_path / "public" / "p.db")
    loaded = run("demo", "--db", db)
    assert loaded.returncode == 0, loaded.stderr
    said = re.search(r"(\d+) claims \(lines of the archive\); the log holds (\d+) claims: the "
                     r"(\d+) claim lines and the (\d+) name claims the registrations submitted; "
                     r"(\d+) approved, (\d+) approved then contested \(disputed\), (\d+) left pending",
                     loaded.stdout)
    assert said, loaded.stdout
    lines, total, lines_again, names, approved, disputed, pending = map(int, said.groups())
    assert lines == lines_again and total == lines + names and names > 0
    assert approved + disputed + pending == total
    registrations = sum(int(n) for n in re.findall(r"(\d+) (?:sources|places|organizations|funds|persons)\b",
                                                   loaded.stdout))
    assert names <= registrations

    published = run("publish", out, "--db", db)
    assert published.returncode == 0, published.stderr
    said = re.search(r"the (\d+) claims are every approved or disputed claim in the log that is "
                     r"not superseded, deprecated or suppressed .*; by kind: (.*)$", published.stdout, re.M)
    assert said, published.stdout
    kinds = dict((k, int(n)) for k, n in re.findall(r"([a-z_]+) (\d+)", said.group(2)))
    assert sum(kinds.values()) == int(said.group(1))
    assert f"({said.group(1)} claims," in published.stdout  # the rows line agrees
    conn = sqlite3.connect(out)
    assert dict(conn.execute("SELECT kind, COUNT(*) FROM claims GROUP BY kind").fetchall()) == kinds
    conn.close()
    assert int(said.group(1)) <= approved + disputed and kinds["name"] >= names - pending
