//! Template functions: Sprig's dict family (`dict.go`, `dig`, `deepCopy`): `dict`, `get`,
//! `set`, `unset`, `hasKey`, `pluck`, `keys`, `pick`, `omit`, `values`, `dig`, `merge`,
//! `mergeOverwrite` (dario.cat/mergo's map semantics), `deepCopy`, and the `must*` twins.
//!
//! Maps are shared like Go maps: `set`, `unset`, `merge` and `mergeOverwrite` change their
//! first argument in place, visible through every reference, and return it. Go iterates maps in
//! random order, so `keys` and `values` have no defined order in Helm; here they follow the
//! sorted keys (charts that care sort with `sortAlpha` anyway).

use super::cast::strval;
use super::strings::arg_str;
use super::{FuncCtx, FuncError, FuncMap, FuncResult, Sig, Ty};
use crate::value::{MAX_VALUE_DEPTH, Map, MapRef, Value};

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::{Any, Map as M, String as S};
    map.add("dict", Sig::variadic(&[], Any), dict);
    map.add("get", Sig::fixed(&[M, S]), |_, a| {
        Ok(map_arg(a, 0)
            .and_then(|m| m.get(arg_str(a, 1)))
            .unwrap_or_else(|| Value::str("")))
    });
    map.add("set", Sig::fixed(&[M, S, Any]), |_, a| {
        let m = map_arg(a, 0).ok_or_else(|| FuncError::msg("assignment to entry in nil map"))?;
        m.insert(arg_str(a, 1), a.get(2).cloned().unwrap_or(Value::Nil));
        Ok(Value::Map(m.clone()))
    });
    map.add("unset", Sig::fixed(&[M, S]), |_, a| {
        let Some(m) = map_arg(a, 0) else {
            return Ok(Value::map(Map::new()));
        };
        m.remove(arg_str(a, 1));
        Ok(Value::Map(m.clone()))
    });
    map.add("hasKey", Sig::fixed(&[M, S]), |_, a| {
        Ok(Value::Bool(
            map_arg(a, 0).is_some_and(|m| m.contains_key(arg_str(a, 1))),
        ))
    });
    map.add("pluck", Sig::variadic(&[S], M), |_, a| {
        let key = arg_str(a, 0);
        let found = (1..a.len()).filter_map(|i| map_arg(a, i).and_then(|m| m.get(key)));
        Ok(Value::list(found.collect()))
    });
    map.add("keys", Sig::variadic(&[], M), |c, a| {
        let mut out = Vec::new();
        for i in 0..a.len() {
            if let Some(m) = map_arg(a, i) {
                out.extend(m.keys().into_iter().map(Value::from));
                c.check_len("keys", out.len())?;
            }
        }
        Ok(Value::list(out))
    });
    map.add("pick", Sig::variadic(&[M], S), |_, a| {
        let src = map_arg(a, 0).map(MapRef::snapshot).unwrap_or_default();
        let mut out = Map::new();
        for i in 1..a.len() {
            let k = arg_str(a, i);
            if let Some(v) = src.get(k) {
                out.insert(k.to_string(), v.clone());
            }
        }
        Ok(Value::map(out))
    });
    map.add("omit", Sig::variadic(&[M], S), |_, a| {
        let mut out = map_arg(a, 0).map(MapRef::snapshot).unwrap_or_default();
        for i in 1..a.len() {
            out.remove(arg_str(a, i));
        }
        Ok(Value::map(out))
    });
    map.add("values", Sig::fixed(&[M]), |_, a| {
        let src = map_arg(a, 0).map(MapRef::snapshot).unwrap_or_default();
        Ok(Value::list(src.into_values().collect()))
    });
    map.add("dig", Sig::variadic(&[], Any), dig);
    for name in ["merge", "mustMerge"] {
        map.add(name, Sig::variadic(&[M], M), |c, a| merge(c, a, false));
    }
    for name in ["mergeOverwrite", "mustMergeOverwrite"] {
        map.add(name, Sig::variadic(&[M], M), |c, a| merge(c, a, true));
    }
    for name in ["deepCopy", "mustDeepCopy"] {
        map.add(name, Sig::fixed(&[Any]), |c, a| {
            let v = a.first().unwrap_or(&Value::Nil);
            if v.is_nil() {
                return Err(FuncError::msg(
                    "reflect: call of reflect.Value.Type on zero Value",
                ));
            }
            let mut budget = c.limits.max_value_len;
            deep_copy(v, 0, &mut budget)
        });
    }
}

