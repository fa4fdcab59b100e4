//! `logs`: the logs of every pod of a release's workloads (or of one workload), line by line.
//!
//! Without `follow`, each container's log is read to its end, one after the other (the lines of
//! one pod stay together and in order). With `follow`, each container's log is a stream read by
//! a thread of its own; the pod list is read again every poll interval, so the pods of a
//! rollout and restarted containers are picked up as they start (their logs from the
//! beginning) and the streams of pods that are gone end. Memory is bounded whatever the volume:
//! lines are handed over one by one through a bounded channel, and a line longer than
//! [`MAX_LINE`] is cut into pieces.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::OpError;
use super::workload_pods::{
    containers, default_container, name, pick_workload, pods_of, release_objects, workloads,
};
use crate::model::{ObjectId, ReleaseName, ServiceMapName};
use crate::targets::{LogRequest, Target, TargetError};

/// The longest line handed over whole; longer lines come in pieces of this size.
pub const MAX_LINE: usize = 64 * 1024;
/// How many lines may wait between the streams and the output.
const LINES_IN_FLIGHT: usize = 256;

#[derive(Debug, Clone)]
pub struct LogsOptions {
    pub release: ReleaseName,
    pub service_map: ServiceMapName,
    /// `WORKLOAD[/CONTAINER]` (`web`, `Deployment/web`, `web/nginx`); default: every workload.
    pub workload: Option<String>,
    pub follow: bool,
    /// Only lines newer than this.
    pub since: Option<Duration>,
    /// Only the last lines of each container.
    pub tail: Option<i64>,
    /// The previous (terminated) instance of each container.
    pub previous: bool,
    /// Every container of each pod, init containers included, rather than the default one.
    pub all_containers: bool,
    pub timestamps: bool,
    /// How often `follow` reads the pod list again.
    pub poll_interval: Duration,
}

/// What `logs` reports as it reads.
#[derive(Debug)]
pub enum LogEvent<'a> {
    /// One line (without its line end) of a container's log.
    Line {
        pod: &'a str,
        container: &'a str,
        text: &'a [u8],
    },
    /// Something for people (a stream started or ended, a container not started yet).
    Note(String),
    /// A container whose log could not be read (the others go on).
    Warning(String),
}

/// Where events go; an error (a closed stdout) stops `logs`.
pub type LogOutput<'a> = dyn FnMut(LogEvent<'_>) -> Result<(), OpError> + 'a;

/// Reads (or follows) the logs of a release's pods.
pub fn logs(
    target: &dyn Target,
    opts: &LogsOptions,
    out: &mut LogOutput<'_>,
) -> Result<(), OpError> {
    if !target.observes_live_state() {
        return Err(TargetError::Unsupported {
            action: "read pod logs",
            target: target.describe(),
        }
        .into());
    }
    let objects = release_objects(target, &opts.service_map, &opts.release)?;
    let (chosen, container) = match &opts.workload {
        Some(spec) => {
            let (workload, container) = pick_workload(&objects, spec)?;
            (vec![workload], container)
        }
        None => (workloads(&objects), None),
    };
    if chosen.is_empty() {
        return Err(OpError::Invalid(format!(
            "release `{}` has no workload with pods (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod)",
            opts.release
        )));
    }
    let select = Selection {
        workloads: chosen,
        container,
        all_containers: opts.all_containers,
    };
    if opts.follow {
        follow(target, opts, &select, out)
    } else {
        read_once(target, opts, &select, out)
    }
}

struct Selection {
    workloads: Vec<(ObjectId, Value)>,
    container: Option<String>,
    all_containers: bool,
}

/// Whether a container's log can be read now; why not otherwise.
enum Readable {
    Yes { restarts: i64 },
    No(String),
}

