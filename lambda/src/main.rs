//! The Cognito trigger function.

fn main() {}
