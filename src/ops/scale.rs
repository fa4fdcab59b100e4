//! `scale`: a new revision that sets the replicas of workloads (Deployments, StatefulSets), or
//! the bounds of the HorizontalPodAutoscaler that owns them.
//!
//! The change is recorded as an override ([`crate::release::Override`]): the next `upgrade`
//! keeps it as long as the package renders the field as it did when it was scaled; when values
//! or a new version render another number, the values win and the override is dropped. A
//! workload whose replicas an HPA owns is refused (the HPA would undo it at its next sync):
//! `--hpa-min`/`--hpa-max` change the HPA's bounds instead, when the release owns the HPA.

use serde_json::Value;

use super::OpError;
use super::commit::{
    ApplySettings, DeployOutcome, Revision, commit, find_workload, hold, installed,
    manifest_objects, plan_edited,
};
use super::wait::Observation;
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::release::{Override, Record, Status};
use crate::targets::{Holder, Target};
use crate::time::{UnixTime, format_rfc3339};

/// Kinds `scale` sets replicas of.
const SCALABLE: [&str; 2] = ["Deployment", "StatefulSet"];

#[derive(Debug, Clone)]
pub struct ScaleOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    /// `(WORKLOAD, replicas)`: WORKLOAD is `NAME` or `KIND/NAME`; replicas `None` with
    /// `--hpa-min`/`--hpa-max`.
    pub workloads: Vec<(String, Option<i64>)>,
    pub hpa_min: Option<i64>,
    pub hpa_max: Option<i64>,
    pub dry_run: bool,
    pub history_max: usize,
    pub holder: Holder,
    pub now: UnixTime,
    pub apply: ApplySettings,
}

/// The HPA (of the release's objects, else live in the service map) whose `scaleTargetRef`
/// is `workload`.
fn hpa_of<'a>(
    objects: &'a [(ObjectId, Value)],
    live: &[Value],
    workload: &ObjectId,
) -> Option<(Option<&'a ObjectId>, String)> {
    let targets = |o: &Value| {
        o.pointer("/spec/scaleTargetRef/kind")
            .and_then(Value::as_str)
            == Some(&workload.kind)
            && o.pointer("/spec/scaleTargetRef/name")
                .and_then(Value::as_str)
                == Some(&workload.name)
    };
    if let Some((id, _)) = objects
        .iter()
        .find(|(id, o)| id.kind == "HorizontalPodAutoscaler" && targets(o))
    {
        return Some((Some(id), id.name.clone()));
    }
    live.iter().find(|o| targets(o)).map(|o| {
        (
            None,
            o.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
        )
    })
}

/// Sets `pointer` of `object` to `value`, recording an override (keeping what the package
/// rendered when an earlier override already changed the field).
fn set_field(
    current: &Record,
    overrides: &mut Vec<Override>,
    id: &ObjectId,
    object: &mut Value,
    pointer: &str,
    value: i64,
    reason: &str,
) -> Result<(), OpError> {
    let before = object.pointer(pointer).cloned().unwrap_or(Value::Null);
    let rendered = current
        .overrides
        .iter()
        .find(|o| o.id == *id && o.pointer == pointer)
        .map_or(before, |o| o.rendered.clone());
    let (parent, key) = pointer
        .rsplit_once('/')
        .ok_or_else(|| OpError::Invalid(format!("bad field {pointer}")))?;
    match object.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.insert(key.to_string(), Value::from(value));
        }
        _ => return Err(OpError::Invalid(format!("{id} has no `{parent}` map"))),
    }
    overrides.retain(|o| !(o.id == *id && o.pointer == pointer));
    overrides.push(Override {
        id: id.clone(),
        pointer: pointer.to_string(),
        value: Value::from(value),
        rendered,
        reason: reason.to_string(),
    });
    Ok(())
}

