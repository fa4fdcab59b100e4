//! `service-map create|list|show|delete`.

use std::io::Write;

use clap::{Args, Subcommand};

use super::settings::{Opened, TargetArgs};
use crate::cli::printer::Printer;
use crate::cli::table::Table;
use crate::cli::{OutputFormat, exit};
use crate::model::ServiceMapName;
use crate::ops::service_map::{self, CreateOptions, Created};

#[derive(Debug, Args)]
pub struct ServiceMapArgs {
    #[command(subcommand)]
    pub command: ServiceMapCommand,
}

#[derive(Debug, Subcommand)]
pub enum ServiceMapCommand {
    /// Create a service map (a namespace labelled cocktail.io/service-map=true), or turn an
    /// existing namespace into one; on an existing service map, update its display name and
    /// description.
    Create {
        name: ServiceMapName,
        /// A human name shown in listings.
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// List service maps, with their number of releases.
    List {
        #[command(flatten)]
        target: TargetArgs,
        /// Output format: a table, or JSON or YAML.
        #[arg(short, long, value_enum, default_value = "table")]
        output: OutputFormat,
    },
    /// Show a service map: releases, workloads by workload group, exposure, volumes, config.
    Show {
        name: ServiceMapName,
        #[command(flatten)]
        target: TargetArgs,
        /// Output format: a table, or JSON or YAML.
        #[arg(short, long, value_enum, default_value = "table")]
        output: OutputFormat,
    },
    /// Delete a service map and everything in it; refused while releases are installed
    /// unless --force.
    Delete {
        name: ServiceMapName,
        /// Delete even with installed releases (their objects and records go with it).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        target: TargetArgs,
    },
}

pub fn run(args: ServiceMapArgs, printer: &Printer) -> anyhow::Result<u8> {
    match args.command {
        ServiceMapCommand::Create {
            name,
            display_name,
            description,
            target,
        } => {
            let Opened { target, .. } = target.open()?;
            let what = service_map::create(
                target.as_ref(),
                &CreateOptions {
                    name: name.clone(),
                    display_name,
                    description,
                },
            )?;
            let verb = match what {
                Created::Created => "Created",
                Created::Adopted => "Adopted",
                Created::Updated => "Updated",
            };
            printer.status(
                verb,
                &format!("service map {name} in {}", target.describe()),
            );
        }
        ServiceMapCommand::List { target, output } => {
            let Opened { target, .. } = target.open()?;
            let rows = service_map::list_maps(target.as_ref())?;
            if !crate::cli::print_structured(output, &rows)? {
                let mut out = std::io::stdout().lock();
                let mut table =
                    Table::new(&["NAME", "DISPLAY NAME", "RELEASES", "CREATED", "DESCRIPTION"]);
                for r in rows {
                    table.row([
                        r.name.to_string(),
                        r.display_name.clone(),
                        r.releases.to_string(),
                        r.created.clone(),
                        r.description.clone(),
                    ]);
                }
                table.write(&mut out)?;
            }
        }
        ServiceMapCommand::Show {
            name,
            target,
            output,
        } => {
            let Opened { target, .. } = target.open()?;
            let view = service_map::show(target.as_ref(), &name, crate::time::now())?;
            if !crate::cli::print_structured(output, &view)? {
                let mut out = std::io::stdout().lock();
                writeln!(out, "SERVICE MAP: {}", view.name)?;
                if !view.display_name.is_empty() {
                    writeln!(out, "DISPLAY NAME: {}", view.display_name)?;
                }
                if !view.description.is_empty() {
                    writeln!(out, "DESCRIPTION: {}", view.description)?;
                }
                if !view.observed {
                    writeln!(
                        out,
                        "LIVE STATE: not observed ({} keeps no live state)",
                        target.describe()
                    )?;
                }
                writeln!(out, "\nRELEASES")?;
                let mut table = Table::headless().indent(2);
                for r in &view.releases {
                    table.row([
                        r.name.to_string(),
                        format!("{}-{}", r.package, r.version),
                        format!("revision {}", r.revision),
                        r.status.to_string(),
                    ]);
                }
                table.write(&mut out)?;
                writeln!(out, "\nWORKLOADS")?;
                // One table across groups, so every group's columns line up.
                let mut table = Table::headless().indent(2);
                for (group, list) in &view.workload_groups {
                    table.row([format!("group {group}")]);
                    for s in list {
                        let state = serde_json::to_value(s.state)?;
                        table.row([
                            format!("  {}", crate::ops::wait::short(&s.id)),
                            state.as_str().unwrap_or("?").to_string(),
                            s.summary.clone(),
                        ]);
                    }
                }
                table.write(&mut out)?;
                writeln!(out, "\nEXPOSURE")?;
                let mut table = Table::headless().indent(2);
                for e in &view.exposure {
                    table.row([
                        format!("{}/{}", e.kind, e.name),
                        e.r#type.clone(),
                        e.routes.join(", "),
                        if e.addresses.is_empty() {
                            String::new()
                        } else {
                            format!("at {}", e.addresses.join(", "))
                        },
                    ]);
                }
                table.write(&mut out)?;
                writeln!(out, "\nVOLUMES")?;
                let mut table = Table::headless().indent(2);
                for v in &view.volumes {
                    table.row([
                        v.name.clone(),
                        v.phase.clone(),
                        v.size.clone(),
                        if v.storage_class.is_empty() {
                            "(default)".to_string()
                        } else {
                            v.storage_class.clone()
                        },
                        v.access_modes.join(","),
                    ]);
                }
                table.write(&mut out)?;
                writeln!(out, "\nCONFIG")?;
                let mut table = Table::headless().indent(2);
                for c in &view.config {
                    table.row([
                        format!("{}/{}", c.kind, c.name),
                        format!("keys: {}", c.keys.join(", ")),
                    ]);
                }
                table.write(&mut out)?;
            }
        }
        ServiceMapCommand::Delete {
            name,
            force,
            target,
        } => {
            let Opened { target, .. } = target.open()?;
            let releases = service_map::delete(target.as_ref(), &name, force)?;
            if !releases.is_empty() {
                printer.warning(&format!(
                    "deleted with its releases: {}",
                    releases.join(", ")
                ));
            }
            printer.status("Deleted", &format!("service map {name}"));
        }
    }
    Ok(exit::OK)
}
