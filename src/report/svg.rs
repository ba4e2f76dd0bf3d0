//! SVG chart primitives: line, dashed, area and stacked-area series, candlesticks, trade markers, axes and a legend.
//!
//! A [`Chart`] renders to one standalone `<svg>` element with presentation attributes only
//! (no page CSS needed), so the same text goes into the HTML page and through resvg into a
//! PNG. Every drawn series is a `<path class="series" data-series="sN" data-points="K">`,
//! which the page's script toggles from the legend and the tests count.

use std::fmt::Write as _;

use super::scale::{format_tick, format_time, nice_ticks, Scale};

/// Series longer than this are thinned to the minimum and maximum of each of
/// `MAX_POINTS / 2` buckets, which keeps every peak and trough that a pixel can show.
pub const MAX_POINTS: usize = 1600;
/// More candles than this are drawn as a close line instead.
pub const MAX_CANDLES: usize = 400;

/// What the x axis shows.
#[derive(Debug, Clone, PartialEq)]
pub enum XAxis {
    /// UTC milliseconds, labelled as dates or times.
    Time,
    /// Plain numbers (e.g. generations), with this axis title.
    Number(String),
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Line,
    Dashed,
    /// A line with the area down to zero filled.
    Area,
}

/// One named series of `(x, y)` points in x order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub color: String,
    pub style: Style,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    pub fn new(name: impl Into<String>, color: impl Into<String>, style: Style, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            color: color.into(),
            style,
            points: points
                .into_iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect(),
        }
    }
}

/// One OHLC bar at `x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candle {
    pub x: f64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

/// A trade marker: entries are triangles pointing in the trade's direction, exits are squares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    LongEntry,
    ShortEntry,
    Exit,
}

/// A point marker with a hover text.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub x: f64,
    pub y: f64,
    pub kind: MarkerKind,
    pub title: String,
}

/// A chart: series, stacked layers, candles and markers over shared axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Identifier (HTML id and PNG file stem), e.g. `equity-train`.
    pub id: String,
    pub title: String,
    pub x_axis: XAxis,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Layers stacked bottom first; each must have the same x values.
    pub stacked: Vec<Series>,
    /// The close series drawn as candles (when there are at most [`MAX_CANDLES`]).
    pub candles: Vec<Candle>,
    pub markers: Vec<Marker>,
    /// Vertical rules at x with a label (e.g. where the held-out bars start).
    pub rules: Vec<(f64, String)>,
    pub width: f64,
    pub height: f64,
}

const LEFT: f64 = 70.0;
const RIGHT: f64 = 16.0;
const BOTTOM: f64 = 34.0;
const FONT: &str = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";

/// A palette that stays apart for up to 16 series.
pub const PALETTE: [&str; 16] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
];

impl Chart {
    /// An empty chart of the usual size.
    pub fn new(id: impl Into<String>, title: impl Into<String>, x_axis: XAxis, y_label: impl Into<String>) -> Chart {
        Chart {
            id: id.into(),
            title: title.into(),
            x_axis,
            y_label: y_label.into(),
            series: Vec::new(),
            stacked: Vec::new(),
            candles: Vec::new(),
            markers: Vec::new(),
            rules: Vec::new(),
            width: 960.0,
            height: 320.0,
        }
    }

