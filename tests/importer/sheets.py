"""Real spreadsheet files for importer tests, written with openpyxl (and patched XML when
a case needs what openpyxl cannot write, such as a formula's cached value or an entity bomb)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import openpyxl

from app.core.models import AccountInfo, Platform

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

ACCOUNTS = [
    AccountInfo(1, Platform.MASTODON, "alice@mastodon.social", "Alice", "Europe/Berlin"),
    AccountInfo(2, Platform.BLUESKY, "alice.bsky.social", "Alice", "Europe/Berlin"),
    AccountInfo(3, Platform.X, "alice_x", "Alice X"),
    AccountInfo(4, Platform.INSTAGRAM, "alice.pics", "Alice Pics"),
    AccountInfo(5, Platform.MASTODON, "alice@hachyderm.io", "Alice"),
]


def write_xlsx(path: Path, rows: Sequence[Sequence[object]], *, epoch_1904: bool = False,
               number_formats: dict[str, str] | None = None) -> Path:
    wb = openpyxl.Workbook()
    if epoch_1904:
        from openpyxl.utils.datetime import MAC_EPOCH

        wb.epoch = MAC_EPOCH
    ws = wb.active
    assert ws is not None
    ws.title = "Posts"
    for row in rows:
        ws.append(list(row))
    for coordinate, fmt in (number_formats or {}).items():
        ws[coordinate].number_format = fmt
    wb.save(path)
    return path


def patch_member(path: Path, member: str, change: Callable[[str], str]) -> Path:
    """Rewrite one XML part of an .xlsx in place."""
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    parts[member] = change(parts[member].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return path


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
