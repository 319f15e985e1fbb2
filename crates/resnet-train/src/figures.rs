//! Figures in the paper's style, as PNG and SVG: panels of lines ([`draw`]), which training
//! curves (Fig. 4/6, `train::curves`) and layer response magnitudes (Fig. 7, `responses`) are
//! drawn with.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

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

/// The figures' text face, DejaVu Sans, carried in the program (the `dejavu` crate) and given
/// to plotters as its `sans-serif`: no fontconfig to build against, no system font to find at
/// run time, and the same letters on every machine.
fn register_font() -> Result<(), String> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| "the built-in font (DejaVu Sans) could not be read".to_string())
}

/// Draws `panels` side by side into `stem.png` and `stem.svg`; returns both paths.
pub fn draw(stem: &Path, panels: &[Panel]) -> Result<[PathBuf; 2], FigureError> {
    register_font().map_err(|reason| FigureError {
        path: stem.to_path_buf(),
        reason,
    })?;
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
        resnet_data::atomic::write(path, bytes).map_err(|e| fail(path)(e.to_string()))?;
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
        let (x_digits, y_digits) = (decimals(x_max - x_min), decimals(y_max - y_min));
        chart
            .configure_mesh()
            .x_desc(&panel.x_label)
            .y_desc(&panel.y_label)
            .x_label_formatter(&|x| format!("{x:.x_digits$}"))
            .y_label_formatter(&|y| format!("{y:.y_digits$}"))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(e)?;
        for s in &panel.series {
            let c = color(s.color);
            for segment in visible_segments(&s.points, y_min, y_max) {
                let points = segment.into_iter();
                match s.stroke {
                    Stroke::Dashed => {
                        chart.draw_series(DashedLineSeries::new(points, 5, 4, c.stroke_width(1)))
                    }
                    Stroke::Thin => chart.draw_series(LineSeries::new(points, c.stroke_width(1))),
                    Stroke::Bold => chart.draw_series(LineSeries::new(points, c.stroke_width(3))),
                }
                .map_err(e)?;
            }
            if let Some(label) = &s.label {
                // An empty series carries the legend entry: a line wholly off the axes keeps it.
                let empty = std::iter::empty::<(f64, f64)>();
                chart
                    .draw_series(LineSeries::new(empty, c.stroke_width(3)))
                    .map_err(e)?
                    .label(label)
                    .legend(move |(x, y)| {
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

/// The parts of a line that lie within `lo..=hi` in y, cut where it leaves the axes and
/// re-enters them (plotters would flatten the parts outside onto the border); a non-finite
/// point breaks the line too.
fn visible_segments(points: &[(f64, f64)], lo: f64, hi: f64) -> Vec<Vec<(f64, f64)>> {
    let mut segments: Vec<Vec<(f64, f64)>> = Vec::new();
    // Whether the last segment ends at the current point (so the next one continues it).
    let mut open = false;
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let clipped = match a.1.is_finite() && b.1.is_finite() {
            true => clip(a, b, lo, hi),
            false => None,
        };
        match (clipped, segments.last_mut()) {
            (Some((p, q)), Some(last)) if open && p == a => {
                last.push(q);
                open = q == b;
            }
            (Some((p, q)), _) => {
                segments.push(vec![p, q]);
                open = q == b;
            }
            (None, _) => open = false,
        }
    }
    segments
}

/// The part of the segment `a`-`b` within `lo..=hi` in y (its ends are `a` and `b`
/// themselves where those lie within).
fn clip(a: (f64, f64), b: (f64, f64), lo: f64, hi: f64) -> Option<((f64, f64), (f64, f64))> {
    let dy = b.1 - a.1;
    let (t0, t1) = match dy == 0.0 {
        true if (lo..=hi).contains(&a.1) => (0.0, 1.0),
        true => return None,
        false => {
            let (u, v) = ((lo - a.1) / dy, (hi - a.1) / dy);
            (u.min(v).max(0.0), u.max(v).min(1.0))
        }
    };
    let at = |t: f64| match t {
        0.0 => a,
        1.0 => b,
        t => (a.0 + t * (b.0 - a.0), a.1 + t * dy),
    };
    (t0 <= t1).then(|| (at(t0), at(t1)))
}

/// Decimals a tick label needs on an axis spanning `range` (about ten ticks): none for
/// iterations or percentages, more for small magnitudes.
fn decimals(range: f64) -> usize {
    match range {
        r if r >= 10.0 => 0,
        r if r >= 1.0 => 1,
        r if r >= 0.1 => 2,
        _ => 3,
    }
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

    #[test]
    fn lines_are_cut_where_they_leave_the_axes() {
        let line = [
            (0.0, 30.0),
            (1.0, 10.0),
            (2.0, 5.0),
            (3.0, 25.0),
            (4.0, f64::NAN),
            (5.0, 1.0),
        ];
        let segments = visible_segments(&line, 0.0, 20.0);
        assert_eq!(
            segments,
            vec![vec![(0.5, 20.0), (1.0, 10.0), (2.0, 5.0), (2.75, 20.0)]]
        );
        // Crossing the whole band between two points leaves the crossing itself.
        let across = visible_segments(&[(0.0, 30.0), (1.0, -10.0)], 0.0, 20.0);
        assert_eq!(across, vec![vec![(0.25, 20.0), (0.75, 0.0)]]);
        assert!(visible_segments(&[(0.0, 30.0), (1.0, 40.0)], 0.0, 20.0).is_empty());
    }

    #[test]
    fn text_is_drawn_with_the_built_in_font() {
        let dir = tempfile::tempdir().unwrap();
        let panel = Panel {
            title: "ResNet-20: error".into(),
            x_label: "iterations".into(),
            y_label: "error (%)".into(),
            series: vec![Series {
                label: Some("resnet20".into()),
                points: vec![(0.0, 90.0), (100.0, 40.0)],
                color: 0,
                stroke: Stroke::Bold,
            }],
            y_range: None,
        };
        let [png, svg] = draw(&dir.path().join("fig"), &[panel]).unwrap();
        // The caption's band, above the axes, holds nothing but the caption's glyphs.
        let image = image::open(&png).unwrap().to_rgb8();
        let inked = (0..30)
            .flat_map(|y| (0..image.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| image.get_pixel(x, y).0.iter().all(|&c| c < 128))
            .count();
        assert!(inked > 100, "{inked} dark pixels in the caption's band");
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("ResNet-20: error") && text.contains("iterations"));
    }

    #[test]
    fn tick_labels_carry_the_decimals_their_axis_needs() {
        let label = |range, value: f64| format!("{value:.*}", decimals(range));
        assert_eq!(label(12_000.0, 2000.0), "2000");
        assert_eq!(label(80.0, 20.0), "20");
        assert_eq!(label(5.0, 2.5), "2.5");
        assert_eq!(label(0.5, 0.25), "0.25");
        assert_eq!(label(0.05, 0.025), "0.025");
    }
}