impl Selection {
    /// The live pods of the chosen workloads (each once), sorted by name.
    fn pods(&self, target: &dyn Target) -> Result<Vec<Value>, OpError> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (id, manifest) in &self.workloads {
            for pod in pods_of(target, id, manifest)? {
                if seen.insert(name(&pod).to_string()) {
                    out.push(pod);
                }
            }
        }
        out.sort_by(|a, b| name(a).cmp(name(b)));
        Ok(out)
    }

    /// The containers of a pod to read: the one named, every one, or the default one.
    fn containers(&self, pod: &Value) -> Vec<String> {
        if let Some(c) = &self.container {
            return vec![c.clone()];
        }
        if self.all_containers {
            // Init containers only once they started (they have a status).
            let init_started = |c: &String| {
                statuses(pod, "initContainerStatuses")
                    .any(|s| s.get("name").and_then(Value::as_str) == Some(c))
            };
            let regular = containers(pod, false);
            return containers(pod, true)
                .into_iter()
                .filter(|c| regular.contains(c) || init_started(c))
                .collect();
        }
        default_container(pod).into_iter().collect()
    }
}

fn statuses<'a>(pod: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    pod.pointer(&format!("/status/{field}"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Whether a container has started (running or terminated), from the pod's status.
fn readable(pod: &Value, container: &str) -> Readable {
    if !containers(pod, true).iter().any(|c| c == container) {
        return Readable::No(format!(
            "has no container `{container}` (containers: {})",
            containers(pod, true).join(", ")
        ));
    }
    let status = statuses(pod, "containerStatuses")
        .chain(statuses(pod, "initContainerStatuses"))
        .find(|s| s.get("name").and_then(Value::as_str) == Some(container));
    match status {
        Some(s) => {
            let restarts = s.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
            match s.pointer("/state/waiting") {
                Some(w) if s.pointer("/lastState/terminated").is_none() => Readable::No(format!(
                    "is waiting to start ({})",
                    w.get("reason")
                        .and_then(Value::as_str)
                        .unwrap_or("ContainerCreating")
                )),
                _ => Readable::Yes { restarts },
            }
        }
        None => match pod.pointer("/status/phase").and_then(Value::as_str) {
            Some("Running" | "Succeeded" | "Failed") => Readable::Yes { restarts: 0 },
            phase => Readable::No(format!(
                "is waiting to start (pod {})",
                phase.unwrap_or("Pending")
            )),
        },
    }
}

fn request(opts: &LogsOptions, container: &str, from_start: bool, follow: bool) -> LogRequest {
    LogRequest {
        container: Some(container.to_string()),
        follow,
        since_seconds: opts
            .since
            .filter(|_| !from_start)
            .map(|d| i64::try_from(d.as_secs().max(1)).unwrap_or(i64::MAX)),
        tail_lines: opts.tail.filter(|_| !from_start),
        previous: opts.previous && !follow,
        timestamps: opts.timestamps,
    }
}

/// Reads one line (without its end) into `line`, at most [`MAX_LINE`] bytes: a longer line
/// comes back in pieces. Returns false at the end of the stream.
pub fn read_line_capped(reader: &mut dyn BufRead, line: &mut Vec<u8>) -> std::io::Result<bool> {
    line.clear();
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(!line.is_empty());
        }
        let room = MAX_LINE - line.len();
        let window = &buf[..buf.len().min(room)];
        if let Some(i) = window.iter().position(|b| *b == b'\n') {
            line.extend_from_slice(&window[..i]);
            reader.consume(i + 1);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(true);
        }
        let n = window.len();
        line.extend_from_slice(window);
        reader.consume(n);
        if line.len() >= MAX_LINE {
            return Ok(true);
        }
    }
}

