//! `adopt`: take over releases Helm installed.

use std::io::Write;

use clap::Args;

use super::settings::{Opened, TargetArgs, holder};
use crate::cli::printer::Printer;
use crate::cli::table::Table;
use crate::cli::{OutputFormat, exit, print_structured};
use crate::model::ReleaseName;
use crate::ops::adopt::{AdoptOptions, AdoptOutcome, adopt};

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The Helm release to adopt (or --all).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub release: Option<ReleaseName>,
    /// Adopt every Helm release of the service map (those adopted before are skipped).
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub target: TargetArgs,
    /// The chart the release comes from, as later upgrades name it (`REPO/NAME`,
    /// `oci://HOST/PATH/NAME`, a path): recorded as the package's source, and its repository
    /// is what `upgrade --auto` tracks. Default: `helm-release:NAME`.
    #[arg(long, value_name = "REF")]
    pub chart: Option<String>,
    /// Show the plan (revisions to import, objects and the ownership that moves, Helm's
    /// records to mark), change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format: a table, or the outcome as JSON or YAML.
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

pub fn run(args: AdoptArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let out = adopt(
        target.as_ref(),
        &AdoptOptions {
            service_map,
            release: args.release.clone(),
            chart: args.chart.clone(),
            dry_run: args.dry_run,
            holder: holder(),
            now: crate::time::now(),
        },
        &mut |msg| printer.status("Adopting", msg),
    )?;
    for name in &out.skipped {
        printer.status("Skipped", &format!("{name}: adopted before"));
    }
    if !print_structured(args.output, &out)? {
        print_table(&out)?;
    }
    if !out.dry_run {
        for r in &out.releases {
            printer.status(
                "Adopted",
                &format!(
                    "{} in service map {} ({} revisions); Helm's records are marked `{}`: do not run `helm upgrade` on it any more",
                    r.release,
                    out.service_map,
                    r.revisions.len(),
                    crate::ops::adopt::ADOPTED_LABEL
                ),
            );
        }
    }
    Ok(exit::OK)
}

fn print_table(out: &AdoptOutcome) -> std::io::Result<()> {
    let mut w = std::io::stdout().lock();
    if !out.dry_run {
        let mut table = Table::new(&[
            "RELEASE",
            "DRIVER",
            "REVISIONS",
            "CURRENT",
            "CHART",
            "OBJECTS",
            "MARKED",
        ]);
        for r in &out.releases {
            let current = r.revisions.last();
            table.row([
                r.release.clone(),
                r.driver.kind().to_string(),
                r.revisions.len().to_string(),
                current.map(|c| c.revision.to_string()).unwrap_or_default(),
                current.map(|c| c.chart.clone()).unwrap_or_default(),
                r.objects.len().to_string(),
                r.marked.len().to_string(),
            ]);
        }
        return table.write(&mut w);
    }
    for r in &out.releases {
        writeln!(
            w,
            "Release {} (service map {}, Helm's {} driver)",
            r.release,
            out.service_map,
            r.driver.kind()
        )?;
        writeln!(w, "  Revisions to import:")?;
        let mut revs = Table::new(&[
            "REVISION",
            "STATUS",
            "CHART",
            "APP VERSION",
            "UPDATED",
            "DESCRIPTION",
        ])
        .indent(4);
        for rev in &r.revisions {
            revs.row([
                rev.revision.to_string(),
                rev.status.as_str().to_string(),
                rev.chart.clone(),
                rev.app_version.clone().unwrap_or_default(),
                rev.updated.clone(),
                rev.description.clone(),
            ]);
        }
        revs.write(&mut w)?;
        writeln!(w, "  Objects (field ownership moves to cocktail-pkg):")?;
        let mut objects = Table::new(&["OBJECT", "FROM"]).indent(4);
        for o in &r.objects {
            objects.row([
                o.object.clone(),
                if o.missing {
                    "(missing: not created again)".to_string()
                } else if o.from.is_empty() {
                    "-".to_string()
                } else {
                    o.from.join(", ")
                },
            ]);
        }
        objects.write(&mut w)?;
        writeln!(
            w,
            "  Helm records to mark ({}=cocktail-pkg):",
            crate::ops::adopt::ADOPTED_LABEL
        )?;
        for m in &r.marked {
            writeln!(w, "    {m}")?;
        }
    }
    Ok(())
}
