"""The attacks an identity migration must resist, mounted as a client would: through the new
pool's public API (SignUp, InitiateAuth USER_PASSWORD_AUTH, ForgotPassword, UpdateUserAttributes)
against cognito-local, which runs the real trigger under `cargo lambda watch`, with moto as the
legacy pool and the ledger. core/tests/fixtures/scenarios.json holds the same attacks as
scenario rows for the core and the simulator.

Each test also shows what the attack would have won (a user in the new pool, a group in a token,
a delivered code) being absent, so that it fails if the protection is taken away.

They run in every new-pool shape: the trigger decides the same way in each, while the accounts
an attacker can open, and the usernames Cognito gives, follow the shape (`opened`,
`stack.migrated_username`). Users are found by an address or by their real username, never by
an assumed one, and legacy users by the username the legacy pool gave them
(`stack.legacy_username`).
"""

from __future__ import annotations

import json
import re
import time

import seed
import stack
from stack import jwt_claims, sign_in

S = seed.SCENARIOS
UNAUTHORIZED_ATTRIBUTE = ("NotAuthorizedException", "A client attempted to write unauthorized attribute")
# What cognito-local answers when the PreSignUp function fails; real Cognito says
# UserLambdaValidationException: PreSignUp failed with error <the Lambda's message>.
SIGN_UP_REFUSED = ("UnexpectedLambdaExceptionException", "Unexpected error when invoking lambda")
# Cognito's answer to a refused migration or a wrong password, with PreventUserExistenceErrors.
SIGN_IN_REFUSED = ("NotAuthorizedException", "Incorrect username or password.")


def outcomes(decisions: list[dict], trigger: str | None = None) -> list[tuple]:
    return [
        (d["trigger"], d["outcome"], d["reason"]) if trigger is None else (d["outcome"], d["reason"])
        for d in decisions
        if trigger is None or d["trigger"] == trigger
    ]


def groups_in(tokens: dict) -> dict[str, list[str]]:
    return {name: sorted(jwt_claims(tokens[name]).get("cognito:groups", [])) for name in ("IdToken", "AccessToken")}


def legacy_names_in_new_pool(env) -> list[str]:
    return [
        a["Value"] for u in stack.new_users(env) for a in u["Attributes"] if a["Name"] == "custom:legacy_username"
    ]


def opened(env, handle: str, email: str) -> tuple[str, str]:
    """(username, email) of an account a stranger opens in the new pool: a handle with an email,
    or, where the email is the username, the address for both."""
    return (email, email) if stack.new_pool_shape(env) == "email" else (handle, email)


def refused_like_an_unknown_user(env, typed: str, password: str) -> stack.SignIn:
    result = sign_in(env, typed, password)
    assert not result.ok, typed
    assert (result.error_code, result.error_message) == SIGN_IN_REFUSED, (typed, result)
    return result


