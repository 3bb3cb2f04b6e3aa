//! One module per subcommand.
pub mod completions;
pub mod convert;
pub mod validate;
