"""The README cannot fall behind: every CLI command and every route is mentioned in it; the
newcomer's section says where `starosta` is, what CI runs and how long the tests take; the
production paths never go through `make run` (the demo's command); the packaging metadata is
what setuptools keeps accepting."""

from __future__ import annotations

import re
import tomllib

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


def section(title: str) -> str:
    """The README's `## title` section, up to the next `## `."""
    assert f"\n## {title}\n" in README, title
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def fenced(markdown: str) -> list[str]:
    """The fenced code blocks of a markdown text (indented ones too)."""
    return re.findall(r"```[a-z]*\n(.*?)```", markdown, re.S)


def test_the_two_commands_say_where_starosta_is_what_ci_runs_and_how_long() -> None:
    two = section("Two commands")
    assert ".venv/bin/starosta" in two and ". .venv/bin/activate" in two
    assert re.search(r"make test .*about \d+ minutes", two), "how long make test takes"
    assert "what CI runs" not in two  # it is not: CI runs .ci/run, which does more
    for what in (".ci/run", "apt-get install postgresql", "STAROSTA_SEEDS", "STAROSTA_API_MD"):
        assert what in two, what
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "STAROSTA_SEEDS" in ci and "STAROSTA_API_MD" in ci and "postgresql" in ci
    assert ci.rstrip().endswith("make test")


def test_the_production_paths_never_run_make_run() -> None:
    """Operations, Running it for real and PostgreSQL's production roles make the archive with
    migrate and token create and serve it with serve: the demo and its public tokens never."""
    postgres = section("PostgreSQL: several servers, a read replica").split("In production", 1)
    production = [section("Operations"), section("Running it for real"), postgres[1]]
    for text in production:
        code = "\n".join(fenced(text))
        assert "make run" not in code and "starosta demo" not in code, code
        steps = [m.group(1) for m in re.finditer(r"starosta (migrate|token create|serve)\b", code)]
        assert steps and steps[:1] == ["migrate"] and "token create" in steps, steps
    (first, *_) = fenced(section("Operations"))
    lines = [line.split("#")[0].split() for line in first.splitlines() if line.strip()]
    assert [words[:2] for words in lines] == [["starosta", "migrate"], ["starosta", "token"],
                                             ["starosta", "serve"]]


def test_the_licence_is_an_spdx_expression_setuptools_accepts() -> None:
    """setuptools deprecates `license = {text = ...}` (unsupported from 2027-02-18); an SPDX
    string needs setuptools 77 or newer at build time."""
    from packaging.licenses import canonicalize_license_expression

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    license = project["project"]["license"]
    assert isinstance(license, str) and canonicalize_license_expression(license) == license
    (setuptools,) = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    floor = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", setuptools.replace(" ", ""))
    assert floor and int(floor.group(1)) >= 77, setuptools
