#!/usr/bin/env bash
# Checks the deploy template: cfn-lint, the tests of check_iam.py, and check_iam.py itself against
# the AWS adapter's real sources (aws/src), which also fails on any AWS call outside that crate.
# Usage: scripts/check-deploy.sh [--allow-empty]
#   --allow-empty  passes check_iam.py while aws/src makes no AWS call yet (it warns).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

iam_args=()
for arg in "$@"; do
  case "$arg" in
    --allow-empty) iam_args+=(--allow-empty) ;;
    *) echo "check-deploy: unknown argument $arg" >&2; exit 2 ;;
  esac
done

if ! command -v cfn-lint >/dev/null || [ "$(cfn-lint --version)" != "cfn-lint $CFN_LINT_VERSION" ]; then
  echo "check-deploy: cfn-lint $CFN_LINT_VERSION is missing; run scripts/bootstrap.sh" >&2
  exit 1
fi

cd "$ROOT"

log "cfn-lint deploy/template.yaml"
cfn-lint deploy/template.yaml

log "check_iam.py tests"
python -m unittest discover -s deploy/tests -t deploy/tests

log "check_iam.py: the trigger role against aws/src, and no AWS call outside it"
python scripts/check_iam.py --src aws/src --root . --template deploy/template.yaml "${iam_args[@]}"
