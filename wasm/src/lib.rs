//! wasm-bindgen facade over `cognito-migrate-core`, published as the npm package
//! `cognito-migrate`.
//!
//! No logic lives here: each export converts its input, calls the core and converts the result.
//! One module per concern; adding an export is a function in the module that owns its concern
//! (plus a DTO with a `From<core::…>` impl and its TypeScript type when it returns an object).
//!
//! Two modules are built from this crate: with only the feature `unicode-tables`, the one for
//! `cognito-migrate` (keys and info: what a sign-in form needs, kept small, carrying the core's
//! Unicode tables); with only `tools`, the one for `cognito-migrate/tools`, which adds the audit
//! and the trigger simulator and borrows the keys of non-ASCII text from the first module
//! (`host_keys`) instead of carrying the tables again. Both features are on by default, so that
//! workspace builds, lints and tests cover everything in one build.
//!
//! - [`keys`]: `canonicalUsername`, `matchKey`.
//! - `event` (tools): `triggerSources`, `buildEvent`, `parseEvent`.
//! - `simulate` (tools): `simulateTrigger`, the trigger simulator.
//! - `audit` (tools): `auditUsers` and the chunked `Auditor`.
//! - `json` (tools): `parseJson`, JSON text with line and column in its errors.
//! - `input` (tools): argument objects, read field by field.
//! - [`info`]: `info`, the package's name and version.
//! - [`code`]: the stable `code` of each core error.
//! - [`error`]: how core errors become JavaScript `Error` objects carrying that `code`.
//! - [`serialize`]: the one serializer every object-returning export uses.

#[cfg(feature = "tools")]
pub mod audit;
pub mod code;
pub mod error;
#[cfg(feature = "tools")]
pub mod event;
#[cfg(all(feature = "tools", not(feature = "unicode-tables")))]
mod host_keys;
pub mod info;
#[cfg(feature = "tools")]
pub mod input;
#[cfg(feature = "tools")]
pub mod json;
pub mod keys;
pub mod serialize;
#[cfg(feature = "tools")]
pub mod simulate;
#[cfg(test)]
mod typescript;

/// Talc instead of the standard library's dlmalloc (see `Cargo.toml`). With `atomics` (threads)
/// the default allocator stays: this one is for single-threaded modules.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
