//! Chart hooks (`helm.sh/hook`): objects created at an event of a release's life, outside its
//! inventory. At an event, the hooks that name it run one after another in
//! `helm.sh/hook-weight` order (ties in Helm's kind order, as rendered): an existing object of
//! the same name is deleted first (`before-hook-creation`, the default policy), the hook is
//! created, a Job or Pod is waited for until it finishes, and the hook is deleted when its
//! policy says so (`hook-succeeded`, `hook-failed`). Other kinds count as done once created.
//!
//! Unlike Helm, a hook that fails or times out never leaves the release pending: the error
//! names the hook and says why (the Job's condition, its pods' container states, the warning
//! events), and the caller ends the revision failed (and with `--atomic` rolls back). Each
//! hook's last run is kept in the record (`get hooks`). On a target without live state (a
//! GitOps folder) hooks are written and left for the GitOps tool to run (Argo CD runs Helm
//! hooks from their annotations); nothing is waited for or deleted.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::OpError;
use crate::model::ObjectId;
use crate::release::{Hook, HookRun};
use crate::targets::{ApplyMode, Target};
use crate::time::{format_rfc3339, now};

/// How long a hook may run when no `--timeout` is given (Helm's default).
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(300);

/// Log lines of a failed hook's pod shown in the error.
const LOG_LINES: i64 = 10;

/// The default delete policy when a hook names none.
const BEFORE_HOOK_CREATION: &str = "before-hook-creation";

/// How hooks are run.
#[derive(Debug, Clone, Copy)]
pub struct HookSettings {
    pub timeout: Duration,
    pub interval: Duration,
}

/// One hook that ran, for reports (`test`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct HookReport {
    pub id: ObjectId,
    pub run: HookRun,
}

/// A hook that failed: the revision ends failed with this.
#[derive(Debug, thiserror::Error)]
#[error("{event} hook {}/{} failed: {detail}", .id.kind, .id.name)]
pub struct HookError {
    pub event: String,
    pub id: ObjectId,
    pub detail: String,
}

/// Parses `helm.sh/hook`, `helm.sh/hook-weight` and `helm.sh/hook-delete-policy` of a
/// rendered hook object. `events` lower-case, without spaces.
pub fn hook_of(id: ObjectId, template: String, object: Value) -> Hook {
    let annotation = |k: &str| {
        object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let list = |text: String| -> Vec<String> {
        text.split(',')
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty())
            .collect()
    };
    // Helm: `strconv.Atoi`, 0 when it is not a number.
    let weight = annotation("helm.sh/hook-weight")
        .trim()
        .parse()
        .unwrap_or(0);
    Hook {
        id,
        template,
        events: list(annotation("helm.sh/hook")),
        weight,
        delete_policies: list(annotation("helm.sh/hook-delete-policy")),
        object,
        last_run: None,
    }
}

/// Whether a hook runs at `event` (`test` also matches the old `test-success`).
fn runs_at(hook: &Hook, event: &str) -> bool {
    hook.events
        .iter()
        .any(|e| e == event || (event == "test" && e == "test-success"))
}

/// The hooks of `hooks` that run at `event`, in the order they run.
pub fn at_event(hooks: &[Hook], event: &str) -> Vec<usize> {
    let mut order: Vec<usize> = (0..hooks.len())
        .filter(|&i| runs_at(&hooks[i], event))
        .collect();
    // Stable: ties keep the rendered (kind) order.
    order.sort_by_key(|&i| hooks[i].weight);
    order
}

