"""Print the running environment's packages as pip constraints (``name==version``), less
the ones named in a moves file (base-moves.txt): run in the base image before the layer
is installed, so that the layer may move only those.

    python base_constraints.py base-moves.txt > /tmp/base-constraints.txt

It reads the installed distributions itself: ``pip freeze`` writes conda's packages as
``name @ file:///...``, which pip cannot use as a constraint."""

from __future__ import annotations

import re
import sys
from importlib.metadata import distributions


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def moves(path: str) -> set[str]:
    """The package names of a moves file: one a line, ``#`` starts a comment."""
    with open(path) as f:
        return {normalise(line.split("#")[0].strip()) for line in f if line.split("#")[0].strip()}


def constraints(moved: set[str]) -> list[str]:
    found = {normalise(d.metadata["Name"]): d.version for d in distributions()}
    return sorted(f"{name}=={version}" for name, version in found.items() if name not in moved)


if __name__ == "__main__":
    print("\n".join(constraints(moves(sys.argv[1]))))
