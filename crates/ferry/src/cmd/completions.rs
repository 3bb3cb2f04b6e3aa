//! `ferry completions SHELL`: print a completion script.
use clap_complete::Shell;

/// Arguments of `ferry completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell: bash, zsh, fish, elvish or powershell.
    pub shell: Shell,
}

/// Write the script for `args.shell` to standard output.
pub fn run(args: Args, command: &mut clap::Command) -> anyhow::Result<()> {
    clap_complete::generate(args.shell, command, "ferry", &mut std::io::stdout());
    Ok(())
}
