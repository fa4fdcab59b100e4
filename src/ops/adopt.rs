//! `adopt`: take over releases Helm installed, without reinstalling anything.
//!
//! For each release: read Helm's records (Secrets `sh.helm.release.v1.NAME.vN`, and the
//! ConfigMaps of Helm's ConfigMap driver) with [`crate::helm_release`]; refuse a release with
//! an operation under way (`pending-*`, `uninstalling`), one that is uninstalled, one already
//! adopted or already holding cocktail-pkg records; import every revision as a
//! [`crate::release::Record`]; take field ownership of the current objects from Helm's field
//! manager (server-side apply as `cocktail-pkg` with `force`, then Helm's `managedFields`
//! entries removed: nothing is recreated, no pod template changes); mark Helm's records with
//! the label [`ADOPTED_LABEL`] and the annotation [`ADOPTED_AT_ANNOTATION`], leaving them in
//! place.
//!
//! Order, so a failure leaves nothing half-done: every release is read and planned first
//! (nothing written); then, per release under its lease: ownership (idempotent: running adopt
//! again finishes it), the records (removed again if one cannot be written), the marks (on
//! failure both are undone). `--dry-run` stops after planning.

use serde::Serialize;
use serde_json::{Value, json};

use super::OpError;
use super::commit::{applied_objects, hold, manifest_objects};
use crate::helm_release::{self, Driver, HelmRelease};
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::release::{self, HookRun, PackageRef, Record, Status};
use crate::targets::{ApplyMode, Holder, Target, object_id};
use crate::time::{UnixTime, format_rfc3339, parse_rfc3339};

/// The label `adopt` puts on Helm's records of an adopted release.
pub const ADOPTED_LABEL: &str = "cocktail.io/adopted-by";
/// The annotation with the time of the adoption.
pub const ADOPTED_AT_ANNOTATION: &str = "cocktail.io/adopted-at";
/// The field managers whose ownership moves to cocktail-pkg: Helm 3 writes `Update` entries
/// and Helm 4 `Apply` entries under this name.
pub const HELM_FIELD_MANAGERS: &[&str] = &["helm"];

#[derive(Debug, Clone)]
pub struct AdoptOptions {
    pub service_map: ServiceMapName,
    /// One release, or `None` for every Helm release of the service map (`--all`).
    pub release: Option<ReleaseName>,
    /// `--chart`: how later upgrades name the chart (`REPO/NAME`, `oci://…`, a path).
    pub chart: Option<String>,
    pub dry_run: bool,
    pub holder: Holder,
    pub now: UnixTime,
}

/// What `adopt` did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdoptOutcome {
    pub dry_run: bool,
    pub service_map: String,
    pub releases: Vec<AdoptedRelease>,
    /// With `--all`: releases left alone because they were adopted before.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdoptedRelease {
    pub release: String,
    /// `Secret` or `ConfigMap`: Helm's storage driver.
    pub driver: Driver,
    pub revisions: Vec<ImportedRevision>,
    /// The current revision's objects and the ownership that moves.
    pub objects: Vec<Ownership>,
    /// Helm's record objects marked (`Secret/sh.helm.release.v1.web.v3`).
    pub marked: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedRevision {
    pub revision: u64,
    pub status: Status,
    pub chart: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    pub updated: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ownership {
    pub object: String,
    /// Helm's `managedFields` entries that move to cocktail-pkg (`helm (Update)`).
    pub from: Vec<String>,
    /// The object no longer exists: it is not created again (the next upgrade will).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
}

/// Why a release cannot be adopted.
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    #[error("target `{0}` holds no Helm releases: Helm keeps its records in a cluster")]
    NotACluster(String),
    #[error("no Helm release `{release}` in namespace `{service_map}`")]
    NotFound {
        release: String,
        service_map: String,
    },
    #[error("no Helm releases in namespace `{0}`")]
    NoReleases(String),
    #[error("failed to read Helm's release record {object}")]
    Corrupt {
        object: String,
        #[source]
        source: helm_release::HelmCodecError,
    },
    #[error("failed to import Helm's release record {object}: {detail}")]
    Invalid { object: String, detail: String },
    #[error(
        "Helm release `{release}` is `{status}` (revision {revision}): an operation is under way or was interrupted"
    )]
    Pending {
        release: String,
        service_map: String,
        revision: u64,
        status: String,
    },
    #[error(
        "Helm release `{release}` is uninstalled (its history was kept): there is nothing to adopt"
    )]
    Uninstalled { release: String },
    #[error("Helm release `{release}` was already adopted ({object} carries `{ADOPTED_LABEL}`)")]
    AlreadyAdopted {
        release: String,
        service_map: String,
        object: String,
    },
    #[error("release `{release}` already has cocktail-pkg records in service map `{service_map}`")]
    HasRecords {
        release: String,
        service_map: String,
    },
}

