"""Errors as values the UI can show: a message a creator understands, plus what to do next."""

from __future__ import annotations

from app.core.models import ErrorKind
from app.core.redact import redact


class OutpostError(Exception):
    """Bad input or a refused action: `str(exc)` is one line that says what to fix."""


class PublishError(Exception):
    """A platform call that did not publish. `kind` decides what the publisher does next.

    Messages are redacted at construction, so a token can never travel inside one.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        self.kind = kind
        self.message = redact(message)
        self.http_status = http_status
        self.retry_after = retry_after
        self.code = code
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"PublishError({self.kind.value}, {self.message!r}, http_status={self.http_status})"


class NotReady(Exception):
    """A multi-step object (container, media job) is still processing."""
