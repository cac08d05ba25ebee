#!/usr/bin/env bash
# The whole check that CI runs: services, static checks, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-services.sh
echo "== typecheck"; npm run -s typecheck
echo "== lint"; npm run -s lint
echo "== format"; npm run -s format:check
echo "== architecture"; npm run -s arch
echo "== tests"
# The schedule end-to-end tests run several schedulers and an executor as processes for a minute or more
# and check exact fire counts; they run on their own after the rest, so no other heavy test shares the CPU.
npx vitest run --exclude 'test/schedule/**'
echo "== schedule end-to-end tests"
# (the trailing slash keeps apps/scheduler/test/schedule-*.test.ts, which ran above, out of this phase)
npx vitest run test/schedule/ --maxWorkers=1
