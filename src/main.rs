//! The `cocktail-pkg` binary: parse arguments, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    cocktail_pkg::cli::main()
}
