//! Sign-in and forgot-password migrations: the candidates are read, checked one password at a
//! time by the core's [`SignInMigration`], and an approval is recorded in the ledger before it is
//! returned.

use super::{Answer, Invocation, Outcome, Phase, Request, Verdict, WriteResult};
use crate::event::TriggerSource;
use crate::ledger::{LedgerEntry, MigrationState};
use std::collections::BTreeMap;

use crate::keys::{MatchKey, canonical_username, match_key};
use crate::migrate::{
    Approval, Decision, MigrationConfig, PasswordOutcome, SignInMigration, Step, active_aliases,
    holds_alias, proof_of, refusal_is_recordable,
};
use crate::reason::ReasonCode;
use crate::user::{LegacySignIn, LegacyUser, Proof};

/// Where a migration stands.
#[derive(Debug)]
pub(super) enum MigrationPhase<'a> {
    Candidates,
    ExactUser,
    Checking(Box<SignInMigration<'a>>),
    Refusal(Box<Decision>),
    /// The ledger was asked which legacy users hold the values the response signs in with.
    AliasOwners(Box<Decision>),
    /// The new pool was asked who holds the response's alias values.
    Aliases(Box<Decision>),
    Write(Box<Decision>, String),
    Reread(Box<Decision>, String),
    /// Forgot-password: the approved user read live from the legacy pool.
    Live(Box<LedgerEntry>),
}

impl<'a> Invocation<'a> {
    pub(super) fn migration(&mut self, phase: MigrationPhase<'a>, answer: Answer) -> Phase<'a> {
        match (phase, answer) {
            (MigrationPhase::Candidates, Answer::Records(found)) if found.is_empty() => {
                self.note("The ledger has no candidate: the legacy pool is asked for the exact name typed.");
                self.ask(Request::LegacyUser {
                    username: self.event.user_name().to_owned(),
                });
                Phase::Migration(MigrationPhase::ExactUser)
            }
            (MigrationPhase::Candidates, Answer::Records(found)) => self.check(found),
            (MigrationPhase::Candidates, _) => {
                self.note("The ledger could not be read: refused.");
                self.done(Verdict::Refused, Some(ReasonCode::LedgerUnavailable))
            }
            (MigrationPhase::ExactUser, Answer::LegacyUser(user)) => {
                // Read from the legacy pool just now: no second read before approving.
                self.live_checked = true;
                self.check(user.into_iter().map(LedgerEntry::pending).collect())
            }
            (MigrationPhase::Checking(mut machine), Answer::Password(outcome)) => {
                if let Step::CheckPassword { username } = machine.next_step()
                    && outcome.password_matched()
                {
                    self.matched.push((username.to_owned(), outcome.clone()));
                }
                self.password_checks += 1;
                machine.record(outcome);
                self.advance(machine)
            }
            (MigrationPhase::Checking(_), _) => {
                self.note("The legacy pool did not answer the password check: refused.");
                self.done(Verdict::Refused, Some(ReasonCode::LegacyUnavailable))
            }
            (MigrationPhase::Refusal(decision), _) => self.refused(*decision),
            (MigrationPhase::AliasOwners(decision), answer) => {
                self.aliases_owned(*decision, answer)
            }
            (MigrationPhase::Aliases(decision), answer) => self.aliases_answered(*decision, answer),
            (MigrationPhase::Write(decision, _), Answer::Migration(WriteResult::Recorded)) => {
                self.approved(*decision, Verdict::Approved)
            }
            (
                MigrationPhase::Write(decision, _),
                Answer::Migration(WriteResult::AlreadyRecorded),
            ) => {
                self.note("The ledger already recorded this migration: approved again.");
                self.approved(*decision, Verdict::ApprovedAgain)
            }
            (
                MigrationPhase::Write(decision, new_username),
                Answer::Migration(WriteResult::Conflict),
            ) => {
                let Some(approval) = &decision.approval else {
                    return self.done(Verdict::Refused, Some(ReasonCode::LedgerConflict));
                };
                self.note("The ledger changed meanwhile: it is read again.");
                self.ask(Request::LedgerRecord {
                    legacy_username: approval.legacy_username.clone(),
                });
                Phase::Migration(MigrationPhase::Reread(decision, new_username))
            }
            (MigrationPhase::Write(..), _) => {
                self.note("The migration could not be recorded: refused.");
                self.done(Verdict::Refused, Some(ReasonCode::LedgerUnavailable))
            }
            (MigrationPhase::Reread(decision, new_username), Answer::Record(Some(entry))) if matches!(&entry.state, MigrationState::Approved { new_username: recorded, .. } if *recorded == new_username) =>
            {
                // A concurrent invocation of the same sign-in (Cognito retrying, or a double
                // submit) recorded this very migration first: that is an approval too.
                self.note("A concurrent invocation recorded this very migration first: approved.");
                self.approved(*decision, Verdict::ApprovedAgain)
            }
            (MigrationPhase::Live(recorded), Answer::LegacyUser(Some(live)))
                if live.username == recorded.user.username =>
            {
                self.decide_live(*recorded, live)
            }
            (MigrationPhase::Live(recorded), Answer::LegacyUser(_)) => {
                self.note(format!(
                    "The legacy pool no longer has `{}`: refused.",
                    recorded.user.username
                ));
                self.done(Verdict::Refused, Some(ReasonCode::NoCandidates))
            }
            (MigrationPhase::Reread(..), _) => {
                self.note("Another sign-in recorded this user, or claimed this new username, first: refused.");
                self.done(Verdict::Refused, Some(ReasonCode::LedgerConflict))
            }
            (MigrationPhase::ExactUser | MigrationPhase::Live(_), _) => {
                self.note("The legacy pool did not answer: refused.");
                self.done(Verdict::Refused, Some(ReasonCode::LegacyUnavailable))
            }
        }
    }

    /// Decides again on the legacy user as the legacy pool has it now.
    fn decide_live(&mut self, recorded: LedgerEntry, live: LegacyUser) -> Phase<'a> {
        self.note("Before approving, the legacy pool was asked for the user as it is now (the index may be stale); the decision is made again on its answer:");
        let entry = LedgerEntry {
            user: live,
            ..recorded
        };
        let mut machine = SignInMigration::new(self.event, vec![entry], self.context.config);
        // The password was checked already: its outcome counts again.
        if let Step::CheckPassword { username } = machine.next_step() {
            let outcome = self
                .matched
                .iter()
                .find(|(name, _)| name == username)
                .map_or(PasswordOutcome::WrongPassword, |(_, o)| o.clone());
            machine.record(outcome);
        }
        self.decide(machine)
    }

