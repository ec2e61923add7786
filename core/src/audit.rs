//! The pre-migration audit: reads an export of the legacy pool and reports what needs a
//! decision before users move to a case-insensitive pool.
//!
//! Input is the JSON that `aws cognito-idp list-users` prints: one object with a `Users` array,
//! several such pages one after another, one user object per line, or a list of users or pages.
//! The report says:
//!
//! - which users collide: identifiers (username, `email`, `preferred_username`) of different
//!   users that share a [`match_key`], so the new pool cannot tell them apart;
//! - which users fall into a [`Category`] that needs a decision (disabled, not confirmed, on a
//!   temporary password, second factors, unverified e-mail, federated);
//! - how many users there are, and how many have no issue at all;
//! - which parts of the input could not be read, by line. Messages never quote the input
//!   beyond a shortened username; everything else is still audited.
//!
//! [`audit_export`] and [`audit_users`] do it in one call; an [`Auditor`] takes the input in
//! chunks, so a browser can show progress while it reads a large file, and can have sections
//! of the text read on other threads ([`Auditor::section_reader`], [`section_cut`]). The audit
//! never panics on any input.
//!
//! ```
//! use cognito_migrate_core::audit::{Category, audit_export};
//!
//! let export = r#"{"Users": [
//!   {"Username": "Ann@Acme.com", "Attributes": [{"Name": "email", "Value": "Ann@Acme.com"}],
//!    "Enabled": true, "UserStatus": "CONFIRMED"},
//!   {"Username": "ann", "Attributes": [{"Name": "email", "Value": "ann@acme.com"},
//!    {"Name": "email_verified", "Value": "true"}], "Enabled": false, "UserStatus": "CONFIRMED"}
//! ]}"#;
//! let report = audit_export(export);
//! assert_eq!(report.total_users, 2);
//! assert_eq!(report.collisions[0].key.as_str(), "ann@acme.com");
//! assert_eq!(report.category(Category::Disabled).usernames, ["ann"]);
//! assert_eq!(report.category(Category::UnverifiedEmail).usernames, ["Ann@Acme.com"]);
//! assert_eq!(report.users_without_issues, 0);
//! ```
//!
//! [`match_key`]: crate::keys::match_key

use std::borrow::Cow;
use std::fmt;
use std::hash::{BuildHasher as _, RandomState};

use serde::{Deserialize, Serialize};

use crate::keys::{MatchKey, match_key};
use crate::migrate::{is_email_format, is_phone_format};
use crate::user::{LegacyUser, UserRecordError, UserStatus};

use self::key::identifier_key;
use self::record::{RecordError, UserFacts, parse_user};
use self::scan::{Event, Splitter};
use self::table::KeyTable;

mod key;
mod markdown;
mod record;
mod scan;
mod section;
mod table;

pub use self::section::{Section, SectionReader, section_cut};

/// Input errors kept in a report; the rest are only counted.
pub const MAX_REPORTED_ERRORS: usize = 1_000;

/// Longest username quoted in an error message, in characters.
const MAX_QUOTED_USERNAME: usize = 64;

/// Longest identifier kept for the report, in bytes; Cognito allows far less.
const MAX_KEPT_VALUE: usize = 4_096;

/// A reason a user needs a decision before migrating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Category {
    /// `Enabled` is false.
    Disabled,
    /// `UNCONFIRMED`: signed up, never confirmed.
    Unconfirmed,
    /// `FORCE_CHANGE_PASSWORD`: still on a temporary password.
    ForceChangePassword,
    /// `RESET_REQUIRED`: must reset the password before signing in.
    ResetRequired,
    /// Any other status than `CONFIRMED` or those above (`ARCHIVED`, `COMPROMISED`, `UNKNOWN`,
    /// none at all, or a value Cognito may add).
    OtherStatus,
    /// Has an `email` whose `email_verified` is not `"true"`.
    UnverifiedEmail,
    /// Has an unverified `email` that shares a match key with another user's identifier.
    UnverifiedEmailShared,
    /// Has SMS (`MFAOptions`, `UserMFASettingList`) or TOTP (`UserMFASettingList`) MFA.
    Mfa,
    /// `EXTERNAL_PROVIDER`, or an `identities` attribute linking a federated identity.
    ExternalProvider,
}

