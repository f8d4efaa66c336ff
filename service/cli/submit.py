"""`starosta submit`: claims from a CSV or JSON Lines file, through the HTTP API."""

from __future__ import annotations

import sys

import click


@click.command("submit")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--server", envvar="STAROSTA_SERVER", required=True, help="The API's base URL (env STAROSTA_SERVER).")
@click.option("--token", envvar="STAROSTA_TOKEN", default=None, help="A contributor's token (env STAROSTA_TOKEN).")
@click.option("--kind", default=None, help="The claims' kind, when the CSV has no `kind` column.")
@click.option("--dry-run", is_flag=True, help="Check every row (labels resolved), submit nothing.")
@click.option("--report", type=click.Path(dir_okay=False), default=None,
              help="Write the report here: CSV, or JSON Lines for .jsonl (row, status, claim id or the error with its field).")
def submit_command(file: str, server: str, token: str | None, kind: str | None, dry_run: bool,
                   report: str | None) -> None:
    """Submit claims from a CSV file (one kind per file, a column per field) or JSON Lines.

    Every row is checked first (labels of persons, places, organisations and funds resolved
    through the search endpoints, types, dates); --dry-run stops there. Then the valid rows
    are submitted through the API, with a progress bar. Exits 1 when a row failed. Run it
    again after a failure: a row sent before is not sent twice (its Idempotency-Key comes
    from its kind and its canonical body), and rows edited since the last --report are
    flagged. The README's "Bulk submission" gives the CSV mapping.

    \b
    Example:
      starosta submit custody.csv --kind custody --server http://127.0.0.1:8000 --token demo-contributor-token --report custody.report.csv
    """
    from starosta.service.tools.submit import run_in_terminal, summary

    from starosta.client import StarostaError

    try:
        outcome = run_in_terminal(server, token, file, kind=kind, dry_run=dry_run, report=report)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise click.ClickException(f"cannot read {file}: {exc}") from None
    except StarostaError as exc:
        raise click.ClickException(f"{server}: {exc}") from None
    problems, text = summary(outcome, dry_run)
    for line in problems:
        click.echo(line, err=True)
    click.echo(text)
    if not outcome.ok:
        sys.exit(1)