fn read_once(
    target: &dyn Target,
    opts: &LogsOptions,
    select: &Selection,
    out: &mut LogOutput<'_>,
) -> Result<(), OpError> {
    let pods = select.pods(target)?;
    if pods.is_empty() {
        out(LogEvent::Note(format!(
            "no pods: {} has none running",
            names(&select.workloads)
        )))?;
        return Ok(());
    }
    let mut first_error: Option<OpError> = None;
    let mut read_any = false;
    let mut line = Vec::new();
    for pod in &pods {
        let pod_name = name(pod);
        let namespace = pod
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(opts.service_map.as_str());
        for container in select.containers(pod) {
            if let Readable::No(why) = readable(pod, &container) {
                out(LogEvent::Warning(format!("{pod_name}/{container} {why}")))?;
                continue;
            }
            let req = request(opts, &container, false, false);
            let mut stream = match target.pod_log_stream(namespace, pod_name, &req) {
                Ok(s) => s,
                Err(e @ TargetError::Unsupported { .. }) => return Err(e.into()),
                Err(e) => {
                    out(LogEvent::Warning(crate::error_chain(&e)))?;
                    first_error.get_or_insert(e.into());
                    continue;
                }
            };
            read_any = true;
            loop {
                match read_line_capped(stream.as_mut(), &mut line) {
                    Ok(true) => out(LogEvent::Line {
                        pod: pod_name,
                        container: &container,
                        text: &line,
                    })?,
                    Ok(false) => break,
                    Err(e) => {
                        out(LogEvent::Warning(e.to_string()))?;
                        break;
                    }
                }
            }
        }
    }
    match first_error {
        Some(e) if !read_any => Err(e),
        _ => Ok(()),
    }
}

/// A message from a stream's thread.
enum Message {
    Line(usize, Vec<u8>),
    End(usize, Option<String>),
}

/// A followed container: its stream's state.
struct Followed {
    pod: Arc<str>,
    container: Arc<str>,
    uid: String,
    restarts: i64,
    streaming: bool,
    /// Its pod is gone: later lines of its stream are dropped.
    gone: bool,
}

fn follow(
    target: &dyn Target,
    opts: &LogsOptions,
    select: &Selection,
    out: &mut LogOutput<'_>,
) -> Result<(), OpError> {
    let (tx, rx) = sync_channel::<Message>(LINES_IN_FLIGHT);
    let mut followed: Vec<Followed> = Vec::new();
    let mut by_key: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut first_round = true;
    let mut waiting_noted: BTreeSet<(String, String, String)> = BTreeSet::new();
    // Detached threads: a followed stream may stay open as long as its container runs, and
    // must not hold `logs` up when it stops (a closed stdout); dropping `rx` ends them at their
    // next line.
    loop {
        let pods = select.pods(target)?;
        let live: BTreeSet<String> = pods.iter().map(|p| name(p).to_string()).collect();
        for f in followed.iter_mut().filter(|f| !f.gone) {
            if !live.contains(f.pod.as_ref()) {
                f.gone = true;
                if f.streaming {
                    out(LogEvent::Note(format!(
                        "{}/{}: the pod is gone",
                        f.pod, f.container
                    )))?;
                }
            }
        }
        for pod in &pods {
            let pod_name = name(pod);
            let uid = pod
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let namespace = pod
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or(opts.service_map.as_str())
                .to_string();
            for container in select.containers(pod) {
                let restarts = match readable(pod, &container) {
                    Readable::Yes { restarts } => restarts,
                    Readable::No(why) => {
                        if waiting_noted.insert((pod_name.into(), container.clone(), why.clone())) {
                            out(LogEvent::Note(format!("{pod_name}/{container} {why}")))?;
                        }
                        continue;
                    }
                };
                let key = (pod_name.to_string(), container.clone());
                let from_start = match by_key.get(&key).map(|i| &followed[*i]) {
                    None => !first_round,
                    Some(f) if f.streaming && f.uid == uid => continue,
                    // The same pod's stream ended: start again only once the container
                    // restarted (its new log from the beginning).
                    Some(f) if f.uid == uid && f.restarts >= restarts => continue,
                    Some(_) => true,
                };
                let index = match by_key.get(&key) {
                    Some(i) => *i,
                    None => {
                        followed.push(Followed {
                            pod: Arc::from(pod_name),
                            container: Arc::from(container.as_str()),
                            uid: String::new(),
                            restarts,
                            streaming: false,
                            gone: false,
                        });
                        by_key.insert(key, followed.len() - 1);
                        followed.len() - 1
                    }
                };
                let req = request(opts, &container, from_start, true);
                match target.pod_log_stream(&namespace, pod_name, &req) {
                    Ok(stream) => {
                        let f = &mut followed[index];
                        f.uid = uid.to_string();
                        f.restarts = restarts;
                        f.streaming = true;
                        f.gone = false;
                        let tx = tx.clone();
                        std::thread::spawn(move || pump(index, stream, &tx));
                    }
                    Err(e @ TargetError::Unsupported { .. }) => return Err(e.into()),
                    Err(e) => {
                        // Tried again at the next poll.
                        out(LogEvent::Warning(crate::error_chain(&e)))?;
                        followed[index].uid = uid.to_string();
                        followed[index].restarts = restarts - 1;
                    }
                }
            }
        }
        first_round = false;
        let next_poll = Instant::now() + opts.poll_interval;
        loop {
            let left = next_poll.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match receive(&rx, left) {
                Some(Message::Line(i, text)) => {
                    let f = &followed[i];
                    if !f.gone {
                        out(LogEvent::Line {
                            pod: &f.pod,
                            container: &f.container,
                            text: &text,
                        })?;
                    }
                }
                Some(Message::End(i, error)) => {
                    let f = &mut followed[i];
                    f.streaming = false;
                    if let Some(e) = error.filter(|_| !f.gone) {
                        out(LogEvent::Warning(e))?;
                    }
                }
                None => break,
            }
        }
    }
}

