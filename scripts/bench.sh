#!/usr/bin/env bash
# Every performance figure in the README, with one command. Prints a table at the end.
# Usage: scripts/bench.sh [--quick] [audit]
#   --quick   shorter criterion runs, one run of each audit (figures are noisier).
#   audit     only the audit of an export file, ours next to a plain Python audit.
# Run it on an otherwise idle machine: the figures are wall-clock times.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

measure="--warm-up-time 2 --measurement-time 10"
runs=3
only_audit=false
for arg in "$@"; do
  case "$arg" in
    --quick) measure="--warm-up-time 1 --measurement-time 3"; runs=1 ;;
    audit) only_audit=true ;;
    *) echo "usage: scripts/bench.sh [--quick] [audit]" >&2; exit 2 ;;
  esac
done

work="$(mktemp -d)"
trap 'scripts/stack.sh stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

audit_users=1000000
time_v() { # label command...: runs it under /usr/bin/time -v, appends "seconds MiB" to $work/label
  if ! /usr/bin/time -v "${@:2}" >"$work/$1.out" 2>"$work/$1.time"; then
    echo "bench: $1 failed:" >&2
    cat "$work/$1.time" >&2
    return 1
  fi
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
              /Maximum resident set size/ { kib = $2 }
              END { printf "%.2f %.0f\n", s, kib / 1024 }' "$work/$1.time" >>"$work/$1.runs"
}
best() { # label: the run with the shortest wall time, as "seconds MiB"
  sort -n "$work/$1.runs" | head -1
}
audit_file_row() {
  log "audit of a ${audit_users}-user export file: cognito-migrate next to a plain Python audit"
  cargo build -q --release -p cognito-migrate-cli --bin cognito-migrate && cargo build -q --release -p cognito-migrate-core --example audit_memory
  "$CARGO_TARGET_DIR/release/examples/audit_memory" generate "$audit_users" >"$work/export.json"
  for _ in $(seq "$runs"); do
    time_v ours "$CARGO_TARGET_DIR/release/cognito-migrate" audit --from-file "$work/export.json" --out-dir "$work/report"
    time_v python python3 scripts/bench/audit.py "$work/export.json"
  done
  # The streamed audit writes the report of one pass over the whole text, byte for byte.
  "$CARGO_TARGET_DIR/release/examples/audit_memory" report "$work/export.json" "$work/whole" >/dev/null
  cmp "$work/report/audit.json" "$work/whole/audit.json"
  cmp "$work/report/audit.md" "$work/whole/audit.md"
  # Both must find the same collision groups, with the same users in them.
  python3 - "$work/report/audit.json" "$work/python.out" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))
python = json.loads(open(sys.argv[2]).read().splitlines()[-1])
mine = (ours["totalUsers"], len(ours["collisions"]), ours["usersInCollisions"])
theirs = (python["totalUsers"], python["collisionGroups"], python["usersInCollisions"])
if mine != theirs:
    sys.exit(f"the audits disagree (users, collision groups, users in them): {mine} vs {theirs}")
print(f"both: {mine[0]} users, {mine[1]} collision groups, {mine[2]} users in them")
PY
}
ratio() { # BASELINE OURS: the baseline's figure over ours
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'
}
audit_file_figures() {
  read -r ours_s ours_mib <<<"$(best ours)"
  read -r python_s python_mib <<<"$(best python)"
  local mib
  mib=$(( $(stat -c %s "$work/export.json") / 1048576 ))
  printf '| audit --from-file, %s users (%s MiB export): ours vs plain Python (json.load, casefold), wall time and peak memory | %s s, %s MiB vs %s s, %s MiB: %s times faster, %s times less memory |\n' \
    "$audit_users" "$mib" "$ours_s" "$ours_mib" "$python_s" "$python_mib" \
    "$(ratio "$python_s" "$ours_s")" "$(ratio "$python_mib" "$ours_mib")"
}

if $only_audit; then
  audit_file_row
  printf '\n| what | figure |\n|---|---|\n'
  audit_file_figures
  exit 0
fi

bash scripts/bootstrap.sh

criterion_time() { # file [bench name]: the middle estimate of the (named bench's) last "time:"
  # (lines with "%" are criterion's change against the previous run)
  grep -A1 "${2:-}" "$1" | grep 'time:' | grep -v '%' | tail -1 | sed -E 's/.*\[[^ ]+ [^ ]+ ([^ ]+ [^ ]+) [^ ]+ [^ ]+\]/\1/'
}
criterion_thrpt() { # file bench-name: the middle throughput estimate of that bench
  grep -A2 "$2" "$1" | grep 'thrpt:' | tail -1 | sed -E 's/.*\[[^ ]+ [^ ]+ ([^ ]+ [^ ]+) [^ ]+ [^ ]+\]/\1/'
}