    /// Number of data points drawn (after thinning), over every series, layer and candle.
    pub fn drawn_points(&self) -> usize {
        self.series
            .iter()
            .chain(&self.stacked)
            .map(|s| thin(&s.points).len())
            .sum::<usize>()
            + self.candles.len()
    }

    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let mut xs = (f64::INFINITY, f64::NEG_INFINITY);
        let mut ys = (f64::INFINITY, f64::NEG_INFINITY);
        let mut add = |x: f64, y: f64| {
            xs = (xs.0.min(x), xs.1.max(x));
            ys = (ys.0.min(y), ys.1.max(y));
        };
        for s in &self.series {
            for &(x, y) in &s.points {
                add(x, y);
            }
            if s.style == Style::Area {
                if let Some(&(x, _)) = s.points.first() {
                    add(x, 0.0);
                }
            }
        }
        for (x, y) in stack_tops(&self.stacked).into_iter().flatten() {
            add(x, y);
            add(x, 0.0);
        }
        for c in &self.candles {
            add(c.x, c.low);
            add(c.x, c.high);
        }
        for m in &self.markers {
            add(m.x, m.y);
        }
        if !xs.0.is_finite() {
            return ((0.0, 1.0), (0.0, 1.0));
        }
        let pad = (ys.1 - ys.0) * 0.04;
        ((xs.0, xs.1), (ys.0 - pad, ys.1 + pad))
    }

    /// The chart as a standalone SVG element.
    pub fn to_svg(&self) -> String {
        let (w, h) = (self.width, self.height);
        let ((x0, x1), (y0, y1)) = self.ranges();
        let sx = Scale::new(x0, x1, LEFT, w - RIGHT);
        let top = self.legend_layout().1;
        let (w, h) = (w, h + top);
        let sy = Scale::new(y0, y1, h - BOTTOM, top);
        let mut out = String::new();
        let _ = write!(
            out,
            r##"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-{id}" data-chart="{id}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="{FONT}" font-size="11"><rect width="{w}" height="{h}" fill="#ffffff"/><text x="{LEFT}" y="16" font-size="14" font-weight="bold" fill="#222">{title}</text>"##,
            id = esc(&self.id),
            title = esc(&self.title)
        );
        self.axes(&mut out, &sx, &sy, h, top);
        let _ = write!(
            out,
            r#"<clipPath id="clip-{id}"><rect x="{LEFT}" y="{top}" width="{pw}" height="{ph}"/></clipPath><g clip-path="url(#clip-{id})">"#,
            id = esc(&self.id),
            pw = w - LEFT - RIGHT,
            ph = h - top - BOTTOM
        );
        let mut index = 0;
        let tops = stack_tops(&self.stacked);
        for (k, layer) in self.stacked.iter().enumerate() {
            let upper = thin(&tops[k]);
            let lower: Vec<(f64, f64)> = if k == 0 {
                upper.iter().map(|&(x, _)| (x, 0.0)).collect()
            } else {
                thin(&tops[k - 1])
            };
            let mut d = path_of(&upper, &sx, &sy);
            for &(x, y) in lower.iter().rev() {
                let _ = write!(d, "L{:.1},{:.1}", sx.map(x), sy.map(y));
            }
            d.push('Z');
            let _ = write!(
                out,
                r#"<path class="series" data-series="s{index}" data-points="{n}" d="{d}" fill="{c}" fill-opacity="0.85" stroke="{c}" stroke-width="0.5"><title>{name}</title></path>"#,
                n = upper.len(),
                c = esc(&layer.color),
                name = esc(&layer.name)
            );
            index += 1;
        }
        if !self.candles.is_empty() {
            self.draw_candles(&mut out, &sx, &sy, index);
            index += 1;
        }
        for s in &self.series {
            let pts = thin(&s.points);
            let d = path_of(&pts, &sx, &sy);
            let c = esc(&s.color);
            let (fill, extra) = match s.style {
                Style::Line => ("none".to_string(), String::new()),
                Style::Dashed => ("none".to_string(), r#" stroke-dasharray="5 3""#.to_string()),
                Style::Area => (c.clone(), r#" fill-opacity="0.25""#.to_string()),
            };
            let d = if s.style == Style::Area && !pts.is_empty() {
                let zero = sy.map(0.0);
                format!(
                    "{d}L{:.1},{zero:.1}L{:.1},{zero:.1}Z",
                    sx.map(pts[pts.len() - 1].0),
                    sx.map(pts[0].0)
                )
            } else {
                d
            };
            let _ = write!(
                out,
                r#"<path class="series" data-series="s{index}" data-points="{n}" d="{d}" fill="{fill}"{extra} stroke="{c}" stroke-width="1.4" stroke-linejoin="round"><title>{name}</title></path>"#,
                n = pts.len(),
                name = esc(&s.name)
            );
            index += 1;
        }
        for m in &self.markers {
            let (x, y) = (sx.map(m.x), sy.map(m.y));
            let (d, c) = match m.kind {
                MarkerKind::LongEntry => (format!("M{x:.1},{:.1}l-5,9h10z", y - 1.0), "#12a150"),
                MarkerKind::ShortEntry => (format!("M{x:.1},{:.1}l-5,-9h10z", y + 1.0), "#d62728"),
                MarkerKind::Exit => (format!("M{:.1},{:.1}h7v7h-7z", x - 3.5, y - 3.5), "#333333"),
            };
            let _ = write!(
                out,
                r#"<path class="marker" d="{d}" fill="{c}" fill-opacity="0.8"><title>{}</title></path>"#,
                esc(&m.title)
            );
        }
        out.push_str("</g>");
        for (x, label) in &self.rules {
            let px = sx.map(*x);
            let _ = write!(
                out,
                r##"<line x1="{px:.1}" x2="{px:.1}" y1="{top}" y2="{:.1}" stroke="#555" stroke-dasharray="3 3"/><text x="{:.1}" y="{:.1}" fill="#555">{}</text>"##,
                h - BOTTOM,
                px + 4.0,
                top + 12.0,
                esc(label)
            );
        }
        self.legend(&mut out);
        out.push_str("</svg>");
        out
    }

    fn axes(&self, out: &mut String, sx: &Scale, sy: &Scale, h: f64, top: f64) {
        let w = self.width;
        let yt = nice_ticks(sy.d0, sy.d1, 6);
        let ystep = if yt.len() > 1 { yt[1] - yt[0] } else { 1.0 };
        for v in &yt {
            let y = sy.map(*v);
            let _ = write!(
                out,
                r##"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#e6e6e6"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444">{}</text>"##,
                w - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                format_tick(*v, ystep)
            );
        }
        let xt = nice_ticks(sx.d0, sx.d1, 7);
        let xstep = if xt.len() > 1 { xt[1] - xt[0] } else { 1.0 };
        for v in &xt {
            let x = sx.map(*v);
            if x > w - RIGHT - 34.0 {
                // Its label would run past the right edge.
                continue;
            }
            let label = match self.x_axis {
                XAxis::Time => format_time(*v, sx.d1 - sx.d0),
                XAxis::Number(_) => format_tick(*v, xstep),
            };
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" x2="{x:.1}" y1="{top}" y2="{:.1}" stroke="#f0f0f0"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#444">{}</text>"##,
                h - BOTTOM,
                h - BOTTOM + 15.0,
                esc(&label)
            );
        }
        let _ = write!(
            out,
            r##"<rect x="{LEFT}" y="{top}" width="{:.1}" height="{:.1}" fill="none" stroke="#999"/><text transform="translate(14,{:.1}) rotate(-90)" text-anchor="middle" fill="#444">{}</text>"##,
            w - LEFT - RIGHT,
            h - top - BOTTOM,
            (top + h - BOTTOM) / 2.0,
            esc(&self.y_label)
        );
        if let XAxis::Number(title) = &self.x_axis {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444">{}</text>"##,
                w - RIGHT,
                h - 3.0,
                esc(title)
            );
        }
    }

    fn draw_candles(&self, out: &mut String, sx: &Scale, sy: &Scale, index: usize) {
        if self.candles.len() > MAX_CANDLES {
            let pts: Vec<(f64, f64)> = self.candles.iter().map(|c| (c.x, c.close)).collect();
            let pts = thin(&pts);
            let _ = write!(
                out,
                r##"<path class="series" data-series="s{index}" data-points="{}" d="{}" fill="none" stroke="#333" stroke-width="1"><title>close</title></path>"##,
                pts.len(),
                path_of(&pts, sx, sy)
            );
            return;
        }
        let slot = (sx.p1 - sx.p0) / self.candles.len().max(1) as f64;
        let half = (slot * 0.35).max(0.5);
        let (mut up, mut down) = (String::new(), String::new());
        for c in &self.candles {
            let x = sx.map(c.x);
            let (top, bottom) = (sy.map(c.open.max(c.close)), sy.map(c.open.min(c.close)));
            let d = if c.close >= c.open { &mut up } else { &mut down };
            let _ = write!(
                d,
                "M{x:.1},{:.1}V{top:.1}M{x:.1},{bottom:.1}V{:.1}M{:.1},{top:.1}h{:.1}V{:.1}h{:.1}Z",
                sy.map(c.high),
                sy.map(c.low),
                x - half,
                2.0 * half,
                bottom.max(top + 0.5),
                -2.0 * half
            );
        }
        let n = self.candles.len();
        let _ = write!(
            out,
            r##"<g class="series" data-series="s{index}" data-points="{n}"><path d="{up}" fill="#26a269" stroke="#1b7a4e" stroke-width="0.8"/><path d="{down}" fill="#e01b24" stroke="#a51d2d" stroke-width="0.8"/></g>"##
        );
    }

    /// Legend entries with their positions (rows wrap), and the plot's top edge below them.
    fn legend_layout(&self) -> (Vec<(f64, f64, &str, &str)>, f64) {
        let mut items: Vec<(&str, &str)> = self
            .stacked
            .iter()
            .map(|s| (s.name.as_str(), s.color.as_str()))
            .collect();
        if !self.candles.is_empty() {
            items.push(("price", "#333333"));
        }
        items.extend(self.series.iter().map(|s| (s.name.as_str(), s.color.as_str())));
        let (mut x, mut y) = (LEFT, 34.0);
        let mut placed = Vec::with_capacity(items.len());
        for (name, color) in items {
            let width = 24.0 + 6.6 * name.chars().count() as f64;
            if x + width > self.width - RIGHT && x > LEFT {
                x = LEFT;
                y += 14.0;
            }
            placed.push((x, y, name, color));
            x += width;
        }
        (placed, y + 10.0)
    }

    fn legend(&self, out: &mut String) {
        for (i, (x, y, name, color)) in self.legend_layout().0.into_iter().enumerate() {
            let _ = write!(
                out,
                r##"<g class="legend" data-target="s{i}" cursor="pointer"><rect x="{x:.1}" y="{:.1}" width="12" height="8" fill="{}"/><text x="{:.1}" y="{y:.1}" fill="#222">{}</text></g>"##,
                y - 8.0,
                esc(color),
                x + 15.0,
                esc(name)
            );
        }
    }
}