impl AdoptError {
    pub fn hint(&self) -> Option<String> {
        match self {
            AdoptError::NotACluster(_) => Some(
                "point adopt at the cluster Helm installed into: `--target kube` (or `kube:CONTEXT`)".into(),
            ),
            AdoptError::NotFound { service_map, .. } | AdoptError::NoReleases(service_map) => {
                Some(format!(
                    "`helm list -n {service_map}` lists the Helm releases of the namespace; pass its namespace with -n"
                ))
            }
            AdoptError::Corrupt { .. } | AdoptError::Invalid { .. } => Some(
                "the record was changed or damaged outside Helm, nothing was changed; `helm history RELEASE` shows what Helm can read: restore the record, or delete that revision's object, then run adopt again".into(),
            ),
            AdoptError::Pending {
                release,
                service_map,
                ..
            } => Some(format!(
                "let the Helm operation finish; an interrupted one stays pending until it is rolled back: `helm rollback {release} -n {service_map}`; then run adopt again"
            )),
            AdoptError::Uninstalled { .. } => None,
            AdoptError::AlreadyAdopted {
                release,
                service_map,
                ..
            } => Some(format!(
                "cocktail-pkg manages it: `cocktail-pkg history {release} -n {service_map}`; to adopt it again, remove the label from Helm's records (`kubectl label secret,configmap -n {service_map} -l owner=helm,name={release} {ADOPTED_LABEL}-`)"
            )),
            AdoptError::HasRecords {
                release,
                service_map,
            } => Some(format!(
                "it is a cocktail-pkg release already: `cocktail-pkg history {release} -n {service_map}`"
            )),
        }
    }
}

impl From<AdoptError> for OpError {
    fn from(e: AdoptError) -> Self {
        OpError::Adopt(Box::new(e))
    }
}

/// One of Helm's records as found in the cluster.
struct Found {
    driver: Driver,
    /// The record object's name.
    name: String,
    adopted: bool,
    release: HelmRelease,
}

impl Found {
    fn describe(&self) -> String {
        format!("{} {}", self.driver.kind(), self.name)
    }

    fn id(&self, service_map: &str) -> ObjectId {
        ObjectId {
            group: String::new(),
            kind: self.driver.kind().into(),
            namespace: service_map.into(),
            name: self.name.clone(),
        }
    }
}

/// A release ready to adopt: everything read and checked, nothing written.
struct Planned {
    release: ReleaseName,
    found: Vec<Found>,
    records: Vec<Record>,
    objects: Vec<(ObjectId, Value, Ownership)>,
}

