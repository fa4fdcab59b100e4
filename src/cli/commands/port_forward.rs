//! `port-forward`.

use std::io::Write;
use std::net::IpAddr;

use clap::Args;

use super::settings::{Opened, TargetArgs};
use crate::cli::exit;
use crate::cli::printer::Printer;
use crate::model::ReleaseName;
use crate::ops::port_forward::{ForwardEvent, PortForwardOptions, PortSpec, prepare, serve};

#[derive(Debug, Args)]
pub struct PortForwardArgs {
    pub release: ReleaseName,
    /// A Service of the release (`web`, `Service/web`) or a workload (`Deployment/web`); a
    /// bare name is the Service's when there is one.
    #[arg(value_name = "SERVICE|WORKLOAD")]
    pub name: String,
    /// Ports: `8080:80` (local 8080 to port 80), `80` (the same number locally), `:80` (any
    /// free local port); REMOTE may be a port name. A Service port leads to its targetPort.
    #[arg(value_name = "[LOCAL:]REMOTE", required = true)]
    pub ports: Vec<PortSpec>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// The local address to listen on.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub address: IpAddr,
    /// Forward to this pod rather than the first ready one.
    #[arg(long, value_name = "POD")]
    pub pod: Option<String>,
}

pub fn run(args: PortForwardArgs, printer: &Printer) -> anyhow::Result<u8> {
    let Opened {
        target,
        service_map,
    } = args.target.open()?;
    let opts = PortForwardOptions {
        release: args.release,
        service_map,
        name: args.name,
        ports: args.ports,
        address: args.address,
        pod: args.pod,
    };
    let forwarding = prepare(target.as_ref(), &opts)?;
    {
        let mut out = std::io::stdout().lock();
        for (local, remote) in forwarding.addresses() {
            writeln!(out, "Forwarding from {local} -> {remote}")?;
        }
        out.flush()?;
    }
    printer.text(&format!(
        "Forwarding to pod {}; Ctrl-C stops",
        forwarding.pod
    ));
    let printer = *printer;
    serve(target.as_ref(), &forwarding, &move |event| match event {
        ForwardEvent::Connection { local, remote } => {
            printer.text(&format!(
                "Handling connection for {} -> {remote}",
                local.port()
            ));
        }
        ForwardEvent::Failed(message) => printer.warning(&message),
    })?;
    Ok(exit::OK)
}
