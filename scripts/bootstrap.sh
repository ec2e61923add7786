#!/usr/bin/env bash
# Installs what the tests, the demo and the local stack need. Safe to run again: each step
# checks first and installs only what is missing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) echo "bootstrap: unknown argument $arg" >&2; exit 2 ;;
  esac
done

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

mkdir -p "$CACHE"

# The wasm-bindgen CLI must be exactly the version pinned in Cargo.toml: the JS glue it writes and
# the wasm-bindgen crate compiled into the module speak one private protocol. A debug build of
# the CLI installs in about 2 minutes instead of 7 and still processes our module in under a
# second. Its own target folder keeps the install from locking the workspace's.
# The version Cargo.lock resolved for the `=x.y.z` pin in Cargo.toml.
WASM_BINDGEN_VERSION="$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;q}' "$ROOT/Cargo.lock")"
if [ "$("$CACHE/bin/wasm-bindgen" --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION into $CACHE/bin"
  CARGO_TARGET_DIR="$CACHE/install-target" cargo install --quiet --debug --force \
    --root "$CACHE" wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
# pytest runs the end-to-end tests (e2e/) against the local stack.
PYTEST_VERSION="8.4.2"
stamp="$VENV/.installed-moto-$MOTO_VERSION-cargo-lambda-$CARGO_LAMBDA_VERSION-cfn-lint-$CFN_LINT_VERSION-pytest-$PYTEST_VERSION"
if [ ! -f "$stamp" ]; then
  log "creating the Python environment (moto $MOTO_VERSION, cargo-lambda $CARGO_LAMBDA_VERSION, cfn-lint $CFN_LINT_VERSION, pytest $PYTEST_VERSION)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "moto[server,cognitoidp,dynamodb,awslambda,iam]==$MOTO_VERSION" \
    "cargo-lambda==$CARGO_LAMBDA_VERSION" \
    "cfn-lint==$CFN_LINT_VERSION" \
    "pytest==$PYTEST_VERSION"
  touch "$stamp"
fi

if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  log "installing npm packages"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$want_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's Chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
