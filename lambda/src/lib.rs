//! The cognito-migrate trigger Lambda and the AWS adapter it shares with the CLI.
//!
//! - [`handler`]: the trigger itself, [`handler::handle`] over [`handler::Deps`].
//! - [`config`]: environment variables, validated once.
//! - [`clients`]: the AWS clients with the trigger's timeouts and retries.
//! - [`ledger`], [`legacy`], [`new_pool`]: one adapter per resource.
//! - [`cli_legacy_scan`]: the operator's full scan of the legacy pool.
//!
//! Every AWS SDK call lives in a file named for the resource it acts on, because
//! `scripts/check_iam.py` derives the trigger role's permissions from the code by file:
//! `legacy.rs` (the legacy pool), `new_pool.rs` (the new pool), `ledger.rs` (the ledger table),
//! `legacy_role.rs` (STS credentials for the legacy pool) and, for operator-only calls that are
//! not the function's permissions, `cli_legacy_scan.rs`.

pub mod cli_ledger;
pub mod cli_legacy_scan;
pub mod cli_new_pool;
pub mod clients;
pub mod config;
pub mod error;
pub mod handler;
pub mod ledger;
pub mod legacy;
pub mod legacy_role;
pub mod logging;
pub mod new_pool;
pub mod sdk_user;

pub use clients::Clients;
pub use config::{Config, ConfigError};
pub use error::AwsError;
pub use handler::{Deps, TriggerError, handle};
