//! Provenance (`--verify`) against the real thing: throw-away OpenPGP keys made by gpg in a
//! temporary `GNUPGHOME`, charts signed by the real `helm package --sign` (with the legacy
//! secret keyring Helm reads), served from a Helm repository on 127.0.0.1 and pushed to the real
//! OCI registry by `helm push`. A good signature passes (and `helm verify` accepts what `pull
//! --verify` wrote); a tampered archive, a bad signature, a key not in the keyring and a missing
//! `.prov` fail with their cause, and nothing is cached.
//!
//! Without `HELM` or gpg the tests say why and pass, except under `CI`, where `.ci/run` installs
//! both: there a missing tool fails.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use cocktail_pkg::model::Digest;

use crate::support::{cmd, root};

const GPG: &str = "/usr/bin/gpg";

/// helm and gpg, or `None` (with the reason printed) when one is missing outside CI.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let helm = std::env::var_os("HELM")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    let Some(helm) = helm else {
        assert!(!ci, "HELM is not set, but CI is: .ci/run must export it");
        eprintln!("skipping: HELM is not set (CI sets it)");
        return None;
    };
    if !Path::new(GPG).is_file() {
        assert!(
            !ci,
            "{GPG} is missing, but CI is set: .ci/run must install gnupg"
        );
        eprintln!("skipping: {GPG} is missing (apt-get install gnupg)");
        return None;
    }
    Some((helm, PathBuf::from(GPG)))
}

/// A throw-away OpenPGP key in its own `GNUPGHOME`, exported the ways Helm and users need it.
struct Key {
    home: PathBuf,
    gpg: PathBuf,
    /// The user id's name (what `helm package --key` looks for).
    name: String,
    /// Legacy secret keyring (`gpg --export-secret-keys`), for `helm package --sign`.
    secring: PathBuf,
    /// Binary public keyring (`gpg --export`).
    pubring: PathBuf,
    /// Armored public key (`gpg --export --armor`).
    armored: PathBuf,
}

