"""Exact pins (``name==version``) in a requirements file."""

from __future__ import annotations

import re
from pathlib import Path


def pins(requirements: Path) -> dict[str, str]:
    """A requirements file's ``name==version`` lines, by normalised name."""
    found = {}
    for line in requirements.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;#]+)", line)
        if m:
            found[normalise(m[1])] = m[2]
    return found


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
