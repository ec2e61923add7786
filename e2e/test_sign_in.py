"""Sign-ins through the new pool (cognito-local), which runs the Lambda as its triggers."""

from __future__ import annotations

import seed
import stack
from stack import sign_in

S = seed.SCENARIOS


def migrations(decisions: list[dict]) -> list[dict]:
    return [d for d in decisions if d["trigger"] == "UserMigration_Authentication"]


def legacy_attributes(env, username: str) -> dict[str, str]:
    user = stack.client("cognito-idp", env["MOTO_ENDPOINT"]).admin_get_user(
        UserPoolId=env["LEGACY_USER_POOL_ID"], Username=username
    )
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def test_mixed_case_user_migrates_once_from_every_casing(env, lambda_log):
    user = S["casings"]
    mark = lambda_log.mark()
    first = sign_in(env, "name@acme.com", user.password)
    assert first.ok, first
    decisions = lambda_log.decisions_since(mark, expect=3)
    assert [(d["outcome"], d["reason"]) for d in migrations(decisions)] == [("approved", "")]
    assert [d["outcome"] for d in decisions if d["trigger"] == "PostAuthentication_Authentication"] == ["groups-copied"]

    migrated = stack.new_user(env, "name@acme.com")
    assert migrated is not None
    assert migrated["UserStatus"] == "CONFIRMED"
    attrs = migrated["Attributes"]
    legacy_name = stack.legacy_username(env, user)
    legacy_sub = legacy_attributes(env, legacy_name)["sub"]
    assert attrs["custom:legacy_username"] == legacy_name
    assert attrs["custom:legacy_sub"] == legacy_sub
    assert attrs["custom:legacy_sub"] != attrs["sub"], "the new pool gives the user a sub of its own"
    shape = stack.new_pool_shape(env)
    if shape == "alias":
        # The email typed goes on its (verified) attribute; the username is the legacy one, or,
        # when that is an email (refused where email is an alias), one made from the legacy sub.
        new_username = stack.migrated_username(env, user, "name@acme.com")
        assert migrated["Username"] == new_username
        assert attrs["email"] == "name@acme.com" and attrs["email_verified"] == "true"
    else:
        # With email as the username Cognito generates one; either way the ledger records the
        # email typed.
        new_username = "name@acme.com"
        assert (migrated["Username"] == new_username) == (shape == "username")
        assert attrs["email"] == "Name@Acme.com" and attrs["email_verified"] == "true"
    assert attrs["name"] == "Name Acme"

    # The groups, with what describes them, are in the new pool after the first sign-in.
    groups = {g["GroupName"]: g for g in stack.new_groups_of(env, migrated["Username"])}
    assert sorted(groups) == ["admins", "editors"]
    assert groups["admins"]["Description"] == "Administrators of the Acme console"
    assert groups["admins"]["Precedence"] == 1
    assert groups["admins"]["RoleArn"] == seed.ROLE_ARN.format("admins")
    # cognito-local copies groups before it makes the first tokens (real Cognito does not), so
    # this claim alone proves little: test_invoke.py checks the pre token generation answer.
    assert sorted(stack.jwt_claims(first.tokens["IdToken"]).get("cognito:groups", [])) == ["admins", "editors"]

    for typed in ["NAME@ACME.COM", "Name@acme.com", "name@acme.com"]:
        mark = lambda_log.mark()
        again = sign_in(env, typed, user.password)
        assert again.ok, (typed, again)
        decisions = lambda_log.decisions_since(mark, expect=2)
        # Only post authentication and pre token generation run: no second migration.
        assert migrations(decisions) == [], typed
        assert sorted(d["trigger"] for d in decisions) == [
            "PostAuthentication_Authentication",
            "TokenGeneration_Authentication",
        ], typed
        assert lambda_log.invocations_since(mark) == 2, typed

    same = [u for u in stack.new_users(env) if {"Name": "custom:legacy_username", "Value": legacy_name} in u["Attributes"]]
    assert len(same) == 1
    for item in stack.ledger_user(env, legacy_name):
        assert item["state"]["S"] == "migrated"
        assert item["newUsername"]["S"] == new_username
        assert item["groupsCopied"]["BOOL"] is True


