//! Go's `text/template` builtin functions (`funcs.go`): `and or not len index slice eq ne lt
//! le gt ge print printf println html js urlquery call`, plus the executor intrinsics Helm
//! adds (`include`, `tpl`). `and`, `or`, `call`, `include` and `tpl` are run by the executor
//! (short-circuit, template set access); they are registered here so parsing knows the names
//! and later registrations (Sprig's `slice`...) can replace any of them.

use super::{FuncCtx, FuncError, FuncMap, FuncResult, Sig, Ty};
use crate::exec;
use crate::fmt::{sprint, sprintf, sprintln};
use crate::value::Value;

const ANY1: Sig = Sig::fixed(&[Ty::Any]);
const ANY2: Sig = Sig::fixed(&[Ty::Any, Ty::Any]);
const ANY_VAR: Sig = Sig::variadic(&[Ty::Any], Ty::Any);
const PRINT: Sig = Sig::variadic(&[], Ty::Any);

pub(crate) fn register(map: &mut FuncMap) {
    map.add("and", ANY_VAR, exec::intrinsic_and);
    map.add("or", ANY_VAR, exec::intrinsic_or);
    map.add("call", ANY_VAR, exec::intrinsic_call);
    map.add(
        "include",
        Sig::fixed(&[Ty::String, Ty::Any]),
        exec::intrinsic_include,
    );
    map.add(
        "tpl",
        Sig::fixed(&[Ty::String, Ty::Any]),
        exec::intrinsic_tpl,
    );
    map.add("not", ANY1, not);
    map.add("len", ANY1, len);
    map.add("index", ANY_VAR, index);
    map.add("slice", ANY_VAR, slice);
    map.add("eq", ANY_VAR, eq);
    map.add("ne", ANY2, ne);
    map.add("lt", ANY2, lt);
    map.add("le", ANY2, le);
    map.add("gt", ANY2, gt);
    map.add("ge", ANY2, ge);
    map.add("print", PRINT, print);
    map.add("printf", Sig::variadic(&[Ty::String], Ty::Any), printf);
    map.add("println", PRINT, println);
    map.add("html", PRINT, html);
    map.add("js", PRINT, js);
    map.add("urlquery", PRINT, urlquery);
}

fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Nil)
}

/// Objects act as the Go value they stand for (a slice or map type) where Go would look
/// inside them.
fn unwrap_object(v: Value) -> Value {
    match v {
        Value::Object(o) => match o.to_value() {
            x @ (Value::List(_) | Value::Map(_)) => x,
            _ => Value::Object(o),
        },
        v => v,
    }
}

fn not(_: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    Ok(Value::Bool(!arg(args, 0).truthy()))
}

fn len(_: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    let n = match unwrap_object(arg(args, 0)) {
        // Helm passes map entries (`len .Values.missing`): a nil interface.
        Value::Nil => return Err(FuncError::msg("len of nil pointer")),
        Value::String(s) => crate::value::go_bytes(&s).len(),
        Value::Bytes(b) => b.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        Value::Object(o) if o.kind_name() == "slice" && matches!(o.to_value(), Value::Nil) => 0,
        v => return Err(FuncError::msg(format!("len of type {}", v.type_name()))),
    };
    Ok(Value::Int(n as i64))
}

/// Go's `indexArg`.
fn index_arg(index: &Value, size: usize) -> Result<usize, FuncError> {
    let x = match index {
        Value::Int(n) | Value::Int64(n) => *n,
        Value::Nil => return Err(FuncError::msg("cannot index slice/array with nil")),
        v => {
            return Err(FuncError::msg(format!(
                "cannot index slice/array with type {}",
                v.type_name()
            )));
        }
    };
    if x < 0 || x as u64 > size as u64 {
        return Err(FuncError::msg(format!("index out of range: {x}")));
    }
    Ok(x as usize)
}

