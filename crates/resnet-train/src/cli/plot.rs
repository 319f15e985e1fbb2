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
    let [png, svg] = training_curves(&runs, &args.out)?;
    println!("wrote {}, {}", png.display(), svg.display());
    Ok(())
}
