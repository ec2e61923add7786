//! The adapter's one error type.
//!
//! It carries the operation and the service's error code, never the service's message: Cognito
//! messages can echo a username, and these errors are logged.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;

/// A failed AWS call, an unreadable answer or ledger item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsError {
    /// The service answered with an error code.
    #[error("{operation}: the service answered {code}")]
    Service {
        /// The SDK operation.
        operation: &'static str,
        /// The error code (`TooManyRequestsException`, ...).
        code: String,
    },
    /// No answer in time.
    #[error("{operation}: timed out")]
    Timeout {
        /// The SDK operation.
        operation: &'static str,
    },
    /// The request could not be built, sent or its answer read.
    #[error("{operation}: {kind}")]
    Transport {
        /// The SDK operation.
        operation: &'static str,
        /// What went wrong, without details from the payload.
        kind: &'static str,
    },
    /// A conditional write lost against another change of the same ledger entry.
    #[error("{operation}: the ledger entry changed concurrently")]
    Conflict {
        /// The SDK operation.
        operation: &'static str,
    },
    /// A ledger item that this code cannot read.
    #[error("malformed ledger item: {0}")]
    MalformedItem(String),
    /// An answer that lacks what the operation needs.
    #[error("{operation}: the answer has {problem}")]
    MalformedAnswer {
        /// The SDK operation.
        operation: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The consumer of a scan stopped taking its pages.
    #[error("the scan's consumer stopped")]
    Stopped,
}

impl AwsError {
    /// Maps an SDK error, keeping only its code.
    pub fn from_sdk<E, R>(operation: &'static str, error: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata,
    {
        match error {
            SdkError::TimeoutError(_) => Self::Timeout { operation },
            SdkError::ConstructionFailure(_) => Self::Transport {
                operation,
                kind: "the request could not be built",
            },
            SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                Self::Timeout { operation }
            }
            SdkError::DispatchFailure(_) => Self::Transport {
                operation,
                kind: "the request could not be sent",
            },
            SdkError::ResponseError(_) => Self::Transport {
                operation,
                kind: "the answer could not be read",
            },
            SdkError::ServiceError(service) => Self::Service {
                operation,
                code: service.err().code().unwrap_or("unknown").to_owned(),
            },
            _ => Self::Transport {
                operation,
                kind: "unknown failure",
            },
        }
    }

    /// The service's error code, when it answered with one.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Service { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Where and what kind of JSON error, never its text: serde's messages quote the values they
/// could not read, and ledger values are usernames, addresses and subs.
#[must_use]
pub fn json_error(error: &serde_json::Error) -> String {
    let kind = match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "wrong shape",
        serde_json::error::Category::Eof => "cut short",
    };
    format!("{kind} at line {}, column {}", error.line(), error.column())
}

#[cfg(test)]
mod json_error_tests {
    use super::*;

    #[test]
    fn json_errors_name_the_place_never_the_value() {
        let error = serde_json::from_str::<u32>("\"secret@private.test\"").unwrap_err();
        let text = json_error(&error);
        assert!(!text.contains("secret"), "{text}");
        assert!(text.starts_with("wrong shape at line 1"), "{text}");
    }
}