def test_naming_a_legacy_admin_gets_neither_the_account_nor_its_groups(env, lambda_log):
    admin = S["attack_admin"]
    admin_name = stack.legacy_username(env, admin)
    password = seed.CANARY + "-eve"
    claims = {"custom:legacy_username": admin_name, "custom:legacy_sub": stack.legacy_sub(env, admin)}
    eve, eve_email = opened(env, "eve-attacker", "eve.attacker@evil.test")

    # A fresh sign-up naming the admin: the app client may not write custom:legacy_*, so the
    # request never reaches the trigger...
    for name, value in claims.items():
        mark = lambda_log.mark()
        answer, error = stack.sign_up(env, eve, password, {"email": eve_email, name: value})
        assert answer is None and (error["Code"], error["Message"]) == UNAUTHORIZED_ATTRIBUTE, name
        assert lambda_log.decisions_since(mark) == [], name
    # ...and through a client that may write every attribute, the pre sign-up trigger refuses it.
    for name, value in claims.items():
        mark = lambda_log.mark()
        answer, error = stack.sign_up(env, eve, password, {"email": eve_email, name: value}, stack.open_client(env))
        assert answer is None and (error["Code"], error["Message"]) == SIGN_UP_REFUSED, name
        assert outcomes(lambda_log.decisions_since(mark, expect=1)) == [
            ("PreSignUp_SignUp", "refused", "legacy_attribute_in_sign_up")
        ], name
    assert stack.new_user(env, eve) is None

    # An account of her own, then the attribute written afterwards: refused by the client's
    # WriteAttributes, and as an immutable attribute through a client without the list.
    answer, error = stack.sign_up(env, eve, password, {"email": eve_email})
    assert error is None, error
    stack.new_idp(env).admin_confirm_sign_up(UserPoolId=env["NEW_USER_POOL_ID"], Username=eve)
    # Her real username: a generated one where the email is the username.
    eve_username = stack.new_user(env, eve)["Username"]
    eve_signed_in = sign_in(env, eve, password)
    assert eve_signed_in.ok, eve_signed_in
    assert groups_in(eve_signed_in.tokens) == {"IdToken": [], "AccessToken": []}
    update = [{"Name": "custom:legacy_username", "Value": admin_name}]
    assert (
        stack.error_of(
            stack.new_idp(env).update_user_attributes, AccessToken=eve_signed_in.tokens["AccessToken"], UserAttributes=update
        )
        == UNAUTHORIZED_ATTRIBUTE
    )
    open_eve = stack.sign_in_with(env, stack.open_client(env), eve, password)
    assert open_eve.ok, open_eve
    refused = stack.error_of(
        stack.new_idp(env).update_user_attributes, AccessToken=open_eve.tokens["AccessToken"], UserAttributes=update
    )
    assert refused is not None and refused[0] == "InvalidParameterException", refused
    assert not any(k.startswith("custom:legacy_") for k in stack.new_user(env, eve)["Attributes"])

    # Should a new-pool user carry the admin's name anyway (here an administrator gave it, as
    # if both checks above had failed), the ledger's binding keeps the admin's groups from it.
    ghost, ghost_email = opened(env, "ghost-admin", "ghost.admin@evil.test")
    stack.new_idp(env).admin_create_user(
        UserPoolId=env["NEW_USER_POOL_ID"],
        Username=ghost,
        UserAttributes=[{"Name": "email", "Value": ghost_email}, *({"Name": k, "Value": v} for k, v in claims.items())],
        MessageAction="SUPPRESS",
    )
    stack.new_idp(env).admin_set_user_password(
        UserPoolId=env["NEW_USER_POOL_ID"], Username=ghost, Password=password, Permanent=True
    )

    def ghost_signs_in_without_groups():
        mark = lambda_log.mark()
        result = sign_in(env, ghost, password)
        assert result.ok, result
        assert groups_in(result.tokens) == {"IdToken": [], "AccessToken": []}
        assert sorted(outcomes(lambda_log.decisions_since(mark, expect=2))) == [
            ("PostAuthentication_Authentication", "unchanged", "not_owner"),
            ("TokenGeneration_Authentication", "unchanged", "not_owner"),
        ]
        assert stack.new_groups_of(env, ghost_username) == []

    # AdminListGroupsForUser needs the real username (a generated one where the email is the
    # username): given an address, cognito-local finds no groups whatever the user has.
    ghost_username = stack.new_user(env, ghost)["Username"]
    assert stack.new_user(env, ghost)["Attributes"]["custom:legacy_username"] == admin_name
    ghost_signs_in_without_groups()
    assert [stack.state_of(i) for i in stack.ledger_user(env, admin_name)] == [("pending", None)]

    # The admin migrates, and only the admin's tokens carry the group.
    mark = lambda_log.mark()
    moved = sign_in(env, "ada.admin@acme.com", admin.password)
    assert moved.ok, moved
    assert groups_in(moved.tokens) == {"IdToken": ["admins"], "AccessToken": ["admins"]}
    assert outcomes(lambda_log.decisions_since(mark, expect=3), "UserMigration_Authentication") == [("approved", "")]
    new_admin = stack.new_user(env, "ada.admin@acme.com")
    [item] = stack.ledger_user(env, admin_name)
    assert stack.state_of(item) == ("migrated", None)
    assert item["newSub"]["S"] == new_admin["Attributes"]["sub"]

    ghost_signs_in_without_groups()
    eve_signed_in = sign_in(env, eve, password)
    assert eve_signed_in.ok and groups_in(eve_signed_in.tokens) == {"IdToken": [], "AccessToken": []}
    assert stack.new_groups_of(env, eve_username) == []
    assert [g["GroupName"] for g in stack.new_groups_of(env, new_admin["Username"])] == ["admins"]


