//! JSON exactly as Go's `encoding/json` writes and reads it, for `toJson`, `toPrettyJson`,
//! `toRawJson`, `fromJson` and `fromJsonArray`.
//!
//! Writing ([`to_json`], [`to_json_indent`]): map keys in sorted (byte) order, floats in Go's
//! JSON form ('f' unless the exponent is < -6 or >= 21, then 'e' with `e-7`/`e+21`), `<`, `>`,
//! `&` as `\u003c`, `\u003e`, `\u0026` when HTML escaping is on (Sprig's `toRawJson` turns it
//! off), U+2028/U+2029 always escaped, control characters as `\n`, `\t`, `\b`, `\f`, `\r` or
//! `\u00XX`, `[]byte` as base64. NaN and infinities fail as Go fails
//! (`json: unsupported value: NaN`).
//!
//! Reading ([`parse`]): Go's scanner and error texts (`invalid character 'x' after object key`,
//! `unexpected end of JSON input`), every number a `float64`, duplicate keys: the last wins.

use crate::fmt::shortest_digits;
use crate::value::{MAX_VALUE_DEPTH, Map, Value, base64_std};

/// Largest JSON text one call writes (a map holding itself twice doubles per level).
pub const MAX_JSON_BYTES: usize = 64 * 1024 * 1024;

/// A JSON write or read that failed, worded as Go words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(pub String);

/// Go's `json.Marshal` (with `escape_html`) or Sprig's `toRawJson` (without).
pub fn to_json(v: &Value, escape_html: bool) -> Result<String, JsonError> {
    let mut w = Writer {
        out: String::new(),
        escape_html,
        indent: None,
    };
    w.value(v, 0)?;
    Ok(w.out)
}

/// Go's `json.MarshalIndent(v, "", indent)` (`toPrettyJson` uses two spaces).
pub fn to_json_indent(v: &Value, indent: &str, escape_html: bool) -> Result<String, JsonError> {
    let mut w = Writer {
        out: String::new(),
        escape_html,
        indent: Some(indent.to_string()),
    };
    w.value(v, 0)?;
    Ok(w.out)
}

struct Writer {
    out: String,
    escape_html: bool,
    indent: Option<String>,
}

impl Writer {
    fn newline(&mut self, depth: usize) {
        if let Some(ind) = &self.indent {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str(ind);
            }
        }
    }

    fn value(&mut self, v: &Value, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(JsonError(format!(
                "json: unsupported value: encountered a cycle via {}",
                v.type_name()
            )));
        }
        if self.out.len() > MAX_JSON_BYTES {
            return Err(JsonError(format!(
                "json: output over the {MAX_JSON_BYTES}-byte limit"
            )));
        }
        match v {
            Value::Nil => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) | Value::Int64(n) => self.out.push_str(&n.to_string()),
            Value::Float(f) => self.out.push_str(&float_json(*f)?),
            Value::String(s) => write_string(&mut self.out, s, self.escape_html),
            Value::Bytes(b) => write_string(&mut self.out, &base64_std(b), self.escape_html),
            Value::List(items) => {
                if items.is_empty() {
                    self.out.push_str("[]");
                    return Ok(());
                }
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    self.value(item, depth + 1)?;
                }
                self.newline(depth);
                self.out.push(']');
            }
            Value::Map(m) => {
                let entries = m.snapshot();
                if entries.is_empty() {
                    self.out.push_str("{}");
                    return Ok(());
                }
                self.out.push('{');
                for (i, (k, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    write_string(&mut self.out, k, self.escape_html);
                    self.out.push(':');
                    if self.indent.is_some() {
                        self.out.push(' ');
                    }
                    self.value(item, depth + 1)?;
                }
                self.newline(depth);
                self.out.push('}');
            }
            Value::Object(o) => self.value(&o.to_value(), depth + 1)?,
        }
        Ok(())
    }
}

