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
        Value::Object(o) => match o.stringer() {
            Some(text) => out.push_str(&text),
            None => write_v(out, &o.to_value(), depth + 1),
        },
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
    // strconv: with the shortest precision, `eprec` is 6, and %e is used when `exp < -4 ||
    // exp >= eprec` (checked against Helm: 1234567.0 prints 1.234567e+06).
    let (neg, digits, exp) = shortest_digits(f);
    if !(-4..6).contains(&exp) {
        return format_float(f, 'e', None);
    }
    let sign = if neg { "-" } else { "" };
    format!("{sign}{}", fixed_digits(&digits, exp))
}

/// Digits `d.ddd × 10^exp` written out in 'f' form (`1234`, `0.00012`, `1.5`).
pub(crate) fn fixed_digits(digits: &str, exp: i32) -> String {
    let mut out = String::new();
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            out.push_str(digits);
            for _ in digits.len()..point {
                out.push('0');
            }
        } else {
            out.push_str(digits.get(..point).unwrap_or(""));
            out.push('.');
            out.push_str(digits.get(point..).unwrap_or(""));
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

// ---------------------------------------------------------------------------------------------
// Go's fmt.Sprint / Sprintln / Sprintf.

/// Go's `fmt.Sprint`: operands printed with `%v`, a space between two operands when neither is
/// a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        print_arg(&mut out, a, 'v', &Flags::default());
        prev_string = is_string;
    }
    out
}

/// Go's `fmt.Sprintln`: operands printed with `%v`, always separated by spaces, then a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        print_arg(&mut out, a, 'v', &Flags::default());
    }
    out.push('\n');
    out
}

#[derive(Clone, Copy, Default, Debug)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    sharp_v: bool,
    plus_v: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

fn too_large(n: i64) -> bool {
    !(-1_000_000..=1_000_000).contains(&n)
}

/// Parses a decimal number at `i`: (number, present, new index), as Go's `parsenum`.
fn parsenum(f: &[u8], mut i: usize, end: usize) -> (usize, bool, usize) {
    if i >= end {
        return (0, false, end);
    }
    let mut num: i64 = 0;
    let mut found = false;
    while i < end && f.get(i).is_some_and(u8::is_ascii_digit) {
        if too_large(num) {
            return (0, false, end);
        }
        num = num * 10 + i64::from(f.get(i).copied().unwrap_or(b'0') - b'0');
        found = true;
        i += 1;
    }
    (usize::try_from(num).unwrap_or(0), found, i)
}

/// Go's `intFromArg`: the value of a `*` width or precision.
fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
    match args.get(arg_num) {
        Some(v) => {
            let (n, ok) = match v {
                Value::Int(n) | Value::Int64(n) => (*n, true),
                _ => (0, false),
            };
            if too_large(n) {
                (0, false, arg_num + 1)
            } else {
                (n, ok, arg_num + 1)
            }
        }
        None => (0, false, arg_num),
    }
}

