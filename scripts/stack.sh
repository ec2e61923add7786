#!/usr/bin/env bash
# The local stack the end-to-end tests and the demo run against, on 127.0.0.1 only:
#
#   moto          the legacy, case-sensitive pool and the ledger table    MOTO_PORT (5055)
#                 (scripts/stack/moto_server.py)
#   cognito-local the new, case-insensitive pool that invokes the triggers COGNITO_LOCAL_PORT (9229)
#   lambda        `cargo lambda watch` serving cognito-migrate-trigger    LAMBDA_PORT (9001)
#
# cognito-local runs with two preloads: scripts/stack/case-insensitive-shim.cjs (case-insensitive
# lookups, sub, token group overrides) and scripts/stack/cognito-rules.cjs (the rules Cognito
# enforces per pool shape and app client; trigger events of version "1", as Cognito sends them;
# ForgotPassword running the forgot-password migration). moto also holds the trigger's function record (its
# variables, and the new pool's permission to invoke it), so `cognito-migrate doctor` runs locally.
#
# Usage: scripts/stack.sh start|stop|status|reset|env|lambda-restart
#
#   start   (Re)starts all three servers with fresh state and writes .stack/env. A server whose
#           recorded PID is still alive is stopped first, so starting twice never leaves a stray
#           process and always yields a stack matching the current settings.
#   stop    Stops every recorded server (TERM, then KILL after 10 s). Idempotent.
#   status  One line per server: name, PID, alive or not, port.
#   reset   Fresh state between test runs without rebuilding: moto is reset and re-populated,
#           cognito-local restarts on an empty folder, the Lambda restarts with the new ids.
#   env     Prints .stack/env (KEY=value lines; `set -a; . .stack/env; set +a` to load it).
#   lambda-restart
#           Restarts only the Lambda, with the current STACK_LAMBDA_ENV (to test another policy).
#
# Settings (environment):
#   MOTO_PORT, COGNITO_LOCAL_PORT, LAMBDA_PORT   the ports above.
#   STACK_NEW_POOL_SHAPE=username|email|alias (default username)   the new pool's sign-in shape:
#       plain usernames; email as the username (Cognito generates usernames); usernames with email
#       and preferred_username aliases. Recorded as NEW_POOL_SHAPE in .stack/env.
#   STACK_LEGACY_POOL_SHAPE=username|email|alias (default username)   the legacy pool's: plain
#       usernames (email addresses among them, no aliases); email as the username; handles with
#       email and preferred_username aliases. Recorded as LEGACY_POOL_SHAPE; e2e/seed.py shapes
#       its users by it. `reset` keeps the recorded shapes unless these are set.
#   STACK_LAMBDA_ENV="K=V K2=@NAME"   adds or overrides variables of the Lambda, separated by
#       whitespace (values cannot hold spaces). `@NAME` stands for NAME's value in .stack/env,
#       e.g. "LEGACY_CLIENT_ID=@LEGACY_SECRET_CLIENT_ID LEGACY_CLIENT_SECRET=@LEGACY_SECRET_CLIENT_SECRET".
#   STACK_LAMBDA_RELOAD=1   lets `cargo lambda watch` rebuild when sources change (default 0: the
#       function is the one built by `start`, so a test run never waits for a rebuild).
#   STACK_TRIGGER_TIMEOUT_MS (default 5000)   how long cognito-local waits for a trigger, as
#       Cognito does; past it the sign-in fails with NotAuthorizedException.
#   STACK_START_TIMEOUT (seconds, default 60)   bounds each readiness wait.
#   STACK_REQUIRE_BUILD=1   makes a failed build of the function fail `start` (default: warn).
#   STACK_DIR (default .stack)   where pids, logs, env and cognito-local's folder live.
#   STACK_WARMUP_TIMEOUT (seconds, default 300)   bounds the wait for the function's first start.
#
# State and logs live in .stack/ (gitignored): pids/<name>.pid, logs/<name>.log, env,
# lambda.env (what the Lambda was started with), cognito-local/ (its working folder).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/scripts/stack/wait-port.sh"

