//! Go's `fmt` as templates use it: how a value prints (`{{ . }}` is `fmt.Sprint`), and
//! `printf`'s verbs.
//!
//! Floats print like Go's `%v` (`strconv.FormatFloat(f, 'g', -1, 64)`): the shortest digits that
//! round-trip, in exponent form when the exponent is below -4 or at least 6 — so `1000000.0`
//! prints `1e+06`, as Helm prints `{{ .Values.big }}`.

use crate::value::{MAX_VALUE_DEPTH, Value};

/// Go's `%v` of one value (also what `{{ . }}` prints, before Helm's `<no value>` rule).
pub fn format_v(v: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, v, 0);
    out
}

/// Most bytes one `%v` builds (a map holding itself twice doubles per level).
pub const MAX_PRINT_BYTES: usize = 64 * 1024 * 1024;

/// Writes Go's `%v` of `v` at nesting `depth` (deeper than [`MAX_VALUE_DEPTH`], or past
/// [`MAX_PRINT_BYTES`], prints `...` and stops).
pub(crate) fn write_v(out: &mut String, v: &Value, depth: usize) {
    if depth > MAX_VALUE_DEPTH || out.len() > MAX_PRINT_BYTES {
        out.push_str("...");
        return;
    }
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) | Value::Int64(n) => out.push_str(&n.to_string()),
        Value::Float(f) => out.push_str(&format_float_g(*f)),
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => {
            out.push('[');
            for (i, byte) in b.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(&byte.to_string());
            }
            out.push(']');
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, item, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            let entries = m.snapshot();
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(out, item, depth + 1);
            }
            out.push(']');
        }
        Value::Object(o) => write_v(out, &o.to_value(), depth + 1),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`: shortest round-trip digits; exponent form when
/// the decimal exponent is < -4 or >= 6.
pub fn format_float_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let (neg, digits, exp) = shortest_digits(f);
    // strconv: with the shortest precision, `eprec` is 6, and %e is used when `exp < -4 ||
    // exp >= eprec` (checked against Helm: 1234567.0 prints 1.234567e+06).
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
    out
}

/// The shortest round-trip decimal digits of a finite non-zero `f` and its decimal exponent
/// (`d.ddd × 10^exp`).
pub(crate) fn shortest_digits(f: f64) -> (bool, String, i32) {
    // Rust's `{:e}` prints the shortest round-trip digits: "1.2345e-5", "1e6".
    let s = format!("{:e}", f.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    (f.is_sign_negative(), digits, exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go_percent_v() {
        // Values checked against `fmt.Sprint(float64(x))` in Go (and Helm's output).
        let cases: &[(f64, &str)] = &[
            (3.0, "3"),
            (1.5, "1.5"),
            (100000.0, "100000"),
            (1000000.0, "1e+06"),
            (123456789.0, "1.23456789e+08"),
            (1234567.0, "1.234567e+06"),
            (123456.0, "123456"),
            (1e20, "1e+20"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (1.2345678901234567e19, "1.2345678901234567e+19"),
            (0.1, "0.1"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float_g(*f), *want, "{f}");
        }
    }
}
