//! The repository client against real HTTP on 127.0.0.1: end to end through the CLI with our own
//! server, and faults from a scripted server (5xx, dropped connections, truncated bodies, wrong
//! digests, bad signatures, 304s, a server that never answers) — each with its documented
//! outcome and a cache that holds only verified data.

use std::collections::{BTreeMap, VecDeque};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cocktail_pkg::index::sign::SecretKey;
use cocktail_pkg::ops::index::{IndexBuildOptions, build};
use cocktail_pkg::repo::config::RepoEntry;
use cocktail_pkg::repo::{Freshness, Repo, RepoClient, RepoError};
use predicates::prelude::*;

use crate::support::{TOKEN, TestServer, cmd, copy_dir, root};

/// `cocktail-pkg` with its own config and cache folders.
fn user(home: &Path) -> assert_cmd::Command {
    let mut c = cmd();
    c.env("COCKTAIL_PKG_CONFIG_HOME", home.join("config"))
        .env("COCKTAIL_PKG_CACHE_HOME", home.join("cache"))
        .env("COCKTAIL_PKG_HTTP_TIMEOUT", "5");
    c
}

#[test]
fn end_to_end_host_add_search_pull_render_publish() {
    let server = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let key_file = home.path().join("server.pub");
    std::fs::write(&key_file, server.public_key.to_text()).unwrap();
    user(home.path())
        .args(["repo", "add", "team", &server.url, "--public-key"])
        .arg(&key_file)
        .assert()
        .success()
        .stderr(predicate::str::contains("Added team"));
    user(home.path())
        .args(["repo", "list", "-o", "json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"name\": \"team\""));
    let out = user(home.path())
        .args(["search", "postgres", "-o", "json"])
        .output()
        .unwrap();
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<String> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{}/{}",
                h["repo"].as_str().unwrap(),
                h["name"].as_str().unwrap()
            )
        })
        .collect();
    assert!(names.contains(&"team/postgresql".to_string()), "{names:?}");
    assert!(
        names.contains(&"catalog/postgresql".to_string()),
        "{names:?}"
    );
    let dest = home.path().join("pulled");
    user(home.path())
        .args(["pull", "team/redis", "--version", "^1", "-d"])
        .arg(&dest)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("sha256:"));
    assert!(dest.join("redis-1.0.0.tgz").is_file());
    user(home.path())
        .args(["template", "team/nginx@^1", "-n", "shop"])
        .assert()
        .success()
        .stdout(predicate::str::contains("namespace: shop"));
    user(home.path())
        .args(["show", "readme", "team/nginx"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("# nginx"));
    // Publish a new version through the API, then see it after `repo update`.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("catalog/nginx"), &dir.path().join("nginx"));
    let manifest = dir.path().join("nginx/package.yaml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("version: 1.0.0", "version: 1.1.0");
    std::fs::write(&manifest, text).unwrap();
    user(home.path())
        .args(["publish"])
        .arg(dir.path().join("nginx"))
        .args(["--to", "team"])
        .env("COCKTAIL_PKG_PUBLISH_TOKEN", "wrong")
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: the server refused the package (403 Forbidden): the token is not valid for publishing",
        ));
    user(home.path())
        .args(["publish"])
        .arg(dir.path().join("nginx"))
        .args(["--to", "team"])
        .env("COCKTAIL_PKG_PUBLISH_TOKEN", TOKEN)
        .assert()
        .success()
        .stderr(predicate::str::contains("Published nginx 1.1.0 to"));
    user(home.path())
        .args(["repo", "update"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "Updated team (new index, 17 packages)",
        ));
    user(home.path())
        .args(["search", "nginx", "--versions"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"(?m)^team/nginx\s+1\.1\.0\s")
                .unwrap()
                .and(predicate::str::is_match(r"(?m)^team/nginx\s+1\.0\.0\s").unwrap()),
        );
    user(home.path())
        .args(["repo", "update"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "Updated team (unchanged, 17 packages)",
        ));
    user(home.path())
        .args(["repo", "remove", "team"])
        .assert()
        .success();
    user(home.path())
        .args(["pull", "team/redis"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: no repository named `team`",
        ));
}

