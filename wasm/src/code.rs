//! The stable `code` of each core error. Plain Rust with no JavaScript types, so the native
//! example that writes the key tables includes this file by path and reports the same codes.

use std::fmt::Display;

use cognito_migrate_core::KeyError;
use cognito_migrate_core::event::EventError;
use cognito_migrate_core::user::UserRecordError;

/// A core error's stable code, as JavaScript sees it in `error.code`. Keep the codes in step
/// with the TypeScript `ErrorCode` union in `error.rs`; they are part of the package's API.
pub trait ErrorCode: Display {
    /// The `SCREAMING_SNAKE_CASE` code.
    fn code(&self) -> &'static str;

    /// The JSON path of the field at fault, when the error names one (`error.field`).
    fn field(&self) -> Option<&'static str> {
        None
    }
}

impl ErrorCode for KeyError {
    fn code(&self) -> &'static str {
        match self {
            KeyError::Empty => "EMPTY_IDENTIFIER",
        }
    }
}

impl ErrorCode for EventError {
    fn code(&self) -> &'static str {
        match self {
            EventError::Json(_) => "INVALID_JSON",
            EventError::NotAnObject | EventError::Missing(_) | EventError::WrongType { .. } => {
                "INVALID_EVENT"
            }
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            EventError::Missing(field) | EventError::WrongType { field, .. } => Some(field),
            EventError::Json(_) | EventError::NotAnObject => None,
        }
    }
}

impl ErrorCode for UserRecordError {
    fn code(&self) -> &'static str {
        "INVALID_USER"
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            UserRecordError::NotAnObject => None,
            UserRecordError::MissingUsername => Some("Username"),
            UserRecordError::WrongType(field) => Some(field),
        }
    }
}