pub fn scale(
    target: &dyn Target,
    opts: &ScaleOptions,
    progress: &mut dyn FnMut(&Observation),
) -> Result<DeployOutcome, OpError> {
    if opts.workloads.is_empty() {
        return Err(OpError::Invalid(
            "name a workload: WORKLOAD=REPLICAS (or WORKLOAD with --hpa-min/--hpa-max)".into(),
        ));
    }
    let hpa_bounds = opts.hpa_min.is_some() || opts.hpa_max.is_some();
    if let (Some(min), Some(max)) = (opts.hpa_min, opts.hpa_max)
        && min > max
    {
        return Err(OpError::Invalid(format!(
            "--hpa-min {min} is above --hpa-max {max}"
        )));
    }
    if opts.hpa_min.is_some_and(|n| n < 1) || opts.hpa_max.is_some_and(|n| n < 1) {
        return Err(OpError::Invalid("an HPA's bounds are at least 1".into()));
    }
    let (mut held, records) = hold(
        target,
        &opts.service_map,
        &opts.release,
        &opts.holder,
        opts.now,
        opts.dry_run,
    )?;
    let current = installed(&records, &opts.service_map, &opts.release)?;
    let mut objects = manifest_objects(&current)?;
    let live_hpas = if target.observes_live_state() {
        target
            .list(
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
                Some(opts.service_map.as_str()),
                None,
            )
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut overrides = current.overrides.clone();
    let mut said = Vec::new();
    for (spec, replicas) in &opts.workloads {
        if replicas.is_some_and(|n| n < 0) {
            return Err(OpError::Invalid(format!(
                "{spec}: replicas cannot be negative"
            )));
        }
        let wid = find_workload(&mut objects, spec, &SCALABLE)?.0.clone();
        let hpa = hpa_of(&objects, &live_hpas, &wid);
        match (replicas, hpa, hpa_bounds) {
            (Some(n), None, false) => {
                let reason = format!("scale {}/{}={n}", wid.kind, wid.name);
                let (_, object) = find_workload(&mut objects, spec, &SCALABLE)?;
                set_field(
                    &current,
                    &mut overrides,
                    &wid,
                    object,
                    "/spec/replicas",
                    *n,
                    &reason,
                )?;
                said.push(format!("{}/{}={n}", wid.kind, wid.name));
            }
            (Some(_), Some((_, name)), _) => {
                return Err(OpError::Refused {
                    message: format!(
                        "the replicas of {}/{} are owned by the HorizontalPodAutoscaler `{name}`: it would undo a scale at its next sync",
                        wid.kind, wid.name
                    ),
                    hint: Some(format!(
                        "change the autoscaler's bounds instead: `cocktail-pkg scale {} {spec} --hpa-min N --hpa-max M`",
                        opts.release
                    )),
                });
            }
            (None, Some((Some(hpa_id), _)), true) => {
                let hpa_id = hpa_id.clone();
                let object = objects
                    .iter_mut()
                    .find(|(id, _)| *id == hpa_id)
                    .map(|(_, o)| o)
                    .ok_or_else(|| OpError::Invalid(format!("{hpa_id} is not in the release")))?;
                for (field, value) in [("minReplicas", opts.hpa_min), ("maxReplicas", opts.hpa_max)]
                {
                    if let Some(v) = value {
                        let reason = format!("scale {}/{} {field}={v}", wid.kind, wid.name);
                        set_field(
                            &current,
                            &mut overrides,
                            &hpa_id,
                            object,
                            &format!("/spec/{field}"),
                            v,
                            &reason,
                        )?;
                        said.push(format!(
                            "HorizontalPodAutoscaler/{} {field}={v}",
                            hpa_id.name
                        ));
                    }
                }
            }
            (None, Some((None, name)), true) => {
                return Err(OpError::Refused {
                    message: format!(
                        "the HorizontalPodAutoscaler `{name}` of {}/{} is not part of release `{}`",
                        wid.kind, wid.name, opts.release
                    ),
                    hint: Some("change it where it was created (kubectl, its own release)".into()),
                });
            }
            (None, None, true) => {
                return Err(OpError::Invalid(format!(
                    "{}/{} has no HorizontalPodAutoscaler: give it replicas ({spec}=N)",
                    wid.kind, wid.name
                )));
            }
            (Some(_), None, true) | (None, _, false) => {
                return Err(OpError::Invalid(format!(
                    "`{spec}`: give replicas (WORKLOAD=N), or --hpa-min/--hpa-max without them"
                )));
            }
        }
    }
    let (plan, manifest) = plan_edited(&objects, &records, "scale")?;
    let revision = super::commit::next_revision(&records)?;
    let now = format_rfc3339(opts.now);
    let description = format!("Scale {}", said.join(", "));
    let record = Record {
        revision,
        status: Status::PendingUpgrade,
        manifest,
        overrides,
        created: now.clone(),
        updated: now,
        description: description.clone(),
        ..current
    };
    if opts.dry_run {
        return Ok(DeployOutcome {
            record,
            plan,
            dry_run: true,
            up_to_date: false,
            drift: Vec::new(),
        });
    }
    commit(
        &mut held,
        Revision {
            record,
            plan,
            previous: records,
            history_max: opts.history_max,
            done: description.clone(),
            failed: format!("{description} failed"),
            event: None,
        },
        opts.apply,
        progress,
    )
}
