"""Text spreadsheets (`.csv`, `.tsv`, `.txt`): which encoding, which separator, and which rows
look damaged (a stray non-UTF-8 byte, a quote that is never closed).

Only the encodings a spreadsheet program writes are considered: UTF-8 (with or without BOM),
UTF-16 with a BOM (Excel's "Unicode Text"), Windows-1252, Mac OS Roman and ISO-8859-x. Among the
legacy ones charset-normalizer proposes; a short text ("Café Müller") can fool it, so the
candidate whose letters read most like words wins.
"""

from __future__ import annotations

import codecs
import csv
import io
import threading
import unicodedata
from dataclasses import dataclass, field

from app.core.errors import OutpostError

LEGACY_ENCODINGS = ("cp1252", "mac_roman", "iso8859_15", "latin_1", "iso8859_2", "iso8859_9", "iso8859_5",
                    "iso8859_7")
ENCODING_NAMES = {"utf_8": "UTF-8", "utf_16": "UTF-16", "cp1252": "Windows-1252", "mac_roman": "Mac OS Roman",
                  "iso8859_15": "ISO-8859-15", "latin_1": "ISO-8859-1", "iso8859_2": "ISO-8859-2",
                  "iso8859_9": "ISO-8859-9", "iso8859_5": "ISO-8859-5", "iso8859_7": "ISO-8859-7"}
SAMPLE_BYTES = 64 * 1024
MOSTLY_UTF8_SHARE = 0.01  # at most this share of lines may hold stray bytes in a UTF-8 file


@dataclass
class DecodedText:
    text: str
    encoding: str  # a key of ENCODING_NAMES
    stray: list[tuple[int, str]] = field(default_factory=list)  # (physical line, what looks wrong)


def decode_spreadsheet_text(data: bytes, name: str = "file") -> DecodedText:
    """The text of a CSV/TSV file, or OutpostError when it is not text a spreadsheet writes."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return DecodedText(data.decode("utf-16"), "utf_16")
        except UnicodeDecodeError as exc:
            raise OutpostError(f"{name} starts like UTF-16 text but is damaged; save it again as 'CSV UTF-8'.") from exc
    if b"\x00" in data[:4096]:
        raise OutpostError(f"{name} looks like a binary file, not text; save it as 'CSV UTF-8' and import that.")
    body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    try:
        return DecodedText(body.decode("utf-8"), "utf_8")
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(body)
    if mostly is not None:
        return mostly
    encoding = _best_legacy(body)
    if encoding is None:
        raise OutpostError(f"{name} is not text in an encoding spreadsheets write; save it as 'CSV UTF-8'.")
    return DecodedText(body.decode(encoding), encoding)


_SLIPS = threading.local()  # the decode in progress on this thread (the dialog reads in a worker)
_HANDLER = "outpost-stray-cp1252"


def _as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    """Decode error handler: a stray byte becomes its Windows-1252 character, and is recorded."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    spots: list[tuple[int, bytes]] = _SLIPS.spots
    if len(spots) > _SLIPS.limit:
        raise exc  # not a UTF-8 file with a few slips: let the legacy detector decide
    bad = exc.object[exc.start : exc.end]
    spots.append((exc.start, bad))
    return bad.decode("cp1252", errors="replace"), exc.end


codecs.register_error(_HANDLER, _as_cp1252)


def _mostly_utf8(data: bytes) -> DecodedText | None:
    """UTF-8 with a few stray single bytes (one cell pasted from a Windows program): each stray
    byte is read as Windows-1252 and reported; None when the file is not UTF-8 at all."""
    spots: list[tuple[int, bytes]] = []
    _SLIPS.limit = max(3, (data.count(b"\n") + 1) * MOSTLY_UTF8_SHARE)
    _SLIPS.spots = spots
    try:
        text = data.decode("utf-8", errors=_HANDLER)
    except UnicodeDecodeError:
        return None
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    if non_ascii <= sum(len(bad) for _, bad in spots):
        return None  # every non-ASCII character is a slip: a legacy file, not UTF-8 with slips
    stray = []
    for offset, bad in spots:
        line = data.count(b"\n", 0, offset) + 1
        shown = bad.decode("cp1252", errors="replace")
        stray.append((line, f"byte {' '.join(f'0x{b:02X}' for b in bad)} is not UTF-8; read as {shown!r} "
                            "(Windows-1252): check this row's text"))
    return DecodedText(text, "utf_8", stray)


def _oddity(text: str) -> int:
    """How unlike words a decoding reads: a capital or a symbol between two lower-case letters
    ("CafŽ MŸller"), or a control character."""
    score = 0
    for i in range(1, len(text) - 1):
        ch = text[i]
        if ord(ch) < 128:
            continue
        cat = unicodedata.category(ch)
        if cat[0] == "C":
            score += 3
        elif (cat == "Lu" or cat[0] in "SP") and text[i - 1].islower() and (text[i + 1].islower() or text[i + 1] in " ,;.\t\n"):
            score += 1
    return score


def _best_legacy(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    proposed = [m.encoding for m in from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS))]
    candidates = [e for e in (*proposed, *LEGACY_ENCODINGS) if e in LEGACY_ENCODINGS]
    scored: list[tuple[int, int, str]] = []
    sample = data[:SAMPLE_BYTES]  # the letters of the first 64 kB decide; the whole file must still decode
    for rank, encoding in enumerate(dict.fromkeys(candidates)):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        scored.append((_oddity(sample.decode(encoding)), rank, encoding))
    return min(scored)[2] if scored else None


# ---------------------------------------------------------------- separators and rows


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: the one that splits the first lines into the most, most regular, columns."""
    sample = text[: 64 * 1024]
    lines = sample.splitlines()[:30] or [""]
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";", "\t"):
        widths = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter) if any(r)]
        if not widths:
            continue
        width = max(set(widths), key=widths.count)
        score = (int(width > 1) * widths.count(width), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def split_sep_hint(text: str) -> tuple[str, str | None]:
    """Excel writes (and hides) a first line "sep=;" naming the delimiter."""
    first, newline, rest = text.partition("\n")
    hint = first.strip().lower()
    if hint.startswith("sep=") and len(hint) == 5:
        return (rest if newline else ""), first.strip()[4]
    return text, None


def swallowed_rows(record: list[str], delimiter: str, width: int) -> str:
    """When a cell spans lines and one of those lines looks like a whole row of its own, the
    text of that line (a quote opened and never closed swallowed it); "" otherwise."""
    if width < 2 or len(record) == width:
        return ""
    for cell in record:
        if "\n" not in cell:
            continue
        for line in cell.splitlines()[1:]:
            if line.count(delimiter) >= width - 1:
                return line
    return ""
