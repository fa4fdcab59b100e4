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

use super::{ApplyMode, Lease, Target, TargetError};
use crate::fsutil::write_atomic;
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::release::{self, Record};
use crate::time::{UnixTime, format_rfc3339};
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

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LockFile {
    lease: Lease,
    pid: u32,
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

    fn read_lock(&self, path: &Path) -> Option<LockFile> {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
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
            write_atomic(&path, text.as_bytes()).map_err(io("write", &path))?;
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
                Ok(entries) => entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_name() != STATE_DIR && e.path().is_dir())
                    .map(|e| e.path())
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(io("read", &self.root)(e)),
            },
        };
        let prefix = format!("{}-", kind.to_lowercase());
        let mut out = Vec::new();
        for folder in folders {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".yaml"))
                })
                .collect();
            paths.sort();
            for p in paths {
                let text = std::fs::read_to_string(&p).map_err(io("read", &p))?;
                let Ok(v) = yaml::from_str::<Value>(&p.display().to_string(), &text) else {
                    continue;
                };
                if v.get("apiVersion").and_then(Value::as_str) == Some(api_version)
                    && v.get("kind").and_then(Value::as_str) == Some(kind)
                    && label_selector.is_none_or(|sel| {
                        super::selector_matches(sel, v.pointer("/metadata/labels"))
                    })
                {
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
        let Some(mut stored) = self.get(id)? else {
            return Err(TargetError::Rejected {
                id: id.clone(),
                message: "not found".into(),
            });
        };
        crate::values::merge_keep_null(&mut stored, partial.clone());
        self.apply(
            id,
            &stored,
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
        for e in entries.filter_map(Result::ok) {
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
        let Ok(maps) = std::fs::read_dir(&base) else {
            return Ok(out);
        };
        for m in maps.filter_map(Result::ok) {
            let map = m.file_name().to_string_lossy().to_string();
            if service_map.is_some_and(|s| s.as_str() != map) {
                continue;
            }
            for r in std::fs::read_dir(m.path())
                .map_err(io("read", &m.path()))?
                .filter_map(Result::ok)
            {
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
            chunks: release::encode(record),
        })
        .unwrap_or_default();
        write_atomic(&path, &bytes).map_err(io("write", &path))
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
        holder: &str,
        ttl_secs: i64,
        now: UnixTime,
    ) -> Result<Lease, TargetError> {
        let path = self.lock_path(service_map.as_str(), release.as_str());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io("create", parent))?;
        }
        let mut took_over_from = None;
        // Two rounds at most: the second after removing an expired lease.
        for _ in 0..2 {
            let lease = Lease {
                service_map: service_map.to_string(),
                release: release.to_string(),
                holder: holder.to_string(),
                acquired: now,
                expires: now + ttl_secs,
                took_over_from: took_over_from.clone(),
            };
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let body = serde_json::to_vec_pretty(&LockFile {
                        lease: lease.clone(),
                        pid: std::process::id(),
                    })
                    .unwrap_or_default();
                    f.write_all(&body)
                        .and_then(|_| f.sync_all())
                        .map_err(io("write", &path))?;
                    return Ok(lease);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    match self.read_lock(&path) {
                        Some(existing) if existing.lease.expires > now => {
                            return Err(TargetError::LeaseHeld {
                                release: release.to_string(),
                                holder: format!("{} (pid {})", existing.lease.holder, existing.pid),
                                since: format_rfc3339(existing.lease.acquired),
                            });
                        }
                        _ => {
                            // Expired (or unreadable, e.g. a crash while writing it): take it
                            // over. Renaming moves exactly one file, so of two processes taking
                            // over at once only one moves the stale lease; the other may move
                            // the winner's fresh lease, sees that, and puts it back.
                            let stale =
                                path.with_extension(format!("stale.{}", std::process::id()));
                            if std::fs::rename(&path, &stale).is_err() {
                                continue;
                            }
                            let moved = self.read_lock(&stale);
                            if let Some(fresh) = moved.as_ref().filter(|l| l.lease.expires > now) {
                                let _ = std::fs::hard_link(&stale, &path);
                                let _ = std::fs::remove_file(&stale);
                                return Err(TargetError::LeaseHeld {
                                    release: release.to_string(),
                                    holder: format!("{} (pid {})", fresh.lease.holder, fresh.pid),
                                    since: format_rfc3339(fresh.lease.acquired),
                                });
                            }
                            let _ = std::fs::remove_file(&stale);
                            took_over_from =
                                Some(moved.map_or_else(|| "unknown".into(), |l| l.lease.holder));
                        }
                    }
                }
                Err(e) => return Err(io("create", &path)(e)),
            }
        }
        Err(TargetError::LeaseHeld {
            release: release.to_string(),
            holder: "another process".into(),
            since: format_rfc3339(now),
        })
    }

    fn renew(&self, lease: &Lease, ttl_secs: i64, now: UnixTime) -> Result<Lease, TargetError> {
        let path = self.lock_path(&lease.service_map, &lease.release);
        match self.read_lock(&path) {
            Some(existing) if existing.lease.holder == lease.holder => {
                let mut renewed = existing.lease.clone();
                renewed.expires = now + ttl_secs;
                let body = serde_json::to_vec_pretty(&LockFile {
                    lease: renewed.clone(),
                    pid: existing.pid,
                })
                .unwrap_or_default();
                write_atomic(&path, &body).map_err(io("write", &path))?;
                Ok(renewed)
            }
            Some(existing) => Err(TargetError::LeaseHeld {
                release: lease.release.clone(),
                holder: existing.lease.holder,
                since: format_rfc3339(existing.lease.acquired),
            }),
            None => Err(TargetError::Injected(format!(
                "the lease of `{}` was lost",
                lease.release
            ))),
        }
    }

    fn release_lease(&self, lease: &Lease) -> Result<(), TargetError> {
        let path = self.lock_path(&lease.service_map, &lease.release);
        if self
            .read_lock(&path)
            .is_some_and(|l| l.lease.holder == lease.holder)
        {
            std::fs::remove_file(&path).map_err(io("delete", &path))?;
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
        let a = t.acquire(&sm, &rel, "alice@host", 60, 1_000).unwrap();
        let err = t.acquire(&sm, &rel, "bob@host", 60, 1_010).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("operation in progress on release `web` by alice@host (pid "),
            "{msg}"
        );
        assert!(msg.ends_with("since 1970-01-01T00:16:40Z"), "{msg}");
        // Renewing pushes the expiry; after it passes, the next operation takes over.
        t.renew(&a, 60, 1_050).unwrap();
        assert!(t.acquire(&sm, &rel, "bob@host", 60, 1_100).is_err());
        let b = t.acquire(&sm, &rel, "bob@host", 60, 1_200).unwrap();
        assert_eq!(b.took_over_from.as_deref(), Some("alice@host"));
        // Alice's late release does not remove Bob's lease.
        t.release_lease(&a).unwrap();
        assert!(t.acquire(&sm, &rel, "carol@host", 60, 1_210).is_err());
        t.release_lease(&b).unwrap();
        assert!(t.acquire(&sm, &rel, "carol@host", 60, 1_220).is_ok());
    }
}
