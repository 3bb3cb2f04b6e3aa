//! ferry-image: bytes ([`Storage`]) and the disk image formats read from them
//! ([`Image`]). A format answers "where does guest range R live"; the copy
//! engine (`ferry-copy`) asks for extents and moves only data.
pub mod error;
pub mod foreign;
pub mod formats;
pub mod gate;
pub mod image;
pub mod open;
pub mod storage;
pub mod wrap;

pub use error::{Error, ErrorKind, Result};
pub use formats::Format;
pub use formats::raw::RawImage;
pub use gate::{Gate, NamedOpener};
pub use image::{Extent, ExtentKind, Image, ImageInfo};
pub use open::{OpenOptions, open_image, open_storage, probe};
pub use storage::{FileStorage, Storage};
