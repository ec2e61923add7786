//! The ledger's aggregate counters as arithmetic: which counters a user's state change moves
//! and by how much, where each count is filed (shard, day), and the sums a recount produces.
//! The ledger adapter turns a [`CounterDelta`] into `ADD` updates inside the transaction that
//! changes the user, so the counters never drift from the users.
//!
//! A change always takes one user out of the state it was counted in and puts it into the new
//! one, so counts that started consistent stay consistent and never go negative:
//!
//! ```
//! use cognito_migrate_core::counters::{CounterDelta, Counters, MIGRATED, PENDING, USERS};
//! use cognito_migrate_core::ledger::MigrationState;
//!
//! let mut counters = Counters::default();
//! counters.apply(&CounterDelta::new_user());
//! let migrated = MigrationState::Migrated { new_username: "ana".into(), at_ms: 0, new_sub: None };
//! counters.apply(&CounterDelta::transition(Some(&MigrationState::Pending), &migrated));
//! assert_eq!(counters.total(USERS), 1);
//! assert_eq!(counters.total(PENDING), 0);
//! assert_eq!(counters.total(MIGRATED), 1);
//! assert_eq!(counters.days["1970-01-01"][MIGRATED], 1);
//! ```
//!
//! | `pk`    | `sk`                    | numeric attributes                                   |
//! |---------|-------------------------|------------------------------------------------------|
//! | `stats` | `total#NN`              | `users`, `pending`, `approved`, `migrated`, `refused`, `finished`, `refused_<reason>`, `finished_<method>` |
//! | `stats` | `day#YYYY-MM-DD#NN`     | `migrated`, `finished` that UTC day                   |
//!
//! Each total is the sum over the shards `NN` (`00` to `15`). A user's writes go to the shard
//! of its username, so concurrent sign-ins rarely wait on the same counter item.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ledger::{FinishMethod, MigrationState};

/// The counters' partition.
pub const PK: &str = "stats";
/// How many shards each counter item has.
pub const SHARDS: u32 = 16;
/// Users in the ledger (one per primary item).
pub const USERS: &str = "users";
/// Users in each state.
pub const PENDING: &str = "pending";
/// See [`PENDING`].
pub const APPROVED: &str = "approved";
/// See [`PENDING`].
pub const MIGRATED: &str = "migrated";
/// See [`PENDING`].
pub const REFUSED: &str = "refused";
/// See [`PENDING`].
pub const FINISHED: &str = "finished";

/// The counter of refused users by reason.
#[must_use]
pub fn refused_by(reason: &str) -> String {
    format!("refused_{reason}")
}

/// The counter of finished users by method.
#[must_use]
pub fn finished_by(method: &str) -> String {
    format!("finished_{method}")
}

/// The word a finish method is stored and counted under (`csv-import`, `admin-create-user`),
/// the same as its serde name.
#[must_use]
pub fn method_word(method: FinishMethod) -> &'static str {
    match method {
        FinishMethod::CsvImport => "csv-import",
        FinishMethod::AdminCreateUser => "admin-create-user",
    }
}

/// The sort key of one shard of the totals.
#[must_use]
pub fn total_sk(shard: u32) -> String {
    format!("total#{shard:02}")
}

/// The sort key of one shard of a day's counts.
#[must_use]
pub fn day_sk(day: &str, shard: u32) -> String {
    format!("day#{day}#{shard:02}")
}

/// The shard of a legacy username (FNV-1a, stable across builds).
///
/// ```
/// use cognito_migrate_core::counters::{SHARDS, shard_of};
/// assert_eq!(shard_of("Name@Acme.com"), shard_of("Name@Acme.com"));
/// assert!(shard_of("") < SHARDS);
/// ```
#[must_use]
pub fn shard_of(username: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in username.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash % SHARDS
}