log "core: one sign-in decision"
cargo bench -q -p cognito-migrate-core --bench core -- decision $measure >"$work/decision" 2>&1
log "core: match_key"
cargo bench -q -p cognito-migrate-core --bench core -- match_key $measure >"$work/keys" 2>&1
log "core: audit of 1,000,000 users"
cargo bench -q -p cognito-migrate-core --bench core -- audit --warm-up-time 1 --measurement-time 10 --sample-size 10 >"$work/audit" 2>&1
log "core: audit peak memory"
cargo run -q --release -p cognito-migrate-core --example audit_memory -- whole >"$work/memory" 2>&1
cargo run -q --release -p cognito-migrate-core --example audit_memory -- chunks >"$work/memory-chunks" 2>&1
audit_file_row >"$work/agreement"

log "trigger: handler time with mocked AWS answers (release)"
cargo run -q --release -p cognito-migrate-lambda --example handler_bench >"$work/handler" 2>&1
log "trigger: AWS calls per sign-in migration, cold start"
cargo test -q -p cognito-migrate-lambda --test handler -- --nocapture a_successful_migration_costs_ 2>&1 | grep 'sign-in migration against' >"$work/calls" || true
cargo test -q -p cognito-migrate-lambda --test cold_start -- --nocapture 2>&1 | grep 'cold start' >"$work/cold" || true

log "cli: status on a 1,000,000-user ledger, finish across an interruption (moto)"
cargo test -q -p cognito-migrate-cli --test status -- --nocapture status_reads_a_million_user_ledger_in_seconds 2>&1 | grep 'status on counters' >"$work/status" || true
cargo test -q -p cognito-migrate-cli --test finish -- --nocapture 2>&1 | grep -E '^(seeded|Some\("finish"\))' >"$work/finish" || true

log "npm package: gzipped .wasm after wasm-opt"
bash scripts/build-wasm.sh >"$work/wasm" 2>&1

log "index scan rate against moto (local stack, 1,000+ seeded users)"
scripts/stack.sh start >"$work/stack" 2>&1
set -a; . "$ROOT/.stack/env"; set +a
python e2e/seed.py >"$work/seed" 2>&1
AWS_ENDPOINT_URL="$MOTO_ENDPOINT" LEGACY_ENDPOINT_URL="$MOTO_ENDPOINT" \
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 \
  cargo run -q -p cognito-migrate-cli -- index --legacy-pool-id "$LEGACY_USER_POOL_ID" \
  --table "$LEDGER_TABLE" >"$work/index" 2>&1

printf '\n| what | figure |\n|---|---|\n'
printf '| one sign-in decision (parse, plan, respond) | %s |\n' "$(criterion_time "$work/decision")"
printf '| match_key, ASCII identifiers | %s |\n' "$(criterion_thrpt "$work/keys" 'match_key/ascii')"
keys_ours="$(criterion_time "$work/keys" 'match_key/mixed')"
keys_python="$(python3 scripts/bench/keys.py)"
to_us() { # "201.3 µs" or "1.2 ms": microseconds
  awk '{ v = $1; if ($2 == "ms") v *= 1000; if ($2 == "ns") v /= 1000; print v }' <<<"$1"
}
printf '| match_key, 1,000 identifiers (1 in 10 non-ASCII): ours vs Python casefold + NFKC (one pass) | %s vs %s: %s times the speed |\n' \
  "$keys_ours" "$keys_python" "$(ratio "$(to_us "$keys_python")" "$(to_us "$keys_ours")")"
printf '| audit of 1,000,000 users | %s |\n' "$(criterion_time "$work/audit")"
printf '| audit peak memory, whole export in memory / read in chunks | %s / %s |\n' \
  "$(grep -o 'peak [0-9]* MiB' "$work/memory" | head -1)" "$(grep -o 'peak [0-9]* MiB' "$work/memory-chunks" | head -1)"
printf '| trigger handler per sign-in migration, no network | %s |\n' "$(tail -1 "$work/handler")"
printf '| AWS calls per sign-in migration | %s |\n' "$(tail -1 "$work/calls")"
printf '| cold start, process start to ready (debug build) | %s |\n' "$(tail -1 "$work/cold")"
printf '| status, counters of 1,000,000 users (moto) | %s |\n' "$(tail -1 "$work/status")"
printf '| finish against moto, AdminCreateUser | %s |\n' "$(paste -sd ';' "$work/finish")"
printf '| npm package, gzipped .wasm: keys module / tools module | %s / %s bytes |\n' \
  "$(grep 'bundler after wasm-opt' "$work/wasm" | sed -n 1p | awk '{print $(NF-2)}')" \
  "$(grep 'bundler after wasm-opt' "$work/wasm" | sed -n 2p | awk '{print $(NF-2)}')"
printf '| index against moto | %s |\n' "$(grep '^index:' "$work/index" | tail -1)"
audit_file_figures
cat "$work/agreement"
