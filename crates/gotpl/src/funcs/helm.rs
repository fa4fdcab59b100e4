//! Template functions Helm v4 adds or replaces (`pkg/engine/funcs.go` and the engine's
//! `required`/`lookup`): `toYaml`, `mustToYaml`, `toYamlPretty`, `fromYaml`, `fromYamlArray`,
//! `toJson`, `mustToJson`, `fromJson`, `fromJsonArray`, `toToml`, `fromToml`, `required`,
//! `fail`, `lookup`.
//!
//! Helm's conversions tolerate errors the way Helm does: `toYaml`/`toJson` of something Go
//! cannot marshal give "", `fromYaml`/`fromJson` put the error text under an `Error` key of the
//! returned map, `fromYamlArray`/`fromJsonArray` return a one-item list holding the error text,
//! `toToml` returns the error text. `required` and `fail` fail with [`FuncError::Fail`], which
//! Helm prints as `execution error at (FILE:LINE:COL): MSG`.

use super::dates::{GoTime, Loc};
use super::encoding::{JsonForm, json_text};
use super::{FuncCtx, FuncError, FuncMap, FuncResult, Sig, Ty};
use crate::value::{Map, Value};
use crate::{json, toml, yaml};

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::{Any, String as S};
    map.add("toYaml", Sig::fixed(&[Any]), |c, a| {
        Ok(Value::str(yaml_text(c, arg(a))?.unwrap_or_default()))
    });
    map.add("mustToYaml", Sig::fixed(&[Any]), |c, a| {
        yaml_text(c, arg(a))?
            .map(Value::str)
            .map_err(FuncError::msg)
    });
    map.add("toYamlPretty", Sig::fixed(&[Any]), |c, a| {
        let text = match yaml::to_yaml_pretty(arg(a)) {
            Ok(t) => t,
            Err(_) => return Ok(Value::str("")),
        };
        c.check_len("toYamlPretty", text.len())?;
        Ok(Value::str(text.strip_suffix('\n').unwrap_or(&text)))
    });
    map.add("fromYaml", Sig::fixed(&[S]), |_, a| {
        Ok(match yaml::parse_map(s(a)) {
            Ok(v) => v,
            Err(e) => error_map(e.0),
        })
    });
    map.add("fromYamlArray", Sig::fixed(&[S]), |_, a| {
        Ok(match yaml::parse_list(s(a)) {
            Ok(v) => v,
            Err(e) => Value::list(vec![Value::str(e.0)]),
        })
    });
    map.add("toJson", Sig::fixed(&[Any]), |c, a| {
        Ok(Value::str(
            json_text(c, arg(a), JsonForm::Plain)?.unwrap_or_default(),
        ))
    });
    map.add("mustToJson", Sig::fixed(&[Any]), |c, a| {
        json_text(c, arg(a), JsonForm::Plain)?
            .map(Value::str)
            .map_err(FuncError::msg)
    });
    map.add("fromJson", Sig::fixed(&[S]), from_json);
    map.add("fromJsonArray", Sig::fixed(&[S]), from_json_array);
    map.add("toToml", Sig::fixed(&[Any]), |c, a| {
        let text = match toml::to_toml(arg(a)) {
            Ok(t) => t,
            Err(e) => e,
        };
        c.check_len("toToml", text.len())?;
        Ok(Value::str(text))
    });
    map.add("fromToml", Sig::fixed(&[S]), |_, a| {
        Ok(match toml::parse_with(s(a), &toml_time) {
            Ok(v) => v,
            Err(e) => error_map(e),
        })
    });
    map.add("required", Sig::fixed(&[S, Any]), required);
    map.add("fail", Sig::fixed(&[S]), |c, a| {
        if c.env.lint_mode {
            return Ok(Value::str(""));
        }
        Err(FuncError::Fail(s(a).to_string()))
    });
    map.add("lookup", Sig::fixed(&[S, S, S, S]), lookup);
}

fn s(args: &[Value]) -> &str {
    args.first().and_then(Value::as_str).unwrap_or("")
}

fn arg(args: &[Value]) -> &Value {
    args.first().unwrap_or(&Value::Nil)
}

/// BurntSushi's `time.Time` for a TOML date-time: UTC, an unnamed fixed zone, or its
/// `datetime-local`/`date-local`/`time-local` location.
fn toml_time(t: &toml::TomlTime) -> Value {
    let loc = match &t.zone {
        toml::TomlZone::Utc => Loc::Utc,
        toml::TomlZone::Offset(o) => Loc::Fixed(String::new(), *o),
        toml::TomlZone::Local(name) => Loc::Fixed((*name).to_string(), 0),
    };
    GoTime::unix(t.secs, t.nanos, loc).into_value()
}

fn error_map(msg: String) -> Value {
    Value::map(Map::from([("Error".to_string(), Value::str(msg))]))
}

