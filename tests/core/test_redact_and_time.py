from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.core.redact import one_line, redact, register_secret
from app.core.timeutil import parse_instant


@pytest.mark.parametrize(
    ("raw", "secret"),
    [
        ("GET https://graph.threads.net/me?access_token=EAAB123secret&fields=id", "EAAB123secret"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ('{"refresh_token": "rt-42-zz"}', "rt-42-zz"),
        ("https://user:hunter2@example.com/x", "hunter2"),
        ("callback?code=authcode99&state=s", "authcode99"),
    ],
)
def test_secrets_are_removed_from_text(raw, secret):
    assert secret not in redact(raw)


def test_a_registered_secret_is_removed_whatever_its_shape():
    register_secret("canary-Zq9-value")
    assert "canary" not in redact("the value canary-Zq9-value leaked")


def test_error_codes_survive_redaction():
    assert '"code": 24' in redact('{"code": 24, "error_subcode": 4279009}')


def test_line_breaks_cannot_forge_log_lines():
    assert one_line("post\r\nFAKE ERROR") == "post\\r\\nFAKE ERROR"


def test_a_time_without_offset_is_in_the_given_zone():
    got = parse_instant("2026-12-24T09:30", ZoneInfo("Europe/Berlin"))
    assert got == datetime(2026, 12, 24, 8, 30, tzinfo=UTC)


def test_a_time_with_an_offset_keeps_it():
    assert parse_instant("2026-12-24 09:30+02:00", ZoneInfo("UTC")) == datetime(2026, 12, 24, 7, 30, tzinfo=UTC)
    assert parse_instant("2026-12-24T09:30Z", ZoneInfo("Asia/Tokyo")).hour == 9


def test_a_malformed_time_says_how_to_write_it():
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_instant("24/12/2026 9am", ZoneInfo("UTC"))


def test_the_local_zone_follows_the_tz_variable_and_falls_back_to_utc(monkeypatch):
    import contextlib

    import tzlocal

    from app.core.timeutil import local_zone_name

    def zone_with(tz: str) -> str:
        monkeypatch.setenv("TZ", tz)
        with contextlib.suppress(LookupError):  # tzlocal reads the setting once per process
            tzlocal.reload_localzone()
        return local_zone_name()

    try:
        assert zone_with("America/Argentina/Buenos_Aires") == "America/Argentina/Buenos_Aires"
        assert zone_with(":Asia/Kolkata") == "Asia/Kolkata"  # the POSIX form with a colon
        assert zone_with("Not/AZone") == "UTC"  # a typo never crashes the start-up, nor invents a zone
    finally:
        monkeypatch.undo()
        tzlocal.reload_localzone()


def test_the_local_zone_comes_from_tz_or_the_localtime_link_without_tzlocal(monkeypatch) -> None:
    import os

    from app.core import timeutil

    monkeypatch.setenv("TZ", ":Europe/Berlin")
    assert timeutil.local_zone_name() == "Europe/Berlin"
    monkeypatch.delenv("TZ")
    monkeypatch.setattr(os, "readlink", lambda _p: "/var/db/timezone/zoneinfo/America/Sao_Paulo")  # macOS
    assert timeutil.local_zone_name() == "America/Sao_Paulo"
    monkeypatch.setattr(os, "readlink", lambda _p: "/usr/share/zoneinfo/Etc/UTC")
    assert timeutil.local_zone_name() == "UTC"
    monkeypatch.setattr(os, "readlink", lambda _p: "/usr/share/zoneinfo/../../etc/passwd")
    assert timeutil._zone_from_environment_or_link() is None  # not a zone: tzlocal decides
