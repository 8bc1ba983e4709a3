#!/usr/bin/env bash
# Set up what the local MaaS and its tests need, skipping whatever is already in place:
# a virtualenv (.venv) with jupyterlab-maas and its extras and the Pulumi program's
# packages, configurable-http-proxy,
# the npm dependencies and the built JupyterLab extension. With --with-notebook-image,
# also the Python layer of the users' image (notebook-image/) in .venv-notebook-image,
# which the tests run the image's notebook in, the hub image's JupyterHub in
# .venv-jupyterhub5, which the stack's hub-facing tests run hubs under, and Claude Code,
# OpenCode and Codex, which the tests run against the gateway.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
PYTHON=${PYTHON:-python3}
export PATH="$PWD/$VENV/bin:$PATH"

fingerprint() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }
# the same over every file under some paths (cat on a directory would fail the script)
tree_fingerprint() { find "$@" -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16; }
stamp_ok() { [ -f "$VENV/.stamp-$1" ] && [ "$(cat "$VENV/.stamp-$1")" = "$2" ]; }
stamp_set() { echo "$2" > "$VENV/.stamp-$1"; }

for tool in "$PYTHON" node npm; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is required (see README)" >&2; exit 1; }
done

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
fi

# llama.cpp tunes itself to the build machine's CPU by default, and pip's wheel cache
# would then hand that binary to other machines, where it dies with SIGILL (AMX,
# AVX-512). Build it once for a portable x86-64 baseline (AVX2, FMA, F16C), never from
# or into the wheel cache; tests/hub_service/test_local_model_build.py guards this.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF"
want=$(echo "$LLAMA_CMAKE_ARGS" | fingerprint -)
if ! stamp_ok llama "$want"; then
  echo "setup: compiling llama-cpp-python for a portable CPU baseline (~8 min on 2 cores)"
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" FORCE_CMAKE=1 "$VENV/bin/pip" install --quiet \
    --no-cache-dir --force-reinstall --no-deps --no-binary llama-cpp-python \
    'llama-cpp-python>=0.3,<0.4'
  stamp_set llama "$want"
fi

want=$(fingerprint pyproject.toml infra/requirements.txt)
if ! stamp_ok pip "$want"; then
  echo "setup: installing Python packages"
  # The labextension is built by npm below; skip the build hook here. The Pulumi
  # program's packages (infra/) too: its tests run it against Pulumi's mocks.
  SKIP_JUPYTER_BUILDER=1 "$VENV/bin/pip" install --quiet -e '.[test]' -r infra/requirements.txt
  stamp_set pip "$want"
fi

# jupyter-ai's chat (Jupyternaut), pinned, beside .venv's packages rather than among them
# (it would move .venv's mcp and slow every test server's start): only the user of
# tests/stack/test_jupyter_ai.py puts it on their server's path.
want=$(fingerprint tests/lab/jupyter_ai_requirements.txt)
if ! stamp_ok jupyter-ai "$want"; then
  echo "setup: installing jupyter-ai's Jupyternaut into $VENV/jupyter-ai-site"
  rm -rf "$VENV/jupyter-ai-site"
  "$VENV/bin/pip" install --quiet --no-deps --target "$VENV/jupyter-ai-site" \
    -r tests/lab/jupyter_ai_requirements.txt
  stamp_set jupyter-ai "$want"
fi

if [ ! -x "$VENV/bin/configurable-http-proxy" ]; then
  echo "setup: installing configurable-http-proxy"
  npm install --global --prefix "$VENV" --no-audit --no-fund --loglevel=error \
    configurable-http-proxy@^5
fi

# A command-line tool from npm, pinned, into the virtualenv's bin directory, unless its
# --version already names that version: npm_tool <command> <package> <version>
npm_tool() {
  if ! "$VENV/bin/$1" --version 2>/dev/null | grep -qwF "$3"; then
    echo "setup: installing $2 $3"
    npm install --global --prefix "$VENV" --no-audit --no-fund --loglevel=error "$2@$3"
  fi
}

want=$(fingerprint package.json package-lock.json portal/package.json portal/package-lock.json)
if [ ! -d node_modules ] || [ ! -d portal/node_modules ] || ! stamp_ok npm "$want"; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  npm --prefix portal ci --no-audit --no-fund --loglevel=error
  stamp_set npm "$want"
