//! Go's `spf13/cast` conversions as Sprig uses them (`ToInt64`, `ToInt`, `ToFloat64`,
//! `ToString`), Sprig's own `strval`/`strslice`, and the pieces of Go's `strconv` they rest on
//! (`ParseInt` with base prefixes and underscores, `ParseFloat` with `Inf`/`NaN`/hex floats).
//!
//! Sprig swallows cast's errors: a value cast cannot convert becomes `0` (`int "abc"` is `0`,
//! `int "08"` is `0` because `08` is invalid octal, `int64 "12.00"` is `12` because cast trims a
//! zero decimal part first). Checked against helm v4.1.4.

use crate::fmt::format_v;
use crate::value::Value;

/// Go's `int64(f)` for a float64 on amd64: truncation toward zero; NaN, infinities and values
/// out of range give the "integer indefinite" value `math.MinInt64`.
pub fn go_float_to_int64(f: f64) -> i64 {
    // 2^63 is exactly representable; [-2^63, 2^63) is the range that converts.
    let limit = 2f64.powi(63);
    if f.is_nan() || !(-limit..limit).contains(&f) {
        return i64::MIN;
    }
    f.trunc() as i64
}

/// cast's `trimZeroDecimal`: `"12.00"` -> `"12"`, `"12.50"` stays.
fn trim_zero_decimal(s: &str) -> &str {
    let bytes = s.as_bytes();
    let mut found_zero = false;
    let mut i = bytes.len();
    while i > 0 {
        match bytes.get(i - 1) {
            Some(b'.') => {
                if found_zero {
                    return s.get(..i - 1).unwrap_or(s);
                }
            }
            Some(b'0') => found_zero = true,
            _ => return s,
        }
        i -= 1;
    }
    s
}

/// `cast.ToInt64E`: `Some` on success, `None` where cast returns an error (Sprig then uses 0).
pub fn to_int64_e(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) | Value::Int64(n) => Some(*n),
        Value::Float(f) => Some(go_float_to_int64(*f)),
        Value::String(s) => parse_int(trim_zero_decimal(s), 0),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Nil => Some(0),
        _ => None,
    }
}

/// `cast.ToInt64` (errors become 0), Sprig's `toInt64`.
pub fn to_int64(v: &Value) -> i64 {
    to_int64_e(v).unwrap_or(0)
}

/// `cast.ToInt` (Go `int` is 64 bits where Helm runs), Sprig's `toInt`.
pub fn to_int(v: &Value) -> i64 {
    to_int64(v)
}

/// `cast.ToFloat64E`: `None` where cast errors.
pub fn to_float64_e(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) | Value::Int64(n) => Some(*n as f64),
        Value::Float(f) => Some(*f),
        Value::String(s) => parse_float(s),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Nil => Some(0.0),
        _ => None,
    }
}

/// `cast.ToFloat64` (errors become 0), Sprig's `toFloat64`.
pub fn to_float64(v: &Value) -> f64 {
    to_float64_e(v).unwrap_or(0.0)
}

/// `cast.ToString`: strings, booleans, numbers (floats in `'f'` form: `1e+06` -> `1000000`),
/// bytes, nil -> `""`, `fmt.Stringer`s; anything else (lists, maps) is an error -> `""`.
pub fn to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Float(f) => format_float_f(*f),
        Value::Int(n) | Value::Int64(n) => n.to_string(),
        Value::Bytes(b) => crate::value::go_string_from_bytes(b),
        Value::Nil => String::new(),
        Value::Object(o) if o.type_name() == "time.Time" => format_v(v),
        _ => String::new(),
    }
}

/// Sprig's `strval`: strings and bytes as they are, `Stringer`s and everything else as `%v`.
pub fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => crate::value::go_string_from_bytes(b),
        _ => format_v(v),
    }
}

/// Sprig's `strslice`: a list becomes its non-nil items as strings (`strval`); bytes become
/// their decimal values; nil becomes an empty list; any other value a one-item list.
pub fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) => items.iter().filter(|x| !x.is_nil()).map(strval).collect(),
        Value::Bytes(b) => b.iter().map(|x| x.to_string()).collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
pub fn format_float_f(f: f64) -> String {
    crate::fmt::format_float(f, 'f', None)
}

