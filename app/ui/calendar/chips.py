"""How one post looks on the calendar: a chip with time, platform glyphs, first words and status.

A coming occurrence of a series (a Repeat, not stored yet) is lighter, with a dashed edge; every
post of a repeating series carries the repeat glyph, and a post with attachments the picture glyph
(or, where a chip has room, the picture itself).
"""

from __future__ import annotations

from datetime import tzinfo
from html import escape
from typing import NamedTuple

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap

from app.core.models import PostStatus
from app.engine.repeat import is_repeat, repeats_live
from app.store.views import PostView
from app.ui import icons, theme
from app.ui.calendar.glyphs import paint_glyph
from app.ui.calendar.timeline import first_words, local_wall

CHIP_HEIGHT = 20
ICON = 12


def chip_font(base: QFont) -> QFont:
    """The chips' font for a view's font; the same object every paint, so its metrics are kept."""
    key = base.key()
    f = _CHIP_FONTS.get(key)
    if f is None:
        f = _CHIP_FONTS[key] = QFont(base)
        f.setPointSizeF(max(7.5, base.pointSizeF() - 1))
    return f


_CHIP_FONTS: dict[str, QFont] = {}


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
) -> str:
    """Paint `post` into `rect`; returns the words shown (elided). A ghost is the translucent
    copy that follows a drag."""
    repeat = is_repeat(post)
    look = _look(post.status, repeat, palette)
    painter.save()
    if ghost or refused:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if ghost:
            painter.setOpacity(0.78)
        _paint_body(painter, rect, look, repeat, QColor("#d64545") if refused else theme.accent(palette), True,
                    ghost, QColor("#d64545").lighter(170) if refused else None)
    else:
        # The rounded body is the same for most chips of a page: drawn once per look and size, then copied.
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        shape = _body(look, repeat, selected, round(rect.width()), round(rect.height()), ratio,
                     theme.accent(palette).rgba() if selected else 0)
        painter.drawPixmap(QPointF(round(rect.left()), round(rect.top())), shape)
    text_color = look.text
    painter.setFont(font)
    fm = _metrics(font)
    x = rect.left() + 7
    line_h = min(rect.height(), CHIP_HEIGHT)
    two_lines = wrap and rect.height() >= 2 * line_h - 4
    right = rect.right() - 4
    if two_lines and post.media and rect.width() >= 96:
        # Room for the picture itself at the chip's right end, over both lines.
        from app.ui.calendar.thumbs import paint_media  # with the first post that has a picture

        side = min(rect.height() - 6, 32.0)
        if paint_media(painter, QRectF(right - side, rect.top() + 3, side, side), post, text_color, picture=True):
            right -= side + 4
    text_rect = QRectF(x, rect.top(), right - x, line_h)
    # A narrow one-line chip (a month cell at 1024 px) keeps its room for the words: a short
    # time (9:05), and only the picture glyph; the dashed edge still marks a repeat.
    compact = not two_lines and rect.width() < 130
    if show_time and post.scheduled_at is not None:
        wall = local_wall(post.scheduled_at, tz)
        stamp = f"{wall.hour}:{wall.minute:02d}" if compact else f"{wall.hour:02d}:{wall.minute:02d}"
        bold = _bold(font)
        stamp_font = bold
        if _metrics(bold).horizontalAdvance(stamp) > text_rect.width():  # a narrow chip: never cut a time
            stamp_font = QFont(font)
            while QFontMetrics(stamp_font).horizontalAdvance(stamp) > text_rect.width() and stamp_font.pointSizeF() > 6.5:
                stamp_font.setPointSizeF(stamp_font.pointSizeF() - 0.5)
            small = QFontMetrics(stamp_font)
            if small.horizontalAdvance(stamp) > text_rect.width():
                stamp = small.elidedText(stamp, Qt.TextElideMode.ElideRight, int(text_rect.width()))
        painter.setFont(stamp_font)
        painter.setPen(text_color)
        stamp_metrics = _metrics(stamp_font)
        painter.drawText(QPointF(x, _baseline(rect.top(), line_h, stamp_metrics)), stamp)
        x += stamp_metrics.horizontalAdvance(stamp) + 4
        painter.setFont(font)
    glyph_y = rect.top() + (line_h - ICON) / 2
    if repeats_live(post) and not compact and x + ICON < right:
        paint_glyph(painter, "repeat", QRectF(x, glyph_y, ICON, ICON), text_color)
        x += ICON + 3
    if post.natively_scheduled and not compact and x + ICON < right:
        # Handed to the platform's own scheduler: it goes out even if this computer is off.
        paint_glyph(painter, "globe", QRectF(x, glyph_y, ICON, ICON), text_color)
        x += ICON + 3
    if post.media and not two_lines and x + ICON < right:
        from app.ui.calendar.thumbs import paint_media

        side = ICON - 2 if compact else ICON
        paint_media(painter, QRectF(x, rect.top() + (line_h - side) / 2, side, side), post, text_color, picture=False)
        x += side + 3
    # Narrow chips keep room for the words: fewer platform glyphs, or none.
    wide, one = (150, 110) if two_lines else (170, 140)
    glyphs = 3 if rect.width() >= wide else 1 if rect.width() >= one else 0
    for platform in post.platforms[:glyphs]:
        if x + ICON > right:
            break
        icons.paint_platform(painter, platform, QRectF(x, rect.top() + (line_h - ICON) / 2, ICON, ICON))
        x += ICON + 2
    if glyphs and len(post.platforms) > glyphs:
        more = f"+{len(post.platforms) - glyphs}"
        painter.setPen(theme.muted_text(palette))
        painter.drawText(QRectF(x, rect.top(), 24, line_h), Qt.AlignmentFlag.AlignVCenter, more)
        x += fm.horizontalAdvance(more) + 2
    x += 2
    painter.setPen(text_color)
    words = first_words(post.text or post.title or "(no text)", 200)
    if two_lines:
        # Two lines (week view): time and platforms above, the first words below.
        body = QRectF(rect.left() + 7, rect.top() + line_h - 3, right - rect.left() - 7, line_h)
        if post.status is not PostStatus.SCHEDULED and x < right - 26:
            painter.setPen(look.bar)
            head = QRectF(x, rect.top(), right - x, line_h)
            painter.drawText(head, Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(_status_word(post), Qt.TextElideMode.ElideRight, int(head.width())))
        painter.setPen(text_color)
        shown = fm.elidedText(words, Qt.TextElideMode.ElideRight, int(body.width()))
        painter.drawText(QPointF(body.left(), _baseline(body.top(), line_h, fm)), shown)
    else:
        avail = int(right - x)
        shown = ""
        if avail > 8:
            if post.status is PostStatus.CANCELLED:
                f = QFont(font)
                f.setStrikeOut(True)
                painter.setFont(f)
            shown = fm.elidedText(words, Qt.TextElideMode.ElideRight, avail)
            painter.drawText(QPointF(x, _baseline(rect.top(), line_h, fm)), shown)
    painter.restore()
    return shown


