//! wasm-bindgen facade over `cognito-migrate-core`, published as the npm package
//! `cognito-migrate`.
//!
//! No logic lives here: each export converts its input, calls the core and converts the result.
//! One module per concern; adding an export is a function in the module that owns its concern
//! (plus a DTO with a `From<core::…>` impl and its TypeScript type when it returns an object).
//!
//! - [`keys`]: `canonicalUsername`, `matchKey`.
//! - [`info`]: `info`, the package's name and version.
//! - [`code`]: the stable `code` of each core error.
//! - [`error`]: how core errors become JavaScript `Error` objects carrying that `code`.
//! - [`serialize`]: the one serializer every object-returning export uses.

pub mod code;
pub mod error;
pub mod info;
pub mod keys;
pub mod serialize;
