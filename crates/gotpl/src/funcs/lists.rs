//! Template functions: Sprig's list family (`list.go`, and `until`/`untilStep`/`seq` from
//! `numeric.go`): `list`/`tuple`, `append`/`push`, `prepend`, `first`, `rest`, `last`,
//! `initial`, `reverse`, `uniq`, `without`, `has`, `compact`, `slice`, `concat`, `chunk`, with
//! their `must*` twins.
//!
//! Sprig's plain variants `panic` with the error its `must*` variant returns; Go's template
//! engine turns both into the same `error calling NAME: MSG`, so here both names share one
//! function. A nil list makes Sprig call `reflect.TypeOf(nil).Kind()`, a nil-pointer panic,
//! reported as Go's runtime error. Checked against helm v4.1.4.

use super::cast::to_int;
use super::defaults::go_empty;
use super::reflect::deep_equal;
use super::strings::arg_int;
use super::{FuncCtx, FuncError, FuncMap, FuncResult, Sig, Ty};
use crate::value::Value;

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::{Any, Int};
    let list = |_: &mut FuncCtx<'_>, a: &[Value]| Ok(Value::list(a.to_vec()));
    map.add("list", Sig::variadic(&[], Any), list);
    map.add("tuple", Sig::variadic(&[], Any), list);
    for name in ["append", "push", "mustAppend", "mustPush"] {
        map.add(name, Sig::fixed(&[Any, Any]), push);
    }
    for name in ["prepend", "mustPrepend"] {
        map.add(name, Sig::fixed(&[Any, Any]), prepend);
    }
    for name in ["first", "mustFirst"] {
        map.add(name, Sig::fixed(&[Any]), first);
    }
    for name in ["rest", "mustRest"] {
        map.add(name, Sig::fixed(&[Any]), rest);
    }
    for name in ["last", "mustLast"] {
        map.add(name, Sig::fixed(&[Any]), last);
    }
    for name in ["initial", "mustInitial"] {
        map.add(name, Sig::fixed(&[Any]), initial);
    }
    for name in ["reverse", "mustReverse"] {
        map.add(name, Sig::fixed(&[Any]), reverse);
    }
    for name in ["uniq", "mustUniq"] {
        map.add(name, Sig::fixed(&[Any]), uniq);
    }
    for name in ["without", "mustWithout"] {
        map.add(name, Sig::variadic(&[Any], Any), without);
    }
    for name in ["has", "mustHas"] {
        map.add(name, Sig::fixed(&[Any, Any]), has);
    }
    for name in ["compact", "mustCompact"] {
        map.add(name, Sig::fixed(&[Any]), compact);
    }
    for name in ["slice", "mustSlice"] {
        map.add(name, Sig::variadic(&[Any], Any), slice);
    }
    for name in ["chunk", "mustChunk"] {
        map.add(name, Sig::fixed(&[Int, Any]), chunk);
    }
    map.add("concat", Sig::variadic(&[], Any), concat);
    map.add("until", Sig::fixed(&[Int]), |c, a| {
        let count = arg_int(a, 0);
        int_list(c, until_step(c, 0, count, if count < 0 { -1 } else { 1 })?)
    });
    map.add("untilStep", Sig::fixed(&[Int, Int, Int]), |c, a| {
        let v = until_step(c, arg_int(a, 0), arg_int(a, 1), arg_int(a, 2))?;
        int_list(c, v)
    });
    map.add("seq", Sig::variadic(&[], Int), seq);
}

/// Go's runtime message for `reflect.TypeOf(nil).Kind()`.
pub(crate) const NIL_DEREF: &str =
    "runtime error: invalid memory address or nil pointer dereference";

/// The items of a Go slice value, or the error `what` makes of another kind (`{}` stands for
/// the kind).
pub(crate) fn items_of(v: &Value, what: &str) -> Result<Vec<Value>, FuncError> {
    match v {
        Value::List(items) => Ok(items.to_vec()),
        Value::Bytes(b) => Ok(b.iter().map(|x| Value::Int(i64::from(*x))).collect()),
        Value::Nil => Err(FuncError::msg(NIL_DEREF)),
        other => Err(FuncError::msg(what.replace("{}", other.kind_name()))),
    }
}

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&Value::Nil)
}