/// `sigs.k8s.io/yaml.Marshal` with Helm's trimmed final newline; `Err` holds Go's message.
fn yaml_text(c: &FuncCtx<'_>, v: &Value) -> Result<Result<String, String>, FuncError> {
    match yaml::to_yaml(v) {
        Ok(text) => {
            c.check_len("toYaml", text.len())?;
            Ok(Ok(text.strip_suffix('\n').unwrap_or(&text).to_string()))
        }
        Err(e) => {
            let prefix = if e.0.starts_with("json:") {
                "error marshaling into JSON: "
            } else {
                "error converting JSON to YAML: "
            };
            Ok(Err(format!("{prefix}{}", e.0)))
        }
    }
}

/// Helm's `fromJson`: `json.Unmarshal` into `map[string]interface{}`, the error under `Error`.
fn from_json(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let (v, err) = match json::parse_partial(s(a)) {
        Ok(r) => r,
        Err(e) => return Ok(error_map(e.0)),
    };
    let m = match v {
        Value::Map(m) => m,
        // `null` leaves Go's map nil: an empty map here.
        Value::Nil => crate::value::MapRef::new(Map::new()),
        other => {
            return Ok(error_map(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json::json_kind(&other)
            )));
        }
    };
    if let Some(e) = err {
        m.insert("Error", Value::str(e));
    }
    Ok(Value::Map(m))
}

/// Helm's `fromJsonArray`: `json.Unmarshal` into `[]interface{}`, an error as a one-item list.
fn from_json_array(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    match json::parse_partial(s(a)) {
        Ok((_, Some(e))) => Ok(Value::list(vec![Value::str(e)])),
        Ok((v @ Value::List(_), None)) => Ok(v),
        Ok((Value::Nil, None)) => Ok(Value::list(vec![])),
        Ok((other, None)) => Ok(Value::list(vec![Value::str(format!(
            "json: cannot unmarshal {} into Go value of type []interface {{}}",
            json::json_kind(&other)
        ))])),
        Err(e) => Ok(Value::list(vec![Value::str(e.0)])),
    }
}

/// Helm's `required`: fails on nil and on the empty string, returns the value otherwise.
fn required(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let val = a.get(1).cloned().unwrap_or(Value::Nil);
    match &val {
        Value::Nil => {}
        Value::String(x) if x.is_empty() => {}
        _ => return Ok(val),
    }
    // Helm's lint mode: a missing required value renders as "" (helm lint reports nothing).
    if c.env.lint_mode {
        return Ok(Value::str(""));
    }
    Err(FuncError::Fail(s(a).to_string()))
}

