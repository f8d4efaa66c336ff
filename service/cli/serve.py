"""`starosta serve`: the HTTP API on an archive, after its migrations and read models."""

from __future__ import annotations

import os
import socket

import click
from starosta.service.backends import ArchiveError, backend_for, shown
from starosta.service.cli.common import DEFAULTS, caught, db_option
from starosta.service.settings import Settings

DEMO_BANNER = ("*** DEMO ARCHIVE: {where} is the demo, whose tokens are public (demo-admin-token "
               "is an admin): for trying starosta, never for real records. A real archive: "
               "starosta migrate, starosta token create, starosta serve on a new --db. ***")


@click.command()
@db_option
@click.option("--host", envvar="STAROSTA_HOST", default=DEFAULTS.host, show_default=True,
              help="Address to bind.")
@click.option("--port", envvar="STAROSTA_PORT", default=DEFAULTS.port, show_default=True,
              type=int, help="Port to bind.")
@click.option("--synchronous", envvar="STAROSTA_SYNCHRONOUS", default=DEFAULTS.synchronous,
              show_default=True, type=click.Choice(["FULL", "NORMAL", "EXTRA"], case_sensitive=False),
              help="SQLite durability: FULL means an acknowledged append is on disk.")
@click.option("--allow-demo", is_flag=True, default=False,
              help="Serve the demo archive (whose tokens are public) on a host that is not loopback.")
def serve(db: str, host: str, port: int, synchronous: str, allow_demo: bool) -> None:
    """Serve the HTTP API (granian, one worker, uvloop) on the embedded SQLite file, or on a
    PostgreSQL database given by URL (several servers may share one). The file must exist
    (`starosta migrate` creates it). The demo archive is served with a banner, and only on
    loopback unless --allow-demo: its tokens are public.

    \b
    Example:
      starosta serve --db ./var/starosta.db --host 127.0.0.1 --port 8000
    """
    from granian import Granian  # imported here: other commands need no server
    from starosta.migrations import MigrationError

    backend = backend_for(db)
    try:  # fail here, with the variable named, rather than in the worker
        settings = Settings.from_env(db=db, host=host, port=port, synchronous=synchronous.upper())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    demo = _demo_guard(db, host, allow_demo)  # before anything is bound or written
    _port_free(host, port)
    try:
        applied = backend.migrate()
    except caught(MigrationError, backend.errors) as exc:  # unreachable, refused, not ours: one line
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise click.ClickException(f"migrating {shown(db)} failed: {detail}") from None
    if applied:
        click.echo(f"applied migrations: {', '.join(applied)}")
    rebuilt = _ensure_read_models(db)
    if rebuilt:
        click.echo(f"rebuilt read models: {', '.join(rebuilt)}")
    os.environ.update(STAROSTA_DB=db, STAROSTA_HOST=host, STAROSTA_PORT=str(port),
                      STAROSTA_SYNCHRONOUS=synchronous.upper())
    where = backend.where()
    if demo:
        click.echo(DEMO_BANNER.format(where=where))
    click.echo(f"starosta serving {where} on http://{host}:{port} "
               f"(OpenAPI at http://{host}:{port}/schema)")
    if settings.trusted_proxies:
        click.echo(f"clients as X-Forwarded-For names them, from STAROSTA_TRUSTED_PROXIES="
                   f"{settings.trusted_proxies}")
    from granian.constants import Interfaces, Loops

    Granian("starosta.service.api.app:app_from_env", factory=True, interface=Interfaces.ASGI,
            address=host, port=port, workers=1, loop=Loops.uvloop, log_access=False).serve()


def _demo_guard(db: str, host: str, allow_demo: bool) -> bool:
    """Return whether `db` is the demo archive (marker.demo_state); refuse, in one line, to
    serve it on a host that is not loopback without `allow_demo`. Reads only."""
    from starosta.service.tools.demo.marker import demo_state, is_loopback

    backend = backend_for(db)
    try:
        if demo_state(db) is None:
            return False
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    except backend.errors as exc:  # a damaged file, a server that cannot be reached
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise click.ClickException(f"cannot open {shown(db)}: {detail}") from None
    if not (allow_demo or is_loopback(host)):
        raise click.ClickException(
            f"{shown(db)} is the demo archive, whose tokens are public: it is served on loopback "
            f"only, not on {host}; pass --allow-demo to serve it there all the same")
    return True


def _ensure_read_models(db: str) -> list[str]:
    """Build the read models whose code version changed (as the service would on start, under
    the same rebuild lock) and catch up the rest; return those built. Raises ClickException,
    in one line, while another rebuild of `db` runs or when the database cannot be written."""
    from starosta.events.store import RebuildRunning, StoreError
    from starosta.projections.read_models import default_runner

    try:
        return backend_for(db).ensure_read_models(
            default_runner(), lambda reason: click.echo(f"waiting: {reason}", err=True))
    except RebuildRunning as exc:
        raise click.ClickException(f"cannot serve yet: {exc}") from None
    except (StoreError, OSError) as exc:
        raise click.ClickException(f"cannot bring the read models of {shown(db)} up to date: "
                                   f"{exc}") from None


def _port_free(host: str, port: int) -> None:
    """Refuse to serve on a port another process listens on (granian would share it, and
    requests would alternate between two archives). Raises ClickException."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # SO_REUSEADDR: connections of a server just stopped (TIME_WAIT) do not block a restart,
        # while a live listener still refuses the bind (Linux); never SO_REUSEPORT, which would
        # share the port with it
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror} (is another "
                                       "starosta or server running there? choose --port)") from None
