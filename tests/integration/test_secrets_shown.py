"""A PostgreSQL URL's secrets are never printed (issue 18, finding 15), through the real
`starosta` command: its password and its secret query values are *** in every line that
shows the URL (serve's start-up line, migrate's and verify's errors), psycopg's messages
that quote the URL or its parts are scrubbed, and a malformed URL is one line, never a
traceback."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from starosta.service.backends import scrubbed, shown
from tests.conftest import free_port, launch_server, run_cli, stop, wait_until_up

SECRETS = ("s3cret-user", "s3cret-query", "s3cret-ssl", "s3cret%zz")
COMMANDS = [("migrate",), ("verify",), ("token", "list"), ("rebuild",),
            ("token", "create", "--name", "Ada", "--role", "admin")]


def unreachable(port: int) -> list[str]:
    """URLs of a server that is not there, and malformed ones, each holding secrets."""
    base = f"127.0.0.1:{port}"
    return [
        f"postgresql://ada:s3cret-user@{base}/db?password=s3cret-query&sslpassword=s3cret-ssl"
        "&connect_timeout=5",
        f"postgresql://ada@{base}/db?sslmode=disable&password=s3cret-query",
        "postgresql://ada:s3cret%zz@127.0.0.1/db?password=s3cret-query",  # bad percent-encoding
        "postgresql://ada:s3cret-user@[::1/db?password=s3cret-query",  # unclosed IPv6 bracket
        "postgresql://ada:s3cret-user@127.0.0.1:notaport/db",
        "postgresql://ada:s3cret-user@127.0.0.1/db?password",  # a key without a value
        "postgres://ada:s3cret-user@127.0.0.1/db?bogus=s3cret-query",  # no such parameter
    ]


def assert_one_clean_line(result: subprocess.CompletedProcess, what: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, (what, output)
    assert "Traceback" not in output, (what, output)
    assert len(output.strip().splitlines()) == 1, (what, output)
    for secret in SECRETS:
        assert secret not in output, (what, secret, output)


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_no_command_prints_a_urls_secrets(command: tuple[str, ...]) -> None:
    for url in unreachable(free_port()):
        as_flag = run_cli(*command, "--db", url, timeout=60)
        assert_one_clean_line(as_flag, f"{command} --db {url}")
        as_env = run_cli(*command, timeout=60, STAROSTA_DB=url)
        assert_one_clean_line(as_env, f"{command} STAROSTA_DB={url}")


@pytest.mark.slow
def test_serve_prints_no_secret_of_an_unreachable_or_malformed_url(tmp_path) -> None:
    for url in unreachable(free_port()):
        result = run_cli("serve", "--db", url, "--port", str(free_port()), timeout=60)
        assert_one_clean_line(result, url)


@pytest.mark.slow
def test_serves_start_up_line_shows_the_url_without_its_secrets(postgres_cluster) -> None:
    from tests.postgres import new_archive

    service, owner = new_archive(postgres_cluster)
    # the test cluster trusts 127.0.0.1: the passwords are sent and ignored
    user = service.split("://")[1].split("@")[0]
    with_secrets = service.replace(f"{user}@", f"{user}:s3cret-user@") + \
        "&password=s3cret-query&sslpassword=s3cret-ssl"
    proc, base = launch_server(with_secrets, env={"STAROSTA_OWNER_DB": owner})
    try:
        wait_until_up(proc, base, wait=60)
        assert httpx.get(f"{base}/health", timeout=10).status_code == 200
    finally:
        stop(proc)
    assert proc.stdout is not None
    output = proc.stdout.read()
    [line] = [line for line in output.splitlines() if line.startswith("starosta serving")]
    assert f"{user}:***@" in line and "password=***" in line and "sslpassword=***" in line, line
    for secret in SECRETS:
        assert secret not in output, output


# -- the one display of a URL, and the scrubbing of messages, as functions ---------------------

@pytest.mark.parametrize("url, expected", [
    ("postgresql://ada:pw@db.example:5432/arch?password=pw2&sslmode=require",
     "postgresql://ada:***@db.example:5432/arch?password=***&sslmode=require"),
    ("postgres://ada@h/db?sslpassword=x&passfile=/home/ada/.pgpass&sslkey=/k#frag",
     "postgres://ada@h/db?sslpassword=***&passfile=***&sslkey=***#frag"),
    ("postgresql://ada:p@ss/w?rd@h/db", "postgresql://ada:***@h/db"),  # raw @ / ? in a password
    ("postgresql://ada:pw@[::1/db", "postgresql://ada:***@[::1/db"),  # malformed, never raises
    ("postgresql://h/db?application_name=a@b", "postgresql://h/db?application_name=a@b"),
    ("./var/starosta.db", "./var/starosta.db"),
])
def test_shown_hides_a_urls_secrets(url: str, expected: str) -> None:
    assert shown(url) == expected


def test_scrubbed_hides_secrets_quoted_anywhere_in_a_message() -> None:
    url = "postgresql://ada:s3cret%zz@h/db?password=q%20w"
    message = ('invalid percent-encoded token: "s3cret%zz"; in "postgresql://ada:s3cret%zz@h/db"'
               " (host=h password='q w' sslpassword=zz): q w")
    out = scrubbed(message, url)
    assert "s3cret" not in out and "q w" not in out and "zz" not in out, out
    assert "postgresql://ada:***@h/db" in out and "password=***" in out
