"""File › Export…: the posts of a date range and some accounts, on the code of `outpost export`.

The file is written beside the target under a temporary name and moved into place at the end,
so a failure never leaves half a spreadsheet or replaces a good one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import OutpostError
from app.importer.accounts import AccountResolver
from app.importer.commit import accounts_of
from app.importer.export import export
from app.store import importing

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

FORMATS = (".xlsx", ".csv")


def export_posts(runtime: Runtime, path: Path, start: datetime | None = None, end: datetime | None = None,
                 account_ids: Collection[int] | None = None) -> int:
    """Write the posts scheduled in [start, end) to `path` (.xlsx or .csv); returns how many.

    With `account_ids`, only posts for those accounts, each naming only those accounts. Raises
    OutpostError with one line saying what to do when the file cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise OutpostError(f"Export to a .xlsx or .csv file; {path.name} is neither.")
    if start and end and end <= start:
        raise OutpostError("The last day comes before the first; swap them.")
    if path.is_dir():
        raise OutpostError(f"{path} is a folder; choose a file name inside it.")
    if not path.parent.is_dir():
        raise OutpostError(f"The folder {path.parent} does not exist; choose another folder.")
    with runtime.db.read() as session:
        rows = importing.export_rows(session, start, end)
    if account_ids is not None:
        accounts = accounts_of(runtime)
        resolver = AccountResolver(accounts)
        wanted = {resolver.reference(a) for a in accounts if a.id in set(account_ids)}
        rows = [replace(r, accounts=tuple(a for a in r.accounts if a in wanted))
                for r in rows if any(a in wanted for a in r.accounts)]
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        count = export(rows, partial)
        os.replace(partial, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        hint = (" If it is open in a spreadsheet program, close it there and export again."
                if isinstance(exc, PermissionError) and path.exists() else
                " Choose a folder you can write to, such as Documents.")
        raise OutpostError(f"Could not write {path}: {exc.strerror or exc}.{hint}") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
    return count
