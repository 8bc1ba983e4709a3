#!/usr/bin/env bash
# Set up whatever is missing, then run every check: lint, the frontend's type check and
# jest tests, the service/gateway/end-to-end tests (real hub, gateway, model,
# PostgreSQL) and the lab extension's tests (pytest-jupyter runs in its own session).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-notebook-image
export PATH="$PWD/.venv/bin:$PATH"

echo "== lint"
ruff check .
ruff format --check .
npm run --silent lint:check
npm --prefix portal run --silent typecheck

echo "== frontend unit tests (lab extension and portal)"
npm test --silent

rm -rf test-artifacts/logs
echo "== hub service, gateway, end to end, deployment (infra/ against Pulumi's mocks) and images (their Python layers)"
python -m pytest tests/infra tests/hub_service tests/stack tests/images "$@"
echo "== lab extension"
python -m pytest tests/lab "$@"
echo "== packaging: the wheel from a clean checkout, in a fresh virtualenv and Chromium"
python -m pytest tests/packaging "$@"
