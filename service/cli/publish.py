"""`starosta publish`: the approved archive as a plain SQLite database for Datasette."""

from __future__ import annotations

import os

import click
from starosta.service.backends import backend_for
from starosta.service.cli.common import caught, db_option, output


@click.command("publish")
@db_option
@click.argument("out", type=click.Path())
@click.option("--metadata", "metadata_path", type=click.Path(), default=None,
              help="Where to write the Datasette metadata (default: OUT's name with .metadata.json).")
@click.option("--force", is_flag=True, default=False,
              help="Replace OUT and the metadata file if they exist (never the database read).")
def publish_command(db: str, out: str, metadata_path: str | None, force: bool) -> None:
    """Publish the approved archive as a plain, documented SQLite database (sqlite-utils:
    tables, foreign keys, full-text search, views) with a metadata.json for Datasette.
    Nothing pending, contested or rejected; no tokens, no contributor names. Prints the log
    position and head it was read at, and a content hash: the same log gives the same hash.

    \b
    Example:
      starosta publish public/starosta.db --db ./var/starosta.db && datasette public/starosta.db -m public/starosta.metadata.json
    """
    from starosta.events.store import RebuildRunning, StoreError
    from starosta.service.tools.publish import (PublishRefused, claims_by_kind,
                                                default_metadata_path, publish)

    metadata_path = metadata_path or default_metadata_path(out)
    if out == "-" or metadata_path == "-":
        raise click.ClickException("publish writes files: name OUT (and --metadata) as paths")
    if os.path.realpath(out) == os.path.realpath(metadata_path):
        raise click.ClickException(f"OUT and --metadata are both {out}: choose two files")
    output(out, force, db)
    output(metadata_path, force, db)
    backend = backend_for(db)
    try:
        done = publish(db, out, metadata_path, force)
    except (PublishRefused, RebuildRunning) as exc:
        raise click.ClickException(f"nothing published: {exc}") from None
    except caught(StoreError, backend.errors, OSError) as exc:  # a full disk, an unwritable directory
        raise click.ClickException(f"publish failed, {out} is as it was: {exc}") from None
    if done.rebuilt:
        click.echo(f"rebuilt read models first: {', '.join(done.rebuilt)}", err=True)
    counts = ", ".join(f"{n} {table}" for table, n in done.rows.items())
    click.echo(f"published {out} ({counts}) at log position {done.head.position}, head "
               f"{done.head.hash}, in {done.seconds:.1f} s; metadata: {done.metadata}")
    click.echo(f"content hash {done.content_hash}")
    kinds = claims_by_kind(out)
    click.echo(f"the {sum(kinds.values())} claims are every approved or disputed claim in the "
               "log that is not superseded, deprecated or suppressed (nothing pending, rejected "
               "or retracted), the name claim each registration submits among them; by kind: "
               + ", ".join(f"{kind} {n}" for kind, n in kinds.items()))

