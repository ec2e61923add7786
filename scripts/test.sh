#!/usr/bin/env bash
# The one test command: installs what is missing, then runs every check in order.
# Usage: scripts/test.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
started=$(date +%s)
step() { log "$* ($(( $(date +%s) - started ))s)"; }

step "installing what is missing"
bash scripts/bootstrap.sh --browser

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust tests"
cargo test --workspace --locked --no-fail-fast

step "docs (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "core builds for wasm32-unknown-unknown"
cargo build -p cognito-migrate-core --target wasm32-unknown-unknown --locked

step "the npm package's two modules: clippy on each feature set, core's host-supplied keys"
for features in unicode-tables tools; do
  cargo clippy -p cognito-migrate-wasm --target wasm32-unknown-unknown --no-default-features \
    --features "$features" --locked -- -D warnings
done
cargo test -p cognito-migrate-core --no-default-features --lib --locked -- keys::host

step "fuzzing: each cargo-fuzz target for 30 s"
bash scripts/fuzz.sh 30

step "deploy template: cfn-lint and the role against the code"
bash scripts/check-deploy.sh

step "npm package: build, size and import checks, Node and Chromium tests"
bash scripts/test-js.sh

step "local stack self-test"
bash scripts/stack/selftest.sh

step "end to end through the local stack"
bash scripts/test-e2e.sh

step "all checks passed in $(( $(date +%s) - started ))s"
