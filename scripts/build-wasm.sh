#!/usr/bin/env bash
# Builds the npm package's WebAssembly: pkg/bundler (ESM for Vite/webpack) and pkg/nodejs
# (CommonJS for Node), optimised with binaryen's wasm-opt. Fails when the module imports anything
# from the host besides wasm-bindgen's glue, or when it grows past the size budget.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export PATH="$CACHE/bin:$PATH"

# The version Cargo.lock resolved for the `=x.y.z` pin in Cargo.toml.
WASM_BINDGEN_VERSION="$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;q}' "$ROOT/Cargo.lock")"
# Gzipped, optimised .wasm; what an Amplify app downloads before its sign-in form works.
MAX_GZIP_BYTES=98304
CRATE=cognito_migrate_wasm
PKG="$ROOT/pkg"

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  echo "build-wasm: wasm-bindgen $WASM_BINDGEN_VERSION is missing; run scripts/bootstrap.sh" >&2
  exit 1
fi
# Debian's wasm-opt (binaryen 108) writes modules that crash on load: insist on npm's.
WASM_OPT="$ROOT/node_modules/.bin/wasm-opt"
if [ ! -x "$WASM_OPT" ]; then
  echo "build-wasm: $WASM_OPT is missing; run scripts/bootstrap.sh" >&2
  exit 1
fi

log "building $CRATE for wasm32-unknown-unknown (profile wasm)"
cargo build --quiet -p cognito-migrate-wasm --target wasm32-unknown-unknown --profile wasm
RAW="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm/$CRATE.wasm"

# The core is sans-I/O: the linked module may import only wasm-bindgen's own placeholders,
# which the CLI below replaces with the generated glue.
node "$ROOT/wasm/tools/wasm-imports.mjs" "$RAW" __wbindgen_placeholder__ __wbindgen_externref_xform__

rm -rf "$PKG"
for target in bundler nodejs; do
  log "wasm-bindgen --target $target"
  wasm-bindgen --target "$target" --out-dir "$PKG/$target" "$RAW"
done
# The package root is "type": "module"; the nodejs glue is CommonJS.
printf '{ "type": "commonjs" }\n' > "$PKG/nodejs/package.json"

# One source of types: the bundler build's d.ts is published; the nodejs glue exposes the same
# API, which this check keeps true.
if ! diff -u "$PKG/bundler/$CRATE.d.ts" "$PKG/nodejs/$CRATE.d.ts"; then
  echo "build-wasm: the bundler and nodejs builds declare different APIs" >&2
  exit 1
fi
rm "$PKG/nodejs/$CRATE.d.ts" "$PKG/nodejs/${CRATE}_bg.wasm.d.ts"

size_line() { # LABEL FILE
  printf '  %-34s %8d bytes raw %8d bytes gzip\n' "$1" "$(wc -c < "$2")" "$(gzip -9 -c "$2" | wc -c)"
}

echo "sizes:"
size_line "cargo (profile wasm)" "$RAW"
for target in bundler nodejs; do
  module="$PKG/$target/${CRATE}_bg.wasm"
  size_line "$target after wasm-bindgen" "$module"
  "$WASM_OPT" -Oz "$module" -o "$module.opt"
  mv "$module.opt" "$module"
  size_line "$target after wasm-opt -Oz" "$module"
  node "$ROOT/wasm/tools/wasm-imports.mjs" "$module" "./${CRATE}_bg.js" >/dev/null
  gzip_bytes="$(gzip -9 -c "$module" | wc -c)"
  if [ "$gzip_bytes" -gt "$MAX_GZIP_BYTES" ]; then
    echo "build-wasm: $target module is $gzip_bytes bytes gzipped, over the $MAX_GZIP_BYTES-byte budget" >&2
    exit 1
  fi
done
log "pkg/ ready"
