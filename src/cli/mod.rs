//! The command line: clap arguments, the printer, and one thin handler per command.
//!
//! A handler resolves settings, calls one operation in `ops`, and prints its outcome: data to
//! stdout, messages to stderr through [`printer::Printer`]. Errors become `error:` + causes +
//! `hint:` and an exit code from `docs/reference/exit-codes.md`.

pub mod commands;
pub mod printer;
pub mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ops::{OpError, ValuesSources};
use printer::{ColorChoice, Printer};

/// Exit codes (documented in docs/reference/exit-codes.md).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The command failed (bad input, failed render, lint errors, IO failure).
    pub const FAILURE: u8 = 1;
    /// `diff` found changes.
    pub const CHANGES: u8 = 2;
    /// `upgrade --auto`: some releases were upgraded, failed, and were rolled back.
    pub const ROLLED_BACK: u8 = 3;
    /// Invalid command-line usage.
    pub const USAGE: u8 = 64;
}

#[derive(Debug, Parser)]
#[command(
    name = "cocktail-pkg",
    version,
    about = "Package manager for Kubernetes service maps",
    long_about = "cocktail-pkg renders versioned packages (workloads, service exposure, volumes and \
                  configuration) with values, and installs them into service maps.\n\n\
                  Start with `cocktail-pkg template catalog/nginx` to see what a package renders."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// When to colour messages on stderr.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "COCKTAIL_PKG_COLOR",
        hide_env_values = true,
        default_value = "auto"
    )]
    pub color: ColorChoice,
    /// Print only data and errors (no warnings or status lines).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a package locally and print its Kubernetes objects.
    #[command(
        long_about = "Render a package locally and print its Kubernetes objects as YAML (or JSON).\n\n\
                      PKG is a package directory or a NAME-VERSION.tgz archive. Values layer as: \
                      package defaults <- each -f file <- --set <- --set-string <- --set-file <- \
                      --set-json. Nothing touches a cluster.",
        after_help = "Examples:\n  cocktail-pkg template catalog/nginx\n  cocktail-pkg template catalog/nginx -f prod.yaml --set replicas=3\n  cocktail-pkg template nginx-1.0.0.tgz --digest sha256:... -o json"
    )]
    Template(commands::template::TemplateArgs),
    /// Install a package as a release in a service map.
    #[command(
        after_help = "Examples:\n  cocktail-pkg install web catalog/nginx -n shop --target dir:./cluster\n  cocktail-pkg install db catalog/postgresql -n shop --target dir:./cluster --set persistence.size=20Gi --dry-run"
    )]
    Install(commands::deploy::InstallArgs),
    /// Upgrade a release to a package version or new values; or, with --auto, every release
    /// its policy allows (the cron entry point).
    #[command(
        after_help = "Examples:\n  cocktail-pkg upgrade web catalog/nginx -n shop --reuse-values --set replicas=3 --atomic\n  cocktail-pkg upgrade --auto --all-service-maps -o json --notify-url https://hooks.example.com/x\n\nExit codes with --auto: 0 fine or nothing to do, 1 an error, 3 some releases were rolled back."
    )]
    Upgrade(commands::deploy::UpgradeArgs),
    /// Remove a release's objects (volumes are kept unless --delete-volumes).
    Uninstall(commands::uninstall::UninstallArgs),
    /// Return a release to an earlier revision (as a new revision).
    Rollback(commands::rollback::RollbackArgs),
    /// Show a release revision's values, manifest, notes, hooks or all of them.
    Get(commands::get::GetArgs),
    /// Take over releases Helm installed: import their history, take field ownership, mark
    /// Helm's records.
    #[command(
        long_about = "Take over releases that Helm installed, without reinstalling anything. Reads Helm's \
                      release records (Secrets `sh.helm.release.v1.NAME.vN`, or the ConfigMaps of Helm's \
                      ConfigMap driver) and imports every revision (chart name and version, values, manifest, \
                      hooks, status, times) as cocktail-pkg records; takes field ownership of the current \
                      objects from Helm's field manager with server-side apply (no object is recreated, no pod \
                      restarts); and marks Helm's records with the label cocktail.io/adopted-by=cocktail-pkg, \
                      leaving them in place. A release with a Helm operation under way (pending-install, \
                      pending-upgrade, pending-rollback, uninstalling) is refused.\n\n\
                      Afterwards manage it with cocktail-pkg only: `helm upgrade` would fight over the objects. \
                      To go back, delete the release's cocktail-pkg records and remove the label from Helm's.",
        after_help = "Examples:\n  cocktail-pkg adopt web -n shop --dry-run\n  cocktail-pkg adopt web -n shop --chart bitnami/nginx\n  cocktail-pkg adopt --all -n shop -o json"
    )]
    Adopt(commands::adopt::AdoptArgs),
    /// Show what an upgrade or rollback would change (exit 2 when something would).
    Diff(commands::diff::DiffArgs),
    /// Run a release's test hooks (`helm.sh/hook: test`) and report each (exit 1 when one failed).
    #[command(
        after_help = "Examples:\n  cocktail-pkg test web -n shop\n  cocktail-pkg test web -n shop --filter web-test-connection -o json"
    )]
    Test(commands::test::TestArgs),
    /// List releases.
    List(commands::list::ListArgs),
    /// Show a release's revisions.
    History(commands::history::HistoryArgs),
    /// Show a release's live state: every object, grouped by workload group.
    #[command(
        long_about = "Show a release's current revision and the live state of every object, grouped by \
                      workload group: Deployment/StatefulSet/DaemonSet ready vs desired, Job and CronJob last \
                      run, PVC phase, Service endpoints and load-balancer address, Ingress address. The overall \
                      state is deployed, progressing, degraded or failed. A dir target keeps no live state: \
                      objects are only checked to be written. An object that is not ready says why in the WHY \
                      column (a pod's waiting reason, a crash loop's exit code and last log lines, a pod no node \
                      can take, a claim's provisioning event, a Service whose selector matches no pod); \
                      --explain prints the evidence pod by pod.",
        after_help = "Examples:\n  cocktail-pkg status web -n shop\n  cocktail-pkg status web -n shop --explain"
    )]
    Status(commands::status::StatusArgs),
    /// Show the Kubernetes events of a release's objects and of their pods.
    #[command(
        long_about = "Show the events of a release's objects, of their ReplicaSets and of their pods: warnings \
                      first, oldest first within each group, one row per object, type, reason and message (the \
                      counts of repeats added, first and last seen kept). --watch polls and prints only new or \
                      changed rows until Ctrl-C. A dir target has no events.",
        after_help = "Examples:\n  cocktail-pkg events web -n shop\n  cocktail-pkg events web -n shop --watch\n  cocktail-pkg events web -n shop -o json"
    )]
    Events(commands::events::EventsArgs),
    /// Replace one container image of a release, as a new revision.
    #[command(
        after_help = "Examples:\n  cocktail-pkg set-image web web=nginx:1.27.3\n  cocktail-pkg set-image shop deployment/wordpress/wordpress=wordpress:6.7 --wait"
    )]
    SetImage(commands::set_image::SetImageArgs),
    /// Set the replicas of workloads (or the bounds of their autoscaler), as a new revision
    /// that later upgrades keep while the package renders the same replicas.
    #[command(
        long_about = "Set the replicas of Deployments and StatefulSets as a new revision. The change is recorded \
                      as an override: later upgrades keep it as long as the package still renders the replicas \
                      it rendered when you scaled; when your values (or a new version) render another number, \
                      the values win and the override is dropped. A workload whose replicas a \
                      HorizontalPodAutoscaler owns is refused (the autoscaler would undo it): change the \
                      autoscaler's bounds with --hpa-min/--hpa-max instead.",
        after_help = "Examples:\n  cocktail-pkg scale web web=5 -n shop --wait\n  cocktail-pkg scale db statefulset/db=3 -n shop\n  cocktail-pkg scale web web --hpa-min 2 --hpa-max 10 -n shop"
    )]
    Scale(commands::scale::ScaleArgs),
    /// Roll the pods of a release's workloads (like `kubectl rollout restart`).
    Restart(commands::restart::RestartArgs),
    /// Print (or follow) the logs of a release's pods, each line prefixed with its pod and
    /// container.
    #[command(
        long_about = "Print the logs of every pod of a release's workloads (or of one workload), each line \
                      prefixed with `[POD/CONTAINER]` in a colour of its own (none when stdout is not a \
                      terminal, with NO_COLOR or --color never). Lines of one pod come in order. Without \
                      --all-containers, each pod's default container (kubectl's \
                      `kubectl.kubernetes.io/default-container` annotation, else the first).\n\n\
                      With -f the logs are followed until Ctrl-C: the pod list is read again every 2 s \
                      (COCKTAIL_PKG_POLL_INTERVAL_MS), so restarted containers and the new pods of a rollout \
                      are followed from their first line, and the streams of pods that are gone end. Lines \
                      are streamed one by one: memory stays bounded whatever the volume (a line longer \
                      than 64 KiB comes in pieces).",
        after_help = "Examples:\n  cocktail-pkg logs web -n shop\n  cocktail-pkg logs web web -n shop -f --since 10m\n  cocktail-pkg logs shop Deployment/wordpress/wordpress --tail 100 --timestamps\n  cocktail-pkg logs web web --previous"
    )]
    Logs(commands::logs::LogsArgs),
    /// Run a command in a container of a release's workload; exits with its exit code.
    #[command(
        long_about = "Run a command in a container of a release's workload, through the Kubernetes exec \
                      subresource (WebSocket, v5.channel.k8s.io, falling back to v4.channel.k8s.io). The pod \
                      is the workload's first ready pod (by name) unless --pod names one. -i passes stdin; \
                      -t allocates a terminal (with -i on a terminal: raw mode, restored on exit, and \
                      window resizes). cocktail-pkg exits with the command's exit code.",
        after_help = "Examples:\n  cocktail-pkg exec web web -n shop -- ls /usr/share/nginx/html\n  cocktail-pkg exec db db/postgres -it -- psql -U app\n  echo hello | cocktail-pkg exec web web -i -- cat"
    )]
    Exec(commands::exec::ExecArgs),
    /// Open an interactive shell (bash, else sh) in a container of a release's workload.
    #[command(
        long_about = "Open an interactive shell in a container of a release's workload: bash when the \
                      container has it, else sh (`sh -c 'command -v bash && exec bash || exec sh'`), with a \
                      terminal when stdin and stdout are one. Exits with the shell's exit code.",
        after_help = "Examples:\n  cocktail-pkg shell web web -n shop\n  cocktail-pkg shell shop wordpress --pod wordpress-6f7d9c-abcde"
    )]
    Shell(commands::exec::ShellArgs),
    /// Forward local ports to a pod behind a Service or workload of a release.
    #[command(
        long_about = "Listen on local ports and carry each connection to a pod of the release through the \
                      Kubernetes port-forward subresource: the first ready pod behind a Service (a Service \
                      port leads to its targetPort, named ports too) or of a workload. Prints \
                      `Forwarding from 127.0.0.1:LOCAL -> REMOTE` for each port on stdout; Ctrl-C stops.",
        after_help = "Examples:\n  cocktail-pkg port-forward web web 8080:80 -n shop\n  cocktail-pkg port-forward shop Deployment/wordpress :8080\n  cocktail-pkg port-forward db db 5432 --address 0.0.0.0"
    )]
    PortForward(commands::port_forward::PortForwardArgs),
    /// Remove a release's lease by hand, after its holder stopped (asks for confirmation).
    #[command(
        long_about = "Remove a release's lease by hand, when the operation holding it is known to have \
                      stopped on another host (a lease left by a process of this host that is gone is taken \
                      over by the next operation on its own, and any lease expires after its TTL). Shows the \
                      holder and asks for confirmation on a terminal; --yes otherwise. The pending revision \
                      the holder left is marked failed (`unlocked by USER`).",
        after_help = "Examples:\n  cocktail-pkg unlock web -n shop\n  cocktail-pkg unlock web -n shop --yes"
    )]
    Unlock(commands::unlock::UnlockArgs),
    /// Show each release's version, the newest its policy allows, the newest overall, and
    /// when its next upgrade window opens.
    Outdated(commands::auto::OutdatedArgs),
    /// Set or show a release's automatic-upgrade policy.
    #[command(
        subcommand_required = true,
        after_help = "Examples:\n  cocktail-pkg policy set web -n shop --auto-upgrade minor --upgrade-window 'Sat,Sun 02:00-05:00 Asia/Seoul' --min-age 72h --soak 5m\n  cocktail-pkg policy show web -n shop"
    )]
    Policy(commands::policy::PolicyCmdArgs),
    /// Manage service maps: namespaces managed as one application space.
    #[command(subcommand_required = true)]
    ServiceMap(commands::service_map::ServiceMapArgs),
    /// Check a package or a Helm chart: manifest, schema, renders, and best practices.
    #[command(
        long_about = "Check a package: the manifest and schema are valid, it renders with its defaults and with \
                      each tests/*.values.yaml, objects have required fields, and workloads follow good practice \
                      (pinned images, resource requests and limits, probes, labels).\n\n\
                      A Helm chart (folder or .tgz) gets helm lint's rules instead: Chart.yaml, values.yaml and \
                      its schema, templates rendered as release test-release (object names, deprecated APIs, \
                      selectors), crds/ and dependencies; plus ours on its objects as warnings (pinned images, \
                      resources, probes). A summary reads like helm's: N chart(s) linted, M chart(s) failed.\n\n\
                      Exits 1 when there are errors (with --strict: errors or warnings); warnings are advice \
                      and infos never fail."
    )]
    Lint(commands::lint::LintArgs),
    /// Build a reproducible NAME-VERSION.tgz archive from a package directory.
    #[command(
        long_about = "Build a reproducible NAME-VERSION.tgz archive from a package directory and print its \
                      sha256 digest. The same files always give the same bytes and digest."
    )]
    Package(commands::package::PackageArgs),
    /// Write the values table of a package's README from its schema and defaults.
    #[command(
        long_about = "Write the values table of a package's README.md (between `<!-- values:start -->` and \
                      `<!-- values:end -->`) from values.schema.json and values.yaml. With --check, only verify \
                      that the table is current (exit 1 when stale)."
    )]
    Docs(commands::docs::DocsArgs),
    /// Build a catalog index and make signing keys.
    Index(commands::index::IndexArgs),
    /// Manage repositories: indexes known by a short name.
    Repo(commands::repo::RepoArgs),
    /// Search the packages of every repository (the built-in catalog included).
    Search(commands::search::SearchArgs),
    /// Log in to (or out of) an OCI registry, for `oci://` references and publishing.
    #[command(subcommand_required = true)]
    Registry(commands::registry::RegistryArgs),
    /// Download a package archive from a repository, digest-verified.
    Pull(commands::pull::PullArgs),
    /// Publish a package to a server started with `serve` (needs its publish token), or a
    /// package or Helm chart to an OCI registry.
    #[command(
        after_help = "Examples:\n  COCKTAIL_PKG_PUBLISH_TOKEN=s3cret cocktail-pkg publish catalog/nginx --to team\n  cocktail-pkg publish dist/nginx-1.1.0.tgz --to http://127.0.0.1:8080/ --token-file token.txt\n  cocktail-pkg publish ./mychart --to oci://registry.example.com/charts"
    )]
    Publish(commands::publish::PublishArgs),
    /// Yank a published version (or --undo): it stays downloadable by exact version, but no
    /// version requirement or automatic upgrade picks it.
    #[command(
        after_help = "Examples:\n  COCKTAIL_PKG_PUBLISH_TOKEN=s3cret cocktail-pkg yank redis 1.4.0 --to team\n  cocktail-pkg yank redis 1.4.0 --to team --undo --token-file token.txt"
    )]
    Yank(commands::publish::YankArgs),
    /// Host an index over HTTP: index files, archives, JSON API, publishing, web page.
    #[command(
        long_about = "Host an index folder over HTTP: the signed index files and archives (strong ETags, \
                      conditional requests, gzip), a JSON API (`GET /api/v1/packages?q=&category=`, \
                      `GET /api/v1/packages/NAME`, `POST /api/v1/packages` to publish with a bearer token), the \
                      catalog web page at `/`, `/healthz` and `/metrics`. Stops gracefully on SIGTERM or Ctrl-C.",
        after_help = "Examples:\n  cocktail-pkg serve --index index/\n  COCKTAIL_PKG_PUBLISH_TOKEN=s3cret cocktail-pkg serve --index site/ --addr 0.0.0.0:8080 --key signing.key"
    )]
    Serve(commands::serve::ServeArgs),
    /// Show a package's manifest, default values, README or schema.
    Show(commands::show::ShowArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  cocktail-pkg completions bash > /etc/bash_completion.d/cocktail-pkg\n  cocktail-pkg completions zsh > \"${fpath[1]}/_cocktail-pkg\"\n  cocktail-pkg completions fish > ~/.config/fish/completions/cocktail-pkg.fish"
    )]
    Completions(commands::completions::CompletionsArgs),
}

