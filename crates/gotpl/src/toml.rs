//! TOML as Helm's `toToml` writes it (`github.com/BurntSushi/toml`'s encoder): plain keys of a
//! table first, then its sub-tables and arrays of tables, keys sorted, nested tables indented
//! two spaces per level, a blank line before top-level tables, floats as Go's `%g` with `.0`
//! added when there is no point or exponent, nil map values skipped.
//!
//! Reading (`fromToml`, [`parse_with`]) uses the `toml` crate (TOML 1.1, as BurntSushi's
//! decoder reads it) and converts as `toml.Unmarshal` into `map[string]interface{}` does:
//! integers are `int64`, floats `float64`, tables maps, arrays lists, date-times `time.Time`
//! (handed to the caller's converter as a [`TomlTime`]). Parse errors are reported as
//! `toml: line N: MESSAGE`: BurntSushi's line and prefix, the `toml` crate's message.

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

/// Where a TOML date-time sits in time, as BurntSushi's decoder builds its `time.Time`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TomlZone {
    /// `Z` or a zero offset: UTC.
    Utc,
    /// A non-zero offset in seconds east of UTC (Go's unnamed fixed zone).
    Offset(i32),
    /// No offset: BurntSushi's `datetime-local`, `date-local` or `time-local` location.
    Local(&'static str),
}

/// A TOML date-time as an instant: Unix seconds and nanoseconds, and its zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TomlTime {
    pub secs: i64,
    pub nanos: u32,
    pub zone: TomlZone,
}

/// Parses TOML as Helm's `fromToml` does; `datetime` makes the value for each date-time.
/// `Err` holds the error text Helm puts under the `Error` key.
pub fn parse_with(text: &str, datetime: &dyn Fn(&TomlTime) -> Value) -> Result<Value, String> {
    let table: ::toml::Table = text.parse().map_err(|e: ::toml::de::Error| {
        let line = e
            .span()
            .map(|sp| {
                text.get(..sp.start.min(text.len()))
                    .map_or(0, |t| t.matches('\n').count())
                    + 1
            })
            .unwrap_or(1);
        let msg = e.message().trim_end().replace('\n', " ");
        format!("toml: line {line}: {msg}")
    })?;
    convert_table(&table, datetime, 0)
}

fn convert_table(
    t: &::toml::Table,
    datetime: &dyn Fn(&TomlTime) -> Value,
    depth: usize,
) -> Result<Value, String> {
    if depth > MAX_VALUE_DEPTH {
        return Err("toml: nesting too deep".into());
    }
    let mut m = crate::value::Map::new();
    for (k, v) in t {
        m.insert(k.clone(), convert(v, datetime, depth + 1)?);
    }
    Ok(Value::map(m))
}

