"""Access to the running local stack for the end-to-end tests and the demo: its settings, the two
pools, the ledger, the Lambda's invoke API and its decision log.

Everything here talks to the real servers over HTTP; nothing is stubbed.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import seed

ROOT = Path(__file__).resolve().parent.parent
STACK_DIR = Path(os.environ.get("STACK_DIR", ROOT / ".stack"))
REGION = "us-east-1"
TRIGGER = "cognito-migrate-trigger"
# No retries: a retried sign-in would invoke the trigger twice and blur the invocation counts.
BOTO = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)


def read_env() -> dict[str, str]:
    return seed.read_env(str(STACK_DIR / "env"))


def new_pool_shape(env: dict[str, str]) -> str:
    """The new pool's sign-in shape (`username`, `email`, `alias`; scripts/stack/setup.py)."""
    return env.get("NEW_POOL_SHAPE", "username")


def legacy_pool_shape(env: dict[str, str]) -> str:
    """The legacy pool's sign-in shape (`username`, `email`, `alias`; e2e/seed.py)."""
    return env.get("LEGACY_POOL_SHAPE", "username")


_legacy_usernames: dict[tuple[str, str], str] = {}


def legacy_username(env: dict[str, str], user: seed.Scenario) -> str:
    """The username the legacy pool holds a scenario user under, as e2e/seed.py created it: as
    written, the handle of an alias pool, or the username Cognito generated where the email is
    the username (found by the email, which is unique there to the letter)."""
    if legacy_pool_shape(env) != "email":
        return seed.in_shape(user, legacy_pool_shape(env), 0).username
    key = (env["LEGACY_USER_POOL_ID"], user.email)
    if key not in _legacy_usernames:
        found = legacy_idp(env).list_users(UserPoolId=env["LEGACY_USER_POOL_ID"], Filter=f'email = "{user.email}"')
        [name] = [
            u["Username"]
            for u in found["Users"]
            if {"Name": "email", "Value": user.email} in u["Attributes"]
        ]
        _legacy_usernames[key] = name
    return _legacy_usernames[key]


def legacy_sub(env: dict[str, str], user: seed.Scenario) -> str:
    legacy = legacy_idp(env).admin_get_user(UserPoolId=env["LEGACY_USER_POOL_ID"], Username=legacy_username(env, user))
    return {a["Name"]: a["Value"] for a in legacy["UserAttributes"]}["sub"]


def migrated_username(env: dict[str, str], user: seed.Scenario, typed: str) -> str:
    """The new pool's username the trigger records (ledger `newUsername`) for a user who signs
    in by typing their email address: the address in lower case, except where email is an alias
    of the new pool: there the user keeps the legacy username in lower case, or, when that is in
    email format (which such a pool refuses), gets one made from the legacy sub. (With email as
    the username, Cognito generates the user's real username; the ledger keeps the address.)"""
    if new_pool_shape(env) == "alias":
        own = legacy_username(env, user)
        return "u-" + legacy_sub(env, user).lower() if seed.EMAIL.match(own) else own.lower()
    return typed.lower()


def client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=BOTO,
    )


def cli_binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/cognito-migrate/target"))
    return target / "debug" / "cognito-migrate"