#[test]
fn trust_on_first_use_pins_the_key() {
    let server = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    user(home.path())
        .args(["repo", "add", "team", &server.url])
        .assert()
        .success()
        .stderr(predicate::str::contains("trusting the key"));
    let cfg = std::fs::read_to_string(home.path().join("config/repositories.yaml")).unwrap();
    assert!(cfg.contains(server.public_key.to_text().trim()), "{cfg}");
}

#[test]
fn builtin_catalog_needs_no_setup() {
    let home = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    user(home.path())
        .current_dir(elsewhere.path())
        .args(["template", "catalog/redis", "-q"])
        .assert()
        .success()
        .stdout(predicate::str::contains("kind: StatefulSet"));
    user(home.path())
        .current_dir(elsewhere.path())
        .args(["search", "cache"])
        .assert()
        .success()
        .stdout(predicate::str::contains("catalog/memcached"));
}

// ---- faults, from a scripted server ----

/// What the scripted server does for one request.
#[derive(Clone)]
enum Act {
    /// Serve the file from the index folder (with its ETag, 304 on a match).
    File,
    Status(u16),
    /// Close the connection without answering.
    Drop,
    /// Announce the full length, send half, close.
    Truncate,
    /// Serve these bytes instead of the file.
    Body(Vec<u8>),
    /// Never answer (until the client gives up).
    Hang,
}

struct Scripted {
    url: String,
    hits: Arc<Mutex<Vec<(String, bool)>>>,
    script: Arc<Mutex<BTreeMap<String, VecDeque<Act>>>>,
}

impl Scripted {
    fn start(dir: PathBuf) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let hits = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Mutex<BTreeMap<String, VecDeque<Act>>>> = Arc::default();
        let (h, sc) = (Arc::clone(&hits), Arc::clone(&script));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let (dir, h, sc) = (dir.clone(), Arc::clone(&h), Arc::clone(&sc));
                std::thread::spawn(move || {
                    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
                    let mut buf = [0u8; 8192];
                    let n = s.read(&mut buf).unwrap_or(0);
                    let req = String::from_utf8_lossy(&buf[..n]).to_string();
                    let path = req
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("/")
                        .trim_start_matches('/')
                        .to_string();
                    let inm = req
                        .lines()
                        .find_map(|l| {
                            l.strip_prefix("If-None-Match: ")
                                .or_else(|| l.strip_prefix("if-none-match: "))
                        })
                        .map(|v| v.trim().to_string());
                    let act = sc
                        .lock()
                        .unwrap()
                        .get_mut(&path)
                        .and_then(|q| {
                            if q.len() > 1 {
                                q.pop_front()
                            } else {
                                q.front().cloned()
                            }
                        })
                        .unwrap_or(Act::File);
                    h.lock().unwrap().push((path.clone(), inm.is_some()));
                    let file = std::fs::read(dir.join(&path)).ok();
                    let send = |s: &mut std::net::TcpStream,
                                status: &str,
                                etag: Option<String>,
                                body: &[u8],
                                len: usize| {
                        let mut head = format!(
                            "HTTP/1.1 {status}\r\nContent-Length: {len}\r\nConnection: close\r\n"
                        );
                        if let Some(e) = etag {
                            head.push_str(&format!("ETag: {e}\r\n"));
                        }
                        head.push_str("\r\n");
                        let _ = s.write_all(head.as_bytes());
                        let _ = s.write_all(body);
                    };
                    match act {
                        Act::File => match file {
                            Some(b) => {
                                let etag =
                                    format!("\"{}\"", cocktail_pkg::model::Digest::of(&b).hex());
                                if inm.as_deref() == Some(etag.as_str()) {
                                    send(&mut s, "304 Not Modified", Some(etag), b"", 0);
                                } else {
                                    send(&mut s, "200 OK", Some(etag), &b, b.len());
                                }
                            }
                            None => send(&mut s, "404 Not Found", None, b"", 0),
                        },
                        Act::Status(code) => {
                            send(&mut s, &format!("{code} Scripted"), None, b"", 0)
                        }
                        Act::Drop => {}
                        Act::Truncate => {
                            let b = file.unwrap_or_default();
                            send(&mut s, "200 OK", None, &b[..b.len() / 2], b.len());
                        }
                        Act::Body(b) => send(&mut s, "200 OK", None, &b, b.len()),
                        Act::Hang => std::thread::sleep(Duration::from_secs(8)),
                    }
                });
            }
        });
        Self { url, hits, script }
    }

    fn script(&self, path: &str, acts: Vec<Act>) {
        self.script
            .lock()
            .unwrap()
            .insert(path.to_string(), acts.into());
    }

    fn requests(&self, path: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .count()
    }
}

