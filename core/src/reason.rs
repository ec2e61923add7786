//! Why the trigger did not approve, allow or change anything: one closed set of codes for every
//! such outcome of every trigger source, logged by the Lambda and shown by the simulator.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! reason_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal: $explain:literal,)+) => {
        /// Why a trigger invocation ended without approving, allowing or changing anything.
        /// Internal: logged and shown to operators, never to end users.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ReasonCode {
            $($(#[$doc])* $variant,)+
        }

        impl ReasonCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The code as logged: `snake_case`.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)+
                }
            }

            /// A plain-language explanation for operators.
            #[must_use]
            pub fn explain(self) -> &'static str {
                match self {
                    $(Self::$variant => $explain,)+
                }
            }
        }
    };
}

reason_codes! {
    /// The event is not a migration event.
    NotAMigrationEvent = "not_a_migration_event": "The event is not a user-migration event.",
    /// The identifier is empty once normalised.
    EmptyIdentifier = "empty_identifier": "The identifier is empty once white space is removed.",
    /// No legacy user has this identifier.
    NoCandidates = "no_candidates": "No legacy user has this identifier in any case.",
    /// Every candidate is already in the new pool.
    AlreadyMigrated = "already_migrated": "Every legacy user with this identifier is already in the new pool.",
    /// Every remaining candidate is disabled, or the legacy pool said so.
    Disabled = "disabled": "The legacy user is disabled; disabled users are never migrated.",
    /// More candidates than the policy lets one sign-in check.
    TooManyCandidates = "too_many_candidates": "More legacy users share this identifier than one sign-in may check; resolve them with the audit.",
    /// No candidate accepted the password.
    WrongPassword = "wrong_password": "The password fits none of the legacy users with this identifier.",
    /// The legacy user never confirmed its sign-up.
    NotConfirmed = "not_confirmed": "The legacy user never confirmed its sign-up.",
    /// The legacy user must reset its password first (use forgot-password).
    LegacyResetRequired = "legacy_reset_required": "The legacy user must reset its password; a forgot-password request migrates it.",
    /// The legacy user is federated and has no password.
    ExternalProvider = "external_provider": "The legacy user signs in through an external provider and has no password.",
    /// The password (or the request) fits more than one legacy user.
    Ambiguous = "ambiguous": "The password fits more than one legacy user, so the sign-in cannot tell who this is.",
    /// The legacy user has a second factor and the policy refuses such migrations.
    MfaRefused = "mfa_refused": "The legacy user has a second factor and the MFA policy refuses such migrations.",
    /// The legacy user's second factor cannot be carried over (TOTP without SMS).
    MfaNotRestorable = "mfa_not_restorable": "The legacy user's second factor (TOTP) cannot be carried over and there is no SMS factor to keep.",
    /// The password was a temporary one and the policy refuses such migrations.
    TemporaryPasswordRefused = "temporary_password_refused": "The password is a temporary one and the policy refuses such migrations.",
    /// A reset is needed but the user has no verified e-mail address or phone number.
    NoVerifiedContact = "no_verified_contact": "A password reset is needed but the user has no verified e-mail address or phone number.",
    /// The attributes would be rejected by the new pool.
    AttributesRejected = "attributes_rejected": "The new pool would reject the user's attributes.",
    /// The legacy pool asked for a challenge this tool does not know.
    UnsupportedChallenge = "unsupported_challenge": "The legacy pool asked for a challenge this tool does not handle.",
    /// The legacy pool did not answer in time, or failed.
    LegacyUnavailable = "legacy_unavailable": "The legacy pool did not answer in time.",
    /// A sign-up takes an identifier of a legacy user who has not moved yet.
    IdentifierTaken = "identifier_taken": "The identifier belongs to a legacy user who has not moved yet; the sign-up would shadow that account.",
    /// The typed identifier is a variant of the registered one (same match key, another
    /// canonical form): the new pool would create a user under a name the user never had.
    IdentifierVariant = "identifier_variant": "The identifier was typed as a variant of how it is registered (another Unicode form of it); type it as registered.",
    /// Another legacy user holds the identifier more strongly: as its username (which an alias
    /// never takes), or verified where this user's is not. For a typed identifier, and for a
    /// value the response would make the user's new username.
    IdentifierOwned = "identifier_owned": "Another legacy user holds the identifier more strongly (as its username, or verified where this user's is not); this user cannot take it.",
    /// An alias value the migration would set (e-mail, phone, preferred username) is already
    /// another new-pool user's alias.
    AliasTaken = "alias_taken": "An e-mail address, phone number or preferred username the migration would set is already another new-pool user's alias; Cognito would refuse it, and it is never moved silently.",
    /// The new-pool user is not the one the legacy record was migrated to.
    NotOwner = "not_owner": "The new-pool user is not the one this legacy record was migrated to; nothing of the legacy user reaches it.",
    /// A sign-up tried to set an attribute only the migration may write.
    LegacyAttributeInSignUp = "legacy_attribute_in_sign_up": "A sign-up tried to set custom:legacy_* attributes, which only the migration writes.",
    /// The ledger changed under the sign-in: another invocation recorded this user, or claimed
    /// this new username for another legacy user, first.
    LedgerConflict = "ledger_conflict": "Another sign-in recorded this legacy user, or this new username for another legacy user, first; refused rather than risk one account for two people.",
    /// The ledger could not be read or written.
    LedgerUnavailable = "ledger_unavailable": "The migration ledger could not be read or written in time.",
    /// The new-pool user carries no `custom:legacy_username`: it did not come from the legacy pool.
    NotMigrated = "not_migrated": "The user did not come from the legacy pool; nothing to do.",
    /// The ledger has no record of the user's legacy username.
    NotInLedger = "not_in_ledger": "The ledger has no record of this user's legacy username.",
    /// The user's legacy groups were copied into the new pool already.
    GroupsAlreadyCopied = "groups_already_copied": "The user's legacy groups are already in the new pool.",
    /// Copying the groups failed; a later sign-in tries again.
    GroupsNotCopied = "groups_not_copied": "The legacy groups could not be copied now; the next sign-in tries again.",
    /// The tokens already carry every legacy group.
    NoGroupsToAdd = "no_groups_to_add": "The tokens already carry every legacy group.",
    /// Neither the configuration nor the event names the new pool.
    NoUserPoolId = "no_user_pool_id": "Neither NEW_USER_POOL_ID nor the event names the new pool.",
    /// The trigger source is not one this function handles.
    UnhandledSource = "unhandled_source": "The trigger source is not one this function handles; the event is returned unchanged.",
    /// The function's configuration is invalid: every invocation fails closed.
    Configuration = "configuration": "The function's configuration is invalid; every invocation fails closed until it is fixed.",
    /// The invocation's own deadline passed.
    Deadline = "deadline": "The invocation's own deadline passed before the decision was made.",
    /// The event cannot be read.
    MalformedEvent = "malformed_event": "The event is not a trigger event this function can read.",
    /// The legacy user is no longer in the legacy pool (deleted, or its name now answers for
    /// another user): the bulk finish found it gone and creates nothing for it.
    Gone = "gone": "The legacy user is no longer in the legacy pool; nothing is created for it.",
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_they_are_logged() {
        for &code in ReasonCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str(), "{code:?}");
            assert_eq!(serde_json::from_value::<ReasonCode>(json).unwrap(), code);
            assert!(code.explain().ends_with('.'), "{code:?}");
        }
        let mut names: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ReasonCode::ALL.len());
    }
}
