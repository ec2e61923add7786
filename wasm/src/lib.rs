//! wasm-bindgen facade over `cognito-migrate-core`.