/// The values flags shared by every command that renders.
#[derive(Debug, Clone, Args, Default)]
pub struct ValuesArgs {
    /// A values YAML file (repeatable; later files win; `-` reads stdin).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set a value: `a.b=c`, `list[0]=x`, `a={x,y}`; true/false/null/integers are typed.
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Set a string value, never typed: `tag=1.20`.
    #[arg(long, value_name = "KEY=VALUE")]
    pub set_string: Vec<String>,
    /// Set a value to a file's content: `config=./app.conf`.
    #[arg(long, value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// Set a value from JSON: `resources={"limits":{"cpu":"1"}}`.
    #[arg(long, value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Set a value to a literal string, taken verbatim (commas and braces kept): `motd=a,b`.
    #[arg(long, value_name = "KEY=VALUE")]
    pub set_literal: Vec<String>,
    /// Charts: do not check the values against the charts' values.schema.json.
    #[arg(long)]
    pub skip_schema_validation: bool,
}

impl ValuesArgs {
    pub fn sources(&self) -> ValuesSources {
        ValuesSources {
            files: self.values.clone(),
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            set_file: self.set_file.clone(),
            set_json: self.set_json.clone(),
            set_literal: self.set_literal.clone(),
            skip_schema_validation: self.skip_schema_validation,
        }
    }
}

