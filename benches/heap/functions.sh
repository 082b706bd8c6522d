#!/usr/bin/env bash
# The functions of each Web API script the bootstrap loads, split by QuickJS-ng itself into
# bytecode, retained source text and debug information (functions.c). Builds QuickJS-ng from
# the v8x crate's sources in the cargo registry (a `cargo build` must have fetched them).
# Usage: benches/heap/functions.sh [script.js ...]   (default: the bootstrap's scripts)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
crate() { ls -d "$registry"/*/"$1"-"$2" 2>/dev/null | head -1; }
version() { grep -A1 "^name = \"$1\"" "$here/../../Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p'; }
v8x="$(crate v8x "$(version v8x)")"
[ -n "$v8x" ] || { echo "the v8x sources are not in $registry: run cargo build first" >&2; exit 1; }
qjs="$v8x/vendor/quickjs-ng"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
gcc -O2 -w -I"$qjs" -c "$qjs/quickjs.c" -o "$work/quickjs.o"
gcc -O2 -w -c "$qjs/libregexp.c" "$qjs/libunicode.c" "$qjs/dtoa.c"
mv libregexp.o libunicode.o dtoa.o "$work/"
# v8x's QuickJS calls back into v8x for a few hooks (coverage, debugger, snapshots): none of
# them runs when a script is only compiled.
nm -u "$work/quickjs.o" | awk '/v82jsc_/ {print "long " $2 "(void) { return 0; }"}' > "$work/hooks.c"
gcc -O2 -I"$qjs" -o "$work/functions" "$here/functions.c" "$work/hooks.c" "$work/quickjs.o" \
  "$work/libregexp.o" "$work/libunicode.o" "$work/dtoa.o" -lm -lpthread
if [ $# -eq 0 ]; then
  web="$(crate deno_web "$(version deno_web)")"
  fetch="$(crate deno_fetch "$(version deno_fetch)")"
  crypto="$(crate deno_crypto "$(version deno_crypto)")"
  webidl="$(crate deno_webidl "$(version deno_webidl)")"
  set -- "$webidl/00_webidl.js" "$web/00_infra.js" "$web/01_mimesniff.js"
  for s in $(grep -o 'load("ext:[^"]*")' "$here/../../runtime/js/bootstrap.js" | sed 's/load("ext:\(.*\)")/\1/'); do
    case "$s" in
      deno_web/*) set -- "$@" "$web/${s#deno_web/}" ;;
      deno_fetch/*) set -- "$@" "$fetch/${s#deno_fetch/}" ;;
      deno_crypto/*) set -- "$@" "$crypto/${s#deno_crypto/}" ;;
    esac
  done
fi
"$work/functions" "$@"
