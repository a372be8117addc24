"""Instants and wall-clock times. Stored instants are UTC; every datetime is aware.

Policies (reliability.md T10-T13): a wall time that falls in a DST gap moves forward by the
gap (02:30 becomes 03:30, RFC 5545 §3.3.5); an ambiguous wall time in a fold means its first
occurrence (fold=0).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def utcnow() -> datetime:
    return datetime.now(UTC)


def _zone_from_environment_or_link() -> str | None:
    """The common cases tzlocal would find first, without importing it (the window's first paint
    waits for the zone): a TZ naming an IANA zone, or /etc/localtime linking into a zoneinfo folder
    (Linux, macOS). None when neither says, and tzlocal decides."""
    import os

    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        candidates.append(target.split("zoneinfo/", 1)[1])
    for name in candidates[:1] if candidates[0] else candidates[1:]:
        if not name or name.startswith("/") or ".." in name:
            continue
        try:
            ZoneInfo(name)
        except (ValueError, ZoneInfoNotFoundError):
            continue
        return "UTC" if name in ("Etc/UTC", "UTC", "Universal", "Zulu", "Etc/Universal") else name
    return None


def local_zone_name() -> str:
    """The IANA name of this computer's zone (the TZ variable first), or UTC when it cannot be told.

    tzlocal reads each OS's own setting: the registry on Windows (mapped to IANA names), the
    /etc/localtime link on macOS and Linux, /etc/timezone and systemd's files.
    """
    fast = _zone_from_environment_or_link()
    if fast is not None:
        return fast
    import warnings

    from tzlocal import get_localzone_name  # 15-20 ms to import: only when the fast path cannot tell

    try:
        with warnings.catch_warnings():  # tzlocal warns about a TZ that disagrees with the system
            warnings.simplefilter("ignore")
            name = get_localzone_name()
        if name:
            ZoneInfo(name)
            return "UTC" if name == "Etc/UTC" else name
    except (OSError, ValueError, LookupError, ZoneInfoNotFoundError):
        pass
    return "UTC"


def zone(name: str) -> ZoneInfo:
    """The zone called `name`; raises ValueError with a readable message when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown time zone {name!r}; use a name like Europe/Berlin or America/New_York.") from exc


def ensure_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: every datetime in Outpost carries its zone")
    return value


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive value read back from SQLite is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def wall_time_exists(naive: datetime, tz: tzinfo) -> bool:
    aware = naive.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive


def is_ambiguous(naive: datetime, tz: tzinfo) -> bool:
    a = naive.replace(tzinfo=tz, fold=0).utcoffset()
    b = naive.replace(tzinfo=tz, fold=1).utcoffset()
    return a != b and wall_time_exists(naive, tz)


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """The UTC instant of a wall-clock time in `tz`, with the gap and fold policies applied.

    zoneinfo with fold=0 maps a time in a gap using the offset from before the gap, which is
    exactly "shift forward by the gap"; in a fold, fold=0 is the earlier instant.
    """
    if naive.tzinfo is not None:
        raise ValueError("localize takes a wall-clock (naive) time")
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def to_local(instant: datetime, tz: tzinfo) -> datetime:
    return as_utc(instant).astimezone(tz)


# Room on both sides for the arithmetic schedules do (catch-up windows, repeats, zone offsets).
MIN_YEAR, MAX_YEAR = 1970, 9998


def parse_instant(text: str, default_tz: tzinfo) -> datetime:
    """Parse ISO 8601 (with or without an offset, date-only allowed) to an aware UTC instant.

    A value without an offset is a wall-clock time in `default_tz`.
    """
    raw = text.strip()
    if not raw:
        raise ValueError("Give a date and time, e.g. 2026-12-24T09:30 or 2026-12-24 09:30+01:00.")
    candidate = raw.replace(" ", "T", 1) if len(raw) > 10 and raw[10] == " " else raw
    if candidate.endswith(("z", "Z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        try:
            from dateutil.parser import isoparse

            parsed = isoparse(candidate)
        except (ValueError, OverflowError) as exc:
            raise ValueError(
                f"Cannot read {raw!r} as a date and time; use ISO 8601 such as 2026-12-24T09:30 "
                "or 2026-12-24T09:30+01:00."
            ) from exc
    try:
        instant = localize(parsed, default_tz) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00 east of UTC, 9999-12-31T23:59 west of it
        instant = None
    if instant is None or not MIN_YEAR <= instant.year <= MAX_YEAR:
        raise ValueError(f"{raw!r} is outside the dates Outpost can schedule (the years {MIN_YEAR} to {MAX_YEAR}).")
    return instant


def combine(day: date, at: time, tz: tzinfo) -> datetime:
    return localize(datetime.combine(day, at), tz)


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, the form every --json output uses."""
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")


def humanize_delta(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        text = f"{seconds} s"
    elif seconds < 3600:
        text = f"{seconds // 60} min"
    elif seconds < 86400:
        text = f"{seconds // 3600} h {seconds % 3600 // 60} min"
    else:
        text = f"{seconds // 86400} d {seconds % 86400 // 3600} h"
    return text
