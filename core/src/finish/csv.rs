//! The files of a Cognito CSV user import job, built from the pool's own header
//! (`GetCSVHeader`).
//!
//! Cognito's documented rules for user import files:
//! - the first line is the header, and every column of `GetCSVHeader` must be there (in any
//!   order; this module keeps the pool's order); a value may be empty;
//! - `cognito:username` (no spaces or tabs) and `cognito:mfa_enabled` (`true`/`false`) are
//!   required for each user;
//! - each user needs a verified way to reset its password: `email_verified=true` with an
//!   `email`, or `phone_number_verified=true` with a `phone_number`;
//! - values are never in quotation marks; a comma inside a value is preceded by a backslash;
//! - UTF-8 without a byte order mark;
//! - `birthdate` as `mm/dd/yyyy`, `updated_at` as seconds since the epoch;
//! - leading and trailing white space of a value is trimmed;
//! - at most 16,000 characters a row, 500,000 rows and 100 MB a file.
//!
//! The format documents no other escape, so this module writes only what it can carry
//! unambiguously and refuses the rest. A refused user is not lost: [`write_files`] lists it with
//! an [`Unwritable`] reason for the `AdminCreateUser` path, which takes any value as it is.
//!
//! - A comma becomes `\,`; nothing else is escaped.
//! - A value holding a backslash is refused: whether Cognito reads `\\` as one backslash is not
//!   documented, and a backslash at the end of a value would escape the comma after it. Since
//!   no written value holds one, every backslash in a file starts an escaped comma.
//! - A value holding a double quote is refused: a CSV reader may take it for the start or end
//!   of a quoted field.
//! - A value holding a line break (CR, LF, VT, FF, NEL, U+2028, U+2029) is refused.
//! - A value starting or ending with white space, a control character or an invisible format
//!   character is refused: Cognito would store it trimmed, a different value from the legacy
//!   pool's.
//! - `birthdate`: the legacy pool's `YYYY-MM-DD` becomes `MM/DD/YYYY`; anything else (a year
//!   alone, year `0000`, a date that does not exist) is refused rather than guessed.
//! - `updated_at`: seconds since the epoch (as the legacy pool stores it; a fraction is
//!   dropped) or an RFC 3339 time become whole seconds; a negative time, one past the year
//!   9999, or anything else is refused.
//! - A row (with its line break) is at most 16,000 UTF-16 code units, which is never fewer than
//!   its characters however Cognito counts them; a file at most 100,000,000 bytes.
//!
//! `cognito:mfa_enabled` is `true` only for a legacy user with SMS MFA **and** a phone number
//! among the attributes written: SMS MFA sends its codes to that number, and a user whose MFA
//! is on without one could not sign in. TOTP cannot be carried (Cognito never reveals the
//! secret): such a user imports with MFA off and enrols again.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::user::timestamp_ms;

/// The most users Cognito takes in one import file.
pub const MAX_USERS_PER_FILE: usize = 500_000;
/// The largest import file Cognito takes, in bytes (100 MB, read as the smaller decimal
/// megabyte).
pub const MAX_BYTES_PER_FILE: usize = 100_000_000;
/// The longest row Cognito takes, in characters; this module counts UTF-16 code units and the
/// line break.
pub const MAX_ROW_CHARS: usize = 16_000;

/// The username column.
pub const USERNAME: &str = "cognito:username";
/// The MFA column.
pub const MFA_ENABLED: &str = "cognito:mfa_enabled";

const EMAIL_VERIFIED: &str = "email_verified";
const PHONE_NUMBER_VERIFIED: &str = "phone_number_verified";
const BIRTHDATE: &str = "birthdate";
const UPDATED_AT: &str = "updated_at";

const REQUIRED: [&str; 4] = [USERNAME, MFA_ENABLED, EMAIL_VERIFIED, PHONE_NUMBER_VERIFIED];

/// The line break after each line of a file.
const LINE_END: &str = "\r\n";

/// The last second of the year 9999.
const MAX_EPOCH_SECONDS: i64 = 253_402_300_799;

