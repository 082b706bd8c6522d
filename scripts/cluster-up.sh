#!/usr/bin/env bash
# Three edge nodes and `edge router` in front of them, on loopback, until Ctrl-C:
#   fra (Frankfurt) on :8081, iad (Ashburn, Virginia) on :8082, sin (Singapore) on :8083,
#   the router on :8000 (ROUTER_PORT), every node serving sample-workers/ (among them `geo`).
# The router trusts loopback as an upstream, so a request can say where it comes from with
# Cloudflare's headers (cf-iplatitude, cf-iplongitude, cf-ipcity, cf-ipcountry); with
# GEOIP=<a .mmdb City database> it also places clients by their x-forwarded-for address.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release -p edge-node >&2
edge="${CARGO_TARGET_DIR:-target}/release/edge"
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT INT TERM
key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')

{
  echo "listen = \"127.0.0.1:${ROUTER_PORT:-8000}\""
  echo "geo_key = \"$key\""
  echo 'trusted_proxies = ["127.0.0.0/8"]'
  if [[ -n "${GEOIP:-}" ]]; then echo "geoip = \"$(realpath "$GEOIP")\""; fi
} > "$dir/router.toml"

n=0
for node in "fra 50.11 8.68" "iad 39.04 -77.49" "sin 1.35 103.82"; do
  read -r id latitude longitude <<< "$node"
  n=$((n + 1))
  EDGE_LOG=warn "$edge" node --workers-dir sample-workers --geo-key "$key" \
    --listen "127.0.0.1:808$n" --admin-listen "127.0.0.1:879$n" &
  printf '[[nodes]]\nid = "%s"\nurl = "http://127.0.0.1:808%s"\nlatitude = %s\nlongitude = %s\nregion = "%s"\n\n' \
    "$id" "$n" "$latitude" "$longitude" "$id" >> "$dir/router.toml"
done
"$edge" router --config "$dir/router.toml" &
wait -n
