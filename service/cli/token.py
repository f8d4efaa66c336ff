"""`starosta token`: create, list and revoke access tokens (only a hash of each is stored)."""

from __future__ import annotations

import click
from starosta.service.backends import backend_for
from starosta.service.cli.common import caught, db_option


@click.group()
def token() -> None:
    """Create, list and revoke access tokens (only a hash of each is stored).

    \b
    Example:
      starosta token create --name "Ada Reviewer" --role reviewer
    """


@token.command("create")
@db_option
@click.option("--name", required=True, help="Who will use the token (recorded as the actor).")
@click.option("--role", required=True, type=click.Choice(["contributor", "reviewer", "admin"]),
              help="contributor < reviewer < admin.")
def token_create(db: str, name: str, role: str) -> None:
    """Create a token and print it once; it cannot be shown again.

    \b
    Example:
      starosta token create --name "Ada Reviewer" --role reviewer --db ./var/starosta.db
    """
    from starosta.events.store import StoreError
    from starosta.service.domain.access import create_tokens

    backend = backend_for(db)
    backend.admin_connection().close()  # migrated, and the one-line errors of an unwritable file
    try:
        [(token_id, secret)] = create_tokens(db, [(name, role, None)])
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except caught(StoreError, backend.errors) as exc:  # a full or failing disk: nothing was written
        raise click.ClickException(f"no token created, nothing written: {exc}") from None
    click.echo(f"token {token_id} for {name.strip()} ({role}); shown once, keep it:", err=True)
    click.echo(secret)


@token.command("list")
@db_option
def token_list(db: str) -> None:
    """List tokens: id, name, role, account, created, revoked (never the token itself).

    The account id (A-...) is what readers below reviewer see in place of the name.

    \b
    Example:
      starosta token list --db ./var/starosta.db
    """
    from starosta.service.domain.access import list_tokens

    for t in list_tokens(backend_for(db).admin_connection()):
        click.echo(f"{t.id}\t{t.name}\t{t.role}\t{t.account or '-'}\tcreated {t.created_at}"
                   + (f"\trevoked {t.revoked_at}" if t.revoked_at else ""))


@token.command("revoke")
@db_option
@click.argument("token_id")
def token_revoke(db: str, token_id: str) -> None:
    """Revoke a token by its id (from `starosta token list`); it answers 401 from then on.

    \b
    Example:
      starosta token revoke T-1a2b3c4d --db ./var/starosta.db
    """
    from starosta.service.domain.access import revoke_token

    if not revoke_token(backend_for(db).admin_connection(), token_id):
        raise click.ClickException(f"no live token with id {token_id}")
    click.echo(f"revoked {token_id}")