/// A header or file Cognito would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum CsvError {
    /// The pool's header lacks a column every import file needs.
    #[error("the CSV header has no `{0}` column")]
    MissingColumn(String),
    /// A column appears twice.
    #[error("the CSV header has `{0}` twice")]
    DuplicateColumn(String),
    /// A column name the format cannot carry (empty, or with a comma, backslash, double quote,
    /// line break or surrounding white space).
    #[error("the CSV header column `{0}` cannot be written unambiguously")]
    UnwritableColumn(String),
    /// One row is larger than a whole file may be.
    #[error("a row of {0} bytes does not fit in an import file")]
    RowTooLarge(usize),
}

/// Why a user cannot go into an import file. Such a user is created by `AdminCreateUser`
/// instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(
    tag = "why",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum Unwritable {
    /// The username is empty.
    #[error("empty username")]
    EmptyUsername,
    /// The username holds white space or a control character, which import usernames may not.
    #[error("the username holds white space or a control character")]
    UsernameWhiteSpace,
    /// No verified e-mail address or phone number: the user could never reset its password,
    /// and Cognito refuses the row.
    #[error("no verified email or phone number")]
    NoVerifiedContact,
    /// A value holds a line break.
    #[error("`{column}` holds a line break")]
    LineBreak {
        /// The column.
        column: String,
    },
    /// A value holds a backslash.
    #[error("`{column}` holds a backslash")]
    Backslash {
        /// The column.
        column: String,
    },
    /// A value holds a double quote.
    #[error("`{column}` holds a double quote")]
    DoubleQuote {
        /// The column.
        column: String,
    },
    /// A value starts or ends with white space or an invisible character, which Cognito would
    /// trim.
    #[error("`{column}` starts or ends with white space")]
    SurroundingWhiteSpace {
        /// The column.
        column: String,
    },
    /// `birthdate` is not a real `YYYY-MM-DD` date.
    #[error("`birthdate` is not a YYYY-MM-DD date")]
    Birthdate,
    /// `updated_at` is not a time between 1970 and 9999.
    #[error("`updated_at` is not a time")]
    UpdatedAt,
    /// The row is longer than Cognito takes (or than a whole file may be).
    #[error("the row is {chars} characters long")]
    RowTooLong {
        /// Its length: UTF-16 code units with the line break.
        chars: usize,
    },
}

/// A user the import files leave to `AdminCreateUser`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnwritableUser {
    /// The new username, as given.
    pub username: String,
    /// Why.
    #[serde(flatten)]
    pub reason: Unwritable,
}

/// The columns of the pool's import files, in the pool's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvHeader {
    columns: Vec<String>,
}

