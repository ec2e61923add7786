"""Part of scripts/stack/selftest.sh: Cognito's rules, checked by direct calls on a running stack.

    python scripts/stack/selftest_rules.py ENV_FILE

Creates new pools of every shape in the stack's cognito-local (the stack's own pool is left
alone) and legacy users in its moto, then checks each rule of scripts/stack/cognito-rules.cjs
(and the ones cognito-local keeps itself) with SignUp, AdminCreateUser, InitiateAuth and the
attribute updates; the users a migration creates go through the real trigger the stack runs.
Also checks that setup.py refuses pool settings Cognito refuses, and the records `doctor` reads.
Prints one line a check; exits non-zero if any failed.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
import setup  # noqa: E402

EMAIL_ALIAS = "Username cannot be of email format, since user pool is configured for email alias."
PHONE_ALIAS = "Username cannot be of phone number format, since user pool is configured for phone number alias."
UNAUTHORIZED_ATTRIBUTE = "A client attempted to write unauthorized attribute"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PASSWORD = "Selftest-Pw-1"

env = setup.read_env_file(sys.argv[1])
config = Config(retries={"max_attempts": 1}, read_timeout=60)


def client(service: str, endpoint: str):
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="local",
        aws_secret_access_key="local", config=config,
    )


new = client("cognito-idp", env["COGNITO_LOCAL_ENDPOINT"])
legacy = client("cognito-idp", env["MOTO_ENDPOINT"])
ok = True


def expect(what: str, cond) -> None:
    global ok
    print(f"    {'ok' if cond else 'FAIL'}  {what}")
    ok = ok and bool(cond)


def error_of(call, *args, **kwargs) -> tuple[str, str] | None:
    try:
        call(*args, **kwargs)
    except new.exceptions.ClientError as error:
        return error.response["Error"]["Code"], error.response["Error"]["Message"]
    return None


def attributes(user: dict) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user.get("UserAttributes", user.get("Attributes", []))}


def sign_in(client_id: str, username: str, password: str = PASSWORD):
    return new.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": username, "PASSWORD": password}
    )


def created(pool_id: str, username: str, **attrs: str) -> str:
    user = new.admin_create_user(
        UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS",
        UserAttributes=[{"Name": k, "Value": v} for k, v in attrs.items()],
    )["User"]
    new.admin_set_user_password(UserPoolId=pool_id, Username=user["Username"], Password=PASSWORD, Permanent=True)
    return user["Username"]


# ---- setup.py refuses what Cognito refuses --------------------------------------------------------
pools_before = legacy.list_user_pools(MaxResults=60)["UserPools"]
try:
    setup.create_user_pool(legacy, PoolName="impossible", AliasAttributes=["email"], UsernameAttributes=["email"])
    refused = False
except SystemExit as error:
    refused = "never both" in str(error)
expect("setup refuses a pool with both AliasAttributes and UsernameAttributes (moto would create it)", refused)
expect("  and creates nothing", legacy.list_user_pools(MaxResults=60)["UserPools"] == pools_before)
for bad in ({"AliasAttributes": ["name"]}, {"UsernameAttributes": ["preferred_username"]}):
    try:
        setup.check_pool_settings(bad)
        refused = False
    except SystemExit:
        refused = True
    expect(f"setup refuses {bad}", refused)

# ---- one pool of every shape ---------------------------------------------------------------------
shapes = {shape: setup.create_new(env["COGNITO_LOCAL_ENDPOINT"], shape) for shape in setup.SHAPES}
for shape, ids in shapes.items():
    described = new.describe_user_pool(UserPoolId=ids["NEW_USER_POOL_ID"])["UserPool"]
    expect(
        f"{shape} pool created as asked",
        (described.get("AliasAttributes") or [], described.get("UsernameAttributes") or [])
        == (setup.SHAPES[shape].get("AliasAttributes", []), setup.SHAPES[shape].get("UsernameAttributes", [])),
    )
username_pool, email_pool, alias_pool = (shapes[s]["NEW_USER_POOL_ID"] for s in ("username", "email", "alias"))
username_app, email_app, alias_app = (shapes[s]["NEW_CLIENT_ID"] for s in ("username", "email", "alias"))
phone_schema = [setup.standard_attribute("phone_number"), setup.standard_attribute("email")]
phone_alias_pool = setup.create_user_pool(
    new, PoolName="phone-alias", UsernameConfiguration={"CaseSensitive": False}, AliasAttributes=["phone_number"],
    Schema=phone_schema,
)["Id"]
phone_pool = setup.create_user_pool(
    new, PoolName="phone-username", UsernameConfiguration={"CaseSensitive": False},
    UsernameAttributes=["phone_number"], Schema=phone_schema,
)["Id"]
phone_app = new.create_user_pool_client(
    UserPoolId=phone_pool, ClientName="phone", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
)["UserPoolClient"]["ClientId"]

# ---- aliases: no username in the alias's format ---------------------------------------------------
expect(
    "alias pool: AdminCreateUser with an email-format username is refused",
    error_of(new.admin_create_user, UserPoolId=alias_pool, Username="Ann@Example.com", MessageAction="SUPPRESS")
    == ("InvalidParameterException", EMAIL_ALIAS),
)
expect(
    "alias pool: SignUp with an email-format username is refused",
    error_of(new.sign_up, ClientId=alias_app, Username="ann@example.com", Password=PASSWORD)
    == ("InvalidParameterException", EMAIL_ALIAS),
)
expect(
    "phone-alias pool: AdminCreateUser with a phone-format username is refused",
    error_of(new.admin_create_user, UserPoolId=phone_alias_pool, Username="+15550100999", MessageAction="SUPPRESS")
    == ("InvalidParameterException", PHONE_ALIAS),
)
expect(
    "alias pool: a handle with an email alias is created",
    created(alias_pool, "ann.handle", email="Ann@Example.com", email_verified="true") == "ann.handle",
)
expect("alias pool: the handle signs in by its verified email", "AuthenticationResult" in sign_in(alias_app, "ANN@example.com"))
expect(
    "username pool: an email-format username is just a username",
    created(username_pool, "Ann@Example.com") == "Ann@Example.com",
)
created(username_pool, "bob.handle", email="bob@example.com", email_verified="true")
expect(
    "username pool: no alias, so an email attribute does not sign in",
    error_of(sign_in, username_app, "bob@example.com") is not None,
)

# ---- UsernameAttributes: generated usernames -------------------------------------------------------
generated = created(email_pool, "Cy@Example.com")
expect("email pool: AdminCreateUser generates the username", bool(UUID.match(generated)))
cy = attributes(new.admin_get_user(UserPoolId=email_pool, Username=generated))
expect("email pool: the username is the sub, the typed email the email", (cy.get("sub"), cy.get("email")) == (generated, "Cy@Example.com"))
expect("email pool: sign-in by the email, in another case", "AuthenticationResult" in sign_in(email_app, "cy@EXAMPLE.com"))
signed_up = new.sign_up(ClientId=email_app, Username="Dee@Example.com", Password=PASSWORD)
new.admin_confirm_sign_up(UserPoolId=email_pool, Username="dee@example.com")
dee = new.admin_get_user(UserPoolId=email_pool, Username="dee@example.com")
expect("email pool: SignUp generates the username (the UserSub)", dee["Username"] == signed_up["UserSub"])
expect(
    "email pool: a username that is not an email is refused",
    error_of(new.admin_create_user, UserPoolId=email_pool, Username="handle", MessageAction="SUPPRESS")
    == ("InvalidParameterException", "Username should be an email."),
)
phone_user = created(phone_pool, "+15550100123")
expect("phone pool: AdminCreateUser generates the username", bool(UUID.match(phone_user)))
expect("phone pool: sign-in by the phone number", "AuthenticationResult" in sign_in(phone_app, "+15550100123"))

# ---- immutable attributes, WriteAttributes, wrong passwords ------------------------------------------
eve = created(alias_pool, "eve", email="eve@example.com", **{"custom:legacy_sub": "legacy-1"})
expect(
    "AdminUpdateUserAttributes of an immutable attribute is refused",
    (error_of(new.admin_update_user_attributes, UserPoolId=alias_pool, Username=eve,
              UserAttributes=[{"Name": "custom:legacy_sub", "Value": "legacy-2"}]) or ("",))[0]
    == "InvalidParameterException",
)
# A client without WriteAttributes may write every attribute (the stack's own app client lists its own).
open_app = new.create_user_pool_client(
    UserPoolId=alias_pool, ClientName="open", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
)["UserPoolClient"]["ClientId"]
expect(
    "UpdateUserAttributes of an immutable attribute is refused",
    (error_of(new.update_user_attributes, AccessToken=sign_in(open_app, "eve")["AuthenticationResult"]["AccessToken"],
              UserAttributes=[{"Name": "custom:legacy_sub", "Value": "legacy-2"}]) or ("",))[0]
    == "InvalidParameterException",
)
restricted = new.create_user_pool_client(
    UserPoolId=alias_pool, ClientName="restricted", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    WriteAttributes=["email", "name"],
)["UserPoolClient"]["ClientId"]
access = sign_in(restricted, "eve")["AuthenticationResult"]["AccessToken"]
expect(
    "the immutable attribute kept its value",
    attributes(new.admin_get_user(UserPoolId=alias_pool, Username=eve))["custom:legacy_sub"] == "legacy-1",
)
expect(
    "WriteAttributes: SignUp writing another attribute is refused",
    error_of(new.sign_up, ClientId=restricted, Username="frank", Password=PASSWORD,
             UserAttributes=[{"Name": "custom:legacy_username", "Value": "Frank"}])
    == ("NotAuthorizedException", UNAUTHORIZED_ATTRIBUTE),
)
expect("  and creates nothing", error_of(new.admin_get_user, UserPoolId=alias_pool, Username="frank") is not None)
expect(
    "WriteAttributes: SignUp writing only allowed attributes works",
    error_of(new.sign_up, ClientId=restricted, Username="gina", Password=PASSWORD,
             UserAttributes=[{"Name": "email", "Value": "gina@example.com"}]) is None,
)
expect(
    "WriteAttributes: UpdateUserAttributes of another attribute is refused",
    error_of(new.update_user_attributes, AccessToken=access,
             UserAttributes=[{"Name": "preferred_username", "Value": "Evie"}])
    == ("NotAuthorizedException", UNAUTHORIZED_ATTRIBUTE),
)
expect(
    "WriteAttributes: UpdateUserAttributes of an allowed attribute works",
    error_of(new.update_user_attributes, AccessToken=access, UserAttributes=[{"Name": "name", "Value": "Eve"}]) is None,
)
expect(
    "WriteAttributes do not bind AdminUpdateUserAttributes",
    error_of(new.admin_update_user_attributes, UserPoolId=alias_pool, Username=eve,
             UserAttributes=[{"Name": "preferred_username", "Value": "Evie"}]) is None,
)
expect(
    "a client without WriteAttributes writes any writable attribute",
    error_of(new.sign_up, ClientId=open_app, Username="hal", Password=PASSWORD,
             UserAttributes=[{"Name": "email", "Value": "hal@example.com"},
                             {"Name": "nickname", "Value": "Hal"}]) is None,
)
for name, pool_client, typed in (("alias", alias_app, "eve"), ("email", email_app, "CY@example.com")):
    expect(
        f"{name} pool: a wrong password answers NotAuthorizedException, Incorrect username or password.",
        error_of(sign_in, pool_client, typed, PASSWORD + "-wrong")
        == ("NotAuthorizedException", "Incorrect username or password."),
    )

# ---- users the real trigger creates ------------------------------------------------------------------
def legacy_user(username: str, email: str) -> None:
    legacy.admin_create_user(
        UserPoolId=env["LEGACY_USER_POOL_ID"], Username=username, MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
    )
    legacy.admin_set_user_password(UserPoolId=env["LEGACY_USER_POOL_ID"], Username=username, Password=PASSWORD, Permanent=True)


def migrated(pool_id: str, legacy_username: str) -> list[dict]:
    users = new.list_users(UserPoolId=pool_id)["Users"]
    return [u for u in users if attributes(u).get("custom:legacy_username") == legacy_username]


# The legacy pool's shape decides what a legacy username may look like: handles where email is an
# alias, emails where the email is the username (moto then generates the real username). The
# ledger is empty here, so the trigger finds the user by an exact AdminGetUser, which moto answers
# for a username or a UsernameAttributes value but not for an alias: with the alias shape the
# handle is typed.
shape = env.get("LEGACY_POOL_SHAPE", "username")
for target in ("username", "email", "alias"):
    email = f"Trig.{target}.{uuid.uuid4().hex[:6]}@Example.com"
    name = email.split("@")[0] if shape == "alias" else email
    legacy_user(name, email)
    if shape == "email":
        name = legacy.admin_get_user(UserPoolId=env["LEGACY_USER_POOL_ID"], Username=email)["Username"]
    typed = name if shape == "alias" else email
    pool_id, app = shapes[target]["NEW_USER_POOL_ID"], shapes[target]["NEW_CLIENT_ID"]
    outcome = error_of(sign_in, app, typed)
    users = migrated(pool_id, name)
    if target == "username":
        expect(f"trigger, username pool: signing in migrates the user ({outcome})", outcome is None and len(users) == 1)
        expect("  under the typed name as username", users and users[0]["Username"].lower() == typed.lower())
    elif target == "email":
        expect(f"trigger, email pool: signing in migrates the user ({outcome})", outcome is None and len(users) == 1)
        expect("  under a generated username", users and bool(UUID.match(users[0]["Username"])))
        expect("  found by its email again, no second migration", error_of(sign_in, app, email.lower()) is None
               and len(migrated(pool_id, name)) == 1)
    else:
        # Cognito's rule holds whatever the trigger answers: the user gets a username of its
        # own with the email as an alias, or the migration fails with Cognito's refusal.
        expect(
            f"trigger, alias pool: no email-format username is created ({typed}: {outcome})",
            (outcome is None and len(users) == 1 and "@" not in users[0]["Username"]
             and attributes(users[0]).get("email", "").lower() == email.lower())
            or (outcome == ("InvalidParameterException", EMAIL_ALIAS) and users == []),
        )

# ---- what doctor reads ----------------------------------------------------------------------------
lam = client("lambda", env["LAMBDA_API_ENDPOINT"])
function = lam.get_function_configuration(FunctionName=env["TRIGGER_FUNCTION"])
variables = function.get("Environment", {}).get("Variables", {})
expect("moto holds the function record, with the function's ARN", function["FunctionArn"] == env["TRIGGER_FUNCTION_ARN"])
expect(
    "its variables are the ones the function runs with",
    variables.get("LEGACY_USER_POOL_ID") == env["LEGACY_USER_POOL_ID"]
    and variables.get("LEDGER_TABLE") == env["LEDGER_TABLE"]
    and "AWS_SECRET_ACCESS_KEY" not in variables,
)
lambda_config = new.describe_user_pool(UserPoolId=env["NEW_USER_POOL_ID"])["UserPool"].get("LambdaConfig", {})
expect(
    "the new pool's LambdaConfig names the function for its four triggers",
    all(lambda_config.get(t) == env["TRIGGER_FUNCTION_ARN"]
        for t in ("UserMigration", "PreSignUp", "PostAuthentication", "PreTokenGeneration")),
)
policy = json.loads(lam.get_policy(FunctionName=env["TRIGGER_FUNCTION"])["Policy"])
expect(
    "the function's policy lets the new pool invoke it",
    any(s.get("Principal", {}).get("Service") == "cognito-idp.amazonaws.com"
        and s.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn") == env["NEW_USER_POOL_ARN"]
        for s in policy["Statement"]),
)
sys.exit(0 if ok else 1)