def cli_env(env: dict[str, str]) -> dict[str, str]:
    """The operator CLI's environment: moto for the ledger and the legacy pool, dummy keys."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out.update(
        AWS_ENDPOINT_URL=env["MOTO_ENDPOINT"],
        AWS_ENDPOINT_URL_DYNAMODB=env["MOTO_ENDPOINT"],
        LEGACY_ENDPOINT_URL=env["MOTO_ENDPOINT"],
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_REGION=REGION,
    )
    return out


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(cli_binary()), *args], env=cli_env(env), capture_output=True, text=True, timeout=300, check=True
    )


def ledger_scan(env: dict[str, str]) -> list[dict]:
    """Every ledger item, sorted, as plain JSON-like dicts (DynamoDB types kept)."""
    ddb = client("dynamodb", env["MOTO_ENDPOINT"])
    items, start = [], None
    while True:
        kwargs = {"TableName": env["LEDGER_TABLE"]}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = ddb.scan(**kwargs)
        items.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def ledger_user(env: dict[str, str], legacy_username: str) -> list[dict]:
    """Every item (one per key) of one legacy user, from a query on its username's key.

    The seeded identifiers are ASCII, whose match key is the lowercase form.
    """
    ddb = client("dynamodb", env["MOTO_ENDPOINT"])
    pk = "k#" + legacy_username.lower()
    items = ddb.query(
        TableName=env["LEDGER_TABLE"],
        KeyConditionExpression="pk = :pk AND sk = :sk",
        ExpressionAttributeValues={":pk": {"S": pk}, ":sk": {"S": "u#" + legacy_username}},
    )["Items"]
    return items


def state_of(item: dict) -> tuple[str, str | None]:
    return item["state"]["S"], item.get("reason", {}).get("S")


@dataclass
class SignIn:
    """One InitiateAuth USER_PASSWORD_AUTH against the new pool, as an Amplify client configured
    for migration sends it."""

    ok: bool
    error_code: str | None = None
    error_message: str | None = None
    tokens: dict | None = None


def sign_in(env: dict[str, str], username: str, password: str) -> SignIn:
    idp = client("cognito-idp", env["COGNITO_LOCAL_ENDPOINT"])
    try:
        result = idp.initiate_auth(
            ClientId=env["NEW_CLIENT_ID"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except idp.exceptions.ClientError as error:
        return SignIn(ok=False, error_code=error.response["Error"]["Code"], error_message=error.response["Error"]["Message"])
    return SignIn(ok=True, tokens=result.get("AuthenticationResult"))


def jwt_claims(token: str) -> dict:
    import base64

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def new_user(env: dict[str, str], username: str) -> dict | None:
    idp = client("cognito-idp", env["COGNITO_LOCAL_ENDPOINT"])
    try:
        user = idp.admin_get_user(UserPoolId=env["NEW_USER_POOL_ID"], Username=username)
    except idp.exceptions.UserNotFoundException:
        return None
    user["Attributes"] = {a["Name"]: a["Value"] for a in user.pop("UserAttributes", [])}
    return user


def new_users(env: dict[str, str]) -> list[dict]:
    idp = client("cognito-idp", env["COGNITO_LOCAL_ENDPOINT"])
    users, token = [], None
    while True:
        kwargs = {"UserPoolId": env["NEW_USER_POOL_ID"]}
        if token:
            kwargs["PaginationToken"] = token
        page = idp.list_users(**kwargs)
        users.extend(page["Users"])
        token = page.get("PaginationToken")
        if not token:
            return users


def new_groups_of(env: dict[str, str], username: str) -> list[dict]:
    """All of a user's groups in the new pool, every page (the real username, not an alias)."""
    idp = client("cognito-idp", env["COGNITO_LOCAL_ENDPOINT"])
    groups, token = [], None
    while True:
        kwargs = {"UserPoolId": env["NEW_USER_POOL_ID"], "Username": username}
        if token:
            kwargs["NextToken"] = token
        page = idp.admin_list_groups_for_user(**kwargs)
        groups.extend(page["Groups"])
        token = page.get("NextToken")
        if not token:
            return groups


