//! Figures in the paper's style, as PNG and SVG: training curves (Fig. 4/6) and layer
//! response magnitudes (Fig. 7).

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::train::MetricsRow;

/// A figure could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("figure {path}: {reason}")]
pub struct FigureError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// How a line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stroke {
    /// Thin and dashed (the paper's training error).
    Dashed,
    /// Thin and solid.
    Thin,
    /// Bold and solid (the paper's test error).
    Bold,
}

/// One line of a panel.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend entry, if any.
    pub label: Option<String>,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
    /// Index into the palette (the same index, the same colour).
    pub color: usize,
    /// How it is drawn.
    pub stroke: Stroke,
}

/// One set of axes.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Caption above the axes.
    pub title: String,
    /// X-axis description.
    pub x_label: String,
    /// Y-axis description.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Y range; `None`: from 0 to the largest value.
    pub y_range: Option<(f64, f64)>,
}

fn color(i: usize) -> RGBColor {
    // Matplotlib's default cycle: distinguishable and familiar from the paper's figures.
    const CYCLE: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = CYCLE[i % CYCLE.len()];
    RGBColor(r, g, b)
}

/// `stem` with the extension `ext`: an extension of ours (`.png`, `.svg`, `.csv`) is
/// replaced, anything else is kept (`curves-v1.5` gives `curves-v1.5.png`, not `curves-v1.png`).
pub fn with_extension(stem: &Path, ext: &str) -> PathBuf {
    match stem.extension().and_then(|e| e.to_str()) {
        Some("png" | "svg" | "csv") => stem.with_extension(ext),
        _ => {
            let mut name = stem.as_os_str().to_owned();
            name.push(format!(".{ext}"));
            PathBuf::from(name)
        }
    }
}

/// Draws `panels` side by side into `stem.png` and `stem.svg`; returns both paths.
pub fn draw(stem: &Path, panels: &[Panel]) -> Result<[PathBuf; 2], FigureError> {
    let size = (640 * panels.len().max(1) as u32, 480);
    let png = with_extension(stem, "png");
    let svg = with_extension(stem, "svg");
    if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| FigureError {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
    }
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |e: String| FigureError { path, reason: e }
    };
    // Drawn in memory, then each file written whole (never a half-drawn figure on disk).
    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    render(
        BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area(),
        panels,
    )
    .map_err(fail(&png))?;
    let mut png_bytes = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_raw(size.0, size.1, pixels)
        .ok_or_else(|| "pixel buffer of the wrong size".to_string())
        .and_then(|img| {
            img.write_to(&mut png_bytes, image::ImageFormat::Png)
                .map_err(|e| e.to_string())
        })
        .map_err(fail(&png))?;
    let mut svg_text = String::new();
    render(
        SVGBackend::with_string(&mut svg_text, size).into_drawing_area(),
        panels,
    )
    .map_err(fail(&svg))?;
    for (path, bytes) in [
        (&png, png_bytes.get_ref().as_slice()),
        (&svg, svg_text.as_bytes()),
    ] {
        crate::atomic::write(path, bytes).map_err(|e| fail(path)(e.to_string()))?;
    }
    Ok([png, svg])
}

fn render<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    panels: &[Panel],
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    for (area, panel) in root
        .split_evenly((1, panels.len().max(1)))
        .iter()
        .zip(panels)
    {
        let x_max = panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .fold(1e-9, f64::max);
        let x_min = panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .fold(x_max, f64::min)
            .min(0.0);
        let (y_min, y_max) = panel.y_range.unwrap_or_else(|| {
            let top = panel
                .series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.1))
                .filter(|y| y.is_finite())
                .fold(1e-9, f64::max);
            (0.0, top * 1.05)
        });
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(x_min..x_max, y_min..y_max)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc(&panel.x_label)
            .y_desc(&panel.y_label)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(e)?;
        for s in &panel.series {
            let c = color(s.color);
            let points = s.points.iter().copied().filter(|p| p.1.is_finite());
            let anno = match s.stroke {
                Stroke::Dashed => chart
                    .draw_series(DashedLineSeries::new(points, 5, 4, c.stroke_width(1)))
                    .map_err(e)?,
                Stroke::Thin => chart
                    .draw_series(LineSeries::new(points, c.stroke_width(1)))
                    .map_err(e)?,
                Stroke::Bold => chart
                    .draw_series(LineSeries::new(points, c.stroke_width(3)))
                    .map_err(e)?,
            };
            if let Some(label) = &s.label {
                anno.label(label).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3))
                });
            }
        }
        if panel.series.iter().any(|s| s.label.is_some()) {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(e)?;
        }
    }
    root.present().map_err(e)
}

/// Training curves of one or several runs, overlaid as in the paper's Fig. 4 and 6: thin
/// dashed lines the training error, bold lines the test error (validation error where a run
/// has no test set), x in iterations. Writes `stem.png` and `stem.svg`.
pub fn training_curves(
    runs: &[(String, Vec<MetricsRow>)],
    stem: &Path,
) -> Result<[PathBuf; 2], FigureError> {
    let mut series = Vec::new();
    for (i, (name, rows)) in runs.iter().enumerate() {
        let pts = |f: &dyn Fn(&MetricsRow) -> Option<f64>| -> Vec<(f64, f64)> {
            rows.iter()
                .filter_map(|r| f(r).map(|v| (r.iteration as f64, 100.0 * v)))
                .collect()
        };
        series.push(Series {
            label: None,
            points: pts(&|r| Some(r.train_error)),
            color: i,
            stroke: Stroke::Dashed,
        });
        series.push(Series {
            label: Some(name.clone()),
            points: pts(&|r| r.test_error.or(r.val_error)),
            color: i,
            stroke: Stroke::Bold,
        });
    }
    let top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    draw(
        stem,
        &[Panel {
            title: "error: dashed = training, bold = test".into(),
            x_label: "iterations".into(),
            y_label: "error (%)".into(),
            series,
            y_range: Some((0.0, top.clamp(1.0, 100.0))),
        }],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_replace_ours_only() {
        let path = |s: &str, ext| with_extension(Path::new(s), ext);
        assert_eq!(
            path("out/curves-v1.5", "png"),
            Path::new("out/curves-v1.5.png")
        );
        assert_eq!(path("curves.png", "svg"), Path::new("curves.svg"));
        assert_eq!(path("fig7", "csv"), Path::new("fig7.csv"));
    }
}
