//! The cognito-migrate trigger Lambda and the AWS adapter it shares with the CLI.
//!
//! Every AWS SDK call lives in a file named for the resource it acts on, because
//! `scripts/check_iam.py` derives the trigger role's permissions from the code by file:
//! [`legacy`] (the legacy pool), [`new_pool`] (the new pool), [`ledger`] (the ledger table),
//! [`legacy_role`] (STS credentials for the legacy pool) and, for operator-only calls that are
//! not the function's permissions, [`cli_legacy_scan`].

pub mod error;
pub mod ledger;

pub use error::AwsError;