def invoke(env: dict[str, str], event: dict) -> tuple[int, dict]:
    """Sends an event to the Lambda's invoke API, as Cognito would; returns status and body."""
    request = urllib.request.Request(
        f"{env['LAMBDA_ENDPOINT']}/2015-03-31/functions/{TRIGGER}/invocations",
        data=json.dumps(event).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def fixture_event(name: str) -> dict:
    return json.loads((ROOT / "core/tests/fixtures/events" / f"{name}.json").read_text())


class LambdaLog:
    """The Lambda's log (`cargo lambda watch` output with the function's JSON lines), read from
    a mark onwards so each test sees only what its own requests caused."""

    def __init__(self, path: Path | None = None):
        self.path = path or STACK_DIR / "logs" / "lambda.log"

    def mark(self) -> int:
        return self.path.stat().st_size

    def text_since(self, mark: int) -> str:
        with open(self.path, "rb") as f:
            f.seek(mark)
            return f.read().decode("utf-8", "replace")

    def decisions_since(self, mark: int, settle: float = 0.5, expect: int = 0, timeout: float = 10.0) -> list[dict]:
        """The decision records logged since `mark`. Waits until at least `expect` are there,
        then `settle` seconds more (the function's output reaches the file through the watcher),
        so that a missing or an extra line shows."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._decisions(mark)
            if len(found) >= expect or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        time.sleep(settle)
        return self._decisions(mark)

    def invocations_since(self, mark: int) -> int:
        return self.text_since(mark).count("invocation received")

    def _decisions(self, mark: int) -> list[dict]:
        out = []
        for line in self.text_since(mark).splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("message") == "decision":
                out.append(record)
        return out


def legacy_idp(env: dict[str, str]):
    """The legacy pool (moto), for the changes an operator makes after the index."""
    return client("cognito-idp", env["MOTO_ENDPOINT"])


def new_idp(env: dict[str, str]):
    """The new pool (cognito-local)."""
    return client("cognito-idp", env["COGNITO_LOCAL_ENDPOINT"])


def error_of(call, *args, **kwargs) -> tuple[str, str] | None:
    """The (code, message) a call fails with, or None when it succeeds."""
    try:
        call(*args, **kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["Error"]["Message"]
    return None


def sign_up(
    env: dict[str, str], username: str, password: str, attributes: dict[str, str], client_id: str | None = None
) -> tuple[dict | None, dict | None]:
    """SignUp through the app client (or `client_id`): (answer, None) or (None, the error)."""
    idp = new_idp(env)
    try:
        answer = idp.sign_up(
            ClientId=client_id or env["NEW_CLIENT_ID"],
            Username=username,
            Password=password,
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
        )
    except idp.exceptions.ClientError as error:
        return None, error.response["Error"]
    return answer, None


_open_clients: dict[str, str] = {}


def open_client(env: dict[str, str]) -> str:
    """An app client of the new pool without WriteAttributes, which may write every attribute,
    custom ones included: a deployment that forgot the list. Created once per pool."""
    pool_id = env["NEW_USER_POOL_ID"]
    if pool_id not in _open_clients:
        _open_clients[pool_id] = new_idp(env).create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="open-app",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            PreventUserExistenceErrors="ENABLED",
        )["UserPoolClient"]["ClientId"]
    return _open_clients[pool_id]


def sign_in_with(env: dict[str, str], client_id: str, username: str, password: str) -> SignIn:
    """`sign_in` through another app client of the new pool."""
    return sign_in({**env, "NEW_CLIENT_ID": client_id}, username, password)


def forgot_password(env: dict[str, str], username: str) -> tuple[dict | None, dict | None]:
    """ForgotPassword through the app client: (CodeDeliveryDetails, None) or (None, the error)."""
    idp = new_idp(env)
    try:
        answer = idp.forgot_password(ClientId=env["NEW_CLIENT_ID"], Username=username)
    except idp.exceptions.ClientError as error:
        return None, error.response["Error"]
    return answer["CodeDeliveryDetails"], None


def cognito_local_log() -> LambdaLog:
    """cognito-local's log, read from a mark like the Lambda's (codes it delivers show there)."""
    return LambdaLog(STACK_DIR / "logs" / "cognito-local.log")


def ledger_leave_approved(env: dict[str, str], legacy_username: str, new_username: str, at_ms: int) -> None:
    """Leaves a pending legacy user `approved` to `new_username`, on every copy, with the claim on
    that username: what a migration whose new-pool user was never created (the invocation
    crashed after the ledger write, or Cognito failed after it) leaves behind. The status
    counters are not changed."""
    ddb = client("dynamodb", env["MOTO_ENDPOINT"])
    [own] = ledger_user(env, legacy_username)
    assert own["state"]["S"] == "pending", own["state"]
    for pk in [k["S"] for k in own["keys"]["L"]]:
        ddb.update_item(
            TableName=env["LEDGER_TABLE"],
            Key={"pk": {"S": pk}, "sk": {"S": "u#" + legacy_username}},
            UpdateExpression="SET #state = :approved, #newUsername = :new, #atMs = :at",
            ConditionExpression="#state = :pending",
            ExpressionAttributeNames={"#state": "state", "#newUsername": "newUsername", "#atMs": "atMs"},
            ExpressionAttributeValues={
                ":approved": {"S": "approved"},
                ":pending": {"S": "pending"},
                ":new": {"S": new_username},
                ":at": {"N": str(at_ms)},
            },
        )
    ddb.put_item(
        TableName=env["LEDGER_TABLE"],
        Item={
            "pk": {"S": "n#" + new_username},
            "sk": {"S": "claim"},
            "legacyUsername": {"S": legacy_username},
            "atMs": {"N": str(at_ms)},
        },
        ConditionExpression="attribute_not_exists(pk)",
    )