impl CsvHeader {
    /// The header from `GetCSVHeader`'s column list.
    ///
    /// ```
    /// use cognito_migrate_core::finish::csv::CsvHeader;
    /// let header = CsvHeader::new(["email", "email_verified", "phone_number_verified",
    ///     "cognito:mfa_enabled", "cognito:username"]).unwrap();
    /// assert_eq!(header.line(), "email,email_verified,phone_number_verified,cognito:mfa_enabled,cognito:username");
    /// assert!(CsvHeader::new(["email"]).is_err());
    /// ```
    pub fn new<I, S>(columns: I) -> Result<Self, CsvError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let columns: Vec<String> = columns.into_iter().map(Into::into).collect();
        for (i, column) in columns.iter().enumerate() {
            if columns
                .get(..i)
                .is_some_and(|before| before.contains(column))
            {
                return Err(CsvError::DuplicateColumn(column.clone()));
            }
            if column.is_empty() || column.contains(',') || check_value(column, column).is_err() {
                return Err(CsvError::UnwritableColumn(column.clone()));
            }
        }
        for required in REQUIRED {
            if !columns.iter().any(|c| c == required) {
                return Err(CsvError::MissingColumn(required.to_owned()));
            }
        }
        Ok(Self { columns })
    }

    /// Reads a header line (as a saved `GetCSVHeader` file has it, byte order mark and
    /// quotation marks allowed).
    pub fn parse(line: &str) -> Result<Self, CsvError> {
        let line = line.strip_prefix('\u{feff}').unwrap_or(line);
        Self::new(
            line.trim_end_matches(['\r', '\n'])
                .split(',')
                .map(|c| c.trim().trim_matches('"')),
        )
    }

    /// The columns.
    #[must_use]
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// True when the pool has this column.
    #[must_use]
    pub fn has(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c == column)
    }

    /// The header line, without a line break. Column names need no escaping: [`CsvHeader::new`]
    /// refuses any that would.
    #[must_use]
    pub fn line(&self) -> String {
        self.columns.join(",")
    }

    /// One user's row, without a line break, or why the user cannot be written.
    ///
    /// `attributes` are the new pool's attributes (the trigger's mapping); those the header
    /// lacks are left out. `sms_mfa` is the legacy user's SMS MFA.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use cognito_migrate_core::finish::csv::{CsvHeader, Unwritable};
    ///
    /// let header = CsvHeader::new(["cognito:username", "name", "birthdate", "email",
    ///     "email_verified", "phone_number_verified", "cognito:mfa_enabled"]).unwrap();
    /// let mut attributes = BTreeMap::from([
    ///     ("name".to_owned(), "Doe, Jane".to_owned()),
    ///     ("birthdate".to_owned(), "1980-02-29".to_owned()),
    ///     ("email".to_owned(), "jane@acme.com".to_owned()),
    ///     ("email_verified".to_owned(), "true".to_owned()),
    /// ]);
    /// assert_eq!(
    ///     header.row("jane", &attributes, false).unwrap(),
    ///     r"jane,Doe\, Jane,02/29/1980,jane@acme.com,true,false,false"
    /// );
    /// attributes.insert("name".into(), "Jane \"JD\" Doe".into());
    /// assert_eq!(
    ///     header.row("jane", &attributes, false),
    ///     Err(Unwritable::DoubleQuote { column: "name".into() })
    /// );
    /// ```
    pub fn row(
        &self,
        username: &str,
        attributes: &BTreeMap<String, String>,
        sms_mfa: bool,
    ) -> Result<String, Unwritable> {
        if username.is_empty() {
            return Err(Unwritable::EmptyUsername);
        }
        if username.chars().any(|c| is_blank(c) || is_line_break(c)) {
            return Err(Unwritable::UsernameWhiteSpace);
        }
        let present = |name: &str| {
            self.has(name) && attributes.get(name).is_some_and(|value| !value.is_empty())
        };
        let verified = |flag: &str, attribute: &str| {
            present(attribute) && attributes.get(flag).map(String::as_str) == Some("true")
        };
        let email_verified = verified(EMAIL_VERIFIED, "email");
        let phone_verified = verified(PHONE_NUMBER_VERIFIED, "phone_number");
        if !email_verified && !phone_verified {
            return Err(Unwritable::NoVerifiedContact);
        }
        let mfa = sms_mfa && present("phone_number");
        let mut row = String::new();
        for (i, column) in self.columns.iter().enumerate() {
            let value = match column.as_str() {
                USERNAME => username.to_owned(),
                MFA_ENABLED => mfa.to_string(),
                EMAIL_VERIFIED => email_verified.to_string(),
                PHONE_NUMBER_VERIFIED => phone_verified.to_string(),
                other => match attributes.get(other).map(String::as_str) {
                    None | Some("") => String::new(),
                    Some(value) if other == BIRTHDATE => {
                        birthdate_mm_dd_yyyy(value).ok_or(Unwritable::Birthdate)?
                    }
                    Some(value) if other == UPDATED_AT => epoch_seconds(value)
                        .ok_or(Unwritable::UpdatedAt)?
                        .to_string(),
                    Some(value) => value.to_owned(),
                },
            };
            check_value(column, &value)?;
            if i > 0 {
                row.push(',');
            }
            push_escaped(&mut row, &value);
        }
        let chars = row_chars(&row);
        if chars > MAX_ROW_CHARS {
            return Err(Unwritable::RowTooLong { chars });
        }
        Ok(row)
    }
}

