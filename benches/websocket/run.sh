#!/usr/bin/env bash
# The WebSocket echo benchmark of issue 23: serves echo.js with `edge dev` and with workerd
# (pinned in package.json, installed here by `npm ci`), alternating them within each round, and
# measures round trips, throughput with server CPU per message, and the memory of an idle socket
# (bench.py; see README.md). Prints per-round lines and a Markdown table; results go to out/.
#   bash benches/websocket/run.sh                          # builds edge (release) first
#   EDGE=/path/to/edge bash benches/websocket/run.sh       # that binary, no build
#   bash benches/websocket/run.sh --rounds 1 --seconds 3   # a quick look (bench.py --help)
# Needs npm (the registry), taskset, python3 and Python's `websockets` 15 (.ci/setup installs
# it into ~/.cache/edge-tools/python, which this puts on PYTHONPATH).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [[ -z "${EDGE:-}" ]]; then
  (cd "$root" && cargo build --release -p edge-node)
  EDGE="${CARGO_TARGET_DIR:-$root/target}/release/edge"
fi

workerd="$here/node_modules/@cloudflare/workerd-linux-64/bin/workerd"
if [[ ! -x "$workerd" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
  echo "installing workerd (npm ci)" >&2
  (cd "$here" && npm ci --silent --no-audit --no-fund)
fi

# 1,000 idle sockets and more: the client and the servers need the descriptors.
ulimit -n 20000 2>/dev/null || true
export PYTHONPATH="$HOME/.cache/edge-tools/python${PYTHONPATH:+:$PYTHONPATH}"
echo "edge: $EDGE ($(git -C "$root" log -1 --format=%h)); $("$workerd" --version) (npm $(node -p "require('$here/node_modules/@cloudflare/workerd-linux-64/package.json').version"))" >&2
exec python3 "$here/bench.py" --edge "$EDGE" --workerd "$workerd" "$@"
