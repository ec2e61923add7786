//! The new pool's sign-in shape: which username a migration creates, which attribute carries
//! the typed identifier, and what the ledger records as the new username.
//!
//! - Plain usernames: the response has no `username`; Cognito creates the user under the name
//!   typed, which the ledger records canonicalised.
//! - E-mail or phone as username (`UsernameAttributes`): Cognito generates the username; the
//!   response never has `username`, the sign-in attribute carries the typed value, and the ledger
//!   records that value canonicalised (post authentication knows the user by the attribute).
//! - Aliases (`AliasAttributes`): when the typed value is one of the user's alias values, the
//!   response puts it on that alias attribute (verified, for e-mail and phone) and names its own
//!   username: the legacy username canonicalised, or, when the pool refuses that name's format
//!   (an e-mail address where e-mail is an alias, a phone number where the phone is), the
//!   [`generated_username`]. An e-mail or phone typed as the legacy username itself, in a format
//!   the pool refuses for usernames, goes on its attribute and the user gets the generated
//!   username. The ledger records the username the response names.

use std::collections::BTreeMap;

use crate::keys::{CanonicalUsername, canonical_username};
use crate::reason::ReasonCode;
use crate::user::LegacyUser;

/// The key of the response's own username in `userAttributes`.
pub const USERNAME: &str = "username";

/// The verification flag of an alias attribute, if it has one.
fn flag_of(attribute: &str) -> Option<&'static str> {
    match attribute {
        "email" => Some("email_verified"),
        "phone_number" => Some("phone_number_verified"),
        _ => None,
    }
}

/// True for text in e-mail format, as Cognito tells usernames apart: something, `@`, something
/// with a dot, no white space.
///
/// ```
/// use cognito_migrate_core::migrate::is_email_format;
///
/// assert!(is_email_format("name@acme.com"));
/// assert!(!is_email_format("name@localhost"));
/// assert!(!is_email_format("name"));
/// assert!(!is_email_format("a b@acme.com"));
/// ```
#[must_use]
pub fn is_email_format(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let clean =
        |part: &str| !part.is_empty() && !part.contains('@') && !part.contains(char::is_whitespace);
    let Some((host, top)) = domain.rsplit_once('.') else {
        return false;
    };
    clean(local) && clean(domain) && !host.is_empty() && !top.is_empty()
}

