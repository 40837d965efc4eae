"""Reads the code blocks of the docs that tests run: fences marked ```LANG title=PATH."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.services import REPO

CI_DOCS = REPO / "docs" / "ci"


def titled_block(doc: Path, title: str) -> str:
    """The text of the one block of `doc` whose fence says ``title=<title>``."""
    pattern = rf"^```\w+ title={re.escape(title)}\n(.*?)^```$"
    found = re.findall(pattern, doc.read_text(), re.DOTALL | re.MULTILINE)
    assert len(found) == 1, f"{doc.name}: {len(found)} blocks titled {title}, not one"
    return str(found[0])
