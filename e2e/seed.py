"""Seeds the local stack's legacy pool (moto) with a realistic, case-sensitive user base.

    python e2e/seed.py [--env-file .stack/env] [--bulk 1000] [--workers 16]

What goes in (deterministic: the same seed gives the same users, names and passwords):

- `--bulk` ordinary users with mixed-case usernames and emails (about a third email-shaped
  usernames, the rest handles with a mixed-case email alias), random passwords from a seeded
  generator, spread over a few groups; among them case collisions with different and with
  identical passwords, disabled, UNCONFIRMED (SignUp), unverified-email, SMS-MFA and
  temporary-password (FORCE_CHANGE_PASSWORD) users.
- The scenario users of `SCENARIOS` below, which the end-to-end tests and the demo sign in with.
  Their passwords all contain `CANARY`, so a test can prove that no log of any process ever
  holds a password.
- Groups with a description, a precedence and a role ARN, and one user in more than 60 groups
  (AdminListGroupsForUser pages at 60).

The users take the form the legacy pool's shape allows (`LEGACY_POOL_SHAPE` in the stack's env,
set by `STACK_LEGACY_POOL_SHAPE`; see scripts/stack/setup.py):

- `username` (the default): plain usernames, a third of the bulk and every email scenario user
  an email address, with email as a plain attribute. The users below exactly as written.
- `email`: email as the username. Each user is created with its email and gets a generated
  username; a handle becomes its `preferred_username` attribute.
- `alias`: handles with email and `preferred_username` aliases. An email-shaped username becomes
  the handle before its `@` (`Pat.Lee@Acme.com` is `Pat.Lee`, email `Pat.Lee@Acme.com`), and every
  fifth bulk user has a `preferred_username`.

A username the pool's settings forbid (an email-format username where email is an alias) is
refused before anything is created, as Cognito would refuse it.

Prints one summary line (counts and the time taken), never a password. Also importable: the
tests read `SCENARIOS` and `CANARY` from here rather than from a file.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import string
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import boto3
from botocore.config import Config

REGION = "us-east-1"
SEED = 20240212
# Every scenario password contains this string; nothing else in the project does.
CANARY = "Canary-7f3e91c2-Pw"
ROLE_ARN = "arn:aws:iam::123456789012:role/legacy-{}"


@dataclass(frozen=True)
class Scenario:
    username: str
    # Kept out of repr so that no test report or assertion message ever prints a password.
    password: str = field(repr=False)
    email: str | None = None
    email_verified: bool = True
    name: str | None = None
    groups: tuple[str, ...] = ()
    enabled: bool = True
    phone: str | None = None
    sms_mfa: bool = False
    temporary: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _email_user(username: str, password: str, **kwargs) -> Scenario:
    return Scenario(username=username, password=password, email=username, **kwargs)


# Named groups (besides the bulk "team-NN" groups): (name, description, precedence).
NAMED_GROUPS = [
    ("admins", "Administrators of the Acme console", 1),
    ("editors", "Can edit published content", 5),
    ("billing", "Sees invoices and payment methods", 10),
    ("support", "Answers customer tickets", 20),
    ("beta", "Early access to new features", 50),
]
# Groups only the many-groups user is in, so that user alone crosses the 60-a-page boundary.
MANY_GROUPS = [f"project-{i:02d}" for i in range(1, 66)]

# The users the tests and the demo use, one scenario each, so no test depends on another's.
SCENARIOS: dict[str, Scenario] = {
    # Signs in as name@acme.com, NAME@ACME.COM and Name@acme.com.
    "casings": _email_user("Name@Acme.com", CANARY, name="Name Acme", groups=("admins", "editors")),
    # Two people differing only in case, with different passwords.
    "pair_upper": _email_user("Pat.Lee@Acme.com", CANARY + "-Upper", name="Pat Lee (upper)", groups=("billing",)),
    "pair_lower": _email_user("pat.lee@acme.com", CANARY + "-lower", name="pat lee (lower)", groups=("support",)),
    # The same, for the other order: here the capitalised owner signs in first.
    "pair2_upper": _email_user("Kim.Park@Acme.com", CANARY + "-Upper", name="Kim Park (upper)", groups=("billing",)),
    "pair2_lower": _email_user("kim.park@acme.com", CANARY + "-lower", name="kim park (lower)"),
    # Two people differing only in case, with the same password: nobody can tell who types it.
    "same_upper": _email_user("Sam.Same@Acme.com", CANARY, name="Sam Same"),
    "same_lower": _email_user("sam.same@acme.com", CANARY, name="sam same"),
    # Failures that must look alike to the client.
    "wrong_password": _email_user("Wanda.Wrong@Acme.com", CANARY, name="Wanda Wrong"),
    "disabled": _email_user("Dis.Abled@Acme.com", CANARY, name="Dis Abled", enabled=False),
    # Forgot password, through the Lambda's invoke API (cognito-local does not run it).
    "forgot": _email_user("Fay.Forgot@Acme.com", CANARY, name="Fay Forgot"),
    # A new sign-up must not take this legacy user's email before the user moves.
    "signup_shadow": _email_user("Sid.Signup@Acme.com", CANARY, name="Sid Signup"),
    # First-token groups, through a direct TokenGeneration_Authentication invocation.
    "token_groups": _email_user("Tom.Token@Acme.com", CANARY, name="Tom Token", groups=("admins", "beta")),
    # The Amplify v6 test (wasm/tests/amplify-local.test.mjs).
    "amplify": _email_user("Amy.Amplify@Acme.com", CANARY, name="Amy Amplify", groups=("beta",)),
    # More groups than one AdminListGroupsForUser page.
    "many_groups": _email_user("Gus.Groups@Acme.com", CANARY, name="Gus Groups", groups=tuple(MANY_GROUPS)),
    # A handle with an email alias of other case: the demo signs in by email.
    "handle": Scenario(
        username="JaneDoe", password=CANARY, email="Jane.Doe@Example.COM", name="Jane Doe", groups=("editors",)
    ),
    # Signs in (right and wrong) right before the logs are searched for the canary.
    "canary": _email_user("Cal.Canary@Acme.com", CANARY, name="Cal Canary"),
    # Decision categories the audit must report.
    "sms_mfa": _email_user("Mia.Mfa@Acme.com", CANARY, name="Mia Mfa", phone="+15550100001", sms_mfa=True),
    "temporary": _email_user("Tim.Temp@Acme.com", CANARY, name="Tim Temp", temporary=True),
    "unverified": _email_user("Una.Unverified@Acme.com", CANARY, name="Una Unverified", email_verified=False),
    # Attacks (test_attacks.py). A legacy admin whom strangers name in custom:legacy_username.
    "attack_admin": _email_user("Ada.Admin@Acme.com", CANARY + "-ada", name="Ada Admin", groups=("admins",)),
    # Mallory put Vera's address on her own account, unverified; a third user holds an address
    # only unverified.
    "squat_owner": Scenario(
        username="VeraVictim", password=CANARY + "-vera", email="Vera.Victim@Acme.com", name="Vera Victim"
    ),
    "squat_mallory": Scenario(
        username="MalloryMole", password=CANARY + "-mallory", email="vera.victim@acme.com", email_verified=False,
        name="Mallory Mole",
    ),
    "squat_unverified": Scenario(
        username="QuinnQuiet", password=CANARY + "-quinn", email="Open.Inbox@Acme.com", email_verified=False,
        name="Quinn Quiet",
    ),
    # Typed as another Unicode form of the registered name (grosse.straße, fullwidth letters).
    "variant": _email_user("Grosse.Strasse@Acme.com", CANARY + "-strasse", name="Grosse Strasse"),
    # The two-phase binding: one migrates through the stack, one is left approved as a crashed
    # invocation would leave it.
    "binding": _email_user("Bea.Binding@Acme.com", CANARY + "-bea", name="Bea Binding", groups=("editors",)),
    "crashed": _email_user("Cora.Crashed@Acme.com", CANARY + "-cora", name="Cora Crashed"),
    # Disabled or deleted in the legacy pool after the index; the third stays, for comparison.
    "stale_disabled": _email_user("Dan.Disabled@Acme.com", CANARY + "-dan", name="Dan Disabled"),
    "stale_deleted": _email_user("Del.Deleted@Acme.com", CANARY + "-del", name="Del Deleted"),
    "stale_live": _email_user("Liv.Live@Acme.com", CANARY + "-liv", name="Liv Live"),
    # Removed from admins in the legacy pool after the index.
    "stale_groups": _email_user("Sue.Stale@Acme.com", CANARY + "-sue", name="Sue Stale", groups=("admins", "beta")),
}

FIRST = "alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil trent victor walter yusuf zoe".split()
LAST = "smith jones garcia miller davis lopez wilson anderson thomas taylor moore martin lee walker hall young king wright".split()
DOMAINS = ["Example.com", "example.COM", "Acme.test", "acme.TEST", "Mail.Example.org"]


def _mixed(rng: random.Random, word: str) -> str:
    """Capitalised, upper or lower: the mixture a case-sensitive pool collects over years."""
    return rng.choice([word.capitalize(), word.upper(), word, word.capitalize()])


def _password(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choice(alphabet) for _ in range(14)) + "-9a"


def bulk_users(count: int, seed: int = SEED) -> list[Scenario]:
    """The ordinary users, with a sprinkle of every case the audit has to report."""
    rng = random.Random(seed)
    users: list[Scenario] = []
    taken: set[str] = set()
    teams = [f"team-{i:02d}" for i in range(1, 9)]
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{_mixed(rng, first)}.{_mixed(rng, last)}{i}"
        email = f"{local}@{rng.choice(DOMAINS)}"
        username = email if i % 3 == 0 else f"{_mixed(rng, first)}{_mixed(rng, last)[:3]}{i}"
        taken.add(username)
        kind = i % 50
        users.append(
            Scenario(
                username=username,
                password=_password(rng),
                email=email,
                email_verified=kind != 7,
                name=f"{first.capitalize()} {last.capitalize()}",
                groups=tuple(rng.sample(teams, rng.randint(0, 3))) + (("beta",) if kind == 11 else ()),
                enabled=kind != 3,
                phone=f"+1555{i:07d}" if kind in (13, 17) else None,
                sms_mfa=kind == 13,
                temporary=kind == 21,
                extra={"unconfirmed": "1"} if kind == 29 else {},
            )
        )
    # Case collisions inside the bulk: a copy of an existing user's identifier in another case,
    # one in three with the very same password (the ambiguous kind).
    for n, original in enumerate(users[5 : 5 + 9 * 37 : 37]):
        other = original.username.swapcase()
        if other in taken:
            continue
        taken.add(other)
        users.append(
            Scenario(
                username=other,
                password=original.password if n % 3 == 0 else _password(rng),
                email=original.email.swapcase() if original.email else None,
                name=original.name,
            )
        )
    return users


def read_env(path: str) -> dict[str, str]:
    with open(path, encoding="utf-8") as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


SHAPES = ("username", "email", "alias")
EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
PHONE = re.compile(r"^\+[0-9]{4,15}$")


def in_shape(user: Scenario, shape: str, index: int) -> Scenario:
    """The user as a legacy pool of this shape holds it (`username`: what the create calls take)."""
    if shape == "username":
        return user
    if shape == "email":
        extra = dict(user.extra)
        if user.username != user.email:
            extra["preferred_username"] = user.username
        return replace(user, username=user.email, extra=extra)
    if shape == "alias":
        handle = user.username.split("@", 1)[0] if EMAIL.match(user.username) else user.username
        extra = dict(user.extra)
        if index % 5 == 0 and "preferred_username" not in extra:
            extra["preferred_username"] = f"{handle.replace('.', '')}{index}"
        return replace(user, username=handle, extra=extra)
    raise SystemExit(f"seed: unknown legacy pool shape {shape!r} (one of {', '.join(SHAPES)})")


def check_username(pool: dict, username: str) -> None:
    """What Cognito refuses and moto accepts (cognito-facts.md §8)."""
    aliases = pool.get("AliasAttributes") or []
    username_attributes = pool.get("UsernameAttributes") or []
    if "email" in aliases and EMAIL.match(username):
        raise SystemExit(f"seed: {username!r}: an email-format username in a pool with email as an alias")
    if "phone_number" in aliases and PHONE.match(username):
        raise SystemExit(f"seed: {username!r}: a phone-format username in a pool with phone_number as an alias")
    if username_attributes and not any(
        (EMAIL if name == "email" else PHONE).match(username) for name in username_attributes
    ):
        raise SystemExit(f"seed: {username!r}: not a value of {username_attributes}, which are this pool's usernames")


def legacy_client(endpoint: str, max_pool: int = 32):
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=max_pool),
    )


def _attributes(user: Scenario) -> list[dict[str, str]]:
    attrs: dict[str, str] = {}
    if user.email:
        attrs["email"] = user.email
        attrs["email_verified"] = "true" if user.email_verified else "false"
    if user.name:
        attrs["name"] = user.name
    if user.phone:
        attrs["phone_number"] = user.phone
        attrs["phone_number_verified"] = "true"
    if user.extra.get("preferred_username"):
        attrs["preferred_username"] = user.extra["preferred_username"]
    return [{"Name": k, "Value": v} for k, v in attrs.items()]


def create_user(idp, pool_id: str, client_id: str, user: Scenario) -> None:
    if user.extra.get("unconfirmed"):
        # Only SignUp leaves a user UNCONFIRMED (AdminCreateUser makes FORCE_CHANGE_PASSWORD).
        idp.sign_up(ClientId=client_id, Username=user.username, Password=user.password, UserAttributes=_attributes(user))
        return
    if user.temporary:
        idp.admin_create_user(
            UserPoolId=pool_id,
            Username=user.username,
            TemporaryPassword=user.password,
            UserAttributes=_attributes(user),
            MessageAction="SUPPRESS",
        )
    else:
        idp.admin_create_user(
            UserPoolId=pool_id, Username=user.username, UserAttributes=_attributes(user), MessageAction="SUPPRESS"
        )
        idp.admin_set_user_password(UserPoolId=pool_id, Username=user.username, Password=user.password, Permanent=True)
    if user.sms_mfa:
        idp.admin_set_user_mfa_preference(
            UserPoolId=pool_id, Username=user.username, SMSMfaSettings={"Enabled": True, "PreferredMfa": True}
        )
    if not user.enabled:
        idp.admin_disable_user(UserPoolId=pool_id, Username=user.username)


def seed(env: dict[str, str], bulk: int = 1000, workers: int = 16) -> dict[str, float]:
    started = time.monotonic()
    idp = legacy_client(env["MOTO_ENDPOINT"], max_pool=workers * 2)
    pool_id, client_id = env["LEGACY_USER_POOL_ID"], env["LEGACY_CLIENT_ID"]
    shape = env.get("LEGACY_POOL_SHAPE", "username")
    users = [in_shape(u, shape, i) for i, u in enumerate(list(SCENARIOS.values()) + bulk_users(bulk))]
    names = [u.username for u in users]
    if len(set(names)) != len(names):
        raise SystemExit("seed: duplicate usernames in the seed data")
    pool = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    for name in names:
        check_username(pool, name)

    groups = [(name, desc, prec) for name, desc, prec in NAMED_GROUPS]
    groups += [(f"team-{i:02d}", f"Team {i} of the Acme organisation", 100 + i) for i in range(1, 9)]
    groups += [(name, f"Project {name[-2:]}", 200 + int(name[-2:])) for name in MANY_GROUPS]
    memberships = [(u.username, g) for u in users for g in u.groups]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(
            pool.map(
                lambda g: idp.create_group(
                    UserPoolId=pool_id, GroupName=g[0], Description=g[1], Precedence=g[2], RoleArn=ROLE_ARN.format(g[0])
                ),
                groups,
            )
        )
        list(pool.map(lambda u: create_user(idp, pool_id, client_id, u), users))
        users_done = time.monotonic()
        list(
            pool.map(
                lambda m: idp.admin_add_user_to_group(UserPoolId=pool_id, Username=m[0], GroupName=m[1]), memberships
            )
        )
    finished = time.monotonic()
    return {
        "shape": shape,
        "users": len(users),
        "groups": len(groups),
        "memberships": len(memberships),
        "users_seconds": users_done - started,
        "seconds": finished - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-file", default=os.path.join(os.path.dirname(__file__), "..", ".stack", "env"))
    parser.add_argument("--bulk", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    stats = seed(read_env(args.env_file), bulk=args.bulk, workers=args.workers)
    print(
        f"seed: {stats['users']} legacy users ({stats['shape']} shape), {stats['groups']} groups, {stats['memberships']} memberships "
        f"in {stats['seconds']:.1f} s (users {stats['users_seconds']:.1f} s)",
    )


if __name__ == "__main__":
    main()
