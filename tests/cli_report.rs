//! `evoflow report`, `evolve --report` and `backtest --plot` end to end: the pages open in headless Chromium without console errors and every chart has data.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it); without it the tests fail and say how
//! to install it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_evoflow");

/// The charts of a run's report, in page order.
const RUN_CHARTS: [&str; 6] = [
    "equity-train",
    "equity-test",
    "drawdown",
    "fitness",
    "families",
    "price",
];

fn evoflow(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("running evoflow")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "evoflow failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What headless Chromium made of a page.
struct Rendered {
    /// The DOM after the page's script ran.
    dom: String,
    /// Console messages (script errors, blocked network requests, ...).
    console: Vec<String>,
    screenshot: PathBuf,
}

/// Opens `page` in headless Chromium, dumps its DOM and takes a screenshot into `dir`.
fn chromium(page: &Path, dir: &Path) -> Rendered {
    let screenshot = dir.join(format!("{}.png", page.file_stem().unwrap().to_string_lossy()));
    let profile = tempfile::tempdir_in(dir).unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            "--window-size=1100,2400",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.canonicalize().unwrap().display()))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `chromium` ({e}); these tests need it: install it with \
                 `apt-get update && apt-get install -y chromium`"
            )
        });
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    Rendered {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console,
        screenshot,
    }
}

