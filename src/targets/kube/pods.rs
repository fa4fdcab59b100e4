//! The streams of pods: `pods/log` read line by line as it arrives, `pods/exec` and
//! `pods/portforward` over WebSocket through the kube crate (`Api::<Pod>::exec` with
//! `AttachParams`, `Api::<Pod>::portforward`; the crate asks for `v5.channel.k8s.io` and falls
//! back to `v4.channel.k8s.io`).
//!
//! The trait is synchronous: each stream is driven by tasks on the target's runtime and handed
//! over through bounded channels, so memory stays bounded whatever the volume.

use std::io::{Read, Write};
use std::time::Duration;

use futures_util::AsyncReadExt as _;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, LogParams};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::KubeTarget;
use crate::targets::{ExecIo, ExecRequest, LogRequest, LogStream, TargetError};

/// The size of one chunk of a log handed over, and how many may wait: the most a log stream
/// holds in memory (besides the reader's line buffer).
const CHUNK: usize = 32 * 1024;
const CHUNKS_IN_FLIGHT: usize = 4;

impl KubeTarget {
    fn pods(&self, namespace: &str) -> Api<Pod> {
        Api::namespaced(self.stream_client.clone(), namespace)
    }

    pub(super) fn log_stream(
        &self,
        namespace: &str,
        pod: &str,
        request: &LogRequest,
    ) -> Result<LogStream, TargetError> {
        let api = self.pods(namespace);
        let lp = LogParams {
            container: request.container.clone(),
            follow: request.follow,
            since_seconds: request.since_seconds,
            tail_lines: request.tail_lines,
            previous: request.previous,
            timestamps: request.timestamps,
            ..LogParams::default()
        };
        let action = || match &request.container {
            Some(c) => format!("failed to read the log of {namespace}/{pod}/{c}"),
            None => format!("failed to read the log of pod {namespace}/{pod}"),
        };
        let reader = self
            .call(|| api.log_stream(pod, &lp))
            .map_err(|e| self.err(action(), None, e))?;
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, String>>(CHUNKS_IN_FLIGHT);
        self.rt.spawn(async move {
            let mut reader = Box::pin(reader);
            loop {
                let mut buf = vec![0u8; CHUNK];
                tokio::select! {
                    // The reader was dropped: stop reading (a followed log may stay quiet).
                    () = tx.closed() => break,
                    read = reader.read(&mut buf) => match read {
                        Ok(0) => break,
                        Ok(n) => {
                            buf.truncate(n);
                            if tx.send(Ok(buf)).await.is_err() {
                                break;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e.to_string())).await;
                            break;
                        }
                    },
                }
            }
        });
        Ok(Box::new(std::io::BufReader::with_capacity(
            CHUNK,
            ChannelReader {
                rx,
                chunk: Vec::new(),
                pos: 0,
                action: action(),
            },
        )))
    }

    pub(super) fn exec_in(&self, request: &ExecRequest, io: ExecIo) -> Result<i32, TargetError> {
        let api = self.pods(&request.namespace);
        let ExecIo {
            stdin,
            mut stdout,
            mut stderr,
            resize,
        } = io;
        let ap = AttachParams {
            container: request.container.clone(),
            stdin: stdin.is_some(),
            stdout: true,
            // With a terminal the container's stderr is the terminal too.
            stderr: !request.tty,
            tty: request.tty,
            max_stdin_buf_size: Some(CHUNK),
            max_stdout_buf_size: Some(CHUNK),
            max_stderr_buf_size: Some(CHUNK),
        };
        let action = || {
            format!(
                "failed to run `{}` in pod {}/{}",
                request.command.join(" "),
                request.namespace,
                request.pod
            )
        };
        self.rt.block_on(async {
            let mut process = api
                .exec(&request.pod, request.command.clone(), &ap)
                .await
                .map_err(|e| self.err(action(), None, e))?;
            if let (Some(input), Some(writer)) = (stdin, process.stdin()) {
                forward_stdin(input, writer);
            }
            if let (Some(sizes), Some(mut sender)) = (resize, process.terminal_size()) {
                std::thread::spawn(move || {
                    for size in sizes {
                        let size = kube::api::TerminalSize {
                            width: size.width,
                            height: size.height,
                        };
                        if let Err(e) = sender.try_send(size)
                            && e.is_disconnected()
                        {
                            break;
                        }
                    }
                });
            }
            let out = process.stdout().map(|mut r| {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; CHUNK];
                    while let Ok(n) = r.read(&mut buf).await {
                        if n == 0 || stdout.write_all(&buf[..n]).and_then(|()| stdout.flush()).is_err() {
                            break;
                        }
                    }
                })
            });
            let err = process.stderr().map(|mut r| {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; CHUNK];
                    while let Ok(n) = r.read(&mut buf).await {
                        if n == 0 || stderr.write_all(&buf[..n]).and_then(|()| stderr.flush()).is_err() {
                            break;
                        }
                    }
                })
            });
            let status = match process.take_status() {
                Some(s) => s.await,
                None => None,
            };
            for task in [out, err].into_iter().flatten() {
                let _ = task.await;
            }
            let joined = tokio::time::timeout(Duration::from_secs(5), process.join()).await;
            let Some(status) = status else {
                let why = match joined {
                    Ok(Err(e)) => crate::error_chain(&e),
                    _ => "the connection closed before the command's exit status arrived (a server speaking only v4.channel.k8s.io closes it when stdin ends)".into(),
                };
                return Err(TargetError::Stream {
                    action: action(),
                    message: why,
                });
            };
            exit_code(&status).ok_or_else(|| TargetError::Stream {
                action: action(),
                message: status
                    .message
                    .clone()
                    .filter(|m| !m.is_empty())
                    .or(status.reason.clone())
                    .unwrap_or_else(|| "the command failed".into()),
            })
        })
    }

    pub(super) fn forward(
        &self,
        namespace: &str,
        pod: &str,
        port: u16,
        connection: std::net::TcpStream,
    ) -> Result<(), TargetError> {
        let api = self.pods(namespace);
        let action = || format!("failed to forward port {port} of pod {namespace}/{pod}");
        let stream_error = |e: String| TargetError::Stream {
            action: action(),
            message: e,
        };
        self.rt.block_on(async {
            connection
                .set_nonblocking(true)
                .map_err(|e| stream_error(e.to_string()))?;
            let mut local = tokio::net::TcpStream::from_std(connection)
                .map_err(|e| stream_error(e.to_string()))?;
            let mut forwarder = api
                .portforward(pod, &[port])
                .await
                .map_err(|e| self.err(action(), None, e))?;
            let mut remote = forwarder
                .take_stream(port)
                .ok_or_else(|| stream_error("the port's stream is missing".into()))?;
            let error = forwarder.take_error(port);
            let copied = async {
                tokio::io::copy_bidirectional(&mut local, &mut remote)
                    .await
                    .map(drop)
                    .map_err(|e| stream_error(e.to_string()))
            };
            let failed = async {
                match error {
                    Some(e) => match e.await {
                        Some(message) => message,
                        // The connection ended without an error: let the copy finish.
                        None => std::future::pending().await,
                    },
                    None => std::future::pending().await,
                }
            };
            let result = tokio::select! {
                r = copied => r,
                message = failed => Err(stream_error(message)),
            };
            drop(remote);
            let _ = tokio::time::timeout(Duration::from_secs(5), forwarder.join()).await;
            result
        })
    }
}