impl Category {
    /// Every category, in report order.
    pub const ALL: [Self; 9] = [
        Self::Disabled,
        Self::Unconfirmed,
        Self::ForceChangePassword,
        Self::ResetRequired,
        Self::OtherStatus,
        Self::UnverifiedEmail,
        Self::UnverifiedEmailShared,
        Self::Mfa,
        Self::ExternalProvider,
    ];

    /// A short title for people.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Disabled => "Disabled",
            Self::Unconfirmed => "Unconfirmed (UNCONFIRMED)",
            Self::ForceChangePassword => "Temporary password (FORCE_CHANGE_PASSWORD)",
            Self::ResetRequired => "Password reset required (RESET_REQUIRED)",
            Self::OtherStatus => "Other status",
            Self::UnverifiedEmail => "Unverified e-mail",
            Self::UnverifiedEmailShared => "Unverified e-mail shared with another user",
            Self::Mfa => "MFA",
            Self::ExternalProvider => "External provider",
        }
    }

    /// What the operator has to decide, in one sentence.
    #[must_use]
    pub fn decision(self) -> &'static str {
        match self {
            Self::Disabled => "Decide whether disabled users may migrate, and keep them disabled.",
            Self::Unconfirmed => {
                "Never confirmed their sign-up: migrate them, ask them to sign up again, or leave \
                 them behind."
            }
            Self::ForceChangePassword => {
                "Still on a temporary password: a sign-in with it asks for a new password, so \
                 migrating them needs a password reset or a refusal."
            }
            Self::ResetRequired => {
                "They must reset their password first: they can move only through forgot-password, \
                 which needs a verified e-mail address or phone number."
            }
            Self::OtherStatus => "ARCHIVED, COMPROMISED, UNKNOWN or no status: review each one.",
            Self::UnverifiedEmail => {
                "Their e-mail address is not verified: it cannot receive a password reset, and \
                 must not arrive verified in the new pool."
            }
            Self::UnverifiedEmailShared => {
                "Their unverified e-mail address shares its key with another user's identifier: \
                 unless the legacy pool signs in with e-mail as username, it finds nobody at \
                 sign-in and blocks no sign-up; they sign in with their username, or verify the \
                 address first."
            }
            Self::Mfa => {
                "SMS MFA can be carried over; a TOTP secret cannot be read, so those users enrol \
                 again."
            }
            Self::ExternalProvider => {
                "Federated: they never sign in with a password, so the trigger never moves them; \
                 link their identities again in the new pool."
            }
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// A sign-in identifier that can collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IdentifierField {
    /// The username.
    #[serde(rename = "username")]
    Username,
    /// The `email` attribute.
    #[serde(rename = "email")]
    Email,
    /// The `preferred_username` attribute.
    #[serde(rename = "preferred_username")]
    PreferredUsername,
}

impl IdentifierField {
    const ALL: [Self; 3] = [Self::Username, Self::Email, Self::PreferredUsername];

    /// The name as Cognito spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::PreferredUsername => "preferred_username",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for IdentifierField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One identifier of a user in a collision group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollidingIdentifier {
    /// Which identifier.
    pub field: IdentifierField,
    /// Its value as stored in the legacy pool.
    pub value: String,
}

/// A user in a collision group, with the identifiers that produce the group's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollisionMember {
    /// The legacy username.
    pub username: String,
    /// The user's identifiers with the group's key, in field order.
    pub identifiers: Vec<CollidingIdentifier>,
}

/// Two or more users whose identifiers share a match key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollisionGroup {
    /// The shared key.
    pub key: MatchKey,
    /// The users, in input order.
    pub members: Vec<CollisionMember>,
}

/// The users of one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryList {
    /// Which category.
    pub category: Category,
    /// How many users.
    pub count: u64,
    /// Every user's legacy username, in input order.
    pub usernames: Vec<String>,
}

