#!/usr/bin/env python3
"""Check that the trigger's IAM role grants exactly the AWS actions its Rust code calls.

Reads the Rust sources of the AWS adapter (aws/src, the crate cognito-migrate-aws, which owns
every AWS SDK call of the project), works out which AWS actions the trigger's calls make on
which resource, and compares them with what the trigger's role in the SAM template grants, on
each resource and both ways: an action called but not granted fails (AccessDenied at run time),
and an action granted but never called fails too (the role must stay least-privilege).

It also fails when a `.send()` appears in a Rust source anywhere else in the workspace (--root):
a call made outside the adapter would escape this check. Integration tests (folders named
`tests`) are not read: they seed the local servers with the SDK.

Conventions the Lambda code follows so that this script can see its calls
-------------------------------------------------------------------------
1. Every AWS SDK call is one fluent chain that ends in `.send()`:
       client.admin_get_user().user_pool_id(id).username(name).send().await
   The operation is the last call with empty parentheses before `.send()`, skipping
   `.customize()` and `.into_paginator()`. A builder kept in a variable and sent later is
   reported as an error, because the operation cannot be seen at the `.send()`.
2. The resource a call acts on is told by where the call is written, per FILE_CLASSES below:
   the file's name, or else the name of the nearest folder it is in (relative to aws/src),
   starts with
       legacy_role ... STS calls that obtain credentials for the legacy pool (the LegacyRoleArn)
       legacy      ... calls on the legacy user pool
       new_pool    ... calls on the new user pool
       ledger      ... calls on the ledger table
   (longest prefix first, so legacy_role.rs is not a legacy-pool file). For example
   aws/src/legacy_pool.rs, aws/src/new_pool.rs, aws/src/ledger/write.rs (the folder names
   it), aws/src/legacy_role.rs. A `.send()` in any other file is an error.
   Code that only the operator CLI runs, never the trigger, lives in a folder named `cli` or a
   file or folder whose name starts with `cli_` (aws/src/cli/legacy_scan.rs,
   aws/src/cli/import_job.rs); it is not read, since the trigger's role need not allow it.
3. DynamoDB transactions are authorised per item: in a ledger file, the item builders
   `Update::builder()`, `ConditionCheck::builder()`, `Put::builder()`, `Delete::builder()` and
   `Get::builder()` count as UpdateItem, ConditionCheckItem, PutItem, DeleteItem and GetItem.
4. `AssumeRoleProvider` (aws-config's STS credentials provider) counts as sts:AssumeRole; it
   belongs in a legacy_role file.

On the template side, each statement of the trigger's role (its inline policies and any
AWS::IAM::RolePolicy / AWS::IAM::Policy attached to it) has a Sid that starts with the resource
class it is for (LegacyPool, LegacyRole, NewPool, Ledger, Logs), and its Resource must name that
resource (see RESOURCE_MARKERS). Statements under Fn::If count in every branch: the code needs
them under some parameters. Logs holds the runtime's own needs, which the code does not show.

Exit status: 0 when the grants match the calls, 1 when they do not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# Path prefix -> (resource class, IAM service prefix). Longest prefix first.
FILE_CLASSES = [
    ("legacy_role", "LegacyRole", "sts"),
    ("legacy", "LegacyPool", "cognito-idp"),
    ("new_pool", "NewPool", "cognito-idp"),
    ("ledger", "Ledger", "dynamodb"),
]

# Names (parameters, resources, or GetAtt targets) a statement's Resource must mention to be
# taken as being on that class's resource.
RESOURCE_MARKERS = {
    "LegacyPool": {"LegacyUserPoolId"},
    "LegacyRole": {"LegacyRoleArn"},
    "NewPool": {"NewUserPool", "ExistingNewUserPoolId"},
    "Ledger": {"LedgerTable"},
    "Logs": {"TriggerLogGroup"},
}

# What the Lambda runtime itself needs, which no SDK call in the code shows.
RUNTIME_ACTIONS = {"Logs": {"logs:CreateLogStream", "logs:PutLogEvents"}}

TRIGGER_ROLE = "TriggerRole"

# SDK operations whose IAM action is not the operation name in PascalCase.
ACTION_EXCEPTIONS = {
    ("cognito-idp", "get_csv_header"): "GetCSVHeader",
    ("cognito-idp", "get_ui_customization"): "GetUICustomization",
    ("cognito-idp", "set_ui_customization"): "SetUICustomization",
    ("cognito-idp", "set_user_mfa_preference"): "SetUserMFAPreference",
    ("cognito-idp", "admin_set_user_mfa_preference"): "AdminSetUserMFAPreference",
}
# DynamoDB transactions: no action of their own, one per item kind (see ITEM_BUILDERS).
TRANSACTION_OPERATIONS = {("dynamodb", "transact_write_items"), ("dynamodb", "transact_get_items")}
# Calls that need no permission.
UNAUTHORISED_OPERATIONS = {("sts", "get_caller_identity")}
# PartiQL is authorised per statement kind, which the code does not show plainly.
UNSUPPORTED_OPERATIONS = {
    ("dynamodb", "execute_statement"),
    ("dynamodb", "batch_execute_statement"),
    ("dynamodb", "execute_transaction"),
}
ITEM_BUILDERS = {
    "Update": "dynamodb:UpdateItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Put": "dynamodb:PutItem",
    "Delete": "dynamodb:DeleteItem",
    "Get": "dynamodb:GetItem",
}
# Empty-argument calls in a chain that are not the operation.
CHAIN_PASSTHROUGH = {"customize", "into_paginator"}


class InputError(Exception):
    """The sources or the template cannot be read as the conventions require."""


@dataclass(frozen=True)
class Call:
    resource: str
    action: str
    where: str


@dataclass
class CodeScan:
    calls: list[Call] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def actions(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for call in self.calls:
            found.setdefault(call.resource, set()).add(call.action)
        return found


# ---------------------------------------------------------------------------------------------
# Rust side


def blank_comments_and_literals(text: str) -> str:
    """Replace comments by spaces and each string/char literal by `0` and spaces, keeping offsets
    and line breaks (a literal argument still makes a call's parentheses non-empty)."""
    out = list(text)
    i, n = 0, len(text)

    def blank(start: int, end: int, literal: bool = False) -> None:
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "
        if literal:
            out[start] = "0"

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            blank(i, end)
            i = end
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif (m := re.compile(r'b?r(#*)"').match(text, i)) and (i == 0 or not _ident_char(text[i - 1])):
            closing = '"' + m.group(1)
            end = text.find(closing, m.end())
            end = n if end == -1 else end + len(closing)
            blank(i, end, literal=True)
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            blank(i, j + 1, literal=True)
            i = j + 1
        elif c == "'" and (m := re.compile(r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'\n])'").match(text, i)):
            blank(i, m.end(), literal=True)
            i = m.end()
        else:
            i += 1
    return "".join(out)


def _ident_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _skip_space_back(text: str, i: int) -> int:
    while i >= 0 and text[i].isspace():
        i -= 1
    return i


def _matching_open(text: str, close: int) -> int:
    depth = 0
    for k in range(close, -1, -1):
        if text[k] in ")]}":
            depth += 1
        elif text[k] in "([{":
            depth -= 1
            if depth == 0:
                return k
    return -1


def chain_before(text: str, dot: int) -> list[tuple[str, bool]]:
    """The method calls chained before the `.` at `dot`, nearest first, as (name, has_args)."""
    segments = []
    i = dot
    while True:
        j = _skip_space_back(text, i - 1)
        if j < 0 or text[j] != ")":
            break
        open_paren = _matching_open(text, j)
        if open_paren < 0:
            break
        has_args = bool(text[open_paren + 1 : j].strip())
        k = _skip_space_back(text, open_paren - 1)
        end_name = k + 1
        while k >= 0 and _ident_char(text[k]):
            k -= 1
        name = text[k + 1 : end_name]
        if not name:
            break
        segments.append((name, has_args))
        k = _skip_space_back(text, k)
        if k < 0 or text[k] != ".":
            break
        i = k
    return segments


def is_operator_code(rel: Path) -> bool:
    return any(part == "cli" or part.startswith("cli_") for part in rel.with_suffix("").parts)


def classify(rel: Path) -> tuple[str, str] | None:
    # The file's own name first, then its folders from the nearest outwards.
    for part in reversed(rel.with_suffix("").parts):
        for prefix, resource, service in FILE_CLASSES:
            if part.startswith(prefix):
                return resource, service
    return None


def iam_action(service: str, operation: str) -> str:
    name = ACTION_EXCEPTIONS.get((service, operation))
    if name is None:
        name = "".join(word.capitalize() for word in operation.split("_"))
    return f"{service}:{name}"


SEND = re.compile(r"\.\s*send\s*\(\s*\)")
ITEM_BUILDER = re.compile(r"(?<![\w])(" + "|".join(ITEM_BUILDERS) + r")\s*::\s*builder\s*\(")
ASSUME_ROLE_PROVIDER = re.compile(r"\bAssumeRoleProvider\b")


def scan_sources(src: Path) -> CodeScan:
    if not src.is_dir():
        raise InputError(f"{src}: not a folder")
    scan = CodeScan()
    item_actions: dict[str, set[str]] = {}
    transactions: dict[str, list[str]] = {}
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src)
        if is_operator_code(rel):
            scan.skipped.append(str(rel))
            continue
        text = blank_comments_and_literals(path.read_text(encoding="utf-8"))
        cls = classify(rel)

        def where(offset: int) -> str:
            return f"{rel}:{text.count(chr(10), 0, offset) + 1}"

        for m in SEND.finditer(text):
            if cls is None:
                scan.errors.append(
                    f"{where(m.start())}: `.send()` outside the resource files; move the call into"
                    " a legacy_role*, legacy*, new_pool* or ledger* file"
                )
                continue
            resource, service = cls
            operation = next(
                (name for name, has_args in chain_before(text, m.start()) if not has_args and name not in CHAIN_PASSTHROUGH),
                None,
            )
            if operation is None:
                scan.errors.append(
                    f"{where(m.start())}: cannot see the operation of this `.send()`; write the"
                    " call as one chain from the client to `.send()`"
                )
                continue
            key = (service, operation)
            if key in UNSUPPORTED_OPERATIONS:
                scan.errors.append(f"{where(m.start())}: `{operation}` is not supported by this check")
            elif key in TRANSACTION_OPERATIONS:
                transactions.setdefault(resource, []).append(where(m.start()))
            elif key not in UNAUTHORISED_OPERATIONS:
                scan.calls.append(Call(resource, iam_action(service, operation), where(m.start())))

        for m in ASSUME_ROLE_PROVIDER.finditer(text):
            if cls is None or cls[0] != "LegacyRole":
                scan.errors.append(f"{where(m.start())}: `AssumeRoleProvider` outside a legacy_role* file")
            else:
                scan.calls.append(Call("LegacyRole", "sts:AssumeRole", where(m.start())))

        if cls is not None and cls[1] == "dynamodb":
            for m in ITEM_BUILDER.finditer(text):
                item_actions.setdefault(cls[0], set()).add(ITEM_BUILDERS[m.group(1)])
                scan.calls.append(Call(cls[0], ITEM_BUILDERS[m.group(1)], where(m.start())))

    for resource, places in transactions.items():
        if not item_actions.get(resource):
            scan.errors.append(
                f"{places[0]}: a transaction without any visible item builder"
                f" ({', '.join(k + '::builder()' for k in ITEM_BUILDERS)})"
            )
    return scan


# Folders never read for calls outside the adapter: build output, dependencies, and integration
# tests, which seed the local servers with the SDK.
OUTSIDE_SKIPPED_DIRS = {"target", "node_modules", ".git", "tests"}


def sends_outside(root: Path, adapter: Path) -> list[str]:
    """Every `.send()` in a Rust source under `root` that is not in the `adapter` folder."""
    if not root.is_dir():
        raise InputError(f"{root}: not a folder")
    adapter = adapter.resolve()
    errors = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in OUTSIDE_SKIPPED_DIRS and (here / d).resolve() != adapter)
        for name in sorted(files):
            if not name.endswith(".rs"):
                continue
            path = here / name
            text = blank_comments_and_literals(path.read_text(encoding="utf-8"))
            for m in SEND.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                errors.append(
                    f"{path.relative_to(root)}:{line}: `.send()` outside the AWS adapter ({adapter.name}/);"
                    " every AWS SDK call belongs in the cognito-migrate-aws crate"
                )
    return errors


# ---------------------------------------------------------------------------------------------
# Template side


class CfnLoader(yaml.SafeLoader):
    """YAML loader that reads CloudFormation's short-form tags (!Ref, !Sub, ...)."""


def _construct_tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict:
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=CfnLoader)  # noqa: S506 (safe loader subclass)
    except (OSError, yaml.YAMLError) as err:
        raise InputError(f"{path}: {err}") from err
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise InputError(f"{path}: no Resources")
    return doc


