//! Identifier keys: the canonical username a frontend sends, and the match key that finds legacy
//! candidates and collisions.
//!
//! Two functions, two purposes:
//!
//! - [`canonical_username`] is what a user *is* in the new pool: trimmed, NFC, lowercased. It
//!   keeps an e-mail address deliverable (`ß` stays `ß`), so it is safe to store and to send.
//! - [`match_key`] is what a user *might be* in the legacy pool: the Unicode compatibility caseless
//!   key (`NFKC` with full case folding, default-ignorable code points removed). It is coarser
//!   than any case-insensitive comparison Cognito could make, so every legacy user that the new
//!   pool would consider "the same identifier" lands under the same key. Coarseness is safe:
//!   password checks tell candidates apart, and a password that fits two of them is refused.
//!
//! Both are computed only here, in Rust, and reach browsers through the WASM build: JavaScript's
//! `trim` and `toLowerCase` differ from Rust's on edge cases, so a re-implementation would drift.
//!
//! ASCII text, most identifiers, is handled by a few lines of code here. Other text needs
//! ICU4X's normalisation and case-folding data, linked with the feature `unicode-tables` (on by
//! default). Without it, a host supplies the Unicode half once through `install_unicode_keys`:
//! the npm package's tools module borrows it from the package's keys module, which carries the
//! tables, so a page that loads both downloads them once and both compute identical keys.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

#[cfg(not(feature = "unicode-tables"))]
mod host;
#[cfg(feature = "unicode-tables")]
mod tables;

#[cfg(not(feature = "unicode-tables"))]
use host as unicode;
#[cfg(not(feature = "unicode-tables"))]
pub use host::{UnicodeKeys, install_unicode_keys};
#[cfg(feature = "unicode-tables")]
use tables as unicode;

/// An identifier that cannot become a username.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Nothing is left once surrounding white space is removed.
    #[error("the identifier is empty")]
    Empty,
}

/// A username in its canonical form: trimmed, NFC, lowercase.
///
/// Built only by [`canonical_username`]; the field is private so every value went through it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct CanonicalUsername(String);

impl CanonicalUsername {
    /// The canonical text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Takes the text out.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for CanonicalUsername {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CanonicalUsername {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The compatibility caseless key of an identifier (see [`match_key`]).
///
/// Deserialising a stored key recomputes it, so a key read back from the ledger is a key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct MatchKey(String);

impl MatchKey {
    /// The key text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the key of an identifier made only of white space and invisible characters.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes the text out.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for MatchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for MatchKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for MatchKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match_key(&text))
    }
}

impl<'de> Deserialize<'de> for CanonicalUsername {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        canonical_username(&text).map_err(serde::de::Error::custom)
    }
}

/// The form a frontend sends and the new pool stores.
///
/// Surrounding white space (any Unicode `White_Space`, plus invisible characters such as a
/// zero-width space or a byte-order mark) is removed, the rest is put in NFC and lowercased.
/// No case *folding*: `ß` stays `ß`, so an e-mail address stays deliverable.
///
/// ```
/// use cognito_migrate_core::canonical_username;
///
/// assert_eq!(canonical_username("  Name@Acme.COM\u{200B}").unwrap().as_str(), "name@acme.com");
/// assert_eq!(canonical_username("Straße@Example.de").unwrap().as_str(), "straße@example.de");
/// // "e" + combining acute becomes the single code point é (NFC).
/// assert_eq!(canonical_username("Re\u{301}mi").unwrap().as_str(), "r\u{e9}mi");
/// // Nothing but white space is refused, not turned into an empty username.
/// assert!(canonical_username(" \u{3000}\t").is_err());
/// ```
pub fn canonical_username(input: &str) -> Result<CanonicalUsername, KeyError> {
    let canonical = match ascii_canonical_username(input) {
        Some(canonical) => canonical,
        None => unicode::canonical_username(input),
    };
    if canonical.is_empty() {
        return Err(KeyError::Empty);
    }
    Ok(CanonicalUsername(canonical))
}

/// The canonical form of ASCII text (empty when only white space); `None` for other text.
///
/// On ASCII the full mapping is trimming tab to carriage return and space (no ASCII character
/// is default-ignorable) and ASCII lowercasing; tests hold it equal on every ASCII string.
pub(crate) fn ascii_canonical_username(input: &str) -> Option<String> {
    if !input.is_ascii() {
        return None;
    }
    Some(trim_ascii_white_space(input).to_ascii_lowercase())
}

/// Unicode `White_Space` within ASCII: U+0009..=U+000D and U+0020.
fn trim_ascii_white_space(input: &str) -> &str {
    input.trim_matches(|c: char| matches!(c, '\t'..='\r' | ' '))
}

/// The key that finds legacy candidates and collisions.
///
/// A compatibility caseless match key, as Unicode defines for identifier matching: compatibility
/// decomposition (NFKC: `ﬁ` → `fi`, fullwidth `Ａ` → `a`, `𝐀` → `a`), full case folding
/// (`ß` → `ss`, `ς` → `σ`, Kelvin sign → `k`), the Turkish `ı` and `İ` joined with `i` (as
/// comparisons that uppercase or lowercase code point by code point join them), default-ignorable code points (zero-width
/// characters) removed, surrounding white space trimmed. The mapping is repeated until nothing
/// changes, which makes the key idempotent for every string: `match_key(k) == k` for any key `k`.
///
/// Two identifiers that a case-insensitive pool could treat as the same user always share a key.
/// The key may also join identifiers that Cognito keeps apart (`strasse` and `straße`); password
/// checks tell those apart.
///
/// ```
/// use cognito_migrate_core::match_key;
///
/// assert_eq!(match_key("Name@Acme.com").as_str(), "name@acme.com");
/// assert_eq!(match_key("NAME@ACME.COM"), match_key("name@acme.com"));
/// assert_eq!(match_key("Straße").as_str(), "strasse");
/// assert_eq!(match_key("\u{FB01}le").as_str(), "file"); // the ﬁ ligature
/// assert_eq!(match_key("\u{212A}elvin").as_str(), "kelvin"); // Kelvin sign
/// // White space only gives the empty key, which finds nobody.
/// assert!(match_key(" \t ").is_empty());
/// ```
#[must_use]
pub fn match_key(input: &str) -> MatchKey {
    match ascii_match_key(input) {
        Some(key) => MatchKey(key.into_owned()),
        None => MatchKey(unicode::match_key(input)),
    }
}

/// The match key of ASCII text, borrowed when nothing changes; `None` for other text.
///
/// On ASCII every step of the full mapping reduces to something simple: normalisation changes
/// nothing, case folding is ASCII lowercasing, no ASCII character is default-ignorable, and the
/// white space trimmed is tab to carriage return and space. Most identifiers are ASCII e-mail
/// addresses, so this spares the Unicode tables almost every call; tests hold it equal to the
/// full mapping on every ASCII string.
pub(crate) fn ascii_match_key(input: &str) -> Option<Cow<'_, str>> {
    if !input.is_ascii() {
        return None;
    }
    let trimmed = trim_ascii_white_space(input);
    Some(if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(trimmed.to_ascii_lowercase())
    } else {
        Cow::Borrowed(trimmed)
    })
}

#[cfg(all(test, feature = "unicode-tables"))]
mod tests;
