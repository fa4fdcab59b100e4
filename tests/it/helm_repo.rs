//! Helm repositories end to end through the CLI, against a Helm repository on 127.0.0.1 (a small
//! static server in the test that records every request): `repo add` (detection, auth), `repo
//! update` answered 304, `search` (with `--versions`), `pull`, `template REPO/CHART@REQ` with
//! Helm's constraint syntax, a digest mismatch refused with nothing cached, a truncated or damaged
//! index refused with the previous cache kept. The index is real `helm repo index` output when
//! `HELM` is set, else written by the test in the same shape.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cocktail_pkg::model::Digest;
use predicates::prelude::*;

use crate::support::{cmd, root};

/// `cocktail-pkg` with its own config and cache folders.
fn user(home: &Path) -> assert_cmd::Command {
    let mut c = cmd();
    c.env("COCKTAIL_PKG_CONFIG_HOME", home.join("config"))
        .env("COCKTAIL_PKG_CACHE_HOME", home.join("cache"))
        .env("COCKTAIL_PKG_HTTP_TIMEOUT", "5");
    c
}

/// One request the server answered.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: BTreeMap<String, String>,
    status: u16,
    body_len: usize,
}

/// What the server sends for a path instead of the file.
#[derive(Debug, Clone)]
enum Override {
    /// A `Content-Length` of the whole file, half the bytes, then the connection closes.
    Truncate,
    /// These bytes, with their own ETag.
    Body(Vec<u8>),
}

#[derive(Default)]
struct Conf {
    /// The `Authorization` value every request must carry.
    auth: Option<String>,
    overrides: BTreeMap<String, Override>,
}

/// A static Helm repository on 127.0.0.1: ETag and Last-Modified validators, 304s, optional
/// authentication, overrides; every request recorded.
struct HelmServer {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    conf: Arc<Mutex<Conf>>,
}

const LAST_MODIFIED: &str = "Wed, 01 Jan 2026 00:00:00 GMT";

impl HelmServer {
    fn start(dir: PathBuf) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/charts/", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let conf: Arc<Mutex<Conf>> = Arc::default();
        let (seen2, conf2) = (Arc::clone(&seen), Arc::clone(&conf));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let (dir, seen, conf) = (dir.clone(), Arc::clone(&seen2), Arc::clone(&conf2));
                std::thread::spawn(move || {
                    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
                    let (text, path) = read_request(&mut s);
                    let headers: BTreeMap<String, String> = text
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect();
                    let (auth, over) = {
                        let c = conf.lock().unwrap();
                        (c.auth.clone(), c.overrides.get(&path).cloned())
                    };
                    let mut send = |status: u16, extra: &str, body: &[u8], len: usize| {
                        let head = format!(
                            "HTTP/1.1 {status} X\r\nContent-Length: {len}\r\nConnection: close\r\n{extra}\r\n"
                        );
                        let _ = s.write_all(head.as_bytes());
                        let _ = s.write_all(body);
                        seen.lock().unwrap().push(Seen {
                            path: path.clone(),
                            headers: headers.clone(),
                            status,
                            body_len: body.len(),
                        });
                    };
                    if auth.is_some() && headers.get("authorization") != auth.as_ref() {
                        send(401, "WWW-Authenticate: Basic realm=\"charts\"\r\n", b"", 0);
                        return;
                    }
                    let file = std::fs::read(dir.join(&path)).ok();
                    let body = match (over, file) {
                        (Some(Override::Truncate), Some(b)) => {
                            send(200, "", &b[..b.len() / 2], b.len());
                            return;
                        }
                        (Some(Override::Body(b)), _) => b,
                        (_, Some(b)) => b,
                        (_, None) => {
                            send(404, "", b"", 0);
                            return;
                        }
                    };
                    let etag = format!("\"{}\"", Digest::of(&body).hex());
                    let validators = format!("ETag: {etag}\r\nLast-Modified: {LAST_MODIFIED}\r\n");
                    if headers.get("if-none-match") == Some(&etag) {
                        send(304, &validators, b"", 0);
                    } else {
                        send(200, &validators, &body, body.len());
                    }
                });
            }
        });
        Self { url, seen, conf }
    }

    fn seen(&self, path: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }

    fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }

    fn set_auth(&self, auth: Option<String>) {
        self.conf.lock().unwrap().auth = auth;
    }

    fn set_override(&self, path: &str, o: Option<Override>) {
        let mut c = self.conf.lock().unwrap();
        match o {
            Some(o) => c.overrides.insert(path.to_string(), o),
            None => c.overrides.remove(path),
        };
    }
}

