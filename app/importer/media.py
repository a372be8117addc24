"""Media cells: several items in one cell, each a local file or an http(s) URL.

Splitting follows import-formats.md §4: line breaks, `||` and `|` first; a comma splits only
when followed by a space or when every piece is a URL or an existing file, since commas are
legal inside URLs. Local files are recognised by their content, not by their extension.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from urllib.parse import urlsplit

from app.core.models import MediaItem, MediaKind
from app.store.files import FileRefused, read_head

_SEPARATORS = re.compile(r"\r?\n|\|\|?")
_VIDEO_EXT = {".mp4", ".mov", ".m4v", ".webm"}
KNOWN_TYPES = "JPEG, PNG, GIF, WebP, MP4 or MOV"


class MediaError(ValueError):
    """An item of the Media column that cannot be attached."""


def split_media(cell: str) -> list[str]:
    out: list[str] = []
    for part in (p.strip() for p in _SEPARATORS.split(cell)):
        if not part:
            continue
        pieces = [p.strip() for p in part.split(",") if p.strip()]
        if len(pieces) > 1 and (re.search(r",\s", part) or all(_looks_like_item(p) for p in pieces)):
            out.extend(pieces)
        else:
            out.append(part)
    return out


def _looks_like_item(text: str) -> bool:
    return text.startswith(("http://", "https://")) or Path(text).expanduser().is_file()


def sniff_mime(head: bytes) -> str:
    """The MIME type of an image or video file from its first bytes, or "" when unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    return ""


def _kind(mime: str) -> MediaKind:
    if mime == "image/gif":
        return MediaKind.GIF
    return MediaKind.VIDEO if mime.startswith("video/") else MediaKind.IMAGE


def media_item(source: str, base_dir: Path | None = None) -> MediaItem:
    """One attachment, checked: a URL with a host, or a readable image or video file."""
    if source.startswith(("http://", "https://")):
        parts = urlsplit(source)
        if not parts.netloc or " " in source:
            raise MediaError(f"{source!r} is not a valid web address.")
        ext = Path(parts.path).suffix.lower()
        mime = mimetypes.guess_type(parts.path)[0] or ""
        if ext in _VIDEO_EXT and not mime.startswith("video/"):
            mime = "video/mp4"
        kind = MediaKind.VIDEO if ext in _VIDEO_EXT else _kind(mime)
        return MediaItem(source, kind, mime_type=mime if mime.startswith(("image/", "video/")) else "")
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source):
        raise MediaError(f"{source!r}: only files on this computer and http(s):// addresses can be attached.")
    path = Path(source).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        head, size = read_head(path, 32)  # a FIFO or a device is refused, never waited on
    except FileRefused as exc:
        raise MediaError(str(exc)) from exc
    except OSError as exc:
        raise MediaError(f"Media file not found: {source}.") from exc
    mime = sniff_mime(head)
    if not mime:
        raise MediaError(f"{path.name} is not an image or video Outpost can post ({KNOWN_TYPES}).")
    return MediaItem(str(path.resolve()), _kind(mime), mime_type=mime, size_bytes=size)
