//! Kubernetes name rules (DNS-1123 label and subdomain) and Forklift's target
//! VM name sanitisation.
//!
//! Resolution of a target VM name follows Forklift's order:
//! 1. `spec.vms[].targetName` (trimmed), used as given;
//! 2. `status.migration.vms[].newName` from a previous run;
//! 3. the source name, when it already is a valid DNS-1123 label;
//! 4. [`change_vm_name`] on the source name when it has an ASCII letter or
//!    digit, otherwise on the VM ID, otherwise `vm-0000`.
//!
//! When the resulting name is already taken in the target namespace,
//! [`with_collision_suffix`] cuts it to 58 characters and appends `-xxxx`.
//! Randomness is injected through [`SuffixSource`] so tests are deterministic.
use std::fmt;

/// Longest DNS-1123 label (and target VM name).
pub const LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain.
pub const SUBDOMAIN_MAX: usize = 253;
/// Length a colliding name is cut to before `-xxxx` is appended.
pub const COLLISION_CUT: usize = LABEL_MAX - 5;
/// The name used when neither the VM name nor its ID has a letter or digit.
pub const LAST_RESORT_NAME: &str = "vm-0000";

/// Why a string is not a valid DNS-1123 label or subdomain.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name is longer than `max` bytes.
    TooLong {
        /// Length of the name in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character outside `[a-z0-9-]` (plus `.` for subdomains).
    InvalidChar {
        /// The offending character.
        ch: char,
        /// 1-based character position in the name.
        position: usize,
    },
    /// The name (or one of its dot-separated parts) does not start with a
    /// lower-case letter or digit.
    BadStart {
        /// 1-based character position of the offending character.
        position: usize,
    },
    /// The name (or one of its dot-separated parts) does not end with a
    /// lower-case letter or digit.
    BadEnd {
        /// 1-based character position of the offending character.
        position: usize,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("must not be empty"),
            Self::TooLong { len, max } => {
                write!(f, "must be at most {max} characters (it has {len})")
            }
            Self::InvalidChar { ch, position } => {
                let shown = if ch.is_uppercase() {
                    format!("upper-case {ch:?}")
                } else {
                    format!("{ch:?}")
                };
                write!(
                    f,
                    "has {shown} at position {position}; only lower-case letters, digits and '-' are allowed"
                )
            }
            Self::BadStart { position } => write!(
                f,
                "must start with a lower-case letter or digit (position {position})"
            ),
            Self::BadEnd { position } => write!(
                f,
                "must end with a lower-case letter or digit (position {position})"
            ),
        }
    }
}

impl std::error::Error for NameError {}

fn is_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// Check one dot-free label; `offset` is the number of characters before it
/// in the whole name (for positions in messages).
fn check_label_part(part: &str, offset: usize, allow_dot: bool) -> Result<(), NameError> {
    let chars: Vec<char> = part.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !(is_alnum(c) || c == '-' || (allow_dot && c == '.')) {
            return Err(NameError::InvalidChar {
                ch: c,
                position: offset + i + 1,
            });
        }
    }
    match (chars.first(), chars.last()) {
        (None, _) | (_, None) => Err(NameError::BadStart {
            position: offset + 1,
        }),
        (Some(&first), _) if !is_alnum(first) => Err(NameError::BadStart {
            position: offset + 1,
        }),
        (_, Some(&last)) if !is_alnum(last) => Err(NameError::BadEnd {
            position: offset + chars.len(),
        }),
        _ => Ok(()),
    }
}

/// Check `name` against the DNS-1123 label rules (RFC 1123, as Kubernetes
/// applies them): 1-63 characters of `[a-z0-9-]`, starting and ending with a
/// letter or digit.
pub fn check_dns1123_label(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > LABEL_MAX {
        return Err(NameError::TooLong {
            len: name.len(),
            max: LABEL_MAX,
        });
    }
    check_label_part(name, 0, false)
}

/// Check `name` against the DNS-1123 subdomain rules: at most 253
/// characters, dot-separated parts that each are `[a-z0-9-]+` starting and
/// ending with a letter or digit.
pub fn check_dns1123_subdomain(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > SUBDOMAIN_MAX {
        return Err(NameError::TooLong {
            len: name.len(),
            max: SUBDOMAIN_MAX,
        });
    }
    let mut offset = 0;
    for part in name.split('.') {
        check_label_part(part, offset, false)?;
        offset += part.chars().count() + 1;
    }
    Ok(())
}

