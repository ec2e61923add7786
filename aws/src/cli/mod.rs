//! Operator-only calls, run by the `cognito-migrate` CLI and never by the trigger, so the
//! trigger role does not grant them (`scripts/check_iam.py` does not read this folder).
//!
//! - [`legacy_scan`]: the full scan of the legacy pool (parallel `ListUsers` chains, groups and
//!   their members, MFA reads).
//! - [`ledger`]: index writes, the parallel ledger scan, counter reads and recounts, the
//!   bulk-finish mark.
//! - [`new_pool`]: creating users in bulk and checking who exists.
//! - [`import_job`]: CSV user import jobs and the upload of their files.
//! - [`doctor`]: the configuration reads of `cognito-migrate doctor`.

pub mod doctor;
pub mod import_job;
pub mod ledger;
pub mod legacy_scan;
pub mod new_pool;
