//! `resnet weights`: the published checkpoints as a table or JSON.

use std::io::Write;

use resnet_model::zoo;
use resnet_pretrained::cache::cache_dir;
use resnet_pretrained::{PUBLISHED, PublishedWeights, embedded};
use resnet_train::train::{MetricsRow, parse_metrics};
use serde::Serialize;

/// Arguments of `resnet weights`.
#[derive(Debug, clap::Args)]
pub struct WeightsArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One row: a checkpoint, its network's size and whether it is cached here.
#[derive(Debug, Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    weights: &'a PublishedWeights,
    /// The network's parameters.
    params: u64,
    /// The preset's shorter side after resizing.
    resize: u32,
    /// The preset's crop (the network's input side).
    crop: u32,
    /// Where the verified file is on this machine, if it is.
    cached: Option<String>,
}

/// Prints the registry. Output piped into a reader that stops early is not an error.
pub fn run(args: WeightsArgs) -> anyhow::Result<()> {
    let cache = cache_dir();
    let rows = PUBLISHED
        .iter()
        .map(|weights| {
            let config = zoo::config_for(weights.arch)?;
            let side = config.native_input_size();
            let cost = config.cost(side, side)?;
            let cached = weights.find_cached(&cache)?;
            let preset = weights.preset.preset();
            Ok(Row {
                weights,
                params: cost.params,
                resize: preset.resize,
                crop: preset.crop,
                cached: cached.map(|p| p.display().to_string()),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    match print(&args, &rows, &mut std::io::stdout().lock()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => Ok(result?),
    }
}

fn print(args: &WeightsArgs, rows: &[Row], out: &mut impl Write) -> std::io::Result<()> {
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(rows)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<29} {:<15} {:<12} {:>6} {:>6} {:>8} {:>6} {:>8}  {:<9}  cached",
        "name", "network", "dataset", "top-1", "top-5", "params", "GMACs", "size", "preset"
    )?;
    for row in rows {
        let w = row.weights;
        let size = match (w.size_bytes, w.size_mib) {
            (Some(bytes), _) => format!("{:.1}M", bytes as f64 / (1 << 20) as f64),
            (None, Some(mib)) => format!("{mib:.1}M"),
            (None, None) => "-".into(),
        };
        writeln!(
            out,
            "{:<29} {:<15} {:<12} {:>6.2} {:>6} {:>7.2}M {:>6} {:>8}  {:<9}  {}",
            w.name,
            w.arch,
            serde_json::to_value(w.dataset)?
                .as_str()
                .unwrap_or_default(),
            w.top1,
            w.top5.map_or("-".into(), |v| format!("{v:.2}")),
            row.params as f64 / 1e6,
            w.gmacs.map_or("-".into(), |v| format!("{v:.2}")),
            size,
            format!("{}/{}", row.resize, row.crop),
            if row.cached.is_some() { "yes" } else { "no" },
        )?;
    }
    let trained = built_in_training().map_or(String::new(), |last| {
        format!(
            ": {}, trained by this project with the paper's CIFAR recipe ({} iterations of \
             batch 128; {}), {} CIFAR-10 test accuracy, {:.1} hours of wall time on a CPU",
            embedded::ARCH,
            last.iteration,
            embedded::RUN,
            percent_correct(last.test_error),
            last.wall_seconds / 3600.0
        )
    });
    writeln!(
        out,
        "\nBuilt in (no download), the default of `resnet classify`: {}{trained}. Accuracies \
         above are the publishers' (ImageNet-1k val, single crop; CIFAR-10 test). Cache: {}",
        embedded::NAME,
        cache_dir().display()
    )?;
    Ok(())
}

/// The built-in network's last evaluation: the last row of its run's `metrics.csv`, compiled
/// in beside its record (`None` only if that file no longer parses, which a test rules out).
fn built_in_training() -> Option<MetricsRow> {
    let path = std::path::Path::new(embedded::RUN).join("metrics.csv");
    parse_metrics(embedded::METRICS.as_bytes(), &path)
        .ok()?
        .pop()
}

/// An error rate as the accuracy it leaves, in percent (`-` when there is none).
fn percent_correct(error: Option<f64>) -> String {
    error.map_or("-".into(), |e| format!("{:.2}%", 100.0 * (1.0 - e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_figures_are_its_runs_last_evaluation() {
        let last = built_in_training().expect("the built-in metrics.csv parses");
        assert_eq!(last.iteration, 64_000, "the full recipe, finished");
        let accuracy = 100.0 * (1.0 - last.test_error.expect("a test evaluation"));
        assert!((80.0..100.0).contains(&accuracy), "{last:?}");
        assert!(last.wall_seconds > 3600.0, "{last:?}");
        assert_eq!(percent_correct(last.test_error), format!("{accuracy:.2}%"));
    }
}
