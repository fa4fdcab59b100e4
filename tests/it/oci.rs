//! OCI registries end to end: the real CNCF distribution registry (Debian's `docker-registry`,
//! v2.8) on 127.0.0.1 — open, with htpasswd (Basic) auth, and with token auth behind a token
//! server in this file — and test proxies that flip or drop bytes. With `HELM` set, the real
//! helm pulls and renders what `publish` pushed, and we pull what `helm push` pushed.
//!
//! Without `/usr/bin/docker-registry` (or `openssl`, for the token test) the tests say why and
//! pass, except under `CI`, where `.ci/run` installs them: there a missing binary fails.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use cocktail_pkg::model::Digest;

use crate::support::{CONFIGMAP, root, write_files};

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// A tool the test needs, or `None` (with the reason printed) when it is missing outside CI.
fn need(path: &str, install: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.is_file() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{path} is missing, but CI is set: .ci/run must install it ({install})"
    );
    eprintln!("skipping: {path} is missing (install it with `{install}`)");
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (bounded) until something listens on `addr`.
fn wait_listening(addr: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(addr).is_ok() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the registry exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the registry did not listen on {addr} within 20 s");
}

/// A real registry on 127.0.0.1 with its own storage; killed on drop.
struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    addr: String,
}

impl Registry {
    /// Starts one; `auth` is the `auth:` section of its configuration (or empty).
    fn start(auth: &str) -> Option<Registry> {
        let bin = need(REGISTRY_BIN, "apt-get install docker-registry")?;
        let dir = tempfile::tempdir().unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n  secret: test-secret\n{auth}",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log_path = dir.path().join("registry.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = Command::new(bin)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        wait_listening(&addr, &mut child, &log_path);
        Some(Registry { child, dir, addr })
    }

    fn url(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.addr)
    }

    /// The file holding a blob in the registry's storage.
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An isolated user: configuration, cache, Docker config and HOME in a temporary folder.
struct User {
    dir: tempfile::TempDir,
}

