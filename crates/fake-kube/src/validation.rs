//! Validation and `Status` error bodies: the real server's reasons, messages and causes;
//! object names, label keys and values, ConfigMap/Secret keys and size, immutable fields,
//! `resourceVersion`/`uid` preconditions.

use serde_json::{Map, Value, json};

use crate::json::{json_type, remove_path, str_at};
use crate::resources::{ResourceDef, namespaces_def};
use crate::verbs::Target;

/// A `Status` failure: the body every error answer carries.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) code: u16,
    pub(crate) reason: &'static str,
    pub(crate) message: String,
    pub(crate) details: Option<Value>,
}

/// One cause of an `Invalid` answer.
#[derive(Debug, Clone)]
pub(crate) struct FieldError {
    pub(crate) reason: &'static str,
    pub(crate) field: String,
    /// `Invalid value: "x": field is immutable`, `Required value: ...`.
    pub(crate) detail: String,
}

impl FieldError {
    pub(crate) fn invalid(field: impl Into<String>, value: &Value, why: &str) -> Self {
        FieldError {
            reason: "FieldValueInvalid",
            field: field.into(),
            detail: format!("Invalid value: {value}: {why}"),
        }
    }

    pub(crate) fn required(field: impl Into<String>, why: &str) -> Self {
        FieldError {
            reason: "FieldValueRequired",
            field: field.into(),
            detail: if why.is_empty() {
                "Required value".to_string()
            } else {
                format!("Required value: {why}")
            },
        }
    }

    pub(crate) fn forbidden(field: impl Into<String>, why: &str) -> Self {
        FieldError {
            reason: "FieldValueForbidden",
            field: field.into(),
            detail: format!("Forbidden: {why}"),
        }
    }

    pub(crate) fn unsupported(field: impl Into<String>, value: &Value, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
        FieldError {
            reason: "FieldValueNotSupported",
            field: field.into(),
            detail: format!(
                "Unsupported value: {value}: supported values: {}",
                list.join(", ")
            ),
        }
    }
}

pub(crate) fn resource_details(res: &ResourceDef, name: &str) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("name".into(), name.into());
    if !res.group.is_empty() {
        d.insert("group".into(), res.group.into());
    }
    d.insert("kind".into(), res.plural.into());
    d
}

impl ApiError {
    pub(crate) fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    pub(crate) fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub(crate) fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("kind".into(), "Status".into());
        m.insert("apiVersion".into(), "v1".into());
        m.insert("metadata".into(), json!({}));
        m.insert("status".into(), "Failure".into());
        m.insert("message".into(), self.message.clone().into());
        m.insert("reason".into(), self.reason.into());
        if let Some(d) = &self.details {
            m.insert("details".into(), d.clone());
        }
        m.insert("code".into(), self.code.into());
        Value::Object(m)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub(crate) fn not_found(res: &ResourceDef, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", res.group_resource()),
        )
        .with_details(Value::Object(resource_details(res, name)))
    }

    pub(crate) fn namespace_not_found(ns: &str) -> Self {
        Self::not_found(namespaces_def(), ns)
    }

    pub(crate) fn path_not_found() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    pub(crate) fn already_exists(res: &ResourceDef, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", res.group_resource()),
        )
        .with_details(Value::Object(resource_details(res, name)))
    }

    pub(crate) fn conflict(res: &ResourceDef, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                res.group_resource()
            ),
        )
        .with_details(Value::Object(resource_details(res, name)))
    }

    pub(crate) fn modified(res: &ResourceDef, name: &str) -> Self {
        Self::conflict(
            res,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// `Invalid` for an object of `res` named `name`.
    pub(crate) fn invalid(res: &ResourceDef, name: &str, errors: Vec<FieldError>) -> Self {
        Self::invalid_kind(res.group, &res.group_kind(), res.kind, name, errors)
    }

    /// `Invalid` for request options (`PatchOptions.meta.k8s.io`, `DeleteOptions.meta.k8s.io`).
    pub(crate) fn invalid_options(kind: &'static str, errors: Vec<FieldError>) -> Self {
        Self::invalid_kind(
            "meta.k8s.io",
            &format!("{kind}.meta.k8s.io"),
            kind,
            "",
            errors,
        )
    }

    pub(crate) fn invalid_kind(
        group: &str,
        group_kind: &str,
        kind: &str,
        name: &str,
        errors: Vec<FieldError>,
    ) -> Self {
        let list: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.detail))
            .collect();
        let what = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        let causes: Vec<Value> = errors
            .iter()
            .map(|e| json!({"reason": e.reason, "message": e.detail, "field": e.field}))
            .collect();
        let mut d = Map::new();
        d.insert("name".into(), name.into());
        if !group.is_empty() {
            d.insert("group".into(), group.into());
        }
        d.insert("kind".into(), kind.into());
        d.insert("causes".into(), causes.into());
        Self::new(
            422,
            "Invalid",
            format!("{group_kind} \"{name}\" is invalid: {what}"),
        )
        .with_details(Value::Object(d))
    }

    /// A 422 without field causes (a JSON patch that does not apply).
    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, "Invalid", message)
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .with_details(json!({}))
    }

    pub(crate) fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format ({content_type}) - accepted media types include: \
                 application/json-patch+json, application/merge-patch+json, \
                 application/apply-patch+yaml, application/strategic-merge-patch+json"
            ),
        )
    }

    /// A 500, worded as the real server wraps internal errors.
    pub(crate) fn internal(why: &str) -> Self {
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {why}"),
        )
        .with_details(json!({"causes": [{"message": why}]}))
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }
}