class _Look(NamedTuple):
    background: QColor
    text: QColor
    bar: QColor
    edge: QPen


_LOOKS: dict[tuple[PostStatus, bool, int, int], _Look] = {}
_FONTS: dict[int, tuple[QFont, QFont, QFontMetrics]] = {}  # by id(font): the font (kept), its bold, metrics


def _look(status: PostStatus, repeat: bool, palette: QPalette) -> _Look:
    """A chip's colours, worked out once per status and palette (a month paints 200 chips)."""
    base = palette.color(QPalette.ColorRole.Base)
    key = (status, repeat, base.rgb(), palette.color(QPalette.ColorRole.Text).rgb())
    look = _LOOKS.get(key)
    if look is None:
        c = theme.chip_colors(status, palette)
        if repeat:
            look = _Look(theme.mix(base, c.background, 0.45), theme.mix(c.text, base, 0.3),
                         theme.mix(base, c.bar, 0.5), QPen(c.border, 1.0, Qt.PenStyle.DashLine))
        else:
            look = _Look(c.background, c.text, c.bar, QPen(c.border))
        look = _LOOKS[key] = look
    return look


def _fonts(font: QFont) -> tuple[QFont, QFont, QFontMetrics]:
    entry = _FONTS.get(id(font))
    if entry is None or entry[0] is not font:
        if len(_FONTS) > 64:
            _FONTS.clear()
        bold = QFont(font)
        bold.setWeight(QFont.Weight.DemiBold)
        entry = _FONTS[id(font)] = (font, bold, QFontMetrics(font))
    return entry