/// A signed index of two packages, and a client with an empty cache.
fn fixture() -> (tempfile::TempDir, Scripted, RepoEntry, RepoClient, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let cat = tmp.path().join("catalog");
    copy_dir(&root().join("catalog/redis"), &cat.join("redis"));
    copy_dir(&root().join("catalog/nginx"), &cat.join("nginx"));
    let key = SecretKey::from_seed([9; 32]);
    std::fs::write(tmp.path().join("k"), key.to_text()).unwrap();
    let site = tmp.path().join("site");
    build(&IndexBuildOptions {
        catalog: cat,
        out: site.clone(),
        key: Some(tmp.path().join("k")),
        now: 0,
    })
    .unwrap();
    let server = Scripted::start(site);
    let entry = RepoEntry {
        name: "t".into(),
        url: server.url.clone(),
        public_key: key.public().to_text().trim().to_string(),
        ..RepoEntry::default()
    };
    let cache = tmp.path().join("cache");
    (tmp, server, entry, RepoClient::new(cache.clone()), cache)
}

fn cached(cache: &Path) -> Vec<String> {
    let mut out: Vec<String> = walk(cache);
    out.sort();
    out
}

fn walk(p: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(p) else {
        return Vec::new();
    };
    rd.flat_map(|e| {
        let e = e.unwrap();
        if e.path().is_dir() {
            walk(&e.path())
        } else {
            vec![e.file_name().to_string_lossy().to_string()]
        }
    })
    .collect()
}

#[test]
fn server_error_then_success_is_retried() {
    let (_t, server, entry, mut client, _) = fixture();
    server.script(
        "index.json",
        vec![Act::Status(500), Act::Status(503), Act::File],
    );
    let (root, fresh) = client.update(&entry).unwrap();
    assert_eq!(root.packages.len(), 2);
    assert_eq!(fresh, Freshness::Updated);
    assert_eq!(server.requests("index.json"), 3);
}

#[test]
fn dropped_connection_is_retried() {
    let (_t, server, entry, mut client, _) = fixture();
    server.script("index.json", vec![Act::Drop, Act::File]);
    assert!(client.update(&entry).is_ok());
}

#[test]
fn persistent_failure_gives_up_and_caches_nothing() {
    let (_t, server, entry, mut client, cache) = fixture();
    server.script("index.json", vec![Act::Status(500)]);
    let err = client.update(&entry).unwrap_err();
    assert!(matches!(err, RepoError::Http(_)), "{err}");
    assert!(
        err.to_string()
            .contains("failed after 4 attempts: server error 500"),
        "{err}"
    );
    assert!(cached(&cache).is_empty());
    server.script("index.json", vec![Act::Status(404)]);
    let err = client.update(&entry).unwrap_err();
    assert!(err.to_string().ends_with("answered 404 Not Found"), "{err}");
}