/// ConfigMaps and Secrets may hold at most this much data.
pub(crate) const MAX_DATA_BYTES: usize = 1 << 20;

pub(crate) const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
pub(crate) const LABEL_1123_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
pub(crate) const LABEL_1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
pub(crate) const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
pub(crate) const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
pub(crate) const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
pub(crate) fn is_1123_label_chars(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

pub(crate) fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_1123_label_chars)
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
pub(crate) fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Why `name` is not a valid object name for `res`.
pub(crate) fn name_error(res: &ResourceDef, name: &str) -> Option<String> {
    if res.group == "rbac.authorization.k8s.io" {
        return match name {
            "." => Some("may not be '.'".into()),
            ".." => Some("may not be '..'".into()),
            _ if name.contains('/') => Some("may not contain '/'".into()),
            _ if name.contains('%') => Some("may not contain '%'".into()),
            _ => None,
        };
    }
    match (res.group, res.kind) {
        ("", "Namespace") => {
            if name.len() > 63 {
                Some("must be no more than 63 characters".into())
            } else if !is_1123_label_chars(name) {
                Some(LABEL_1123_MSG.into())
            } else {
                None
            }
        }
        ("", "Service") => {
            if name.len() > 63 {
                Some("must be no more than 63 characters".into())
            } else if !is_1123_label_chars(name) || !name.as_bytes()[0].is_ascii_lowercase() {
                Some(LABEL_1035_MSG.into())
            } else {
                None
            }
        }
        _ => {
            if name.len() > 253 {
                Some("must be no more than 253 characters".into())
            } else if !is_dns1123_subdomain(name) {
                Some(SUBDOMAIN_MSG.into())
            } else {
                None
            }
        }
    }
}

/// Why `key` is not a valid label or annotation key (`[prefix/]name`).
pub(crate) fn qualified_name_error(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Some("prefix part must be non-empty".into());
        }
        if !is_dns1123_subdomain(p) {
            return Some(format!("prefix part {SUBDOMAIN_MSG}"));
        }
    }
    if name.is_empty() {
        return Some("name part must be non-empty".into());
    }
    if name.len() > 63 {
        return Some("name part must be no more than 63 characters".into());
    }
    if !is_name_part(name) {
        return Some(NAME_PART_MSG.into());
    }
    None
}

pub(crate) fn label_value_error(v: &str) -> Option<String> {
    if v.len() > 63 {
        Some("must be no more than 63 characters".into())
    } else if !v.is_empty() && !is_name_part(v) {
        Some(LABEL_VALUE_MSG.into())
    } else {
        None
    }
}