MOTO_PORT="${MOTO_PORT:-5055}"
COGNITO_LOCAL_PORT="${COGNITO_LOCAL_PORT:-9229}"
LAMBDA_PORT="${LAMBDA_PORT:-9001}"
STACK_START_TIMEOUT="${STACK_START_TIMEOUT:-60}"
STACK_LAMBDA_RELOAD="${STACK_LAMBDA_RELOAD:-0}"
STACK_TRIGGER_TIMEOUT_MS="${STACK_TRIGGER_TIMEOUT_MS:-5000}"
HOST=127.0.0.1
TRIGGER_BIN=cognito-migrate-trigger

# Overridable so a second stack (the self-test's) can run beside the one in .stack/.
STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
PID_DIR="$STACK_DIR/pids"
LOG_DIR="$STACK_DIR/logs"
ENV_FILE="$STACK_DIR/env"
COGNITO_LOCAL_DIR="$STACK_DIR/cognito-local"
PYTHON="$VENV/bin/python"
# moto's account, in which the function record lives; cognito-local reports trigger ARNs in it.
LAMBDA_ACCOUNT=123456789012

MOTO_ENDPOINT="http://$HOST:$MOTO_PORT"
COGNITO_LOCAL_ENDPOINT="http://$HOST:$COGNITO_LOCAL_PORT"
LAMBDA_ENDPOINT="http://$HOST:$LAMBDA_PORT"

SERVERS=(moto cognito-local lambda)

port_of() {
  case "$1" in
    moto) echo "$MOTO_PORT" ;;
    cognito-local) echo "$COGNITO_LOCAL_PORT" ;;
    lambda) echo "$LAMBDA_PORT" ;;
  esac
}

# What the server's command line contains: a recorded PID is only trusted (and only ever
# signalled) if its process still runs that program, in case the PID was reused.
cmdline_marker() {
  case "$1" in
    moto) echo "scripts/stack/moto_server.py" ;;
    cognito-local) echo "cognito-local/lib/bin/start.js" ;;
    lambda) echo "cargo-lambda lambda watch" ;;
  esac
}

recorded_pid() {
  local file="$PID_DIR/$1.pid"
  [ -f "$file" ] && tr -dc '0-9' <"$file"
  return 0
}

# Prints the PID if the recorded server is alive and is ours.
live_pid() {
  local pid
  pid="$(recorded_pid "$1")"
  [ -n "$pid" ] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$(cmdline_marker "$1")" || return 1
  echo "$pid"
}

stop_server() {
  local name="$1" pid
  if pid="$(live_pid "$name")"; then
    log "stopping $name (pid $pid)"
    # The server runs in its own process group (set -m below); signal the group so children
    # (cargo lambda's function process, node workers) go with it.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop on TERM; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PID_DIR/$name.pid"
  [ "$name" != lambda ] || stop_function_processes
}

# cargo lambda watch runs the function in a process group of its own; should the watcher die
# without stopping it, the function would poll a dead runtime API forever. Those processes are
# recognised by the runtime API address this stack gave them, and stopped by PID.
stop_function_processes() {
  local environ pid
  for environ in /proc/[0-9]*/environ; do
    pid="${environ#/proc/}" pid="${pid%/environ}"
    if tr '\0' '\n' 2>/dev/null <"$environ" | grep -qx "AWS_LAMBDA_RUNTIME_API=http://$HOST:$LAMBDA_PORT/.rt/$TRIGGER_BIN"; then
      log "stopping a leftover function process (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
}

