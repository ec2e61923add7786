#!/usr/bin/env bash
# Every performance figure in the README, with one command. Prints a table at the end.
# Usage: scripts/bench.sh [--quick]
#   --quick   shorter criterion runs (figures are noisier).
# Run it on an otherwise idle machine: the figures are wall-clock times.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

measure="--warm-up-time 2 --measurement-time 10"
[ "${1:-}" = "--quick" ] && measure="--warm-up-time 1 --measurement-time 3"

bash scripts/bootstrap.sh
work="$(mktemp -d)"
trap 'scripts/stack.sh stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

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

log "trigger: handler time with mocked AWS answers (release)"
cargo run -q --release -p cognito-migrate-lambda --example handler_bench >"$work/handler" 2>&1
log "trigger: AWS calls per sign-in migration, cold start"
cargo test -q -p cognito-migrate-lambda --test handler -- --nocapture a_successful_migration_costs_three_calls 2>&1 | grep 'sign-in migration against' >"$work/calls" || true
cargo test -q -p cognito-migrate-lambda --test cold_start -- --nocapture 2>&1 | grep 'cold start' >"$work/cold" || true

log "cli: status on a 1,000,000-user ledger, finish across an interruption (moto)"
cargo test -q -p cognito-migrate-cli --test status -- --nocapture status_reads_a_million_user_ledger_in_seconds 2>&1 | grep 'status on counters' >"$work/status" || true
cargo test -q -p cognito-migrate-cli --test finish -- --nocapture 2>&1 | grep -E '^(seeded|Some\("finish"\))' >"$work/finish" || true

log "npm package: gzipped .wasm after wasm-opt -Oz"
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
printf '| match_key, 1,000 identifiers (1 in 10 non-ASCII) | %s |\n' "$(criterion_time "$work/keys" 'match_key/mixed')"
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
