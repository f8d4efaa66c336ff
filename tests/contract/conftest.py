"""The contract tests' shared fixtures: the throwaway PostgreSQL cluster of tests/postgres.py
(started once per session, only when a PostgreSQL test asks for it)."""

from tests.postgres import postgres_cluster  # noqa: F401  (a fixture, found by name)
