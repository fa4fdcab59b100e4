//! The catalog web page: server-rendered HTML (minijinja, auto-escaped), no JavaScript needed.
//! `/` lists and searches packages; `/packages/NAME` shows one with its README, values and the
//! exact install command. READMEs are rendered from Markdown with raw HTML escaped.

use std::sync::{Arc, OnceLock};

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Environment, context};

use super::snapshot::Snapshot;
use super::{AppState, SearchQuery, html, latest_package, valid_name};

const LAYOUT: &str = include_str!("web/layout.html");
const INDEX: &str = include_str!("web/index.html");
const PACKAGE: &str = include_str!("web/package.html");
const STYLE: &str = include_str!("web/style.css");

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        for (name, src) in [
            ("layout.html", LAYOUT),
            ("index.html", INDEX),
            ("package.html", PACKAGE),
        ] {
            if let Err(e) = env.add_template(name, src) {
                tracing::error!("web template {name} is invalid: {e}");
            }
        }
        env
    })
}

fn render(name: &str, ctx: minijinja::Value) -> Response {
    match env().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(body) => html(body),
        Err(e) => {
            tracing::error!("failed to render {name}: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "failed to render the page",
            )
                .into_response()
        }
    }
}

/// The repository name the page suggests for this catalog.
pub const SUGGESTED_REPO: &str = "cocktail";

/// The command that installs a package from this catalog, once added as [`SUGGESTED_REPO`].
pub fn install_command(name: &str) -> String {
    format!("cocktail-pkg install {name} {SUGGESTED_REPO}/{name} --service-map my-service-map")
}

/// The command that adds this catalog, reached at `base` (`https://host/`).
pub fn repo_add_command(base: &str) -> String {
    format!("cocktail-pkg repo add {SUGGESTED_REPO} {base}")
}

/// Markdown to HTML, with raw HTML in the source shown as text (READMEs are untrusted).
pub fn markdown(src: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser};
    let parser = Parser::new_ext(src, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(
        |e| match e {
            Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
            other => other,
        },
    );
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, parser);
    out
}

pub async fn index_page(State(s): State<Arc<AppState>>, Query(q): Query<SearchQuery>) -> Response {
    let snap = s.snapshot();
    let hits = snap.search(&q.q, q.category.as_deref());
    let mut categories: Vec<String> = snap
        .root
        .packages
        .iter()
        .filter_map(|p| p.category.clone())
        .collect();
    categories.sort();
    categories.dedup();
    render(
        "index.html",
        context! {
            packages => minijinja::value::Serde(serde_json::to_value(&hits).unwrap_or_default()),
            total => snap.root.packages.len(),
            q => q.q,
            category => q.category.unwrap_or_default(),
            categories => categories,
        },
    )
}

pub async fn package_page(snap: &Arc<Snapshot>, name: &str, host: &str) -> Response {
    if !valid_name(name) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let Some(summary) = snap.root.package(name) else {
        return (StatusCode::NOT_FOUND, html_not_found(name)).into_response();
    };
    let versions = snap
        .versions
        .get(name)
        .map(|(f, _)| f.versions.clone())
        .unwrap_or_default();
    let pkg = {
        let snap = Arc::clone(snap);
        let name = name.to_string();
        tokio::task::spawn_blocking(move || latest_package(&snap, &name))
            .await
            .ok()
            .flatten()
    };
    let file = |f: &str| {
        pkg.as_ref()
            .and_then(|p| p.files.get(f))
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    // The page already shows the name as its heading: drop a README's own title line.
    let readme_html = file("README.md").map(|r| {
        let body = match r.split_once('\n') {
            Some((first, rest)) if first.starts_with("# ") => rest,
            _ => r.as_str(),
        };
        markdown(body)
    });
    render(
        "package.html",
        context! {
            p => minijinja::value::Serde(summary),
            versions => minijinja::value::Serde(&versions),
            readme_html => minijinja::Value::from_safe_string(readme_html.unwrap_or_default()),
            values => file("values.yaml").unwrap_or_default(),
            install => install_command(name),
            repo_add => repo_add_command(host),
        },
    )
}

fn html_not_found(name: &str) -> axum::response::Html<String> {
    let mut escaped = String::new();
    for c in name.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            c => escaped.push(c),
        }
    }
    axum::response::Html(format!(
        "<!doctype html><title>Not found</title><p>No package named <code>{escaped}</code>. <a href=\"/\">Back to the catalog</a></p>"
    ))
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}
