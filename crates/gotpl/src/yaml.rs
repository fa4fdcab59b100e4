//! YAML exactly as Helm reads and writes it.
//!
//! Reading ([`parse_values`], [`parse_document`], [`parse_map`], [`parse_list`],
//! [`parse_documents`]) follows `sigs.k8s.io/yaml.Unmarshal`: the text is parsed by go-yaml v2
//! (YAML 1.1 resolution: `yes/no/on/off/y/n` are booleans, `0777` is octal, `0x1F` hex, `1_000`,
//! `0b101`, `.inf`, `~`; timestamps stay strings; `!!binary` is decoded; merge keys `<<` and
//! anchors are honoured; duplicate keys: the last wins), then converted to JSON (map keys become
//! strings: `true` -> "true", `1` -> "1", `1.5` -> "1.5"; NaN and infinities fail) and decoded
//! into `interface{}`, so every number is a `float64`. Events come from `granit-parser` with our
//! own budgets: input size, nesting depth, alias count and alias-replayed nodes. Documents of
//! the plain shape rendered manifests have (block maps and lists of one-line scalars, simple
//! flow collections, `|` blocks) are read directly by a fast reader that gives up on anything
//! else, so errors always come from the full reader.
//!
//! Writing ([`to_yaml`]) follows `sigs.k8s.io/yaml.Marshal`: the value goes to JSON (Go's
//! `encoding/json`), the JSON is read back by go-yaml v2 (so integral floats become ints) and
//! written by go-yaml v2's emitter: 2-space indent, sequences not indented under their key,
//! strings quoted when they would resolve to something else, `|`/`|-`/`|+` literal blocks for
//! multi-line strings, plain and quoted scalars folded past column 80, keys sorted in go-yaml's
//! natural order, keys over 128 bytes written as `? key`. [`to_yaml_pretty`] is Helm's
//! `toYamlPretty` (go-yaml v3 encoder, indent 2: sequences indented, no folding, numbers as Go
//! prints them).

use std::borrow::Cow;
use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, ScanError};

use crate::fmt::format_float_g;
use crate::json::float_json;
use crate::value::{MAX_VALUE_DEPTH, Map, MapRef, Value, base64_std};

/// Largest YAML text accepted in one read.
pub const MAX_YAML_BYTES: usize = 8 * 1024 * 1024;
/// Deepest nesting of maps and lists accepted.
pub const MAX_DEPTH: usize = 64;
/// Most alias (`*ref`) uses accepted in one read.
pub const MAX_ALIASES: usize = 1_000;
/// Most nodes replayed through aliases in one read (the alias-bomb guard).
pub const MAX_REPLAYED_EVENTS: usize = 100_000;
/// Largest YAML text one write produces.
pub const MAX_YAML_OUTPUT: usize = 64 * 1024 * 1024;

/// A YAML read or write that failed, worded as Helm words it
/// (`error converting YAML to JSON: yaml: line 2: found character that cannot start any token`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(pub String);

// ---------------------------------------------------------------------------------------------
// Resolution of plain scalars (go-yaml v2 `resolve.go`).
// ---------------------------------------------------------------------------------------------

/// What a plain scalar resolves to under go-yaml v2's rules.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// Looks like a timestamp (kept as a string when read into `interface{}`).
    Timestamp,
    /// The merge key `<<`.
    Merge,
    Str,
}

fn resolve_map(s: &str) -> Option<Resolved> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Resolved::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        "<<" => Resolved::Merge,
        _ => return None,
    })
}

/// go-yaml v2's `resolve("", s)`.
pub(crate) fn resolve_plain(s: &str) -> Resolved {
    let hint = match s.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => 0,
    };
    if hint == 0 {
        return Resolved::Str;
    }
    if let Some(r) = resolve_map(s) {
        return r;
    }
    match hint {
        b'.' => {
            if let Some(f) = go_parse_float(s) {
                return Resolved::Float(f);
            }
        }
        b'D' | b'S' => {
            if is_timestamp(s) {
                return Resolved::Timestamp;
            }
            let plain: Cow<'_, str> = if s.contains('_') {
                Cow::Owned(s.chars().filter(|&c| c != '_').collect())
            } else {
                Cow::Borrowed(s)
            };
            if let Ok(i) = go_parse_int(&plain) {
                return Resolved::Int(i);
            }
            if let Ok(u) = go_parse_uint(&plain) {
                return Resolved::Uint(u);
            }
            if yaml_style_float(&plain)
                && let Some(f) = go_parse_float(&plain)
            {
                return Resolved::Float(f);
            }
            if let Some(rest) = plain.strip_prefix("0b") {
                if let Some(v) = parse_digits(rest, 2) {
                    return match i64::try_from(v) {
                        Ok(i) => Resolved::Int(i),
                        Err(_) => Resolved::Uint(v),
                    };
                }
            } else if let Some(rest) = plain.strip_prefix("-0b")
                && let Some(v) = parse_digits(rest, 2)
                && v <= 1u64 << 63
            {
                return Resolved::Int((v as i64).wrapping_neg());
            }
        }
        _ => {}
    }
    Resolved::Str
}

/// Digits in `base`, no sign, no prefix; `None` on a bad digit, emptiness or overflow.
fn parse_digits(s: &str, base: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for c in s.chars() {
        let d = c.to_digit(base)?;
        v = v.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    Some(v)
}

#[derive(Debug, PartialEq)]
enum IntErr {
    Syntax,
    Range,
}

/// Go's `strconv.ParseUint(s, 0, 64)` for text without underscores.
fn go_parse_uint(s: &str) -> Result<u64, IntErr> {
    let (base, digits) = if let Some(r) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, r)
    } else if let Some(r) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
        (8, r)
    } else if let Some(r) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        (2, r)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, s.get(1..).unwrap_or(""))
    } else {
        (10, s)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
        return Err(IntErr::Syntax);
    }
    parse_digits(digits, base).ok_or(IntErr::Range)
}

/// Go's `strconv.ParseInt(s, 0, 64)` for text without underscores.
fn go_parse_int(s: &str) -> Result<i64, IntErr> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    if rest.starts_with(['+', '-']) {
        return Err(IntErr::Syntax);
    }
    let u = go_parse_uint(rest)?;
    if neg {
        if u <= 1u64 << 63 {
            Ok((u as i64).wrapping_neg())
        } else {
            Err(IntErr::Range)
        }
    } else {
        i64::try_from(u).map_err(|_| IntErr::Range)
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal forms YAML lets through; out of range
/// (an infinity from finite digits) is an error, as in Go.
fn go_parse_float(s: &str) -> Option<f64> {
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// go-yaml's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
pub(crate) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    if !s.contains(':') {
        return false;
    }
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        // [0-5]?[0-9]: one or two digits, the first of two at most 5.
        let d1 = b.get(i).copied();
        let d2 = b.get(i + 1).copied();
        match (d1, d2) {
            (Some(a), Some(c)) if (b'0'..=b'5').contains(&a) && c.is_ascii_digit() => i += 2,
            (Some(a), _) if a.is_ascii_digit() => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// go-yaml v3's `isOldBool`: YAML 1.1 booleans v3 no longer reads but still quotes.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// go-yaml's `parseTimestamp`: Go's `time.Parse` with the layouts
/// `2006-1-2T15:4:5.999999999Z07:00` (also lower-case `t`), `2006-1-2 15:4:5.999999999` and
/// `2006-1-2`.
pub(crate) fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b.iter().take(4).all(u8::is_ascii_digit) || b.get(4) != Some(&b'-') {
        return false;
    }
    let year: i64 = s.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    let mut i = 5;
    // getnum(value, false): one or two digits.
    let num = |i: &mut usize| -> Option<u32> {
        let d1 = b.get(*i).filter(|c| c.is_ascii_digit())?;
        *i += 1;
        let mut v = u32::from(d1 - b'0');
        if let Some(d2) = b.get(*i).filter(|c| c.is_ascii_digit()) {
            v = v * 10 + u32::from(d2 - b'0');
            *i += 1;
        }
        Some(v)
    };
    let Some(month) = num(&mut i) else {
        return false;
    };
    if !(1..=12).contains(&month) || b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = num(&mut i) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day < 1 || day > days {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let sep = b.get(i).copied();
    let with_zone = matches!(sep, Some(b'T' | b't'));
    if !with_zone && sep != Some(b' ') {
        return false;
    }
    i += 1;
    let Some(h) = num(&mut i) else { return false };
    if h >= 24 || b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    let Some(m) = num(&mut i) else { return false };
    if m >= 60 || b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    let Some(sec) = num(&mut i) else { return false };
    if sec >= 60 {
        return false;
    }
    // Optional fraction: '.' or ',' and at least one digit.
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if !with_zone {
        return i == b.len();
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let rest = b.get(i + 1..).unwrap_or(&[]);
            rest.len() == 5
                && rest.first().is_some_and(u8::is_ascii_digit)
                && rest.get(1).is_some_and(u8::is_ascii_digit)
                && rest.get(2) == Some(&b':')
                && rest.get(3).is_some_and(u8::is_ascii_digit)
                && rest.get(4).is_some_and(u8::is_ascii_digit)
                && {
                    let hh = u32::from(rest[0] - b'0') * 10 + u32::from(rest[1] - b'0');
                    let mm = u32::from(rest[3] - b'0') * 10 + u32::from(rest[4] - b'0');
                    hh <= 24 && mm <= 60
                }
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Reading.
// ---------------------------------------------------------------------------------------------

/// One node of a document, kept in a flat arena in document order: a collection's children
/// follow it, each child's subtree ending at its `end`.
#[derive(Debug)]
enum NodeKind<'a> {
    Scalar {
        /// Borrowed from the input where the parser could.
        value: Cow<'a, str>,
        plain: bool,
        /// The tag's name in the `tag:yaml.org,2002:` namespace (`int`, `str`, `binary`), or
        /// `Some("!")` for any other tag.
        tag: Option<String>,
    },
    Seq,
    Map,
    /// The node an alias replays (an index into the arena).
    Alias(usize),
}

#[derive(Debug)]
struct Node<'a> {
    kind: NodeKind<'a>,
    /// Nodes in this subtree (aliases count the nodes they replay).
    size: usize,
    /// The arena index just past this node's subtree.
    end: usize,
}

/// The children of the collection at `idx` (keys and values alternate in a map).
struct Children<'n, 'a> {
    nodes: &'n [Node<'a>],
    next: usize,
    end: usize,
}

impl Iterator for Children<'_, '_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.next >= self.end {
            return None;
        }
        let i = self.next;
        self.next = self.nodes.get(i).map_or(self.end, |n| n.end.max(i + 1));
        Some(i)
    }
}

fn children<'n, 'a>(nodes: &'n [Node<'a>], idx: usize) -> Children<'n, 'a> {
    Children {
        nodes,
        next: idx + 1,
        end: nodes.get(idx).map_or(0, |n| n.end),
    }
}