fi

want=$(tree_fingerprint package.json tsconfig.json src style schema portal/src portal/build.mjs)
if [ ! -f jupyterlab_maas/labextension/package.json ] || [ ! -f hub_service/static/portal/portal.js ] \
  || ! stamp_ok lab "$want"; then
  echo "setup: building the JupyterLab extension and the portal"
  npm run --silent build:prod
  stamp_set lab "$want"
fi

if [ ! -e "$VENV/share/jupyter/labextensions/jupyterlab-maas" ]; then
  jupyter labextension develop --overwrite . >/dev/null
fi

if [ "${1:-}" = "--with-notebook-image" ]; then
  IMAGE_VENV=.venv-notebook-image
  want=$(fingerprint notebook-image/requirements.txt notebook-image/base-pins.txt \
    notebook-image/base-moves.txt pyproject.toml)
  if [ ! -x "$IMAGE_VENV/bin/python" ] || ! stamp_ok notebook-image "$want"; then
    echo "setup: installing the notebook image's Python packages into $IMAGE_VENV"
    rm -rf "$IMAGE_VENV"
    # the base's Python, 3.12 (base-pins.txt is resolved for it), as the images' tests
    # find it: the system's, else pyenv's
    IMAGE_PYTHON=""
    for candidate in python3.12 "$HOME"/.pyenv/versions/3.12.*/bin/python3.12; do
      if "$candidate" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        IMAGE_PYTHON=$candidate
        break
      fi
    done
    [ -n "$IMAGE_PYTHON" ] || { echo "setup: the notebook image needs Python 3.12" >&2; exit 1; }
    "$IMAGE_PYTHON" -m venv "$IMAGE_VENV"
    "$IMAGE_VENV/bin/pip" install --quiet --upgrade pip
    # as images/Dockerfile (target notebook) does: the base image's packages (the scipy
    # stack, JupyterLab, the kernel), then the image's requirements with jupyterlab-maas
    # over them, every package of the base but the listed moves held as a constraint
    "$IMAGE_VENV/bin/pip" install --quiet -r notebook-image/base-pins.txt
    "$IMAGE_VENV/bin/python" notebook-image/base_constraints.py notebook-image/base-moves.txt \
      > "$IMAGE_VENV/base-constraints.txt"
    SKIP_JUPYTER_BUILDER=1 "$IMAGE_VENV/bin/pip" install --quiet \
      -c "$IMAGE_VENV/base-constraints.txt" -r notebook-image/requirements.txt .
    stamp_set notebook-image "$want"
  fi

  # The stack's hub-facing tests run hubs under the JupyterHub and KubeSpawner that the hub
  # image ships too (images/hub/requirements.txt's pins: z2jh 4.4's JupyterHub 5.5):
  # .venv-jupyterhub5 has jupyterlab-maas (editable: this checkout) with its hub and
  # gateway (which a hub of one's own runs beside it), those two pins and what the hubs'
  # scripts import.
  HUB5_VENV=.venv-jupyterhub5
  want=$(fingerprint pyproject.toml images/hub/requirements.txt)
  if [ ! -x "$HUB5_VENV/bin/python" ] || ! stamp_ok jupyterhub5 "$want"; then
    echo "setup: installing the hub image's JupyterHub and KubeSpawner into $HUB5_VENV"
    rm -rf "$HUB5_VENV"
    "$PYTHON" -m venv "$HUB5_VENV"
    "$HUB5_VENV/bin/pip" install --quiet --upgrade pip
    pins=$(grep -E '^(jupyterhub|jupyterhub-kubespawner|pycurl)==' images/hub/requirements.txt)
    # shellcheck disable=SC2086 - one argument a pin
    SKIP_JUPYTER_BUILDER=1 "$HUB5_VENV/bin/pip" install --quiet -e '.[hub,gateway]' $pins \
      pytest requests psutil pyyaml
    stamp_set jupyterhub5 "$want"
  fi

  # Claude Code, OpenCode and Codex, which the tests run against the gateway
  # (tests/hub_service/test_agents.py, tests/stack/test_terminals.py)
  npm_tool claude @anthropic-ai/claude-code 2.1.197
  npm_tool opencode opencode-ai 1.18.33
  npm_tool codex @openai/codex 0.171.0
fi
