//! `resnet models`: the model zoo as a table or JSON.

use std::io::Write;

use resnet_model::zoo;
use resnet_pretrained::{PUBLISHED, embedded};
use serde::Serialize;

/// Arguments of `resnet models`.
#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Prints the zoo. Output piped into a reader that stops early (`resnet models | head`) is not
/// an error.
pub fn run(args: ModelsArgs) -> anyhow::Result<()> {
    match print(args, &mut std::io::stdout().lock()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => Ok(result?),
    }
}

/// A network's row: its shape and cost, and the published weights it loads.
#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    summary: zoo::ModelSummary,
    /// Names of `resnet weights` for this network.
    weights: Vec<&'static str>,
}

fn print(args: ModelsArgs, out: &mut impl Write) -> std::io::Result<()> {
    let rows: Vec<Row> = (zoo::named_models().iter())
        .map(|m| Row {
            summary: m.summary(),
            weights: (PUBLISHED.iter())
                .filter(|w| w.arch == m.name)
                .map(|w| w.name)
                .chain((m.name == embedded::ARCH).then_some(embedded::NAME))
                .collect(),
        })
        .collect();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<17} {:<9} {:>5} {:<17} {:<8} {:<7} {:<7} {:>6} {:>10} {:>9}  weights",
        "name",
        "family",
        "depth",
        "block",
        "shortcut",
        "stride",
        "C x d",
        "input",
        "params",
        "MACs"
    )?;
    for Row {
        summary: r,
        weights,
    } in rows
    {
        writeln!(
            out,
            "{:<17} {:<9} {:>5} {:<17} {:<8} {:<7} {:<7} {:>6} {:>9.2}M {:>8.3}G  {}",
            r.name,
            r.family,
            r.depth,
            r.block,
            r.shortcut,
            r.bottleneck_stride.unwrap_or("-"),
            r.groups.as_deref().unwrap_or("-"),
            format!("{0}x{0}", r.input_size),
            r.params as f64 / 1e6,
            r.macs as f64 / 1e9,
            weights.join(", "),
        )?;
    }
    Ok(())
}
