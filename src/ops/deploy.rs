//! `install` and `upgrade` (and `upgrade --install`): render the package with the user's values
//! (generated values kept from the previous revision), plan against what the release applied,
//! and commit the revision through [`super::commit`].

use std::path::PathBuf;

use serde_json::Value;

use super::commit::{
    ApplySettings, DeployOutcome, Revision, commit, hold, plan_against, refuse_immutable,
};
use super::wait::Observation;
use super::{Generation, OpError, ValuesSources, load_package_digest};
use crate::model::{ReleaseName, ServiceMapName};
use crate::plan::Plan;
use crate::policy::PolicyUpdate;
use crate::release::{self, PackageRef, Record, Status};
use crate::render::{self, Capabilities, ReleaseInfo, RenderContext};
use crate::targets::{ApplyMode, Holder, Target};
use crate::time::{UnixTime, format_rfc3339};
use crate::values;

/// Install or upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployMode {
    Install,
    Upgrade {
        /// Install when the release does not exist (`upgrade --install`).
        install_if_missing: bool,
        /// Start from the previous revision's values (`--reuse-values`).
        reuse_values: bool,
    },
}

#[derive(Debug, Clone)]
pub struct DeployOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    /// A directory, an archive or `REPO/NAME[@REQ]`.
    pub package: PathBuf,
    pub values: ValuesSources,
    pub mode: DeployMode,
    pub dry_run: bool,
    pub history_max: usize,
    /// Who holds the lease (`user@host`).
    pub holder: Holder,
    pub now: UnixTime,
    pub generation: Generation,
    pub apply: ApplySettings,
    /// Create the service map (namespace) first when it does not exist.
    pub create_service_map: bool,
    /// Changes to the automatic-upgrade policy (kept from the previous revision otherwise).
    pub policy: PolicyUpdate,
    /// Only go on if the release's current revision is still this one (automatic upgrades:
    /// another run may have upgraded it meanwhile).
    pub expect_revision: Option<u64>,
    /// Record a new revision even when nothing changed (`upgrade --force`).
    pub force: bool,
    /// Apply CRD changes that drop a served or stored version or a field of a stored version.
    pub force_crd_changes: bool,
    /// Restore fields another field manager changed (`--correct-drift`): those objects are
    /// applied again, forcing. `apply.force_conflicts` implies it.
    pub correct_drift: bool,
}

/// What a package renders for this revision, with the values it rendered with.
struct Prepared {
    /// The values the user supplied (kept in the record).
    overlay: Value,
    /// The values the templates saw.
    resolved: Value,
    rendered: render::Rendered,
    hooks: Vec<release::Hook>,
    crds: Vec<render::RenderedObject>,
}

/// Our own format: the user's overlay (on top of the previous one with `--reuse-values`),
/// generated values kept from the previous revision (else generated now), the schema checked.
fn prepare_package(
    pkg: &crate::package::Package,
    opts: &DeployOptions,
    current: Option<&Record>,
    release: ReleaseInfo,
) -> Result<Prepared, OpError> {
    let mut overlay = values::user_overlay(&opts.values.read()?)?;
    if let (
        DeployMode::Upgrade {
            reuse_values: true, ..
        },
        Some(c),
    ) = (opts.mode, current)
    {
        let mut merged = c.values.clone();
        values::merge_keep_null(&mut merged, overlay);
        overlay = merged;
    }
    if let Some(schema) = &pkg.schema_json {
        for a in values::generated_paths(schema)? {
            let ptr: String = a.path.iter().map(|k| format!("/{k}")).collect();
            let unset = overlay
                .pointer(&ptr)
                .is_none_or(|v| v.is_null() || v.as_str() == Some(""));
            let previous = current
                .and_then(|c| c.values.pointer(&ptr))
                .filter(|v| !v.is_null());
            let value = match (unset, previous) {
                (false, _) => continue,
                (true, Some(p)) => p.clone(),
                (true, None) => Value::String(match opts.generation {
                    Generation::Placeholder => a.what.placeholder(),
                    Generation::Random => values::random_value(a.what).map_err(|e| {
                        OpError::Invalid(format!("failed to generate a random value: {e}"))
                    })?,
                }),
            };
            let segs: Vec<values::Seg> =
                a.path.iter().map(|k| values::Seg::Key(k.clone())).collect();
            values::set_path(&mut overlay, &segs, value, "generate", "")?;
        }
    }
    let resolved = values::coalesce(&pkg.values, &overlay);
    if let Some(schema) = &pkg.schema {
        schema.validate(&resolved)?;
    }
    let ctx = RenderContext {
        release,
        capabilities: Capabilities::default(),
        entropy: super::entropy()?,
    };
    let rendered = render::render(pkg, &resolved, &ctx)?;
    Ok(Prepared {
        overlay,
        resolved,
        rendered,
        hooks: Vec::new(),
        crds: Vec::new(),
    })
}