def _branches(value):
    """Every value an Fn::If may leave, AWS::NoValue dropped."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        for branch in value["Fn::If"][1:]:
            yield from _branches(branch)
    elif value != {"Ref": "AWS::NoValue"}:
        yield value


def _names_in(value) -> set[str]:
    """Parameter and resource names an expression mentions (Ref, GetAtt, ${...} in Sub)."""
    names: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                names.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                names.add(target)
            elif key == "Fn::Sub":
                pattern = inner[0] if isinstance(inner, list) else inner
                names |= {ref.split(".")[0] for ref in re.findall(r"\$\{([^!}][^}]*)\}", pattern)}
                if isinstance(inner, list) and len(inner) > 1:
                    names |= _names_in(inner[1])
            else:
                names |= _names_in(inner)
    elif isinstance(value, list):
        for inner in value:
            names |= _names_in(inner)
    return names


def _mentions_wildcard(value) -> bool:
    """Whether a Resource could stand for more than the one resource: `*`, `userpool/*`, ...
    Log streams are the exception: their names are the runtime's."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return _mentions_wildcard(sub[0] if isinstance(sub, list) else sub)
    if isinstance(value, str):
        return value.strip() == "*" or ("*" in value and not value.endswith(":log-stream:*"))
    if isinstance(value, dict):
        return any(_mentions_wildcard(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_wildcard(v) for v in value)
    return False


def _attached_to_role(props: dict) -> bool:
    refs = [props.get("RoleName")] + list(props.get("Roles") or [])
    return any(ref == {"Ref": TRIGGER_ROLE} for ref in refs)


def granted_actions(template: dict) -> tuple[dict[str, set[str]], list[str]]:
    resources = template["Resources"]
    role = resources.get(TRIGGER_ROLE)
    if not isinstance(role, dict) or role.get("Type") != "AWS::IAM::Role":
        raise InputError(f"the template has no AWS::IAM::Role named {TRIGGER_ROLE}")
    errors: list[str] = []
    documents: list[tuple[str, dict]] = []
    role_props = role.get("Properties") or {}
    if role_props.get("ManagedPolicyArns"):
        errors.append(f"{TRIGGER_ROLE}: managed policies cannot be checked; grant explicit actions instead")
    for policy in role_props.get("Policies") or []:
        for branch in _branches(policy):
            documents.append((f"{TRIGGER_ROLE}/{branch.get('PolicyName')}", branch.get("PolicyDocument") or {}))
    for name, res in resources.items():
        if not isinstance(res, dict):
            continue
        props = res.get("Properties") or {}
        if res.get("Type") in ("AWS::IAM::RolePolicy", "AWS::IAM::Policy") and _attached_to_role(props):
            documents.append((name, props.get("PolicyDocument") or {}))
        elif res.get("Type") == "AWS::IAM::ManagedPolicy" and any(r == {"Ref": TRIGGER_ROLE} for r in props.get("Roles") or []):
            documents.append((name, props.get("PolicyDocument") or {}))

    granted: dict[str, set[str]] = {}
    for origin, document in documents:
        statements = document.get("Statement") or []
        if isinstance(statements, dict):
            statements = [statements]
        for item in statements:
            for statement in _branches(item):
                sid = statement.get("Sid") or ""
                where = f"{origin} statement {sid or '(no Sid)'}"
                resource_class = next((c for c in RESOURCE_MARKERS if sid.startswith(c)), None)
                if resource_class is None:
                    errors.append(f"{where}: the Sid must start with one of {', '.join(RESOURCE_MARKERS)}")
                    continue
                if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
                    errors.append(f"{where}: only plain Allow statements with Action and Resource are understood")
                    continue
                resource = statement.get("Resource")
                mentioned = {n for r in _branches(resource) for n in _names_in(r)}
                if not mentioned & RESOURCE_MARKERS[resource_class]:
                    errors.append(
                        f"{where}: its Resource names none of {', '.join(sorted(RESOURCE_MARKERS[resource_class]))}"
                    )
                if _mentions_wildcard(resource):
                    errors.append(f"{where}: wildcard Resource")
                actions = statement.get("Action")
                actions = [actions] if isinstance(actions, str) else list(actions or [])
                for action in actions:
                    if not isinstance(action, str) or "*" in action:
                        errors.append(f"{where}: action {action!r} is not one plain action")
                        continue
                    granted.setdefault(resource_class, set()).add(action)
    return granted, errors


# ---------------------------------------------------------------------------------------------


def compare(called: dict[str, set[str]], granted: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    missing, extra = [], []
    for resource in sorted(set(called) | set(granted) | set(RUNTIME_ACTIONS)):
        needed = called.get(resource, set()) | RUNTIME_ACTIONS.get(resource, set())
        given = granted.get(resource, set())
        missing += [f"{resource}: {a}" for a in sorted(needed - given)]
        extra += [f"{resource}: {a}" for a in sorted(given - needed)]
    return missing, extra


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=root / "aws" / "src", help="the AWS adapter's Rust sources")
    parser.add_argument(
        "--root",
        type=Path,
        default=root,
        help="the workspace: no Rust source in it may call `.send()` outside the adapter (the folder holding --src)",
    )
    parser.add_argument("--template", type=Path, default=root / "deploy" / "template.yaml")
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="pass (with a warning) when the sources make no AWS call at all, while the trigger is being written",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="list every call found")
    args = parser.parse_args(argv)

    try:
        scan = scan_sources(args.src)
        outside = sends_outside(args.root, args.src.resolve().parent)
        granted, template_errors = granted_actions(load_template(args.template))
    except InputError as err:
        print(f"check_iam: {err}", file=sys.stderr)
        return 2

    if args.verbose:
        for call in sorted(scan.calls, key=lambda c: (c.resource, c.action, c.where)):
            print(f"  {call.resource:<10} {call.action:<40} {call.where}")
        for rel in scan.skipped:
            print(f"  not read (operator code): {rel}")

    errors = scan.errors + outside + template_errors
    for error in errors:
        print(f"check_iam: {error}", file=sys.stderr)

    if not scan.calls and not scan.errors:
        if args.allow_empty:
            print(f"check_iam: WARNING: no AWS SDK calls found under {args.src}; grants not compared (--allow-empty)")
            return 1 if errors else 0
        print(f"check_iam: no AWS SDK calls found under {args.src} (pass --allow-empty while there are none)", file=sys.stderr)
        return 1

    missing, extra = compare(scan.actions(), granted)
    for line in missing:
        print(f"check_iam: missing (called, not granted): {line}", file=sys.stderr)
    for line in extra:
        print(f"check_iam: extra (granted, never called): {line}", file=sys.stderr)
    if errors or missing or extra:
        return 1
    total = sum(len(v) for v in scan.actions().values())
    print(f"check_iam: the role grants exactly the {total} actions the code calls ({len(scan.calls)} call sites)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
