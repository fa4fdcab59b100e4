//! Template functions: Sprig's `regex.go` (`regexMatch`, `regexFind`, `regexFindAll`,
//! `regexReplaceAll`, `regexReplaceAllLiteral`, `regexSplit`, `regexQuoteMeta` and the `must*`
//! variants) over Go's RE2 syntax.
//!
//! Patterns are checked the way Go's `regexp/syntax` parser checks them (with its error
//! messages) and translated to the `regex` crate's dialect: `\d \w \s \b` are ASCII-only as in
//! Go, `\Q...\E` is quoted, octal escapes become `\x{..}`, characters that are literal in Go but
//! special in `regex` (`\<`, `[` `&&` `~~` inside classes, a `{` that is no repeat) are escaped.
//! Replacement templates expand `$1`, `${name}`, `$$` by Go's rules (`$1x` names group `1x`;
//! `$01` names group `01`). Plain variants report compile errors the way `regexp.MustCompile`
//! panics ("regexp: Compile(`(`): error parsing regexp: ..."); `regexMatch` swallows them.
//! Known gap: Go accepts duplicate group names, the `regex` crate does not.

use regex::{Captures, Regex, RegexBuilder};

use super::strings::{arg_int, arg_str, is_digit, is_letter, str_list};
use super::{FuncCtx, FuncError, FuncMap, FuncResult, Sig, Ty};
use crate::value::Value;

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::{Int, String as S};
    map.add("regexMatch", Sig::fixed(&[S, S]), |_, a| {
        let matched = compile(arg_str(a, 0)).is_ok_and(|re| re.is_match(arg_str(a, 1)));
        Ok(Value::Bool(matched))
    });
    map.add("mustRegexMatch", Sig::fixed(&[S, S]), |_, a| {
        let re = compile(arg_str(a, 0)).map_err(FuncError::msg)?;
        Ok(Value::Bool(re.is_match(arg_str(a, 1))))
    });
    for (name, must) in [("regexFindAll", false), ("mustRegexFindAll", true)] {
        let f = if must {
            find_all::<true>
        } else {
            find_all::<false>
        };
        map.add(name, Sig::fixed(&[S, S, Int]), f);
    }
    for (name, must) in [("regexFind", false), ("mustRegexFind", true)] {
        let f = if must { find::<true> } else { find::<false> };
        map.add(name, Sig::fixed(&[S, S]), f);
    }
    for (name, must) in [("regexReplaceAll", false), ("mustRegexReplaceAll", true)] {
        let f = if must {
            replace_all::<true, false>
        } else {
            replace_all::<false, false>
        };
        map.add(name, Sig::fixed(&[S, S, S]), f);
    }
    for (name, must) in [
        ("regexReplaceAllLiteral", false),
        ("mustRegexReplaceAllLiteral", true),
    ] {
        let f = if must {
            replace_all::<true, true>
        } else {
            replace_all::<false, true>
        };
        map.add(name, Sig::fixed(&[S, S, S]), f);
    }
    for (name, must) in [("regexSplit", false), ("mustRegexSplit", true)] {
        let f = if must { split::<true> } else { split::<false> };
        map.add(name, Sig::fixed(&[S, S, Int]), f);
    }
    map.add("regexQuoteMeta", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(quote_meta(arg_str(a, 0))))
    });
}

/// Compiles for a plain (`MustCompile`) or `must*` (`Compile`) variant.
fn compile_for<const MUST: bool>(pattern: &str) -> Result<Regex, FuncError> {
    compile(pattern).map_err(|e| {
        if MUST {
            FuncError::msg(e)
        } else {
            FuncError::msg(format!("regexp: Compile({}): {e}", backquote(pattern)))
        }
    })
}

/// Go's `regexp.quote`: backquoted when `strconv.CanBackquote`, else `strconv.Quote`d.
fn backquote(s: &str) -> String {
    let can = s
        .chars()
        .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !c.is_control()));
    if can {
        format!("`{s}`")
    } else {
        super::strings::go_quote(s)
    }
}