/// A Helm chart: the user's values merged as Helm merges them (on top of the previous
/// revision's with `--reuse-values`, onto the new chart's defaults), dependencies processed,
/// every chart's schema checked, rendered as `helm install` does with `lookup` asking the
/// target and the target's Kubernetes version.
fn prepare_chart(
    target: &dyn Target,
    pkg: &crate::package::Package,
    chart: &crate::chart::Chart,
    opts: &DeployOptions,
    current: Option<&Record>,
    release: ReleaseInfo,
) -> Result<Prepared, OpError> {
    let input = opts.values.read()?;
    let mut user = crate::chart::values::user_values(&input)?;
    if let (
        DeployMode::Upgrade {
            reuse_values: true, ..
        },
        Some(c),
    ) = (opts.mode, current)
    {
        let mut merged = c.values.clone();
        values::merge_keep_null(&mut merged, user);
        user = merged;
    }
    let (_, resolved) =
        crate::chart::values::resolve_user(chart, &user, input.skip_schema_validation)?;
    let kube_version = match target.kube_version() {
        Ok(Some(v)) => v,
        // No cluster to ask (a folder), or it would not say: what `helm template` assumes.
        _ => semver::Version::parse(render::chart::HELM_KUBE_VERSION)
            .unwrap_or(semver::Version::new(1, 35, 0)),
    };
    let ctx = RenderContext {
        release,
        capabilities: Capabilities {
            kube_version,
            api_versions: render::chart::HELM_API_VERSIONS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        },
        entropy: super::entropy()?,
    };
    let out = super::chart_release::render(pkg, chart, &resolved, &ctx, target)?;
    Ok(Prepared {
        overlay: user,
        resolved,
        rendered: out.rendered,
        hooks: out.hooks,
        crds: out.crds,
    })
}

/// Refuses to install a release that Helm manages in the service map (its records, Secrets or
/// ConfigMaps labelled `owner=helm`, not marked adopted): both tools would fight over the
/// objects. `adopt` takes it over instead.
fn refuse_helm_owned(
    target: &dyn Target,
    service_map: &crate::model::ServiceMapName,
    release: &crate::model::ReleaseName,
) -> Result<(), OpError> {
    let selector = format!("owner=helm,name={release}");
    for kind in ["Secret", "ConfigMap"] {
        let found = target.list("v1", kind, Some(service_map.as_str()), Some(&selector))?;
        let helm_owned = found.iter().any(|o| {
            o.pointer("/metadata/labels")
                .and_then(|l| l.get(super::adopt::ADOPTED_LABEL))
                .is_none()
        });
        if helm_owned {
            return Err(OpError::Refused {
                message: format!(
                    "release `{release}` in service map `{service_map}` is managed by Helm (its release records are {kind}s labelled owner=helm)"
                ),
                hint: Some(format!(
                    "take it over without reinstalling anything: `cocktail-pkg adopt {release} -n {service_map}` (see docs/guides/from-helm.md), or pick another release name"
                )),
            });
        }
    }
    Ok(())
}

