//! The HTTP side: the server thread, the axum handler (recording, faults, authentication),
//! routing by path, discovery documents and query decoding.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::resources::ResourceDef;
use crate::ssa::Sub;
use crate::store::{Query, Reply, Store};
use crate::validation::ApiError;
use crate::verbs::{Target, media_type, parse_json_or_yaml};
use crate::{RecordedRequest, Shared, TOKEN, lock, now};

/// The most a request body may hold (the real server's limit is 3 MiB).
pub(crate) const MAX_BODY: usize = 3 << 20;

pub(crate) fn serve_thread(
    shared: Arc<Shared>,
    addr_tx: std::sync::mpsc::Sender<Result<SocketAddr, String>>,
    stop_rx: tokio::sync::watch::Receiver<bool>,
) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("fake-kube-worker")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = addr_tx.send(Err(format!("build the runtime: {e}")));
            return;
        }
    };
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => {
                let _ = addr_tx.send(Err(format!("bind 127.0.0.1:0: {e}")));
                return;
            }
        };
        match listener.local_addr() {
            Ok(a) => {
                let _ = addr_tx.send(Ok(a));
            }
            Err(e) => {
                let _ = addr_tx.send(Err(format!("local address: {e}")));
                return;
            }
        }
        let app = Router::new()
            .route(
                "/api/v1/namespaces/{ns}/pods/{name}/exec",
                axum::routing::any(crate::exec::handle),
            )
            .route(
                "/api/v1/namespaces/{ns}/pods/{name}/portforward",
                axum::routing::any(crate::portforward::handle),
            )
            .fallback(handle)
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(shared);
        let mut graceful = stop_rx.clone();
        let mut hard = stop_rx;
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = graceful.wait_for(|stop| *stop).await;
        });
        // Connections kept open by clients must not hold the test up for long.
        let deadline = async move {
            let _ = hard.wait_for(|stop| *stop).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        };
        tokio::select! {
            r = serve => {
                if let Err(e) = r {
                    tracing::warn!("fake kube: {e}");
                }
            }
            () = deadline => {}
        }
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}

pub(crate) const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
];
pub(crate) const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

pub(crate) fn gv_string(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

pub(crate) fn api_group_json(store: &Store, group: &str) -> Value {
    let versions: Vec<Value> = store
        .group_versions()
        .into_iter()
        .filter(|(g, _)| *g == group)
        .map(|(g, v)| json!({"groupVersion": gv_string(g, v), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

pub(crate) fn resource_list_json(store: &Store, group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    let served: Vec<&'static ResourceDef> = store
        .served()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    for r in served {
        let mut m = Map::new();
        m.insert("name".into(), r.plural.into());
        m.insert("singularName".into(), r.singular.into());
        m.insert("namespaced".into(), r.namespaced.into());
        m.insert("kind".into(), r.kind.into());
        m.insert("verbs".into(), json!(VERBS));
        if !r.short_names.is_empty() {
            m.insert("shortNames".into(), json!(r.short_names));
        }
        if !r.categories.is_empty() {
            m.insert("categories".into(), json!(r.categories));
        }
        resources.push(Value::Object(m));
        if r.status {
            resources.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": STATUS_VERBS,
            }));
        }
        if r.is("", "Pod") {
            resources.push(json!({
                "name": "pods/log",
                "singularName": "",
                "namespaced": true,
                "kind": "Pod",
                "verbs": ["get"],
            }));
            for (sub, kind) in [
                ("pods/exec", "PodExecOptions"),
                ("pods/portforward", "PodPortForwardOptions"),
            ] {
                resources.push(json!({
                    "name": sub,
                    "singularName": "",
                    "namespaced": true,
                    "kind": kind,
                    "verbs": ["create", "get"],
                }));
            }
        }
    }
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv_string(group, version),
        "resources": resources,
    })
}

pub(crate) fn version_json() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0",
        "gitCommit": "60a317eadfcb839692a68eab88b2096f4d708f4f",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T13:07:31Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    fn hex(c: u8) -> Option<u8> {
        (c as char).to_digit(16).map(|d| d as u8)
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn parse_query(q: &str) -> Query {
    let mut out = BTreeMap::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(percent_decode(k, true), percent_decode(v, true));
    }
    out
}

pub(crate) fn json_response(code: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = parse_query(uri.query().unwrap_or(""));
    let header_text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header_text(header::CONTENT_TYPE);
    let authorization = header_text(header::AUTHORIZATION);
    let recorded_body = if body.is_empty() {
        None
    } else {
        serde_json::from_slice::<Value>(&body).ok().or_else(|| {
            let yaml = media_type(content_type.as_deref()).contains("yaml");
            yaml.then(|| parse_json_or_yaml(&body).ok()).flatten()
        })
    };
    lock(&shared.requests).push(RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        content_type: content_type.clone(),
        authorization: authorization.clone(),
        body: recorded_body,
    });
    tracing::debug!("fake kube: {method} {uri}");
    if let Some(f) = shared.take_fault(method.as_str(), &path) {
        if f.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        }
        if f.status != 0 {
            let e = ApiError::injected(f.status);
            return json_response(e.code, &e.body());
        }
    }
    if let Some(a) = &authorization
        && a.trim() != format!("Bearer {TOKEN}")
    {
        let e = ApiError::unauthorized();
        return json_response(e.code, &e.body());
    }
    if matches!(path.as_str(), "/healthz" | "/livez" | "/readyz") {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "ok").into_response();
    }
    let now = now();
    if let Some((ns, name)) = pod_log_path(&path) {
        if method != Method::GET {
            let e = ApiError::method_not_allowed();
            return json_response(e.code, &e.body());
        }
        return crate::logs::respond(&shared, &ns, &name, &query);
    }
    let result = {
        let mut store = lock(&shared.store);
        route(
            &mut store,
            &method,
            &path,
            &query,
            content_type.as_deref(),
            &body,
            &now,
        )
    };
    match result {
        Ok((code, v)) => json_response(code, &v),
        Err(e) => json_response(e.code, &e.body()),
    }
}