fn find_all<const MUST: bool>(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let re = compile_for::<MUST>(arg_str(a, 0))?;
    let (s, n) = (arg_str(a, 1), arg_int(a, 2));
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let mut out = Vec::new();
    for m in re.find_iter(s).take(limit) {
        out.push(m.as_str().to_string());
        c.check_len("regexFindAll", out.len())?;
    }
    Ok(str_list(out))
}

fn find<const MUST: bool>(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let re = compile_for::<MUST>(arg_str(a, 0))?;
    Ok(Value::str(
        re.find(arg_str(a, 1)).map_or("", |m| m.as_str()),
    ))
}

fn replace_all<const MUST: bool, const LITERAL: bool>(
    c: &mut FuncCtx<'_>,
    a: &[Value],
) -> FuncResult {
    let re = compile_for::<MUST>(arg_str(a, 0))?;
    let (s, repl) = (arg_str(a, 1), arg_str(a, 2));
    let names: Vec<Option<&str>> = re.capture_names().collect();
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(s.get(last..m.start()).unwrap_or(""));
        if LITERAL {
            out.push_str(repl);
        } else {
            expand(&mut out, repl, &caps, &names);
        }
        last = m.end();
        c.check_len("regexReplaceAll", out.len())?;
    }
    out.push_str(s.get(last..).unwrap_or(""));
    Ok(Value::str(out))
}

/// Go's `Regexp.expand`.
fn expand(out: &mut String, template: &str, caps: &Captures<'_>, names: &[Option<&str>]) {
    let mut t = template;
    while let Some((before, after)) = t.split_once('$') {
        out.push_str(before);
        t = after;
        if let Some(rest) = t.strip_prefix('$') {
            out.push('$');
            t = rest;
            continue;
        }
        let Some((name, num, rest)) = extract(t) else {
            out.push('$');
            continue;
        };
        t = rest;
        let group = match num {
            Some(n) => caps.get(n),
            None => names
                .iter()
                .position(|x| *x == Some(name))
                .and_then(|i| caps.get(i)),
        };
        if let Some(g) = group {
            out.push_str(g.as_str());
        }
    }
    out.push_str(t);
}

