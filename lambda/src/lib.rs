//! The cognito-migrate trigger Lambda and AWS adapter.