/// Go's `fmt.Sprintf`, with its error forms (`%!d(string=x)`, `%!v(MISSING)`,
/// `%!(EXTRA int=2)`, `%!(NOVERB)`, `%!(BADWIDTH)`, `%!(BADPREC)`, `%!v(BADINDEX)`).
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let f = format.as_bytes();
    let end = f.len();
    let mut out = String::new();
    let mut arg_num = 0usize;
    let mut reordered = false;
    let mut i = 0usize;
    'format: while i < end {
        if out.len() > MAX_PRINT_BYTES {
            break;
        }
        let mut good_arg_num = true;
        let last = i;
        while i < end && f.get(i) != Some(&b'%') {
            i += 1;
        }
        if i > last {
            out.push_str(format.get(last..i).unwrap_or(""));
        }
        if i >= end {
            break;
        }
        i += 1;
        let mut fl = Flags::default();
        // Flags.
        while i < end {
            match f.get(i).copied().unwrap_or(0) {
                b'#' => fl.sharp = true,
                b'0' => fl.zero = !fl.minus,
                b'+' => fl.plus = true,
                b'-' => {
                    fl.minus = true;
                    fl.zero = false;
                }
                b' ' => fl.space = true,
                _ => break,
            }
            i += 1;
        }
        let mut after_index;
        // Argument index.
        let arg_number = |arg_num: usize,
                          i: usize,
                          reordered: &mut bool,
                          good: &mut bool|
         -> (usize, usize, bool) {
            if f.get(i) != Some(&b'[') {
                return (arg_num, i, false);
            }
            *reordered = true;
            let rest = f.get(i..).unwrap_or(&[]);
            // parseArgNumber
            let (index, wid, ok) = if rest.len() < 3 {
                (0i64, 1usize, false)
            } else {
                let mut res = (0i64, 1usize, false);
                for j in 1..rest.len() {
                    if rest.get(j) == Some(&b']') {
                        let (w, ok, newi) = parsenum(rest, 1, j);
                        res = if !ok || newi != j {
                            (0, j + 1, false)
                        } else {
                            (i64::try_from(w).unwrap_or(0) - 1, j + 1, true)
                        };
                        break;
                    }
                }
                res
            };
            if ok && index >= 0 && (index as usize) < args.len() {
                return (index as usize, i + wid, true);
            }
            *good = false;
            (arg_num, i + wid, ok)
        };
        (arg_num, i, after_index) = arg_number(arg_num, i, &mut reordered, &mut good_arg_num);
        // Width.
        if f.get(i) == Some(&b'*') {
            i += 1;
            let (n, ok, na) = int_from_arg(args, arg_num);
            arg_num = na;
            if !ok {
                out.push_str("%!(BADWIDTH)");
                fl.wid = None;
            } else {
                if n < 0 {
                    fl.minus = true;
                    fl.zero = false;
                }
                fl.wid = Some(n.unsigned_abs() as usize);
            }
            after_index = false;
        } else {
            let (w, ok, ni) = parsenum(f, i, end);
            i = ni;
            fl.wid = ok.then_some(w);
            if after_index && ok {
                good_arg_num = false;
            }
        }
        // Precision.
        if i + 1 < end && f.get(i) == Some(&b'.') {
            i += 1;
            if after_index {
                good_arg_num = false;
            }
            (arg_num, i, after_index) = arg_number(arg_num, i, &mut reordered, &mut good_arg_num);
            if f.get(i) == Some(&b'*') {
                i += 1;
                let (n, ok, na) = int_from_arg(args, arg_num);
                arg_num = na;
                if n < 0 {
                    fl.prec = None;
                } else {
                    fl.prec = ok.then_some(n as usize);
                }
                if !ok {
                    out.push_str("%!(BADPREC)");
                }
                after_index = false;
            } else {
                let (p, ok, ni) = parsenum(f, i, end);
                i = ni;
                fl.prec = Some(if ok { p } else { 0 });
            }
        }
        if !after_index {
            (arg_num, i, _) = arg_number(arg_num, i, &mut reordered, &mut good_arg_num);
        }
        if i >= end {
            out.push_str("%!(NOVERB)");
            break;
        }
        let verb = format
            .get(i..)
            .and_then(|r| r.chars().next())
            .unwrap_or('?');
        i += verb.len_utf8();
        match verb {
            '%' => out.push('%'),
            _ if !good_arg_num => {
                out.push_str("%!");
                out.push(verb);
                out.push_str("(BADINDEX)");
            }
            _ if arg_num >= args.len() => {
                out.push_str("%!");
                out.push(verb);
                out.push_str("(MISSING)");
            }
            _ => {
                if verb == 'v' {
                    fl.sharp_v = fl.sharp;
                    fl.sharp = false;
                    fl.plus_v = fl.plus;
                    fl.plus = false;
                }
                if let Some(a) = args.get(arg_num) {
                    print_arg(&mut out, a, verb, &fl);
                }
                arg_num += 1;
                continue 'format;
            }
        }
    }
    if !reordered && arg_num < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, a) in args.iter().skip(arg_num).enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            if a.is_nil() {
                out.push_str("<nil>");
            } else {
                out.push_str(a.type_name());
                out.push('=');
                print_arg(&mut out, a, 'v', &Flags::default());
            }
        }
        out.push(')');
    }
    out
}

/// Writes `s` padded to the width (Go's `fmt.pad`).
fn pad(out: &mut String, s: &str, fl: &Flags) {
    let Some(wid) = fl.wid else {
        out.push_str(s);
        return;
    };
    let n = s.chars().count();
    if n >= wid {
        out.push_str(s);
        return;
    }
    let fill = if fl.zero { '0' } else { ' ' };
    if fl.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', wid - n));
    } else {
        out.extend(std::iter::repeat_n(fill, wid - n));
        out.push_str(s);
    }
}

