"""What a chip and an agenda row show: the first words at 1024 px, and a post's picture."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QPoint, QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from app.core.models import MediaItem, MediaKind, PostSpec
from app.ui.calendar.chips import chip_font, paint_chip
from app.ui.calendar.thumbs import thumbnails
from tests.ui.conftest import ZONE, at_local, local_today, make_post

ORANGE = QColor("#c8763a")


def _picture(tmp_path: Path) -> Path:
    image = QImage(300, 200, QImage.Format.Format_RGB32)
    image.fill(ORANGE)
    path = tmp_path / "kiln.png"
    assert image.save(str(path))
    return path


def _post_with_picture(runtime, tmp_path: Path, day) -> int:  # type: ignore[no-untyped-def]
    account = runtime.planner.default_account_id()
    return runtime.planner.create_post(PostSpec("Kiln opening: fresh glaze tests", (account,), at_local(day, 18, 30),
                                                ZONE, media=(MediaItem(str(_picture(tmp_path)), MediaKind.IMAGE),)))


def _close(a: QColor, b: QColor) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < 40


def _chip_image(view, post, rect: QRectF) -> tuple[QImage, str]:  # type: ignore[no-untyped-def]
    image = QImage(int(rect.width()) + 2, int(rect.height()) + 2, QImage.Format.Format_ARGB32)
    image.fill(view.palette().base().color())
    painter = QPainter(image)
    shown = paint_chip(painter, QRectF(1, 1, rect.width(), rect.height()), post, view.tz, view.palette(),
                       chip_font(view.font()))
    painter.end()
    return image, shown


def test_a_month_chip_at_1024_px_shows_the_first_words_not_three_letters(qtbot, window, runtime) -> None:
    window.resize(1024, 700)
    post_id = make_post(runtime, at_local(local_today() + timedelta(days=1), 10), "Daily tip: wedge your clay")
    window.set_view("month")
    window.month.set_cursor(local_today())
    window.reload()
    rect = window.month.chip_rect(post_id)
    assert rect is not None and rect.width() < 130  # a narrow cell, as at 1024 px
    _image, shown = _chip_image(window.month, window.month.by_id[post_id], rect)
    assert len(shown.rstrip("…").strip()) >= 8, shown


def test_chips_and_agenda_rows_show_that_a_post_has_a_picture(qtbot, window, runtime, tmp_path) -> None:
    day = local_today() + timedelta(days=2)
    post_id = _post_with_picture(runtime, tmp_path, day)
    window.set_view("month")
    window.month.set_cursor(day)
    window.reload()
    post = window.month.by_id[post_id]
    rect = window.month.chip_rect(post_id)
    assert rect is not None
    with_glyph, _ = _chip_image(window.month, post, rect)
    without, _ = _chip_image(window.month, replace(post, media=()), rect)
    assert with_glyph != without  # the month chip carries the picture glyph

    window.set_view("agenda")
    window.agenda.set_cursor(local_today())
    window.reload()
    source = post.media[0].source
    qtbot.waitUntil(lambda: thumbnails().get(post.media[0]) is not None)
    row = window.agenda.list.post_rect(post_id)
    assert row is not None
    shot = window.agenda.list.viewport().grab().toImage()
    ratio = shot.devicePixelRatio()
    point = QPoint(int((row.right() - 36) * ratio), int(row.center().y() * ratio))
    assert _close(shot.pixelColor(point), ORANGE), f"no picture of {source} at the row's end"
