//! Finds the user records in an export as its text arrives, chunk by chunk.
//!
//! The splitter only tracks brackets, strings and line breaks; each record it finds is read
//! afterwards by [`super::record`], which checks the JSON itself. It knows three layouts:
//!
//! - pages as `aws cognito-idp list-users` prints them (`{"Users": [ … ]}`), one or several;
//! - one user object per line, or any sequence of user objects;
//! - a top-level array whose entries are users or pages.
//!
//! When the brackets stop making sense, it reports the line and resynchronises: it skips to
//! the next line that starts with `{` and reads on from there, staying quiet about fragments
//! (the rest of a broken record) until a record again starts and ends on one line. In a file
//! of one record per line, a record still open at the end of its line is reported and dropped,
//! so one truncated line never swallows the lines after it.

use super::record::{UserFacts, parse_leading_user};

/// What the splitter found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Event<'t> {
    /// A user, already read (see [`Splitter::try_leading_user`]).
    User { facts: UserFacts<'t>, line: u64 },
    /// The complete text of one candidate user object.
    Record(Record<'t>),
    /// Text that cannot hold user records; `message` never quotes the input.
    Error { line: u64, message: &'static str },
}

/// One candidate user object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Record<'t> {
    /// From its `{` to its `}`.
    pub text: &'t str,
    /// Line of its `{`, from 1.
    pub line: u64,
    /// Found while resynchronising: if it is not a user at all, it is a fragment of a broken
    /// record and is dropped quietly.
    pub resync: bool,
    /// Starts and ends on the same line.
    pub single_line: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// An array at the top level: its object entries are records.
    TopArray,
    /// An object at record position: a user, unless a `Users` array turns it into a page.
    Record,
    /// A page: an object with a `Users` array.
    Page,
    /// The `Users` array of a page: its entries are users.
    UsersArray,
    /// An entry of a `Users` array.
    User,
    /// Anything nested deeper.
    Inner,
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    close: u8,
    role: Role,
    line: u64,
}

#[derive(Debug, Clone, Copy)]
struct Capture {
    start: usize,
    line: u64,
    resync: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Unknown,
    /// The first top-level value started and ended on one line.
    OnePerLine,
    MultiLine,
}

/// Where a splitter stands between two records, without line numbers or buffer offsets: two
/// splitters at equal positions read the text that follows the same way, their line numbers
/// apart.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "the splitter's own yes/no state, compared as a whole"
)]
pub(super) struct Position {
    /// The open brackets, outermost first: closing byte, role, opened on the current line.
    stack: Vec<(u8, Role, bool)>,
    expect_entry: bool,
    resync: bool,
    skipping_line: bool,
    line_has_text: bool,
    layout: Layout,
}

/// Splitter state; every position is an offset into the caller's current buffer.
#[derive(Debug, Clone)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent pieces of lexer state"
)]
pub(super) struct Splitter {
    stack: Vec<Frame>,
    in_string: bool,
    escaped: bool,
    /// Start of the current string's content, when it is a key or value of a `Record`.
    record_string_start: Option<usize>,
    /// The last string read directly inside a `Record`: the key before a `[`.
    last_record_string: Option<(usize, usize)>,
    capture: Option<Capture>,
    /// The array on top of the stack still waits for an entry (after `[` or `,`).
    expect_entry: bool,
    line: u64,
    resync: bool,
    skipping_line: bool,
    line_has_text: bool,
    layout: Layout,
}

impl Default for Splitter {
    fn default() -> Self {
        Self {
            stack: Vec::new(),
            in_string: false,
            escaped: false,
            record_string_start: None,
            last_record_string: None,
            capture: None,
            expect_entry: false,
            line: 1,
            resync: false,
            skipping_line: false,
            line_has_text: false,
            layout: Layout::Unknown,
        }
    }
}

