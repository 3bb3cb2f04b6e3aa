//! One module per subcommand.
pub mod completions;
pub mod convert;
pub mod crds;
pub mod info;
pub mod inventory;
pub mod map;
pub mod ova;
pub mod validate;
