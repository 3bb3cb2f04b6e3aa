//! File references (`References/File ovf:href`, manifest names, tar member
//! names) are untrusted. [`check`] accepts only a plain relative path inside
//! the package and returns it normalised; everything else is a
//! [`FileProblemKind`] and is never opened.
use crate::model::FileProblemKind;

/// Longest accepted reference, in bytes.
pub const MAX_HREF_LEN: usize = 4096;

/// Normalise `href` to a relative `a/b` path inside the package, or say why
/// it is refused. `./` components are dropped; percent-encoding is decoded
/// for the check so `%2e%2e/` is caught as well.
pub fn check(href: &str) -> Result<String, FileProblemKind> {
    let normalized = check_raw(href)?;
    if href.contains('%') {
        let decoded = percent_decode(href).ok_or(FileProblemKind::BadCharacter)?;
        check_raw(&decoded)?;
    }
    Ok(normalized)
}

fn check_raw(href: &str) -> Result<String, FileProblemKind> {
    let href = href.trim();
    if href.is_empty() {
        return Err(FileProblemKind::Empty);
    }
    if href.len() > MAX_HREF_LEN || href.chars().any(|c| c == '\\' || c.is_control()) {
        return Err(FileProblemKind::BadCharacter);
    }
    let bytes = href.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err(FileProblemKind::AbsolutePath);
    }
    if href.starts_with('/') {
        return Err(FileProblemKind::AbsolutePath);
    }
    if has_scheme(href) {
        return Err(FileProblemKind::Url);
    }
    let mut parts = Vec::new();
    for part in href.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(FileProblemKind::ParentTraversal),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(FileProblemKind::Empty);
    }
    Ok(parts.join("/"))
}

/// `scheme:` per RFC 3986: a letter, then letters, digits, `+`, `-`, `.`, then `:`.
fn has_scheme(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use FileProblemKind::*;

    #[test]
    fn href_table() {
        let table: &[(&str, Result<&str, FileProblemKind>)] = &[
            ("disk1.vmdk", Ok("disk1.vmdk")),
            ("./disk1.vmdk", Ok("disk1.vmdk")),
            ("sub/disk1.vmdk", Ok("sub/disk1.vmdk")),
            ("sub//./disk1.vmdk", Ok("sub/disk1.vmdk")),
            ("my disk 1.vmdk", Ok("my disk 1.vmdk")),
            ("", Err(Empty)),
            ("  ", Err(Empty)),
            ("./", Err(Empty)),
            ("../etc/passwd", Err(ParentTraversal)),
            ("sub/../../x.vmdk", Err(ParentTraversal)),
            ("sub/..", Err(ParentTraversal)),
            ("%2e%2e/x.vmdk", Err(ParentTraversal)),
            ("/etc/shadow", Err(AbsolutePath)),
            ("C:/disk.vmdk", Err(AbsolutePath)),
            ("c:disk.vmdk", Err(AbsolutePath)),
            ("http://example.invalid/disk.vmdk", Err(Url)),
            ("file:///etc/passwd", Err(Url)),
            ("nfs:server/x", Err(Url)),
            ("a\\b.vmdk", Err(BadCharacter)),
            ("..\\x.vmdk", Err(BadCharacter)),
            ("a\0b", Err(BadCharacter)),
            ("a\nb", Err(BadCharacter)),
            ("%zz.vmdk", Err(BadCharacter)),
            ("%2fetc%2fpasswd", Err(AbsolutePath)),
        ];
        for (href, want) in table {
            let got = check(href);
            assert_eq!(got.as_deref().map_err(|e| *e), *want, "href {href:?}");
        }
    }

    #[test]
    fn overlong_href_refused() {
        let long = "a".repeat(MAX_HREF_LEN + 1);
        assert_eq!(check(&long), Err(BadCharacter));
    }
}