impl Splitter {
    /// Where the splitter stands, when it is between records: outside any string and holding
    /// no record text. The last key read inside a record is left out: a record's `[` reads it
    /// only after a key of that same record, so it never outlives the record.
    pub fn position(&self) -> Option<Position> {
        let between_records = !self.in_string
            && !self.escaped
            && self.capture.is_none()
            && self.record_string_start.is_none()
            && !self
                .stack
                .iter()
                .any(|frame| matches!(frame.role, Role::Record | Role::User));
        between_records.then(|| Position {
            stack: self
                .stack
                .iter()
                .map(|frame| (frame.close, frame.role, frame.line == self.line))
                .collect(),
            expect_entry: self.expect_entry,
            resync: self.resync,
            skipping_line: self.skipping_line,
            line_has_text: self.line_has_text,
            layout: self.layout,
        })
    }

    /// A splitter at `position`, on line 1. Brackets opened on earlier lines get line 0: the
    /// splitter only asks whether a bracket opened on the line it closes on, and for those
    /// the answer is no either way.
    pub fn at(position: &Position) -> Self {
        Self {
            stack: position
                .stack
                .iter()
                .map(|&(close, role, this_line)| Frame {
                    close,
                    role,
                    line: u64::from(this_line),
                })
                .collect(),
            expect_entry: position.expect_entry,
            resync: position.resync,
            skipping_line: position.skipping_line,
            line_has_text: position.line_has_text,
            layout: position.layout,
            ..Self::default()
        }
    }

    /// The current line, from 1.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Moves every line number on by `by`: a splitter that read a section of the text on its
    /// own continues with the lines of the whole text.
    pub fn shift_lines(&mut self, by: u64) {
        self.line = self.line.saturating_add(by);
        for frame in &mut self.stack {
            frame.line = frame.line.saturating_add(by);
        }
        if let Some(capture) = &mut self.capture {
            capture.line = capture.line.saturating_add(by);
        }
    }

    /// Scans `text[from..]` (the text before `from` was scanned by an earlier call) and returns
    /// the offset from which the text must be kept for the next call: the start of a record
    /// that is not complete yet, or `text.len()`.
    pub fn scan<'t>(
        &mut self,
        text: &'t str,
        from: usize,
        sink: &mut impl FnMut(Event<'t>),
    ) -> usize {
        let bytes = text.as_bytes();
        let mut i = from;
        while let Some(&byte) = bytes.get(i) {
            if self.in_string {
                i = self.scan_string(bytes, i, sink);
                continue;
            }
            if self.stack.is_empty() {
                i = self.scan_top_level(text, i, byte, sink);
                continue;
            }
            match byte {
                b' ' | b'\t' | b'\r' => {}
                b'\n' => {
                    if self.layout == Layout::OnePerLine {
                        // Leave the line break to the top level, which counts it.
                        self.fail("the record ends before its closing brace", false, sink);
                        continue;
                    }
                    self.line += 1;
                }
                b'"' => {
                    self.entry_starts(byte, sink);
                    self.in_string = true;
                    self.record_string_start =
                        (self.top_role() == Some(Role::Record)).then_some(i + 1);
                }
                b'{' | b'[' => {
                    i = self.open(text, byte, i, sink);
                    continue;
                }
                b'}' | b']' => self.close(text, byte, i, sink),
                b',' => {
                    if matches!(self.top_role(), Some(Role::TopArray | Role::UsersArray)) {
                        self.expect_entry = true;
                    }
                }
                _ => self.entry_starts(byte, sink),
            }
            i += 1;
        }
        self.capture.map_or(text.len(), |capture| capture.start)
    }

    /// Moves every kept position back by `by` bytes, once the caller dropped them.
    pub fn rebase(&mut self, by: usize) {
        if let Some(capture) = &mut self.capture {
            capture.start = capture.start.saturating_sub(by);
        }
        if let Some(start) = &mut self.record_string_start {
            *start = start.saturating_sub(by);
        }
        if let Some((start, end)) = &mut self.last_record_string {
            *start = start.saturating_sub(by);
            *end = end.saturating_sub(by);
        }
    }

