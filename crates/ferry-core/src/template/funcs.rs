//! The functions a Forklift name template may call: Go's built-ins
//! (`eq ne lt le gt ge and or not len print printf`) and the curated Sprig
//! string and math helpers Forklift registers.
use super::Value;

/// Longest string any function may produce (guards `repeat` and friends).
pub const MAX_VALUE_LEN: usize = 64 * 1024;

const NAMES: &[&str] = &[
    // Go built-ins.
    "and",
    "or",
    "not",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "len",
    "print",
    "printf",
    // Sprig strings.
    "lower",
    "upper",
    "contains",
    "replace",
    "trim",
    "trimAll",
    "trimSuffix",
    "trimPrefix",
    "title",
    "untitle",
    "repeat",
    "substr",
    "nospace",
    "trunc",
    "initials",
    "hasPrefix",
    "hasSuffix",
    "mustRegexReplaceAll",
    // Sprig math.
    "add",
    "add1",
    "sub",
    "div",
    "mod",
    "mul",
    "max",
    "min",
    "floor",
    "ceil",
    "round",
];

/// True when `name` is a function templates may call.
pub fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

fn want_args(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!(
            "{name} takes {n} argument{}, got {}",
            if n == 1 { "" } else { "s" },
            args.len()
        ))
    }
}

fn string_arg<'a>(name: &str, args: &'a [Value], i: usize) -> Result<&'a str, String> {
    match args.get(i) {
        Some(Value::Str(s)) => Ok(s),
        Some(other) => Err(format!(
            "{name}: argument {} must be a string, got {}",
            i + 1,
            other.type_name()
        )),
        None => Err(format!("{name}: missing argument {}", i + 1)),
    }
}

fn int_arg(name: &str, args: &[Value], i: usize) -> Result<i64, String> {
    match args.get(i) {
        Some(Value::Int(v)) => Ok(*v),
        #[allow(clippy::cast_possible_truncation)]
        Some(Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(*f as i64),
        Some(other) => Err(format!(
            "{name}: argument {} must be an integer, got {}",
            i + 1,
            other.type_name()
        )),
        None => Err(format!("{name}: missing argument {}", i + 1)),
    }
}

/// Sprig's lenient number conversion: numbers, numeric strings and bools;
/// anything else counts as 0.
fn to_i64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        #[allow(clippy::cast_possible_truncation)]
        Value::Float(f) if f.is_finite() => *f as i64,
        Value::Str(s) => s.trim().parse().unwrap_or(0),
        Value::Bool(b) => i64::from(*b),
        _ => 0,
    }
}

fn to_f64(v: &Value) -> f64 {
    match v {
        #[allow(clippy::cast_precision_loss)]
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Str(s) => s.trim().parse().unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Nil => 0.0,
    }
}

fn cap(s: String, name: &str) -> Result<Value, String> {
    if s.len() > MAX_VALUE_LEN {
        Err(format!(
            "{name}: result is longer than {MAX_VALUE_LEN} bytes"
        ))
    } else {
        Ok(Value::Str(s))
    }
}

/// Largest char boundary at or below `i`.
fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn compare(name: &str, a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    use std::cmp::Ordering;
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x
            .partial_cmp(y)
            .ok_or_else(|| format!("{name}: cannot compare NaN")),
        (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) if name == "eq" || name == "ne" => Ok(if x == y {
            Ordering::Equal
        } else {
            Ordering::Less
        }),
        _ => Err(format!(
            "{name}: incompatible types for comparison ({} and {})",
            a.type_name(),
            b.type_name()
        )),
    }
}

