//! core/v1 Events recorded by the simulated controllers and kubelet, aggregated as the real
//! event recorder does it: a repeat of the same event (same object, type, reason, message and
//! source) bumps `count` and `lastTimestamp` of the existing one.

use serde_json::{Map, Value, json};

use crate::json::str_at;
use crate::resources::find_by_group_plural;
use crate::ssa::Sub;
use crate::store::{Key, Store, Write};

/// One event to record about an object.
pub(crate) struct Event<'a> {
    /// `Normal` or `Warning`.
    pub(crate) kind: &'a str,
    pub(crate) reason: &'a str,
    pub(crate) message: String,
    /// `job-controller`, `kubelet`.
    pub(crate) component: &'a str,
    /// `spec.containers{app}` for an event about one container.
    pub(crate) field_path: Option<String>,
}

/// The node every simulated pod runs on.
pub(crate) const NODE: &str = "fake-node-1";

impl Store {
    /// Records `ev` about `involved` (a stored object) in its namespace (`default` for a
    /// cluster-scoped object).
    pub(crate) fn record_event(&mut self, involved: &Value, ev: &Event, now: &str) {
        let Some(res) = find_by_group_plural("", "events") else {
            return;
        };
        let ns = str_at(involved, "/metadata/namespace")
            .unwrap_or("default")
            .to_string();
        let name = str_at(involved, "/metadata/name").unwrap_or("").to_string();
        let uid = str_at(involved, "/metadata/uid").unwrap_or("").to_string();
        let mut object = Map::new();
        for (k, p) in [
            ("kind", "/kind"),
            ("namespace", "/metadata/namespace"),
            ("name", "/metadata/name"),
            ("uid", "/metadata/uid"),
            ("apiVersion", "/apiVersion"),
            ("resourceVersion", "/metadata/resourceVersion"),
        ] {
            if let Some(v) = str_at(involved, p) {
                object.insert(k.into(), v.into());
            }
        }
        if let Some(f) = &ev.field_path {
            object.insert("fieldPath".into(), f.clone().into());
        }
        let kubelet = ev.component == "kubelet";
        let same = |e: &Value| {
            str_at(e, "/involvedObject/uid") == Some(uid.as_str())
                && str_at(e, "/involvedObject/fieldPath") == ev.field_path.as_deref()
                && str_at(e, "/type") == Some(ev.kind)
                && str_at(e, "/reason") == Some(ev.reason)
                && str_at(e, "/message") == Some(ev.message.as_str())
                && str_at(e, "/source/component") == Some(ev.component)
        };
        let existing: Option<Key> = self
            .objects
            .iter()
            .find(|(k, s)| k.0.is_empty() && k.1 == "events" && k.2 == ns && same(&s.obj))
            .map(|(k, _)| k.clone());
        let (event_name, old, event) = match existing {
            Some(k) => {
                let Some(old) = self.objects.get(&k).cloned() else {
                    return;
                };
                let mut e = old.obj.clone();
                let count = e.get("count").and_then(Value::as_i64).unwrap_or(1);
                if let Value::Object(m) = &mut e {
                    m.insert("count".into(), count.saturating_add(1).into());
                    m.insert("lastTimestamp".into(), now.into());
                }
                (k.3.clone(), Some(old), e)
            }
            None => {
                // As the real recorder names events: the time in nanoseconds, in hex (the
                // resourceVersion stands in for the nanoseconds, so names sort by time).
                let secs = now
                    .parse::<jiff::Timestamp>()
                    .map_or(0, |t| t.as_second().max(0).unsigned_abs());
                let nanos = secs
                    .saturating_mul(1_000_000_000)
                    .saturating_add(self.rv % 1_000_000_000);
                let suffix = format!("{nanos:x}");
                let event_name = format!("{name}.{suffix}");
                let mut source = Map::new();
                source.insert("component".into(), ev.component.into());
                if kubelet {
                    source.insert("host".into(), NODE.into());
                }
                let e = json!({
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": event_name, "namespace": ns},
                    "involvedObject": object,
                    "reason": ev.reason,
                    "message": ev.message,
                    "source": source,
                    "firstTimestamp": now,
                    "lastTimestamp": now,
                    "count": 1,
                    "type": ev.kind,
                    "eventTime": null,
                    "reportingComponent": ev.component,
                    "reportingInstance": if kubelet { NODE } else { "" },
                });
                (event_name, None, e)
            }
        };
        let w = Write {
            res,
            ns: Some(&ns),
            name: &event_name,
            sub: Sub::Main,
            dry_run: false,
            validate: false,
            now,
        };
        let manager = if kubelet {
            "kubelet"
        } else {
            crate::controllers::CONTROLLER
        };
        if let Err(e) = self.update_object(&w, old.as_ref(), event, manager) {
            tracing::warn!("fake kube: event about {name}: {}", e.message);
        }
    }
}

