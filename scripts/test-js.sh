#!/usr/bin/env bash
# Builds the npm package and tests it in Node and headless Chromium against the native core:
# the core's pinned key table plus native keys generated now by the same core, TypeScript types,
# Node tests, the browser test, then the web demo served as `scripts/serve-demo.sh` serves it.
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

log "native keys (edge cases, seed $KEY_SEED, $KEY_COUNT random strings)"
cargo build --quiet -p cognito-migrate-wasm --example key_table
"$CARGO_TARGET_DIR/debug/examples/key_table" native "$KEY_SEED" "$KEY_COUNT" >"$NATIVE_KEYS"

cd "$ROOT"
log "tsc --noEmit --strict (nodenext and bundler resolution)"
tsc --noEmit --strict -p wasm/tests/tsconfig.json
tsc --noEmit --strict -p wasm/tests/tsconfig.json --module esnext --moduleResolution bundler

log "node --test (Node build)"
node --test --test-reporter=spec wasm/tests/keys.test.mjs wasm/tests/tools.test.mjs wasm/tests/amplify.test.mjs \
  wasm/tests/ascii-keys.test.mjs

log "node --test (headless Chromium, bundler build; the Amplify helper's page prints its gzipped bytes)"
node --test --test-reporter=spec wasm/tests/browser.test.mjs wasm/tests/amplify-browser.test.mjs

log "node --test (web demo in headless Chromium; screenshots in artifacts/web-demo/)"
node --test --test-concurrency=1 --test-reporter=spec web-demo/tests/*.test.mjs
