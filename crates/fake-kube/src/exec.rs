//! `pods/{name}/exec` over WebSocket, and the WebSocket upgrade `portforward` shares.
//!
//! The upgrade is the real server's: a `GET` with `Connection: Upgrade`, `Upgrade: websocket`,
//! `Sec-WebSocket-Key` and the subprotocols offered in `Sec-WebSocket-Protocol`; the answer is
//! `101 Switching Protocols` with the one chosen (exec: `v5.channel.k8s.io`, else
//! `v4.channel.k8s.io`; a client offering neither gets 400). A request that is not an upgrade
//! gets 400 `Upgrade request required`; a missing pod 404; an unknown container, a pod that has
//! not started or has finished, 400 with the real server's messages.
//!
//! The channel protocol: every frame is binary, its first byte the channel — 0 stdin, 1 stdout,
//! 2 stderr, 3 the status (a `Status` JSON when the command ends: `Success`, or `Failure` with
//! reason `NonZeroExitCode` and the cause `ExitCode`; `InternalError` when the command cannot
//! start), 4 terminal resizes (`{"Width":..,"Height":..}`, recorded); v5 adds 255, "close a
//! channel" (`[255, 0]`: stdin ended). On connection the server sends one empty frame per output
//! channel. With `tty=true`, stderr is written to stdout (there is no stderr channel).
//!
//! Commands are simulated, not run (see [`ExecRecord`] for what is recorded):
//!
//! - `echo ARGS…` prints its arguments; `cat` copies stdin to stdout until stdin ends; `true`,
//!   `false`, `exit N`;
//! - `sh` and `bash` (when the pod has them: the annotation [`SHELLS`], default `sh bash`):
//!   `-c SCRIPT` runs a script of the commands above joined by `&&`, `||` and `;`, plus
//!   `command -v NAME` and `exec COMMAND…`; words split at spaces with `'…'` and `"…"` quoting;
//!   `>FILE`/`2>&1` redirections only silence the command they follow. Without `-c` the shell
//!   is interactive: it runs each line of stdin as such a script, until `exit N` or the end of
//!   stdin (exit 0), without prompts or echo;
//! - anything else cannot start: `InternalError` (`executable file not found in $PATH`), as
//!   the container runtime answers; in a script, `sh: 1: NAME: not found` and status 127.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::http::{json_response, parse_query, percent_decode};
use crate::json::str_at;
use crate::resources::find_by_group_plural;
use crate::store::key;
use crate::validation::ApiError;
use crate::{FakeKube, RecordedRequest, Shared, TOKEN, lock};

/// The annotation listing the shells a pod's containers have (space-separated; default
/// `sh bash`).
pub const SHELLS: &str = "fake-kube.cocktail.io/shells";

pub(crate) const V5: &str = "v5.channel.k8s.io";
pub(crate) const V4: &str = "v4.channel.k8s.io";

pub(crate) type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// One exec session as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRecord {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub command: Vec<String>,
    /// The subprotocol chosen (`v5.channel.k8s.io` or `v4.channel.k8s.io`).
    pub protocol: String,
    pub stdin: bool,
    pub tty: bool,
    /// Terminal sizes received on the resize channel, (width, height).
    pub resizes: Vec<(u16, u16)>,
    /// The exit code reported, once the command ended (`None`: it could not start, or runs).
    pub exit_code: Option<i32>,
}

impl FakeKube {
    /// The exec sessions so far, oldest first.
    pub fn exec_sessions(&self) -> Vec<ExecRecord> {
        lock(&self.shared.exec_sessions).clone()
    }
}

