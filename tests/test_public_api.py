"""The public API: sorted, importable, and every CLI option documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import dicomscrub
from dicomscrub.cli.main import build_parser

README = Path(__file__).resolve().parent.parent / "README.md"


def test_all_is_sorted_and_every_name_resolves() -> None:
    names = [n for n in dicomscrub.__all__ if n != "__version__"]
    assert names == sorted(names)
    for name in dicomscrub.__all__:
        assert getattr(dicomscrub, name) is not None


def test_importing_the_package_loads_no_engine() -> None:
    code = "import sys, dicomscrub; print('pydicom' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _options_of(command: str) -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    found = set()
    for action in sub.choices[command]._actions:  # type: ignore[union-attr]
        found.update(o for o in action.option_strings if o.startswith("--") and o != "--help")
    return found


def test_every_deidentify_option_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    hidden = {"--executor"}  # internal: tests choose serial or process pools
    missing = sorted(
        o for o in _options_of("deidentify") - hidden if not re.search(rf"`{o}\b", text)
    )
    assert not missing, f"undocumented options of deidentify: {missing}"
