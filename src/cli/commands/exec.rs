//! `exec` and `shell`: the terminal side (raw mode, window sizes) of `ops::exec`.

use std::io::IsTerminal;

use clap::Args;

use super::settings::{Opened, TargetArgs};
use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::model::ReleaseName;
use crate::ops::exec::{ExecOptions, SHELL, exec, resolve};
use crate::targets::{ExecIo, TerminalSize};

#[derive(Debug, Args)]
pub struct ExecArgs {
    pub release: ReleaseName,
    /// A workload as `status` names it (`web`, `Deployment/web`), optionally with a container
    /// (`web/nginx`); default container: the pod's `kubectl.kubernetes.io/default-container`,
    /// else its first.
    #[arg(value_name = "WORKLOAD[/CONTAINER]")]
    pub workload: String,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Run in this pod of the workload rather than its first ready one.
    #[arg(long, value_name = "POD")]
    pub pod: Option<String>,
    /// Pass stdin to the command.
    #[arg(short = 'i', long)]
    pub stdin: bool,
    /// Allocate a terminal (with -i on a terminal: raw mode and window resizes).
    #[arg(short = 't', long)]
    pub tty: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    pub release: ReleaseName,
    /// A workload as `status` names it (`web`, `Deployment/web`), optionally with a container
    /// (`web/nginx`).
    #[arg(value_name = "WORKLOAD[/CONTAINER]")]
    pub workload: String,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Open it in this pod of the workload rather than its first ready one.
    #[arg(long, value_name = "POD")]
    pub pod: Option<String>,
}

pub fn run(args: ExecArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let opts = ExecOptions {
        release: args.release,
        service_map,
        workload: args.workload,
        pod: args.pod,
        command: args.command,
        tty: args.tty,
    };
    session(target.as_ref(), &opts, args.stdin, printer)
}

pub fn shell(args: ShellArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let opts = ExecOptions {
        release: args.release,
        service_map,
        workload: args.workload,
        pod: args.pod,
        command: SHELL.iter().map(|s| (*s).to_string()).collect(),
        tty: std::io::stdin().is_terminal() && std::io::stdout().is_terminal(),
    };
    session(target.as_ref(), &opts, true, printer)
}

fn session(
    target: &dyn crate::targets::Target,
    opts: &ExecOptions,
    stdin: bool,
    printer: &Printer,
) -> anyhow::Result<u8> {
    let request = resolve(target, opts)?;
    let terminal = opts.tty && stdin && std::io::stdin().is_terminal();
    if opts.tty && !terminal {
        printer.warning(
            "stdin is not a terminal: the command gets a terminal, but no raw mode or resizes",
        );
    }
    // Restored when dropped: on every return, error or panic below.
    let raw = terminal.then(RawMode::enter).flatten();
    let resize = raw.as_ref().map(|_| window_sizes());
    let io = ExecIo {
        stdin: stdin.then(|| Box::new(std::io::stdin()) as Box<dyn std::io::Read + Send>),
        stdout: Box::new(std::io::stdout()),
        stderr: Box::new(std::io::stderr()),
        resize,
    };
    let code = exec(target, &request, io);
    drop(raw);
    let code = code?;
    Ok(u8::try_from(code).unwrap_or(exit::FAILURE))
}

/// The terminal in raw mode (keys go to the container as typed, Ctrl-C included) until
/// dropped.
struct RawMode {
    saved: rustix::termios::Termios,
}

impl RawMode {
    fn enter() -> Option<Self> {
        let stdin = std::io::stdin();
        let saved = rustix::termios::tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &raw).ok()?;
        Some(Self { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = rustix::termios::tcsetattr(
            std::io::stdin(),
            rustix::termios::OptionalActions::Now,
            &self.saved,
        );
    }
}

fn size() -> Option<TerminalSize> {
    let w = rustix::termios::tcgetwinsize(std::io::stdout()).ok()?;
    (w.ws_col > 0 && w.ws_row > 0).then_some(TerminalSize {
        width: w.ws_col,
        height: w.ws_row,
    })
}

/// The terminal's size now, then again on each SIGWINCH.
fn window_sizes() -> std::sync::mpsc::Receiver<TerminalSize> {
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(s) = size() {
        let _ = tx.send(s);
    }
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut winch) = signal(SignalKind::window_change()) else {
                return;
            };
            while winch.recv().await.is_some() {
                if let Some(s) = size()
                    && tx.send(s).is_err()
                {
                    return;
                }
            }
        });
    });
    rx
}