/// A float as Go's `encoding/json` writes it.
pub fn float_json(f: f64) -> Result<String, JsonError> {
    if f.is_nan() {
        return Err(JsonError("json: unsupported value: NaN".into()));
    }
    if f.is_infinite() {
        let s = if f > 0.0 { "+Inf" } else { "-Inf" };
        return Err(JsonError(format!("json: unsupported value: {s}")));
    }
    if f == 0.0 {
        return Ok(if f.is_sign_negative() { "-0" } else { "0" }.into());
    }
    let abs = f.abs();
    let (neg, digits, exp) = shortest_digits(f);
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(1e-6..1e21).contains(&abs) {
        // 'e' form, then Go trims "e-07" to "e-7".
        out.push_str(digits.get(..1).unwrap_or("0"));
        if digits.len() > 1 {
            out.push('.');
            out.push_str(digits.get(1..).unwrap_or(""));
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 && exp >= 0 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    } else {
        out.push_str(&crate::fmt::fixed_digits(&digits, exp));
    }
    Ok(out)
}

/// A Go JSON string literal.
pub fn write_string(out: &mut String, s: &str, escape_html: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => {
                out.push_str("\\u00");
                let b = c as u32;
                out.push(char::from(HEX[((b >> 4) & 15) as usize]));
                out.push(char::from(HEX[(b & 15) as usize]));
            }
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                let b = c as u32;
                out.push(char::from(HEX[((b >> 4) & 15) as usize]));
                out.push(char::from(HEX[(b & 15) as usize]));
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `json.Unmarshal` into `interface{}`: numbers are `float64`.
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let (v, err) = parse_partial(text)?;
    match err {
        Some(e) => Err(JsonError(e)),
        None => Ok(v),
    }
}

/// Like [`parse`], but a number out of `float64` range does not stop decoding: Go decodes
/// the rest (that value becomes nil) and reports the first such error, as `fromJson` shows
/// (`{"Error": "json: cannot unmarshal number 1e400 ...", "a": null}`). Syntax errors fail
/// before anything is decoded, as Go checks the whole text first.
pub fn parse_partial(text: &str) -> Result<(Value, Option<String>), JsonError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        depth: 0,
        soft_error: None,
    };
    p.skip_ws();
    if p.i >= p.s.len() {
        return Err(JsonError("unexpected end of JSON input".into()));
    }
    let v = p.value()?;
    p.skip_ws();
    if let Some(&c) = p.s.get(p.i) {
        return Err(p.invalid(c, "after top-level value"));
    }
    Ok((v, p.soft_error))
}

/// The JSON type name Go's decoder reports in "cannot unmarshal X into ...".
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Int64(_) | Value::Float(_) => "number",
        Value::String(_) | Value::Bytes(_) => "string",
        Value::List(_) => "array",
        Value::Map(_) | Value::Object(_) => "object",
    }
}

/// Go's deepest JSON nesting (`encoding/json` refuses past 10000; we stop earlier, at a depth
/// no chart reaches, to keep the recursion shallow).
const MAX_PARSE_DEPTH: usize = 1000;

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    depth: usize,
    soft_error: Option<String>,
}

