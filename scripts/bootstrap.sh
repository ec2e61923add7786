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
stamp="$VENV/.installed-moto-$MOTO_VERSION-cargo-lambda-$CARGO_LAMBDA_VERSION-cfn-lint-$CFN_LINT_VERSION"
if [ ! -f "$stamp" ]; then
  log "creating the Python environment (moto $MOTO_VERSION, cargo-lambda $CARGO_LAMBDA_VERSION, cfn-lint $CFN_LINT_VERSION)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "moto[server,cognitoidp,dynamodb,awslambda,iam]==$MOTO_VERSION" \
    "cargo-lambda==$CARGO_LAMBDA_VERSION" \
    "cfn-lint==$CFN_LINT_VERSION"
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
