#!/usr/bin/env bash
# Runs a selection of Node.js's own test files (test/parallel) as workers under `edge dev`.
#   benches/node-tests/run.sh <node-checkout-or-git-dir> [--rev REV] [pattern...] [--markdown FILE]
# With no pattern, the default selection in driver.py. See README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec python3 "$here/driver.py" "$@"