/// The map argument at `i`; `None` for a nil map (Go passes a nil map for `nil`).
fn map_arg(a: &[Value], i: usize) -> Option<&MapRef> {
    a.get(i).and_then(Value::as_map)
}

fn dict(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    c.check_len("dict", a.len() / 2)?;
    let mut out = Map::new();
    for pair in a.chunks(2) {
        let key = strval(pair.first().unwrap_or(&Value::Nil));
        out.insert(key, pair.get(1).cloned().unwrap_or_else(|| Value::str("")));
    }
    Ok(Value::map(out))
}

/// Go's message for a failed `x.(T)` on an `interface{}`.
fn conversion_error(v: &Value, want: &str) -> FuncError {
    let have = if v.is_nil() { "nil" } else { v.type_name() };
    FuncError::msg(format!(
        "interface conversion: interface {{}} is {have}, not {want}"
    ))
}

fn dig(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    if a.len() < 3 {
        return Err(FuncError::msg("dig needs at least three arguments"));
    }
    let (keys, rest) = a.split_at(a.len() - 2);
    let (default, dict) = (&rest[0], &rest[1]);
    let mut current = dict
        .as_map()
        .ok_or_else(|| conversion_error(dict, "map[string]interface {}"))?
        .clone();
    let mut names = Vec::with_capacity(keys.len());
    for k in keys {
        names.push(k.as_str().ok_or_else(|| conversion_error(k, "string"))?);
    }
    let last = names.len() - 1;
    for (i, k) in names.into_iter().enumerate() {
        let Some(step) = current.get(k) else {
            return Ok(default.clone());
        };
        if i == last {
            return Ok(step);
        }
        current = step
            .as_map()
            .ok_or_else(|| conversion_error(&step, "map[string]interface {}"))?
            .clone();
    }
    Ok(default.clone())
}

fn merge(_: &mut FuncCtx<'_>, a: &[Value], overwrite: bool) -> FuncResult {
    let dst = match map_arg(a, 0) {
        Some(m) => m.clone(),
        None => MapRef::new(Map::new()),
    };
    for i in 1..a.len() {
        if let Some(src) = map_arg(a, i) {
            merge_maps(&dst, src, overwrite, 0)?;
        }
    }
    Ok(Value::Map(dst))
}

/// mergo's `deepMerge` for `map[string]interface{}`: missing or empty destination entries take
/// the source's; nested maps merge recursively, in place; with `overwrite` every non-nil source
/// entry (and a nil one) replaces the destination's, except that two maps still merge.
fn merge_maps(dst: &MapRef, src: &MapRef, overwrite: bool, depth: usize) -> Result<(), FuncError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(FuncError::Limit(format!(
            "merge: maps nested deeper than {MAX_VALUE_DEPTH} levels"
        )));
    }
    for (key, sv) in src.snapshot() {
        if sv.is_nil() {
            if overwrite {
                dst.insert(key, Value::Nil);
            }
            continue;
        }
        let before = dst.get(&key);
        if let (Value::Map(sm), Some(Value::Map(dm))) = (&sv, &before) {
            merge_maps(dm, sm, overwrite, depth + 1)?;
        }
        // Read again: merging into a nested map may have filled it.
        let now = dst.get(&key);
        if let Some(dv) = &now
            && !mergo_empty(dv)
        {
            // mergo's slice branch already stored the source slice when overwriting.
            if matches!(sv, Value::List(_)) && !overwrite {
                continue;
            }
            if matches!((&sv, dv), (Value::Map(_), Value::Map(_))) {
                continue;
            }
        }
        let replace = overwrite || now.as_ref().is_none_or(mergo_empty);
        if replace {
            dst.insert(key, sv);
        }
    }
    Ok(())
}

