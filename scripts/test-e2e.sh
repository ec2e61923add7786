#!/usr/bin/env bash
# End to end through the local stack: starts it (the trigger must build), then runs one session
# per pair of pool shapes below: the pytest scenarios of e2e/ (their session resets the stack to
# its shapes, seeds the legacy pool, audits and indexes it with the real CLI), then the Amplify v6
# test of the npm package against the same stack. Every server stops on exit, interrupted or not.
# At the end, no output and no server log of any session may hold the seed's canary password.
#
# Usage: [E2E_SESSIONS="NEW:LEGACY[:BULK] ..."] scripts/test-e2e.sh [pytest arguments]
#   E2E_SESSIONS  the sessions to run (default: all of SESSIONS below), e.g. "alias:alias".
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

# The sessions, as new pool shape : legacy pool shape : ordinary users seeded besides the
# scenario users. Every new-pool shape runs against the headline legacy pool (plain usernames,
# many of them e-mail addresses in mixed case, which is what a case-sensitive pool collects);
# each other legacy shape runs once, with the new shape its users most naturally move to: e-mail
# as the username into the template's default (e-mail as the username), handles with aliases into
# a pool with aliases. Only the first session seeds the full bulk (pagination, the audit and the
# index at scale); the new-shape sessions repeat the same legacy pool, so a small bulk does; the
# legacy-shape sessions keep enough to page the legacy pool and hold every bulk case collision.
SESSIONS=(
  username:username:1000
  email:username:100
  alias:username:100
  email:email:400
  alias:alias:400
)
# shellcheck disable=SC2206
[ -z "${E2E_SESSIONS:-}" ] || SESSIONS=(${E2E_SESSIONS})

amplify_user() { # FIELD: the seed's user that nothing else signs in with (SCENARIOS["amplify"])
  (cd e2e && python -c "import seed; print(seed.SCENARIOS['amplify'].$1)")
}

status=0
mkdir -p "$work/logs"
for session in "${SESSIONS[@]}"; do
  IFS=: read -r new_shape legacy_shape bulk <<<"$session"
  step "pytest e2e/: new pool $new_shape, legacy pool $legacy_shape, ${bulk:-1000} ordinary users"
  # -p no:cacheprovider: nothing written into the clone. The output is kept to search it for the
  # seed's canary password below.
  (cd e2e && STACK_NEW_POOL_SHAPE="$new_shape" STACK_LEGACY_POOL_SHAPE="$legacy_shape" E2E_BULK="${bulk:-}" \
    python -m pytest -p no:cacheprovider -ra "$@") 2>&1 | tee -a "$work/pytest.out" || status=$?

  step "Amplify v6 sign-in helper against the same stack (wasm/tests/amplify-local.test.mjs)"
  # In a subshell: the stack's settings and the password reach this test only, never the stack
  # resets of the next sessions.
  (
    set -a
    # shellcheck disable=SC1091
    . .stack/env
    set +a
    # The address the user types, which signs in whatever the legacy pool's shape.
    LEGACY_USERNAME="$(amplify_user email)"
    LEGACY_PASSWORD="$(amplify_user password)"
    export COGNITO_LOCAL_ENDPOINT NEW_USER_POOL_ID NEW_CLIENT_ID LEGACY_USERNAME LEGACY_PASSWORD
    node --test --test-reporter=spec wasm/tests/amplify-local.test.mjs 2>&1 | tee -a "$work/node.out"
  ) || status=$?
  # The next session's reset starts cognito-local and the Lambda on fresh logs: keep these.
  mkdir -p "$work/logs/$new_shape-$legacy_shape"
  cp .stack/logs/*.log "$work/logs/$new_shape-$legacy_shape/"
done

canary="$(cd e2e && python -c 'import seed; print(seed.CANARY)')"
if grep -rlF -- "$canary" "$work/pytest.out" "$work/node.out" "$work/logs" .stack/logs; then
  echo "test-e2e: the seed's canary password appears in the files above" >&2
  status=1
fi

if [ "$status" = 0 ]; then
  step "end to end passed"
else
  step "end to end FAILED"
fi
exit "$status"