/// `-o` for read commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    Table,
    /// JSON for scripts (stable field names, camelCase).
    Json,
    /// YAML, the same fields as JSON.
    Yaml,
}

/// Prints `value` as JSON or YAML on stdout; returns false for `table` (the caller prints it).
pub fn print_structured<T: serde::Serialize>(
    output: OutputFormat,
    value: &T,
) -> anyhow::Result<bool> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match output {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(value)?)?,
        OutputFormat::Yaml => write!(out, "{}", crate::yaml::to_string(value)?)?,
        OutputFormat::Table => return Ok(false),
    }
    Ok(true)
}

/// Runs the binary: parse, dispatch, report. Returns the process exit code.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let parsed = match parse_quick(&args) {
        Some(cli) => Ok(cli),
        None => Cli::try_parse_from(&args),
    };
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => exit::OK,
                _ => exit::USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let printer = Printer::new(cli.global.color, cli.global.quiet);
    // Network warnings (a repository with TLS verification off) reach the user on every use.
    crate::repo::http::set_warner(Box::new(move |m| printer.warning(m)));
    // Commands that hold a release's lease stop cleanly on Ctrl-C/SIGTERM: the revision ends
    // failed and the lease is given back before the process exits 130/143.
    if holds_leases(&cli.command)
        && let Err(e) = crate::ops::interrupt::install_handler(move |signal| {
            printer.warning(&format!(
                "{signal} received: stopping after the current step; the revision will be marked failed and the lease given back (again to stop at once)"
            ));
        })
    {
        printer.warning(&format!(
            "failed to install the Ctrl-C handler ({e}); an interrupted operation leaves its lease until it expires"
        ));
    }
    let result = run(cli.command, &printer);
    let interrupted = crate::ops::interrupt::interrupted();
    match result {
        Ok(code) => ExitCode::from(interrupted.map_or(code, |s| s.exit_code())),
        Err(err) => {
            // A closed pipe (`| head`) is not a failure worth reporting.
            let broken_pipe = err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::from(exit::OK);
            }
            report(&printer, &err);
            ExitCode::from(interrupted.map_or(exit::FAILURE, |s| s.exit_code()))
        }
    }
}

