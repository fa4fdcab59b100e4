//! Template functions: Sprig's `defaults.go` minus the JSON ones (which live with the encoding
//! family): `default`, `empty`, `coalesce`, `all`, `any`, `ternary`; and [`go_empty`], Sprig's
//! notion of an empty value that `compact` shares.

use super::{FuncMap, Sig, Ty};
use crate::value::Value;

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::{Any, Bool};
    map.add("default", Sig::variadic(&[Any], Any), |_, a| {
        let d = a.first().cloned().unwrap_or(Value::Nil);
        Ok(match a.get(1) {
            Some(given) if !go_empty(given) => given.clone(),
            _ => d,
        })
    });
    map.add("empty", Sig::fixed(&[Any]), |_, a| {
        Ok(Value::Bool(a.first().is_none_or(go_empty)))
    });
    map.add("coalesce", Sig::variadic(&[], Any), |_, a| {
        Ok(a.iter()
            .find(|v| !go_empty(v))
            .cloned()
            .unwrap_or(Value::Nil))
    });
    map.add("all", Sig::variadic(&[], Any), |_, a| {
        Ok(Value::Bool(a.iter().all(|v| !go_empty(v))))
    });
    map.add("any", Sig::variadic(&[], Any), |_, a| {
        Ok(Value::Bool(a.iter().any(|v| !go_empty(v))))
    });
    map.add("ternary", Sig::fixed(&[Any, Any, Bool]), |_, a| {
        let pick = if matches!(a.get(2), Some(Value::Bool(true))) {
            0
        } else {
            1
        };
        Ok(a.get(pick).cloned().unwrap_or(Value::Nil))
    });
}

/// Sprig's `empty`: nil, false, zero numbers, and empty strings, lists and maps are empty;
/// structs (host objects, `time.Time`) never are.
pub(crate) fn go_empty(v: &Value) -> bool {
    match v {
        Value::Object(_) => false,
        other => !other.truthy(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::cast::tests_support::{call, s};
    use crate::fmt::format_v;
    use crate::value::{Map, Value};

    #[test]
    fn helm_observed_defaults() {
        // Expectations read off helm v4.1.4.
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("default", vec![s("d")], "d"),
            ("default", vec![s("d"), Value::Nil], "d"),
            ("default", vec![s("d"), Value::Int(0)], "d"),
            ("default", vec![s("d"), Value::Float(0.0)], "d"),
            ("default", vec![s("d"), Value::Bool(false)], "d"),
            ("default", vec![s("d"), Value::list(vec![])], "d"),
            ("default", vec![s("d"), Value::map(Map::new())], "d"),
            ("default", vec![s("d"), s("x")], "x"),
            ("default", vec![s("d"), s("x"), s("y")], "x"),
            ("empty", vec![Value::Nil], "true"),
            ("empty", vec![s(" ")], "false"),
            ("empty", vec![Value::Int64(0)], "true"),
            (
                "coalesce",
                vec![Value::Nil, s(""), Value::Int(0), s("a"), s("b")],
                "a",
            ),
            ("coalesce", vec![Value::Nil, s("")], "<nil>"),
            ("all", vec![s("a"), Value::Int(1)], "true"),
            ("all", vec![s("a"), Value::Int(0)], "false"),
            ("all", vec![], "true"),
            ("any", vec![s(""), Value::Int(0)], "false"),
            ("any", vec![s(""), Value::Int(2)], "true"),
            ("any", vec![], "false"),
            ("ternary", vec![s("y"), s("n"), Value::Bool(true)], "y"),
            ("ternary", vec![s("y"), s("n"), Value::Bool(false)], "n"),
        ];
        for (name, args, want) in cases {
            assert_eq!(format_v(&call(name, args.clone())), want, "{name} {args:?}");
        }
    }
}
