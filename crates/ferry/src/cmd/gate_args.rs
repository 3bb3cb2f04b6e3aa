//! The options that decide which files named inside an image may be opened,
//! shared by `ferry convert`, `ferry info` and `ferry map`, and the error
//! context for an image that cannot be opened.
use std::path::{Path, PathBuf};

use ferry_image::{Gate, OpenOptions};

/// Permission to open files an image names (backing files, extents, a
/// qcow2 external data file).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GateArgs {
    /// Also allow backing files and extents under this directory (by
    /// default only the image's own directory is allowed). Repeatable.
    #[arg(long = "allow-dir", value_name = "DIR")]
    pub allow_dirs: Vec<PathBuf>,
    /// Allow a qcow2 external data file named in the image (refused by
    /// default: the header can name any host file).
    #[arg(long)]
    pub allow_data_file: bool,
}

impl GateArgs {
    /// `opts` with this gate and data-file permission.
    pub fn apply(&self, opts: OpenOptions) -> OpenOptions {
        let gate = self
            .allow_dirs
            .iter()
            .fold(Gate::default(), |g, d| g.allow_dir(d.clone()));
        OpenOptions {
            gate,
            allow_data_file: self.allow_data_file,
            ..opts
        }
    }
}

/// True when the error or one of its causes already names `path`, so a
/// context added above it need not name it again.
pub fn names_path(err: &(dyn std::error::Error + 'static), path: &Path) -> bool {
    let shown = path.display().to_string();
    let mut cur = Some(err);
    while let Some(e) = cur {
        if ferry_image::error::names(&e.to_string(), &shown) {
            return true;
        }
        cur = e.source();
    }
    false
}

/// `what` followed by the path, unless `err` names the path already.
pub fn context_for(err: &(dyn std::error::Error + 'static), what: &str, path: &Path) -> String {
    if names_path(err, path) {
        what.to_string()
    } else {
        format!("{what} {}", path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_names_the_path_only_when_the_error_does_not() {
        let p = Path::new("/d/a.vmdk");
        let named = ferry_image::Error::corrupt("/d/a.vmdk: bad header");
        assert_eq!(context_for(&named, "cannot open", p), "cannot open");
        let bare = ferry_image::Error::corrupt("bad header");
        assert_eq!(
            context_for(&bare, "cannot open", p),
            "cannot open /d/a.vmdk"
        );
    }

    #[test]
    fn apply_sets_the_gate_and_the_data_file_permission() {
        let args = GateArgs {
            allow_dirs: vec![PathBuf::from("/srv/images")],
            allow_data_file: true,
        };
        let opts = args.apply(OpenOptions::default());
        assert!(opts.allow_data_file);
        assert_eq!(
            format!("{:?}", opts.gate),
            format!("{:?}", Gate::default().allow_dir("/srv/images"))
        );
    }
}
