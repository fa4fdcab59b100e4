use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::index::sign::SecretKey;
use crate::ops::index::{KeygenOptions, keygen, read_secret_key};
use crate::server::{AppState, Reload, ServeError, ServerConfig, serve};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The index folder to serve (built by `index build`; publishing writes into it).
    #[arg(long, value_name = "DIR", default_value = "index")]
    pub index: PathBuf,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Secret key that signs the index root (default: CONFIG_HOME/serve-signing.key, made on first start).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// File holding the bearer token that allows `POST /api/v1/packages` (else COCKTAIL_PKG_PUBLISH_TOKEN; without either, publishing is off).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Longest a request may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// Most requests handled at once; more wait.
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub max_concurrency: usize,
    /// How often to check whether the index was rebuilt on disk (`index build --out DIR`), in
    /// seconds; a changed index is verified and then served. 0 checks only on SIGHUP.
    #[arg(long, value_name = "SECONDS", default_value_t = 2)]
    pub reload_interval: u64,
}

pub fn run(args: ServeArgs, printer: &Printer) -> anyhow::Result<u8> {
    init_logging();
    let key_path = args
        .key
        .clone()
        .unwrap_or_else(|| crate::dirs::config_home().join("serve-signing.key"));
    if args.key.is_none() && !key_path.exists() {
        let k = keygen(&KeygenOptions {
            out: key_path.clone(),
            force: false,
        })?;
        printer.status(
            "Generated",
            &format!("signing key {} (key id {})", key_path.display(), k.key_id),
        );
    }
    let key: SecretKey = read_secret_key(&key_path)?;
    let token = match &args.token_file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("failed to read token file {}", f.display()))?
                .trim()
                .to_string(),
        ),
        None => std::env::var(crate::env::PUBLISH_TOKEN)
            .ok()
            .map(|t| t.trim().to_string()),
    }
    .filter(|t| !t.is_empty());
    let key_id = key.public().key_id();
    let publishing = token.is_some();
    let state = AppState::new(ServerConfig {
        index_dir: args.index.clone(),
        key,
        publish_token: token,
        request_timeout: Duration::from_secs(args.timeout.max(1)),
        max_concurrency: args.max_concurrency,
        clock: crate::time::now,
    })
    .with_context(|| format!("failed to load the index in {}", args.index.display()))?;
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    let printer = *printer;
    let reload = match args.reload_interval {
        0 => Reload::OnSignal,
        n => Reload::Every(Duration::from_secs(n)),
    };
    let served = runtime.block_on(serve(state, args.addr, reload, |addr| {
        printer.status(
            "Serving",
            &format!(
                "{} on http://{addr}/ (index signed by key {key_id}; publishing {})",
                args.index.display(),
                if publishing { "on" } else { "off" }
            ),
        );
    }));
    match served {
        Ok(()) => Ok(exit::OK),
        Err(e) => {
            report(&printer, &e);
            Ok(exit::FAILURE)
        }
    }
}

/// Prints a server error with its causes and hint (`error:`, `caused by:`, `hint:`).
fn report(printer: &Printer, e: &ServeError) {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !causes.contains(&text) {
            causes.push(text);
        }
        source = s.source();
    }
    printer.error(&e.to_string(), &causes, e.hint().as_deref());
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env(crate::env::LOG)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
