#!/usr/bin/env bash
# Fuzzes the core's parsers with cargo-fuzz: each target runs for a bounded time (default 30 s)
# from the committed seeds in fuzz/seeds; fails if any target finds a crash.
#   scripts/fuzz.sh [seconds per target] [target...]   (default: 30 s, every target)
# The corpus a run grows is kept in ~/.cache/cognito-migrate/fuzz-corpus/<target> for the next
# run; a crashing input is saved in fuzz/artifacts/<target>/.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

seconds="${1:-30}"
case "$seconds" in
  ''|*[!0-9]*) echo "fuzz: seconds must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac
TARGETS=(trigger_event keys audit_chunks)
if [ "$#" -gt 1 ]; then
  TARGETS=("${@:2}")
fi
declare -A DICT=([trigger_event]=event.dict [keys]=keys.dict [audit_chunks]=audit.dict)
for target in "${TARGETS[@]}"; do
  if [ -z "${DICT[$target]:-}" ]; then
    echo "fuzz: unknown target '$target' (known: ${!DICT[*]})" >&2
    exit 2
  fi
done

CARGO_FUZZ_VERSION="0.13.2"
if [ "$("$CACHE/bin/cargo-fuzz" --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION into $CACHE/bin"
  CARGO_TARGET_DIR="$CACHE/install-target-fuzz" cargo install --quiet --locked --force \
    --root "$CACHE" cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
export PATH="$CACHE/bin:$PATH"

# cargo-fuzz passes flags only a nightly compiler takes (-Zsanitizer=address); RUSTC_BOOTSTRAP
# lets the stable toolchain accept them, so no nightly toolchain is needed.
export RUSTC_BOOTSTRAP=1
fuzz_target_dir="$CARGO_TARGET_DIR/fuzz"
corpus_root="$CACHE/fuzz-corpus"

cd "$ROOT/fuzz"
log "building the fuzz targets"
cargo fuzz build --debug-assertions --target-dir "$fuzz_target_dir"

failed=()
for target in "${TARGETS[@]}"; do
  corpus="$corpus_root/$target"
  mkdir -p "$corpus"
  log "fuzzing $target for $seconds s"
  # New inputs go to the first folder (the cache), so the committed seeds stay as they are.
  if ! cargo fuzz run --debug-assertions --target-dir "$fuzz_target_dir" "$target" \
      "$corpus" "seeds/$target" -- \
      -max_total_time="$seconds" -timeout=20 -dict="dicts/${DICT[$target]}" -print_final_stats=1; then
    failed+=("$target")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]} (a crashing input is saved in fuzz/artifacts/<target>/)" >&2
  exit 1
fi
log "no target found a crash"