/// The annotation with the digest of a CRD as a chart rendered it.
const CRD_DIGEST_ANNOTATION: &str = "cocktail.io/crd-digest";

/// The changes to the CRDs a chart brings, planned against the cluster: created when missing,
/// updated when they differ, and an update that would drop a served or stored version or a
/// field of a stored version's schema refused unless `force`.
fn plan_crds(
    target: &dyn Target,
    crds: &[render::RenderedObject],
    force: bool,
) -> Result<Vec<crate::plan::Change>, OpError> {
    use crate::plan::{Action, Change};
    let mut changes = Vec::new();
    let mut refused = Vec::new();
    for c in crds {
        // The CRD as rendered carries its digest, so the next upgrade can tell whether the
        // chart changed it (the live object has the server's defaults and status besides).
        let digest = crate::model::Digest::of(&serde_json::to_vec(&c.object).unwrap_or_default())
            .to_string();
        let mut desired = c.object.clone();
        if let Some(meta) = desired.get_mut("metadata").and_then(Value::as_object_mut) {
            let annotations = meta
                .entry("annotations")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(a) = annotations.as_object_mut() {
                a.insert(CRD_DIGEST_ANNOTATION.into(), Value::String(digest.clone()));
            }
        }
        let live = target.get(&c.id)?;
        let action = match &live {
            None => Action::Create,
            Some(l)
                if l.pointer("/metadata/annotations")
                    .and_then(|a| a.get(CRD_DIGEST_ANNOTATION))
                    .and_then(Value::as_str)
                    == Some(digest.as_str()) =>
            {
                Action::Unchanged
            }
            Some(l) => {
                for b in crate::crd::breaking_changes(l, &desired) {
                    refused.push(format!("{}: {b}", c.id));
                }
                Action::Update
            }
        };
        changes.push(Change {
            id: c.id.clone(),
            action,
            before: live.map(|l| crate::plan::as_applied(&l, &desired)),
            after: Some(desired),
            immutable: Vec::new(),
        });
    }
    if !refused.is_empty() && !force {
        return Err(OpError::Refused {
            message: format!(
                "the upgrade would break custom resources, nothing was applied: {}",
                refused.join("; ")
            ),
            hint: Some(
                "custom resources stored in a dropped version or field become unreadable or lose data: migrate them first, or pass --force-crd-changes if you know they are safe".into(),
            ),
        });
    }
    Ok(changes)
}

/// Whether an upgrade to `next` changes nothing of the deployed revision `current`: the same
/// objects (`plan`), values, package version and digest, repository and policy. Notes are not
/// compared: with the same package and values they differ only where they print the revision
/// or the time. (So a chart's hooks do not run either: nothing is upgraded.)
fn unchanged(current: &Record, next: &Record, plan: &Plan) -> bool {
    current.status == Status::Deployed
        && !plan.has_changes()
        && current.values == next.values
        && current.package.version == next.package.version
        && current.package.digest == next.package.digest
        && current.package.repository == next.package.repository
        && current.policy == next.policy
}

/// Installs or upgrades a release.
pub fn deploy(target: &dyn Target, opts: &DeployOptions) -> Result<DeployOutcome, OpError> {
    deploy_with(target, opts, &mut |_| {})
}

/// Creates the service map when asked to and it is missing (not on a dry run).
fn ensure_service_map(
    target: &dyn Target,
    service_map: &ServiceMapName,
    create: bool,
    dry_run: bool,
) -> Result<(), OpError> {
    if !create || dry_run {
        return Ok(());
    }
    let id = super::service_map::namespace_id(service_map);
    if target.get(&id)?.is_none() {
        super::service_map::create(
            target,
            &super::service_map::CreateOptions {
                name: service_map.clone(),
                display_name: None,
                description: None,
            },
        )?;
    }
    Ok(())
}

