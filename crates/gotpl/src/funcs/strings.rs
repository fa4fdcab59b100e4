//! Template functions: Sprig's string family (`strings.go` and the string entries of
//! `functions.go`): `trim*`, case changes (`upper`, `title`, `snakecase`, `camelcase`, ...),
//! `substr`/`trunc`/`abbrev`, `wrap`, `indent`/`nindent`, `quote`/`squote`/`cat`, `replace`,
//! `split*`/`join`/`sortAlpha`/`toStrings`, `rand*` and `shuffle` (randomness from
//! [`crate::funcs::Env`]), plus Go's `unicode` predicates and `strconv.Quote` they need.
//!
//! Go slices strings by byte (`trunc`, `substr`, `abbrev`, `wrapWith` can cut a UTF-8
//! sequence in two; Go then emits the broken bytes). Strings here are UTF-8, so a cut sequence
//! becomes U+FFFD. goutils' `nospace` and `initials` read bytes as Latin-1 runes, which mangles
//! non-ASCII text; that is reproduced as Helm shows it (`nospace "hé llo"` is `hÃ©llo`).

use unicode_general_category::{GeneralCategory, get_general_category};

use super::cast::{strslice, strval};
use super::{FuncCtx, FuncError, FuncMap, FuncResult, Sig, Ty};
use crate::fmt::format_v;
use crate::value::{Map, Value};

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::{Any, Int, String as S};
    map.add("hello", Sig::fixed(&[]), |_, _| Ok(Value::str("Hello!")));
    map.add("abbrev", Sig::fixed(&[Int, S]), abbrev);
    map.add("abbrevboth", Sig::fixed(&[Int, Int, S]), abbrevboth);
    map.add("trunc", Sig::fixed(&[Int, S]), trunc);
    map.add("trim", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(go_trim_space(arg_str(a, 0))))
    });
    map.add("upper", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(
            arg_str(a, 0).chars().map(to_upper).collect::<String>(),
        ))
    });
    map.add("lower", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(
            arg_str(a, 0).chars().map(to_lower).collect::<String>(),
        ))
    });
    map.add("title", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(title(arg_str(a, 0))))
    });
    map.add("untitle", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(untitle(arg_str(a, 0))))
    });
    map.add("substr", Sig::fixed(&[Int, Int, S]), substr);
    map.add("repeat", Sig::fixed(&[Int, S]), repeat);
    map.add("trimall", Sig::fixed(&[S, S]), trim_all);
    map.add("trimAll", Sig::fixed(&[S, S]), trim_all);
    map.add("trimSuffix", Sig::fixed(&[S, S]), |_, a| {
        let (suffix, s) = (arg_str(a, 0), arg_str(a, 1));
        Ok(Value::str(s.strip_suffix(suffix).unwrap_or(s)))
    });
    map.add("trimPrefix", Sig::fixed(&[S, S]), |_, a| {
        let (prefix, s) = (arg_str(a, 0), arg_str(a, 1));
        Ok(Value::str(s.strip_prefix(prefix).unwrap_or(s)))
    });
    map.add("nospace", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(nospace(arg_str(a, 0))))
    });
    map.add("initials", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(initials(arg_str(a, 0))))
    });
    map.add("randAlphaNum", Sig::fixed(&[Int]), |c, a| {
        rand_string(
            c,
            a,
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        )
    });
    map.add("randAlpha", Sig::fixed(&[Int]), |c, a| {
        rand_string(
            c,
            a,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        )
    });
    map.add("randAscii", Sig::fixed(&[Int]), |c, a| {
        rand_string(
            c,
            a,
            b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
        )
    });
    map.add("randNumeric", Sig::fixed(&[Int]), |c, a| {
        rand_string(c, a, b"0123456789")
    });
    map.add("swapcase", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(swapcase(arg_str(a, 0))))
    });
    map.add("shuffle", Sig::fixed(&[S]), shuffle);
    map.add("snakecase", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(camel_to_lower(arg_str(a, 0), '_')))
    });
    map.add("kebabcase", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(camel_to_lower(arg_str(a, 0), '-')))
    });
    map.add("camelcase", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(pascal_case(arg_str(a, 0))))
    });
    map.add("wrap", Sig::fixed(&[Int, S]), |c, a| {
        let out = wrap_custom(arg_int(a, 0), arg_str(a, 1), "\n", false, c)?;
        Ok(Value::str(out))
    });
    map.add("wrapWith", Sig::fixed(&[Int, S, S]), |c, a| {
        let out = wrap_custom(arg_int(a, 0), arg_str(a, 2), arg_str(a, 1), true, c)?;
        Ok(Value::str(out))
    });
    map.add("contains", Sig::fixed(&[S, S]), |_, a| {
        Ok(Value::Bool(arg_str(a, 1).contains(arg_str(a, 0))))
    });
    map.add("hasPrefix", Sig::fixed(&[S, S]), |_, a| {
        Ok(Value::Bool(arg_str(a, 1).starts_with(arg_str(a, 0))))
    });
    map.add("hasSuffix", Sig::fixed(&[S, S]), |_, a| {
        Ok(Value::Bool(arg_str(a, 1).ends_with(arg_str(a, 0))))
    });
    map.add("quote", Sig::variadic(&[], Any), |c, a| {
        joined(c, a, |v| go_quote(&strval(v)))
    });
    map.add("squote", Sig::variadic(&[], Any), |c, a| {
        joined(c, a, |v| format!("'{}'", format_v(v)))
    });
    map.add("cat", Sig::variadic(&[], Any), |c, a| {
        joined(c, a, format_v)
    });
    map.add("indent", Sig::fixed(&[Int, S]), |c, a| {
        Ok(Value::str(indent(c, arg_int(a, 0), arg_str(a, 1))?))
    });
    map.add("nindent", Sig::fixed(&[Int, S]), |c, a| {
        Ok(Value::str(format!(
            "\n{}",
            indent(c, arg_int(a, 0), arg_str(a, 1))?
        )))
    });
    map.add("replace", Sig::fixed(&[S, S, S]), replace);
    map.add("plural", Sig::fixed(&[S, S, Int]), |_, a| {
        let pick = if arg_int(a, 2) == 1 { 0 } else { 1 };
        Ok(Value::str(arg_str(a, pick)))
    });
    map.add("toString", Sig::fixed(&[Any]), |_, a| {
        Ok(Value::str(strval(a.first().unwrap_or(&Value::Nil))))
    });
    map.add("toStrings", Sig::fixed(&[Any]), |_, a| {
        Ok(str_list(strslice(a.first().unwrap_or(&Value::Nil))))
    });
    map.add("split", Sig::fixed(&[S, S]), |c, a| {
        let parts = go_split(arg_str(a, 1), arg_str(a, 0), -1);
        indexed_map(c, parts)
    });
    map.add("splitn", Sig::fixed(&[S, Int, S]), |c, a| {
        let parts = go_split(arg_str(a, 2), arg_str(a, 0), arg_int(a, 1));
        indexed_map(c, parts)
    });
    map.add("splitList", Sig::fixed(&[S, S]), |c, a| {
        let parts = go_split(arg_str(a, 1), arg_str(a, 0), -1);
        c.check_len("splitList", parts.len())?;
        Ok(str_list(parts))
    });
    map.add("join", Sig::fixed(&[S, Any]), |c, a| {
        let items = strslice(a.get(1).unwrap_or(&Value::Nil));
        let sep = arg_str(a, 0);
        let total = items.iter().map(String::len).sum::<usize>()
            + sep.len().saturating_mul(items.len().saturating_sub(1));
        c.check_len("join", total)?;
        Ok(Value::str(items.join(sep)))
    });
    map.add("sortAlpha", Sig::fixed(&[Any]), |_, a| {
        let v = a.first().unwrap_or(&Value::Nil);
        let mut items = match v {
            Value::List(_) | Value::Bytes(_) => strslice(v),
            other => vec![strval(other)],
        };
        items.sort();
        Ok(str_list(items))
    });
}

