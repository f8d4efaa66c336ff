"""The deployment files (deploy/) and the README's "Running it for real", tested as far as a test
can without a machine to install them on: the systemd units parse (strictly here, and with
`systemd-analyze verify` where it is installed), every `starosta` command and flag they name
exists, the proxy's body limit is the service's, the unit's ExecStart serves, the backup script
backs up and verifies against the live head, and nginx (where installed) proxies with TLS."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import click
import httpx
import pytest
from litestar.testing import TestClient

from starosta.service.api.app import create_app
from starosta.service.cli import main
from starosta.service.settings import Settings
from tests.conftest import ROOT, STAROSTA, free_port, run_cli, stop

DEPLOY = ROOT / "deploy"
UNITS = ("starosta.service", "starosta-backup.service", "starosta-backup.timer")
NGINX = DEPLOY / "nginx-starosta.conf"
BACKUP_SCRIPT = DEPLOY / "starosta-backup.sh"
INSTALLED = "/opt/starosta"  # where the unit files expect the clone (README: "Running it for real")

# The keys these units may use, per section: a misspelt or misplaced key fails here even where
# systemd-analyze is not installed (systemd itself only warns, and ignores the line).
KNOWN = {
    "Unit": {"Description", "Documentation", "After", "Before", "Requires", "Requisite", "Wants",
             "BindsTo", "PartOf", "Conflicts", "OnFailure", "StartLimitIntervalSec",
             "StartLimitBurst"},
    "Service": {"Type", "User", "Group", "WorkingDirectory", "Environment", "EnvironmentFile",
                "ExecStart", "ExecStartPre", "ExecStartPost", "ExecStop", "Restart", "RestartSec",
                "TimeoutStartSec", "TimeoutStopSec", "KillSignal", "StateDirectory",
                "StateDirectoryMode", "UMask", "NoNewPrivileges", "ProtectSystem",
                "ReadWritePaths", "ReadOnlyPaths", "ProtectHome", "PrivateTmp", "PrivateDevices",
                "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                "ProtectControlGroups", "ProtectClock", "ProtectHostname",
                "RestrictAddressFamilies", "RestrictNamespaces", "RestrictRealtime",
                "RestrictSUIDSGID", "LockPersonality", "CapabilityBoundingSet",
                "SystemCallArchitectures", "SystemCallFilter", "LimitNOFILE"},
    "Timer": {"OnCalendar", "OnBootSec", "OnUnitActiveSec", "RandomizedDelaySec", "Persistent",
              "Unit", "AccuracySec"},
    "Install": {"WantedBy", "RequiredBy", "Alias"},
}
SECTIONS = {".service": ("Unit", "Service", "Install"), ".timer": ("Unit", "Timer", "Install")}
BOOLEAN = {"NoNewPrivileges", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
           "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock",
           "ProtectHostname", "RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID",
           "LockPersonality", "Persistent"}
CHOICES = {"Type": {"simple", "exec", "forking", "oneshot", "notify", "dbus", "idle"},
           "Restart": {"no", "on-success", "on-failure", "on-abnormal", "on-watchdog",
                       "on-abort", "always"},
           "ProtectSystem": {"yes", "no", "full", "strict"},
           "ProtectHome": {"yes", "no", "read-only", "tmpfs"}}


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Return a unit file's sections as (key, value) lists, in order (a key may repeat, as
    Environment= does). Raises AssertionError naming the line of anything systemd would ignore
    or refuse: a key outside a section or unknown to it, a line that is no key=value, a bad
    boolean or choice."""
    allowed = SECTIONS[path.suffix]
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        where = f"{path.name}:{number}: {line!r}"
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        assert not line.endswith("\\"), f"{where}: keep each setting on one line"
        if line.startswith("["):
            assert re.fullmatch(r"\[[A-Za-z]+\]", line), where
            current = line[1:-1]
            assert current in allowed, f"{where}: no [{current}] section in a {path.suffix} unit"
            assert current not in sections, f"{where}: section repeated"
            sections[current] = []
            continue
        assert current is not None, f"{where}: a setting before any section"
        key, equals, value = line.partition("=")
        assert equals and re.fullmatch(r"[A-Za-z]+", key), f"{where}: not key=value"
        assert key in KNOWN[current], f"{where}: {key} is not a [{current}] key"
        if key in BOOLEAN:
            assert value in {"yes", "no", "true", "false"}, f"{where}: not a boolean"
        if key in CHOICES:
            assert value in CHOICES[key], f"{where}: one of {sorted(CHOICES[key])}"
        sections[current].append((key, value))
    assert set(allowed[:2]) <= set(sections), f"{path.name}: needs [{allowed[0]}] and [{allowed[1]}]"
    return sections


