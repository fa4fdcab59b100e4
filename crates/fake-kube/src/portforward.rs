//! `pods/{name}/portforward` over WebSocket, the v4 port-forward protocol
//! (`v4.channel.k8s.io`): `ports=P1,P2` (or repeated `ports`), two channels per port in order —
//! data `2i` and error `2i+1` — each opened by the server with a frame holding the port number
//! (two bytes, little-endian) after the channel byte; then data frames both ways. Each port is
//! connected to the address a test gave with [`FakeKube::forward_port_to`], else to an echo
//! (what is sent comes back). A port whose address refuses the connection gets one message on
//! its error channel. The session ends when the client closes the socket.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use crate::exec::{V4, admit, pod_path, query_all, running_pod, switch, upgrade_protocol};
use crate::http::json_response;
use crate::validation::ApiError;
use crate::{FakeKube, Shared, lock};

/// Where forwarded ports lead, per (namespace, pod, port).
pub(crate) type PortTargets = BTreeMap<(String, String, u16), SocketAddr>;

impl FakeKube {
    /// Connects what is forwarded to `port` of a pod to `address` (a test's own listener on
    /// 127.0.0.1), instead of the echo.
    pub fn forward_port_to(&self, namespace: &str, pod: &str, port: u16, address: SocketAddr) {
        lock(&self.shared.port_targets)
            .insert((namespace.to_string(), pod.to_string(), port), address);
    }
}

/// Answers `GET /api/v1/namespaces/{ns}/pods/{name}/portforward`.
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
    let (ns, name) = pod_path(req.uri().path(), "portforward")
        .ok_or_else(|| ApiError::bad_request("not a portforward path"))?;
    let mut ports: Vec<u16> = Vec::new();
    for (k, v) in query_all(req.uri()) {
        if k != "ports" {
            continue;
        }
        for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match p.parse::<u16>() {
                Ok(n) if n > 0 => ports.push(n),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "unable to parse \"{p}\" as a port: invalid port"
                    )));
                }
            }
        }
    }
    if ports.is_empty() {
        return Err(ApiError::bad_request(
            "query parameter \"port\" is required",
        ));
    }
    running_pod(shared, &ns, &name, "forward ports of")?;
    let (protocol, key) = upgrade_protocol(req.headers(), &[V4])?;
    let targets: Vec<Option<SocketAddr>> = {
        let t = lock(&shared.port_targets);
        ports
            .iter()
            .map(|p| t.get(&(ns.clone(), name.clone(), *p)).copied())
            .collect()
    };
    Ok(switch(req, protocol, &key, move |socket| async move {
        let (mut sink, mut stream) = socket.split();
        for (i, port) in ports.iter().enumerate() {
            let Ok(ch) = u8::try_from(2 * i) else {
                return;
            };
            let [lo, hi] = port.to_le_bytes();
            let _ = sink.send(Message::binary(vec![ch, lo, hi])).await;
            let _ = sink.send(Message::binary(vec![ch + 1, lo, hi])).await;
        }
        // Frames for the client, from the ports' connections.
        let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
        let mut writers = Vec::new();
        for (i, (port, target)) in ports.iter().zip(&targets).enumerate() {
            let ch = u8::try_from(2 * i).unwrap_or(0);
            let Some(addr) = target else {
                writers.push(None);
                continue;
            };
            match tokio::net::TcpStream::connect(addr).await {
                Ok(conn) => {
                    let (mut read, write) = conn.into_split();
                    writers.push(Some(write));
                    let tx = out_tx.clone();
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; 16 * 1024];
                        while let Ok(n) = read.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                            let mut frame = vec![ch];
                            frame.extend_from_slice(&buf[..n]);
                            if tx.send(frame).await.is_err() {
                                break;
                            }
                        }
                    });
                }
                Err(e) => {
                    writers.push(None);
                    let mut frame = vec![ch + 1];
                    frame.extend_from_slice(
                        format!("error forwarding port {port} to pod {name}, uid : failed to connect to {addr}: {e}").as_bytes(),
                    );
                    let _ = out_tx.send(frame).await;
                }
            }
        }
        loop {
            tokio::select! {
                frame = out_rx.recv() => {
                    let Some(frame) = frame else { break };
                    if sink.send(Message::binary(frame)).await.is_err() {
                        break;
                    }
                }
                msg = stream.next() => match msg {
                    Some(Ok(Message::Binary(bytes))) if bytes.len() > 1 && bytes[0] % 2 == 0 => {
                        let i = usize::from(bytes[0] / 2);
                        match (writers.get_mut(i), targets.get(i)) {
                            (Some(Some(w)), _) => {
                                let written = w.write_all(&bytes[1..]).await;
                                if written.is_err() {
                                    writers[i] = None;
                                }
                            }
                            (Some(None), Some(None)) => {
                                // The echo.
                                let sent = sink.send(Message::binary(bytes.to_vec())).await;
                                if sent.is_err() {
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    }))
}