/// `events.k8s.io/v1` Events: the real API server keeps one event store and serves it under
/// both APIs, so this view reads the core/v1 Events and converts them (`involvedObject` →
/// `regarding`, `message` → `note`, `source.component` → `reportingController`, `count` and
/// the timestamps → `deprecated*`). Field selectors are translated the same way. Reads only:
/// writes go through core/v1 here (a simplification, listed in the crate docs).
pub(crate) fn events_v1(
    store: &Store,
    get: bool,
    ns: Option<&str>,
    name: Option<&str>,
    q: &crate::store::Query,
) -> crate::store::Reply {
    if !get {
        return Err(crate::validation::ApiError::method_not_allowed());
    }
    let res = store
        .find_by_plural("", "v1", "events")
        .ok_or_else(crate::validation::ApiError::path_not_found)?;
    let mut q = q.clone();
    if let Some(sel) = q.get("fieldSelector").cloned() {
        let translated: Vec<String> = sel
            .split(',')
            .map(|term| {
                let term = term.trim();
                if let Some(rest) = term.strip_prefix("regarding.") {
                    format!("involvedObject.{rest}")
                } else if let Some(rest) = term.strip_prefix("reportingController") {
                    format!("reportingComponent{rest}")
                } else {
                    term.to_string()
                }
            })
            .collect();
        q.insert("fieldSelector".into(), translated.join(","));
    }
    let t = crate::verbs::Target {
        res,
        ns: ns.map(str::to_string),
        name: name.map(str::to_string),
        sub: Sub::Main,
    };
    let (code, body) = if name.is_some() {
        store.get(&t)?
    } else {
        store.list(&t, &q)?
    };
    let body = match body {
        Value::Object(mut m) if m.get("items").is_some() => {
            let items = m
                .remove("items")
                .and_then(|i| i.as_array().cloned())
                .unwrap_or_default();
            m.insert("apiVersion".into(), "events.k8s.io/v1".into());
            m.insert("kind".into(), "EventList".into());
            m.insert(
                "items".into(),
                Value::Array(items.iter().map(to_events_v1).collect()),
            );
            Value::Object(m)
        }
        one => to_events_v1(&one),
    };
    Ok((code, body))
}

/// One core/v1 Event as `events.k8s.io/v1` shows it.
fn to_events_v1(core: &Value) -> Value {
    let get = |k: &str| core.get(k).cloned();
    let mut m = Map::new();
    m.insert("apiVersion".into(), "events.k8s.io/v1".into());
    m.insert("kind".into(), "Event".into());
    for (from, to) in [
        ("metadata", "metadata"),
        ("involvedObject", "regarding"),
        ("related", "related"),
        ("message", "note"),
        ("reason", "reason"),
        ("type", "type"),
        ("action", "action"),
        ("series", "series"),
        ("count", "deprecatedCount"),
        ("firstTimestamp", "deprecatedFirstTimestamp"),
        ("lastTimestamp", "deprecatedLastTimestamp"),
        ("source", "deprecatedSource"),
    ] {
        if let Some(v) = get(from).filter(|v| !v.is_null()) {
            m.insert(to.into(), v);
        }
    }
    m.insert("eventTime".into(), get("eventTime").unwrap_or(Value::Null));
    let controller = core
        .get("reportingComponent")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| core.pointer("/source/component").and_then(Value::as_str));
    if let Some(c) = controller {
        m.insert("reportingController".into(), c.into());
    }
    let instance = core
        .get("reportingInstance")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| core.pointer("/source/host").and_then(Value::as_str));
    if let Some(i) = instance {
        m.insert("reportingInstance".into(), i.into());
    }
    Value::Object(m)
}
