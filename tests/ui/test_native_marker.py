"""Posts handed to a platform's own scheduler are marked on the calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QImage, QPainter, QPalette

from app.core.models import Platform, PostStatus, TargetStatus
from app.store.views import PostView, TargetView
from app.ui.calendar.chips import paint_chip, tooltip_html


def _post(native: bool) -> PostView:
    when = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    target = TargetView(id=1, post_id=1, account_id=1, platform=Platform.MASTODON, account_label="me · Mastodon",
                        status=TargetStatus.SCHEDULED, scheduled_at=when, due_at=when, external_id="", external_url="",
                        attempts=0, last_error="", natively_scheduled=native)
    return PostView(id=1, status=PostStatus.SCHEDULED, text="while I sleep", scheduled_at=when, timezone="UTC",
                    media=(), first_comment="", thread=(), recurrence=None, overrides={}, targets=(target,))


def _render(post: PostView) -> QImage:
    image = QImage(220, 20, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    paint_chip(painter, QRectF(0, 0, 220, 20), post, ZoneInfo("UTC"), QPalette(), QFont())
    painter.end()
    return image


def test_the_tooltip_says_a_handed_off_post_goes_out_while_the_computer_is_off(qapp):
    assert "even if this computer is off" in tooltip_html(_post(True), ZoneInfo("UTC"))
    assert "even if this computer is off" not in tooltip_html(_post(False), ZoneInfo("UTC"))


def test_the_chip_of_a_handed_off_post_carries_a_marker(qapp):
    assert _render(_post(True)) != _render(_post(False))
