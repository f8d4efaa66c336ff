"""`starosta identity`: reviewers' identity judgements on person, place and organisation records."""

from __future__ import annotations

import click
from starosta.service.cli.common import db_option


@click.group()
def identity() -> None:
    """Reviewers' identity judgements on person, place and organisation records (merges,
    distinctions, identifications: "possibly the same as").

    \b
    Example:
      starosta identity conflicts --db ./var/starosta.db
      starosta identity identifications --kind person --db ./var/starosta.db
    """


@identity.command("conflicts")
@db_option
def identity_conflicts(db: str) -> None:
    """List the judgements the log holds but the registry ignores, because they contradict
    earlier ones (a cycle of merges, a merge of records judged distinct, "distinct" within
    one record: written by racing reviewers before judgements conflicted; of persons, places
    and organisations, identifications included): position, judgement, record, other record,
    reviewer, why. Settle each with a new judgement.

    \b
    Example:
      starosta identity conflicts --db ./var/starosta.db
    """
    from starosta.projections import registry
    from starosta.service.db import open_archive

    archive = open_archive(db)  # read models built or caught up: the registry's verdict
    try:
        found = registry.judgement_conflicts(archive.store.reader())
    finally:
        archive.close()
    for c in found:
        click.echo(f"{c.position}\t{c.judgement}\t{c.person_id}\t{c.other}\t{c.reviewer}\t"
                   f"{c.refusal}")
    click.echo(f"{len(found)} conflicting judgement{'s' if len(found) != 1 else ''} ignored",
               err=True)



@identity.command("identifications")
@click.option("--kind", type=click.Choice(["person", "place", "organization"]), default=None,
              help="Only identifications of this kind of record.")
@db_option
def identity_identifications(kind: str | None, db: str) -> None:
    """List the identifications in force (records a reviewer judged possibly the same, not
    merged), in log order: position, kind, record, other record, certainty, reason. Record
    them with POST /{persons|places|organizations}/{id}/identify, withdraw them with
    .../unidentify.

    \b
    Example:
      starosta identity identifications --kind person --db ./var/starosta.db
    """
    from starosta.projections import registry
    from starosta.service.db import open_archive

    archive = open_archive(db)  # read models built or caught up: the registry's verdict
    try:
        found = [row for row in registry.identifications(archive.store.reader())
                 if kind is None or row[0] == kind]
    finally:
        archive.close()
    for record_kind, record, other, certainty, reason, _, position in found:
        shown = " ".join(reason.split())  # one line per identification
        click.echo(f"{position}\t{record_kind}\t{record}\t{other}\t{certainty}\t{shown}")
    click.echo(f"{len(found)} identification{'s' if len(found) != 1 else ''} in force", err=True)
