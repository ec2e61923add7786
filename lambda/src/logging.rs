//! Structured JSON logs, one object a line.
//!
//! The filter comes from `RUST_LOG` (default `info`), but the AWS SDK, the HTTP stack and the
//! Lambda runtime are held at `info` whatever it says: at `debug` and `trace` they log request
//! and response bodies, which carry usernames, e-mail addresses, subs and ledger items.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Directive;
use tracing_subscriber::fmt::MakeWriter;

/// The crates whose logs are capped at `info`: they log payloads below it.
pub const CAPPED_TARGETS: [&str; 22] = [
    "aws_config",
    "aws_credential_types",
    "aws_runtime",
    "aws_sdk_cognitoidentityprovider",
    "aws_sdk_dynamodb",
    "aws_sdk_lambda",
    "aws_sdk_sts",
    "aws_sigv4",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_smithy_json",
    "aws_smithy_observability",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_types",
    "h2",
    "hyper",
    "hyper_util",
    "lambda_runtime",
    "lambda_runtime_api_client",
    "rustls",
    "tower",
];

/// The filter for a `RUST_LOG` value (`None`: unset): what it asks for, with
/// [`CAPPED_TARGETS`] at `info` at most. A value that cannot be read gives `info`.
#[must_use]
pub fn filter(rust_log: Option<&str>) -> EnvFilter {
    let mut filter = rust_log
        .and_then(|text| EnvFilter::try_new(text).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    for target in CAPPED_TARGETS {
        if let Ok(directive) = format!("{target}=info").parse::<Directive>() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// The subscriber the trigger logs through, writing JSON lines to `writer`, filtered by
/// [`filter`] of `RUST_LOG`.
pub fn subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    subscriber_with(writer, filter(std::env::var("RUST_LOG").ok().as_deref()))
}

/// [`subscriber`] with an explicit filter.
pub fn subscriber_with<W>(writer: W, filter: EnvFilter) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}

/// Installs [`subscriber`] on standard output for the whole process.
pub fn init() {
    // A second call (tests, embedding) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_stays_at_info_whatever_rust_log_says() {
        for asked in [
            "trace",
            "debug",
            "aws_smithy_runtime=trace,hyper=trace",
            "nonsense==",
        ] {
            let text = filter(Some(asked)).to_string();
            for target in CAPPED_TARGETS {
                assert!(text.contains(&format!("{target}=info")), "{asked}: {text}");
                assert!(
                    !text.contains(&format!("{target}=trace")),
                    "{asked}: {text}"
                );
            }
        }
        assert!(filter(Some("trace")).to_string().contains("trace"));
        assert!(filter(None).to_string().contains("info"));
    }
}
