"""Shared set-up for benchmarks: a throw-away data dir with an in-memory keyring."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def scratch_data_dir(name: str) -> Path:
    import keyring

    from tests.support.memkeyring import InMemoryKeyring

    keyring.set_keyring(InMemoryKeyring())
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return Path(tempfile.mkdtemp(prefix=f"outpost-bench-{name}-"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
