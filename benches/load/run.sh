#!/usr/bin/env bash
# The load benchmark: builds `edge` (release), installs the peers (workerd and Deno, from npm)
# into benches/load/.peers (ignored by git) when missing, runs the same `hello` and `json`
# workers on all three systems, alternating, and writes benches/RESULTS.md's comparison section
# and benches/load/results.svg. Needs wrk, taskset, npm and python3 (see .ci/setup for wrk).
#   bash benches/load/run.sh            # the full run (about 10 minutes on 2 cores)
#   ROUNDS=1 SECONDS_PER_RUN=3 bash benches/load/run.sh   # a quick look
#   BASELINE=/path/to/earlier/edge bash benches/load/run.sh  # before/after: that build and this one
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

cargo build --release -p edge-node
target="${CARGO_TARGET_DIR:-$root/target}"

if [[ -n "${BASELINE:-}" ]]; then
  exec python3 "$here/compare.py" --edge "$target/release/edge" --baseline "$BASELINE" --root "$root"
fi

peers="$here/.peers"
if [[ ! -x "$peers/node_modules/@cloudflare/workerd-linux-64/bin/workerd" || ! -x "$peers/node_modules/@deno/linux-x64-glibc/deno" ]]; then
  echo "installing workerd and deno into $peers" >&2
  npm install --silent --no-audit --no-fund --prefix "$peers" @cloudflare/workerd-linux-64 @deno/linux-x64-glibc
fi

exec python3 "$here/compare.py" \
  --edge "$target/release/edge" \
  --workerd "$peers/node_modules/@cloudflare/workerd-linux-64/bin/workerd" \
  --deno "$peers/node_modules/@deno/linux-x64-glibc/deno" \
  --root "$root"
