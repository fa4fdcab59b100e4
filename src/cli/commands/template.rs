use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use semver::Version;

use crate::cli::ValuesArgs;
use crate::cli::commands::settings::VerifyArgs;
use crate::cli::printer::Printer;
use crate::model::{Digest, ReleaseName, ServiceMapName};
use crate::ops::Generation;
use crate::ops::template::{self, TemplateOptions};
use crate::package::parse_kube_version;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ManifestFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Package directory, NAME-VERSION.tgz archive, or REPO/NAME[@VERSION-REQ] from a repository.
    #[arg(value_name = "PKG")]
    pub package: PathBuf,
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Release name seen by templates (default: the package name).
    #[arg(long, value_name = "NAME")]
    pub release_name: Option<ReleaseName>,
    /// Service map (namespace) the objects belong to.
    #[arg(
        short = 'n',
        long,
        visible_alias = "namespace",
        value_name = "NAME",
        env = "COCKTAIL_PKG_SERVICE_MAP",
        hide_env_values = true,
        default_value = "default"
    )]
    pub service_map: ServiceMapName,
    /// Kubernetes version to render for (default: 1.33.0).
    #[arg(long, value_name = "VERSION", value_parser = parse_kube_version)]
    pub kube_version: Option<Version>,
    /// Extra API versions templates may rely on (`monitoring.coreos.com/v1`; repeatable or
    /// comma-separated, like helm's).
    #[arg(
        short = 'a',
        long = "api-versions",
        value_name = "GROUP/VERSION",
        value_delimiter = ','
    )]
    pub api_versions: Vec<String>,
    /// Require an archive to have this digest (`sha256:…`).
    #[arg(long, value_name = "DIGEST")]
    pub digest: Option<Digest>,
    /// Write one file per template under DIR/<package>/ instead of printing.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Output format for the objects.
    #[arg(short, long, value_enum, default_value = "yaml")]
    pub output: ManifestFormat,
    /// Also print the rendered NOTES.txt (to stderr), as an install would show it.
    #[arg(long)]
    pub notes: bool,
    /// Charts: print only the documents of these templates (`templates/service.yaml`, globs).
    #[arg(short = 's', long = "show-only", value_name = "TEMPLATE")]
    pub show_only: Vec<String>,
    /// Charts: also print the CRDs of `crds/` folders, first.
    #[arg(long)]
    pub include_crds: bool,
    /// Charts: render as an upgrade (`.Release.IsUpgrade` true, `.Release.IsInstall` false).
    #[arg(long)]
    pub is_upgrade: bool,
    /// Charts: leave hook documents (`helm.sh/hook`) out of the output.
    #[arg(long)]
    pub no_hooks: bool,
    /// Charts: leave test hooks (`helm.sh/hook: test`) out of the output.
    #[arg(long)]
    pub skip_tests: bool,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

pub fn run(args: TemplateArgs, printer: &Printer) -> anyhow::Result<u8> {
    let (source, verified) = args.verify.check(&args.package, printer)?;
    let opts = TemplateOptions {
        source,
        digest: args.digest.clone().or(verified),
        values: args.values.sources(),
        release_name: args.release_name.clone(),
        service_map: args.service_map.clone(),
        kube_version: args.kube_version.clone(),
        api_versions: args.api_versions.clone(),
        generation: Generation::Random,
        is_upgrade: args.is_upgrade,
        // A chart printed as `helm template` prints it needs its documents, not objects.
        objects: args.output != ManifestFormat::Yaml || args.output_dir.is_some(),
    };
    let outcome = template::template(&opts)?;
    for w in &outcome.package.warnings {
        printer.warning(w);
    }
    if !outcome.generated.is_empty() {
        printer.warning(&format!(
            "generated random values for {} (a new value on every run: set them with --set or -f to render the same output twice)",
            outcome.generated.join(", ")
        ));
    }
    if args.notes
        && let Some(notes) = &outcome.rendered.notes
    {
        printer.text(notes.trim_end());
    }
    if let Some(dir) = &args.output_dir {
        let written = template::write_output_dir(&outcome, dir)?;
        printer.status(
            "Wrote",
            &format!(
                "{} objects in {} files under {}",
                outcome.rendered.objects.len(),
                written.len(),
                dir.join(outcome.package.manifest.name.as_str()).display()
            ),
        );
        return Ok(crate::cli::exit::OK);
    }
    if let Some(chart) = &outcome.chart
        && args.output == ManifestFormat::Yaml
    {
        let filtered;
        let chart = if args.no_hooks || args.skip_tests {
            filtered = chart.clone().without_hooks(args.no_hooks, args.skip_tests);
            &filtered
        } else {
            chart
        };
        let text = if args.show_only.is_empty() {
            chart.helm_text(args.include_crds)
        } else {
            chart
                .show_only(args.include_crds, &args.show_only)
                .map_err(anyhow::Error::msg)?
        };
        std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("failed to write to stdout")?;
        // The process ends here: freeing every rendered value one by one would only delay it.
        std::mem::forget(outcome);
        return Ok(crate::cli::exit::OK);
    }
    let text = match args.output {
        ManifestFormat::Yaml => outcome
            .rendered
            .to_yaml_stream(outcome.package.manifest.name.as_str())?,
        ManifestFormat::Json => {
            let list = serde_json::json!({
                "apiVersion": "v1",
                "kind": "List",
                "items": outcome.rendered.objects.iter().map(|o| &o.object).collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&list)? + "\n"
        }
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("failed to write to stdout")?;
    Ok(crate::cli::exit::OK)
}
