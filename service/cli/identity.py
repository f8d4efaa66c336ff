"""`starosta identity`: reviewers' identity judgements on person records."""

from __future__ import annotations

import click
from starosta.service.cli.common import db_option


@click.group()
def identity() -> None:
    """Reviewers' identity judgements on person records (merges, distinctions).

    \b
    Example:
      starosta identity conflicts --db ./var/starosta.db
    """


@identity.command("conflicts")
@db_option
def identity_conflicts(db: str) -> None:
    """List the judgements the log holds but the registry ignores, because they contradict
    earlier ones (a cycle of merges, a merge of records judged distinct, "distinct" within
    one record: written by racing reviewers before judgements conflicted): position,
    judgement, record, other record, reviewer, why. Settle each with a new judgement.

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

