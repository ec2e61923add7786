#!/usr/bin/env bash
# The whole migration on one machine: installs what is missing, builds the trigger and the
# operator CLI, starts the local stack (moto as the legacy case-sensitive pool and the ledger,
# cognito-local as the new case-insensitive pool, the trigger under cargo lambda watch), seeds
# 1,000+ legacy users, audits and indexes them with the real CLI, then signs a few users in and
# tells what happened.
#
# Usage: scripts/demo.sh [--keep]
#   --keep   leave the stack running at the end and print how to reach it and how to stop it.
# The pools' shapes come from STACK_NEW_POOL_SHAPE and STACK_LEGACY_POOL_SHAPE (scripts/stack.sh);
# the demo prints the ones it runs with.
# Without --keep, and whenever the demo is interrupted, every server it started is stopped.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
# Nothing written into the clone by Python (e2e/__pycache__).
export PYTHONDONTWRITEBYTECODE=1

keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    *) echo "usage: $0 [--keep]" >&2; exit 2 ;;
  esac
done

if [ -t 1 ]; then B=$'\033[1m' R=$'\033[0m'; else B="" R=""; fi
title() { printf '\n%s%s%s\n' "$B" "$*" "$R"; }

finished=0
child=""
cleanup() {
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [ "$keep" = 1 ] && [ "$finished" = 1 ]; then return; fi
  bash scripts/stack.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Long steps run in the background and are waited for: bash runs a trap only between
# commands, and `wait` returns at once on a signal, so an interrupt stops the demo right away.
run() {
  local rc=0
  "$@" &
  child=$!
  wait "$child" || rc=$?
  child=""
  return "$rc"
}

started=$(date +%s)
log "installing what is missing"
run bash scripts/bootstrap.sh
log "building the trigger and the operator CLI (a cold build takes several minutes)"
run cargo build --quiet -p cognito-migrate-lambda --bin cognito-migrate-trigger -p cognito-migrate-cli --bin cognito-migrate
CLI="$CARGO_TARGET_DIR/debug/cognito-migrate"
if [ ! -f pkg/nodejs/cognito_migrate_wasm.js ]; then
  # The story computes what the app sends with the npm package's canonicalUsername.
  log "building the npm package"
  run bash scripts/build-wasm.sh
fi
log "starting the local stack"
run env STACK_REQUIRE_BUILD=1 bash scripts/stack.sh start

set -a
# shellcheck disable=SC1091
. .stack/env
set +a
shape_words() {
  case "$1" in
    username) echo "plain usernames" ;;
    email) echo "email as the username" ;;
    alias) echo "usernames with email and preferred_username aliases" ;;
    *) echo "$1" ;;
  esac
}
log "pool shapes: new pool $NEW_POOL_SHAPE ($(shape_words "$NEW_POOL_SHAPE")), legacy pool $LEGACY_POOL_SHAPE ($(shape_words "$LEGACY_POOL_SHAPE"))"

title "Seeding the legacy pool (moto)"
run python e2e/seed.py

# The CLI reaches moto through the SDK's endpoint variables; none of the caller's AWS settings.
# A plain command (not a function), so the PID `run` waits for is the CLI's own.
cli=(env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL_DYNAMODB -u AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER
  AWS_ENDPOINT_URL="$MOTO_ENDPOINT" LEGACY_ENDPOINT_URL="$MOTO_ENDPOINT"
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 "$CLI")

title "Before the cut-over: cognito-migrate audit"
mkdir -p .stack/demo
run "${cli[@]}" audit --legacy-pool-id "$LEGACY_USER_POOL_ID" --out-dir .stack/demo >/dev/null
python - .stack/demo/audit.json <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))
counts = {c["category"]: c["count"] for c in a["categories"]}
decide = a["totalUsers"] - a["usersWithoutIssues"]
print(f"  {a['totalUsers']} legacy users; {len(a['collisions'])} collisions (identifiers shared once case is ignored)"
      f" involving {a['usersInCollisions']} users; {decide} users need a decision")
