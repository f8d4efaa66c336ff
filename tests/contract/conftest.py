"""The contract tests' fixtures come from tests/conftest.py (the throwaway PostgreSQL cluster
of tests/postgres.py, started once per session, only when a PostgreSQL test asks for it)."""