fn index(_: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    let mut item = unwrap_object(arg(args, 0));
    if item.is_nil() {
        return Err(FuncError::msg("index of untyped nil"));
    }
    for ix in args.iter().skip(1) {
        item = match unwrap_object(item) {
            Value::Nil => return Err(FuncError::msg("index of nil pointer")),
            Value::List(l) => {
                let x = index_arg(ix, l.len())?;
                match l.get(x) {
                    Some(v) => v.clone(),
                    None => return Err(FuncError::msg("reflect: slice index out of range")),
                }
            }
            Value::Bytes(b) => {
                let x = index_arg(ix, b.len())?;
                match b.get(x) {
                    Some(v) => Value::Int(i64::from(*v)),
                    None => return Err(FuncError::msg("reflect: slice index out of range")),
                }
            }
            Value::String(s) => {
                let x = index_arg(ix, s.len())?;
                match s.as_bytes().get(x) {
                    Some(v) => Value::Int(i64::from(*v)),
                    None => return Err(FuncError::msg("reflect: string index out of range")),
                }
            }
            Value::Map(m) => match ix {
                Value::String(k) => m.get(k).unwrap_or(Value::Nil),
                Value::Nil => {
                    return Err(FuncError::msg("value is nil; should be of type string"));
                }
                v => {
                    return Err(FuncError::msg(format!(
                        "value has type {}; should be string",
                        v.type_name()
                    )));
                }
            },
            v => {
                return Err(FuncError::msg(format!(
                    "can't index item of type {}",
                    v.type_name()
                )));
            }
        };
    }
    Ok(item)
}

fn slice(_: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    let item = unwrap_object(arg(args, 0));
    if item.is_nil() {
        return Err(FuncError::msg("slice of untyped nil"));
    }
    let indexes = args.get(1..).unwrap_or(&[]);
    if indexes.len() > 3 {
        return Err(FuncError::msg(format!(
            "too many slice indexes: {}",
            indexes.len()
        )));
    }
    let len = match &item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err(FuncError::msg("cannot 3-index slice a string"));
            }
            s.len()
        }
        Value::List(l) => l.len(),
        Value::Bytes(b) => b.len(),
        v => {
            return Err(FuncError::msg(format!(
                "can't slice item of type {}",
                v.type_name()
            )));
        }
    };
    let mut idx = [0usize, len, len];
    for (i, ix) in indexes.iter().enumerate() {
        if let Some(slot) = idx.get_mut(i) {
            *slot = index_arg(ix, len)?;
        }
    }
    if idx[0] > idx[1] {
        return Err(FuncError::msg(format!(
            "invalid slice index: {} > {}",
            idx[0], idx[1]
        )));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(FuncError::msg(format!(
            "invalid slice index: {} > {}",
            idx[1], idx[2]
        )));
    }
    let (a, b) = (idx[0], idx[1]);
    Ok(match item {
        Value::String(s) => Value::str(String::from_utf8_lossy(
            s.as_bytes().get(a..b).unwrap_or(&[]),
        )),
        Value::List(l) => Value::list(l.get(a..b).unwrap_or(&[]).to_vec()),
        Value::Bytes(x) => Value::Bytes(x.get(a..b).unwrap_or(&[]).into()),
        v => v,
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    Str,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::Str,
        _ => Kind::Invalid,
    }
}

fn bad_comparison(a: &Value, b: &Value) -> FuncError {
    FuncError::msg(format!(
        "incompatible types for comparison: {} and {}",
        a.type_name(),
        b.type_name()
    ))
}

fn as_int(v: &Value) -> i64 {
    match v {
        Value::Int(n) | Value::Int64(n) => *n,
        _ => 0,
    }
}

