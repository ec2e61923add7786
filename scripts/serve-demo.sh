#!/usr/bin/env bash
# Serves the web demo on http://127.0.0.1:PORT/web-demo/ (default 8377; 0 picks a free port).
# Builds the package first when its web builds (pkg/tools/web, pkg/web) are missing. Everything runs in the browser: the
# page never uploads the files it is given.
#   scripts/serve-demo.sh [PORT]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ ! -f "$ROOT/pkg/tools/web/index.js" ] || [ ! -f "$ROOT/pkg/web/cognito_migrate_wasm_bg.wasm" ]; then
  log "the package's web builds are missing: building the package"
  "$ROOT/scripts/build-wasm.sh"
fi
exec node "$ROOT/web-demo/server.mjs" "${1:-8377}"