    /// The input is over: a record still open is reported.
    pub fn finish(&mut self, sink: &mut impl FnMut(Event<'_>)) {
        if self.in_string || !self.stack.is_empty() {
            let line = self.capture.map_or(self.line, |capture| capture.line);
            sink(Event::Error {
                line,
                message: "the input ends inside a record; the export looks truncated",
            });
        }
        self.reset();
    }

    fn top_role(&self) -> Option<Role> {
        self.stack.last().map(|frame| frame.role)
    }

    fn scan_string<'t>(
        &mut self,
        bytes: &[u8],
        from: usize,
        sink: &mut impl FnMut(Event<'t>),
    ) -> usize {
        let mut i = from;
        if self.escaped {
            self.escaped = false;
            if bytes.get(i) != Some(&b'\n') {
                i += 1;
            }
        }
        let rest = bytes.get(i..).unwrap_or_default();
        let Some(offset) = rest.iter().position(|&b| matches!(b, b'"' | b'\\' | b'\n')) else {
            return bytes.len();
        };
        let at = i + offset;
        match bytes.get(at) {
            Some(b'"') => {
                self.in_string = false;
                if let Some(start) = self.record_string_start.take() {
                    self.last_record_string = Some((start, at));
                }
                at + 1
            }
            Some(b'\\') => {
                self.escaped = true;
                at + 1
            }
            // JSON strings cannot hold a raw line break: the quote was never closed.
            _ => {
                self.fail(
                    "a string is not closed before the end of the line",
                    true,
                    sink,
                );
                at
            }
        }
    }

    fn scan_top_level<'t>(
        &mut self,
        text: &'t str,
        i: usize,
        byte: u8,
        sink: &mut impl FnMut(Event<'t>),
    ) -> usize {
        let bytes = text.as_bytes();
        if byte == b'\n' {
            self.line += 1;
            self.skipping_line = false;
            self.line_has_text = false;
            return i + 1;
        }
        if self.skipping_line {
            let rest = bytes.get(i..).unwrap_or_default();
            return rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |at| i + at);
        }
        match byte {
            b' ' | b'\t' | b'\r' => return i + 1,
            b'{' if !self.resync => {
                self.line_has_text = true;
                if let Some(next) = self.try_leading_user(text, i, sink) {
                    return next;
                }
                self.push(b'}', Role::Record, i);
            }
            b'{' if !self.line_has_text => self.push(b'}', Role::Record, i),
            b'[' if !self.resync => self.push(b']', Role::TopArray, i),
            // Commas between top-level objects are harmless.
            b',' if !self.resync => {}
            _ if self.resync => self.skipping_line = true,
            _ => self.fail("text outside any JSON object", true, sink),
        }
        self.line_has_text = true;
        i + 1
    }