fn push(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let mut items = items_of(arg(a, 0), "Cannot push on type {}")?;
    c.check_len("append", items.len() + 1)?;
    items.push(arg(a, 1).clone());
    Ok(Value::list(items))
}

fn prepend(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let items = items_of(arg(a, 0), "Cannot prepend on type {}")?;
    c.check_len("prepend", items.len() + 1)?;
    let mut out = Vec::with_capacity(items.len() + 1);
    out.push(arg(a, 1).clone());
    out.extend(items);
    Ok(Value::list(out))
}

fn first(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let items = items_of(arg(a, 0), "Cannot find first on type {}")?;
    Ok(items.into_iter().next().unwrap_or(Value::Nil))
}

fn last(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let items = items_of(arg(a, 0), "Cannot find last on type {}")?;
    Ok(items.into_iter().last().unwrap_or(Value::Nil))
}

fn rest(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let items = items_of(arg(a, 0), "Cannot find rest on type {}")?;
    // Sprig returns a nil slice for an empty list (helm v4.1.4: `rest (list) | toJson` is
    // `null`, printed it is `[]`).
    if items.is_empty() {
        return Ok(crate::value::NilSlice::value());
    }
    Ok(Value::list(items.into_iter().skip(1).collect()))
}

fn initial(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let mut items = items_of(arg(a, 0), "Cannot find initial on type {}")?;
    if items.is_empty() {
        return Ok(crate::value::NilSlice::value());
    }
    items.pop();
    Ok(Value::list(items))
}

fn reverse(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let mut items = items_of(arg(a, 0), "Cannot find reverse on type {}")?;
    items.reverse();
    Ok(Value::list(items))
}

fn uniq(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let items = items_of(arg(a, 0), "Cannot find uniq on type {}")?;
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        if !out.iter().any(|x| deep_equal(x, &item)) {
            out.push(item);
        }
    }
    Ok(Value::list(out))
}

fn without(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let items = items_of(arg(a, 0), "Cannot find without on type {}")?;
    let omit = a.get(1..).unwrap_or(&[]);
    Ok(Value::list(
        items
            .into_iter()
            .filter(|x| !omit.iter().any(|o| deep_equal(o, x)))
            .collect(),
    ))
}

fn has(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let haystack = arg(a, 1);
    if haystack.is_nil() {
        return Ok(Value::Bool(false));
    }
    let items = items_of(haystack, "Cannot find has on type {}")?;
    let needle = arg(a, 0);
    Ok(Value::Bool(items.iter().any(|x| deep_equal(needle, x))))
}

fn compact(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let items = items_of(arg(a, 0), "Cannot compact on type {}")?;
    Ok(Value::list(
        items.into_iter().filter(|x| !go_empty(x)).collect(),
    ))
}

fn slice(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let list = arg(a, 0);
    let items = items_of(list, "list should be type of slice or array but {}")?;
    let len = items.len() as i64;
    if len == 0 {
        return Ok(Value::Nil);
    }
    let start = a.get(1).map(to_int).unwrap_or(0);
    let end = a.get(2).map(to_int).unwrap_or(len);
    if start < 0 || end < start || end > len {
        return Err(FuncError::msg(
            "reflect.Value.Slice: slice index out of bounds",
        ));
    }
    let (start, end) = (start as usize, end as usize);
    if let Value::Bytes(b) = list {
        return Ok(Value::Bytes(
            b.get(start..end).unwrap_or(&[]).to_vec().into(),
        ));
    }
    Ok(Value::list(items.get(start..end).unwrap_or(&[]).to_vec()))
}

fn concat(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let mut out = Vec::new();
    for list in a {
        out.extend(items_of(list, "Cannot concat type {} as list")?);
        c.check_len("concat", out.len())?;
    }
    Ok(Value::list(out))
}

