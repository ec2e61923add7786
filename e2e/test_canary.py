"""No process logs a password: the canary that every seeded scenario password contains is
searched for in every log of the stack after sign-ins that succeed, fail and are refused.
(conftest.py searches the logs again once every test has run, and pytest's captured output
after each test.)"""

from __future__ import annotations

import seed
import stack


def test_no_log_holds_the_canary_password(env, lambda_log):
    user = seed.SCENARIOS["canary"]
    mark = lambda_log.mark()
    assert not stack.sign_in(env, "cal.canary@acme.com", user.password + "-wrong").ok
    assert stack.sign_in(env, "CAL.CANARY@acme.com", user.password).ok
    assert not stack.sign_in(env, "cal.canary@acme.com", user.password + "-wrong").ok
    event = stack.fixture_event("user-migration-authentication")
    event.update(userName="nobody.canary@acme.com", userPoolId=env["NEW_USER_POOL_ID"])
    event["request"]["password"] = user.password
    assert stack.invoke(env, event) == (200, event)
    # Make sure the Lambda did log these requests before searching.
    assert len(lambda_log.decisions_since(mark, expect=4)) >= 4
    logs = sorted((stack.STACK_DIR / "logs").glob("*.log"))
    assert {p.name for p in logs} >= {"moto.log", "cognito-local.log", "lambda.log"}
    leaked = [p.name for p in logs if seed.CANARY.encode() in p.read_bytes()]
    assert leaked == []
