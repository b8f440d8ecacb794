"""The core never imports textual, and reading the store never loads the SDK or
the price data."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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


def test_no_core_module_imports_textual_even_inside_a_function():
    # An import inside a function would not show in sys.modules above.
    package = Path(__file__).resolve().parent.parent / "monitor_tui"
    for name in CORE:
        path = package.joinpath(*name.split(".")[1:])
        source = (
            path.with_suffix(".py")
            if path.with_suffix(".py").exists()
            else (path / "__init__.py")
        )
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            assert "textual" not in roots, f"{name} imports textual"
