"""At the end of a run that collected contract tests: which contract, and which version, each platform
was checked against (the tests name them in every failure too)."""

from __future__ import annotations

import sys
from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    modules = sorted(name for name in sys.modules if name.startswith("tests.contracts.test_"))
    if not modules:
        return
    terminalreporter.write_sep("-", "platform contracts checked")
    for name in modules:
        platform = name.removeprefix("tests.contracts.test_").removesuffix("_contract")
        module = sys.modules[name]
        contract = getattr(module, "CONTRACT", "") or getattr(module, "SDK", "")
        terminalreporter.write_line(f"{platform:<10} {contract}")
