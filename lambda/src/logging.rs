//! Structured JSON logs, one object a line.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The subscriber the trigger logs through, writing JSON lines to `writer`. The filter comes
/// from `RUST_LOG` (default `info`).
pub fn subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(writer)
        .finish()
}

/// Installs [`subscriber`] on standard output for the whole process.
pub fn init() {
    // A second call (tests, embedding) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout));
}