fn as_float(v: &Value) -> f64 {
    match v {
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

/// Go 1.18+ `eq`: true when `a` equals any of `rest`.
fn eq_values(a: &Value, rest: &[Value]) -> Result<bool, FuncError> {
    if rest.is_empty() {
        return Err(FuncError::msg("missing argument for comparison"));
    }
    let k1 = basic_kind(a);
    for b in rest {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if !a.is_nil() && !b.is_nil() {
                return Err(bad_comparison(a, b));
            }
            false
        } else {
            match k1 {
                Kind::Bool => matches!((a, b), (Value::Bool(x), Value::Bool(y)) if x == y),
                Kind::Int => as_int(a) == as_int(b),
                Kind::Float => as_float(a) == as_float(b),
                Kind::Str => a.as_str() == b.as_str(),
                Kind::Invalid => {
                    let same_kind = std::mem::discriminant(a) == std::mem::discriminant(b);
                    if !same_kind && !a.is_nil() && !b.is_nil() {
                        return Err(FuncError::msg(format!(
                            "non-comparable types {}: {}, {}: {}",
                            sprintf("%s", std::slice::from_ref(a)),
                            a.type_name(),
                            b.type_name(),
                            sprintf("%v", std::slice::from_ref(b)),
                        )));
                    }
                    if a.is_nil() || b.is_nil() {
                        a.is_nil() == b.is_nil()
                    } else {
                        match (a, b) {
                            (Value::Object(x), Value::Object(y)) => std::sync::Arc::ptr_eq(x, y),
                            _ => {
                                return Err(FuncError::msg(format!(
                                    "non-comparable type {}: {}",
                                    sprintf("%s", std::slice::from_ref(b)),
                                    b.type_name()
                                )));
                            }
                        }
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt_values(a: &Value, b: &Value) -> Result<bool, FuncError> {
    let k1 = basic_kind(a);
    let k2 = basic_kind(b);
    if k1 == Kind::Invalid || k2 == Kind::Invalid {
        return Err(FuncError::msg("invalid type for comparison"));
    }
    if k1 != k2 {
        return Err(bad_comparison(a, b));
    }
    Ok(match k1 {
        Kind::Int => as_int(a) < as_int(b),
        Kind::Float => as_float(a) < as_float(b),
        Kind::Str => a.as_str() < b.as_str(),
        Kind::Bool | Kind::Invalid => return Err(FuncError::msg("invalid type for comparison")),
    })
}

fn eq(_: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    eq_values(&arg(args, 0), args.get(1..).unwrap_or(&[])).map(Value::Bool)
}

fn ne(_: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    eq_values(&arg(args, 0), &[arg(args, 1)]).map(|b| Value::Bool(!b))
}

fn lt(_: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    lt_values(&arg(args, 0), &arg(args, 1)).map(Value::Bool)
}

fn le_values(a: &Value, b: &Value) -> Result<bool, FuncError> {
    if lt_values(a, b)? {
        return Ok(true);
    }
    eq_values(a, std::slice::from_ref(b))
}

fn le(_: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    le_values(&arg(args, 0), &arg(args, 1)).map(Value::Bool)
}

fn gt(_: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    le_values(&arg(args, 0), &arg(args, 1)).map(|b| Value::Bool(!b))
}

fn ge(_: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    lt_values(&arg(args, 0), &arg(args, 1)).map(|b| Value::Bool(!b))
}

fn checked(ctx: &FuncCtx<'_>, what: &str, s: String) -> FuncResult {
    ctx.check_len(what, s.len())?;
    Ok(Value::str(s))
}

fn print(ctx: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    checked(ctx, "print", sprint(args))
}

fn printf(ctx: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    let format = args.first().and_then(Value::as_str).unwrap_or("");
    checked(ctx, "printf", sprintf(format, args.get(1..).unwrap_or(&[])))
}

fn println(ctx: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    checked(ctx, "println", sprintln(args))
}

/// Go's `evalArgs`: the one string argument, or `fmt.Sprint` of all (nil prints
/// `<no value>`).
fn eval_args(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    let printable: Vec<Value> = args
        .iter()
        .map(|a| {
            if a.is_nil() {
                Value::str("<no value>")
            } else {
                a.clone()
            }
        })
        .collect();
    sprint(&printable)
}

fn html(ctx: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    let s = eval_args(args);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    checked(ctx, "html", out)
}

fn js(ctx: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    let s = eval_args(args);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if c.is_ascii() || crate::fmt::is_print(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    checked(ctx, "js", out)
}

fn urlquery(ctx: &mut FuncCtx<'_>, args: &[Value]) -> FuncResult {
    let s = eval_args(args);
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    checked(ctx, "urlquery", out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::{Env, Limits, Offline};

    fn call(f: super::super::Func, args: &[Value]) -> Result<String, String> {
        let mut env = Env::fixed(0, 1);
        let limits = Limits::default();
        let mut host = Offline;
        let mut ctx = FuncCtx {
            env: &mut env,
            limits: &limits,
            host: &mut host,
        };
        f(&mut ctx, args)
            .map(|v| crate::fmt::format_v(&v))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn comparisons() {
        // Checked against helm v4.1.4.
        let f = Value::Float(3.0);
        let i = Value::Int(3);
        assert_eq!(
            call(eq, &[f.clone(), i.clone()]),
            Err("incompatible types for comparison: float64 and int".into())
        );
        assert_eq!(call(eq, &[i.clone(), Value::Int64(3)]), Ok("true".into()));
        assert_eq!(call(eq, &[Value::Nil, Value::str("x")]), Ok("false".into()));
        assert_eq!(call(eq, &[Value::Nil, Value::Nil]), Ok("true".into()));
        assert_eq!(
            call(eq, std::slice::from_ref(&i)),
            Err("missing argument for comparison".into())
        );
        assert_eq!(
            call(lt, &[Value::Bool(true), Value::Bool(false)]),
            Err("invalid type for comparison".into())
        );
        assert_eq!(
            call(lt, &[Value::Nil, i.clone()]),
            Err("invalid type for comparison".into())
        );
        let l = Value::list(vec![Value::Float(1.0)]);
        assert_eq!(
            call(eq, &[l.clone(), l.clone()]),
            Err("non-comparable type [%!s(float64=1)]: []interface {}".into())
        );
        assert_eq!(call(eq, &[Value::Nil, l]), Ok("false".into()));
        assert_eq!(
            call(ge, &[Value::str("b"), Value::str("a")]),
            Ok("true".into())
        );
        assert_eq!(
            call(gt, &[Value::Int(1), Value::Int(1)]),
            Ok("false".into())
        );
        assert_eq!(call(le, &[Value::Int(1), Value::Int(1)]), Ok("true".into()));
    }

    #[test]
    fn index_len_slice() {
        // Checked against helm v4.1.4.
        let l = Value::list(vec![Value::Int(1), Value::Int(2)]);
        assert_eq!(
            call(index, &[l.clone(), Value::Int(2)]),
            Err("reflect: slice index out of range".into())
        );
        assert_eq!(
            call(index, &[l.clone(), Value::Int(3)]),
            Err("index out of range: 3".into())
        );
        assert_eq!(
            call(index, &[Value::str("ab"), Value::Int(1)]),
            Ok("98".into())
        );
        assert_eq!(
            call(index, &[Value::Nil, Value::Int(1)]),
            Err("index of untyped nil".into())
        );
        assert_eq!(call(len, &[Value::Nil]), Err("len of nil pointer".into()));
        assert_eq!(call(len, &[Value::Int(1)]), Err("len of type int".into()));
        assert_eq!(call(len, &[Value::str("héllo")]), Ok("6".into()));
        assert_eq!(call(slice, &[l, Value::Int(1)]), Ok("[2]".into()));
        assert_eq!(
            call(slice, &[Value::str("abc"), Value::Int(1), Value::Int(2)]),
            Ok("b".into())
        );
    }

    #[test]
    fn escapers() {
        // Checked against Go's text/template.
        assert_eq!(
            call(html, &[Value::str("<a&\"'>")]),
            Ok("&lt;a&amp;&#34;&#39;&gt;".into())
        );
        assert_eq!(call(html, &[Value::Nil]), Ok("&lt;no value&gt;".into()));
        assert_eq!(
            call(js, &[Value::str("a\"<b\n=")]),
            Ok("a\\\"\\u003Cb\\u000A\\u003D".into())
        );
        assert_eq!(
            call(urlquery, &[Value::str("a b&c/é")]),
            Ok("a+b%26c%2F%C3%A9".into())
        );
    }
}
