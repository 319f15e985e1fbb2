//! docs/benchmarks.{png,svg}: images/s by backend and workload.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;
use serde_json::Value;

use super::stats::summaries;

pub(super) fn chart(results: &Value, path: &Path) -> anyhow::Result<()> {
    // The text face, carried in the program (as resnet-train's figures): no system font needed.
    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| anyhow::anyhow!("the built-in font (DejaVu Sans) could not be read"))?;
    let summaries = summaries(results)?;
    // backend -> workload -> images/s
    let mut table: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for s in &summaries {
        let mut put = |b: &str, v: Option<f64>| {
            if let Some(v) = v {
                table
                    .entry(b.to_string())
                    .or_default()
                    .insert(s.name.clone(), v);
            }
        };
        put("flex", s.flex);
        for (c, t) in &s.torch {
            put(&format!("pytorch {c}"), t.images_per_sec);
        }
        for (b, m) in &s.others {
            put(b, m.images_per_sec());
        }
    }
    let names: Vec<String> = summaries.iter().map(|s| s.name.clone()).collect();
    let size = (900, 120 + 60 * names.len() as u32);
    let result = match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => draw(
            SVGBackend::new(path, size).into_drawing_area(),
            &table,
            &names,
        ),
        _ => draw(
            BitMapBackend::new(path, size).into_drawing_area(),
            &table,
            &names,
        ),
    };
    result.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub(super) fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    table: &BTreeMap<String, BTreeMap<String, f64>>,
    names: &[String],
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let max = table
        .values()
        .flat_map(|t| t.values().copied())
        .fold(1.0, f64::max);
    let rows = names.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption("images/s (log scale), by backend", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(220)
        // Row r is centred on y = r, so that its label sits on an integer tick.
        .build_cartesian_2d((0.1..max * 2.0).log_scale(), -0.5..rows - 0.5)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(names.len() * 4 + 1)
        .y_label_formatter(&|y| {
            let row = y.round();
            match (y - row).abs() < 1e-6 && row >= 0.0 {
                true => names.get(row as usize).cloned().unwrap_or_default(),
                false => String::new(),
            }
        })
        .draw()
        .map_err(e)?;
    let count = table.len().max(1) as f64;
    for (i, (backend, cells)) in table.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let bars = names.iter().enumerate().filter_map(|(row, w)| {
            let v = *cells.get(w)?;
            let y0 = row as f64 - 0.4 + 0.8 * i as f64 / count;
            let y1 = y0 + 0.8 / count;
            Some(Rectangle::new([(0.1, y0), (v, y1)], color.filled()))
        });
        chart
            .draw_series(bars)
            .map_err(e)?
            .label(backend.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}
