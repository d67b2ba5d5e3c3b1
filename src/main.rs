use clap::Parser;

fn main() {
    let cli = anshin::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    // Every error's message already names its cause, so the chain is not printed again.
    if let Err(error) = anshin::cli::run(cli) {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
