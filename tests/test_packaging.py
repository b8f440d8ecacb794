"""What `pip install .` installs: the app's stylesheet too, not only the code.

The test command installs in editable mode, which reads files from the source tree,
so a file left out of the package would go unnoticed until a user ran the app.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_every_file_the_app_loads(tmp_path):
    # Built from a copy: an egg-info left in the tree by an earlier install lists
    # files of its own and would hide one the configuration leaves out.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            "*.egg-info", "build", "dist", ".*", "__pycache__", "tests"
        ),
    )
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            tmp_path,
            source,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("monitor_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    needed = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "monitor_tui").rglob("*")
        if path.is_file() and path.suffix in (".py", ".tcss")
    }
    assert needed - names == set()
    assert "monitor_tui/app.tcss" in needed
