//! The ledger's record of the legacy pool itself: how its users signed in
//! ([`LegacySignIn`]), written by `index` from `DescribeUserPool`, read by the trigger.
//!
//! One item: `pk` = `meta`, `sk` = `legacy-pool`, with `signIn` (the settings as JSON) and
//! `atMs`. It carries no `primary` flag, so scans of the users skip it.

use cognito_migrate_core::user::LegacySignIn;

use super::{Ledger, attr, s};
use crate::error::{AwsError, json_error};

/// The partition key of the ledger's own records.
pub const META_PK: &str = "meta";
/// The sort key of the legacy pool's record.
pub const LEGACY_POOL_SK: &str = "legacy-pool";
/// The attribute holding the settings as JSON.
pub const SIGN_IN: &str = "signIn";

impl Ledger {
    /// How the legacy pool let users sign in, as `index` recorded it; `None` before the first
    /// `index`.
    pub async fn legacy_sign_in(&self) -> Result<Option<LegacySignIn>, AwsError> {
        let answer = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(attr::PK, s(META_PK))
            .key(attr::SK, s(LEGACY_POOL_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetItem", &e))?;
        let Some(item) = answer.item else {
            return Ok(None);
        };
        let text = item
            .get(SIGN_IN)
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| AwsError::MalformedItem(format!("`{SIGN_IN}` is not a string")))?;
        serde_json::from_str(text).map(Some).map_err(|e| {
            AwsError::MalformedItem(format!("`{SIGN_IN}` does not parse ({})", json_error(&e)))
        })
    }
}