fn bad_verb(out: &mut String, v: &Value, verb: char, fl: &Flags) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    if v.is_nil() {
        out.push_str("<nil>");
    } else {
        out.push_str(v.type_name());
        out.push('=');
        print_value(out, v, 'v', fl, 0);
    }
    out.push(')');
}

/// Go's `printArg`: one operand of `Sprintf` under `verb`.
fn print_arg(out: &mut String, v: &Value, verb: char, fl: &Flags) {
    if v.is_nil() {
        match verb {
            'T' | 'v' => pad(out, "<nil>", fl),
            _ => bad_verb(out, v, verb, fl),
        }
        return;
    }
    if verb == 'T' {
        pad(out, v.type_name(), fl);
        return;
    }
    print_value(out, v, verb, fl, 0);
}

fn print_value(out: &mut String, v: &Value, verb: char, fl: &Flags, depth: usize) {
    if depth > MAX_VALUE_DEPTH || out.len() > MAX_PRINT_BYTES {
        out.push_str("...");
        return;
    }
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, fl),
            _ => bad_verb(out, v, verb, fl),
        },
        Value::Int(n) | Value::Int64(n) => fmt_integer_verb(out, v, *n, verb, fl),
        Value::Float(x) => fmt_float_verb(out, v, *x, verb, fl),
        Value::String(s) => fmt_string_verb(out, v, s, verb, fl),
        Value::Bytes(b) => match verb {
            's' => fmt_s(out, &crate::value::go_string_from_bytes(b), fl),
            'q' => fmt_q(out, &String::from_utf8_lossy(b), fl),
            'x' => fmt_sx(out, b, false, fl),
            'X' => fmt_sx(out, b, true, fl),
            _ => {
                if fl.sharp_v {
                    out.push_str("[]byte{");
                    for (i, x) in b.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        out.push_str(&format!("0x{x:x}"));
                    }
                    out.push('}');
                    return;
                }
                out.push('[');
                for (i, x) in b.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    fmt_integer_verb(out, &Value::Int(i64::from(*x)), i64::from(*x), verb, fl);
                }
                out.push(']');
            }
        },
        Value::List(items) => {
            if fl.sharp_v {
                out.push_str("[]interface {}{");
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    print_value(out, x, verb, fl, depth + 1);
                }
                out.push('}');
                return;
            }
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                print_value(out, x, verb, fl, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let entries = m.snapshot();
            if fl.sharp_v {
                out.push_str("map[string]interface {}{");
                for (i, (k, x)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&go_quote(k));
                    out.push(':');
                    print_value(out, x, verb, fl, depth + 1);
                }
                out.push('}');
                return;
            }
            out.push_str("map[");
            for (i, (k, x)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                let key = Value::str(k.as_str());
                print_value(out, &key, verb, fl, depth + 1);
                out.push(':');
                print_value(out, x, verb, fl, depth + 1);
            }
            out.push(']');
        }
        Value::Object(o) => match o.stringer() {
            // Go's handleMethods: a Stringer's String() for %v %s %q %x %X (not %#v).
            Some(text) if matches!(verb, 'v' | 's' | 'q' | 'x' | 'X') && !fl.sharp_v => {
                print_value(out, &Value::str(text), verb, fl, depth + 1)
            }
            _ => print_value(out, &o.to_value(), verb, fl, depth + 1),
        },
    }
}

fn fmt_integer_verb(out: &mut String, v: &Value, n: i64, verb: char, fl: &Flags) {
    match verb {
        'v' | 'd' => fmt_integer(out, n, 10, verb, false, fl),
        'b' => fmt_integer(out, n, 2, verb, false, fl),
        'o' | 'O' => fmt_integer(out, n, 8, verb, false, fl),
        'x' => fmt_integer(out, n, 16, verb, false, fl),
        'X' => fmt_integer(out, n, 16, verb, true, fl),
        'c' => {
            let c = u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            pad(out, c.encode_utf8(&mut [0; 4]), fl);
        }
        'q' => {
            let c = u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            pad(out, &go_quote_rune(c, fl.plus), fl);
        }
        'U' => {
            let mut s = format!("U+{:04X}", n as u64);
            if let Some(p) = fl.prec {
                let digits = s.len() - 2;
                if p > digits {
                    s = format!("U+{}{}", "0".repeat(p - digits), s.get(2..).unwrap_or(""));
                }
            }
            if fl.sharp
                && let Some(c) = u32::try_from(n).ok().and_then(char::from_u32)
                && is_print(c)
            {
                s.push_str(" '");
                s.push(c);
                s.push('\'');
            }
            let mut f2 = *fl;
            f2.zero = false;
            pad(out, &s, &f2);
        }
        _ => bad_verb(out, v, verb, fl),
    }
}