impl Key {
    fn new(gpg: &Path, dir: &Path, name: &str, algo: &str) -> Key {
        let home = dir.join(format!("gnupg-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let key = Key {
            gpg: gpg.to_path_buf(),
            name: name.to_string(),
            secring: dir.join(format!("{name}-secring.gpg")),
            pubring: dir.join(format!("{name}-pubring.gpg")),
            armored: dir.join(format!("{name}-public.asc")),
            home,
        };
        let uid = format!("{name} <{}@example.test>", name.to_lowercase());
        key.run(&[
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            &uid,
            algo,
            "sign",
            "never",
        ]);
        std::fs::write(&key.secring, key.run(&["--export-secret-keys"])).unwrap();
        std::fs::write(&key.pubring, key.run(&["--export"])).unwrap();
        std::fs::write(&key.armored, key.run(&["--export", "--armor"])).unwrap();
        key
    }

    fn run(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new(&self.gpg)
            .env("GNUPGHOME", &self.home)
            .args(["--quiet", "--no-tty"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

impl Drop for Key {
    /// Stops the gpg-agent that key generation started for this home.
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.home)
            .args(["--kill", "all"])
            .stdin(Stdio::null())
            .output();
    }
}

/// Runs the real helm with its own folders under `scratch`; it must succeed.
fn helm(helm: &Path, scratch: &Path, args: &[&str]) -> String {
    let out = Command::new(helm)
        .args(args)
        .current_dir(root())
        .env("HOME", scratch)
        .env("HELM_CACHE_HOME", scratch.join("helm-cache"))
        .env("HELM_CONFIG_HOME", scratch.join("helm-config"))
        .env("HELM_DATA_HOME", scratch.join("helm-data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "helm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Packages the fixture chart `small` (version 0.1.0) into `dest`, signed by `key` when given.
fn package(helm_bin: &Path, scratch: &Path, dest: &Path, key: Option<&Key>, description: &str) {
    let src = scratch.join(format!("src-{}", Digest::of(description.as_bytes()).hex()));
    let chart = src.join("small");
    crate::support::copy_dir(&root().join("tests/fixtures/charts/small"), &chart);
    let yaml = std::fs::read_to_string(chart.join("Chart.yaml")).unwrap();
    let yaml: String = yaml
        .lines()
        .filter(|l| !l.starts_with("description:") && !l.starts_with("  HPA"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("{yaml}description: {description}\n"),
    )
    .unwrap();
    std::fs::create_dir_all(dest).unwrap();
    let mut args = vec![
        "package".to_string(),
        chart.display().to_string(),
        "-d".into(),
        dest.display().to_string(),
    ];
    if let Some(k) = key {
        args.extend([
            "--sign".into(),
            "--key".into(),
            k.name.clone(),
            "--keyring".into(),
            k.secring.display().to_string(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    helm(helm_bin, scratch, &args);
}

/// A static file server on 127.0.0.1 (404 for what is missing), for a Helm repository.
struct Site {
    url: String,
}

fn serve(dir: PathBuf) -> Site {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/charts/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let dir = dir.clone();
            std::thread::spawn(move || {
                s.set_read_timeout(Some(Duration::from_secs(5))).ok();
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
                let (status, body) = match std::fs::read(dir.join(&path)) {
                    Ok(b) if !path.contains("..") => (200, b),
                    _ => (404, Vec::new()),
                };
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(&body);
            });
        }
    });
    Site { url }
}

/// An isolated user of `cocktail-pkg`: configuration, cache and HOME in a temporary folder.
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

    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut c = cmd();
        c.env("COCKTAIL_PKG_CONFIG_HOME", self.path("config"))
            .env("COCKTAIL_PKG_CACHE_HOME", self.path("cache"))
            .env("DOCKER_CONFIG", self.path("docker"))
            .env("HOME", self.path("home"))
            .env("COCKTAIL_PKG_HTTP_TIMEOUT", "10")
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "{args:?} should fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn cached_archives(&self) -> usize {
        std::fs::read_dir(self.path("cache/packages-v1/sha256"))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

/// A Helm repository (real `helm repo index`) holding `small-0.1.0.tgz` signed by `signer`.
struct Repo {
    site: PathBuf,
    server: Site,
}

fn signed_repo(helm_bin: &Path, scratch: &Path, signer: &Key) -> Repo {
    let site = scratch.join("site");
    package(helm_bin, scratch, &site, Some(signer), "a signed chart");
    helm(
        helm_bin,
        scratch,
        &["repo", "index", site.to_str().unwrap()],
    );
    let server = serve(site.clone());
    Repo { site, server }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn pull_verify_passes_for_a_chart_signed_by_a_key_of_the_keyring_and_helm_agrees() {
    let Some((helm_bin, gpg)) = tools() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let alice = Key::new(&gpg, tmp.path(), "Alice", "rsa3072");
    let repo = signed_repo(&helm_bin, tmp.path(), &alice);
    let user = User::new();
    user.ok(&["repo", "add", "signed", &repo.server.url]);
    let dest = user.path("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let (stdout, stderr) = user.ok(&[
        "pull",
        "signed/small",
        "--verify",
        "--keyring",
        s(&alice.pubring),
        "-d",
        s(&dest),
    ]);
    assert!(
        stderr.contains("signed by Alice <alice@example.test>"),
        "{stderr}"
    );
    let tgz = dest.join("small-0.1.0.tgz");
    assert_eq!(
        stdout.trim(),
        Digest::of(&std::fs::read(&tgz).unwrap()).to_string()
    );
    let prov = dest.join("small-0.1.0.tgz.prov");
    assert_eq!(
        std::fs::read(&prov).unwrap(),
        std::fs::read(repo.site.join("small-0.1.0.tgz.prov")).unwrap(),
        "pull --verify writes the .prov beside the archive, as helm pull --prov"
    );
    // The real helm accepts what we verified and wrote.
    let verdict = helm(
        &helm_bin,
        tmp.path(),
        &["verify", "--keyring", s(&alice.pubring), s(&tgz)],
    );
    assert!(verdict.contains("Chart Hash Verified"), "{verdict}");
    // Armored keys work too, and so does Helm's default keyring (~/.gnupg/pubring.gpg).
    let (_, stderr) = user.ok(&[
        "pull",
        "signed/small",
        "--verify",
        "--keyring",
        s(&alice.armored),
        "-d",
        s(&dest),
    ]);
    assert!(stderr.contains("Verified"), "{stderr}");
    std::fs::create_dir_all(user.path("home/.gnupg")).unwrap();
    std::fs::copy(&alice.pubring, user.path("home/.gnupg/pubring.gpg")).unwrap();
    user.ok(&["pull", "signed/small", "--verify", "-d", s(&dest)]);
    // template, show and install verify by reference before rendering.
    let plain = user
        .ok(&["template", "signed/small", "--release-name", "rel"])
        .0;
    let (verified, stderr) = user.ok(&[
        "template",
        "signed/small",
        "--release-name",
        "rel",
        "--verify",
        "--keyring",
        s(&alice.pubring),
    ]);
    assert_eq!(verified, plain);
    assert!(stderr.contains("signed by Alice"), "{stderr}");
    let chart = user
        .ok(&[
            "show",
            "chart",
            "signed/small",
            "--verify",
            "--keyring",
            s(&alice.pubring),
        ])
        .0;
    assert!(chart.contains("name: small"), "{chart}");
    let target = format!("dir:{}", user.path("gitops").display());
    user.ok(&[
        "install",
        "rel",
        "signed/small",
        "-n",
        "shop",
        "--target",
        &target,
        "--create-service-map",
        "--verify",
        "--keyring",
        s(&alice.pubring),
    ]);
    // A local archive with its .prov beside it.
    let (local, _) = user.ok(&[
        "template",
        s(&tgz),
        "--release-name",
        "rel",
        "--verify",
        "--keyring",
        s(&alice.pubring),
    ]);
    assert_eq!(local, plain);
    // --keyring without --verify is a usage error; a folder has no provenance.
    user.fails(&["pull", "signed/small", "--keyring", s(&alice.pubring)]);
    let err = user.fails(&[
        "template",
        "tests/fixtures/charts/small",
        "--verify",
        "--keyring",
        s(&alice.pubring),
    ]);
    assert!(err.contains("is a folder"), "{err}");
}

#[test]
fn a_tampered_archive_a_bad_signature_another_key_and_a_missing_prov_are_refused() {
    let Some((helm_bin, gpg)) = tools() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let alice = Key::new(&gpg, tmp.path(), "Alice", "rsa3072");
    let mallory = Key::new(&gpg, tmp.path(), "Mallory", "ed25519");
    let repo = signed_repo(&helm_bin, tmp.path(), &alice);
    let site = &repo.site;
    let user = User::new();
    user.ok(&["repo", "add", "signed", &repo.server.url]);
    let dest = user.path("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let pull = |keyring: &Path| -> String {
        let err = user.fails(&[
            "pull",
            "signed/small",
            "--verify",
            "--keyring",
            s(keyring),
            "-d",
            s(&dest),
        ]);
        assert_eq!(user.cached_archives(), 0, "nothing is cached: {err}");
        assert!(
            !dest.join("small-0.1.0.tgz").exists(),
            "nothing is written: {err}"
        );
        err
    };
    let prov_path = site.join("small-0.1.0.tgz.prov");
    let good_prov = std::fs::read_to_string(&prov_path).unwrap();

    // Signed by a key that is not in the keyring.
    let err = pull(&mallory.pubring);
    assert!(err.contains("signed by an unknown key"), "{err}");
    assert!(err.contains("hint:"), "{err}");

    // The signed text altered after signing: a bad signature.
    let digest_line = good_prov
        .lines()
        .find(|l| l.contains("small-0.1.0.tgz: sha256:"))
        .unwrap();
    let flipped = if digest_line.ends_with('0') { '1' } else { '0' };
    let forged_line = format!("{}{flipped}", &digest_line[..digest_line.len() - 1]);
    std::fs::write(&prov_path, good_prov.replace(digest_line, &forged_line)).unwrap();
    let err = pull(&alice.pubring);
    assert!(err.contains("bad signature"), "{err}");

    // The .prov signed by another key (Mallory re-signed the chart).
    let other = tmp.path().join("mallory-site");
    package(
        &helm_bin,
        tmp.path(),
        &other,
        Some(&mallory),
        "a signed chart",
    );
    std::fs::copy(other.join("small-0.1.0.tgz.prov"), &prov_path).unwrap();
    let err = pull(&alice.pubring);
    assert!(err.contains("unknown key"), "{err}");

    // The archive replaced (and the index with it) while the old .prov stays.
    std::fs::write(&prov_path, &good_prov).unwrap();
    package(&helm_bin, tmp.path(), site, None, "a tampered chart");
    helm(&helm_bin, tmp.path(), &["repo", "index", s(site)]);
    user.ok(&["repo", "update"]);
    let err = pull(&alice.pubring);
    assert!(err.contains("but its provenance file signs"), "{err}");
    assert!(err.contains("not the one that was signed"), "{err}");

    // No .prov at all.
    std::fs::remove_file(&prov_path).unwrap();
    let err = pull(&alice.pubring);
    assert!(err.contains("has no provenance file"), "{err}");
    assert!(err.contains("404"), "{err}");
    // Without --verify the (unsigned) chart is fine.
    user.ok(&["pull", "signed/small", "-d", s(&dest)]);
}

/// Helm pushes a signed chart with its provenance layer; `pull --verify` checks it.
#[test]
fn oci_pull_verify_checks_the_provenance_layer_helm_pushes() {
    let Some((helm_bin, gpg)) = tools() else {
        return;
    };
    let Some(reg) = Registry::start() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let alice = Key::new(&gpg, tmp.path(), "Alice", "ed25519");
    let signed = tmp.path().join("signed");
    package(
        &helm_bin,
        tmp.path(),
        &signed,
        Some(&alice),
        "a signed chart",
    );
    let unsigned = tmp.path().join("unsigned");
    package(&helm_bin, tmp.path(), &unsigned, None, "an unsigned chart");
    let oci = |p: &str| format!("oci://{}/{p}", reg.addr);
    for (dir, path) in [(&signed, "signed"), (&unsigned, "unsigned")] {
        helm(
            &helm_bin,
            tmp.path(),
            &[
                "push",
                s(&dir.join("small-0.1.0.tgz")),
                &oci(path),
                "--plain-http",
            ],
        );
    }
    let user = User::new();
    let dest = user.path("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let (_, stderr) = user.ok(&[
        "pull",
        &oci("signed/small:0.1.0"),
        "--verify",
        "--keyring",
        s(&alice.pubring),
        "-d",
        s(&dest),
    ]);
    assert!(stderr.contains("signed by Alice"), "{stderr}");
    assert_eq!(
        std::fs::read(dest.join("small-0.1.0.tgz.prov")).unwrap(),
        std::fs::read(signed.join("small-0.1.0.tgz.prov")).unwrap()
    );
    let (rendered, _) = user.ok(&[
        "template",
        &oci("signed/small@^0.1"),
        "--verify",
        "--keyring",
        s(&alice.pubring),
    ]);
    assert!(rendered.contains("kind: Deployment"), "{rendered}");
    let fresh = User::new();
    let err = fresh.fails(&[
        "pull",
        &oci("unsigned/small:0.1.0"),
        "--verify",
        "--keyring",
        s(&alice.pubring),
        "-d",
        s(&dest),
    ]);
    assert!(err.contains("has no provenance file"), "{err}");
    assert_eq!(fresh.cached_archives(), 0, "nothing is cached");
}

/// The real CNCF distribution registry (Debian's `docker-registry`) on 127.0.0.1 with its own
/// storage, killed on drop; `None` (with the reason) when it is missing outside CI.
struct Registry {
    child: std::process::Child,
    _dir: tempfile::TempDir,
    addr: String,
}

impl Registry {
    fn start() -> Option<Registry> {
        const BIN: &str = "/usr/bin/docker-registry";
        if !Path::new(BIN).is_file() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{BIN} is missing, but CI is set: .ci/run must install it"
            );
            eprintln!("skipping the OCI part: {BIN} is missing (apt-get install docker-registry)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n  secret: test-secret\n",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log_path = dir.path().join("registry.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = Command::new(BIN)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&addr).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "the registry exited ({status}): {}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the registry did not listen on {addr} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Registry {
            child,
            _dir: dir,
            addr,
        })
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
