//! The Cognito trigger function: `cognito-migrate-trigger`.

use std::time::Instant;

use cognito_migrate_lambda::{Deps, handle, logging};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = Instant::now();
    logging::init();
    // Configuration and clients once per container, not per invocation.
    let deps = Deps::from_env().await;
    let ready_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(ready_ms, configured = deps.config().is_some(), "ready");
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // The message is what Cognito shows the client; it is generic by construction.
        handle(deps, event.payload)
            .await
            .map_err(|error| Diagnostic {
                error_type: "TriggerError".to_owned(),
                error_message: error.to_string(),
            })
    }))
    .await
}