/// Go's `fmt.fmtInteger`.
fn fmt_integer(out: &mut String, n: i64, base: u32, verb: char, upper: bool, fl: &Flags) {
    let negative = n < 0;
    let u = n.unsigned_abs();
    let mut prec = 0usize;
    if let Some(p) = fl.prec {
        prec = p;
        if p == 0 && u == 0 {
            let mut f2 = *fl;
            f2.zero = false;
            pad(out, "", &f2);
            return;
        }
    } else if fl.zero && !fl.minus && fl.wid.is_some() {
        prec = fl.wid.unwrap_or(0);
        if negative || fl.plus || fl.space {
            prec = prec.saturating_sub(1);
        }
    }
    let mut digits = match base {
        2 => format!("{u:b}"),
        8 => format!("{u:o}"),
        16 if upper => format!("{u:X}"),
        16 => format!("{u:x}"),
        _ => u.to_string(),
    };
    if prec > digits.len() {
        digits = format!("{}{}", "0".repeat(prec - digits.len()), digits);
    }
    let mut prefix = String::new();
    if fl.sharp {
        match base {
            2 => prefix.push_str("0b"),
            8 if !digits.starts_with('0') => prefix.push('0'),
            16 => prefix.push_str(if upper { "0X" } else { "0x" }),
            _ => {}
        }
    }
    if verb == 'O' {
        prefix = format!("0o{prefix}");
    }
    let sign = if negative {
        "-"
    } else if fl.plus {
        "+"
    } else if fl.space {
        " "
    } else {
        ""
    };
    let s = format!("{sign}{prefix}{digits}");
    let mut f2 = *fl;
    f2.zero = false;
    pad(out, &s, &f2);
}

fn fmt_float_verb(out: &mut String, v: &Value, x: f64, verb: char, fl: &Flags) {
    match verb {
        'v' => fmt_float(out, x, 'g', None, fl),
        'b' | 'g' | 'G' | 'x' | 'X' => fmt_float(out, x, verb, None, fl),
        'f' | 'e' | 'E' => fmt_float(out, x, verb, Some(6), fl),
        'F' => fmt_float(out, x, 'f', Some(6), fl),
        _ => bad_verb(out, v, verb, fl),
    }
}

/// Go's `fmt.fmtFloat`: `strconv.FormatFloat` then sign and padding rules.
fn fmt_float(out: &mut String, x: f64, verb: char, prec: Option<usize>, fl: &Flags) {
    let prec = fl.prec.or(prec);
    let body = format_float(x, verb, prec);
    let mut num = if body.starts_with('-') || body.starts_with('+') {
        body
    } else {
        format!("+{body}")
    };
    if fl.space && num.starts_with('+') && !fl.plus {
        num.replace_range(0..1, " ");
    }
    if num.get(1..2) == Some("I") || num.get(1..2) == Some("N") {
        if num.get(1..2) == Some("N") && !fl.space && !fl.plus {
            num.remove(0);
        }
        let mut f2 = *fl;
        f2.zero = false;
        pad(out, &num, &f2);
        return;
    }
    if fl.plus || !num.starts_with('+') {
        if let Some(w) = fl.wid
            && fl.zero
            && !fl.minus
            && w > num.len()
        {
            out.push_str(num.get(..1).unwrap_or(""));
            out.extend(std::iter::repeat_n('0', w - num.len()));
            out.push_str(num.get(1..).unwrap_or(""));
            return;
        }
        pad(out, &num, fl);
        return;
    }
    pad(out, num.get(1..).unwrap_or(""), fl);
}

