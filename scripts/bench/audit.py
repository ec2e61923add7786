#!/usr/bin/env python3
"""The collision audit written the way a Python user would write it: the baseline that
`scripts/bench.sh audit` measures `cognito-migrate audit --from-file` against.

Reads an `aws cognito-idp list-users` export (one page, or a list of pages) with `json.load`,
keys every username, `email` and `preferred_username` by NFKC and case folding, groups users by
key, and counts the same categories as the Rust audit. Prints a one-line JSON summary.

Usage: audit.py EXPORT.json
"""

import json
import sys
import unicodedata
from collections import defaultdict

FIELDS = ("username", "email", "preferred_username")


def match_key(value):
    return unicodedata.normalize("NFKC", value.casefold()).strip()


def users_of(export):
    pages = export if isinstance(export, list) else [export]
    for page in pages:
        yield from page.get("Users", [])


def main(path):
    with open(path, encoding="utf-8-sig") as file:
        export = json.load(file)

    seen = set()
    holders = defaultdict(list)
    categories = defaultdict(list)
    for user in users_of(export):
        username = user["Username"]
        if username in seen:
            continue
        seen.add(username)
        attributes = {a["Name"]: a.get("Value") for a in user.get("Attributes", [])}

        keys = {}
        for field, value in zip(FIELDS, (username, attributes.get("email"), attributes.get("preferred_username"))):
            if value:
                key = match_key(value)
                if key:
                    keys.setdefault(key, []).append(field)
        for key, fields in keys.items():
            holders[key].append((username, fields))

        status = user.get("UserStatus")
        if not user.get("Enabled", True):
            categories["disabled"].append(username)
        if status in ("UNCONFIRMED", "FORCE_CHANGE_PASSWORD", "RESET_REQUIRED", "EXTERNAL_PROVIDER"):
            categories[status].append(username)
        elif status != "CONFIRMED":
            categories["otherStatus"].append(username)
        if "email" in attributes and attributes.get("email_verified") != "true":
            categories["unverifiedEmail"].append(username)
        if user.get("MFAOptions"):
            categories["mfa"].append(username)

    groups = {key: members for key, members in holders.items() if len(members) > 1}
    in_collisions = {username for members in groups.values() for username, _ in members}
    print(json.dumps({
        "totalUsers": len(seen),
        "collisionGroups": len(groups),
        "usersInCollisions": len(in_collisions),
        "categories": {name: len(users) for name, users in sorted(categories.items())},
    }))


if __name__ == "__main__":
    main(sys.argv[1])
