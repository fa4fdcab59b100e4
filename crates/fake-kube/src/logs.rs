//! `GET pods/{name}/log` as a stream: the pod's [`LOG`](crate::LOG) annotation (what
//! `Store::pod_log` reads and validates: container, waiting containers, `previous`) followed by
//! the lines tests append with [`FakeKube::append_log`], each stamped with the time it was
//! written; `sinceSeconds`, `tailLines`, `timestamps` and `limitBytes` over both; with
//! `follow=true` the response stays open and sends appended lines as they come, and ends when
//! the pod is deleted (or replaced by a pod of the same name), or has finished (`Succeeded`,
//! `Failed`), as the kubelet ends a followed log when its container stops.
//!
//! Simplifications: the annotation's lines are stamped with the pod's `startTime`; appended
//! lines belong to the pod's current instance (they are not in `previous`); a followed stream
//! notices new lines and the pod's end within 20 ms.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::http::json_response;
use crate::json::str_at;
use crate::resources::find_by_group_plural;
use crate::store::{Query, key};
use crate::validation::ApiError;
use crate::{FakeKube, Shared, lock};

/// How often a followed log looks for new lines and for its pod's end.
const FOLLOW_POLL: Duration = Duration::from_millis(20);
/// The most lines one chunk of a followed log carries.
const CHUNK_LINES: usize = 1024;

/// One appended line: when it was written and its text.
#[derive(Debug, Clone)]
struct Entry {
    at: jiff::Timestamp,
    text: String,
}

/// Lines appended to containers' logs, per (namespace, pod uid, container).
#[derive(Debug, Default)]
pub(crate) struct Appended {
    lines: BTreeMap<(String, String, String), Vec<Entry>>,
}

impl FakeKube {
    /// Appends lines (`text`, split at line ends) to the log of a container of a stored pod, as
    /// if the container wrote them now; followed logs of the pod send them at once.
    ///
    /// # Panics
    ///
    /// When the pod does not exist.
    #[expect(
        clippy::panic,
        reason = "test setup: a helper given a pod that does not exist must stop the test"
    )]
    pub fn append_log(&self, namespace: &str, pod: &str, container: &str, text: &str) {
        let uid = {
            let store = lock(&self.shared.store);
            find_by_group_plural("", "pods")
                .and_then(|res| store.objects.get(&key(res, Some(namespace), pod)))
                .and_then(|s| str_at(&s.obj, "/metadata/uid").map(str::to_string))
        };
        let Some(uid) = uid else {
            panic!("FakeKube::append_log: no pod {namespace}/{pod}");
        };
        let at = jiff::Timestamp::now();
        let mut appended = lock(&self.shared.appended);
        let lines = appended
            .lines
            .entry((namespace.to_string(), uid, container.to_string()))
            .or_default();
        lines.extend(text.lines().map(|l| Entry {
            at,
            text: l.to_string(),
        }));
    }
}

/// What a log request selects, decoded once.
#[derive(Debug, Clone, Copy)]
struct Params {
    since: Option<jiff::Timestamp>,
    tail: Option<usize>,
    timestamps: bool,
    limit: Option<usize>,
}

fn number(q: &Query, name: &str) -> Result<Option<i64>, ApiError> {
    match q.get(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("invalid value for {name}: {v:?}"))),
    }
}

fn flag(q: &Query, name: &str) -> bool {
    matches!(q.get(name).map(String::as_str), Some("true" | "1"))
}

fn stamp(at: jiff::Timestamp) -> String {
    format!(
        "{}.{:09}Z",
        at.strftime("%Y-%m-%dT%H:%M:%S"),
        at.subsec_nanosecond()
    )
}

fn format_line(out: &mut String, p: &Params, at: jiff::Timestamp, text: &str) {
    if p.timestamps {
        out.push_str(&stamp(at));
        out.push(' ');
    }
    out.push_str(text);
    out.push('\n');
}

/// The pod's uid and phase, if it exists.
fn pod_state(shared: &Shared, ns: &str, name: &str) -> Option<(String, String)> {
    let store = lock(&shared.store);
    let res = find_by_group_plural("", "pods")?;
    let pod = &store.objects.get(&key(res, Some(ns), name))?.obj;
    Some((
        str_at(pod, "/metadata/uid").unwrap_or("").to_string(),
        str_at(pod, "/status/phase").unwrap_or("").to_string(),
    ))
}

/// Answers `GET /api/v1/namespaces/{ns}/pods/{name}/log`.
pub(crate) fn respond(shared: &Arc<Shared>, ns: &str, name: &str, q: &Query) -> Response {
    match build(shared, ns, name, q) {
        Ok(r) => r,
        Err(e) => json_response(e.code, &e.body()),
    }
}