/// Go's `strconv.FormatFloat(x, verb, prec, 64)` for `e E f g G x X b` (`None` = shortest).
pub fn format_float(x: f64, verb: char, prec: Option<usize>) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = x.is_sign_negative();
    let sign = if neg { "-" } else { "" };
    match verb {
        'e' | 'E' => {
            let (digits, exp) = match prec {
                None => {
                    if x == 0.0 {
                        ("0".to_string(), 0)
                    } else {
                        let (_, d, e) = shortest_digits(x);
                        (d, e)
                    }
                }
                Some(p) => fixed_e_digits(x, p),
            };
            let mut s = String::from(sign);
            s.push_str(digits.get(..1).unwrap_or("0"));
            if digits.len() > 1 {
                s.push('.');
                s.push_str(digits.get(1..).unwrap_or(""));
            }
            s.push(verb);
            push_exp(&mut s, exp);
            s
        }
        'f' => match prec {
            Some(p) => format!("{sign}{:.p$}", x.abs()),
            None => {
                if x == 0.0 {
                    return format!("{sign}0");
                }
                let (_, d, e) = shortest_digits(x);
                format!("{sign}{}", fixed_digits(&d, e))
            }
        },
        'g' | 'G' => {
            let e_char = if verb == 'G' { 'E' } else { 'e' };
            match prec {
                None => {
                    let s = format_float_g(x);
                    if verb == 'G' { s.replace('e', "E") } else { s }
                }
                Some(p) => {
                    let p = p.max(1);
                    if x == 0.0 {
                        return format!("{sign}0");
                    }
                    let (mut digits, exp) = fixed_e_digits(x, p - 1);
                    while digits.len() > 1 && digits.ends_with('0') {
                        digits.pop();
                    }
                    let nd = digits.len() as i32;
                    let dp = exp + 1;
                    let mut eprec = p as i32;
                    if eprec > nd && nd >= dp {
                        eprec = nd;
                    }
                    if exp < -4 || exp >= eprec {
                        let mut s = String::from(sign);
                        s.push_str(digits.get(..1).unwrap_or("0"));
                        if digits.len() > 1 {
                            s.push('.');
                            s.push_str(digits.get(1..).unwrap_or(""));
                        }
                        s.push(e_char);
                        push_exp(&mut s, exp);
                        return s;
                    }
                    // %f with max(nd - dp, 0) fraction digits.
                    let frac = (nd - dp).max(0) as usize;
                    let mut s = String::from(sign);
                    if dp <= 0 {
                        s.push_str("0.");
                        s.extend(std::iter::repeat_n('0', (-dp) as usize));
                        s.push_str(&digits);
                    } else {
                        let dpu = dp as usize;
                        if digits.len() <= dpu {
                            s.push_str(&digits);
                            s.extend(std::iter::repeat_n('0', dpu - digits.len()));
                        } else {
                            s.push_str(digits.get(..dpu).unwrap_or(""));
                            if frac > 0 {
                                s.push('.');
                                s.push_str(digits.get(dpu..).unwrap_or(""));
                            }
                        }
                    }
                    s
                }
            }
        }
        'x' | 'X' => format_hex_float(x, prec, verb == 'X'),
        'b' => {
            let bits = x.to_bits();
            let exp = ((bits >> 52) & 0x7ff) as i64;
            let mut mant = bits & ((1u64 << 52) - 1);
            let e = if exp == 0 {
                -1074
            } else {
                mant |= 1u64 << 52;
                exp - 1075
            };
            format!("{sign}{mant}p{}{e}", if e >= 0 { "+" } else { "" })
        }
        _ => format_float_g(x),
    }
}

/// Digits of `x` rounded to `p` digits after the first (as `%.*e`), and the exponent.
fn fixed_e_digits(x: f64, p: usize) -> (String, i32) {
    let s = format!("{:.p$e}", x.abs());
    let (m, e) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let digits: String = m.chars().filter(char::is_ascii_digit).collect();
    (digits, e.parse().unwrap_or(0))
}

fn push_exp(s: &mut String, exp: i32) {
    s.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        s.push('0');
    }
    s.push_str(&e.to_string());
}

/// Go's `%x` of a float64 (`strconv.FormatFloat(x, 'x', prec, 64)`).
fn format_hex_float(x: f64, prec: Option<usize>, upper: bool) -> String {
    let neg = x.is_sign_negative();
    let bits = x.to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i32;
    let mut mant = bits & ((1u64 << 52) - 1);
    if exp == 0 && mant == 0 {
        exp = 0;
    } else if exp == 0 {
        // Subnormal: normalize.
        exp = -1022;
        while mant & (1u64 << 52) == 0 {
            mant <<= 1;
            exp -= 1;
        }
        mant &= (1u64 << 52) - 1;
    } else {
        exp -= 1023;
    }
    let lead = if x == 0.0 { 0 } else { 1 };
    // 52 bits of fraction = 13 hex digits.
    let mut frac = mant;
    let mut ndig = 13usize;
    if let Some(p) = prec
        && p < 13
    {
        let shift = (13 - p) * 4;
        let half = 1u64 << (shift - 1);
        let rem = frac & ((1u64 << shift) - 1);
        frac >>= shift;
        if rem > half || (rem == half && frac & 1 == 1) {
            frac += 1;
        }
        ndig = p;
        if ndig == 0 && frac > 0 || (ndig > 0 && frac >> (ndig * 4) != 0) {
            // Rounded up into the leading digit.
            frac = 0;
            exp += 1;
        }
    }
    let mut hex = if ndig == 0 {
        String::new()
    } else {
        format!("{:0w$x}", frac, w = ndig)
    };
    if prec.is_none() {
        while hex.ends_with('0') {
            hex.pop();
        }
    } else if let Some(p) = prec
        && p > 13
    {
        hex.extend(std::iter::repeat_n('0', p - 13));
    }
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push_str("0x");
    s.push(if lead == 1 { '1' } else { '0' });
    if !hex.is_empty() {
        s.push('.');
        s.push_str(&hex);
    }
    s.push('p');
    push_exp(&mut s, exp);
    if upper { s.to_uppercase() } else { s }
}

