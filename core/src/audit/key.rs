//! The match key of an identifier, with a shortcut for ASCII text.
//!
//! [`match_key`] runs several Unicode normalisations per call, which a million users cannot
//! afford. On ASCII text every one of its steps reduces to something simple: normalisation
//! changes nothing, case folding is ASCII lowercasing, no ASCII character is default-ignorable,
//! and the white space trimmed is tab to carriage return and space. Tests compare this function
//! with [`match_key`] on ASCII strings so the two cannot drift apart.

use std::borrow::Cow;

use crate::keys::match_key;

/// The text of `match_key(value)`, borrowed from `value` when nothing changes.
pub(super) fn identifier_key(value: &str) -> Cow<'_, str> {
    if !value.is_ascii() {
        return Cow::Owned(match_key(value).into_string());
    }
    // Unicode White_Space within ASCII: U+0009..=U+000D and U+0020.
    let trimmed = value.trim_matches(|c: char| matches!(c, '\t'..='\r' | ' '));
    if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(trimmed.to_ascii_lowercase())
    } else {
        Cow::Borrowed(trimmed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn agrees_with_match_key_on_every_ascii_pair() {
        for a in 0u8..128 {
            for b in 0u8..128 {
                let text: String = [char::from(a), char::from(b), 'X', char::from(b)]
                    .iter()
                    .collect();
                assert_eq!(identifier_key(&text), match_key(&text).as_str(), "{text:?}");
            }
        }
    }

    #[test]
    fn hands_unicode_to_match_key() {
        assert_eq!(identifier_key("Straße@X.de"), "strasse@x.de");
        assert_eq!(identifier_key(" Name@Acme.COM "), "name@acme.com");
        assert!(matches!(identifier_key("name@acme.com"), Cow::Borrowed(_)));
    }

    proptest! {
        #[test]
        fn agrees_with_match_key_on_ascii(text in "[\\x00-\\x7f]{0,24}") {
            let expected = match_key(&text);
            prop_assert_eq!(identifier_key(&text), expected.as_str());
        }
    }
}