def values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def one(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> str:
    found = values(unit, section, key)
    assert len(found) == 1, f"[{section}] {key}: {found}"
    return found[0]


def environment(unit: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """The unit's Environment= settings (one NAME=value each, no quoting)."""
    env = {}
    for setting in values(unit, "Service", "Environment"):
        name, _, value = setting.partition("=")
        assert name and " " not in setting, f"Environment={setting}: write one NAME=value per line"
        env[name] = value
    return env


def command_line(unit: dict[str, list[tuple[str, str]]], env: dict[str, str]) -> list[str]:
    """ExecStart= split into words, ${NAME} expanded from `env` as systemd does."""
    words = one(unit, "Service", "ExecStart").split()
    return [re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], w) for w in words]


def here(path: str) -> str:
    """A path of the installed layout mapped to this checkout (its .venv, its deploy/)."""
    if path == f"{INSTALLED}/.venv/bin/starosta":
        return STAROSTA
    return path.replace(f"{INSTALLED}/", f"{ROOT}/")


def units() -> dict[str, dict[str, list[tuple[str, str]]]]:
    return {name: parse_unit(DEPLOY / name) for name in UNITS}


def readme_deployment() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "\n## Running it for real\n" in readme
    return readme.split("\n## Running it for real\n", 1)[1].split("\n## ", 1)[0]


# -- the unit files ----------------------------------------------------------------------------

def test_the_unit_files_parse_strictly_and_say_what_the_readme_promises() -> None:
    parsed = units()
    serve, backup, timer = (parsed[name] for name in UNITS)
    env = environment(serve)
    db_dir = os.path.dirname(env["STAROSTA_DB"])
    # a dedicated user, the database's directory its working and only writable one
    assert one(serve, "Service", "User") == "starosta" == one(backup, "Service", "User")
    assert one(serve, "Service", "WorkingDirectory") == db_dir
    assert one(serve, "Service", "Restart") == "on-failure"
    for unit in (serve, backup):
        assert one(unit, "Service", "NoNewPrivileges") == "yes"
        assert one(unit, "Service", "ProtectSystem") == "strict"
        assert one(unit, "Service", "PrivateTmp") == "yes"
        assert db_dir in one(unit, "Service", "ReadWritePaths").split()
    assert environment(backup)["BACKUP_DIR"] in one(backup, "Service", "ReadWritePaths").split()
    assert environment(backup)["STAROSTA_DB"] == env["STAROSTA_DB"]
    # the timer starts the backup service, which is a one-shot that never starts the API
    assert one(timer, "Timer", "Unit") == "starosta-backup.service"
    assert one(backup, "Service", "Type") == "oneshot"
    assert one(backup, "Unit", "Requisite") == "starosta.service"
    assert one(timer, "Install", "WantedBy") == "timers.target"
    assert here(one(backup, "Service", "ExecStart")) == str(BACKUP_SCRIPT)
    assert os.access(BACKUP_SCRIPT, os.X_OK), "deploy/starosta-backup.sh must be executable"