stop_all() {
  local i
  for ((i = ${#SERVERS[@]} - 1; i >= 0; i--)); do stop_server "${SERVERS[i]}"; done
}

fail_start() {
  local name="$1" why="$2"
  echo "stack: $name $why; last 40 lines of $LOG_DIR/$name.log:" >&2
  tail -n 40 "$LOG_DIR/$name.log" >&2 || true
  stop_all
  exit 1
}

# launch NAME DIR COMMAND...: starts COMMAND in DIR in the background, in its own process group,
# logging to logs/NAME.log; `exec` makes the recorded PID the server's own.
launch() {
  local name="$1" dir="$2"
  shift 2
  local port
  port="$(port_of "$name")"
  if port_open "$HOST" "$port"; then
    echo "stack: port $port (for $name) is already in use by a process this stack did not record" >&2
    stop_all
    exit 1
  fi
  : >"$LOG_DIR/$name.log"
  set -m
  (cd "$dir" && exec "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null) &
  local pid=$!
  set +m
  echo "$pid" >"$PID_DIR/$name.pid"
  if ! wait_port "$HOST" "$port" "$STACK_START_TIMEOUT" "$pid"; then
    kill -0 "$pid" 2>/dev/null && fail_start "$name" "did not open port $port within ${STACK_START_TIMEOUT}s"
    fail_start "$name" "exited during start-up"
  fi
  log "$name ready on $HOST:$port (pid $pid)"
}

# ---- the servers ---------------------------------------------------------------------------

start_moto() {
  stop_server moto
  # moto's server, one request at a time, with transactions that copy each table once (see there).
  launch moto "$STACK_DIR" "$PYTHON" "$ROOT/scripts/stack/moto_server.py" "$HOST" "$MOTO_PORT"
}

# The shapes: the setting when given, else (on reset) the recorded one, else the default.
pool_shape() { # pool_shape SETTING KEY
  local value="${!1:-}"
  [ -n "$value" ] || value="$( [ -f "$ENV_FILE" ] && env_value "$2" )"
  echo "${value:-username}"
}

setup_legacy() {
  "$PYTHON" "$ROOT/scripts/stack/setup.py" legacy --env-file "$ENV_FILE" --moto-endpoint "$MOTO_ENDPOINT" \
    --shape "$LEGACY_SHAPE" \
    >>"$LOG_DIR/setup.log" 2>&1 || { tail -n 40 "$LOG_DIR/setup.log" >&2; stop_all; exit 1; }
}

write_cognito_local_config() {
  mkdir -p "$COGNITO_LOCAL_DIR/.cognito/db"
  # UserPoolDefaults.UsernameAttributes=[] keeps cognito-local's default (email as username)
  # out of pools that do not ask for it: each pool's shape is its own.
  cat >"$COGNITO_LOCAL_DIR/.cognito/config.json" <<EOF
{
  "LambdaClient": {
    "endpoint": "$LAMBDA_ENDPOINT",
    "region": "us-east-1",
    "maxRetries": 0,
    "httpOptions": { "timeout": $STACK_TRIGGER_TIMEOUT_MS, "connectTimeout": 1000 },
    "credentials": { "accessKeyId": "local", "secretAccessKey": "local" }
  },
  "TriggerFunctions": {
    "UserMigration": "$TRIGGER_BIN",
    "PreSignUp": "$TRIGGER_BIN",
    "PostAuthentication": "$TRIGGER_BIN",
    "PreTokenGeneration": "$TRIGGER_BIN"
  },
  "UserPoolDefaults": { "UsernameAttributes": [] }
}
EOF
}

start_cognito_local() {
  stop_server cognito-local
  # A fresh folder every time: the new pool is re-created below with a new id anyway.
  rm -rf "$COGNITO_LOCAL_DIR"
  write_cognito_local_config
  launch cognito-local "$COGNITO_LOCAL_DIR" env HOST="$HOST" PORT="$COGNITO_LOCAL_PORT" \
    COGNITO_LOCAL_LAMBDA_ACCOUNT="$LAMBDA_ACCOUNT" \
    node -r "$ROOT/scripts/stack/case-insensitive-shim.cjs" -r "$ROOT/scripts/stack/cognito-rules.cjs" \
    "$ROOT/node_modules/cognito-local/lib/bin/start.js"
  # The shim checks its patches asynchronously; an open port alone does not prove they hold.
  local deadline=$((SECONDS + 10)) preload
  for preload in case-insensitive-shim cognito-rules; do
    until grep -q "$preload: active" "$LOG_DIR/cognito-local.log"; do
      if ! live_pid cognito-local >/dev/null || ((SECONDS >= deadline)); then
        fail_start cognito-local "started without its preload $preload"
      fi
      sleep 0.2
    done
  done
}

setup_new() {
  "$PYTHON" "$ROOT/scripts/stack/setup.py" new --env-file "$ENV_FILE" \
    --cognito-local-endpoint "$COGNITO_LOCAL_ENDPOINT" --shape "$NEW_SHAPE" \
    >>"$LOG_DIR/setup.log" 2>&1 || { tail -n 40 "$LOG_DIR/setup.log" >&2; stop_all; exit 1; }
}

env_value() {
  sed -n "s/^$1=//p" "$ENV_FILE"
}

write_lambda_env() {
  local file="$STACK_DIR/lambda.env"
  {
    echo "LEGACY_USER_POOL_ID=$(env_value LEGACY_USER_POOL_ID)"
    echo "LEGACY_CLIENT_ID=$(env_value LEGACY_CLIENT_ID)"
    echo "LEDGER_TABLE=$(env_value LEDGER_TABLE)"
    # Endpoints through the SDK's standard variables: DynamoDB (and anything else) is moto, and
    # cognito-idp is the NEW pool, cognito-local. The legacy pool speaks the same service at
    # another address, which no standard variable can express: the function's legacy client
    # takes LEGACY_ENDPOINT_URL. NEW_USER_POOL_ID is left out: the function takes each event's.
    echo "AWS_ENDPOINT_URL=$MOTO_ENDPOINT"
    echo "AWS_ENDPOINT_URL_DYNAMODB=$MOTO_ENDPOINT"
    echo "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=$COGNITO_LOCAL_ENDPOINT"
    echo "LEGACY_ENDPOINT_URL=$MOTO_ENDPOINT"
    echo "AWS_ACCESS_KEY_ID=local"
    echo "AWS_SECRET_ACCESS_KEY=local"
    echo "AWS_REGION=us-east-1"
    echo "AWS_DEFAULT_REGION=us-east-1"
    echo "RUST_LOG=${RUST_LOG:-info}"
    echo "LEGACY_REGION=us-east-1"
    # The new pool's sign-in shape, as scripts/stack/setup.py creates it (SHAPES): the trigger
    # names the migrated user the way that pool wants it.
    case "$(env_value NEW_POOL_SHAPE)" in
      username | "") ;;
      email) echo "NEW_POOL_USERNAME_ATTRIBUTES=email" ;;
      alias) echo "NEW_POOL_ALIAS_ATTRIBUTES=email,preferred_username" ;;
      *) echo "stack: unknown NEW_POOL_SHAPE '$(env_value NEW_POOL_SHAPE)' in $ENV_FILE" >&2; return 1 ;;
    esac
    local pair key value
    for pair in ${STACK_LAMBDA_ENV:-}; do
      case "$pair" in
        *=*) ;;
        *) echo "stack: STACK_LAMBDA_ENV entry '$pair' is not KEY=VALUE" >&2; return 1 ;;
      esac
      key="${pair%%=*}" value="${pair#*=}"
      if [[ "$value" == @* ]]; then
        value="$(env_value "${value#@}")"
        [ -n "$value" ] || { echo "stack: STACK_LAMBDA_ENV: ${pair#*=} is not in $ENV_FILE" >&2; return 1; }
      fi
      echo "$key=$value"
    done
  } >"$file"
  echo "$file"
}

