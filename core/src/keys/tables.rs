//! The Unicode half of the keys, on ICU4X's compiled data (normalisation, case folding and the
//! `White_Space` and `Default_Ignorable_Code_Point` sets).

use std::borrow::Cow;

use icu_casemap::CaseMapperBorrowed;
use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};
use icu_properties::CodePointSetData;
use icu_properties::props::{DefaultIgnorableCodePoint, WhiteSpace};

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

/// The canonical form of any text; empty when nothing is left once the edges are trimmed.
pub(crate) fn canonical_username(input: &str) -> String {
    let trimmed = input.trim_matches(is_edge_junk);
    let nfc = ComposingNormalizerBorrowed::new_nfc();
    let lower = nfc.normalize(trimmed).to_lowercase();
    // Lowercasing can produce a sequence that is not NFC (İ becomes i + U+0307 and may then
    // meet another combining mark), so normalise once more.
    match nfc.normalize(&lower) {
        Cow::Borrowed(_) => lower,
        Cow::Owned(s) => s,
    }
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

/// The full mapping, for text that is not ASCII.
pub(crate) fn match_key(input: &str) -> String {
    let mut current = caseless_pass(input);
    for _ in 1..MAX_PASSES {
        // A pass leaves text folded and trimmed; once that text is ASCII, another pass changes
        // nothing (the ASCII shortcut, held equal to this mapping, is lowercasing and trimming).
        if current.is_ascii() {
            break;
        }
        let next = caseless_pass(&current);
        if next == current {
            break;
        }
        current = next;
    }
    current
}