/// True when `name` is a valid DNS-1123 label.
pub fn is_dns1123_label(name: &str) -> bool {
    check_dns1123_label(name).is_ok()
}

/// True when `name` is a valid DNS-1123 subdomain.
pub fn is_dns1123_subdomain(name: &str) -> bool {
    check_dns1123_subdomain(name).is_ok()
}

/// Where the random four characters of `vm-xxxx` and `-xxxx` come from.
pub trait SuffixSource {
    /// Four characters from `[a-z0-9]`.
    fn suffix4(&mut self) -> String;
}

const SUFFIX_CHARSET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A deterministic pseudo-random [`SuffixSource`] (splitmix64). Seed it from
/// the clock in production and from a constant in tests.
#[derive(Debug, Clone)]
pub struct SeededSuffix {
    state: u64,
}

impl SeededSuffix {
    /// A source starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl SuffixSource for SeededSuffix {
    fn suffix4(&mut self) -> String {
        (0..4)
            .map(|_| {
                let idx = usize::try_from(self.next_u64() % 36).unwrap_or(0);
                char::from(SUFFIX_CHARSET[idx])
            })
            .collect()
    }
}

/// A [`SuffixSource`] that always returns the same four characters (tests).
#[derive(Debug, Clone)]
pub struct FixedSuffix(pub String);

impl SuffixSource for FixedSuffix {
    fn suffix4(&mut self) -> String {
        self.0.clone()
    }
}

/// Cut `s` to at most `max` bytes (all characters here are ASCII).
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Forklift's `ChangeVmName`: turn any VM name into a DNS-1123 name.
///
/// Lower-case; trim `.` and `-`; split on `.`; in each part replace
/// `_ + * space / \` with `-`, drop everything outside `[a-z0-9-]`, collapse
/// runs of `-`, cut to 63 and trim `-`; drop empty parts; join with `.`; cut
/// to 63 and trim `.`/`-`. An empty result becomes `vm-<4 random>`.
pub fn change_vm_name(name: &str, random: &mut dyn SuffixSource) -> String {
    let lower = name.to_lowercase();
    let trimmed = lower.trim_matches(|c| c == '.' || c == '-');
    let mut parts: Vec<String> = Vec::new();
    for part in trimmed.split('.') {
        let replaced: String = part
            .chars()
            .map(|c| match c {
                '_' | '+' | '*' | ' ' | '/' | '\\' => '-',
                other => other,
            })
            .filter(|&c| is_alnum(c) || c == '-')
            .collect();
        let collapsed = replaced
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let limited = cut(&collapsed, LABEL_MAX).trim_matches('-');
        if !limited.is_empty() {
            parts.push(limited.to_string());
        }
    }
    let joined = parts.join(".");
    let result = cut(&joined, LABEL_MAX).trim_matches(|c| c == '.' || c == '-');
    if result.is_empty() {
        format!("vm-{}", random.suffix4())
    } else {
        result.to_string()
    }
}

fn has_ascii_alnum(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_alphanumeric())
}

/// Where a resolved target name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameOrigin {
    /// `spec.vms[].targetName`.
    TargetName,
    /// `status.migration.vms[].newName`.
    StatusNewName,
    /// The source name, already valid.
    SourceName,
    /// [`change_vm_name`] of the source name.
    SanitisedName,
    /// [`change_vm_name`] of the VM ID (the name had no letter or digit).
    FromVmId,
    /// [`LAST_RESORT_NAME`].
    LastResort,
}

/// The inputs of [`resolve_target_vm_name`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TargetNameInputs<'a> {
    /// `spec.vms[].targetName`, if set.
    pub target_name: Option<&'a str>,
    /// `status.migration.vms[].newName` from an earlier run, if any.
    pub status_new_name: Option<&'a str>,
    /// The VM's name in the source provider.
    pub source_name: &'a str,
    /// The VM's ID in the source provider.
    pub vm_id: &'a str,
}

/// Resolve the target VM name in Forklift's order (see the module docs).
pub fn resolve_target_vm_name(
    inputs: TargetNameInputs<'_>,
    random: &mut dyn SuffixSource,
) -> (String, NameOrigin) {
    if let Some(t) = inputs.target_name.map(str::trim).filter(|t| !t.is_empty()) {
        return (t.to_string(), NameOrigin::TargetName);
    }
    if let Some(n) = inputs.status_new_name.filter(|n| !n.is_empty()) {
        return (n.to_string(), NameOrigin::StatusNewName);
    }
    if is_dns1123_label(inputs.source_name) {
        return (inputs.source_name.to_string(), NameOrigin::SourceName);
    }
    if has_ascii_alnum(inputs.source_name) {
        return (
            change_vm_name(inputs.source_name, random),
            NameOrigin::SanitisedName,
        );
    }
    if has_ascii_alnum(inputs.vm_id) {
        return (change_vm_name(inputs.vm_id, random), NameOrigin::FromVmId);
    }
    (LAST_RESORT_NAME.to_string(), NameOrigin::LastResort)
}