/// Reads a request's head (bounded): its text and the path below `/charts/`.
fn read_request(s: &mut impl Read) -> (String, String) {
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 65536 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&req).to_string();
    let path = text
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches("/charts/")
        .to_string();
    (text, path)
}

/// Copies a fixture chart to `dest` with another version (and `deprecated: true` when asked).
fn chart_copy(fixture: &str, version: &str, deprecated: bool, dest: &Path) {
    crate::support::copy_dir(&root().join("tests/fixtures/charts").join(fixture), dest);
    let path = dest.join("Chart.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("version:") {
            out.push_str(&format!("version: {version}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if deprecated {
        out.push_str("deprecated: true\n");
    }
    std::fs::write(path, out).unwrap();
}

/// A chart archive the way `helm package` lays it out: every file under `NAME/`.
fn tgz(dir: &Path, name: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    for rel in files {
        let bytes = std::fs::read(dir.join(&rel)).unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("{name}/{rel}"), bytes.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(base, &p, out);
        } else {
            out.push(
                p.strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

/// The charts of the test repository: `basic` 1.2.3, 1.3.0, 2.0.0 (deprecated), and `small`
/// 0.1.0.
const CHARTS: [(&str, &str, bool); 4] = [
    ("basic", "1.2.3", false),
    ("basic", "1.3.0", false),
    ("basic", "2.0.0", true),
    ("small", "0.1.0", false),
];

/// Packages the charts into `site/` and writes `site/index.yaml`: with the real helm when `HELM`
/// is set (`helm package` and `helm repo index`), else with the same layout and shape here.
fn helm_site(tmp: &Path) -> PathBuf {
    let site = tmp.join("site");
    std::fs::create_dir_all(&site).unwrap();
    let helm = std::env::var_os("HELM").filter(|h| !h.is_empty());
    let mut index = String::from("apiVersion: v1\nentries:\n");
    let mut last = "";
    for (name, version, deprecated) in CHARTS {
        let src = tmp.join(format!("src/{name}-{version}/{name}"));
        chart_copy(name, version, deprecated, &src);
        let file = format!("{name}-{version}.tgz");
        match &helm {
            Some(h) => {
                let out = std::process::Command::new(h)
                    .args(["package"])
                    .arg(&src)
                    .arg("-d")
                    .arg(&site)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            None => {
                let bytes = tgz(&src, name);
                std::fs::write(site.join(&file), &bytes).unwrap();
                if name != last {
                    index.push_str(&format!("  {name}:\n"));
                    last = name;
                }
                index.push_str(&format!(
                    "  - apiVersion: v2\n    appVersion: \"4.5.6\"\n    created: \"2026-01-01T00:00:00.000000000Z\"\n{}    description: The {name} chart\n    digest: {}\n    name: {name}\n    type: application\n    urls:\n    - {file}\n    version: {version}\n",
                    if deprecated { "    deprecated: true\n" } else { "" },
                    Digest::of(&bytes).hex()
                ));
            }
        }
    }
    match &helm {
        Some(h) => {
            let out = std::process::Command::new(h)
                .args(["repo", "index"])
                .arg(&site)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        None => {
            eprintln!("HELM is not set: the test writes index.yaml in helm's shape itself");
            index.push_str("generated: \"2026-01-01T00:00:00.000000000Z\"\n");
            std::fs::write(site.join("index.yaml"), index).unwrap();
        }
    }
    site
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn cached_archives(home: &Path) -> usize {
    std::fs::read_dir(home.join("cache/packages-v1/sha256"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn add_update_search_pull_and_render_from_a_helm_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let site = helm_site(tmp.path());
    let server = HelmServer::start(site.clone());
    let home = tmp.path().join("home");

    user(&home)
        .args(["repo", "add", "h", &server.url])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "Added h (".to_string() + &server.url + ", Helm repository, 2 charts)",
        ));
    assert_eq!(
        server.seen("index.pub")[0].status,
        404,
        "ours is tried first"
    );
    assert_eq!(server.seen("index.yaml").len(), 1);
    let listed = json(
        &user(&home)
            .args(["repo", "list", "-o", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(listed[1]["kind"], "helm");

    // An unchanged index transfers nothing: a conditional request answered 304.
    server.clear();
    user(&home)
        .args(["repo", "update"])
        .assert()
        .success()
        .stderr(predicate::str::contains("Updated h (unchanged, 2 charts)"));
    let seen = server.seen("index.yaml");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].headers.contains_key("if-none-match"), "{seen:?}");
    assert_eq!(
        seen[0].headers.get("if-modified-since").map(String::as_str),
        Some(LAST_MODIFIED)
    );
    assert_eq!((seen[0].status, seen[0].body_len), (304, 0));

    // Search: the newest version that is neither deprecated nor a pre-release.
    let hits = json(
        &user(&home)
            .args(["search", "basic", "-o", "json"])
            .output()
            .unwrap(),
    );
    let hit = hits
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["repo"] == "h")
        .unwrap()
        .clone();
    assert_eq!(hit["name"], "basic");
    assert_eq!(hit["latest"], "1.3.0");
    assert_eq!(hit["kind"], "helm");
    assert_eq!(
        hit["deprecated"], true,
        "its newest version, 2.0.0, is deprecated"
    );
    user(&home)
        .args(["search", "basic"])
        .assert()
        .success()
        .stdout(predicate::str::contains("h/basic").and(predicate::str::contains("1.3.0")));
    let hits = json(
        &user(&home)
            .args(["search", "basic", "--versions", "-o", "json"])
            .output()
            .unwrap(),
    );
    let hit = hits
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["repo"] == "h")
        .unwrap()
        .clone();
    let versions: Vec<(String, bool)> = hit["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_str().unwrap().to_string(),
                v["yanked"] == true,
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            ("2.0.0".to_string(), true),
            ("1.3.0".to_string(), false),
            ("1.2.3".to_string(), false)
        ]
    );
    user(&home)
        .args(["search", "basic", "--versions"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(deprecated)"));

    // Pull with Helm's constraint syntax; the archive is the server's, byte for byte.
    let dest = tmp.path().join("pulled");
    std::fs::create_dir_all(&dest).unwrap();
    let out = user(&home)
        .args(["pull", "h/basic@>=1.2 <1.3", "-d"])
        .arg(&dest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pulled = std::fs::read(dest.join("basic-1.2.3.tgz")).unwrap();
    assert_eq!(pulled, std::fs::read(site.join("basic-1.2.3.tgz")).unwrap());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        Digest::of(&pulled).to_string()
    );
    assert_eq!(cached_archives(&home), 1);

    // Render by reference: the newest allowed version; a deprecated one only when pinned.
    user(&home)
        .args([
            "template",
            "h/basic@^1",
            "--release-name",
            "web",
            "-n",
            "shop",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("kind: Deployment"));
    user(&home)
        .args(["show", "package", "h/basic@~1.2"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1.2.3"));
    user(&home)
        .args(["pull", "h/basic@2.0.0", "-d"])
        .arg(&dest)
        .assert()
        .success();
    user(&home)
        .args(["pull", "h/basic@^2", "-d"])
        .arg(&dest)
        .assert()
        .failure()
        .stderr(predicate::str::contains("2.0.0 (deprecated)"));
    user(&home)
        .args(["pull", "h/small", "-d"])
        .arg(&dest)
        .assert()
        .success();
    assert!(dest.join("small-0.1.0.tgz").is_file());
}

#[test]
fn a_chart_whose_digest_does_not_match_is_refused_and_not_cached() {
    let tmp = tempfile::tempdir().unwrap();
    let site = helm_site(tmp.path());
    // The archive changed after the index was written.
    let path = site.join("small-0.1.0.tgz");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let server = HelmServer::start(site);
    let home = tmp.path().join("home");
    user(&home)
        .args(["repo", "add", "h", &server.url])
        .assert()
        .success();
    let dest = tmp.path().join("pulled");
    std::fs::create_dir_all(&dest).unwrap();
    user(&home)
        .args(["pull", "h/small", "-d"])
        .arg(&dest)
        .assert()
        .failure()
        .stderr(predicate::str::contains("but the index says sha256:"));
    user(&home)
        .args(["template", "h/small"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("but the index says"));
    assert_eq!(cached_archives(&home), 0, "nothing unverified is cached");
    assert!(!dest.join("small-0.1.0.tgz").exists());
}

#[test]
fn a_truncated_or_damaged_index_is_refused_and_the_previous_cache_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let site = helm_site(tmp.path());
    let server = HelmServer::start(site.clone());
    let home = tmp.path().join("home");
    user(&home)
        .args(["repo", "add", "h", &server.url])
        .assert()
        .success();
    let cache_file = home.join("cache/index-v1/h/helm-index.json");
    let before = std::fs::read(&cache_file).unwrap();

    // The connection closes half-way through the body.
    server.set_override("index.yaml", Some(Override::Truncate));
    user(&home)
        .args(["repo", "update"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("failed to read the download"));
    assert_eq!(std::fs::read(&cache_file).unwrap(), before);

    // A complete response holding a cut index (a damaged file on the server).
    let index = std::fs::read_to_string(site.join("index.yaml")).unwrap();
    let cut = &index[..index.find("urls:").unwrap() + 8];
    server.set_override("index.yaml", Some(Override::Body(cut.as_bytes().to_vec())));
    user(&home)
        .args(["repo", "update"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "served an index.yaml that was refused",
        ))
        .stderr(predicate::str::contains("previous cache was kept"));
    assert_eq!(std::fs::read(&cache_file).unwrap(), before);
    let leftovers: Vec<String> = std::fs::read_dir(home.join("cache/index-v1/h"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The old cache still answers.
    user(&home)
        .args(["search", "small"])
        .assert()
        .success()
        .stdout(predicate::str::contains("h/small"));

    // A new index replaces it (a changed body is not a 304).
    server.set_override("index.yaml", None);
    let mut grown = index.clone();
    grown.push_str("# a comment: new bytes, same charts\n");
    server.set_override("index.yaml", Some(Override::Body(grown.into_bytes())));
    user(&home)
        .args(["repo", "update", "h"])
        .assert()
        .success()
        .stderr(predicate::str::contains("new index"));
}

#[test]
fn basic_auth_and_bearer_tokens_reach_the_server() {
    let tmp = tempfile::tempdir().unwrap();
    let site = helm_site(tmp.path());
    let server = HelmServer::start(site);
    let home = tmp.path().join("home");
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "ann:s3cret")
    );
    server.set_auth(Some(basic.clone()));

    user(&home)
        .args(["repo", "add", "h", &server.url, "--type", "helm"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("401"))
        .stderr(predicate::str::contains(
            "--username/--password-stdin or --token",
        ));
    user(&home)
        .args([
            "repo",
            "add",
            "h",
            &server.url,
            "--username",
            "ann",
            "--password-stdin",
        ])
        .write_stdin("s3cret\n")
        .assert()
        .success();
    let dest = tmp.path().join("pulled");
    std::fs::create_dir_all(&dest).unwrap();
    user(&home)
        .args(["pull", "h/small", "-d"])
        .arg(&dest)
        .assert()
        .success();
    for path in ["index.yaml", "small-0.1.0.tgz"] {
        let seen = server.seen(path);
        assert!(
            seen.iter()
                .any(|s| s.status == 200 && s.headers.get("authorization") == Some(&basic)),
            "{path}: {seen:?}"
        );
    }
    // Stored for later commands, readable by the owner only, and never listed.
    let config = home.join("config/repositories.yaml");
    assert!(std::fs::read_to_string(&config).unwrap().contains("s3cret"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    user(&home)
        .args(["repo", "list"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("basic auth").and(predicate::str::contains("s3cret").not()),
        );

    // A bearer token.
    server.clear();
    server.set_auth(Some("Bearer tok-123".into()));
    user(&home)
        .args([
            "repo",
            "add",
            "h",
            &server.url,
            "--token",
            "tok-123",
            "--force",
        ])
        .assert()
        .success();
    user(&home).args(["repo", "update"]).assert().success();
    let seen = server.seen("index.yaml");
    assert!(
        seen.iter()
            .all(|s| s.headers.get("authorization").map(String::as_str) == Some("Bearer tok-123")),
        "{seen:?}"
    );
}

#[test]
fn insecure_skip_tls_verify_is_announced_on_every_use() {
    let tmp = tempfile::tempdir().unwrap();
    let site = helm_site(tmp.path());
    let server = HelmServer::start(site);
    let home = tmp.path().join("home");
    user(&home)
        .args([
            "repo",
            "add",
            "h",
            &server.url,
            "--insecure-skip-tls-verify",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "TLS certificate verification is OFF",
        ));
    user(&home)
        .args(["repo", "update"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "TLS certificate verification is OFF",
        ));
    user(&home)
        .args([
            "repo",
            "add",
            "x",
            &server.url,
            "--ca-file",
            "/nonexistent/ca.pem",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("CA file"));
}

/// What `outdated` and `upgrade --auto` read (installing charts is not supported yet, so through
/// the library): the repository's versions, deprecated ones marked yanked, after one refresh.
#[test]
fn policies_read_a_helm_repositorys_versions() {
    use cocktail_pkg::repo::reference::resolve_version;
    use cocktail_pkg::repo::{Freshness, Repo, RepoClient, RepoEntry, RepoKind};
    let tmp = tempfile::tempdir().unwrap();
    let site = helm_site(tmp.path());
    let server = HelmServer::start(site);
    let entry = RepoEntry {
        name: "h".into(),
        url: server.url.clone(),
        kind: RepoKind::Helm,
        ..RepoEntry::default()
    };
    let mut client = RepoClient::new(tmp.path().join("cache"));
    let (root, fresh) = client.update(&entry).unwrap();
    assert_eq!(fresh, Freshness::Updated);
    assert_eq!(client.update(&entry).unwrap().1, Freshness::Unchanged);
    let repo = Repo::Remote(entry);
    let summary = root.package("basic").unwrap();
    assert_eq!(summary.latest.to_string(), "1.3.0");
    let versions = client.versions(&repo, summary).unwrap().versions;
    let listed: Vec<(String, bool)> = versions
        .iter()
        .map(|v| (v.version.to_string(), v.yanked))
        .collect();
    assert_eq!(
        listed,
        [
            ("2.0.0".to_string(), true),
            ("1.3.0".to_string(), false),
            ("1.2.3".to_string(), false)
        ]
    );
    assert!(versions[0].url.starts_with(&server.url));
    // The newest version a policy may take skips the deprecated one.
    let newest = cocktail_pkg::index::format::latest(&versions).unwrap();
    assert_eq!(newest.version.to_string(), "1.3.0");
    // The reference `upgrade --auto` builds (`REPO/NAME@=VERSION`) resolves.
    let req = cocktail_pkg::repo::reference::Requirement::parse("=1.3.0").unwrap();
    let chosen = resolve_version(&mut client, &repo, "basic", Some(&req)).unwrap();
    assert_eq!(chosen.version.to_string(), "1.3.0");
}

#[test]
fn requirements_resolve_to_the_versions_helm_picks() {
    let Some(helm) = std::env::var_os("HELM").filter(|h| !h.is_empty()) else {
        eprintln!("HELM is not set: skipping the comparison with helm's resolution");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let site = helm_site(tmp.path());
    let server = HelmServer::start(site);
    let home = tmp.path().join("home");
    let helm_cmd = || {
        let mut c = std::process::Command::new(&helm);
        c.env("HELM_CONFIG_HOME", tmp.path().join("helm/config"))
            .env("HELM_CACHE_HOME", tmp.path().join("helm/cache"))
            .env("HELM_DATA_HOME", tmp.path().join("helm/data"));
        c
    };
    let out = helm_cmd()
        .args(["repo", "add", "h", &server.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    user(&home)
        .args(["repo", "add", "h", &server.url])
        .assert()
        .success();
    // Without a requirement helm takes the deprecated 2.0.0 and we take 1.3.0 (documented).
    for req in [
        "2.0.0",
        ">=1.2 <1.3",
        "~1.2",
        "^1",
        "1.3.0",
        "1.2 - 1.3",
        "1.2.x",
        "<1.3 || >=1.3 <2",
    ] {
        let dir = tmp.path().join(format!("h-{}", req.len()));
        let ours = tmp.path().join(format!("o-{}", req.len()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&ours).unwrap();
        let mut c = helm_cmd();
        c.args(["pull", "h/basic", "-d"]).arg(&dir);
        if !req.is_empty() {
            c.args(["--version", req]);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{req}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let reference = if req.is_empty() {
            "h/basic".to_string()
        } else {
            format!("h/basic@{req}")
        };
        user(&home)
            .args(["pull", &reference, "-d"])
            .arg(&ours)
            .assert()
            .success();
        let names = |d: &Path| {
            let mut v: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&ours), names(&dir), "requirement `{req}`");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&ours).unwrap();
    }
}

/// A Helm repository over HTTPS with a private CA (made with openssl): refused without the
/// CA, trusted with `--ca-file` for every later use, reachable with `--insecure-skip-tls-verify`.
#[test]
fn a_private_ca_is_trusted_with_ca_file() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    if !Path::new("/usr/bin/openssl").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "openssl is missing, but CI is set: .ci/run installs it"
        );
        eprintln!("skipping: /usr/bin/openssl is missing");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let site = helm_site(tmp.path());
    let pki = tmp.path().join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("/usr/bin/openssl")
            .args(args)
            .current_dir(&pki)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        pki.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(pki.join("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(pki.join("server.key")).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap(),
    );

    // A static HTTPS server of the site: one request per connection.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/charts/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(tcp) = stream else { continue };
            let (config, site) = (Arc::clone(&config), site.clone());
            std::thread::spawn(move || {
                tcp.set_read_timeout(Some(Duration::from_secs(5))).ok();
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let (_, path) = read_request(&mut tls);
                let (status, body) = match std::fs::read(site.join(&path)) {
                    Ok(b) => (200, b),
                    Err(_) => (404, Vec::new()),
                };
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes());
                let _ = tls.write_all(&body);
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });

    let home = tmp.path().join("home");
    // Not trusted: a clear error, nothing added.
    let out = user(&home)
        .args(["repo", "add", "h", &url])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error:") && err.contains("certificate"),
        "{err}"
    );
    assert!(err.contains("hint:") && err.contains("--ca-file"), "{err}");
    user(&home)
        .args(["repo", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains(&url).not());
    // Trusted through the CA file, which the repository keeps for later commands.
    let ca = pki.join("ca.pem");
    user(&home)
        .args(["repo", "add", "h", &url, "--ca-file", ca.to_str().unwrap()])
        .assert()
        .success();
    user(&home)
        .args(["search", "basic"])
        .assert()
        .success()
        .stdout(predicate::str::contains("h/basic"));
    let out = user(&home)
        .args(["template", "h/basic", "--release-name", "rel"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("# Source: basic/"));
    user(&home).args(["repo", "update"]).assert().success();
    // Without the CA but with verification off: reachable, and said loudly.
    user(&home)
        .args([
            "repo",
            "add",
            "insecure",
            &url,
            "--insecure-skip-tls-verify",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "TLS certificate verification is OFF",
        ));
}

/// A chart installs from a Helm repository by reference (`REPO/NAME@REQ`), verified against
/// the index's digest, and automatic upgrades follow the repository's versions (the
/// deprecated 2.0.0 skipped).
#[test]
fn a_chart_installs_from_a_helm_repository_by_reference_and_upgrades_automatically() {
    let tmp = tempfile::tempdir().unwrap();
    let site = helm_site(tmp.path());
    let server = HelmServer::start(site);
    let home = tmp.path().join("home");
    user(&home)
        .args(["repo", "add", "h", &server.url])
        .assert()
        .success();
    let target = format!("dir:{}", tmp.path().join("gitops").display());
    user(&home)
        .args([
            "install",
            "web",
            "h/basic@~1.2",
            "-n",
            "shop",
            "--target",
            &target,
            "--create-service-map",
            "--auto-upgrade",
            "minor",
            "--soak",
            "0s",
        ])
        .assert()
        .success();
    let history = json(
        &user(&home)
            .args([
                "history", "web", "-n", "shop", "--target", &target, "-o", "json",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(history[0]["version"], "1.2.3", "{history}");
    let rows = json(
        &user(&home)
            .args(["outdated", "-n", "shop", "--target", &target, "-o", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(rows[0]["allowed"], "1.3.0", "{rows}");
    let report = json(
        &user(&home)
            .args([
                "upgrade", "--auto", "-n", "shop", "--target", &target, "-o", "json",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(report["upgraded"], 1, "{report}");
    let manifest = String::from_utf8(
        user(&home)
            .args(["get", "manifest", "web", "-n", "shop", "--target", &target])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        manifest.contains("# Source: basic/templates/"),
        "{manifest}"
    );
    assert!(manifest.contains("basic-1.3.0"), "{manifest}");
}

/// Automatic upgrades follow the policy's `--on-drift`: `skip` leaves a drifted release alone
/// and reports the drift; `correct` upgrades and takes the drifted fields back.
#[test]
fn automatic_upgrades_report_drift_and_follow_the_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let site = helm_site(tmp.path());
    let server = HelmServer::start(site);
    let home = tmp.path().join("home");
    let fake = fake_kube::FakeKube::start();
    let kubeconfig = tmp.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig, Some("shop")).unwrap();
    fake.insert(
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
    );
    let kube = |args: &[&str]| {
        let out = user(&home)
            .env("KUBECONFIG", &kubeconfig)
            .env_remove("COCKTAIL_PKG_TARGET")
            .env("COCKTAIL_PKG_POLL_INTERVAL_MS", "50")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    kube(&["repo", "add", "h", &server.url]);
    kube(&[
        "install",
        "web",
        "h/basic@~1.2",
        "--auto-upgrade",
        "minor",
        "--soak",
        "0s",
        "--on-drift",
        "skip",
    ]);
    // `kubectl scale`-like edit by another field manager.
    let resp = cocktail_pkg::repo::http::client()
        .unwrap()
        .patch(format!(
            "{}/apis/apps/v1/namespaces/shop/deployments/web-basic?fieldManager=kubectl-edit",
            fake.url
        ))
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"spec":{"replicas":9}}"#)
        .send()
        .unwrap();
    assert!(resp.status().is_success());
    let report: serde_json::Value =
        serde_json::from_str(&kube(&["upgrade", "--auto", "-o", "json"])).unwrap();
    let row = &report["releases"][0];
    assert_eq!(row["code"], "drift", "{report}");
    assert!(
        row["drift"][0].as_str().unwrap().contains(
            "Deployment/web-basic .spec.replicas: release 2, live 9 (changed by kubectl-edit)"
        ),
        "{report}"
    );
    kube(&["policy", "set", "web", "--on-drift", "correct"]);
    let report: serde_json::Value =
        serde_json::from_str(&kube(&["upgrade", "--auto", "-o", "json"])).unwrap();
    assert_eq!(report["upgraded"], 1, "{report}");
    let d = fake
        .object("apps/v1", "Deployment", Some("shop"), "web-basic")
        .unwrap();
    assert_eq!(d["spec"]["replicas"], 2, "drift corrected");
}
