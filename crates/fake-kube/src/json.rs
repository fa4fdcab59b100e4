//! JSON value helpers: paths and leaves, RFC 7386 merge patch, RFC 6902 JSON patch, the
//! server's member order.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::ssa::FieldPath;

/// Makes `v` an object when it is not one, and returns its map.
pub(crate) fn obj_mut(v: &mut Value) -> &mut Map<String, Value> {
    match v {
        Value::Object(m) => m,
        // Recurses once: `other` is an object now.
        other => {
            *other = Value::Object(Map::new());
            obj_mut(other)
        }
    }
}

pub(crate) fn meta_mut(v: &mut Value) -> &mut Map<String, Value> {
    let m = obj_mut(v);
    let meta = m
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    obj_mut(meta)
}

pub(crate) fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// Drops `null` members, as decoding into typed objects does.
pub(crate) fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, c| !c.is_null());
            for c in m.values_mut() {
                strip_nulls(c);
            }
        }
        Value::Array(a) => {
            for c in a {
                strip_nulls(c);
            }
        }
        _ => {}
    }
}

/// Every leaf below the root object: scalars, arrays (atomic) and empty objects.
pub(crate) fn leaves(v: &Value) -> BTreeMap<FieldPath, Value> {
    fn walk(v: &Value, path: &mut FieldPath, out: &mut BTreeMap<FieldPath, Value>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, c) in m {
                    path.push(k.clone());
                    walk(c, path, out);
                    path.pop();
                }
            }
            _ => {
                out.insert(path.clone(), v.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    if let Value::Object(m) = v {
        let mut path = Vec::new();
        for (k, c) in m {
            path.push(k.clone());
            walk(c, &mut path, &mut out);
            path.pop();
        }
    }
    out
}

pub(crate) fn get_path<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for k in path {
        cur = cur.as_object()?.get(k)?;
    }
    Some(cur)
}

pub(crate) fn set_path(v: &mut Value, path: &[String], val: Value) {
    match path.split_first() {
        None => *v = val,
        Some((first, rest)) => {
            let child = obj_mut(v).entry(first.clone()).or_insert(Value::Null);
            set_path(child, rest, val);
        }
    }
}

/// Removes the field at `path`, then the maps it leaves empty. True when something went.
pub(crate) fn remove_path(v: &mut Value, path: &[String]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let Value::Object(m) = v else {
        return false;
    };
    if rest.is_empty() {
        return m.shift_remove(first).is_some();
    }
    let Some(child) = m.get_mut(first) else {
        return false;
    };
    let removed = remove_path(child, rest);
    if removed && child.as_object().is_some_and(Map::is_empty) {
        m.shift_remove(first);
    }
    removed
}