/// The name to use when `name` already exists in the target namespace: cut
/// to 58 characters (trailing `.`/`-` removed) and append `-xxxx`.
pub fn with_collision_suffix(name: &str, random: &mut dyn SuffixSource) -> String {
    let base = cut(name, COLLISION_CUT).trim_end_matches(['.', '-']);
    format!("{base}-{}", random.suffix4())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed() -> FixedSuffix {
        FixedSuffix("abcd".into())
    }

    #[test]
    fn label_validation_accepts_and_rejects() {
        for ok in ["a", "0", "my-vm", "rhel8-vm", "vm-102", &"a".repeat(63)] {
            assert_eq!(check_dns1123_label(ok), Ok(()), "{ok}");
        }
        let cases: &[(&str, NameError)] = &[
            ("", NameError::Empty),
            (&"a".repeat(64), NameError::TooLong { len: 64, max: 63 }),
            (
                "My-VM",
                NameError::InvalidChar {
                    ch: 'M',
                    position: 1,
                },
            ),
            (
                "my_vm",
                NameError::InvalidChar {
                    ch: '_',
                    position: 3,
                },
            ),
            (
                "my.vm",
                NameError::InvalidChar {
                    ch: '.',
                    position: 3,
                },
            ),
            (
                "my vm",
                NameError::InvalidChar {
                    ch: ' ',
                    position: 3,
                },
            ),
            ("-vm", NameError::BadStart { position: 1 }),
            ("vm-", NameError::BadEnd { position: 3 }),
            (
                "vmé",
                NameError::InvalidChar {
                    ch: 'é',
                    position: 3,
                },
            ),
        ];
        for (name, want) in cases {
            assert_eq!(check_dns1123_label(name).as_ref(), Err(want), "{name:?}");
        }
    }

    #[test]
    fn subdomain_validation_accepts_dots_and_253() {
        let long = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(long.len(), 253);
        for ok in ["web.prod", "a.b.c", "rhel-9.example", long.as_str()] {
            assert_eq!(check_dns1123_subdomain(ok), Ok(()), "{ok}");
        }
        let too_long = format!("{long}x");
        assert_eq!(
            check_dns1123_subdomain(&too_long),
            Err(NameError::TooLong { len: 254, max: 253 })
        );
        assert_eq!(
            check_dns1123_subdomain("a..b"),
            Err(NameError::BadStart { position: 3 })
        );
        assert_eq!(
            check_dns1123_subdomain("a.-b"),
            Err(NameError::BadStart { position: 3 })
        );
        assert_eq!(
            check_dns1123_subdomain("web.Prod"),
            Err(NameError::InvalidChar {
                ch: 'P',
                position: 5
            })
        );
    }

    #[test]
    fn messages_name_the_problem() {
        let msg = check_dns1123_label("My_VM").unwrap_err().to_string();
        assert!(msg.contains("upper-case 'M'"), "{msg}");
        assert!(msg.contains("position 1"), "{msg}");
        let msg = check_dns1123_label(&"x".repeat(70))
            .unwrap_err()
            .to_string();
        assert_eq!(msg, "must be at most 63 characters (it has 70)");
    }

    #[test]
    fn change_vm_name_table() {
        let long_part = "a".repeat(70);
        let cases: Vec<(String, String)> = vec![
            ("MyVM".into(), "myvm".into()),
            ("rhel9-node_2".into(), "rhel9-node-2".into()),
            ("My VM (prod)".into(), "my-vm-prod".into()),
            ("web.Server_01".into(), "web.server-01".into()),
            ("..lead.trail..".into(), "lead.trail".into()),
            ("a+b*c/d\\e".into(), "a-b-c-d-e".into()),
            ("a__b  c".into(), "a-b-c".into()),
            ("--dash--".into(), "dash".into()),
            ("a..b".into(), "a.b".into()),
            ("café-été".into(), "caf-t".into()),
            ("Ünïcödé VM".into(), "ncd-vm".into()),
            ("x._y".into(), "x.y".into()),
            ("part.-.other".into(), "part.other".into()),
            (long_part.clone(), "a".repeat(63)),
            (format!("{}-{}", "a".repeat(62), "b"), "a".repeat(62)),
            (
                format!("{}.{}", "a".repeat(40), "b".repeat(40)),
                format!("{}.{}", "a".repeat(40), "b".repeat(22)),
            ),
            (
                format!("{}.{}", "a".repeat(62), "b".repeat(10)),
                "a".repeat(62),
            ),
        ];
        for (input, want) in cases {
            let got = change_vm_name(&input, &mut fixed());
            assert_eq!(got, want, "input {input:?}");
            assert!(got.len() <= 63);
            assert!(is_dns1123_subdomain(&got), "{got}");
        }
    }

    #[test]
    fn change_vm_name_empty_gets_random_suffix() {
        assert_eq!(change_vm_name("___", &mut fixed()), "vm-abcd");
        assert_eq!(change_vm_name("...", &mut fixed()), "vm-abcd");
        assert_eq!(change_vm_name("日本語", &mut fixed()), "vm-abcd");
        assert_eq!(change_vm_name("", &mut fixed()), "vm-abcd");
    }

    #[test]
    fn change_vm_name_253_plus() {
        let name = format!("{}_{}", "Web".repeat(90), "DB".repeat(10));
        let got = change_vm_name(&name, &mut fixed());
        assert_eq!(got.len(), 63);
        assert!(got.chars().all(|c| c == 'w' || c == 'e' || c == 'b'));
        assert!(is_dns1123_label(&got));
    }

    #[test]
    fn resolve_order() {
        let mut r = fixed();
        let base = TargetNameInputs {
            target_name: None,
            status_new_name: None,
            source_name: "My_VM",
            vm_id: "vm-42",
        };
        let with_target = TargetNameInputs {
            target_name: Some("  chosen  "),
            status_new_name: Some("previous"),
            ..base
        };
        assert_eq!(
            resolve_target_vm_name(with_target, &mut r),
            ("chosen".into(), NameOrigin::TargetName)
        );
        let with_status = TargetNameInputs {
            target_name: Some("   "),
            status_new_name: Some("previous"),
            ..base
        };
        assert_eq!(
            resolve_target_vm_name(with_status, &mut r),
            ("previous".into(), NameOrigin::StatusNewName)
        );
        let valid = TargetNameInputs {
            source_name: "rhel8-vm",
            ..base
        };
        assert_eq!(
            resolve_target_vm_name(valid, &mut r),
            ("rhel8-vm".into(), NameOrigin::SourceName)
        );
        assert_eq!(
            resolve_target_vm_name(base, &mut r),
            ("my-vm".into(), NameOrigin::SanitisedName)
        );
        let symbols = TargetNameInputs {
            source_name: "***",
            vm_id: "VM-4a_2",
            ..base
        };
        assert_eq!(
            resolve_target_vm_name(symbols, &mut r),
            ("vm-4a-2".into(), NameOrigin::FromVmId)
        );
        let nothing = TargetNameInputs {
            source_name: "+++",
            vm_id: "---",
            ..base
        };
        assert_eq!(
            resolve_target_vm_name(nothing, &mut r),
            ("vm-0000".into(), NameOrigin::LastResort)
        );
    }

    #[test]
    fn collision_suffix_keeps_the_name_valid() {
        let mut r = fixed();
        assert_eq!(with_collision_suffix("web", &mut r), "web-abcd");
        let long = "a".repeat(63);
        let got = with_collision_suffix(&long, &mut r);
        assert_eq!(got, format!("{}-abcd", "a".repeat(58)));
        assert_eq!(got.len(), 63);
        let dotted = format!("{}.{}", "a".repeat(57), "b".repeat(5));
        let got = with_collision_suffix(&dotted, &mut r);
        assert_eq!(got, format!("{}-abcd", "a".repeat(57)));
        assert!(is_dns1123_subdomain(&got));
    }

    #[test]
    fn seeded_suffix_is_deterministic_and_in_charset() {
        let mut a = SeededSuffix::new(7);
        let mut b = SeededSuffix::new(7);
        let first = a.suffix4();
        assert_eq!(first, b.suffix4());
        assert_eq!(first.len(), 4);
        assert!(first.bytes().all(|c| SUFFIX_CHARSET.contains(&c)));
        assert_ne!(a.suffix4(), SeededSuffix::new(8).suffix4());
    }
}
