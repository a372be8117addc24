"""When a post goes out: date and time in a named zone, and how it repeats."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from PySide6.QtCore import QDate, QTime, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QTimeEdit,
    QToolButton,
    QWidget,
)

from app.core.recurrence import WEEKDAY_LABELS, WEEKDAY_NAMES, MonthEndPolicy, Recurrence, RepeatKind
from app.core.timeutil import localize
from app.ui.calendar.timeline import local_wall


class TimeField(QTimeEdit):
    """HH:mm that also takes a time typed over a selection of the whole field ("20:00", "2000", "8:30").

    A plain QTimeEdit drops digits typed while more than one section is selected (select-all, then
    type): it cannot fit "2" into "HH:mm". Here typing over such a selection starts again at the hours.
    """

    def keyPressEvent(self, event: QKeyEvent) -> None:
        selected = self.lineEdit().selectedText()
        if event.text().isdigit() and len(selected) > len(self.sectionText(self.currentSection())):
            self.setTime(QTime(self.time().hour(), 0))  # "20" alone means 20:00, not 20 and the old minutes
            self.setCurrentSection(QDateTimeEdit.Section.HourSection)
            self.setSelectedSection(QDateTimeEdit.Section.HourSection)
        super().keyPressEvent(event)


class ScheduleFields(QWidget):
    changed = Signal()

    def __init__(self, tz: tzinfo, tz_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tz = tz
        self.date = QDateEdit()
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("ddd d MMM yyyy")
        self.time = TimeField()
        self.time.setDisplayFormat("HH:mm")
        self.time.setMinimumWidth(80)
        self.date.setMinimumWidth(150)
        self.time.setToolTip("Type the time, or scroll over the hours or minutes")
        self.zone = QLabel(tz_name)
        self.zone.setProperty("role", "muted")
        self.zone.setToolTip("Times are in this zone. Change it in Settings.")
        self.undated = QCheckBox("No date yet")
        self.undated.setToolTip("Keep it as a draft in the sidebar; drag it onto the calendar later.")
        self.repeat = QComboBox()
        for kind, label in ((RepeatKind.ONCE, "Does not repeat"), (RepeatKind.DAILY, "Every day"),
                            (RepeatKind.WEEKLY, "Every week on…"), (RepeatKind.MONTHLY, "Every month on day…")):
            self.repeat.addItem(label, kind)
        self.weekdays: list[QToolButton] = []
        days = QHBoxLayout()
        days.setSpacing(3)
        for i, name in enumerate(WEEKDAY_NAMES):
            b = QToolButton()
            b.setText(name[:2].title())
            b.setCheckable(True)
            b.setToolTip(WEEKDAY_LABELS[i])
            b.toggled.connect(lambda _on: self.changed.emit())
            b.setProperty("weekday", i)
            self.weekdays.append(b)
            days.addWidget(b)
        for b in self.weekdays:
            b.ensurePolished()  # the style sheet's padding is part of the width each label needs
        widest = max(b.sizeHint().width() for b in self.weekdays)
        for b in self.weekdays:
            b.setMinimumWidth(widest)  # even buttons, none narrower than its "We"
        days.addStretch(1)
        self.days_box = QWidget()
        self.days_box.setLayout(days)
        days.setContentsMargins(0, 0, 0, 0)
        self.monthday = QSpinBox()
        self.monthday.setRange(1, 31)
        self.monthday.setPrefix("day ")
        self.last_day = QCheckBox("or the last day in shorter months")
        self.has_until = QCheckBox("until")
        self.until = QDateEdit()
        self.until.setCalendarPopup(True)
        self.until.setDisplayFormat("d MMM yyyy")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        at = QLabel("a&t")
        at.setBuddy(self.time)  # Alt+T: straight to the time
        at.setProperty("role", "muted")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        for w in (self.date, at, self.time, self.zone, self.undated):
            row.addWidget(w)
        row.addStretch(1)
        grid.addLayout(row, 0, 0, 1, 4)
        grid.addWidget(self.repeat, 1, 0)
        grid.addWidget(self.days_box, 1, 1, 1, 3)
        self.repeat.setMinimumWidth(150)
        month = QHBoxLayout()
        month.setContentsMargins(0, 0, 0, 0)
        month.addWidget(self.monthday)
        month.addWidget(self.last_day)
        month.addStretch(1)
        self.month_box = QWidget()
        self.month_box.setLayout(month)
        grid.addWidget(self.month_box, 1, 1, 1, 3)
        until = QHBoxLayout()
        until.setContentsMargins(0, 0, 0, 0)
        until.addWidget(self.has_until)
        until.addWidget(self.until)
        until.addStretch(1)
        self.until_box = QWidget()
        self.until_box.setLayout(until)
        grid.addWidget(self.until_box, 2, 0, 1, 4)
        grid.setColumnStretch(3, 1)
        for signal in (self.date.dateChanged, self.time.timeChanged, self.repeat.currentIndexChanged,
                       self.monthday.valueChanged, self.last_day.toggled, self.has_until.toggled,
                       self.until.dateChanged, self.undated.toggled):
            signal.connect(self._sync)

    def set_instant(self, at: datetime | None) -> None:
        self.undated.setChecked(at is None)
        if at is not None:
            wall = local_wall(at, self.tz)
            self.date.setDate(QDate(wall.year, wall.month, wall.day))
            self.time.setTime(QTime(wall.hour, wall.minute, wall.second))
            self.until.setDate(QDate(wall.year, wall.month, wall.day).addMonths(1))
            self.monthday.setValue(wall.day)
            for b in self.weekdays:
                b.setChecked(int(b.property("weekday")) == wall.weekday())
        self._sync()

    def set_recurrence(self, rec: Recurrence) -> None:
        self.repeat.setCurrentIndex(max(0, self.repeat.findData(rec.kind)))
        if rec.kind is RepeatKind.WEEKLY:
            for b in self.weekdays:
                b.setChecked(int(b.property("weekday")) in rec.weekdays)
        if rec.monthday:
            self.monthday.setValue(rec.monthday)
        self.last_day.setChecked(rec.month_end is MonthEndPolicy.LAST_DAY)
        self.has_until.setChecked(rec.until is not None)
        if rec.until:
            self.until.setDate(QDate(rec.until.year, rec.until.month, rec.until.day))
        self._sync()

    def instant(self) -> datetime | None:
        if self.undated.isChecked():
            return None
        d = self.date.date()
        t = self.time.time()
        wall = datetime.combine(date(d.year(), d.month(), d.day()), time(t.hour(), t.minute(), t.second()))
        return localize(wall, self.tz)

    def recurrence(self) -> Recurrence:
        kind = RepeatKind(self.repeat.currentData())
        until = None
        if self.has_until.isChecked() and kind is not RepeatKind.ONCE:
            u = self.until.date()
            until = date(u.year(), u.month(), u.day())
        if kind is RepeatKind.WEEKLY:
            days = tuple(int(b.property("weekday")) for b in self.weekdays if b.isChecked())
            return Recurrence(kind, days, until=until)
        if kind is RepeatKind.MONTHLY:
            policy = MonthEndPolicy.LAST_DAY if self.last_day.isChecked() else MonthEndPolicy.SKIP
            return Recurrence(kind, monthday=self.monthday.value(), until=until, month_end=policy)
        return Recurrence(kind, until=until)

    def _sync(self) -> None:
        dated = not self.undated.isChecked()
        self.date.setEnabled(dated)
        self.time.setEnabled(dated)
        kind = RepeatKind(self.repeat.currentData())
        self.repeat.setEnabled(dated)
        self.days_box.setVisible(dated and kind is RepeatKind.WEEKLY)
        self.month_box.setVisible(dated and kind is RepeatKind.MONTHLY)
        self.last_day.setVisible(self.monthday.value() >= 29)
        self.until_box.setVisible(dated and kind is not RepeatKind.ONCE)
        self.until.setEnabled(self.has_until.isChecked())
        self.changed.emit()

    @staticmethod
    def next_slot(now: datetime, tz: tzinfo) -> datetime:
        """The default for a new post: the next whole hour at least 15 minutes away."""
        wall = local_wall(now + timedelta(minutes=15), tz)
        return localize(wall.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1), tz)
