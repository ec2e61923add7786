//! Native keys for the JavaScript and browser tests, which must match them exactly.
//!
//! ```text
//! key_table native SEED COUNT   # the edge-case inputs plus COUNT seeded random strings, with native keys
//! ```
//!
//! The pinned expectations live in one table, `core/tests/fixtures/key-examples.json`, which the
//! core's own tests check; the JS tests compare the WASM build with that table and, for the
//! inputs below and the random strings, with this output produced in the same test run.

use std::process::ExitCode;

use cognito_migrate_core::{canonical_username, match_key};
use serde_json::{Value, json};

// The package is a cdylib only (see Cargo.toml), so the example cannot link it: it compiles the
// same code-mapping source instead.
#[path = "../src/code.rs"]
#[expect(dead_code, reason = "the example needs only the key error codes")]
mod code;
use code::ErrorCode;

/// More inputs where Unicode, Rust and JavaScript are likely to disagree, beyond the pinned
/// table's; the note says what each one tries.
const EDGE_CASES: &[(&str, &str)] = &[
    ("plain e-mail", "name@acme.com"),
    ("mixed case", "Name@Acme.COM"),
    ("surrounding ASCII white space", " \tName@Acme.com\r\n"),
    (
        "zero-width space and BOM at the edges",
        "\u{200B}\u{FEFF}name@acme.com\u{200B}",
    ),
    ("zero-width joiner inside", "na\u{200D}me@acme.com"),
    ("soft hyphen inside", "na\u{AD}me"),
    (
        "next line U+0085 (Rust trims it, JS does not)",
        "\u{85}name\u{85}",
    ),
    (
        "ideographic and no-break spaces",
        "\u{3000}\u{A0}name\u{202F}",
    ),
    ("only white space", " \u{3000}\t\u{2028}"),
    ("only invisible characters", "\u{200B}\u{2060}\u{FEFF}"),
    ("empty", ""),
    ("sharp s", "Straße@Example.de"),
    ("capital sharp s", "STRAẞE"),
    ("ss spelled out", "STRASSE"),
    ("dotted capital I", "İstanbul"),
    ("dotless i", "ıstanbul"),
    (
        "dotted capital I + combining grave below",
        "I\u{307}\u{316}",
    ),
    ("İ followed by a combining mark", "İ\u{316}x"),
    ("final sigma", "ΟΔΟΣ"),
    ("final sigma lowercase", "οδος"),
    ("Greek with ypogegrammeni", "ᾼ\u{345}"),
    ("iota subscript capital", "ᾈ"),
    ("Kelvin sign", "\u{212A}elvin"),
    ("Angstrom sign", "\u{212B}ngstrom"),
    ("Ohm sign", "\u{2126}"),
    ("fi ligature", "\u{FB01}le"),
    ("ffl ligature", "\u{FB04}"),
    ("IJ digraph", "\u{132}ssel"),
    ("titlecase DZ", "\u{1C5}ungla"),
    ("fullwidth", "ＮＡＭＥ＠ＡＣＭＥ．ＣＯＭ"),
    ("mathematical bold", "𝐍𝐚𝐦𝐞"),
    ("mathematical fraktur capital", "𝔄𝔅"),
    ("circled letters", "ⓃⒶⓂⒺ"),
    ("superscript two", "x²"),
    ("e + combining acute", "Re\u{301}mi"),
    ("precomposed é", "R\u{E9}mi"),
    ("combining marks out of order", "a\u{301}\u{316}"),
    ("Hangul jamo", "\u{1100}\u{1161}\u{11A8}"),
    (
        "Cherokee lowercase (folds to uppercase)",
        "\u{AB70}\u{13F8}",
    ),
    ("Georgian Mtavruli", "\u{1C90}\u{10D0}"),
    ("Deseret", "\u{10400}\u{10428}"),
    ("Armenian ligature ech-yiwn", "\u{587}"),
    ("emoji with variation selector", "♥\u{FE0F}user"),
    ("emoji ZWJ sequence", "👩\u{200D}💻"),
    ("Arabic with tatweel", "مـحمد"),
    ("Devanagari with nukta", "क\u{93C}"),
    ("CJK compatibility ideograph", "\u{F900}"),
    ("half-width katakana", "ｶﾀｶﾅ"),
    ("roman numeral", "Ⅻ"),
    ("long s", "ſtop"),
    ("micro sign", "\u{B5}g"),
    ("phone number", "+1 555 0100"),
];

