"""Alembic migrations. HEAD names the newest revision, so start-up can skip importing alembic
when a database is already current (tests/store keeps it equal to the ladder's head)."""

HEAD = "0002"
