"""`starosta demo`: the demo archive, with its public tokens, into a new database."""

from __future__ import annotations

import click
from starosta.service.backends import ArchiveError, backend_for, shown
from starosta.service.cli.common import me, new_db_option, quoted


@click.command()
@new_db_option
@click.option("--if-empty", is_flag=True,
              help="On an archive that is not new, load nothing and exit 0: say it is the demo "
                   "already, or how to make a token for it (what `make run` does).")
def demo(db: str, if_empty: bool) -> None:
    """Load the demo archive (entered from the two seed texts) into a new database (a new
    SQLite file, or a PostgreSQL schema holding nothing), mark it as the demo, and print its
    fixed, public demo tokens: contributor, reviewer, admin. Anything else is refused:
    an archive with events, tokens or the tables of another run never gets the demo.

    \b
    Example:
      starosta demo --db ./var/demo.db && starosta serve --db ./var/demo.db
    """
    from rich.progress import Progress
    from starosta.service.tools.demo.load import AlreadyDemo, DemoError, NotNew, load
    from starosta.service.tools.demo.marker import LOADED

    backend = backend_for(db)
    where = shown(db)
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("loading the demo archive", total=None)
            counts = load(db, lambda done, total: progress.update(task, completed=done, total=total))
    except AlreadyDemo as exc:
        if exc.state != LOADED:
            raise click.ClickException(
                f"{where} holds a demo load that has not finished (or is running now): when none "
                "runs, delete it (or drop its schema) and run `starosta demo` again") from None
        if not if_empty:
            raise click.ClickException(f"{where} is the demo archive already: nothing loaded "
                                       "(the demo loads only into a new database)") from None
        click.echo(f"{where} is the demo archive: not loading it again")
        _demo_tokens()
        return
    except NotNew as exc:
        if not if_empty:
            raise click.ClickException(
                f"{where} is not a new database ({exc}): the demo, with its public tokens, loads "
                "only into a new SQLite file or an empty PostgreSQL schema; choose another --db") from None
        click.echo(f"{where} is an archive ({exc}), not the demo: loading nothing into it")
        click.echo(f"make yourself a token for it: {me()} token create --name \"YOUR NAME\" "
                   f"--role admin --db {quoted(where)}")
        return
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None
    except ArchiveError as exc:  # a directory, a device, a file that is not SQLite's
        raise click.ClickException(f"cannot load the demo into {where}: {exc}") from None
    except backend.errors as exc:  # a damaged file: never a new one
        raise click.ClickException(f"cannot load the demo into {where}: {exc}") from None
    click.echo(loaded_line(counts))
    _demo_tokens()


def loaded_line(counts: dict[str, int]) -> str:
    """What the demo counted, said: the archive's lines per op, then the claims the log holds
    (the claim lines and the name claim each registration submits) by review outcome."""
    from starosta.service.tools.demo.load import (APPROVED, DISPUTED, NAME_CLAIMS, PENDING,
                                                   TALLIES)

    ops = ", ".join(f"{n} {op}s" for op, n in counts.items() if op not in TALLIES)
    names, claims = counts.get(NAME_CLAIMS, 0), counts.get("claim", 0)
    return (f"demo archive loaded: {ops} (lines of the archive); the log holds {claims + names} "
            f"claims: the {claims} claim lines and the {names} name claims the registrations "
            f"submitted; {counts.get(APPROVED, 0)} approved, {counts.get(DISPUTED, 0)} approved "
            f"then contested (disputed), {counts.get(PENDING, 0)} left pending. `starosta "
            "publish` counts the public ones still in force (approved or disputed, not "
            "superseded, deprecated or suppressed)")


def _demo_tokens() -> None:
    from starosta.service.tools.demo.load import DEMO_TOKENS

    click.echo("demo tokens (public: this demo archive only, served on loopback only):")
    for role, (name, token) in DEMO_TOKENS.items():
        click.echo(f"  {role:<12} {token}  ({name})")

