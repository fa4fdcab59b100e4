//! A directory target in a GitOps layout, for Argo CD or Flux to sync, and the README's
//! cluster-free default:
//!
//! ```text
//! PATH/<service-map>/<kind>-<name>.yaml            one object per file (cluster-scoped: PATH/_cluster/)
//! PATH/.cocktail-pkg/releases/<service-map>/<release>/v<N>.json   release records (chunks)
//! PATH/.cocktail-pkg/locks/<service-map>/<release>.json           leases (holder, PID, expiry)
//! ```
//!
//! Every file is written atomically; a lease file is created exclusively, so two processes
//! never both hold one.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lease::{Decision, Holder, decide, local_liveness};
use super::{ApplyMode, Lease, Target, TargetError};
use crate::fsutil::{write_atomic, write_atomic_private};
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::release::{self, Record};
use crate::time::UnixTime;
use crate::yaml;

/// Folder of the bookkeeping files, beside the service-map folders.
pub const STATE_DIR: &str = ".cocktail-pkg";

/// See the module docs.
pub struct DirTarget {
    root: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct RecordFile {
    chunks: Vec<String>,
}

/// A lease file. `pid` repeats the holder's PID for people and older readers.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LockFile {
    lease: Lease,
    pid: u32,
}

/// What a lease file holds.
enum LockState {
    Missing,
    /// Not a lease: a process stopped while writing it (the file is created before it is
    /// written). Treated as a lease of an unknown holder that is gone.
    Torn,
    Held(Box<LockFile>),
}

fn lock_body(lease: &Lease, path: &Path) -> Result<Vec<u8>, TargetError> {
    serde_json::to_vec_pretty(&LockFile {
        lease: lease.clone(),
        pid: lease.holder.pid.unwrap_or_else(std::process::id),
    })
    .map_err(|e| io("write", path)(std::io::Error::other(e)))
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> TargetError {
    let path = path.to_path_buf();
    move |source| TargetError::Io {
        action,
        path,
        source,
    }
}

impl DirTarget {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The file holding an object.
    pub fn object_path(&self, id: &ObjectId) -> PathBuf {
        let folder = if id.namespace.is_empty() {
            "_cluster"
        } else {
            id.namespace.as_str()
        };
        self.root
            .join(folder)
            .join(format!("{}-{}.yaml", id.kind.to_lowercase(), id.name))
    }

    fn release_dir(&self, service_map: &str, release: &str) -> PathBuf {
        self.root
            .join(STATE_DIR)
            .join("releases")
            .join(service_map)
            .join(release)
    }

    fn lock_path(&self, service_map: &str, release: &str) -> PathBuf {
        self.root
            .join(STATE_DIR)
            .join("locks")
            .join(service_map)
            .join(format!("{release}.json"))
    }

    fn read_lock(&self, path: &Path) -> Result<LockState, TargetError> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(match serde_json::from_slice::<LockFile>(&bytes) {
                Ok(lock) => LockState::Held(Box::new(lock)),
                Err(_) => LockState::Torn,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LockState::Missing),
            Err(e) => Err(io("read", path)(e)),
        }
    }

    /// Moves a lease file out of the way to take it over. Renaming moves exactly one file, so
    /// of two processes taking over at once only one moves the stale lease; the other may move
    /// the winner's fresh lease, sees that, and puts it back. Returns the error to report when
    /// the lease turned out to be held after all.
    fn move_aside(
        &self,
        path: &Path,
        release: &ReleaseName,
        requester: &Holder,
        now: UnixTime,
    ) -> Result<Option<TargetError>, TargetError> {
        let stale = path.with_extension(format!("stale.{}", std::process::id()));
        match std::fs::rename(path, &stale) {
            Ok(()) => {}
            // Someone else moved it first: try again.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("move", path)(e)),
        }
        let moved = self.read_lock(&stale)?;
        let held = match &moved {
            LockState::Held(lock) => {
                match decide(Some(&lock.lease), requester, now, &local_liveness) {
                    Decision::Held {
                        holder,
                        since,
                        expires_in,
                    } => Some(TargetError::lease_held(
                        release.as_str(),
                        &holder,
                        since,
                        expires_in,
                    )),
                    _ => None,
                }
            }
            _ => None,
        };
        if held.is_some() {
            match std::fs::hard_link(&stale, path) {
                Ok(()) => {}
                // A third process created a lease meanwhile: that one counts.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io("restore", path)(e)),
            }
        }
        std::fs::remove_file(&stale).map_err(io("delete", &stale))?;
        Ok(held)
    }
}

