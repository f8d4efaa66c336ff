"""The README cannot fall behind: every CLI command and every route is mentioned in it."""

from __future__ import annotations

import click
from litestar.testing import TestClient

from starosta.service.cli import main
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text("utf-8")


def test_every_cli_command_is_in_the_readme_and_has_an_example() -> None:
    for name, command in main.commands.items():
        assert f"starosta {name}" in README, f"README does not mention `starosta {name}`"
        assert "Example:" in (command.help or ""), f"`starosta {name} --help` has no example"
        if isinstance(command, click.Group):
            for sub, subcommand in command.commands.items():
                assert f"starosta {name} {sub}" in README
                assert "Example:" in (subcommand.help or ""), f"`starosta {name} {sub} --help` has no example"


def test_every_route_is_in_the_readme(client: TestClient) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for method in operations:
            mention = f"`{method.upper()} {path}"
            assert mention in README, f"README does not mention {mention}`"