/// One path is a prefix of the other.
pub(crate) fn overlaps(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// RFC 7386 JSON merge patch.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            let t = obj_mut(target);
            for (k, v) in p {
                if v.is_null() {
                    t.shift_remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

/// The deepest nesting (objects and arrays on one path) a JSON patch may build. Parsed bodies
/// stop at 128 levels (serde_json's limit); without this bound, `add`, `copy` and `move` could
/// nest an object deep enough to overflow the stack of the recursive walks, the serializer or
/// the drop.
pub(crate) const MAX_DEPTH: usize = 256;

/// How many bytes the `copy` operations of one JSON patch may add, as the real server limits
/// them (its request size limit): doubling copies must not exhaust memory.
pub(crate) const MAX_COPY_BYTES: usize = 3 << 20;

/// Objects and arrays on the deepest path of `v` (0 for a scalar), walked without recursion.
pub(crate) fn depth(v: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Object(m) => {
                deepest = deepest.max(d);
                stack.extend(m.values().map(|c| (c, d + 1)));
            }
            Value::Array(a) => {
                deepest = deepest.max(d);
                stack.extend(a.iter().map(|c| (c, d + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// RFC 6902 JSON patch. The result nests at most [`MAX_DEPTH`] levels and the copies add at
/// most [`MAX_COPY_BYTES`].
pub(crate) fn json_patch(doc: &mut Value, ops: &[Value]) -> Result<(), String> {
    fn tokens(ptr: &str) -> Result<Vec<String>, String> {
        if ptr.is_empty() {
            return Ok(Vec::new());
        }
        let Some(rest) = ptr.strip_prefix('/') else {
            return Err(format!("invalid JSON pointer {ptr:?}"));
        };
        Ok(rest
            .split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect())
    }
    fn walk<'a>(doc: &'a mut Value, toks: &[String]) -> Result<&'a mut Value, String> {
        let mut cur = doc;
        for t in toks {
            cur = match cur {
                Value::Object(m) => m
                    .get_mut(t.as_str())
                    .ok_or_else(|| format!("missing key {t:?}"))?,
                Value::Array(a) => {
                    let i: usize = t.parse().map_err(|_| format!("bad index {t:?}"))?;
                    a.get_mut(i)
                        .ok_or_else(|| format!("index {i} out of range"))?
                }
                _ => return Err(format!("cannot descend into a scalar at {t:?}")),
            };
        }
        Ok(cur)
    }
    fn add(doc: &mut Value, ptr: &str, val: Value) -> Result<(), String> {
        let toks = tokens(ptr)?;
        if toks.len() + depth(&val) > MAX_DEPTH {
            return Err(format!(
                "the value added at {ptr:?} would nest the object deeper than {MAX_DEPTH} levels"
            ));
        }
        let Some((last, parents)) = toks.split_last() else {
            *doc = val;
            return Ok(());
        };
        match walk(doc, parents)? {
            Value::Object(m) => {
                m.insert(last.clone(), val);
                Ok(())
            }
            Value::Array(a) => {
                if last == "-" {
                    a.push(val);
                    return Ok(());
                }
                let i: usize = last.parse().map_err(|_| format!("bad index {last:?}"))?;
                if i > a.len() {
                    return Err(format!("index {i} out of range"));
                }
                a.insert(i, val);
                Ok(())
            }
            _ => Err(format!("cannot add to a scalar at {ptr:?}")),
        }
    }
    fn remove(doc: &mut Value, ptr: &str) -> Result<Value, String> {
        let toks = tokens(ptr)?;
        let Some((last, parents)) = toks.split_last() else {
            return Err("cannot remove the root".to_string());
        };
        match walk(doc, parents)? {
            Value::Object(m) => m
                .shift_remove(last.as_str())
                .ok_or_else(|| format!("missing key {last:?} at {ptr:?}")),
            Value::Array(a) => {
                let i: usize = last.parse().map_err(|_| format!("bad index {last:?}"))?;
                if i >= a.len() {
                    return Err(format!("index {i} out of range"));
                }
                Ok(a.remove(i))
            }
            _ => Err(format!("cannot remove from a scalar at {ptr:?}")),
        }
    }
    let mut copied = 0usize;
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("an operation without \"op\"")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("an operation without \"path\"")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or(format!("{kind} without \"value\""))
        };
        let from = || {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or(format!("{kind} without \"from\""))
        };
        match kind {
            "add" => add(doc, path, value()?)?,
            "remove" => {
                remove(doc, path)?;
            }
            "replace" => {
                let v = value()?;
                if path.is_empty() {
                    if depth(&v) > MAX_DEPTH {
                        return Err(format!(
                            "the replacement would nest the object deeper than {MAX_DEPTH} levels"
                        ));
                    }
                    *doc = v;
                } else {
                    remove(doc, path)?;
                    add(doc, path, v)?;
                }
            }
            "move" => {
                let v = remove(doc, from()?)?;
                add(doc, path, v)?;
            }
            "copy" => {
                let v = walk(doc, &tokens(from()?)?)?.clone();
                copied = copied.saturating_add(v.to_string().len());
                if copied > MAX_COPY_BYTES {
                    return Err(format!(
                        "Unable to complete the copy, the accumulated size increase of {copied} \
                         is greater than the limit {MAX_COPY_BYTES}"
                    ));
                }
                add(doc, path, v)?;
            }
            "test" => {
                let want = value()?;
                if walk(doc, &tokens(path)?)? != &want {
                    return Err(format!("testing value {path} failed"));
                }
            }
            other => return Err(format!("unexpected kind of operation {other:?}")),
        }
    }
    Ok(())
}

/// What `generation` tracks: everything outside apiVersion, kind, metadata and status.
pub(crate) fn spec_content(obj: &Value) -> Value {
    let mut out = Map::new();
    if let Value::Object(m) = obj {
        for (k, v) in m {
            if !matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status") {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// The real server's member order: apiVersion, kind, metadata (bookkeeping first), the rest,
/// status last.
pub(crate) fn canonicalize(obj: Value) -> Value {
    const META_ORDER: &[&str] = &[
        "name",
        "generateName",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    ];
    let Value::Object(mut m) = obj else {
        return obj;
    };
    let mut out = Map::new();
    for k in ["apiVersion", "kind"] {
        if let Some(v) = m.shift_remove(k) {
            out.insert(k.into(), v);
        }
    }
    if let Some(meta) = m.shift_remove("metadata") {
        let meta = match meta {
            Value::Object(mut mm) => {
                let mut o = Map::new();
                for k in META_ORDER {
                    if let Some(v) = mm.shift_remove(*k) {
                        o.insert((*k).into(), v);
                    }
                }
                o.extend(mm);
                Value::Object(o)
            }
            other => other,
        };
        out.insert("metadata".into(), meta);
    }
    let status = m.shift_remove("status");
    out.extend(m);
    if let Some(s) = status {
        out.insert("status".into(), s);
    }
    Value::Object(out)
}

/// An object as a list item: the real server omits apiVersion and kind there.
pub(crate) fn list_item(obj: &Value) -> Value {
    let mut item = obj.clone();
    if let Value::Object(m) = &mut item {
        m.shift_remove("apiVersion");
        m.shift_remove("kind");
    }
    item
}

/// A short stable hash in the alphabet the real server uses for generated names.
pub(crate) fn short_hash(v: &Value, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in v.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..len)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize] as char;
            h /= ALPHABET.len() as u64;
            h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
            c
        })
        .collect()
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_json_patch_and_remove_path() {
        let mut doc = json!({"a": {"b": 1, "c": [1, 2]}});
        merge_patch(&mut doc, &json!({"a": {"b": null, "d": 2}}));
        assert_eq!(doc, json!({"a": {"c": [1, 2], "d": 2}}));
        json_patch(
            &mut doc,
            &[
                json!({"op": "add", "path": "/a/c/-", "value": 3}),
                json!({"op": "move", "from": "/a/d", "path": "/e"}),
            ],
        )
        .expect("patch");
        assert_eq!(doc, json!({"a": {"c": [1, 2, 3]}, "e": 2}));
        let mut v = json!({"spec": {"x": {"y": 1}}, "keep": 1});
        assert!(remove_path(
            &mut v,
            &["spec".into(), "x".into(), "y".into()]
        ));
        assert_eq!(v, json!({"keep": 1}));
    }
}