/// The query of a subresource request with repeated parameters kept (`command`, `ports`).
pub(crate) fn query_all(uri: &axum::http::Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Records the request and checks its credentials, as the main handler does: the answer
/// refusing it, if any.
pub(crate) fn admit(shared: &Shared, req: &Request) -> Option<Response> {
    let header_text = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header_text(header::AUTHORIZATION);
    lock(&shared.requests).push(RecordedRequest {
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
        query: parse_query(req.uri().query().unwrap_or("")),
        content_type: header_text(header::CONTENT_TYPE),
        authorization: authorization.clone(),
        body: None,
    });
    if let Some(a) = &authorization
        && a.trim() != format!("Bearer {TOKEN}")
    {
        let e = ApiError::unauthorized();
        return Some(json_response(e.code, &e.body()));
    }
    None
}

/// Checks a WebSocket upgrade request and picks the first of `supported` the client offers.
pub(crate) fn upgrade_protocol(
    headers: &HeaderMap,
    supported: &[&'static str],
) -> Result<(&'static str, String), ApiError> {
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let upgrade = text(header::UPGRADE).eq_ignore_ascii_case("websocket")
        && text(header::CONNECTION)
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    let key = text(header::SEC_WEBSOCKET_KEY);
    if !upgrade || key.is_empty() {
        return Err(ApiError::bad_request("Upgrade request required"));
    }
    let offered = text(header::SEC_WEBSOCKET_PROTOCOL);
    let offered: Vec<&str> = offered.split(',').map(str::trim).collect();
    let chosen = supported
        .iter()
        .find(|p| offered.contains(p))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "unable to upgrade connection: none of the requested subprotocols {offered:?} is supported (supported: {supported:?})"
            ))
        })?;
    Ok((chosen, key))
}

/// The `101 Switching Protocols` answer; `run` gets the WebSocket once the upgrade completes.
pub(crate) fn switch<F, Fut>(
    mut req: Request,
    protocol: &'static str,
    key: &str,
    run: F,
) -> Response
where
    F: FnOnce(Socket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let socket =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None)
                        .await;
                run(socket).await;
            }
            Err(e) => tracing::warn!("fake kube: upgrade failed: {e}"),
        }
    });
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    headers.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(protocol),
    );
    response
}

/// A running pod, for exec and port-forward: (pod, its containers), or the real server's
/// error.
pub(crate) fn running_pod(
    shared: &Shared,
    ns: &str,
    name: &str,
    action: &str,
) -> Result<Value, ApiError> {
    let store = lock(&shared.store);
    let res = find_by_group_plural("", "pods")
        .ok_or_else(|| ApiError::internal("pods are not served"))?;
    let pod = store
        .objects
        .get(&key(res, Some(ns), name))
        .map(|s| s.obj.clone())
        .ok_or_else(|| ApiError::not_found(res, name))?;
    match str_at(&pod, "/status/phase") {
        Some("Running") => Ok(pod),
        Some(phase @ ("Succeeded" | "Failed")) => Err(ApiError::bad_request(format!(
            "cannot {action} a container in a completed pod; current phase is {phase}"
        ))),
        _ => Err(ApiError::bad_request(format!(
            "unable to upgrade connection: pod {name} is not running"
        ))),
    }
}

fn container_names(pod: &Value) -> Vec<String> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| str_at(c, "/name").map(str::to_string))
        .collect()
}

/// `/api/v1/namespaces/{ns}/pods/{name}/{sub}` -> (ns, name).
pub(crate) fn pod_path(path: &str, sub: &str) -> Option<(String, String)> {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect();
    match segs.as_slice() {
        [a, v, n, ns, p, name, s]
            if a == "api" && v == "v1" && n == "namespaces" && p == "pods" && s == sub =>
        {
            Some((ns.clone(), name.clone()))
        }
        _ => None,
    }
}

/// Answers `GET /api/v1/namespaces/{ns}/pods/{name}/exec`.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    if let Some(refused) = admit(&shared, &req) {
        return refused;
    }
    match start(&shared, req) {
        Ok(r) => r,
        Err(e) => json_response(e.code, &e.body()),
    }
}