build_trigger() {
  # Built before the watch starts so the first invocation does not compile (a cold build takes
  # minutes; Cognito waits 5 s for a trigger). Same target folder and profile as the watch.
  log "building $TRIGGER_BIN (debug)"
  # A failed build is fatal only with STACK_REQUIRE_BUILD=1 (for CI): while the function is being
  # written the servers are still useful, and the watch retries the build on each invocation.
  if ! (cd "$ROOT" && cargo build --quiet -p cognito-migrate-lambda --bin "$TRIGGER_BIN") >"$LOG_DIR/lambda-build.log" 2>&1; then
    echo "stack: building $TRIGGER_BIN failed; last 40 lines of $LOG_DIR/lambda-build.log:" >&2
    tail -n 40 "$LOG_DIR/lambda-build.log" >&2
    if [ "${STACK_REQUIRE_BUILD:-0}" = 1 ]; then
      stop_all
      exit 1
    fi
    log "warning: starting without a working $TRIGGER_BIN"
  fi
}

# The function record in moto's Lambda API, with the variables the function runs with.
register_function() {
  "$PYTHON" "$ROOT/scripts/stack/setup.py" function --env-file "$ENV_FILE" --moto-endpoint "$MOTO_ENDPOINT" \
    --lambda-env "$1" >>"$LOG_DIR/setup.log" 2>&1 || { tail -n 40 "$LOG_DIR/setup.log" >&2; stop_all; exit 1; }
}