def _collision_pair(env, lambda_log, audit, first, second, typed_first: str, typed_second: str):
    first_name, second_name = stack.legacy_username(env, first), stack.legacy_username(env, second)
    # The audit, run before the index, listed the pair under the address they share but for case
    # (every legacy shape signs them in by it).
    key = first.email.lower()
    groups = [c for c in audit["collisions"] if c["key"] == key]
    assert len(groups) == 1, key
    assert sorted(m["username"] for m in groups[0]["members"]) == sorted([first_name, second_name])

    # First sign-in: the password, not the typed case, picks the owner.
    mark = lambda_log.mark()
    result = sign_in(env, typed_first, first.password)
    assert result.ok, result
    decisions = migrations(lambda_log.decisions_since(mark, expect=1))
    assert [(d["outcome"], d["candidates"], d["password_checks"]) for d in decisions] == [("approved", 2, 2)]
    moved = stack.new_user(env, typed_first)
    assert moved["Attributes"]["custom:legacy_username"] == first_name
    assert moved["Attributes"]["name"] == first.name

    # The identifier is taken now: the other owner's password just fails, and the new pool does
    # not even ask the trigger.
    mark = lambda_log.mark()
    refused = sign_in(env, typed_second, second.password)
    assert not refused.ok
    # cognito-local answers a wrong password of an existing user so; real Cognito says
    # NotAuthorizedException: Incorrect username or password.
    assert refused.error_code in ("InvalidPasswordException", "NotAuthorizedException"), refused
    assert migrations(lambda_log.decisions_since(mark)) == []
    assert [stack.state_of(i) for i in stack.ledger_user(env, second_name)] == [("pending", None)]
    legacy_names = [
        a["Value"] for u in stack.new_users(env) for a in u["Attributes"] if a["Name"] == "custom:legacy_username"
    ]
    assert first_name in legacy_names and second_name not in legacy_names
    # The first owner still signs in with any casing.
    assert sign_in(env, typed_second, first.password).ok


def test_case_collision_with_different_passwords_lower_owner_first(env, lambda_log, audit):
    _collision_pair(env, lambda_log, audit, S["pair_lower"], S["pair_upper"], "Pat.Lee@Acme.com", "pat.lee@acme.com")


def test_case_collision_with_different_passwords_capitalised_owner_first(env, lambda_log, audit):
    _collision_pair(env, lambda_log, audit, S["pair2_upper"], S["pair2_lower"], "kim.park@acme.com", "KIM.PARK@ACME.COM")


def test_case_collision_with_identical_passwords_is_refused_as_ambiguous(env, lambda_log, audit):
    upper, lower = S["same_upper"], S["same_lower"]
    assert upper.password == lower.password
    assert any(c["key"] == "sam.same@acme.com" for c in audit["collisions"])
    before = len(stack.new_users(env))
    mark = lambda_log.mark()
    result = sign_in(env, "sam.same@acme.com", upper.password)
    assert not result.ok
    assert result.error_code == "NotAuthorizedException"
    decisions = migrations(lambda_log.decisions_since(mark, expect=1))
    assert [(d["outcome"], d["reason"], d["password_checks"]) for d in decisions] == [("refused", "ambiguous", 2)]
    for name in (stack.legacy_username(env, upper), stack.legacy_username(env, lower)):
        items = stack.ledger_user(env, name)
        assert [stack.state_of(i) for i in items] == [("refused", "ambiguous")], name
    assert stack.new_user(env, "sam.same@acme.com") is None
    assert len(stack.new_users(env)) == before


def test_wrong_password_unknown_and_disabled_users_fail_alike(env, lambda_log):
    ledger_before = stack.ledger_scan(env)
    users_before = stack.new_users(env)
    attempts = {
        "wrong_password": ("wanda.wrong@acme.com", S["wrong_password"].password + "-typo"),
        "no_candidates": ("nobody.at.all@acme.com", S["wrong_password"].password),
        "disabled": ("DIS.ABLED@acme.com", S["disabled"].password),
    }
    answers, reasons = {}, {}
    for reason, (typed, password) in attempts.items():
        mark = lambda_log.mark()
        result = sign_in(env, typed, password)
        assert not result.ok, typed
        answers[reason] = (result.error_code, result.error_message)
        reasons[reason] = [(d["outcome"], d["reason"]) for d in migrations(lambda_log.decisions_since(mark, expect=1))]
    # One answer for all three: nothing tells a guesser which accounts exist.
    assert len(set(answers.values())) == 1, answers
    assert answers["disabled"][0] == "NotAuthorizedException"
    assert reasons == {reason: [("refused", reason)] for reason in attempts}
    assert stack.new_users(env) == users_before
    assert stack.ledger_scan(env) == ledger_before


def test_more_than_sixty_groups_arrive(env, lambda_log):
    user = S["many_groups"]
    assert len(user.groups) > 60
    assert sign_in(env, "GUS.GROUPS@ACME.COM", user.password).ok
    migrated = stack.new_user(env, "gus.groups@acme.com")
    groups = stack.new_groups_of(env, migrated["Username"])
    assert sorted(g["GroupName"] for g in groups) == sorted(user.groups)
