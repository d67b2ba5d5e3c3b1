use clap::Parser;

/// mimalloc instead of glibc's malloc: its thread-local free lists make the many small
/// allocations of a request (headers, the form's pairs, the answers, the log line) cheaper;
/// malloc and free were 12% of a submission's instructions (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = anshin::cli::Cli::parse();
    anshin::logging::init();
    // Every error's message already names its cause, so the chain is not printed again.
    if let Err(error) = anshin::cli::run(cli) {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
