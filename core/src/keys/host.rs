//! The Unicode half of the keys, supplied by the host when the core is built without its own
//! tables (feature `unicode-tables` off).

use std::sync::OnceLock;

/// The Unicode half of [`canonical_username`](super::canonical_username) and
/// [`match_key`](super::match_key), for text that is not ASCII.
///
/// Both must be the functions of a build with `unicode-tables` on (the npm package's keys
/// module exports exactly those); anything else breaks the keys' agreement with the trigger.
#[derive(Debug, Clone, Copy)]
pub struct UnicodeKeys {
    /// The canonical form of the text; `""` when nothing is left once its edges are trimmed.
    pub canonical_username: fn(&str) -> String,
    /// The match key of the text.
    pub match_key: fn(&str) -> String,
}

static INSTALLED: OnceLock<UnicodeKeys> = OnceLock::new();

/// Supplies the Unicode half of the keys. The first call wins; later calls change nothing and
/// return `false`.
pub fn install_unicode_keys(keys: UnicodeKeys) -> bool {
    INSTALLED.set(keys).is_ok()
}

fn installed() -> &'static UnicodeKeys {
    INSTALLED.get().expect(
        "cognito-migrate-core is built without `unicode-tables`: call install_unicode_keys first",
    )
}

pub(crate) fn canonical_username(input: &str) -> String {
    (installed().canonical_username)(input)
}

pub(crate) fn match_key(input: &str) -> String {
    (installed().match_key)(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyError, canonical_username, match_key};

    fn host_canonical(text: &str) -> String {
        if text.trim().is_empty() {
            String::new()
        } else {
            format!("canonical({text})")
        }
    }

    #[test]
    fn ascii_text_stays_in_the_core_and_other_text_goes_to_the_host() {
        assert!(install_unicode_keys(UnicodeKeys {
            canonical_username: host_canonical,
            match_key: |text| format!("key({text})"),
        }));
        assert!(!install_unicode_keys(UnicodeKeys {
            canonical_username: |_| String::new(),
            match_key: |_| String::new(),
        }));

        assert_eq!(match_key(" Name@ACME.com\t").as_str(), "name@acme.com");
        assert_eq!(canonical_username(" Name ").unwrap().as_str(), "name");
        assert_eq!(canonical_username(" \t"), Err(KeyError::Empty));

        assert_eq!(match_key("Straße").as_str(), "key(Straße)");
        assert_eq!(
            canonical_username("Straße").unwrap().as_str(),
            "canonical(Straße)"
        );
        assert_eq!(canonical_username("\u{3000}"), Err(KeyError::Empty));
    }
}
