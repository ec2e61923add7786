//! `canonical_username` and `match_key` never panic and keep their documented properties:
//! both are idempotent, the canonical form keeps the key, a refused identifier has the empty
//! key, and the canonical form is trimmed and never empty.
#![no_main]

use cognito_migrate_core::{canonical_username, match_key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let key = match_key(input);
    assert_eq!(match_key(key.as_str()), key, "match_key is idempotent");
    match canonical_username(input) {
        Ok(canonical) => {
            let text = canonical.as_str();
            assert!(!text.is_empty());
            assert!(
                !text.starts_with(char::is_whitespace) && !text.ends_with(char::is_whitespace),
                "surrounding white space is trimmed"
            );
            assert_eq!(
                canonical_username(text).as_ref(),
                Ok(&canonical),
                "canonical_username is idempotent"
            );
            assert_eq!(match_key(text), key, "the canonical form keeps the key");
        }
        Err(_) => assert!(key.is_empty(), "a refused identifier finds nobody"),
    }
});