/// Go's `underscoreOK`: underscores only between digits (or after a base prefix).
fn underscore_ok(s: &str) -> bool {
    let mut s = s.as_bytes();
    if let Some(b'-' | b'+') = s.first() {
        s = &s[1..];
    }
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1] | 0x20 == b'x';
    }
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_digit() || (hex && (c | 0x20).is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `strconv.ParseUint(s, base, 64)`; `base == 0` reads `0x`/`0o`/`0b`/`0` prefixes and
/// allows underscores.
pub fn parse_uint(s: &str, base: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let s0 = s;
    let base0 = base == 0;
    let mut base = base;
    let mut digits = s.as_bytes();
    if base0 {
        base = 10;
        if digits[0] == b'0' {
            let prefix = digits.get(1).map(|c| c | 0x20);
            match prefix {
                Some(b'b') if digits.len() >= 3 => {
                    base = 2;
                    digits = &digits[2..];
                }
                Some(b'o') if digits.len() >= 3 => {
                    base = 8;
                    digits = &digits[2..];
                }
                Some(b'x') if digits.len() >= 3 => {
                    base = 16;
                    digits = &digits[2..];
                }
                _ => {
                    base = 8;
                    digits = &digits[1..];
                }
            }
        }
    } else if !(2..=36).contains(&base) {
        return None;
    }
    let mut n: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        let d = match c {
            b'_' if base0 => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => u32::from(c - b'0'),
            b'a'..=b'z' => u32::from(c - b'a') + 10,
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        if d >= base {
            return None;
        }
        n = n.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    if underscores && !underscore_ok(s0) {
        return None;
    }
    Some(n)
}

/// Go's `strconv.ParseInt(s, base, 64)` (errors, including out of range, are `None`).
pub fn parse_int(s: &str, base: u32) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let un = parse_uint(rest, base)?;
    if neg {
        if un > 1u64 << 63 {
            return None;
        }
        Some((un as i64).wrapping_neg())
    } else {
        i64::try_from(un).ok()
    }
}

/// Go's `strconv.Atoi`: base 10, optional sign, no prefixes or underscores.
pub fn atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    parse_int(s, 10)
}

