//! `serve` over real HTTP on 127.0.0.1: index files with ETags and gzip, the JSON API, publishing
//! with its checks, path traversal, health and metrics.

use cocktail_pkg::index::format::RootIndex;
use cocktail_pkg::index::sign::SignatureFile;
use reqwest::StatusCode;
use reqwest::blocking::Client;

use crate::support::{PackageBuilder, TOKEN, TestServer, root};

fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().gzip(false).build().unwrap()
}

#[test]
fn index_files_have_strong_etags_and_conditional_gets() {
    let s = TestServer::start();
    let c = client();
    let r = c.get(format!("{}index.json", s.url)).send().unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    let body = r.bytes().unwrap();
    assert_eq!(
        &body[..],
        &std::fs::read(root().join("index/index.json")).unwrap()[..]
    );
    // The signature verifies with the server's key.
    let sig = c
        .get(format!("{}index.json.sig", s.url))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    s.public_key
        .verify(&body, &SignatureFile::parse(&sig).unwrap())
        .unwrap();
    // Unchanged: 304 and no body.
    let r = c
        .get(format!("{}index.json", s.url))
        .header("If-None-Match", &etag)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert!(r.bytes().unwrap().is_empty());
    // Gzip on request, with its own ETag.
    let r = c
        .get(format!("{}index.json", s.url))
        .header("Accept-Encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_ne!(r.headers()["etag"].to_str().unwrap(), etag);
    // Archives are immutable.
    let r = c
        .get(format!("{}archives/redis-1.0.0.tgz", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
}

#[test]
fn path_traversal_is_refused() {
    let s = TestServer::start();
    let c = client();
    for path in [
        "archives/..%2F..%2F..%2Fetc%2Fpasswd",
        "archives/%2Fetc%2Fpasswd",
        "archives/..%252F..%252Fetc%252Fpasswd",
        "packages/..%2F..%2Fetc%2Fpasswd.json",
        "static/..%2F..%2FCargo.toml",
        "..%2F..%2Fetc%2Fpasswd",
        "/etc/passwd",
    ] {
        let url = format!("{}{path}", s.url.trim_end_matches('/').to_string() + "/");
        let r = c.get(&url).send().unwrap();
        assert!(
            r.status() == StatusCode::NOT_FOUND || r.status() == StatusCode::BAD_REQUEST,
            "{path}: {}",
            r.status()
        );
        let body = r.text().unwrap();
        assert!(!body.contains("root:"), "{path} leaked a file");
    }
}

/// Sends a request line as written (clients normalise `..` away; attackers do not).
fn raw_get(url: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn raw_dot_dot_paths_are_refused() {
    let s = TestServer::start();
    for path in [
        "/archives/../../../../etc/passwd",
        "/packages/../../Cargo.toml",
        "/static/../../../etc/passwd",
        "//etc/passwd",
        "/packages/%2e%2e",
        "/archives/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/archives/..\\..\\etc\\passwd",
    ] {
        let resp = raw_get(&s.url, path);
        let status = resp.lines().next().unwrap_or("").to_string();
        assert!(
            status.contains(" 404 ") || status.contains(" 400 "),
            "{path}: {status}"
        );
        assert!(!resp.contains("root:x:"), "{path} leaked a file");
    }
}

#[test]
fn search_and_package_detail() {
    let s = TestServer::start();
    let c = client();
    let v: serde_json::Value = c
        .get(format!("{}api/v1/packages?q=sql", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let names: Vec<&str> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"postgresql") && names.contains(&"mariadb"),
        "{names:?}"
    );
    let v: serde_json::Value = c
        .get(format!("{}api/v1/packages?q=&category=monitoring", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let names: Vec<&str> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["grafana", "node-exporter", "prometheus"]);
    let d: serde_json::Value = c
        .get(format!("{}api/v1/packages/redis", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(d["package"]["name"], "redis");
    assert!(d["readme"].as_str().unwrap().starts_with("# redis"));
    assert!(d["values"].as_str().unwrap().contains("image:"));
    assert_eq!(d["schema"]["type"], "object");
    assert_eq!(d["versions"][0]["version"], "1.0.0");
    let r = c
        .get(format!("{}api/v1/packages/nope", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

fn archive_of(b: &PackageBuilder, name: &str) -> Vec<u8> {
    cocktail_pkg::archive::write(name, &b.files()).unwrap()
}

fn good_package(version: &str) -> PackageBuilder {
    PackageBuilder::new("hello")
        .file(
            "package.yaml",
            &format!("apiVersion: cocktail-pkg/v1\nname: hello\nversion: {version}\nappVersion: \"1\"\ndescription: Hello from a publisher\ncategory: web\n"),
        )
        .file("values.yaml", "greeting: hi\n")
        .file("templates/cm.yaml", crate::support::CONFIGMAP)
}

fn publish(c: &Client, s: &TestServer, token: Option<&str>, body: Vec<u8>) -> (StatusCode, String) {
    let mut req = c.post(format!("{}api/v1/packages", s.url)).body(body);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let r = req.send().unwrap();
    (r.status(), r.text().unwrap())
}

#[test]
fn publishing_needs_the_token() {
    let s = TestServer::start();
    let c = client();
    let body = archive_of(&good_package("1.0.0"), "hello");
    assert_eq!(
        publish(&c, &s, None, body.clone()).0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        publish(&c, &s, Some("wrong"), body.clone()).0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        publish(&c, &s, Some(&format!("{TOKEN}x")), body).0,
        StatusCode::FORBIDDEN
    );
    let root: RootIndex = RootIndex::parse(
        &c.get(format!("{}index.json", s.url))
            .send()
            .unwrap()
            .bytes()
            .unwrap(),
    )
    .unwrap();
    assert!(root.package("hello").is_none());
}

#[test]
fn publish_makes_a_version_visible_and_signed() {
    let s = TestServer::start();
    let c = client();
    let (status, body) = publish(
        &c,
        &s,
        Some(TOKEN),
        archive_of(&good_package("1.0.0"), "hello"),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let root_bytes = c
        .get(format!("{}index.json", s.url))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let root = RootIndex::parse(&root_bytes).unwrap();
    assert_eq!(root.package("hello").unwrap().latest.to_string(), "1.0.0");
    let sig = SignatureFile::parse(
        &c.get(format!("{}index.json.sig", s.url))
            .send()
            .unwrap()
            .bytes()
            .unwrap(),
    )
    .unwrap();
    s.public_key.verify(&root_bytes, &sig).unwrap();
    // On disk too, signed, so a restarted server serves the same.
    let on_disk = std::fs::read(s.index_dir().join("index.json")).unwrap();
    assert_eq!(on_disk, root_bytes.to_vec());
    let r = c
        .get(format!("{}archives/hello-1.0.0.tgz", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The same version again: conflict.
    let (status, body) = publish(
        &c,
        &s,
        Some(TOKEN),
        archive_of(&good_package("1.0.0"), "hello"),
    );
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("already published"), "{body}");
}

#[test]
fn malicious_or_broken_archives_are_refused() {
    let s = TestServer::start();
    let c = client();
    // Lint errors (an unpinned image).
    let bad = good_package("2.0.0").file(
        "templates/d.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: nginx}]\n",
    );
    let (status, body) = publish(&c, &s, Some(TOKEN), archive_of(&bad, "hello"));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("image-tag"), "{body}");
    // Not an archive.
    let (status, body) = publish(&c, &s, Some(TOKEN), b"GIF89a".to_vec());
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Path traversal inside the archive.
    let mut h = tar::Header::new_gnu();
    let name = b"hello/../../../tmp/pwned";
    h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
    h.set_size(1);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut tar_bytes = h.as_bytes().to_vec();
    tar_bytes.extend_from_slice(b"x");
    tar_bytes.extend(std::iter::repeat_n(0u8, 511 + 1024));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar_bytes).unwrap();
    let (status, body) = publish(&c, &s, Some(TOKEN), gz.finish().unwrap());
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("`..` is not allowed"), "{body}");
    // Top folder not named after the package.
    let (status, body) = publish(
        &c,
        &s,
        Some(TOKEN),
        archive_of(&good_package("3.0.0"), "other"),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("top folder"), "{body}");
    // Nothing became visible.
    let root = RootIndex::parse(&std::fs::read(s.index_dir().join("index.json")).unwrap()).unwrap();
    assert!(root.package("hello").is_none());
}

#[test]
fn concurrent_publishes_of_different_versions_both_land() {
    let s = TestServer::start();
    let url = s.url.clone();
    let handles: Vec<_> = ["1.0.0", "1.1.0", "1.2.0", "2.0.0"]
        .into_iter()
        .map(|v| {
            let url = url.clone();
            let body = archive_of(&good_package(v), "hello");
            std::thread::spawn(move || {
                let c = client();
                c.post(format!("{url}api/v1/packages"))
                    .header("Authorization", format!("Bearer {TOKEN}"))
                    .body(body)
                    .send()
                    .unwrap()
                    .status()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), StatusCode::CREATED);
    }
    let c = client();
    let root_bytes = c
        .get(format!("{}index.json", s.url))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let root = RootIndex::parse(&root_bytes).unwrap();
    let hello = root.package("hello").unwrap();
    assert_eq!(hello.version_count, 4);
    assert_eq!(hello.latest.to_string(), "2.0.0");
    let sig = SignatureFile::parse(
        &c.get(format!("{}index.json.sig", s.url))
            .send()
            .unwrap()
            .bytes()
            .unwrap(),
    )
    .unwrap();
    s.public_key.verify(&root_bytes, &sig).unwrap();
}

#[test]
fn health_metrics_and_web_page() {
    let s = TestServer::start();
    let c = client();
    let h: serde_json::Value = c
        .get(format!("{}healthz", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(h["status"], "ok");
    let page = c
        .get(format!("{}?q=redis", s.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("href=\"/packages/redis\""), "{page}");
    let page = c
        .get(format!("{}packages/redis", s.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("id=\"install-command\""));
    let m = c
        .get(format!("{}metrics", s.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        m.contains(
            "cocktail_pkg_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{m}"
    );
    assert!(m.contains("cocktail_pkg_index_packages 17"), "{m}");
}

#[test]
fn serve_command_starts_and_stops_gracefully_on_sigterm() {
    use std::io::BufRead;
    let home = tempfile::tempdir().unwrap();
    /// Kills and reaps the server if the test fails half-way.
    struct Guard(std::process::Child);
    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut guard = Guard(
        std::process::Command::new(crate::support::bin())
            .current_dir(root())
            .env("NO_COLOR", "1")
            .env("COCKTAIL_PKG_CONFIG_HOME", home.path())
            .args(["serve", "--index", "index", "--addr", "127.0.0.1:0"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let child = &mut guard.0;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut url = None;
    while url.is_none() && std::time::Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(200))
            && let Some(rest) = line.split(" on http://").nth(1)
        {
            url = rest.split('/').next().map(|a| format!("http://{a}/"));
        }
    }
    let url = url.expect("serve printed its address");
    let c = client();
    assert_eq!(
        c.get(format!("{url}healthz")).send().unwrap().status(),
        StatusCode::OK
    );
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut status = None;
    while status.is_none() && std::time::Instant::now() < deadline {
        status = child.try_wait().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = status.expect("serve stops within the deadline after SIGTERM");
    assert!(status.success(), "{status}");
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");
}

#[test]
fn the_install_snippet_works_as_written_after_the_pages_repo_add() {
    let s = TestServer::start();
    let c = client();
    let page = c
        .get(format!("{}packages/redis", s.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let code = |id: &str| {
        let start = page.find(&format!("<code id=\"{id}\">")).unwrap() + id.len() + 12;
        let end = start + page[start..].find("</code>").unwrap();
        page[start..end]
            .replace("&#x2f;", "/")
            .replace("&amp;", "&")
    };
    let repo_add = code("repo-add-command");
    let install = code("install-command");
    assert!(install.contains("--create-service-map"), "{install}");
    let api: serde_json::Value = c
        .get(format!("{}api/v1/packages/redis", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(api["install"], install.as_str());
    // Run both as written (the target comes from the environment, as a user's would).
    let home = tempfile::tempdir().unwrap();
    for line in [&repo_add, &install] {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[0], "cocktail-pkg", "{line}");
        crate::support::cmd()
            .env("COCKTAIL_PKG_CONFIG_HOME", home.path().join("config"))
            .env("COCKTAIL_PKG_CACHE_HOME", home.path().join("cache"))
            .env(
                "COCKTAIL_PKG_TARGET",
                format!("dir:{}", home.path().join("gitops").display()),
            )
            .args(&words[1..])
            .assert()
            .success();
    }
    assert!(
        home.path()
            .join("gitops/my-service-map")
            .read_dir()
            .unwrap()
            .next()
            .is_some(),
        "redis was installed into my-service-map"
    );
}

/// A `cocktail-pkg serve` process on 127.0.0.1:0; killed and reaped on drop. Its stderr lines
/// arrive on `lines`.
struct ServeProcess {
    child: std::process::Child,
    url: String,
    lines: std::sync::mpsc::Receiver<String>,
    _home: tempfile::TempDir,
}

impl ServeProcess {
    fn start(args: &[&str]) -> Self {
        use std::io::BufRead;
        let home = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(crate::support::bin())
            .current_dir(root())
            .env("NO_COLOR", "1")
            .env("COCKTAIL_PKG_CONFIG_HOME", home.path())
            .arg("serve")
            .args(args)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut url = None;
        let mut seen = Vec::new();
        while url.is_none() && std::time::Instant::now() < deadline {
            if let Ok(line) = lines.recv_timeout(std::time::Duration::from_millis(200)) {
                if let Some(rest) = line.split(" on http://").nth(1) {
                    url = rest.split('/').next().map(|a| format!("http://{a}/"));
                }
                seen.push(line);
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("serve exited with {status}: {seen:?}");
            }
        }
        let url = url.unwrap_or_else(|| panic!("serve printed no address: {seen:?}"));
        Self {
            child,
            url,
            lines,
            _home: home,
        }
    }

    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` every 100 ms until it gives a value, failing after 20 s.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn json_of(c: &Client, url: &str) -> (StatusCode, serde_json::Value) {
    let r = c.get(url).send().unwrap();
    let status = r.status();
    (status, r.json().unwrap_or(serde_json::Value::Null))
}

#[test]
fn serve_reloads_an_index_rebuilt_on_disk_and_keeps_the_last_good_one() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    crate::support::copy_dir(&root().join("index"), &site);
    let key = tmp.path().join("signing.key");
    crate::support::cmd()
        .args(["index", "keygen", "--out"])
        .arg(&key)
        .assert()
        .success();
    let serve = ServeProcess::start(&[
        "--index",
        site.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--addr",
        "127.0.0.1:0",
        "--reload-interval",
        "1",
    ]);
    let c = client();
    let hello = format!("{}api/v1/packages/hello", serve.url);
    assert_eq!(json_of(&c, &hello).0, StatusCode::NOT_FOUND);

    // CI rebuilds the index with a new package in another folder, signed with the same key,
    // and moves it in file by file: archives, versions files, then the root and signature.
    let next = tmp.path().join("next");
    crate::support::copy_dir(&site, &next);
    let catalog = tmp.path().join("catalog");
    crate::support::write_files(
        &catalog.join("hello"),
        &good_package("1.0.0")
            .files()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8(v).unwrap()))
            .collect(),
    );
    crate::support::cmd()
        .args(["index", "build"])
        .arg(&catalog)
        .arg("--out")
        .arg(&next)
        .arg("--key")
        .arg(&key)
        .assert()
        .success();
    for dir in ["archives", "packages"] {
        for e in std::fs::read_dir(next.join(dir)).unwrap() {
            let e = e.unwrap();
            std::fs::rename(e.path(), site.join(dir).join(e.file_name())).unwrap();
        }
    }
    std::fs::rename(next.join("index.json"), site.join("index.json")).unwrap();
    std::fs::rename(next.join("index.json.sig"), site.join("index.json.sig")).unwrap();
    let detail = eventually("the rebuilt index to be served", || {
        let (status, v) = json_of(&c, &hello);
        (status == StatusCode::OK).then_some(v)
    });
    assert_eq!(detail["versions"][0]["version"], "1.0.0");
    assert!(detail["readme"].is_null() && detail["archiveError"].is_null());
    let (_, health) = json_of(&c, &format!("{}healthz", serve.url));
    assert_eq!(health["status"], "ok", "{health}");
    assert!(health["lastReloadError"].is_null(), "{health}");

    // A broken rebuild (unsigned): the root pins a versions file that is not there.
    let sig_before = std::fs::read(site.join("index.json.sig")).unwrap();
    std::fs::remove_file(site.join("index.json.sig")).unwrap();
    let mut broken: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join("index.json")).unwrap()).unwrap();
    broken["packages"][0]["versionsDigest"] =
        serde_json::Value::String(format!("sha256:{}", "0".repeat(64)));
    std::fs::write(
        site.join("index.json"),
        serde_json::to_vec_pretty(&broken).unwrap(),
    )
    .unwrap();
    let health = eventually("/healthz to report the failed reload", || {
        let (status, v) = json_of(&c, &format!("{}healthz", serve.url));
        assert_eq!(
            status,
            StatusCode::OK,
            "the last good index is still served"
        );
        v["lastReloadError"].is_string().then_some(v)
    });
    assert_eq!(health["status"], "degraded", "{health}");
    let error = health["lastReloadError"].as_str().unwrap();
    assert!(error.contains("digest does not match the root"), "{error}");
    assert_eq!(health["packages"], 18, "{health}");
    // The last good snapshot is still served, signed.
    assert_eq!(json_of(&c, &hello).0, StatusCode::OK);
    let root_bytes = c
        .get(format!("{}index.json", serve.url))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert!(
        RootIndex::parse(&root_bytes)
            .unwrap()
            .package("hello")
            .is_some()
    );
    // And the log says why.
    let log = eventually("the log to say why", || {
        serve
            .lines
            .try_iter()
            .find(|l| l.contains("was not reloaded"))
    });
    assert!(log.contains("digest does not match the root"), "{log}");

    // SIGHUP reloads at once: a root with a signature by the server's key that does not match
    // is refused too; the process lives on.
    std::fs::copy(root().join("index/index.json"), site.join("index.json")).unwrap();
    std::fs::write(site.join("index.json.sig"), &sig_before).unwrap();
    serve.signal("HUP");
    let health = eventually("SIGHUP to report the bad signature", || {
        let (_, v) = json_of(&c, &format!("{}healthz", serve.url));
        v["lastReloadError"]
            .as_str()
            .is_some_and(|e| e.contains("does not verify"))
            .then_some(v)
    });
    assert_eq!(health["status"], "degraded");
    assert_eq!(json_of(&c, &hello).0, StatusCode::OK);

    // Repaired: served again, the error cleared.
    std::fs::remove_file(site.join("index.json.sig")).unwrap();
    eventually("the repaired index to be served", || {
        let (_, v) = json_of(&c, &format!("{}healthz", serve.url));
        (v["status"] == "ok" && v["packages"] == 17).then_some(())
    });
    assert_eq!(json_of(&c, &hello).0, StatusCode::NOT_FOUND);
}

#[test]
fn serve_on_a_busy_port_says_so_with_a_hint() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = crate::support::cmd()
        .env("COCKTAIL_PKG_CONFIG_HOME", home.path())
        .args(["serve", "--index", "index", "--addr", &addr.to_string()])
        .assert()
        .failure()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("error: failed to listen on {addr}")),
        "{stderr}"
    );
    let next = format!("127.0.0.1:{}", addr.port() + 1);
    assert!(
        stderr.contains(&format!("hint: another program is listening on {addr}"))
            && stderr.contains(&format!("`--addr {next}`")),
        "{stderr}"
    );
}

#[test]
fn a_corrupt_archive_is_reported_not_shown_as_an_empty_readme() {
    let s = TestServer::start();
    let c = client();
    std::fs::write(
        s.index_dir().join("archives/redis-1.0.0.tgz"),
        b"not an archive any more",
    )
    .unwrap();
    let d: serde_json::Value = c
        .get(format!("{}api/v1/packages/redis", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let error = d["archiveError"].as_str().unwrap_or_else(|| panic!("{d}"));
    assert!(
        error.contains("redis 1.0.0") && error.contains("digest"),
        "{error}"
    );
    assert!(d["readme"].is_null());
    let page = c
        .get(format!("{}packages/redis", s.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("id=\"archive-error\""), "{page}");
    assert!(page.contains("Archive unreadable"), "{page}");
}

/// Issue 10, defect 7: publishing to a server started without a token says how to turn
/// publishing on, instead of a bare 403.
#[test]
fn publishing_to_a_server_without_a_token_says_how_to_enable_it() {
    let s = TestServer::start_with_token(&crate::support::root().join("index"), None);
    let home = tempfile::tempdir().unwrap();
    let user = || {
        let mut c = crate::support::cmd();
        c.env("COCKTAIL_PKG_CONFIG_HOME", home.path().join("config"))
            .env("COCKTAIL_PKG_CACHE_HOME", home.path().join("cache"));
        c
    };
    user()
        .args(["repo", "add", "team", &s.url])
        .assert()
        .success();
    user()
        .args(["publish", "catalog/redis", "--to", "team"])
        .env("COCKTAIL_PKG_PUBLISH_TOKEN", "anything")
        .assert()
        .code(1)
        .stderr(predicates::str::contains("publishing is disabled on this server"))
        .stderr(predicates::str::contains(
            "hint: this server was started without a publish token: start it with `cocktail-pkg serve --token-file FILE`",
        ));
}