/// Runs the hooks of `event`, recording each run in its hook. Stops at the first failure.
pub fn run(
    target: &dyn Target,
    hooks: &mut [Hook],
    event: &str,
    settings: HookSettings,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<HookReport>, Box<HookError>> {
    run_hooks(target, hooks, event, settings, progress, true)
}

/// Runs every hook of `event` even when some fail (`test`: each test reports), recording each
/// run in its hook.
pub fn run_all(
    target: &dyn Target,
    hooks: &mut [Hook],
    event: &str,
    settings: HookSettings,
    progress: &mut dyn FnMut(&str),
) -> Vec<HookReport> {
    // Not stopping, `run_hooks` reports failures in the list instead of an error.
    run_hooks(target, hooks, event, settings, progress, false).unwrap_or_default()
}

fn run_hooks(
    target: &dyn Target,
    hooks: &mut [Hook],
    event: &str,
    settings: HookSettings,
    progress: &mut dyn FnMut(&str),
    stop: bool,
) -> Result<Vec<HookReport>, Box<HookError>> {
    let mut reports = Vec::new();
    for i in at_event(hooks, event) {
        let hook = &mut hooks[i];
        progress(&format!("{event} hook {}/{}", hook.id.kind, hook.id.name));
        let started = format_rfc3339(now());
        let outcome = run_one(target, hook, settings);
        let (phase, message) = match &outcome {
            Ok(Done::Succeeded) => ("succeeded", String::new()),
            Ok(Done::Written) => ("written", String::new()),
            Err(detail) => ("failed", detail.clone()),
        };
        let run = HookRun {
            event: event.to_string(),
            phase: phase.into(),
            started,
            completed: format_rfc3339(now()),
            message,
        };
        hook.last_run = Some(run.clone());
        reports.push(HookReport {
            id: hook.id.clone(),
            run,
        });
        if let Err(detail) = outcome
            && stop
        {
            return Err(Box::new(HookError {
                event: event.to_string(),
                id: hook.id.clone(),
                detail,
            }));
        }
    }
    Ok(reports)
}

enum Done {
    Succeeded,
    /// On a target without live state: written, not run.
    Written,
}

fn has_policy(hook: &Hook, policy: &str) -> bool {
    if hook.delete_policies.is_empty() {
        return policy == BEFORE_HOOK_CREATION;
    }
    hook.delete_policies.iter().any(|p| p == policy)
}

fn run_one(target: &dyn Target, hook: &Hook, settings: HookSettings) -> Result<Done, String> {
    let deadline = Instant::now().checked_add(settings.timeout);
    let live = target.observes_live_state();
    let err = |e: crate::targets::TargetError| crate::error_chain(&e);
    if live
        && has_policy(hook, BEFORE_HOOK_CREATION)
        && target.get(&hook.id).map_err(err)?.is_some()
    {
        target.delete(&hook.id).map_err(err)?;
        // The previous run's object may take a moment to go (finalizers, pods).
        poll(settings, deadline, || {
            Ok(target.get(&hook.id).map_err(err)?.is_none().then_some(()))
        })
        .map_err(|e| match e {
            Polled::TimedOut => format!(
                "the previous {} was not deleted within {}",
                hook.id,
                crate::policy::format_duration(settings.timeout.as_secs())
            ),
            Polled::Failed(e) => e,
        })?;
    }
    target
        .apply(
            &hook.id,
            &hook.object,
            ApplyMode::Commit {
                force_conflicts: true,
            },
        )
        .map_err(err)?;
    if !live {
        return Ok(Done::Written);
    }
    let waited = if matches!(hook.id.kind.as_str(), "Job" | "Pod") {
        poll(settings, deadline, || {
            let obj = target.get(&hook.id).map_err(err)?;
            match obj.as_ref().map(|o| finished(&hook.id, o)) {
                None => Err(format!("{} disappeared while running", hook.id)),
                Some(Finished::No) => Ok(None),
                Some(Finished::Succeeded) => Ok(Some(())),
                Some(Finished::Failed(why)) => Err(why),
            }
        })
        .map_err(|e| match e {
            Polled::TimedOut => format!(
                "did not finish within {} (raise --timeout)",
                crate::policy::format_duration(settings.timeout.as_secs())
            ),
            Polled::Failed(e) => e,
        })
    } else {
        Ok(())
    };
    match waited {
        Ok(()) => {
            if has_policy(hook, "hook-succeeded") {
                target.delete(&hook.id).map_err(err)?;
            }
            Ok(Done::Succeeded)
        }
        Err(why) => {
            let detail = format!("{why}{}", diagnose(target, &hook.id));
            if has_policy(hook, "hook-failed") {
                // The failure is what the user must hear; a hook left behind is only untidy.
                let _left_behind = target.delete(&hook.id);
            }
            Err(detail)
        }
    }
}

enum Polled {
    TimedOut,
    Failed(String),
}

/// Calls `check` every interval until it answers, fails, or the deadline passes (bounded; a
/// deadline too far to compute waits without one).
fn poll<T>(
    settings: HookSettings,
    deadline: Option<Instant>,
    mut check: impl FnMut() -> Result<Option<T>, String>,
) -> Result<T, Polled> {
    loop {
        if let Err(e) = super::interrupt::check() {
            return Err(Polled::Failed(e.to_string()));
        }
        if let Some(v) = check().map_err(Polled::Failed)? {
            return Ok(v);
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left.is_some_and(|l| l.is_zero()) {
            return Err(Polled::TimedOut);
        }
        std::thread::sleep(left.map_or(settings.interval, |l| l.min(settings.interval)));
    }
}

enum Finished {
    No,
    Succeeded,
    Failed(String),
}

/// Whether a hook Job or Pod has finished.
fn finished(id: &ObjectId, obj: &Value) -> Finished {
    if id.kind == "Job" {
        let conditions = obj
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let is = |c: &Value, t: &str| {
            c.get("type").and_then(Value::as_str) == Some(t)
                && c.get("status").and_then(Value::as_str) == Some("True")
        };
        if let Some(c) = conditions.iter().find(|c| is(c, "Failed")) {
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
            return Finished::Failed(format!("Job failed: {}: {}", s("reason"), s("message")));
        }
        if conditions.iter().any(|c| is(c, "Complete")) {
            return Finished::Succeeded;
        }
        return Finished::No;
    }
    match obj.pointer("/status/phase").and_then(Value::as_str) {
        Some("Succeeded") => Finished::Succeeded,
        Some("Failed") => Finished::Failed(format!("Pod failed{}", container_states(obj))),
        _ => Finished::No,
    }
}

/// `: container c terminated (Error, exit code 1)` for each container that did not succeed.
fn container_states(pod: &Value) -> String {
    let mut out = Vec::new();
    for c in pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
        if let Some(t) = c.pointer("/state/terminated") {
            let code = t.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
            if code != 0 {
                let reason = t.get("reason").and_then(Value::as_str).unwrap_or("");
                out.push(format!(
                    "container {name} terminated ({reason}, exit code {code})"
                ));
            }
        } else if let Some(w) = c.pointer("/state/waiting") {
            let reason = w.get("reason").and_then(Value::as_str).unwrap_or("");
            let message = w.get("message").and_then(Value::as_str).unwrap_or("");
            out.push(format!("container {name} waiting: {reason} {message}"));
        }
    }
    if out.is_empty() {
        String::new()
    } else {
        format!(": {}", out.join("; "))
    }
}

/// What the cluster says about a failed hook: its pods' container states and the warning
/// events of the hook and its pods (newest last, at most a few). Best effort: a failure to
/// read them leaves them out, the hook's failure is what matters.
fn diagnose(target: &dyn Target, id: &ObjectId) -> String {
    let mut lines = Vec::new();
    let mut names = vec![id.name.clone()];
    // The last lines of a failed pod's log say most about why.
    let log_of = |pod: &Value, lines: &mut Vec<String>| {
        let name = pod
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let containers = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .map(|c| c.len())
            .unwrap_or(1);
        let first = pod
            .pointer("/spec/containers/0/name")
            .and_then(Value::as_str);
        let container = if containers > 1 { first } else { None };
        if let Ok(Some(log)) = target.pod_log(&id.namespace, name, container, LOG_LINES) {
            let tail: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
            if !tail.is_empty() {
                lines.push(format!(
                    "last log lines of pod {name}:\n    {}",
                    tail.join("\n    ")
                ));
            }
        }
    };
    if id.kind == "Pod"
        && let Ok(Some(pod)) = target.get(id)
    {
        log_of(&pod, &mut lines);
    }
    if id.kind == "Job"
        && let Ok(pods) = target.list(
            "v1",
            "Pod",
            Some(&id.namespace),
            Some(&format!("job-name={}", id.name)),
        )
    {
        for p in &pods {
            let name = p
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let states = container_states(p);
            if !states.is_empty() {
                lines.push(format!("pod {name}{states}"));
            }
            log_of(p, &mut lines);
            names.push(name.to_string());
        }
    }
    if let Ok(events) = target.list("v1", "Event", Some(&id.namespace), None) {
        let mut warnings: Vec<&Value> = events
            .iter()
            .filter(|e| e.get("type").and_then(Value::as_str) == Some("Warning"))
            .filter(|e| {
                e.pointer("/involvedObject/name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| names.iter().any(|m| m == n))
            })
            .collect();
        let time = |e: &Value| {
            e.get("lastTimestamp")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        warnings.sort_by_key(|e| time(e));
        for e in warnings.iter().rev().take(5).rev() {
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
            let kind = e
                .pointer("/involvedObject/kind")
                .and_then(Value::as_str)
                .unwrap_or("");
            let name = e
                .pointer("/involvedObject/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            lines.push(format!(
                "event on {kind}/{name}: {}: {}",
                s("reason"),
                s("message")
            ));
        }
    }
    if lines.is_empty() {
        String::new()
    } else {
        format!("; {}", lines.join("; "))
    }
}

/// The error an operation ends with when a hook failed.
impl From<Box<HookError>> for OpError {
    fn from(e: Box<HookError>) -> Self {
        OpError::Hook(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hook(name: &str, events: &str, weight: &str, policy: &str) -> Hook {
        let obj = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "shop",
            "annotations": {"helm.sh/hook": events, "helm.sh/hook-weight": weight, "helm.sh/hook-delete-policy": policy}}});
        let id = crate::targets::object_id(&obj).unwrap();
        hook_of(id, "c/templates/j.yaml".into(), obj)
    }

    #[test]
    fn hooks_run_in_weight_order_then_rendered_order() {
        let hooks = vec![
            hook("a", "pre-install", "5", ""),
            hook("b", "pre-install, post-install", "-1", ""),
            hook("c", "post-install", "0", ""),
            hook("d", "pre-install", "x", ""),
            hook("e", "pre-install", "5", ""),
        ];
        assert_eq!(at_event(&hooks, "pre-install"), [1, 3, 0, 4]);
        assert_eq!(at_event(&hooks, "post-install"), [1, 2]);
        assert!(at_event(&hooks, "test").is_empty());
    }

    #[test]
    fn policies_default_to_before_hook_creation() {
        assert!(has_policy(&hook("a", "test", "", ""), BEFORE_HOOK_CREATION));
        let h = hook("a", "test", "", "hook-succeeded, Hook-Failed");
        assert!(!has_policy(&h, BEFORE_HOOK_CREATION));
        assert!(has_policy(&h, "hook-failed"));
        assert!(has_policy(&h, "hook-succeeded"));
    }

    #[test]
    fn failed_jobs_and_pods_say_why() {
        let id = |k: &str| ObjectId {
            group: String::new(),
            kind: k.into(),
            namespace: "shop".into(),
            name: "x".into(),
        };
        let job = json!({"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}});
        match finished(&id("Job"), &job) {
            Finished::Failed(why) => assert_eq!(
                why,
                "Job failed: BackoffLimitExceeded: Job has reached the specified backoff limit"
            ),
            _ => panic!("not failed"),
        }
        let pod = json!({"status": {"phase": "Failed", "containerStatuses": [{"name": "t", "state": {"terminated": {"exitCode": 3, "reason": "Error"}}}]}});
        match finished(&id("Pod"), &pod) {
            Finished::Failed(why) => {
                assert_eq!(
                    why,
                    "Pod failed: container t terminated (Error, exit code 3)"
                )
            }
            _ => panic!("not failed"),
        }
        assert!(matches!(
            finished(&id("Pod"), &json!({"status": {"phase": "Running"}})),
            Finished::No
        ));
    }
}