/// White space, control characters and the invisible format characters that trimming may
/// remove (zero-width spaces and joiners, word joiner, byte order mark, Mongolian vowel
/// separator).
fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{B}' | '\u{C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Refuses a value the format cannot carry unambiguously (see the module documentation).
fn check_value(column: &str, value: &str) -> Result<(), Unwritable> {
    let column = || column.to_owned();
    if value.contains(is_line_break) {
        return Err(Unwritable::LineBreak { column: column() });
    }
    if value.contains('"') {
        return Err(Unwritable::DoubleQuote { column: column() });
    }
    if value.contains('\\') {
        return Err(Unwritable::Backslash { column: column() });
    }
    if value.starts_with(is_blank) || value.ends_with(is_blank) {
        return Err(Unwritable::SurroundingWhiteSpace { column: column() });
    }
    Ok(())
}

/// Writes a checked value with each comma preceded by a backslash.
fn push_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        if c == ',' {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A row's length as counted against [`MAX_ROW_CHARS`]: UTF-16 code units (never fewer than
/// characters) plus the line break.
fn row_chars(row: &str) -> usize {
    row.encode_utf16().count() + LINE_END.len()
}

/// `YYYY-MM-DD` as `MM/DD/YYYY`, for a date that exists in years 0001 to 9999.
///
/// ```
/// use cognito_migrate_core::finish::csv::birthdate_mm_dd_yyyy;
/// assert_eq!(birthdate_mm_dd_yyyy("1984-07-09").as_deref(), Some("07/09/1984"));
/// assert_eq!(birthdate_mm_dd_yyyy("2000-02-29").as_deref(), Some("02/29/2000"));
/// assert_eq!(birthdate_mm_dd_yyyy("1900-02-29"), None); // not a leap year
/// assert_eq!(birthdate_mm_dd_yyyy("0000-07-09"), None); // year withheld
/// assert_eq!(birthdate_mm_dd_yyyy("1984"), None);
/// assert_eq!(birthdate_mm_dd_yyyy("07/09/1984"), None);
/// ```
#[must_use]
pub fn birthdate_mm_dd_yyyy(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = value.get(range)?;
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            digits.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year == 0 || day == 0 || day > days {
        return None;
    }
    Some(format!("{month:02}/{day:02}/{year:04}"))
}

/// `updated_at` as whole seconds since the epoch: from seconds (the legacy pool's form; a
/// fraction is dropped) or an RFC 3339 time. `None` before 1970, after 9999, or for anything
/// else.
///
/// ```
/// use cognito_migrate_core::finish::csv::epoch_seconds;
/// assert_eq!(epoch_seconds("1551434400"), Some(1_551_434_400));
/// assert_eq!(epoch_seconds("1551434400.75"), Some(1_551_434_400));
/// assert_eq!(epoch_seconds("2019-03-01T10:00:00Z"), Some(1_551_434_400));
/// assert_eq!(epoch_seconds("2019-03-01T11:00:00+01:00"), Some(1_551_434_400));
/// assert_eq!(epoch_seconds("1551434400000"), None); // milliseconds: year 51,134
/// assert_eq!(epoch_seconds("-5"), None);
/// assert_eq!(epoch_seconds("1e9"), None);
/// assert_eq!(epoch_seconds("yesterday"), None);
/// ```
#[must_use]
pub fn epoch_seconds(value: &str) -> Option<i64> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, "0"));
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let seconds = if digits(whole) && digits(fraction) {
        whole.parse::<i64>().ok()?
    } else if is_rfc3339_shaped(value) {
        timestamp_ms(&Value::String(value.to_owned()))?.div_euclid(1000)
    } else {
        return None;
    };
    (0..=MAX_EPOCH_SECONDS)
        .contains(&seconds)
        .then_some(seconds)
}

/// `YYYY-MM-DDTHH:MM:SS`, an optional fraction, then `Z` or an offset: a time without its
/// offset could be any time zone's.
fn is_rfc3339_shaped(value: &str) -> bool {
    let bytes = value.as_bytes();
    let at = |i: usize, allowed: &[u8]| bytes.get(i).is_some_and(|b| allowed.contains(b));
    let offset = value.ends_with(['Z', 'z'])
        || (bytes.len() >= 25 && at(bytes.len() - 6, b"+-") && at(bytes.len() - 3, b":"));
    at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":") && offset
}