/// Helm's `lookup apiVersion kind namespace name`, answered by the host.
fn lookup(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let get = |i: usize| a.get(i).and_then(Value::as_str).unwrap_or("");
    c.host.lookup(get(0), get(1), get(2), get(3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::{Env, Limits, Offline};

    fn call(name: &str, args: &[Value]) -> Result<Value, FuncError> {
        let mut m = FuncMap::empty();
        register(&mut m);
        let def = m.get(name).copied();
        let mut env = Env::fixed(0, 1);
        let limits = Limits::default();
        let mut host = Offline;
        let mut ctx = FuncCtx {
            env: &mut env,
            limits: &limits,
            host: &mut host,
        };
        match def {
            Some(d) => (d.f)(&mut ctx, args),
            None => Err(FuncError::msg("no such function")),
        }
    }

    fn j(v: &Value) -> String {
        json::to_json(v, true).unwrap_or_default()
    }

    #[test]
    fn from_json_like_helm() {
        // From helm v4.1.4: toJson (fromJson X).
        let cases: &[(&str, &str)] = &[
            ("{\"a\":1", r#"{"Error":"unexpected end of JSON input"}"#),
            (
                "[1,2]",
                r#"{"Error":"json: cannot unmarshal array into Go value of type map[string]interface {}"}"#,
            ),
            (
                "{\"a\":1e400}",
                r#"{"Error":"json: cannot unmarshal number 1e400 into Go value of type float64","a":null}"#,
            ),
            ("{\"a\":1,\"a\":2}", r#"{"a":2}"#),
        ];
        for (input, want) in cases {
            let v = call("fromJson", &[Value::str(*input)]).unwrap_or_default();
            assert_eq!(j(&v), *want, "{input}");
        }
        let v = call("fromJsonArray", &[Value::str("{}")]).unwrap_or_default();
        assert_eq!(
            j(&v),
            r#"["json: cannot unmarshal object into Go value of type []interface {}"]"#
        );
        let v = call("fromJsonArray", &[Value::str("[1,2")]).unwrap_or_default();
        assert_eq!(j(&v), r#"["unexpected end of JSON input"]"#);
    }

    #[test]
    fn from_yaml_like_helm() {
        // From helm v4.1.4: toJson (fromYaml X), toJson (fromYamlArray X).
        let v = call("fromYaml", &[Value::str("a: 1\nb: [x, {c: d}]")]).unwrap_or_default();
        assert_eq!(j(&v), r#"{"a":1,"b":["x",{"c":"d"}]}"#);
        let v = call("fromYaml", &[Value::str("- a")]).unwrap_or_default();
        assert_eq!(
            j(&v),
            r#"{"Error":"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}"}"#
        );
        let v = call("fromYaml", &[Value::str("a: .inf")]).unwrap_or_default();
        assert_eq!(
            j(&v),
            r#"{"Error":"error converting YAML to JSON: json: unsupported value: +Inf"}"#
        );
        let v = call("fromYamlArray", &[Value::str("a: 1")]).unwrap_or_default();
        assert_eq!(
            j(&v),
            r#"["error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []interface {}"]"#
        );
    }

    #[test]
    fn required_and_fail() {
        assert_eq!(
            call("required", &[Value::str("need x"), Value::Nil]).err(),
            Some(FuncError::Fail("need x".into()))
        );
        assert_eq!(
            call("required", &[Value::str("need x"), Value::str("")]).err(),
            Some(FuncError::Fail("need x".into()))
        );
        assert!(matches!(
            call("required", &[Value::str("m"), Value::Float(0.0)]),
            Ok(Value::Float(_))
        ));
        assert_eq!(
            call("fail", &[Value::str("boom")]).err(),
            Some(FuncError::Fail("boom".into()))
        );
    }

    /// helm v4.1.4's lint mode: `helm lint` renders `{{ required "m" .missing }}` and
    /// `{{ fail "m" }}` as "" and reports no error.
    #[test]
    fn lint_mode_lets_required_and_fail_pass() {
        let mut m = FuncMap::empty();
        register(&mut m);
        let mut env = Env::fixed(0, 1);
        env.lint_mode = true;
        let limits = Limits::default();
        let mut host = Offline;
        let mut ctx = FuncCtx {
            env: &mut env,
            limits: &limits,
            host: &mut host,
        };
        for (name, args) in [
            ("required", vec![Value::str("m"), Value::Nil]),
            ("required", vec![Value::str("m"), Value::str("")]),
            ("fail", vec![Value::str("m")]),
        ] {
            let f = m.get(name).copied().map(|d| d.f);
            let got = f.map(|f| f(&mut ctx, &args));
            assert!(
                matches!(got, Some(Ok(Value::String(ref s))) if s.is_empty()),
                "{name}: {got:?}"
            );
        }
        let f = m.get("required").copied().map(|d| d.f);
        let got = f.map(|f| f(&mut ctx, &[Value::str("m"), Value::Int(3)]));
        assert!(matches!(got, Some(Ok(Value::Int(3)))));
    }

    #[test]
    fn to_yaml_trims_one_newline_and_swallows_errors() {
        let v = call("toYaml", &[Value::str("a\n\n")]).unwrap_or_default();
        assert_eq!(v.as_str(), Some("|+\n  a\n"));
        let v = call("toYaml", &[Value::Float(f64::NAN)]).unwrap_or_default();
        assert_eq!(v.as_str(), Some(""));
        assert_eq!(
            call("mustToYaml", &[Value::Float(f64::NAN)]).err(),
            Some(FuncError::msg(
                "error marshaling into JSON: json: unsupported value: NaN"
            ))
        );
        let v = call(
            "lookup",
            &[
                Value::str("v1"),
                Value::str("Pod"),
                Value::str(""),
                Value::str(""),
            ],
        )
        .unwrap_or_default();
        assert_eq!(j(&v), "{}");
    }

    #[test]
    fn from_toml_like_helm() {
        // From helm v4.1.4: toJson (fromToml X) and the printed date-times.
        let v = call(
            "fromToml",
            &[Value::str(
                "a = 1\nb = 1.5\nc = true\nd = [1, \"x\"]\n[t]\nx = \"y\"\n[[arr]]\nq = 1\n",
            )],
        )
        .unwrap_or_default();
        assert_eq!(
            j(&v),
            r#"{"a":1,"arr":[{"q":1}],"b":1.5,"c":true,"d":[1,"x"],"t":{"x":"y"}}"#
        );
        let v = call(
            "fromToml",
            &[Value::str("e = 1979-05-27T07:32:00Z\nf = 1979-05-27\ng = 07:32:00.5\nh = 1979-05-27T07:32:00+02:00")],
        )
        .unwrap_or_default();
        let m = v.as_map().map(|m| m.snapshot()).unwrap_or_default();
        let shown = |k: &str| m.get(k).map(crate::fmt::format_v).unwrap_or_default();
        assert_eq!(shown("e"), "1979-05-27 07:32:00 +0000 UTC");
        assert_eq!(shown("f"), "1979-05-27 00:00:00 +0000 date-local");
        assert_eq!(shown("g"), "0000-01-01 07:32:00.5 +0000 time-local");
        assert_eq!(shown("h"), "1979-05-27 07:32:00 +0200 +0200");
        assert_eq!(m.get("e").map(Value::type_name), Some("time.Time"));
        let v = call("fromToml", &[Value::str("a = ")]).unwrap_or_default();
        let err = v.as_map().and_then(|m| m.get("Error"));
        assert!(
            err.as_ref()
                .and_then(Value::as_str)
                .is_some_and(|e| e.starts_with("toml: line 1: "))
        );
        assert_eq!(v.as_map().map(|m| m.len()), Some(1));
    }
}