def _bold(font: QFont) -> QFont:
    return _fonts(font)[1]


def _metrics(font: QFont) -> QFontMetrics:
    return _fonts(font)[2]


def _baseline(top: float, height: float, metrics: QFontMetrics) -> float:
    """The baseline that centres a line of `metrics`' font in a row (as AlignVCenter would)."""
    return top + (height - metrics.height()) / 2 + metrics.ascent()


def _paint_body(painter: QPainter, rect: QRectF, look: _Look, repeat: bool, accent: QColor, outline: bool,
                dashed: bool, fill: QColor | None = None) -> None:
    """The rounded chip with its status bar; a repeat (not stored yet) is lighter with a dashed edge."""
    painter.setBrush(fill or look.background)
    if outline:
        pen = QPen(accent, 1.6)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
    elif repeat:
        painter.setPen(look.edge)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5) if repeat or outline else rect, 4, 4)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(look.bar)
    painter.drawRoundedRect(QRectF(rect.left(), rect.top(), 4, rect.height()), 1.5, 1.5)
    painter.setBrush(Qt.BrushStyle.NoBrush)


_BODIES: dict[tuple[object, ...], QPixmap] = {}


def _body(look: _Look, repeat: bool, selected: bool, width: int, height: int, ratio: float, accent: int) -> QPixmap:
    key = (id(look), repeat, selected, width, height, ratio, accent)
    pm = _BODIES.get(key)
    if pm is None:
        if len(_BODIES) > 256:
            _BODIES.clear()
        pm = QPixmap(max(1, round(width * ratio)), max(1, round(height * ratio)))
        pm.setDevicePixelRatio(ratio)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        _paint_body(p, QRectF(0, 0, width, height), look, repeat, QColor.fromRgba(accent), selected, False)
        p.end()
        _BODIES[key] = pm
    return pm


def _status_word(post: PostView) -> str:
    return "" if post.status is PostStatus.SCHEDULED else theme.STATUS_LABELS[post.status]


def tooltip_html(post: PostView, tz: tzinfo) -> str:
    """The full text, where it goes, its status and any error, for the chip's tooltip."""
    when = local_wall(post.scheduled_at, tz).strftime("%a %d %b %Y, %H:%M") if post.scheduled_at else "No date"
    status = theme.STATUS_LABELS[post.status]
    color = theme.status_color(post.status).name()
    where = ", ".join(t.account_label for t in post.targets) or "No account"
    if is_repeat(post):
        status = "Repeat (not saved yet)"
    parts = [
        f"<div style='max-width:360px'><b>{escape(when)}</b> · <span style='color:{color}'><b>{status}</b></span>",
        f"<div style='margin-top:4px'>{escape(post.text or post.title or '(no text)').replace(chr(10), '<br>')}</div>",
        f"<div style='margin-top:6px;color:gray'>{escape(where)}</div>",
    ]
    if repeats_live(post) and post.recurrence:
        from app.core.recurrence import Recurrence

        parts.append(f"<div style='margin-top:4px'>↻ {escape(Recurrence.from_dict(post.recurrence).describe())}"
                     " · double-click to change one, the following or all</div>")
    if post.media:
        kinds = ", ".join(dict.fromkeys(m.kind.value for m in post.media))
        parts.append(f"<div style='margin-top:4px'>▣ {len(post.media)} attachment"
                     f"{'s' if len(post.media) != 1 else ''} ({escape(kinds)})</div>")
    handed = sorted({t.platform.label for t in post.targets if t.natively_scheduled})
    if handed:
        parts.append(f"<div style='margin-top:4px'>🌐 With {escape(' and '.join(handed))}'s own scheduler: "
                     "it will publish even if this computer is off.</div>")
    for error in post.errors:
        parts.append(f"<div style='margin-top:4px;color:#d64545'>⚠ {escape(error)}</div>")
    parts.append("</div>")
    return "".join(parts)
