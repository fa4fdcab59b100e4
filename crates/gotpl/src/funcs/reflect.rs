//! Template functions: Sprig's `reflect.go` (`typeOf`, `typeIs`, `typeIsLike`, `kindOf`,
//! `kindIs`) and `deepEqual` (Go's `reflect.DeepEqual`, which `has`, `uniq` and `without` use
//! too, via [`deep_equal`]).
//!
//! Type names come from [`Value::type_name`]; results Go types more precisely (`[]string` from
//! `splitList`, `map[string]string` from `split`, `[]int` from `until`) print as
//! `[]interface {}`/`map[string]interface {}` here.

use super::strings::arg_str;
use super::{FuncMap, Sig, Ty};
use crate::value::{MAX_VALUE_DEPTH, Value};

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::{Any, String as S};
    map.add("typeOf", Sig::fixed(&[Any]), |_, a| {
        Ok(Value::str(a.first().unwrap_or(&Value::Nil).type_name()))
    });
    map.add("typeIs", Sig::fixed(&[S, Any]), |_, a| {
        let t = a.get(1).unwrap_or(&Value::Nil).type_name();
        Ok(Value::Bool(arg_str(a, 0) == t))
    });
    map.add("typeIsLike", Sig::fixed(&[S, Any]), |_, a| {
        let t = a.get(1).unwrap_or(&Value::Nil).type_name();
        let target = arg_str(a, 0);
        Ok(Value::Bool(
            target == t || t.strip_prefix('*').is_some_and(|x| x == target),
        ))
    });
    map.add("kindOf", Sig::fixed(&[Any]), |_, a| {
        Ok(Value::str(a.first().unwrap_or(&Value::Nil).kind_name()))
    });
    map.add("kindIs", Sig::fixed(&[S, Any]), |_, a| {
        let k = a.get(1).unwrap_or(&Value::Nil).kind_name();
        Ok(Value::Bool(arg_str(a, 0) == k))
    });
    map.add("deepEqual", Sig::fixed(&[Any, Any]), |_, a| {
        let nil = Value::Nil;
        Ok(Value::Bool(deep_equal(
            a.first().unwrap_or(&nil),
            a.get(1).unwrap_or(&nil),
        )))
    });
}

/// Go's `reflect.DeepEqual` on template values: same dynamic type and deeply equal contents
/// (`int 1` differs from `float64 1`; NaN differs from itself).
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    deep_equal_at(a, b, 0)
}

fn deep_equal_at(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > MAX_VALUE_DEPTH {
        // Go's DeepEqual detects cycles and calls them equal; only the same maps get here.
        return matches!((a, b), (Value::Map(x), Value::Map(y)) if x.same(y));
    }
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| deep_equal_at(p, q, depth + 1))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.same(y) {
                return true;
            }
            let (x, y) = (x.snapshot(), y.snapshot());
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal_at(v, w, depth + 1)))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.type_name() == y.type_name() && deep_equal_at(&x.to_value(), &y.to_value(), depth + 1)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::cast::tests_support::{call, s};
    use crate::fmt::format_v;
    use crate::value::{Map, Value};

    #[test]
    fn helm_observed_reflection() {
        // Expectations read off helm v4.1.4.
        let m = || Value::map(Map::new());
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("typeOf", vec![Value::Float(1.0)], "float64"),
            ("typeOf", vec![Value::Nil], "<nil>"),
            ("typeOf", vec![Value::list(vec![])], "[]interface {}"),
            ("typeOf", vec![m()], "map[string]interface {}"),
            ("typeIs", vec![s("int"), Value::Int(1)], "true"),
            ("typeIs", vec![s("int"), Value::Int64(1)], "false"),
            ("typeIsLike", vec![s("int64"), Value::Int64(1)], "true"),
            ("kindOf", vec![Value::Nil], "invalid"),
            ("kindOf", vec![Value::list(vec![])], "slice"),
            ("kindIs", vec![s("map"), m()], "true"),
            ("kindIs", vec![s("string"), s("x")], "true"),
            ("deepEqual", vec![Value::Int(1), Value::Float(1.0)], "false"),
            (
                "deepEqual",
                vec![
                    Value::list(vec![Value::Int(1)]),
                    Value::list(vec![Value::Int(1)]),
                ],
                "true",
            ),
            ("deepEqual", vec![m(), m()], "true"),
            (
                "deepEqual",
                vec![Value::Float(f64::NAN), Value::Float(f64::NAN)],
                "false",
            ),
            ("deepEqual", vec![Value::Nil, Value::Nil], "true"),
        ];
        for (name, args, want) in cases {
            assert_eq!(format_v(&call(name, args.clone())), want, "{name} {args:?}");
        }
    }

    #[test]
    fn deep_equal_survives_self_reference() {
        let d = Value::map(Map::new());
        if let Value::Map(m) = &d {
            m.insert("self", d.clone());
        }
        let e = Value::map(Map::new());
        if let Value::Map(m) = &e {
            m.insert("self", e.clone());
        }
        assert!(super::deep_equal(&d, &d));
        assert!(!super::deep_equal(&d, &e));
    }
}
