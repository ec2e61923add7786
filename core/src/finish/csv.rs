//! The file of a Cognito CSV user import job, built from the pool's own header
//! (`GetCSVHeader`).
//!
//! Cognito's rules, as documented for user import files:
//! - the first line is the header, and every column of `GetCSVHeader` must be there (in any
//!   order; this module keeps the pool's order); a value may be empty;
//! - `cognito:username` and `cognito:mfa_enabled` (`true`/`false`) are required for each user;
//! - each user needs a verified way to reset its password: `email_verified=true` with an
//!   `email`, or `phone_number_verified=true` with a `phone_number`;
//! - at most 500,000 users and 100 MB a file.
//!
//! `cognito:mfa_enabled` is `true` only for a legacy user with SMS MFA **and** a phone number
//! among the attributes written: SMS MFA sends its codes to that number, and a user whose MFA
//! is on without one could not sign in. TOTP cannot be carried (Cognito never reveals the
//! secret): such a user imports with MFA off and enrols again.
//!
//! Values are written as RFC 4180 fields: plain when they hold no comma, double quote, CR or
//! LF; otherwise enclosed in double quotes with inner double quotes doubled.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// The most users Cognito takes in one import file.
pub const MAX_USERS_PER_FILE: usize = 500_000;
/// The largest import file Cognito takes, in bytes.
pub const MAX_BYTES_PER_FILE: usize = 100 * 1024 * 1024;

/// The username column.
pub const USERNAME: &str = "cognito:username";
/// The MFA column.
pub const MFA_ENABLED: &str = "cognito:mfa_enabled";

const REQUIRED: [&str; 4] = [
    USERNAME,
    MFA_ENABLED,
    "email_verified",
    "phone_number_verified",
];

/// A file or row Cognito would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum CsvError {
    /// The pool's header lacks a column every import file needs.
    #[error("the CSV header has no `{0}` column")]
    MissingColumn(String),
    /// A column appears twice.
    #[error("the CSV header has `{0}` twice")]
    DuplicateColumn(String),
    /// The user has no verified e-mail address or phone number: it could never reset its
    /// password, and Cognito refuses the row.
    #[error("no verified email or phone number")]
    NoVerifiedContact,
    /// The username is empty.
    #[error("empty username")]
    EmptyUsername,
    /// One row is larger than a whole file may be.
    #[error("a row of {0} bytes does not fit in an import file")]
    RowTooLarge(usize),
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
            if columns[..i].contains(column) {
                return Err(CsvError::DuplicateColumn(column.clone()));
            }
        }
        for required in REQUIRED {
            if !columns.iter().any(|c| c == required) {
                return Err(CsvError::MissingColumn(required.to_owned()));
            }
        }
        Ok(Self { columns })
    }

    /// Reads a header line (as a saved `GetCSVHeader` file has it).
    pub fn parse(line: &str) -> Result<Self, CsvError> {
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

    /// The header line, without a line break.
    #[must_use]
    pub fn line(&self) -> String {
        self.columns
            .iter()
            .map(|c| field(c))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// One user's row, without a line break. `attributes` are the new pool's attributes (the
    /// trigger's mapping); those the header lacks are left out. `sms_mfa` is the legacy
    /// user's SMS MFA.
    pub fn row(
        &self,
        username: &str,
        attributes: &BTreeMap<String, String>,
        sms_mfa: bool,
    ) -> Result<String, CsvError> {
        if username.is_empty() {
            return Err(CsvError::EmptyUsername);
        }
        let present = |name: &str| {
            self.has(name) && attributes.get(name).is_some_and(|value| !value.is_empty())
        };
        let verified = |flag: &str, attribute: &str| {
            present(attribute) && attributes.get(flag).map(String::as_str) == Some("true")
        };
        let email_verified = verified("email_verified", "email");
        let phone_verified = verified("phone_number_verified", "phone_number");
        if !email_verified && !phone_verified {
            return Err(CsvError::NoVerifiedContact);
        }
        let mfa = sms_mfa && present("phone_number");
        let mut cells = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let value = match column.as_str() {
                USERNAME => username.to_owned(),
                MFA_ENABLED => mfa.to_string(),
                "email_verified" => email_verified.to_string(),
                "phone_number_verified" => phone_verified.to_string(),
                other => attributes.get(other).cloned().unwrap_or_default(),
            };
            cells.push(field(&value));
        }
        Ok(cells.join(","))
    }
}

