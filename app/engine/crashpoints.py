"""Named points where a test can make this process die at once, as a power cut or `kill -9` would.

`OUTPOST_CRASH_AT="journaled:3"` kills the process the third time it passes
`crash_point("journaled")` (tests/reliability/test_crash_loop.py). Points:
- "journaled_ahead": a wake-up's attempt is committed ahead of its instant, which has not come;
- "journaled": the attempt is committed, the request not yet sent;
- "answered": the platform answered, the outcome not yet committed.
Without the variable (always, outside tests) a crash point is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "OUTPOST_CRASH_AT"
_hits: Counter[str] = Counter()


def crash_point(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    wanted, _, count = spec.partition(":")
    if wanted != name:
        return
    _hits[name] += 1
    if _hits[name] >= int(count or 1):
        kill = getattr(signal, "SIGKILL", None)
        if kill is None:  # Windows: no SIGKILL; _exit skips every cleanup just the same
            os._exit(137)
        os.kill(os.getpid(), kill)
