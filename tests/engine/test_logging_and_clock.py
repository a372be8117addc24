from __future__ import annotations

import asyncio
import logging
import time

from app.engine.logsetup import setup_logging
from app.engine.scheduler import PublisherScheduler


def test_the_log_file_carries_structured_fields_and_no_tokens(tmp_path):
    setup_logging(tmp_path)
    try:
        logging.getLogger("outpost.publisher").info("publishing", extra={"post": 5, "target": 9, "platform": "x",
                                                                         "attempt": 12})
        logging.getLogger("outpost.publisher").warning(
            "GET https://graph.threads.net/me/threads?access_token=EAAGsecret123&fields=id failed")
        logging.getLogger("httpx").info("HTTP Request: GET https://api/?access_token=EAAGsecret123 200")
        logging.getLogger("outpost.publisher").warning("post text: %s", "hello\r\nFAKE ERROR forged line")
        try:
            raise RuntimeError("Bearer sk-live-abcdef123456 refused")
        except RuntimeError:
            logging.getLogger("outpost.publisher").exception("call failed")
    finally:
        for handler in logging.getLogger().handlers:
            handler.flush()
    text = (tmp_path / "outpost.log").read_text()
    assert "post=5 target=9 platform=x attempt=12" in text
    assert "EAAGsecret123" not in text and "sk-live-abcdef123456" not in text
    assert "access_token=[redacted]" in text
    assert "HTTP Request" not in text  # httpx is held at WARNING
    assert "hello\\r\\nFAKE ERROR" in text
    assert not any(line.startswith("FAKE ERROR") for line in text.splitlines())
    setup_logging(None)


async def test_a_wall_clock_jump_is_noticed_at_the_next_wake_up():
    jumps: list[float] = []
    pokes: list[int] = []
    scheduler = PublisherScheduler(on_clock_jump=jumps.append, on_wakeup=lambda: pokes.append(1))
    scheduler.start()
    try:
        scheduler.wakeup()
        await asyncio.sleep(0.05)
        assert jumps == [] and pokes  # an ordinary wake-up only checks the poke file
        scheduler._last_wall = time.time() - 3600  # as if the laptop slept for an hour
        scheduler.wakeup()
        await asyncio.sleep(0.05)
        assert len(jumps) == 1 and 3590 < jumps[0] < 3610
    finally:
        scheduler.shutdown(wait=False)