    /// Refuses a migration whose alias values another new-pool user holds; records it
    /// otherwise.
    fn aliases_answered(&mut self, decision: Decision, answer: Answer) -> Phase<'a> {
        let Answer::NewPoolUsers(holders) = answer else {
            // Cognito itself refuses a taken alias (forceAliasCreation is false): the check
            // only spares the ledger an approval Cognito would not carry out.
            self.note("The new pool could not say who holds these alias values; Cognito itself refuses a taken one.");
            return self.record(decision);
        };
        let config = self.context.config;
        let taken = decision.approval.as_ref().is_some_and(|approval| {
            let aliases =
                active_aliases(&config.new_pool_alias_attributes, &approval.user_attributes);
            let usernames = username_values(config, &approval.user_attributes);
            let same = |a: &str, b: &str| {
                canonical_username(a).is_ok_and(|a| canonical_username(b).is_ok_and(|b| a == b))
            };
            holders.iter().any(|holder| {
                holds_alias(holder, &approval.new_username, &aliases)
                    || usernames.iter().any(|(name, value)| {
                        holder.attribute(name).is_some_and(|held| same(held, value))
                    })
            })
        });
        if taken {
            self.note("Another user of the new pool holds one of these alias values: Cognito would refuse the migration, so it is refused here.");
            return self.done(Verdict::Refused, Some(ReasonCode::AliasTaken));
        }
        self.note("No other user of the new pool holds these alias values.");
        self.record(decision)
    }

    /// Runs the sign-in state machine over the candidates.
    pub(super) fn check(&mut self, found: Vec<LedgerEntry>) -> Phase<'a> {
        self.set_candidates(found);
        let machine =
            SignInMigration::new(self.event, self.candidates.clone(), self.context.config);
        self.advance(Box::new(machine))
    }

    fn advance(&mut self, mut machine: Box<SignInMigration<'a>>) -> Phase<'a> {
        loop {
            let Step::CheckPassword { username } = machine.next_step() else {
                return self.decide(*machine);
            };
            if self.event.password().is_none() {
                machine.record(PasswordOutcome::WrongPassword);
                continue;
            }
            let username = username.to_owned();
            self.ask(Request::CheckPassword { username });
            return Phase::Migration(MigrationPhase::Checking(machine));
        }
    }

    fn decide(&mut self, machine: SignInMigration<'a>) -> Phase<'a> {
        let decision = machine.finish();
        self.trace.extend(decision.trace.iter().cloned());
        let Some(approval) = &decision.approval else {
            if decision.refusal == Some(ReasonCode::Ambiguous) {
                let forgot = self.event.source() == &TriggerSource::UserMigrationForgotPassword;
                let legacy_usernames: Vec<String> = self
                    .candidates
                    .iter()
                    .filter(|e| refusal_is_recordable(&e.state))
                    .filter(|e| forgot || self.matched.iter().any(|(n, _)| *n == e.user.username))
                    .map(|e| e.user.username.clone())
                    .collect();
                if !legacy_usernames.is_empty() {
                    self.ask(Request::RecordRefusal {
                        legacy_usernames,
                        reason: ReasonCode::Ambiguous,
                        at_ms: self.context.now_ms,
                    });
                    return Phase::Migration(MigrationPhase::Refusal(Box::new(decision)));
                }
            }
            return self.refused(decision);
        };
        // The index may be stale: the legacy pool is asked whether the user still exists, is
        // enabled, still holds the identifier typed (verified), and with which attributes,
        // before the index's word is taken for it. A forgot-password request proves nothing but
        // a mailbox or a phone; a password proves the user, not what it held at index time.
        if !self.live_checked {
            self.live_checked = true;
            let Some(recorded) = self
                .candidates
                .iter()
                .find(|e| e.user.username == approval.legacy_username)
                .cloned()
            else {
                return self.done(Verdict::Refused, Some(ReasonCode::NoCandidates));
            };
            self.ask(Request::LegacyUser {
                username: recorded.user.username.clone(),
            });
            return Phase::Migration(MigrationPhase::Live(Box::new(recorded)));
        }
        let keys = sign_in_keys(self.context.config, approval, self.event.user_name());
        if !keys.is_empty() {
            self.ask(Request::LedgerCandidates { keys });
            return Phase::Migration(MigrationPhase::AliasOwners(Box::new(decision)));
        }
        self.check_alias_holders(decision)
    }

    /// Vets the values the response signs the new user in with, but the one typed (the
    /// candidates were ranked on it), against every legacy user the ledger files under them,
    /// ranked as the legacy pool ranked them (a username, then a verified value, then an
    /// unverified one): a value another legacy user holds more strongly is left out, or, when
    /// it is the name recorded, the migration is refused. The case-insensitive pool would
    /// otherwise sign that user's identifier in as this one.
    fn aliases_owned(&mut self, mut decision: Decision, answer: Answer) -> Phase<'a> {
        let (Answer::Records(found), Some(approval)) = (answer, decision.approval.as_mut()) else {
            self.note("The ledger could not say who else holds these values: refused.");
            return self.done(Verdict::Refused, Some(ReasonCode::LedgerUnavailable));
        };
        let legacy = &self.context.config.legacy_sign_in;
        let mine = LegacyUser::new(&approval.legacy_username, approval.user_attributes.clone());
        let typed = match_key(self.event.user_name());
        let recorded = match_key(&approval.new_username);
        for (name, value) in sign_in_values(self.context.config, &approval.user_attributes) {
            let key = match_key(&value);
            if key == typed {
                continue;
            }
            let strength = holds(&mine, &key, legacy);
            let stronger = found.iter().any(|entry| {
                entry.user.username != approval.legacy_username
                    && holds(&entry.user, &key, legacy) > strength
            });
            if !stronger {
                continue;
            }
            if key == recorded {
                self.note(format!(
                    "Another legacy user holds `{value}` more strongly: refused."
                ));
                return self.done(Verdict::Refused, Some(ReasonCode::IdentifierOwned));
            }
            self.note(format!(
                "Another legacy user holds the {name} `{value}` more strongly: it is left out."
            ));
            let mut response = decision.response["response"]["userAttributes"].as_object_mut();
            for attribute in [name.clone(), format!("{name}_verified")] {
                approval.user_attributes.remove(&attribute);
                if let Some(attributes) = &mut response {
                    attributes.remove(&attribute);
                }
            }
        }
        self.check_alias_holders(decision)
    }

    /// Asks the new pool who holds the response's active alias values, if any.
    fn check_alias_holders(&mut self, decision: Decision) -> Phase<'a> {
        let Some(approval) = &decision.approval else {
            return self.refused(decision);
        };
        let aliases = sign_in_values(self.context.config, &approval.user_attributes);
        if let Some(user_pool_id) = self.pool_id()
            && !aliases.is_empty()
        {
            self.ask(Request::AliasHolders {
                user_pool_id,
                aliases,
            });
            return Phase::Migration(MigrationPhase::Aliases(Box::new(decision)));
        }
        self.record(decision)
    }

    /// Records the approval: the ledger claims the new username for this legacy user.
    fn record(&mut self, decision: Decision) -> Phase<'a> {
        let Some(approval) = &decision.approval else {
            return self.refused(decision);
        };
        let new_username = approval.new_username.clone();
        self.ask(Request::RecordMigration {
            legacy_username: approval.legacy_username.clone(),
            new_username: new_username.clone(),
            at_ms: self.context.now_ms,
        });
        Phase::Migration(MigrationPhase::Write(Box::new(decision), new_username))
    }

    fn refused(&mut self, decision: Decision) -> Phase<'a> {
        let reason = decision.refusal.unwrap_or(ReasonCode::WrongPassword);
        let mut outcome = Outcome::new(Verdict::Refused, Some(reason), Ok(decision.response));
        outcome.approval = None;
        self.finish_with(outcome)
    }

    fn approved(&mut self, decision: Decision, verdict: Verdict) -> Phase<'a> {
        let mut outcome = Outcome::new(verdict, None, Ok(decision.response));
        outcome.approval = decision.approval;
        self.finish_with(outcome)
    }
}