/// `/api/v1/namespaces/{ns}/pods/{name}/log` -> (ns, name).
pub(crate) fn pod_log_path(path: &str) -> Option<(String, String)> {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect();
    match segs.as_slice() {
        [api, v1, namespaces, ns, pods, name, log]
            if api == "api"
                && v1 == "v1"
                && namespaces == "namespaces"
                && pods == "pods"
                && log == "log" =>
        {
            Some((ns.clone(), name.clone()))
        }
        _ => None,
    }
}

pub(crate) fn get_only(method: &Method, body: Value) -> Reply {
    if method == Method::GET {
        Ok((200, body))
    } else {
        Err(ApiError::method_not_allowed())
    }
}

pub(crate) fn route(
    store: &mut Store,
    method: &Method,
    path: &str,
    q: &Query,
    ct: Option<&str>,
    body: &[u8],
    now: &str,
) -> Reply {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["version"] => get_only(method, version_json()),
        ["api"] => get_only(
            method,
            json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": store.server_address}
                ],
            }),
        ),
        ["apis"] => {
            let mut groups = Vec::new();
            for (g, _) in store.group_versions() {
                if !g.is_empty() && !groups.iter().any(|x: &Value| x["name"] == g) {
                    groups.push(api_group_json(store, g));
                }
            }
            get_only(
                method,
                json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
            )
        }
        ["apis", group] => {
            if store
                .group_versions()
                .iter()
                .any(|(g, _)| g == group && !g.is_empty())
            {
                let mut v = api_group_json(store, group);
                if let Value::Object(m) = &mut v {
                    let mut o = Map::new();
                    o.insert("kind".into(), "APIGroup".into());
                    o.insert("apiVersion".into(), "v1".into());
                    o.extend(std::mem::take(m));
                    *m = o;
                }
                get_only(method, v)
            } else {
                Err(ApiError::path_not_found())
            }
        }
        ["api", "v1", rest @ ..] => resources(store, method, "", "v1", rest, q, ct, body, now),
        ["apis", group, version, rest @ ..] => {
            resources(store, method, group, version, rest, q, ct, body, now)
        }
        _ => Err(ApiError::path_not_found()),
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "mirrors the request: every part is needed"
)]
pub(crate) fn resources(
    store: &mut Store,
    method: &Method,
    group: &str,
    version: &str,
    rest: &[&str],
    q: &Query,
    ct: Option<&str>,
    body: &[u8],
    now: &str,
) -> Reply {
    if !store
        .group_versions()
        .iter()
        .any(|(g, v)| *g == group && *v == version)
    {
        return Err(ApiError::path_not_found());
    }
    if rest.is_empty() {
        return get_only(method, resource_list_json(store, group, version));
    }
    let namespace_sub =
        group.is_empty() && rest.len() == 3 && matches!(rest[2], "status" | "finalize");
    let (ns, plural, name, sub) = if rest[0] == "namespaces" && rest.len() >= 3 && !namespace_sub {
        if rest.len() > 5 {
            return Err(ApiError::path_not_found());
        }
        (
            Some(rest[1]),
            rest[2],
            rest.get(3).copied(),
            rest.get(4).copied(),
        )
    } else {
        if rest.len() > 3 {
            return Err(ApiError::path_not_found());
        }
        (None, rest[0], rest.get(1).copied(), rest.get(2).copied())
    };
    if group == "events.k8s.io" && plural == "events" && sub.is_none() {
        return crate::events::events_v1(store, method == Method::GET, ns, name, q);
    }
    let res = store
        .find_by_plural(group, version, plural)
        .ok_or_else(ApiError::path_not_found)?;
    if (ns.is_some() && !res.namespaced) || (ns.is_none() && res.namespaced && name.is_some()) {
        return Err(ApiError::path_not_found());
    }
    let sub = match sub {
        None => Sub::Main,
        Some("status") if res.status => Sub::Status,
        Some(_) => return Err(ApiError::path_not_found()),
    };
    let t = Target {
        res,
        ns: ns.map(str::to_string),
        name: name.map(str::to_string),
        sub,
    };
    match (method.as_str(), t.name.is_some(), sub) {
        ("GET", false, _) => store.list(&t, q),
        ("GET", true, _) => store.get(&t),
        ("POST", false, Sub::Main) => {
            if res.namespaced && t.ns.is_none() {
                Err(ApiError::method_not_allowed())
            } else {
                store.create(&t, q, ct, body, now)
            }
        }
        ("PUT", true, _) => store.replace(&t, q, ct, body, now),
        ("PATCH", true, _) => store.patch(&t, q, ct, body, now),
        ("DELETE", true, Sub::Main) => store.delete(&t, q, body, now),
        ("DELETE", false, Sub::Main) => store.delete_collection(&t, q, body, now),
        _ => Err(ApiError::method_not_allowed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_a_lone_percent() {
        assert_eq!(percent_decode("a%20b+c", true), "a b c");
        assert_eq!(percent_decode("100%", false), "100%");
    }
}