def test_the_service_environment_is_settings_the_service_reads() -> None:
    env = environment(units()["starosta.service"])
    fields = {f"STAROSTA_{name.upper()}" for name in Settings.__struct_fields__}
    named = {k for k in env if k.startswith("STAROSTA_")}
    assert named <= fields, f"not settings of the service: {sorted(named - fields)}"
    settings = Settings.from_env(env)
    defaults = Settings()
    # all but the database's path and the trusted proxies are the defaults (the README says
    # so), written out to edit
    for name in Settings.__struct_fields__:
        if f"STAROSTA_{name.upper()}" in named and name not in ("db", "trusted_proxies"):
            assert getattr(settings, name) == getattr(defaults, name), name
    # nginx on the same machine is the one proxy whose X-Forwarded-For names the client
    assert settings.trusted_proxies == "127.0.0.1,::1" and defaults.trusted_proxies == ""


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd); "
                    "the strict parse above still ran")
    for name in UNITS:  # the installed layout's paths mapped to this checkout's
        text = (DEPLOY / name).read_text("utf-8")
        text = text.replace(f"{INSTALLED}/.venv/bin/starosta", STAROSTA)
        (tmp_path / name).write_text(text.replace(f"{INSTALLED}/", f"{ROOT}/"), "utf-8")
    done = subprocess.run([analyze, "verify", *(str(tmp_path / n) for n in UNITS)],
                          capture_output=True, text=True, timeout=60)
    # systemd-analyze exits 0 on unknown keys and bad values: it only warns; any word is a fault
    complaints = [line for line in (done.stdout + done.stderr).splitlines()
                  if any(name in line for name in UNITS)]
    assert done.returncode == 0 and not complaints, done.stdout + done.stderr


# -- the commands they name ------------------------------------------------------------------

# the command: `starosta` as a word, a path ending in /bin/starosta, or the script's "$STAROSTA"
# (not a directory such as /opt/starosta, nor the user in `runuser -u starosta --`)
INVOCATION = re.compile(r"""(?:(?:^|(?<=[\s"'`(]))starosta|/bin/starosta|\$STAROSTA|\$\{STAROSTA\})"?"""
                        r"""[ \t]+([a-z][a-z-]*)(.*)""")


def invocations(text: str) -> list[tuple[str, list[str]]]:
    """Every `starosta COMMAND [SUB] --flag ...` in `text`: (the line, its words up to a shell
    separator or comment)."""
    found = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for match in INVOCATION.finditer(line):
            rest = re.split(r"\s#|[|;`)]|&&", match.group(2))[0]
            found.append((line.strip(), [match.group(1), *rest.split()]))
    return found