#[test]
fn bad_signature_is_refused_and_nothing_cached() {
    let (_t, server, entry, mut client, cache) = fixture();
    let forged = SecretKey::from_seed([1; 32]).sign(b"something else");
    let mut sig = forged.clone();
    // Right key id, wrong signature.
    sig.key_id = cocktail_pkg::index::sign::PublicKey::parse(&entry.public_key)
        .unwrap()
        .key_id();
    server.script("index.json.sig", vec![Act::Body(sig.to_bytes())]);
    let err = cocktail_pkg::error_chain(&client.update(&entry).unwrap_err());
    assert!(
        err.contains("the index signature does not match its content"),
        "{err}"
    );
    assert!(cached(&cache).is_empty());
    // Signed by another key.
    server.script("index.json.sig", vec![Act::Body(forged.to_bytes())]);
    let err = cocktail_pkg::error_chain(&client.update(&entry).unwrap_err());
    assert!(err.contains("but this repository trusts key"), "{err}");
    assert!(cached(&cache).is_empty());
}

#[test]
fn truncated_body_is_refused() {
    let (_t, server, entry, mut client, cache) = fixture();
    server.script("index.json", vec![Act::Truncate]);
    let err = client.update(&entry).unwrap_err();
    assert!(cached(&cache).is_empty(), "{err}");
}

#[test]
fn wrong_archive_digest_is_refused_and_not_cached() {
    let (_t, server, entry, mut client, cache) = fixture();
    let repo = Repo::Remote(entry.clone());
    let root = client.root(&repo).unwrap();
    let versions = client
        .versions(&repo, root.package("redis").unwrap())
        .unwrap();
    let v = &versions.versions[0];
    server.script(&v.url, vec![Act::Body(b"not the archive".to_vec())]);
    let err = client.archive(&repo, v, &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, RepoError::DigestMismatch { .. }), "{err}");
    assert!(!cached(&cache).iter().any(|f| f.ends_with(".tgz")));
    // A tampered versions file is refused the same way.
    let (_t2, server2, entry2, mut client2, _) = fixture();
    server2.script("packages/redis.json", vec![Act::Body(b"{}".to_vec())]);
    let repo2 = Repo::Remote(entry2);
    let root2 = client2.root(&repo2).unwrap();
    let err = client2
        .versions(&repo2, root2.package("redis").unwrap())
        .unwrap_err();
    assert!(matches!(err, RepoError::DigestMismatch { .. }), "{err}");
    // The honest archive is then fetched, verified and cached by digest.
    server.script(&v.url, vec![Act::File]);
    let bytes = client.archive(&repo, v, &mut |_, _| {}).unwrap();
    assert_eq!(cocktail_pkg::model::Digest::of(&bytes), v.digest);
    assert!(cached(&cache).contains(&format!("{}.tgz", v.digest.hex())));
}

#[test]
fn unchanged_index_is_a_304_without_body() {
    let (_t, server, entry, mut client, _) = fixture();
    client.update(&entry).unwrap();
    let (_, fresh) = client.update(&entry).unwrap();
    assert_eq!(fresh, Freshness::Unchanged);
    let conditional: Vec<bool> = server
        .hits
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| p == "index.json")
        .map(|(_, c)| *c)
        .collect();
    assert_eq!(
        conditional,
        [false, true],
        "the second fetch sent If-None-Match"
    );
}

#[test]
fn a_server_that_never_answers_hits_the_deadline() {
    let (_t, server, entry, _, cache) = fixture();
    server.script("index.json", vec![Act::Hang]);
    // SAFETY-free: the timeout comes from the environment variable read when the client is built.
    let start = std::time::Instant::now();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    std::fs::write(
        home.path().join("config/repositories.yaml"),
        format!(
            "apiVersion: cocktail-pkg/v1\nrepositories:\n- name: t\n  url: {}\n  publicKey: {}\n",
            entry.url, entry.public_key
        ),
    )
    .unwrap();
    user(home.path())
        .env("COCKTAIL_PKG_HTTP_TIMEOUT", "0.3")
        .args(["repo", "update"])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("failed after 4 attempts").and(predicate::str::contains(
                "hint: the server did not answer in time",
            )),
        );
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(cached(&cache).is_empty());
}
