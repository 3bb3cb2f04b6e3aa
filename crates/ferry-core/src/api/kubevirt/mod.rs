//! The subset of KubeVirt (`kubevirt.io/v1` VirtualMachine) and CDI
//! (`cdi.kubevirt.io/v1beta1` DataVolume) that ferry writes. Field names and
//! shapes follow the upstream OpenAPI definitions; the tests validate
//! serialised samples against KubeVirt's and CDI's swagger documents.

pub mod datavolume;
pub mod vm;

pub use datavolume::{DataVolume, DataVolumeSource, DataVolumeSpec, DataVolumeStatus, StorageSpec};
pub use vm::{VirtualMachine, VirtualMachineSpec, VirtualMachineStatus};