/// Parses `args` with a parser built for the named command alone, for the commands whose
/// whole run takes a few milliseconds (`template`, `lint`, `show`): building every command's
/// parser is a good part of that. `None` (parse the usual way) for other commands and whenever
/// the quick parse does not succeed (help, version, errors), so what is accepted and every
/// message stay those of the full parser. `template`'s plain command lines skip even that
/// parser ([`parse_plain_template`]).
pub fn parse_quick(args: &[std::ffi::OsString]) -> Option<Cli> {
    use clap::FromArgMatches as _;
    if let Some(cli) = parse_plain_template(args) {
        return Some(cli);
    }
    let name = args.get(1)?.to_str()?;
    let sub = match name {
        "template" => {
            commands::template::TemplateArgs::augment_args(clap::Command::new("template"))
        }
        "lint" => commands::lint::LintArgs::augment_args(clap::Command::new("lint")),
        "show" => commands::show::ShowArgs::augment_args(clap::Command::new("show")),
        _ => return None,
    };
    let cmd = GlobalArgs::augment_args(clap::Command::new("cocktail-pkg")).subcommand(sub);
    let matches = cmd.try_get_matches_from(args).ok()?;
    Cli::from_arg_matches(&matches).ok()
}

/// `template`'s arguments in their plain forms, read without building even the one command's
/// clap parser (a third of a small chart's fixed cost: ~175K instructions and ~20 page
/// faults). Plain forms only: `--flag value`, `--flag=value` and `-x value` for the options
/// `template` has, its switches once each, one PKG; values UTF-8, not empty and not starting
/// with `-`. Anything else (help, `--`, bundled or attached short flags, a repeated switch or
/// single-value option, `--keyring`, a value clap would refuse, `COCKTAIL_PKG_SERVICE_MAP` or
/// `COCKTAIL_PKG_COLOR` set) is `None`, and clap parses as always: what is accepted, the
/// result and every message stay clap's (the tests compare both over many command lines).
fn parse_plain_template(args: &[std::ffi::OsString]) -> Option<Cli> {
    use commands::template::{ManifestFormat, TemplateArgs};
    /// Sets a single-value option once; a second time is clap's to judge.
    fn once<T>(slot: &mut Option<T>, value: Option<T>) -> Option<()> {
        if slot.is_some() {
            return None;
        }
        *slot = Some(value?);
        Some(())
    }
    if args.get(1)?.to_str()? != "template"
        || std::env::var_os("COCKTAIL_PKG_SERVICE_MAP").is_some()
        || std::env::var_os("COCKTAIL_PKG_COLOR").is_some()
    {
        return None;
    }
    let mut package = None;
    let mut values = ValuesArgs::default();
    let (mut release_name, mut service_map, mut kube_version, mut digest, mut output_dir) =
        (None, None, None, None, None);
    let (mut output, mut color) = (None, None);
    let mut api_versions = Vec::new();
    let mut show_only = Vec::new();
    let mut switches: Vec<&str> = Vec::new();
    let mut rest = args.get(2..)?.iter();
    while let Some(arg) = rest.next() {
        let arg = arg.to_str()?;
        if !arg.starts_with('-') {
            if arg.is_empty() || package.replace(std::path::PathBuf::from(arg)).is_some() {
                return None;
            }
            continue;
        }
        let (flag, attached) = match arg.split_once('=') {
            Some((flag, value)) if arg.starts_with("--") => (flag, Some(value)),
            _ => (arg, None),
        };
        let switch = matches!(
            flag,
            "--notes"
                | "--include-crds"
                | "--is-upgrade"
                | "--no-hooks"
                | "--skip-tests"
                | "--skip-schema-validation"
                | "--verify"
                | "--quiet"
                | "-q"
        );
        if switch {
            let long = if flag == "-q" { "--quiet" } else { flag };
            if attached.is_some() || switches.contains(&long) {
                return None;
            }
            switches.push(long);
            continue;
        }
        let value = match attached {
            Some(v) => v,
            None => rest.next()?.to_str()?,
        };
        if value.is_empty() || value.starts_with('-') {
            return None;
        }
        match flag {
            "--values" | "-f" => values.values.push(value.into()),
            "--set" => values.set.push(value.into()),
            "--set-string" => values.set_string.push(value.into()),
            "--set-file" => values.set_file.push(value.into()),
            "--set-json" => values.set_json.push(value.into()),
            "--set-literal" => values.set_literal.push(value.into()),
            "--show-only" | "-s" => show_only.push(value.to_string()),
            "--api-versions" | "-a" => {
                for v in value.split(',') {
                    if v.is_empty() || v.starts_with('-') {
                        return None;
                    }
                    api_versions.push(v.to_string());
                }
            }
            "--release-name" => once(&mut release_name, value.parse().ok())?,
            "--service-map" | "--namespace" | "-n" => once(&mut service_map, value.parse().ok())?,
            "--kube-version" => once(
                &mut kube_version,
                crate::package::parse_kube_version(value).ok(),
            )?,
            "--digest" => once(&mut digest, value.parse().ok())?,
            "--output-dir" => once(&mut output_dir, Some(value.into()))?,
            "--output" | "-o" => once(
                &mut output,
                match value {
                    "yaml" => Some(ManifestFormat::Yaml),
                    "json" => Some(ManifestFormat::Json),
                    _ => None,
                },
            )?,
            "--color" => once(
                &mut color,
                match value {
                    "auto" => Some(ColorChoice::Auto),
                    "always" => Some(ColorChoice::Always),
                    "never" => Some(ColorChoice::Never),
                    _ => None,
                },
            )?,
            _ => return None,
        }
    }
    let on = |name: &str| switches.contains(&name);
    values.skip_schema_validation = on("--skip-schema-validation");
    Some(Cli {
        global: GlobalArgs {
            color: color.unwrap_or(ColorChoice::Auto),
            quiet: on("--quiet"),
        },
        command: Command::Template(TemplateArgs {
            package: package?,
            values,
            release_name,
            service_map: match service_map {
                Some(name) => name,
                None => "default".parse().ok()?,
            },
            kube_version,
            api_versions,
            digest,
            output_dir,
            output: output.unwrap_or(ManifestFormat::Yaml),
            notes: on("--notes"),
            show_only,
            include_crds: on("--include-crds"),
            is_upgrade: on("--is-upgrade"),
            no_hooks: on("--no-hooks"),
            skip_tests: on("--skip-tests"),
            verify: commands::settings::VerifyArgs {
                verify: on("--verify"),
                keyring: None,
            },
        }),
    })
}

