//! Typed models of every `forklift.konveyor.io/v1beta1` kind (Provider,
//! Host, NetworkMap, StorageMap, Plan, Migration, Hook, ForkliftController,
//! Conversion, the volume populators and the provider servers),
//! their conditions and per-VM migration status, plus the KubeVirt
//! VirtualMachine and CDI DataVolume subsets ferry writes.
//!
//! Field names, enums and defaults follow Forklift's CRDs; the schema tests
//! in `tests/` compare ferry's generated CRDs with Forklift's.

mod open_enum;

pub mod condition;
pub mod conversion;
pub mod forklift_controller;
pub mod hook;
pub mod host;
pub mod kubevirt;
pub mod mapping;
pub mod migration;
pub mod phases;
pub mod plan;
pub mod plan_status;
pub mod populator;
pub mod provider;
pub mod provider_server;
pub mod refs;

pub use condition::{Category, Condition, Conditions};
pub use conversion::{Conversion, ConversionSpec, ConversionStatus};
pub use forklift_controller::{
    ForkliftController, ForkliftControllerSpec, ForkliftControllerStatus,
};
pub use hook::{Hook, HookSpec, HookStatus};
pub use host::{Host, HostSpec, HostStatus};
pub use mapping::{
    DestinationNetwork, DestinationStorage, MapStatus, NetworkMap, NetworkMapSpec, NetworkPair,
    NetworkSource, StorageMap, StorageMapSpec, StoragePair,
};
pub use migration::{Migration, MigrationObjStatus, MigrationSpec};
pub use plan::{HookRef, HookStep, MigrationType, Plan, PlanSpec, PlanVm, TargetPowerState};
pub use plan_status::{
    MigrationStatus, PlanStatus, Progress, Step, StepError, Task, VmStatus, Warm,
};
pub use populator::{OpenstackVolumePopulator, OvirtVolumePopulator, VSphereXcopyVolumePopulator};
pub use provider::{Provider, ProviderSpec, ProviderStatus, ProviderType};
pub use provider_server::{HyperVProviderServer, OVAProviderServer};
pub use refs::{ProviderPair, Ref};

/// The core Kubernetes kinds ferry reads and writes beside its own.
pub mod core {
    pub use k8s_openapi::api::core::v1::{
        ConfigMap, Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, Secret,
    };
}

/// The API group.
pub const GROUP: &str = "forklift.konveyor.io";
/// The API version.
pub const VERSION: &str = "v1beta1";
/// `apiVersion` of every forklift kind.
pub const API_VERSION: &str = "forklift.konveyor.io/v1beta1";

/// The kinds ferry serves, in dependency order (all of Forklift's kinds;
/// the last six have no controller in ferry yet).
pub const KINDS: &[&str] = &[
    "Provider",
    "Host",
    "NetworkMap",
    "StorageMap",
    "Hook",
    "Plan",
    "Migration",
    "ForkliftController",
    "Conversion",
    "OvirtVolumePopulator",
    "OpenstackVolumePopulator",
    "VSphereXcopyVolumePopulator",
    "OVAProviderServer",
    "HyperVProviderServer",
];

/// The kinds whose Forklift CRDs have no status subresource.
pub const WITHOUT_STATUS_SUBRESOURCE: &[&str] = &[
    "OvirtVolumePopulator",
    "OpenstackVolumePopulator",
    "VSphereXcopyVolumePopulator",
];