/// A granit error in go-yaml's words and line numbering (go-yaml prints 0-based marks, plus
/// one for scanner errors, and no line at all for a mark on the first line).
fn scan_error(e: &ScanError, text: &str) -> YamlError {
    let info = e.info();
    let mut msg = info.lines().next().unwrap_or("").trim().to_string();
    // granit prefixes parser errors with their context ("while parsing a block mapping, ").
    if msg.starts_with("while parsing")
        && let Some((_, rest)) = msg.split_once(", ")
    {
        msg = rest.to_string();
    }
    let mut line0 = e.marker().line().saturating_sub(1);
    let at_end = e.marker().index() + 1 >= text.chars().count();
    // libyaml's stream end sits on a line of its own when the text does not end in a newline.
    let newlines = text.matches('\n').count();
    let eof_line0 = newlines + usize::from(!text.is_empty() && !text.ends_with('\n'));
    let mut parser_error = false;
    if msg.starts_with("did not find expected") {
        parser_error = true;
    } else if let Some(rest) = msg.strip_prefix("unclosed bracket '") {
        let close = if rest.starts_with('{') { '}' } else { ']' };
        msg = format!("did not find expected ',' or '{close}'");
        parser_error = true;
        line0 = eof_line0;
    } else if msg.contains("unclosed quote")
        || (msg.contains("quoted scalar") && at_end)
        || msg.contains("end of stream")
    {
        msg = "found unexpected end of stream".into();
        line0 = newlines;
    } else if msg.starts_with("simple key expected ':'") {
        msg = "could not find expected ':'".into();
        if at_end {
            line0 = eof_line0;
        }
    } else if msg.contains("unknown anchor") {
        let name: String = text
            .chars()
            .skip(e.marker().index())
            .skip_while(|&c| c == '*')
            .take_while(|&c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
            .collect();
        return YamlError(format!("yaml: unknown anchor '{name}' referenced"));
    } else if msg.starts_with("unexpected character")
        || (msg.to_ascii_lowercase().contains("tab") && !msg.contains("mapping values"))
    {
        msg = "found character that cannot start any token".into();
    } else if msg.contains("unknown escape") {
        msg = "found unknown escape character".into();
    }
    let where_ = if line0 == 0 {
        String::new()
    } else {
        format!("line {}: ", if parser_error { line0 } else { line0 + 1 })
    };
    YamlError(format!("yaml: {where_}{msg}"))
}

struct Reader<'a> {
    text: &'a str,
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    /// Anchor id -> arena index of the anchored node.
    anchors: HashMap<usize, usize>,
    aliases: usize,
    replayed: usize,
    nodes: Vec<Node<'a>>,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Reader<'a> {
        let mut opts = granit_parser::Options::default();
        opts.flow_nesting_limit = MAX_DEPTH + 1;
        opts.block_nesting_limit = MAX_DEPTH + 1;
        opts.emit_comments = false;
        Reader {
            text,
            parser: Parser::new_from_str_with_options(text, opts),
            anchors: HashMap::new(),
            aliases: 0,
            replayed: 0,
            // About one node per 12 bytes of typical YAML.
            nodes: Vec::with_capacity((text.len() / 12 + 4).min(4096)),
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, usize), YamlError> {
        match self.parser.next_event() {
            None => Ok((Event::StreamEnd, 0)),
            Some(Err(e)) => Err(scan_error(&e, self.text)),
            Some(Ok((ev, span))) => Ok((ev, span.start.line().saturating_sub(1))),
        }
    }

    /// Reads the next document into the arena: `Ok(None)` at the end of the stream,
    /// `Ok(Some(None))` for an empty document, else the root's index.
    fn document(&mut self) -> Result<Option<Option<usize>>, YamlError> {
        loop {
            let (ev, _) = self.next()?;
            match ev {
                Event::StreamEnd => return Ok(None),
                Event::DocumentStart(..) => break,
                _ => continue,
            }
        }
        self.anchors.clear();
        self.nodes.clear();
        let (ev, line) = self.next()?;
        if matches!(ev, Event::DocumentEnd) {
            return Ok(Some(None));
        }
        let root = self.node(ev, line, 0)?;
        // go-yaml's Unmarshal stops after the first document's root node: what follows is
        // not checked (`{a: 1} x` reads as `{a: 1}`).
        loop {
            match self.next() {
                Ok((Event::DocumentEnd | Event::StreamEnd, _)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        Ok(Some(Some(root)))
    }

    fn push(&mut self, kind: NodeKind<'a>, size: usize) -> usize {
        let idx = self.nodes.len();
        self.nodes.push(Node {
            kind,
            size,
            end: idx + 1,
        });
        idx
    }

    /// Reads a collection's children up to its end event; returns its size.
    fn children(&mut self, map: bool, depth: usize) -> Result<usize, YamlError> {
        let mut size = 1usize;
        loop {
            let (ev, l) = self.next()?;
            if (!map && matches!(ev, Event::SequenceEnd))
                || (map && matches!(ev, Event::MappingEnd))
            {
                break;
            }
            let k = self.node(ev, l, depth + 1)?;
            size = size.saturating_add(self.nodes.get(k).map_or(0, |n| n.size));
            if map {
                let (ev, l) = self.next()?;
                let v = self.node(ev, l, depth + 1)?;
                size = size.saturating_add(self.nodes.get(v).map_or(0, |n| n.size));
            }
        }
        Ok(size)
    }

    fn node(&mut self, ev: Event<'a>, line: usize, depth: usize) -> Result<usize, YamlError> {
        if depth > MAX_DEPTH {
            return Err(YamlError(format!(
                "yaml: line {}: exceeded max depth of {MAX_DEPTH}",
                line + 1
            )));
        }
        let (idx, anchor) = match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let tag = tag.map(|t| match t.suffix_in_namespace("tag:yaml.org,2002:") {
                    Some(name) => name.into_owned(),
                    None => "!".to_string(),
                });
                let kind = NodeKind::Scalar {
                    value,
                    plain: style == ScalarStyle::Plain,
                    tag,
                };
                (self.push(kind, 1), anchor)
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                let map = matches!(ev, Event::MappingStart(..));
                let idx = self.push(if map { NodeKind::Map } else { NodeKind::Seq }, 1);
                let size = self.children(map, depth)?;
                let end = self.nodes.len();
                if let Some(n) = self.nodes.get_mut(idx) {
                    n.size = size;
                    n.end = end;
                }
                (idx, anchor)
            }
            Event::Alias(id) => {
                self.aliases += 1;
                if self.aliases > MAX_ALIASES {
                    return Err(YamlError(format!(
                        "yaml: document has more than {MAX_ALIASES} aliases"
                    )));
                }
                let Some(&target) = self.anchors.get(&id) else {
                    return Err(YamlError("yaml: unknown anchor referenced".into()));
                };
                let size = self.nodes.get(target).map_or(0, |n| n.size);
                self.replayed = self.replayed.saturating_add(size);
                if self.replayed > MAX_REPLAYED_EVENTS {
                    return Err(YamlError(
                        "yaml: document contains excessive aliasing".into(),
                    ));
                }
                (self.push(NodeKind::Alias(target), size), 0)
            }
            Event::StreamEnd | Event::DocumentEnd => {
                return Err(YamlError("yaml: did not find expected node content".into()));
            }
            _ => {
                return Err(YamlError("yaml: unexpected event".into()));
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, idx);
        }
        Ok(idx)
    }
}

/// A decoded scalar or collection before the JSON step (go-yaml's `interface{}` values).
fn decode_scalar(value: &str, plain: bool, tag: Option<&str>) -> Result<Resolved, YamlError> {
    let Some(tag) = tag else {
        if !plain {
            return Ok(Resolved::Str);
        }
        return Ok(match resolve_plain(value) {
            Resolved::Merge => Resolved::Str,
            r => r,
        });
    };
    match tag {
        "str" | "!" | "binary" => Ok(Resolved::Str),
        "int" | "float" | "bool" | "null" | "timestamp" => {
            let r = resolve_plain(value);
            let ok = matches!(
                (tag, &r),
                ("int", Resolved::Int(_) | Resolved::Uint(_))
                    | ("float", Resolved::Float(_))
                    | ("bool", Resolved::Bool(_))
                    | ("null", Resolved::Null)
                    | ("timestamp", Resolved::Timestamp)
            );
            if ok {
                return Ok(r);
            }
            if tag == "float" {
                match r {
                    Resolved::Int(i) => return Ok(Resolved::Float(i as f64)),
                    Resolved::Uint(u) => return Ok(Resolved::Float(u as f64)),
                    _ => {}
                }
            }
            let rtag = match r {
                Resolved::Null => "!!null",
                Resolved::Bool(_) => "!!bool",
                Resolved::Int(_) | Resolved::Uint(_) => "!!int",
                Resolved::Float(_) => "!!float",
                Resolved::Timestamp => "!!timestamp",
                Resolved::Merge => "!!merge",
                Resolved::Str => "!!str",
            };
            Err(YamlError(format!(
                "yaml: cannot decode {rtag} `{value}` as a !!{tag}"
            )))
        }
        _ => Ok(Resolved::Str),
    }
}

fn decode_binary(value: &str) -> Result<String, YamlError> {
    let clean: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    match base64_decode_std(&clean) {
        Some(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        None => Err(YamlError(
            "yaml: !!binary value contains invalid base64 data".to_string(),
        )),
    }
}

/// Standard base64 with padding, strict like Go's `StdEncoding` (`None` on bad input).
pub(crate) fn base64_decode_std(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    let chunks = b.len() / 4;
    for (ci, chunk) in b.chunks(4).enumerate() {
        let last = ci + 1 == chunks;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (k, &c) in chunk.iter().enumerate() {
            let v = if k >= 4 - pad { 0 } else { val(c)? };
            n = (n << 6) | v;
        }
        out.push((n >> 16) as u8);
        if pad < 2 {
            out.push((n >> 8) as u8);
        }
        if pad < 1 {
            out.push(n as u8);
        }
    }
    Some(out)
}

struct Decoder<'n, 'a> {
    nodes: &'n [Node<'a>],
    depth_limit: usize,
}

impl<'n, 'a> Decoder<'n, 'a> {
    fn node(&self, idx: usize) -> Result<&'n Node<'a>, YamlError> {
        self.nodes
            .get(idx)
            .ok_or_else(|| YamlError("yaml: unexpected event".into()))
    }

    fn too_deep(&self) -> YamlError {
        YamlError(format!("yaml: exceeded max depth of {}", self.depth_limit))
    }

    /// A node as `sigs.k8s.io/yaml` turns it into JSON-decoded Go data.
    fn value(&self, idx: usize, depth: usize) -> Result<Value, YamlError> {
        if depth > self.depth_limit {
            return Err(self.too_deep());
        }
        let node = self.node(idx)?;
        match &node.kind {
            NodeKind::Alias(target) => self.value(*target, depth + 1),
            NodeKind::Scalar { value, plain, tag } => {
                if tag.as_deref() == Some("binary") {
                    return Ok(Value::str(decode_binary(value)?));
                }
                match decode_scalar(value, *plain, tag.as_deref())? {
                    Resolved::Null => Ok(Value::Nil),
                    Resolved::Bool(b) => Ok(Value::Bool(b)),
                    Resolved::Int(i) => Ok(Value::Float(i as f64)),
                    Resolved::Uint(u) => Ok(Value::Float(u as f64)),
                    Resolved::Float(f) => {
                        if f.is_nan() {
                            Err(YamlError(
                                "error converting YAML to JSON: json: unsupported value: NaN"
                                    .into(),
                            ))
                        } else if f.is_infinite() {
                            Err(YamlError(format!(
                                "error converting YAML to JSON: json: unsupported value: {}",
                                if f > 0.0 { "+Inf" } else { "-Inf" }
                            )))
                        } else {
                            Ok(Value::Float(f))
                        }
                    }
                    Resolved::Timestamp | Resolved::Merge | Resolved::Str => {
                        Ok(Value::str(value.as_ref()))
                    }
                }
            }
            NodeKind::Seq => {
                let mut out = Vec::with_capacity(children(self.nodes, idx).count());
                for item in children(self.nodes, idx) {
                    out.push(self.value(item, depth + 1)?);
                }
                Ok(Value::list(out))
            }
            NodeKind::Map => {
                let mut map = Map::new();
                self.fill_map(idx, &mut map, depth)?;
                Ok(Value::map(map))
            }
        }
    }

    fn fill_map(&self, idx: usize, map: &mut Map, depth: usize) -> Result<(), YamlError> {
        if depth > self.depth_limit {
            return Err(self.too_deep());
        }
        match &self.node(idx)?.kind {
            NodeKind::Map => {}
            NodeKind::Alias(t) => return self.fill_map(*t, map, depth + 1),
            _ => return Err(want_map()),
        }
        let mut entries = children(self.nodes, idx);
        while let Some(k) = entries.next() {
            let Some(v) = entries.next() else { break };
            if is_merge_key(self.node(k)?) {
                self.merge(v, map, depth + 1)?;
                continue;
            }
            let key = self.key(k, v, depth + 1)?;
            let val = self.value(v, depth + 1)?;
            map.insert(key, val);
        }
        Ok(())
    }

    fn merge(&self, idx: usize, map: &mut Map, depth: usize) -> Result<(), YamlError> {
        match &self.node(idx)?.kind {
            NodeKind::Map => self.fill_map(idx, map, depth),
            NodeKind::Alias(t) => match &self.node(*t)?.kind {
                NodeKind::Map | NodeKind::Alias(_) => self.fill_map(*t, map, depth + 1),
                _ => Err(want_map()),
            },
            NodeKind::Seq => {
                let items: Vec<usize> = children(self.nodes, idx).collect();
                for &item in items.iter().rev() {
                    let target = match &self.node(item)?.kind {
                        NodeKind::Alias(t) => *t,
                        _ => item,
                    };
                    if !matches!(self.node(target)?.kind, NodeKind::Map) {
                        return Err(want_map());
                    }
                    self.fill_map(target, map, depth + 1)?;
                }
                Ok(())
            }
            NodeKind::Scalar { .. } => Err(want_map()),
        }
    }

    /// A map key as `sigs.k8s.io/yaml` turns it into a JSON object key.
    fn key(&self, k: usize, v: usize, depth: usize) -> Result<String, YamlError> {
        let k = match &self.node(k)?.kind {
            NodeKind::Alias(t) => *t,
            _ => k,
        };
        match &self.node(k)?.kind {
            NodeKind::Scalar { value, plain, tag } => {
                if tag.as_deref() == Some("binary") {
                    return decode_binary(value);
                }
                Ok(match decode_scalar(value, *plain, tag.as_deref())? {
                    Resolved::Str | Resolved::Timestamp | Resolved::Merge => value.to_string(),
                    Resolved::Int(i) => i.to_string(),
                    Resolved::Bool(b) => b.to_string(),
                    Resolved::Float(f) => float32_key(f),
                    Resolved::Null => {
                        let shown = crate::fmt::format_v(&self.value(v, depth).unwrap_or_default());
                        return Err(YamlError(format!(
                            "error converting YAML to JSON: unsupported map key of type: %!s(<nil>), key: <nil>, value: {shown}"
                        )));
                    }
                    Resolved::Uint(u) => {
                        return Err(YamlError(format!(
                            "error converting YAML to JSON: unsupported map key of type: uint64, key: 0x{u:x}, value: {}",
                            crate::fmt::format_v(&self.value(v, depth).unwrap_or_default())
                        )));
                    }
                })
            }
            NodeKind::Seq | NodeKind::Map | NodeKind::Alias(_) => {
                let shown = self.value(k, depth).unwrap_or_default();
                Err(YamlError(format!(
                    "error converting YAML to JSON: yaml: invalid map key: {}",
                    go_sharp_v(&shown)
                )))
            }
        }
    }
}

fn want_map() -> YamlError {
    YamlError(
        "error converting YAML to JSON: yaml: map merge requires map or sequence of maps as the value"
            .into(),
    )
}

fn is_merge_key(k: &Node) -> bool {
    match &k.kind {
        NodeKind::Scalar { value, plain, tag } => {
            value == "<<" && ((*plain && tag.is_none()) || tag.as_deref() == Some("merge"))
        }
        _ => false,
    }
}

/// Go's `%#v` for the decoded collections an invalid key shows (`[]interface {}{"a"}`).
fn go_sharp_v(v: &Value) -> String {
    match v {
        Value::Nil => "interface {}(nil)".into(),
        Value::String(s) => format!("{:?}", s.as_ref()),
        Value::Float(f) => format_float_g(*f),
        Value::Bool(b) => b.to_string(),
        Value::List(items) => format!(
            "[]interface {{}}{{{}}}",
            items.iter().map(go_sharp_v).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(m) => format!(
            "map[interface {{}}]interface {{}}{{{}}}",
            m.snapshot()
                .iter()
                .map(|(k, x)| format!("{:?}:{}", k, go_sharp_v(x)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => crate::fmt::format_v(other),
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 32)`, as `sigs.k8s.io/yaml` writes a float map key.
fn float32_key(f: f64) -> String {
    let f32v = f as f32;
    if f32v.is_nan() {
        return ".nan".into();
    }
    if f32v.is_infinite() {
        return if f32v > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    if f32v == 0.0 {
        return if f32v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let s = format!("{:e}", f32v.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut out = String::new();
    if f32v < 0.0 {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(digits.get(..1).unwrap_or("0"));
        if digits.len() > 1 {
            out.push('.');
            out.push_str(digits.get(1..).unwrap_or(""));
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        if exp.unsigned_abs() < 10 {
            out.push('0');
        }
        out.push_str(&exp.unsigned_abs().to_string());
    } else {
        out.push_str(&crate::fmt::fixed_digits(&digits, exp));
    }
    out
}

fn check_input(text: &str) -> Result<(), YamlError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(YamlError(format!(
            "yaml: input is {} bytes, over the {MAX_YAML_BYTES}-byte limit",
            text.len()
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// A fast reader for the plain shape most YAML has (and all of Helm's rendered manifests):
// block maps and sequences of one-line plain or quoted scalars, empty `[]`/`{}`, flow lists of
// plain scalars, `|`/`|-` literal blocks, comments. On anything else or anything doubtful
// (tabs, non-ASCII, anchors, tags, multi-line scalars, odd indentation, a scalar that would
// not decode) it gives up, and the full reader reads the text: this one never decides an
// error, and what it accepts reads as the full reader reads it.
// ---------------------------------------------------------------------------------------------

/// Deepest nesting the fast reader takes on (well within both depth limits).
const FAST_MAX_DEPTH: usize = 40;

struct Fast<'a> {
    lines: Vec<&'a str>,
    /// The next line to read.
    pos: usize,
    /// The rest of a `- ` entry, read as a line of its own at this column.
    virt: Option<(usize, &'a str)>,
    /// Whether the text ends in a line break.
    final_break: bool,
    /// The top-level keys whose values are made ([`parse_document_keeping`]); `None`: all.
    keep: Option<&'a [&'a str]>,
    /// Reading a part nobody keeps: every line is checked as when building, but no value is
    /// made (the result is `Nil`).
    checking: bool,
}

/// A character a plain scalar may not start with (`-`, `?`, `:` are refused too: only `-`
/// followed by a non-space is taken, by the callers).
fn is_indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

fn is_seq_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// What follows a scalar on its line: nothing, or blanks then a comment.
fn only_comment(rest: &str) -> bool {
    let t = rest.trim_start_matches(' ');
    t.is_empty() || (t.starts_with('#') && t.len() < rest.len())
}

/// The key of a block map entry as the fast reader takes it.
enum Key<'a> {
    /// A plain key, resolved as YAML resolves it (`1` is an int key, `true` a bool key).
    Plain(&'a str),
    /// A one-line quoted key (`"helm.sh/hook": test`): always the string it spells.
    Quoted(Cow<'a, str>),
}

/// `key: rest` with a plain key of the simple kind or a one-line quoted key; `None` when the
/// line is not that.
fn split_key(text: &str) -> Option<(Key<'_>, &str)> {
    let b = text.as_bytes();
    let first = *b.first()?;
    if first == b'"' || first == b'\'' {
        let mut i = 0;
        let key = quoted_str(text, &mut i)?;
        if b.get(i) != Some(&b':') || !matches!(b.get(i + 1), None | Some(b' ')) || i > 1000 {
            return None;
        }
        return Some((Key::Quoted(key), text.get(i + 1..)?));
    }
    if is_indicator(first) {
        return None;
    }
    let mut i = 0;
    let colon = loop {
        match b.get(i) {
            None => return None,
            Some(b':') if matches!(b.get(i + 1), None | Some(b' ')) => break i,
            Some(b',' | b'[' | b']' | b'{' | b'}' | b'#') => return None,
            Some(_) => i += 1,
        }
    };
    let key = text.get(..colon)?;
    if key.ends_with(' ') || key.len() > 1000 {
        return None;
    }
    Some((Key::Plain(key), text.get(colon + 1..)?))
}

/// A plain scalar's value, as the full reader decodes it; `None` where that would fail.
fn fast_scalar(text: &str, plain: bool) -> Option<Value> {
    Some(match decode_scalar(text, plain, None).ok()? {
        Resolved::Null => Value::Nil,
        Resolved::Bool(b) => Value::Bool(b),
        Resolved::Int(i) => Value::Float(i as f64),
        Resolved::Uint(u) => Value::Float(u as f64),
        Resolved::Float(f) if f.is_finite() => Value::Float(f),
        Resolved::Float(_) => return None,
        Resolved::Timestamp | Resolved::Merge | Resolved::Str => Value::str(text),
    })
}

/// A plain key as a JSON object key; `None` for a merge key or a key that fails.
fn fast_key(text: &str) -> Option<String> {
    if text == "<<" {
        return None;
    }
    match decode_scalar(text, true, None).ok()? {
        Resolved::Str | Resolved::Timestamp => Some(text.to_string()),
        Resolved::Int(i) => Some(i.to_string()),
        Resolved::Bool(b) => Some(b.to_string()),
        Resolved::Float(f) => Some(float32_key(f)),
        Resolved::Null | Resolved::Uint(_) | Resolved::Merge => None,
    }
}

/// Whether [`fast_key`] takes `text`, without making the key.
fn key_ok(text: &str) -> bool {
    text != "<<"
        && matches!(
            decode_scalar(text, true, None),
            Ok(Resolved::Str
                | Resolved::Timestamp
                | Resolved::Int(_)
                | Resolved::Bool(_)
                | Resolved::Float(_))
        )
}

/// Whether [`fast_scalar`] takes `text`, without making the value.
fn scalar_ok(text: &str, plain: bool) -> bool {
    match decode_scalar(text, plain, None) {
        Ok(Resolved::Float(f)) => f.is_finite(),
        Ok(_) => true,
        Err(_) => false,
    }
}

impl<'a> Fast<'a> {
    fn new(text: &'a str) -> Option<Fast<'a>> {
        // Without short-circuit, so that it vectorizes: nearly every text passes.
        let printable = text.bytes().fold(true, |ok, b| {
            ok & ((0x20..=0x7E).contains(&b) | (b == b'\n'))
        });
        if !printable {
            return None;
        }
        let mut lines: Vec<&str> = Vec::with_capacity(text.len() / 32 + 1);
        let mut start = 0;
        for nl in crate::bytes::positions(b'\n', text.as_bytes()) {
            lines.push(text.get(start..nl)?);
            start = nl + 1;
        }
        lines.push(text.get(start..)?);
        if lines
            .iter()
            .any(|l| l.starts_with("---") || l.starts_with("...") || l.starts_with('%'))
        {
            return None;
        }
        Some(Fast {
            lines,
            pos: 0,
            virt: None,
            final_break: text.ends_with('\n'),
            keep: None,
            checking: false,
        })
    }

    /// The next line with content: its indentation and its text; blank lines and comment
    /// lines are passed over.
    fn peek(&mut self) -> Option<(usize, &'a str)> {
        if let Some(v) = self.virt {
            return Some(v);
        }
        while let Some(&line) = self.lines.get(self.pos) {
            let text = line.trim_start_matches(' ');
            if text.is_empty() || text.starts_with('#') {
                self.pos += 1;
                continue;
            }
            return Some((line.len() - text.len(), text));
        }
        None
    }

    fn consume(&mut self) {
        if self.virt.take().is_none() {
            self.pos += 1;
        }
    }

    /// The node whose first line is next (a map or a sequence at its indentation).
    fn node(&mut self, depth: usize) -> Option<Value> {
        if depth > FAST_MAX_DEPTH {
            return None;
        }
        let (ind, text) = self.peek()?;
        if is_seq_entry(text) {
            self.seq(ind, depth)
        } else if split_key(text).is_some() {
            self.map(ind, depth)
        } else {
            None
        }
    }

    /// The value of a key or entry with nothing after it on its line.
    fn value_below(&mut self, n: usize, depth: usize, in_map: bool) -> Option<Value> {
        match self.peek() {
            Some((ind, _)) if ind > n => self.node(depth),
            Some((ind, text)) if in_map && ind == n && is_seq_entry(text) => self.seq(n, depth),
            _ => Some(Value::Nil),
        }
    }

    fn map(&mut self, n: usize, depth: usize) -> Option<Value> {
        let checking = self.checking;
        let mut map = Map::new();
        while let Some((ind, text)) = self.peek() {
            if ind < n {
                break;
            }
            if ind > n {
                return None;
            }
            let (key, rest) = split_key(text)?;
            let spelled = match &key {
                Key::Plain(k) => k,
                Key::Quoted(k) => k.as_ref(),
            };
            // At the top of a read that keeps some keys, the others' values are only checked.
            let skip = checking || (depth == 0 && self.keep.is_some_and(|k| !k.contains(&spelled)));
            let key = match key {
                Key::Plain(k) if skip => key_ok(k).then_some(None)?,
                Key::Plain(k) => Some(fast_key(k)?),
                Key::Quoted(_) if skip => None,
                Key::Quoted(k) => Some(k.into_owned()),
            };
            self.consume();
            self.checking = skip;
            let value = self.entry_value(rest, n, depth);
            self.checking = checking;
            let value = value?;
            if let Some(key) = key {
                map.insert(key, value);
            }
        }
        if checking {
            return Some(Value::Nil);
        }
        Some(Value::map(map))
    }

    /// The value after `key:` (`rest`, the rest of its line) in a map at indentation `n`.
    fn entry_value(&mut self, rest: &'a str, n: usize, depth: usize) -> Option<Value> {
        let rest = rest.trim_start_matches(' ');
        if rest.is_empty() || rest.starts_with('#') {
            self.value_below(n, depth + 1, true)
        } else {
            self.inline(rest, n)
        }
    }

    fn seq(&mut self, n: usize, depth: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some((ind, text)) = self.peek() {
            if ind < n {
                break;
            }
            if ind > n {
                return None;
            }
            if !is_seq_entry(text) {
                break;
            }
            self.consume();
            let after = text.get(1..).unwrap_or("");
            let rest = after.trim_start_matches(' ');
            let col = n + 1 + (after.len() - rest.len());
            let item = if rest.is_empty() || rest.starts_with('#') {
                self.value_below(n, depth + 1, false)?
            } else if is_seq_entry(rest) || split_key(rest).is_some() {
                if depth + 1 > FAST_MAX_DEPTH {
                    return None;
                }
                self.virt = Some((col, rest));
                let v = self.node(depth + 1)?;
                if self.virt.is_some() {
                    return None;
                }
                v
            } else {
                self.inline(rest, n)?
            };
            if !self.checking {
                items.push(item);
            }
        }
        if self.checking {
            return Some(Value::Nil);
        }
        Some(Value::list(items))
    }

    /// A scalar (or empty or plain flow collection) after `key: ` or `- `, in a collection
    /// at indentation `n`; the next content line may not be more indented.
    fn inline(&mut self, rest: &'a str, n: usize) -> Option<Value> {
        let b = rest.as_bytes();
        let v = match b.first()? {
            b'"' | b'\'' => {
                let mut i = 0;
                let v = quoted_scalar(rest, &mut i)?;
                if !only_comment(rest.get(i..)?) {
                    return None;
                }
                v
            }
            b'[' | b'{' => self.flow(rest)?,
            b'|' => self.literal(rest, n)?,
            b'-' if b.get(1).is_some_and(|&c| c != b' ') => self.plain(rest)?,
            &c if is_indicator(c) => return None,
            _ => self.plain(rest)?,
        };
        if self.peek().is_some_and(|(ind, _)| ind > n) {
            return None;
        }
        Some(v)
    }

    fn plain(&mut self, rest: &str) -> Option<Value> {
        let b = rest.as_bytes();
        // Up to the first ` #` (a comment), with byte searches: most scalars have neither.
        let comment =
            crate::bytes::positions(b'#', b).find(|&i| i > 0 && b.get(i - 1) == Some(&b' '));
        let text = match comment {
            Some(i) => rest.get(..i - 1)?,
            None => rest,
        };
        let text = text.trim_end_matches(' ');
        let t = text.as_bytes();
        let colon_space = crate::bytes::positions(b':', t).any(|i| t.get(i + 1) == Some(&b' '));
        if text.is_empty() || colon_space || text.ends_with(':') {
            return None;
        }
        if self.checking {
            return scalar_ok(text, true).then_some(Value::Nil);
        }
        fast_scalar(text, true)
    }

    /// A flow collection of plain scalars (`[]`, `{}`, `[a, b]`, `{drop: [ALL]}`), alone on
    /// the rest of its line.
    fn flow(&mut self, rest: &str) -> Option<Value> {
        let mut i = 0;
        let v = flow_node(rest, &mut i, 0)?;
        if !only_comment(rest.get(i..)?) {
            return None;
        }
        Some(v)
    }

    /// A `|` or `|-` literal block (its indentation found from its first line) below a node
    /// at indentation `n`.
    fn literal(&mut self, header: &str, n: usize) -> Option<Value> {
        let strip = match header.trim_end_matches(' ') {
            "|" => false,
            "|-" => true,
            _ => return None,
        };
        let mut lines: Vec<&str> = Vec::new();
        let mut m = None;
        let mut last_line = false;
        while let Some(&raw) = self.lines.get(self.pos) {
            let text = raw.trim_start_matches(' ');
            let ind = raw.len() - text.len();
            if text.is_empty() {
                match m {
                    Some(m) if ind <= m => lines.push(""),
                    _ => return None,
                }
                self.pos += 1;
                continue;
            }
            let m = match m {
                Some(m) => m,
                None if ind > n => *m.insert(ind),
                None => return None,
            };
            if ind < m {
                break;
            }
            lines.push(raw.get(m..)?);
            last_line = self.pos + 1 == self.lines.len();
            self.pos += 1;
        }
        if last_line && !self.final_break {
            return None;
        }
        while lines.last() == Some(&"") {
            lines.pop();
        }
        let mut out = lines.join("\n");
        if !strip && !out.is_empty() {
            out.push('\n');
        }
        Some(Value::str(out))
    }
}

fn skip_spaces(b: &[u8], i: &mut usize) {
    while b.get(*i) == Some(&b' ') {
        *i += 1;
    }
}

/// A one-line flow node from `text[*i..]`: nested `[...]` and `{key: value}` of plain scalars
/// without `:`, `#` or quotes; `None` for anything else.
fn flow_node(text: &str, i: &mut usize, depth: usize) -> Option<Value> {
    if depth > FAST_MAX_DEPTH {
        return None;
    }
    let b = text.as_bytes();
    skip_spaces(b, i);
    match b.get(*i) {
        Some(b'[') => {
            *i += 1;
            let mut items = Vec::new();
            skip_spaces(b, i);
            if b.get(*i) == Some(&b']') {
                *i += 1;
                return Some(Value::list(items));
            }
            loop {
                items.push(flow_node(text, i, depth + 1)?);
                skip_spaces(b, i);
                match b.get(*i) {
                    Some(b',') => *i += 1,
                    Some(b']') => {
                        *i += 1;
                        return Some(Value::list(items));
                    }
                    _ => return None,
                }
            }
        }
        Some(b'{') => {
            *i += 1;
            let mut map = Map::new();
            skip_spaces(b, i);
            if b.get(*i) == Some(&b'}') {
                *i += 1;
                return Some(Value::map(map));
            }
            loop {
                let key = fast_key(flow_plain(text, i)?)?;
                if b.get(*i) != Some(&b':') || b.get(*i + 1) != Some(&b' ') {
                    return None;
                }
                *i += 2;
                let value = flow_node(text, i, depth + 1)?;
                map.insert(key, value);
                skip_spaces(b, i);
                match b.get(*i) {
                    Some(b',') => *i += 1,
                    Some(b'}') => {
                        *i += 1;
                        return Some(Value::map(map));
                    }
                    _ => return None,
                }
            }
        }
        Some(b'"' | b'\'') => quoted_scalar(text, i),
        _ => fast_scalar(flow_plain(text, i)?, true),
    }
}

/// A one-line quoted scalar at `text[*i..]` (double-quoted without escapes, or
/// single-quoted), `*i` left past its closing quote.
fn quoted_scalar(text: &str, i: &mut usize) -> Option<Value> {
    quoted_str(text, i).map(Value::str)
}

/// [`quoted_scalar`]'s string.
fn quoted_str<'t>(text: &'t str, i: &mut usize) -> Option<Cow<'t, str>> {
    let quote = *text.as_bytes().get(*i)?;
    let body = text.get(*i + 1..)?;
    if quote == b'"' {
        let close = body.find(['"', '\\'])?;
        if body.as_bytes().get(close) != Some(&b'"') {
            return None;
        }
        *i += close + 2;
        return Some(Cow::Borrowed(body.get(..close)?));
    }
    let mut out = String::new();
    let mut at = 0;
    loop {
        let q = at + body.get(at..)?.find('\'')?;
        out.push_str(body.get(at..q)?);
        if body.as_bytes().get(q + 1) == Some(&b'\'') {
            out.push('\'');
            at = q + 2;
        } else {
            *i += q + 2;
            return Some(Cow::Owned(out));
        }
    }
}

/// A plain scalar inside a flow collection, up to the next indicator (trailing blanks off).
fn flow_plain<'t>(text: &'t str, i: &mut usize) -> Option<&'t str> {
    let b = text.as_bytes();
    skip_spaces(b, i);
    let start = *i;
    while let Some(c) = b.get(*i) {
        if matches!(
            c,
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'"' | b'\'' | b':'
        ) {
            break;
        }
        *i += 1;
    }
    let t = text.get(start..*i)?.trim_end_matches(' ');
    if is_indicator(*t.as_bytes().first()?) {
        return None;
    }
    Some(t)
}

/// The fast reading of a whole document, or `None` to read it in full.
fn fast_document(text: &str) -> Option<Value> {
    fast_read(text, None)
}

/// [`fast_document`], making the values of only the top-level keys in `keep` when given.
fn fast_read<'a>(text: &'a str, keep: Option<&'a [&'a str]>) -> Option<Value> {
    let mut f = Fast::new(text)?;
    f.keep = keep;
    let (ind, _) = f.peek()?;
    if ind != 0 {
        return None;
    }
    let v = f.node(0)?;
    if f.peek().is_some() {
        return None;
    }
    Some(v)
}

