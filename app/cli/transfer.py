"""`outpost import FILE`, `outpost export FILE` and `outpost undo-import BATCH`: the dialog's code
without the window."""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from app.cli import open_runtime, print_json, record_id
from app.core.errors import OutpostError
from app.core.timeutil import local_zone_name, localize, parse_instant, zone
from app.importer.accounts import AccountError, AccountResolver
from app.importer.columns import Field, Header, Mapping, auto_map, field_for_header, normalise_header
from app.importer.commit import ImportResult, accounts_of, commit, export_posts, judge, undo
from app.importer.dates import DateError, DateOrder, parse_time_text
from app.importer.rows import (
    ImportOptions,
    ImportRow,
    RowStatus,
    Sheet,
    needs_date_order,
    open_sheet,
    unused_columns,
)


def register(sub: Any) -> None:
    imp = sub.add_parser("import", help="schedule posts from an .xlsx, .ods or .csv file",
                         description="Read FILE, check every row, and create posts from the valid rows in one "
                                     "import that `outpost undo-import` can take back.")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--account", metavar="A", help="account for rows whose Account cell is empty")
    imp.add_argument("--timezone", metavar="ZONE", help="zone for dates without an offset (default: this computer's)")
    imp.add_argument("--date-order", choices=[DateOrder.DAY_FIRST.value, DateOrder.MONTH_FIRST.value],
                     help="how to read dates like 03/04/2026")
    imp.add_argument("--default-time", metavar="HH:MM", type=_time_of_day,
                     help="time of day for dates without one (without it such a date is an error)")
    imp.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                     help="read a column as a field, e.g. --map Words=Text (or Words= to skip it); "
                          f"fields: {', '.join(f.value for f in Field)}")
    imp.add_argument("--dry-run", action="store_true", help="check the file; create nothing")
    imp.add_argument("--all-or-nothing", action="store_true", help="refuse the file if any row has a problem")
    imp.add_argument("--as-drafts", action="store_true", help="create drafts; nothing is published")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(handler=cmd_import)

    exp = sub.add_parser("export", help="write posts to an .xlsx or .csv file in the import columns")
    exp.add_argument("file", type=Path, metavar="FILE")
    exp.add_argument("--from", dest="start", metavar="DATE", help="first day (2026-07-01) or an ISO 8601 instant")
    exp.add_argument("--to", dest="end", metavar="DATE", help="last day, included, or an ISO 8601 instant")
    exp.add_argument("--timezone", metavar="ZONE", help="zone the days are in (default: this computer's)")
    exp.set_defaults(handler=cmd_export)

    und = sub.add_parser("undo-import", help="remove the posts an import created (published ones stay)")
    und.add_argument("batch", type=record_id, metavar="BATCH")
    und.set_defaults(handler=cmd_undo)


def _time_of_day(text: str) -> time:
    try:
        return parse_time_text(text)
    except DateError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_import(args: argparse.Namespace, data_dir: Path) -> int:
    tz_name = args.timezone or local_zone_name()
    try:
        zone(tz_name)
    except ValueError as exc:
        raise OutpostError(str(exc)) from None
    sheet = open_sheet(args.file)  # refuses unreadable or hostile files before touching the data folder
    if _by_letter_only(args.map) and not sheet.mapping.columns and sheet.header_index >= 0:
        # Columns named by letter and no header Outpost knows: the first row is a post, not a header.
        width = len(sheet.header.names)
        sheet = replace(sheet, header_index=sheet.header_index - 1, header=Header(0, ("",) * width))
    mapping = _apply_maps(sheet.mapping, sheet.header, args.map)
    if mapping.unresolved:
        f = mapping.unresolved[0]
        claims = [sheet.header.names[i - 1] for i in range(1, len(sheet.header.names) + 1)
                  if sheet.header.names[i - 1] and _claims(sheet, i, f)]
        names = ", ".join(repr(n) for n in claims)
        raise OutpostError(f"Several columns look like {f.value} ({names}); choose one with "
                           f"--map {shlex.quote(claims[-1]) if claims else 'COLUMN'}= for each of the others "
                           f"(or --map COLUMN={f.value}).")
    if Field.TEXT not in mapping.columns and Field.MEDIA not in mapping.columns:
        found = ", ".join(n for n in sheet.header.names if n) or "none"
        raise OutpostError(f"No Text column in {args.file.name} (headers on row {sheet.header.row}: {found}); "
                           "name the column with the posts Text, or pass --map COLUMN=Text.")
    with open_runtime(data_dir) as rt:
        default_id = None
        if args.account:
            try:
                default_id = AccountResolver(accounts_of(rt)).resolve(args.account, "", None)[0].id
            except AccountError as exc:
                raise OutpostError(f"--account: {exc}") from None
        order = DateOrder(args.date_order) if args.date_order else DateOrder.UNKNOWN
        options = ImportOptions(timezone=tz_name, date_order=order, default_account_id=default_id,
                                as_drafts=args.as_drafts, default_time=args.default_time)
        rows = judge(rt, sheet, mapping, options)
        if order is DateOrder.UNKNOWN and needs_date_order(sheet, mapping) and not args.json:
            print("outpost: some dates read differently day-first and month-first; pass --date-order.",
                  file=sys.stderr)
        result = ImportResult(None)
        refusal: OutpostError | None = None
        valid = sum(r.status is RowStatus.VALID for r in rows)
        if args.dry_run:
            if args.all_or_nothing and valid < len(rows):
                refusal = OutpostError(f"{len(rows) - valid} of {len(rows)} rows have problems; "
                                       "with --all-or-nothing nothing would be imported.")
        else:
            try:
                result = commit(rt, rows, source_name=args.file.name, all_or_nothing=args.all_or_nothing,
                                as_drafts=args.as_drafts)
            except OutpostError as exc:
                refusal = exc
    _report(args, sheet, mapping, rows, result, valid)
    if refusal is not None:
        print(f"outpost: {refusal}", file=sys.stderr)
        return 2
    return 0


