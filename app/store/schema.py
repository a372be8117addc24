"""Tables. Instants are stored in UTC and read back aware; JSON columns hold small documents.

No column ever holds a secret: tokens live in the OS keyring (app.auth.secrets).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC text that sorts."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; every datetime must be aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base for every Outpost table."""


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    server: Mapped[str] = mapped_column(String(300), default="")  # PDS or instance URL
    status: Mapped[str] = mapped_column(String(20), default="active")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # limits, options; never secrets
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    __table_args__ = (Index("ix_account_platform_handle", "platform", "handle"),)


class ImportBatch(Base):
    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_name: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    imported_count: Mapped[int] = mapped_column(Integer, default=0)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Post(Base):
    __tablename__ = "post"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    media: Mapped[list[Any]] = mapped_column(JSON, default=list)
    first_comment: Mapped[str] = mapped_column(Text, default="")
    thread: Mapped[list[Any]] = mapped_column(JSON, default=list)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # str(account id) -> text
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # roll-up of the targets
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    recurrence: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    series_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    anchor_local: Mapped[str | None] = mapped_column(String(32), nullable=True)  # series wall-clock start
    occurrence_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    import_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batch.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, onupdate=_now)

    targets: Mapped[list[Target]] = relationship(
        back_populates="post", cascade="all, delete-orphan", passive_deletes=True, order_by="Target.id"
    )

    __table_args__ = (
        UniqueConstraint("series_id", "occurrence_key", name="uq_post_series_occurrence"),
        Index("ix_post_scheduled_at", "scheduled_at"),
        Index("ix_post_status", "status"),
    )


class Target(Base):
    """One post on one account."""

    __tablename__ = "target"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # next attempt time
    external_id: Mapped[str] = mapped_column(String(300), default="")
    external_url: Mapped[str] = mapped_column(String(1000), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_kind: Mapped[str] = mapped_column(String(20), default="")
    natively_scheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    checkpoints: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, onupdate=_now)

    post: Mapped[Post] = relationship(back_populates="targets")
    account: Mapped[Account] = relationship()
    attempt_rows: Mapped[list[Attempt]] = relationship(
        back_populates="target", cascade="all, delete-orphan", passive_deletes=True, order_by="Attempt.id"
    )

    __table_args__ = (Index("ix_target_status_due", "status", "due_at"), Index("ix_target_post", "post_id"))


class Attempt(Base):
    """The journal: committed before every platform call, completed after it (reliability.md P1)."""

    __tablename__ = "attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str] = mapped_column(String(20), default="in_flight")
    idempotency_key: Mapped[str] = mapped_column(String(64))
    payload_hash: Mapped[str] = mapped_column(String(64), default="")
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    error_kind: Mapped[str] = mapped_column(String(20), default="")
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    steps: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # An unknown outcome the platform could not be asked about yet: when Outpost checks it again,
    # and how many checks it has had (app/engine/retry_policy.py).
    recheck_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checks: Mapped[int] = mapped_column(Integer, default=0)

    target: Mapped[Target] = relationship(back_populates="attempt_rows")

    __table_args__ = (Index("ix_attempt_target", "target_id"), Index("ix_attempt_outcome", "outcome"),
                      Index("ix_attempt_recheck", "recheck_at"))


class Event(Base):
    """What happened, in words the activity view shows."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    level: Mapped[str] = mapped_column(String(10), default="info")
    kind: Mapped[str] = mapped_column(String(40), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    post_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    platform: Mapped[str] = mapped_column(String(20), default="")

    __table_args__ = (Index("ix_event_at", "at"),)


class Setting(Base):
    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="null")

    def get(self) -> Any:
        return json.loads(self.value)