fn start(shared: &Arc<Shared>, req: Request) -> Result<Response, ApiError> {
    let (ns, name) = pod_path(req.uri().path(), "exec")
        .ok_or_else(|| ApiError::bad_request("not an exec path"))?;
    let query = query_all(req.uri());
    let one = |k: &str| {
        query
            .iter()
            .rev()
            .find(|(q, _)| q == k)
            .map(|(_, v)| v.clone())
    };
    let flag = |k: &str, default: bool| one(k).map_or(default, |v| v == "true" || v == "1");
    let command: Vec<String> = query
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    let (stdin, stdout, stderr, tty) = (
        flag("stdin", false),
        flag("stdout", true),
        flag("stderr", true),
        flag("tty", false),
    );
    let pod = running_pod(shared, &ns, &name, "exec into")?;
    let containers = container_names(&pod);
    let container = match one("container").filter(|c| !c.is_empty()) {
        Some(c) if containers.contains(&c) => c,
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
    };
    if command.is_empty() {
        return Err(ApiError::bad_request("you must specify at least 1 command"));
    }
    if tty && stderr {
        return Err(ApiError::bad_request("tty and stderr cannot both be true"));
    }
    let (protocol, key) = upgrade_protocol(req.headers(), &[V5, V4])?;
    let shells: Vec<String> = pod
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(SHELLS))
        .and_then(Value::as_str)
        .unwrap_or("sh bash")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let index = {
        let mut sessions = lock(&shared.exec_sessions);
        sessions.push(ExecRecord {
            namespace: ns,
            pod: name,
            container,
            command: command.clone(),
            protocol: protocol.to_string(),
            stdin,
            tty,
            resizes: Vec::new(),
            exit_code: None,
        });
        sessions.len() - 1
    };
    let shared = Arc::clone(shared);
    Ok(switch(req, protocol, &key, move |socket| async move {
        let (sink, stream) = socket.split();
        let (stdin_tx, stdin_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
        let reader_shared = Arc::clone(&shared);
        let reader = tokio::spawn(read_client(
            stream,
            stdin.then_some(stdin_tx),
            reader_shared,
            index,
        ));
        let mut p = Program {
            sink,
            stdin: stdin_rx,
            pending: Vec::new(),
            stdout,
            stderr_channel: if tty { 1 } else { 2 },
            stderr: stderr || tty,
            shells,
            quiet: false,
        };
        for ch in [1u8, 2, 3] {
            let _ = p.sink.send(Message::binary(vec![ch])).await;
        }
        let outcome = p.run(&command).await;
        let status = match &outcome {
            Ok(0) => json!({"metadata": {}, "status": "Success"}),
            Ok(code) => json!({
                "metadata": {},
                "status": "Failure",
                "message": format!("command terminated with non-zero exit code: error executing command {command:?}, exit code {code}"),
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
            }),
            Err(why) => json!({
                "metadata": {},
                "status": "Failure",
                "message": format!("Internal error occurred: error executing command in container: failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: {why}: unknown"),
                "reason": "InternalError",
                "code": 500,
            }),
        };
        if let Ok(code) = outcome
            && let Some(s) = lock(&shared.exec_sessions).get_mut(index)
        {
            s.exit_code = Some(code);
        }
        let mut frame = vec![3u8];
        frame.extend_from_slice(status.to_string().as_bytes());
        let _ = p.sink.send(Message::binary(frame)).await;
        let _ = p.sink.send(Message::Close(None)).await;
        reader.abort();
    }))
}

/// Reads the client's frames: stdin data, its end (v5's `[255, 0]`, or the socket closing),
/// resizes.
async fn read_client(
    mut stream: SplitStream<Socket>,
    mut stdin: Option<tokio::sync::mpsc::Sender<Vec<u8>>>,
    shared: Arc<Shared>,
    index: usize,
) {
    while let Some(Ok(msg)) = stream.next().await {
        match msg {
            Message::Binary(bytes) if !bytes.is_empty() => match bytes[0] {
                0 if bytes.len() > 1 => {
                    if let Some(tx) = &stdin
                        && tx.send(bytes[1..].to_vec()).await.is_err()
                    {
                        stdin = None;
                    }
                }
                255 if bytes.get(1) == Some(&0) => stdin = None,
                4 => {
                    if let Ok(size) = serde_json::from_slice::<Value>(&bytes[1..]) {
                        let dim = |k: &str| {
                            size.get(k)
                                .and_then(Value::as_u64)
                                .and_then(|n| u16::try_from(n).ok())
                                .unwrap_or(0)
                        };
                        if let Some(s) = lock(&shared.exec_sessions).get_mut(index) {
                            s.resizes.push((dim("Width"), dim("Height")));
                        }
                    }
                }
                _ => {}
            },
            Message::Close(_) => break,
            _ => {}
        }
    }
}