/// One RFC 4180 field.
///
/// ```
/// use cognito_migrate_core::finish::csv::field;
/// assert_eq!(field("plain"), "plain");
/// assert_eq!(field("a,b"), "\"a,b\"");
/// assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
/// assert_eq!(field("two\nlines"), "\"two\nlines\"");
/// ```
#[must_use]
pub fn field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
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
    let head = format!("{}\r\n", header.line());
    let mut files = Vec::new();
    let mut current = CsvFile {
        text: head.clone(),
        usernames: Vec::new(),
    };
    for (username, row) in rows {
        let line_bytes = row.len() + 2;
        if head.len() + line_bytes > max_bytes {
            return Err(CsvError::RowTooLarge(line_bytes));
        }
        if current.usernames.len() >= max_users.max(1)
            || current.text.len() + line_bytes > max_bytes
        {
            files.push(std::mem::replace(
                &mut current,
                CsvFile {
                    text: head.clone(),
                    usernames: Vec::new(),
                },
            ));
        }
        let _ = write!(current.text, "{row}\r\n");
        current.usernames.push(username);
    }
    if !current.usernames.is_empty() {
        files.push(current);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> CsvHeader {
        CsvHeader::parse(include_str!("../../tests/fixtures/finish/csv-header.csv")).unwrap()
    }

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// A minimal RFC 4180 reader, to prove the rows read back to the values written.
    fn read_rows(text: &str) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        let mut row = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    cell.push('"');
                    chars.next();
                }
                (true, '"') => quoted = false,
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut cell)),
                (false, '\r') => {}
                (false, '\n') => {
                    row.push(std::mem::take(&mut cell));
                    rows.push(std::mem::take(&mut row));
                }
                (_, c) => cell.push(c),
            }
        }
        rows
    }

    #[test]
    fn the_header_must_have_the_columns_cognito_requires() {
        assert_eq!(header().columns().len(), 23);
        assert_eq!(
            CsvHeader::new([
                "cognito:username",
                "email_verified",
                "phone_number_verified"
            ]),
            Err(CsvError::MissingColumn("cognito:mfa_enabled".into()))
        );
        assert_eq!(
            CsvHeader::new([
                "cognito:username",
                "cognito:username",
                "cognito:mfa_enabled"
            ]),
            Err(CsvError::DuplicateColumn("cognito:username".into()))
        );
    }

    #[test]
    fn a_small_file_with_tricky_values() {
        let header = header();
        let users = [
            (
                "name@acme.com",
                attrs(&[
                    ("email", "Name@Acme.com"),
                    ("email_verified", "true"),
                    ("name", "Doe, Jane \"JD\""),
                    ("address", "1 Main St\nFlat 2"),
                    ("custom:legacy_sub", "0a1b"),
                    ("custom:legacy_username", "Name@Acme.com"),
                    ("custom:not_in_pool", "dropped"),
                ]),
                false,
            ),
            (
                "+15550100",
                attrs(&[
                    ("phone_number", "+15550100"),
                    ("phone_number_verified", "true"),
                    ("email", "unverified@acme.com"),
                    ("email_verified", "false"),
                ]),
                true,
            ),
            (
                "straße",
                attrs(&[
                    ("email", "straße@acme.com"),
                    ("email_verified", "true"),
                    ("nickname", "ünïcödé 🎉"),
                ]),
                // SMS MFA without a phone number: imported with MFA off.
                true,
            ),
        ];
        let rows: Vec<(String, String)> = users
            .iter()
            .map(|(name, a, mfa)| ((*name).to_owned(), header.row(name, a, *mfa).unwrap()))
            .collect();
        let files = split_files(&header, rows, MAX_USERS_PER_FILE, MAX_BYTES_PER_FILE).unwrap();
        assert_eq!(files.len(), 1);
        insta::assert_snapshot!(files[0].text);

        let table = read_rows(&files[0].text);
        assert_eq!(table.len(), 4);
        let column = |name: &str| header.columns().iter().position(|c| c == name).unwrap();
        for row in &table {
            assert_eq!(row.len(), header.columns().len(), "every column, every row");
        }
        assert_eq!(table[1][column("name")], "Doe, Jane \"JD\"");
        assert_eq!(table[1][column("address")], "1 Main St\nFlat 2");
        assert_eq!(table[1][column("cognito:mfa_enabled")], "false");
        assert_eq!(table[2][column("cognito:mfa_enabled")], "true");
        assert_eq!(table[2][column("email_verified")], "false");
        assert_eq!(table[2][column("phone_number_verified")], "true");
        assert_eq!(table[3][column("cognito:mfa_enabled")], "false");
        assert_eq!(table[3][column("phone_number_verified")], "false");
    }

    #[test]
    fn a_user_without_a_verified_contact_is_refused() {
        let header = header();
        for a in [
            attrs(&[("email", "a@b.c")]),
            attrs(&[("email_verified", "true")]),
            attrs(&[("phone_number", "+1555"), ("phone_number_verified", "yes")]),
        ] {
            assert_eq!(header.row("a", &a, false), Err(CsvError::NoVerifiedContact));
        }
        assert_eq!(
            header.row(
                "",
                &attrs(&[("email", "a@b.c"), ("email_verified", "true")]),
                false
            ),
            Err(CsvError::EmptyUsername)
        );
    }

    #[test]
    fn files_split_at_the_user_and_byte_limits() {
        let header = header();
        let head = header.line().len() + 2;
        let rows = |count: usize| (0..count).map(|i| (format!("u{i:03}"), format!("row{i:03}")));
        let by_users = split_files(&header, rows(7), 3, MAX_BYTES_PER_FILE).unwrap();
        assert_eq!(
            by_users
                .iter()
                .map(|f| f.usernames.len())
                .collect::<Vec<_>>(),
            [3, 3, 1]
        );
        // Each row is 6 bytes plus CRLF: room for two rows a file.
        let by_bytes = split_files(&header, rows(5), 100, head + 16).unwrap();
        assert_eq!(
            by_bytes
                .iter()
                .map(|f| f.usernames.len())
                .collect::<Vec<_>>(),
            [2, 2, 1]
        );
        assert!(by_bytes.iter().all(|f| f.text.len() <= head + 16));
        assert!(by_bytes.iter().all(|f| f.text.starts_with(&header.line())));
        assert_eq!(
            split_files(&header, rows(1), 100, head + 3),
            Err(CsvError::RowTooLarge(8))
        );
        assert!(
            split_files(&header, rows(0), 100, MAX_BYTES_PER_FILE)
                .unwrap()
                .is_empty()
        );
    }
}
