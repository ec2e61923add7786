#!/usr/bin/env bash
# Checks scripts/stack.sh end to end on a stack of its own (.stack/selftest, ports 15055, 19229,
# 19001 unless set), so it never disturbs a stack already running in .stack/: start, status,
# start again without strays, the shim's case-insensitive lookups, an InitiateAuth that reaches
# the Lambda endpoint, Cognito's rules per pool shape (scripts/stack/selftest_rules.py and, in
# process, scripts/stack/cognito-rules.test.cjs), what `doctor` reads, reset, stop. Exits
# non-zero if any check failed.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

export STACK_DIR="${SELFTEST_STACK_DIR:-$ROOT/.stack/selftest}"
export MOTO_PORT="${SELFTEST_MOTO_PORT:-15055}"
export COGNITO_LOCAL_PORT="${SELFTEST_COGNITO_LOCAL_PORT:-19229}"
export LAMBDA_PORT="${SELFTEST_LAMBDA_PORT:-19001}"
STACK="$ROOT/scripts/stack.sh"
PYTHON="$VENV/bin/python"

failures=0
pass() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*" >&2; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

trap '"$STACK" stop >/dev/null 2>&1 || true' EXIT

pids() { cat "$STACK_DIR"/pids/{moto,cognito-local,lambda}.pid 2>/dev/null | tr '\n' ' '; }
listener_pid() { # the PID listening on 127.0.0.1:PORT
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2
}
only_recorded_listeners() {
  local name port
  for name in moto cognito-local lambda; do
    case "$name" in
      moto) port=$MOTO_PORT ;;
      cognito-local) port=$COGNITO_LOCAL_PORT ;;
      lambda) port=$LAMBDA_PORT ;;
    esac
    [ "$(listener_pid "$port")" = "$(cat "$STACK_DIR/pids/$name.pid")" ] || return 1
  done
}
all_dead() {
  local pid
  for pid in "$@"; do
    ! kill -0 "$pid" 2>/dev/null || return 1
  done
}
stack_processes() { # processes of this stack, found by their command lines and environments
  local environ pid cmd
  for environ in /proc/[0-9]*/environ; do
    pid="${environ#/proc/}" pid="${pid%/environ}"
    cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || continue
    if [[ "$cmd" == *"moto_server.py 127.0.0.1 $MOTO_PORT"* || "$cmd" == *"-P $LAMBDA_PORT "* ]] ||
      tr '\0' '\n' 2>/dev/null <"$environ" | grep -qx -e "PORT=$COGNITO_LOCAL_PORT" -e "AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:$LAMBDA_PORT/.rt/cognito-migrate-trigger"; then
      echo "$pid"
    fi
  done
}
invocations() { grep -c 'invocation received' "$STACK_DIR/logs/lambda.log" 2>/dev/null || true; }

echo "== start"
"$STACK" start
check "status: all three alive" "$STACK" status
check "env: every key set" "$PYTHON" - "$STACK_DIR/env" <<'EOF'
import sys
keys = """LEGACY_USER_POOL_ID LEGACY_CLIENT_ID LEGACY_SECRET_CLIENT_ID LEGACY_SECRET_CLIENT_SECRET
LEDGER_TABLE NEW_USER_POOL_ID NEW_USER_POOL_ARN NEW_CLIENT_ID MOTO_ENDPOINT COGNITO_LOCAL_ENDPOINT LAMBDA_ENDPOINT
NEW_POOL_SHAPE LEGACY_POOL_SHAPE TRIGGER_FUNCTION TRIGGER_FUNCTION_ARN LAMBDA_API_ENDPOINT""".split()
env = dict(line.rstrip("\n").split("=", 1) for line in open(sys.argv[1]) if "=" in line)
missing = [k for k in keys if not env.get(k)]
if missing:
    sys.exit(f"missing: {missing}")
EOF
first_pids="$(pids)"

