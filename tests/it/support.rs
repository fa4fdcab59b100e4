//! Builders that produce real artifacts: package directories on disk and archives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root (where `catalog/` lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `cocktail-pkg` binary under test: this build's, or the one `COCKTAIL_PKG_TEST_BIN`
/// names (CI runs the suite again on the static release binary, scripts/build-static).
pub fn bin() -> PathBuf {
    match std::env::var_os("COCKTAIL_PKG_TEST_BIN") {
        Some(b) if !b.is_empty() => PathBuf::from(b),
        _ => PathBuf::from(assert_cmd::cargo::cargo_bin!("cocktail-pkg")),
    }
}

/// The `cocktail-pkg` binary, with colour off and a fixed working directory.
pub fn cmd() -> Command {
    let mut c = Command::new(bin());
    c.current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("COCKTAIL_PKG_SERVICE_MAP")
        // No test command may hang the suite: a deadlock fails the test instead.
        .timeout(std::time::Duration::from_secs(120));
    c
}

/// A package directory written to a temporary folder.
pub struct PackageBuilder {
    files: BTreeMap<String, String>,
}

impl PackageBuilder {
    pub fn new(name: &str) -> Self {
        let mut files = BTreeMap::new();
        files.insert(
            "package.yaml".to_string(),
            format!("apiVersion: cocktail-pkg/v1\nname: {name}\nversion: 1.0.0\nappVersion: \"2.0\"\ndescription: test\n"),
        );
        Self { files }
    }

    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files.insert(path.to_string(), text.to_string());
        self
    }

    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        self.files
            .iter()
            .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
            .collect()
    }

    /// Writes the package under a new temporary folder; returns the folder and the package path.
    pub fn write(&self) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pkg");
        write_files(&dir, &self.files);
        (tmp, dir)
    }
}

pub fn write_files(dir: &Path, files: &BTreeMap<String, String>) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// A ConfigMap template, for small packages.
pub const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-cm\ndata:\n  greeting: {{ values.greeting | quote }}\n";

/// A real `cocktail-pkg` server on 127.0.0.1:0, serving a copy of an index folder, on its own
/// runtime thread. Dropping it stops the runtime.
pub struct TestServer {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub public_key: cocktail_pkg::index::sign::PublicKey,
    runtime: Option<tokio::runtime::Runtime>,
}

pub const TOKEN: &str = "test-token-0123456789";

impl TestServer {
    /// Serves a copy of the committed `index/`.
    pub fn start() -> Self {
        Self::start_with(&root().join("index"))
    }

    pub fn start_with(index: &Path) -> Self {
        Self::start_with_token(index, Some(TOKEN))
    }

    /// Serves a copy of `index` with publishing on (`Some(token)`) or off (`None`).
    pub fn start_with_token(index: &Path, token: Option<&str>) -> Self {
        use cocktail_pkg::index::sign::SecretKey;
        use cocktail_pkg::server::{AppState, ServerConfig, router};
        let dir = tempfile::tempdir().unwrap();
        copy_dir(index, &dir.path().join("index"));
        let key = SecretKey::from_seed([42; 32]);
        let public_key = key.public();
        let state = AppState::new(ServerConfig {
            index_dir: dir.path().join("index"),
            key,
            publish_token: token.map(str::to_string),
            request_timeout: std::time::Duration::from_secs(10),
            max_concurrency: 64,
            clock: || 1_795_305_600,
        })
        .unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            let _ = axum::serve(listener, router(state)).await;
        });
        Self {
            url: format!("http://{addr}/"),
            dir,
            public_key,
            runtime: Some(runtime),
        }
    }

    pub fn index_dir(&self) -> PathBuf {
        self.dir.path().join("index")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// The fake API server and a kubeconfig whose context's namespace is `shop`; the CLI run
/// against it chooses the kube target by itself (no `--target`), and polls every 50 ms.
/// Test files add their own helpers in `impl FakeCluster` blocks.
pub struct FakeCluster {
    pub fake: fake_kube::FakeKube,
    pub tmp: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

impl FakeCluster {
    /// With the Namespace `shop` created.
    pub fn new() -> Self {
        let c = Self::bare();
        c.fake.insert(
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        );
        c
    }

    /// Without any object.
    pub fn bare() -> Self {
        let fake = fake_kube::FakeKube::start();
        let tmp = tempfile::tempdir().unwrap();
        let kubeconfig = tmp.path().join("kubeconfig");
        fake.write_kubeconfig(&kubeconfig, Some("shop")).unwrap();
        Self {
            fake,
            tmp,
            kubeconfig,
        }
    }

    pub fn cmd(&self) -> Command {
        let mut c = cmd();
        c.env("KUBECONFIG", &self.kubeconfig)
            .env_remove("COCKTAIL_PKG_TARGET")
            .env_remove("COCKTAIL_PKG_KUBE_CONTEXT")
            .env("COCKTAIL_PKG_POLL_INTERVAL_MS", "50");
        c
    }

    /// Runs the CLI; returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd().args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs the CLI, which must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{args:?} failed:\n{err}\n{out}");
        out
    }

    /// A release's revisions from `history -o json`: (revision, status, description).
    pub fn history(&self, release: &str) -> Vec<(u64, String, String)> {
        let v: serde_json::Value =
            serde_json::from_str(&self.ok(&["history", release, "-o", "json"])).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["revision"].as_u64().unwrap(),
                    r["status"].as_str().unwrap().to_string(),
                    r["description"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }
}
