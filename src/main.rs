//! The `cocktail-pkg` binary: parse arguments, run, map the outcome to an exit code.

/// mimalloc: rendering allocates many small strings on several threads (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cocktail_pkg::cli::main()
}