/// The cumulative tops of stacked layers (layer k's top is the sum of layers 0..=k).
fn stack_tops(layers: &[Series]) -> Vec<Vec<(f64, f64)>> {
    let mut tops: Vec<Vec<(f64, f64)>> = Vec::with_capacity(layers.len());
    for (k, layer) in layers.iter().enumerate() {
        let top = layer
            .points
            .iter()
            .enumerate()
            .map(|(j, &(x, y))| {
                (
                    x,
                    y + if k > 0 {
                        tops[k - 1].get(j).map_or(0.0, |p| p.1)
                    } else {
                        0.0
                    },
                )
            })
            .collect();
        tops.push(top);
    }
    tops
}

/// At most [`MAX_POINTS`] points: the minimum and maximum of each bucket, in x order, plus
/// the last point.
pub fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let buckets = MAX_POINTS / 2 - 1;
    let size = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(MAX_POINTS);
    for chunk in points.chunks(size) {
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in chunk.iter().enumerate() {
            if p.1 < chunk[lo].1 {
                lo = i;
            }
            if p.1 > chunk[hi].1 {
                hi = i;
            }
        }
        let (a, b) = (lo.min(hi), lo.max(hi));
        out.push(chunk[a]);
        if b != a {
            out.push(chunk[b]);
        }
    }
    if out.last() != points.last() {
        out.push(points[points.len() - 1]);
    }
    out
}