fn words_map(s: &str, f: impl Fn(char) -> String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_word_start = true;
    for c in s.chars() {
        if c.is_whitespace() {
            at_word_start = true;
            out.push(c);
        } else if at_word_start {
            out.push_str(&f(c));
            at_word_start = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Call function `name` (already checked with [`exists`]) on evaluated
/// arguments. `and`/`or` are handled by the evaluator (they short-circuit).
pub fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    use std::cmp::Ordering;
    match name {
        "not" => {
            want_args(name, args, 1)?;
            Ok(Value::Bool(!args[0].truthy()))
        }
        "eq" => {
            if args.len() < 2 {
                return Err("eq takes at least 2 arguments".into());
            }
            for other in &args[1..] {
                if compare(name, &args[0], other)? == Ordering::Equal {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            want_args(name, args, 2)?;
            let o = compare(name, &args[0], &args[1])?;
            Ok(Value::Bool(match name {
                "ne" => o != Ordering::Equal,
                "lt" => o == Ordering::Less,
                "le" => o != Ordering::Greater,
                "gt" => o == Ordering::Greater,
                _ => o != Ordering::Less,
            }))
        }
        "len" => {
            want_args(name, args, 1)?;
            let s = string_arg(name, args, 0)?;
            Ok(Value::Int(i64::try_from(s.len()).unwrap_or(i64::MAX)))
        }
        "print" => {
            let mut out = String::new();
            for (i, a) in args.iter().enumerate() {
                let both_non_string =
                    i > 0 && !matches!(a, Value::Str(_)) && !matches!(args[i - 1], Value::Str(_));
                if both_non_string {
                    out.push(' ');
                }
                out.push_str(&a.to_go_string());
            }
            cap(out, name)
        }
        "printf" => {
            let fmt = string_arg(name, args, 0)?;
            cap(super::printf::sprintf(fmt, &args[1..]), name)
        }
        "lower" | "upper" | "trim" | "title" | "untitle" | "nospace" | "initials" => {
            want_args(name, args, 1)?;
            let s = string_arg(name, args, 0)?;
            let out = match name {
                "lower" => s.to_lowercase(),
                "upper" => s.to_uppercase(),
                "trim" => s.trim().to_string(),
                "title" => {
                    let mut out = String::with_capacity(s.len());
                    let mut prev_sep = true;
                    for c in s.chars() {
                        if prev_sep && c.is_alphabetic() {
                            out.extend(c.to_uppercase());
                        } else {
                            out.push(c);
                        }
                        prev_sep = !(c.is_alphanumeric() || c == '_' || c == '\'');
                    }
                    out
                }
                "untitle" => words_map(s, |c| c.to_lowercase().collect()),
                "nospace" => s.chars().filter(|c| !c.is_whitespace()).collect(),
                _ => s
                    .split_whitespace()
                    .filter_map(|w| w.chars().next())
                    .collect(),
            };
            cap(out, name)
        }
        "contains" | "hasPrefix" | "hasSuffix" => {
            want_args(name, args, 2)?;
            let needle = string_arg(name, args, 0)?;
            let s = string_arg(name, args, 1)?;
            Ok(Value::Bool(match name {
                "contains" => s.contains(needle),
                "hasPrefix" => s.starts_with(needle),
                _ => s.ends_with(needle),
            }))
        }
        "trimAll" | "trimSuffix" | "trimPrefix" => {
            want_args(name, args, 2)?;
            let what = string_arg(name, args, 0)?;
            let s = string_arg(name, args, 1)?;
            let out = match name {
                "trimAll" => s.trim_matches(|c| what.contains(c)),
                "trimSuffix" => s.strip_suffix(what).unwrap_or(s),
                _ => s.strip_prefix(what).unwrap_or(s),
            };
            cap(out.to_string(), name)
        }
        "replace" => {
            want_args(name, args, 3)?;
            let old = string_arg(name, args, 0)?;
            let new = string_arg(name, args, 1)?;
            let s = string_arg(name, args, 2)?;
            if old.is_empty() {
                return Err("replace: the string to replace must not be empty".into());
            }
            let count = s.matches(old).count();
            let projected = s.len() - count * old.len() + count * new.len();
            if projected > MAX_VALUE_LEN {
                return Err(format!(
                    "replace: result is longer than {MAX_VALUE_LEN} bytes"
                ));
            }
            cap(s.replace(old, new), name)
        }
        "repeat" => {
            want_args(name, args, 2)?;
            let n = int_arg(name, args, 0)?;
            let s = string_arg(name, args, 1)?;
            let n =
                usize::try_from(n).map_err(|_| "repeat: count must not be negative".to_string())?;
            if s.len().saturating_mul(n) > MAX_VALUE_LEN {
                return Err(format!(
                    "repeat: result is longer than {MAX_VALUE_LEN} bytes"
                ));
            }
            cap(s.repeat(n), name)
        }
        "trunc" => {
            want_args(name, args, 2)?;
            let n = int_arg(name, args, 0)?;
            let s = string_arg(name, args, 1)?;
            let len = s.len();
            let out = if n < 0 {
                let keep = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
                if keep < len {
                    let start = floor_boundary(s, len - keep);
                    &s[start..]
                } else {
                    s
                }
            } else {
                let keep = usize::try_from(n).unwrap_or(usize::MAX);
                &s[..floor_boundary(s, keep)]
            };
            cap(out.to_string(), name)
        }
        "substr" => {
            want_args(name, args, 3)?;
            let start = int_arg(name, args, 0)?;
            let end = int_arg(name, args, 1)?;
            let s = string_arg(name, args, 2)?;
            let len = i64::try_from(s.len()).unwrap_or(i64::MAX);
            let (from, to) = if start < 0 {
                (0, end)
            } else if end < 0 || end > len {
                (start, len)
            } else {
                (start, end)
            };
            if from > to || to > len || from > len {
                return Err(format!(
                    "substr: range {start}..{end} is out of bounds for a string of {len} bytes"
                ));
            }
            let (from, to) = (
                usize::try_from(from).unwrap_or(0),
                usize::try_from(to).unwrap_or(0),
            );
            match s.get(from..to) {
                Some(sub) => cap(sub.to_string(), name),
                None => Err("substr: range splits a multi-byte character".into()),
            }
        }
        "mustRegexReplaceAll" => {
            want_args(name, args, 3)?;
            let pattern = string_arg(name, args, 0)?;
            let s = string_arg(name, args, 1)?;
            let repl = string_arg(name, args, 2)?;
            let re = regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| format!("mustRegexReplaceAll: invalid regular expression: {e}"))?;
            cap(re.replace_all(s, repl).into_owned(), name)
        }
        "add" => Ok(Value::Int(
            args.iter().fold(0i64, |acc, v| acc.wrapping_add(to_i64(v))),
        )),
        "add1" => {
            want_args(name, args, 1)?;
            Ok(Value::Int(to_i64(&args[0]).wrapping_add(1)))
        }
        "sub" | "div" | "mod" => {
            want_args(name, args, 2)?;
            let (a, b) = (to_i64(&args[0]), to_i64(&args[1]));
            match name {
                "sub" => Ok(Value::Int(a.wrapping_sub(b))),
                _ if b == 0 => Err(format!("{name}: division by zero")),
                "div" => Ok(Value::Int(a.wrapping_div(b))),
                _ => Ok(Value::Int(a.wrapping_rem(b))),
            }
        }
        "mul" => {
            if args.is_empty() {
                return Err("mul takes at least 1 argument".into());
            }
            Ok(Value::Int(
                args.iter().fold(1i64, |acc, v| acc.wrapping_mul(to_i64(v))),
            ))
        }
        "max" | "min" => {
            let first = args
                .first()
                .ok_or_else(|| format!("{name} takes at least 1 argument"))?;
            let mut best = to_i64(first);
            for v in &args[1..] {
                let x = to_i64(v);
                if (name == "max" && x > best) || (name == "min" && x < best) {
                    best = x;
                }
            }
            Ok(Value::Int(best))
        }
        "floor" | "ceil" => {
            want_args(name, args, 1)?;
            let f = to_f64(&args[0]);
            Ok(Value::Float(if name == "floor" {
                f.floor()
            } else {
                f.ceil()
            }))
        }
        "round" => {
            if !(2..=3).contains(&args.len()) {
                return Err("round takes 2 or 3 arguments".into());
            }
            let val = to_f64(&args[0]);
            let places = to_f64(&args[1]);
            let round_on = args.get(2).map_or(0.5, to_f64);
            let pow = 10f64.powf(places);
            let digit = pow * val;
            let frac = digit.fract();
            let r = if frac >= round_on {
                digit.ceil()
            } else {
                digit.floor()
            };
            Ok(Value::Float(r / pow))
        }
        other => Err(format!("function {other:?} is not defined")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    #[test]
    fn every_name_is_callable() {
        for name in NAMES {
            if *name == "and" || *name == "or" {
                continue;
            }
            // Wrong arity or types must give an error, never a panic.
            let _ = call(name, &[]);
            let _ = call(name, &[s("x")]);
            let _ = call(name, &[Value::Int(1), s("x"), Value::Nil]);
        }
    }

    #[test]
    fn string_helpers() {
        assert_eq!(call("trunc", &[Value::Int(3), s("abcdef")]), Ok(s("abc")));
        assert_eq!(call("trunc", &[Value::Int(-2), s("abcdef")]), Ok(s("ef")));
        assert_eq!(call("trunc", &[Value::Int(10), s("abc")]), Ok(s("abc")));
        assert_eq!(call("trunc", &[Value::Int(1), s("éa")]), Ok(s("")));
        assert_eq!(
            call("substr", &[Value::Int(1), Value::Int(4), s("abcdef")]),
            Ok(s("bcd"))
        );
        assert!(call("substr", &[Value::Int(5), Value::Int(2), s("abc")]).is_err());
        assert_eq!(
            call("replace", &[s(" "), s("-"), s("I Am Henry")]),
            Ok(s("I-Am-Henry"))
        );
        assert_eq!(call("trimAll", &[s("$"), s("$5.00$")]), Ok(s("5.00")));
        assert_eq!(call("title", &[s("hello world")]), Ok(s("Hello World")));
        assert_eq!(call("untitle", &[s("Hello World")]), Ok(s("hello world")));
        assert_eq!(call("initials", &[s("John Doe")]), Ok(s("JD")));
        assert_eq!(call("nospace", &[s("a b  c")]), Ok(s("abc")));
        assert_eq!(
            call("hasPrefix", &[s("go"), s("golang")]),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            call("contains", &[s("lo"), s("hello")]),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            call(
                "mustRegexReplaceAll",
                &[s("a(x*)b"), s("-ab-axxb-"), s("${1}W")]
            ),
            Ok(s("-W-xxW-"))
        );
        assert!(call("mustRegexReplaceAll", &[s("("), s("x"), s("y")]).is_err());
        assert!(
            call("lower", &[Value::Int(1)])
                .unwrap_err()
                .contains("must be a string")
        );
        assert!(call("repeat", &[Value::Int(1_000_000), s("xx")]).is_err());
        assert_eq!(call("repeat", &[Value::Int(3), s("ab")]), Ok(s("ababab")));
    }

    #[test]
    fn math_helpers() {
        assert_eq!(
            call("add", &[Value::Int(1), Value::Int(2), Value::Int(3)]),
            Ok(Value::Int(6))
        );
        assert_eq!(call("add1", &[Value::Int(5)]), Ok(Value::Int(6)));
        assert_eq!(
            call("sub", &[Value::Int(5), Value::Int(3)]),
            Ok(Value::Int(2))
        );
        assert_eq!(
            call("div", &[Value::Int(10), Value::Int(3)]),
            Ok(Value::Int(3))
        );
        assert!(call("div", &[Value::Int(1), Value::Int(0)]).is_err());
        assert_eq!(
            call("mod", &[Value::Int(10), Value::Int(3)]),
            Ok(Value::Int(1))
        );
        assert_eq!(
            call("mul", &[Value::Int(2), Value::Int(3), Value::Int(4)]),
            Ok(Value::Int(24))
        );
        assert_eq!(
            call("max", &[Value::Int(1), Value::Int(5), Value::Int(3)]),
            Ok(Value::Int(5))
        );
        assert_eq!(
            call("min", &[Value::Int(1), Value::Int(5), Value::Int(3)]),
            Ok(Value::Int(1))
        );
        assert_eq!(call("floor", &[Value::Float(3.75)]), Ok(Value::Float(3.0)));
        assert_eq!(call("ceil", &[Value::Float(3.25)]), Ok(Value::Float(4.0)));
        assert_eq!(
            call("round", &[Value::Float(3.75159), Value::Int(2)]),
            Ok(Value::Float(3.75))
        );
        assert_eq!(call("add", &[s("4"), Value::Int(1)]), Ok(Value::Int(5)));
    }

    #[test]
    fn comparisons() {
        assert_eq!(
            call("eq", &[Value::Int(1), Value::Int(2), Value::Int(1)]),
            Ok(Value::Bool(true))
        );
        assert_eq!(call("eq", &[s("Pod"), s("Multus")]), Ok(Value::Bool(false)));
        assert!(call("eq", &[Value::Int(1), s("1")]).is_err());
        assert_eq!(
            call("lt", &[Value::Int(1), Value::Int(2)]),
            Ok(Value::Bool(true))
        );
        assert_eq!(call("ge", &[s("b"), s("a")]), Ok(Value::Bool(true)));
        assert!(call("lt", &[Value::Bool(true), Value::Bool(false)]).is_err());
        assert_eq!(call("not", &[s("")]), Ok(Value::Bool(true)));
        assert_eq!(call("len", &[s("abc")]), Ok(Value::Int(3)));
        assert_eq!(
            call("print", &[Value::Int(1), Value::Int(2), s("x")]),
            Ok(s("1 2x"))
        );
    }
}