/// A simulated command's side of the session.
struct Program {
    sink: SplitSink<Socket, Message>,
    stdin: tokio::sync::mpsc::Receiver<Vec<u8>>,
    /// Stdin read but not used yet (by line reads).
    pending: Vec<u8>,
    stdout: bool,
    stderr: bool,
    stderr_channel: u8,
    shells: Vec<String>,
    /// The current command's output is redirected away.
    quiet: bool,
}

/// How a script ended: its status, and whether `exit` (or `exec`) ended the shell.
struct ScriptEnd {
    status: i32,
    exited: bool,
}

impl Program {
    async fn write(&mut self, channel: u8, bytes: &[u8]) {
        let on = if channel == 1 {
            self.stdout
        } else {
            self.stderr
        };
        if !on || self.quiet || bytes.is_empty() {
            return;
        }
        let mut frame = Vec::with_capacity(bytes.len() + 1);
        frame.push(channel);
        frame.extend_from_slice(bytes);
        let _ = self.sink.send(Message::binary(frame)).await;
    }

    async fn stdin_chunk(&mut self) -> Option<Vec<u8>> {
        if !self.pending.is_empty() {
            return Some(std::mem::take(&mut self.pending));
        }
        self.stdin.recv().await
    }

    async fn stdin_line(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.pending.iter().position(|b| *b == b'\n' || *b == b'\r') {
                let line: Vec<u8> = self.pending.drain(..=i).collect();
                return Some(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned());
            }
            match self.stdin.recv().await {
                Some(chunk) => self.pending.extend_from_slice(&chunk),
                None if self.pending.is_empty() => return None,
                None => {
                    let line = std::mem::take(&mut self.pending);
                    return Some(String::from_utf8_lossy(&line).into_owned());
                }
            }
        }
    }

    fn has(&self, program: &str) -> bool {
        let base = program.rsplit('/').next().unwrap_or(program);
        matches!(base, "echo" | "cat" | "true" | "false") || self.shells.iter().any(|s| s == base)
    }

    /// Runs a command line (argv); `Err` when it cannot start.
    async fn run(&mut self, argv: &[String]) -> Result<i32, String> {
        let Some(program) = argv.first() else {
            return Ok(0);
        };
        let base = program.rsplit('/').next().unwrap_or(program).to_string();
        let args = &argv[1..];
        match base.as_str() {
            "echo" => {
                let text = format!("{}\n", args.join(" "));
                self.write(1, text.as_bytes()).await;
                Ok(0)
            }
            "cat" => {
                while let Some(chunk) = self.stdin_chunk().await {
                    self.write(1, &chunk).await;
                }
                Ok(0)
            }
            "true" => Ok(0),
            "false" => Ok(1),
            "exit" => Ok(exit_status(args)),
            shell if self.shells.iter().any(|s| s == shell) => {
                if args.first().map(String::as_str) == Some("-c") {
                    let script = args.get(1).cloned().unwrap_or_default();
                    Ok(Box::pin(self.script(&script)).await.status)
                } else {
                    loop {
                        let Some(line) = self.stdin_line().await else {
                            return Ok(0);
                        };
                        let end = Box::pin(self.script(&line)).await;
                        if end.exited {
                            return Ok(end.status);
                        }
                    }
                }
            }
            _ => Err(format!(
                "exec: \"{program}\": executable file not found in $PATH"
            )),
        }
    }

    /// Runs a script of simple commands joined by `&&`, `||` and `;`.
    async fn script(&mut self, script: &str) -> ScriptEnd {
        let mut status = 0;
        for (op, words) in parse_script(script) {
            let skip = match op {
                Some(Op::And) => status != 0,
                Some(Op::Or) => status == 0,
                Some(Op::Seq) | None => false,
            };
            if skip {
                continue;
            }
            let (argv, quiet) = strip_redirections(&words);
            self.quiet = quiet;
            let Some(first) = argv.first().cloned() else {
                continue;
            };
            let end = match first.as_str() {
                "exit" => Some(ScriptEnd {
                    status: exit_status(&argv[1..]),
                    exited: true,
                }),
                "exec" => {
                    let status = match Box::pin(self.run(&argv[1..])).await {
                        Ok(code) => code,
                        Err(_) => {
                            self.quiet = false;
                            let msg = format!(
                                "sh: 1: exec: {}: not found\n",
                                argv.get(1).map_or("", |s| s.as_str())
                            );
                            self.write(self.stderr_channel, msg.as_bytes()).await;
                            127
                        }
                    };
                    Some(ScriptEnd {
                        status,
                        exited: true,
                    })
                }
                "command" if argv.get(1).map(String::as_str) == Some("-v") => {
                    let name = argv.get(2).cloned().unwrap_or_default();
                    status = if self.has(&name) {
                        self.write(1, format!("/bin/{name}\n").as_bytes()).await;
                        0
                    } else {
                        1
                    };
                    None
                }
                _ => {
                    status = match Box::pin(self.run(&argv)).await {
                        Ok(code) => code,
                        Err(_) => {
                            self.quiet = false;
                            let msg = format!("sh: 1: {first}: not found\n");
                            self.write(self.stderr_channel, msg.as_bytes()).await;
                            127
                        }
                    };
                    None
                }
            };
            self.quiet = false;
            if let Some(end) = end {
                return end;
            }
        }
        ScriptEnd {
            status,
            exited: false,
        }
    }
}