/// mergo's `isEmptyValue`: zero numbers, false, nil, and empty strings, lists and maps.
fn mergo_empty(v: &Value) -> bool {
    match v {
        Value::Object(_) => false,
        other => !other.truthy(),
    }
}

/// copystructure's `Copy`: new maps and lists all the way down (objects stay shared).
fn deep_copy(v: &Value, depth: usize, budget: &mut usize) -> FuncResult {
    if depth > MAX_VALUE_DEPTH {
        return Err(FuncError::Limit(format!(
            "deepCopy: value nested deeper than {MAX_VALUE_DEPTH} levels"
        )));
    }
    *budget = budget
        .checked_sub(1)
        .ok_or_else(|| FuncError::Limit("deepCopy: value too large".into()))?;
    Ok(match v {
        Value::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for x in items.iter() {
                out.push(deep_copy(x, depth + 1, budget)?);
            }
            Value::list(out)
        }
        Value::Map(m) => {
            let mut out = Map::new();
            for (k, x) in m.snapshot() {
                let copied = deep_copy(&x, depth + 1, budget)?;
                out.insert(k, copied);
            }
            Value::map(out)
        }
        Value::Bytes(b) => Value::Bytes(b.to_vec().into()),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::cast::tests_support::{call, call_err, s};
    use crate::fmt::format_v;
    use crate::value::{Map, Value};

    fn d(pairs: &[(&str, Value)]) -> Value {
        Value::map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Map>(),
        )
    }

    fn show(name: &str, args: Vec<Value>) -> String {
        format_v(&call(name, args))
    }

    #[test]
    fn helm_observed_dicts() {
        // Expectations read off helm v4.1.4.
        let i = Value::Int;
        assert_eq!(show("dict", vec![s("a"), i(1), i(2)]), "map[2: a:1]");
        assert_eq!(show("dict", vec![Value::Nil, i(1)]), "map[<nil>:1]");
        assert_eq!(show("get", vec![d(&[("a", i(1))]), s("b")]), "");
        assert_eq!(show("get", vec![Value::Nil, s("b")]), "");
        assert_eq!(
            show("hasKey", vec![d(&[("a", Value::Nil)]), s("a")]),
            "true"
        );
        assert_eq!(
            show(
                "pluck",
                vec![
                    s("a"),
                    d(&[("a", i(1))]),
                    d(&[("b", i(2))]),
                    d(&[("a", i(3))])
                ]
            ),
            "[1 3]"
        );
        assert_eq!(
            show(
                "keys",
                vec![d(&[("b", i(1)), ("a", i(2))]), d(&[("c", i(1))])]
            ),
            "[a b c]"
        );
        assert_eq!(
            show("values", vec![d(&[("b", i(1)), ("a", i(2))])]),
            "[2 1]"
        );
        assert_eq!(
            show("pick", vec![d(&[("a", i(1)), ("b", i(2))]), s("a"), s("z")]),
            "map[a:1]"
        );
        assert_eq!(
            show("omit", vec![d(&[("a", i(1)), ("b", i(2))]), s("a")]),
            "map[b:2]"
        );
        let nested = d(&[("a", d(&[("b", d(&[("c", i(1))]))]))]);
        assert_eq!(
            show("dig", vec![s("a"), s("b"), s("c"), s("d"), nested.clone()]),
            "1"
        );
        assert_eq!(
            show("dig", vec![s("a"), s("x"), s("c"), s("d"), nested.clone()]),
            "d"
        );
        assert_eq!(
            show("dig", vec![s("a"), s("d"), d(&[("a", Value::Nil)])]),
            "<nil>"
        );
    }

    #[test]
    fn helm_observed_dict_errors() {
        assert_eq!(
            call_err("dig", vec![s("a"), s("b"), s("d"), d(&[("a", s("x"))])]),
            "interface conversion: interface {} is string, not map[string]interface {}"
        );
        assert_eq!(
            call_err("dig", vec![s("a"), s("d")]),
            "dig needs at least three arguments"
        );
        assert_eq!(
            call_err("set", vec![Value::Nil, s("a"), Value::Int(1)]),
            "assignment to entry in nil map"
        );
        assert_eq!(
            call_err("deepCopy", vec![Value::Nil]),
            "reflect: call of reflect.Value.Type on zero Value"
        );
    }

    #[test]
    fn set_and_unset_change_the_map_in_place() {
        let m = d(&[("a", Value::Int(1))]);
        let r = call("set", vec![m.clone(), s("b"), Value::Int(2)]);
        assert_eq!(format_v(&m), "map[a:1 b:2]");
        assert!(r.as_map().zip(m.as_map()).is_some_and(|(x, y)| x.same(y)));
        call("unset", vec![m.clone(), s("a")]);
        assert_eq!(format_v(&m), "map[b:2]");
    }

    #[test]
    fn merge_like_mergo() {
        // helm v4.1.4: merge keeps non-empty destination values, fills empty ones, merges
        // nested maps in place; mergeOverwrite replaces (even with empty values and nil).
        let i = Value::Int;
        let dst = d(&[
            ("a", i(1)),
            ("e", s("")),
            ("z", i(0)),
            ("n", d(&[("x", i(1))])),
            ("l", Value::list(vec![i(1)])),
            ("m", s("str")),
        ]);
        let inner = dst.as_map().and_then(|m| m.get("n")).unwrap_or_default();
        let src = d(&[
            ("a", i(2)),
            ("e", s("filled")),
            ("z", Value::Nil),
            ("n", d(&[("x", i(2)), ("y", i(3))])),
            ("l", Value::list(vec![i(2)])),
            ("m", d(&[("k", i(1))])),
            ("new", i(9)),
        ]);
        let out = call("merge", vec![dst.clone(), src.clone()]);
        assert_eq!(
            format_v(&out),
            "map[a:1 e:filled l:[1] m:str n:map[x:1 y:3] new:9 z:0]"
        );
        assert_eq!(format_v(&inner), "map[x:1 y:3]");
        let out = call("mergeOverwrite", vec![dst.clone(), src]);
        assert_eq!(
            format_v(&out),
            "map[a:2 e:filled l:[2] m:map[k:1] n:map[x:2 y:3] new:9 z:<nil>]"
        );
        // The same map twice: snapshots keep it from deadlocking.
        let same = call("merge", vec![dst.clone(), dst.clone()]);
        assert!(same.as_map().is_some());
        // A nil destination gives a new map.
        assert_eq!(
            format_v(&call("merge", vec![Value::Nil, d(&[("a", i(1))])])),
            "map[a:1]"
        );
    }

    #[test]
    fn deep_copy_is_independent() {
        let m = d(&[
            ("a", d(&[("b", Value::Int(1))])),
            ("l", Value::list(vec![Value::Int(1)])),
        ]);
        let c = call("deepCopy", vec![m.clone()]);
        if let Some(inner) = c
            .as_map()
            .and_then(|x| x.get("a"))
            .and_then(|x| x.as_map().cloned())
        {
            inner.insert("b", Value::Int(2));
        }
        assert_eq!(format_v(&m), "map[a:map[b:1] l:[1]]");
        assert_eq!(format_v(&c), "map[a:map[b:2] l:[1]]");
    }

    #[test]
    fn self_references_do_not_overflow() {
        let m = d(&[]);
        if let Value::Map(r) = &m {
            r.insert("self", m.clone());
        }
        assert!(call_err("deepCopy", vec![m.clone()]).contains("deeper"));
        let other = d(&[]);
        if let Value::Map(r) = &other {
            r.insert("self", other.clone());
        }
        assert!(call_err("merge", vec![m.clone(), other]).contains("deeper"));
    }
}
