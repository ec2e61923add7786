//! One export read on several threads: its text cut into sections, each section read on its
//! own as far as that goes without the users before it (JSON, keys, categories), then added to
//! the [`Auditor`] in order (repeated users, collisions, counts).
//!
//! A section starts from where the auditor stood when its [`SectionReader`] was made. The
//! auditor checks, as it adds a section, that it stands at that same place; when it does not
//! (the text was cut inside a record, or a page ended in between), it reads the section's text
//! itself. Either way the report is the one [`Auditor::push_text`] gives.

use std::borrow::Cow;
use std::hash::{BuildHasher, RandomState};

use super::scan::{Position, Splitter};
use super::{Auditor, Outcome, Prepared, outcome};

/// Bytes of text [`section_cut`] looks back over.
const CUT_WINDOW: usize = 64 * 1024;

/// Reads sections of an export for one [`Auditor`], on any thread.
///
/// ```
/// use cognito_migrate_core::audit::{Auditor, audit_export, section_cut};
///
/// let first = "{\"Users\": [\n  {\"Username\": \"ann\"},\n";
/// let rest = "  {\"Username\": \"ANN\"},\n  {\"Username\": \"bob\", \"Enabled\": false}\n]}\n";
/// let mut auditor = Auditor::new();
/// auditor.push_text(first);
/// let reader = auditor.section_reader().expect("between two users");
/// // Another thread may read this; sections are added in text order.
/// let section = reader.read(rest.to_owned());
/// assert!(auditor.push_section(section));
/// let report = auditor.finish();
/// assert_eq!(report, audit_export(&format!("{first}{rest}")));
/// assert_eq!(report.collisions.len(), 1);
///
/// // Where to cut text so that the next section starts with a user.
/// assert_eq!(section_cut(rest.as_bytes()), Some(23));
/// ```
#[derive(Debug, Clone)]
pub struct SectionReader {
    pub(super) start: Position,
    pub(super) hasher: RandomState,
}

/// A section of an export read by a [`SectionReader`], waiting for [`Auditor::push_section`].
#[derive(Debug)]
pub struct Section {
    start: Position,
    /// Tells whether the keys were hashed as the auditor hashes them.
    hasher_probe: u64,
    /// The section's text, for an auditor that has to read it itself.
    text: String,
    users: Vec<StoredUser>,
    /// The users' identifiers and keys, back to back.
    arena: String,
    /// Input errors: users read before each, its line within the section, the message.
    errors: Vec<(usize, u64, String)>,
    /// The splitter at the end of the section, its lines counted from the section's start.
    end: Splitter,
    /// Where the text of a record not complete at the end of the section starts.
    keep: usize,
}

/// A [`Prepared`] user as a section stores it: its pieces back to back in the arena.
#[derive(Debug)]
struct StoredUser {
    line: u64,
    start: usize,
    /// Where the username, `email`, `preferred_username` and the three keys end.
    ends: [usize; 6],
    /// The fields of each key; 0 for a key the user does not have.
    fields: [u8; 3],
    hashes: [u64; 3],
    issues: u16,
}

impl StoredUser {
    fn store(user: &Prepared<'_>, line: u64, arena: &mut String) -> Self {
        let start = arena.len();
        let mut ends = [0; 6];
        let mut fields = [0; 3];
        let mut hashes = [0; 3];
        let keys = user
            .keys
            .iter()
            .map(|key| key.as_ref().map_or("", |(key, ..)| key));
        for (end, piece) in ends.iter_mut().zip(user.values.into_iter().chain(keys)) {
            arena.push_str(piece);
            *end = arena.len();
        }
        for ((field, hash), key) in fields.iter_mut().zip(&mut hashes).zip(&user.keys) {
            if let Some((_, key_fields, key_hash)) = key {
                *field = *key_fields;
                *hash = *key_hash;
            }
        }
        Self {
            line,
            start,
            ends,
            fields,
            hashes,
            issues: user.issues,
        }
    }

