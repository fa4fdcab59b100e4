//! The REST verbs on one resource path: create, replace, patch (apply, merge, strategic as
//! merge, JSON patch), delete, deletecollection; and the decoding of their bodies, `dryRun`,
//! `fieldManager` and `DeleteOptions`.

use serde_json::{Value, json};

use crate::defaults::normalize_input;
use crate::http::MAX_BODY;
use crate::json::{
    canonicalize, json_patch, list_item, merge_patch, meta_mut, obj_mut, set_path, str_at,
    strip_nulls,
};
use crate::resources::ResourceDef;
use crate::ssa::{Sub, apply_conflict_error, managed_view, ssa_apply};
use crate::store::{Key, Query, Reply, Store, Stored, Write, key};
use crate::validation::{
    ApiError, FieldError, check_identity, check_object, check_preconditions, name_error,
    resource_details,
};

/// A resource path: the resource, its namespace, the object name and the subresource.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) res: &'static ResourceDef,
    pub(crate) ns: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) sub: Sub,
}

impl Target {
    pub(crate) fn ns(&self) -> Option<&str> {
        if self.res.namespaced {
            self.ns.as_deref()
        } else {
            None
        }
    }

    pub(crate) fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    pub(crate) fn key(&self) -> Key {
        key(self.res, self.ns(), self.name())
    }
}

pub(crate) fn media_type(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

pub(crate) fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// serde-saphyr with budgets on, as the main crate reads YAML: an alias bomb or deep nesting in
/// an apply body is a 400, not a hang.
fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 64;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_documents = 1;
    budget.max_nodes = 1_000_000;
    budget.max_total_scalar_bytes = MAX_BODY;
    budget.max_recorded_anchor_events = 100_000;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    opts.alias_limits.max_total_replayed_events = 100_000;
    opts.alias_limits.max_replay_stack_depth = 16;
    opts.with_snippet = false;
    opts
}

/// JSON first (JSON is YAML), then YAML.
pub(crate) fn parse_json_or_yaml(body: &[u8]) -> Result<Value, ApiError> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
    serde_saphyr::from_str_with_options::<Value>(text, yaml_options())
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
}

/// The body of a create or replace: a JSON (or YAML) object, nulls dropped.
pub(crate) fn decode_object(content_type: Option<&str>, body: &[u8]) -> Result<Value, ApiError> {
    let media = media_type(content_type);
    let mut v = match media.as_str() {
        "" | "application/json" | "*/*" => parse_json(body)?,
        "application/yaml" => parse_json_or_yaml(body)?,
        "application/vnd.kubernetes.protobuf" => crate::protobuf::decode(body)?,
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    strip_nulls(&mut v);
    Ok(v)
}

pub(crate) fn dry_run(q: &Query) -> Result<bool, ApiError> {
    match q.get("dryRun").map(String::as_str) {
        None => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid dryRun value: {other:?}: supported values: \"All\""
        ))),
    }
}

pub(crate) fn field_manager(q: &Query) -> String {
    q.get("fieldManager")
        .filter(|m| !m.is_empty())
        .cloned()
        .unwrap_or_else(|| "unknown".to_string())
}

pub(crate) struct DeleteOpts {
    pub(crate) dry_run: bool,
    pub(crate) policy: String,
    pub(crate) resource_version: Option<String>,
    pub(crate) uid: Option<String>,
}