/// The UTC date (`YYYY-MM-DD`) of a time in milliseconds since the Unix epoch.
///
/// ```
/// use cognito_migrate_core::counters::day_of;
/// assert_eq!(day_of(0), "1970-01-01");
/// assert_eq!(day_of(951_782_400_000), "2000-02-29");
/// assert_eq!(day_of(-1), "1969-12-31");
/// ```
#[must_use]
pub fn day_of(at_ms: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = at_ms.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Changes to the counters: totals, and counts per UTC day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterDelta {
    /// Total counter name to change.
    pub totals: BTreeMap<String, i64>,
    /// Day (`YYYY-MM-DD`) to counter name to change.
    pub days: BTreeMap<String, BTreeMap<String, i64>>,
}

impl CounterDelta {
    fn from_totals(pairs: &[(&str, i64)]) -> Self {
        let mut delta = Self::default();
        for (name, by) in pairs {
            delta.add((*name).to_owned(), *by);
        }
        delta
    }

    /// A user new to the ledger, pending.
    #[must_use]
    pub fn new_user() -> Self {
        Self::from_totals(&[(USERS, 1), (PENDING, 1)])
    }

    /// One user entering `state` (its day counted for migrated and finished).
    #[must_use]
    pub fn enter(state: &MigrationState) -> Self {
        let mut delta = Self::default();
        match state {
            MigrationState::Pending => delta.add(PENDING.into(), 1),
            MigrationState::Approved { .. } => delta.add(APPROVED.into(), 1),
            MigrationState::Migrated { at_ms, .. } => {
                delta.add(MIGRATED.into(), 1);
                delta.add_day(&day_of(*at_ms), MIGRATED, 1);
            }
            MigrationState::Refused { reason, .. } => {
                delta.add(REFUSED.into(), 1);
                delta.add(refused_by(reason.as_str()), 1);
            }
            MigrationState::Finished { method, at_ms } => {
                delta.add(FINISHED.into(), 1);
                delta.add(finished_by(method_word(*method)), 1);
                delta.add_day(&day_of(*at_ms), FINISHED, 1);
            }
        }
        delta
    }

    /// One user leaving the state it is stored in; `None` for a user with no item yet (found
    /// by the exact fallback lookup), which joins the users instead.
    #[must_use]
    pub fn leave(from: Option<&MigrationState>) -> Self {
        match from {
            None => Self::from_totals(&[(USERS, 1)]),
            Some(state) => Self::enter(state).negated(),
        }
    }

    /// One user moving from `from` (see [`Self::leave`]) to `to`. Refused to refused with the
    /// same reason changes nothing; with another reason it moves one user between reasons.
    #[must_use]
    pub fn transition(from: Option<&MigrationState>, to: &MigrationState) -> Self {
        let mut delta = Self::leave(from);
        delta.merge(&Self::enter(to));
        delta
    }

    /// The opposite change. A user leaving a state keeps its day counts: they record what
    /// happened that day.
    #[must_use]
    pub fn negated(&self) -> Self {
        Self {
            totals: self.totals.iter().map(|(k, v)| (k.clone(), -v)).collect(),
            days: BTreeMap::new(),
        }
    }

    /// Adds `by` to one total.
    pub fn add(&mut self, name: String, by: i64) {
        *self.totals.entry(name).or_insert(0) += by;
    }

    /// Adds `by` to one day's counter.
    pub fn add_day(&mut self, day: &str, name: &str, by: i64) {
        *self
            .days
            .entry(day.to_owned())
            .or_default()
            .entry(name.to_owned())
            .or_insert(0) += by;
    }

    /// Adds another delta to this one.
    pub fn merge(&mut self, other: &Self) {
        for (name, by) in &other.totals {
            self.add(name.clone(), *by);
        }
        for (day, counts) in &other.days {
            for (name, by) in counts {
                self.add_day(day, name, *by);
            }
        }
    }

    /// True when nothing changes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.totals.values().all(|v| *v == 0)
            && self.days.values().all(|c| c.values().all(|v| *v == 0))
    }
}

/// The counters as stored: totals summed over the shards, and per-day counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Counter name to value (`users`, `pending`, `refused_ambiguous`, ...).
    pub totals: BTreeMap<String, i64>,
    /// Day (`YYYY-MM-DD`, UTC) to counter name to value.
    pub days: BTreeMap<String, BTreeMap<String, i64>>,
    /// Counter items read (or written, after a recount).
    pub items: usize,
}

impl Counters {
    /// One total, 0 when absent.
    #[must_use]
    pub fn total(&self, name: &str) -> i64 {
        self.totals.get(name).copied().unwrap_or(0)
    }

    /// Adds a delta.
    pub fn apply(&mut self, delta: &CounterDelta) {
        for (name, by) in &delta.totals {
            *self.totals.entry(name.clone()).or_insert(0) += by;
        }
        for (day, counts) in &delta.days {
            let into = self.days.entry(day.clone()).or_default();
            for (name, by) in counts {
                *into.entry(name.clone()).or_insert(0) += by;
            }
        }
    }