fn keys_of(input: &str) -> Value {
    let (canonical, canonical_error) = match canonical_username(input) {
        Ok(name) => (Value::from(name.into_string()), Value::Null),
        Err(error) => (Value::Null, Value::from(error.code())),
    };
    json!({
        "input": input,
        "canonicalUsername": canonical,
        "canonicalError": canonical_error,
        "matchKey": match_key(input).into_string(),
    })
}

/// splitmix64: tiny, seedable and the same on every platform.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u32) -> u32 {
        u32::try_from(self.next() % u64::from(bound)).unwrap_or(0)
    }
}

/// Code point ranges to draw from, each picked with equal weight.
const POOLS: &[(u32, u32)] = &[
    (0x20, 0x7E),       // ASCII
    (0x41, 0x5A),       // ASCII capitals, again: identifiers are mostly Latin
    (0xA0, 0xFF),       // Latin-1
    (0x100, 0x17F),     // Latin Extended-A (İ, ı, Ĳ, ſ)
    (0x1C4, 0x1CC),     // titlecase digraphs
    (0x370, 0x3FF),     // Greek
    (0x1F80, 0x1FFF),   // Greek extended (iota subscripts)
    (0x130, 0x131),     // Turkish i's
    (0x49, 0x49),       // I
    (0xDF, 0xDF),       // ß
    (0x1E9E, 0x1E9E),   // ẞ
    (0xFB00, 0xFB06),   // Latin ligatures
    (0xFB13, 0xFB17),   // Armenian ligatures
    (0xFF01, 0xFF5E),   // fullwidth forms
    (0xFF61, 0xFF9F),   // half-width katakana
    (0x1D400, 0x1D7FF), // mathematical alphanumerics
    (0x2100, 0x214F),   // letterlike symbols (Kelvin, Ångström, Ω)
    (0x2460, 0x24FF),   // enclosed alphanumerics
    (0x300, 0x36F),     // combining diacritics
    (0x345, 0x345),     // ypogegrammeni, which case folding moves
    (0x1AB0, 0x1AFF),   // combining extended
    (0x200B, 0x200F),   // zero-width and direction marks
    (0x2060, 0x2064),   // word joiner and invisible operators
    (0xFEFF, 0xFEFF),   // BOM
    (0xAD, 0xAD),       // soft hyphen
    (0xFE00, 0xFE0F),   // variation selectors
    (0x9, 0xD),         // ASCII control white space
    (0x85, 0x85),       // next line
    (0x2000, 0x200A),   // typographic spaces
    (0x2028, 0x2029),   // line and paragraph separators
    (0x3000, 0x3000),   // ideographic space
    (0x13A0, 0x13F5),   // Cherokee
    (0xAB70, 0xABBF),   // Cherokee small letters
    (0x10A0, 0x10FF),   // Georgian
    (0x1C90, 0x1CBF),   // Georgian Mtavruli
    (0x10400, 0x1044F), // Deseret
    (0x1100, 0x11FF),   // Hangul jamo
    (0xAC00, 0xD7A3),   // Hangul syllables
    (0xF900, 0xFAFF),   // CJK compatibility ideographs
];

fn random_string(rng: &mut SplitMix64) -> String {
    let len = rng.below(13);
    (0..len)
        .filter_map(|_| {
            let pool_index =
                usize::try_from(rng.below(u32::try_from(POOLS.len()).unwrap_or(1))).unwrap_or(0);
            let (low, high) = POOLS.get(pool_index).copied().unwrap_or((0x61, 0x7A));
            char::from_u32(low + rng.below(high - low + 1))
        })
        .collect()
}

fn native_table(seed: u64, count: usize) -> Value {
    let examples: Vec<Value> = EDGE_CASES
        .iter()
        .map(|&(_, input)| keys_of(input))
        .collect();
    let mut rng = SplitMix64(seed);
    let random: Vec<Value> = (0..count)
        .map(|_| keys_of(&random_string(&mut rng)))
        .collect();
    json!({ "seed": seed, "examples": examples, "random": random })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ["native", seed, count] = args.as_slice() else {
        eprintln!("usage: key_table native SEED COUNT");
        return ExitCode::from(2);
    };
    let (Ok(seed), Ok(count)) = (seed.parse(), count.parse()) else {
        eprintln!("key_table: SEED and COUNT must be unsigned integers");
        return ExitCode::from(2);
    };
    let table = native_table(seed, count);
    match serde_json::to_string_pretty(&table) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("key_table: {error}");
            ExitCode::FAILURE
        }
    }
}