/// The string argument at `i` (the executor guarantees the declared type).
pub(crate) fn arg_str(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or("")
}

/// The Go `int` argument at `i`.
pub(crate) fn arg_int(args: &[Value], i: usize) -> i64 {
    match args.get(i) {
        Some(Value::Int(n) | Value::Int64(n)) => *n,
        Some(Value::Float(f)) => *f as i64,
        _ => 0,
    }
}

/// A Go `[]string` result.
pub(crate) fn str_list(items: Vec<String>) -> Value {
    Value::list(items.into_iter().map(Value::from).collect())
}

/// Bytes that may end inside a UTF-8 sequence (Go's byte slicing) as a string.
pub(crate) fn lossy(bytes: &[u8]) -> Value {
    Value::str(String::from_utf8_lossy(bytes).into_owned())
}

/// Go's `strings.Split`/`SplitN` (`n < 0`: all; `n == 0`: none; empty `sep` splits into
/// characters).
pub(crate) fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let limit = if n < 0 {
        usize::MAX
    } else {
        usize::try_from(n).unwrap_or(usize::MAX)
    };
    if sep.is_empty() {
        let mut out: Vec<String> = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            if out.len() + 1 == limit {
                out.push(rest.to_string());
                break;
            }
            let mut chars = rest.chars();
            let c = chars.next().unwrap_or_default();
            out.push(c.to_string());
            rest = chars.as_str();
        }
        return out;
    }
    s.splitn(limit, sep).map(String::from).collect()
}

