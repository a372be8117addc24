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


def test_take_back_asks_first_then_makes_the_handed_off_post_a_draft(qtbot, window, runtime) -> None:
    from PySide6.QtWidgets import QPushButton

    from app.store.schema import Target
    from tests.ui.conftest import at_local, local_today, make_post, timedelta

    account = runtime.planner.add_account(Platform.MASTODON, "@me@example.social", server="https://example.social")
    post_id = make_post(runtime, at_local(local_today() + timedelta(days=3), 10), "with Mastodon",
                        account_ids=(account.id,))
    with runtime.db.write() as s:  # as the engine leaves it after a handoff
        target = s.query(Target).filter_by(post_id=post_id).one()
        target.natively_scheduled, target.external_id = True, "scheduled:77"
    window.reload()
    window._selection_changed([post_id])
    back = [b for b in window.details.findChildren(QPushButton) if b.text() == "Take back…"]
    assert len(back) == 1 and back[0].isVisible()
    details = window.details  # actions that would be refused are not offered while it is handed off
    assert not details.cancel_button.isVisible() and not details.delete_button.isVisible()
    assert not details.edit_button.isVisible() and details.duplicate_button.isVisible()
    back[0].click()
    box = window._take_back_box
    assert "Delete it on Mastodon first" in box.text()
    box.button(box.StandardButton.Cancel).click()  # not deleted there yet: nothing changes
    assert runtime.planner.post(post_id).targets[0].natively_scheduled
    back = [b for b in window.details.findChildren(QPushButton) if b.text() == "Take back…"]
    back[0].click()
    box = window._take_back_box
    next(b for b in box.buttons() if b.text() == "I deleted it: take it back").click()
    view = runtime.planner.post(post_id)
    assert view.status is PostStatus.DRAFT and not view.natively_scheduled and view.targets[0].external_id == ""
    qtbot.waitUntil(lambda: details.delete_button.isVisible())
    assert details.delete_button.isVisible() and details.edit_button.isVisible()  # its own again
