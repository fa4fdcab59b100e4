//! Ctrl-C and SIGTERM during an operation. A signal handler (installed by the CLI for the
//! commands that hold a lease) sets one process-wide flag; the commit engine checks it before
//! it writes a pending revision and between the objects of its apply waves, and the `--wait`
//! loop checks it every round. An interrupted operation ends its revision `failed`
//! (`interrupted by SIGINT`), gives the lease back, and the CLI exits 130 (SIGINT) or 143
//! (SIGTERM). A second signal stops the process at once; its lease is then taken over by the
//! next operation on this host, as the lease of any process that is gone.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// A signal that asks the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }

    /// 128 + the signal number, as shells report a process a signal ended.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Int => 130,
            Signal::Term => 143,
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// 0: none; 1: SIGINT; 2: SIGTERM.
static RECEIVED: AtomicU8 = AtomicU8::new(0);

/// The signal received, if any.
pub fn interrupted() -> Option<Signal> {
    match RECEIVED.load(Ordering::SeqCst) {
        1 => Some(Signal::Int),
        2 => Some(Signal::Term),
        _ => None,
    }
}

/// Records a signal (the handler calls this); the first one received counts.
pub fn raise(signal: Signal) {
    let code = match signal {
        Signal::Int => 1,
        Signal::Term => 2,
    };
    // Fails only when a signal was recorded already, which is the one that counts.
    let _first = RECEIVED.compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
}

/// `Err` with the signal once one was received.
pub fn check() -> Result<(), Signal> {
    interrupted().map_or(Ok(()), Err)
}

/// Sleeps for `duration`, waking early (with the signal) when one is received.
pub fn sleep(duration: Duration) -> Result<(), Signal> {
    const SLICE: Duration = Duration::from_millis(50);
    let start = Instant::now();
    loop {
        check()?;
        let left = duration.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(SLICE));
    }
}

/// Installs the handler: a thread that waits for SIGINT and SIGTERM, records the first and
/// then tells `notify` (the CLI says what happens next); a second one exits the process at once
/// with its exit code.
pub fn install_handler(notify: impl Fn(Signal) + Send + 'static) -> std::io::Result<()> {
    let (ready, started) = std::sync::mpsc::channel::<std::io::Result<()>>();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    // The receiver waits below; if it is gone there is nobody to tell.
                    let _gone = ready.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let (mut int, mut term) = match (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) {
                    (Ok(i), Ok(t)) => (i, t),
                    (Err(e), _) | (_, Err(e)) => {
                        let _gone = ready.send(Err(e));
                        return;
                    }
                };
                let _gone = ready.send(Ok(()));
                loop {
                    let received = tokio::select! {
                        _ = int.recv() => Signal::Int,
                        _ = term.recv() => Signal::Term,
                    };
                    if interrupted().is_some() {
                        std::process::exit(i32::from(received.exit_code()));
                    }
                    raise(received);
                    notify(received);
                }
            });
        })?;
    started
        .recv()
        .map_err(|_| std::io::Error::other("the signal thread stopped before it started"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal_number() {
        assert_eq!(Signal::Int.exit_code(), 130);
        assert_eq!(Signal::Term.exit_code(), 143);
        assert_eq!(Signal::Int.to_string(), "SIGINT");
    }
}