/// Where e-mail or phone is the username, each value the response sets signs its user in,
/// verified or not, and belongs to one user only: Cognito refuses a migration that repeats one.
fn username_values(
    config: &MigrationConfig,
    attributes: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    config
        .new_pool_username_attributes
        .iter()
        .filter_map(|name| Some((name.clone(), attributes.get(name)?.clone())))
        .collect()
}

/// The values the response signs the new user in with: its active aliases and username
/// attributes.
fn sign_in_values(
    config: &MigrationConfig,
    attributes: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    let mut values = active_aliases(&config.new_pool_alias_attributes, attributes);
    values.extend(username_values(config, attributes));
    values
}

/// The distinct match keys of [`sign_in_values`] of an approval, but `typed`.
fn sign_in_keys(config: &MigrationConfig, approval: &Approval, typed: &str) -> Vec<MatchKey> {
    let typed = match_key(typed);
    let mut keys: Vec<MatchKey> = Vec::new();
    for (_, value) in sign_in_values(config, &approval.user_attributes) {
        let key = match_key(&value);
        if !key.is_empty() && key != typed && !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// How strongly `user` holds an identifier under `key`: 3 as its username, 2 verified, 1 as a
/// name the legacy pool signed in with unverified, 0 not at all.
fn holds(user: &LegacyUser, key: &MatchKey, legacy: &LegacySignIn) -> u8 {
    if match_key(&user.username) == *key {
        return 3;
    }
    match proof_of(user, key, legacy) {
        Proof::Verified => 2,
        Proof::Unverified => 1,
        Proof::None => 0,
    }
}
