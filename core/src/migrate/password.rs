//! What the legacy pool says to a password check.

use serde::{Deserialize, Serialize};

/// A challenge the legacy pool answered a correct password with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Challenge {
    /// `SMS_MFA`.
    SmsMfa,
    /// `SOFTWARE_TOKEN_MFA`.
    SoftwareTokenMfa,
    /// `SELECT_MFA_TYPE`: both SMS and TOTP are set up.
    SelectMfaType,
    /// `MFA_SETUP`: MFA is required but no factor is set up yet.
    MfaSetup,
    /// `NEW_PASSWORD_REQUIRED`: the password was a temporary one.
    NewPasswordRequired,
    /// Anything else.
    #[serde(untagged)]
    Other(String),
}

impl Challenge {
    /// Reads a `ChallengeName`.
    #[must_use]
    pub fn parse(name: &str) -> Self {
        match name {
            "SMS_MFA" => Self::SmsMfa,
            "SOFTWARE_TOKEN_MFA" => Self::SoftwareTokenMfa,
            "SELECT_MFA_TYPE" => Self::SelectMfaType,
            "MFA_SETUP" => Self::MfaSetup,
            "NEW_PASSWORD_REQUIRED" => Self::NewPasswordRequired,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The `ChallengeName`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::SmsMfa => "SMS_MFA",
            Self::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA",
            Self::SelectMfaType => "SELECT_MFA_TYPE",
            Self::MfaSetup => "MFA_SETUP",
            Self::NewPasswordRequired => "NEW_PASSWORD_REQUIRED",
            Self::Other(other) => other,
        }
    }
}

/// What the legacy pool said to one password check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "challenge")]
pub enum PasswordOutcome {
    /// Tokens: the password is right and nothing else is asked.
    Accepted,
    /// `NotAuthorizedException` for a wrong password.
    WrongPassword,
    /// `NotAuthorizedException: User is disabled.`
    Disabled,
    /// `UserNotFoundException`: the ledger is stale.
    UserNotFound,
    /// `PasswordResetRequiredException`.
    ResetRequired,
    /// `UserNotConfirmedException`.
    NotConfirmed,
    /// A challenge: the password is right, but something more is asked.
    Challenge(Challenge),
}

impl PasswordOutcome {
    /// True when the outcome proves the password right.
    #[must_use]
    pub fn password_matched(&self) -> bool {
        matches!(self, Self::Accepted | Self::Challenge(_))
    }
}