start_lambda() {
  stop_server lambda
  local env_file reload=()
  env_file="$(write_lambda_env)" || { stop_all; exit 1; }
  register_function "$env_file"
  [ "$STACK_LAMBDA_RELOAD" = 1 ] || reload=(--ignore-changes)
  # The function inherits the watcher's environment: none of the caller's AWS settings (a
  # profile, a session token, an endpoint) nor trigger variables (another pool's
  # NEW_USER_POOL_ID, a shape) may reach it, only lambda.env.
  local name clean_env=()
  for name in $(compgen -e); do
    case "$name" in
      AWS_* | LEGACY_* | LEDGER_TABLE | NEW_USER_POOL_ID | NEW_POOL_* | COLLISION_POLICY | MFA_POLICY | \
        TEMPORARY_PASSWORD_POLICY | MAX_CANDIDATES | DEADLINE_MS | REFUSAL_FLOOR_MS | TARGET_SCHEMA | \
        ATTRIBUTE_RENAMES | ATTRIBUTE_DROPS) clean_env+=(-u "$name") ;;
    esac
  done
  # --env-file rather than --env-var: cargo lambda splits --env-var values on commas.
  # cargo-lambda is run directly (as cargo would) so the recorded PID is the watcher itself.
  # Its debug level logs one "invocation received" line per invocation.
  launch lambda "$ROOT/lambda" env "${clean_env[@]}" RUST_LOG="${STACK_WATCH_RUST_LOG:-info,cargo_lambda_watch=debug}" \
    cargo-lambda lambda watch -A "$HOST" -P "$LAMBDA_PORT" \
    -p cognito-migrate-lambda --bin "$TRIGGER_BIN" --env-file "$env_file" "${reload[@]}"
  warm_up_lambda
}

# The watch spawns the function (`cargo run`) on its first invocation. Doing that now, while
# nothing waits on it, keeps the first real trigger well inside its 5 s even when another cargo
# build holds the target folder's lock. We wait only until cargo has started the binary (its
# "Running" line), not for an answer: the event's trigger source is one no handler knows, and a
# binary that does not serve invocations yet must not hold the stack up.
warm_up_lambda() {
  local event='{"version":"1","triggerSource":"StackWarmUp_Start","region":"us-east-1","userPoolId":"us-east-1_warmup","userName":"warm-up","callerContext":{"awsSdkVersion":"none","clientId":"warm-up"},"request":{},"response":{}}'
  local timeout="${STACK_WARMUP_TIMEOUT:-300}"
  curl -sS -o /dev/null --max-time "$timeout" -X POST -H 'content-type: application/json' --data "$event" \
    "$LAMBDA_ENDPOINT/2015-03-31/functions/$TRIGGER_BIN/invocations" >/dev/null 2>&1 &
  local curl_pid=$! deadline=$((SECONDS + timeout))
  until grep -q 'Running `' "$LOG_DIR/lambda.log"; do
    # "command exited": cargo could not build or run the function (the log says why).
    if grep -q 'ERROR command exited' "$LOG_DIR/lambda.log" || ! kill -0 "$curl_pid" 2>/dev/null ||
      ((SECONDS >= deadline)); then
      break
    fi
    sleep 0.2
  done
  kill "$curl_pid" 2>/dev/null || true
  wait "$curl_pid" 2>/dev/null || true
  if grep -q 'Running `' "$LOG_DIR/lambda.log"; then
    log "lambda function process started (warm-up)"
  else
    # Not fatal: the servers are up, and the function is spawned again on the next invocation.
    log "warning: the lambda function did not start; see $LOG_DIR/lambda.log"
  fi
}

