"""A throwaway PostgreSQL cluster for the tests: Debian's `initdb` and `pg_ctl` in a temporary
directory, on a free port bound to 127.0.0.1, stopped and removed at the end of the session.

Debian's binaries refuse to run as root, so under root (as in CI) every server command runs as
the `postgres` user through `runuser -u postgres`. The cluster has three roles: the superuser
`postgres` (an attacker with full access, for tampering), `starosta_owner` (owns the test
database and runs the migrations: the owner's URL) and `starosta_app` (a login member of
`starosta_service`, the role migrations/postgres grants INSERT and SELECT on `events`: the
service's URL). Authentication is `trust` on 127.0.0.1 and the cluster's own socket only.

Without PostgreSQL binaries the tests that ask for `postgres_cluster` skip, naming the package to
install; with CI=true they fail instead (CI installs the package, see .ci/run).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

INSTALL_HINT = ("PostgreSQL's server binaries (initdb, pg_ctl) were not found in "
                "/usr/lib/postgresql/*/bin or on PATH: install Debian's package "
                "(apt-get install postgresql) to run the PostgreSQL tests")
SERVER_USER = "postgres"
OWNER, APP, SERVICE_ROLE = "starosta_owner", "starosta_app", "starosta_service"
DATABASE = "starosta_test"


# The cluster is thrown away with the session and no test crashes its server: nothing is
# flushed to disk (API tests make and drop a database each: tests/api/conftest.py, `api`)
THROWAWAY = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def server_binaries() -> Path | None:
    """Return the directory holding initdb and pg_ctl (Debian's newest version first, then
    PATH), or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
                        reverse=True)
    for directory in candidates:
        if os.access(os.path.join(directory, "initdb"), os.X_OK) and \
                os.access(os.path.join(directory, "pg_ctl"), os.X_OK):
            return Path(directory)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(os.path.realpath(initdb)).parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """A running throwaway cluster: its directory, port and the URLs of its roles."""

    bin: Path
    root: Path  # owned by the server user: data/, the socket, the log
    port: int = 0
    as_server_user: list[str] = field(default_factory=list)  # the command prefix (runuser)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, user: str = SERVER_USER, database: str = "postgres", **options: str) -> str:
        """Return a libpq URL for `user` on `database` over TCP on 127.0.0.1; `options` are
        server settings for the session (e.g. search_path)."""
        query = ""
        if options:
            settings = " ".join(f"-c {k}={v}" for k, v in options.items())
            query = "?options=" + quote(settings, safe="")
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}{query}"

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a server binary as the server user; raise with its output when it fails."""
        command = [*self.as_server_user, str(self.bin / args[0]), *args[1:]]
        result = subprocess.run(command, check=False, capture_output=True, text=True,
                                timeout=timeout, cwd=self.root,
                                env={**os.environ, "LC_ALL": "C.UTF-8"})
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}\n{log}")
        return result

    def start(self) -> None:
        """initdb, then pg_ctl start on a free port (a few tries: a port may be taken
        between choosing and binding it)."""
        self.run("initdb", "-D", str(self.data), "--auth=trust", f"--username={SERVER_USER}",
                 "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions")
        for attempt in range(5):
            self.port = _free_port()
            settings = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                        f"-c unix_socket_directories={self.root} -c max_connections=200 "
                        f"-c shared_buffers=64MB {THROWAWAY}")
            try:
                self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", settings,
                         "-w", "-t", "60", "start")
                return
            except RuntimeError:
                if attempt == 4:
                    raise

    def stop(self) -> None:
        """Stop the server (pg_ctl stop, fast mode; immediate if that hangs)."""
        if not (self.data / "postmaster.pid").exists():
            return
        try:
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def execute(self, *statements: str, user: str = SERVER_USER,
                database: str = "postgres") -> None:
        """Run statements in autocommit as `user` on `database`."""
        import psycopg

        with psycopg.connect(self.url(user, database), autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)


def start_cluster() -> Cluster:
    """Start a cluster in a new temporary directory, with the roles and the test database.
    Raises RuntimeError naming what is missing when it cannot."""
    binaries = server_binaries()
    if binaries is None:
        raise FileNotFoundError(INSTALL_HINT)
    prefix: list[str] = []
    # /tmp itself, not pytest's private tmp directory (mode 0700 and owned by root, which the
    # server user could not enter)
    root = Path(tempfile.mkdtemp(prefix="starosta-pg-"))
    if os.geteuid() == 0:  # Debian's initdb and postgres refuse root
        try:
            user = pwd.getpwnam(SERVER_USER)
        except KeyError:
            shutil.rmtree(root)
            raise FileNotFoundError(f"running as root and there is no {SERVER_USER!r} user to "
                                    f"run the server as: {INSTALL_HINT}") from None
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", SERVER_USER, "--"]
    cluster = Cluster(bin=binaries, root=root, as_server_user=prefix)
    try:
        cluster.start()
        cluster.execute(
            f"CREATE ROLE {OWNER} LOGIN CREATEROLE",
            f"CREATE ROLE {APP} LOGIN",
            f"CREATE DATABASE {DATABASE} OWNER {OWNER}",
        )
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def stop_cluster(cluster: Cluster) -> None:
    """Stop the server and remove its directory."""
    try:
        cluster.stop()
    finally:
        shutil.rmtree(cluster.root, ignore_errors=True)


def postgres_available_or_skip() -> None:
    """Skip (or fail with CI=true) when psycopg or the server binaries are missing."""
    missing = []
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing.append("psycopg is not installed: pip install -e '.[test]'")
    if server_binaries() is None:
        missing.append(INSTALL_HINT)
    if missing:
        message = "; ".join(missing)
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI is set, so the PostgreSQL tests must run: {message}")
        pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A throwaway cluster for the test session (see the module's docstring)."""
    postgres_available_or_skip()
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


