//! `test`: runs the test hooks (`helm.sh/hook: test`) of a release's current revision, each
//! one even when another failed, and records each run in the revision (`get hooks`).

use serde::Serialize;

use super::OpError;
use super::commit::{hold, installed};
use super::hooks::{HookReport, HookSettings, run_all};
use crate::model::{ReleaseName, ServiceMapName};
use crate::targets::{Holder, Target};
use crate::time::UnixTime;

#[derive(Debug, Clone)]
pub struct TestOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    pub holder: Holder,
    pub now: UnixTime,
    /// Run only the tests whose object name is one of these (all when empty).
    pub filter: Vec<String>,
    pub settings: HookSettings,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestOutcome {
    pub release: String,
    pub revision: u64,
    pub tests: Vec<HookReport>,
}

impl TestOutcome {
    pub fn failed(&self) -> usize {
        self.tests
            .iter()
            .filter(|t| t.run.phase == "failed")
            .count()
    }
}

pub fn test(
    target: &dyn Target,
    opts: &TestOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<TestOutcome, OpError> {
    let (_held, records) = hold(
        target,
        &opts.service_map,
        &opts.release,
        &opts.holder,
        opts.now,
        false,
    )?;
    let mut record = installed(&records, &opts.service_map, &opts.release)?;
    if !opts.filter.is_empty() {
        let names: Vec<&str> = record.hooks.iter().map(|h| h.id.name.as_str()).collect();
        if let Some(missing) = opts.filter.iter().find(|f| !names.contains(&f.as_str())) {
            return Err(OpError::Invalid(format!(
                "release `{}` has no test `{missing}`",
                opts.release
            )));
        }
    }
    // Run the chosen tests only: the others are set aside and put back in their place.
    let chosen: Vec<bool> = record
        .hooks
        .iter()
        .map(|h| opts.filter.is_empty() || opts.filter.contains(&h.id.name))
        .collect();
    let mut hooks: Vec<_> = record
        .hooks
        .iter()
        .zip(&chosen)
        .filter(|(_, c)| **c)
        .map(|(h, _)| h.clone())
        .collect();
    let tests = run_all(target, &mut hooks, "test", opts.settings, progress);
    let mut ran = hooks.into_iter();
    for (slot, c) in record.hooks.iter_mut().zip(&chosen) {
        if *c && let Some(h) = ran.next() {
            *slot = h;
        }
    }
    if !tests.is_empty() {
        target.write_record(&record)?;
    }
    Ok(TestOutcome {
        release: record.name.clone(),
        revision: record.revision,
        tests,
    })
}
