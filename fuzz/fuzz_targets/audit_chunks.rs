//! The audit's chunked reader never panics, and where the chunks are cut never changes the
//! report.
//!
//! Input: one byte giving the number of cuts (modulo 8), two bytes per cut (a position,
//! modulo the text's length, moved back to a character boundary), then the export's bytes.
#![no_main]

use cognito_migrate_core::audit::{Auditor, audit_export};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 8);
    let Some((cuts, export)) = rest.split_at_checked(count * 2) else {
        return;
    };
    let text = String::from_utf8_lossy(export);
    let whole = audit_export(&text);

    let mut points: Vec<usize> = cuts
        .chunks_exact(2)
        .map(|pair| {
            let mut point = usize::from(u16::from_le_bytes([pair[0], pair[1]])) % (text.len() + 1);
            while !text.is_char_boundary(point) {
                point -= 1;
            }
            point
        })
        .collect();
    points.sort_unstable();
    let mut auditor = Auditor::new();
    let mut from = 0;
    for point in points.into_iter().chain([text.len()]) {
        auditor.push_text(&text[from..point]);
        from = point;
    }
    let chunked = auditor.finish();
    assert_eq!(chunked, whole, "chunks give the same report");
    let _ = (whole.to_markdown(), whole.to_json());
});