/// The first document of `text` as `yaml.Unmarshal` into `interface{}` sees it (`Nil` when
/// empty). Errors read `error converting YAML to JSON: yaml: line N: ...`.
pub fn parse_document(text: &str) -> Result<Value, YamlError> {
    check_input(text)?;
    if let Some(v) = fast_document(text) {
        return Ok(v);
    }
    full_document(text)
}

/// [`parse_document`] of a document expected to be a map, of which only the top-level keys
/// in `keep` are wanted (the kind and metadata of a rendered manifest): the same text is taken
/// or refused with the same error, and the same map comes back less the other keys. Their
/// values are checked but not made, which is most of the work on a manifest.
pub fn parse_document_keeping(text: &str, keep: &[&str]) -> Result<Value, YamlError> {
    check_input(text)?;
    match fast_read(text, Some(keep)) {
        Some(v) => Ok(v),
        None => full_document(text).map(|v| only_keys(v, keep)),
    }
}

/// `v` less its top-level keys not in `keep` (a value that is not a map, as it is).
fn only_keys(v: Value, keep: &[&str]) -> Value {
    let Some(m) = v.as_map() else {
        return v;
    };
    let mut kept = Map::new();
    for k in keep {
        if let Some(x) = m.get(k) {
            kept.insert((*k).to_string(), x);
        }
    }
    Value::map(kept)
}

/// [`parse_document`] through the event parser, whatever the text's shape.
fn full_document(text: &str) -> Result<Value, YamlError> {
    let mut reader = Reader::new(text);
    let root = match reader.document() {
        Ok(Some(Some(root))) => root,
        Ok(_) => return Ok(Value::Nil),
        Err(e) => return Err(converting(e)),
    };
    let dec = Decoder {
        nodes: &reader.nodes,
        depth_limit: MAX_VALUE_DEPTH,
    };
    dec.value(root, 0).map_err(converting)
}

fn converting(e: YamlError) -> YamlError {
    if e.0.starts_with("error converting YAML to JSON") {
        e
    } else {
        YamlError(format!("error converting YAML to JSON: {}", e.0))
    }
}

/// `yaml.Unmarshal` into `map[string]interface{}` (Helm's `fromYaml`): a null document is an
/// empty map; another type fails as Go's JSON decoder does.
pub fn parse_map(text: &str) -> Result<Value, YamlError> {
    match parse_document(text)? {
        Value::Nil => Ok(Value::map(Map::new())),
        v @ Value::Map(_) => Ok(v),
        other => Err(YamlError(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            crate::json::json_kind(&other)
        ))),
    }
}

/// `yaml.Unmarshal` into `[]interface{}` (Helm's `fromYamlArray`).
pub fn parse_list(text: &str) -> Result<Value, YamlError> {
    match parse_document(text)? {
        Value::Nil => Ok(Value::list(vec![])),
        v @ Value::List(_) => Ok(v),
        other => Err(YamlError(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            crate::json::json_kind(&other)
        ))),
    }
}

/// Splits a stream the way `k8s.io/apimachinery`'s `YAMLReader` does: on lines starting with
/// `---` followed only by blanks or a comment; empty chunks are skipped. Fails on a separator
/// line with content (`invalid Yaml document separator: a: 1`).
pub fn split_documents(text: &str) -> Result<Vec<String>, YamlError> {
    Ok(document_slices(text)?
        .into_iter()
        .map(str::to_string)
        .collect())
}

/// [`split_documents`] as slices of `text`.
fn document_slices(text: &str) -> Result<Vec<&str>, YamlError> {
    let mut docs = Vec::new();
    // The current document is the run of lines since the last separator. Only lines that
    // start with `---` matter: look at each line start after a `-` found by byte search.
    let b = text.as_bytes();
    let mut start = 0;
    let mut from = 0;
    while let Some(i) = crate::bytes::find(b'-', b.get(from..).unwrap_or(&[])) {
        let line_start = from + i;
        from = line_start + 1;
        if (line_start > 0 && b.get(line_start - 1) != Some(&b'\n'))
            || !b.get(line_start..).is_some_and(|l| l.starts_with(b"---"))
        {
            continue;
        }
        let end = crate::bytes::find(b'\n', b.get(line_start..).unwrap_or(&[]))
            .map_or(text.len(), |n| line_start + n + 1);
        let rest = text.get(line_start + 3..end).unwrap_or("");
        let trimmed = rest.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            return Err(YamlError(format!(
                "error reading yaml document: invalid Yaml document separator: {trimmed}"
            )));
        }
        if let Some(doc) = text.get(start..line_start).filter(|d| !d.is_empty()) {
            docs.push(doc);
        }
        start = end;
        from = end;
    }
    if let Some(doc) = text.get(start..).filter(|d| !d.is_empty()) {
        docs.push(doc);
    }
    Ok(docs)
}

/// Every document of a stream, each as [`parse_document`] reads it.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, YamlError> {
    check_input(text)?;
    split_documents(text)?
        .iter()
        .map(|d| parse_document(d))
        .collect()
}

/// A values file as Helm v4 loads it (`values.yaml`, `-f`): every document is read into a
/// map and the maps are merged deeply in order (a later scalar or list replaces, maps merge).
/// Errors read as Helm's after its `failed to parse FILE: ` prefix:
/// `cannot unmarshal yaml document: error converting YAML to JSON: yaml: line 2: ...`.
pub fn parse_values(text: &str) -> Result<Value, YamlError> {
    check_input(text)?;
    let docs = document_slices(text)?;
    let read = |doc: &str| {
        parse_map(doc).map_err(|e| YamlError(format!("cannot unmarshal yaml document: {}", e.0)))
    };
    // One document (nearly every values file) is its own map: nothing to merge.
    if let [doc] = docs.as_slice() {
        return Ok(match read(doc)? {
            v @ Value::Map(_) => v,
            _ => Value::map(Map::new()),
        });
    }
    let mut merged = Map::new();
    for doc in docs {
        if let Value::Map(m) = read(doc)? {
            merge_maps(&mut merged, m.snapshot());
        }
    }
    Ok(Value::map(merged))
}

fn merge_maps(dst: &mut Map, src: Map) {
    for (k, v) in src {
        if let (Value::Map(new), Some(Value::Map(old))) = (&v, dst.get(&k)) {
            let mut base = old.snapshot();
            merge_maps(&mut base, new.snapshot());
            dst.insert(k, Value::map(base));
            continue;
        }
        dst.insert(k, v);
    }
}

// ---------------------------------------------------------------------------------------------
// Writing.
// ---------------------------------------------------------------------------------------------

fn too_deep() -> YamlError {
    YamlError(format!(
        "json: unsupported value: nesting deeper than {MAX_VALUE_DEPTH}"
    ))
}

/// Whether the encoder double-quotes a string: when it would read back as something else
/// than the same string (plain otherwise; literal if multi-line, decided when written).
fn needs_quotes(s: &str, v3: bool) -> bool {
    resolve_plain(s) != Resolved::Str || is_base60_float(s) || (v3 && is_old_bool(s))
}

