"""Sign-ups in the new pool while legacy users have not moved yet (pre sign-up trigger)."""

from __future__ import annotations

import seed
import stack

S = seed.SCENARIOS


def _sign_up(env, username: str, email: str, password: str):
    idp = stack.client("cognito-idp", env["COGNITO_LOCAL_ENDPOINT"])
    try:
        return idp.sign_up(
            ClientId=env["NEW_CLIENT_ID"],
            Username=username,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        ), None
    except idp.exceptions.ClientError as error:
        return None, error.response["Error"]


def test_sign_up_with_a_legacy_users_email_is_refused(env, lambda_log):
    shadowed = S["signup_shadow"]
    attempts = {
        "username": [("sid.signup@acme.com", "sid.signup@acme.com"), ("sid-new-handle", "SID.SIGNUP@ACME.COM")],
        # The pool refuses an email-format username itself: only handles reach the trigger.
        "alias": [("sid-new-handle", "SID.SIGNUP@ACME.COM"), ("sid.signup", "sid.signup@acme.com")],
        # The username is the email itself.
        "email": [("sid.signup@acme.com", "sid.signup@acme.com"), ("SID.SIGNUP@ACME.COM", "SID.SIGNUP@ACME.COM")],
    }[stack.new_pool_shape(env)]
    for username, email in attempts:
        mark = lambda_log.mark()
        answer, error = _sign_up(env, username, email, shadowed.password + "-new")
        assert answer is None, username
        # What cognito-local answers when the PreSignUp function fails (HTTP 500 from the invoke
        # API); real Cognito says UserLambdaValidationException: PreSignUp failed with error
        # <the Lambda's message>.
        assert (error["Code"], error["Message"]) == (
            "UnexpectedLambdaExceptionException",
            "Unexpected error when invoking lambda",
        ), error
        decisions = lambda_log.decisions_since(mark, expect=1)
        assert [(d["trigger"], d["outcome"], d["reason"]) for d in decisions] == [
            ("PreSignUp_SignUp", "refused", "identifier_taken")
        ], username
        assert stack.new_user(env, username) is None
    # The legacy user is untouched and still migrates with the legacy password.
    assert [stack.state_of(i) for i in stack.ledger_user(env, stack.legacy_username(env, shadowed))] == [("pending", None)]
    assert stack.sign_in(env, "Sid.Signup@acme.com", shadowed.password).ok


def test_sign_up_with_a_fresh_email_works(env, lambda_log):
    # A handle where email is an alias (the pool refuses an email-format username there).
    username = "fresh-person" if stack.new_pool_shape(env) == "alias" else "fresh.person@acme.com"
    mark = lambda_log.mark()
    answer, error = _sign_up(env, username, "Fresh.Person@Acme.com", seed.CANARY + "-fresh")
    assert error is None, error
    assert answer["UserConfirmed"] is False
    decisions = lambda_log.decisions_since(mark, expect=1)
    assert [(d["trigger"], d["outcome"]) for d in decisions] == [("PreSignUp_SignUp", "allowed")]
    created = stack.new_user(env, username)
    assert created is not None and created["UserStatus"] == "UNCONFIRMED"
    assert "custom:legacy_username" not in created["Attributes"]
