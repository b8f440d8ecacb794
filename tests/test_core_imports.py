"""The core never imports textual, and reading the store never loads the SDK or
the price data."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "monitor_tui"
VIEW_PACKAGES = ("app", "views", "widgets", "screens")
"""Where the Textual views will live; every other module is core."""


def core_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] in VIEW_PACKAGES or parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(("monitor_tui", *parts))] = path
    return modules


CORE = list(core_modules())


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
    assert len(CORE) >= 15
    for name, path in core_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            assert "textual" not in roots, f"{name} imports textual"
