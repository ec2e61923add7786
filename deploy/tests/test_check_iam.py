"""Tests of scripts/check_iam.py: run with `python -m unittest discover -s deploy/tests`.

The `complete` fixture calls exactly what deploy/template.yaml grants; the other fixture folders
hold only the files that differ from it and are laid over a copy of it.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEMPLATE = ROOT / "deploy" / "template.yaml"

_spec = importlib.util.spec_from_file_location("check_iam", ROOT / "scripts" / "check_iam.py")
check_iam = importlib.util.module_from_spec(_spec)
sys.modules["check_iam"] = check_iam  # dataclasses look their module up there
_spec.loader.exec_module(check_iam)


class Workspace:
    """A scratch workspace for one test: the adapter's sources in `aws/src`, a template."""

    def __init__(self, test: unittest.TestCase, overlay: str | None = None, base: str | None = "complete"):
        self._dir = Path(tempfile.mkdtemp(prefix="check-iam-"))
        test.addCleanup(shutil.rmtree, self._dir)
        self.root = self._dir / "workspace"
        self.src = self.root / "aws" / "src"
        if base:
            shutil.copytree(FIXTURES / base, self.src)
        else:
            self.src.mkdir(parents=True)
        if overlay:
            shutil.copytree(FIXTURES / overlay, self.src, dirs_exist_ok=True)
        self.template = TEMPLATE

    def write(self, relative: str, text: str) -> None:
        path = self.src / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def write_outside(self, relative: str, text: str) -> None:
        """A file of the workspace outside the adapter crate (`relative` to the workspace)."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def edit_template(self, change) -> None:
        doc = copy.deepcopy(check_iam.load_template(TEMPLATE))
        change(doc)
        self.template = self._dir / "template.yaml"
        self.template.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    def run(self, *extra: str) -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = check_iam.main(
                ["--src", str(self.src), "--root", str(self.root), "--template", str(self.template), *extra]
            )
        return code, out.getvalue()


def role_statements(doc: dict) -> list:
    return doc["Resources"]["TriggerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


class GrantsAgainstCalls(unittest.TestCase):
    def test_all_called_actions_granted_passes(self):
        code, out = Workspace(self).run()
        self.assertEqual(code, 0, out)
        self.assertIn("exactly the 13 actions", out)

    def test_a_call_without_grant_fails_and_names_it(self):
        code, out = Workspace(self, overlay="missing_grant").run()
        self.assertEqual(code, 1, out)
        self.assertIn("missing (called, not granted): LegacyPool: cognito-idp:AdminDisableUser", out)
        self.assertNotIn("extra", out)

    def test_a_grant_without_call_fails_and_names_it(self):
        code, out = Workspace(self, overlay="extra_grant").run()
        self.assertEqual(code, 1, out)
        self.assertIn("extra (granted, never called): NewPool: cognito-idp:ListGroups", out)
        self.assertNotIn("missing", out)

    def test_the_same_action_on_another_resource_is_not_a_grant(self):
        ws = Workspace(self)
        ws.write("aws/ledger_extra.rs", "fn f(c: &Client) { c.delete_item().table_name(t).send(); }\n")
        code, out = ws.run()
        self.assertEqual(code, 1)
        self.assertIn("missing (called, not granted): Ledger: dynamodb:DeleteItem", out)

    def test_transaction_items_count_per_item_kind(self):
        ws = Workspace(self)
        ws.write(
            "aws/ledger.rs",
            (FIXTURES / "complete" / "aws" / "ledger.rs").read_text().replace("Update::builder()", "Delete::builder()"),
        )
        code, out = ws.run()
        self.assertEqual(code, 1)
        self.assertIn("missing (called, not granted): Ledger: dynamodb:DeleteItem", out)
        self.assertIn("extra (granted, never called): Ledger: dynamodb:UpdateItem", out)

    def test_a_transaction_without_visible_items_fails(self):
        ws = Workspace(self, base=None)
        ws.write("ledger.rs", "fn f(c: &Client, items: Vec<TransactWriteItem>) { c.transact_write_items().set_transact_items(Some(items)).send(); }\n")
        code, out = ws.run()
        self.assertEqual(code, 1)
        self.assertIn("a transaction without any visible item builder", out)

    def test_runtime_log_grants_are_required(self):
        ws = Workspace(self)
        ws.edit_template(lambda doc: role_statements(doc).pop(0))
        code, out = ws.run()
        self.assertEqual(code, 1)
        self.assertIn("missing (called, not granted): Logs: logs:PutLogEvents", out)


class Conventions(unittest.TestCase):
    def test_no_calls_fails_unless_allowed(self):
        ws = Workspace(self, base=None)
        ws.write("main.rs", "fn main() {}\n")
        code, out = ws.run()
        self.assertEqual(code, 1)
        self.assertIn("no AWS SDK calls found", out)
        code, out = ws.run("--allow-empty")
        self.assertEqual(code, 0, out)
        self.assertIn("WARNING", out)

    def test_allow_empty_does_not_hide_missing_grants(self):
        code, out = Workspace(self, overlay="missing_grant").run("--allow-empty")
        self.assertEqual(code, 1)
        self.assertIn("AdminDisableUser", out)

    def test_a_call_outside_the_resource_files_fails(self):
        ws = Workspace(self)
        ws.write("handler.rs", "async fn f(c: &Client) { c.admin_get_user().username(u).send().await; }\n")
        code, out = ws.run()
        self.assertEqual(code, 1)
        self.assertIn("handler.rs:1: `.send()` outside the resource files", out)

    def test_a_builder_sent_later_fails(self):
        ws = Workspace(self)
        ws.write("aws/new_pool_later.rs", "async fn f(c: &Client) {\n let req = c.create_group().group_name(g);\n req.send().await;\n}\n")
        code, out = ws.run()
        self.assertEqual(code, 1)
        self.assertIn("new_pool_later.rs:3: cannot see the operation", out)

    def test_assume_role_provider_counts_as_assume_role(self):
        ws = Workspace(self)
        legacy_role = ws.src / "aws" / "legacy_role.rs"
        legacy_role.write_text("fn creds(arn: &str) { let p = AssumeRoleProvider::builder(arn).build(); }\n")
        code, out = ws.run("-v")
        self.assertEqual(code, 0, out)
        self.assertIn("sts:AssumeRole", out)

    def test_operator_code_is_not_read(self):
        ws = Workspace(self)
        ws.write(
            "aws/cli/legacy_scan.rs", "async fn f(c: &Client) { c.list_users_in_group().user_pool_id(p).send().await; }\n"
        )
        ws.write("aws/cli_import.rs", "async fn f(c: &Client) { c.create_user_import_job().send().await; }\n")
        code, out = ws.run("-v")
        self.assertEqual(code, 0, out)
        self.assertIn("not read (operator code): aws/cli/legacy_scan.rs", out)
        self.assertNotIn("ListUsersInGroup", out)

    def test_client_is_not_operator_code(self):
        ws = Workspace(self)
        ws.write("aws/client.rs", "async fn f(c: &Client) { c.list_users().send().await; }\n")
        code, out = ws.run()
        self.assertEqual(code, 1)
        self.assertIn("client.rs:1: `.send()` outside the resource files", out)

    def test_a_call_outside_the_adapter_crate_fails(self):
        ws = Workspace(self)
        ws.write_outside("cli/src/doctor.rs", "// c.get_policy().send()\nasync fn f(c: &Client) {\n c.get_policy().send().await;\n}\n")
        ws.write_outside("lambda/src/handler.rs", 'fn f() { let s = "x.send()"; }\n')
        code, out = ws.run()
        self.assertEqual(code, 1, out)
        self.assertIn("cli/src/doctor.rs:3: `.send()` outside the AWS adapter (aws/)", out)
        self.assertNotIn("handler.rs", out)
        self.assertNotIn("missing", out)

    def test_a_call_in_a_crate_named_like_a_resource_is_still_outside(self):
        ws = Workspace(self)
        ws.write_outside("lambda/src/ledger.rs", "async fn f(c: &Client) { c.query().send().await; }\n")
        code, out = ws.run()
        self.assertEqual(code, 1, out)
        self.assertIn("lambda/src/ledger.rs:1: `.send()` outside the AWS adapter", out)

    def test_integration_tests_and_build_output_are_not_read_for_calls(self):
        ws = Workspace(self)
        ws.write_outside("cli/tests/common/mod.rs", "async fn seed(c: &Client) { c.create_user_pool().send().await; }\n")
        ws.write_outside("target/debug/build/out.rs", "fn f(c: &Client) { c.scan().send(); }\n")
        code, out = ws.run()
        self.assertEqual(code, 0, out)

    def test_the_real_workspace_calls_aws_only_from_the_adapter(self):
        self.assertEqual(check_iam.sends_outside(ROOT, ROOT / "aws"), [])

    def test_folders_classify_their_files(self):
        self.assertEqual(check_iam.classify(Path("legacy/mod.rs")), ("LegacyPool", "cognito-idp"))
        self.assertEqual(check_iam.classify(Path("ledger/legacy_rows.rs")), ("LegacyPool", "cognito-idp"))
        self.assertEqual(check_iam.classify(Path("legacy/ledger_sync.rs")), ("Ledger", "dynamodb"))
        self.assertEqual(check_iam.classify(Path("aws/legacy_role.rs")), ("LegacyRole", "sts"))
        self.assertEqual(check_iam.classify(Path("ledger/entries.rs")), ("Ledger", "dynamodb"))
        self.assertIsNone(check_iam.classify(Path("handler.rs")))

    def test_action_names(self):
        self.assertEqual(check_iam.iam_action("cognito-idp", "admin_initiate_auth"), "cognito-idp:AdminInitiateAuth")
        self.assertEqual(check_iam.iam_action("cognito-idp", "get_csv_header"), "cognito-idp:GetCSVHeader")
        self.assertEqual(check_iam.iam_action("dynamodb", "query"), "dynamodb:Query")


class RustReading(unittest.TestCase):
    def test_comments_and_literals_hide_calls_but_keep_arguments(self):
        text = 'a.b("x.send()") // c.d().send()\n/* e.f().send() /* nested */ */ g(\'"\', r#"h"#)'
        blanked = check_iam.blank_comments_and_literals(text)
        self.assertEqual(len(blanked), len(text))
        self.assertNotIn("send", blanked)
        self.assertIn("a.b(0", blanked)
        self.assertIn("\n", blanked)

    def test_lifetimes_are_not_char_literals(self):
        text = "impl<'a> X<'a> { fn f(&'a self) { c.query().send() } }"
        self.assertIn(".query()", check_iam.blank_comments_and_literals(text))

    def test_chain_reads_back_to_the_operation(self):
        text = "self.client().get_item().customize().config_override(c).send()"
        chain = check_iam.chain_before(text, text.index(".send()"))
        self.assertEqual([name for name, _ in chain], ["config_override", "customize", "get_item", "client"])


class TemplateReading(unittest.TestCase):
    def test_the_real_template_grants_by_resource(self):
        granted, errors = check_iam.granted_actions(check_iam.load_template(TEMPLATE))
        self.assertEqual(errors, [])
        self.assertEqual(
            granted["LegacyPool"],
            {"cognito-idp:AdminGetUser", "cognito-idp:AdminInitiateAuth", "cognito-idp:AdminListGroupsForUser"},
        )
        self.assertEqual(granted["LegacyRole"], {"sts:AssumeRole"})

    def test_managed_policies_fail(self):
        ws = Workspace(self)
        ws.edit_template(
            lambda doc: doc["Resources"]["TriggerRole"]["Properties"].__setitem__(
                "ManagedPolicyArns", ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
            )
        )
        code, out = ws.run()
        self.assertEqual(code, 1)
        self.assertIn("managed policies cannot be checked", out)

    def test_wildcard_resource_fails(self):
        def widen(doc):
            policy = doc["Resources"]["TriggerNewPoolPolicy"]["Properties"]["PolicyDocument"]
            policy["Statement"][0]["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/*"}

        ws = Workspace(self)
        ws.edit_template(widen)
        code, out = ws.run()
        self.assertEqual(code, 1)
        self.assertIn("statement NewPool: its Resource names none of", out)
        self.assertIn("wildcard Resource", out)

    def test_statement_without_sid_fails(self):
        def drop_sid(doc):
            del role_statements(doc)[1]["Sid"]

        ws = Workspace(self)
        ws.edit_template(drop_sid)
        code, out = ws.run()
        self.assertEqual(code, 1)
        self.assertIn("(no Sid): the Sid must start with one of", out)


if __name__ == "__main__":
    unittest.main()
