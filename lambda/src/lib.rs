//! The cognito-migrate trigger Lambda: the function Cognito invokes for `UserMigration`,
//! `PreSignUp`, `PostAuthentication` and `PreTokenGeneration`.
//!
//! - [`handler`]: the trigger itself, [`handler::handle`] over [`handler::Deps`].
//! - [`config`]: the environment, read once and parsed by
//!   [`cognito_migrate_core::settings`].
//! - [`logging`]: structured JSON logs.
//!
//! The function makes no AWS call itself: every call is in the `cognito-migrate-aws` crate
//! ([`cognito_migrate_aws`]), which `scripts/check_iam.py` reads to derive the trigger role.

pub mod config;
pub mod handler;
pub mod logging;

pub use config::{Config, ConfigError};
pub use handler::{Deps, TriggerError, handle};