/// Go's `quoteChar`: how the scanner names a byte in its errors.
fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        c => {
            let q = format!("{c:?}");
            // Rust's Debug of a char is close to Go's strconv.Quote for the cases that
            // matter here ('\t', '\n', 'x'); fix the few that differ.
            let inner = q.get(1..q.len().saturating_sub(1)).unwrap_or("");
            let inner = match c {
                '\0' => "\\x00".to_string(),
                c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                    format!("\\x{:02x}", c as u32)
                }
                _ => inner.to_string(),
            };
            format!("'{inner}'")
        }
    }
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn char_at(&self, i: usize) -> char {
        self.text
            .get(i..)
            .and_then(|t| t.chars().next())
            .unwrap_or('\u{fffd}')
    }

    fn invalid(&self, _c: u8, context: &str) -> JsonError {
        JsonError(format!(
            "invalid character {} {context}",
            quote_char(self.char_at(self.i))
        ))
    }

    fn eof(&self) -> JsonError {
        JsonError("unexpected end of JSON input".into())
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn value(&mut self) -> Result<Value, JsonError> {
        let Some(c) = self.peek() else {
            return Err(self.eof());
        };
        match c {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => Ok(Value::str(self.string()?)),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Nil),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.invalid(c, "looking for beginning of value")),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, JsonError> {
        for (k, expected) in word.bytes().enumerate() {
            match self.peek() {
                None => return Err(self.eof()),
                Some(c) if c == expected => self.i += 1,
                Some(c) => {
                    let _ = k;
                    return Err(self.invalid(
                        c,
                        &format!(
                            "in literal {word} (expecting {})",
                            quote_char(char::from(expected))
                        ),
                    ));
                }
            }
        }
        Ok(v)
    }

    fn enter(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > MAX_PARSE_DEPTH {
            return Err(JsonError("exceeded max depth".into()));
        }
        Ok(())
    }

    fn object(&mut self) -> Result<Value, JsonError> {
        self.enter()?;
        self.i += 1;
        let mut map = Map::new();
        self.skip_ws();
        match self.peek() {
            None => return Err(self.eof()),
            Some(b'}') => {
                self.i += 1;
                self.depth -= 1;
                return Ok(Value::map(map));
            }
            _ => {}
        }
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(self.eof()),
                Some(b'"') => {}
                Some(c) => {
                    return Err(self.invalid(c, "looking for beginning of object key string"));
                }
            }
            let key = self.string()?;
            self.skip_ws();
            match self.peek() {
                None => return Err(self.eof()),
                Some(b':') => self.i += 1,
                Some(c) => return Err(self.invalid(c, "after object key")),
            }
            self.skip_ws();
            let v = self.value()?;
            map.insert(key, v);
            self.skip_ws();
            match self.peek() {
                None => return Err(self.eof()),
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                Some(c) => return Err(self.invalid(c, "after object key:value pair")),
            }
        }
        self.depth -= 1;
        Ok(Value::map(map))
    }

    fn array(&mut self) -> Result<Value, JsonError> {
        self.enter()?;
        self.i += 1;
        let mut items = Vec::new();
        self.skip_ws();
        match self.peek() {
            None => return Err(self.eof()),
            Some(b']') => {
                self.i += 1;
                self.depth -= 1;
                return Ok(Value::list(items));
            }
            _ => {}
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                None => return Err(self.eof()),
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    break;
                }
                Some(c) => return Err(self.invalid(c, "after array element")),
            }
        }
        self.depth -= 1;
        Ok(Value::list(items))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let Some(c) = self.peek() else {
                return Err(self.eof());
            };
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(self.invalid(c, "in \\u hexadecimal character escape")),
            };
            v = v * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(self.text.get(start..self.i).unwrap_or(""));
            let Some(c) = self.peek() else {
                return Err(self.eof());
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.i += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.eof());
                    };
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi)
                                && self.s.get(self.i) == Some(&b'\\')
                                && self.s.get(self.i + 1) == Some(&b'u')
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                    out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                                } else {
                                    out.push('\u{fffd}');
                                    self.i = save;
                                }
                            } else {
                                out.push(char::from_u32(hi).unwrap_or('\u{fffd}'));
                            }
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.invalid(e, "in string escape code"));
                        }
                    }
                }
                _ => return Err(self.invalid(c, "in string literal")),
            }
        }
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            None => return Err(self.eof()),
            Some(b'0') => {
                self.i += 1;
            }
            Some(b'1'..=b'9') => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            Some(c) => return Err(self.invalid(c, "in numeric literal")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            match self.peek() {
                None => return Err(self.eof()),
                Some(b'0'..=b'9') => {}
                Some(c) => return Err(self.invalid(c, "after decimal point in numeric literal")),
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            match self.peek() {
                None => return Err(self.eof()),
                Some(b'0'..=b'9') => {}
                Some(c) => return Err(self.invalid(c, "in exponent of numeric literal")),
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        let lit = self.text.get(start..self.i).unwrap_or("0");
        match lit.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => {
                if self.soft_error.is_none() {
                    self.soft_error = Some(format!(
                        "json: cannot unmarshal number {lit} into Go value of type float64"
                    ));
                }
                Ok(Value::Nil)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(v: &Value) -> String {
        to_json(v, true).unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn floats_as_go_json_writes_them() {
        // Checked against `toJson` in helm v4.1.4.
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (-0.0, "-0"),
            (1e20, "100000000000000000000"),
            (123456789.125, "123456789.125"),
            (3.0, "3"),
            (1.5, "1.5"),
            (1.2345678901234567e19, "12345678901234567000"),
            (1e23, "1e+23"),
            (-2.5e-10, "-2.5e-10"),
        ];
        for (f, want) in cases {
            assert_eq!(j(&Value::Float(*f)), *want, "{f}");
        }
        assert_eq!(
            j(&Value::Float(f64::NAN)),
            "ERR json: unsupported value: NaN"
        );
        assert_eq!(
            j(&Value::Float(f64::INFINITY)),
            "ERR json: unsupported value: +Inf"
        );
    }

    #[test]
    fn strings_escape_like_go() {
        // From helm v4.1.4: toJson / toRawJson of "<a&b>\u2028\u0007\b\f\t\x00é".
        let s = Value::str("<a&b>\u{2028}\u{7}\u{8}\u{c}\t\0é");
        assert_eq!(j(&s), r#""\u003ca\u0026b\u003e\u2028\u0007\b\f\t\u0000é""#);
        let raw = Value::str("<a&b>\u{2028}\u{7}");
        assert_eq!(
            to_json(&raw, false).ok().as_deref(),
            Some(r#""<a&b>\u2028\u0007""#)
        );
    }

    #[test]
    fn pretty_json() {
        // From helm v4.1.4: toPrettyJson (dict "a" (list) "b" (dict) "c" (list 1 (dict "x" 1))).
        let inner = Value::map(Map::from([("x".to_string(), Value::Int(1))]));
        let v = Value::map(Map::from([
            ("a".to_string(), Value::list(vec![])),
            ("b".to_string(), Value::map(Map::new())),
            ("c".to_string(), Value::list(vec![Value::Int(1), inner])),
        ]));
        assert_eq!(
            to_json_indent(&v, "  ", true).ok().as_deref(),
            Some(
                "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    {\n      \"x\": 1\n    }\n  ]\n}"
            )
        );
    }

    #[test]
    fn parse_errors_like_go() {
        // Each error text from helm v4.1.4's fromJson.
        let cases: &[(&str, &str)] = &[
            ("{\"a\":1", "unexpected end of JSON input"),
            ("{\"a\" 1}", "invalid character '1' after object key"),
            (
                "{\"a\":1,}",
                "invalid character '}' looking for beginning of object key string",
            ),
            (
                "{\"a\":tru}",
                "invalid character '}' in literal true (expecting 'e')",
            ),
            (
                "{\"a\":\"\\x\"}",
                "invalid character 'x' in string escape code",
            ),
            (
                "{\"a\":01}",
                "invalid character '1' after object key:value pair",
            ),
            (
                "{\"a\":1.}",
                "invalid character '}' after decimal point in numeric literal",
            ),
            (
                "{\"a\":1e}",
                "invalid character '}' in exponent of numeric literal",
            ),
            ("{\"a\":-}", "invalid character '}' in numeric literal"),
            ("{\"a\":1} x", "invalid character 'x' after top-level value"),
            ("", "unexpected end of JSON input"),
            ("  ", "unexpected end of JSON input"),
            (
                "{\"a\":\"\t\"}",
                "invalid character '\\t' in string literal",
            ),
            (
                "{a:1}",
                "invalid character 'a' looking for beginning of object key string",
            ),
            ("{\"a\":[1 2]}", "invalid character '2' after array element"),
            (
                "{\"a\":\"\\u00zz\"}",
                "invalid character 'z' in \\u hexadecimal character escape",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse(input).err().map(|e| e.0).as_deref(),
                Some(*want),
                "{input}"
            );
        }
    }

    #[test]
    fn parse_values() {
        let v = parse("{\"a\":1,\"a\":2,\"b\":[true,null,\"x\\u00e9\\ud83d\\ude00\"]}");
        let v = v.ok().map(|v| j(&v));
        assert_eq!(v.as_deref(), Some("{\"a\":2,\"b\":[true,null,\"xé😀\"]}"));
        let (v, err) = parse_partial("{\"a\":1e400}").unwrap_or((Value::Nil, None));
        assert_eq!(j(&v), "{\"a\":null}");
        assert_eq!(
            err.as_deref(),
            Some("json: cannot unmarshal number 1e400 into Go value of type float64")
        );
        let lone = parse("\"\\ud800\"").ok().map(|v| j(&v));
        assert_eq!(lone.as_deref(), Some("\"\u{fffd}\""));
    }
}
