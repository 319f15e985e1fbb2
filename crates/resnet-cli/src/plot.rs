//! `resnet plot`: training curves of one or several runs, overlaid (the paper's Fig. 4/6).

use std::path::PathBuf;

use resnet_train::train::{Run, read_metrics, training_curves};

/// Arguments of `resnet plot`.
#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// Run directories (each with a metrics.csv), or metrics.csv files.
    #[arg(required = true, num_args = 1..)]
    pub runs: Vec<PathBuf>,
    /// Output files: OUT.png and OUT.svg.
    #[arg(long, default_value = "curves")]
    pub out: PathBuf,
    /// Legend names, one per run (default: each run's directory name).
    #[arg(long, num_args = 1..)]
    pub labels: Vec<String>,
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
    anyhow::ensure!(
        args.labels.is_empty() || args.labels.len() == args.runs.len(),
        "give one label per run ({} runs, {} labels)",
        args.runs.len(),
        args.labels.len()
    );
    let mut runs = Vec::new();
    for (i, path) in args.runs.iter().enumerate() {
        let (dir, csv) = match path.is_dir() {
            true => (path.clone(), path.join("metrics.csv")),
            false => (
                path.parent().map(PathBuf::from).unwrap_or_default(),
                path.clone(),
            ),
        };
        // The directory's name (two runs of one network differ in it), else the network's.
        let name = (args.labels.get(i).cloned())
            .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
            .or_else(|| Run::read_config(&dir).map(|c| c.arch).ok())
            .unwrap_or_else(|| "run".into());
        runs.push((name, read_metrics(&csv)?));
    }
    let [png, svg] = training_curves(&runs, &args.out, args.y_max)?;
    println!("wrote {}, {}", png.display(), svg.display());
    Ok(())
}