/// [`deploy`], reporting each round of `--wait` to `progress`.
pub fn deploy_with(
    target: &dyn Target,
    opts: &DeployOptions,
    progress: &mut dyn FnMut(&Observation),
) -> Result<DeployOutcome, OpError> {
    let (pkg, digest, repository) = load_package_digest(&opts.package)?;
    if let Some(chart) = pkg.chart()
        && chart.is_library()
    {
        return Err(OpError::Refused {
            message: format!(
                "chart `{}` is a library chart: library charts are not installable",
                chart.name()
            ),
            hint: Some(
                "a library chart only provides defines: install a chart that depends on it".into(),
            ),
        });
    }
    ensure_service_map(
        target,
        &opts.service_map,
        opts.create_service_map,
        opts.dry_run,
    )?;
    let (mut held, records) = hold(
        target,
        &opts.service_map,
        &opts.release,
        &opts.holder,
        opts.now,
        opts.dry_run,
    )?;
    let current = release::current(&records).filter(|r| r.status != Status::Uninstalled);
    if let Some(expected) = opts.expect_revision
        && current.map(|c| c.revision) != Some(expected)
    {
        return Err(OpError::Stale(format!(
            "release `{}` changed since this run read it (revision {expected} is no longer current)",
            opts.release
        )));
    }
    let is_install = match (opts.mode, current) {
        (DeployMode::Install, Some(c)) => {
            return Err(OpError::Invalid(format!(
                "release `{}` already exists in service map `{}` (revision {}, {})",
                opts.release,
                opts.service_map,
                c.revision,
                c.status.as_str()
            )));
        }
        (DeployMode::Install, None) => true,
        (
            DeployMode::Upgrade {
                install_if_missing: false,
                ..
            },
            None,
        ) => {
            return Err(OpError::Invalid(format!(
                "release `{}` does not exist in service map `{}`; install it, or pass --install",
                opts.release, opts.service_map
            )));
        }
        (DeployMode::Upgrade { .. }, None) => true,
        (DeployMode::Upgrade { .. }, Some(_)) => false,
    };
    if is_install && records.is_empty() {
        refuse_helm_owned(target, &opts.service_map, &opts.release)?;
    }
    let revision = super::commit::next_revision(&records)?;
    let info = ReleaseInfo {
        name: opts.release.clone(),
        service_map: opts.service_map.clone(),
        revision,
        is_install,
        is_upgrade: !is_install,
    };
    let prepared = match pkg.chart() {
        Some(chart) => prepare_chart(target, &pkg, chart, opts, current, info)?,
        None => prepare_package(&pkg, opts, current, info)?,
    };
    let Prepared {
        overlay,
        resolved,
        mut rendered,
        hooks,
        crds,
    } = prepared;
    // Fields set by hand (`scale`) stay while the package renders them as it did then.
    let overrides = current.map_or_else(Vec::new, |c| {
        release::Override::carry(&c.overrides, &mut rendered.objects)
    });
    let mut plan = plan_against(&rendered.objects, &records)?;
    let crd_changes = plan_crds(target, &crds, opts.force_crd_changes)?;
    if !crd_changes.is_empty() {
        let mut changes = crd_changes;
        changes.append(&mut plan.changes);
        plan.changes = changes;
    }
    refuse_immutable(&plan, "upgrade")?;
    let now = format_rfc3339(opts.now);
    let mut record = Record {
        api_version: release::API_VERSION.into(),
        name: opts.release.to_string(),
        service_map: opts.service_map.to_string(),
        revision,
        status: if is_install {
            Status::PendingInstall
        } else {
            Status::PendingUpgrade
        },
        package: PackageRef {
            name: pkg.manifest.name.to_string(),
            version: pkg.manifest.version.clone(),
            app_version: pkg.manifest.app_version.clone(),
            source: opts.package.display().to_string(),
            digest: Some(digest),
            repository: repository.clone(),
        },
        values: overlay,
        computed_values: Some(resolved.clone()),
        hooks,
        crds: crds.iter().map(|c| c.id.clone()).collect(),
        format: pkg.chart().map(|_| "chart".to_string()),
        overrides,
        manifest: if pkg.chart().is_some() {
            // A chart's templates are named `CHART/templates/x.yaml` already.
            rendered.to_yaml_stream_as_named()?
        } else {
            rendered.to_yaml_stream(pkg.manifest.name.as_str())?
        },
        inventory: rendered.objects.iter().map(|o| o.id.clone()).collect(),
        notes: rendered.notes.clone(),
        created: now.clone(),
        updated: now,
        description: String::new(),
        secret_paths: pkg
            .schema_json
            .as_ref()
            .map(values::secret_paths)
            .unwrap_or_default(),
        policy: opts
            .policy
            .apply_to(current.and_then(|c| c.policy.as_ref())),
        // Automatic upgrades keep the list; an upgrade by hand is a human decision: clear it.
        failed_versions: match (opts.expect_revision, current) {
            (Some(_), Some(c)) => c.failed_versions.clone(),
            _ => Vec::new(),
        },
    };
    if record
        .policy
        .as_ref()
        .is_some_and(|p| p.auto_upgrade != crate::policy::Track::Off)
        && repository.is_none()
    {
        return Err(OpError::Invalid(format!(
            "automatic upgrades need a package from a repository (REPO/NAME[@VERSION]), not `{}`",
            opts.package.display()
        )));
    }
    // Drift: fields another manager changed since the release applied them. A dry run shows
    // it; --correct-drift (or --force-conflicts) applies those objects again, forcing.
    let correct = opts.correct_drift || opts.apply.force_conflicts;
    let drift = match current {
        Some(c) if !is_install && (opts.dry_run || correct) => super::drift::of_release(target, c)?,
        _ => Vec::new(),
    };
    if correct {
        for d in &drift {
            if let Some(change) = plan.changes.iter_mut().find(|ch| ch.id == d.id)
                && change.action == crate::plan::Action::Unchanged
            {
                change.action = if d.missing {
                    crate::plan::Action::Create
                } else {
                    crate::plan::Action::Update
                };
            }
        }
    }
    // An upgrade that changes nothing makes no revision (and so never touches the objects).
    if let Some(c) = current.filter(|c| !is_install && !opts.force && unchanged(c, &record, &plan))
    {
        return Ok(DeployOutcome {
            record: c.clone(),
            plan,
            dry_run: opts.dry_run,
            up_to_date: true,
            drift,
        });
    }
    if opts.dry_run {
        for c in &plan.changes {
            if let Some(after) = &c.after {
                match target.apply(&c.id, after, ApplyMode::DryRun) {
                    Ok(_) => {}
                    // A field another manager owns with another value: that is drift, which
                    // the outcome reports with the live values instead of failing.
                    Err(crate::targets::TargetError::Conflict { .. }) if !drift.is_empty() => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        record.description = "Dry run: nothing applied".into();
        return Ok(DeployOutcome {
            record,
            plan,
            dry_run: true,
            up_to_date: false,
            drift,
        });
    }
    let (done, failed) = if is_install {
        ("Install complete", "Install failed")
    } else {
        ("Upgrade complete", "Upgrade failed")
    };
    let done = if correct && !drift.is_empty() {
        let ids: Vec<String> = drift
            .iter()
            .map(|d| format!("{}/{}", d.id.kind, d.id.name))
            .collect();
        format!("{done} (drift corrected: {})", ids.join(", "))
    } else {
        done.to_string()
    };
    let mut apply = opts.apply;
    apply.force_conflicts |= correct;
    let mut out = commit(
        &mut held,
        Revision {
            record,
            plan,
            previous: records,
            history_max: opts.history_max,
            done,
            failed: failed.into(),
            event: Some(if is_install { "install" } else { "upgrade" }),
        },
        apply,
        progress,
    )?;
    out.drift = if correct { drift } else { Vec::new() };
    Ok(out)
}