pub(crate) fn delete_options(q: &Query, body: &[u8]) -> Result<DeleteOpts, ApiError> {
    let opts = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else if crate::protobuf::is_protobuf(body) {
        // client-go's typed clients send DeleteOptions as protobuf (helm uninstall does).
        crate::protobuf::decode(body)?
    } else {
        parse_json(body)?
    };
    if !opts.is_object() {
        return Err(ApiError::bad_request("DeleteOptions must be a JSON object"));
    }
    let mut dry = dry_run(q)?;
    if let Some(d) = opts.get("dryRun") {
        let Some(values) = d.as_array() else {
            return Err(ApiError::bad_request("DeleteOptions.dryRun must be a list"));
        };
        for v in values {
            match v.as_str() {
                Some("All") => dry = true,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid dryRun value: {v}: supported values: \"All\""
                    )));
                }
            }
        }
    }
    let orphan = opts.get("orphanDependents") == Some(&Value::Bool(true))
        || q.get("orphanDependents").is_some_and(|v| v == "true");
    let policy = opts
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| q.get("propagationPolicy").cloned())
        .or_else(|| orphan.then(|| "Orphan".to_string()))
        .unwrap_or_else(|| "Background".to_string());
    const POLICIES: &[&str] = &["Foreground", "Background", "Orphan"];
    if !POLICIES.contains(&policy.as_str()) {
        return Err(ApiError::invalid_options(
            "DeleteOptions",
            vec![FieldError::unsupported(
                "propagationPolicy",
                &Value::from(policy),
                POLICIES,
            )],
        ));
    }
    let text = |p: &str| opts.pointer(p).and_then(Value::as_str).map(str::to_string);
    Ok(DeleteOpts {
        dry_run: dry,
        policy,
        resource_version: text("/preconditions/resourceVersion"),
        uid: text("/preconditions/uid"),
    })
}

impl Store {
    /// Sets the namespace of a body for the target path (400 on a mismatch); cluster-scoped
    /// objects lose any namespace.
    pub(crate) fn namespace_for_write(
        t: &Target,
        obj: &mut Value,
    ) -> Result<Option<String>, ApiError> {
        if !t.res.namespaced {
            meta_mut(obj).shift_remove("namespace");
            return Ok(None);
        }
        let Some(ns) = t.ns.clone() else {
            return Err(ApiError::method_not_allowed());
        };
        if let Some(b) = str_at(obj, "/metadata/namespace").filter(|s| !s.is_empty())
            && b != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        meta_mut(obj).insert("namespace".into(), ns.clone().into());
        Ok(Some(ns))
    }

    // --- writes ---------------------------------------------------------------------------

