//! The object store: objects by (group, plural, namespace, name), the global
//! `resourceVersion`, `uid`s, reads (get, list with selectors and `limit`/`continue`), the one
//! write path every change goes through ([`Store::commit`]), and the helpers behind
//! [`crate::FakeKube`]'s test methods.

pub(crate) mod selector;

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::controllers::Readiness;
use crate::json::{canonicalize, list_item, meta_mut, obj_mut, spec_content, str_at, strip_nulls};
use crate::resources::{
    RESOURCES, ResourceDef, find_by_group_plural, find_by_kind, find_by_plural, namespaces_def,
    version_order,
};
use crate::ssa::{
    ManagerEntry, Sub, managed_view, requested_managers, same_managers, update_managers,
};
use crate::store::selector::{field_value, parse_field_selector, parse_label_selector};
use crate::validation::{ApiError, validate};
use crate::verbs::Target;

/// (group, plural, namespace or "", name)
pub(crate) type Key = (String, String, String, String);

pub(crate) type Query = BTreeMap<String, String>;

pub(crate) type Reply = Result<(u16, Value), ApiError>;

pub(crate) fn key(res: &ResourceDef, ns: Option<&str>, name: &str) -> Key {
    (
        res.group.to_string(),
        res.plural.to_string(),
        ns.unwrap_or("").to_string(),
        name.to_string(),
    )
}

#[derive(Debug, Clone)]
pub(crate) struct Stored {
    /// The object as a GET returns it, `managedFields` included.
    pub(crate) obj: Value,
    pub(crate) managers: Vec<ManagerEntry>,
}

pub(crate) struct Store {
    pub(crate) objects: BTreeMap<Key, Stored>,
    /// The last resourceVersion handed out.
    pub(crate) rv: u64,
    pub(crate) rng: u64,
    pub(crate) next_ip: u32,
    pub(crate) next_node_port: u16,
    pub(crate) readiness: Readiness,
    pub(crate) server_address: String,
    /// The served versions of the custom resources of Established CRDs (see `crds`), kept in
    /// step with the stored CRDs by [`Store::refresh_custom`].
    pub(crate) custom: Vec<&'static ResourceDef>,
}

/// What one write addresses and how.
pub(crate) struct Write<'a> {
    pub(crate) res: &'static ResourceDef,
    pub(crate) ns: Option<&'a str>,
    pub(crate) name: &'a str,
    pub(crate) sub: Sub,
    pub(crate) dry_run: bool,
    /// Validate and apply server behaviours (off for [`FakeKube::insert`] and controllers).
    pub(crate) validate: bool,
    pub(crate) now: &'a str,
}

impl Write<'_> {
    pub(crate) fn key(&self) -> Key {
        key(self.res, self.ns, self.name)
    }
}

impl Store {
    /// An empty store (no Namespaces yet); `seed` drives uids and generated names.
    pub(crate) fn new(seed: u64) -> Self {
        Store {
            objects: BTreeMap::new(),
            rv: 0,
            rng: seed | 1,
            next_ip: 10,
            next_node_port: 30000,
            readiness: Readiness::Immediate,
            server_address: String::new(),
            custom: Vec::new(),
        }
    }

    // --- the served resources: built-in, then custom -----------------------------------------

    pub(crate) fn find_by_plural(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<&'static ResourceDef> {
        find_by_plural(group, version, plural).or_else(|| {
            self.custom
                .iter()
                .copied()
                .find(|r| r.group == group && r.version == version && r.plural == plural)
        })
    }

