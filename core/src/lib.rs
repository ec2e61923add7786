//! The pure logic of cognito-migrate. **This crate performs no I/O**: it never touches the
//! network, the clock, the environment or files, and it builds for `wasm32-unknown-unknown`.
//!
//! It turns inputs (a trigger event, the legacy users found for an identifier, the outcome of a
//! password check, a policy, the current time where one matters) into decisions returned as
//! data: a response event to return, a refusal with its reason, a plan of groups to create.
//! The Lambda, the CLI and the browser build carry those decisions out.
//!
//! - [`keys`]: [`canonical_username`] and [`match_key`].
//! - [`event`]: trigger events, typed over the original JSON.
//! - [`user`]: legacy user records.
//! - [`attributes`]: mapping legacy attributes to the new pool's schema.
//! - [`policy`]: the knobs an operator sets.
//! - [`migrate`]: the sign-in and forgot-password migration state machine.
//! - [`trigger`]: one invocation of any trigger source, the one decision path the Lambda and
//!   the simulator both drive.
//! - [`reason`]: the closed set of reason codes.
//! - [`settings`]: the trigger's variables, parsed and validated.
//! - [`counters`]: how each state change moves the ledger's counters.
//! - [`signup`]: the pre sign-up guard.
//! - [`groups`]: group plans and the token group override.
//! - [`ledger`]: migration states and ledger records.
//! - [`audit`]: the pre-migration audit report.
//! - [`finish`]: the bulk finish at the end of the window, and CSV import files.
//! - [`simulate`]: what the trigger would answer, with password checks assumed.

#![warn(missing_docs)]

pub mod attributes;
pub mod audit;
pub mod counters;
pub mod event;
pub mod finish;
pub mod groups;
pub mod keys;
pub mod ledger;
pub mod migrate;
pub mod policy;
pub mod reason;
pub mod settings;
pub mod signup;
pub mod simulate;
pub mod trigger;
pub mod user;

pub use keys::{CanonicalUsername, KeyError, MatchKey, canonical_username, match_key};
