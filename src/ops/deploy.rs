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
}

/// Whether an upgrade to `next` changes nothing of the deployed revision `current`: the same
/// objects (`plan`), values, package version and digest, repository, notes and policy.
fn unchanged(current: &Record, next: &Record, plan: &Plan) -> bool {
    current.status == Status::Deployed
        && !plan.has_changes()
        && current.values == next.values
        && current.package.version == next.package.version
        && current.package.digest == next.package.digest
        && current.package.repository == next.package.repository
        && current.notes == next.notes
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
    if pkg.chart().is_some() {
        // Hooks, CRDs and our labels on chart objects are not handled yet: applying the objects
        // alone would be a release Helm users would not recognise, so refuse instead.
        return Err(OpError::Refused {
            message: format!(
                "installing Helm charts is not supported yet (`{}` is a chart)",
                opts.package.display()
            ),
            hint: Some(
                "render it with `cocktail-pkg template` (identical to `helm template`) and apply the output, or install it with helm for now".into(),
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
    // Values: the user's overlay (on top of the previous one with --reuse-values); generated
    // values are kept from the previous revision, else generated now.
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
    let revision = super::commit::next_revision(&records)?;
    let ctx = RenderContext {
        release: ReleaseInfo {
            name: opts.release.clone(),
            service_map: opts.service_map.clone(),
            revision,
            is_install,
            is_upgrade: !is_install,
        },
        capabilities: Capabilities::default(),
        entropy: super::entropy()?,
    };
    let rendered = render::render(&pkg, &resolved, &ctx)?;
    let plan = plan_against(&rendered.objects, &records)?;
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
        hooks: Vec::new(),
        crds: Vec::new(),
        format: None,
        manifest: rendered.to_yaml_stream(pkg.manifest.name.as_str())?,
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
    // An upgrade that changes nothing makes no revision (and so never touches the objects).
    if let Some(c) = current.filter(|c| !is_install && !opts.force && unchanged(c, &record, &plan))
    {
        return Ok(DeployOutcome {
            record: c.clone(),
            plan,
            dry_run: opts.dry_run,
            up_to_date: true,
        });
    }
    if opts.dry_run {
        for c in &plan.changes {
            if let Some(after) = &c.after {
                target.apply(&c.id, after, ApplyMode::DryRun)?;
            }
        }
        record.description = "Dry run: nothing applied".into();
        return Ok(DeployOutcome {
            record,
            plan,
            dry_run: true,
            up_to_date: false,
        });
    }
    let (done, failed) = if is_install {
        ("Install complete", "Install failed")
    } else {
        ("Upgrade complete", "Upgrade failed")
    };
    commit(
        &mut held,
        Revision {
            record,
            plan,
            previous: records,
            history_max: opts.history_max,
            done: done.into(),
            failed: failed.into(),
        },
        opts.apply,
        progress,
    )
}