    pub(crate) fn create(
        &mut self,
        t: &Target,
        q: &Query,
        ct: Option<&str>,
        body: &[u8],
        now: &str,
    ) -> Reply {
        let dry_run = dry_run(q)?;
        let mut obj = decode_object(ct, body)?;
        check_object(t.res, &obj)?;
        let ns = Self::namespace_for_write(t, &mut obj)?;
        if let Some(ns) = &ns
            && !self.namespace_exists(ns)
        {
            return Err(ApiError::namespace_not_found(ns));
        }
        let name = match str_at(&obj, "/metadata/name").filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => match str_at(&obj, "/metadata/generateName").filter(|g| !g.is_empty()) {
                Some(g) => {
                    let g = g.to_string();
                    format!("{g}{}", self.random_suffix())
                }
                None => {
                    return Err(ApiError::invalid(
                        t.res,
                        "",
                        vec![FieldError::required(
                            "metadata.name",
                            "name or generateName is required",
                        )],
                    ));
                }
            },
        };
        meta_mut(&mut obj).insert("name".into(), name.clone().into());
        if let Some(why) = name_error(t.res, &name) {
            return Err(ApiError::invalid(
                t.res,
                &name,
                vec![FieldError::invalid(
                    "metadata.name",
                    &Value::from(name.as_str()),
                    &why,
                )],
            ));
        }
        let k = key(t.res, ns.as_deref(), &name);
        if self.objects.contains_key(&k) {
            return Err(ApiError::already_exists(t.res, &name));
        }
        normalize_input(t.res, &mut obj)?;
        obj_mut(&mut obj).shift_remove("status");
        let w = Write {
            res: t.res,
            ns: ns.as_deref(),
            name: &name,
            sub: Sub::Main,
            dry_run,
            validate: true,
            now,
        };
        let (written, out) = self.update_object(&w, None, obj, &field_manager(q))?;
        if written {
            self.reconcile(&k, now);
        }
        Ok((201, out))
    }

    pub(crate) fn replace(
        &mut self,
        t: &Target,
        q: &Query,
        ct: Option<&str>,
        body: &[u8],
        now: &str,
    ) -> Reply {
        let dry_run = dry_run(q)?;
        let mut obj = decode_object(ct, body)?;
        check_object(t.res, &obj)?;
        check_identity(t, t.name(), &obj, true)?;
        Self::namespace_for_write(t, &mut obj)?;
        let old = self
            .objects
            .get(&t.key())
            .cloned()
            .ok_or_else(|| ApiError::not_found(t.res, t.name()))?;
        check_preconditions(t.res, t.name(), &old.obj, &obj)?;
        let out = self.finish_update(t, q, old, obj, dry_run, now)?;
        Ok((200, out))
    }

    /// Replace, merge patch and JSON patch end here: the incoming object replaces the main
    /// resource (status kept) or only the status.
    pub(crate) fn finish_update(
        &mut self,
        t: &Target,
        q: &Query,
        old: Stored,
        incoming: Value,
        dry_run: bool,
        now: &str,
    ) -> Result<Value, ApiError> {
        let new = match t.sub {
            Sub::Main => {
                let mut n = incoming;
                normalize_input(t.res, &mut n)?;
                let m = obj_mut(&mut n);
                match old.obj.get("status") {
                    Some(s) => {
                        m.insert("status".into(), s.clone());
                    }
                    None => {
                        m.shift_remove("status");
                    }
                }
                n
            }
            Sub::Status => {
                let mut n = old.obj.clone();
                let m = obj_mut(&mut n);
                match incoming.get("status") {
                    Some(s) => {
                        m.insert("status".into(), s.clone());
                    }
                    None => {
                        m.shift_remove("status");
                    }
                }
                n
            }
        };
        let w = Write {
            res: t.res,
            ns: t.ns(),
            name: t.name(),
            sub: t.sub,
            dry_run,
            validate: true,
            now,
        };
        let (written, out) = self.update_object(&w, Some(&old), new, &field_manager(q))?;
        if written && t.sub == Sub::Main {
            self.reconcile(&t.key(), now);
        }
        Ok(out)
    }

    pub(crate) fn patch(
        &mut self,
        t: &Target,
        q: &Query,
        ct: Option<&str>,
        body: &[u8],
        now: &str,
    ) -> Reply {
        let dry_run = dry_run(q)?;
        let media = media_type(ct);
        let force = match q.get("force").map(String::as_str) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "invalid value for force: {other:?}"
                )));
            }
        };
        let is_apply = media == "application/apply-patch+yaml";
        if force.is_some() && !is_apply {
            return Err(ApiError::invalid_options(
                "PatchOptions",
                vec![FieldError::forbidden(
                    "force",
                    "may not be specified for non-apply patch",
                )],
            ));
        }
        match media.as_str() {
            "application/apply-patch+yaml" => {
                self.apply(t, q, body, force.unwrap_or(false), dry_run, now)
            }
            "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
                let patch = parse_json(body)?;
                if !patch.is_object() {
                    return Err(ApiError::bad_request("the patch must be a JSON object"));
                }
                self.patch_existing(t, q, dry_run, now, |doc| {
                    merge_patch(doc, &patch);
                    Ok(())
                })
            }
            "application/json-patch+json" => {
                let Value::Array(ops) = parse_json(body)? else {
                    return Err(ApiError::bad_request(
                        "a JSON patch must be a list of operations",
                    ));
                };
                self.patch_existing(t, q, dry_run, now, |doc| {
                    json_patch(doc, &ops).map_err(|e| {
                        ApiError::unprocessable(format!(
                            "the server rejected our request due to an error in our request: {e}"
                        ))
                    })
                })
            }
            other => Err(ApiError::unsupported_media_type(other)),
        }
    }

    pub(crate) fn patch_existing(
        &mut self,
        t: &Target,
        q: &Query,
        dry_run: bool,
        now: &str,
        f: impl FnOnce(&mut Value) -> Result<(), ApiError>,
    ) -> Reply {
        let old = self
            .objects
            .get(&t.key())
            .cloned()
            .ok_or_else(|| ApiError::not_found(t.res, t.name()))?;
        let mut doc = old.obj.clone();
        f(&mut doc)?;
        strip_nulls(&mut doc);
        check_object(t.res, &doc)?;
        check_identity(t, t.name(), &doc, true)?;
        check_preconditions(t.res, t.name(), &old.obj, &doc)?;
        let out = self.finish_update(t, q, old, doc, dry_run, now)?;
        Ok((200, out))
    }

    pub(crate) fn apply(
        &mut self,
        t: &Target,
        q: &Query,
        body: &[u8],
        force: bool,
        dry_run: bool,
        now: &str,
    ) -> Reply {
        let Some(manager) = q.get("fieldManager").filter(|m| !m.is_empty()) else {
            return Err(ApiError::invalid_options(
                "PatchOptions",
                vec![FieldError::required(
                    "fieldManager",
                    "is required for apply patch",
                )],
            ));
        };
        let mut cfg = parse_json_or_yaml(body)?;
        if !cfg.is_object() {
            return Err(ApiError::bad_request(
                "the apply configuration must be an object",
            ));
        }
        strip_nulls(&mut cfg);
        check_object(t.res, &cfg)?;
        check_identity(t, t.name(), &cfg, false)?;
        let k = t.key();
        let old = self.objects.get(&k).cloned();
        match &old {
            Some(o) => check_preconditions(t.res, t.name(), &o.obj, &cfg)?,
            None => {
                if t.sub == Sub::Status {
                    return Err(ApiError::not_found(t.res, t.name()));
                }
                if str_at(&cfg, "/metadata/resourceVersion").is_some_and(|s| !s.is_empty()) {
                    return Err(ApiError::modified(t.res, t.name()));
                }
                if let Some(ns) = t.ns()
                    && !self.namespace_exists(ns)
                {
                    return Err(ApiError::namespace_not_found(ns));
                }
            }
        }
        if t.sub == Sub::Main {
            normalize_input(t.res, &mut cfg)?;
        }
        let view = managed_view(&cfg, t.sub);
        let live = match &old {
            Some(o) => o.obj.clone(),
            None => json!({
                "apiVersion": t.res.api_version(),
                "kind": t.res.kind,
                "metadata": {"name": t.name()},
            }),
        };
        let managers = old.as_ref().map(|o| o.managers.clone()).unwrap_or_default();
        let (new_obj, managers) = ssa_apply(
            &live,
            managers,
            &view,
            manager,
            t.sub,
            force,
            &t.res.api_version(),
            now,
        )
        .map_err(apply_conflict_error)?;
        let w = Write {
            res: t.res,
            ns: t.ns(),
            name: t.name(),
            sub: t.sub,
            dry_run,
            validate: true,
            now,
        };
        let (written, out) = self.commit(&w, old.as_ref(), new_obj, managers)?;
        if written && t.sub == Sub::Main {
            self.reconcile(&k, now);
        }
        Ok((if old.is_none() { 201 } else { 200 }, out))
    }

    pub(crate) fn delete(&mut self, t: &Target, q: &Query, body: &[u8], now: &str) -> Reply {
        let opts = delete_options(q, body)?;
        let k = t.key();
        let old = self
            .objects
            .get(&k)
            .cloned()
            .ok_or_else(|| ApiError::not_found(t.res, t.name()))?;
        let live_uid = str_at(&old.obj, "/metadata/uid").unwrap_or("").to_string();
        let live_rv = str_at(&old.obj, "/metadata/resourceVersion")
            .unwrap_or("")
            .to_string();
        if let Some(uid) = &opts.uid
            && *uid != live_uid
        {
            return Err(ApiError::conflict(
                t.res,
                t.name(),
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {live_uid}"
                ),
            ));
        }
        if let Some(rv) = &opts.resource_version
            && *rv != live_rv
        {
            return Err(ApiError::conflict(
                t.res,
                t.name(),
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {live_rv}"
                ),
            ));
        }
        self.delete_one(t.res, &k, old, &opts, now)
    }

    pub(crate) fn delete_one(
        &mut self,
        res: &'static ResourceDef,
        k: &Key,
        old: Stored,
        opts: &DeleteOpts,
        now: &str,
    ) -> Reply {
        if res.is("", "Namespace") {
            let mut out = old.obj.clone();
            meta_mut(&mut out).insert("deletionTimestamp".into(), now.into());
            set_path(
                &mut out,
                &["status".to_string(), "phase".to_string()],
                "Terminating".into(),
            );
            if !opts.dry_run {
                self.remove_object(k, &opts.policy);
            }
            return Ok((200, canonicalize(out)));
        }
        let finalizers = old
            .obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if finalizers {
            if old.obj.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok((202, old.obj));
            }
            let mut out = old.obj.clone();
            let m = meta_mut(&mut out);
            m.insert("deletionTimestamp".into(), now.into());
            m.insert("deletionGracePeriodSeconds".into(), 0.into());
            if opts.dry_run {
                return Ok((200, canonicalize(out)));
            }
            self.rv += 1;
            meta_mut(&mut out).insert("resourceVersion".into(), self.rv.to_string().into());
            let out = canonicalize(out);
            self.objects.insert(
                k.clone(),
                Stored {
                    obj: out.clone(),
                    managers: old.managers,
                },
            );
            return Ok((202, out));
        }
        if !opts.dry_run {
            self.remove_object(k, &opts.policy);
        }
        if res.is("", "Pod") {
            return Ok((200, old.obj));
        }
        let mut details = resource_details(res, &k.3);
        details.insert(
            "uid".into(),
            str_at(&old.obj, "/metadata/uid").unwrap_or("").into(),
        );
        Ok((
            200,
            json!({
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": details,
            }),
        ))
    }

    pub(crate) fn delete_collection(
        &mut self,
        t: &Target,
        q: &Query,
        body: &[u8],
        now: &str,
    ) -> Reply {
        if t.res.is("", "Namespace") || (t.res.namespaced && t.ns.is_none()) {
            return Err(ApiError::method_not_allowed());
        }
        let opts = delete_options(q, body)?;
        let (keys, _) = self.select(t, q)?;
        let mut items = Vec::new();
        for k in keys {
            if let Some(old) = self.objects.get(&k).cloned() {
                items.push(list_item(&old.obj));
                self.delete_one(t.res, &k, old, &opts, now)?;
            }
        }
        Ok((
            200,
            json!({
                "kind": format!("{}List", t.res.kind),
                "apiVersion": t.res.api_version(),
                "metadata": {"resourceVersion": self.rv.to_string()},
                "items": items,
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_bodies_are_json_or_yaml_read_with_budgets() {
        let v =
            parse_json_or_yaml(b"apiVersion: v1\nkind: ConfigMap\ndata: {k: v}\n").expect("yaml");
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"}})
        );
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n\
                    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n\
                    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n\
                    f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        let e = parse_json_or_yaml(bomb.as_bytes()).expect_err("an alias bomb");
        assert_eq!(e.code, 400, "{}", e.message);
        let deep = format!("{}x{}", "[".repeat(100), "]".repeat(100));
        let e = parse_json_or_yaml(deep.as_bytes()).expect_err("too deep");
        assert_eq!(e.code, 400, "{}", e.message);
    }
}
