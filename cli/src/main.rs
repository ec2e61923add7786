//! `cognito-migrate`: the operator tool.

fn main() {}
