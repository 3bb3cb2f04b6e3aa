//! One module per subcommand.
pub mod bars;
pub mod completions;
pub mod convert;
pub mod crds;
pub mod embedded;
pub mod host_provider;
pub mod info;
pub mod inventory;
pub mod manifests;
pub mod map;
pub mod migrate;
pub mod ova;
pub mod plan;
pub mod progress;
pub mod serve;
pub mod table;
pub mod validate;