/// Go's `extract`: a `$name` or `${name}` reference; a number when all digits without a
/// leading zero.
fn extract(s: &str) -> Option<(&str, Option<usize>, &str)> {
    let (brace, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let end = body
        .char_indices()
        .find(|&(_, c)| !(is_letter(c) || is_digit(c) || c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let name = body.get(..end)?;
    let mut rest = body.get(end..)?;
    if brace {
        rest = rest.strip_prefix('}')?;
    }
    let mut num: Option<usize> = Some(0);
    for b in name.bytes() {
        num = match num {
            Some(n) if b.is_ascii_digit() && n < 100_000_000 => {
                Some(n * 10 + usize::from(b - b'0'))
            }
            _ => None,
        };
    }
    if name.starts_with('0') && name.len() > 1 {
        num = None;
    }
    Some((name, num, rest))
}

fn split<const MUST: bool>(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let pattern = arg_str(a, 0);
    let re = compile_for::<MUST>(pattern)?;
    let (s, n) = (arg_str(a, 1), arg_int(a, 2));
    if n == 0 {
        return Ok(Value::list(Vec::new()));
    }
    if !pattern.is_empty() && s.is_empty() {
        return Ok(str_list(vec![String::new()]));
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let mut out: Vec<String> = Vec::new();
    let (mut beg, mut end) = (0usize, 0usize);
    for m in re.find_iter(s).take(limit) {
        if n > 0 && out.len() == limit - 1 {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            out.push(s.get(beg..end).unwrap_or("").to_string());
            c.check_len("regexSplit", out.len())?;
        }
        beg = m.end();
    }
    if end != s.len() {
        out.push(s.get(beg..).unwrap_or("").to_string());
    }
    Ok(str_list(out))
}

/// Go's `regexp.QuoteMeta`.
pub(crate) fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Compiles a Go regexp, with Go's error text (`error parsing regexp: ...`).
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern).map_err(|e| format!("error parsing regexp: {e}"))?;
    RegexBuilder::new(&translated)
        .nest_limit(1000)
        .size_limit(64 << 20)
        .build()
        .map_err(|e| {
            let first = e.to_string();
            let detail = first.lines().last().unwrap_or("").trim().to_string();
            format!("error parsing regexp: {detail}: `{pattern}`")
        })
}

const ASCII_DIGIT: &str = "0-9";
const ASCII_WORD: &str = "0-9A-Za-z_";
const ASCII_SPACE: &str = "\\t\\n\\f\\r ";

/// Checks a Go pattern as `regexp/syntax` does and rewrites it for the `regex` crate.
fn translate(p: &str) -> Result<String, String> {
    let chars: Vec<char> = p.chars().collect();
    let text = |from: usize, to: usize| -> String {
        chars
            .get(from..to.min(chars.len()))
            .unwrap_or(&[])
            .iter()
            .collect()
    };
    let mut out = String::with_capacity(p.len() + 8);
    // Open groups; whether the last item can take a repetition; where the last repetition
    // operator began (a second one right after it is "nested").
    let mut depth = 0usize;
    let mut can_repeat = false;
    let mut last_rep: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '(' => {
                if chars.get(i + 1) == Some(&'?') {
                    // Flags or a named group: Go knows i, m, s, U and P<name>/<name>.
                    let mut j = i + 2;
                    if matches!(chars.get(j), Some('P') | Some('<')) {
                        // A named group: copy through its `>`.
                        let close = (j..chars.len()).find(|&k| chars.get(k) == Some(&'>'));
                        let Some(k) = close else {
                            return Err(format!(
                                "invalid named capture: `{}`",
                                text(i, chars.len())
                            ));
                        };
                        out.push_str(&text(i, k + 1));
                        i = k + 1;
                        depth += 1;
                        can_repeat = false;
                        last_rep = None;
                        continue;
                    }
                    while let Some(&f) = chars.get(j) {
                        if f == ')' || f == ':' {
                            break;
                        }
                        if !matches!(f, 'i' | 'm' | 's' | 'U' | '-') {
                            return Err(format!(
                                "invalid or unsupported Perl syntax: `{}`",
                                text(i, j + 1)
                            ));
                        }
                        j += 1;
                    }
                    if chars.get(j).is_none() {
                        return Err(format!("missing closing ): `{p}`"));
                    }
                    out.push_str(&text(i, j + 1));
                    if chars.get(j) == Some(&':') {
                        depth += 1;
                    }
                    i = j + 1;
                    can_repeat = false;
                    last_rep = None;
                    continue;
                }
                depth += 1;
                out.push('(');
                can_repeat = false;
                last_rep = None;
            }
            ')' => {
                if depth == 0 {
                    return Err(format!("unexpected ): `{p}`"));
                }
                depth -= 1;
                out.push(')');
                can_repeat = true;
                last_rep = None;
            }
            '|' => {
                out.push('|');
                can_repeat = false;
                last_rep = None;
            }
            '*' | '+' | '?' | '{' => {
                let mut end = i + 1;
                let mut op = c.to_string();
                if c == '{' {
                    match parse_repeat(&chars, i) {
                        Some((lo, hi, e)) => {
                            let bad = lo > 1000 || hi.is_some_and(|h| h > 1000 || h < lo);
                            if bad {
                                return Err(format!("invalid repeat count: `{}`", text(i, e)));
                            }
                            end = e;
                            op = text(i, e);
                        }
                        None => {
                            // Not a repeat: a literal brace.
                            out.push_str("\\{");
                            can_repeat = true;
                            last_rep = None;
                            i += 1;
                            continue;
                        }
                    }
                }
                if chars.get(end) == Some(&'?') {
                    end += 1;
                    op.push('?');
                }
                if let Some(start) = last_rep {
                    return Err(format!(
                        "invalid nested repetition operator: `{}`",
                        text(start, end)
                    ));
                }
                if !can_repeat {
                    return Err(format!("missing argument to repetition operator: `{op}`"));
                }
                out.push_str(&op);
                last_rep = Some(i);
                i = end;
                continue;
            }
            '[' => {
                i = translate_class(&chars, i, &mut out, p)?;
                can_repeat = true;
                last_rep = None;
                continue;
            }
            '\\' => {
                let (piece, next) = translate_escape(&chars, i, false)?;
                out.push_str(&piece);
                // `\b`, `\A`... are empty-width; Go still lets them take a repetition.
                can_repeat = true;
                last_rep = None;
                i = next;
                continue;
            }
            '}' => {
                out.push_str("\\}");
                can_repeat = true;
                last_rep = None;
            }
            '^' | '$' | '.' => {
                out.push(c);
                can_repeat = true;
                last_rep = None;
            }
            _ => {
                push_literal(&mut out, c);
                can_repeat = true;
                last_rep = None;
            }
        }
        i += 1;
    }
    if depth > 0 {
        return Err(format!("missing closing ): `{p}`"));
    }
    Ok(out)
}