def test_an_unverified_address_signs_nobody_in_and_blocks_no_sign_up(env, lambda_log):
    owner, mallory, quinn = S["squat_owner"], S["squat_mallory"], S["squat_unverified"]
    assert mallory.email.lower() == owner.email.lower() and not mallory.email_verified
    before = len(stack.new_users(env))

    # Mallory types the address she put on her account, unverified, with her own password:
    # it is Vera's sign-in only, so the password is checked against Vera and fails.
    refused_like_an_unknown_user(env, "nobody.squat@acme.com", mallory.password)
    mark = lambda_log.mark()
    refused_like_an_unknown_user(env, "vera.victim@acme.com", mallory.password)
    [decision] = lambda_log.decisions_since(mark, expect=1)
    # Both are filed under the address; only Vera's password is tried.
    assert (decision["outcome"], decision["reason"], decision["candidates"], decision["password_checks"]) == (
        "refused",
        "wrong_password",
        2,
        1,
    )
    # Where the email is the legacy username, an address is its holder's sign-in, verified or
    # not (Mallory's is the one refused above); elsewhere one held only unverified finds nobody.
    legacy_email = stack.legacy_pool_shape(env) == "email"
    if not legacy_email:
        mark = lambda_log.mark()
        refused_like_an_unknown_user(env, "open.inbox@acme.com", quinn.password)
        assert outcomes(lambda_log.decisions_since(mark, expect=1)) == [
            ("UserMigration_Authentication", "refused", "no_candidates")
        ]
    assert len(stack.new_users(env)) == before
    for user in (owner, mallory, quinn):
        assert [stack.state_of(i) for i in stack.ledger_user(env, stack.legacy_username(env, user))] == [
            ("pending", None)
        ], user

    # The owner of the verified address migrates with her own password, under that address.
    vera = sign_in(env, "Vera.Victim@acme.com", owner.password)
    assert vera.ok, vera
    moved = stack.new_user(env, "vera.victim@acme.com")["Attributes"]
    assert moved["custom:legacy_username"] == stack.legacy_username(env, owner) and moved["email_verified"] == "true"
    if legacy_email:
        # Her address was her only sign-in, and it gets her no account.
        assert stack.legacy_username(env, mallory) not in legacy_names_in_new_pool(env)
    elif stack.new_pool_shape(env) == "email":
        # Where the email is the username, a handle signs in with an address the legacy pool
        # verified, and Mallory has none (hers is Vera's, unverified): her own sign-in is refused
        # and gets her no account.
        mark = lambda_log.mark()
        refused_like_an_unknown_user(env, "mallorymole", mallory.password)
        assert outcomes(lambda_log.decisions_since(mark, expect=1)) == [
            ("UserMigration_Authentication", "refused", "attributes_rejected")
        ]
        assert stack.legacy_username(env, mallory) not in legacy_names_in_new_pool(env)
    else:
        # Mallory still has her own account, and the address is not verified on it.
        own = sign_in(env, "mallorymole", mallory.password)
        assert own.ok, own
        kept = stack.new_user(env, "mallorymole")["Attributes"]
        assert kept["custom:legacy_username"] == stack.legacy_username(env, mallory)
        assert kept.get("email_verified") != "true"

    # A sign-up with an address a legacy user holds only unverified goes on (unless that address
    # is the legacy user's username).
    mark = lambda_log.mark()
    newcomer, newcomer_email = opened(env, "open-inbox-newcomer", "OPEN.INBOX@acme.com")
    answer, error = stack.sign_up(env, newcomer, seed.CANARY + "-new", {"email": newcomer_email})
    if legacy_email:
        assert answer is None and (error["Code"], error["Message"]) == SIGN_UP_REFUSED
        assert outcomes(lambda_log.decisions_since(mark, expect=1)) == [
            ("PreSignUp_SignUp", "refused", "identifier_taken")
        ]
        assert stack.new_user(env, newcomer) is None
    else:
        assert error is None, error
        assert outcomes(lambda_log.decisions_since(mark, expect=1)) == [("PreSignUp_SignUp", "allowed", "")]
        assert stack.new_user(env, newcomer)["UserStatus"] == "UNCONFIRMED"
    assert [stack.state_of(i) for i in stack.ledger_user(env, stack.legacy_username(env, quinn))] == [("pending", None)]


def test_a_unicode_variant_of_a_registered_name_never_becomes_a_username(env, lambda_log):
    user = S["variant"]
    legacy_name = stack.legacy_username(env, user)
    variants = ["grosse.straße@acme.com", "ＧＲＯＳＳＥ.ｓｔｒａｓｓｅ@acme.com"]
    for typed in variants:
        mark = lambda_log.mark()
        refused_like_an_unknown_user(env, typed, user.password)
        assert outcomes(lambda_log.decisions_since(mark, expect=1)) == [
            ("UserMigration_Authentication", "refused", "identifier_variant")
        ], typed
        assert stack.new_user(env, typed) is None, typed
    assert [stack.state_of(i) for i in stack.ledger_user(env, legacy_name)] == [("pending", None)]

    # Typed as registered, it migrates under the registered name...
    assert sign_in(env, "GROSSE.STRASSE@acme.com", user.password).ok
    assert stack.new_user(env, "grosse.strasse@acme.com")["Attributes"]["custom:legacy_username"] == legacy_name
    # ...a variant still makes no second user, and the registered name is not locked out.
    for typed in variants:
        refused_like_an_unknown_user(env, typed, user.password)
        assert stack.new_user(env, typed) is None, typed
    assert sign_in(env, "Grosse.Strasse@Acme.com", user.password).ok
    assert legacy_names_in_new_pool(env).count(legacy_name) == 1
    assert [stack.state_of(i) for i in stack.ledger_user(env, legacy_name)] == [("migrated", None)]