fn chunk(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let size = arg_int(a, 0);
    let items = items_of(arg(a, 1), "Cannot chunk type {}")?;
    if size <= 0 {
        return Err(FuncError::msg("runtime error: makeslice: len out of range"));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    c.check_len("chunk", items.len())?;
    Ok(Value::list(
        items
            .chunks(size)
            .map(|ch| Value::list(ch.to_vec()))
            .collect(),
    ))
}

/// Sprig's `untilStep`: `start, start+step, ...` up to (excluding) `stop`; empty when the step
/// points away from `stop` or is zero.
fn until_step(c: &FuncCtx<'_>, start: i64, stop: i64, step: i64) -> Result<Vec<i64>, FuncError> {
    let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
    let count = if stop < start {
        if step >= 0 {
            return Ok(Vec::new());
        }
        (start - stop + (-step) - 1) / -step
    } else {
        if step <= 0 {
            return Ok(Vec::new());
        }
        (stop - start + step - 1) / step
    };
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    c.check_len("untilStep", count)?;
    let mut out = Vec::with_capacity(count);
    let mut i = start;
    for _ in 0..count {
        out.push(i64::try_from(i).unwrap_or_default());
        i += step;
    }
    Ok(out)
}

fn int_list(_: &FuncCtx<'_>, v: Vec<i64>) -> FuncResult {
    Ok(Value::list(v.into_iter().map(Value::Int).collect()))
}

fn seq(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let p: Vec<i64> = (0..a.len()).map(|i| arg_int(a, i)).collect();
    let nums = match p.as_slice() {
        [end] => {
            let inc = if *end < 1 { -1 } else { 1 };
            until_step(c, 1, end.saturating_add(inc), inc)?
        }
        [start, end] => {
            let inc = if end < start { -1 } else { 1 };
            until_step(c, *start, end.saturating_add(inc), inc)?
        }
        // Sprig reads three arguments as GNU seq does: FIRST INCREMENT LAST.
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if *step > 0 {
                    return Ok(Value::str(""));
                }
            }
            until_step(c, *start, end.saturating_add(inc), *step)?
        }
        _ => Vec::new(),
    };
    let out: Vec<String> = nums.iter().map(i64::to_string).collect();
    Ok(Value::str(out.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::super::cast::tests_support::{call, call_err, s};
    use super::*;
    use crate::fmt::format_v;

    fn l(items: Vec<Value>) -> Value {
        Value::list(items)
    }

    #[test]
    fn helm_observed_lists() {
        // Expectations read off helm v4.1.4.
        let i = Value::Int;
        let f = Value::Float;
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("list", vec![i(1), s("a")], "[1 a]"),
            ("append", vec![l(vec![i(1)]), i(2)], "[1 2]"),
            ("prepend", vec![l(vec![i(1)]), i(2)], "[2 1]"),
            ("first", vec![l(vec![])], "<nil>"),
            ("first", vec![l(vec![i(1), i(2)])], "1"),
            ("rest", vec![l(vec![i(1), i(2), i(3)])], "[2 3]"),
            ("rest", vec![l(vec![])], "[]"),
            ("initial", vec![l(vec![])], "[]"),
            ("last", vec![l(vec![i(1), i(2)])], "2"),
            ("initial", vec![l(vec![i(1), i(2), i(3)])], "[1 2]"),
            ("reverse", vec![l(vec![i(1), i(2), i(3)])], "[3 2 1]"),
            (
                "uniq",
                vec![l(vec![i(1), f(1.0), i(1), s("1"), f(1.0)])],
                "[1 1 1]",
            ),
            ("without", vec![l(vec![i(1), i(2), f(1.0)]), i(1)], "[2 1]"),
            ("has", vec![i(1), l(vec![f(1.0)])], "false"),
            ("has", vec![f(1.0), l(vec![f(1.0)])], "true"),
            ("has", vec![i(1), Value::Nil], "false"),
            (
                "compact",
                vec![l(vec![
                    i(0),
                    s(""),
                    Value::Nil,
                    s("a"),
                    Value::Bool(false),
                    l(vec![]),
                    f(1.5),
                ])],
                "[a 1.5]",
            ),
            ("slice", vec![l(vec![i(1), i(2), i(3)]), i(1)], "[2 3]"),
            ("slice", vec![l(vec![i(1), i(2), i(3)]), i(1), i(2)], "[2]"),
            ("slice", vec![l(vec![i(1), i(2), i(3)])], "[1 2 3]"),
            ("slice", vec![l(vec![])], "<nil>"),
            (
                "concat",
                vec![l(vec![i(1)]), l(vec![i(2), i(3)])],
                "[1 2 3]",
            ),
            ("concat", vec![], "[]"),
            (
                "chunk",
                vec![i(2), l(vec![i(1), i(2), i(3)])],
                "[[1 2] [3]]",
            ),
            ("chunk", vec![i(2), l(vec![])], "[]"),
            ("until", vec![i(3)], "[0 1 2]"),
            ("until", vec![i(-3)], "[0 -1 -2]"),
            ("until", vec![i(0)], "[]"),
            ("untilStep", vec![i(0), i(10), i(3)], "[0 3 6 9]"),
            ("untilStep", vec![i(10), i(0), i(-3)], "[10 7 4 1]"),
            ("untilStep", vec![i(10), i(0), i(3)], "[]"),
            ("untilStep", vec![i(0), i(10), i(0)], "[]"),
            ("seq", vec![i(3)], "1 2 3"),
            ("seq", vec![i(-2)], "1 0 -1 -2"),
            ("seq", vec![i(5), i(3)], "5 4 3"),
            ("seq", vec![i(1), i(2), i(10)], "1 3 5 7 9"),
            ("seq", vec![i(10), i(-3), i(1)], "10 7 4 1"),
            ("seq", vec![i(10), i(1), i(-3)], ""),
            ("seq", vec![i(10), i(1), i(3)], ""),
            ("seq", vec![i(1), i(10), i(3)], "1"),
            ("seq", vec![i(0)], "1 0"),
            ("seq", vec![i(3), i(1)], "3 2 1"),
            ("seq", vec![i(1), i(0), i(5)], ""),
            ("seq", vec![], ""),
        ];
        for (name, args, want) in cases {
            assert_eq!(format_v(&call(name, args.clone())), want, "{name} {args:?}");
        }
    }

    #[test]
    fn helm_observed_list_errors() {
        let i = Value::Int;
        let three = l(vec![i(1), i(2), i(3)]);
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("append", vec![s("x"), i(1)], "Cannot push on type string"),
            ("append", vec![Value::Nil, i(1)], NIL_DEREF),
            ("first", vec![s("x")], "Cannot find first on type string"),
            (
                "mustLast",
                vec![Value::map(Default::default())],
                "Cannot find last on type map",
            ),
            (
                "slice",
                vec![three.clone(), i(2), i(1)],
                "reflect.Value.Slice: slice index out of bounds",
            ),
            (
                "slice",
                vec![three.clone(), i(1), i(5)],
                "reflect.Value.Slice: slice index out of bounds",
            ),
            (
                "slice",
                vec![s("abc"), i(1)],
                "list should be type of slice or array but string",
            ),
            (
                "chunk",
                vec![i(0), l(vec![i(1), i(2)])],
                "runtime error: makeslice: len out of range",
            ),
            (
                "concat",
                vec![l(vec![i(1)]), s("x")],
                "Cannot concat type string as list",
            ),
            (
                "has",
                vec![i(1), Value::Float(1.0)],
                "Cannot find has on type float64",
            ),
        ];
        for (name, args, want) in cases {
            assert_eq!(call_err(name, args), want, "{name}");
        }
        assert!(call_err("until", vec![i(i64::MAX)]).contains("limit"));
        assert!(call_err("untilStep", vec![i(i64::MIN), i(i64::MAX), i(1)]).contains("limit"));
    }
}