fn convert(
    v: &::toml::Value,
    datetime: &dyn Fn(&TomlTime) -> Value,
    depth: usize,
) -> Result<Value, String> {
    if depth > MAX_VALUE_DEPTH {
        return Err("toml: nesting too deep".into());
    }
    Ok(match v {
        ::toml::Value::String(s) => Value::str(s.as_str()),
        ::toml::Value::Integer(n) => Value::Int64(*n),
        ::toml::Value::Float(f) => Value::Float(*f),
        ::toml::Value::Boolean(b) => Value::Bool(*b),
        ::toml::Value::Datetime(d) => datetime(&toml_time(d)),
        ::toml::Value::Array(items) => Value::list(
            items
                .iter()
                .map(|x| convert(x, datetime, depth + 1))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        ::toml::Value::Table(t) => convert_table(t, datetime, depth + 1)?,
    })
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// BurntSushi's `time.Time` for a TOML date-time: a local time alone sits on year 0.
fn toml_time(d: &::toml::value::Datetime) -> TomlTime {
    let (y, mo, day) = d.date.map_or((0, 1, 1), |x| {
        (i64::from(x.year), i64::from(x.month), i64::from(x.day))
    });
    let (h, mi, sec, nanos) = d.time.map_or((0, 0, 0, 0), |t| {
        (
            i64::from(t.hour),
            i64::from(t.minute),
            i64::from(t.second.unwrap_or(0)),
            t.nanosecond.unwrap_or(0),
        )
    });
    let local = days_from_civil(y, mo, day) * 86_400 + h * 3600 + mi * 60 + sec;
    let zone = match (d.offset, d.date.is_some(), d.time.is_some()) {
        (Some(::toml::value::Offset::Z), _, _) => TomlZone::Utc,
        (Some(::toml::value::Offset::Custom { minutes }), _, _) => {
            if minutes == 0 {
                TomlZone::Utc
            } else {
                TomlZone::Offset(i32::from(minutes) * 60)
            }
        }
        (None, true, true) => TomlZone::Local("datetime-local"),
        (None, true, false) => TomlZone::Local("date-local"),
        (None, _, _) => TomlZone::Local("time-local"),
    };
    let offset = match zone {
        TomlZone::Offset(o) => i64::from(o),
        _ => 0,
    };
    TomlTime {
        secs: local - offset,
        nanos,
        zone,
    }
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

    #[test]
    fn reads_like_burntsushi() {
        // Values and types from helm v4.1.4's fromToml (`typeOf` of each value).
        let t = |_: &TomlTime| Value::str("time");
        let v = parse_with(
            "a = 1\nb = 1.5\nc = true\nd = [1, \"x\"]\ne = 0x10\n[t]\nx = \"y\"\n[[arr]]\nq = 1\n",
            &t,
        )
        .unwrap_or_default();
        let m = v.as_map().map(|m| m.snapshot()).unwrap_or_default();
        let ty = |k: &str| {
            m.get(k)
                .map(|x| x.type_name().to_string())
                .unwrap_or_default()
        };
        assert_eq!(ty("a"), "int64");
        assert_eq!(ty("b"), "float64");
        assert_eq!(ty("c"), "bool");
        assert_eq!(ty("d"), "[]interface {}");
        assert_eq!(ty("t"), "map[string]interface {}");
        assert_eq!(ty("arr"), "[]interface {}");
        assert!(matches!(m.get("e"), Some(Value::Int64(16))));
        assert_eq!(
            parse_with("", &t)
                .ok()
                .and_then(|v| v.as_map().map(|m| m.len())),
            Some(0)
        );
        // Errors carry BurntSushi's prefix and line.
        let e = parse_with("a = 1\na = 2", &t).err().unwrap_or_default();
        assert!(e.starts_with("toml: line 2: "), "{e}");
        let deep = format!("a = {}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_with(&deep, &t).is_err());
        let dotted = format!("{}a = 1", "a.".repeat(10_000));
        assert!(parse_with(&dotted, &t).is_err());
    }

    #[test]
    fn datetimes_like_burntsushi() {
        // From helm v4.1.4: `{{ $v }}` of each date-time fromToml returns.
        let cases: &[(&str, TomlTime)] = &[
            (
                "1979-05-27T07:32:00Z",
                TomlTime {
                    secs: 296_638_320,
                    nanos: 0,
                    zone: TomlZone::Utc,
                },
            ),
            (
                "1979-05-27T07:32:00+02:00",
                TomlTime {
                    secs: 296_638_320 - 7200,
                    nanos: 0,
                    zone: TomlZone::Offset(7200),
                },
            ),
            (
                "1979-05-27T07:32:00.5-07:30",
                TomlTime {
                    secs: 296_638_320 + 27_000,
                    nanos: 500_000_000,
                    zone: TomlZone::Offset(-27_000),
                },
            ),
            (
                "1979-05-27T00:00:00+00:00",
                TomlTime {
                    secs: 296_611_200,
                    nanos: 0,
                    zone: TomlZone::Utc,
                },
            ),
            (
                "1979-05-27",
                TomlTime {
                    secs: 296_611_200,
                    nanos: 0,
                    zone: TomlZone::Local("date-local"),
                },
            ),
            (
                "1979-05-27T07:32:00",
                TomlTime {
                    secs: 296_638_320,
                    nanos: 0,
                    zone: TomlZone::Local("datetime-local"),
                },
            ),
            (
                "07:32",
                TomlTime {
                    secs: -62_167_219_200 + 27_120,
                    nanos: 0,
                    zone: TomlZone::Local("time-local"),
                },
            ),
        ];
        for (input, want) in cases {
            let got = std::sync::Mutex::new(None);
            let _ = parse_with(&format!("a = {input}"), &|t: &TomlTime| {
                if let Ok(mut g) = got.lock() {
                    *g = Some(t.clone());
                }
                Value::Nil
            });
            assert_eq!(
                got.into_inner().ok().flatten().as_ref(),
                Some(want),
                "{input}"
            );
        }
    }
}
