#!/usr/bin/env bash
# Builds the npm package's WebAssembly, optimised with binaryen's wasm-opt, in two modules:
#   pkg/{bundler,nodejs,web}         `cognito-migrate`: keys and info, what an Amplify sign-in
#                                    form loads, with the core's Unicode tables (feature
#                                    `unicode-tables`);
#   pkg/tools/{bundler,nodejs,web}   `cognito-migrate/tools`: keys, the audit and the trigger
#                                    simulator, for operator tools (feature `tools`). It has no
#                                    tables of its own: `cognito_migrate_keys.js`, written here
#                                    beside each tools build, hands it the keys module of the
#                                    same target for the keys of non-ASCII text.
# `bundler` is ESM for Vite/webpack, `nodejs` CommonJS for Node, `web` ESM that fetches its own
# .wasm (plain <script type="module"> pages and module workers, such as web-demo/).
# Fails when a module imports anything from the host besides wasm-bindgen's glue, or when it
# grows past its size budget.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export PATH="$CACHE/bin:$PATH"

# The version Cargo.lock resolved for the `=x.y.z` pin in Cargo.toml.
WASM_BINDGEN_VERSION="$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;q}' "$ROOT/Cargo.lock")"
# Gzipped, optimised .wasm: 64 KiB for the keys module, which every sign-in form with non-ASCII
# input downloads; 96 KiB for the tools module, an operator's page.
KEYS_MAX_GZIP_BYTES=65536
TOOLS_MAX_GZIP_BYTES=98304
# Panic locations (file, line, column): a panic=abort module never shows them to anyone, and
# leaving them out saves about 1.3 KB gzipped. The flag is unstable, so this one build lets the
# stable compiler accept it (as scripts/fuzz.sh does for cargo-fuzz's flags).
WASM_RUSTFLAGS="-Zlocation-detail=none"
# Flattening and re-running the relooper before two -Oz rounds lets binaryen rebuild the control
# flow LLVM left behind: about 1.5 KB less gzipped for the tools module, 0.2 KB for the keys one.
# The module defines its own memory, which WebAssembly zero-fills, so binaryen may drop zero
# bytes from the data. The producers and target-features sections serve only tools that read
# the module before this.
WASM_OPT_PASSES=(--zero-filled-memory --flatten --rereloop -Oz -Oz --strip-producers --strip-target-features)
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

size_line() { # LABEL FILE
  printf '  %-40s %8d bytes raw %8d bytes gzip\n' "$1" "$(wc -c < "$2")" "$(gzip -9 -c "$2" | wc -c)"
}

build_module() { # OUT_DIR BUDGET_BYTES TARGET... (cargo feature flags in $FEATURES)
  local out="$1" budget="$2"
  shift 2
  log "building $CRATE for wasm32-unknown-unknown (profile wasm, ${FEATURES[*]:-default features})"
  RUSTC_BOOTSTRAP=1 RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$WASM_RUSTFLAGS" \
    cargo build --quiet -p cognito-migrate-wasm --target wasm32-unknown-unknown --profile wasm "${FEATURES[@]}"
  local raw="$work/$(basename "$out").wasm"
  cp "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm/$CRATE.wasm" "$raw"

  # The core is sans-I/O: the linked module may import only wasm-bindgen's own placeholders,
  # which the CLI below replaces with the generated glue.
  node "$ROOT/wasm/tools/wasm-imports.mjs" "$raw" __wbindgen_placeholder__ __wbindgen_externref_xform__

  for target in "$@"; do
    log "wasm-bindgen --target $target -> ${out#"$ROOT/"}/$target"
    wasm-bindgen --target "$target" --out-name "$CRATE" --out-dir "$out/$target" "$raw"
  done
  # The package root is "type": "module"; the nodejs glue is CommonJS.
  printf '{ "type": "commonjs" }\n' > "$out/nodejs/package.json"

  # One source of types: the bundler build's d.ts is published; the nodejs glue exposes the
  # same API, which this check keeps true. (The web build's d.ts adds only its `init`.)
  if ! diff -u "$out/bundler/$CRATE.d.ts" "$out/nodejs/$CRATE.d.ts"; then
    echo "build-wasm: the bundler and nodejs builds declare different APIs" >&2
    exit 1
  fi
  rm "$out/nodejs/$CRATE.d.ts" "$out/nodejs/${CRATE}_bg.wasm.d.ts"

  echo "sizes (${out#"$ROOT/"}):"
  size_line "cargo (profile wasm)" "$raw"
  for target in "$@"; do
    local module="$out/$target/${CRATE}_bg.wasm"
    size_line "$target after wasm-bindgen" "$module"
    "$WASM_OPT" "${WASM_OPT_PASSES[@]}" "$module" -o "$module.opt"
    mv "$module.opt" "$module"
    size_line "$target after wasm-opt" "$module"
    node "$ROOT/wasm/tools/wasm-imports.mjs" "$module" "./${CRATE}_bg.js" >/dev/null
    local gzip_bytes
    gzip_bytes="$(gzip -9 -c "$module" | wc -c)"
    if [ "$gzip_bytes" -gt "$budget" ]; then
      echo "build-wasm: ${out#"$ROOT/"}/$target module is $gzip_bytes bytes gzipped, over the $budget-byte budget" >&2
      exit 1
    fi
  done
}

write_keys_links() { # How each tools build reaches the keys build of its target.
  local tools="$PKG/tools"
  printf '%s\n' "// The keys module's Unicode half for the tools module (see scripts/build-wasm.sh)." \
    "export { canonicalUsername, matchKey } from '../../bundler/${CRATE}.js';" \
    > "$tools/bundler/cognito_migrate_keys.js"
  printf '%s\n' "// The keys module's Unicode half for the tools module (see scripts/build-wasm.sh)." \
    "module.exports = require('../../nodejs/${CRATE}.js');" \
    > "$tools/nodejs/cognito_migrate_keys.js"
  printf '%s\n' "// The keys module's Unicode half for the tools module (see scripts/build-wasm.sh)." \
    "export { canonicalUsername, matchKey } from '../../web/${CRATE}.js';" \
    > "$tools/web/cognito_migrate_keys.js"
  # The web build's entry point: one init() for both modules.
  cp "$ROOT/wasm/js/tools-web/index.js" "$ROOT/wasm/js/tools-web/index.d.ts" "$tools/web/"
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$PKG"
FEATURES=(--no-default-features --features unicode-tables)
build_module "$PKG" "$KEYS_MAX_GZIP_BYTES" bundler nodejs web
FEATURES=(--no-default-features --features tools)
build_module "$PKG/tools" "$TOOLS_MAX_GZIP_BYTES" bundler nodejs web
write_keys_links
log "pkg/ ready"
