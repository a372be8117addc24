"""The language posts are written in reaches the adapters from the "post_language" setting."""

from __future__ import annotations

from pathlib import Path

from app.engine.runtime import Runtime
from app.store import repo


def test_the_post_language_setting_reaches_adapters_and_falls_back_to_the_computer(tmp_path: Path,
                                                                                 monkeypatch) -> None:
    monkeypatch.setenv("LC_ALL", "pt_BR.UTF-8")
    runtime = Runtime.open(tmp_path / "data")
    try:
        assert runtime.context.post_language() == "pt-BR"  # nothing chosen: the computer's language
        with runtime.db.write() as s:
            repo.set_setting(s, "post_language", "ja")
        runtime._post_language = None  # (read at most every 10 s; a test does not wait)
        assert runtime.adapter(runtime.planner.accounts()[0].platform).context.post_language() == "ja"
    finally:
        runtime.close()