def code_of(markdown: str) -> str:
    """The code in a markdown text: fenced blocks and `inline spans`, one per line."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", markdown, re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```[a-z]*\n.*?```", "", markdown, flags=re.S))
    return "\n".join([*blocks, *spans])


def check_invocation(line: str, words: list[str]) -> str:
    """Assert the command and every --flag of it exist in the real CLI; return its name."""
    command: click.Command | None = main.commands.get(words[0])
    assert command is not None, f"{line!r}: no command `starosta {words[0]}`"
    name, rest = words[0], words[1:]
    if isinstance(command, click.Group):
        assert rest, f"{line!r}: `starosta {name}` needs a subcommand"
        sub = command.commands.get(rest[0])
        assert sub is not None, f"{line!r}: no command `starosta {name} {rest[0]}`"
        command, name, rest = sub, f"{name} {rest[0]}", rest[1:]
    flags = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)
             if opt.startswith("-")} | {"--help", "-h"}
    for word in rest:
        if word.startswith("--"):
            flag = word.split("=", 1)[0]
            assert flag in flags, f"{line!r}: `starosta {name}` has no {flag} (it has {sorted(flags)})"
    return name


def test_every_starosta_command_and_flag_named_in_deploy_files_exists() -> None:
    texts = {p.name: p.read_text("utf-8") for p in sorted(DEPLOY.iterdir()) if p.is_file()}
    named = {check_invocation(line, words) for text in texts.values()
             for line, words in invocations(text)}
    assert {"serve", "backup", "verify"} <= named, named


def test_every_starosta_command_and_flag_in_the_deployment_section_exists() -> None:
    section = readme_deployment()
    named = {check_invocation(line, words) for line, words in invocations(code_of(section))}
    assert {"serve", "backup", "verify", "migrate", "token create"} <= named, named
    for name in UNITS + (NGINX.name, BACKUP_SCRIPT.name):
        assert f"deploy/{name}" in section, f"the deployment section does not name deploy/{name}"


def test_the_invocation_finder_is_not_blind() -> None:
    """Guard the parser: it finds commands in each form the files use, and a wrong flag fails."""
    found = invocations('ExecStart=/opt/x/bin/starosta serve --db ${STAROSTA_DB} --port 8000\n'
                        '"$STAROSTA" verify --db "$target" --expect-head "$hash"\n'
                        'sudo -u starosta /opt/starosta/.venv/bin/starosta token create --name a  # b\n'
                        'the starosta.service unit; User=starosta; make -C /opt/starosta setup')
    assert [w[:2] for _, w in found] == [["serve", "--db"], ["verify", "--db"], ["token", "create"]]
    with pytest.raises(AssertionError, match="has no --expect"):
        check_invocation("starosta verify --expect x", ["verify", "--expect", "x"])
    with pytest.raises(AssertionError, match="no command"):
        check_invocation("starosta backups", ["backups"])


# -- the proxy's limit is the service's --------------------------------------------------------

def nginx_body_limit() -> int:
    sizes = re.findall(r"^\s*client_max_body_size\s+(\d+)([kKmM]?)\s*;", NGINX.read_text("utf-8"), re.M)
    assert len(sizes) == 1, sizes
    number, unit = sizes[0]
    return int(number) * {"": 1, "k": 1024, "m": 1024 ** 2}[unit.lower()]


def test_the_proxy_limits_bodies_exactly_as_the_service_does(tmp_path: Path) -> None:
    env = environment(units()["starosta.service"])
    assert nginx_body_limit() == Settings().max_body_bytes == int(env["STAROSTA_MAX_BODY_BYTES"])
    text = NGINX.read_text("utf-8")
    port = env["STAROSTA_PORT"]
    assert re.search(rf"^\s*server {env['STAROSTA_HOST']}:{port};", text, re.M), "upstream is not the unit's"
    assert environment(units()["starosta-backup.service"])["HEAD_URL"] == \
        f"http://{env['STAROSTA_HOST']}:{port}/events/head"
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert re.search(rf"^\s*proxy_set_header {header} ", text, re.M), header
    for timeout in ("proxy_connect_timeout", "proxy_send_timeout", "proxy_read_timeout",
                    "client_body_timeout"):
        assert re.search(rf"^\s*{timeout} \d+s;", text, re.M), timeout
    # what nginx lets through, the service takes; one byte more, both refuse with 413
    limit, db = Settings().max_body_bytes, str(tmp_path / "a.db")
    assert run_cli("migrate", "--db", db).returncode == 0
    made = run_cli("token", "create", "--name", "proxy test", "--role", "contributor", "--db", db)
    assert made.returncode == 0, made.stderr
    with TestClient(create_app(Settings(db=db))) as client:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {made.stdout.strip()}"}
        assert client.post("/sources", content=b" " * limit, headers=headers).status_code != 413
        too_big = client.post("/sources", content=b" " * (limit + 1), headers=headers)
        assert too_big.status_code == 413
        assert too_big.headers["content-type"] == "application/problem+json"


# -- the units' commands, run ------------------------------------------------------------------

def wait_healthy(port: int, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)  # start-up poll, bounded by the deadline
    raise AssertionError(f"no /health on port {port} within {seconds} s")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, Path]]:
    """The demo archive served by starosta.service's own ExecStart and Environment (paths and
    port moved into a temporary directory): (port, database, directory)."""
    work = tmp_path_factory.mktemp("deploy")
    unit = units()["starosta.service"]
    port = free_port()
    env = {**environment(unit), "STAROSTA_DB": str(work / "starosta.db"), "STAROSTA_PORT": str(port)}
    loaded = run_cli("demo", "--db", env["STAROSTA_DB"], timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    argv = [here(word) for word in command_line(unit, env)]
    assert argv[0] == STAROSTA and argv[1] == "serve", argv
    proc = subprocess.Popen(argv, cwd=work, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_healthy(port, proc)
        yield port, env["STAROSTA_DB"], work
    finally:
        stop(proc)


def run_backup(served: tuple[int, str, Path], backups: Path) -> subprocess.CompletedProcess:
    """Run deploy/starosta-backup.sh with starosta-backup.service's Environment, moved here."""
    port, db, _ = served
    unit = units()["starosta-backup.service"]
    env = {**environment(unit), "STAROSTA": STAROSTA, "STAROSTA_DB": db,
           "BACKUP_DIR": str(backups), "HEAD_URL": f"http://127.0.0.1:{port}/events/head"}
    return subprocess.run([here(one(unit, "Service", "ExecStart"))], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


@pytest.mark.slow
def test_the_units_exec_start_serves(served: tuple[int, str, Path]) -> None:
    port, _, _ = served
    head = httpx.get(f"http://127.0.0.1:{port}/events/head", timeout=5).json()
    assert head["position"] > 0


@pytest.mark.slow
def test_the_backup_script_backs_up_and_verifies_against_the_live_head(
        served: tuple[int, str, Path], tmp_path: Path) -> None:
    port, _, _ = served
    backups = tmp_path / "backups"
    live = httpx.get(f"http://127.0.0.1:{port}/events/head", timeout=5).json()
    first = run_backup(served, backups)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"live head: position {live['position']}, hash {live['hash']}" in first.stdout
    assert "chain intact" in first.stdout
    copies = sorted(backups.glob("starosta-*.db"))
    assert len(copies) == 1
    checked = run_cli("verify", "--db", str(copies[0]), "--expect-head", live["hash"])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    heads = (backups / "heads.log").read_text("utf-8").splitlines()
    assert heads == [f"{live['position']} {live['hash']} {copies[0].stem[len('starosta-'):]} {copies[0]}"]

    time.sleep(1.1)  # copies are named to the second
    second = run_backup(served, backups)  # verified against the head the first run recorded too
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.count("chain intact") == 3  # the copy twice, then the live archive
    assert "ok: 6 read models hold what a rebuild from the log holds" in second.stdout
    assert len((backups / "heads.log").read_text("utf-8").splitlines()) == 2

    # a recorded head the archive no longer holds (a rewritten or truncated history) fails the run
    with (backups / "heads.log").open("a", encoding="utf-8") as log:
        log.write(f"{live['position']} {'ab' * 32} earlier elsewhere.db\n")
    time.sleep(1.1)
    third = run_backup(served, backups)
    assert third.returncode != 0 and "BROKEN" in third.stdout + third.stderr
    assert len((backups / "heads.log").read_text("utf-8").splitlines()) == 3  # nothing recorded


@pytest.mark.slow
def test_the_backup_script_fails_naming_a_read_model_changed_behind_the_service(
        served: tuple[int, str, Path], tmp_path: Path) -> None:
    """The chain cannot see a read model's rows changed with sqlite3; the nightly run does."""
    _, db, _ = served
    backups = tmp_path / "backups"
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        (claim,) = conn.execute("SELECT id FROM claims WHERE status = 'pending' LIMIT 1").fetchone()
        conn.execute("UPDATE claims SET status = 'approved' WHERE id = ?", (claim,))
        tampered = run_backup(served, backups)
    finally:
        conn.execute("UPDATE claims SET status = 'pending' WHERE id = ?", (claim,))
        conn.close()
    assert tampered.returncode != 0, tampered.stdout
    assert "BROKEN: read model claims differs from its rebuild" in tampered.stderr
    assert "Traceback" not in tampered.stderr
    # the copy was verified and its head recorded before the read models were checked
    assert len((backups / "heads.log").read_text("utf-8").splitlines()) == 1
    time.sleep(1.1)  # copies are named to the second
    repaired = run_backup(served, backups)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr


@pytest.mark.slow
def test_the_backup_script_says_in_one_line_when_the_service_is_down(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    assert run_cli("migrate", "--db", str(db)).returncode == 0
    done = run_backup((free_port(), str(db), tmp_path), tmp_path / "backups")
    assert done.returncode != 0
    assert "cannot read the live head" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "backups").exists()  # nothing copied without a head to check


@pytest.mark.slow
def test_nginx_serves_the_api_with_tls_and_refuses_big_bodies(served: tuple[int, str, Path],
                                                              tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    openssl = shutil.which("openssl")
    if nginx is None or openssl is None:
        pytest.skip("nginx or openssl is not installed (Debian: apt-get install nginx-light "
                    "openssl); the static checks of deploy/nginx-starosta.conf still ran")
    port, _, _ = served
    made = subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                           "-subj", "/CN=records.example.org", "-keyout", str(tmp_path / "key.pem"),
                           "-out", str(tmp_path / "cert.pem")], capture_output=True, timeout=60)
    assert made.returncode == 0, made.stderr
    https, http = free_port(), free_port()
    site = NGINX.read_text("utf-8")
    for old, new in (("/etc/letsencrypt/live/records.example.org/fullchain.pem", tmp_path / "cert.pem"),
                     ("/etc/letsencrypt/live/records.example.org/privkey.pem", tmp_path / "key.pem"),
                     ("listen 443 ", f"listen 127.0.0.1:{https} "), ("listen 80;", f"listen 127.0.0.1:{http};"),
                     ("listen [::]:443 ssl http2;", ""), ("listen [::]:80;", ""),
                     ("server 127.0.0.1:8000;", f"server 127.0.0.1:{port};")):
        assert old in site, old
        site = site.replace(old, str(new))
    (tmp_path / "site.conf").write_text(site, "utf-8")
    temp = " ".join(f"{kind}_temp_path {tmp_path / kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # workers must reach this private tmp dir
        + f"daemon off;\npid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
        f"events {{}}\nhttp {{ access_log off; {temp} include {tmp_path / 'site.conf'}; }}\n", "utf-8")
    argv = [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    tested = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30)
    assert tested.returncode == 0, tested.stderr
    proxy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        base = f"https://127.0.0.1:{https}"
        with httpx.Client(verify=False, timeout=10) as client:
            deadline = time.monotonic() + 15
            while True:
                try:
                    health = client.get(f"{base}/health")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and proxy.poll() is None, "nginx did not start"
                    time.sleep(0.1)  # start-up poll, bounded by the deadline
            assert health.status_code == 200 and health.json()["status"] == "ok"
            assert "max-age" in health.headers["strict-transport-security"]
            plain = client.get(f"http://127.0.0.1:{http}/health")
            assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
            limit = Settings().max_body_bytes
            # with a token, so that the service reads the whole body (without one it answers
            # 401 before reading, and nginx, still sending, reports a broken pipe as 502)
            json_type = {"Content-Type": "application/json",
                         "Authorization": "Bearer demo-contributor-token"}
            passed = client.post(f"{base}/sources", content=b" " * limit, headers=json_type)
            assert passed.status_code == 400, passed.text  # through nginx: the service read it
            assert passed.json()["title"] == "Malformed request"
            refused = client.post(f"{base}/sources", content=b" " * (limit + 1), headers=json_type)
            assert refused.status_code == 413
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["status"] == 413 and refused.json()["title"] == "Request body too large"
    finally:
        stop(proxy)