fn receive(rx: &Receiver<Message>, wait: Duration) -> Option<Message> {
    rx.recv_timeout(wait).ok()
}

/// A stream's thread: its lines, in order, then its end.
fn pump(index: usize, mut stream: crate::targets::LogStream, tx: &SyncSender<Message>) {
    let mut line = Vec::new();
    let error = loop {
        match read_line_capped(stream.as_mut(), &mut line) {
            Ok(true) => {
                if tx.send(Message::Line(index, line.clone())).is_err() {
                    return;
                }
            }
            Ok(false) => break None,
            Err(e) => break Some(e.to_string()),
        }
    };
    let _ = tx.send(Message::End(index, error));
}

fn names(workloads: &[(ObjectId, Value)]) -> String {
    workloads
        .iter()
        .map(|(id, _)| format!("{}/{}", id.kind, id.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<Vec<u8>> {
        let mut reader = std::io::BufReader::with_capacity(7, input);
        let mut out = Vec::new();
        let mut line = Vec::new();
        while read_line_capped(&mut reader, &mut line).unwrap() {
            out.push(line.clone());
        }
        out
    }

    #[test]
    fn lines_are_read_one_by_one_and_long_ones_are_cut() {
        assert_eq!(
            lines(b"one\r\ntwo\nthree"),
            vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
        );
        let mut long = vec![b'x'; MAX_LINE * 2 + 10];
        long.push(b'\n');
        long.extend_from_slice(b"after\n");
        let got = lines(&long);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].len(), MAX_LINE);
        assert_eq!(got[1].len(), MAX_LINE);
        assert_eq!(got[2].len(), 10);
        assert_eq!(got[3], b"after");
    }

    #[test]
    fn a_waiting_container_is_not_read() {
        let pod = serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "web"}]},
            "status": {"phase": "Pending", "containerStatuses": [
                {"name": "web", "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}},
            ]},
        });
        match readable(&pod, "web") {
            Readable::No(why) => assert!(why.contains("ImagePullBackOff"), "{why}"),
            Readable::Yes { .. } => panic!("a waiting container is readable"),
        }
        assert!(matches!(readable(&pod, "db"), Readable::No(_)));
    }
}
