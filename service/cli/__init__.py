"""The `starosta` command: a click group of thin command modules over library functions
(service.db, service.backends, service.tools.transfer, service.tools.publish...), one module per area.

The group itself ends every database error no command caught (a PostgreSQL server unreachable,
a role refused, a malformed URL, a damaged SQLite file) in one line, never a traceback, and
scrubs every error's message of the secrets of the database URLs the command was given.
"""

from __future__ import annotations

import os

import click
from starosta.service.cli.common import existing_db as _existing_db  # noqa: F401 (tests)


class _Commands(click.Group):
    """The command group: a database error no command caught ends in one line; every error's
    message is scrubbed of the secrets of the command's database URLs (backends.scrubbed)."""

    def invoke(self, ctx: click.Context):
        from starosta.migrations import MigrationError
        from starosta.service.backends import ArchiveError, driver_error, scrubbed

        urls = _urls_of(ctx)
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:  # one line, whatever a driver's message held
            # click declares `message` final; its own errors (usage ones too) keep their class
            # and exit code, with the text made one line and any URL's password hidden
            setattr(exc, "message", scrubbed(" ".join(exc.message.split()), *urls))  # noqa: B010
            raise
        except (ArchiveError, MigrationError) as exc:  # a backend's refusal: one line
            raise click.ClickException(scrubbed(" ".join(str(exc).split()), *urls)) from None
        except Exception as exc:
            found = driver_error(exc)
            if found is None:
                raise
            detail = " ".join(str(found).split()) or type(found).__name__
            what = "PostgreSQL" if type(found).__module__.startswith("psycopg") else "the database"
            raise click.ClickException(f"{what}: {scrubbed(detail, *urls)}") from None


def _urls_of(ctx: click.Context) -> list[str]:
    """The database URLs a command may quote in its errors: its arguments' and the
    environment's (STAROSTA_DB, STAROSTA_OWNER_DB, STAROSTA_READ_DB)."""
    args = [*getattr(ctx, "_protected_args", ()), *ctx.args]  # read before Group.invoke empties them
    given = [a.split("=", 1)[-1] if a.startswith("--") else a for a in args]
    return [u for u in (*given, *(os.environ.get(f"STAROSTA_{n}", "") for n in
                                  ("DB", "OWNER_DB", "READ_DB"))) if u]


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """starosta: the sourced records of Soviet political prisoners, exiles and their aid.

    \b
    Example:
      starosta serve --db ./var/starosta.db --port 8000
    """


def _register() -> None:
    from starosta.service.cli import (
        archive,
        demo,
        identity,
        publish,
        serve,
        submit,
        token,
        transfer,
    )

    for command in (serve.serve, archive.migrate, archive.verify, archive.rebuild, demo.demo,
                    transfer.export, transfer.import_command, transfer.synth, archive.backup_command,
                    publish.publish_command, submit.submit_command, identity.identity, token.token):
        main.add_command(command)


_register()

if __name__ == "__main__":
    main()
