//! The `cocktail-pkg` binary: parse arguments, run, map the outcome to an exit code.

/// mimalloc: a render allocates many small values on several threads, which glibc malloc
/// handles about 25% slower (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cocktail_pkg::render::grow_main_stack();
    cocktail_pkg::cli::main()
}
