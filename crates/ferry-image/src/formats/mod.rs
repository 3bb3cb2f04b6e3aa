//! Disk image formats, one folder each.
pub mod raw;
