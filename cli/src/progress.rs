//! The progress bar: on stderr, and only when stderr is a terminal, so that logs and pipes get
//! the summary line alone.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar counting users, sized by the pool's estimate when known.
#[must_use]
pub fn users_bar(estimate: Option<u64>, verb: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match estimate {
        Some(total) if total > 0 => ProgressBar::new(total),
        _ => ProgressBar::no_length(),
    };
    let template = format!(
        "{{spinner}} {verb} {{human_pos}}/~{{human_len}} users [{{elapsed_precise}}] {{per_sec}} {{msg}}"
    );
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// A spinner for a step without a count.
#[must_use]
pub fn spinner(message: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