def test_a_migration_is_bound_in_two_phases_and_an_approval_holds_the_identifiers(env, lambda_log):
    user = S["binding"]
    # The sign-in: the migration records `approved`, post authentication (which cognito-local
    # runs within the same sign-in) confirms it as `migrated` with the new user's sub.
    mark = lambda_log.mark()
    assert sign_in(env, "bea.binding@acme.com", user.password).ok
    decisions = lambda_log.decisions_since(mark, expect=3)
    assert [(t, o) for t, o, _ in outcomes(decisions)] == [
        ("UserMigration_Authentication", "approved"),
        ("PostAuthentication_Authentication", "groups-copied"),
        ("TokenGeneration_Authentication", "groups-added"),
    ]
    created = stack.new_user(env, "bea.binding@acme.com")
    items = stack.ledger_user(env, stack.legacy_username(env, user))
    assert [(stack.state_of(i), i["newUsername"]["S"], i["newSub"]["S"]) for i in items] == [
        (("migrated", None), stack.migrated_username(env, user, "bea.binding@acme.com"), created["Attributes"]["sub"])
    ]

    # An approval whose new-pool user was never created, as a crashed invocation leaves it, under
    # the username the trigger gives in this pool's shape.
    crashed = S["crashed"]
    crashed_name = stack.legacy_username(env, crashed)
    claimed = stack.migrated_username(env, crashed, "cora.crashed@acme.com")
    stack.ledger_leave_approved(env, crashed_name, claimed, int(time.time() * 1000))
    assert [stack.state_of(i) for i in stack.ledger_user(env, crashed_name)] == [("approved", None)]
    # While it stands, a stranger cannot sign up with the user's address or the claimed name
    # (where the email is the username, the claimed name is that address).
    attempts = [opened(env, "cora-lookalike", "CORA.CRASHED@acme.com")]
    if stack.new_pool_shape(env) != "email":
        attempts.append((claimed, "elsewhere@evil.test"))
    for username, email in attempts:
        mark = lambda_log.mark()
        answer, error = stack.sign_up(env, username, seed.CANARY + "-stranger", {"email": email})
        assert answer is None and (error["Code"], error["Message"]) == SIGN_UP_REFUSED, username
        assert outcomes(lambda_log.decisions_since(mark, expect=1)) == [
            ("PreSignUp_SignUp", "refused", "identifier_taken")
        ], username
        assert stack.new_user(env, username) is None, username
    # The user's own sign-in completes the approval and binds it to the sub Cognito gives.
    mark = lambda_log.mark()
    assert sign_in(env, "Cora.Crashed@acme.com", crashed.password).ok
    assert outcomes(lambda_log.decisions_since(mark, expect=3), "UserMigration_Authentication") == [
        ("approved-again", "")
    ]
    cora = stack.new_user(env, "cora.crashed@acme.com")
    assert cora["Attributes"]["custom:legacy_username"] == crashed_name
    if stack.new_pool_shape(env) != "email":
        # The new pool is case-insensitive; its username may keep the case typed.
        assert cora["Username"].lower() == claimed
    items = stack.ledger_user(env, crashed_name)
    assert [(stack.state_of(i), i["newSub"]["S"]) for i in items] == [(("migrated", None), cora["Attributes"]["sub"])]


MASKED = re.compile(r"^.\*\*\*@.\*\*\*$")