echo "== start again"
"$STACK" start
# shellcheck disable=SC2086
check "the first servers are gone" all_dead $first_pids
check "each port is served by the recorded PID" only_recorded_listeners
count="$(stack_processes | wc -l)"
# moto, cognito-local, the watch; a live function adds its `cargo run` and the binary.
check "no stray processes ($count found)" test "$count" -ge 3 -a "$count" -le 5

echo "== resources and the shim"
set -a
# shellcheck disable=SC1091
. "$STACK_DIR/env"
set +a
before="$(invocations)"
check "moto, cognito-local and the Lambda endpoint behave" env ROOT="$ROOT" "$PYTHON" - <<'EOF'
import os, sys, time
import boto3
from botocore.config import Config

def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local",
                        config=Config(retries={"max_attempts": 1}, read_timeout=60))

ok = True
def expect(what, cond):
    global ok
    print(f"    {'ok' if cond else 'FAIL'}  {what}")
    ok = ok and bool(cond)

legacy = client("cognito-idp", os.environ["MOTO_ENDPOINT"])
pool = legacy.describe_user_pool(UserPoolId=os.environ["LEGACY_USER_POOL_ID"])["UserPool"]
expect("legacy pool is case-sensitive", pool.get("UsernameConfiguration", {}).get("CaseSensitive") is True)
shape = os.environ["LEGACY_POOL_SHAPE"]
expect(f"legacy pool has the {shape} shape",
       (pool.get("AliasAttributes") or [], pool.get("UsernameAttributes") or [])
       == {"username": ([], []), "email": ([], ["email"]), "alias": (["email", "preferred_username"], [])}[shape])
secret_client = legacy.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=os.environ["LEGACY_SECRET_CLIENT_ID"])
expect("legacy secret client has its secret",
       secret_client["UserPoolClient"].get("ClientSecret") == os.environ["LEGACY_SECRET_CLIENT_SECRET"])
table = client("dynamodb", os.environ["MOTO_ENDPOINT"]).describe_table(TableName=os.environ["LEDGER_TABLE"])["Table"]
expect("ledger table keyed by pk/sk",
       [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [("pk", "HASH"), ("sk", "RANGE")])
# moto keeps the legacy pool exact: another case is another (unknown) user.
legacy.admin_create_user(UserPoolId=pool["Id"], Username="Legacy.User@Example.com" if shape == "email" else "Legacy.User",
                         MessageAction="SUPPRESS")
try:
    legacy.admin_get_user(UserPoolId=pool["Id"], Username="legacy.user@example.com" if shape == "email" else "legacy.user")
    expect("legacy pool lookups are exact", False)
except legacy.exceptions.UserNotFoundException:
    expect("legacy pool lookups are exact", True)

new = client("cognito-idp", os.environ["COGNITO_LOCAL_ENDPOINT"])
# The shim's lookups, in a pool with aliases like deploy/template.yaml's (not the stack's own).
sys.path.insert(0, os.path.join(os.environ["ROOT"], "scripts", "stack"))
import setup
pool_id = setup.create_new(os.environ["COGNITO_LOCAL_ENDPOINT"], "alias")["NEW_USER_POOL_ID"]
new.admin_create_user(UserPoolId=pool_id, Username="Mixed.Case", MessageAction="SUPPRESS")
got = new.admin_get_user(UserPoolId=pool_id, Username="mixed.case")
expect("new pool: AdminGetUser mixed.case finds Mixed.Case", got["Username"] == "Mixed.Case")
attrs = {a["Name"]: a["Value"] for a in got["UserAttributes"]}
expect("new pool: the user has a sub", bool(attrs.get("sub")))
new.admin_create_user(UserPoolId=pool_id, Username="second.user", MessageAction="SUPPRESS", UserAttributes=[
    {"Name": "email", "Value": "Second@Example.COM"}, {"Name": "email_verified", "Value": "true"},
    {"Name": "preferred_username", "Value": "SecondPref"},
    {"Name": "custom:legacy_sub", "Value": "0000-legacy"}])
expect("new pool: verified email alias matches in any case",
       new.admin_get_user(UserPoolId=pool_id, Username="second@example.com")["Username"] == "second.user")
expect("new pool: preferred_username alias matches in any case",
       new.admin_get_user(UserPoolId=pool_id, Username="SECONDPREF")["Username"] == "second.user")
try:
    new.admin_create_user(UserPoolId=pool_id, Username="MIXED.case", MessageAction="SUPPRESS")
    expect("new pool: usernames are unique whatever their case", False)
except new.exceptions.UsernameExistsException:
    expect("new pool: usernames are unique whatever their case", True)
try:
    new.admin_create_user(UserPoolId=pool_id, Username="third", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "custom:not_in_schema", "Value": "x"}])
    expect("new pool: attributes outside the schema are refused", False)
