#!/usr/bin/env bash
# esbuild vs rolldown on Workers-style projects (README.md): `[RUNS=20] bash benches/bundlers/run.sh`.
# Installs the pinned bundlers, generates projects/ from projects-src/, runs bench.mjs (tables on stdout, out/results.md).
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund
rm -rf projects out && cp -r projects-src projects && mkdir -p out/esbuild out/rolldown
echo '{ "type": "module" }' > out/package.json
echo "a note inlined as text" > projects/assets/src/note.txt
printf 'BINARY\0\1\2' > projects/assets/src/data.bin
# pkg NAME CONDITION...: a package whose `exports` list these conditions in this order; each file exports its name.
pkg() {
  local name=$1 dir=projects/cond/node_modules/$1 exports="" c file; shift; mkdir -p "$dir"
  for c in "$@"; do
    case $c in
      require) file=require.cjs; echo "module.exports = 'require';" > "$dir/$file" ;;
      import) file=import.mjs; echo "export default 'import';" > "$dir/$file" ;;
      *) file=$c.js; echo "export default '$c';" > "$dir/$file" ;;
    esac
    exports="$exports${exports:+, }\"$c\": \"./$file\""
  done
  echo "{ \"name\": \"$name\", \"version\": \"1.0.0\", \"exports\": { \".\": { $exports } } }" > "$dir/package.json"
}
pkg condpkg workerd worker browser import require default
pkg cond-node-first node workerd default
pkg cond-import-first import workerd default
pkg cond-node-default node default
pkg cond-req import require default
exec node --enable-source-maps bench.mjs
