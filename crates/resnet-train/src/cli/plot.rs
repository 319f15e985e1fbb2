//! `resnet plot`: training curves of one or several runs, overlaid (the paper's Fig. 4/6).

use std::path::PathBuf;

use crate::figures::training_curves;
use crate::train::{Run, read_metrics};

/// Arguments of `resnet plot`.
#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// Run directories (each with a metrics.csv), or metrics.csv files.
    #[arg(required = true, num_args = 1..)]
    pub runs: Vec<PathBuf>,
    /// Output files: OUT.png and OUT.svg.
    #[arg(long, default_value = "curves")]
    pub out: PathBuf,
    /// Top of the error axis in percent (e.g. 20, as the paper's Fig. 6); default: the
    /// largest error plotted.
    #[arg(long, value_name = "PERCENT", value_parser = positive_percent)]
    pub y_max: Option<f64>,
}

fn positive_percent(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 100.0 => Ok(v),
        _ => Err(format!("{s} is not a percentage in (0, 100]")),
    }
}

/// Runs `resnet plot`.
pub fn run(args: PlotArgs) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    for path in &args.runs {
        let (dir, csv) = match path.is_dir() {
            true => (path.clone(), path.join("metrics.csv")),
            false => (
                path.parent().map(PathBuf::from).unwrap_or_default(),
                path.clone(),
            ),
        };
        // The run's own name when it has a run.json, else its directory's.
        let name = Run::read_config(&dir).map(|c| c.arch).unwrap_or_else(|_| {
            dir.file_name()
                .map_or("run".into(), |n| n.to_string_lossy().into_owned())
        });
        runs.push((name, read_metrics(&csv)?));
    }
    let [png, svg] = training_curves(&runs, &args.out, args.y_max)?;
    println!("wrote {}, {}", png.display(), svg.display());
    Ok(())
}
