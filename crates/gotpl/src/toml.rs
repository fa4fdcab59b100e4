//! TOML as Helm's `toToml` writes it (`github.com/BurntSushi/toml`'s encoder): plain keys of a
//! table first, then its sub-tables and arrays of tables, keys sorted, nested tables indented
//! two spaces per level, a blank line before top-level tables, floats as Go's `%g` with `.0`
//! added when there is no point or exponent, nil map values skipped.
//!
//! `fromToml` is not implemented yet: [`parse`] reports that as its error, which Helm's
//! `fromToml` puts under the `Error` key.

use crate::fmt::format_float_g;
use crate::value::{MAX_VALUE_DEPTH, Value, base64_std};

/// Largest TOML text one call writes.
const MAX_TOML_BYTES: usize = 64 * 1024 * 1024;

/// BurntSushi's encoding of `v`, or its error text (`toml: cannot encode array with nil
/// element`), which Helm's `toToml` returns as the result.
pub fn to_toml(v: &Value) -> Result<String, String> {
    let mut e = Enc {
        out: String::new(),
        written: false,
    };
    match v {
        Value::Map(_) | Value::Object(_) => e.table(&[], &materialize(v), 0)?,
        Value::Nil => {}
        other => {
            // A bare value at the top: BurntSushi writes the element alone.
            e.element(other, 0)?;
        }
    }
    Ok(e.out)
}

/// Reading TOML (`fromToml`) is not implemented.
pub fn parse(_text: &str) -> Result<Value, String> {
    Err("toml: fromToml is not supported by this renderer".into())
}

fn materialize(v: &Value) -> Value {
    match v {
        Value::Object(o) => o.to_value(),
        other => other.clone(),
    }
}

fn is_table(v: &Value) -> bool {
    match materialize(v) {
        Value::Map(_) => true,
        Value::List(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|x| matches!(materialize(x), Value::Map(_)))
        }
        _ => false,
    }
}

fn bare_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key_part(k: &str) -> String {
    if bare_key(k) {
        k.to_string()
    } else {
        quoted(k)
    }
}

fn key_path(path: &[String]) -> String {
    path.iter()
        .map(|k| key_part(k))
        .collect::<Vec<_>>()
        .join(".")
}

struct Enc {
    out: String,
    written: bool,
}

impl Enc {
    fn w(&mut self, s: &str) -> Result<(), String> {
        self.out.push_str(s);
        self.written = true;
        if self.out.len() > MAX_TOML_BYTES {
            return Err(format!("toml: output over the {MAX_TOML_BYTES}-byte limit"));
        }
        Ok(())
    }

    fn newline(&mut self) -> Result<(), String> {
        if self.written {
            self.w("\n")?;
        }
        Ok(())
    }

    fn indent(n: usize) -> String {
        "  ".repeat(n)
    }

