//! The stable `code` of each core error. Plain Rust with no JavaScript types, so the native
//! example that writes the key tables includes this file by path and reports the same codes.

use std::fmt::Display;

use cognito_migrate_core::KeyError;

/// A core error's stable code, as JavaScript sees it in `error.code`. Keep the codes in step
/// with the TypeScript `ErrorCode` union in `error.rs`; they are part of the package's API.
pub trait ErrorCode: Display {
    /// The `SCREAMING_SNAKE_CASE` code.
    fn code(&self) -> &'static str;
}

impl ErrorCode for KeyError {
    fn code(&self) -> &'static str {
        match self {
            KeyError::Empty => "EMPTY_IDENTIFIER",
        }
    }
}