impl Target for DirTarget {
    fn describe(&self) -> String {
        format!("dir:{}", self.root.display())
    }

    fn observes_live_state(&self) -> bool {
        false
    }

    fn get(&self, id: &ObjectId) -> Result<Option<Value>, TargetError> {
        let path = self.object_path(id);
        match std::fs::read_to_string(&path) {
            Ok(text) => yaml::from_str(&path.display().to_string(), &text)
                .map(Some)
                .map_err(|e| TargetError::Rejected {
                    id: id.clone(),
                    message: crate::error_chain(&e),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", &path)(e)),
        }
    }

    fn apply(&self, id: &ObjectId, object: &Value, mode: ApplyMode) -> Result<Value, TargetError> {
        let text = yaml::to_string(object).map_err(|e| TargetError::Rejected {
            id: id.clone(),
            message: e.to_string(),
        })?;
        if let ApplyMode::Commit { .. } = mode {
            let path = self.object_path(id);
            // A Secret's data is readable by its owner only; every other object as the umask
            // allows (a GitOps agent may run as another user).
            if id.kind == "Secret" && id.group.is_empty() {
                write_atomic_private(&path, text.as_bytes()).map_err(io("write", &path))?;
            } else {
                write_atomic(&path, text.as_bytes()).map_err(io("write", &path))?;
            }
        }
        Ok(object.clone())
    }

    fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, TargetError> {
        let folders: Vec<PathBuf> = match namespace {
            Some(ns) => vec![self.root.join(ns)],
            None => match std::fs::read_dir(&self.root) {
                Ok(entries) => {
                    let mut folders = Vec::new();
                    for e in entries {
                        let e = e.map_err(io("read", &self.root))?;
                        if e.file_name() != STATE_DIR && e.path().is_dir() {
                            folders.push(e.path());
                        }
                    }
                    folders
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(io("read", &self.root)(e)),
            },
        };
        let prefix = format!("{}-", kind.to_lowercase());
        let mut out = Vec::new();
        for folder in folders {
            let entries = match std::fs::read_dir(&folder) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io("read", &folder)(e)),
            };
            let mut paths = Vec::new();
            for e in entries {
                let p = e.map_err(io("read", &folder))?.path();
                if p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".yaml"))
                {
                    paths.push(p);
                }
            }
            paths.sort();
            for p in paths {
                let text = std::fs::read_to_string(&p).map_err(io("read", &p))?;
                // A file that is not an object is an error, not a silent gap in the list.
                let v =
                    yaml::from_str::<Value>(&p.display().to_string(), &text).map_err(|source| {
                        TargetError::Unreadable {
                            path: p.clone(),
                            source,
                        }
                    })?;
                if super::listed(&v, api_version, kind, label_selector) {
                    out.push(v);
                }
            }
        }
        Ok(out)
    }

    fn apply_as(
        &self,
        id: &ObjectId,
        partial: &Value,
        _field_manager: &str,
    ) -> Result<(), TargetError> {
        let merged = super::merged_as(id, self.get(id)?, partial)?;
        self.apply(
            id,
            &merged,
            ApplyMode::Commit {
                force_conflicts: true,
            },
        )?;
        Ok(())
    }

    fn delete(&self, id: &ObjectId) -> Result<(), TargetError> {
        if id.group.is_empty() && id.kind == "Namespace" {
            // Like the API server: deleting a namespace deletes what is in it.
            for dir in [
                self.root.join(&id.name),
                self.root.join(STATE_DIR).join("releases").join(&id.name),
            ] {
                match std::fs::remove_dir_all(&dir) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(io("delete", &dir)(e));
                    }
                    _ => {}
                }
            }
        }
        let path = self.object_path(id);
        match std::fs::remove_file(&path) {
            // A missing file, or a folder on the way that is not a folder: nothing to delete.
            Err(e)
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                Err(io("delete", &path)(e))
            }
            _ => Ok(()),
        }
    }

    fn records(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
    ) -> Result<Vec<Record>, TargetError> {
        let dir = self.release_dir(service_map.as_str(), release.as_str());
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("read", &dir)(e)),
        };
        let mut out = Vec::new();
        for e in entries {
            let e = e.map_err(io("read", &dir))?;
            let name = e.file_name().to_string_lossy().to_string();
            let Some(rev) = name
                .strip_prefix('v')
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let bytes = std::fs::read(e.path()).map_err(io("read", &e.path()))?;
            let file: RecordFile =
                serde_json::from_slice(&bytes).map_err(|err| TargetError::Record {
                    release: release.to_string(),
                    revision: rev,
                    source: release::CodecError::Json(err.to_string()),
                })?;
            let record = release::decode(&file.chunks).map_err(|source| TargetError::Record {
                release: release.to_string(),
                revision: rev,
                source,
            })?;
            out.push(record);
        }
        out.sort_by_key(|r| r.revision);
        Ok(out)
    }

    fn releases(
        &self,
        service_map: Option<&ServiceMapName>,
    ) -> Result<Vec<(String, String)>, TargetError> {
        let base = self.root.join(STATE_DIR).join("releases");
        let mut out = Vec::new();
        let maps = match std::fs::read_dir(&base) {
            Ok(maps) => maps,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io("read", &base)(e)),
        };
        for m in maps {
            let m = m.map_err(io("read", &base))?;
            let map = m.file_name().to_string_lossy().to_string();
            if service_map.is_some_and(|s| s.as_str() != map) {
                continue;
            }
            for r in std::fs::read_dir(m.path()).map_err(io("read", &m.path()))? {
                let r = r.map_err(io("read", &m.path()))?;
                out.push((map.clone(), r.file_name().to_string_lossy().to_string()));
            }
        }
        out.sort();
        Ok(out)
    }

    fn write_record(&self, record: &Record) -> Result<(), TargetError> {
        let path = self
            .release_dir(&record.service_map, &record.name)
            .join(format!("v{}.json", record.revision));
        let bytes = serde_json::to_vec(&RecordFile {
            chunks: TargetError::encode(record)?,
        })
        .map_err(|e| TargetError::RecordWrite {
            release: record.name.clone(),
            revision: record.revision,
            source: release::CodecError::Encode(e.to_string()),
        })?;
        // Records hold the values (passwords included): owner only.
        write_atomic_private(&path, &bytes).map_err(io("write", &path))
    }

    fn delete_record(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
        revision: u64,
    ) -> Result<(), TargetError> {
        let path = self
            .release_dir(service_map.as_str(), release.as_str())
            .join(format!("v{revision}.json"));
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("delete", &path)(e)),
            _ => Ok(()),
        }
    }

    fn acquire(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
        holder: &Holder,
        ttl_secs: i64,
        now: UnixTime,
    ) -> Result<Lease, TargetError> {
        let path = self.lock_path(service_map.as_str(), release.as_str());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io("create", parent))?;
        }
        let mut took_over_from = None;
        // A few rounds at most: each one after moving a stale lease aside, or after another
        // process did.
        for _ in 0..4 {
            let lease = Lease {
                service_map: service_map.to_string(),
                release: release.to_string(),
                holder: holder.clone(),
                acquired: now,
                expires: now.saturating_add(ttl_secs),
                took_over_from: took_over_from.clone(),
            };
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let body = lock_body(&lease, &path)?;
                    f.write_all(&body)
                        .and_then(|_| f.sync_all())
                        .map_err(io("write", &path))?;
                    return Ok(lease);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let (decision, existing) = match self.read_lock(&path)? {
                        LockState::Missing => continue,
                        LockState::Torn => (
                            Decision::TakeOver {
                                from: Holder::parse("unknown"),
                                reason: super::lease::TakeOverReason::HolderGone,
                            },
                            None,
                        ),
                        LockState::Held(lock) => (
                            decide(Some(&lock.lease), holder, now, &local_liveness),
                            Some(lock.lease),
                        ),
                    };
                    match decision {
                        Decision::Held {
                            holder,
                            since,
                            expires_in,
                        } => {
                            return Err(TargetError::lease_held(
                                release.as_str(),
                                &holder,
                                since,
                                expires_in,
                            ));
                        }
                        Decision::Reacquire => {
                            let lease = Lease {
                                acquired: existing.map_or(now, |l| l.acquired),
                                ..lease
                            };
                            write_atomic(&path, &lock_body(&lease, &path)?)
                                .map_err(io("write", &path))?;
                            return Ok(lease);
                        }
                        Decision::Acquire => {
                            if let Some(held) = self.move_aside(&path, release, holder, now)? {
                                return Err(held);
                            }
                        }
                        Decision::TakeOver { from, .. } => {
                            if let Some(held) = self.move_aside(&path, release, holder, now)? {
                                return Err(held);
                            }
                            took_over_from = Some(from);
                        }
                    }
                }
                Err(e) => return Err(io("create", &path)(e)),
            }
        }
        Err(TargetError::LeaseHeld {
            release: release.to_string(),
            detail: "other processes taking it at the same moment (try again)".into(),
        })
    }

    fn lease(
        &self,
        service_map: &ServiceMapName,
        release: &ReleaseName,
    ) -> Result<Option<Lease>, TargetError> {
        let path = self.lock_path(service_map.as_str(), release.as_str());
        Ok(match self.read_lock(&path)? {
            LockState::Missing => None,
            LockState::Torn => Some(Lease {
                service_map: service_map.to_string(),
                release: release.to_string(),
                holder: Holder::parse("unknown"),
                acquired: 0,
                expires: 0,
                took_over_from: None,
            }),
            LockState::Held(lock) => Some(lock.lease),
        })
    }

    fn renew(&self, lease: &Lease, ttl_secs: i64, now: UnixTime) -> Result<Lease, TargetError> {
        let path = self.lock_path(&lease.service_map, &lease.release);
        match self.read_lock(&path)? {
            LockState::Held(existing) if existing.lease.holder == lease.holder => {
                let mut renewed = existing.lease.clone();
                renewed.expires = now.saturating_add(ttl_secs);
                write_atomic(&path, &lock_body(&renewed, &path)?).map_err(io("write", &path))?;
                Ok(renewed)
            }
            LockState::Held(existing) => Err(TargetError::LeaseLost {
                release: lease.release.clone(),
                detail: format!("{} holds it now", existing.lease.holder),
            }),
            LockState::Missing | LockState::Torn => Err(TargetError::LeaseLost {
                release: lease.release.clone(),
                detail: format!("{} was removed", path.display()),
            }),
        }
    }

    fn release_lease(&self, lease: &Lease) -> Result<(), TargetError> {
        let path = self.lock_path(&lease.service_map, &lease.release);
        let ours = match self.read_lock(&path)? {
            LockState::Held(l) => l.lease.holder == lease.holder,
            // `unlock` removes a torn file it was shown.
            LockState::Torn => lease.holder == Holder::parse("unknown"),
            LockState::Missing => false,
        };
        if ours {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io("delete", &path)(e));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{API_VERSION, PackageRef, Status};
    use serde_json::json;

    fn names() -> (ServiceMapName, ReleaseName) {
        (
            ServiceMapName::new("shop").unwrap(),
            ReleaseName::new("web").unwrap(),
        )
    }

    fn id(kind: &str, ns: &str, name: &str) -> ObjectId {
        ObjectId {
            group: String::new(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    fn record(revision: u64) -> Record {
        Record {
            api_version: API_VERSION.into(),
            name: "web".into(),
            service_map: "shop".into(),
            revision,
            status: Status::Deployed,
            package: PackageRef {
                name: "nginx".into(),
                version: semver::Version::new(1, 0, 0),
                app_version: None,
                source: "catalog/nginx".into(),
                digest: None,
                repository: None,
            },
            values: json!({}),
            manifest: String::new(),
            inventory: vec![],
            notes: None,
            created: "2026-11-22T00:00:00Z".into(),
            updated: "2026-11-22T00:00:00Z".into(),
            description: String::new(),
            secret_paths: vec![],
            policy: None,
            failed_versions: vec![],
            computed_values: None,
            hooks: vec![],
            crds: vec![],
            format: None,
            overrides: vec![],
        }
    }

    #[test]
    fn objects_are_one_file_each_in_a_gitops_layout() {
        let tmp = tempfile::tempdir().unwrap();
        let t = DirTarget::new(tmp.path());
        let cm = id("ConfigMap", "shop", "web");
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "namespace": "shop"}, "data": {"a": "1"}});
        t.apply(&cm, &obj, ApplyMode::DryRun).unwrap();
        assert_eq!(t.get(&cm).unwrap(), None, "a dry run writes nothing");
        t.apply(
            &cm,
            &obj,
            ApplyMode::Commit {
                force_conflicts: false,
            },
        )
        .unwrap();
        assert!(tmp.path().join("shop/configmap-web.yaml").is_file());
        assert_eq!(t.get(&cm).unwrap(), Some(obj));
        let role = id("ClusterRole", "", "reader");
        assert_eq!(
            t.object_path(&role),
            tmp.path().join("_cluster/clusterrole-reader.yaml")
        );
        t.delete(&cm).unwrap();
        t.delete(&cm).unwrap();
        assert_eq!(t.get(&cm).unwrap(), None);
    }

    #[test]
    fn records_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let t = DirTarget::new(tmp.path());
        let (sm, rel) = names();
        for rev in [2, 1, 10] {
            t.write_record(&record(rev)).unwrap();
        }
        let revs: Vec<u64> = t
            .records(&sm, &rel)
            .unwrap()
            .iter()
            .map(|r| r.revision)
            .collect();
        assert_eq!(revs, [1, 2, 10]);
        assert_eq!(
            t.releases(None).unwrap(),
            [("shop".to_string(), "web".to_string())]
        );
        t.delete_record(&sm, &rel, 2).unwrap();
        assert_eq!(t.records(&sm, &rel).unwrap().len(), 2);
    }

    #[test]
    fn leases_fail_fast_and_expire() {
        let tmp = tempfile::tempdir().unwrap();
        let t = DirTarget::new(tmp.path());
        let (sm, rel) = names();
        let h = |s: &str| Holder::parse(s);
        let a = t
            .acquire(&sm, &rel, &h("alice@ci-7/4242"), 60, 1_000)
            .unwrap();
        let err = t
            .acquire(&sm, &rel, &h("bob@ci-7/4243"), 60, 1_010)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "operation in progress on release `web` by alice@ci-7/4242 since 1970-01-01T00:16:40Z; expires in 50s"
        );
        // The holder itself may take it again (one rule for every target).
        let again = t
            .acquire(&sm, &rel, &h("alice@ci-7/4242"), 60, 1_020)
            .unwrap();
        assert_eq!((again.acquired, again.expires), (1_000, 1_080));
        // Renewing pushes the expiry; after it passes, the next operation takes over.
        t.renew(&a, 60, 1_050).unwrap();
        assert!(t.acquire(&sm, &rel, &h("bob@host"), 60, 1_100).is_err());
        let b = t.acquire(&sm, &rel, &h("bob@host"), 60, 1_200).unwrap();
        assert_eq!(b.took_over_from, Some(h("alice@ci-7/4242")));
        // Alice's late release does not remove Bob's lease.
        t.release_lease(&a).unwrap();
        assert!(t.acquire(&sm, &rel, &h("carol@host"), 60, 1_210).is_err());
        assert_eq!(t.lease(&sm, &rel).unwrap().unwrap().holder, h("bob@host"));
        t.release_lease(&b).unwrap();
        assert!(t.lease(&sm, &rel).unwrap().is_none());
        assert!(t.acquire(&sm, &rel, &h("carol@host"), 60, 1_220).is_ok());
    }

    #[test]
    fn list_refuses_files_it_cannot_read() {
        let tmp = tempfile::tempdir().unwrap();
        let t = DirTarget::new(tmp.path());
        let cm = id("ConfigMap", "shop", "web");
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "namespace": "shop"}});
        t.apply(
            &cm,
            &obj,
            ApplyMode::Commit {
                force_conflicts: false,
            },
        )
        .unwrap();
        assert_eq!(
            t.list("v1", "ConfigMap", Some("shop"), None).unwrap().len(),
            1
        );
        std::fs::write(
            tmp.path().join("shop/configmap-broken.yaml"),
            "{ not: [yaml",
        )
        .unwrap();
        let err = t.list("v1", "ConfigMap", None, None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("failed to read the object file ")
                && err.to_string().ends_with("configmap-broken.yaml"),
            "{err}"
        );
    }
}