/// Whether a command takes release leases (and so handles Ctrl-C itself).
fn holds_leases(command: &Command) -> bool {
    match command {
        Command::Install(a) => !a.common.dry_run,
        Command::Upgrade(a) => !a.common.dry_run,
        Command::Rollback(a) => !a.dry_run,
        Command::SetImage(a) => !a.dry_run,
        Command::Scale(a) => !a.dry_run,
        Command::Policy(a) => matches!(a.command, commands::policy::PolicyCommand::Set { .. }),
        Command::Adopt(a) => !a.dry_run,
        Command::Uninstall(_) | Command::Restart(_) | Command::Unlock(_) | Command::Test(_) => true,
        _ => false,
    }
}

fn run(command: Command, printer: &Printer) -> anyhow::Result<u8> {
    match command {
        Command::Template(args) => commands::template::run(args, printer),
        Command::Install(args) => commands::deploy::install(args, printer),
        Command::Upgrade(args) if args.auto => commands::auto::run(&args, printer),
        Command::Upgrade(args) => commands::deploy::upgrade(args, printer),
        Command::Uninstall(args) => commands::uninstall::run(args, printer),
        Command::List(args) => commands::list::run(args, printer),
        Command::Rollback(args) => commands::rollback::run(args, printer),
        Command::Get(args) => commands::get::run(args, printer),
        Command::Adopt(args) => commands::adopt::run(args, printer),
        Command::Diff(args) => commands::diff::run(args, printer),
        Command::Test(args) => commands::test::run(args, printer),
        Command::History(args) => commands::history::run(args, printer),
        Command::Status(args) => commands::status::run(args, printer),
        Command::Events(args) => commands::events::run(args, printer),
        Command::SetImage(args) => commands::set_image::run(args, printer),
        Command::Scale(args) => commands::scale::run(args, printer),
        Command::Restart(args) => commands::restart::run(args, printer),
        Command::Logs(args) => commands::logs::run(args, printer),
        Command::Exec(args) => commands::exec::run(args, printer),
        Command::Shell(args) => commands::exec::shell(args, printer),
        Command::PortForward(args) => commands::port_forward::run(args, printer),
        Command::Unlock(args) => commands::unlock::run(args, printer),
        Command::ServiceMap(args) => commands::service_map::run(args, printer),
        Command::Outdated(args) => commands::auto::outdated(args, printer),
        Command::Policy(args) => commands::policy::run(args, printer),
        Command::Lint(args) => commands::lint::run(args, printer),
        Command::Package(args) => commands::package::run(args, printer),
        Command::Show(args) => commands::show::run(args, printer),
        Command::Docs(args) => commands::docs::run(args, printer),
        Command::Index(args) => commands::index::run(args, printer),
        Command::Serve(args) => commands::serve::run(args, printer),
        Command::Repo(args) => commands::repo::run(args, printer),
        Command::Search(args) => commands::search::run(args, printer),
        Command::Pull(args) => commands::pull::run(args, printer),
        Command::Registry(args) => commands::registry::run(args, printer),
        Command::Publish(args) => commands::publish::run(args, printer),
        Command::Yank(args) => commands::publish::yank(args, printer),
        Command::Completions(args) => commands::completions::run(args),
    }
}

