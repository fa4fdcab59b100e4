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
const NOT_FOUND: &str = include_str!("web/not_found.html");
const STYLE: &str = include_str!("web/style.css");
const FAVICON: &str = include_str!("web/favicon.svg");

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        for (name, src) in [
            ("layout.html", LAYOUT),
            ("index.html", INDEX),
            ("package.html", PACKAGE),
            ("not_found.html", NOT_FOUND),
        ] {
            if let Err(e) = env.add_template(name, src) {
                tracing::error!("web template {name} is invalid: {e}");
            }
        }
        env
    })
}

fn render(name: &str, ctx: minijinja::Value) -> Response {
    render_with_status(StatusCode::OK, name, ctx)
}

fn render_with_status(status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
    match env().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(body) => (status, html(body)).into_response(),
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

/// The repository name the page suggests for this catalog (the one the guides use).
pub const SUGGESTED_REPO: &str = "team";

/// The service map the install command names, created by the command when missing.
pub const SUGGESTED_SERVICE_MAP: &str = "my-service-map";

/// The command that installs a package from this catalog, once added as [`SUGGESTED_REPO`] by
/// [`repo_add_command`]: it works as written (the service map is created when missing).
pub fn install_command(name: &str) -> String {
    format!(
        "cocktail-pkg install {name} {SUGGESTED_REPO}/{name} -n {SUGGESTED_SERVICE_MAP} --create-service-map"
    )
}

/// The command that adds this catalog, reached at `base` (`https://host/`).
pub fn repo_add_command(base: &str) -> String {
    format!("cocktail-pkg repo add {SUGGESTED_REPO} {base}")
}

/// Markdown to HTML, with raw HTML in the source shown as text (READMEs are untrusted) and HTML
/// comments (`<!-- values:start -->`, markers for tools) left out.
pub fn markdown(src: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut in_comment = false;
    let parser = Parser::new_ext(src, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
        .filter_map(move |e| match e {
            Event::Html(h) | Event::InlineHtml(h) => {
                let text = h.trim();
                if in_comment || text.starts_with("<!--") {
                    in_comment = !text.ends_with("-->");
                    return None;
                }
                Some(Event::Text(h))
            }
            // A block made only of comments leaves no empty wrapper behind.
            Event::Start(Tag::HtmlBlock) | Event::End(TagEnd::HtmlBlock) => None,
            other => Some(other),
        });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, parser);
    // Tables scroll inside their own box instead of widening the page (the renderer escapes
    // every `<` of the source, so only its own tables match).
    out.replace("<table>", "<div class=\"table-scroll\"><table>")
        .replace("</table>", "</table></div>")
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
    let Some(summary) = snap.root.package(name).filter(|_| valid_name(name)) else {
        return not_found_page(Some(name));
    };
    let versions = snap
        .versions
        .get(name)
        .map(|(f, _)| f.versions.clone())
        .unwrap_or_default();
    let (pkg, archive_error) = read_latest(snap, name).await;
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
            archive_error => archive_error,
        },
    )
}

/// The latest version's package, read off the async runtime, or why its archive is unreadable
/// (logged).
pub(super) async fn read_latest(
    snap: &Arc<Snapshot>,
    name: &str,
) -> (Option<crate::package::Package>, Option<String>) {
    let result = {
        let snap = Arc::clone(snap);
        let name = name.to_string();
        tokio::task::spawn_blocking(move || latest_package(&snap, &name)).await
    };
    match result {
        Ok(Ok(pkg)) => (pkg, None),
        Ok(Err(reason)) => {
            tracing::error!("package {name}: {reason}");
            (None, Some(reason))
        }
        Err(e) => {
            tracing::error!("package {name}: the archive reading task failed: {e}");
            (None, Some("the archive reading task failed".to_string()))
        }
    }
}

/// The styled 404 page: for a package `name` this catalog does not have, or any unknown page.
pub fn not_found_page(name: Option<&str>) -> Response {
    render_with_status(
        StatusCode::NOT_FOUND,
        "not_found.html",
        context! { name => name },
    )
}

/// `/favicon.ico` and `/favicon.svg`: the catalog's logo (SVG).
pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_drops_comments_escapes_html_and_boxes_tables() {
        let html = markdown(
            "## Values\n\n<!-- values:start -->\n| a | b |\n|---|---|\n| 1 | 2 |\n<!-- values:end -->\n\n<script>x</script>\n\nSome <!-- inline --> text\n",
        );
        assert!(
            !html.contains("values:start") && !html.contains("values:end"),
            "{html}"
        );
        assert!(!html.contains("inline"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(
            html.contains("<div class=\"table-scroll\"><table>"),
            "{html}"
        );
        assert!(html.contains("</table></div>"), "{html}");
    }
}
