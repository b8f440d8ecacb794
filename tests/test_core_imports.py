"""The core never imports textual, and reading the store never loads the SDK or
the price data."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "monitor_tui.usage",
    "monitor_tui.store",
    "monitor_tui.pricing",
    "monitor_tui.period",
    "monitor_tui.report",
    "monitor_tui.report_text",
    "monitor_tui.sync",
    "monitor_tui.sources",
    "monitor_tui.sources.openai_api",
    "monitor_tui.sources.demo",
    "monitor_tui.config",
    "monitor_tui.budget",
    "monitor_tui.cli",
]


def loaded_after(imports: list[str]) -> set[str]:
    code = "import sys\n" + "".join(f"import {m}\n" for m in imports)
    code += "print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return {name.split(".")[0] for name in out.split()}


def test_importing_the_core_does_not_import_textual():
    assert "textual" not in loaded_after(CORE)


def test_importing_the_core_leaves_the_sdk_and_price_data_unloaded():
    loaded = loaded_after(CORE)
    assert "openai" not in loaded
    assert "genai_prices" not in loaded
