use super::*;
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Example {
    input: String,
    canonical: Option<String>,
    key: String,
    why: String,
}

fn examples() -> Vec<Example> {
    serde_json::from_str(include_str!("../../tests/fixtures/key-examples.json")).unwrap()
}

#[test]
fn the_example_table_holds() {
    let examples = examples();
    assert!(examples.len() >= 40);
    for example in &examples {
        let canonical = canonical_username(&example.input)
            .ok()
            .map(CanonicalUsername::into_string);
        assert_eq!(
            canonical, example.canonical,
            "canonical form: {}",
            example.why
        );
        assert_eq!(
            match_key(&example.input).as_str(),
            example.key,
            "match key: {}",
            example.why
        );
    }
}

#[test]
fn identifiers_a_case_insensitive_pool_could_join_share_a_key() {
    let groups: &[&[&str]] = &[
        &[
            "Name@Acme.com",
            "name@acme.com",
            "NAME@ACME.COM",
            "nAmE@aCmE.cOm",
            " name@acme.com ",
        ],
        &["Straße", "STRASSE", "strasse", "STRAẞE"],
        &["ΣΊΣΥΦΟΣ", "σίσυφος", "σίσυφοσ"],
        &["\u{212A}", "K", "k"],
        &[
            "İstanbul",
            "i\u{307}stanbul",
            "istanbul",
            "ıstanbul",
            "ISTANBUL",
            "ISTANBUL",
        ],
        &["ǅ", "Ǆ", "ǆ", "DŽ"],
        &["ᾳ", "ᾼ", "αι", "ΑΙ"],
    ];
    for group in groups {
        let first = match_key(group[0]);
        for other in &group[1..] {
            assert_eq!(match_key(other), first, "{group:?}");
        }
    }
}

#[test]
fn different_people_keep_different_keys() {
    assert_ne!(match_key("ann@acme.com"), match_key("anne@acme.com"));
    assert_ne!(match_key("i\u{301}"), match_key("i"));
    assert_ne!(match_key("josé"), match_key("jose"));
}

#[test]
fn keys_read_back_from_storage_are_recomputed() {
    let key: MatchKey = serde_json::from_str("\"Name@ACME.com\"").unwrap();
    assert_eq!(key.as_str(), "name@acme.com");
    let canonical: CanonicalUsername = serde_json::from_str("\" Name \"").unwrap();
    assert_eq!(canonical.as_str(), "name");
    assert!(serde_json::from_str::<CanonicalUsername>("\"  \"").is_err());
}

#[test]
fn the_ascii_shortcut_agrees_with_the_full_mapping_on_every_ascii_pair() {
    for a in 0u8..128 {
        for b in 0u8..128 {
            let text: String = [char::from(a), char::from(b), 'X', char::from(b)]
                .iter()
                .collect();
            let short = ascii_match_key(&text).unwrap();
            assert_eq!(short, unicode::match_key(&text), "{text:?}");
            let canonical = ascii_canonical_username(&text).unwrap();
            assert_eq!(canonical, unicode::canonical_username(&text), "{text:?}");
        }
    }
    assert!(ascii_match_key("Straße").is_none());
    assert!(ascii_canonical_username("Straße").is_none());
    assert!(matches!(
        ascii_match_key("name@acme.com"),
        Some(Cow::Borrowed(_))
    ));
}

/// Characters that exercise normalisation and folding, mixed with random code points.
fn tricky_string() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        'İ', 'ı', 'i', 'I', '\u{307}', '\u{316}', '\u{323}', '\u{301}', '\u{345}', 'ß', 'ẞ', 'ς',
        'Σ', 'ﬁ', 'ﬀ', 'Ａ', '𝐀', 'K', 'Å', 'Ω', 'ſ', 'ŉ', 'Ǆ', 'ǅ', 'Ⅰ', '½', '²', 'ᾳ', 'ᾼ', 'ΐ',
        'Ꭰ', 'ꭰ', '\u{200B}', '\u{FEFF}', '\u{2060}', '\u{AD}', ' ', '\u{A0}', '\u{3000}',
        '\u{85}', '\t', '@', '.', 'a', 'Z', 'é', 'Ö', '\u{1E9B}', 'ǰ', 'ﬅ', '\u{1F88}', 'ẖ', 'ﬓ',
    ]);
    prop::collection::vec(prop_oneof![3 => tricky, 1 => any::<char>()], 0..12)
        .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn match_key_is_idempotent(input in tricky_string()) {
        let key = match_key(&input);
        prop_assert_eq!(match_key(key.as_str()), key);
    }

    #[test]
    fn match_key_is_idempotent_on_any_string(input in any::<String>()) {
        let key = match_key(&input);
        prop_assert_eq!(match_key(key.as_str()), key);
    }

    #[test]
    fn canonical_form_keeps_the_key(input in tricky_string()) {
        if let Ok(canonical) = canonical_username(&input) {
            prop_assert_eq!(match_key(canonical.as_str()), match_key(&input));
            prop_assert_eq!(canonical_username(canonical.as_str()).unwrap(), canonical.clone());
        } else {
            prop_assert!(match_key(&input).is_empty());
        }
    }

    #[test]
    fn case_changes_never_change_the_key(input in tricky_string()) {
        let key = match_key(&input);
        prop_assert_eq!(match_key(&input.to_lowercase()), key.clone());
        // Uppercasing that turns one letter into two (ᾳ → ΑΙ), or the combining ypogegrammeni
        // into the letter Ι, moves a following combining mark onto another letter: a different
        // string for any comparison, so not checked.
        let upper = input.to_uppercase();
        if upper.chars().count() == input.chars().count() && !upper.contains('\u{399}') {
            prop_assert_eq!(match_key(&upper), key);
        }
    }

    #[test]
    fn the_ascii_shortcut_agrees_with_the_full_mapping(text in "[\\x00-\\x7f]{0,24}") {
        let short = ascii_match_key(&text).unwrap();
        let full = unicode::match_key(&text);
        prop_assert_eq!(short, full);
        let canonical = ascii_canonical_username(&text).unwrap();
        prop_assert_eq!(canonical, unicode::canonical_username(&text));
    }

    #[test]
    fn any_string_is_handled(input in any::<String>()) {
        let _ = canonical_username(&input);
        let _ = match_key(&input);
    }
}