fn indexed_map(ctx: &FuncCtx<'_>, parts: Vec<String>) -> FuncResult {
    ctx.check_len("split", parts.len())?;
    let map: Map = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("_{i}"), Value::str(p)))
        .collect();
    Ok(Value::map(map))
}

fn joined(ctx: &FuncCtx<'_>, args: &[Value], f: impl Fn(&Value) -> String) -> FuncResult {
    let mut out = String::new();
    for (i, v) in args.iter().filter(|v| !v.is_nil()).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&f(v));
        ctx.check_len("string", out.len())?;
    }
    Ok(Value::str(out))
}

fn abbrev(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let (width, s) = (arg_int(a, 0), arg_str(a, 1));
    if width < 4 {
        return Ok(Value::str(s));
    }
    Ok(lossy(&abbreviate_full(s.as_bytes(), 0, width)))
}

fn abbrevboth(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let (left, right, s) = (arg_int(a, 0), arg_int(a, 1), arg_str(a, 2));
    if right < 4 || (left > 0 && right < 7) {
        return Ok(Value::str(s));
    }
    Ok(lossy(&abbreviate_full(s.as_bytes(), left, right)))
}

/// goutils' `AbbreviateFull` (errors give `""`, as Sprig ignores them).
fn abbreviate_full(s: &[u8], offset: i64, max_width: i64) -> Vec<u8> {
    let len = s.len() as i64;
    if s.is_empty() || max_width < 4 {
        return Vec::new();
    }
    if len <= max_width {
        return s.to_vec();
    }
    let mut offset = offset.min(len);
    if len - offset < max_width - 3 {
        offset = len - (max_width - 3);
    }
    let slice = |a: i64, b: i64| -> &[u8] {
        s.get(a.max(0) as usize..b.clamp(0, len) as usize)
            .unwrap_or(&[])
    };
    if offset <= 4 {
        let mut out = slice(0, max_width - 3).to_vec();
        out.extend_from_slice(b"...");
        return out;
    }
    if max_width < 7 {
        return Vec::new();
    }
    let mut out = b"...".to_vec();
    if offset + max_width - 3 < len {
        out.extend(abbreviate_full(slice(offset, len), 0, max_width - 3));
    } else {
        out.extend_from_slice(slice(len - (max_width - 3), len));
    }
    out
}

fn trunc(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let (c, s) = (arg_int(a, 0), arg_str(a, 1));
    let len = s.len() as i64;
    let b = s.as_bytes();
    if c < 0 && len + c > 0 {
        return Ok(lossy(b.get((len + c) as usize..).unwrap_or(&[])));
    }
    if c >= 0 && len > c {
        return Ok(lossy(b.get(..c as usize).unwrap_or(&[])));
    }
    Ok(Value::str(s))
}

fn substr(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let (start, end, s) = (arg_int(a, 0), arg_int(a, 1), arg_str(a, 2));
    let len = s.len() as i64;
    let b = s.as_bytes();
    let oob = |m: String| {
        Err(FuncError::msg(format!(
            "runtime error: slice bounds out of range {m}"
        )))
    };
    if start < 0 {
        if end < 0 {
            return oob(format!("[:{end}]"));
        }
        if end > len {
            return oob(format!("[:{end}] with length {len}"));
        }
        return Ok(lossy(b.get(..end as usize).unwrap_or(&[])));
    }
    if end < 0 || end > len {
        if start > len {
            return oob(format!("[{start}:{len}]"));
        }
        return Ok(lossy(b.get(start as usize..).unwrap_or(&[])));
    }
    if start > end {
        return oob(format!("[{start}:{end}]"));
    }
    Ok(lossy(b.get(start as usize..end as usize).unwrap_or(&[])))
}

/// Go's `strings.Repeat` with its panics.
pub(crate) fn go_repeat(ctx: &FuncCtx<'_>, s: &str, count: i64) -> Result<String, FuncError> {
    if count < 0 {
        return Err(FuncError::msg("strings: negative Repeat count"));
    }
    let total = usize::try_from(count)
        .ok()
        .and_then(|c| s.len().checked_mul(c))
        .ok_or_else(|| FuncError::msg("strings: Repeat output length overflow"))?;
    ctx.check_len("repeat", total)?;
    Ok(s.repeat(count as usize))
}

fn repeat(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    Ok(Value::str(go_repeat(c, arg_str(a, 1), arg_int(a, 0))?))
}

fn trim_all(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let (cutset, s) = (arg_str(a, 0), arg_str(a, 1));
    Ok(Value::str(s.trim_matches(|c| cutset.contains(c))))
}

fn indent(ctx: &FuncCtx<'_>, spaces: i64, s: &str) -> Result<String, FuncError> {
    let pad = go_repeat(ctx, " ", spaces)?;
    let lines = s.bytes().filter(|&b| b == b'\n').count();
    let total = pad
        .len()
        .checked_mul(lines + 1)
        .and_then(|p| p.checked_add(s.len()))
        .unwrap_or(usize::MAX);
    ctx.check_len("indent", total)?;
    Ok(format!("{pad}{}", s.replace('\n', &format!("\n{pad}"))))
}