/// Input that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputError {
    /// Line of the input, from 1; absent for users given as [`LegacyUser`]s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// What is wrong, without the input's content (a username at most, shortened).
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Which sign-in shape of the new pool fits these users.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShapeAdvice {
    /// Usernames in e-mail format.
    pub usernames_in_email_format: u64,
    /// Usernames in phone format (E.164).
    pub usernames_in_phone_format: u64,
    /// Users holding a verified e-mail address.
    pub verified_email: u64,
    /// Users holding a verified phone number.
    pub verified_phone: u64,
    /// Users with neither: they can sign in only with their username, and cannot reset a
    /// password on their own.
    pub no_verified_contact: u64,
    /// Users whose username is an e-mail address that they hold no verified e-mail for: in an
    /// e-mail-as-username pool their address arrives unverified.
    pub email_usernames_without_verified_email: u64,
    /// The recommended shape: `email-as-username`, `phone-as-username`,
    /// `usernames-with-aliases` or `plain-usernames`.
    pub recommended: String,
    /// Why, in one sentence.
    pub why: String,
}

impl ShapeAdvice {
    /// The advice from the users' facts, `count(mask)` counting users with any bit of `mask`.
    fn of(total: u64, count: impl Fn(u16) -> u64) -> Self {
        let email_names = count(USERNAME_EMAIL);
        let phone_names = count(USERNAME_PHONE);
        let verified_email = count(VERIFIED_EMAIL);
        let no_contact = total - count(VERIFIED_EMAIL | VERIFIED_PHONE);
        // Whole per cents: integer arithmetic keeps float formatting out of the WebAssembly.
        let share = |part: u64| (part * 100 + total / 2) / total.max(1);
        let (recommended, why) = if total == 0 {
            ("plain-usernames", "No users were read.".to_owned())
        } else if share(email_names) >= 90 {
            (
                "email-as-username",
                format!(
                    "{}% of usernames are e-mail addresses: users already sign in with their address (UsernameAttributes: email).",
                    share(email_names)
                ),
            )
        } else if share(phone_names) >= 90 {
            (
                "phone-as-username",
                format!(
                    "{}% of usernames are phone numbers (UsernameAttributes: phone_number).",
                    share(phone_names)
                ),
            )
        } else if email_names + phone_names > 0 || share(verified_email) >= 50 {
            (
                "usernames-with-aliases",
                format!(
                    "usernames of several kinds ({}% e-mail addresses) and {}% of users with a verified e-mail they may sign in with: a separate username with e-mail as an alias (the trigger gives users whose username is an address a generated one).",
                    share(email_names),
                    share(verified_email)
                ),
            )
        } else {
            (
                "plain-usernames",
                "usernames are neither e-mail addresses nor phone numbers, and few users hold a verified e-mail: plain usernames.".to_owned(),
            )
        };
        Self {
            usernames_in_email_format: email_names,
            usernames_in_phone_format: phone_names,
            verified_email,
            verified_phone: count(VERIFIED_PHONE),
            no_verified_contact: no_contact,
            // |names without a verified e-mail| = |names or verified| - |verified|.
            email_usernames_without_verified_email: count(USERNAME_EMAIL | VERIFIED_EMAIL)
                - verified_email,
            recommended: recommended.to_owned(),
            why,
        }
    }
}

/// What the audit found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditReport {
    /// Users read (a repeated record counts once).
    pub total_users: u64,
    /// Users in no collision group and no category.
    pub users_without_issues: u64,
    /// Which sign-in shape of the new pool fits these users.
    #[serde(default)]
    pub shape: ShapeAdvice,
    /// Users in at least one collision group.
    pub users_in_collisions: u64,
    /// Collision groups, ordered by key.
    pub collisions: Vec<CollisionGroup>,
    /// One list per category, in [`Category::ALL`] order.
    pub categories: Vec<CategoryList>,
    /// How much input could not be read.
    pub input_error_count: u64,
    /// The first [`MAX_REPORTED_ERRORS`] of them, in input order.
    pub input_errors: Vec<InputError>,
}

