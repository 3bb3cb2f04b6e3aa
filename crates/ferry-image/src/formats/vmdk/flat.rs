//! Flat extents (`FLAT`, and `VMFS` as used by vmfs / vmfsThin descriptors):
//! raw bytes at an offset of a file named by the descriptor, opened through
//! the gate.
use std::path::Path;

use crate::error::{Error, Result};
use crate::gate::Gate;

use super::descriptor::ExtentLine;
use super::header::SECTOR;
use super::image::Backend;

/// Open the flat extent `line` named in the descriptor at `descriptor`.
pub fn open(
    gate: &Gate,
    descriptor: &Path,
    line: &ExtentLine,
    depth: u32,
) -> Result<(Backend, String)> {
    let name = line.file.as_deref().unwrap_or_default();
    let (path, storage) = gate.open(descriptor, name, depth)?;
    let offset = line
        .offset
        .checked_mul(SECTOR)
        .ok_or_else(|| Error::corrupt(format!("the offset of extent {name:?} is out of range")))?;
    let need = line
        .sectors
        .checked_mul(SECTOR)
        .and_then(|l| l.checked_add(offset))
        .ok_or_else(|| Error::corrupt(format!("the size of extent {name:?} is out of range")))?;
    if storage.size() < need {
        return Err(Error::corrupt(format!(
            "the flat extent {} is {} bytes, smaller than the {need} bytes its extent line needs",
            path.display(),
            storage.size()
        )));
    }
    Ok((
        Backend::Flat { storage, offset },
        path.display().to_string(),
    ))
}
