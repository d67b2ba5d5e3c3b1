//! The server's log: lines about the service, never about a respondent.
//!
//! `RUST_LOG` chooses how much is logged, but every library under Anshin is capped at `info`
//! whatever `RUST_LOG` says: at their debug and trace levels actix and its HTTP stack print
//! request details such as body lengths, and the length of a survey form tells how long a
//! comment was or how many items were left unanswered.

use std::io::IsTerminal;

use tracing::{Level, Metadata};
use tracing_subscriber::filter::{EnvFilter, FilterExt};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Anshin's own events pass at any level `RUST_LOG` allows; anything else at `info` at most.
pub fn within_cap(metadata: &Metadata<'_>) -> bool {
    metadata.target().starts_with("anshin") || *metadata.level() <= Level::INFO
}

/// Logs to standard error: `RUST_LOG` (default `info`) under the library cap.
pub fn init() {
    let requested = std::env::var("RUST_LOG")
        .ok()
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let filter = requested.and(tracing_subscriber::filter::filter_fn(within_cap));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                // Colours only for a person at a terminal, not in a file or the journal.
                .with_ansi(std::io::stderr().is_terminal())
                .with_filter(filter),
        )
        .init();
}