/// True for text in phone format: `+` and 4 to 15 digits.
///
/// ```
/// use cognito_migrate_core::migrate::is_phone_format;
///
/// assert!(is_phone_format("+15550100"));
/// assert!(!is_phone_format("15550100"));
/// assert!(!is_phone_format("+1 555 0100"));
/// ```
#[must_use]
pub fn is_phone_format(text: &str) -> bool {
    text.strip_prefix('+').is_some_and(|digits| {
        (4..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// The username a migration gives a legacy user whose own username the new pool refuses: `u-`
/// and the legacy `sub` (a UUID), lowercased, which is stable across retries and unique in the
/// legacy pool; without a `sub` of letters, digits and `-` (never from Cognito), `u-` and the
/// 64-bit FNV-1a hash of the exact legacy username in hex. Neither is ever in e-mail or phone
/// format; the ledger's claim on the new username keeps two legacy users from sharing one.
///
/// ```
/// use cognito_migrate_core::migrate::generated_username;
/// use cognito_migrate_core::user::LegacyUser;
///
/// let user = LegacyUser::new("Name@Acme.com", [("sub".into(), "0D5E-77".into())].into());
/// assert_eq!(generated_username(&user), "u-0d5e-77");
/// let no_sub = LegacyUser::new("Name@Acme.com", Default::default());
/// assert_eq!(generated_username(&no_sub), "u-78c27c98d828b0ef");
/// let odd = LegacyUser::new("Name@Acme.com", [("sub".into(), "x@y.z".into())].into());
/// assert_eq!(generated_username(&odd), "u-78c27c98d828b0ef");
/// ```
#[must_use]
pub fn generated_username(user: &LegacyUser) -> String {
    let usable =
        |sub: &&str| !sub.is_empty() && sub.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if let Some(sub) = user.sub().filter(usable) {
        return format!("u-{}", sub.to_ascii_lowercase());
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in user.username.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("u-{hash:016x}")
}

/// True for a username of the form [`generated_username`] gives (`u-` and a UUID, or `u-` and
/// 16 hex digits), in any case: a sign-up may not take one, or the legacy user it names could
/// not be migrated.
///
/// ```
/// use cognito_migrate_core::migrate::is_generated_username;
///
/// assert!(is_generated_username("u-0d5e1c2a-77b4-4c1e-9f00-5a2b3c4d5e6f"));
/// assert!(is_generated_username("U-0D5E1C2A-77B4-4C1E-9F00-5A2B3C4D5E6F"));
/// assert!(is_generated_username("u-78c27c98d828b0ef"));
/// assert!(!is_generated_username("u-bob"));
/// assert!(!is_generated_username("0d5e1c2a-77b4-4c1e-9f00-5a2b3c4d5e6f"));
/// ```
#[must_use]
pub fn is_generated_username(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("u-").or_else(|| name.strip_prefix("U-")) else {
        return false;
    };
    let hex =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_hexdigit());
    // A UUID's groups, or the hash alone.
    let lengths: &[usize] = if rest.contains('-') {
        &[8, 4, 4, 4, 12]
    } else {
        &[16]
    };
    rest.split('-').count() == lengths.len()
        && rest
            .split('-')
            .zip(lengths)
            .all(|(part, &len)| hex(part, len))
}

/// How the new user is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NewPoolName {
    /// The username the ledger records and claims.
    pub recorded: String,
}

/// The new pool's sign-in settings.
pub(super) struct Shape<'a> {
    pub username_attributes: &'a [String],
    pub alias_attributes: &'a [String],
}

impl Shape<'_> {
    /// True when `name` is one of the pool's alias attributes.
    pub fn aliases(&self, name: &str) -> bool {
        self.alias_attributes.iter().any(|n| n == name)
    }

    /// True when the pool refuses `name` as a username: its format is kept for an alias.
    fn refuses_username(&self, name: &str) -> bool {
        (self.aliases("email") && is_email_format(name))
            || (self.aliases("phone_number") && is_phone_format(name))
    }

    /// True when the name a migration records may differ from the name typed: an alias pool
    /// names users after their legacy username, a pool with username attributes after those.
    pub fn renames(&self) -> bool {
        !self.username_attributes.is_empty() || !self.alias_attributes.is_empty()
    }

    /// Names the new user and puts the typed value where the shape wants it, in `attributes`
    /// (the mapped `userAttributes`). `raw` is the event's `userName` exactly as received,
    /// `typed` its canonical form; `typed_as` is the identifier of the legacy user the typed
    /// value is (`username`, `email`, `phone_number`, `preferred_username`). An attribute gets
    /// `raw`: Cognito compares the alias attribute with the `userName` it sent, which it may or
    /// may not have lowercased.
    pub fn name(
        &self,
        user: &LegacyUser,
        raw: &str,
        typed: &CanonicalUsername,
        typed_as: &str,
        attributes: &mut BTreeMap<String, String>,
        trace: &mut Vec<String>,
    ) -> Result<NewPoolName, ReasonCode> {
        // Only this function decides the response's username.
        attributes.remove(USERNAME);
        let typed = typed.as_str();
        if !self.username_attributes.is_empty() {
            return self.name_by_attribute(user, raw, typed, attributes, trace);
        }
        if typed_as != USERNAME && self.aliases(typed_as) {
            put_alias(attributes, typed_as, raw, proven(user, typed_as, typed));
            let own =
                canonical_username(&user.username).map_err(|_| ReasonCode::EmptyIdentifier)?;
            let username = if self.refuses_username(own.as_str()) {
                generated_username(user)
            } else {
                own.into_string()
            };
            trace.push(format!(
                "`{typed}` is the user's {typed_as}, an alias of the new pool: it goes on {typed_as} and the user is created as `{username}`."
            ));
            attributes.insert(USERNAME.to_owned(), username.clone());
            return Ok(NewPoolName { recorded: username });
        }
        if self.refuses_username(typed) {
            let attribute = if is_email_format(typed) {
                "email"
            } else {
                "phone_number"
            };
            // A username in e-mail or phone format proves the user's password, not that the
            // mailbox or phone is theirs: verified only when the legacy pool verified it.
            put_alias(attributes, attribute, raw, proven(user, attribute, typed));
            let username = generated_username(user);
            trace.push(format!(
                "The new pool refuses `{typed}` as a username ({attribute} is an alias): it goes on {attribute} and the user is created as `{username}`."
            ));
            attributes.insert(USERNAME.to_owned(), username.clone());
            return Ok(NewPoolName { recorded: username });
        }
        Ok(NewPoolName {
            recorded: typed.to_owned(),
        })
    }

    /// E-mail or phone as username: Cognito generates the username, the attribute carries the
    /// sign-in value. Every such attribute signs its user in, verified or not: the response
    /// keeps only values the legacy user verified, besides the one typed, or an address someone
    /// typed into a profile unverified would take that address from its owner.
    fn name_by_attribute(
        &self,
        user: &LegacyUser,
        raw: &str,
        typed: &str,
        attributes: &mut BTreeMap<String, String>,
        trace: &mut Vec<String>,
    ) -> Result<NewPoolName, ReasonCode> {
        let named = self
            .name_by_typed_attribute(raw, typed, attributes, trace)
            .or_else(|| self.name_by_proven_attribute(user, attributes, trace));
        let Some((kept, recorded)) = named else {
            trace.push(format!(
                "The new pool signs in with {}, and the user has none it proved to sign in with.",
                self.username_attributes.join(" or ")
            ));
            return Err(ReasonCode::AttributesRejected);
        };
        for name in self.username_attributes {
            let unproven = attributes.get(name).is_some_and(|value| {
                !canonical_username(value).is_ok_and(|c| proven(user, name, c.as_str()))
            });
            if *name != kept && unproven {
                attributes.remove(name);
                if let Some(flag) = flag_of(name) {
                    attributes.remove(flag);
                }
                trace.push(format!(
                    "The user's {name} is not verified as its own: it is left out, or the user would sign in with it."
                ));
            }
        }
        Ok(NewPoolName { recorded })
    }

    /// The sign-in attribute the typed value fits, set to it, and the value.
    fn name_by_typed_attribute(
        &self,
        raw: &str,
        typed: &str,
        attributes: &mut BTreeMap<String, String>,
        trace: &mut Vec<String>,
    ) -> Option<(String, String)> {
        let same = |value: &str| canonical_username(value).is_ok_and(|c| c.as_str() == typed);
        let name = self
            .username_attributes
            .iter()
            .find(|name| match name.as_str() {
                "email" => is_email_format(typed),
                "phone_number" => is_phone_format(typed),
                _ => false,
            })?;
        if !attributes.get(name).is_some_and(|value| same(value)) {
            // The typed value was the legacy sign-in name; another value of the attribute
            // would leave the user unable to sign in with what it typed. Its verification
            // flag belonged to the old value.
            attributes.insert(name.clone(), raw.to_owned());
            if let Some(flag) = flag_of(name) {
                attributes.remove(flag);
            }
        }
        trace.push(format!(
            "The new pool signs in with {name}: Cognito generates the username, {name} is `{typed}`."
        ));
        Some((name.clone(), typed.to_owned()))
    }

    /// Typed as a plain username: the first sign-in attribute the legacy user verified, which
    /// the user signs in with from now on, and its value.
    fn name_by_proven_attribute(
        &self,
        user: &LegacyUser,
        attributes: &BTreeMap<String, String>,
        trace: &mut Vec<String>,
    ) -> Option<(String, String)> {
        self.username_attributes.iter().find_map(|name| {
            let value = canonical_username(attributes.get(name)?).ok()?;
            if !proven(user, name, value.as_str()) {
                return None;
            }
            trace.push(format!(
                "The new pool signs in with {name}: the user signs in with `{value}` from now on."
            ));
            Some((name.clone(), value.into_string()))
        })
    }
}

/// Puts `value` on the alias `attribute`, with its verification flag: an alias is active, and
/// receives reset codes, only once verified, so only a value the legacy pool verified is.
fn put_alias(
    attributes: &mut BTreeMap<String, String>,
    attribute: &str,
    value: &str,
    verified: bool,
) {
    attributes.insert(attribute.to_owned(), value.to_owned());
    if let Some(flag) = flag_of(attribute) {
        attributes.insert(flag.to_owned(), verified.to_string());
    }
}

/// True when the legacy user holds `typed` (canonical) as its verified `attribute`.
fn proven(user: &LegacyUser, attribute: &str, typed: &str) -> bool {
    let verified = match attribute {
        "email" => user.email_verified(),
        "phone_number" => user.phone_verified(),
        _ => return false,
    };
    verified
        && user
            .attribute(attribute)
            .is_some_and(|value| canonical_username(value).is_ok_and(|c| c.as_str() == typed))
}

/// The alias values the response makes active in a pool with `alias_attributes`: each alias
/// attribute set, e-mail and phone only when verified. Cognito refuses the migration when one
/// is another user's (`forceAliasCreation` is false).
#[must_use]
pub fn active_aliases(
    alias_attributes: &[String],
    attributes: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    alias_attributes
        .iter()
        .filter_map(|name| {
            let value = attributes.get(name)?;
            let active = flag_of(name)
                .is_none_or(|flag| attributes.get(flag).map(String::as_str) == Some("true"));
            active.then(|| (name.clone(), value.clone()))
        })
        .collect()
}

/// True when `holder` (a new-pool user) holds one of `aliases` as an active alias and is not
/// the user about to be created as `username`.
#[must_use]
pub fn holds_alias(holder: &LegacyUser, username: &str, aliases: &[(String, String)]) -> bool {
    let same = |a: &str, b: &str| match (canonical_username(a), canonical_username(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same(&holder.username, username) {
        return false;
    }
    aliases.iter().any(|(name, value)| {
        holder.attribute(name).is_some_and(|held| same(held, value))
            && flag_of(name).is_none_or(|flag| holder.attribute(flag) == Some("true"))
    })
}