except new.exceptions.InvalidParameterException:
    expect("new pool: attributes outside the schema are refused", True)

# An unknown user signing in with a password: cognito-local invokes the UserMigration trigger.
# Whatever the function answers (it may not be built yet), the sign-in must not succeed.
started = time.monotonic()
try:
    new.initiate_auth(ClientId=os.environ["NEW_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
                      AuthParameters={"USERNAME": "Nobody@Example.com", "PASSWORD": "Passw0rd!"})
    expect("InitiateAuth for an unknown user is refused", False)
except new.exceptions.NotAuthorizedException:
    expect("InitiateAuth for an unknown user is refused", True)
expect("the trigger wait is bounded (about 5 s)", time.monotonic() - started < 8)
try:
    new.admin_get_user(UserPoolId=os.environ["NEW_USER_POOL_ID"], Username="Nobody@Example.com")
    expect("a refused migration stores no user", False)
except new.exceptions.UserNotFoundException:
    expect("a refused migration stores no user", True)
sys.exit(0 if ok else 1)
EOF
after="$(invocations)"
check "the InitiateAuth reached the Lambda endpoint ($before -> $after invocations logged)" test "$after" -gt "$before"

echo "== Cognito's rules, per pool shape"
check "direct calls on every shape" "$PYTHON" "$ROOT/scripts/stack/selftest_rules.py" "$STACK_DIR/env"
check "migration responses through cognito-local's InitiateAuth, in process" \
  node --test --test-reporter=dot "$ROOT/scripts/stack/cognito-rules.test.cjs"

echo "== reset"
old_pool="$NEW_USER_POOL_ID"
"$STACK" reset
check "status after reset" "$STACK" status
check "reset made a new pool" test "$(sed -n 's/^NEW_USER_POOL_ID=//p' "$STACK_DIR/env")" != "$old_pool"
check "reset emptied moto and cognito-local" "$PYTHON" - "$STACK_DIR/env" <<'EOF'
import sys
import boto3
env = dict(line.rstrip("\n").split("=", 1) for line in open(sys.argv[1]) if "=" in line)
kw = dict(region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")
legacy = boto3.client("cognito-idp", endpoint_url=env["MOTO_ENDPOINT"], **kw)
new = boto3.client("cognito-idp", endpoint_url=env["COGNITO_LOCAL_ENDPOINT"], **kw)
pools = legacy.list_user_pools(MaxResults=60)["UserPools"]
assert [p["Id"] for p in pools] == [env["LEGACY_USER_POOL_ID"]], pools
assert legacy.list_users(UserPoolId=env["LEGACY_USER_POOL_ID"])["Users"] == []
assert new.list_users(UserPoolId=env["NEW_USER_POOL_ID"])["Users"] == []
EOF
check "each port is served by the recorded PID after reset" only_recorded_listeners

echo "== stop"
last_pids="$(pids)"
"$STACK" stop
"$STACK" stop
# shellcheck disable=SC2086
check "stop ends every server and is idempotent" all_dead $last_pids
check "no process of this stack is left" test -z "$(stack_processes)"
check "status reports stopped" bash -c '! "$0" status' "$STACK"

if ((failures > 0)); then
  echo "stack self-test: $failures check(s) failed" >&2
  exit 1
fi
echo "stack self-test: all checks passed"