fn exit_status(args: &[String]) -> i32 {
    args.first()
        .and_then(|a| a.parse::<i32>().ok())
        .map_or(0, |n| n.rem_euclid(256))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
    Seq,
}

/// Words of each simple command, with the operator before it.
fn parse_script(script: &str) -> Vec<(Option<Op>, Vec<String>)> {
    let mut out: Vec<(Option<Op>, Vec<String>)> = Vec::new();
    let mut op = None;
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();
    let flush = |word: &mut String, in_word: &mut bool, words: &mut Vec<String>| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    word.push(q);
                }
            }
            ' ' | '\t' => flush(&mut word, &mut in_word, &mut words),
            '&' if chars.peek() == Some(&'&') => {
                chars.next();
                flush(&mut word, &mut in_word, &mut words);
                out.push((op, std::mem::take(&mut words)));
                op = Some(Op::And);
            }
            '|' if chars.peek() == Some(&'|') => {
                chars.next();
                flush(&mut word, &mut in_word, &mut words);
                out.push((op, std::mem::take(&mut words)));
                op = Some(Op::Or);
            }
            ';' => {
                flush(&mut word, &mut in_word, &mut words);
                out.push((op, std::mem::take(&mut words)));
                op = Some(Op::Seq);
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    flush(&mut word, &mut in_word, &mut words);
    if !words.is_empty() || op.is_some() {
        out.push((op, words));
    }
    out
}

/// Drops redirections (`>/dev/null`, `2>&1`, `>f`); true when stdout was redirected.
fn strip_redirections(words: &[String]) -> (Vec<String>, bool) {
    let mut quiet = false;
    let mut argv = Vec::new();
    for w in words {
        let digits = w.trim_start_matches(|c: char| c.is_ascii_digit());
        if digits.starts_with('>') || digits.starts_with('<') {
            if w.starts_with('>') || w.starts_with("1>") {
                quiet = true;
            }
            continue;
        }
        argv.push(w.clone());
    }
    (argv, quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_split_into_commands_and_operators() {
        let s = parse_script("command -v bash >/dev/null 2>&1 && exec bash || exec sh");
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].0, None);
        assert_eq!(s[1].0, Some(Op::And));
        assert_eq!(
            s[2],
            (Some(Op::Or), vec!["exec".to_string(), "sh".to_string()])
        );
        let (argv, quiet) = strip_redirections(&s[0].1);
        assert_eq!(argv, vec!["command", "-v", "bash"]);
        assert!(quiet);
        let s = parse_script("echo 'a b' \"c\"; exit 3");
        assert_eq!(s[0].1, vec!["echo", "a b", "c"]);
        assert_eq!(
            s[1],
            (Some(Op::Seq), vec!["exit".to_string(), "3".to_string()])
        );
    }
}