    /// The entries of a map at `path` (direct values, then tables).
    fn table(&mut self, path: &[String], v: &Value, depth: usize) -> Result<(), String> {
        if depth > MAX_VALUE_DEPTH {
            return Err("toml: nesting too deep".into());
        }
        let Value::Map(m) = materialize(v) else {
            return Ok(());
        };
        let entries = m.snapshot();
        let (subs, direct): (Vec<_>, Vec<_>) = entries.iter().partition(|(_, x)| is_table(x));
        for (k, x) in direct {
            if x.is_nil() {
                continue;
            }
            let mut p = path.to_vec();
            p.push(k.clone());
            self.w(&format!("{}{} = ", Self::indent(path.len()), key_part(k)))?;
            self.element(x, depth + 1)?;
            self.newline()?;
        }
        for (k, x) in subs {
            let mut p = path.to_vec();
            p.push(k.clone());
            match materialize(x) {
                Value::Map(_) => {
                    if p.len() == 1 {
                        self.newline()?;
                    }
                    self.w(&format!("{}[{}]", Self::indent(p.len() - 1), key_path(&p)))?;
                    self.newline()?;
                    self.table(&p, x, depth + 1)?;
                }
                Value::List(items) => {
                    for item in items.iter() {
                        if item.is_nil() {
                            continue;
                        }
                        self.newline()?;
                        self.w(&format!(
                            "{}[[{}]]",
                            Self::indent(p.len() - 1),
                            key_path(&p)
                        ))?;
                        self.newline()?;
                        self.table(&p, item, depth + 1)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn element(&mut self, v: &Value, depth: usize) -> Result<(), String> {
        if depth > MAX_VALUE_DEPTH {
            return Err("toml: nesting too deep".into());
        }
        match v {
            Value::Nil => return Err("toml: cannot encode a nil value".into()),
            Value::Bool(b) => self.w(if *b { "true" } else { "false" })?,
            Value::Int(n) | Value::Int64(n) => self.w(&n.to_string())?,
            Value::Float(f) => {
                let s = if f.is_nan() {
                    if f.is_sign_negative() { "-nan" } else { "nan" }.to_string()
                } else if f.is_infinite() {
                    if *f < 0.0 { "-inf" } else { "inf" }.to_string()
                } else {
                    let s = format_float_g(*f);
                    if s.contains(['.', 'e', 'E']) {
                        s
                    } else {
                        format!("{s}.0")
                    }
                };
                self.w(&s)?;
            }
            Value::String(s) => self.w(&quoted(s))?,
            Value::Bytes(b) => self.w(&quoted(&base64_std(b)))?,
            Value::List(items) => {
                if items.iter().any(Value::is_nil) {
                    return Err("toml: cannot encode array with nil element".into());
                }
                self.w("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.w(", ")?;
                    }
                    self.element(item, depth + 1)?;
                }
                self.w("]")?;
            }
            Value::Map(m) => {
                let entries = m.snapshot();
                let (subs, direct): (Vec<_>, Vec<_>) =
                    entries.iter().partition(|(_, x)| is_table(x));
                let all: Vec<_> = direct
                    .into_iter()
                    .chain(subs)
                    .filter(|(_, x)| !x.is_nil())
                    .collect();
                self.w("{")?;
                for (i, (k, x)) in all.iter().enumerate() {
                    if i > 0 {
                        self.w(", ")?;
                    }
                    self.w(&format!("{} = ", key_part(k)))?;
                    self.element(x, depth + 1)?;
                }
                self.w("}")?;
            }
            Value::Object(o) => self.element(&o.to_value(), depth + 1)?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Map;

    fn m(entries: Vec<(&str, Value)>) -> Value {
        Value::map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Map>(),
        )
    }

    #[test]
    fn writes_like_burntsushi() {
        // Each from helm v4.1.4's toToml.
        assert_eq!(to_toml(&Value::str("abc")).ok().as_deref(), Some("\"abc\""));
        assert_eq!(
            to_toml(&Value::list(vec![Value::Int(1)])).ok().as_deref(),
            Some("[1]")
        );
        let d = m(vec![(
            "a",
            Value::list(vec![
                Value::list(vec![Value::Int(1), Value::Int(2)]),
                m(vec![("q", Value::Int(1))]),
            ]),
        )]);
        assert_eq!(to_toml(&d).ok().as_deref(), Some("a = [[1, 2], {q = 1}]\n"));
        let e = m(vec![(
            "a",
            m(vec![(
                "b",
                Value::list(vec![m(vec![("x", Value::Int(1))])]),
            )]),
        )]);
        assert_eq!(
            to_toml(&e).ok().as_deref(),
            Some("[a]\n\n  [[a.b]]\n    x = 1\n")
        );
        let f = m(vec![
            ("x", Value::Float(1.0)),
            ("y", Value::Float(1e21)),
            ("z", Value::Int64(5)),
            ("nan", Value::Float(f64::NAN)),
        ]);
        assert_eq!(
            to_toml(&f).ok().as_deref(),
            Some("nan = nan\nx = 1.0\ny = 1e+21\nz = 5\n")
        );
        let nil_in_list = m(vec![("j", Value::list(vec![Value::Int(1), Value::Nil]))]);
        assert_eq!(
            to_toml(&nil_in_list).err().as_deref(),
            Some("toml: cannot encode array with nil element")
        );
        let k = m(vec![
            ("", Value::str("c")),
            ("1", Value::str("a")),
            ("a b", Value::str("d")),
            ("x\ny", Value::str("e")),
        ]);
        let top = m(vec![
            ("k", k),
            (
                "s",
                Value::list(vec![Value::str("yes"), Value::str("x\ny")]),
            ),
            ("m", m(vec![("e", Value::list(vec![])), ("f", m(vec![]))])),
        ]);
        assert_eq!(
            to_toml(&top).ok().as_deref(),
            Some(
                "s = [\"yes\", \"x\\ny\"]\n\n[k]\n  \"\" = \"c\"\n  1 = \"a\"\n  \"a b\" = \"d\"\n  \"x\\ny\" = \"e\"\n\n[m]\n  e = []\n  [m.f]\n"
            )
        );
    }
}
