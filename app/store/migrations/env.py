"""Alembic environment: always runs on the connection Outpost hands over (pragmas already set)."""

from __future__ import annotations

from alembic import context

from app.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - Outpost always passes its own connection
    raise RuntimeError("Outpost migrations run through app.store.migrate, not the alembic command")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
