use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::{Cli, exit};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: CompletionsArgs) -> anyhow::Result<u8> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "cocktail-pkg", &mut std::io::stdout());
    Ok(exit::OK)
}