/// Go's `strconv.ParseFloat(s, 64)`; `None` for syntax errors and for overflow to infinity
/// (Go returns `ErrRange` there).
pub fn parse_float(s: &str) -> Option<f64> {
    // Go's special(): [+-]inf, [+-]infinity, nan (no sign), any case.
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    if unsigned == "inf" || unsigned == "infinity" {
        return Some(if lower.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" {
        return Some(f64::NAN);
    }
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let cleaned: String = s.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match cleaned.as_bytes().first() {
        Some(b'+') => (false, &cleaned[1..]),
        Some(b'-') => (true, &cleaned[1..]),
        _ => (false, cleaned.as_str()),
    };
    if body.starts_with(['+', '-']) {
        return None;
    }
    let value = if body.len() > 2 && body.as_bytes()[0] == b'0' && body.as_bytes()[1] | 0x20 == b'x'
    {
        parse_hex_float(&body[2..])?
    } else {
        if body.is_empty()
            || !body
                .bytes()
                .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    if value.is_infinite() {
        return None;
    }
    Some(if neg { -value } else { value })
}

/// The part of a Go hex float after `0x`: hex mantissa with an optional point, then a
/// mandatory `p` exponent.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once(['p', 'P'])?;
    let exp: i64 = if exp.is_empty() {
        return None;
    } else {
        let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        exp.parse::<i64>().unwrap_or(if exp.starts_with('-') {
            -100_000
        } else {
            100_000
        })
    };
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut m: f64 = 0.0;
    let mut e = exp;
    for c in int_part.chars() {
        m = m * 16.0 + f64::from(c.to_digit(16)?);
    }
    for c in frac_part.chars() {
        m = m * 16.0 + f64::from(c.to_digit(16)?);
        e -= 4;
    }
    Some(ldexp(m, e.clamp(-5000, 5000) as i32))
}

/// `m × 2^e`, stepping so intermediate results stay finite.
pub(crate) fn ldexp(mut m: f64, mut e: i32) -> f64 {
    while e > 1000 {
        m *= 2f64.powi(1000);
        e -= 1000;
        if m.is_infinite() {
            return m;
        }
    }
    while e < -1000 {
        m *= 2f64.powi(-1000);
        e += 1000;
        if m == 0.0 {
            return m;
        }
    }
    m * 2f64.powi(e)
}

/// Calls template functions directly, for the families' unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use crate::funcs::{Env, FuncCtx, FuncMap, Limits, Offline};
    use crate::value::Value;

    /// A string value.
    pub(crate) fn s(x: &str) -> Value {
        Value::str(x)
    }

    /// Runs `name` from Helm's function map with a fixed clock (2024-01-02T03:04:05Z) and a
    /// seeded random stream; limits of 1 MiB.
    pub(crate) fn try_call(name: &str, args: Vec<Value>) -> Result<Value, crate::funcs::FuncError> {
        let funcs = FuncMap::helm();
        let Some(def) = funcs.get(name) else {
            panic!("no function {name}");
        };
        let mut env = Env::fixed(1_704_164_645, 42);
        let limits = Limits {
            max_value_len: 1 << 20,
        };
        let mut host = Offline;
        let mut ctx = FuncCtx {
            env: &mut env,
            limits: &limits,
            host: &mut host,
        };
        (def.f)(&mut ctx, &args)
    }

    pub(crate) fn call(name: &str, args: Vec<Value>) -> Value {
        match try_call(name, args) {
            Ok(v) => v,
            Err(e) => panic!("{name}: {e}"),
        }
    }

    pub(crate) fn call_err(name: &str, args: Vec<Value>) -> String {
        match try_call(name, args) {
            Ok(v) => panic!("{name}: expected an error, got {v:?}"),
            Err(e) => e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_int64_like_cast() {
        // Expectations from helm v4.1.4 (`int64 X`, `int X`).
        let cases: &[(Value, i64)] = &[
            (Value::str("12.00"), 12),
            (Value::str("12.5"), 0),
            (Value::str("0x1F"), 31),
            (Value::str("08"), 0),
            (Value::str("010"), 8),
            (Value::str("1_000"), 1000),
            (Value::Float(3.9), 3),
            (Value::Float(-3.9), -3),
            (Value::Bool(true), 1),
            (Value::str("abc"), 0),
            (Value::str(" 5"), 0),
            (Value::str("+5"), 5),
            (Value::str("0b101"), 5),
            (Value::str("0o17"), 15),
            (Value::str(".0"), 0),
            (Value::str("5."), 0),
            (Value::Nil, 0),
            (Value::str("-9223372036854775808"), i64::MIN),
            (Value::str("9223372036854775808"), 0),
            (Value::list(vec![]), 0),
        ];
        for (v, want) in cases {
            assert_eq!(to_int64(v), *want, "{v:?}");
        }
    }

    #[test]
    fn to_float64_like_cast() {
        // helm v4.1.4: `float64 "1_000.5"` = 1000.5, `float64 "inf"` = +Inf, `0x1p-2` = 0.25.
        let cases: &[(&str, Option<f64>)] = &[
            ("1_000.5", Some(1000.5)),
            ("inf", Some(f64::INFINITY)),
            ("-Infinity", Some(f64::NEG_INFINITY)),
            ("0x1p-2", Some(0.25)),
            ("1e400", None),
            ("1e", None),
            ("abc", None),
            ("+nan", None),
            (".5", Some(0.5)),
            ("", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_float(s), *want, "{s}");
        }
        assert!(parse_float("NaN").is_some_and(f64::is_nan));
    }

    #[test]
    fn floats_to_int_like_amd64() {
        assert_eq!(go_float_to_int64(f64::NAN), i64::MIN);
        assert_eq!(go_float_to_int64(1e300), i64::MIN);
        assert_eq!(go_float_to_int64(-1e300), i64::MIN);
        assert_eq!(go_float_to_int64(-2.5), -2);
    }

    #[test]
    fn strings_like_cast_and_sprig() {
        assert_eq!(to_string(&Value::Float(1e6)), "1000000");
        assert_eq!(to_string(&Value::Float(0.000001)), "0.000001");
        assert_eq!(to_string(&Value::list(vec![])), "");
        assert_eq!(strval(&Value::Float(1e6)), "1e+06");
        assert_eq!(strval(&Value::Nil), "<nil>");
        assert_eq!(
            strslice(&Value::list(vec![
                Value::Int(1),
                Value::Nil,
                Value::str("a")
            ])),
            vec!["1".to_string(), "a".to_string()]
        );
        assert_eq!(
            strslice(&Value::Bytes(b"hi".to_vec().into())),
            vec!["104", "105"]
        );
        assert_eq!(strslice(&Value::Nil), Vec::<String>::new());
    }

    #[test]
    fn atoi_is_strict() {
        assert_eq!(atoi("+5"), Some(5));
        assert_eq!(atoi("1_0"), None);
        assert_eq!(atoi("0x10"), None);
        assert_eq!(atoi("-12"), Some(-12));
    }
}
