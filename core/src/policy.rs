//! The choices an operator makes: how collisions, second factors and temporary passwords are
//! handled, how many candidates a sign-in may check, and the time budget.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What to do when one password fits two or more legacy users.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CollisionPolicy {
    /// Refuse the migration as ambiguous; an operator resolves the pair.
    #[default]
    Refuse,
    /// Migrate the candidate modified most recently; refuse when that is a tie or unknown.
    MostRecent,
}

/// What to do when the legacy pool answers a correct password with a second-factor challenge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MfaPolicy {
    /// Refuse: the user is moved later, in bulk or after the operator decides.
    Refuse,
    /// Migrate with a password reset required: the user proves control of a verified e-mail
    /// address or phone number before choosing a new password.
    ResetRequired,
    /// Keep SMS MFA: migrate with `enableSMSMFA` when the user has SMS MFA and a phone number;
    /// refuse when the only factor is one that cannot be carried over (TOTP).
    #[default]
    Sms,
}

/// What to do when the legacy pool answers a correct temporary password
/// (`NEW_PASSWORD_REQUIRED`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TemporaryPasswordPolicy {
    /// Refuse.
    Refuse,
    /// Migrate with a password reset required (needs a verified e-mail address or phone).
    #[default]
    ResetRequired,
}

/// All the knobs, with defaults that never merge two people and never drop a second factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Policy {
    /// Collisions.
    pub collision: CollisionPolicy,
    /// Second factors.
    pub mfa: MfaPolicy,
    /// Temporary passwords.
    pub temporary_password: TemporaryPasswordPolicy,
    /// The most legacy candidates one sign-in may check; more is refused.
    pub max_candidates: usize,
    /// The adapter's time budget for one invocation, in milliseconds (Cognito waits 5,000).
    pub deadline_ms: u64,
    /// The least time a refused sign-in takes, in milliseconds, so that a disabled, unknown,
    /// ambiguous or wrong-password refusal cannot be told apart by how fast it comes back.
    /// Approvals are never held.
    pub refusal_floor_ms: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            collision: CollisionPolicy::default(),
            mfa: MfaPolicy::default(),
            temporary_password: TemporaryPasswordPolicy::default(),
            max_candidates: 4,
            deadline_ms: 3_500,
            refusal_floor_ms: 1_000,
        }
    }
}

/// A policy value that is not one of the accepted words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not one of: {expected}")]
pub struct PolicyValueError {
    /// What was given.
    pub value: String,
    /// The accepted words.
    pub expected: &'static str,
}

macro_rules! word_enum {
    ($ty:ty, $expected:literal, $($word:literal => $variant:path),+ $(,)?) => {
        impl FromStr for $ty {
            type Err = PolicyValueError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text.trim().to_ascii_lowercase().as_str() {
                    $($word => Ok($variant),)+
                    _ => Err(PolicyValueError { value: text.to_owned(), expected: $expected }),
                }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let word = match self { $($variant => $word,)+ };
                f.write_str(word)
            }
        }
    };
}

word_enum!(CollisionPolicy, "refuse, most-recent",
    "refuse" => CollisionPolicy::Refuse,
    "most-recent" => CollisionPolicy::MostRecent,
);
word_enum!(MfaPolicy, "refuse, reset-required, sms",
    "refuse" => MfaPolicy::Refuse,
    "reset-required" => MfaPolicy::ResetRequired,
    "sms" => MfaPolicy::Sms,
);
word_enum!(TemporaryPasswordPolicy, "refuse, reset-required",
    "refuse" => TemporaryPasswordPolicy::Refuse,
    "reset-required" => TemporaryPasswordPolicy::ResetRequired,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for word in ["refuse", "most-recent"] {
            assert_eq!(word.parse::<CollisionPolicy>().unwrap().to_string(), word);
        }
        for word in ["refuse", "reset-required", "sms"] {
            assert_eq!(word.parse::<MfaPolicy>().unwrap().to_string(), word);
        }
        assert_eq!(" SMS ".parse::<MfaPolicy>(), Ok(MfaPolicy::Sms));
        let err = "merge".parse::<CollisionPolicy>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "`merge` is not one of: refuse, most-recent"
        );
    }

    #[test]
    fn defaults_are_the_safe_ones() {
        let policy = Policy::default();
        assert_eq!(policy.collision, CollisionPolicy::Refuse);
        assert_eq!(policy.mfa, MfaPolicy::Sms);
        assert!(policy.deadline_ms < 5_000);
    }

    #[test]
    fn reads_partial_json() {
        let policy: Policy = serde_json::from_str(r#"{"mfa":"refuse","maxCandidates":2}"#).unwrap();
        assert_eq!(policy.mfa, MfaPolicy::Refuse);
        assert_eq!(policy.max_candidates, 2);
        assert_eq!(policy.collision, CollisionPolicy::Refuse);
    }
}