def new_archive(cluster: Cluster) -> tuple[str, str]:
    """A fresh, migrated archive in a schema of its own of the test database: return (the
    service's URL, as the login role APP in SERVICE_ROLE; the owner's URL). Both URLs set
    the schema as search_path, so each test sees only its own tables."""
    import uuid

    from starosta.service.db import migrate

    schema = f"a_{uuid.uuid4().hex[:12]}"
    cluster.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {OWNER}", database=DATABASE)
    owner = cluster.url(OWNER, DATABASE, search_path=schema)
    migrate(owner)
    global _granted
    if not _granted:  # an operator's step, once per cluster (the role exists once migrated)
        cluster.execute(f"GRANT {SERVICE_ROLE} TO {APP}")
        _granted = True
    return cluster.url(APP, DATABASE, search_path=schema), owner


_granted = False

TEMPLATE, TEMPLATE_SCHEMA = "starosta_template", "archive"


def template_database(cluster: Cluster) -> tuple[str, str]:
    """Make the database TEMPLATE holding an empty, migrated archive in its schema
    TEMPLATE_SCHEMA: return (the service's URL, the owner's URL) of it, both with that schema as
    search_path. The caller fills it (tokens, read models) and closes every connection to it:
    `copy_of_template` copies it, which no session may hold open."""
    from starosta.service.db import migrate

    cluster.execute(f"CREATE DATABASE {TEMPLATE} OWNER {OWNER}")
    cluster.execute(f"CREATE SCHEMA {TEMPLATE_SCHEMA} AUTHORIZATION {OWNER}", database=TEMPLATE)
    owner = cluster.url(OWNER, TEMPLATE, search_path=TEMPLATE_SCHEMA)
    migrate(owner)
    global _granted
    if not _granted:
        cluster.execute(f"GRANT {SERVICE_ROLE} TO {APP}")
        _granted = True
    return cluster.url(APP, TEMPLATE, search_path=TEMPLATE_SCHEMA), owner