words = lambda k: "".join(" " + c.lower() if c.isupper() else c for c in k).replace("_", " ")
print("  " + ", ".join(f"{n} {words(k)}" for k, n in counts.items() if n))
EOF
echo "  full report: .stack/demo/audit.md and .stack/demo/audit.json"

title "Filling the ledger: cognito-migrate index"
run "${cli[@]}" index --legacy-pool-id "$LEGACY_USER_POOL_ID" --table "$LEDGER_TABLE" >.stack/demo/index.out 2>&1
grep -E '^(index|recount):' .stack/demo/index.out | sed 's/^/  /'

title "Sign-ins to the new pool (cognito-local), as an Amplify app configured for migration sends them"
run python e2e/demo_story.py .stack/demo/audit.json

title "Where the migration stands: cognito-migrate status"
run "${cli[@]}" status --table "$LEDGER_TABLE" | sed 's/^/  /'

# The checks an operator runs against AWS, here against the stack: the function record (its
# variables, its resource policy) lives in moto's Lambda API, the new pool is cognito-local.
title "Is the setup safe and complete? cognito-migrate doctor"
doctor=(env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL_DYNAMODB -u AWS_ENDPOINT_URL_LAMBDA
  AWS_ENDPOINT_URL="$LAMBDA_API_ENDPOINT" AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="$COGNITO_LOCAL_ENDPOINT"
  LEGACY_ENDPOINT_URL="$MOTO_ENDPOINT" AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
  "$CLI" doctor --function "$TRIGGER_FUNCTION" --new-pool-id "$NEW_USER_POOL_ID" --new-client-id "$NEW_CLIENT_ID")
doctor_rc=0
run "${doctor[@]}" >.stack/demo/doctor.out 2>&1 || doctor_rc=$?
sed 's/^/  /' .stack/demo/doctor.out
if [ "$doctor_rc" != 0 ]; then
  echo "demo: doctor found a problem in the stack's setup (exit $doctor_rc)" >&2
  exit 1
fi

finished=1
log "demo done in $(($(date +%s) - started))s"
if [ "$keep" = 1 ]; then
  cat <<EOF

${B}The stack is still running.${R}
  legacy pool (moto):          $MOTO_ENDPOINT   pool $LEGACY_USER_POOL_ID, client $LEGACY_CLIENT_ID
  ledger (DynamoDB on moto):   $MOTO_ENDPOINT   table $LEDGER_TABLE
  new pool (cognito-local):    $COGNITO_LOCAL_ENDPOINT   pool $NEW_USER_POOL_ID, client $NEW_CLIENT_ID
  pool shapes:                 new $NEW_POOL_SHAPE, legacy $LEGACY_POOL_SHAPE
  trigger (cargo lambda watch): $LAMBDA_ENDPOINT/2015-03-31/functions/cognito-migrate-trigger/invocations
  every setting: .stack/env; logs: .stack/logs/ (the Lambda's decisions: .stack/logs/lambda.log)

Try it (dummy credentials; the endpoints are local):
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url $COGNITO_LOCAL_ENDPOINT cognito-idp admin-get-user --user-pool-id $NEW_USER_POOL_ID --username name@acme.com
  $VENV/bin/python -c "import boto3; print(boto3.client('cognito-idp', endpoint_url='$COGNITO_LOCAL_ENDPOINT', region_name='us-east-1', aws_access_key_id='local', aws_secret_access_key='local').list_users(UserPoolId='$NEW_USER_POOL_ID')['Users'])"

Check the trigger's configuration as on AWS (the function record lives in moto's Lambda API):
  env AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 \\
    AWS_ENDPOINT_URL=$LAMBDA_API_ENDPOINT AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=$COGNITO_LOCAL_ENDPOINT \\
    LEGACY_ENDPOINT_URL=$MOTO_ENDPOINT $CLI doctor --function $TRIGGER_FUNCTION \\
    --new-pool-id $NEW_USER_POOL_ID --new-client-id $NEW_CLIENT_ID

Stop it with: scripts/stack.sh stop
EOF
fi
