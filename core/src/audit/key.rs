//! The match key of an identifier, borrowed from the text when nothing changes.

use std::borrow::Cow;

use crate::keys::{ascii_match_key, match_key};

/// The text of `match_key(value)`, borrowed from `value` when it is already its own key: a
/// million users spare a million allocations.
pub(super) fn identifier_key(value: &str) -> Cow<'_, str> {
    ascii_match_key(value).unwrap_or_else(|| Cow::Owned(match_key(value).into_string()))
}
