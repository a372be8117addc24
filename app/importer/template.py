"""The import template: our headers, one example row, drop-down lists and a date format.

Sheet "Posts" is what the importer reads; "Columns" explains each column; the hidden "Lists"
sheet feeds the drop-downs (accounts, time zones, repeat examples, statuses).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import available_timezones

from app.core.models import AccountInfo
from app.core.timeutil import zone
from app.importer.accounts import AccountResolver
from app.importer.columns import Field
from app.importer.export import COLUMN_WIDTHS, DATE_FORMAT, DAY_FORMAT, EXPORT_COLUMNS

TEMPLATE_ROWS = 500  # drop-downs and formats cover this many rows
REPEAT_EXAMPLES = ("once", "daily", "weekly:mon", "weekly:mon,thu", "weekly:tue,fri", "monthly:1", "monthly:15",
                   "monthly:31:last")


def write_template(path: Path, accounts: Sequence[AccountInfo], timezone: str, now: datetime) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Posts"
    column = {f: i for i, f in enumerate(EXPORT_COLUMNS, start=1)}
    letter = {f: get_column_letter(i) for f, i in column.items()}

    header_fill = PatternFill("solid", fgColor="DDE7F5")
    for f, i in column.items():
        cell = ws.cell(row=1, column=i, value=f.value)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        ws.column_dimensions[letter[f]].width = COLUMN_WIDTHS[f]
    ws.freeze_panes = "A2"

    resolver = AccountResolver(accounts)
    references = [resolver.reference(a) for a in accounts] or ["your_handle"]
    tomorrow = (now.astimezone(zone(timezone)) + timedelta(days=1)).date()
    example = {
        Field.DATE: datetime.combine(tomorrow, time(9, 30)),
        Field.TIMEZONE: timezone,
        Field.ACCOUNT: references[0],
        Field.TEXT: "Hello from Outpost! This is an example post: replace it with yours.",
        Field.MEDIA: "",
        Field.ALT_TEXT: "",
        Field.FIRST_COMMENT: "",
        Field.TITLE: "",
        Field.REPEAT: "once",
        Field.REPEAT_UNTIL: None,
        Field.STATUS: "scheduled",
    }
    for f, value in example.items():
        ws.cell(row=2, column=column[f], value=value)
    last = TEMPLATE_ROWS + 1
    for r in range(2, last + 1):
        ws.cell(row=r, column=column[Field.DATE]).number_format = DATE_FORMAT
        ws.cell(row=r, column=column[Field.REPEAT_UNTIL]).number_format = DAY_FORMAT
        ws.cell(row=r, column=column[Field.TEXT]).alignment = Alignment(wrap_text=True, vertical="top")

    lists = wb.create_sheet("Lists")
    lists.sheet_state = "hidden"
    zones = [*sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))), "UTC"]
    for col, values in enumerate((references, zones, list(REPEAT_EXAMPLES), ["scheduled", "draft"]), start=1):
        for r, value in enumerate(values, start=1):
            lists.cell(row=r, column=col, value=value)

    def list_range(col: str, count: int) -> str:
        return f"{quote_sheetname('Lists')}!${col}$1:${col}${count}"

    def add(validation: DataValidation, f: Field) -> None:
        validation.add(f"{letter[f]}2:{letter[f]}{last}")
        ws.add_data_validation(validation)

    add(DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", errorStyle="warning",
                       showErrorMessage=True, errorTitle="Date and time",
                       error="Type a date and time like 2026-12-24 09:30.",
                       promptTitle="Date and time", prompt="For example 2026-12-24 09:30", showInputMessage=True),
        Field.DATE)
    add(DataValidation(type="list", formula1=list_range("A", len(references)), errorStyle="warning",
                       showErrorMessage=True, error="Not one of your accounts; check the spelling."), Field.ACCOUNT)
    add(DataValidation(type="list", formula1=list_range("B", len(zones)), errorStyle="warning",
                       showErrorMessage=True, error="Use a zone name like Europe/Berlin."), Field.TIMEZONE)
    add(DataValidation(type="list", formula1=list_range("C", len(REPEAT_EXAMPLES)), errorStyle="warning",
                       showErrorMessage=True, error="Write once, daily, weekly:mon,thu or monthly:15."), Field.REPEAT)
    add(DataValidation(type="list", formula1=list_range("D", 2), allow_blank=True, showErrorMessage=True,
                       error="Write draft or scheduled, or leave it blank."), Field.STATUS)
    add(DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", errorStyle="warning",
                       showErrorMessage=True, error="Type a day like 2026-12-31."), Field.REPEAT_UNTIL)

    info = wb.create_sheet("Columns")
    info.append(["Column", "What to write"])
    info["A1"].font = info["B1"].font = Font(bold=True)
    for f in EXPORT_COLUMNS:
        info.append([f.value, f.help])
    info.append([Field.TIME.value, Field.TIME.help + " (optional extra column)"])
    info.column_dimensions["A"].width = 16
    info.column_dimensions["B"].width = 100
    wb.active = 0
    wb.save(path)
    return path