fn replace(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let (old, new, s) = (arg_str(a, 0), arg_str(a, 1), arg_str(a, 2));
    let n = if old.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(old).count()
    };
    let total = n
        .checked_mul(new.len())
        .and_then(|x| x.checked_add(s.len()))
        .unwrap_or(usize::MAX);
    c.check_len("replace", total)?;
    Ok(Value::str(s.replace(old, new)))
}

fn rand_string(ctx: &mut FuncCtx<'_>, a: &[Value], alphabet: &[u8]) -> FuncResult {
    let count = arg_int(a, 0);
    if count <= 0 {
        return Ok(Value::str(""));
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    ctx.check_len("random string", count)?;
    let mut out = String::with_capacity(count);
    for _ in 0..count {
        let i = ctx.env.random_below(alphabet.len() as u64) as usize;
        out.push(char::from(alphabet.get(i).copied().unwrap_or(b'a')));
    }
    Ok(Value::str(out))
}

fn shuffle(ctx: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let mut runes: Vec<char> = arg_str(a, 0).chars().collect();
    let mut i = runes.len();
    while i > 1 {
        i -= 1;
        let j = ctx.env.random_below(i as u64 + 1) as usize;
        runes.swap(i, j);
    }
    Ok(Value::str(runes.into_iter().collect::<String>()))
}

// ---- Go's unicode package -------------------------------------------------------------------

fn category(c: char) -> &'static str {
    get_general_category(c).abbreviation()
}

/// `unicode.IsUpper` (category Lu).
pub(crate) fn is_upper(c: char) -> bool {
    get_general_category(c) == GeneralCategory::UppercaseLetter
}

/// `unicode.IsLower` (category Ll).
pub(crate) fn is_lower(c: char) -> bool {
    get_general_category(c) == GeneralCategory::LowercaseLetter
}

/// `unicode.IsTitle` (category Lt).
pub(crate) fn is_title(c: char) -> bool {
    get_general_category(c) == GeneralCategory::TitlecaseLetter
}

/// `unicode.IsLetter` (categories L*).
pub(crate) fn is_letter(c: char) -> bool {
    category(c).starts_with('L')
}

/// `unicode.IsDigit` (category Nd).
pub(crate) fn is_digit(c: char) -> bool {
    get_general_category(c) == GeneralCategory::DecimalNumber
}

/// `unicode.IsNumber` (categories N*).
pub(crate) fn is_number(c: char) -> bool {
    category(c).starts_with('N')
}

/// `unicode.IsPunct` (categories P*).
pub(crate) fn is_punct(c: char) -> bool {
    category(c).starts_with('P')
}

/// `unicode.IsSpace` (Unicode White_Space, as Rust's `char::is_whitespace`).
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
pub(crate) fn is_print(c: char) -> bool {
    let r = c as u32;
    if r <= 0xFF {
        return (0x20..=0x7E).contains(&r) || ((0xA1..=0xFF).contains(&r) && r != 0xAD);
    }
    matches!(
        category(c).as_bytes().first(),
        Some(b'L' | b'M' | b'N' | b'P' | b'S')
    )
}

