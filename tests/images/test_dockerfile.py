"""images/Dockerfile as a whole: its bases pinned by digest (but the listed exceptions),
its build context (.dockerignore) without docs, tests and the rest, and its wheel stage
building from what it copies and nothing else."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from imagevenv import DOCKERFILE, REPO

# Bases still pinned by tag only: no digest published for these tags could be found in
# public sources, and the registry cannot be asked from here. docs/images.md says how to
# pin one (`docker buildx imagetools inspect`); then take it off this list.
PINNED_BY_TAG_ONLY = {
    "HUB_IMAGE": "quay.io/jupyterhub/k8s-hub:4.4.0",
    "NOTEBOOK_IMAGE": "quay.io/jupyter/scipy-notebook:2024-12-23",
}
# Never in the build context: a change there must not rebuild any image.
NOT_IN_CONTEXT = ["docs/", "tests/", "bench/", "infra/", "scripts/", ".ci/", ".git/"]

TEXT = DOCKERFILE.read_text()
ARGS = dict(re.findall(r"^ARG (\w+)=(\S+)", TEXT, re.MULTILINE))


def test_every_base_is_pinned_by_digest_but_the_listed_exceptions():
    bases = re.findall(r"^FROM (\S+) AS (\w+)$", TEXT, re.MULTILINE)
    assert [stage for _, stage in bases] == ["wheel", "hub", "maas", "notebook"]
    for ref, stage in bases:
        arg = re.fullmatch(r"\$\{(\w+_IMAGE)\}", ref)
        assert arg and arg[1] in ARGS, f"stage {stage}: FROM {ref} is not one of the ARGs"
        image = ARGS[arg[1]]
        if arg[1] in PINNED_BY_TAG_ONLY:
            assert image == PINNED_BY_TAG_ONLY[arg[1]], (
                f"{arg[1]} moved: pin the new tag by digest (docs/images.md)"
            )
            continue
        assert re.fullmatch(r"[^\s:@]+:[0-9][\w.-]*@sha256:[0-9a-f]{64}", image), (
            f"{arg[1]}={image}: a full version tag and its digest"
        )


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether the build context leaves ``path`` (a file's, relative) out: the last pattern
    that matches it or one of its parent directories decides, as Docker's do."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        glob = pattern[3:] if pattern.startswith("**/") else None
        for candidate in candidates:
            name_matches = glob is not None and any(
                fnmatch.fnmatchcase("/".join(candidate.split("/")[i:]), glob)
                for i in range(candidate.count("/") + 1)
            )
            if fnmatch.fnmatchcase(candidate, pattern) or name_matches:
                excluded = not negated
                break
    return excluded


def context_files() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [x.strip() for x in lines if x.strip() and not x.startswith("#")]
    files = subprocess.run(
        ["git", "ls-files", "--cached"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [f for f in files if not dockerignored(f, patterns)]


def wheel_stage_sources() -> list[str]:
    stage = TEXT.split(" AS wheel\n", 1)[1].split("\nFROM ", 1)[0]
    joined = re.sub(r"\\\n", " ", stage)
    sources = []
    for args in re.findall(r"^COPY (.*)$", joined, re.MULTILINE):
        sources += args.split()[:-1]
    return sources


def test_the_build_context_holds_no_docs_tests_or_tooling():
    files = context_files()
    assert "pyproject.toml" in files and "images/Dockerfile" in files
    leaked = [f for f in files if any(f.startswith(p) for p in NOT_IN_CONTEXT)]
    assert not leaked, leaked
    assert not [f for f in files if "node_modules/" in f or "__pycache__" in f]
    # ... and no document but the one the wheel's metadata reads
    assert [f for f in files if f.endswith(".md")] == ["README.md"]


def test_the_wheel_stage_copies_only_what_the_wheel_is_built_from():
    files = context_files()
    sources = wheel_stage_sources()
    assert not [s for s in sources if s.startswith(("images", "notebook-image", "."))], sources
    for source in sources:
        assert any(f == source or f.startswith(source) for f in files), f"{source} not in context"
    # the Python side of the wheel builds from exactly those files (its frontend, built by
    # npm in the stage, is what tests/packaging builds and loads)
    root = Path(tempfile.mkdtemp(prefix="wheel-context-"))
    try:
        for f in files:
            if any(f == s or (s.endswith("/") and f.startswith(s)) for s in sources):
                (root / f).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / f, root / f)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", ".", "-w", "dist"],
            cwd=root,
            env={**os.environ, "SKIP_JUPYTER_BUILDER": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        (wheel,) = (root / "dist").glob("jupyterlab_maas-*.whl")
        listing = subprocess.run(
            [sys.executable, "-m", "zipfile", "-l", str(wheel)], capture_output=True, text=True
        ).stdout
        for expected in [
            "hub_service/app.py",
            "jupyterlab_maas/__init__.py",
            "jupyter_server_config.d",
        ]:
            assert expected in listing, expected
    finally:
        shutil.rmtree(root, ignore_errors=True)