/// go-yaml v2 reading a JSON string back: a raw NEL (U+0085), which Go's JSON writer leaves
/// as is, is a line break inside a double-quoted scalar and folds (one break -> a space, n
/// breaks -> n-1 newlines, spaces around breaks dropped).
fn fold_nel(s: &str) -> Cow<'_, str> {
    if !s.contains('\u{85}') {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars.get(i).copied().unwrap_or(' ');
        if c == '\u{85}' {
            // Drop trailing blanks already written.
            // Only raw spaces are blanks here: Go's JSON escapes tabs as `\t`.
            while out.ends_with(' ') {
                out.pop();
            }
            let mut breaks = 0;
            while i < chars.len() {
                match chars.get(i).copied() {
                    Some('\u{85}') => {
                        breaks += 1;
                        i += 1;
                    }
                    Some(' ') => i += 1,
                    _ => break,
                }
            }
            if breaks == 1 {
                out.push(' ');
            } else {
                for _ in 1..breaks {
                    out.push('\n');
                }
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    Cow::Owned(out)
}

/// Characters Go's JSON writer leaves raw but go-yaml's reader refuses, so `toYaml` fails
/// (Helm then renders "").
fn check_json_text(s: &str) -> Result<(), YamlError> {
    if s.bytes().all(|b| b < 0x7F) {
        return Ok(());
    }
    if s.chars()
        .any(|c| matches!(c as u32, 0x7F..=0x84 | 0x86..=0x9F | 0xFFFE | 0xFFFF))
    {
        return Err(YamlError("yaml: control characters are not allowed".into()));
    }
    Ok(())
}

/// A map's entries, sorted in go-yaml's key order. The map's lock is held only while its
/// entries are copied (the values are cheap clones). For `toYaml` (`json`), a key Go's JSON
/// round trip cannot carry fails first, as it does in Go.
fn sorted_entries(m: &MapRef, json: bool) -> Result<Vec<(String, Value)>, YamlError> {
    let mut entries = {
        let map = m.read();
        if json {
            for k in map.keys() {
                check_json_text(k)?;
                if k.contains('\u{85}') {
                    // A line break inside a flow-mapping key: go-yaml cannot read the JSON back.
                    return Err(YamlError("yaml: did not find expected ',' or '}'".into()));
                }
            }
        }
        let mut v = Vec::with_capacity(map.len());
        for (k, x) in map.iter() {
            v.push((k.clone(), x.clone()));
        }
        v
    };
    sort_keys(&mut entries);
    Ok(entries)
}

/// `n` in decimal, written into `buf`.
fn int_text(n: i64, buf: &mut [u8; 20]) -> &str {
    let mut u = n.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'0' + (u % 10) as u8;
        }
        u /= 10;
        if u == 0 || i == 0 {
            break;
        }
    }
    if n < 0 && i > 0 {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'-';
        }
    }
    buf.get(i..)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("0")
}

/// Checks, without writing, what [`Emitter::value`] would fail on before the output limit:
/// Go's JSON step fails before go-yaml writes anything, so those errors come first.
fn validate(v: &Value, depth: usize, v3: bool) -> Result<(), YamlError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    match v {
        Value::Float(f) if !v3 => {
            float_json(*f).map_err(|e| YamlError(e.0))?;
        }
        Value::String(s) if !v3 => check_json_text(s)?,
        Value::List(items) => {
            for x in items.iter() {
                validate(x, depth + 1, v3)?;
            }
        }
        Value::Map(m) => {
            for (_, x) in sorted_entries(m, !v3)? {
                validate(&x, depth + 1, v3)?;
            }
        }
        Value::Object(o) => validate(&o.to_value(), depth + 1, v3)?,
        _ => {}
    }
    Ok(())
}

/// go-yaml's `keyList.Less` for two string keys: letters before other runes, runs of digits
/// compared by value.
fn key_less(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return key_less_in(a.as_bytes(), b.as_bytes());
    }
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    key_less_in(&ar, &br)
}

/// A character as go-yaml's key order sees it (a byte stands for an ASCII character).
trait KeyChar: Copy + Ord {
    fn alphabetic(self) -> bool;
    fn go_digit(self) -> bool;
    fn is_zero(self) -> bool;
    fn code(self) -> i64;
}

impl KeyChar for u8 {
    fn alphabetic(self) -> bool {
        self.is_ascii_alphabetic()
    }
    fn go_digit(self) -> bool {
        self.is_ascii_digit()
    }
    fn is_zero(self) -> bool {
        self == b'0'
    }
    fn code(self) -> i64 {
        i64::from(self)
    }
}

impl KeyChar for char {
    fn alphabetic(self) -> bool {
        self.is_alphabetic()
    }
    fn go_digit(self) -> bool {
        is_go_digit(self)
    }
    fn is_zero(self) -> bool {
        self == '0'
    }
    fn code(self) -> i64 {
        i64::from(self as u32)
    }
}

