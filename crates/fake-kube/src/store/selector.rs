//! Label selectors (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`) and field
//! selectors: `metadata.name` / `metadata.namespace` everywhere, and the fields the real
//! server indexes per kind (Events by `involvedObject.*`, `reason`, `type`, `source`; Pods by
//! `status.phase`, `spec.nodeName`...; Secrets by `type`).

use serde_json::{Map, Value};

use crate::resources::ResourceDef;
use crate::validation::{ApiError, label_value_error, qualified_name_error};

/// The field labels `res` supports beyond `metadata.name` and `metadata.namespace`.
pub(crate) fn supported_fields(res: &ResourceDef) -> &'static [&'static str] {
    match (res.group, res.kind) {
        ("", "Event") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("", "Pod") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "Secret") => &["type"],
        ("", "Namespace") => &["status.phase"],
        ("apps", "ReplicaSet") => &["status.replicas"],
        ("batch", "Job") => &["status.successful"],
        _ => &[],
    }
}

/// The value a field selector compares for `field` of `obj` ("" when absent).
pub(crate) fn field_value(obj: &Value, field: &str) -> String {
    let path = match field {
        "source" => "source.component",
        "status.successful" => "status.succeeded",
        other => other,
    };
    let mut cur = Some(obj);
    for part in path.split('.') {
        cur = cur.and_then(|v| v.get(part));
    }
    match cur {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ if field == "spec.hostNetwork" => "false".into(),
        _ if field == "status.successful" || field == "status.replicas" => "0".into(),
        _ => String::new(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Requirement {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    pub(crate) fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        match self {
            Requirement::Eq(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEq(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        }
    }
}

pub(crate) fn parse_label_selector(s: &str) -> Result<Vec<Requirement>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                if depth == 0 {
                    return Err("found ')', expected: identifier".into());
                }
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if depth != 0 {
        return Err("found end of string, expected: ')'".into());
    }
    parts.push(cur);
    parts.iter().map(|p| parse_requirement(p.trim())).collect()
}

pub(crate) fn parse_requirement(p: &str) -> Result<Requirement, String> {
    let key = |k: &str| -> Result<String, String> {
        let k = k.trim();
        if k.is_empty() {
            return Err("found '', expected: identifier".into());
        }
        match qualified_name_error(k) {
            Some(why) => Err(format!("key: Invalid value: {}: {why}", Value::from(k))),
            None => Ok(k.to_string()),
        }
    };
    let value = |v: &str| -> Result<String, String> {
        let v = v.trim();
        match label_value_error(v) {
            Some(why) => Err(format!(
                "values[0][{v}]: Invalid value: {}: {why}",
                Value::from(v)
            )),
            None => Ok(v.to_string()),
        }
    };
    if p.is_empty() {
        return Err("found '', expected: identifier".into());
    }
    if let Some(k) = p.strip_prefix('!') {
        return Ok(Requirement::NotExists(key(k)?));
    }
    if let Some(open) = p.find('(') {
        let Some(inner) = p[open + 1..].strip_suffix(')') else {
            return Err(format!("found '{p}', expected: ')'"));
        };
        let mut head = p[..open].split_whitespace();
        let (Some(k), Some(op), None) = (head.next(), head.next(), head.next()) else {
            return Err(format!("unable to parse requirement {p:?}"));
        };
        let values: Vec<String> = inner.split(',').map(value).collect::<Result<_, _>>()?;
        if values.iter().all(String::is_empty) {
            return Err("for 'in', 'notin' operators, values set can't be empty".into());
        }
        return match op {
            "in" => Ok(Requirement::In(key(k)?, values)),
            "notin" => Ok(Requirement::NotIn(key(k)?, values)),
            other => Err(format!("found '{other}', expected: in, notin")),
        };
    }
    if let Some((k, v)) = p.split_once("!=") {
        return Ok(Requirement::NotEq(key(k)?, value(v)?));
    }
    if let Some((k, v)) = p.split_once("==") {
        return Ok(Requirement::Eq(key(k)?, value(v)?));
    }
    if let Some((k, v)) = p.split_once('=') {
        return Ok(Requirement::Eq(key(k)?, value(v)?));
    }
    if p.contains(['<', '>', ' ']) {
        return Err(format!("unable to parse requirement {p:?}"));
    }
    Ok(Requirement::Exists(key(p)?))
}

/// (field, equal?, value) for `metadata.name` and `metadata.namespace`.
pub(crate) fn parse_field_selector(
    res: &ResourceDef,
    s: &str,
) -> Result<Vec<(String, bool, String)>, ApiError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (f, eq, v) = if let Some((f, v)) = part.split_once("!=") {
            (f, false, v)
        } else if let Some((f, v)) = part.split_once("==") {
            (f, true, v)
        } else if let Some((f, v)) = part.split_once('=') {
            (f, true, v)
        } else {
            return Err(ApiError::bad_request(format!(
                "invalid field selector: invalid selector: '{s}'; can't understand '{part}'"
            )));
        };
        let f = f.trim();
        if f != "metadata.name" && f != "metadata.namespace" && !supported_fields(res).contains(&f)
        {
            return Err(ApiError::bad_request(format!(
                "field label not supported: {f}"
            )));
        }
        out.push((f.to_string(), eq, v.trim().to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors_parse_sets_negations_and_prefixed_keys() {
        assert_eq!(
            parse_label_selector("a in (x, y),!b,c!=d").expect("parse"),
            vec![
                Requirement::In("a".into(), vec!["x".into(), "y".into()]),
                Requirement::NotExists("b".into()),
                Requirement::NotEq("c".into(), "d".into()),
            ]
        );
        assert!(parse_label_selector("example.com/app=web").is_ok());
        assert!(parse_label_selector("a=(").is_err());
    }
}
