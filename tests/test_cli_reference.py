"""docs/cli.md is the generated reference of the `bylab` command and must stay current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
REGENERATE = "python -m typer bylab.cli utils docs --name bylab --output docs/cli.md"


def test_cli_reference_is_current(tmp_path: Path) -> None:
    generated = tmp_path / "cli.md"
    subprocess.run([sys.executable, "-m", "typer", "bylab.cli", "utils", "docs", "--name",
                    "bylab", "--output", str(generated)], check=True, capture_output=True,
                   timeout=120)
    assert generated.read_text() == DOCS.read_text(), f"regenerate it: {REGENERATE}"
