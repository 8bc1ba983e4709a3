#!/usr/bin/env bash
# Set up (once) and run the local MaaS on 127.0.0.1: JupyterHub on port 8000 with the
# MaaS service, the LiteLLM gateway and SmolLM2-135M as hub-managed services.
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m hub_service.local "$@"