fn fmt_string_verb(out: &mut String, v: &Value, s: &str, verb: char, fl: &Flags) {
    match verb {
        'v' if fl.sharp_v => fmt_q(out, s, fl),
        'v' | 's' => fmt_s(out, s, fl),
        'x' => fmt_sx(out, s.as_bytes(), false, fl),
        'X' => fmt_sx(out, s.as_bytes(), true, fl),
        'q' => fmt_q(out, s, fl),
        _ => bad_verb(out, v, verb, fl),
    }
}

fn truncate<'a>(s: &'a str, fl: &Flags) -> &'a str {
    match fl.prec {
        Some(p) => match s.char_indices().nth(p) {
            Some((i, _)) => s.get(..i).unwrap_or(s),
            None => s,
        },
        None => s,
    }
}

fn fmt_s(out: &mut String, s: &str, fl: &Flags) {
    pad(out, truncate(s, fl), fl);
}

fn fmt_q(out: &mut String, s: &str, fl: &Flags) {
    let s = truncate(s, fl);
    let q = if fl.sharp && !s.contains('`') && s.chars().all(|c| c == '\t' || !c.is_control()) {
        format!("`{s}`")
    } else if fl.plus {
        go_quote_with(s, true)
    } else {
        go_quote(s)
    };
    pad(out, &q, fl);
}

fn fmt_sx(out: &mut String, b: &[u8], upper: bool, fl: &Flags) {
    let n = match fl.prec {
        Some(p) => p.min(b.len()),
        None => b.len(),
    };
    let b = b.get(..n).unwrap_or(b);
    let mut s = String::new();
    for (i, x) in b.iter().enumerate() {
        if fl.space && i > 0 {
            s.push(' ');
        }
        if fl.sharp && (fl.space || i == 0) {
            s.push_str(if upper { "0X" } else { "0x" });
        }
        if upper {
            s.push_str(&format!("{x:02X}"));
        } else {
            s.push_str(&format!("{x:02x}"));
        }
    }
    pad(out, &s, fl);
}

/// Go's `unicode.IsPrint`, approximated without the full Unicode tables: controls, format
/// characters, separators other than the ASCII space, surrogates and private use are not
/// printable.
pub(crate) fn is_print(c: char) -> bool {
    let u = c as u32;
    if c == ' ' {
        return true;
    }
    if c.is_control() {
        return false;
    }
    !matches!(u,
        0xA0 | 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x1680 | 0x180E
        | 0x2000..=0x200F | 0x2028..=0x202F | 0x205F..=0x2064 | 0x2066..=0x206F
        | 0x3000 | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xFFFE | 0xFFFF
        | 0xF0000..=0x10FFFF | 0xE0001 | 0xE0020..=0xE007F)
}

fn push_escaped(out: &mut String, c: char, quote: char, ascii_only: bool) {
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if (c as u32) < 0x80 && is_print(c) => out.push(c),
        c if !ascii_only && is_print(c) => out.push(c),
        c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    go_quote_with(s, false)
}

/// Go's `strconv.Quote` (`ascii_only`: `strconv.QuoteToASCII`).
pub fn go_quote_with(s: &str, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"', ascii_only);
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune` (`ascii_only`: `QuoteRuneToASCII`).
pub fn go_quote_rune(c: char, ascii_only: bool) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'', ascii_only);
    out.push('\'');
    out
}

/// Go's `%#U` of a rune (`U+0023 '#'`), as lexer errors print characters.
pub(crate) fn go_unicode_hash(c: char) -> String {
    if is_print(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
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