/// A literal character, escaped when the `regex` crate would read it as syntax.
fn push_literal(out: &mut String, c: char) {
    if "\\.+*?()|[]{}^$#&-~".contains(c) {
        out.push('\\');
    }
    out.push(c);
}

/// `{n}`, `{n,}`, `{n,m}` at `i`: the bounds and the index after `}`.
fn parse_repeat(chars: &[char], i: usize) -> Option<(u32, Option<u32>, usize)> {
    let mut j = i + 1;
    let num = |j: &mut usize| -> Option<u32> {
        let start = *j;
        while chars.get(*j).is_some_and(char::is_ascii_digit) {
            *j += 1;
        }
        if *j == start {
            return None;
        }
        let s: String = chars.get(start..*j)?.iter().collect();
        Some(s.parse::<u32>().unwrap_or(u32::MAX))
    };
    let lo = num(&mut j)?;
    let hi = if chars.get(j) == Some(&',') {
        j += 1;
        if chars.get(j) == Some(&'}') {
            None
        } else {
            Some(num(&mut j)?)
        }
    } else {
        Some(lo)
    };
    if chars.get(j) != Some(&'}') {
        return None;
    }
    Some((lo, hi, j + 1))
}

/// A bracket expression starting at `i`; returns the index after its `]`.
fn translate_class(chars: &[char], i: usize, out: &mut String, p: &str) -> Result<usize, String> {
    let mut j = i + 1;
    out.push('[');
    if chars.get(j) == Some(&'^') {
        out.push('^');
        j += 1;
    }
    let mut first = true;
    let mut prev_dash = false;
    loop {
        let Some(&c) = chars.get(j) else {
            let rest: String = chars.get(i..).unwrap_or(&[]).iter().collect();
            let _ = p;
            return Err(format!("missing closing ]: `{rest}`"));
        };
        if c == ']' && !first {
            out.push(']');
            return Ok(j + 1);
        }
        first = false;
        match c {
            '[' if chars.get(j + 1) == Some(&':') => {
                // A POSIX class `[:alpha:]` passes through.
                let close = (j + 2..chars.len().saturating_sub(1))
                    .find(|&k| chars.get(k) == Some(&':') && chars.get(k + 1) == Some(&']'));
                match close {
                    Some(k) => {
                        out.extend(chars.get(j..k + 2).unwrap_or(&[]).iter());
                        j = k + 2;
                    }
                    None => {
                        out.push_str("\\[");
                        j += 1;
                    }
                }
                prev_dash = false;
                continue;
            }
            '\\' => {
                let (piece, next) = translate_escape(chars, j, true)?;
                out.push_str(&piece);
                j = next;
                prev_dash = false;
                continue;
            }
            '-' if prev_dash => out.push_str("\\-"),
            '[' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        prev_dash = c == '-';
        j += 1;
    }
}

/// An escape at `i` (a backslash); returns the translation and the index after it.
fn translate_escape(chars: &[char], i: usize, in_class: bool) -> Result<(String, usize), String> {
    let Some(&c) = chars.get(i + 1) else {
        return Err("trailing backslash at end of expression: ``".into());
    };
    let wrap = |set: &str, neg: bool| -> String {
        match (in_class, neg) {
            (true, false) => set.to_string(),
            (_, true) => format!("[^{set}]"),
            (false, false) => format!("[{set}]"),
        }
    };
    let next = i + 2;
    let piece = match c {
        'd' => wrap(ASCII_DIGIT, false),
        'D' => wrap(ASCII_DIGIT, true),
        'w' => wrap(ASCII_WORD, false),
        'W' => wrap(ASCII_WORD, true),
        's' => wrap(ASCII_SPACE, false),
        'S' => wrap(ASCII_SPACE, true),
        'b' if !in_class => "(?-u:\\b)".into(),
        'B' if !in_class => "(?-u:\\B)".into(),
        'A' | 'z' if !in_class => format!("\\{c}"),
        'a' => "\\x07".into(),
        'f' | 'n' | 'r' | 't' | 'v' => format!("\\{c}"),
        'Q' if !in_class => {
            let mut j = next;
            let mut lit = String::new();
            while j < chars.len() {
                if chars.get(j) == Some(&'\\') && chars.get(j + 1) == Some(&'E') {
                    j += 2;
                    return Ok((lit, j));
                }
                if let Some(&l) = chars.get(j) {
                    push_literal(&mut lit, l);
                }
                j += 1;
            }
            return Ok((lit, j));
        }
        '0'..='7' => {
            let mut j = i + 1;
            let mut value = 0u32;
            if c != '0' && !chars.get(j + 1).is_some_and(|d| ('0'..='7').contains(d)) {
                return Err(format!("invalid escape sequence: `\\{c}`"));
            }
            while j < i + 4 && chars.get(j).is_some_and(|d| ('0'..='7').contains(d)) {
                value = value * 8 + chars.get(j).and_then(|d| d.to_digit(8)).unwrap_or(0);
                j += 1;
            }
            return Ok((format!("\\x{{{value:x}}}"), j));
        }
        'x' => {
            if chars.get(next) == Some(&'{') {
                let close = (next..chars.len()).find(|&k| chars.get(k) == Some(&'}'));
                let Some(k) = close else {
                    return Err(format!(
                        "invalid escape sequence: `{}`",
                        chars.get(i..).unwrap_or(&[]).iter().collect::<String>()
                    ));
                };
                return Ok((chars.get(i..k + 1).unwrap_or(&[]).iter().collect(), k + 1));
            }
            let h: String = chars.get(next..next + 2).unwrap_or(&[]).iter().collect();
            if h.len() != 2 || !h.chars().all(|d| d.is_ascii_hexdigit()) {
                return Err(format!("invalid escape sequence: `\\x{h}`"));
            }
            return Ok((format!("\\x{h}"), next + 2));
        }
        'p' | 'P' => {
            if chars.get(next) == Some(&'{') {
                let close = (next..chars.len()).find(|&k| chars.get(k) == Some(&'}'));
                let Some(k) = close else {
                    return Err(format!(
                        "invalid character class range: `{}`",
                        chars.get(i..).unwrap_or(&[]).iter().collect::<String>()
                    ));
                };
                return Ok((chars.get(i..k + 1).unwrap_or(&[]).iter().collect(), k + 1));
            }
            return Ok((
                chars.get(i..next + 1).unwrap_or(&[]).iter().collect(),
                next + 1,
            ));
        }
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => format!("\\{c}"),
        c => return Err(format!("invalid escape sequence: `\\{c}`")),
    };
    Ok((piece, next))
}

#[cfg(test)]
mod tests {
    use super::super::cast::tests_support::{call, call_err, s};
    use crate::fmt::format_v;
    use crate::value::Value;

    #[test]
    fn helm_observed_regexps() {
        // Expectations read off helm v4.1.4.
        let i = Value::Int;
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("regexFindAll", vec![s("a*"), s("baaac"), i(-1)], "[ aaa ]"),
            (
                "regexReplaceAll",
                vec![s("(a)(b)"), s("abab"), s("$1x-${1}x-$01-$$-$2")],
                "-ax--$-b-ax--$-b",
            ),
            (
                "regexReplaceAll",
                vec![s("(?P<n>a)"), s("a"), s("[$n]")],
                "[a]",
            ),
            ("regexSplit", vec![s("a*"), s("baaac"), i(-1)], "[b c]"),
            ("regexSplit", vec![s(","), s("a,b,c"), i(2)], "[a b,c]"),
            ("regexSplit", vec![s(""), s("abc"), i(-1)], "[a b c]"),
            ("regexMatch", vec![s("^\\d+$"), s("١٢")], "false"),
            ("regexMatch", vec![s("\\<a"), s("<a")], "true"),
            ("regexFind", vec![s("[[]"), s("x[")], "["),
            (
                "regexReplaceAll",
                vec![s("a*"), s("baaac"), s("-")],
                "-b-c-",
            ),
            (
                "regexReplaceAllLiteral",
                vec![s("a"), s("aa"), s("$1")],
                "$1$1",
            ),
            ("regexQuoteMeta", vec![s("a.b*c{}")], "a\\.b\\*c\\{\\}"),
            (
                "regexFindAll",
                vec![s("\\w+"), s("héllo wörld"), i(1)],
                "[h]",
            ),
            ("regexMatch", vec![s("a{2}"), s("aa")], "true"),
            ("regexFind", vec![s("x{"), s("x{")], "x{"),
            ("regexMatch", vec![s("\\Qa.b\\E"), s("a.b")], "true"),
            ("regexFind", vec![s("[a&&b]"), s("&")], "&"),
            ("regexFind", vec![s("\\141"), s("a")], "a"),
            ("regexFindAll", vec![s("a"), s("aaa"), i(0)], "[]"),
            ("regexMatch", vec![s("("), s("x")], "false"),
            ("regexFind", vec![s("(?i)k"), s("\u{212a}")], "\u{212a}"),
            ("regexFind", vec![s("[^\\s]+"), s("  ab  ")], "ab"),
            ("regexFind", vec![s("\\bx\\b"), s("éx y")], "x"),
        ];
        for (name, args, want) in cases {
            assert_eq!(format_v(&call(name, args.clone())), want, "{name} {args:?}");
        }
        assert_eq!(
            call("regexSplit", vec![s(","), s(""), i(-1)])
                .as_list()
                .map(<[Value]>::len),
            Some(1)
        );
    }

    #[test]
    fn helm_observed_regexp_errors() {
        // `mustRegexMatch P "x"` in helm v4.1.4.
        let cases: &[(&str, &str)] = &[
            ("(", "missing closing ): `(`"),
            (")", "unexpected ): `)`"),
            ("[a", "missing closing ]: `[a`"),
            ("a**", "invalid nested repetition operator: `**`"),
            ("*", "missing argument to repetition operator: `*`"),
            ("\\q", "invalid escape sequence: `\\q`"),
            ("a{1001}", "invalid repeat count: `{1001}`"),
            ("a{2,1}", "invalid repeat count: `{2,1}`"),
            ("(?x)a", "invalid or unsupported Perl syntax: `(?x`"),
            ("a\\", "trailing backslash at end of expression: ``"),
            ("\\1", "invalid escape sequence: `\\1`"),
            ("x{2}{3}", "invalid nested repetition operator: `{2}{3}`"),
            ("+?", "missing argument to repetition operator: `+?`"),
            ("a*??", "invalid nested repetition operator: `*??`"),
        ];
        for (p, want) in cases {
            let got = call_err("mustRegexMatch", vec![s(p), s("x")]);
            assert_eq!(got, format!("error parsing regexp: {want}"), "{p}");
        }
        assert_eq!(
            call_err("regexFind", vec![s("("), s("x")]),
            "regexp: Compile(`(`): error parsing regexp: missing closing ): `(`"
        );
        assert_eq!(
            call_err("mustRegexFind", vec![s("("), s("x")]),
            "error parsing regexp: missing closing ): `(`"
        );
    }
}