    /// A value starts at the current byte: in a list of users it has to be an object.
    fn entry_starts<'t>(&mut self, byte: u8, sink: &mut impl FnMut(Event<'t>)) {
        if !self.expect_entry {
            return;
        }
        let message = match self.top_role() {
            Some(Role::UsersArray) => "an entry of `Users` is not a user object",
            Some(Role::TopArray) => "an entry of the top-level list is not a user object",
            _ => return,
        };
        self.expect_entry = false;
        if byte != b'{' {
            sink(Event::Error {
                line: self.line,
                message,
            });
        }
    }

    /// Opens an object or array at `i`; returns where to read on.
    fn open<'t>(
        &mut self,
        text: &'t str,
        byte: u8,
        i: usize,
        sink: &mut impl FnMut(Event<'t>),
    ) -> usize {
        self.entry_starts(byte, sink);
        let role = match (self.top_role(), byte) {
            (Some(Role::TopArray | Role::UsersArray), b'{') => {
                if let Some(next) = self.try_leading_user(text, i, sink) {
                    return next;
                }
                if self.top_role() == Some(Role::TopArray) {
                    Role::Record
                } else {
                    Role::User
                }
            }
            (Some(Role::Record), b'[') if self.last_key_is_users(text) => {
                if let Some(frame) = self.stack.last_mut() {
                    frame.role = Role::Page;
                }
                // A page is not kept whole: only its users are.
                self.capture = None;
                Role::UsersArray
            }
            _ => Role::Inner,
        };
        let close = if byte == b'{' { b'}' } else { b']' };
        self.push(close, role, i);
        i + 1
    }

    /// The fast path: a well-formed user object that is complete in `text` is read in one
    /// pass by `serde_json`, which also finds its end, instead of being scanned here first.
    /// Anything else (incomplete, broken, a page) is left to the scanner, so the outcome is
    /// the same either way. Returns where to read on when it took the object.
    fn try_leading_user<'t>(
        &mut self,
        text: &'t str,
        i: usize,
        sink: &mut impl FnMut(Event<'t>),
    ) -> Option<usize> {
        let (facts, length) = parse_leading_user(text.get(i..)?)?;
        let body = text.as_bytes().get(i..i + length)?;
        let line_breaks = count_line_breaks(body);
        if line_breaks > 0 && self.layout == Layout::OnePerLine {
            // The scanner reports a record that runs past the end of its line.
            return None;
        }
        sink(Event::User {
            facts,
            line: self.line,
        });
        self.line += line_breaks;
        if self.stack.is_empty() {
            if self.layout == Layout::Unknown {
                self.layout = if line_breaks == 0 {
                    Layout::OnePerLine
                } else {
                    Layout::MultiLine
                };
            }
        } else {
            self.expect_entry = false;
        }
        Some(i + length)
    }

    fn push(&mut self, close: u8, role: Role, i: usize) {
        match role {
            Role::Record => {
                self.capture = Some(Capture {
                    start: i,
                    line: self.line,
                    resync: self.resync,
                });
                self.last_record_string = None;
            }
            Role::User => {
                self.capture = Some(Capture {
                    start: i,
                    line: self.line,
                    resync: false,
                });
            }
            Role::TopArray | Role::UsersArray => self.expect_entry = true,
            Role::Page | Role::Inner => {}
        }
        self.stack.push(Frame {
            close,
            role,
            line: self.line,
        });
    }

    fn last_key_is_users(&self, text: &str) -> bool {
        self.last_record_string
            .and_then(|(start, end)| text.get(start..end))
            == Some("Users")
    }

    fn close<'t>(&mut self, text: &'t str, byte: u8, i: usize, sink: &mut impl FnMut(Event<'t>)) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        if frame.close != byte {
            self.fail("brackets do not match", true, sink);
            return;
        }
        if matches!(frame.role, Role::Record | Role::User)
            && let Some(capture) = self.capture.take()
            && let Some(record) = text.get(capture.start..=i)
        {
            sink(Event::Record(Record {
                text: record,
                line: capture.line,
                resync: capture.resync,
                single_line: capture.line == self.line,
            }));
        }
        if self.stack.is_empty() {
            let single_line = frame.line == self.line;
            if self.layout == Layout::Unknown {
                self.layout = if single_line {
                    Layout::OnePerLine
                } else {
                    Layout::MultiLine
                };
            }
            // A whole record on one line: the line structure is trustworthy again.
            if single_line {
                self.resync = false;
            }
        } else if matches!(self.top_role(), Some(Role::TopArray | Role::UsersArray)) {
            self.expect_entry = false;
        }
    }

    /// Gives up on the value being read: reports `message` at the current line, drops the
    /// record in progress and goes back to the top level, where `resync` says whether to skip
    /// to the next line that starts with `{`.
    fn fail<'t>(&mut self, message: &'static str, resync: bool, sink: &mut impl FnMut(Event<'t>)) {
        sink(Event::Error {
            line: self.line,
            message,
        });
        self.reset();
        if resync {
            self.resync = true;
            self.skipping_line = true;
        }
    }

    fn reset(&mut self) {
        self.stack.clear();
        self.in_string = false;
        self.escaped = false;
        self.record_string_start = None;
        self.last_record_string = None;
        self.capture = None;
        self.expect_entry = false;
        self.skipping_line = false;
        self.line_has_text = true;
    }
}

/// Line breaks in `bytes`, counted in small blocks whose byte-sized sums vectorise well.
fn count_line_breaks(bytes: &[u8]) -> u64 {
    bytes
        .chunks(255)
        .map(|block| u64::from(block.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>()))
        .sum()
}