fn build(shared: &Arc<Shared>, ns: &str, name: &str, q: &Query) -> Result<Response, ApiError> {
    let text_response =
        |body: Body| (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], body).into_response();
    // The annotation's text, validated (container, waiting, previous) the store's way.
    let mut base_query = q.clone();
    for k in [
        "tailLines",
        "limitBytes",
        "timestamps",
        "sinceSeconds",
        "follow",
    ] {
        base_query.remove(k);
    }
    let params = Params {
        since: number(q, "sinceSeconds")?
            .map(|s| jiff::Timestamp::now() - jiff::SignedDuration::from_secs(s.max(0))),
        tail: number(q, "tailLines")?.map(|n| usize::try_from(n).unwrap_or(0)),
        timestamps: flag(q, "timestamps"),
        limit: number(q, "limitBytes")?.map(|n| usize::try_from(n).unwrap_or(0)),
    };
    let follow = flag(q, "follow");
    let (base, container, uid, start) = {
        let store = lock(&shared.store);
        let base = store.pod_log(ns, name, &base_query)?;
        let res = find_by_group_plural("", "pods")
            .ok_or_else(|| ApiError::internal("pods are not served"))?;
        let pod: &Value = &store
            .objects
            .get(&key(res, Some(ns), name))
            .ok_or_else(|| ApiError::not_found(res, name))?
            .obj;
        let container = match q.get("container").filter(|c| !c.is_empty()) {
            Some(c) => c.clone(),
            None => str_at(pod, "/spec/containers/0/name")
                .unwrap_or("")
                .to_string(),
        };
        let start = str_at(pod, "/status/startTime")
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .unwrap_or_else(jiff::Timestamp::now);
        (
            base,
            container,
            str_at(pod, "/metadata/uid").unwrap_or("").to_string(),
            start,
        )
    };
    let previous = flag(q, "previous");
    // Everything there is now, filtered by since and tail.
    let mut lines: Vec<(jiff::Timestamp, String)> =
        base.lines().map(|l| (start, l.to_string())).collect();
    let log_key = (ns.to_string(), uid.clone(), container);
    let mut seen = 0;
    if !previous {
        let appended = lock(&shared.appended);
        if let Some(entries) = appended.lines.get(&log_key) {
            seen = entries.len();
            lines.extend(entries.iter().map(|e| (e.at, e.text.clone())));
        }
    }
    if let Some(since) = params.since {
        lines.retain(|(at, _)| *at >= since);
    }
    if let Some(n) = params.tail {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut out = String::new();
    for (at, text) in &lines {
        format_line(&mut out, &params, *at, text);
    }
    if let Some(n) = params.limit {
        let mut cut = n.min(out.len());
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    if !follow || previous || params.limit.is_some() {
        return Ok(text_response(Body::from(out)));
    }
    // Follow: what there is, then appended lines until the pod is gone or finished.
    let shared = Arc::clone(shared);
    let ns = ns.to_string();
    let name = name.to_string();
    let state = (Some(out), seen, false);
    let stream = futures_util::stream::unfold(state, move |(first, seen, done)| {
        let shared = Arc::clone(&shared);
        let (ns, name, uid, log_key) = (ns.clone(), name.clone(), uid.clone(), log_key.clone());
        async move {
            if let Some(text) = first.filter(|t| !t.is_empty()) {
                return Some((Ok::<_, std::io::Error>(text), (None, seen, false)));
            }
            if done {
                return None;
            }
            loop {
                let (chunk, next) = {
                    let appended = lock(&shared.appended);
                    let entries = appended
                        .lines
                        .get(&log_key)
                        .map(Vec::as_slice)
                        .unwrap_or(&[]);
                    let new = &entries[seen.min(entries.len())..];
                    let take = new.len().min(CHUNK_LINES);
                    let mut chunk = String::new();
                    for e in &new[..take] {
                        format_line(&mut chunk, &params, e.at, &e.text);
                    }
                    (chunk, seen + take)
                };
                if !chunk.is_empty() {
                    return Some((Ok(chunk), (None, next, false)));
                }
                match pod_state(&shared, &ns, &name) {
                    Some((u, phase)) if u == uid && phase != "Succeeded" && phase != "Failed" => {}
                    _ => return None,
                }
                tokio::time::sleep(FOLLOW_POLL).await;
            }
        }
    });
    Ok(text_response(Body::from_stream(stream)))
}