/// Reads our side's stdin on a thread of its own (a blocking read) and writes it to the
/// command's stdin; the end of ours closes the command's.
fn forward_stdin(
    mut input: Box<dyn Read + Send>,
    mut writer: tokio::io::WriteHalf<tokio::io::SimplexStream>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 8 * 1024];
        loop {
            match input.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    tokio::spawn(async move {
        while let Some(chunk) = rx.recv().await {
            if writer.write_all(&chunk).await.is_err() || writer.flush().await.is_err() {
                return;
            }
        }
        let _ = writer.shutdown().await;
    });
}

/// The exit code a `Status` of the status channel reports: 0 for `Success`, N for the reason
/// `NonZeroExitCode` with the cause `ExitCode` N; `None` when the command could not run.
pub(crate) fn exit_code(
    status: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Status,
) -> Option<i32> {
    if status.status.as_deref() == Some("Success") {
        return Some(0);
    }
    if status.reason.as_deref() != Some("NonZeroExitCode") {
        return None;
    }
    status
        .details
        .as_ref()?
        .causes
        .as_ref()?
        .iter()
        .find(|c| c.reason.as_deref() == Some("ExitCode"))?
        .message
        .as_deref()?
        .trim()
        .parse()
        .ok()
}

/// The blocking side of a log stream: chunks from the runtime's reading task.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, String>>,
    chunk: Vec<u8>,
    pos: usize,
    action: String,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.chunk.len() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Some(Err(e)) => {
                    return Err(std::io::Error::other(format!("{}: {e}", self.action)));
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;

    #[test]
    fn the_status_channel_gives_the_exit_code() {
        let status = |v: serde_json::Value| -> Status { serde_json::from_value(v).unwrap() };
        assert_eq!(
            super::exit_code(&status(serde_json::json!({"status": "Success"}))),
            Some(0)
        );
        let failed = status(serde_json::json!({
            "status": "Failure",
            "reason": "NonZeroExitCode",
            "message": "command terminated with non-zero exit code: exit status 3",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
        }));
        assert_eq!(super::exit_code(&failed), Some(3));
        let internal = status(serde_json::json!({
            "status": "Failure",
            "reason": "InternalError",
            "message": "exec: \"bash\": executable file not found in $PATH",
        }));
        assert_eq!(super::exit_code(&internal), None);
    }
}
