//! Rasterises charts to PNG files with resvg; text uses the system's fonts (fontdb), nothing is downloaded.

use std::path::{Path, PathBuf};

use resvg::{tiny_skia, usvg};

use super::error::ReportError;
use super::svg::Chart;

/// Pixels per SVG unit in the PNGs (sharp on high-density screens and in chat previews).
const SCALE: f32 = 2.0;

/// What [`write_pngs`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PngOutput {
    pub files: Vec<PathBuf>,
    /// Font faces found on the system; with none, the PNGs have no text.
    pub font_faces: usize,
}

/// Writes `DIR/<chart id>.png` for every chart, creating `dir` when needed.
pub fn write_pngs(charts: &[Chart], dir: &Path) -> Result<PngOutput, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut options = usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    options.font_family = "DejaVu Sans".to_string();
    let font_faces = options.fontdb.len();
    let mut files = Vec::with_capacity(charts.len());
    for chart in charts {
        let raster = |message: String| ReportError::Raster {
            chart: chart.id.clone(),
            message,
        };
        let tree = usvg::Tree::from_str(&chart.to_svg(), &options).map_err(|e| raster(e.to_string()))?;
        let size = tree
            .size()
            .to_int_size()
            .scale_by(SCALE)
            .ok_or_else(|| raster("empty size".into()))?;
        let mut pixmap =
            tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| raster("cannot allocate".into()))?;
        resvg::render(
            &tree,
            tiny_skia::Transform::from_scale(SCALE, SCALE),
            &mut pixmap.as_mut(),
        );
        let bytes = pixmap.encode_png().map_err(|e| raster(e.to_string()))?;
        let path = dir.join(format!("{}.png", chart.id));
        std::fs::write(&path, bytes).map_err(|source| ReportError::Io {
            path: path.clone(),
            source,
        })?;
        files.push(path);
    }
    Ok(PngOutput { files, font_faces })
}
