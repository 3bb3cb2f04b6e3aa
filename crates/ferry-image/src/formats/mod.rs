//! Disk image formats.
pub mod vmdk;