fn path_of(points: &[(f64, f64)], sx: &Scale, sy: &Scale) -> String {
    let mut d = String::with_capacity(points.len() * 12);
    for (i, &(x, y)) in points.iter().enumerate() {
        let _ = write!(d, "{}{:.1},{:.1}", if i == 0 { 'M' } else { 'L' }, sx.map(x), sy.map(y));
    }
    d
}

/// Escapes text for XML and HTML.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_extremes_and_bounds_the_size() {
        let pts: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, ((i * 7919) % 1000) as f64)).collect();
        let t = thin(&pts);
        assert!(t.len() <= MAX_POINTS, "{}", t.len());
        let max = t.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        let min = t.iter().map(|p| p.1).fold(f64::MAX, f64::min);
        assert_eq!((min, max), (0.0, 999.0));
        assert_eq!(t.last(), pts.last());
        assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn a_chart_draws_each_series_layer_and_marker() {
        let mut c = Chart::new("t", "A <test>", XAxis::Number("generation".into()), "y");
        c.series.push(Series::new(
            "a",
            PALETTE[0],
            Style::Line,
            vec![(0.0, 1.0), (1.0, 2.0), (2.0, f64::NAN)],
        ));
        c.stacked
            .push(Series::new("x", PALETTE[1], Style::Area, vec![(0.0, 0.5), (1.0, 0.25)]));
        c.stacked
            .push(Series::new("y", PALETTE[2], Style::Area, vec![(0.0, 0.5), (1.0, 0.75)]));
        c.markers.push(Marker {
            x: 1.0,
            y: 2.0,
            kind: MarkerKind::LongEntry,
            title: "buy".into(),
        });
        let svg = c.to_svg();
        assert_eq!(svg.matches(r#"class="series""#).count(), 3);
        assert_eq!(svg.matches(r#"class="marker""#).count(), 1);
        assert_eq!(svg.matches(r#"class="legend""#).count(), 3);
        assert!(svg.contains("A &lt;test&gt;"));
        assert!(svg.contains(r#"data-points="2""#));
        assert_eq!(c.drawn_points(), 6);
    }
}
