use clap::Parser;

fn main() {
    let cli = anshin::cli::Cli::parse();
    anshin::logging::init();
    // Every error's message already names its cause, so the chain is not printed again.
    if let Err(error) = anshin::cli::run(cli) {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
