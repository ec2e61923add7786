"""Session setup of the end-to-end tests: a clean stack (moto reset, a fresh cognito-local
folder, the Lambda restarted with the new ids), the seeded legacy pool, the audit's JSON report
and the ledger filled by the real `cognito-migrate index`.

Run through scripts/test-e2e.sh, which starts the stack. The canary password of the seed is
checked after every test in pytest's captured output and at the end in every server log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed  # noqa: E402
import stack  # noqa: E402

_canary_leaks: list[str] = []


@pytest.fixture(scope="session")
def env(tmp_path_factory) -> dict[str, str]:
    started = time.monotonic()
    subprocess.run(["bash", str(stack.ROOT / "scripts/stack.sh"), "reset"], check=True, capture_output=True, timeout=600)
    env = stack.read_env()
    # E2E_BULK: how many ordinary users besides the scenario users (seed.py's default when unset).
    stats = seed.seed(env, **({"bulk": int(os.environ["E2E_BULK"])} if os.environ.get("E2E_BULK") else {}))
    out = tmp_path_factory.mktemp("audit")
    stack.run_cli(env, "audit", "--legacy-pool-id", env["LEGACY_USER_POOL_ID"], "--out-dir", str(out))
    env["AUDIT_JSON"] = str(out / "audit.json")
    index = stack.run_cli(env, "index", "--legacy-pool-id", env["LEGACY_USER_POOL_ID"], "--table", env["LEDGER_TABLE"])
    print(
        f"session setup: reset (new pool {env['NEW_POOL_SHAPE']} shape, legacy pool {stats['shape']} shape), "
        f"seeded {stats['users']} users in {stats['seconds']:.1f} s, "
        f"{index.stdout.strip() or index.stderr.strip().splitlines()[-1]}; {time.monotonic() - started:.1f} s in all",
        file=sys.stderr,
    )
    return env


@pytest.fixture(scope="session")
def audit(env) -> dict:
    return json.loads(Path(env["AUDIT_JSON"]).read_text())


@pytest.fixture
def lambda_log() -> stack.LambdaLog:
    return stack.LambdaLog()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    texts = [content for _, content in report.sections] + [report.longreprtext or ""]
    if any(seed.CANARY in text for text in texts):
        _canary_leaks.append(f"{item.nodeid} ({report.when})")


def pytest_sessionfinish(session, exitstatus):
    logs = sorted((stack.STACK_DIR / "logs").glob("*.log"))
    leaked = [str(p) for p in logs if seed.CANARY.encode() in p.read_bytes()]
    problems = [f"captured output of {n}" for n in _canary_leaks] + leaked
    if problems:
        print("\nthe canary password appears in: " + ", ".join(problems), file=sys.stderr)
        session.exitstatus = 1
