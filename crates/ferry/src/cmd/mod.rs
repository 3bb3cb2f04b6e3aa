//! One module per subcommand.
pub mod completions;
