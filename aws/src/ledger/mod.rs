//! The ledger table: the case-insensitive directory of the legacy pool and each user's
//! migration state. Every `DynamoDB` call of the trigger is in this folder:
//!
//! - `item`: the item format below, both ways.
//! - `read`: the candidates of a key, one user's record.
//! - `meta`: the legacy pool's sign-in settings, as `index` recorded them.
//! - `write`: the conditional state changes (migration, refusal, groups copied).
//! - `transact`: running a transaction, and retrying one lost to a counter update.
//! - `counters`: the `ADD` updates that apply a [`CounterDelta`] to the counter items (the
//!   arithmetic is [`cognito_migrate_core::counters`]).
//!
//! The operator's writes (index, recount, finish) are in [`crate::cli::ledger`].
//!
//! # Item format
//!
//! Table key: partition `pk` (S), sort `sk` (S). A legacy user is stored as one item per
//! distinct key of [`directory_keys`](cognito_migrate_core::ledger::directory_keys), so one `Query` on `pk` returns every candidate for a typed
//! identifier:
//!
//! | attribute     | type | content                                                            |
//! |---------------|------|--------------------------------------------------------------------|
//! | `pk`          | S    | `k#` + match key                                                    |
//! | `sk`          | S    | `u#` + legacy username (exact case)                                 |
//! | `user`        | S    | the [`LegacyUser`](cognito_migrate_core::user::LegacyUser) as JSON (serde)                                  |
//! | `state`       | S    | `pending`, `approved`, `migrated`, `refused` or `finished`          |
//! | `newUsername` | S    | approved, migrated: the new pool's username                         |
//! | `newSub`      | S    | migrated: the new pool's `sub`, recorded by post authentication     |
//! | `atMs`        | N    | approved, migrated, refused, finished: when                         |
//! | `reason`      | S    | refused: the [`ReasonCode`](cognito_migrate_core::migrate::ReasonCode)                                         |
//! | `method`      | S    | finished: the [`FinishMethod`](cognito_migrate_core::ledger::FinishMethod) (`csv-import`, `admin-create-user`)  |
//! | `groupsCopied`| BOOL | the user's groups exist in the new pool                             |
//! | `groupsCopiedAtMs` | N | when they were copied                                            |
//! | `keys`        | L(S) | every `pk` of this user, so a state change updates all copies       |
//! | `primary`     | BOOL | true on the item under the username's own key (count users by it)   |
//! | `indexedAtMs` | N    | when the index last wrote the item                                  |
//!
//! State changes update every copy in one `TransactWriteItems` with a condition, so Cognito's
//! retries and concurrent sign-ins never migrate twice or lose an update.
//!
//! A migration also writes, in the same transaction, a claim on the new pool's username: the
//! item `pk` = `n#` + new username, `sk` = `claim`, with `legacyUsername` and `atMs`. It is
//! written only if absent or already held by the same legacy user, so two legacy users of a
//! collision pair signing in at the same moment, each with its own password, are never both
//! recorded as the one user Cognito creates: the second transaction fails and that sign-in is
//! refused. Claims carry no `primary` flag, so scans of the users skip them.

mod counters;
mod item;
mod meta;
mod read;
mod transact;
mod write;

use aws_sdk_dynamodb::Client;
pub use cognito_migrate_core::counters as counter;
pub use cognito_migrate_core::counters::CounterDelta;

pub use counters::counter_updates;
pub use item::{
    CLAIM_SORT_KEY, Item, LedgerRecord, attr, claim_partition_key, entry_to_items, item_to_record,
    own_partition_key, partition_key, sort_key,
};
pub(crate) use item::{STATE_ATTRIBUTES, item_key, n, s};
pub use meta::{LEGACY_POOL_SK, META_PK, SIGN_IN};
pub(crate) use transact::build_error;
pub use write::MigrationWrite;

/// The ledger table.
#[derive(Debug, Clone)]
pub struct Ledger {
    client: Client,
    table: String,
    counters: bool,
}

impl Ledger {
    /// The ledger in `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            counters: false,
        }
    }

    /// The same ledger, keeping (or not) the aggregate [`counter`] items up to date in every
    /// state change. Off by default: a ledger without counter items is what older code and
    /// tools that read every item expect.
    #[must_use]
    pub fn with_counters(mut self, on: bool) -> Self {
        self.counters = on;
        self
    }

    /// True when state changes also update the counters.
    #[must_use]
    pub fn counts(&self) -> bool {
        self.counters
    }

    /// The table name.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The `DynamoDB` client, for the operator calls of [`crate::cli::ledger`].
    #[must_use]
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }
}
