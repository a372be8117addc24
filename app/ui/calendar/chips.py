"""How one post looks on the calendar: a chip with time, platform glyphs, first words and status."""

from __future__ import annotations

from datetime import tzinfo
from html import escape

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPen

from app.core.models import PostStatus
from app.store.views import PostView
from app.ui import icons, theme
from app.ui.calendar.timeline import first_words, local_wall

CHIP_HEIGHT = 20
ICON = 12


def chip_font(base: QFont) -> QFont:
    f = QFont(base)
    f.setPointSizeF(max(7.5, base.pointSizeF() - 1))
    return f


def paint_chip(
    painter: QPainter,
    rect: QRectF,
    post: PostView,
    tz: tzinfo,
    palette: QPalette,
    font: QFont,
    *,
    selected: bool = False,
    ghost: bool = False,
    refused: bool = False,
    show_time: bool = True,
    wrap: bool = False,
) -> None:
    """Paint `post` into `rect`. A ghost is the translucent copy that follows a drag."""
    colors = theme.chip_colors(post.status, palette)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if ghost:
        painter.setOpacity(0.78)
    path = QPainterPath()
    path.addRoundedRect(rect, 4, 4)
    background = QColor("#d64545").lighter(170) if refused else colors.background
    painter.fillPath(path, background)
    if selected or ghost:
        pen = QPen(theme.accent(palette) if not refused else QColor("#d64545"), 1.6)
        if ghost:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawPath(path)
    bar = QRectF(rect.left(), rect.top(), 3, rect.height())
    bar_path = QPainterPath()
    bar_path.addRoundedRect(bar.adjusted(0, 0, 1, 0), 1.5, 1.5)
    painter.fillPath(bar_path, colors.bar)
    painter.setFont(font)
    fm = QFontMetrics(font)
    x = rect.left() + 7
    line_h = min(rect.height(), CHIP_HEIGHT)
    text_rect = QRectF(x, rect.top(), rect.right() - x - 4, line_h)
    if show_time and post.scheduled_at is not None:
        stamp = local_wall(post.scheduled_at, tz).strftime("%H:%M")
        bold = QFont(font)
        bold.setWeight(QFont.Weight.DemiBold)
        stamp_font = bold
        if QFontMetrics(bold).horizontalAdvance(stamp) > text_rect.width():  # a narrow chip: never cut a time
            stamp_font = QFont(font)
            while QFontMetrics(stamp_font).horizontalAdvance(stamp) > text_rect.width() and stamp_font.pointSizeF() > 6.5:
                stamp_font.setPointSizeF(stamp_font.pointSizeF() - 0.5)
            small = QFontMetrics(stamp_font)
            if small.horizontalAdvance(stamp) > text_rect.width():
                stamp = small.elidedText(stamp, Qt.TextElideMode.ElideRight, int(text_rect.width()))
        painter.setFont(stamp_font)
        painter.setPen(colors.text)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, stamp)
        x += QFontMetrics(stamp_font).horizontalAdvance(stamp) + 5
        painter.setFont(font)
    if post.natively_scheduled and x + ICON < rect.right() - 4:
        # Handed to the platform's own scheduler: it goes out even if this computer is off.
        icons.icon("globe", colors.text).paint(painter, QRectF(x, rect.top() + (line_h - ICON) / 2, ICON, ICON).toRect())
        x += ICON + 3
    # Narrow chips keep room for the words: fewer glyphs, or none.
    glyphs = 3 if rect.width() >= 150 else 1 if rect.width() >= 110 else 0
    for platform in post.platforms[:glyphs]:
        if x + ICON > rect.right() - 4:
            break
        icons.paint_platform(painter, platform, QRectF(x, rect.top() + (line_h - ICON) / 2, ICON, ICON))
        x += ICON + 2
    if glyphs and len(post.platforms) > glyphs:
        more = f"+{len(post.platforms) - glyphs}"
        painter.setPen(theme.muted_text(palette))
        painter.drawText(QRectF(x, rect.top(), 24, line_h), Qt.AlignmentFlag.AlignVCenter, more)
        x += fm.horizontalAdvance(more) + 2
    x += 3
    painter.setPen(colors.text)
    words = first_words(post.text or post.title or "(no text)", 200)
    if wrap and rect.height() >= 2 * line_h - 4:
        # Two lines (week view): time and platforms above, the first words below.
        body = QRectF(rect.left() + 7, rect.top() + line_h - 3, rect.width() - 11, line_h)
        if post.status is not PostStatus.SCHEDULED and x < rect.right() - 30:
            painter.setPen(colors.bar)
            head = QRectF(x, rect.top(), rect.right() - x - 4, line_h)
            painter.drawText(head, Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(_status_word(post), Qt.TextElideMode.ElideRight, int(head.width())))
        painter.setPen(colors.text)
        painter.drawText(body, Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(words, Qt.TextElideMode.ElideRight, int(body.width())))
    else:
        avail = int(rect.right() - x - 4)
        if avail > 8:
            if post.status is PostStatus.CANCELLED:
                f = QFont(font)
                f.setStrikeOut(True)
                painter.setFont(f)
            painter.drawText(
                QRectF(x, rect.top(), avail, line_h),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                fm.elidedText(words, Qt.TextElideMode.ElideRight, avail),
            )
    painter.restore()


def _status_word(post: PostView) -> str:
    return "" if post.status is PostStatus.SCHEDULED else theme.STATUS_LABELS[post.status]


def tooltip_html(post: PostView, tz: tzinfo) -> str:
    """The full text, where it goes, its status and any error, for the chip's tooltip."""
    when = local_wall(post.scheduled_at, tz).strftime("%a %d %b %Y, %H:%M") if post.scheduled_at else "No date"
    status = theme.STATUS_LABELS[post.status]
    color = theme.status_color(post.status).name()
    where = ", ".join(t.account_label for t in post.targets) or "No account"
    parts = [
        f"<div style='max-width:360px'><b>{escape(when)}</b> · <span style='color:{color}'><b>{status}</b></span>",
        f"<div style='margin-top:4px'>{escape(post.text or post.title or '(no text)').replace(chr(10), '<br>')}</div>",
        f"<div style='margin-top:6px;color:gray'>{escape(where)}</div>",
    ]
    handed = sorted({t.platform.label for t in post.targets if t.natively_scheduled})
    if handed:
        parts.append(f"<div style='margin-top:4px'>🌐 With {escape(' and '.join(handed))}'s own scheduler: "
                     "it will publish even if this computer is off.</div>")
    for error in post.errors:
        parts.append(f"<div style='margin-top:4px;color:#d64545'>⚠ {escape(error)}</div>")
    parts.append("</div>")
    return "".join(parts)
