"""Triggers cognito-local cannot produce, or produces differently from Cognito, sent straight to
the Lambda's invoke API with the events' real shapes (core/tests/fixtures/events)."""

from __future__ import annotations

import uuid

import seed
import stack

S = seed.SCENARIOS


def _event(env, name: str, user_name: str) -> dict:
    event = stack.fixture_event(name)
    event["userPoolId"] = env["NEW_USER_POOL_ID"]
    event["callerContext"]["clientId"] = env["NEW_CLIENT_ID"]
    event["userName"] = user_name
    return event


def test_first_tokens_carry_the_legacy_groups_before_the_copy(env, lambda_log):
    user = S["token_groups"]
    # The migration, as Cognito sends it on a sign-in; the user's groups are not copied yet
    # because post authentication has not run.
    migration = _event(env, "user-migration-authentication", "tom.token@acme.com")
    migration["request"]["password"] = user.password
    status, migrated = stack.invoke(env, migration)
    assert status == 200
    assert migrated["response"]["finalUserStatus"] == "CONFIRMED"
    attributes = dict(migrated["response"]["userAttributes"])
    assert attributes["custom:legacy_username"] == stack.legacy_username(env, user)
    assert all(i["groupsCopied"]["BOOL"] is False for i in stack.ledger_user(env, stack.legacy_username(env, user)))

    # Pre token generation for that first sign-in, with what Cognito then knows of the user:
    # in a pool with aliases, the username the migration gave it.
    new_username = attributes.pop("username", "tom.token@acme.com")
    token = _event(env, "token-generation-authentication", new_username)
    token["request"]["userAttributes"] = {
        **attributes,
        "sub": str(uuid.uuid4()),
        "cognito:user_status": "CONFIRMED",
    }
    # A group the user already has in the new pool must survive the override.
    token["request"]["groupConfiguration"] = {
        "groupsToOverride": ["new-pool-only"],
        "iamRolesToOverride": [],
        "preferredRole": None,
    }
    mark = lambda_log.mark()
    status, answered = stack.invoke(env, token)
    assert status == 200
    override = answered["response"]["claimsOverrideDetails"]["groupOverrideDetails"]
    assert sorted(override["groupsToOverride"]) == ["admins", "beta", "new-pool-only"]
    decisions = lambda_log.decisions_since(mark, expect=1)
    assert [(d["trigger"], d["outcome"]) for d in decisions] == [("TokenGeneration_Authentication", "groups-added")]
    # Everything but the response comes back as sent.
    assert {k: v for k, v in answered.items() if k != "response"} == {k: v for k, v in token.items() if k != "response"}


def test_forgot_password_migrates_the_user_reset_required(env, lambda_log):
    user = S["forgot"]
    legacy_name = stack.legacy_username(env, user)
    assert [stack.state_of(i) for i in stack.ledger_user(env, legacy_name)] == [("pending", None)]
    event = _event(env, "user-migration-forgot-password", "FAY.forgot@acme.com")
    assert "password" not in event["request"]
    mark = lambda_log.mark()
    status, answered = stack.invoke(env, event)
    assert status == 200
    response = answered["response"]
    assert response["finalUserStatus"] == "RESET_REQUIRED"
    assert response["messageAction"] == "SUPPRESS"
    alias_pool = stack.new_pool_shape(env) == "alias"
    # In a pool with e-mail as an alias, the typed address goes on the attribute as sent.
    assert response["userAttributes"]["email"] == ("FAY.forgot@acme.com" if alias_pool else user.email)
    assert response["userAttributes"]["email_verified"] == "true", "a reset code needs a verified contact"
    assert response["userAttributes"]["custom:legacy_username"] == legacy_name
    decisions = lambda_log.decisions_since(mark, expect=1)
    assert [(d["trigger"], d["outcome"]) for d in decisions] == [("UserMigration_ForgotPassword", "approved")]
    items = stack.ledger_user(env, legacy_name)
    # Approved, not migrated: only the new-pool user's first sign-in (post authentication)
    # confirms the binding.
    assert [stack.state_of(i) for i in items] == [("approved", None)]
    # In an e-mail alias pool, the legacy username, or a generated one for an e-mail-format one.
    assert items[0]["newUsername"]["S"] == stack.migrated_username(env, user, "fay.forgot@acme.com")


def test_forgot_password_of_an_unknown_user_changes_nothing(env, lambda_log):
    before = stack.ledger_scan(env)
    event = _event(env, "user-migration-forgot-password", "no.such.person@acme.com")
    mark = lambda_log.mark()
    status, answered = stack.invoke(env, event)
    assert status == 200
    assert answered == event, "refused: the event comes back unchanged"
    decisions = lambda_log.decisions_since(mark, expect=1)
    assert [(d["outcome"], d["reason"]) for d in decisions] == [("refused", "no_candidates")]
    assert stack.ledger_scan(env) == before
