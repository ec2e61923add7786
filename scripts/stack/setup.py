"""Creates the local stack's resources and records their ids in the stack's env file.

    setup.py legacy --env-file F --moto-endpoint URL [--shape username|email|alias]
        In moto: the legacy case-sensitive pool, its two app clients and the ledger table.
    setup.py new --env-file F --cognito-local-endpoint URL [--shape username|email|alias]
        In cognito-local: the new case-insensitive pool and its app client.
    setup.py function --env-file F --moto-endpoint URL --lambda-env FILE
        In moto's Lambda API: the trigger's function record with the variables of FILE, and the
        permission for the new pool to invoke it, where `cognito-migrate doctor` reads them.

Pool shapes (a pool signs in with usernames, optionally with aliases, or with the email as the
username; cognito-facts.md §8):
    username  plain usernames, no aliases (legacy: many of them email addresses)
    email     email as the username (UsernameAttributes): Cognito generates each username
    alias     usernames (handles) with email and preferred_username as aliases

Each step rewrites only its own keys in the env file (KEY=value lines), so the two can run
independently (`reset` re-creates one side while the other keeps running). Runs with the
project's venv Python (boto3 comes with moto).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import zipfile

import boto3
from botocore.config import Config

REGION = "us-east-1"
LEDGER_TABLE = "cognito-migrate-ledger"
# No retries: the servers are local, so a failure is real and should show at once.
BOTO_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)


def client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=BOTO_CONFIG,
    )


def standard_attribute(name: str, mutable: bool = True) -> dict:
    return {"Name": name, "AttributeDataType": "String", "Mutable": mutable, "Required": False}


# scripts/stack.sh (write_lambda_env) gives the trigger the same shape: NEW_POOL_USERNAME_ATTRIBUTES
# or NEW_POOL_ALIAS_ATTRIBUTES name these lists.
SHAPES = {
    "username": {},
    "email": {"UsernameAttributes": ["email"]},
    "alias": {"AliasAttributes": ["email", "preferred_username"]},
}
ALIAS_ATTRIBUTES = {"email", "phone_number", "preferred_username"}
USERNAME_ATTRIBUTES = {"email", "phone_number"}


def shape_settings(shape: str) -> dict:
    if shape not in SHAPES:
        raise SystemExit(f"setup: unknown pool shape {shape!r} (one of {', '.join(SHAPES)})")
    return SHAPES[shape]


def check_pool_settings(settings: dict) -> None:
    """Refuses what real Cognito refuses and moto would create anyway (cognito-facts.md §8)."""
    aliases = settings.get("AliasAttributes") or []
    username_attributes = settings.get("UsernameAttributes") or []
    if aliases and username_attributes:
        raise SystemExit(
            f"setup: a pool signs in either with usernames and aliases (AliasAttributes {aliases}) or with "
            f"UsernameAttributes {username_attributes}, never both: Cognito refuses to create it"
        )
    if not set(aliases) <= ALIAS_ATTRIBUTES:
        raise SystemExit(f"setup: AliasAttributes may hold only {sorted(ALIAS_ATTRIBUTES)}, not {aliases}")
    if not set(username_attributes) <= USERNAME_ATTRIBUTES:
        raise SystemExit(f"setup: UsernameAttributes may hold only {sorted(USERNAME_ATTRIBUTES)}, not {username_attributes}")


def create_user_pool(idp, **settings) -> dict:
    check_pool_settings(settings)
    return idp.create_user_pool(**settings)["UserPool"]


def create_legacy(moto_endpoint: str, shape: str) -> dict[str, str]:
    idp = client("cognito-idp", moto_endpoint)
    pool = create_user_pool(
        idp,
        PoolName="legacy-case-sensitive",
        # The legacy pool predates case-insensitive pools: Foo and foo are different users.
        UsernameConfiguration={"CaseSensitive": True},
        **shape_settings(shape),
        AutoVerifiedAttributes=["email"],
        Schema=[
            standard_attribute("email"),
            standard_attribute("phone_number"),
            standard_attribute("preferred_username"),
            standard_attribute("name"),
        ],
        MfaConfiguration="OPTIONAL",
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 8,
                "RequireUppercase": False,
                "RequireLowercase": False,
                "RequireNumbers": False,
                "RequireSymbols": False,
            }
        },
    )
    pool_id = pool["Id"]
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="OPTIONAL",
    )
    flows = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    plain = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="legacy-app", ExplicitAuthFlows=flows, GenerateSecret=False
    )["UserPoolClient"]
    secret = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="legacy-app-with-secret", ExplicitAuthFlows=flows, GenerateSecret=True
    )["UserPoolClient"]

    dynamodb = client("dynamodb", moto_endpoint)
    dynamodb.create_table(
        TableName=LEDGER_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    dynamodb.get_waiter("table_exists").wait(TableName=LEDGER_TABLE, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})

    return {
        "LEGACY_POOL_SHAPE": shape,
        "LEGACY_USER_POOL_ID": pool_id,
        "LEGACY_CLIENT_ID": plain["ClientId"],
        "LEGACY_SECRET_CLIENT_ID": secret["ClientId"],
        "LEGACY_SECRET_CLIENT_SECRET": secret["ClientSecret"],
        "LEDGER_TABLE": LEDGER_TABLE,
    }


# The app client's writable attributes: deploy/template.yaml's list, every standard attribute an app
# may write, and neither custom:legacy_sub nor custom:legacy_username.
APP_WRITE_ATTRIBUTES = [
    "email", "phone_number", "name", "given_name", "family_name", "middle_name", "nickname",
    "preferred_username", "profile", "picture", "website", "gender", "birthdate", "zoneinfo",
    "locale", "address", "updated_at",
]


def create_new(cognito_local_endpoint: str, shape: str) -> dict[str, str]:
    idp = client("cognito-idp", cognito_local_endpoint)
    settings = shape_settings(shape)
    pool = create_user_pool(
        idp,
        PoolName="new-case-insensitive",
        # The whole point of the migration. cognito-local stores this but matches exactly; the
        # preloaded shim reads it and makes lookups case-insensitive.
        UsernameConfiguration={"CaseSensitive": False},
        **settings,
        AutoVerifiedAttributes=["email"],
        Schema=[
            standard_attribute("email"),
            standard_attribute("phone_number"),
            standard_attribute("preferred_username"),
            standard_attribute("name"),
            # As in deploy/template.yaml. Immutable: written once, by the migration, as the
            # user's link to the legacy pool.
            {
                "Name": "legacy_sub",
                "AttributeDataType": "String",
                "Mutable": False,
                "Required": False,
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "128"},
            },
            {
                "Name": "legacy_username",
                "AttributeDataType": "String",
                "Mutable": False,
                "Required": False,
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "256"},
            },
        ],
        MfaConfiguration="OFF",
    )
    pool_id = pool["Id"]
    described = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    schema = {a["Name"]: a for a in described.get("SchemaAttributes", [])}
    for name in ("custom:legacy_sub", "custom:legacy_username"):
        if name not in schema:
            sys.exit(f"setup: cognito-local did not keep {name} in the new pool's schema")
    for name in ("custom:legacy_sub", "custom:legacy_username"):
        if schema[name].get("Mutable") is not False:
            sys.exit(f"setup: cognito-local did not keep {name} immutable")
    if described.get("UsernameConfiguration", {}).get("CaseSensitive") is not False:
        sys.exit("setup: cognito-local did not keep CaseSensitive=false")
    for key in ("UsernameAttributes", "AliasAttributes"):
        # cognito-local's own default (email as username) must have been switched off in its
        # config, or it would leak into every shape.
        if (described.get(key) or []) != settings.get(key, []):
            sys.exit(f"setup: the new pool has {key} {described.get(key)}, not those of the {shape} shape")

    app = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="new-app",
        ExplicitAuthFlows=[
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
        GenerateSecret=False,
        PreventUserExistenceErrors="ENABLED",
        # As in deploy/template.yaml: listed, because a client without a list may write every
        # attribute, and without the legacy ones, which only the migration writes.
        WriteAttributes=APP_WRITE_ATTRIBUTES,
    )["UserPoolClient"]
    described_app = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=app["ClientId"])["UserPoolClient"]
    if described_app.get("WriteAttributes") != APP_WRITE_ATTRIBUTES:
        sys.exit(f"setup: cognito-local did not keep the app client's WriteAttributes: {described_app.get('WriteAttributes')}")
    return {
        "NEW_POOL_SHAPE": shape,
        "NEW_USER_POOL_ID": pool_id,
        "NEW_USER_POOL_ARN": described["Arn"],
        "NEW_CLIENT_ID": app["ClientId"],
    }


TRIGGER_FUNCTION = "cognito-migrate-trigger"
# Variables AWS Lambda sets itself and refuses in a function's configuration.
RESERVED_VARIABLES = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION", "AWS_REGION",
    "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "LAMBDA_RUNTIME_DIR", "LAMBDA_TASK_ROOT",
}


def register_function(moto_endpoint: str, lambda_env: str, env_file: str) -> dict[str, str]:
    """The trigger as deployed would look to `doctor`: a function record carrying the variables the
    local function runs with (cargo lambda watch serves the code), and the new pool's permission
    to invoke it. Re-registered whenever the function restarts, so the two never differ."""
    with open(lambda_env, encoding="utf-8") as f:
        variables = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    variables = {k: v for k, v in variables.items() if k not in RESERVED_VARIABLES}
    pool_arn = read_env_file(env_file)["NEW_USER_POOL_ARN"]

    iam = client("iam", moto_endpoint)
    try:
        role_arn = iam.get_role(RoleName=TRIGGER_FUNCTION)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }
        role_arn = iam.create_role(RoleName=TRIGGER_FUNCTION, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]

    lam = client("lambda", moto_endpoint)
    try:
        lam.delete_function(FunctionName=TRIGGER_FUNCTION)
    except lam.exceptions.ResourceNotFoundException:
        pass
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\necho 'the local stack runs this function under cargo lambda watch' >&2\nexit 1\n")
    function = lam.create_function(
        FunctionName=TRIGGER_FUNCTION,
        # As deploy/template.yaml deploys it.
        Runtime="provided.al2023",
        Architectures=["arm64"],
        Handler="bootstrap",
        Timeout=5,
        MemorySize=256,
        Role=role_arn,
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": variables},
    )
    lam.add_permission(
        FunctionName=TRIGGER_FUNCTION,
        StatementId="cognito-new-pool",
        Action="lambda:InvokeFunction",
        Principal="cognito-idp.amazonaws.com",
        SourceArn=pool_arn,
    )
    return {
        "TRIGGER_FUNCTION": TRIGGER_FUNCTION,
        "TRIGGER_FUNCTION_ARN": function["FunctionArn"],
        "LAMBDA_API_ENDPOINT": moto_endpoint,
    }


def read_env_file(path: str) -> dict[str, str]:
    with open(path, encoding="utf-8") as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


def update_env_file(path: str, values: dict[str, str]) -> None:
    lines: list[str] = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f if line.strip()]
    kept = [line for line in lines if line.split("=", 1)[0] not in values]
    kept.extend(f"{key}={value}" for key, value in values.items())
    # Written whole and renamed, so a reader never sees half a file.
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".env.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(sorted(kept, key=lambda line: line.split("=", 1)[0])) + "\n")
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step", required=True)
    legacy = sub.add_parser("legacy")
    legacy.add_argument("--moto-endpoint", required=True)
    legacy.add_argument("--shape", default="username", choices=SHAPES)
    new = sub.add_parser("new")
    new.add_argument("--cognito-local-endpoint", required=True)
    new.add_argument("--shape", default="username", choices=SHAPES)
    function = sub.add_parser("function", help="register the trigger's configuration in moto's Lambda API")
    function.add_argument("--moto-endpoint", required=True)
    function.add_argument("--lambda-env", required=True)
    endpoints = sub.add_parser("endpoints", help="record the three server endpoints only")
    endpoints.add_argument("--moto-endpoint", required=True)
    endpoints.add_argument("--cognito-local-endpoint", required=True)
    endpoints.add_argument("--lambda-endpoint", required=True)
    for p in (legacy, new, function, endpoints):
        p.add_argument("--env-file", required=True)
    args = parser.parse_args()

    if args.step == "legacy":
        values = create_legacy(args.moto_endpoint, args.shape)
    elif args.step == "new":
        values = create_new(args.cognito_local_endpoint, args.shape)
    elif args.step == "function":
        values = register_function(args.moto_endpoint, args.lambda_env, args.env_file)
    else:
        values = {
            "MOTO_ENDPOINT": args.moto_endpoint,
            "COGNITO_LOCAL_ENDPOINT": args.cognito_local_endpoint,
            "LAMBDA_ENDPOINT": args.lambda_endpoint,
        }
    update_env_file(args.env_file, values)
    for key, value in values.items():
        shown = "***" if key.endswith("SECRET") else value
        print(f"setup: {key}={shown}")


if __name__ == "__main__":
    main()