    /// A resource by group and plural at any served version (the store's keys carry no
    /// version): the built-in one, or the preferred served version of a custom one.
    pub(crate) fn find_by_group_plural(
        &self,
        group: &str,
        plural: &str,
    ) -> Option<&'static ResourceDef> {
        find_by_group_plural(group, plural).or_else(|| {
            self.custom
                .iter()
                .copied()
                .find(|r| r.group == group && r.plural == plural)
        })
    }

    pub(crate) fn find_by_kind(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Option<&'static ResourceDef> {
        find_by_kind(api_version, kind).or_else(|| {
            self.custom
                .iter()
                .copied()
                .find(|r| r.kind == kind && r.api_version() == api_version)
        })
    }

    /// Every served resource: the built-in table, then the custom ones.
    pub(crate) fn served(&self) -> impl Iterator<Item = &'static ResourceDef> + '_ {
        RESOURCES.iter().chain(self.custom.iter().copied())
    }

    /// The served (group, version) pairs without repeats: the built-in ones in table order,
    /// then each custom group's versions by Kubernetes version priority.
    pub(crate) fn group_versions(&self) -> Vec<(&'static str, &'static str)> {
        let mut out: Vec<(&'static str, &'static str)> = Vec::new();
        for r in RESOURCES {
            if !out.contains(&(r.group, r.version)) {
                out.push((r.group, r.version));
            }
        }
        let mut custom: Vec<(&'static str, &'static str)> = Vec::new();
        for r in &self.custom {
            if !out.contains(&(r.group, r.version)) && !custom.contains(&(r.group, r.version)) {
                custom.push((r.group, r.version));
            }
        }
        custom.sort_by(|a, b| a.0.cmp(b.0).then_with(|| version_order(a.1, b.1)));
        out.extend(custom);
        out
    }

    pub(crate) fn next_rand(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn new_uid(&mut self) -> String {
        let a = self.next_rand();
        let b = self.next_rand();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    /// Five characters, as `generateName` appends.
    pub(crate) fn random_suffix(&mut self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..5)
            .map(|_| ALPHABET[(self.next_rand() % ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    pub(crate) fn namespace_exists(&self, ns: &str) -> bool {
        self.objects.contains_key(&key(namespaces_def(), None, ns))
    }

    // --- reads ----------------------------------------------------------------------------

    pub(crate) fn get(&self, t: &Target) -> Reply {
        let mut obj = self
            .objects
            .get(&t.key())
            .map(|s| s.obj.clone())
            .ok_or_else(|| ApiError::not_found(t.res, t.name()))?;
        if t.res.custom {
            // Versions of a CRD without a conversion webhook differ only in apiVersion.
            obj_mut(&mut obj).insert("apiVersion".into(), t.res.api_version().into());
        }
        Ok((200, obj))
    }

    /// The keys a list or deletecollection addresses, and whether a selector filtered them.
    pub(crate) fn select(&self, t: &Target, q: &Query) -> Result<(Vec<Key>, bool), ApiError> {
        let label_text = q.get("labelSelector").map(String::as_str).unwrap_or("");
        let labels = parse_label_selector(label_text)
            .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
        let fields = parse_field_selector(
            t.res,
            q.get("fieldSelector").map(String::as_str).unwrap_or(""),
        )?;
        let filtered = !labels.is_empty() || !fields.is_empty();
        let ns = t.ns();
        let keys = self
            .objects
            .iter()
            .filter(|(k, _)| k.0 == t.res.group && k.1 == t.res.plural)
            .filter(|(k, _)| ns.is_none_or(|n| k.2 == n))
            .filter(|(_, s)| {
                let l = s.obj.pointer("/metadata/labels").and_then(Value::as_object);
                labels.iter().all(|r| r.matches(l))
            })
            .filter(|(k, s)| {
                fields.iter().all(|(f, eq, v)| {
                    let actual = match f.as_str() {
                        "metadata.name" => k.3.clone(),
                        "metadata.namespace" => k.2.clone(),
                        other => field_value(&s.obj, other),
                    };
                    (actual == *v) == *eq
                })
            })
            .map(|(k, _)| k.clone())
            .collect();
        Ok((keys, filtered))
    }

    pub(crate) fn list(&self, t: &Target, q: &Query) -> Reply {
        if q.get("watch").is_some_and(|w| w == "true" || w == "1") {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "watch is not supported by this fake API server",
            ));
        }
        let (mut keys, filtered) = self.select(t, q)?;
        if let Some(token) = q.get("continue").filter(|c| !c.is_empty()) {
            let start = decode_continue(token)?;
            keys.retain(|k| (k.2.as_str(), k.3.as_str()) > (start.0.as_str(), start.1.as_str()));
        }
        let limit: usize = match q.get("limit").map(String::as_str) {
            None | Some("") => 0,
            Some(l) => l
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?,
        };
        let mut meta = Map::new();
        meta.insert("resourceVersion".into(), self.rv.to_string().into());
        if limit > 0 && keys.len() > limit {
            let remaining = keys.len() - limit;
            keys.truncate(limit);
            if let Some(last) = keys.last() {
                meta.insert(
                    "continue".into(),
                    encode_continue(self.rv, &last.2, &last.3).into(),
                );
            }
            if !filtered {
                meta.insert("remainingItemCount".into(), remaining.into());
            }
        }
        let items: Vec<Value> = keys
            .iter()
            .filter_map(|k| self.objects.get(k))
            .map(|s| list_item(&s.obj))
            .collect();
        Ok((
            200,
            json!({
                "kind": format!("{}List", t.res.kind),
                "apiVersion": t.res.api_version(),
                "metadata": meta,
                "items": items,
            }),
        ))
    }

    // --- the write path -------------------------------------------------------------------

    /// An Update-operation write (create, replace, patches, controllers): ownership moves to
    /// `manager` for the fields that changed, then [`Store::commit`].
    pub(crate) fn update_object(
        &mut self,
        w: &Write,
        old: Option<&Stored>,
        new_obj: Value,
        manager: &str,
    ) -> Result<(bool, Value), ApiError> {
        let old_view = old.map_or_else(|| json!({}), |o| managed_view(&o.obj, w.sub));
        let new_view = managed_view(&new_obj, w.sub);
        // A request that writes `metadata.managedFields` sets the ownership it starts from.
        let base = requested_managers(&new_obj, old.map(|o| &o.obj))
            .unwrap_or_else(|| old.map(|o| o.managers.clone()).unwrap_or_default());
        let managers = update_managers(
            base,
            &old_view,
            &new_view,
            manager,
            w.sub,
            &w.res.api_version(),
            w.now,
        );
        self.commit(w, old, new_obj, managers)
    }

    /// Bookkeeping, server behaviours, validation, generation, managedFields; then stores the
    /// object unless it is a dry run or nothing changed. True when something was written.
    pub(crate) fn commit(
        &mut self,
        w: &Write,
        old: Option<&Stored>,
        mut obj: Value,
        managers: Vec<ManagerEntry>,
    ) -> Result<(bool, Value), ApiError> {
        let m = obj_mut(&mut obj);
        m.insert("apiVersion".into(), w.res.api_version().into());
        m.insert("kind".into(), w.res.kind.into());
        let uid = match old {
            Some(_) => None,
            None => Some(self.new_uid()),
        };
        {
            let meta = meta_mut(&mut obj);
            meta.insert("name".into(), w.name.into());
            match w.ns {
                Some(ns) => {
                    meta.insert("namespace".into(), ns.into());
                }
                None => {
                    meta.shift_remove("namespace");
                }
            }
            meta.shift_remove("managedFields");
            meta.shift_remove("selfLink");
            const KEPT: &[&str] = &[
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ];
            for k in KEPT {
                match old.and_then(|o| o.obj.pointer(&format!("/metadata/{k}"))) {
                    Some(v) => {
                        meta.insert((*k).into(), v.clone());
                    }
                    None => {
                        meta.shift_remove(*k);
                    }
                }
            }
            if let Some(uid) = uid {
                meta.insert("uid".into(), uid.into());
                meta.insert("creationTimestamp".into(), w.now.into());
                meta.insert("generation".into(), 1.into());
            }
        }
        if w.validate && w.sub == Sub::Main {
            let errs = validate(w.res, w.name, old.map(|o| &o.obj), &obj);
            if !errs.is_empty() {
                return Err(ApiError::invalid(w.res, w.name, errs));
            }
            self.normalize_output(w, old.map(|o| &o.obj), &mut obj)?;
        }
        if let Some(o) = old
            && spec_content(&o.obj) != spec_content(&obj)
        {
            let g = o
                .obj
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta_mut(&mut obj).insert("generation".into(), g.saturating_add(1).into());
        }
        let rendered: Vec<Value> = managers.iter().map(ManagerEntry::to_json).collect();
        if !rendered.is_empty() {
            meta_mut(&mut obj).insert("managedFields".into(), rendered.into());
        }
        let obj = canonicalize(obj);
        if let Some(o) = old {
            let bare = |v: &Value| {
                let mut v = v.clone();
                meta_mut(&mut v).shift_remove("managedFields");
                v
            };
            if bare(&o.obj) == bare(&obj) && same_managers(&o.managers, &managers) {
                return Ok((false, o.obj.clone()));
            }
        }
        if w.dry_run {
            return Ok((false, obj));
        }
        self.rv += 1;
        let mut obj = obj;
        meta_mut(&mut obj).insert("resourceVersion".into(), self.rv.to_string().into());
        let obj = canonicalize(obj);
        let k = w.key();
        let finalized = obj.pointer("/metadata/deletionTimestamp").is_some()
            && obj
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
        self.objects.insert(
            k.clone(),
            Stored {
                obj: obj.clone(),
                managers,
            },
        );
        if finalized {
            self.remove_object(&k, "Background");
        }
        if crate::crds::is_crd(w.res) {
            self.refresh_custom();
        }
        Ok((true, obj))
    }

    // --- test helpers ---------------------------------------------------------------------

    pub(crate) fn create_namespace(
        &mut self,
        name: &str,
        manager: &str,
        now: &str,
    ) -> Result<(), ApiError> {
        let res = namespaces_def();
        let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let w = Write {
            res,
            ns: None,
            name,
            sub: Sub::Main,
            dry_run: false,
            validate: true,
            now,
        };
        self.update_object(&w, None, obj, manager).map(|_| ())
    }

    /// (resource, namespace, name) of a whole object given to a helper; the namespace
    /// defaults to `default`.
    pub(crate) fn identify(
        &self,
        obj: &Value,
    ) -> Result<(&'static ResourceDef, Option<String>, String), ApiError> {
        let av = str_at(obj, "/apiVersion").unwrap_or("");
        let kind = str_at(obj, "/kind").unwrap_or("");
        let res = self.find_by_kind(av, kind).ok_or_else(|| {
            ApiError::bad_request(format!(
                "no served resource for apiVersion {av:?} kind {kind:?}"
            ))
        })?;
        let name = str_at(obj, "/metadata/name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ApiError::bad_request("metadata.name is required"))?
            .to_string();
        let ns = res.namespaced.then(|| {
            str_at(obj, "/metadata/namespace")
                .filter(|n| !n.is_empty())
                .unwrap_or("default")
                .to_string()
        });
        Ok((res, ns, name))
    }

    pub(crate) fn insert_as_is(&mut self, mut obj: Value, now: &str) -> Result<(), ApiError> {
        strip_nulls(&mut obj);
        let (res, ns, name) = self.identify(&obj)?;
        if let Some(ns) = &ns
            && !self.namespace_exists(ns)
        {
            self.create_namespace(ns, "test", now)?;
        }
        let k = key(res, ns.as_deref(), &name);
        let old = self.objects.get(&k).cloned();
        let w = Write {
            res,
            ns: ns.as_deref(),
            name: &name,
            sub: Sub::Main,
            dry_run: false,
            validate: false,
            now,
        };
        self.update_object(&w, old.as_ref(), obj, "test")
            .map(|_| ())
    }

    pub(crate) fn apply_helper(
        &mut self,
        manager: &str,
        obj: Value,
        now: &str,
    ) -> Result<(), ApiError> {
        let (res, ns, name) = self.identify(&obj)?;
        let t = Target {
            res,
            ns,
            name: Some(name),
            sub: Sub::Main,
        };
        let mut q = Query::new();
        q.insert("fieldManager".into(), manager.into());
        let body = serde_json::to_vec(&obj).map_err(|e| ApiError::bad_request(e.to_string()))?;
        self.apply(&t, &q, &body, true, false, now).map(|_| ())
    }

    pub(crate) fn set_status_helper(
        &mut self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        status: Value,
        now: &str,
    ) -> Result<(), ApiError> {
        let res = self.find_by_kind(api_version, kind).ok_or_else(|| {
            ApiError::bad_request(format!("no served resource for {api_version} {kind}"))
        })?;
        let ns = if res.namespaced { namespace } else { None };
        let old = self
            .objects
            .get(&key(res, ns, name))
            .cloned()
            .ok_or_else(|| ApiError::not_found(res, name))?;
        let mut new = old.obj.clone();
        obj_mut(&mut new).insert("status".into(), status);
        let w = Write {
            res,
            ns,
            name,
            sub: Sub::Status,
            dry_run: false,
            validate: false,
            now,
        };
        self.update_object(&w, Some(&old), new, "test").map(|_| ())
    }
}

pub(crate) fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    let token = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{ns}/{name}\u{0}")});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

pub(crate) fn decode_continue(token: &str) -> Result<(String, String), ApiError> {
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token:?}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let start = v.get("start").and_then(Value::as_str).ok_or_else(bad)?;
    let start = start.trim_end_matches('\u{0}');
    let (ns, name) = start.split_once('/').ok_or_else(bad)?;
    Ok((ns.to_string(), name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let token = encode_continue(7, "ns", "name");
        assert_eq!(
            decode_continue(&token).expect("decode"),
            ("ns".to_string(), "name".to_string())
        );
    }
}