/// Decoding checks (400): apiVersion/kind present and served here, metadata well typed.
pub(crate) fn check_object(res: &ResourceDef, obj: &Value) -> Result<(), ApiError> {
    let Value::Object(m) = obj else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = m.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if kind.is_empty() {
        return Err(ApiError::bad_request(
            "Object 'Kind' is missing in the request body",
        ));
    }
    if api_version.is_empty() {
        return Err(ApiError::bad_request(
            "Object 'apiVersion' is missing in the request body",
        ));
    }
    if api_version != res.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            res.api_version()
        )));
    }
    if kind != res.kind {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            res.kind
        )));
    }
    let Some(meta) = m.get("metadata") else {
        return Ok(());
    };
    let Some(meta) = meta.as_object() else {
        return Err(ApiError::bad_request(format!(
            "json: cannot unmarshal {} into Go struct field {}.metadata of type v1.ObjectMeta",
            json_type(meta),
            res.kind
        )));
    };
    for f in [
        "name",
        "generateName",
        "namespace",
        "resourceVersion",
        "uid",
    ] {
        if let Some(v) = meta.get(f).filter(|v| !v.is_string()) {
            return Err(ApiError::bad_request(format!(
                "json: cannot unmarshal {} into Go struct field ObjectMeta.metadata.{f} of type string",
                json_type(v)
            )));
        }
    }
    for f in ["labels", "annotations"] {
        match meta.get(f) {
            None => {}
            Some(Value::Object(map)) => {
                if let Some(v) = map.values().find(|v| !v.is_string()) {
                    return Err(ApiError::bad_request(format!(
                        "json: cannot unmarshal {} into Go struct field ObjectMeta.metadata.{f} of type string",
                        json_type(v)
                    )));
                }
            }
            Some(v) => {
                return Err(ApiError::bad_request(format!(
                    "json: cannot unmarshal {} into Go struct field ObjectMeta.metadata.{f} of type map[string]string",
                    json_type(v)
                )));
            }
        }
    }
    Ok(())
}

/// The body names the object of the URL (400 otherwise).
pub(crate) fn check_identity(
    t: &Target,
    name: &str,
    obj: &Value,
    require_name: bool,
) -> Result<(), ApiError> {
    let body_name = str_at(obj, "/metadata/name").unwrap_or("");
    if (require_name || !body_name.is_empty()) && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if t.res.namespaced
        && let Some(ns) = str_at(obj, "/metadata/namespace").filter(|s| !s.is_empty())
        && Some(ns) != t.ns.as_deref()
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

/// `metadata.resourceVersion` and `metadata.uid` in a write body are preconditions.
pub(crate) fn check_preconditions(
    res: &ResourceDef,
    name: &str,
    live: &Value,
    incoming: &Value,
) -> Result<(), ApiError> {
    let live_rv = str_at(live, "/metadata/resourceVersion").unwrap_or("");
    if let Some(rv) = str_at(incoming, "/metadata/resourceVersion").filter(|s| !s.is_empty())
        && rv != live_rv
    {
        return Err(ApiError::modified(res, name));
    }
    let live_uid = str_at(live, "/metadata/uid").unwrap_or("");
    if let Some(uid) = str_at(incoming, "/metadata/uid").filter(|s| !s.is_empty())
        && uid != live_uid
    {
        return Err(ApiError::conflict(
            res,
            name,
            &format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {live_uid}"
            ),
        ));
    }
    Ok(())
}

pub(crate) fn immutable(
    field: &str,
    new: Option<&Value>,
    old: Option<&Value>,
    out: &mut Vec<FieldError>,
) {
    if new != old {
        out.push(FieldError::invalid(
            field,
            new.unwrap_or(&Value::Null),
            "field is immutable",
        ));
    }
}