/// The `data-points` of every series drawn in the chart `id` of a DOM.
fn series_points(dom: &str, id: &str) -> Vec<usize> {
    let start = dom
        .find(&format!(r#"data-chart="{id}""#))
        .unwrap_or_else(|| panic!("chart `{id}` is missing"));
    let end = start + dom[start..].find("</svg>").expect("an unclosed chart");
    dom[start..end]
        .split(r#"data-points=""#)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// Asserts that Chromium rendered `page` with no console message, that every chart of
/// `charts` (and no other) is there with at least `min_series` series of 2 or more points,
/// and that a screenshot was taken.
fn assert_renders(page: &Path, dir: &Path, charts: &[(&str, usize)]) -> Rendered {
    let r = chromium(page, dir);
    assert!(r.console.is_empty(), "console messages:\n{}", r.console.join("\n"));
    // The page's script ran to its end and counted the charts.
    assert!(
        r.dom.contains(&format!(r#"data-charts="{}""#, charts.len())),
        "the page's script did not count {} charts",
        charts.len()
    );
    assert_eq!(
        r.dom
            .matches(r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart""#)
            .count(),
        charts.len()
    );
    for (id, min_series) in charts {
        let points = series_points(&r.dom, id);
        let with_data = points.iter().filter(|&&n| n >= 2).count();
        assert!(
            with_data >= *min_series,
            "chart `{id}`: series points {points:?}, want {min_series} with data"
        );
    }
    let png = std::fs::read(&r.screenshot).expect("no screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "screenshot of {} bytes is too small to show charts",
        png.len()
    );
    r
}

/// The page loads nothing: no address other than SVG's namespace, no external resources.
fn assert_self_contained(html: &str) {
    let without_ns = html.replace("http://www.w3.org/2000/svg", "");
    for needle in ["http://", "https://", " src=", "<link rel=\"stylesheet\"", "@import"] {
        assert!(!without_ns.contains(needle), "the page contains `{needle}`");
    }
}

#[test]
fn console_errors_and_network_requests_are_caught() {
    // The checks above would be worthless if Chromium's console never reached them.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         script-src 'unsafe-inline'\"></head><body><script>throw new Error('boom')</script></body></html>",
    )
    .unwrap();
    let r = chromium(&page, dir.path());
    assert!(r.console.iter().any(|l| l.contains("boom")), "{:?}", r.console);
}

#[test]
fn a_runs_report_shows_every_chart_in_chromium_and_as_png() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.duckdb");
    let db_s = db.to_str().unwrap();
    let from_evolve = dir.path().join("evolve.html");
    ok(&evoflow(&[
        "evolve",
        "--data",
        "sample:goog-1d",
        "--seeds",
        "ema_crossover,rsi_filter,bollinger_bands,donchian_breakout",
        "--population",
        "24",
        "--generations",
        "4",
        "--min-trades",
        "3",
        "--run-id",
        "r1",
        "--json",
        "-w",
        "1",
        "--db",
        db_s,
        "--report",
        from_evolve.to_str().unwrap(),
    ]));
    let page = dir.path().join("report.html");
    let png_dir = dir.path().join("png");
    ok(&evoflow(&[
        "report",
        "r1",
        "--db",
        db_s,
        "--out",
        page.to_str().unwrap(),
        "--png",
        png_dir.to_str().unwrap(),
    ]));
    let html = std::fs::read_to_string(&page).unwrap();
    // The report is a function of the stored run: `evolve --report` wrote the same page.
    assert_eq!(html, std::fs::read_to_string(&from_evolve).unwrap());
    assert_self_contained(&html);
    for part in [
        "Top strategies",
        "Best strategy",
        "closed trades",
        "Overfitting",
        "sharpe_ratio",
    ] {
        assert!(html.contains(part), "the report lacks `{part}`");
    }
    // Up to 5 strategies and Buy & Hold on each equity chart; 4 families stacked.
    let r = assert_renders(
        &page,
        dir.path(),
        &[
            ("equity-train", 2),
            ("equity-test", 2),
            ("drawdown", 2),
            ("fitness", 2),
            ("families", 4),
            ("price", 1),
        ],
    );
    assert!(
        r.dom.contains(r#"class="marker""#),
        "no trade markers on the price chart"
    );
    for id in RUN_CHARTS {
        let png = std::fs::read(png_dir.join(format!("{id}.png"))).unwrap_or_else(|e| panic!("{id}.png: {e}"));
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{id}.png");
        assert!(png.len() > 10_000, "{id}.png has {} bytes", png.len());
    }
    assert_eq!(std::fs::read_dir(&png_dir).unwrap().count(), RUN_CHARTS.len());
}

#[test]
fn the_default_runs_report_is_under_2_mb() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.duckdb");
    let page = dir.path().join("default.html");
    // `evolve` with its defaults (all families, 96 × 25 on the hourly sample).
    ok(&evoflow(&[
        "evolve",
        "--json",
        "--run-id",
        "default",
        "--db",
        db.to_str().unwrap(),
        "--report",
        page.to_str().unwrap(),
    ]));
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 2_000_000, "the default run's report has {size} bytes");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    assert_renders(
        &page,
        dir.path(),
        &[
            ("equity-train", 2),
            ("equity-test", 2),
            ("drawdown", 2),
            ("fitness", 2),
            ("families", 5),
            ("price", 1),
        ],
    );
}

#[test]
fn a_backtest_plot_opens_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("plot.html");
    ok(&evoflow(&[
        "backtest",
        "--data",
        "sample:goog-1d",
        "--strategy",
        "sma_crossover",
        "--param",
        "fast=10",
        "--param",
        "slow=20",
        "--plot",
        page.to_str().unwrap(),
    ]));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    assert!(html.contains("fast") && html.contains("sharpe_ratio") && html.contains("closed trades"));
    let r = assert_renders(&page, dir.path(), &[("equity", 2), ("drawdown", 2), ("price", 1)]);
    assert!(
        r.dom.contains(r#"class="marker""#),
        "no trade markers on the price chart"
    );
}

#[test]
fn bad_runs_and_data_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.duckdb");
    let db_s = db.to_str().unwrap();
    let out_s = dir.path().join("r.html");
    let out_s = out_s.to_str().unwrap();
    ok(&evoflow(&[
        "evolve",
        "--data",
        "sample:goog-1d",
        "--seeds",
        "ema_crossover",
        "--population",
        "8",
        "--generations",
        "2",
        "--min-trades",
        "1",
        "--run-id",
        "r1",
        "--json",
        "-w",
        "1",
        "--db",
        db_s,
    ]));
    let missing = evoflow(&["report", "nope", "--db", db_s, "--out", out_s]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no run `nope`"));
    let other = evoflow(&[
        "report",
        "r1",
        "--db",
        db_s,
        "--out",
        out_s,
        "--data",
        "sample:eurusd-1h",
    ]);
    assert_eq!(
        other.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    assert!(
        String::from_utf8_lossy(&other.stderr).contains("was run on market data"),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    assert!(!Path::new(out_s).exists(), "a failed report wrote a file");
    let unwritable = evoflow(&["report", "r1", "--db", db_s, "--out", "/nonexistent/dir/r.html"]);
    assert_eq!(unwritable.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unwritable.stderr).contains("/nonexistent/dir/r.html"));
}
