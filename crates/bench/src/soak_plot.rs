//! `plot.png`: the service's RSS (top) and the exchange and verify p99 per sampling
//! window (bottom) over the run, with plotters' bitmap backend.
//!
//! Text goes through plotters' `ab_glyph` renderer, which needs a font's bytes: the soak
//! reads a TrueType file at run time (`--soak-font`, else DejaVu Sans where Debian's
//! `fonts-dejavu-core` installs it) rather than plotters' `ttf` feature, which would need
//! fontconfig at build and run time. Without a font the plot is drawn without text; the
//! report says so, and its JSON has the same numbers.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;

use crate::soak_report::WindowStats;
use crate::soak_sampler::ResourceSample;

/// Where Debian and Ubuntu put DejaVu Sans.
const DEFAULT_FONTS: [&str; 2] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// The family name the font is registered under.
const FAMILY: &str = "sans-serif";

const SIZE: (u32, u32) = (1000, 720);

/// The font registered for this process, if any (plotters keeps fonts in a global table
/// and wants `'static` bytes, so it is read and registered once).
static FONT: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Registers the first readable font of `preferred` and the defaults; returns its path.
fn register_font(preferred: Option<&Path>) -> Option<PathBuf> {
    FONT.get_or_init(|| {
        let candidates = preferred
            .map(Path::to_path_buf)
            .into_iter()
            .chain(DEFAULT_FONTS.iter().map(PathBuf::from));
        for candidate in candidates {
            let Ok(bytes) = std::fs::read(&candidate) else {
                continue;
            };
            // Leaked once per process: plotters' font table holds `&'static [u8]`.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if plotters::style::register_font(FAMILY, FontStyle::Normal, bytes).is_ok() {
                return Some(candidate);
            }
        }
        None
    })
    .clone()
}

/// Draws the plot to `path`. Returns the font used (`None`: drawn without text).
pub(crate) fn draw(
    path: &Path,
    samples: &[ResourceSample],
    windows: &[WindowStats],
    font: Option<&Path>,
) -> Result<Option<PathBuf>, String> {
    let font = register_font(font);
    draw_with(path, samples, windows, font.is_some()).map_err(|error| error.to_string())?;
    Ok(font)
}

fn draw_with(
    path: &Path,
    samples: &[ResourceSample],
    windows: &[WindowStats],
    text: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let minutes = |secs: f64| secs / 60.0;
    let rss: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (minutes(s.at_secs), s.rss_bytes as f64 / (1024.0 * 1024.0)))
        .collect();
    // A window's figures belong to its middle.
    let window_secs = match windows {
        [first, second, ..] => second.at_secs - first.at_secs,
        _ => 0.0,
    };
    let p99 = |pick: fn(&WindowStats) -> f64| -> Vec<(f64, f64)> {
        windows
            .iter()
            .filter(|w| w.exchanges > 0)
            .map(|w| (minutes(w.at_secs + window_secs / 2.0), pick(w) / 1000.0))
            .collect()
    };
    let exchange = p99(|w| w.exchange.p99_us);
    let verify = p99(|w| w.verify.p99_us);
    let x_max = rss
        .iter()
        .chain(&exchange)
        .map(|(x, _)| *x)
        .fold(0.0_f64, f64::max)
        .max(1e-3);
    let rss_max = rss.iter().map(|(_, y)| *y).fold(0.0_f64, f64::max) * 1.1 + 1.0;
    let p99_max = exchange
        .iter()
        .chain(&verify)
        .map(|(_, y)| *y)
        .fold(0.0_f64, f64::max)
        * 1.1
        + 0.1;

    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(SIZE.1 / 2);
    let label_area = if text { 45 } else { 5 };

    let mut upper = ChartBuilder::on(&top);
    upper
        .margin(12)
        .x_label_area_size(label_area)
        .y_label_area_size(label_area + 15);
    if text {
        upper.caption("trustmint soak: service RSS (MiB)", (FAMILY, 20));
    }
    let mut upper = upper.build_cartesian_2d(0.0..x_max, 0.0..rss_max)?;
    let mut mesh = upper.configure_mesh();
    if text {
        mesh.x_desc("minutes").y_desc("MiB");
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw()?;
    upper.draw_series(LineSeries::new(rss, RED.stroke_width(2)))?;

    let mut lower = ChartBuilder::on(&bottom);
    lower
        .margin(12)
        .x_label_area_size(label_area)
        .y_label_area_size(label_area + 15);
    if text {
        lower.caption(
            "p99 per sampling window (ms): exchange red, verify blue",
            (FAMILY, 20),
        );
    }
    let mut lower = lower.build_cartesian_2d(0.0..x_max, 0.0..p99_max)?;
    let mut mesh = lower.configure_mesh();
    if text {
        mesh.x_desc("minutes").y_desc("ms");
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw()?;
    lower.draw_series(LineSeries::new(exchange, RED.stroke_width(2)))?;
    lower.draw_series(LineSeries::new(verify, BLUE.stroke_width(2)))?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Latency;

    fn inputs() -> (Vec<ResourceSample>, Vec<WindowStats>) {
        let samples = (0..7)
            .map(|n| ResourceSample {
                at_secs: n as f64 * 10.0,
                rss_bytes: (40 + n % 2) << 20,
                open_fds: 30,
                service_cpu_secs: n as f64,
                redis_used_memory_bytes: 1 << 20,
                redis_used_memory_rss_bytes: 4 << 20,
                redis_ping_us: 90.0,
                load_average_1m: 1.0,
            })
            .collect();
        let windows = (0..6)
            .map(|n| WindowStats {
                at_secs: n as f64 * 10.0,
                exchanges: 100,
                verifies: 100,
                older_key_verifies: 100,
                failed: 0,
                exchange: Latency {
                    p99_us: 2_000.0 + n as f64 * 10.0,
                    ..Latency::default()
                },
                verify: Latency {
                    p99_us: 900.0,
                    ..Latency::default()
                },
            })
            .collect();
        (samples, windows)
    }

    fn is_png_of_size(path: &Path) -> bool {
        let bytes = std::fs::read(path).expect("the plot was written");
        // PNG signature, then the IHDR chunk: width and height, big-endian.
        bytes.starts_with(b"\x89PNG\r\n\x1a\n")
            && bytes[16..20] == SIZE.0.to_be_bytes()
            && bytes[20..24] == SIZE.1.to_be_bytes()
    }

    #[test]
    fn draws_a_png_with_and_without_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (samples, windows) = inputs();
        let bare = dir.path().join("bare.png");
        draw_with(&bare, &samples, &windows, false).expect("drawn without text");
        assert!(is_png_of_size(&bare));
        // With whichever font this machine has (none: the same as above).
        let labelled = dir.path().join("labelled.png");
        let font = draw(&labelled, &samples, &windows, None).expect("drawn");
        assert!(is_png_of_size(&labelled), "font {font:?}");
    }
}
