"""The demo's story (scripts/demo.sh runs it on a seeded, indexed stack): a few legacy users sign in
to the new pool the way an Amplify app configured for migration does (InitiateAuth
USER_PASSWORD_AUTH, typed in other cases), and for each one it tells what the Lambda decided and
why (its decision log), and what arrived in the new pool.

    python e2e/demo_story.py AUDIT_JSON

Passwords are never printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import seed
import stack

S = seed.SCENARIOS
TTY = sys.stdout.isatty()


def paint(code: str, text: str) -> str:
    return f"\033[{code}m{text}\033[0m" if TTY else text


def bold(text: str) -> str:
    return paint("1", text)


def good(text: str) -> str:
    return paint("32", text)


def bad(text: str) -> str:
    return paint("31", text)


def dim(text: str) -> str:
    return paint("2", text)


def say(text: str = "") -> None:
    print(text, flush=True)


# What each user types, in the story's order.
TYPED = [
    "Name@acme.com",
    "NAME@ACME.COM",
    "Jane.Doe@Example.com",
    "Pat.Lee@Acme.com",
    "PAT.LEE@acme.com",
    "Sam.Same@acme.com",
    "wanda.wrong@ACME.com",
    "Dis.Abled@acme.com",
]


def canonical_usernames(typed: list[str]) -> dict[str, str]:
    """What the app sends for each typed identifier: the npm package's canonicalUsername, the
    same Rust code as the Lambda's (never a re-implementation)."""
    script = (
        "import('cognito-migrate').then((m) => console.log(JSON.stringify("
        "Object.fromEntries(JSON.parse(process.argv[1]).map((s) => [s, m.canonicalUsername(s)])))))"
    )
    out = subprocess.run(
        ["node", "-e", script, json.dumps(typed)], cwd=stack.ROOT, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


class Story:
    def __init__(self, audit: dict):
        self.env = stack.read_env()
        self.audit = audit
        self.log = stack.LambdaLog()
        self.sends = canonical_usernames(TYPED)

    def sign_in(self, who: str, typed: str, password: str, expect_decisions: int) -> tuple[stack.SignIn, list[dict]]:
        sent = self.sends[typed]
        mark = self.log.mark()
        result = stack.sign_in(self.env, sent, password)
        decisions = self.log.decisions_since(mark, expect=expect_decisions, settle=0.3)
        shown = good("signed in") if result.ok else bad(f"refused: {result.error_code}: {result.error_message}")
        say(f"  {who} types {bold(typed)}, the app sends {sent} -> {shown}")
        for d in decisions:
            counts = ""
            if d["trigger"].startswith("UserMigration"):
                counts = f", {d['candidates']} candidate(s), {d['password_checks']} password check(s)"
            reason = f" ({d['reason']})" if d.get("reason") else ""
            say(dim(f"    Lambda {d['trigger']}: {d['outcome']}{reason}{counts}, {d['elapsed_ms']} ms"))
        if not any(d["trigger"].startswith("UserMigration") for d in decisions):
            say(dim("    (no migration: the new pool answered by itself)"))
        return result, decisions

    def arrived(self, username: str) -> None:
        user = stack.new_user(self.env, username)
        if user is None:
            say(bad(f"    nobody called {username} in the new pool"))
            return
        a = user["Attributes"]
        groups = [g["GroupName"] for g in stack.new_groups_of(self.env, user["Username"])]
        say(f"    new pool: user {bold(user['Username'])}, {user['UserStatus']}")
        say(f"      email {a.get('email')} (verified: {a.get('email_verified')}), name {a.get('name')!r}")
        say(f"      custom:legacy_username {a.get('custom:legacy_username')}, custom:legacy_sub {a.get('custom:legacy_sub')}")
        say(f"      groups: {', '.join(groups) or '(none)'}")

    def audit_said(self, key: str) -> None:
        for c in self.audit["collisions"]:
            if c["key"] == key:
                names = " and ".join(m["username"] for m in c["members"])
                say(f"  The audit listed the collision {bold(key)}: {names}.")
                return
        say(bad(f"  The audit did not list {key}."))

    def ledger(self, username: str) -> str:
        items = stack.ledger_user(self.env, username)
        if not items:
            return "not in the ledger"
        state, reason = stack.state_of(items[0])
        return state + (f" ({reason})" if reason else "")

    def run(self) -> None:
        say(bold("1. A mixed-case email from the legacy pool"))
        say("  Legacy user Name@Acme.com (case-sensitive pool), groups admins and editors.")
        self.sign_in("Name", "Name@acme.com", S["casings"].password, 3)
        self.arrived("name@acme.com")
        self.sign_in("Name, next day,", "NAME@ACME.COM", S["casings"].password, 2)
        say()

        say(bold("2. A handle, signing in by email"))
        say("  Legacy user JaneDoe with email Jane.Doe@Example.COM.")
        self.sign_in("Jane", "Jane.Doe@Example.com", S["handle"].password, 3)
        self.arrived("jane.doe@example.com")
        say()

        say(bold("3. Two people whose emails differ only in case"))
        self.audit_said("pat.lee@acme.com")
        self.sign_in("pat.lee (lower case)", "Pat.Lee@Acme.com", S["pair_lower"].password, 3)
        say("    The password, not the typed case, picked the owner:")
        self.arrived("pat.lee@acme.com")
        self.sign_in("Pat.Lee (capitalised)", "PAT.LEE@acme.com", S["pair_upper"].password, 0)
        say(f"    The identifier is taken; Pat.Lee@Acme.com stays in the ledger as {self.ledger('Pat.Lee@Acme.com')}:")
        say("    the operator settles it as the audit suggested (a new email for one of them).")
        say()

        say(bold("4. Two people with the same password on colliding emails"))
        self.audit_said("sam.same@acme.com")
        self.sign_in("Someone", "Sam.Same@acme.com", S["same_upper"].password, 1)
        say("    Nobody can tell whose account this is; both are refused as ambiguous in the ledger:")
        say(f"    Sam.Same@Acme.com {self.ledger('Sam.Same@Acme.com')}, sam.same@acme.com {self.ledger('sam.same@acme.com')}")
        say()

        say(bold("5. Wrong password and a disabled user"))
        self.sign_in("Wanda", "wanda.wrong@ACME.com", "not-her-password-1", 1)
        self.sign_in("A disabled user", "Dis.Abled@acme.com", S["disabled"].password, 1)
        say("    Both see Cognito's generic answer; neither is created in the new pool.")


def main() -> None:
    audit = json.loads(Path(sys.argv[1]).read_text())
    Story(audit).run()


if __name__ == "__main__":
    main()