record_endpoints() {
  "$PYTHON" "$ROOT/scripts/stack/setup.py" endpoints --env-file "$ENV_FILE" \
    --moto-endpoint "$MOTO_ENDPOINT" --cognito-local-endpoint "$COGNITO_LOCAL_ENDPOINT" \
    --lambda-endpoint "$LAMBDA_ENDPOINT" >>"$LOG_DIR/setup.log" 2>&1
}

prepare_dirs() {
  mkdir -p "$PID_DIR" "$LOG_DIR"
}

# ---- subcommands ---------------------------------------------------------------------------

cmd_start() {
  prepare_dirs
  stop_all
  NEW_SHAPE="${STACK_NEW_POOL_SHAPE:-username}" LEGACY_SHAPE="${STACK_LEGACY_POOL_SHAPE:-username}"
  rm -f "$ENV_FILE"
  : >"$LOG_DIR/setup.log"
  build_trigger
  start_moto
  setup_legacy
  start_cognito_local
  setup_new
  record_endpoints
  start_lambda
  log "stack up; settings in $ENV_FILE"
}

cmd_reset() {
  prepare_dirs
  local name
  for name in "${SERVERS[@]}"; do
    if ! live_pid "$name" >/dev/null; then
      echo "stack: $name is not running; use 'start'" >&2
      exit 1
    fi
  done
  NEW_SHAPE="$(pool_shape STACK_NEW_POOL_SHAPE NEW_POOL_SHAPE)"
  LEGACY_SHAPE="$(pool_shape STACK_LEGACY_POOL_SHAPE LEGACY_POOL_SHAPE)"
  : >"$LOG_DIR/setup.log"
  if ! curl -fsS -X POST "$MOTO_ENDPOINT/moto-api/reset" >/dev/null; then
    echo "stack: resetting moto failed" >&2
    exit 1
  fi
  setup_legacy
  start_cognito_local
  setup_new
  record_endpoints
  # The Lambda's environment names the pools, whose ids just changed.
  start_lambda
  log "stack reset; settings in $ENV_FILE"
}

cmd_status() {
  local name pid state rc=0
  for name in "${SERVERS[@]}"; do
    if pid="$(live_pid "$name")"; then
      state=alive
    else
      pid="$(recorded_pid "$name")"
      state=$([ -n "$pid" ] && echo dead || echo stopped)
      rc=3
    fi
    printf '%-14s pid=%-8s %-8s %s:%s\n' "$name" "${pid:--}" "$state" "$HOST" "$(port_of "$name")"
  done
  return "$rc"
}

cmd_env() {
  if [ ! -f "$ENV_FILE" ]; then
    echo "stack: no $ENV_FILE; run 'scripts/stack.sh start'" >&2
    exit 1
  fi
  cat "$ENV_FILE"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) stop_all ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  env) cmd_env ;;
  lambda-restart)
    prepare_dirs
    live_pid moto >/dev/null && live_pid cognito-local >/dev/null || { echo "stack: not running; use 'start'" >&2; exit 1; }
    start_lambda
    ;;
  *)
    echo "usage: $0 start|stop|status|reset|env|lambda-restart" >&2
    exit 2
    ;;
esac