impl User {
    fn new() -> User {
        User {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut c = crate::support::cmd();
        c.env("COCKTAIL_PKG_CONFIG_HOME", self.path("config"))
            .env("COCKTAIL_PKG_CACHE_HOME", self.path("cache"))
            .env("DOCKER_CONFIG", self.path("docker"))
            .env("HOME", self.path("home"))
            .env_remove("COCKTAIL_PKG_PLAIN_HTTP")
            .env("COCKTAIL_PKG_HTTP_TIMEOUT", "20");
        c
    }

    /// Runs a command that must succeed; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command that must fail; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            !out.status.success(),
            "{args:?} should fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// Every file under the cache folder.
    fn cached_files(&self) -> Vec<PathBuf> {
        fn walk(d: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(d) else {
                return;
            };
            for e in entries.flatten() {
                if e.path().is_dir() {
                    walk(&e.path(), out);
                } else {
                    out.push(e.path());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.path("cache"), &mut out);
        out
    }
}

/// One of our packages, `name` at `version`, written under `dir`.
fn package(dir: &Path, name: &str, version: &str, greeting: &str) -> PathBuf {
    let pkg = dir.join(format!("{name}-{version}"));
    let files: std::collections::BTreeMap<String, String> = [
        (
            "package.yaml".to_string(),
            format!("apiVersion: cocktail-pkg/v1\nname: {name}\nversion: {version}\ndescription: test\nhome: https://example.com/{name}\n"),
        ),
        ("values.yaml".to_string(), format!("greeting: {greeting}\n")),
        ("templates/cm.yaml".to_string(), CONFIGMAP.to_string()),
    ]
    .into_iter()
    .collect();
    write_files(&pkg, &files);
    pkg
}

/// A plain HTTP client for looking at the registry directly.
fn http() -> reqwest::blocking::Client {
    cocktail_pkg::repo::http::client().unwrap()
}

fn sha256_file(path: &Path) -> String {
    Digest::of(&std::fs::read(path).unwrap()).to_string()
}

#[test]
fn publish_then_pull_by_tag_digest_and_range() {
    let Some(reg) = Registry::start("") else {
        return;
    };
    let user = User::new();
    let work = tempfile::tempdir().unwrap();
    let to = reg.url("team");
    let mut digests = std::collections::BTreeMap::new();
    for v in ["1.0.0", "1.1.0", "2.0.0-rc.1", "1.2.0+build.7"] {
        let pkg = package(work.path(), "hello", v, &format!("v{v}"));
        let out = user.ok(&["publish", pkg.to_str().unwrap(), "--to", &to]);
        digests.insert(v, out.trim().to_string());
    }
    // Helm writes `+` as `_` in tags.
    let tags: serde_json::Value = http()
        .get(format!("http://{}/v2/team/hello/tags/list", reg.addr))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        tags["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "1.2.0_build.7"),
        "{tags}"
    );

    let dest = user.path("out");
    std::fs::create_dir_all(&dest).unwrap();
    let d = dest.to_str().unwrap();
    let base = reg.url("team/hello");
    // By tag.
    let out = user.ok(&["pull", &format!("{base}:1.1.0"), "-d", d]);
    let file = dest.join("hello-1.1.0.tgz");
    assert_eq!(
        out.trim(),
        sha256_file(&file),
        "stdout is the archive digest"
    );
    // By range: the newest stable match; build metadata read back from the tag.
    user.ok(&["pull", &format!("{base}@^1"), "-d", d]);
    assert!(dest.join("hello-1.2.0+build.7.tgz").is_file());
    user.ok(&["pull", &base, "--version", "~1.1", "-d", d]);
    // Helm's constraint syntax too.
    std::fs::remove_file(dest.join("hello-1.1.0.tgz")).unwrap();
    user.ok(&["pull", &base, "--version", ">=1.0.0 <1.2.0", "-d", d]);
    assert!(dest.join("hello-1.1.0.tgz").is_file());
    // Pre-releases only when the requirement names one.
    user.ok(&["pull", &format!("{base}@>=2.0.0-rc.0"), "-d", d]);
    assert!(dest.join("hello-2.0.0-rc.1.tgz").is_file());
    // By manifest digest (what publish printed).
    std::fs::remove_file(&file).unwrap();
    user.ok(&["pull", &format!("{base}@{}", digests["1.1.0"]), "-d", d]);
    assert!(file.is_file());
    // No match: the semver tags are listed.
    let err = user.fails(&["pull", &format!("{base}@^3"), "-d", d]);
    assert!(err.contains("has no tag matching `^3`"), "{err}");
    assert!(
        err.contains("2.0.0-rc.1, 1.2.0+build.7, 1.1.0, 1.0.0"),
        "{err}"
    );

    // Every command that takes a package reference takes it.
    let rendered = user.ok(&["template", &format!("{base}@~1.0"), "--release-name", "r"]);
    assert!(rendered.contains("greeting: v1.0.0"), "{rendered}");
    let shown = user.ok(&["show", "package", &format!("{base}:1.1.0")]);
    assert!(
        shown.contains("version: \"1.1.0\"") || shown.contains("version: 1.1.0"),
        "{shown}"
    );
    user.ok(&["lint", &format!("{base}:1.1.0")]);
    let target = format!("dir:{}", user.path("gitops").display());
    user.ok(&[
        "install",
        "web",
        &format!("{base}@~1.0"),
        "-n",
        "shop",
        "--target",
        &target,
        "--create-service-map",
    ]);
    let out = user
        .cmd()
        .args([
            "diff",
            "upgrade",
            "web",
            &format!("{base}:1.1.0"),
            "-n",
            "shop",
            "--target",
            &target,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    user.ok(&[
        "upgrade",
        "web",
        &base,
        "--version",
        "1.1.0",
        "-n",
        "shop",
        "--target",
        &target,
    ]);
    // `--digest` pins the archive.
    let err = user.fails(&[
        "template",
        &format!("{base}:1.1.0"),
        "--digest",
        &format!("sha256:{}", "0".repeat(64)),
    ]);
    assert!(err.contains("digest mismatch"), "{err}");

    // Publishing is idempotent; another archive under the same version is refused.
    let pkg = package(work.path(), "hello", "1.0.0", "v1.0.0");
    let out = user
        .cmd()
        .args(["publish", pkg.to_str().unwrap(), "--to", &to])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Unchanged"));
    let other = package(&work.path().join("other"), "hello", "1.0.0", "changed");
    let err = user.fails(&["publish", other.to_str().unwrap(), "--to", &to]);
    assert!(err.contains("already holds a different artifact"), "{err}");
    assert!(err.contains("--force"), "{err}");
    user.ok(&["publish", other.to_str().unwrap(), "--to", &to, "--force"]);
    let err = user.fails(&[
        "publish",
        other.to_str().unwrap(),
        "--to",
        &format!("{to}:1.0.0"),
    ]);
    assert!(err.contains("the tag is the package's version"), "{err}");
}

#[test]
fn malformed_references_get_a_clear_error() {
    let user = User::new();
    let err = user.fails(&["template", "oci://Registry.example.com"]);
    assert!(err.contains("invalid OCI reference"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    let err = user.fails(&["pull", "oci://h/x:1.0@^1"]);
    assert!(err.contains("both a tag"), "{err}");
}

#[test]
fn a_tampered_blob_is_refused_and_nothing_is_cached() {
    let Some(reg) = Registry::start("") else {
        return;
    };
    let publisher = User::new();
    let work = tempfile::tempdir().unwrap();
    let pkg = package(work.path(), "hello", "1.0.0", "hi");
    publisher.ok(&["publish", pkg.to_str().unwrap(), "--to", &reg.url("team")]);
    let manifest: serde_json::Value = http()
        .get(format!("http://{}/v2/team/hello/manifests/1.0.0", reg.addr))
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.cocktail.package.v1.tar+gzip"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.cocktail.package.config.v1+json"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.title"],
        "hello"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.version"],
        "1.0.0"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.url"],
        "https://example.com/hello"
    );
    // Flip one byte of the archive in the registry's storage (same size).
    let blob = reg.blob_file(manifest["layers"][0]["digest"].as_str().unwrap());
    let mut bytes = std::fs::read(&blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&blob, &bytes).unwrap();

    let user = User::new();
    let err = user.fails(&["template", &reg.url("team/hello:1.0.0")]);
    assert!(err.contains("has digest sha256:"), "{err}");
    assert!(err.contains("expected sha256:"), "{err}");
    assert!(err.contains("nothing was cached"), "{err}");
    assert_eq!(user.cached_files(), Vec::<PathBuf>::new());
}

/// Forwards one request per connection to `upstream`; the body of every GET of the blob
/// `cut_blob` is cut in half and the connection closed.
struct DroppingProxy {
    addr: String,
    stop: Arc<AtomicBool>,
    cut: Arc<AtomicUsize>,
}

impl DroppingProxy {
    fn start(upstream: &str, cut_blob: &str) -> DroppingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let cut = Arc::new(AtomicUsize::new(0));
        let (stop2, cut2, upstream) = (stop.clone(), cut.clone(), upstream.to_string());
        let cut_path = format!("/blobs/{cut_blob}");
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !stop2.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((mut client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let _ = proxy_one(&mut client, &upstream, &cut_path, &cut2);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        DroppingProxy { addr, stop, cut }
    }
}

impl Drop for DroppingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_head(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b)? == 0 {
            break;
        }
        head.push(b[0]);
    }
    Ok(head)
}

fn proxy_one(
    client: &mut TcpStream,
    upstream: &str,
    cut_path: &str,
    cut: &AtomicUsize,
) -> std::io::Result<()> {
    let head = String::from_utf8_lossy(&read_head(client)?).into_owned();
    let mut lines: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    let request = format!("{}\r\n\r\n", lines.join("\r\n"));
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(Some(Duration::from_secs(10)))?;
    up.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(response.len(), |i| i + 4);
    if head.starts_with("GET ") && head.contains(cut_path) && response.len() > split {
        let body = response.len() - split;
        client.write_all(&response[..split + body / 2])?;
        cut.fetch_add(1, Ordering::Relaxed);
    } else {
        client.write_all(&response)?;
    }
    client.flush()?;
    client.shutdown(std::net::Shutdown::Both)
}

#[test]
fn a_registry_that_drops_connections_gives_a_clear_error_and_caches_nothing() {
    let Some(reg) = Registry::start("") else {
        return;
    };
    let user = User::new();
    let work = tempfile::tempdir().unwrap();
    let pkg = package(work.path(), "hello", "1.0.0", "hi");
    user.ok(&["publish", pkg.to_str().unwrap(), "--to", &reg.url("team")]);
    let manifest: serde_json::Value = http()
        .get(format!("http://{}/v2/team/hello/manifests/1.0.0", reg.addr))
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let proxy = DroppingProxy::start(&reg.addr, manifest["layers"][0]["digest"].as_str().unwrap());
    let fresh = User::new();
    let reference = format!("oci://{}/team/hello:1.0.0", proxy.addr);
    let err = fresh.fails(&["pull", &reference, "-d", fresh.dir.path().to_str().unwrap()]);
    assert!(err.contains("failed after 4 attempts"), "{err}");
    assert!(err.contains("the download broke off after"), "{err}");
    assert!(err.contains("nothing was cached"), "{err}");
    assert_eq!(proxy.cut.load(Ordering::Relaxed), 4, "each attempt was cut");
    assert_eq!(fresh.cached_files(), Vec::<PathBuf>::new());
    assert!(!fresh.dir.path().join("hello-1.0.0.tgz").exists());
}

/// `USER:bcrypt(PASSWORD)`, from gotpl's `htpasswd` (Sprig's).
fn htpasswd(user: &str, password: &str) -> String {
    let mut t = gotpl::Templates::new(Arc::new(gotpl::funcs::FuncMap::helm()));
    t.parse("h", &format!("{{{{ htpasswd {user:?} {password:?} }}}}"))
        .unwrap();
    t.execute(
        "h",
        &gotpl::Value::map(gotpl::Map::new()),
        &gotpl::ExecOptions::default(),
        &mut gotpl::funcs::Env::fixed(0, 7),
        &mut gotpl::funcs::Offline,
    )
    .unwrap()
}

fn login(user: &User, registry: &str, name: &str, password: &str) -> assert_cmd::assert::Assert {
    user.cmd()
        .args([
            "registry",
            "login",
            registry,
            "-u",
            name,
            "--password-stdin",
        ])
        .write_stdin(format!("{password}\n"))
        .assert()
}

#[test]
fn basic_auth_login_publish_pull_logout() {
    let work = tempfile::tempdir().unwrap();
    let htpasswd_path = work.path().join("htpasswd");
    std::fs::write(&htpasswd_path, htpasswd("alice", "s3cret") + "\n").unwrap();
    let auth = format!(
        "auth:\n  htpasswd:\n    realm: test-realm\n    path: {}\n",
        htpasswd_path.display()
    );
    let Some(reg) = Registry::start(&auth) else {
        return;
    };
    let user = User::new();
    let pkg = package(work.path(), "hello", "1.0.0", "hi");
    let err = user.fails(&["publish", pkg.to_str().unwrap(), "--to", &reg.url("team")]);
    assert!(
        err.contains(&format!("registry {} refused the credentials", reg.addr)),
        "{err}"
    );
    assert!(err.contains("cocktail-pkg registry login"), "{err}");

    let out = login(&user, &reg.addr, "alice", "wrong").failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(
        !user.path("config/registry/config.json").exists(),
        "nothing stored"
    );

    login(&user, &reg.addr, "alice", "s3cret").success();
    let stored = user.path("config/registry/config.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stored).unwrap()).unwrap();
    assert_eq!(
        config["auths"][&reg.addr]["auth"],
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
    );
    user.ok(&["publish", pkg.to_str().unwrap(), "--to", &reg.url("team")]);
    user.ok(&["template", &reg.url("team/hello@^1")]);

    user.ok(&["registry", "logout", &reg.addr]);
    let err = user.fails(&["pull", &reg.url("team/hello:1.0.0")]);
    assert!(err.contains("refused the credentials"), "{err}");
    let err = user.fails(&["registry", "logout", &reg.addr]);
    assert!(err.contains("not logged in to"), "{err}");

    // Docker's config.json is read too.
    let docker = user.path("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        serde_json::json!({"auths": {(reg.addr.clone()): {"auth": base64::engine::general_purpose::STANDARD.encode("alice:s3cret")}}}).to_string(),
    )
    .unwrap();
    user.ok(&[
        "pull",
        &reg.url("team/hello:1.0.0"),
        "-d",
        work.path().to_str().unwrap(),
    ]);
}

/// A token server for the registry's `auth: token`: RS256 JWTs signed with a throw-away key
/// (openssl), for `alice:s3cret` only.
struct TokenServer {
    url: String,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn query_params(target: &str) -> Vec<(String, String)> {
    let q = target.split_once('?').map_or("", |(_, q)| q);
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v.replace('+', " ");
            let mut out = Vec::new();
            let b = v.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' && i + 2 < b.len() {
                    out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            (k.to_string(), String::from_utf8(out).unwrap())
        })
        .collect()
}

impl TokenServer {
    fn start(dir: &Path) -> TokenServer {
        let key = dir.join("key.pem");
        let cert = dir.join("cert.pem");
        let ok = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=test-token",
                "-days",
                "2",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success());
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .output()
            .unwrap()
            .stdout;
        let x5c = base64::engine::general_purpose::STANDARD.encode(der);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (requests2, stop2) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !stop2.load(Ordering::Relaxed) && Instant::now() < deadline {
                let Ok((mut s, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                s.set_nonblocking(false).unwrap();
                requests2.fetch_add(1, Ordering::Relaxed);
                let head = String::from_utf8_lossy(&read_head(&mut s).unwrap()).into_owned();
                let target = head.split(' ').nth(1).unwrap_or("").to_string();
                let authorized = head.lines().any(|l| {
                    l.to_ascii_lowercase().starts_with("authorization: basic ")
                        && l[21..].trim()
                            == base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
                });
                let reply = if authorized {
                    let params = query_params(&target);
                    let service = params
                        .iter()
                        .find(|(k, _)| k == "service")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    let access: Vec<serde_json::Value> = params
                        .iter()
                        .filter(|(k, _)| k == "scope")
                        .filter_map(|(_, s)| {
                            let mut parts = s.splitn(3, ':');
                            let (t, n, a) = (parts.next()?, parts.next()?, parts.next()?);
                            Some(serde_json::json!({"type": t, "name": n, "actions": a.split(',').collect::<Vec<_>>()}))
                        })
                        .collect();
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_secs();
                    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5c": [x5c]});
                    let claims = serde_json::json!({
                        "iss": "test-issuer", "sub": "alice", "aud": service,
                        "exp": now + 600, "nbf": now - 60, "iat": now,
                        "jti": format!("{now}-{}", requests2.load(Ordering::Relaxed)),
                        "access": access,
                    });
                    let signing_input = format!(
                        "{}.{}",
                        b64url(header.to_string().as_bytes()),
                        b64url(claims.to_string().as_bytes())
                    );
                    let mut openssl = Command::new("openssl")
                        .args(["dgst", "-sha256", "-sign"])
                        .arg(&key)
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .spawn()
                        .unwrap();
                    openssl
                        .stdin
                        .take()
                        .unwrap()
                        .write_all(signing_input.as_bytes())
                        .unwrap();
                    let sig = openssl.wait_with_output().unwrap().stdout;
                    let body =
                        serde_json::json!({"token": format!("{signing_input}.{}", b64url(&sig))})
                            .to_string();
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_string()
                };
                let _ = s.write_all(reply.as_bytes());
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        });
        TokenServer {
            url,
            requests,
            stop,
        }
    }
}

#[test]
fn bearer_token_flow_against_the_real_registry() {
    if need("/usr/bin/openssl", "apt-get install openssl").is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let tokens = TokenServer::start(work.path());
    let auth = format!(
        "auth:\n  token:\n    realm: {}\n    service: test-registry\n    issuer: test-issuer\n    rootcertbundle: {}\n",
        tokens.url,
        work.path().join("cert.pem").display()
    );
    let Some(reg) = Registry::start(&auth) else {
        return;
    };
    let user = User::new();
    let pkg = package(work.path(), "hello", "1.0.0", "hi");
    // Anonymous: the token server refuses, and the hint says to log in.
    let err = user.fails(&["publish", pkg.to_str().unwrap(), "--to", &reg.url("team")]);
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(err.contains("registry login"), "{err}");

    login(&user, &reg.addr, "alice", "wrong").failure();
    login(&user, &reg.addr, "alice", "s3cret").success();
    let before = tokens.requests.load(Ordering::Relaxed);
    user.ok(&["publish", pkg.to_str().unwrap(), "--to", &reg.url("team")]);
    assert_eq!(
        tokens.requests.load(Ordering::Relaxed) - before,
        1,
        "one token for the push scope, cached for every request of the process"
    );
    let out = user.ok(&[
        "pull",
        &reg.url("team/hello@^1"),
        "-d",
        work.path().to_str().unwrap(),
    ]);
    assert_eq!(
        out.trim(),
        sha256_file(&work.path().join("hello-1.0.0.tgz"))
    );
    user.ok(&["template", &reg.url("team/hello:1.0.0")]);
}

/// Helm's own client against what we publish, and the other way round.
#[test]
fn helm_pulls_and_renders_what_we_publish_and_we_pull_what_helm_pushes() {
    let Some(helm) = std::env::var_os("HELM").filter(|h| !h.is_empty()) else {
        eprintln!("HELM is not set: the helm interoperability test is skipped (CI sets it)");
        return;
    };
    let Some(reg) = Registry::start("") else {
        return;
    };
    let user = User::new();
    let scratch = tempfile::tempdir().unwrap();
    let helm_cmd = |args: &[&str]| {
        let out = Command::new(&helm)
            .args(args)
            .current_dir(root())
            .env("HOME", scratch.path())
            .env("HELM_CACHE_HOME", scratch.path().join("cache"))
            .env("HELM_CONFIG_HOME", scratch.path().join("config"))
            .env("HELM_DATA_HOME", scratch.path().join("data"))
            .env("TZ", "UTC")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "helm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // We publish, helm pulls and renders.
    user.ok(&[
        "publish",
        "tests/fixtures/charts/basic",
        "--to",
        &reg.url("charts"),
    ]);
    let dest = scratch.path().join("pulled");
    std::fs::create_dir_all(&dest).unwrap();
    let reference = reg.url("charts/basic");
    helm_cmd(&[
        "pull",
        &reference,
        "--version",
        "1.2.3",
        "--plain-http",
        "-d",
        dest.to_str().unwrap(),
    ]);
    let ours = user.ok(&[
        "pull",
        &format!("{reference}:1.2.3"),
        "-d",
        user.dir.path().to_str().unwrap(),
    ]);
    assert_eq!(
        sha256_file(&dest.join("basic-1.2.3.tgz")),
        ours.trim(),
        "helm pulled the archive we pushed"
    );
    let helm_out = helm_cmd(&[
        "template",
        "rel",
        &reference,
        "--version",
        "1.2.3",
        "--plain-http",
        "--namespace",
        "apps",
    ]);
    let our_out = user.ok(&[
        "template",
        &format!("{reference}@1.2.3"),
        "--release-name",
        "rel",
        "--namespace",
        "apps",
    ]);
    assert_eq!(our_out, helm_out);
    // Helm pushes, we pull and render.
    helm_cmd(&[
        "package",
        "tests/fixtures/charts/small",
        "-d",
        scratch.path().to_str().unwrap(),
    ]);
    let tgz = scratch.path().join("small-0.1.0.tgz");
    helm_cmd(&[
        "push",
        tgz.to_str().unwrap(),
        &reg.url("helm"),
        "--plain-http",
    ]);
    let out = user.ok(&[
        "pull",
        &reg.url("helm/small@^0.1"),
        "-d",
        user.dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.trim(), sha256_file(&tgz));
    let helm_out = helm_cmd(&["template", "rel", tgz.to_str().unwrap()]);
    let our_out = user.ok(&[
        "template",
        &reg.url("helm/small:0.1.0"),
        "--release-name",
        "rel",
    ]);
    assert_eq!(our_out, helm_out);
    // And installs it as a release by reference, the repository kept for automatic upgrades.
    let target = format!("dir:{}", user.path("gitops").display());
    user.ok(&[
        "install",
        "rel",
        &reg.url("helm/small@^0.1"),
        "-n",
        "shop",
        "--target",
        &target,
        "--create-service-map",
    ]);
    let history = user.ok(&[
        "history", "rel", "-n", "shop", "--target", &target, "-o", "json",
    ]);
    assert!(history.contains("small"), "{history}");
    let manifest = user.ok(&["get", "manifest", "rel", "-n", "shop", "--target", &target]);
    assert!(
        manifest.contains("# Source: small/templates/"),
        "{manifest}"
    );
}

/// A release installed from `oci://…` is tracked by its policy like one from an index: the
/// registry's tag list gives the versions, `outdated` shows them and `upgrade --auto` upgrades
/// to the newest the policy allows, pulled by its tag and verified.
#[test]
fn automatic_upgrades_track_an_oci_repository() {
    let Some(reg) = Registry::start("") else {
        return;
    };
    let user = User::new();
    let work = tempfile::tempdir().unwrap();
    let to = reg.url("team");
    let publish = |v: &str| {
        let pkg = package(work.path(), "app", v, &format!("v{v}"));
        user.ok(&["publish", pkg.to_str().unwrap(), "--to", &to]);
    };
    publish("1.0.0");
    let base = reg.url("team/app");
    let target = format!("dir:{}", user.path("gitops").display());
    user.ok(&[
        "install",
        "web",
        &format!("{base}@~1.0"),
        "-n",
        "shop",
        "--target",
        &target,
        "--create-service-map",
        "--auto-upgrade",
        "minor",
        "--soak",
        "0s",
    ]);
    publish("1.1.0");
    publish("2.0.0");
    let rows: serde_json::Value = serde_json::from_str(
        &user.ok(&["outdated", "-n", "shop", "--target", &target, "-o", "json"]),
    )
    .unwrap();
    assert_eq!(rows[0]["version"], "1.0.0", "{rows}");
    assert_eq!(rows[0]["allowed"], "1.1.0", "minor: not 2.0.0: {rows}");
    assert_eq!(rows[0]["newest"], "2.0.0", "{rows}");
    let report: serde_json::Value = serde_json::from_str(&user.ok(&[
        "upgrade", "--auto", "-n", "shop", "--target", &target, "-o", "json",
    ]))
    .unwrap();
    assert_eq!(report["upgraded"], 1, "{report}");
    let history = user.ok(&["history", "web", "-n", "shop", "--target", &target]);
    assert!(history.contains("1.1.0"), "{history}");
    let manifest = user.ok(&["get", "manifest", "web", "-n", "shop", "--target", &target]);
    assert!(manifest.contains("v1.1.0"), "{manifest}");
}