/// Validation of a main-resource write (422 causes).
pub(crate) fn validate(
    res: &ResourceDef,
    name: &str,
    old: Option<&Value>,
    new: &Value,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if old.is_none()
        && let Some(why) = name_error(res, name)
    {
        errs.push(FieldError::invalid(
            "metadata.name",
            &Value::from(name),
            &why,
        ));
    }
    for f in ["labels", "annotations"] {
        let Some(map) = new
            .pointer(&format!("/metadata/{f}"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (k, v) in map {
            if let Some(why) = qualified_name_error(k) {
                errs.push(FieldError::invalid(
                    format!("metadata.{f}"),
                    &Value::from(k.as_str()),
                    &why,
                ));
            }
            if f == "labels"
                && let Some(why) = v.as_str().and_then(label_value_error)
            {
                errs.push(FieldError::invalid("metadata.labels", v, &why));
            }
        }
    }
    let spec = |v: &Value, p: &str| v.pointer(&format!("/spec{p}")).cloned();
    match (res.group, res.kind) {
        ("", "ConfigMap") | ("", "Secret") => {
            let is_secret = res.kind == "Secret";
            let mut size = 0usize;
            for field in ["data", "binaryData"] {
                let Some(map) = new.get(field).and_then(Value::as_object) else {
                    continue;
                };
                for (k, v) in map {
                    if k.len() > 253
                        || !k
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
                    {
                        errs.push(FieldError::invalid(
                            format!("{field}[{k}]"),
                            &Value::from(k.as_str()),
                            CONFIG_KEY_MSG,
                        ));
                    }
                    let text = v.as_str().unwrap_or("");
                    size += k.len()
                        + if is_secret || field == "binaryData" {
                            text.len() / 4 * 3
                        } else {
                            text.len()
                        };
                }
            }
            if size > MAX_DATA_BYTES {
                errs.push(FieldError {
                    reason: "FieldValueTooLong",
                    field: "data".into(),
                    detail: format!("Too long: must have at most {MAX_DATA_BYTES} bytes"),
                });
            }
            if let Some(old) = old
                && old.get("immutable") == Some(&Value::Bool(true))
            {
                for field in ["data", "binaryData"] {
                    if new.get(field) != old.get(field) {
                        errs.push(FieldError::forbidden(
                            field,
                            "field is immutable when `immutable` is set",
                        ));
                    }
                }
                if new.get("immutable") != Some(&Value::Bool(true)) {
                    errs.push(FieldError::forbidden(
                        "immutable",
                        "field is immutable when `immutable` is set",
                    ));
                }
            }
        }
        ("apps", "Deployment")
        | ("apps", "StatefulSet")
        | ("apps", "DaemonSet")
        | ("apps", "ReplicaSet") => {
            let selector = new.pointer("/spec/selector");
            let match_labels = selector
                .and_then(|s| s.get("matchLabels"))
                .and_then(Value::as_object);
            let has_expr = selector
                .and_then(|s| s.get("matchExpressions"))
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            if match_labels.is_none_or(Map::is_empty) && !has_expr {
                errs.push(FieldError::required("spec.selector", ""));
            } else if let Some(ml) = match_labels {
                let tl = new.pointer("/spec/template/metadata/labels");
                let ok = ml.iter().all(|(k, v)| tl.and_then(|t| t.get(k)) == Some(v));
                if !ok {
                    errs.push(FieldError::invalid(
                        "spec.template.metadata.labels",
                        tl.unwrap_or(&Value::Null),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
            if let Some(old) = old {
                if res.kind == "StatefulSet" {
                    let strip = |v: &Value| {
                        let mut s = v.get("spec").cloned().unwrap_or(json!({}));
                        if let Value::Object(m) = &mut s {
                            for k in [
                                "replicas",
                                "ordinals",
                                "template",
                                "updateStrategy",
                                "persistentVolumeClaimRetentionPolicy",
                                "minReadySeconds",
                            ] {
                                m.shift_remove(k);
                            }
                        }
                        s
                    };
                    if strip(new) != strip(old) {
                        errs.push(FieldError::forbidden(
                            "spec",
                            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                        ));
                    }
                } else {
                    immutable(
                        "spec.selector",
                        spec(new, "/selector").as_ref(),
                        spec(old, "/selector").as_ref(),
                        &mut errs,
                    );
                }
            }
        }
        ("batch", "Job") => {
            if let Some(old) = old {
                immutable(
                    "spec.selector",
                    spec(new, "/selector").as_ref(),
                    spec(old, "/selector").as_ref(),
                    &mut errs,
                );
                immutable(
                    "spec.template",
                    spec(new, "/template").as_ref(),
                    spec(old, "/template").as_ref(),
                    &mut errs,
                );
                immutable(
                    "spec.completions",
                    spec(new, "/completions").as_ref(),
                    spec(old, "/completions").as_ref(),
                    &mut errs,
                );
            }
        }
        ("", "Service") => {
            let ip = |v: &Value| {
                str_at(v, "/spec/clusterIP")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            if let Some(old) = old
                && let (Some(n), Some(o)) = (ip(new), ip(old))
                && n != o
            {
                errs.push(FieldError::invalid(
                    "spec.clusterIP",
                    &Value::from(n),
                    "field is immutable",
                ));
            }
        }
        ("", "PersistentVolumeClaim") => {
            if let Some(old) = old {
                let strip = |v: &Value| {
                    let mut s = v.get("spec").cloned().unwrap_or(json!({}));
                    remove_path(&mut s, &["resources".to_string(), "requests".to_string()]);
                    if let Value::Object(m) = &mut s {
                        m.shift_remove("volumeAttributesClassName");
                        m.shift_remove("volumeName");
                    }
                    s
                };
                if strip(new) != strip(old) {
                    errs.push(FieldError::forbidden(
                        "spec",
                        "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
                    ));
                }
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            errs.extend(crate::crds::validate(name, old, new));
        }
        _ => {}
    }
    errs
}