/// Prints an error as `error:`, each distinct cause as `caused by:`, then a hint if any.
pub fn report(printer: &Printer, err: &anyhow::Error) {
    let mut chain = err.chain().map(|e| e.to_string());
    let head = chain.next().unwrap_or_default();
    let mut causes: Vec<String> = Vec::new();
    for c in chain {
        if c != head && !causes.contains(&c) {
            causes.push(c);
        }
    }
    let hint = err
        .chain()
        .find_map(|e| e.downcast_ref::<OpError>().and_then(OpError::hint));
    printer.error(&head, &causes, hint.as_deref());
}

/// The CLI reference (`docs/reference/cli.md`): every command's `--help`, generated from the
/// argument definitions so it cannot drift (a test compares it with the committed file).
pub fn reference_markdown() -> String {
    use clap::CommandFactory;
    fn visit(cmd: &mut clap::Command, path: &str, out: &mut String) {
        let full = if path.is_empty() {
            cmd.get_name().to_string()
        } else {
            format!("{path} {}", cmd.get_name())
        };
        let help = cmd.render_long_help().to_string();
        out.push_str(&format!(
            "## `{full}`\n\n```text\n{}\n```\n\n",
            help.trim_end()
        ));
        let mut subs: Vec<clap::Command> = cmd
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .cloned()
            .collect();
        for sub in &mut subs {
            visit(sub, &full, out);
        }
    }
    let mut cmd = Cli::command().term_width(100);
    cmd.build();
    let mut out = String::from(
        "# CLI reference\n\n<!-- Generated from the clap definitions by `COCKTAIL_PKG_BLESS=1 cargo test --test it cli_reference`; do not edit. -->\n\n",
    );
    visit(&mut cmd, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<std::ffi::OsString> {
        line.split_whitespace().map(Into::into).collect()
    }

    #[test]
    fn the_quick_parse_reads_what_the_full_parser_reads() {
        for line in [
            "cocktail-pkg template catalog/nginx",
            "cocktail-pkg template catalog/nginx --release-name web -n shop --set a=1 -f x.yaml -o json",
            "cocktail-pkg template ./chart -s templates/a.yaml --include-crds --api-versions a/v1,b/v1 --kube-version 1.30.0",
            "cocktail-pkg template ./chart --quiet --color never --is-upgrade --no-hooks --skip-tests",
            "cocktail-pkg lint catalog/nginx --strict --set a=1",
            "cocktail-pkg show values ./chart",
            "cocktail-pkg show all ./chart -q",
        ] {
            let args = argv(line);
            let quick = parse_quick(&args).unwrap_or_else(|| panic!("no quick parse: {line}"));
            let full = Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(format!("{quick:?}"), format!("{full:?}"), "{line}");
        }
    }

    #[test]
    fn the_plain_template_parse_reads_what_clap_reads() {
        let env_set = std::env::var_os("COCKTAIL_PKG_SERVICE_MAP").is_some()
            || std::env::var_os("COCKTAIL_PKG_COLOR").is_some();
        let digest = format!("sha256:{}", "ab".repeat(32));
        // The plain forms: each must be read without clap, and as clap reads it.
        let plain = [
            "cocktail-pkg template catalog/nginx".to_string(),
            "cocktail-pkg template ./chart -f a.yaml --values=b.yaml --set a=1 --set=b=2,c=3 --set-string t=1.20 --set-file f=x.conf --set-json j={} --set-literal l=a,b".into(),
            "cocktail-pkg template ./chart --release-name web -n shop -o json --kube-version 1.30.0 -a a/v1,b/v1 --api-versions=c/v1".into(),
            "cocktail-pkg template --namespace=shop ./chart -s templates/a.yaml --show-only t/*.yaml".into(),
            "cocktail-pkg template --service-map=x ./chart --release-name=web -o=json".into(),
            format!("cocktail-pkg template x.tgz --digest {digest} --output-dir out --output=yaml --color never -q"),
            "cocktail-pkg template ./chart --notes --include-crds --is-upgrade --no-hooks --skip-tests --skip-schema-validation --verify --quiet --color=always".into(),
        ];
        for line in &plain {
            let args = argv(line);
            let full = Cli::try_parse_from(&args).map(|c| format!("{c:?}"));
            let quick = parse_plain_template(&args).map(|c| format!("{c:?}"));
            if line.ends_with("-o=json") {
                // An attached short value (`-o=json`) is left to clap, which reads it.
                assert!(full.is_ok() && quick.is_none(), "{line}");
            } else if env_set {
                assert_eq!(quick, None, "{line}");
            } else {
                assert!(full.is_ok(), "{line}: {full:?}");
                assert_eq!(quick.as_ref(), full.as_ref().ok(), "{line}");
            }
        }
        // Command lines made of every kind of fragment, well and badly formed: whenever the
        // plain parse reads one, clap reads the same.
        let fragments = [
            "chart",
            "other",
            "-f",
            "x.yaml",
            "-fx.yaml",
            "--values=v.yaml",
            "--set",
            "a=1",
            "--set=a=1",
            "--set-string",
            "t=1.2",
            "--set-file",
            "f=x",
            "--set-json",
            "j={}",
            "--set-literal",
            "l=a,b",
            "--",
            "-q",
            "-qq",
            "--quiet",
            "--quiet=true",
            "--color",
            "always",
            "--color=NEVER",
            "--color=never",
            "-o",
            "json",
            "JSON",
            "--output=yaml",
            "-n",
            "shop",
            "Bad_Name",
            "-n=shop",
            "--namespace=shop",
            "--service-map",
            "--kube-version",
            "1.30",
            "v1.29.3",
            "--kube-version=banana",
            "--api-versions=a/v1,,b",
            "-a",
            "x/v1,y/v1",
            "--digest",
            "sha256:abc",
            "--release-name",
            "web",
            "--release-name=",
            "-s",
            "t/*.yaml",
            "--show-only",
            "--notes",
            "--notes=true",
            "--verify",
            "--keyring",
            "k.gpg",
            "--skip-schema-validation",
            "-",
            "-x",
            "--output-dir",
            "out",
            "--include-crds",
            "--is-upgrade",
            "--no-hooks",
            "--skip-tests",
            "--help",
            "-h",
            "--version",
            "",
            "é",
        ];
        let mut seed: u64 = 0x5eed;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            usize::try_from(seed >> 33).unwrap_or(0) % n
        };
        let (mut read, mut both) = (0, 0);
        for _ in 0..4000 {
            let mut args = argv("cocktail-pkg template");
            for _ in 0..next(7) {
                args.push(fragments[next(fragments.len())].into());
            }
            let full = Cli::try_parse_from(&args).map(|c| format!("{c:?}")).ok();
            let quick = parse_plain_template(&args).map(|c| format!("{c:?}"));
            if let Some(quick) = quick {
                read += 1;
                assert_eq!(Some(&quick), full.as_ref(), "{args:?}");
            }
            both += usize::from(full.is_some());
        }
        if !env_set {
            // Most command lines clap accepts are plain (303 of 375 when written).
            assert!(
                read * 3 > both * 2 && both > read,
                "{read} plain of {both} clap reads"
            );
        }
    }

    #[test]
    fn help_version_errors_and_other_commands_use_the_full_parser() {
        for line in [
            "cocktail-pkg template",
            "cocktail-pkg template --help",
            "cocktail-pkg template x -h",
            "cocktail-pkg template x --no-such-flag",
            "cocktail-pkg template x --kube-version banana",
            "cocktail-pkg show",
            "cocktail-pkg --version",
            "cocktail-pkg list -n shop",
            "cocktail-pkg",
        ] {
            assert!(parse_quick(&argv(line)).is_none(), "{line}");
        }
    }
}
