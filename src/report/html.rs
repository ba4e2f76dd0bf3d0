//! The HTML page: one self-contained file with inline CSS, inline SVG charts and a little inline script (legend toggles), no network.

use std::fmt::Write as _;

use super::svg::{esc, Chart};

/// The page's styles.
const CSS: &str = "body{font-family:'DejaVu Sans','Liberation Sans',Arial,sans-serif;margin:0;background:#f6f7f9;color:#222}\
header{background:#1f2a44;color:#fff;padding:16px 28px}header h1{margin:0 0 4px;font-size:22px}header p{margin:0;opacity:.85}\
main{padding:8px 28px 40px;max-width:1000px}section{background:#fff;border:1px solid #dde;border-radius:6px;margin:16px 0;padding:12px 16px}\
h2{font-size:17px;margin:4px 0 10px}svg.chart{display:block;max-width:100%;height:auto;margin:8px 0}\
table{border-collapse:collapse;font-size:12px;margin:6px 0}th,td{border:1px solid #dde;padding:3px 7px;text-align:right}\
th{background:#eef0f5}td.l,th.l{text-align:left}.scroll{max-height:420px;overflow:auto}.note{color:#8a4b00}\
g.legend{cursor:pointer}p.hint{font-size:12px;color:#666}";

/// Legend items toggle their series; the page records how many charts it holds once ready.
const SCRIPT: &str = "(function(){var charts=document.querySelectorAll('svg.chart');\
charts.forEach(function(svg){svg.querySelectorAll('g.legend').forEach(function(item){\
item.addEventListener('click',function(){var t=item.getAttribute('data-target');var off=item.getAttribute('opacity')==='0.35';\
item.setAttribute('opacity',off?'1':'0.35');svg.querySelectorAll('[data-series=\"'+t+'\"]').forEach(function(p){\
p.style.display=off?'':'none';});});});});document.body.setAttribute('data-charts',String(charts.length));})();";

/// A page being built: sections of HTML and the charts they show, in order.
#[derive(Debug, Default)]
pub struct Page {
    body: String,
    charts: Vec<Chart>,
}

impl Page {
    /// Opens a section with a heading.
    pub fn section(&mut self, heading: &str) {
        if !self.body.is_empty() {
            self.body.push_str("</section>");
        }
        let _ = write!(self.body, "<section><h2>{}</h2>", esc(heading));
    }

    /// Appends a chart (drawn inline and kept for PNG output).
    pub fn chart(&mut self, chart: Chart) {
        self.body.push_str(&chart.to_svg());
        self.charts.push(chart);
    }

    /// Appends a paragraph of plain text.
    pub fn text(&mut self, text: &str) {
        let _ = write!(self.body, "<p>{}</p>", esc(text));
    }

    /// Appends a paragraph of plain text with a class (`note`, `hint`).
    pub fn text_class(&mut self, class: &str, text: &str) {
        let _ = write!(self.body, r#"<p class="{class}">{}</p>"#, esc(text));
    }

    /// Appends a table; the first `left` columns are left-aligned text.
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>], left: usize, scroll: bool) {
        if scroll {
            self.body.push_str(r#"<div class="scroll">"#);
        }
        self.body.push_str("<table><thead><tr>");
        for (i, h) in headers.iter().enumerate() {
            let class = if i < left { r#" class="l""# } else { "" };
            let _ = write!(self.body, "<th{class}>{}</th>", esc(h));
        }
        self.body.push_str("</tr></thead><tbody>");
        for row in rows {
            self.body.push_str("<tr>");
            for (i, cell) in row.iter().enumerate() {
                let class = if i < left { r#" class="l""# } else { "" };
                let _ = write!(self.body, "<td{class}>{}</td>", esc(cell));
            }
            self.body.push_str("</tr>");
        }
        self.body.push_str("</tbody></table>");
        if scroll {
            self.body.push_str("</div>");
        }
    }

    /// The whole document, and the charts in page order.
    pub fn finish(mut self, title: &str, subtitle: &str) -> (String, Vec<Chart>) {
        if !self.body.is_empty() {
            self.body.push_str("</section>");
        }
        let html = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\">\
<title>{t}</title><style>{CSS}</style></head><body><header><h1>{t}</h1><p>{s}</p></header><main>\
<p class=\"hint\">Click a legend entry to hide or show its series; hover a line or a trade marker for details.</p>{b}</main>\
<script>{SCRIPT}</script></body></html>\n",
            t = esc(title),
            s = esc(subtitle),
            b = self.body
        );
        (html, self.charts)
    }
}

/// A number with `decimals` decimals, `-` when absent or not finite.
pub fn num(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.decimals$}"),
        _ => "-".to_string(),
    }
}

/// A gene value: whole numbers without decimals, others with up to 6.
pub fn gene(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