    /// The counters of a set of users, one state each, as a recount computes them. Zero totals
    /// are left out, except `users`.
    #[must_use]
    pub fn of_states<'a>(states: impl IntoIterator<Item = &'a MigrationState>) -> Self {
        let mut counters = Self::default();
        for state in states {
            let mut delta = CounterDelta::enter(state);
            delta.add(USERS.into(), 1);
            counters.apply(&delta);
        }
        counters
            .totals
            .retain(|name, value| *value != 0 || name == USERS);
        counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::ReasonCode;

    const DAY_MS: i64 = 1_764_201_600_000; // 2025-11-27T00:00:00Z

    fn migrated(at_ms: i64) -> MigrationState {
        MigrationState::Migrated {
            new_username: "ana".into(),
            at_ms,
            new_sub: None,
        }
    }

    fn refused(reason: ReasonCode) -> MigrationState {
        MigrationState::Refused { reason, at_ms: 1 }
    }

    fn finished(method: FinishMethod, at_ms: i64) -> MigrationState {
        MigrationState::Finished { method, at_ms }
    }

    #[test]
    fn counts_users_by_state_reason_method_and_day() {
        let states = [
            MigrationState::Pending,
            migrated(DAY_MS + 5),
            MigrationState::Refused {
                reason: ReasonCode::Ambiguous,
                at_ms: DAY_MS,
            },
            finished(FinishMethod::AdminCreateUser, DAY_MS - 1),
        ];
        let counters = Counters::of_states(&states);
        assert_eq!(counters.total(USERS), 4);
        assert_eq!(counters.total(PENDING), 1);
        assert_eq!(counters.total(MIGRATED), 1);
        assert_eq!(counters.total("refused_ambiguous"), 1);
        assert_eq!(counters.total("finished_admin-create-user"), 1);
        assert_eq!(counters.days["2025-11-27"][MIGRATED], 1);
        assert_eq!(counters.days["2025-11-26"][FINISHED], 1);
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(951_782_400_000), "2000-02-29");
    }

    #[test]
    fn a_recount_keeps_the_user_total_and_drops_other_zeros() {
        let none = Counters::of_states([]);
        assert!(none.totals.is_empty() && none.days.is_empty());
        assert_eq!(none.total(USERS), 0);
        let one = Counters::of_states([&MigrationState::Pending]);
        assert_eq!(
            one.totals,
            BTreeMap::from([(PENDING.to_owned(), 1), (USERS.to_owned(), 1)])
        );
    }

    #[test]
    fn a_user_found_without_an_item_joins_the_users_as_it_migrates() {
        let delta = CounterDelta::transition(None, &migrated(DAY_MS));
        assert_eq!(
            delta.totals,
            BTreeMap::from([(USERS.to_owned(), 1), (MIGRATED.to_owned(), 1)])
        );
        assert_eq!(delta.days["2025-11-27"][MIGRATED], 1);
    }

    #[test]
    fn a_refusal_with_the_same_reason_changes_nothing() {
        let same = CounterDelta::transition(
            Some(&refused(ReasonCode::Ambiguous)),
            &refused(ReasonCode::Ambiguous),
        );
        assert!(same.is_empty(), "{same:?}");
        let other = CounterDelta::transition(
            Some(&refused(ReasonCode::WrongPassword)),
            &refused(ReasonCode::Ambiguous),
        );
        assert!(!other.is_empty());
        assert_eq!(other.totals[REFUSED], 0);
        assert_eq!(other.totals["refused_ambiguous"], 1);
        assert_eq!(
            other.totals[&refused_by(ReasonCode::WrongPassword.as_str())],
            -1
        );
    }

    #[test]
    fn leaving_a_state_keeps_the_day_it_happened() {
        let delta = CounterDelta::transition(
            Some(&finished(FinishMethod::CsvImport, DAY_MS)),
            &MigrationState::Pending,
        );
        assert!(delta.days.is_empty());
        assert_eq!(delta.totals[FINISHED], -1);
        assert_eq!(delta.totals["finished_csv-import"], -1);
        assert_eq!(delta.totals[PENDING], 1);
    }

    #[test]
    fn transitions_from_consistent_counts_never_go_negative_and_match_a_recount() {
        let states = [
            MigrationState::Pending,
            migrated(DAY_MS),
            refused(ReasonCode::Ambiguous),
            refused(ReasonCode::Disabled),
            finished(FinishMethod::CsvImport, DAY_MS + 86_400_000),
            finished(FinishMethod::AdminCreateUser, DAY_MS),
        ];
        // Every user walks through every sequence of two changes from pending.
        for first in &states {
            for second in &states {
                let mut counters = Counters::default();
                counters.apply(&CounterDelta::new_user());
                let mut current = MigrationState::Pending;
                for next in [first, second] {
                    counters.apply(&CounterDelta::transition(Some(&current), next));
                    current = next.clone();
                }
                assert!(
                    counters.totals.values().all(|v| *v >= 0),
                    "{first:?} then {second:?}: {counters:?}"
                );
                let recount = Counters::of_states([&current]);
                for (name, value) in &recount.totals {
                    assert_eq!(
                        counters.total(name),
                        *value,
                        "{name} after {first:?}, {second:?}"
                    );
                }
                counters.totals.retain(|_, v| *v != 0);
                for name in counters.totals.keys() {
                    assert!(recount.totals.contains_key(name), "{name}");
                }
            }
        }
    }

    #[test]
    fn usernames_spread_over_every_shard() {
        let shards: std::collections::BTreeSet<u32> =
            (0..400).map(|i| shard_of(&format!("user{i}"))).collect();
        assert_eq!(shards.len(), SHARDS as usize);
        assert_eq!(total_sk(3), "total#03");
        assert_eq!(day_sk("2025-11-27", 12), "day#2025-11-27#12");
    }

    #[test]
    fn method_words_are_the_serde_names() {
        for method in [FinishMethod::CsvImport, FinishMethod::AdminCreateUser] {
            assert_eq!(serde_json::to_value(method).unwrap(), method_word(method));
        }
    }
}