    fn prepared<'a>(&self, arena: &'a str) -> Prepared<'a> {
        let mut pieces = [""; 6];
        let mut from = self.start;
        for (piece, &end) in pieces.iter_mut().zip(&self.ends) {
            *piece = arena.get(from..end).unwrap_or_default();
            from = end;
        }
        let [username, email, preferred_username, keys @ ..] = pieces;
        let mut n = 0;
        let keys = keys.map(|key| {
            let field = self.fields.get(n).copied().unwrap_or_default();
            let hash = self.hashes.get(n).copied().unwrap_or_default();
            n += 1;
            (field != 0).then_some((Cow::Borrowed(key), field, hash))
        });
        Prepared {
            values: [username, email, preferred_username],
            keys,
            issues: self.issues,
        }
    }
}

fn hasher_probe(hasher: &RandomState) -> u64 {
    hasher.hash_one("cognito-migrate section")
}

impl SectionReader {
    /// Reads `text`: the text that follows what the auditor had read when it made this
    /// reader, or any later part of the export that starts where the auditor then stood (for
    /// instance at the start of a user's line, cut by [`section_cut`]).
    #[must_use]
    pub fn read(&self, text: String) -> Section {
        let mut splitter = Splitter::at(&self.start);
        let mut users = Vec::new();
        let mut arena = String::new();
        let mut errors = Vec::new();
        let keep = splitter.scan(&text, 0, &mut |event| match outcome(event) {
            Outcome::User(facts, line) => {
                let user = Prepared::of(&facts, &self.hasher);
                users.push(StoredUser::store(&user, line, &mut arena));
            }
            Outcome::Error(line, message) => errors.push((users.len(), line, message)),
            Outcome::Nothing => {}
        });
        splitter.rebase(keep);
        Section {
            start: self.start.clone(),
            hasher_probe: hasher_probe(&self.hasher),
            text,
            users,
            arena,
            errors,
            end: splitter,
            keep,
        }
    }
}

impl Auditor {
    /// A reader for the text that comes next, to be read on other threads; `None` while the
    /// audit stands inside a record (push more text first) or has read no text yet.
    #[must_use]
    pub fn section_reader(&self) -> Option<SectionReader> {
        if !self.started || !self.carry.is_empty() {
            return None;
        }
        Some(SectionReader {
            start: self.splitter.position()?,
            hasher: self.state.keys.hasher().clone(),
        })
    }

    /// Adds the next section of the export, with the report [`Self::push_text`] of its text
    /// gives. Cheap when the section starts where this audit stands; otherwise this audit
    /// reads the section's text again. Returns whether the section was added as it was read.
    pub fn push_section(&mut self, section: Section) -> bool {
        let fits = self.started
            && self.carry.is_empty()
            && section.hasher_probe == hasher_probe(self.state.keys.hasher())
            && self.splitter.position().as_ref() == Some(&section.start);
        if !fits {
            self.push_text(&section.text);
            return false;
        }
        let offset = self.splitter.line() - 1;
        let mut errors = section.errors.into_iter().peekable();
        for (n, user) in section.users.iter().enumerate() {
            while let Some((_, line, message)) = errors.next_if(|(before, ..)| *before <= n) {
                self.state.error(Some(line.saturating_add(offset)), message);
            }
            let line = user.line.saturating_add(offset);
            self.state
                .commit(&user.prepared(&section.arena), Some(line));
        }
        for (_, line, message) in errors {
            self.state.error(Some(line.saturating_add(offset)), message);
        }
        self.splitter = section.end;
        self.splitter.shift_lines(offset);
        self.carry.clear();
        self.carry
            .push_str(section.text.get(section.keep..).unwrap_or_default());
        true
    }
}

/// Where to cut `text` so that what follows starts a section at a user: the start of the last
/// line in the final 64 KiB that opens an object (`{` after its indentation), at the
/// smallest indentation of such lines there, so at the outermost level the users are on.
/// `None` when there is no such line. A cut that is not between two users only costs time
/// (the auditor reads that section itself), never a different report.
#[must_use]
pub fn section_cut(text: &[u8]) -> Option<usize> {
    let from = text.len().saturating_sub(CUT_WINDOW);
    let mut best: Option<(usize, usize)> = None;
    let mut at = from;
    while let Some(offset) = text.get(at..)?.iter().position(|&b| b == b'\n') {
        let line = at + offset + 1;
        at = line;
        let rest = text.get(line..).unwrap_or_default();
        let indent = rest
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        if rest.get(indent) == Some(&b'{') && best.is_none_or(|(least, _)| indent <= least) {
            best = Some((indent, line));
        }
    }
    best.map(|(_, line)| line)
}

#[cfg(test)]
mod tests;