def _by_letter_only(maps: list[str]) -> bool:
    return bool(maps) and all(re.fullmatch(r"[A-Za-z]{1,2}", m.partition("=")[0].strip()) for m in maps)


def _claims(sheet: Sheet, column: int, f: Field) -> bool:
    return field_for_header(sheet.header.names[column - 1]) is f


def _apply_maps(mapping: Mapping, header: Header, maps: list[str]) -> Mapping:
    """--map COLUMN=FIELD: COLUMN is a header (or a column letter), FIELD an Outpost column or empty
    (leave the column out: the other columns are then mapped as if it were not there)."""
    fields = {normalise_header(f.value): f for f in Field}
    left_out: list[int] = []
    assigned: list[tuple[Field, int]] = []
    for item in maps:
        column_name, sep, field_name = item.partition("=")
        if not sep:
            raise OutpostError(f"--map {item!r}: write COLUMN=FIELD, e.g. --map Words=Text.")
        wanted = normalise_header(column_name)
        columns = [i for i, n in enumerate(header.names, start=1)
                   if (n and normalise_header(n) == wanted) or header.letter(i).lower() == column_name.strip().lower()]
        if len(columns) != 1:
            found = ", ".join(n for n in header.names if n) or "none"
            raise OutpostError(f"--map {item!r}: no single column {column_name!r} (headers: {found}).")
        if not field_name.strip():
            left_out.append(columns[0])
            continue
        field = fields.get(normalise_header(field_name))
        if field is None:
            raise OutpostError(f"--map {item!r}: {field_name!r} is not a field; use one of "
                               f"{', '.join(f.value for f in Field)}.")
        assigned.append((field, columns[0]))
    if left_out and any(header.names):
        mapping = auto_map(Header(header.row, tuple("" if i in left_out else n
                                                    for i, n in enumerate(header.names, start=1))))
    for column in left_out:
        mapping = mapping.without_column(column)
    for field, column in assigned:
        mapping = mapping.with_column(field, column)
    return mapping


def _report(args: argparse.Namespace, sheet: Sheet, mapping: Mapping, rows: list[ImportRow], result: ImportResult,
            valid: int) -> None:
    imported = result.imported
    notes = [*([f"Read as a {sheet.layout}."] if sheet.layout else []), *unused_columns(sheet, mapping)]
    if args.json:
        out = []
        for r in rows:
            refused = result.refused.get(r.number)
            status = RowStatus.INVALID if refused else r.status
            errors = [str(e) for e in r.errors] + ([refused] if refused else [])
            out.append({"row": r.number, "status": status.value, "errors": errors,
                        "warnings": [str(w) for w in r.warnings], "post_id": result.post_ids.get(r.number)})
        report: dict[str, object] = {"rows": out, "warnings": notes}
        if args.dry_run:
            report.update({"dry_run": True, "would_import": valid, "would_skip": len(rows) - valid,
                           "imported": 0, "batch_id": None})
        else:
            report.update({"imported": imported, "skipped": len(rows) - imported, "batch_id": result.batch_id})
        print_json(report)
        return
    for note in notes:
        print(f"note: {note}")
    for r in rows:
        refused = result.refused.get(r.number)
        for e in r.errors:
            print(f"row {r.number} ({r.status.value}): {e}")
        if refused:
            print(f"row {r.number} (invalid): {refused}")
        for w in r.warnings:
            print(f"row {r.number} (warning): {w}")
    if args.dry_run:
        print(f"Dry run: {valid} of {len(rows)} rows would be imported; nothing was changed.")
    elif imported:
        print(f"Imported {imported} of {len(rows)} rows as import #{result.batch_id}; "
              f"`outpost undo-import {result.batch_id}` takes them back.")


def _bound(text: str | None, tz_name: str, *, end: bool) -> datetime | None:
    if not text:
        return None
    try:
        tz = zone(tz_name)
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            return localize(datetime.combine(day + timedelta(days=1) if end else day, time()), tz)
        return parse_instant(text, tz)
    except ValueError as exc:
        raise OutpostError(f"{text!r} is not a date; write 2026-07-01 or 2026-07-01T09:00+02:00 ({exc}).") from None


def cmd_export(args: argparse.Namespace, data_dir: Path) -> int:
    tz_name = args.timezone or local_zone_name()
    start, end = _bound(args.start, tz_name, end=False), _bound(args.end, tz_name, end=True)
    if start and end and end <= start:
        raise OutpostError("--to comes before --from; swap them.")
    if args.file.suffix.lower() not in (".xlsx", ".csv"):
        raise OutpostError(f"Export to a .xlsx or .csv file; {args.file.name} is neither.")
    with open_runtime(data_dir) as rt:
        count = export_posts(rt, args.file, start, end)
    print(f"Exported {count} post{'s' if count != 1 else ''} to {args.file}.")
    return 0


def cmd_undo(args: argparse.Namespace, data_dir: Path) -> int:
    with open_runtime(data_dir) as rt:
        outcome = undo(rt, args.batch)
    kept = f"; {outcome.kept} already published stayed" if outcome.kept else ""
    print(f"Import #{args.batch} undone: {outcome.deleted} post{'s' if outcome.deleted != 1 else ''} removed{kept}.")
    return 0
