"""Logging: a rotating file in the data dir with structured fields, and redaction everywhere.

httpx logs full URLs (query strings included) at INFO and httpcore logs headers at DEBUG
(reliability.md L2); both default to WARNING, and every handler carries the redaction filter.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import sys
from pathlib import Path

from app.core.redact import one_line, redact
from app.store.private import tighten

FIELDS = ("post", "target", "platform", "attempt", "kind")


class RedactingFilter(logging.Filter):
    """Renders the message once, scrubs secrets and line breaks, and appends structured fields.

    Every handler carries a filter and all of them see the same record: the record is marked once
    rendered, so the second handler does not append the fields again ("post=1 post=1")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_outpost_rendered", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        extras = " ".join(f"{f}={getattr(record, f)}" for f in FIELDS if getattr(record, f, None) is not None)
        text = redact(one_line(message))
        record.msg = f"{text} {extras}".rstrip()
        record.args = ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        record._outpost_rendered = True
        return True


_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every log file it opens, the first and each one after a rollover, is owner-only (0600)."""

    def _open(self) -> io.TextIOWrapper:
        stream = super()._open()
        tighten(Path(self.baseFilename))
        return stream


def setup_logging(log_dir: Path | None, *, stderr: bool = False, level: int = logging.INFO) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_outpost", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(min(level, root.level) if root.handlers else level)
    redactor = RedactingFilter()
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        fh = PrivateRotatingFileHandler(log_dir / "outpost.log", maxBytes=2_000_000, backupCount=5,
                                                  encoding="utf-8", delay=True)
        fh.setFormatter(logging.Formatter(_FORMAT))
        fh.addFilter(redactor)
        fh.setLevel(level)
        fh._outpost = True  # type: ignore[attr-defined]
        root.addHandler(fh)
    if stderr:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(logging.Formatter(_FORMAT))
        sh.addFilter(redactor)
        sh.setLevel(level)
        sh._outpost = True  # type: ignore[attr-defined]
        root.addHandler(sh)
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def set_log_level(level: int) -> None:
    """Log at `level` from now on: the root logger and Outpost's own handlers (file and stderr) alike.

    Setting only the root logger's level is not enough: each handler drops records below its own."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        if getattr(handler, "_outpost", False):
            handler.setLevel(level)


def install_redaction_on_all_handlers() -> None:
    """Add the filter to handlers others installed (pytest's caplog, Qt message handlers)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
