#!/usr/bin/env bash
# End to end through the local stack: starts it (the trigger must build), runs the pytest
# scenarios of e2e/ (their session resets the stack, seeds the legacy pool, audits and indexes
# it with the real CLI), then the Amplify v6 test of the npm package against the same stack,
# then the pytest scenarios again for each other sign-in shape of the new pool (plain
# usernames, email as username, aliases: each session resets the stack to its shape), and stops
# every server on exit, interrupted or not.
#
# Usage: [STACK_NEW_POOL_SHAPE=username|email|alias] scripts/test-e2e.sh [pytest arguments]
#   STACK_NEW_POOL_SHAPE  the shape of the first run, the one the Amplify test uses (default
#                         username).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
# Nothing written into the clone by Python (e2e/__pycache__).
export PYTHONDONTWRITEBYTECODE=1
started=$(date +%s)
step() { log "$* ($(($(date +%s) - started))s)"; }

bash scripts/bootstrap.sh

step "building the operator CLI"
cargo build --quiet -p cognito-migrate-cli --bin cognito-migrate

if [ ! -f pkg/nodejs/cognito_migrate_wasm.js ]; then
  step "building the npm package (the Amplify test imports it)"
  bash scripts/build-wasm.sh
fi

work="$(mktemp -d)"
trap 'bash scripts/stack.sh stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

step "starting the local stack"
STACK_REQUIRE_BUILD=1 bash scripts/stack.sh start

# The attack tests (e2e/test_attacks.py) mount each attack against the plain-username pool:
# the trigger's decisions do not depend on the shape, but each attack's setup does (sign-up
# names, generated usernames), so they run in that shape's session.
shape_args() { # SHAPE
  [ "$1" = username ] || echo "--ignore=test_attacks.py"
}

first_shape="${STACK_NEW_POOL_SHAPE:-username}"
step "pytest e2e/ ($first_shape shape)"
status=0
# -p no:cacheprovider: nothing written into the clone. The output is kept to search it for the
# seed's canary password below.
# shellcheck disable=SC2046
(cd e2e && python -m pytest -p no:cacheprovider -ra $(shape_args "$first_shape") "$@") 2>&1 \
  | tee "$work/pytest.out" || status=$?

step "Amplify v6 sign-in helper against the stack (wasm/tests/amplify-local.test.mjs)"
# In a subshell: the stack's settings and the password reach this test only, never the stack
# resets below.
(
  set -a
  # shellcheck disable=SC1091
  . .stack/env
  set +a
  # A user of the seed that nothing else signs in with (e2e/seed.py, SCENARIOS["amplify"]).
  LEGACY_USERNAME="$(cd e2e && python -c 'import seed; print(seed.SCENARIOS["amplify"].username)')"
  LEGACY_PASSWORD="$(cd e2e && python -c 'import seed; print(seed.SCENARIOS["amplify"].password)')"
  export COGNITO_LOCAL_ENDPOINT NEW_USER_POOL_ID NEW_CLIENT_ID LEGACY_USERNAME LEGACY_PASSWORD
  node --test --test-reporter=spec wasm/tests/amplify-local.test.mjs 2>&1 | tee "$work/node.out"
) || status=$?

for shape in username email alias; do
  [ "$shape" = "$first_shape" ] && continue
  step "pytest e2e/ with the new pool's $shape shape"
  # shellcheck disable=SC2046
  (cd e2e && STACK_NEW_POOL_SHAPE="$shape" python -m pytest -p no:cacheprovider -ra \
    $(shape_args "$shape") "$@") 2>&1 \
    | tee -a "$work/pytest.out" || status=$?
done

canary="$(cd e2e && python -c 'import seed; print(seed.CANARY)')"
if grep -lF -- "$canary" "$work/pytest.out" "$work/node.out" .stack/logs/*.log; then
  echo "test-e2e: the seed's canary password appears in the files above" >&2
  status=1
fi

if [ "$status" = 0 ]; then
  step "end to end passed"
else
  step "end to end FAILED"
fi
exit "$status"
