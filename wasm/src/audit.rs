//! The pre-migration audit of a `list-users` export: in one call, or fed in chunks so a page
//! can show progress on a large file.

use cognito_migrate_core::audit::{
    self, AuditReport, Category, CategoryList, CollisionGroup, InputError, ShapeAdvice,
};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::error::ExportError;
use crate::serialize::to_js;

#[wasm_bindgen(typescript_custom_section)]
const AUDIT_TYPES: &str = r#"
export type AuditCategory =
  | "disabled"
  | "unconfirmed"
  | "forceChangePassword"
  | "resetRequired"
  | "otherStatus"
  | "unverifiedEmail"
  | "unverifiedEmailShared"
  | "mfa"
  | "externalProvider";

export interface CollidingIdentifier {
  field: "username" | "email" | "preferred_username";
  /** As stored in the legacy pool. */
  value: string;
}

export interface CollisionGroup {
  /** The match key the members share. */
  key: string;
  members: { username: string; identifiers: CollidingIdentifier[] }[];
}

export interface AuditCategoryList {
  category: AuditCategory;
  /** A short title for people. */
  title: string;
  /** What the operator has to decide, in one sentence. */
  decision: string;
  count: number;
  /** Every user's legacy username, in input order. */
  usernames: string[];
}

export interface AuditInputError {
  /** Line of the input, from 1. */
  line: number | null;
  /** What is wrong; never quotes the input beyond a shortened username. */
  message: string;
}

export interface ShapeAdvice {
  usernamesInEmailFormat: number;
  usernamesInPhoneFormat: number;
  verifiedEmail: number;
  verifiedPhone: number;
  /** Users with neither a verified e-mail nor a verified phone. */
  noVerifiedContact: number;
  emailUsernamesWithoutVerifiedEmail: number;
  /** The new pool's sign-in shape that fits these users. */
  recommended: "email-as-username" | "phone-as-username" | "usernames-with-aliases" | "plain-usernames";
  why: string;
}

export interface AuditReport {
  totalUsers: number;
  usersWithoutIssues: number;
  usersInCollisions: number;
  /** Which sign-in shape of the new pool fits these users. */
  shape: ShapeAdvice;
  /** Ordered by key. */
  collisions: CollisionGroup[];
  /** One list per category, every category present, in report order. */
  categories: AuditCategoryList[];
  inputErrorCount: number;
  /** The first 1,000 input errors, in input order. */
  inputErrors: AuditInputError[];
}
"#;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CategoryListDto {
    category: Category,
    title: &'static str,
    decision: &'static str,
    count: u64,
    usernames: Vec<String>,
}

impl From<CategoryList> for CategoryListDto {
    fn from(list: CategoryList) -> Self {
        Self {
            category: list.category,
            title: list.category.title(),
            decision: list.category.decision(),
            count: list.count,
            usernames: list.usernames,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct InputErrorDto {
    line: Option<u64>,
    message: String,
}

impl From<InputError> for InputErrorDto {
    fn from(error: InputError) -> Self {
        Self {
            line: error.line,
            message: error.message,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AuditReportDto {
    total_users: u64,
    users_without_issues: u64,
    users_in_collisions: u64,
    shape: ShapeAdvice,
    /// The core's groups already serialise as the JS shape (`key`, `members`).
    collisions: Vec<CollisionGroup>,
    categories: Vec<CategoryListDto>,
    input_error_count: u64,
    input_errors: Vec<InputErrorDto>,
}

impl From<AuditReport> for AuditReportDto {
    fn from(report: AuditReport) -> Self {
        Self {
            total_users: report.total_users,
            users_without_issues: report.users_without_issues,
            users_in_collisions: report.users_in_collisions,
            shape: report.shape,
            collisions: report.collisions,
            categories: report.categories.into_iter().map(Into::into).collect(),
            input_error_count: report.input_error_count,
            input_errors: report.input_errors.into_iter().map(Into::into).collect(),
        }
    }
}

fn report_to_js(report: AuditReport) -> Result<JsValue, ExportError> {
    to_js(&AuditReportDto::from(report))
}

/// Audits a whole `list-users` export (one page, several pages, one user per line, or a list).
/// Never throws on bad input: what cannot be read is listed in `inputErrors` by line.
#[wasm_bindgen(js_name = auditUsers, unchecked_return_type = "AuditReport")]
pub fn audit_users(list_users_json_text: &str) -> Result<JsValue, ExportError> {
    report_to_js(audit::audit_export(list_users_json_text))
}

/// An audit fed in chunks: `push` each piece of the text as it is read (pieces may split it
/// anywhere), watch `usersSeen`, then `finish` once. The report is the same as `auditUsers`
/// gives for the whole text.
#[wasm_bindgen]
#[derive(Debug, Default)]
pub struct Auditor {
    inner: audit::Auditor,
}

#[wasm_bindgen]
impl Auditor {
    /// An empty audit.
    #[wasm_bindgen(constructor)]
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the next piece of the export.
    pub fn push(&mut self, chunk: &str) {
        self.inner.push_text(chunk);
    }

    /// Users read so far.
    #[wasm_bindgen(getter, js_name = usersSeen)]
    #[must_use]
    #[expect(
        clippy::cast_precision_loss,
        reason = "a count of users stays far below 2^53"
    )]
    pub fn users_seen(&self) -> f64 {
        self.inner.users_seen() as f64
    }

    /// Ends the input and returns the report. The auditor cannot be used afterwards.
    #[wasm_bindgen(unchecked_return_type = "AuditReport")]
    pub fn finish(self) -> Result<JsValue, ExportError> {
        report_to_js(self.inner.finish())
    }
}