def copy_of_template(cluster: Cluster) -> tuple[str, str, str]:
    """A new database copied from TEMPLATE (CREATE DATABASE ... TEMPLATE: a file copy, no
    migration or read-model build): return (the service's URL, the owner's URL, its name).
    Drop it with `drop_database`."""
    import uuid

    name = f"t_{uuid.uuid4().hex[:12]}"
    cluster.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} OWNER {OWNER}")
    return (cluster.url(APP, name, search_path=TEMPLATE_SCHEMA),
            cluster.url(OWNER, name, search_path=TEMPLATE_SCHEMA), name)


class Copies:
    """Copies of TEMPLATE made one ahead: while a test runs on one copy, the next is made (and
    the last test's dropped) by one background thread, whose statements run in the server
    while the test waits on its own requests. `take` returns (service URL, owner URL, name);
    `drop` drops a copy taken; `close` waits for both to finish."""

    def __init__(self, cluster: Cluster) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.cluster = cluster
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="template-copies")
        self.next = self.thread.submit(copy_of_template, cluster)

    def take(self) -> tuple[str, str, str]:
        made = self.next.result()
        self.next = self.thread.submit(copy_of_template, self.cluster)
        return made

    def drop(self, name: str) -> None:
        self.thread.submit(drop_database, self.cluster, name)

    def close(self) -> None:
        self.thread.shutdown(wait=True)


def drop_database(cluster: Cluster, name: str) -> None:
    """Drop the database `name`, ending the sessions still connected to it (a server a test
    started and did not stop): each copy holds a few megabytes of catalogs."""
    cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def empty_schema(cluster: Cluster) -> tuple[str, str]:
    """A new schema of the test database holding nothing (not migrated: what `starosta demo`
    takes): return (the service's URL, the owner's URL), both with it as search_path. The group
    role SERVICE_ROLE is made beforehand by the DBA (as migrations/postgres/0001 allows) and
    given to APP, so that a server can serve the schema once `demo` has migrated it."""
    import uuid

    schema = f"e_{uuid.uuid4().hex[:12]}"
    cluster.execute(
        f"CREATE SCHEMA {schema} AUTHORIZATION {OWNER}", database=DATABASE)
    cluster.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
        f"'{SERVICE_ROLE}') THEN CREATE ROLE {SERVICE_ROLE} NOLOGIN; END IF; END $$",
        f"GRANT {SERVICE_ROLE} TO {APP}")
    return (cluster.url(APP, DATABASE, search_path=schema),
            cluster.url(OWNER, DATABASE, search_path=schema))


@contextlib.contextmanager
def streaming_replica(cluster: Cluster) -> Iterator[Cluster]:
    """A hot-standby streaming replica of `cluster` (pg_basebackup -R from it, started on a
    free port beside it), stopped and removed when the block ends. Its URLs are the
    primary's on another port; `execute` on it runs pg_wal_replay_pause() and the like."""
    replica = Cluster(bin=cluster.bin, root=cluster.root / f"replica-{_free_port()}",
                      as_server_user=cluster.as_server_user)
    command = [*cluster.as_server_user, "mkdir", "-m", "700", str(replica.root)]
    subprocess.run(command, check=True, timeout=30)
    cluster.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", SERVER_USER,
                "-D", str(replica.data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
                timeout=300)
    for attempt in range(5):
        replica.port = _free_port()
        settings = (f"-c listen_addresses=127.0.0.1 -p {replica.port} "
                    f"-c unix_socket_directories={replica.root} -c hot_standby=on "
                    "-c max_connections=200")  # not below the primary's
        try:
            replica.run("pg_ctl", "-D", str(replica.data), "-l", str(replica.log), "-o",
                        settings, "-w", "-t", "60", "start")
            break
        except RuntimeError:
            if attempt == 4:
                shutil.rmtree(replica.root, ignore_errors=True)
                raise
    try:
        yield replica
    finally:
        try:
            replica.stop()
        finally:
            shutil.rmtree(replica.root, ignore_errors=True)