def test_forgot_password_of_a_user_disabled_or_deleted_since_the_index_sends_no_code(env, lambda_log):
    disabled, deleted, live = S["stale_disabled"], S["stale_deleted"], S["stale_live"]
    legacy, pool = stack.legacy_idp(env), env["LEGACY_USER_POOL_ID"]
    disabled_name, deleted_name, live_name = (stack.legacy_username(env, u) for u in (disabled, deleted, live))
    legacy.admin_disable_user(UserPoolId=pool, Username=disabled_name)
    legacy.admin_delete_user(UserPoolId=pool, Username=deleted_name)
    # The index still has both as they were.
    for name in (disabled_name, deleted_name):
        assert [stack.state_of(i) for i in stack.ledger_user(env, name)] == [("pending", None)]

    cognito_log = stack.cognito_local_log()
    log_mark = cognito_log.mark()
    typed = {
        "unknown": "nobody.forgot@acme.com",
        "disabled": "dan.disabled@acme.com",
        "deleted": "DEL.DELETED@acme.com",
        "live": "liv.live@acme.com",
    }
    answers, decisions = {}, {}
    for case, username in typed.items():
        mark = lambda_log.mark()
        details, error = stack.forgot_password(env, username)
        assert error is None, (case, error)
        answers[case] = details
        decisions[case] = outcomes(lambda_log.decisions_since(mark, expect=1), "UserMigration_ForgotPassword")

    assert decisions == {
        "unknown": [("refused", "no_candidates")],
        "disabled": [("refused", "disabled")],
        "deleted": [("refused", "no_candidates")],
        "live": [("approved", "")],
    }
    # The client cannot tell a refusal from a delivery.
    for case, details in answers.items():
        assert (details["AttributeName"], details["DeliveryMedium"]) == ("email", "EMAIL"), case
        assert MASKED.match(details["Destination"]), (case, details)
    # A code went to the live user only (named in the delivery by its real username), and only
    # that user is in the new pool.
    moved = stack.new_user(env, "liv.live@acme.com")
    assert moved["UserStatus"] == "RESET_REQUIRED"
    deadline = time.monotonic() + 10
    while moved["Username"] not in (delivered := _deliveries(cognito_log.text_since(log_mark))):
        assert time.monotonic() < deadline, delivered
        time.sleep(0.1)
    assert delivered == [moved["Username"]]
    for case in ("unknown", "disabled", "deleted"):
        assert stack.new_user(env, typed[case]) is None, case
    for name in (disabled_name, deleted_name):
        assert [stack.state_of(i) for i in stack.ledger_user(env, name)] == [("pending", None)]
    [item] = stack.ledger_user(env, live_name)
    assert (stack.state_of(item), item["newUsername"]["S"]) == (
        ("approved", None),
        stack.migrated_username(env, live, "liv.live@acme.com"),
    )

    # The live user's code works: the reset and the first sign-in complete the migration.
    [code] = re.findall(r"Code:\s+(\d+)", cognito_log.text_since(log_mark))
    new_password = seed.CANARY + "-reset"
    stack.new_idp(env).confirm_forgot_password(
        ClientId=env["NEW_CLIENT_ID"], Username="Liv.Live@acme.com", ConfirmationCode=code, Password=new_password
    )
    assert sign_in(env, "liv.live@acme.com", new_password).ok
    [item] = stack.ledger_user(env, live_name)
    assert (stack.state_of(item), item["newSub"]["S"]) == (
        ("migrated", None),
        stack.new_user(env, "liv.live@acme.com")["Attributes"]["sub"],
    )


def _deliveries(log: str) -> list[str]:
    """The usernames cognito-local delivered a code to, in its log's delivery boxes."""
    return re.findall(r"Username:\s+(\S+)", log)


def test_a_group_removed_since_the_index_never_reaches_the_first_tokens(env, lambda_log):
    user = S["stale_groups"]
    legacy_name = stack.legacy_username(env, user)
    legacy = stack.legacy_idp(env)
    legacy.admin_remove_user_from_group(UserPoolId=env["LEGACY_USER_POOL_ID"], Username=legacy_name, GroupName="admins")
    # The index recorded the membership.
    [item] = stack.ledger_user(env, legacy_name)
    assert json.loads(item["user"]["S"])["groups"] == ["admins", "beta"]

    mark = lambda_log.mark()
    first = sign_in(env, "sue.stale@acme.com", user.password)
    assert first.ok, first
    assert groups_in(first.tokens) == {"IdToken": ["beta"], "AccessToken": ["beta"]}
    assert outcomes(lambda_log.decisions_since(mark, expect=3), "TokenGeneration_Authentication") == [
        ("groups-added", "")
    ]
    migrated = stack.new_user(env, "sue.stale@acme.com")
    assert [g["GroupName"] for g in stack.new_groups_of(env, migrated["Username"])] == ["beta"]
    again = sign_in(env, "Sue.Stale@acme.com", user.password)
    assert again.ok and groups_in(again.tokens) == {"IdToken": ["beta"], "AccessToken": ["beta"]}
