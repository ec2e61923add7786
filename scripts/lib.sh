# Shared settings for the scripts; sourced, never run.
# Everything installed lives outside the clone so that repeated runs (and CI on the same
# machine) reuse it; every install step below is idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${COGNITO_MIGRATE_CACHE:-$HOME/.cache/cognito-migrate}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
VENV="$CACHE/venv"
MOTO_VERSION="5.2.5"
CARGO_LAMBDA_VERSION="1.9.2"
CFN_LINT_VERSION="1.58.0"
export PATH="$VENV/bin:$ROOT/node_modules/.bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