/// One import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFile {
    /// The file's text: the header line, then one line per user, each ending in CRLF.
    pub text: String,
    /// The usernames (`cognito:username`) in it, in order.
    pub usernames: Vec<String>,
}

/// Splits rows (username, row) into files of at most `max_users` users and `max_bytes` bytes,
/// each starting with the header. Pass [`MAX_USERS_PER_FILE`] and [`MAX_BYTES_PER_FILE`]
/// for Cognito's limits.
pub fn split_files<I>(
    header: &CsvHeader,
    rows: I,
    max_users: usize,
    max_bytes: usize,
) -> Result<Vec<CsvFile>, CsvError>
where
    I: IntoIterator<Item = (String, String)>,
{
    let mut files = Files::new(header, max_users, max_bytes);
    for (username, row) in rows {
        files.push(username, &row)?;
    }
    Ok(files.finish())
}

/// One user for [`write_files`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvUser {
    /// The new username.
    pub username: String,
    /// The new pool's attributes (the trigger's mapping).
    pub attributes: BTreeMap<String, String>,
    /// The legacy user's SMS MFA.
    pub sms_mfa: bool,
}

/// What [`write_files`] made of the users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvImport {
    /// The import files, each within the limits given.
    pub files: Vec<CsvFile>,
    /// The users no file can carry, in input order, for `AdminCreateUser`.
    pub unwritable: Vec<UnwritableUser>,
}

/// Writes each user's row ([`CsvHeader::row`]) into files of at most `max_users` users and
/// `max_bytes` bytes; a user that cannot be written, or whose row alone overflows a file, is
/// listed with why. Pass [`MAX_USERS_PER_FILE`] and [`MAX_BYTES_PER_FILE`] for Cognito's
/// limits.
pub fn write_files<I>(header: &CsvHeader, users: I, max_users: usize, max_bytes: usize) -> CsvImport
where
    I: IntoIterator<Item = CsvUser>,
{
    let mut files = Files::new(header, max_users, max_bytes);
    let mut unwritable = Vec::new();
    for user in users {
        let written = header
            .row(&user.username, &user.attributes, user.sms_mfa)
            .and_then(|row| {
                files
                    .push(user.username.clone(), &row)
                    .map_err(|_| Unwritable::RowTooLong {
                        chars: row_chars(&row),
                    })
            });
        if let Err(reason) = written {
            unwritable.push(UnwritableUser {
                username: user.username,
                reason,
            });
        }
    }
    CsvImport {
        files: files.finish(),
        unwritable,
    }
}

/// Files being filled, one row at a time.
struct Files {
    head: String,
    max_users: usize,
    max_bytes: usize,
    done: Vec<CsvFile>,
    current: CsvFile,
}

impl Files {
    fn new(header: &CsvHeader, max_users: usize, max_bytes: usize) -> Self {
        let head = format!("{}{LINE_END}", header.line());
        Self {
            current: CsvFile {
                text: head.clone(),
                usernames: Vec::new(),
            },
            head,
            max_users: max_users.max(1),
            max_bytes,
            done: Vec::new(),
        }
    }

    fn push(&mut self, username: String, row: &str) -> Result<(), CsvError> {
        let line_bytes = row.len() + LINE_END.len();
        if self.head.len() + line_bytes > self.max_bytes {
            return Err(CsvError::RowTooLarge(line_bytes));
        }
        if self.current.usernames.len() >= self.max_users
            || self.current.text.len() + line_bytes > self.max_bytes
        {
            let next = CsvFile {
                text: self.head.clone(),
                usernames: Vec::new(),
            };
            self.done.push(std::mem::replace(&mut self.current, next));
        }
        let _ = write!(self.current.text, "{row}{LINE_END}");
        self.current.usernames.push(username);
        Ok(())
    }

    fn finish(mut self) -> Vec<CsvFile> {
        if !self.current.usernames.is_empty() {
            self.done.push(self.current);
        }
        self.done
    }
}

#[cfg(test)]
mod tests;
