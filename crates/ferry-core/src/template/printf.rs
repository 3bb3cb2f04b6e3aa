//! A `printf` for templates following Go's `fmt` for the verbs a name
//! template can use: `%s %v %d %q %x %X %f %e %g %t %%`, the flags
//! `- + 0 space`, width and precision. Mismatches print Go's `%!verb(type=value)`.
use super::Value;

struct Spec {
    minus: bool,
    plus: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

fn pad(body: String, spec: &Spec, numeric: bool) -> String {
    let Some(width) = spec.width else { return body };
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if spec.minus {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let (sign, digits) = match body.strip_prefix(['-', '+']) {
            Some(d) => (&body[..1], d),
            None => ("", body.as_str()),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

fn signed(n: String, negative: bool, spec: &Spec) -> String {
    if negative {
        n
    } else if spec.plus {
        format!("+{n}")
    } else if spec.space {
        format!(" {n}")
    } else {
        n
    }
}

fn bad_verb(verb: char, v: &Value) -> String {
    format!("%!{verb}({}={})", v.type_name(), v.to_go_string())
}

fn format_one(verb: char, spec: &Spec, v: &Value) -> String {
    match (verb, v) {
        ('v' | 's', Value::Str(s)) => {
            let s = match spec.precision {
                Some(p) => s.chars().take(p).collect(),
                None => s.clone(),
            };
            pad(s, spec, false)
        }
        ('v', _) if !matches!(v, Value::Float(_)) => pad(v.to_go_string(), spec, false),
        ('d' | 'v', Value::Int(i)) => pad(signed(i.to_string(), *i < 0, spec), spec, true),
        ('t', Value::Bool(b)) => pad(b.to_string(), spec, false),
        ('q', Value::Str(s)) => pad(format!("{s:?}"), spec, false),
        ('x', Value::Int(i)) => pad(signed(format!("{i:x}"), *i < 0, spec), spec, true),
        ('X', Value::Int(i)) => pad(signed(format!("{i:X}"), *i < 0, spec), spec, true),
        ('x', Value::Str(s)) => pad(s.bytes().map(|b| format!("{b:02x}")).collect(), spec, false),
        ('X', Value::Str(s)) => pad(s.bytes().map(|b| format!("{b:02X}")).collect(), spec, false),
        ('f' | 'F' | 'e' | 'g' | 'v', Value::Float(f)) => {
            let body = match (verb, spec.precision) {
                ('f' | 'F', p) => format!("{:.*}", p.unwrap_or(6), f),
                ('e', p) => go_exponent(&format!("{:.*e}", p.unwrap_or(6), f)),
                (_, Some(p)) => format!("{:.*}", p, f),
                (_, None) => Value::Float(*f).to_go_string(),
            };
            pad(signed(body, f.is_sign_negative(), spec), spec, true)
        }
        _ => bad_verb(verb, v),
    }
}

/// Rust writes `1.5e3`; Go writes `1.5e+03`.
pub(super) fn go_exponent(rust: &str) -> String {
    match rust.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => rust.to_string(),
    }
}

/// Format `args` according to `fmt`.
pub fn sprintf(fmt: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let mut next_arg = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec {
            minus: false,
            plus: false,
            zero: false,
            space: false,
            width: None,
            precision: None,
        };
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                '#' => {}
                _ => break,
            }
            chars.next();
        }
        let number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            let mut n: Option<usize> = None;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                let digit = usize::try_from(d).unwrap_or(0);
                n = Some(
                    n.unwrap_or(0)
                        .saturating_mul(10)
                        .saturating_add(digit)
                        .min(256),
                );
                chars.next();
            }
            n
        };
        spec.width = number(&mut chars);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.precision = Some(number(&mut chars).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(next_arg) {
            Some(v) => out.push_str(&format_one(verb, &spec, v)),
            None => out.push_str(&format!("%!{verb}(MISSING)")),
        }
        next_arg += 1;
    }
    if next_arg < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[next_arg..]
            .iter()
            .map(|v| format!("{}={}", v.type_name(), v.to_go_string()))
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    #[test]
    fn verbs() {
        assert_eq!(sprintf("%s-%d", &[s("vm"), Value::Int(3)]), "vm-3");
        assert_eq!(sprintf("disk-%02d", &[Value::Int(7)]), "disk-07");
        assert_eq!(sprintf("%-4s|", &[s("ab")]), "ab  |");
        assert_eq!(sprintf("%5d", &[Value::Int(-42)]), "  -42");
        assert_eq!(sprintf("%05d", &[Value::Int(-42)]), "-0042");
        assert_eq!(sprintf("%.2s", &[s("abcdef")]), "ab");
        assert_eq!(sprintf("%x", &[Value::Int(255)]), "ff");
        assert_eq!(sprintf("%.2f", &[Value::Float(1.23456)]), "1.23");
        assert_eq!(
            sprintf("%v %v", &[Value::Bool(true), Value::Float(4.0)]),
            "true 4"
        );
        assert_eq!(sprintf("%e", &[Value::Float(1500.0)]), "1.500000e+03");
        assert_eq!(sprintf("100%%", &[]), "100%");
    }

    #[test]
    fn mismatches_like_go() {
        assert_eq!(sprintf("%d", &[s("x")]), "%!d(string=x)");
        assert_eq!(sprintf("%d %d", &[Value::Int(1)]), "1 %!d(MISSING)");
        assert_eq!(
            sprintf("%d", &[Value::Int(1), s("x")]),
            "1%!(EXTRA string=x)"
        );
        assert_eq!(sprintf("%", &[]), "%!(NOVERB)");
    }
}