fn key_less_in<C: KeyChar>(ar: &[C], br: &[C]) -> bool {
    let n = ar.len().min(br.len());
    for i in 0..n {
        let (ai_c, bi_c) = (ar[i], br[i]);
        if ai_c == bi_c {
            continue;
        }
        let al = ai_c.alphabetic();
        let bl = bi_c.alphabetic();
        if al && bl {
            return ai_c < bi_c;
        }
        if al || bl {
            return bl;
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ai_c.is_zero() || bi_c.is_zero() {
            let mut j = i;
            while j > 0 {
                j -= 1;
                let c = ar[j];
                if !c.go_digit() {
                    break;
                }
                if !c.is_zero() {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].go_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(ar[ai].code().wrapping_sub(i64::from(b'0')));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].go_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(br[bi].code().wrapping_sub(i64::from(b'0')));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ai_c < bi_c;
    }
    ar.len() < br.len()
}

/// Go's `unicode.IsDigit` (decimal digits, Nd).
fn is_go_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    c.is_numeric() && c.to_digit(10).is_none() && {
        // Non-ASCII decimal digits (Nd): Rust has no direct test; `is_numeric` covers Nd,
        // Nl and No. Treat the common Nd blocks as digits.
        let u = c as u32;
        matches!(u,
            0x0660..=0x0669 | 0x06F0..=0x06F9 | 0x07C0..=0x07C9 | 0x0966..=0x096F
            | 0x09E6..=0x09EF | 0x0A66..=0x0A6F | 0x0AE6..=0x0AEF | 0x0B66..=0x0B6F
            | 0x0BE6..=0x0BEF | 0x0C66..=0x0C6F | 0x0CE6..=0x0CEF | 0x0D66..=0x0D6F
            | 0x0E50..=0x0E59 | 0x0ED0..=0x0ED9 | 0x0F20..=0x0F29 | 0x1040..=0x1049
            | 0xFF10..=0xFF19)
    }
}

/// Sorts keys in go-yaml's order. go-yaml's `Less` is not always transitive (`"0x1F"` <
/// `"1"` < `"1e3"` < `"0777"` < `"0x1F"`), so the result depends on the algorithm: up to 12
/// keys Go's `sort.Sort` is an insertion sort, reproduced exactly here; larger maps use a
/// merge sort, which agrees with Go whenever the keys' order is consistent.
fn sort_keys<T>(items: &mut Vec<(String, T)>) {
    let n = items.len();
    if n <= 12 {
        for i in 1..n {
            let mut j = i;
            while j > 0 && key_less(&items[j].0, &items[j - 1].0) {
                items.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    merge_sort_keys(items);
}

/// A stable top-down merge sort (left half `n / 2` long; the right element goes first only
/// when strictly less) with go-yaml's key order, never panicking whatever the comparator does.
fn merge_sort_keys<T>(items: &mut Vec<(String, T)>) {
    let n = items.len();
    if n < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..n).collect();
    let mut buf = vec![0usize; n];
    let keys: Vec<&str> = items.iter().map(|(k, _)| k.as_str()).collect();
    merge_sort_indices(&mut order, &mut buf, &|a, b| {
        key_less(
            keys.get(a).copied().unwrap_or(""),
            keys.get(b).copied().unwrap_or(""),
        )
    });
    let mut old: Vec<Option<(String, T)>> = std::mem::take(items).into_iter().map(Some).collect();
    for i in order {
        if let Some(x) = old.get_mut(i).and_then(Option::take) {
            items.push(x);
        }
    }
}

fn merge_sort_indices(v: &mut [usize], buf: &mut [usize], less: &dyn Fn(usize, usize) -> bool) {
    let n = v.len();
    if n < 2 || buf.len() < n {
        return;
    }
    let mid = n / 2;
    {
        let (l, r) = v.split_at_mut(mid);
        merge_sort_indices(l, buf, less);
        merge_sort_indices(r, buf, less);
    }
    let tmp = &mut buf[..n];
    tmp.copy_from_slice(v);
    let (l, r) = tmp.split_at(mid);
    let (mut i, mut j) = (0, 0);
    for slot in v.iter_mut() {
        let take_right = match (l.get(i), r.get(j)) {
            (Some(&a), Some(&b)) => less(b, a),
            (Some(_), None) => false,
            (None, _) => true,
        };
        if take_right {
            *slot = r.get(j).copied().unwrap_or(0);
            j += 1;
        } else {
            *slot = l.get(i).copied().unwrap_or(0);
            i += 1;
        }
    }
}

/// Go's `yaml.Marshal` of a value through JSON, as `sigs.k8s.io/yaml.Marshal` (Helm's `toYaml`
/// before it trims the final newline). Fails where Go's JSON step fails (NaN, infinities).
pub fn to_yaml(v: &Value) -> Result<String, YamlError> {
    Emitter::new(false).document(v)
}

/// Helm's `toYamlPretty`: go-yaml v3's encoder with indent 2 (sequences indented under their
/// key, long lines not folded, floats as Go's `%g` prints them), trailing newline kept.
pub fn to_yaml_pretty(v: &Value) -> Result<String, YamlError> {
    Emitter::new(true).document(v)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

#[derive(Default, Debug)]
struct Analysis {
    multiline: bool,
    flow_plain_allowed: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_break_char(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `is_printable` over a UTF-8 character.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

/// go-yaml's `yaml_emitter_analyze_scalar`.
fn analyze(value: &str, v3: bool) -> Analysis {
    let mut a = Analysis::default();
    if value.is_empty() {
        a.block_plain_allowed = true;
        a.single_quoted_allowed = true;
        return a;
    }
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut tab_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;
    if value.starts_with("---") || value.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    let mut chars = value.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let last = next.is_none();
        let followed_by_whitespace = match next {
            None => true,
            Some(x) => x == ' ' || x == '\t' || is_break_char(x),
        };
        if first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '-' if followed_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '#' if preceded_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }
        if v3 && c == '\t' {
            tab_characters = true;
        } else if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            if first {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break_char(c) {
            line_breaks = true;
            if first {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = c == ' ' || c == '\t' || is_break_char(c);
        first = false;
    }
    a.multiline = line_breaks;
    a.flow_plain_allowed = true;
    a.block_plain_allowed = true;
    a.single_quoted_allowed = true;
    a.block_allowed = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tab_characters || special_characters {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        a.block_allowed = false;
    }
    if line_breaks {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if flow_indicators {
        a.flow_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Characters in `s`, cheaply when it is ASCII.
fn char_count(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// go-yaml's emitter, reduced to the block styles `yaml.Marshal` produces, walking the value
/// directly: a string goes plain unless it would read back as something else.
struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    indent: i64,
    indents: Vec<i64>,
    flow_level: usize,
    best_indent: i64,
    best_width: usize,
    /// go-yaml v3 (`toYamlPretty`, the value as is) rather than v2 after Go's JSON round trip
    /// (`toYaml`): sequences indented under keys, no folding, other scalar forms.
    v3: bool,
    // Contexts of the node being emitted.
    root_context: bool,
    mapping_context: bool,
    simple_key_context: bool,
}

impl Emitter {
    fn new(v3: bool) -> Emitter {
        Emitter {
            out: String::with_capacity(256),
            column: 0,
            whitespace: true,
            indention: true,
            indent: -1,
            indents: Vec::with_capacity(16),
            flow_level: 0,
            best_indent: 2,
            best_width: if v3 { usize::MAX } else { 80 },
            v3,
            root_context: false,
            mapping_context: false,
            simple_key_context: false,
        }
    }

    fn check_size(&self) -> Result<(), YamlError> {
        if self.out.len() > MAX_YAML_OUTPUT {
            return Err(YamlError(format!(
                "yaml: output over the {MAX_YAML_OUTPUT}-byte limit"
            )));
        }
        Ok(())
    }

    fn document(mut self, root: &Value) -> Result<String, YamlError> {
        if let Err(e) = self.value(root, 0, true, false) {
            // Go's JSON step runs over the whole value before go-yaml writes: its errors win
            // over the output limit met on the way.
            if e.0.starts_with("yaml: output over") {
                validate(root, 0, self.v3)?;
            }
            return Err(e);
        }
        // Document end: write_indent, then the stream ends (the encoder clears open_ended).
        self.write_indent();
        Ok(self.out)
    }

    /// Sets the contexts for the next node, as go-yaml's `emit_node` does.
    fn enter(&mut self, root: bool, mapping: bool, simple_key: bool) -> Result<(), YamlError> {
        self.root_context = root;
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        self.check_size()
    }

    /// A value, its scalars in the form the encoder hands them to the emitter.
    fn value(
        &mut self,
        v: &Value,
        depth: usize,
        root: bool,
        mapping: bool,
    ) -> Result<(), YamlError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(too_deep());
        }
        let v3 = self.v3;
        let mut buf = [0u8; 20];
        match v {
            Value::Object(o) => return self.value(&o.to_value(), depth + 1, root, mapping),
            Value::List(items) => {
                self.enter(root, mapping, false)?;
                return self.sequence(items, depth);
            }
            Value::Map(m) => {
                let entries = sorted_entries(m, !v3)?;
                self.enter(root, mapping, false)?;
                return self.mapping(&entries, depth);
            }
            _ => {}
        }
        // Scalars: the text and whether the encoder asks for double quotes.
        let owned: String;
        let (text, quoted): (&str, bool) = match v {
            Value::Nil => ("null", false),
            Value::Bool(b) => (if *b { "true" } else { "false" }, false),
            Value::Int(n) | Value::Int64(n) => (int_text(*n, &mut buf), false),
            Value::Float(f) if !v3 => {
                if f.fract() == 0.0 && f.abs() < 1e15 {
                    // Go's JSON writes the integer's digits, read back as that int.
                    (int_text(*f as i64, &mut buf), false)
                } else {
                    let text = float_json(*f).map_err(|e| YamlError(e.0))?;
                    owned = match resolve_plain(&text) {
                        Resolved::Int(i) => i.to_string(),
                        Resolved::Uint(u) => u.to_string(),
                        Resolved::Float(x) => format_float_g(x),
                        _ => text,
                    };
                    (owned.as_str(), false)
                }
            }
            Value::Float(f) => {
                owned = if f.is_nan() {
                    ".nan".to_string()
                } else if f.is_infinite() {
                    if *f > 0.0 { ".inf" } else { "-.inf" }.to_string()
                } else {
                    format_float_g(*f)
                };
                (owned.as_str(), false)
            }
            Value::String(s) => {
                if v3 {
                    (s.as_ref(), needs_quotes(s, true))
                } else {
                    check_json_text(s)?;
                    match fold_nel(s) {
                        Cow::Borrowed(t) => (t, needs_quotes(t, false)),
                        Cow::Owned(t) => {
                            owned = t;
                            (owned.as_str(), needs_quotes(&owned, false))
                        }
                    }
                }
            }
            Value::Bytes(b) => {
                owned = base64_std(b);
                (owned.as_str(), needs_quotes(&owned, v3))
            }
            Value::List(_) | Value::Map(_) | Value::Object(_) => ("", false),
        };
        self.enter(root, mapping, false)?;
        self.scalar(text, quoted);
        Ok(())
    }

    fn sequence(&mut self, items: &[Value], depth: usize) -> Result<(), YamlError> {
        if self.flow_level > 0 || items.is_empty() {
            self.write_indicator("[", true, true, false);
            self.increase_indent(true, false);
            self.pop_indent();
            self.write_indicator("]", false, false, false);
            return Ok(());
        }
        let indentless = !self.v3 && self.mapping_context && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.value(item, depth + 1, false, false)?;
        }
        self.pop_indent();
        Ok(())
    }

    fn mapping(&mut self, entries: &[(String, Value)], depth: usize) -> Result<(), YamlError> {
        if self.flow_level > 0 || entries.is_empty() {
            self.write_indicator("{", true, true, false);
            self.increase_indent(true, false);
            self.pop_indent();
            self.write_indicator("}", false, false, false);
            return Ok(());
        }
        self.increase_indent(false, false);
        for (k, x) in entries {
            self.write_indent();
            let quoted = needs_quotes(k, self.v3);
            let simple = k.len() <= 128 && !k.chars().any(is_break_char);
            if simple {
                self.enter(false, true, true)?;
                self.scalar(k, quoted);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.enter(false, true, false)?;
                self.scalar(k, quoted);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.value(x, depth + 1, false, true)?;
        }
        self.pop_indent();
        Ok(())
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    /// A run of characters without line breaks.
    fn put_str(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += char_count(s);
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { self.best_indent } else { 0 };
        } else if !indentless {
            self.indent += self.best_indent;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        if self.column < indent {
            self.out
                .extend(std::iter::repeat_n(' ', indent - self.column));
            self.column = indent;
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.put_str(indicator);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    /// Whether writing `value` from the current column can never fold it (no space lies
    /// past the width).
    fn fits(&self, value: &str) -> bool {
        self.column.saturating_add(char_count(value)) <= self.best_width
    }

    fn scalar(&mut self, value: &str, quoted: bool) {
        let a = analyze(value, self.v3);
        let mut style = if value.contains('\n') {
            Style::Literal
        } else if quoted {
            Style::Double
        } else {
            Style::Plain
        };
        if self.simple_key_context && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain {
            if (self.flow_level > 0 && !a.flow_plain_allowed)
                || (self.flow_level == 0 && !a.block_plain_allowed)
            {
                style = Style::Single;
            }
            if value.is_empty() && (self.flow_level > 0 || self.simple_key_context) {
                style = Style::Single;
            }
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal
            && (!a.block_allowed || self.flow_level > 0 || self.simple_key_context)
        {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        let allow_breaks = !self.simple_key_context;
        match style {
            Style::Plain => self.write_plain(value, allow_breaks, a.multiline),
            Style::Single => self.write_single(value, allow_breaks),
            Style::Double => self.write_double(value, allow_breaks),
            Style::Literal => self.write_literal(value),
        }
        self.pop_indent();
    }

    fn write_plain(&mut self, value: &str, allow_breaks: bool, multiline: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        if !multiline && (!allow_breaks || self.fits(value)) {
            // No break to write and no space to fold at.
            self.put_str(value);
            self.whitespace = false;
            self.indention = false;
            return;
        }
        let mut spaces = false;
        let mut breaks = false;
        let mut chars = value.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && chars.peek() != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break_char(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_single(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        if !value.contains(['\'', '\r', '\n', '\u{85}', '\u{2028}', '\u{2029}'])
            && (!allow_breaks || self.fits(value))
        {
            // Nothing to double, no break to write and no space to fold at.
            self.put_str(value);
        } else {
            self.write_single_slow(value, allow_breaks);
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_slow(&mut self, value: &str, allow_breaks: bool) {
        let n = value.len();
        let mut spaces = false;
        let mut breaks = false;
        let mut byte_pos = 0;
        let mut chars = value.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && byte_pos > 0
                    && byte_pos + 1 < n
                    && chars.peek() != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break_char(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            byte_pos += c.len_utf8();
        }
    }

    fn write_double(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        if value
            .bytes()
            .all(|b| (0x20..=0x7E).contains(&b) && b != b'"' && b != b'\\')
            && (!allow_breaks || self.fits(value))
        {
            // Printable ASCII with nothing to escape and no space to fold at.
            self.put_str(value);
        } else {
            self.write_double_slow(value, allow_breaks);
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_slow(&mut self, value: &str, allow_breaks: bool) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let n = value.len();
        let mut spaces = false;
        let mut byte_pos = 0;
        // go-yaml's `is_bom(value, i)` looks at the start of the value whatever `i` is: a
        // value that starts with a BOM has every character escaped.
        let bom = value.starts_with('\u{FEFF}');
        let mut chars = value.chars().peekable();
        while let Some(c) = chars.next() {
            if bom || !is_printable(c) || is_break_char(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{A0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let v = c as u32;
                        let (letter, width) = if v <= 0xFF {
                            ('x', 2)
                        } else if v <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(letter);
                        for k in (0..width).rev() {
                            let d = (v >> (k * 4)) & 0xF;
                            self.put(char::from(HEX[d as usize]));
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && byte_pos > 0
                    && byte_pos + 1 < n
                {
                    self.write_indent();
                    if chars.peek() == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
            byte_pos += c.len_utf8();
        }
    }

    fn write_literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        // Block scalar hints.
        let first = value.chars().next();
        if first.is_some_and(|c| c == ' ' || is_break_char(c)) {
            let hint = self.best_indent.to_string();
            self.write_indicator(&hint, false, false, false);
        }
        let mut rev = value.chars().rev();
        let last = rev.next();
        let before_last = rev.next();
        let chomp = match last {
            None => Some("-"),
            Some(c) if !is_break_char(c) => Some("-"),
            Some(_) => match before_last {
                None => Some("+"),
                Some(p) if is_break_char(p) => Some("+"),
                Some(_) => None,
            },
        };
        if let Some(h) = chomp {
            self.write_indicator(h, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        let mut rest = value;
        while let Some(c) = rest.chars().next() {
            if is_break_char(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
                rest = rest.get(c.len_utf8()..).unwrap_or("");
            } else {
                // A run of characters up to the next break.
                let end = rest.find(is_break_char).unwrap_or(rest.len());
                if breaks {
                    self.write_indent();
                }
                self.put_str(rest.get(..end).unwrap_or(""));
                self.indention = false;
                breaks = false;
                rest = rest.get(end..).unwrap_or("");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(v: &Value) -> String {
        to_yaml(v)
            .map(|s| s.strip_suffix('\n').unwrap_or(&s).to_string())
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    fn pretty(v: &Value) -> String {
        to_yaml_pretty(v)
            .map(|s| s.strip_suffix('\n').unwrap_or(&s).to_string())
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    fn json(v: &Value) -> String {
        crate::json::to_json(v, true).unwrap_or_else(|e| format!("ERR {e}"))
    }

    fn values(text: &str) -> String {
        match parse_values(text) {
            Ok(v) => json(&v),
            Err(e) => format!("ERR {e}"),
        }
    }

    // (input, toYaml (list s), toYamlPretty (list s), toYaml (dict s 1)), each rendered by
    // helm v4.1.4.
    const STRINGS: &[(&str, &str, &str, &str)] = &[
        ("", "- \"\"", "- \"\"", "\"\": 1"),
        ("\u{1}", "- \"\\x01\"", "- \"\\x01\"", "\"\\x01\": 1"),
        (
            "\u{1}\u{1}",
            "- \"\\x01\\x01\"",
            "- \"\\x01\\x01\"",
            "\"\\x01\\x01\": 1",
        ),
        (
            "\u{1}\t",
            "- \"\\x01\\t\"",
            "- \"\\x01\\t\"",
            "\"\\x01\\t\": 1",
        ),
        (
            "\u{1}\n",
            "- \"\\x01\\n\"",
            "- \"\\x01\\n\"",
            "? \"\\x01\\n\"\n: 1",
        ),
        (
            "\u{1}\r",
            "- \"\\x01\\r\"",
            "- \"\\x01\\r\"",
            "? \"\\x01\\r\"\n: 1",
        ),
        ("\u{1} ", "- \"\\x01 \"", "- \"\\x01 \"", "\"\\x01 \": 1"),
        ("\u{1}!", "- \"\\x01!\"", "- \"\\x01!\"", "\"\\x01!\": 1"),
        (
            "\u{1}\"",
            "- \"\\x01\\\"\"",
            "- \"\\x01\\\"\"",
            "\"\\x01\\\"\": 1",
        ),
        ("\u{1}#", "- \"\\x01#\"", "- \"\\x01#\"", "\"\\x01#\": 1"),
        ("\u{1}%", "- \"\\x01%\"", "- \"\\x01%\"", "\"\\x01%\": 1"),
        ("\u{1}&", "- \"\\x01&\"", "- \"\\x01&\"", "\"\\x01&\": 1"),
        ("\u{1}'", "- \"\\x01'\"", "- \"\\x01'\"", "\"\\x01'\": 1"),
        ("\u{1}*", "- \"\\x01*\"", "- \"\\x01*\"", "\"\\x01*\": 1"),
        ("\u{1},", "- \"\\x01,\"", "- \"\\x01,\"", "\"\\x01,\": 1"),
        ("\u{1}-", "- \"\\x01-\"", "- \"\\x01-\"", "\"\\x01-\": 1"),
        ("\u{1}1", "- \"\\x011\"", "- \"\\x011\"", "\"\\x011\": 1"),
        ("\u{1}:", "- \"\\x01:\"", "- \"\\x01:\"", "\"\\x01:\": 1"),
        ("\u{1}=", "- \"\\x01=\"", "- \"\\x01=\"", "\"\\x01=\": 1"),
        ("\u{1}>", "- \"\\x01>\"", "- \"\\x01>\"", "\"\\x01>\": 1"),
        ("\u{1}?", "- \"\\x01?\"", "- \"\\x01?\"", "\"\\x01?\": 1"),
        ("\u{1}@", "- \"\\x01@\"", "- \"\\x01@\"", "\"\\x01@\": 1"),
        ("\u{1}[", "- \"\\x01[\"", "- \"\\x01[\"", "\"\\x01[\": 1"),
        (
            "\u{1}\\",
            "- \"\\x01\\\\\"",
            "- \"\\x01\\\\\"",
            "\"\\x01\\\\\": 1",
        ),
        ("\u{1}]", "- \"\\x01]\"", "- \"\\x01]\"", "\"\\x01]\": 1"),
        ("\u{1}`", "- \"\\x01`\"", "- \"\\x01`\"", "\"\\x01`\": 1"),
        ("\u{1}a", "- \"\\x01a\"", "- \"\\x01a\"", "\"\\x01a\": 1"),
        ("\u{1}{", "- \"\\x01{\"", "- \"\\x01{\"", "\"\\x01{\": 1"),
        ("\u{1}|", "- \"\\x01|\"", "- \"\\x01|\"", "\"\\x01|\": 1"),
        ("\u{1}}", "- \"\\x01}\"", "- \"\\x01}\"", "\"\\x01}\": 1"),
        ("\u{1}~", "- \"\\x01~\"", "- \"\\x01~\"", "\"\\x01~\": 1"),
        ("\u{1}\u{85}", "- \"\\x01 \"", "- \"\\x01\\N\"", ""),
        (
            "\u{1}\u{a0}",
            "- \"\\x01\u{a0}\"",
            "- \"\\x01\u{a0}\"",
            "\"\\x01\u{a0}\": 1",
        ),
        ("\u{1}é", "- \"\\x01é\"", "- \"\\x01é\"", "\"\\x01é\": 1"),
        (
            "\u{1}\u{200b}",
            "- \"\\x01\u{200b}\"",
            "- \"\\x01\u{200b}\"",
            "\"\\x01\u{200b}\": 1",
        ),
        (
            "\u{1}\u{2028}",
            "- \"\\x01\\L\"",
            "- \"\\x01\\L\"",
            "? \"\\x01\\L\"\n: 1",
        ),
        (
            "\u{1}\u{feff}",
            "- \"\\x01\\uFEFF\"",
            "- \"\\x01\\uFEFF\"",
            "\"\\x01\\uFEFF\": 1",
        ),
        (
            "\u{1}\u{1f600}",
            "- \"\\x01\\U0001F600\"",
            "- \"\\x01\\U0001F600\"",
            "\"\\x01\\U0001F600\": 1",
        ),
        ("\t", "- \"\\t\"", "- \"\\t\"", "\"\\t\": 1"),
        (
            "\t\u{1}",
            "- \"\\t\\x01\"",
            "- \"\\t\\x01\"",
            "\"\\t\\x01\": 1",
        ),
        ("\t\t", "- \"\\t\\t\"", "- \"\\t\\t\"", "\"\\t\\t\": 1"),
        ("\t\n", "- \"\\t\\n\"", "- |\n  \t", "? \"\\t\\n\"\n: 1"),
        ("\t\r", "- \"\\t\\r\"", "- \"\\t\\r\"", "? \"\\t\\r\"\n: 1"),
        ("\t ", "- \"\\t \"", "- \"\\t \"", "\"\\t \": 1"),
        ("\t!", "- \"\\t!\"", "- \"\\t!\"", "\"\\t!\": 1"),
        ("\t\"", "- \"\\t\\\"\"", "- \"\\t\\\"\"", "\"\\t\\\"\": 1"),
        ("\t#", "- \"\\t#\"", "- \"\\t#\"", "\"\\t#\": 1"),
        ("\t%", "- \"\\t%\"", "- \"\\t%\"", "\"\\t%\": 1"),
        ("\t&", "- \"\\t&\"", "- \"\\t&\"", "\"\\t&\": 1"),
        ("\t'", "- \"\\t'\"", "- \"\\t'\"", "\"\\t'\": 1"),
        ("\t*", "- \"\\t*\"", "- \"\\t*\"", "\"\\t*\": 1"),
        ("\t,", "- \"\\t,\"", "- \"\\t,\"", "\"\\t,\": 1"),
        ("\t-", "- \"\\t-\"", "- \"\\t-\"", "\"\\t-\": 1"),
        ("\t1", "- \"\\t1\"", "- \"\\t1\"", "\"\\t1\": 1"),
        ("\t:", "- \"\\t:\"", "- \"\\t:\"", "\"\\t:\": 1"),
        ("\t=", "- \"\\t=\"", "- \"\\t=\"", "\"\\t=\": 1"),
        ("\t>", "- \"\\t>\"", "- \"\\t>\"", "\"\\t>\": 1"),
        ("\t?", "- \"\\t?\"", "- \"\\t?\"", "\"\\t?\": 1"),
        ("\t@", "- \"\\t@\"", "- \"\\t@\"", "\"\\t@\": 1"),
        ("\t[", "- \"\\t[\"", "- \"\\t[\"", "\"\\t[\": 1"),
        ("\t\\", "- \"\\t\\\\\"", "- \"\\t\\\\\"", "\"\\t\\\\\": 1"),
        ("\t]", "- \"\\t]\"", "- \"\\t]\"", "\"\\t]\": 1"),
        ("\t`", "- \"\\t`\"", "- \"\\t`\"", "\"\\t`\": 1"),
        ("\ta", "- \"\\ta\"", "- \"\\ta\"", "\"\\ta\": 1"),
        ("\t{", "- \"\\t{\"", "- \"\\t{\"", "\"\\t{\": 1"),
        ("\t|", "- \"\\t|\"", "- \"\\t|\"", "\"\\t|\": 1"),
        ("\t}", "- \"\\t}\"", "- \"\\t}\"", "\"\\t}\": 1"),
        ("\t~", "- \"\\t~\"", "- \"\\t~\"", "\"\\t~\": 1"),
        ("\t\u{85}", "- \"\\t \"", "- \"\\t\\N\"", ""),
        (
            "\t\u{a0}",
            "- \"\\t\u{a0}\"",
            "- \"\\t\u{a0}\"",
            "\"\\t\u{a0}\": 1",
        ),
        ("\té", "- \"\\té\"", "- \"\\té\"", "\"\\té\": 1"),
        (
            "\t\u{200b}",
            "- \"\\t\u{200b}\"",
            "- \"\\t\u{200b}\"",
            "\"\\t\u{200b}\": 1",
        ),
        (
            "\t\u{2028}",
            "- \"\\t\\L\"",
            "- \"\\t\\L\"",
            "? \"\\t\\L\"\n: 1",
        ),
        (
            "\t\u{feff}",
            "- \"\\t\\uFEFF\"",
            "- \"\\t\\uFEFF\"",
            "\"\\t\\uFEFF\": 1",
        ),
        (
            "\t\u{1f600}",
            "- \"\\t\\U0001F600\"",
            "- \"\\t\\U0001F600\"",
            "\"\\t\\U0001F600\": 1",
        ),
        ("\n", "- |2+\n", "- |2+\n", "? |2+\n\n: 1"),
        (
            "\n\u{1}",
            "- \"\\n\\x01\"",
            "- \"\\n\\x01\"",
            "? \"\\n\\x01\"\n: 1",
        ),
        ("\n\t", "- \"\\n\\t\"", "- |2-\n\n  \t", "? \"\\n\\t\"\n: 1"),
        ("\n\n", "- |2+\n\n", "- |2+\n\n", "? |2+\n\n\n: 1"),
        (
            "\n\n'",
            "- |2-\n\n\n  '",
            "- |2-\n\n\n  '",
            "? |2-\n\n\n  '\n: 1",
        ),
        (
            "\n\n\\",
            "- |2-\n\n\n  \\",
            "- |2-\n\n\n  \\",
            "? |2-\n\n\n  \\\n: 1",
        ),
        (
            "\n\n]",
            "- |2-\n\n\n  ]",
            "- |2-\n\n\n  ]",
            "? |2-\n\n\n  ]\n: 1",
        ),
        ("\n\r", "- \"\\n\\r\"", "- \"\\n\\r\"", "? \"\\n\\r\"\n: 1"),
        (
            "\n...",
            "- |2-\n\n  ...",
            "- |2-\n\n  ...",
            "? |2-\n\n  ...\n: 1",
        ),
        (
            "\ntrue",
            "- |2-\n\n  true",
            "- |2-\n\n  true",
            "? |2-\n\n  true\n: 1",
        ),
        (
            "\nyes",
            "- |2-\n\n  yes",
            "- |2-\n\n  yes",
            "? |2-\n\n  yes\n: 1",
        ),
        ("\r", "- \"\\r\"", "- \"\\r\"", "? \"\\r\"\n: 1"),
        ("\r%", "- \"\\r%\"", "- \"\\r%\"", "? \"\\r%\"\n: 1"),
        ("\r1.5", "- \"\\r1.5\"", "- \"\\r1.5\"", "? \"\\r1.5\"\n: 1"),
        ("\r[", "- \"\\r[\"", "- \"\\r[\"", "? \"\\r[\"\n: 1"),
        (
            "          \n: x : word longerword longerword longerword longerword  \nword : # word : # word : : word      # longerword word # # longerword : longerword   ",
            "- \"          \\n: x : word longerword longerword longerword longerword  \\nword : #\n  word : # word : : word      # longerword word # # longerword : longerword   \"",
            "- \"          \\n: x : word longerword longerword longerword longerword  \\nword : # word : # word : : word      # longerword word # # longerword : longerword   \"",
            "? \"          \\n: x : word longerword longerword longerword longerword  \\nword : #\n  word : # word : : word      # longerword word # # longerword : longerword   \"\n: 1",
        ),
        (
            "       a x : # a a yes    : x longerword yes :    x longerword x : a",
            "- '       a x : # a a yes    : x longerword yes :    x longerword x : a'",
            "- '       a x : # a a yes    : x longerword yes :    x longerword x : a'",
            "'       a x : # a a yes    : x longerword yes :    x longerword x : a': 1",
        ),
        (
            "      longerword word x # yes    x x a a word word    #   : #   : word : : #   #    x      a    #",
            "- '      longerword word x # yes    x x a a word word    #   : #   : word : : #   #    x      a    #'",
            "- '      longerword word x # yes    x x a a word word    #   : #   : word : : #   #    x      a    #'",
            "'      longerword word x # yes    x x a a word word    #   : #   : word : : #   #    x      a    #': 1",
        ),
        (
            "      word a x longerword # longerword longerword   longerword x x x   a word : word : #   a a x word      a   longerword : : longerword yes yes word : longerword   ",
            "- '      word a x longerword # longerword longerword   longerword x x x   a word :\n  word : #   a a x word      a   longerword : : longerword yes yes word : longerword   '",
            "- '      word a x longerword # longerword longerword   longerword x x x   a word : word : #   a a x word      a   longerword : : longerword yes yes word : longerword   '",
            "? '      word a x longerword # longerword longerword   longerword x x x   a word :\n  word : #   a a x word      a   longerword : : longerword yes yes word : longerword   '\n: 1",
        ),
        (
            "     # :   word a : a yes longerword word # longerword a : word yes a      # a longerword    a word word yes longerword # a a   longerword #    longerword x longerword",
            "- '     # :   word a : a yes longerword word # longerword a : word yes a      # a\n  longerword    a word word yes longerword # a a   longerword #    longerword x longerword'",
            "- '     # :   word a : a yes longerword word # longerword a : word yes a      # a longerword    a word word yes longerword # a a   longerword #    longerword x longerword'",
            "? '     # :   word a : a yes longerword word # longerword a : word yes a      # a\n  longerword    a word word yes longerword # a a   longerword #    longerword x longerword'\n: 1",
        ),
        (
            "     yes longerword : :\nword longerword a #    x\nlongerword yes a a    a x word longerword word   a yes   # : # x yes # x",
            "- |2-\n       yes longerword : :\n  word longerword a #    x\n  longerword yes a a    a x word longerword word   a yes   # : # x yes # x",
            "- |2-\n       yes longerword : :\n  word longerword a #    x\n  longerword yes a a    a x word longerword word   a yes   # : # x yes # x",
            "? |2-\n       yes longerword : :\n  word longerword a #    x\n  longerword yes a a    a x word longerword word   a yes   # : # x yes # x\n: 1",
        ),
        (
            "    # longerword    \n# longerword longerword longerword longerword longerword a a longerword\n# a # :    : # word word x\nlongerword x word x   x a :         : word x",
            "- \"    # longerword    \\n# longerword longerword longerword longerword longerword\n  a a longerword\\n# a # :    : # word word x\\nlongerword x word x   x a :         :\n  word x\"",
            "- \"    # longerword    \\n# longerword longerword longerword longerword longerword a a longerword\\n# a # :    : # word word x\\nlongerword x word x   x a :         : word x\"",
            "? \"    # longerword    \\n# longerword longerword longerword longerword longerword\n  a a longerword\\n# a # :    : # word word x\\nlongerword x word x   x a :         :\n  word x\"\n: 1",
        ),
        (
            "    a yes # longerword a yes   #    longerword # yes # x # x    longerword word",
            "- '    a yes # longerword a yes   #    longerword # yes # x # x    longerword word'",
            "- '    a yes # longerword a yes   #    longerword # yes # x # x    longerword word'",
            "'    a yes # longerword a yes   #    longerword # yes # x # x    longerword word': 1",
        ),
        (
            "   :    : yes   yes yes word   word longerword yes    x          x : yes word   yes yes    longerword word yes longerword",
            "- '   :    : yes   yes yes word   word longerword yes    x          x : yes word   yes\n  yes    longerword word yes longerword'",
            "- '   :    : yes   yes yes word   word longerword yes    x          x : yes word   yes yes    longerword word yes longerword'",
            "'   :    : yes   yes yes word   word longerword yes    x          x : yes word   yes yes    longerword word yes longerword': 1",
        ),
        (
            "   : : word    # longerword   word    : a word yes # x longerword x",
            "- '   : : word    # longerword   word    : a word yes # x longerword x'",
            "- '   : : word    # longerword   word    : a word yes # x longerword x'",
            "'   : : word    # longerword   word    : a word yes # x longerword x': 1",
        ),
        (
            "   a x word a   a :\n: word x x   word         #    x yes    a # :    # : yes longerword   \nx word # x : x # # a a      word word",
            "- \"   a x word a   a :\\n: word x x   word         #    x yes    a # :    # : yes longerword\n  \\  \\nx word # x : x # # a a      word word\"",
            "- \"   a x word a   a :\\n: word x x   word         #    x yes    a # :    # : yes longerword   \\nx word # x : x # # a a      word word\"",
            "? \"   a x word a   a :\\n: word x x   word         #    x yes    a # :    # : yes longerword\n  \\  \\nx word # x : x # # a a      word word\"\n: 1",
        ),
        (
            "   a x yes longerword longerword : : x x word # : longerword   yes longerword longerword x   a",
            "- '   a x yes longerword longerword : : x x word # : longerword   yes longerword longerword\n  x   a'",
            "- '   a x yes longerword longerword : : x x word # : longerword   yes longerword longerword x   a'",
            "'   a x yes longerword longerword : : x x word # : longerword   yes longerword longerword x   a': 1",
        ),
        (
            "   longerword longerword :    x a yes word   : x word word yes yes x a yes : a longerword   : :   yes",
            "- '   longerword longerword :    x a yes word   : x word word yes yes x a yes : a\n  longerword   : :   yes'",
            "- '   longerword longerword :    x a yes word   : x word word yes yes x a yes : a longerword   : :   yes'",
            "'   longerword longerword :    x a yes word   : x word word yes yes x a yes : a longerword   : :   yes': 1",
        ),
        (
            "   longerword yes # word",
            "- '   longerword yes # word'",
            "- '   longerword yes # word'",
            "'   longerword yes # word': 1",
        ),
        (
            "   word # x word longerword # : x a x    a a # #   a a x a a   yes",
            "- '   word # x word longerword # : x a x    a a # #   a a x a a   yes'",
            "- '   word # x word longerword # : x a x    a a # #   a a x a a   yes'",
            "'   word # x word longerword # : x a x    a a # #   a a x a a   yes': 1",
        ),
        (
            "   word : word x x x word longerword longerword   word : yes    yes :",
            "- '   word : word x x x word longerword longerword   word : yes    yes :'",
            "- '   word : word x x x word longerword longerword   word : yes    yes :'",
            "'   word : word x x x word longerword longerword   word : yes    yes :': 1",
        ),
        (
            "   word x       x x longerword a :      yes a    x    longerword",
            "- '   word x       x x longerword a :      yes a    x    longerword'",
            "- '   word x       x x longerword a :      yes a    x    longerword'",
            "'   word x       x x longerword a :      yes a    x    longerword': 1",
        ),
        (
            "   x   # yes       #    x    longerword #   # : word a x a # longerword\nyes : :   yes   longerword # longerword longerword a longerword\n# x :   a # longerword longerword # x   yes yes a yes x    word   \n   : word :    word a x",
            "- \"   x   # yes       #    x    longerword #   # : word a x a # longerword\\nyes :\n  :   yes   longerword # longerword longerword a longerword\\n# x :   a # longerword\n  longerword # x   yes yes a yes x    word   \\n   : word :    word a x\"",
            "- \"   x   # yes       #    x    longerword #   # : word a x a # longerword\\nyes : :   yes   longerword # longerword longerword a longerword\\n# x :   a # longerword longerword # x   yes yes a yes x    word   \\n   : word :    word a x\"",
            "? \"   x   # yes       #    x    longerword #   # : word a x a # longerword\\nyes :\n  :   yes   longerword # longerword longerword a longerword\\n# x :   a # longerword\n  longerword # x   yes yes a yes x    word   \\n   : word :    word a x\"\n: 1",
        ),
        (
            "   x a     x   x    word word word yes : yes # yes #    # #      ",
            "- '   x a     x   x    word word word yes : yes # yes #    # #      '",
            "- '   x a     x   x    word word word yes : yes # yes #    # #      '",
            "'   x a     x   x    word word word yes : yes # yes #    # #      ': 1",
        ),
        (
            "   x a longerword    longerword # longerword   x       yes longerword\nlongerword x longerword :\n# x : # : a word x : word a #    x yes x longerword    \n: a longerword yes",
            "- \"   x a longerword    longerword # longerword   x       yes longerword\\nlongerword\n  x longerword :\\n# x : # : a word x : word a #    x yes x longerword    \\n: a longerword\n  yes\"",
            "- \"   x a longerword    longerword # longerword   x       yes longerword\\nlongerword x longerword :\\n# x : # : a word x : word a #    x yes x longerword    \\n: a longerword yes\"",
            "? \"   x a longerword    longerword # longerword   x       yes longerword\\nlongerword\n  x longerword :\\n# x : # : a word x : word a #    x yes x longerword    \\n: a longerword\n  yes\"\n: 1",
        ),
        (
            "   x x   x      yes yes : x longerword : yes longerword yes yes a   word : x longerword   : x word x   word : longerword",
            "- '   x x   x      yes yes : x longerword : yes longerword yes yes a   word : x longerword   :\n  x word x   word : longerword'",
            "- '   x x   x      yes yes : x longerword : yes longerword yes yes a   word : x longerword   : x word x   word : longerword'",
            "'   x x   x      yes yes : x longerword : yes longerword yes yes a   word : x longerword   : x word x   word : longerword': 1",
        ),
        (
            "   x yes # a      :   # : # word x    # longerword : x word # yes longerword # longerword x # yes x word longerword  ",
            "- '   x yes # a      :   # : # word x    # longerword : x word # yes longerword #\n  longerword x # yes x word longerword  '",
            "- '   x yes # a      :   # : # word x    # longerword : x word # yes longerword # longerword x # yes x word longerword  '",
            "'   x yes # a      :   # : # word x    # longerword : x word # yes longerword # longerword x # yes x word longerword  ': 1",
        ),
        (
            "   yes word longerword : word : a a longerword longerword # longerword #   a #    word a word # a # # # a word # yes",
            "- '   yes word longerword : word : a a longerword longerword # longerword #   a #    word\n  a word # a # # # a word # yes'",
            "- '   yes word longerword : word : a a longerword longerword # longerword #   a #    word a word # a # # # a word # yes'",
            "'   yes word longerword : word : a a longerword longerword # longerword #   a #    word a word # a # # # a word # yes': 1",
        ),
        (
            "   yes word yes : word a :       yes : longerword   # x a      : word yes   a yes longerword :    # x a",
            "- '   yes word yes : word a :       yes : longerword   # x a      : word yes   a yes\n  longerword :    # x a'",
            "- '   yes word yes : word a :       yes : longerword   # x a      : word yes   a yes longerword :    # x a'",
            "'   yes word yes : word a :       yes : longerword   # x a      : word yes   a yes longerword :    # x a': 1",
        ),
        ("  #", "- '  #'", "- '  #'", "'  #': 1"),
        (
            "  # # x    a yes    longerword yes x      # yes a word : x   word : :   longerword :   x",
            "- '  # # x    a yes    longerword yes x      # yes a word : x   word : :   longerword\n  :   x'",
            "- '  # # x    a yes    longerword yes x      # yes a word : x   word : :   longerword :   x'",
            "'  # # x    a yes    longerword yes x      # yes a word : x   word : :   longerword :   x': 1",
        ),
        ("  0x1F", "- '  0x1F'", "- '  0x1F'", "'  0x1F': 1"),
        (
            "  : yes x : yes    a a : a :    yes\nyes    a x # longerword #    x word :         a #",
            "- |2-\n    : yes x : yes    a a : a :    yes\n  yes    a x # longerword #    x word :         a #",
            "- |2-\n    : yes x : yes    a a : a :    yes\n  yes    a x # longerword #    x word :         a #",
            "? |2-\n    : yes x : yes    a a : a :    yes\n  yes    a x # longerword #    x word :         a #\n: 1",
        ),
        (
            "  a # x yes yes :   # : x longerword a #   # x #",
            "- '  a # x yes yes :   # : x longerword a #   # x #'",
            "- '  a # x yes yes :   # : x longerword a #   # x #'",
            "'  a # x yes yes :   # : x longerword a #   # x #': 1",
        ),
        (
            "  a # yes longerword    :\n: : yes : # x : # longerword # longerword x a     ",
            "- \"  a # yes longerword    :\\n: : yes : # x : # longerword # longerword x a     \"",
            "- \"  a # yes longerword    :\\n: : yes : # x : # longerword # longerword x a     \"",
            "? \"  a # yes longerword    :\\n: : yes : # x : # longerword # longerword x a     \"\n: 1",
        ),
        (
            "  a : # x : # word   #      : x longerword    # a   word yes yes       word word",
            "- '  a : # x : # word   #      : x longerword    # a   word yes yes       word word'",
            "- '  a : # x : # word   #      : x longerword    # a   word yes yes       word word'",
            "'  a : # x : # word   #      : x longerword    # a   word yes yes       word word': 1",
        ),
        (
            "  a word x longerword yes   a : longerword word  ",
            "- '  a word x longerword yes   a : longerword word  '",
            "- '  a word x longerword yes   a : longerword word  '",
            "'  a word x longerword yes   a : longerword word  ': 1",
        ),
        (
            "  a yes word   # x longerword longerword x : word x   a # #   : # yes a a a       : a yes # x :   :",
            "- '  a yes word   # x longerword longerword x : word x   a # #   : # yes a a a       :\n  a yes # x :   :'",
            "- '  a yes word   # x longerword longerword x : word x   a # #   : # yes a a a       : a yes # x :   :'",
            "'  a yes word   # x longerword longerword x : word x   a # #   : # yes a a a       : a yes # x :   :': 1",
        ),
        (
            "  longerword     # # x yes # longerword # word       longerword word # yes yes a :   # :\n# #    # yes yes    word\n:   x :   yes :   a\n  x x    yes   word yes # word        word    # yes x     : a longerword : a",
            "- |2-\n    longerword     # # x yes # longerword # word       longerword word # yes yes a :   # :\n  # #    # yes yes    word\n  :   x :   yes :   a\n    x x    yes   word yes # word        word    # yes x     : a longerword : a",
            "- |2-\n    longerword     # # x yes # longerword # word       longerword word # yes yes a :   # :\n  # #    # yes yes    word\n  :   x :   yes :   a\n    x x    yes   word yes # word        word    # yes x     : a longerword : a",
            "? |2-\n    longerword     # # x yes # longerword # word       longerword word # yes yes a :   # :\n  # #    # yes yes    word\n  :   x :   yes :   a\n    x x    yes   word yes # word        word    # yes x     : a longerword : a\n: 1",
        ),
        (
            "  word   : word a # x a      #    # longerword x    :    :   # a longerword",
            "- '  word   : word a # x a      #    # longerword x    :    :   # a longerword'",
            "- '  word   : word a # x a      #    # longerword x    :    :   # a longerword'",
            "'  word   : word a # x a      #    # longerword x    :    :   # a longerword': 1",
        ),
        (" \"- [-a", "- ' \"- [-a'", "- ' \"- [-a'", "' \"- [-a': 1"),
        (" #", "- ' #'", "- ' #'", "' #': 1"),
        (" #: ", "- ' #: '", "- ' #: '", "' #: ': 1"),
        (" #@", "- ' #@'", "- ' #@'", "' #@': 1"),
        (" : ", "- ' : '", "- ' : '", "' : ': 1"),
        (" :-", "- ' :-'", "- ' :-'", "' :-': 1"),
        (" :true", "- ' :true'", "- ' :true'", "' :true': 1"),
        (" ? ", "- ' ? '", "- ' ? '", "' ? ': 1"),
        ("!- ", "- '!- '", "- '!- '", "'!- ': 1"),
        ("\"[", "- '\"['", "- '\"['", "'\"[': 1"),
        ("#\t", "- \"#\\t\"", "- \"#\\t\"", "\"#\\t\": 1"),
        (
            "#  \na word   yes yes yes    # : : : :   a longerword a x\nlongerword x longerword x :   x   : : word longerword word longerword : a a : word word :    # a",
            "- \"#  \\na word   yes yes yes    # : : : :   a longerword a x\\nlongerword x longerword\n  x :   x   : : word longerword word longerword : a a : word word :    # a\"",
            "- \"#  \\na word   yes yes yes    # : : : :   a longerword a x\\nlongerword x longerword x :   x   : : word longerword word longerword : a a : word word :    # a\"",
            "? \"#  \\na word   yes yes yes    # : : : :   a longerword a x\\nlongerword x longerword\n  x :   x   : : word longerword word longerword : a a : word word :    # a\"\n: 1",
        ),
        ("# #", "- '# #'", "- '# #'", "'# #': 1"),
        (
            "# a word word : : a   yes a :    : x #",
            "- '# a word word : : a   yes a :    : x #'",
            "- '# a word word : : a   yes a :    : x #'",
            "'# a word word : : a   yes a :    : x #': 1",
        ),
        (
            "# word   word # a      word yes x : yes x x :    : x x word longerword    a word longerword a : longerword word # longerword : x yes x # longerword longerword",
            "- '# word   word # a      word yes x : yes x x :    : x x word longerword    a word\n  longerword a : longerword word # longerword : x yes x # longerword longerword'",
            "- '# word   word # a      word yes x : yes x x :    : x x word longerword    a word longerword a : longerword word # longerword : x yes x # longerword longerword'",
            "? '# word   word # a      word yes x : yes x x :    : x x word longerword    a word\n  longerword a : longerword word # longerword : x yes x # longerword longerword'\n: 1",
        ),
        (
            "# yes   x yes    # x longerword x #",
            "- '# yes   x yes    # x longerword x #'",
            "- '# yes   x yes    # x longerword x #'",
            "'# yes   x yes    # x longerword x #': 1",
        ),
        (
            "# yes : : yes word x   x x # #       word   longerword x   #   : yes yes",
            "- '# yes : : yes word x   x x # #       word   longerword x   #   : yes yes'",
            "- '# yes : : yes word x   x x # #       word   longerword x   #   : yes yes'",
            "'# yes : : yes word x   x x # #       word   longerword x   #   : yes yes': 1",
        ),
        ("#1.5", "- '#1.5'", "- '#1.5'", "'#1.5': 1"),
        ("#\\", "- '#\\'", "- '#\\'", "'#\\': 1"),
        (
            "%0x1F\\? '",
            "- '%0x1F\\? '''",
            "- '%0x1F\\? '''",
            "'%0x1F\\? ''': 1",
        ),
        (
            "%12:30\u{200b}=\r#",
            "- \"%12:30\u{200b}=\\r#\"",
            "- \"%12:30\u{200b}=\\r#\"",
            "? \"%12:30\u{200b}=\\r#\"\n: 1",
        ),
        ("%?", "- '%?'", "- '%?'", "'%?': 1"),
        ("%@", "- '%@'", "- '%@'", "'%@': 1"),
        ("%[", "- '%['", "- '%['", "'%[': 1"),
        ("&]", "- '&]'", "- '&]'", "'&]': 1"),
        (
            "&\u{200b}",
            "- '&\u{200b}'",
            "- '&\u{200b}'",
            "'&\u{200b}': 1",
        ),
        (
            "'1.5*1\n\n #",
            "- |-\n  '1.5*1\n\n   #",
            "- |-\n  '1.5*1\n\n   #",
            "? |-\n  '1.5*1\n\n   #\n: 1",
        ),
        ("'no", "- '''no'", "- '''no'", "'''no': 1"),
        ("*&", "- '*&'", "- '*&'", "'*&': 1"),
        ("*:", "- '*:'", "- '*:'", "'*:': 1"),
        (",&", "- ',&'", "- ',&'", "',&': 1"),
        (",true", "- ',true'", "- ',true'", "',true': 1"),
        ("- ,: ],", "- '- ,: ],'", "- '- ,: ],'", "'- ,: ],': 1"),
        ("- 1", "- '- 1'", "- '- 1'", "'- 1': 1"),
        ("- [", "- '- ['", "- '- ['", "'- [': 1"),
        (
            "---\n\n",
            "- |+\n  ---\n",
            "- |+\n  ---\n",
            "? |+\n  ---\n\n: 1",
        ),
        ("---\r", "- \"---\\r\"", "- \"---\\r\"", "? \"---\\r\"\n: 1"),
        ("---=", "- '---='", "- '---='", "'---=': 1"),
        ("---yes", "- '---yes'", "- '---yes'", "'---yes': 1"),
        ("-~", "- -~", "- -~", "-~: 1"),
        ("...*", "- '...*'", "- '...*'", "'...*': 1"),
        ("...>", "- '...>'", "- '...>'", "'...>': 1"),
        ("1\n", "- |\n  1", "- |\n  1", "? |\n  1\n: 1"),
        ("1.5&", "- 1.5&", "- 1.5&", "1.5&: 1"),
        ("1.512:30", "- 1.512:30", "- 1.512:30", "1.512:30: 1"),
        ("1.5\u{a0}", "- 1.5\u{a0}", "- 1.5\u{a0}", "1.5\u{a0}: 1"),
        (
            "1.5\u{2028}",
            "- '1.5\u{2028}'",
            "- '1.5\u{2028}'",
            "? '1.5\u{2028}'\n: 1",
        ),
        ("11", "- \"11\"", "- \"11\"", "\"11\": 1"),
        (
            "12001-12-14",
            "- 12001-12-14",
            "- 12001-12-14",
            "12001-12-14: 1",
        ),
        ("12:30\"", "- 12:30\"", "- 12:30\"", "12:30\": 1"),
        ("12:30@", "- 12:30@", "- 12:30@", "12:30@: 1"),
        ("12:30yes", "- 12:30yes", "- 12:30yes", "12:30yes: 1"),
        ("1e3!", "- 1e3!", "- 1e3!", "1e3!: 1"),
        ("1e3#", "- 1e3#", "- 1e3#", "1e3#: 1"),
        (
            "1e3'0777]\u{200b}",
            "- 1e3'0777]\u{200b}",
            "- 1e3'0777]\u{200b}",
            "1e3'0777]\u{200b}: 1",
        ),
        (
            "2001-12-14-",
            "- 2001-12-14-",
            "- 2001-12-14-",
            "2001-12-14-: 1",
        ),
        (
            "2001-12-140777",
            "- 2001-12-140777",
            "- 2001-12-140777",
            "2001-12-140777: 1",
        ),
        (
            "2001-12-14b c",
            "- 2001-12-14b c",
            "- 2001-12-14b c",
            "2001-12-14b c: 1",
        ),
        (
            "2001-12-14null",
            "- 2001-12-14null",
            "- 2001-12-14null",
            "2001-12-14null: 1",
        ),
        (":\t", "- \":\\t\"", "- \":\\t\"", "\":\\t\": 1"),
        (":\n\n", "- |+\n  :\n", "- |+\n  :\n", "? |+\n  :\n\n: 1"),
        (": ", "- ': '", "- ': '", "': ': 1"),
        (
            ": #    word x   ",
            "- ': #    word x   '",
            "- ': #    word x   '",
            "': #    word x   ': 1",
        ),
        (": ?", "- ': ?'", "- ': ?'", "': ?': 1"),
        (": \\", "- ': \\'", "- ': \\'", "': \\': 1"),
        (": a", "- ': a'", "- ': a'", "': a': 1"),
        (": yes", "- ': yes'", "- ': yes'", "': yes': 1"),
        (":- ", "- ':- '", "- ':- '", "':- ': 1"),
        (
            ":\u{feff}",
            "- \":\\uFEFF\"",
            "- \":\\uFEFF\"",
            "\":\\uFEFF\": 1",
        ),
        ("<<{", "- <<{", "- <<{", "<<{: 1"),
        ("=-", "- =-", "- =-", "=-: 1"),
        ("=0777", "- =0777", "- =0777", "=0777: 1"),
        (
            "==]\u{1f600}x\ty?",
            "- \"==]\\U0001F600x\\ty?\"",
            "- \"==]\\U0001F600x\\ty?\"",
            "\"==]\\U0001F600x\\ty?\": 1",
        ),
        ("=@", "- =@", "- =@", "=@: 1"),
        (">", "- '>'", "- '>'", "'>': 1"),
        (">? ", "- '>? '", "- '>? '", "'>? ': 1"),
        ("?  ", "- '?  '", "- '?  '", "'?  ': 1"),
        (
            "? \u{200b}",
            "- '? \u{200b}'",
            "- '? \u{200b}'",
            "'? \u{200b}': 1",
        ),
        (
            "?= 0x1F<<%",
            "- ?= 0x1F<<%",
            "- ?= 0x1F<<%",
            "?= 0x1F<<%: 1",
        ),
        ("??", "- ??", "- ??", "??: 1"),
        ("?{", "- ?{", "- ?{", "?{: 1"),
        ("@\t", "- \"@\\t\"", "- \"@\\t\"", "\"@\\t\": 1"),
        ("@a", "- '@a'", "- '@a'", "'@a': 1"),
        ("[- [[ #", "- '[- [[ #'", "- '[- [[ #'", "'[- [[ #': 1"),
        ("[>", "- '[>'", "- '[>'", "'[>': 1"),
        ("[`", "- '[`'", "- '[`'", "'[`': 1"),
        ("[~", "- '[~'", "- '[~'", "'[~': 1"),
        ("\\ :", "- '\\ :'", "- '\\ :'", "'\\ :': 1"),
        (
            "\\,yes2001-12-14: yes",
            "- '\\,yes2001-12-14: yes'",
            "- '\\,yes2001-12-14: yes'",
            "'\\,yes2001-12-14: yes': 1",
        ),
        ("\\|", "- \\|", "- \\|", "\\|: 1"),
        ("]\t", "- \"]\\t\"", "- \"]\\t\"", "\"]\\t\": 1"),
        ("] :", "- '] :'", "- '] :'", "'] :': 1"),
        ("]? ", "- ']? '", "- ']? '", "']? ': 1"),
        (
            "]\u{feff}\r[*>",
            "- \"]\\uFEFF\\r[*>\"",
            "- \"]\\uFEFF\\r[*>\"",
            "? \"]\\uFEFF\\r[*>\"\n: 1",
        ),
        (
            "]\u{1f600}",
            "- \"]\\U0001F600\"",
            "- \"]\\U0001F600\"",
            "\"]\\U0001F600\": 1",
        ),
        ("`,", "- '`,'", "- '`,'", "'`,': 1"),
        ("`]", "- '`]'", "- '`]'", "'`]': 1"),
        ("`true", "- '`true'", "- '`true'", "'`true': 1"),
        ("`\u{85}", "- '` '", "- \"`\\N\"", ""),
        (
            "a #    : yes # longerword : word   : longerword word yes longerword x # word    longerword yes x yes # word    #    a    :   yes   longerword : word #",
            "- 'a #    : yes # longerword : word   : longerword word yes longerword x # word    longerword\n  yes x yes # word    #    a    :   yes   longerword : word #'",
            "- 'a #    : yes # longerword : word   : longerword word yes longerword x # word    longerword yes x yes # word    #    a    :   yes   longerword : word #'",
            "? 'a #    : yes # longerword : word   : longerword word yes longerword x # word    longerword\n  yes x yes # word    #    a    :   yes   longerword : word #'\n: 1",
        ),
        (
            "a yes longerword yes a a word yes longerword    ",
            "- 'a yes longerword yes a a word yes longerword    '",
            "- 'a yes longerword yes a a word yes longerword    '",
            "'a yes longerword yes a a word yes longerword    ': 1",
        ),
        ("a%", "- a%", "- a%", "a%: 1"),
        ("aa", "- aa", "- aa", "aa: 1"),
        ("b c12:30", "- b c12:30", "- b c12:30", "b c12:30: 1"),
        ("b c|", "- b c|", "- b c|", "b c|: 1"),
        (
            "longerword     x   longerword #   yes x word word a    word x :    : longerword yes a",
            "- 'longerword     x   longerword #   yes x word word a    word x :    : longerword\n  yes a'",
            "- 'longerword     x   longerword #   yes x word word a    word x :    : longerword yes a'",
            "'longerword     x   longerword #   yes x word word a    word x :    : longerword yes a': 1",
        ),
        ("no%", "- no%", "- no%", "no%: 1"),
        (
            "null\r",
            "- \"null\\r\"",
            "- \"null\\r\"",
            "? \"null\\r\"\n: 1",
        ),
        ("null :", "- 'null :'", "- 'null :'", "'null :': 1"),
        ("null%", "- null%", "- null%", "null%: 1"),
        ("true]", "- true]", "- true]", "true]: 1"),
        (
            "word : yes\n: a a a    yes # word      longerword : a word word longerword # x a\n# x #\nlongerword yes   ",
            "- \"word : yes\\n: a a a    yes # word      longerword : a word word longerword # x\n  a\\n# x #\\nlongerword yes   \"",
            "- \"word : yes\\n: a a a    yes # word      longerword : a word word longerword # x a\\n# x #\\nlongerword yes   \"",
            "? \"word : yes\\n: a a a    yes # word      longerword : a word word longerword # x\n  a\\n# x #\\nlongerword yes   \"\n: 1",
        ),
        (
            "x       # yes yes x longerword word x #   : : longerword     x :",
            "- 'x       # yes yes x longerword word x #   : : longerword     x :'",
            "- 'x       # yes yes x longerword word x #   : : longerword     x :'",
            "'x       # yes yes x longerword word x #   : : longerword     x :': 1",
        ),
        ("yes\t", "- \"yes\\t\"", "- \"yes\\t\"", "\"yes\\t\": 1"),
        (
            "yes #       longerword    longerword longerword word a x #    word word a : word x # a     # : : x word x x     ",
            "- 'yes #       longerword    longerword longerword word a x #    word word a : word\n  x # a     # : : x word x x     '",
            "- 'yes #       longerword    longerword longerword word a x #    word word a : word x # a     # : : x word x x     '",
            "'yes #       longerword    longerword longerword word a x #    word word a : word x # a     # : : x word x x     ': 1",
        ),
        (
            "yes word a x yes longerword a a    yes a a a # word a   a longerword #",
            "- 'yes word a x yes longerword a a    yes a a a # word a   a longerword #'",
            "- 'yes word a x yes longerword a a    yes a a a # word a   a longerword #'",
            "'yes word a x yes longerword a a    yes a a a # word a   a longerword #': 1",
        ),
        ("yes1e3", "- yes1e3", "- yes1e3", "yes1e3: 1"),
        (
            "yes2001-12-14",
            "- yes2001-12-14",
            "- yes2001-12-14",
            "yes2001-12-14: 1",
        ),
        ("yes@", "- yes@", "- yes@", "yes@: 1"),
        ("{0777", "- '{0777'", "- '{0777'", "'{0777': 1"),
        ("{@", "- '{@'", "- '{@'", "'{@': 1"),
        ("|\t", "- \"|\\t\"", "- \"|\\t\"", "\"|\\t\": 1"),
        ("|\n\n", "- |+\n  |\n", "- |+\n  |\n", "? |+\n  |\n\n: 1"),
        ("|12:30", "- '|12:30'", "- '|12:30'", "'|12:30': 1"),
        ("}}", "- '}}'", "- '}}'", "'}}': 1"),
        ("~1", "- ~1", "- ~1", "~1: 1"),
        ("~=", "- ~=", "- ~=", "~=: 1"),
        ("~yesno", "- ~yesno", "- ~yesno", "~yesno: 1"),
        ("~}", "- ~}", "- ~}", "~}: 1"),
        ("\u{85}-", "- ' -'", "- \"\\N-\"", ""),
        (
            "\u{85}---12:302001-12-14 12:30",
            "- ' ---12:302001-12-14 12:30'",
            "- \"\\N---12:302001-12-14 12:30\"",
            "",
        ),
        ("\u{85}1e3", "- ' 1e3'", "- \"\\N1e3\"", ""),
        ("\u{85}\u{2028}", "- \" \\L\"", "- \"\\N\\L\"", ""),
        (
            "\u{a0}\n",
            "- |\n  \u{a0}",
            "- |\n  \u{a0}",
            "? |\n  \u{a0}\n: 1",
        ),
        (
            "\u{a0}\u{1f600}",
            "- \"\u{a0}\\U0001F600\"",
            "- \"\u{a0}\\U0001F600\"",
            "\"\u{a0}\\U0001F600\": 1",
        ),
        ("é---", "- é---", "- é---", "é---: 1"),
        ("éa", "- éa", "- éa", "éa: 1"),
        (
            "\u{200b}\u{1f600}",
            "- \"\u{200b}\\U0001F600\"",
            "- \"\u{200b}\\U0001F600\"",
            "\"\u{200b}\\U0001F600\": 1",
        ),
        (
            "\u{2028}{",
            "- '\u{2028}  {'",
            "- '\u{2028}  {'",
            "? '\u{2028}  {'\n: 1",
        ),
        (
            "\u{2028}é",
            "- '\u{2028}  é'",
            "- '\u{2028}  é'",
            "? '\u{2028}  é'\n: 1",
        ),
        (
            "\u{feff}\r\u{a0}\r",
            "- \"\\uFEFF\\r\\_\\r\"",
            "- \"\\uFEFF\\r\\_\\r\"",
            "? \"\\uFEFF\\r\\_\\r\"\n: 1",
        ),
        (
            "\u{feff}0x1F",
            "- \"\\uFEFF\\x30\\x78\\x31\\x46\"",
            "- \"\\uFEFF\\x30\\x78\\x31\\x46\"",
            "\"\\uFEFF\\x30\\x78\\x31\\x46\": 1",
        ),
    ];
    #[test]
    fn strings_write_as_helm_writes_them() {
        for (s, v2, v3, key) in STRINGS {
            let list = Value::list(vec![Value::str(*s)]);
            assert_eq!(yaml(&list), *v2, "toYaml {s:?}");
            assert_eq!(pretty(&list), *v3, "toYamlPretty {s:?}");
            let map = Value::map(Map::from([(s.to_string(), Value::Int(1))]));
            if key.is_empty() {
                // Helm's toYaml swallowed an error.
                assert!(to_yaml(&map).is_err(), "toYaml key {s:?}");
            } else {
                assert_eq!(yaml(&map), *key, "toYaml key {s:?}");
            }
        }
    }

    #[test]
    fn numbers_write_through_json() {
        // From helm v4.1.4: toYaml / toYamlPretty of values parsed from YAML (float64).
        let cases: &[(f64, &str, &str)] = &[
            (1000000.0, "1000000", "1e+06"),
            (1.5, "1.5", "1.5"),
            (1e21, "1e+21", "1e+21"),
            (1e20, "1e+20", "1e+20"),
            (0.000001, "1e-06", "1e-06"),
            (0.0000001, "1e-07", "1e-07"),
            (-0.0, "0", "-0"),
            (
                12345678901234567890.0,
                "12345678901234567000",
                "1.2345678901234567e+19",
            ),
            (123456789012.0, "123456789012", "1.23456789012e+11"),
            (3.0, "3", "3"),
            (1e23, "1e+23", "1e+23"),
        ];
        for (f, v2, v3) in cases {
            assert_eq!(yaml(&Value::Float(*f)), *v2, "{f}");
            assert_eq!(pretty(&Value::Float(*f)), *v3, "{f}");
        }
        assert_eq!(yaml(&Value::Int64(-5)), "-5");
        assert!(to_yaml(&Value::Float(f64::NAN)).is_err());
    }

    #[test]
    fn structures_write_as_helm_writes_them() {
        // From helm v4.1.4 (`m: {x: [1, 2.5, {y: z}], e: [], f: {}}` and friends).
        let v = parse_document(
            "m: {x: [1, 2.5, {y: z}], e: [], f: {}}\nk: {\"x\\ny\": e, \"\": c}\nl: [[a, b], []]\n",
        )
        .unwrap_or_default();
        assert_eq!(
            yaml(&v),
            "k:\n  \"\": c\n  ? |-\n    x\n    y\n  : e\nl:\n- - a\n  - b\n- []\nm:\n  e: []\n  f: {}\n  x:\n  - 1\n  - 2.5\n  - \"true\": z"
        );
        assert_eq!(
            pretty(&v),
            "k:\n  \"\": c\n  ? |-\n    x\n    y\n  : e\nl:\n  - - a\n    - b\n  - []\nm:\n  e: []\n  f: {}\n  x:\n    - 1\n    - 2.5\n    - \"true\": z"
        );
        assert_eq!(yaml(&Value::Nil), "null");
        assert_eq!(yaml(&Value::map(Map::new())), "{}");
        assert_eq!(yaml(&Value::list(vec![])), "[]");
        let long = "word ".repeat(30);
        let long = long.trim_end();
        // Root scalars fold past column 80 with a 2-space continuation (helm v4.1.4).
        assert_eq!(
            yaml(&Value::str(long)),
            "word word word word word word word word word word word word word word word word word\n  word word word word word word word word word word word word word"
        );
        let nested =
            parse_document(&format!("nested: {{deeper: {{deepest: {long}}}}}")).unwrap_or_default();
        assert_eq!(
            yaml(&nested),
            "nested:\n  deeper:\n    deepest: word word word word word word word word word word word word word word\n      word word word word word word word word word word word word word word word word"
        );
        assert_eq!(
            pretty(&nested),
            format!("nested:\n  deeper:\n    deepest: {long}")
        );
        let k130 = "k".repeat(130);
        let m = Value::map(Map::from([(k130.clone(), Value::Int(1))]));
        assert_eq!(yaml(&m), format!("? {k130}\n: 1"));
    }

    #[test]
    fn keys_sort_in_go_yaml_order() {
        // From helm v4.1.4: toYaml of a map with these keys.
        let keys = [
            "a10", "a2", "a02", "a1b", "ab", "aB", "A", "_x", "1", "10", "2",
        ];
        let m = Value::map(
            keys.iter()
                .map(|k| (k.to_string(), Value::Int(1)))
                .collect(),
        );
        assert_eq!(
            yaml(&m),
            "_x: 1\n\"1\": 1\n\"2\": 1\n\"10\": 1\nA: 1\na02: 1\na10: 1\na1b: 1\na2: 1\naB: 1\nab: 1"
        );
    }

    #[test]
    fn unreadable_json_text_fails_like_helm() {
        // Helm's toYaml gives "" for these (go-yaml cannot read the JSON back).
        assert!(to_yaml(&Value::str("a\u{7f}")).is_err());
        let m = Value::map(Map::from([("a\u{85}b".to_string(), Value::Int(1))]));
        assert!(to_yaml(&m).is_err());
        // A NEL in a value folds to a space.
        assert_eq!(
            yaml(&Value::list(vec![Value::str("\u{1}\u{85}")])),
            "- \"\\x01 \""
        );
    }

    #[test]
    fn values_files_read_as_helm_reads_them() {
        // Each expectation from `helm template -f values.yaml` with helm v4.1.4.
        let cases: &[(&str, &str)] = &[
            ("a: 1\na: 2\n", r#"{"a":2}"#),
            ("a: 1\n---\nb: 2\n", r#"{"a":1,"b":2}"#),
            ("", "{}"),
            ("---\n", "{}"),
            ("a: b\n---\n", r#"{"a":"b"}"#),
            ("a: {b: 1}\n---\na: {c: 2}\n", r#"{"a":{"b":1,"c":2}}"#),
            ("a: [1]\n---\na: {b: 1}\n", r#"{"a":{"b":1}}"#),
            ("a: 1\n--- #c\nb: 2\n", r#"{"a":1,"b":2}"#),
            ("a: 1\n...\nb: 2\n", r#"{"a":1}"#),
            ("a: |\n  x\n---\nb: 1\n", r#"{"a":"x\n","b":1}"#),
            (
                "a: &x {p: 1}\nb: *x\nc:\n  <<: *x\n  q: 2\n",
                r#"{"a":{"p":1},"b":{"p":1},"c":{"p":1,"q":2}}"#,
            ),
            ("x: 1\n<<: {x: 2, w: 3}\nz: 4\n", r#"{"w":3,"x":2,"z":4}"#),
            (
                "a: &a {p: 1}\nb: {<<: [*a, {p: 2, q: 3}]}\n",
                r#"{"a":{"p":1},"b":{"p":1,"q":3}}"#,
            ),
            ("a: !!binary aGVsbG8=\n", r#"{"a":"hello"}"#),
            (
                "a: !!str 12\nb: !!int \"12\"\nc: !foo bar\nd: !!float 1\n",
                r#"{"a":"12","b":12,"c":"bar","d":1}"#,
            ),
            (
                "a: 2001-12-14t21:59:43.10-05:00\nb: 1e3\nc: .5\nd: +12\ne: 0o17\nf: 0b101\ng: -0x1F\nh: 1_0\ni: 1:20\nl: Yes\nm: NO\no: ~\np: Null\nq: 1.\nr: 08\ns: 0.1e\nt: 12e03\nu: 1.0\nv: -0\nw: 0x\nx: 1__2\nz: 190:20:30\n",
                r#"{"a":"2001-12-14t21:59:43.10-05:00","b":1000,"c":0.5,"d":12,"e":15,"f":5,"g":-31,"h":10,"i":"1:20","l":true,"m":false,"o":null,"p":null,"q":1,"r":8,"s":"0.1e","t":12000,"u":1,"v":0,"w":"0x","x":12,"z":"190:20:30"}"#,
            ),
            ("n: y\ny: 0b\n", r#"{"false":true,"true":"0b"}"#),
            ("true: 1\n1: 2\n1.5: 3\n", r#"{"1":2,"1.5":3,"true":1}"#),
            (
                "yes1: yes\noct: 0777\nhex: 0x1F\ndate: 2001-12-14\nhuge: 12345678901234567890\n",
                r#"{"date":"2001-12-14","hex":31,"huge":12345678901234567000,"oct":511,"yes1":true}"#,
            ),
            ("a: 1e400\n", r#"{"a":"1e400"}"#),
            (
                "a: 0x8000000000000000\nb: -9223372036854775809\nc: 1_000.5\nd: +.5\ne: 0.\nf: -.\ng: 1.0e+3\nh: 0B11\ni: 0o\nj: 00\nk: -0b11\n",
                r#"{"a":9223372036854776000,"b":-9223372036854776000,"c":1000.5,"d":0.5,"e":0,"f":"-.","g":1000,"h":3,"i":"0o","j":0,"k":-3}"#,
            ),
            ("k: 99999999999999999999999\n", r#"{"k":1e+23}"#),
            ("a: \"\\x41\\u00e9\\U0001F600\"\n", r#"{"a":"Aé😀"}"#),
            (
                "- a\n- b\n",
                "ERR cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}",
            ),
            (
                "hello\n",
                "ERR cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of type map[string]interface {}",
            ),
            (
                "a: 1\n---\n5\n",
                "ERR cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go value of type map[string]interface {}",
            ),
            (
                "--- a: 1\n",
                "ERR error reading yaml document: invalid Yaml document separator: a: 1",
            ),
            (
                "a: .inf\n",
                "ERR cannot unmarshal yaml document: error converting YAML to JSON: json: unsupported value: +Inf",
            ),
            (
                "a: !!int x\n",
                "ERR cannot unmarshal yaml document: error converting YAML to JSON: yaml: cannot decode !!str `x` as a !!int",
            ),
            (
                "? [a]\n: 1\n",
                "ERR cannot unmarshal yaml document: error converting YAML to JSON: yaml: invalid map key: []interface {}{\"a\"}",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(values(input), *want, "{input:?}");
        }
    }

    #[test]
    fn syntax_errors_carry_go_yaml_lines() {
        // Messages from helm v4.1.4 (after "cannot unmarshal yaml document: ").
        let cases: &[(&str, &str)] = &[
            (
                "a:\n\tb: 1\n",
                "yaml: line 2: found character that cannot start any token",
            ),
            (
                "a: 1\n  b: 2\n",
                "yaml: line 2: mapping values are not allowed in this context",
            ),
            (
                "a: b: c\n",
                "yaml: mapping values are not allowed in this context",
            ),
            (
                "a: [1, 2\n",
                "yaml: line 1: did not find expected ',' or ']'",
            ),
            ("a: \"x\n", "yaml: line 2: found unexpected end of stream"),
            ("a: 'x", "yaml: found unexpected end of stream"),
            ("a: {b: 1", "yaml: line 1: did not find expected ',' or '}'"),
            (
                "x: 1\ny: [1,\n  2\n",
                "yaml: line 3: did not find expected ',' or ']'",
            ),
            (
                "a:\n  - b\n c: 1",
                "yaml: line 2: did not find expected key",
            ),
            ("a: &x\nb: *y", "yaml: unknown anchor 'y' referenced"),
            (
                "- a\nb: 1",
                "yaml: line 1: did not find expected '-' indicator",
            ),
            ("a: b\n- c", "yaml: line 1: did not find expected key"),
            ("a: @x", "yaml: found character that cannot start any token"),
            (
                "a:\n  b: 1\n   c: 2",
                "yaml: line 3: mapping values are not allowed in this context",
            ),
            ("a: 1\nb", "yaml: line 3: could not find expected ':'"),
            ("a: \"\\q\"\n", "yaml: found unknown escape character"),
        ];
        for (input, want) in cases {
            let got = values(input);
            assert_eq!(
                got,
                format!(
                    "ERR cannot unmarshal yaml document: error converting YAML to JSON: {want}"
                ),
                "{input:?}"
            );
        }
    }

    #[test]
    fn from_yaml_helpers() {
        // Helm v4.1.4: fromYaml / fromYamlArray results.
        assert_eq!(
            parse_map("- a").err().map(|e| e.0),
            Some("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}".into())
        );
        assert_eq!(parse_map("").ok().map(|v| json(&v)).as_deref(), Some("{}"));
        assert_eq!(
            parse_map("a: 1\n---\nb: 2")
                .ok()
                .map(|v| json(&v))
                .as_deref(),
            Some(r#"{"a":1}"#)
        );
        assert_eq!(
            parse_list("- a\n- 1").ok().map(|v| json(&v)).as_deref(),
            Some(r#"["a",1]"#)
        );
        assert_eq!(parse_list("").ok().map(|v| json(&v)).as_deref(), Some("[]"));
        assert_eq!(
            parse_list("a: 1").err().map(|e| e.0),
            Some("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []interface {}".into())
        );
        assert_eq!(
            parse_map("{a: 1} x").ok().map(|v| json(&v)).as_deref(),
            Some(r#"{"a":1}"#)
        );
    }

    #[test]
    fn hostile_input_is_refused() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse_document(&deep).is_err());
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            bomb.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
        }
        assert!(parse_document(&bomb).is_err());
        let big = "a".repeat(MAX_YAML_BYTES + 1);
        assert!(parse_document(&big).is_err());
        // A map holding itself.
        let m = crate::value::MapRef::new(Map::new());
        m.insert("self", Value::Map(m.clone()));
        assert!(to_yaml(&Value::Map(m.clone())).is_err());
        m.remove("self");
    }

    #[test]
    fn resolution_rules() {
        assert!(is_timestamp("2001-12-14"));
        assert!(is_timestamp("2001-1-2T3:04:05Z"));
        assert!(is_timestamp("2001-12-14 21:59:43.10"));
        assert!(!is_timestamp("2001-02-30"));
        assert!(!is_timestamp("2001-12-14 21:59:43.10 -5"));
        assert!(is_base60_float("190:20:30.15"));
        assert!(is_base60_float("1:20"));
        assert!(!is_base60_float("1:2a"));
        assert_eq!(resolve_plain("0777"), Resolved::Int(511));
        assert_eq!(resolve_plain("0x1F"), Resolved::Int(31));
        assert_eq!(resolve_plain("08"), Resolved::Float(8.0));
        assert_eq!(resolve_plain("1e400"), Resolved::Str);
        assert_eq!(
            resolve_plain("12345678901234567890"),
            Resolved::Uint(12345678901234567890)
        );
    }

    /// The byte-search split against the line-by-line one it replaced.
    #[test]
    fn documents_split_as_line_by_line() {
        fn by_lines(text: &str) -> Result<Vec<String>, YamlError> {
            let mut docs = Vec::new();
            let (mut start, mut at) = (0, 0);
            for line in text.split_inclusive('\n') {
                let line_start = at;
                at += line.len();
                if let Some(rest) = line.strip_prefix("---") {
                    let trimmed = rest.trim();
                    if !trimmed.is_empty() && !trimmed.starts_with('#') {
                        return Err(YamlError(format!(
                            "error reading yaml document: invalid Yaml document separator: {trimmed}"
                        )));
                    }
                    if let Some(doc) = text.get(start..line_start).filter(|d| !d.is_empty()) {
                        docs.push(doc.to_string());
                    }
                    start = at;
                }
            }
            if let Some(doc) = text.get(start..).filter(|d| !d.is_empty()) {
                docs.push(doc.to_string());
            }
            Ok(docs)
        }
        let rendered = include_str!("../benches/data/big-rendered.yaml");
        let mut cases: Vec<String> = [
            "",
            "---",
            "---\n",
            "a: 1\n---",
            "a: 1\n---\nb: 2",
            "---\na\n---\n---\n",
            "- a\n- b\n",
            "a: ---\n",
            " ---\nb",
            "----\n",
            "--- x\n",
            "--- # c\nx\n",
            "---\r\nx\r\n---\r\n",
            "a\n-\n--\n---",
            "-",
            "x\n--- \t\ny",
            "é\n---\né",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        for cut in (0..rendered.len()).step_by(997) {
            if rendered.is_char_boundary(cut) {
                cases.push(format!("{}---{}", &rendered[..cut], &rendered[cut..]));
                cases.push(rendered[cut..].to_string());
            }
        }
        for c in &cases {
            assert_eq!(split_documents(c), by_lines(c), "{c:?}");
        }
    }

    /// The fast reader takes the simple shapes and, whatever it takes, reads exactly as the
    /// event parser does: checked over Helm's rendered manifests cut and spliced with
    /// everything that could trip it.
    #[test]
    fn fast_reader_agrees_with_the_full_reader() {
        let rendered = include_str!("../benches/data/big-rendered.yaml");
        let values = include_str!("../benches/data/big-values.yaml");
        let docs = split_documents(rendered).unwrap_or_default();
        let fast_docs = docs.iter().filter(|d| fast_document(d).is_some()).count();
        assert!(
            fast_docs * 10 >= docs.len() * 9,
            "{fast_docs} of {}",
            docs.len()
        );
        assert!(fast_document(values).is_some());
        let extra = [
            "a: |\n  x\n\n  y\n\nb: |-\n    z\n    \n",
            "- - a\n  - b\n- c: d\n  e: [f, 'g''h', \"i\"]\n- {j: {k: [l]}}\n",
            "k:\n- a\n- b\nm: n # c\n# d\no: 'p' # q\n",
            "a: 1\nb: 0x1F\nc: 1e3\nd: yes\ne: ~\nf: 2001-12-14\n1.5: x\ntrue: y\n07: z\n",
            "metadata:\n  annotations:\n    \"helm.sh/hook\": test\n    'a''b': 1\n    \"1\": x\n\"kind\": Pod\n'b':\n  - \"x\": 1\n    'y': 2\n  - \"z: w\"\n",
        ];
        let splices = [
            "\t",
            ": x",
            "- ",
            "\"",
            "'",
            "&a ",
            "*a ",
            "[",
            "{",
            "}",
            "]",
            ",",
            "<<: ",
            "!!int ",
            "\n  bad",
            " ",
            "  ",
            "\n",
            "#",
            " #",
            ":",
            "|",
            "|-\n",
            "\n- ",
            "x: |\n  y\n",
            "-",
            "?",
            "\r",
            "é",
            "...",
            "\n---\n",
            "''",
            "\\",
            "~",
            "null: ",
            "1: ",
            "1.5: ",
            "\"a\": ",
            "\"a\":",
            "'a':b",
            "\"a#b\": ",
            "\"a\" : ",
            "[a, b]",
            "{a: b}",
            " - x",
            ": |",
            ": |+\n",
            ": >\n",
            ".nan",
            "<<",
        ];
        for e in extra {
            assert!(fast_document(e).is_some(), "{e}");
        }
        let mut checked = 0;
        for d in docs.iter().map(String::as_str).chain([values]).chain(extra) {
            let mut cands = vec![d.to_string()];
            let step = (d.len() / 8).max(1);
            for cut in (0..=d.len()).step_by(step) {
                if !d.is_char_boundary(cut) {
                    continue;
                }
                cands.push(d[..cut].to_string());
                for x in splices {
                    cands.push(format!("{}{x}{}", &d[..cut], &d[cut..]));
                }
            }
            for c in cands {
                // Keeping some keys takes or refuses the text as reading all of it does, and
                // gives the same keys (or the same non-map value).
                let keys = ["kind", "metadata", "b"];
                let kept = parse_document_keeping(&c, &keys).map(|v| format!("{v:?}"));
                let all = parse_document(&c).map(|v| format!("{:?}", only_keys(v, &keys)));
                assert_eq!(kept, all, "{c}");
                if let Some(v) = fast_document(&c) {
                    checked += 1;
                    assert_eq!(
                        Ok(format!("{v:?}")),
                        full_document(&c).map(|f| format!("{f:?}")),
                        "{c}"
                    );
                }
            }
        }
        assert!(checked > 1000, "{checked}");
    }
}
