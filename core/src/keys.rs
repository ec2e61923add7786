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

use std::borrow::Cow;
use std::fmt;

use icu_casemap::CaseMapperBorrowed;
use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};
use icu_properties::CodePointSetData;
use icu_properties::props::{DefaultIgnorableCodePoint, WhiteSpace};
use serde::{Deserialize, Serialize};

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

fn is_white_space(c: char) -> bool {
    CodePointSetData::new::<WhiteSpace>().contains(c)
}

fn is_default_ignorable(c: char) -> bool {
    CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

/// Surrounding characters that never belong to an identifier: white space of every kind and
/// invisible format characters (zero-width space, BOM, word joiner) pasted along with it.
fn is_edge_junk(c: char) -> bool {
    is_white_space(c) || is_default_ignorable(c)
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
    let trimmed = input.trim_matches(is_edge_junk);
    if trimmed.is_empty() {
        return Err(KeyError::Empty);
    }
    let nfc = ComposingNormalizerBorrowed::new_nfc();
    let lower = nfc.normalize(trimmed).to_lowercase();
    // Lowercasing can produce a sequence that is not NFC (İ becomes i + U+0307 and may then
    // meet another combining mark), so normalise once more.
    let canonical = match nfc.normalize(&lower) {
        Cow::Borrowed(_) => lower,
        Cow::Owned(s) => s,
    };
    Ok(CanonicalUsername(canonical))
}

/// One pass of the compatibility caseless mapping (Unicode D146,
/// `NFKD(toCasefold(NFKD(toCasefold(NFD(X)))))`), recomposed, with default-ignorable code points
/// removed and surrounding white space trimmed.
fn caseless_pass(input: &str) -> String {
    let canonical_decomposition = DecomposingNormalizerBorrowed::new_nfd();
    let compatibility_decomposition = DecomposingNormalizerBorrowed::new_nfkd();
    let compatibility_composition = ComposingNormalizerBorrowed::new_nfkc();
    let fold = CaseMapperBorrowed::new();

    let step = canonical_decomposition.normalize(input);
    let step = fold.fold_string(&step);
    let step = compatibility_decomposition.normalize(&step);
    let step = fold.fold_string(&step);
    let dotless = fold_dotted_i(&step);
    let step = compatibility_composition.normalize(&dotless);
    let visible: String = step.chars().filter(|&c| !is_default_ignorable(c)).collect();
    visible.trim_matches(is_white_space).to_owned()
}

/// Joins the Turkish i's with the Latin one: `ı` becomes `i`, and a combining dot above on an
/// `i` or `j` (the letter's own dot, which is how `İ` decomposes) is dropped.
///
/// Unicode's default case folding keeps `ı` and `i̇` apart from `i`, but comparisons that
/// uppercase (Java's `equalsIgnoreCase`: `ı` → `I`) or lowercase code point by code point
/// (`İ` → `i`) join them. The key must never be finer than any comparison Cognito could make,
/// so it joins them too. Works on decomposed, folded text.
fn fold_dotted_i(decomposed: &str) -> String {
    let mut out = String::with_capacity(decomposed.len());
    let mut base_is_soft_dotted = false;
    for c in decomposed.chars() {
        match c {
            '\u{307}' if base_is_soft_dotted => {}
            'ı' => {
                out.push('i');
                base_is_soft_dotted = true;
            }
            _ => {
                out.push(c);
                if !is_combining_below(c) {
                    base_is_soft_dotted = c == 'i' || c == 'j';
                }
            }
        }
    }
    out
}

/// Combining marks that canonical ordering places before U+0307 (they attach below the base),
/// so a dot above may follow them and still sit on the `i`.
fn is_combining_below(c: char) -> bool {
    matches!(c, '\u{316}'..='\u{319}' | '\u{31C}'..='\u{333}' | '\u{339}'..='\u{33C}' | '\u{347}'..='\u{349}' | '\u{34D}'..='\u{34E}' | '\u{353}'..='\u{356}' | '\u{359}'..='\u{35A}')
}

/// Passes needed at most for [`caseless_pass`] to reach a fixed point; a property test checks
/// that it always does, on arbitrary strings.
const MAX_PASSES: usize = 6;

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
        None => unicode_match_key(input),
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
    // Unicode White_Space within ASCII: U+0009..=U+000D and U+0020.
    let trimmed = input.trim_matches(|c: char| matches!(c, '\t'..='\r' | ' '));
    Some(if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(trimmed.to_ascii_lowercase())
    } else {
        Cow::Borrowed(trimmed)
    })
}

/// The full mapping, for text that is not ASCII.
fn unicode_match_key(input: &str) -> MatchKey {
    let mut current = caseless_pass(input);
    for _ in 1..MAX_PASSES {
        let next = caseless_pass(&current);
        if next == current {
            break;
        }
        current = next;
    }
    MatchKey(current)
}

#[cfg(test)]
mod tests;
