//! Post authentication: the first sign-in of a migrated user confirms its approval (the ledger
//! records it `migrated`, with the new pool's `sub`), and its legacy groups are copied into the
//! new pool, all of them, once. A failure leaves the sign-in alone; the next sign-in tries
//! again.

use super::{Answer, Invocation, Request, Verdict};
use crate::groups::{GroupSpec, plan_groups};
use crate::ledger::{LedgerEntry, MigrationState};
use crate::reason::ReasonCode;

/// Where the copy stands.
#[derive(Debug)]
pub(super) enum Phase {
    /// Waiting for the ledger record.
    Record,
    /// Waiting for the confirmation of the approval.
    Confirm(Box<LedgerEntry>),
    /// Waiting for the legacy groups.
    LegacyGroups { legacy_username: String },
    /// Waiting for the new pool's groups.
    NewPoolGroups {
        legacy_username: String,
        legacy: Vec<GroupSpec>,
    },
    /// Waiting for the plan to be carried out.
    Apply { legacy_username: String },
    /// Waiting for the ledger mark.
    Mark,
}

impl<'a> Invocation<'a> {
    pub(super) fn post_authentication(&mut self, phase: Phase, answer: Answer) -> super::Phase<'a> {
        match (phase, answer) {
            (Phase::Record, answer) => {
                let entry = match self.legacy_record(answer) {
                    Ok(entry) => entry,
                    Err(phase) => return phase,
                };
                if let MigrationState::Approved { new_username, .. } = &entry.state {
                    self.note(
                        "The new-pool user signed in: its approval is confirmed, with its new sub.",
                    );
                    self.ask(Request::ConfirmMigration {
                        legacy_username: entry.user.username.clone(),
                        new_username: new_username.clone(),
                        new_sub: self.event.user_attributes().get("sub").cloned(),
                        at_ms: self.context.now_ms,
                    });
                    return super::Phase::PostAuthentication(Phase::Confirm(Box::new(entry)));
                }
                self.copy_groups(entry)
            }
            (Phase::Confirm(entry), answer) => {
                if answer != Answer::Done {
                    self.note(
                        "The approval could not be confirmed now; the next sign-in tries again.",
                    );
                }
                self.copy_groups(*entry)
            }
            (Phase::LegacyGroups { legacy_username }, Answer::LegacyGroups(legacy)) => {
                let Some(user_pool_id) = self.pool_id() else {
                    return self.not_copied();
                };
                if legacy.is_empty() {
                    self.note("The legacy user is in no group.");
                    return self.mark(legacy_username);
                }
                self.ask(Request::NewPoolGroups {
                    user_pool_id,
                    username: self.event.user_name().to_owned(),
                });
                super::Phase::PostAuthentication(Phase::NewPoolGroups {
                    legacy_username,
                    legacy,
                })
            }
            (
                Phase::NewPoolGroups {
                    legacy_username,
                    legacy,
                },
                Answer::NewPoolGroups {
                    existing,
                    memberships,
                },
            ) => {
                let Some(user_pool_id) = self.pool_id() else {
                    return self.not_copied();
                };
                let plan = plan_groups(&legacy, &existing, &memberships);
                self.note(format!(
                    "Copy {} legacy group(s): create {}, add the user to {}.",
                    legacy.len(),
                    plan.create.len(),
                    plan.add.len()
                ));
                self.group_plan = Some(plan.clone());
                if plan.is_empty() {
                    return self.mark(legacy_username);
                }
                // The new pool's username, not the legacy one: in an email-as-username pool it
                // is a generated id.
                self.ask(Request::ApplyGroups {
                    user_pool_id,
                    username: self.event.user_name().to_owned(),
                    plan,
                });
                super::Phase::PostAuthentication(Phase::Apply { legacy_username })
            }
            (Phase::Apply { legacy_username }, Answer::Done) => self.mark(legacy_username),
            (Phase::Mark, Answer::Done) => {
                self.note("The groups are copied; the next tokens carry them.");
                self.done(Verdict::GroupsCopied, None)
            }
            _ => self.not_copied(),
        }
    }

    fn copy_groups(&mut self, entry: LedgerEntry) -> super::Phase<'a> {
        if entry.groups_copied {
            self.note("The groups were copied at an earlier sign-in.");
            return self.done(Verdict::Unchanged, Some(ReasonCode::GroupsAlreadyCopied));
        }
        if self.pool_id().is_none() {
            self.note("Neither the configuration nor the event names the new pool.");
            return self.done(Verdict::Unchanged, Some(ReasonCode::NoUserPoolId));
        }
        let legacy_username = entry.user.username;
        self.ask(Request::LegacyGroups {
            legacy_username: legacy_username.clone(),
        });
        super::Phase::PostAuthentication(Phase::LegacyGroups { legacy_username })
    }

    pub(super) fn pool_id(&self) -> Option<String> {
        self.context
            .new_user_pool_id
            .or(self.event.user_pool_id())
            .map(str::to_owned)
    }

    fn mark(&mut self, legacy_username: String) -> super::Phase<'a> {
        self.ask(Request::MarkGroupsCopied {
            legacy_username,
            at_ms: self.context.now_ms,
        });
        super::Phase::PostAuthentication(Phase::Mark)
    }

    fn not_copied(&mut self) -> super::Phase<'a> {
        self.note("The groups could not be copied now; the next sign-in tries again.");
        self.done(Verdict::Unchanged, Some(ReasonCode::GroupsNotCopied))
    }
}