/// `unicode.ToUpper` (simple case mapping: a character whose uppercase is several characters,
/// such as `ß`, stays as it is).
pub(crate) fn to_upper(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// `unicode.ToLower` (simple case mapping; `İ` lowers to `i`).
pub(crate) fn to_lower(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if c == '\u{130}' {
        return 'i';
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `unicode.ToTitle`: as `ToUpper`, except the Latin digraphs (`ǆ` -> `ǅ`).
pub(crate) fn to_title(c: char) -> char {
    match c {
        '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
        '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
        '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
        '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
        _ => to_upper(c),
    }
}

/// `strings.TrimSpace`.
pub(crate) fn go_trim_space(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Go's `strings.Title`: the first letter of each word to title case, the rest untouched.
fn title(s: &str) -> String {
    let is_separator = |r: char| -> bool {
        if r.is_ascii() {
            return !(r.is_ascii_alphanumeric() || r == '_');
        }
        if is_letter(r) || is_digit(r) {
            return false;
        }
        is_space(r)
    };
    let mut prev = ' ';
    s.chars()
        .map(|r| {
            let out = if is_separator(prev) { to_title(r) } else { r };
            prev = r;
            out
        })
        .collect()
}

/// goutils' `Uncapitalize` (Sprig's `untitle`).
fn untitle(s: &str) -> String {
    let mut next = true;
    s.chars()
        .map(|c| {
            if is_space(c) {
                next = true;
                c
            } else if next {
                next = false;
                to_lower(c)
            } else {
                c
            }
        })
        .collect()
}

/// goutils' `SwapCase`.
fn swapcase(s: &str) -> String {
    let mut whitespace = true;
    s.chars()
        .map(|c| {
            if is_upper(c) || is_title(c) {
                whitespace = false;
                to_lower(c)
            } else if is_lower(c) {
                if whitespace {
                    whitespace = false;
                    to_title(c)
                } else {
                    to_upper(c)
                }
            } else {
                whitespace = is_space(c);
                c
            }
        })
        .collect()
}

/// goutils' `DeleteWhiteSpace`: bytes read as Latin-1 runes (so non-ASCII text is re-encoded
/// when any whitespace is removed, as in Helm).
fn nospace(s: &str) -> String {
    let kept: String = s
        .bytes()
        .map(char::from)
        .filter(|&c| !is_space(c))
        .collect();
    if s.bytes().all(|b| !is_space(char::from(b))) {
        return s.to_string();
    }
    kept
}

/// goutils' `Initials`: first byte (as a Latin-1 rune) of each whitespace-separated word.
fn initials(s: &str) -> String {
    let mut gap = true;
    let mut out = String::new();
    for b in s.bytes() {
        let c = char::from(b);
        if is_space(c) {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    out
}

/// goutils' `WrapCustom` (byte based, as Go's).
fn wrap_custom(
    wrap_length: i64,
    s: &str,
    newline: &str,
    wrap_long_words: bool,
    ctx: &FuncCtx<'_>,
) -> Result<String, FuncError> {
    if s.is_empty() {
        return Ok(String::new());
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let wrap = usize::try_from(wrap_length.max(1)).unwrap_or(usize::MAX);
    let b = s.as_bytes();
    let len = b.len();
    let mut offset = 0usize;
    let mut out: Vec<u8> = Vec::new();
    while len - offset > wrap {
        if b.get(offset) == Some(&b' ') {
            offset += 1;
            continue;
        }
        let end = wrap + offset + 1;
        let window = b.get(offset..end).unwrap_or(&[]);
        if let Some(i) = window.iter().rposition(|&c| c == b' ') {
            let at = offset + i;
            out.extend_from_slice(b.get(offset..at).unwrap_or(&[]));
            out.extend_from_slice(newline.as_bytes());
            offset = at + 1;
        } else if wrap_long_words {
            let end = wrap + offset;
            out.extend_from_slice(b.get(offset..end).unwrap_or(&[]));
            out.extend_from_slice(newline.as_bytes());
            offset += wrap;
        } else {
            let end = wrap + offset;
            match b.get(end..).and_then(|r| r.iter().position(|&c| c == b' ')) {
                None => {
                    out.extend_from_slice(b.get(offset..).unwrap_or(&[]));
                    offset = len;
                }
                Some(i) => {
                    let at = i + end;
                    out.extend_from_slice(b.get(offset..at).unwrap_or(&[]));
                    out.extend_from_slice(newline.as_bytes());
                    offset = at + 1;
                }
            }
        }
        ctx.check_len("wrap", out.len())?;
    }
    out.extend_from_slice(b.get(offset..).unwrap_or(&[]));
    Ok(String::from_utf8_lossy(&out).into_owned())
}

// ---- xstrings v1.5.0 case conversions -------------------------------------------------------

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || is_space(c)
}

/// xstrings' `isAlphabet`: letters, except CJK ideographs.
fn is_alphabet(c: char) -> bool {
    if !is_letter(c) {
        return false;
    }
    !matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// xstrings' `toCamelCase(str, true)` (Sprig v3.3's `camelcase` is `ToPascalCase`).
fn pascal_case(s: &str) -> String {
    let mut chars = s.chars();
    let mut out = String::new();
    let mut first_upper = false;
    let mut r0 = '\0';
    let mut got = false;
    for c in chars.by_ref() {
        if !is_connector(c) {
            first_upper = is_upper(c);
            r0 = to_upper(c);
            got = true;
            break;
        }
        out.push(c);
    }
    let rest = chars.as_str();
    if rest.is_empty() {
        if got {
            out.push(r0);
        }
        return out;
    }
    for c in rest.chars() {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            first_upper = is_upper(r0);
            r0 = to_upper(r0);
        } else {
            if first_upper {
                if is_upper(r0) {
                    r0 = to_lower(r0);
                } else {
                    first_upper = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Word {
    Invalid,
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

/// xstrings' `nextWord`: the next word's type, the word, and the rest.
fn next_word(s: &str) -> (Word, &str, &str) {
    let mut it = s.char_indices().peekable();
    let Some((_, first)) = it.next() else {
        return (Word::Invalid, "", "");
    };
    let split = |end: usize| (s.get(..end).unwrap_or(s), s.get(end..).unwrap_or(""));
    let end_while = |from: usize, pred: &dyn Fn(char) -> bool| -> usize {
        let mut end = from;
        for (i, c) in s.get(from..).unwrap_or("").char_indices() {
            if !pred(c) {
                return from + i;
            }
            end = from + i + c.len_utf8();
        }
        end
    };
    let after_first = first.len_utf8();
    if is_connector(first) {
        let (w, r) = split(end_while(after_first, &is_connector));
        return (Word::Connector, w, r);
    }
    if is_punct(first) {
        let (w, r) = split(end_while(after_first, &is_punct));
        return (Word::Punct, w, r);
    }
    if is_upper(first) {
        let rest = s.get(after_first..).unwrap_or("");
        let Some(second) = rest.chars().next() else {
            return (Word::Upper, s, "");
        };
        if is_upper(second) {
            // A run of capitals; "HTTPStatus" splits into "HTTP" and "Status".
            let mut end = after_first;
            let mut prev_size = 0;
            let mut stopped_on: Option<char> = None;
            for c in rest.chars() {
                if !is_upper(c) {
                    stopped_on = Some(c);
                    break;
                }
                prev_size = c.len_utf8();
                end += c.len_utf8();
            }
            if let Some(c) = stopped_on
                && is_alphabet(c)
            {
                end -= prev_size;
            }
            let (w, r) = split(end);
            return (Word::Upper, w, r);
        }
        if is_alphabet(second) {
            let from = after_first + second.len_utf8();
            let (w, r) = split(end_while(from, &|c| is_alphabet(c) && !is_upper(c)));
            return (Word::Upper, w, r);
        }
        let (w, r) = split(after_first);
        return (Word::Upper, w, r);
    }
    if is_alphabet(first) {
        let (w, r) = split(end_while(after_first, &|c| is_alphabet(c) && !is_upper(c)));
        return (Word::Alphabet, w, r);
    }
    if is_number(first) {
        let (w, r) = split(end_while(after_first, &is_number));
        return (Word::Number, w, r);
    }
    let (w, r) = split(end_while(after_first, &|c| {
        !(is_connector(c) || is_alphabet(c) || is_number(c) || is_punct(c))
    }));
    (Word::Other, w, r)
}

fn to_lower_word(out: &mut String, wt: Word, word: &str, connector: char) {
    if wt != Word::Upper && wt != Word::Connector {
        out.push_str(word);
        return;
    }
    for c in word.chars() {
        if is_connector(c) {
            out.push(connector);
        } else if is_upper(c) {
            out.push(to_lower(c));
        } else {
            out.push(c);
        }
    }
}

/// xstrings' `camelCaseToLowerCase` (`snakecase` with `_`, `kebabcase` with `-`).
fn camel_to_lower(s: &str, connector: char) -> String {
    if s.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let (mut wt, mut word, mut remaining) = next_word(s);
    while !remaining.is_empty() {
        if wt != Word::Connector {
            to_lower_word(&mut out, wt, word, connector);
        }
        let prev = wt;
        let last = word;
        (wt, word, remaining) = next_word(remaining);
        match prev {
            Word::Number => {
                while wt == Word::Alphabet || wt == Word::Number {
                    to_lower_word(&mut out, wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if wt != Word::Invalid && wt != Word::Punct && wt != Word::Connector {
                    out.push(connector);
                }
            }
            Word::Connector => to_lower_word(&mut out, prev, last, connector),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if remaining.is_empty() {
                    continue;
                }
                let last = word;
                (wt, word, remaining) = next_word(remaining);
                if wt != Word::Alphabet {
                    to_lower_word(&mut out, Word::Number, last, connector);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                to_lower_word(&mut out, Word::Number, last, connector);
                while wt == Word::Alphabet || wt == Word::Number {
                    to_lower_word(&mut out, wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if wt != Word::Invalid && wt != Word::Connector && wt != Word::Punct {
                    out.push(connector);
                }
            }
        }
    }
    to_lower_word(&mut out, wt, word, connector);
    out
}

// ---- strconv.Quote -------------------------------------------------------------------------

/// Go's `strconv.Quote` (`%q` of a string).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_print(c) => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::super::cast::tests_support::{call, call_err, s};
    use super::*;

    fn str_of(name: &str, args: Vec<Value>) -> String {
        format_v(&call(name, args))
    }

    #[test]
    fn helm_observed_strings() {
        // Every expectation below was read off helm v4.1.4 (`helm template`).
        let i = Value::Int;
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("nospace", vec![s("hé llo")], "hÃ©llo"),
            ("nospace", vec![s("héllo")], "héllo"),
            ("initials", vec![s("émile zola")], "Ãz"),
            (
                "title",
                vec![s("hELLO wORLD-foo_bar ǆa")],
                "HELLO WORLD-Foo_bar ǅa",
            ),
            ("untitle", vec![s("Hello World")], "hello world"),
            ("swapcase", vec![s("Hello wORLD ǅ")], "hELLO World ǆ"),
            ("upper", vec![s("straße ŉ")], "STRAßE ŉ"),
            ("lower", vec![s("İSTANBUL")], "istanbul"),
            (
                "snakecase",
                vec![s("HTTPServer_fooBar baz-Qux")],
                "http_server_foo_bar_baz_qux",
            ),
            (
                "camelcase",
                vec![s("http_server foo-bar Baz")],
                "HttpServerFooBarBaz",
            ),
            (
                "kebabcase",
                vec![s("HTTPServer_fooBar baz-Qux")],
                "http-server-foo-bar-baz-qux",
            ),
            ("snakecase", vec![s("fooBar1Baz")], "foo_bar1_baz"),
            ("snakecase", vec![s("foo  bar")], "foo__bar"),
            ("camelcase", vec![s("fooBar")], "FooBar"),
            ("camelcase", vec![s("__foo__bar__")], "__Foo_Bar__"),
            ("snakecase", vec![s("ABC")], "abc"),
            ("snakecase", vec![s("aBC")], "a_bc"),
            ("snakecase", vec![s("a1B")], "a1_b"),
            ("kebabcase", vec![s("foo.bar")], "foo.bar"),
            ("camelcase", vec![s("foo.bar")], "Foo.bar"),
            (
                "wrap",
                vec![i(5), s("hello world foo barbazqux a")],
                "hello\nworld\nfoo\nbarbazqux\na",
            ),
            (
                "wrapWith",
                vec![i(5), s("<br>"), s("hello world foo")],
                "hello<br>world<br>foo",
            ),
            ("wrap", vec![i(0), s("a b")], "a\nb"),
            ("wrap", vec![i(3), s("  a   b  ")], "a  \nb  "),
            (
                "wrap",
                vec![i(10), s("line1\nline2 is longer than ten")],
                "line1\nline2\nis longer\nthan ten",
            ),
            ("abbrev", vec![i(5), s("hello world")], "he..."),
            ("abbrev", vec![i(3), s("hello world")], "hello world"),
            (
                "abbrevboth",
                vec![i(5), i(10), s("1234567890abcdef")],
                "...6789...",
            ),
            ("abbrevboth", vec![i(0), i(4), s("hello world")], "h..."),
            ("trunc", vec![i(-5), s("hello world")], "world"),
            ("trunc", vec![i(5), s("hi")], "hi"),
            ("trunc", vec![i(-50), s("hi")], "hi"),
            ("substr", vec![i(2), i(10), s("abc")], "c"),
            ("substr", vec![i(-1), i(2), s("abc")], "ab"),
            ("substr", vec![i(1), i(-1), s("abc")], "bc"),
            ("trimAll", vec![s("$"), s("$$5.00$")], "5.00"),
            ("trimPrefix", vec![s("-"), s("--a")], "-a"),
            ("trim", vec![s("\u{a0} a \n")], "a"),
            ("repeat", vec![i(3), s("ab")], "ababab"),
            ("indent", vec![i(2), s("a\nb\n")], "  a\n  b\n  "),
            ("nindent", vec![i(2), s("a")], "\n  a"),
            ("replace", vec![s(""), s("-"), s("abc")], "-a-b-c-"),
            ("plural", vec![s("one"), s("many"), i(1)], "one"),
            ("plural", vec![s("one"), s("many"), i(0)], "many"),
            (
                "quote",
                vec![s("a\"b"), Value::Nil, Value::Float(1.5), s("é\u{a0}\u{1}")],
                "\"a\\\"b\" \"1.5\" \"é\\u00a0\\x01\"",
            ),
            ("squote", vec![s("a"), Value::Nil, Value::Int(2)], "'a' '2'"),
            (
                "cat",
                vec![s("a"), Value::Nil, Value::Int(2), s("b ")],
                "a 2 b ",
            ),
            ("quote", vec![], ""),
            ("toString", vec![Value::Float(1e6)], "1e+06"),
            (
                "toStrings",
                vec![Value::list(vec![
                    i(1),
                    Value::Float(2.5),
                    Value::Nil,
                    Value::Bool(true),
                ])],
                "[1 2.5 true]",
            ),
            ("split", vec![s("/"), s("a/b")], "map[_0:a _1:b]"),
            ("splitn", vec![s("/"), i(2), s("a/b/c")], "map[_0:a _1:b/c]"),
            ("splitn", vec![s("/"), i(0), s("a/b/c")], "map[]"),
            ("splitList", vec![s(""), s("héj")], "[h é j]"),
            ("splitList", vec![s(","), s("")], "[]"),
            (
                "join",
                vec![s("-"), Value::list(vec![i(1), s("a"), Value::Nil])],
                "1-a",
            ),
            ("join", vec![s("-"), s("abc")], "abc"),
            (
                "sortAlpha",
                vec![Value::list(vec![
                    s("b"),
                    i(10),
                    i(9),
                    s("B"),
                    Value::Float(1.5),
                ])],
                "[1.5 10 9 B b]",
            ),
            ("sortAlpha", vec![Value::Nil], "[<nil>]"),
            ("sortAlpha", vec![s("x")], "[x]"),
            ("hello", vec![], "Hello!"),
            ("contains", vec![s("b"), s("abc")], "true"),
            ("hasSuffix", vec![s("c"), s("abc")], "true"),
        ];
        for (name, args, want) in cases {
            assert_eq!(str_of(name, args.clone()), want, "{name} {args:?}");
        }
    }

    #[test]
    fn helm_observed_errors() {
        // Messages as helm v4.1.4 prints them after "error calling NAME: ".
        let i = Value::Int;
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            (
                "substr",
                vec![i(5), i(-1), s("abc")],
                "runtime error: slice bounds out of range [5:3]",
            ),
            (
                "substr",
                vec![i(2), i(1), s("abc")],
                "runtime error: slice bounds out of range [2:1]",
            ),
            (
                "substr",
                vec![i(-1), i(10), s("abc")],
                "runtime error: slice bounds out of range [:10] with length 3",
            ),
            (
                "repeat",
                vec![i(-1), s("a")],
                "strings: negative Repeat count",
            ),
            (
                "indent",
                vec![i(-1), s("a")],
                "strings: negative Repeat count",
            ),
        ];
        for (name, args, want) in cases {
            assert_eq!(call_err(name, args), want, "{name}");
        }
    }

    #[test]
    fn random_strings_use_sprig_alphabets() {
        let v = str_of("randAlphaNum", vec![Value::Int(64)]);
        assert_eq!(v.len(), 64);
        assert!(v.chars().all(|c| c.is_ascii_alphanumeric()));
        let v = str_of("randNumeric", vec![Value::Int(20)]);
        assert!(v.chars().all(|c| c.is_ascii_digit()));
        let v = str_of("randAlpha", vec![Value::Int(20)]);
        assert!(v.chars().all(|c| c.is_ascii_alphabetic()));
        let v = str_of("randAscii", vec![Value::Int(20)]);
        assert!(v.chars().all(|c| (' '..='~').contains(&c)));
        assert_eq!(str_of("randAlpha", vec![Value::Int(-1)]), "");
        let mut sorted: Vec<char> = str_of("shuffle", vec![s("hello")]).chars().collect();
        sorted.sort();
        assert_eq!(sorted, vec!['e', 'h', 'l', 'l', 'o']);
    }

    #[test]
    fn end_to_end_through_the_executor() {
        // Templates rendered by helm v4.1.4 with the same results (clock aside).
        use crate::exec::{ExecOptions, Templates};
        use crate::funcs::{Env, FuncMap, Offline};
        use std::sync::Arc;
        let cases: &[(&str, &str)] = &[
            (
                r#"{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $d }}"#,
                "map[a:1 b:2]",
            ),
            (r#"{{ "hello" | upper | repeat 2 }}"#, "HELLOHELLO"),
            (r#"{{ list 3 1 2 | sortAlpha | join "," }}"#, "1,2,3"),
            (
                r#"{{ add 1 2 | mul 3 }}|{{ until 3 }}|{{ seq 3 }}"#,
                "9|[0 1 2]|1 2 3",
            ),
            (r#"{{ regexReplaceAll "(a)" "xa" "${1}b" }}"#, "xab"),
            (
                r#"{{ default "x" .missing }}|{{ .name | quote }}"#,
                "x|\"n\"",
            ),
            (
                r#"{{ now | date "2006-01-02" }}|{{ "a\nb" | nindent 2 }}"#,
                "2024-01-02|\n  a\n  b",
            ),
            (
                r#"{{ $m := merge (dict "a" 1) (dict "a" 2 "b" 3) }}{{ $m.a }}{{ $m.b }}"#,
                "13",
            ),
        ];
        for (src, want) in cases {
            let mut t = Templates::new(Arc::new(FuncMap::helm()));
            let parsed = t.parse("x", src);
            assert!(parsed.is_ok(), "{src}: {parsed:?}");
            let data = Value::map([("name".to_string(), s("n"))].into_iter().collect());
            let mut env = Env::fixed(1_704_164_645, 7);
            let out = t.execute("x", &data, &ExecOptions::default(), &mut env, &mut Offline);
            assert_eq!(
                out.as_deref().map_err(|e| e.to_string()),
                Ok(*want),
                "{src}"
            );
        }
    }

    #[test]
    fn huge_results_hit_the_limit() {
        let e = call_err("repeat", vec![Value::Int(1 << 40), s("ab")]);
        assert!(e.contains("limit"), "{e}");
        let e = call_err("randAlpha", vec![Value::Int(1 << 40)]);
        assert!(e.contains("limit"), "{e}");
    }
}
