"""`starosta export`, `import` and `synth`: the log as JSON Lines out and in, documents and
tables out through the real app, and a synthetic archive."""

from __future__ import annotations

import click
from starosta.service.backends import ArchiveError, backend_for, shown
from starosta.service.cli.common import (
    caught,
    db_option,
    force_option,
    new_db_option,
    output,
    require_db,
)
from starosta.service.settings import Settings


@click.group()
def export() -> None:
    """Export the log (JSON Lines), a biography (JSON), a population timeline or a ledger (CSV).

    \b
    Example:
      starosta export log --db ./var/starosta.db --out log.jsonl
    """




@export.command("log")
@db_option
@click.option("--out", type=click.Path(), default="-", show_default=True,
              help="File to write (- for standard output).")
@click.option("--after", type=int, default=0, show_default=True, help="Export events after this position.")
@force_option
def export_log_command(db: str, out: str, after: int, force: bool) -> None:
    """Stream the log as JSON Lines, one stored row per line (what `starosta import` takes).

    \b
    Example:
      starosta export log --db ./var/starosta.db --out log.jsonl
    """
    from starosta.events.store import StoreError
    from starosta.service.tools.transfer import export_log

    backend = backend_for(db)
    output(out, force, db)
    try:
        store = backend.open_event_store()
        try:
            with click.open_file(out, "wb") as f:
                count = export_log(store.read_rows(after), f)
        finally:
            store.close()
    except caught(StoreError, backend.errors) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise click.ClickException(f"exporting the log of {shown(db)} failed: {detail}") from None
    except OSError as exc:  # a full disk, a device that refuses writes
        raise click.ClickException(f"exporting the log to {out} failed: {exc.strerror or exc}") from None
    click.echo(f"exported {count} events", err=True)


def _get(db: str, path: str, accept: str = "application/json") -> bytes:
    """Answer a GET through the real app in-process (the same code as the HTTP API)."""
    from litestar.testing import TestClient
    from starosta.service.api.app import create_app

    require_db(db)
    with TestClient(create_app(Settings(db=db))) as client:
        answer = client.get(path, headers={"Accept": accept})
    if answer.status_code != 200:
        raise click.ClickException(f"{path}: {answer.status_code} {answer.text}")
    return answer.content


@export.command("biography")
@db_option
@click.argument("person_id")
@click.option("--as-of", default=None, help="A log position or RFC 3339 timestamp.")
def export_biography(db: str, person_id: str, as_of: str | None) -> None:
    """Print a person's biography as JSON.

    \b
    Example:
      starosta export biography P-4G7K2M9Q --db ./var/starosta.db > monclus.json
    """
    from urllib.parse import quote

    suffix = f"?as_of={quote(as_of)}" if as_of else ""
    click.echo(_get(db, f"/persons/{quote(person_id)}/biography{suffix}").decode())


@export.command("population")
@db_option
@click.argument("place_id")
@click.option("--step", type=click.Choice(["year", "month"]), default="year", show_default=True)
def export_population(db: str, place_id: str, step: str) -> None:
    """Print a place's population timeline as CSV.

    \b
    Example:
      starosta export population PL-4G7K2M9Q --step year --db ./var/starosta.db > butyrka.csv
    """
    from urllib.parse import quote

    click.echo(_get(db, f"/places/{quote(place_id)}/population/timeline?step={step}&format=csv").decode(), nl=False)


@export.command("ledger")
@db_option
@click.argument("fund_id")
def export_ledger(db: str, fund_id: str) -> None:
    """Print a fund's ledger entries as CSV.

    \b
    Example:
      starosta export ledger F-4G7K2M9Q --db ./var/starosta.db > fund.csv
    """
    from urllib.parse import quote

    click.echo(_get(db, f"/funds/{quote(fund_id)}/ledger?format=csv").decode(), nl=False)



@click.command("import")
@new_db_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--expect-head", default=None, help="Refuse unless the file's last hash is this "
              "one (the head published by the archive it came from).")
def import_command(db: str, path: str, expect_head: str | None) -> None:
    """Import an exported log (JSON Lines) into a new database: every line is checked and the
    hash chain verified first; any bad line refuses the whole file and writes nothing.

    \b
    Example:
      starosta import log.jsonl --db ./var/restored.db --expect-head 3f2a...
    """
    from rich.progress import Progress
    from starosta.events.store import StoreError
    from starosta.service.tools.transfer import ImportRefused

    with Progress(transient=True) as progress:
        task = progress.add_task("verifying and importing", total=None)
        try:
            count, head = backend_for(db).import_log(
                path, lambda n: progress.update(task, completed=n), expect_head)
        except ImportRefused as exc:
            raise click.ClickException(f"import refused, nothing written: {exc}") from None
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
        except (StoreError, OSError) as exc:  # a full disk, a read-only directory
            raise click.ClickException(f"import failed, {db} is as it was: {exc}") from None
    click.echo(f"imported {count} events; head {head}")


@click.command()
@click.option("--persons", type=click.IntRange(min=1), required=True, help="How many synthetic persons.")
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed writes the same bytes.")
@click.option("--out", type=click.Path(), required=True,
              help="The export file (JSON Lines) to write.")
@click.option("--load", "load_db", type=click.Path(dir_okay=False), default=None,
              help="Also import it into this new database (as `starosta import`).")
@force_option
def synth(persons: int, seed: int, out: str, load_db: str | None, force: bool) -> None:
    """Write a clearly SYNTHETIC archive (every name and source marked synthetic) as an export
    file, deterministic for a seed; optionally import it into a new database.

    \b
    Example:
      starosta synth --persons 100000 --seed 7 --out var/synth.jsonl --load var/synth.db
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    from starosta.service.tools.synth import generate
    from starosta.service.tools.transfer import ImportRefused

    output(out, force, load_db)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("generating persons", total=persons)
        with open(out, "wb") as f:
            counts = generate(f, persons, seed, lambda done, total: progress.update(task, completed=done))
        total = sum(counts.values())
        if load_db:
            # the bar covers the check of every line; inserting and building projections follow
            loading = progress.add_task("verifying events (then inserting, building projections)", total=total)
            try:
                backend_for(load_db).import_log(out, lambda n: progress.update(loading, completed=n), None)
            except ImportRefused as exc:
                raise click.ClickException(f"import refused, nothing written: {exc}") from None
            except ArchiveError as exc:
                raise click.ClickException(str(exc)) from None
            progress.update(loading, completed=total)
    click.echo(f"wrote {total} synthetic events for {persons} persons to {out}"
               + (f"; imported into {load_db}" if load_db else ""))
