#!/usr/bin/env bash
# The whole check that CI runs: services, static checks, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-services.sh
echo "== typecheck"; npm run -s typecheck
echo "== lint"; npm run -s lint
echo "== format"; npm run -s format:check
echo "== architecture"; npm run -s arch
echo "== tests"; npx vitest run