impl AuditReport {
    /// The list of one category (empty when the report has none, as a hand-built one may not).
    #[must_use]
    pub fn category(&self, category: Category) -> Cow<'_, CategoryList> {
        self.categories
            .iter()
            .find(|list| list.category == category)
            .map_or_else(
                || {
                    Cow::Owned(CategoryList {
                        category,
                        count: 0,
                        usernames: Vec::new(),
                    })
                },
                Cow::Borrowed,
            )
    }

    /// The report for people, in Markdown: a summary table, the collision groups, then each
    /// category; a list longer than 50 entries shows its first 50 and a count of the rest.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        markdown::render(self, 50)
    }

    /// [`to_markdown`](Self::to_markdown), showing at most `limit` entries of each list.
    #[must_use]
    pub fn to_markdown_with_limit(&self, limit: usize) -> String {
        markdown::render(self, limit)
    }

    /// The report as pretty-printed JSON (camelCase fields).
    #[must_use]
    pub fn to_json(&self) -> String {
        // Only string-keyed maps and plain values: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Audits a whole export in one call (see the [module documentation](self) for formats).
#[must_use]
pub fn audit_export(text: &str) -> AuditReport {
    let mut auditor = Auditor::new();
    auditor.push_text(text);
    auditor.finish()
}

/// Audits users that were already read.
#[must_use]
pub fn audit_users(users: &[LegacyUser]) -> AuditReport {
    let mut auditor = Auditor::new();
    for user in users {
        auditor.push_user(user);
    }
    auditor.finish()
}

/// An audit in progress, fed in chunks.
///
/// ```
/// use cognito_migrate_core::audit::Auditor;
///
/// let mut auditor = Auditor::new();
/// auditor.push_text("{\"Username\": \"ann\", \"UserStatus\": \"CONF");
/// auditor.push_text("IRMED\"}\n{\"Username\": \"bob\", \"Enabled\": false}\n");
/// assert_eq!(auditor.users_seen(), 2);
/// let report = auditor.finish();
/// assert_eq!(report.users_without_issues, 1);
/// ```
#[derive(Debug, Default)]
pub struct Auditor {
    splitter: Splitter,
    /// Text of a record not complete yet, kept from one chunk to the next.
    carry: String,
    started: bool,
    state: State,
}

impl Auditor {
    /// An empty audit.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the next chunk of an export. Chunks may split the text anywhere; the report does
    /// not depend on where.
    pub fn push_text(&mut self, chunk: &str) {
        let mut chunk = chunk;
        if !self.started && !chunk.is_empty() {
            self.started = true;
            // A byte-order mark, as editors on Windows write.
            chunk = chunk.strip_prefix('\u{feff}').unwrap_or(chunk);
        }
        let state = &mut self.state;
        let mut sink = |event: Event<'_>| state.take(event);
        if self.carry.is_empty() {
            // Read in place; copy only the unfinished record.
            let keep = self.splitter.scan(chunk, 0, &mut sink);
            self.carry.push_str(chunk.get(keep..).unwrap_or_default());
            self.splitter.rebase(keep);
        } else {
            let scanned = self.carry.len();
            self.carry.push_str(chunk);
            let keep = self.splitter.scan(&self.carry, scanned, &mut sink);
            self.carry.drain(..keep.min(self.carry.len()));
            self.splitter.rebase(keep);
        }
    }

    /// Adds one user that was already read.
    pub fn push_user(&mut self, user: &LegacyUser) {
        self.state.add(&UserFacts::of(user), None);
    }

    /// Makes room for about `users` more users at once: with an estimate (from the size of the
    /// input, say) the tables do not grow, and copy themselves, step by step.
    pub fn reserve(&mut self, users: usize) {
        self.state.rows.reserve(users);
        self.state.issues.reserve(users);
        self.state.keys.reserve(users);
    }

    /// Users read so far.
    #[must_use]
    pub fn users_seen(&self) -> u64 {
        self.state.rows.len() as u64
    }

    /// Ends the input and builds the report.
    #[must_use]
    pub fn finish(mut self) -> AuditReport {
        let state = &mut self.state;
        self.splitter.finish(&mut |event| state.take(event));
        self.state.report()
    }
}

/// Where a user's identifiers sit in [`State::text`].
#[derive(Debug, Clone, Copy)]
struct Row {
    start: usize,
    /// Byte lengths of the username, `email` and `preferred_username`.
    lengths: [u32; 3],
}

/// Bit of [`State::issues`] for users in a collision group, above the category bits.
const IN_COLLISION: u16 = 1 << 15;
/// Bits of [`State::issues`] that are facts for [`ShapeAdvice`], not issues: the username is in
/// e-mail or phone format, the user holds a verified e-mail or phone.
const USERNAME_EMAIL: u16 = 1 << 10;
const USERNAME_PHONE: u16 = 1 << 11;
const VERIFIED_EMAIL: u16 = 1 << 12;
const VERIFIED_PHONE: u16 = 1 << 13;
/// The bits that make a user one with issues.
const ISSUE_BITS: u16 = ((1 << Category::ALL.len()) - 1) | IN_COLLISION;

/// Everything the audit keeps per user is small: identifiers back to back in one string, a
/// row of offsets, an issue mask. A million users take tens of megabytes.
#[derive(Debug, Default)]
struct State {
    text: String,
    rows: Vec<Row>,
    issues: Vec<u16>,
    keys: KeyTable,
    categories: [Vec<u32>; Category::ALL.len()],
    errors: Vec<InputError>,
    error_count: u64,
}

/// What one event of the splitter comes to.
enum Outcome<'t> {
    User(UserFacts<'t>, u64),
    Error(u64, String),
    Nothing,
}

fn outcome(event: Event<'_>) -> Outcome<'_> {
    match event {
        Event::Error { line, message } => Outcome::Error(line, message.to_owned()),
        Event::User { facts, line } => Outcome::User(facts, line),
        Event::Record(record) => match parse_user(record.text) {
            Ok(facts) => Outcome::User(facts, record.line),
            // While resynchronising, a broken multi-line fragment is part of the failure
            // already reported.
            Err(RecordError::Syntax { line, message }) => {
                if !record.resync || record.single_line {
                    let line = record.line.saturating_add(line as u64 - 1);
                    Outcome::Error(line, format!("invalid JSON: {message}"))
                } else {
                    Outcome::Nothing
                }
            }
            Err(RecordError::Invalid(UserRecordError::MissingUsername))
                if record.resync && !record.single_line =>
            {
                Outcome::Nothing
            }
            Err(RecordError::Invalid(error)) => {
                Outcome::Error(record.line, format!("not a user record: {error}"))
            }
        },
    }
}

/// A key of one user: its text, the fields that give it, its hash.
type PreparedKey<'a> = (Cow<'a, str>, u8, u64);

/// One user read as far as that goes without the users before it: identifiers as kept for
/// the report, keys and their hashes, categories.
#[derive(Debug)]
struct Prepared<'a> {
    /// The username, `email` and `preferred_username`, cut by [`kept_value`]; empty when absent.
    values: [&'a str; 3],
    /// Each distinct key of the user once: a user whose username and e-mail share a key does
    /// not collide with itself. The username's key, when it has one, comes first.
    keys: [Option<PreparedKey<'a>>; 3],
    /// The user's [`Category`] bits.
    issues: u16,
}

impl<'a> Prepared<'a> {
    fn of(facts: &'a UserFacts<'_>, hasher: &RandomState) -> Self {
        let values = [
            Some(&*facts.username),
            facts.email.as_deref(),
            facts.preferred_username.as_deref(),
        ];
        let mut keys: [Option<PreparedKey<'a>>; 3] = [None, None, None];
        for (field, value) in IdentifierField::ALL.into_iter().zip(values) {
            let Some(key) = value.map(identifier_key).filter(|key| !key.is_empty()) else {
                continue;
            };
            if let Some((_, fields, _)) = keys.iter_mut().flatten().find(|(seen, ..)| *seen == key)
            {
                *fields |= field.bit();
            } else if let Some(free) = keys.iter_mut().find(|slot| slot.is_none()) {
                let hash = hasher.hash_one(&*key);
                *free = Some((key, field.bit(), hash));
            }
        }
        Self {
            values: values.map(|value| kept_value(value.unwrap_or_default())),
            keys,
            issues: categories_of(facts).fold(shape_bits(facts), |issues, category| {
                issues | category.bit()
            }),
        }
    }
}

impl State {
    fn take(&mut self, event: Event<'_>) {
        match outcome(event) {
            Outcome::User(facts, line) => self.add(&facts, Some(line)),
            Outcome::Error(line, message) => self.error(Some(line), message),
            Outcome::Nothing => {}
        }
    }

    fn error(&mut self, line: Option<u64>, message: String) {
        self.error_count += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(InputError { line, message });
        }
    }

    fn value(&self, user: u32, field: IdentifierField) -> &str {
        let Some(row) = self.rows.get(user as usize) else {
            return "";
        };
        let [username, email, _] = row.lengths.map(|length| length as usize);
        let (from, length) = match field {
            IdentifierField::Username => (0, username),
            IdentifierField::Email => (username, email),
            IdentifierField::PreferredUsername => (username + email, row.lengths[2] as usize),
        };
        let start = row.start + from;
        self.text.get(start..start + length).unwrap_or_default()
    }

    fn add(&mut self, facts: &UserFacts<'_>, line: Option<u64>) {
        let user = Prepared::of(facts, self.keys.hasher());
        self.commit(&user, line);
    }

    fn commit(&mut self, prepared: &Prepared<'_>, line: Option<u64>) {
        let [username, ..] = prepared.values;
        let first = prepared.keys[0]
            .as_ref()
            .map(|(key, fields, hash)| (*fields, self.keys.find(key, *hash)));
        // A legacy pool holds each username once: the same username again is the same record
        // exported twice (overlapping pages), not a second user.
        if let Some((fields, found)) = first
            && fields & IdentifierField::Username.bit() != 0
        {
            let seen = self.keys.any_holder(found, |user, fields| {
                fields & IdentifierField::Username.bit() != 0
                    && self.value(user, IdentifierField::Username) == username
            });
            if seen {
                // `kept_value` keeps far more than the characters `quote` shows.
                let username = quote(username);
                self.error(
                    line,
                    format!("user {username} appears again; this record is ignored"),
                );
                return;
            }
        }
        let user = match u32::try_from(self.rows.len()) {
            Ok(user) if user < u32::MAX => user,
            _ => {
                self.error(line, "too many users for one audit".to_owned());
                return;
            }
        };

        let start = self.text.len();
        let mut lengths = [0u32; 3];
        for (length, kept) in lengths.iter_mut().zip(prepared.values) {
            self.text.push_str(kept);
            // `kept_value` caps the length far below `u32::MAX`.
            *length = u32::try_from(kept.len()).unwrap_or(0);
        }
        self.rows.push(Row { start, lengths });

        for category in Category::ALL {
            if prepared.issues & category.bit() != 0
                && let Some(list) = self.categories.get_mut(category as usize)
            {
                list.push(user);
            }
        }
        self.issues.push(prepared.issues);

        for (n, (key, fields, hash)) in prepared.keys.iter().flatten().enumerate() {
            let found = match first {
                Some((_, found)) if n == 0 => found,
                _ => self.keys.find(key, *hash),
            };
            self.keys.add(key, *hash, found, user, *fields);
        }
    }

    fn report(mut self) -> AuditReport {
        // The key table is the bulk of the memory; the report needs only the groups.
        let groups = std::mem::take(&mut self.keys).into_groups();
        // An unverified e-mail that shares a key with someone else's identifier proves nothing:
        // listed, in input order, for the operator to see before a sign-in is refused.
        let unverified = Category::UnverifiedEmail.bit();
        let shared = Category::UnverifiedEmailShared.bit();
        for (_, members) in &groups {
            for &(user, fields) in members {
                if let Some(issues) = self.issues.get_mut(user as usize) {
                    *issues |= IN_COLLISION;
                    if *issues & unverified != 0 && fields & IdentifierField::Email.bit() != 0 {
                        *issues |= shared;
                    }
                }
            }
        }
        if let Some(list) = self
            .categories
            .get_mut(Category::UnverifiedEmailShared as usize)
        {
            *list = (0..)
                .zip(&self.issues)
                .filter(|&(_, issues)| issues & shared != 0)
                .map(|(user, _)| user)
                .collect();
        }
        let count = |mask: u16| -> u64 {
            self.issues
                .iter()
                .filter(|&&issues| issues & mask != 0)
                .count() as u64
        };
        let collisions = groups
            .iter()
            .map(|(key, members)| CollisionGroup {
                key: match_key(key),
                members: members
                    .iter()
                    .map(|&(user, fields)| CollisionMember {
                        username: self.value(user, IdentifierField::Username).to_owned(),
                        identifiers: IdentifierField::ALL
                            .into_iter()
                            .filter(|field| fields & field.bit() != 0)
                            .map(|field| CollidingIdentifier {
                                field,
                                value: self.value(user, field).to_owned(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        let categories = Category::ALL
            .into_iter()
            .zip(&self.categories)
            .map(|(category, users)| CategoryList {
                category,
                count: users.len() as u64,
                usernames: users
                    .iter()
                    .map(|&user| self.value(user, IdentifierField::Username).to_owned())
                    .collect(),
            })
            .collect();
        let total_users = self.rows.len() as u64;
        AuditReport {
            total_users,
            users_without_issues: total_users - count(ISSUE_BITS),
            shape: ShapeAdvice::of(total_users, count),
            users_in_collisions: count(IN_COLLISION),
            collisions,
            categories,
            input_error_count: self.error_count,
            input_errors: self.errors,
        }
    }
}

/// The facts [`ShapeAdvice`] counts, as bits of [`State::issues`].
fn shape_bits(facts: &UserFacts<'_>) -> u16 {
    let mut bits = 0;
    if is_email_format(&facts.username) {
        bits |= USERNAME_EMAIL;
    } else if is_phone_format(&facts.username) {
        bits |= USERNAME_PHONE;
    }
    if facts.email.is_some() && facts.email_verified {
        bits |= VERIFIED_EMAIL;
    }
    if facts.phone_verified {
        bits |= VERIFIED_PHONE;
    }
    bits
}

/// The categories a user falls into.
fn categories_of(facts: &UserFacts<'_>) -> impl Iterator<Item = Category> {
    let status = match facts.status {
        UserStatus::Confirmed => None,
        UserStatus::Unconfirmed => Some(Category::Unconfirmed),
        UserStatus::ForceChangePassword => Some(Category::ForceChangePassword),
        UserStatus::ResetRequired => Some(Category::ResetRequired),
        UserStatus::ExternalProvider => Some(Category::ExternalProvider),
        UserStatus::Archived
        | UserStatus::Compromised
        | UserStatus::Unknown
        | UserStatus::Other(_) => Some(Category::OtherStatus),
    };
    let external = facts.linked_identities && status != Some(Category::ExternalProvider);
    [
        (!facts.enabled).then_some(Category::Disabled),
        status,
        (facts.email.is_some() && !facts.email_verified).then_some(Category::UnverifiedEmail),
        facts.mfa.then_some(Category::Mfa),
        external.then_some(Category::ExternalProvider),
    ]
    .into_iter()
    .flatten()
}

/// The prefix of `value` that the audit keeps, cut at a character boundary.
fn kept_value(value: &str) -> &str {
    if value.len() <= MAX_KEPT_VALUE {
        return value;
    }
    let mut end = MAX_KEPT_VALUE;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value.get(..end).unwrap_or_default()
}

/// A username for an error message: shortened, control characters escaped.
fn quote(username: &str) -> String {
    let mut quoted = String::from("`");
    for (count, c) in username.chars().enumerate() {
        if count == MAX_QUOTED_USERNAME {
            quoted.push('…');
            break;
        }
        if c.is_control() || c == '`' {
            quoted.extend(c.escape_default());
        } else {
            quoted.push(c);
        }
    }
    quoted.push('`');
    quoted
}

#[cfg(test)]
mod tests;