/// Adopts one release or every Helm release of the service map (see the module docs).
pub fn adopt(
    target: &dyn Target,
    opts: &AdoptOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<AdoptOutcome, OpError> {
    if !target.is_cluster() {
        return Err(AdoptError::NotACluster(target.describe()).into());
    }
    let sm = &opts.service_map;
    let by_release = helm_records(target, sm, opts.release.as_ref())?;
    if by_release.is_empty() {
        return Err(match &opts.release {
            Some(r) => AdoptError::NotFound {
                release: r.to_string(),
                service_map: sm.to_string(),
            },
            None => AdoptError::NoReleases(sm.to_string()),
        }
        .into());
    }
    let mut planned = Vec::new();
    let mut skipped = Vec::new();
    for (name, found) in by_release {
        match plan(target, opts, &name, found) {
            Ok(p) => planned.push(p),
            Err(OpError::Adopt(e))
                if opts.release.is_none() && matches!(*e, AdoptError::AlreadyAdopted { .. }) =>
            {
                skipped.push(name);
            }
            Err(e) => return Err(e),
        }
    }
    let mut releases = Vec::new();
    for p in planned {
        let mut summary = AdoptedRelease {
            release: p.release.to_string(),
            driver: p.found.first().map_or(Driver::Secret, |f| f.driver),
            revisions: p
                .records
                .iter()
                .map(|r| ImportedRevision {
                    revision: r.revision,
                    status: r.status,
                    chart: format!("{}-{}", r.package.name, r.package.version),
                    app_version: r.package.app_version.clone(),
                    updated: r.updated.clone(),
                    description: r.description.clone(),
                })
                .collect(),
            objects: p.objects.iter().map(|(_, _, o)| o.clone()).collect(),
            marked: p
                .found
                .iter()
                .map(|f| format!("{}/{}", f.driver.kind(), f.name))
                .collect(),
        };
        if !opts.dry_run {
            progress(&format!(
                "{} ({} revisions, {} objects)",
                p.release,
                p.records.len(),
                p.objects.len()
            ));
            summary.objects = execute(target, opts, &p)?;
        }
        releases.push(summary);
    }
    Ok(AdoptOutcome {
        dry_run: opts.dry_run,
        service_map: sm.to_string(),
        releases,
        skipped,
    })
}

/// Helm's records in the service map (of one release, or all), decoded, by release name.
fn helm_records(
    target: &dyn Target,
    sm: &ServiceMapName,
    release: Option<&ReleaseName>,
) -> Result<std::collections::BTreeMap<String, Vec<Found>>, OpError> {
    let selector = match release {
        Some(r) => format!("owner={},name={r}", helm_release::OWNER),
        None => format!("owner={}", helm_release::OWNER),
    };
    let mut by_release: std::collections::BTreeMap<String, Vec<Found>> = Default::default();
    for driver in [Driver::Secret, Driver::ConfigMap] {
        for object in target.list("v1", driver.kind(), Some(sm.as_str()), Some(&selector))? {
            if driver == Driver::Secret
                && object.get("type").and_then(Value::as_str) != Some(helm_release::SECRET_TYPE)
            {
                continue;
            }
            let text = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or("");
            let name = text("/metadata/name").to_string();
            let release_name = text("/metadata/labels/name").to_string();
            let adopted = object
                .pointer("/metadata/labels")
                .and_then(|l| l.get(ADOPTED_LABEL))
                .is_some();
            let describe = format!("{} {name}", driver.kind());
            let decoded = helm_release::from_object(driver, &object).map_err(|source| {
                AdoptError::Corrupt {
                    object: describe.clone(),
                    source,
                }
            })?;
            if decoded.name != release_name {
                return Err(AdoptError::Invalid {
                    object: describe,
                    detail: format!(
                        "it holds release `{}` but is labelled `name={release_name}`",
                        decoded.name
                    ),
                }
                .into());
            }
            by_release.entry(release_name).or_default().push(Found {
                driver,
                name,
                adopted,
                release: decoded,
            });
        }
    }
    Ok(by_release)
}

/// Reads and checks one release and builds its records and ownership plan; writes nothing.
fn plan(
    target: &dyn Target,
    opts: &AdoptOptions,
    name: &str,
    mut found: Vec<Found>,
) -> Result<Planned, OpError> {
    let sm = &opts.service_map;
    let release = ReleaseName::new(name).map_err(|e| AdoptError::Invalid {
        object: found.first().map(Found::describe).unwrap_or_default(),
        detail: format!("its release name cannot name a cocktail-pkg release: {e}"),
    })?;
    found.sort_by_key(|f| f.release.version);
    for pair in found.windows(2) {
        if let [a, b] = pair
            && a.release.version == b.release.version
        {
            return Err(AdoptError::Invalid {
                object: b.describe(),
                detail: format!("{} holds the same revision", a.describe()),
            }
            .into());
        }
    }
    if let Some(f) = found.iter().find(|f| f.adopted) {
        return Err(AdoptError::AlreadyAdopted {
            release: name.into(),
            service_map: sm.to_string(),
            object: f.describe(),
        }
        .into());
    }
    let Some(newest) = found.last() else {
        return Err(AdoptError::NotFound {
            release: name.into(),
            service_map: sm.to_string(),
        }
        .into());
    };
    if newest.release.is_pending() {
        return Err(AdoptError::Pending {
            release: name.into(),
            service_map: sm.to_string(),
            revision: u64::try_from(newest.release.version).unwrap_or(0),
            status: newest.release.status().into(),
        }
        .into());
    }
    if newest.release.status() == "uninstalled" {
        return Err(AdoptError::Uninstalled {
            release: name.into(),
        }
        .into());
    }
    if !target.records(sm, &release)?.is_empty() {
        return Err(AdoptError::HasRecords {
            release: name.into(),
            service_map: sm.to_string(),
        }
        .into());
    }
    let source = opts
        .chart
        .clone()
        .unwrap_or_else(|| format!("helm-release:{name}"));
    let repository = opts.chart.as_deref().and_then(repository_of);
    let newest_deployed = found.iter().rposition(|f| f.release.status() == "deployed");
    let last = found.len().saturating_sub(1);
    let mut records = Vec::new();
    for (i, f) in found.iter().enumerate() {
        let record = to_record(
            f,
            &release,
            sm,
            &source,
            repository.as_deref(),
            Position {
                newest: i == last,
                current_deployed: Some(i) == newest_deployed,
            },
            opts.now,
        )?;
        manifest_objects(&record)?;
        records.push(record);
    }
    let (current, _) = applied_objects(&records)?;
    let mut objects = Vec::new();
    for (id, object) in current {
        let live = target.get(&id)?;
        let from = live.as_ref().map(helm_entries).unwrap_or_default();
        objects.push((
            id.clone(),
            object,
            Ownership {
                object: id.to_string(),
                from,
                missing: live.is_none(),
            },
        ));
    }
    Ok(Planned {
        release,
        found,
        records,
        objects,
    })
}

/// The `managedFields` entries of Helm's field managers on a live object (`helm (Update)`).
fn helm_entries(live: &Value) -> Vec<String> {
    live.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| {
                    let manager = e.get("manager")?.as_str()?;
                    HELM_FIELD_MANAGERS.contains(&manager).then(|| {
                        let op = e.get("operation").and_then(Value::as_str).unwrap_or("");
                        match e.get("subresource").and_then(Value::as_str) {
                            Some(sub) if !sub.is_empty() => format!("{manager} ({op}, {sub})"),
                            _ => format!("{manager} ({op})"),
                        }
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The repository automatic upgrades track for a `--chart` reference, as
/// [`super::load_package_digest`] records it: `REPO` for `REPO/NAME[@…]`, `oci://HOST/PATH` for
/// an OCI reference; none for a path.
fn repository_of(reference: &str) -> Option<String> {
    use crate::repo::reference::PackageRef;
    match PackageRef::parse(reference) {
        PackageRef::Path(_) => None,
        PackageRef::Repo { repo, .. } => Some(repo),
        PackageRef::Oci { reference } => crate::repo::oci::OciRef::parse(&reference)
            .ok()
            .map(|r| r.base()),
    }
}

/// Where a revision stands in the release's history.
#[derive(Clone, Copy)]
struct Position {
    newest: bool,
    /// The newest revision Helm marks deployed (older `deployed` ones become superseded).
    current_deployed: bool,
}

/// One Helm revision as a cocktail-pkg record.
fn to_record(
    f: &Found,
    release: &ReleaseName,
    sm: &ServiceMapName,
    source: &str,
    repository: Option<&str>,
    pos: Position,
    now: UnixTime,
) -> Result<Record, AdoptError> {
    let h = &f.release;
    let invalid = |detail: String| AdoptError::Invalid {
        object: f.describe(),
        detail,
    };
    let revision = u64::try_from(h.version)
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            invalid(format!(
                "its revision {} is not a positive number",
                h.version
            ))
        })?;
    let chart = h.chart.clone().unwrap_or_default();
    let meta = chart.metadata.clone().unwrap_or_default();
    if meta.name.is_empty() {
        return Err(invalid("its chart has no name".into()));
    }
    let version = chart_version(&meta.version).ok_or_else(|| {
        invalid(format!(
            "its chart version `{}` is not a semantic version",
            meta.version
        ))
    })?;
    let info = h.info.clone().unwrap_or_default();
    let status = match info.status.as_str() {
        "deployed" if pos.current_deployed => Status::Deployed,
        "deployed" | "superseded" => Status::Superseded,
        "uninstalled" => Status::Uninstalled,
        // failed, unknown, and older revisions Helm left pending or uninstalling.
        _ => Status::Failed,
    };
    let namespace = sm.as_str();
    let (manifest, inventory) = normalize_manifest(&h.manifest, namespace).map_err(invalid)?;
    let values = h
        .config
        .clone()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let defaults = chart
        .values
        .clone()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let computed = crate::values::coalesce(&defaults, &values);
    let time = |t: &Option<String>| t.as_deref().and_then(parse_rfc3339).map(format_rfc3339);
    let created = time(&info.last_deployed)
        .or_else(|| time(&info.first_deployed))
        .unwrap_or_else(|| format_rfc3339(now));
    let updated = time(&info.deleted).unwrap_or_else(|| created.clone());
    let mut hooks = Vec::new();
    for hook in &h.hooks {
        let mut object: Value = crate::yaml::from_str("hook", &hook.manifest).map_err(|e| {
            invalid(format!(
                "its hook `{}` does not parse: {}",
                hook.name,
                crate::error_chain(&e)
            ))
        })?;
        set_namespace(&mut object, namespace);
        let id = object_id(&object).ok_or_else(|| {
            invalid(format!(
                "its hook `{}` is not an object with apiVersion, kind and metadata.name",
                hook.name
            ))
        })?;
        let last_run = hook.last_run.as_ref().and_then(|run| {
            let started = time(&run.started_at)?;
            Some(HookRun {
                event: hook.events.first().cloned().unwrap_or_default(),
                phase: run.phase.to_lowercase(),
                started,
                completed: time(&run.completed_at).unwrap_or_default(),
                message: String::new(),
            })
        });
        hooks.push(release::Hook {
            id,
            template: hook.path.clone(),
            events: hook.events.iter().map(|e| e.to_lowercase()).collect(),
            weight: hook.weight,
            delete_policies: hook.delete_policies.clone(),
            object,
            last_run,
        });
    }
    let description = match (pos.newest, info.description.is_empty()) {
        (true, true) => "Adopted from Helm".to_string(),
        (true, false) => format!("{} (adopted from Helm)", info.description),
        (false, _) => info.description.clone(),
    };
    Ok(Record {
        api_version: release::API_VERSION.into(),
        name: release.to_string(),
        service_map: sm.to_string(),
        revision,
        status,
        package: PackageRef {
            name: meta.name.clone(),
            version,
            app_version: Some(meta.app_version.clone()).filter(|a| !a.is_empty()),
            source: source.to_string(),
            digest: None,
            repository: repository.map(str::to_string),
        },
        values,
        manifest,
        inventory,
        notes: Some(info.notes.clone()).filter(|n| !n.is_empty()),
        created,
        updated,
        description,
        secret_paths: Vec::new(),
        policy: None,
        failed_versions: Vec::new(),
        computed_values: Some(computed),
        hooks,
        crds: crd_ids(&chart),
        format: Some("chart".into()),
        overrides: Vec::new(),
    })
}

/// A chart version as Helm accepts it (Masterminds semver: `v1.2`, `1.2` read as `1.2.0`).
fn chart_version(text: &str) -> Option<semver::Version> {
    let t = text.trim().trim_start_matches('v');
    if let Ok(v) = semver::Version::parse(t) {
        return Some(v);
    }
    let cut = t.find(['-', '+']).unwrap_or(t.len());
    let (core, rest) = t.split_at(cut);
    let parts = core.split('.').count();
    let padded = match parts {
        1 => format!("{core}.0.0{rest}"),
        2 => format!("{core}.0{rest}"),
        _ => return None,
    };
    semver::Version::parse(&padded).ok()
}

/// Sets the namespace of a namespaced object that has none (Helm leaves it to the client).
fn set_namespace(object: &mut Value, namespace: &str) {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    if crate::render::CLUSTER_SCOPED_KINDS.contains(&kind) {
        return;
    }
    let has = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if !has && let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("namespace".into(), namespace.into());
    }
}

/// Helm's manifest with every namespaced object's empty namespace set (its `# Source:`
/// comments kept), and the ids of its objects.
fn normalize_manifest(manifest: &str, namespace: &str) -> Result<(String, Vec<ObjectId>), String> {
    let mut out = String::new();
    let mut ids: Vec<ObjectId> = Vec::new();
    for (line, doc) in crate::yaml::split_documents(manifest) {
        if crate::yaml::is_blank(&doc) {
            continue;
        }
        let mut object: Value = crate::yaml::from_str("manifest", &doc).map_err(|e| {
            format!(
                "its manifest document at line {line} does not parse: {}",
                crate::error_chain(&e)
            )
        })?;
        if object.is_null() {
            continue;
        }
        set_namespace(&mut object, namespace);
        let id = object_id(&object).ok_or_else(|| {
            format!(
                "its manifest document at line {line} is not an object with apiVersion, kind and metadata.name"
            )
        })?;
        let yaml = crate::yaml::to_string(&object)
            .map_err(|e| format!("failed to write its manifest: {e}"))?;
        out.push_str("---\n");
        for comment in doc
            .lines()
            .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            .filter(|l| !l.trim().is_empty())
        {
            out.push_str(comment);
            out.push('\n');
        }
        out.push_str(&yaml);
        if !yaml.ends_with('\n') {
            out.push('\n');
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok((out, ids))
}

/// The CustomResourceDefinitions of the chart's `crds/` folder, as Helm stored the chart.
fn crd_ids(chart: &helm_release::Chart) -> Vec<ObjectId> {
    let mut ids = Vec::new();
    for file in chart.files.iter().filter(|f| f.name.starts_with("crds/")) {
        let Some(text) = file.text() else { continue };
        for (_, doc) in crate::yaml::split_documents(&text) {
            let Ok(Some(object)) = crate::yaml::from_str_opt::<Value>("crd", &doc) else {
                continue;
            };
            if let Some(id) = object_id(&object).filter(|id| id.kind == "CustomResourceDefinition")
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
    }
    ids
}

/// Adopts one planned release under its lease; returns the ownership that moved.
fn execute(
    target: &dyn Target,
    opts: &AdoptOptions,
    p: &Planned,
) -> Result<Vec<Ownership>, OpError> {
    let sm = &opts.service_map;
    let (held, existing) = hold(target, sm, &p.release, &opts.holder, opts.now, false)?;
    if !existing.is_empty() {
        return Err(AdoptError::HasRecords {
            release: p.release.to_string(),
            service_map: sm.to_string(),
        }
        .into());
    }
    // 1. Ownership: idempotent, and harmless to Helm's release if a later step fails.
    let mut moved = Vec::new();
    for (id, object, planned) in &p.objects {
        super::interrupt::check()?;
        if target.get(id)?.is_none() {
            moved.push(Ownership {
                from: Vec::new(),
                missing: true,
                ..planned.clone()
            });
            continue;
        }
        let from = target.take_ownership(id, object, HELM_FIELD_MANAGERS)?;
        moved.push(Ownership {
            from,
            missing: false,
            ..planned.clone()
        });
    }
    // 2. The records, oldest first; removed again when one cannot be written.
    super::interrupt::check()?;
    let mut written: Vec<u64> = Vec::new();
    for record in &p.records {
        if let Err(e) = target.write_record(record) {
            remove_records(target, sm, &p.release, &written);
            return Err(e.into());
        }
        written.push(record.revision);
    }
    // 3. Helm's records are marked; on failure the marks and the records are undone.
    let stamp = format_rfc3339(opts.now);
    let mut marked: Vec<ObjectId> = Vec::new();
    for f in &p.found {
        let id = f.id(sm.as_str());
        let mark = json!({
            "apiVersion": "v1",
            "kind": f.driver.kind(),
            "metadata": {
                "name": f.name,
                "namespace": sm.as_str(),
                "labels": {ADOPTED_LABEL: crate::targets::kube::FIELD_MANAGER},
                "annotations": {ADOPTED_AT_ANNOTATION: stamp},
            },
        });
        let applied = super::interrupt::check()
            .map_err(OpError::from)
            .and_then(|()| {
                target
                    .apply(
                        &id,
                        &mark,
                        ApplyMode::Commit {
                            force_conflicts: true,
                        },
                    )
                    .map_err(OpError::from)
            });
        if let Err(e) = applied {
            for id in &marked {
                // Applying only the name gives up the label and annotation we applied.
                let bare = json!({
                    "apiVersion": "v1",
                    "kind": id.kind,
                    "metadata": {"name": id.name, "namespace": id.namespace},
                });
                let _best_effort = target.apply(
                    id,
                    &bare,
                    ApplyMode::Commit {
                        force_conflicts: true,
                    },
                );
            }
            remove_records(target, sm, &p.release, &written);
            return Err(e);
        }
        marked.push(id);
    }
    drop(held);
    Ok(moved)
}

/// Removes records written by a failed adoption (best effort: the error that stopped it is
/// what the user must see).
fn remove_records(target: &dyn Target, sm: &ServiceMapName, release: &ReleaseName, revs: &[u64]) {
    for rev in revs {
        let _best_effort = target.delete_record(sm, release, *rev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_versions_read_as_helm_reads_them() {
        assert_eq!(chart_version("1.2.3").unwrap().to_string(), "1.2.3");
        assert_eq!(chart_version("v1.2").unwrap().to_string(), "1.2.0");
        assert_eq!(chart_version("2").unwrap().to_string(), "2.0.0");
        assert_eq!(
            chart_version("1.2-beta.1").unwrap().to_string(),
            "1.2.0-beta.1"
        );
        assert!(chart_version("latest").is_none());
        assert!(chart_version("").is_none());
    }

    #[test]
    fn manifests_get_the_namespace_and_keep_their_sources() {
        let helm = "---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n---\n# Source: c/templates/role.yaml\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n---\n# Source: c/templates/other.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: elsewhere\n";
        let (manifest, ids) = normalize_manifest(helm, "shop").unwrap();
        assert!(
            manifest.contains("# Source: c/templates/cm.yaml\n"),
            "{manifest}"
        );
        let names: Vec<String> = ids.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "ConfigMap/shop/a",
                "ClusterRole.rbac.authorization.k8s.io/r",
                "Secret/elsewhere/s"
            ]
        );
        assert!(normalize_manifest("kind: [", "shop").is_err());
        assert!(normalize_manifest("a: 1\n", "shop").is_err());
    }

    #[test]
    fn repositories_are_derived_like_installs_do() {
        assert_eq!(
            repository_of("bitnami/nginx@^18").as_deref(),
            Some("bitnami")
        );
        assert_eq!(
            repository_of("oci://registry.example.com/charts/nginx:1.2.3").as_deref(),
            Some("oci://registry.example.com/charts/nginx")
        );
        assert_eq!(repository_of("./no/such/chart/dir/anywhere"), None);
    }
}
