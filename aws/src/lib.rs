//! The AWS adapter of cognito-migrate: every AWS SDK call of the project, for the trigger and
//! for the operator CLI. The core decides; this crate reads and writes AWS for it.
//!
//! One file per resource, because `scripts/check_iam.py` derives the trigger role's
//! permissions from the code by file, and fails on a `.send()` anywhere outside this crate:
//!
//! - [`legacy_pool`]: the legacy pool (password checks, exact lookups, a user's groups).
//! - [`new_pool`]: the new pool (the group copy).
//! - [`ledger`]: the ledger table (item format, reads, conditional writes, transactions,
//!   counter updates).
//! - [`legacy_role`]: STS credentials for a legacy pool in another account.
//! - [`cli`]: operator-only calls that the trigger role does not grant: the full legacy scan,
//!   index writes, counter reads and recounts, the bulk finish and its CSV import jobs, and
//!   the configuration reads of `doctor`.
//!
//! Shared pieces: [`clients`] (the clients, with the trigger's timeouts and retries, and the
//! one legacy-client builder), [`error`] ([`AwsError`], the one error type), [`sdk_user`] (the
//! one SDK-user to `LegacyUser` mapping), [`retry`] and [`limiter`] (backoff and pacing of the
//! long operator runs).

pub mod cli;
pub mod clients;
pub mod error;
pub mod ledger;
pub mod legacy_pool;
pub mod legacy_role;
pub mod limiter;
pub mod new_pool;
pub mod retry;
pub mod sdk_user;

pub use clients::Clients;
pub use error::AwsError;
