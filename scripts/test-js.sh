#!/usr/bin/env bash
# Builds the npm package and tests it in Node and headless Chromium against the native core:
# native key tables (generated now, by the same core), TypeScript types, Node tests, browser test.
#   KEY_SEED=N   seed of the random strings (default fixed, so runs are reproducible)
#   KEY_COUNT=N  how many random strings (default 10000)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEY_SEED="${KEY_SEED:-20240212}"
KEY_COUNT="${KEY_COUNT:-10000}"

"$ROOT/scripts/bootstrap.sh" --browser
"$ROOT/scripts/build-wasm.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export NATIVE_KEYS="$work/native-keys.json"

log "native key tables (seed $KEY_SEED, $KEY_COUNT random strings)"
cargo build --quiet -p cognito-migrate-wasm --example key_table
key_table="$CARGO_TARGET_DIR/debug/examples/key_table"
"$key_table" native "$KEY_SEED" "$KEY_COUNT" >"$NATIVE_KEYS"
# The committed table is the record of what the keys are; a change to the core that moves any
# key must be deliberate (stored keys in the ledger depend on it).
if ! "$key_table" examples | diff -u "$ROOT/wasm/tests/fixtures/key-examples.json" - >"$work/examples.diff"; then
  cat "$work/examples.diff" >&2
  echo "test-js: wasm/tests/fixtures/key-examples.json no longer matches the core; if the change is" \
    "intended, regenerate it: $key_table examples > wasm/tests/fixtures/key-examples.json" >&2
  exit 1
fi

cd "$ROOT"
log "tsc --noEmit --strict (nodenext and bundler resolution)"
tsc --noEmit --strict -p wasm/tests/tsconfig.json
tsc --noEmit --strict -p wasm/tests/tsconfig.json --module esnext --moduleResolution bundler

log "node --test (Node build)"
node --test --test-reporter=spec wasm/tests/keys.test.mjs wasm/tests/amplify.test.mjs

log "node --test (headless Chromium, bundler build)"
node --test --test-reporter=spec wasm/tests/browser.test.mjs
