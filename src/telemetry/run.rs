//! `RunTelemetry`: the metrics of one `evolve` process, its `/metrics` endpoint, and what the run reports into them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use evoflow_dataflows::{EvaluationObserver, GenerationReport, StopReason};

use crate::strategy::Genome;

use super::error::TelemetryError;
use super::held_out::{HeldOut, HeldOutScorer};
use super::observer::WorkerMetrics;
use super::registry::{status, Metrics};
use super::server::MetricsServer;

/// What the metrics of a run's process are labelled with.
#[derive(Debug, Clone)]
pub struct RunLabels {
    /// The build (`evoflow_build_info{version}`).
    pub version: String,
    /// The run id this process was given or generated.
    pub run_id: String,
    /// This process's index (0 is the coordinator).
    pub process: usize,
    /// Worker threads of this process.
    pub workers: usize,
    /// Generations the run is planned to reach.
    pub generations_planned: u64,
    /// The families evolved, in niche order (`family` label values).
    pub families: Vec<String>,
}

/// The coordinator's memory between generations.
#[derive(Default)]
struct Previous {
    /// `elapsed` of the previous generation's statistics.
    elapsed: Duration,
    /// The best genome last handed to the held-out scorer.
    scored: Option<Genome>,
}

/// The telemetry of one process of a run: its registry, served at `/metrics` from
/// [`RunTelemetry::start`] until the process exits.
pub struct RunTelemetry {
    metrics: Metrics,
    server: MetricsServer,
    families: Vec<String>,
    coordinator: bool,
    held_out: Option<HeldOutScorer>,
    previous: Mutex<Previous>,
    /// Scrapes begun when the run's end was reported: one begun later saw the final state.
    ended_mark: AtomicU64,
}

impl RunTelemetry {
    /// Registers the metrics of the process `labels` describe and serves them on `addr`
    /// (`HOST:PORT`, port 0 picks a free port); with `held_out` (the coordinator), each
    /// generation's best genome is scored on the held-out bars. Errors for a bad or busy
    /// address.
    pub fn start(
        addr: &str,
        labels: &RunLabels,
        held_out: Option<HeldOut>,
    ) -> Result<Arc<RunTelemetry>, TelemetryError> {
        let metrics = Metrics::new(&labels.version, &labels.run_id, labels.process)?;
        metrics
            .generations_planned
            .set(i64::try_from(labels.generations_planned).unwrap_or(i64::MAX));
        metrics.workers.set(labels.workers as i64);
        for family in &labels.families {
            metrics.family_size.with_label_values(&[family]).set(0);
        }
        let server = MetricsServer::start(addr, metrics.clone())?;
        let held_out = held_out
            .map(|h| HeldOutScorer::spawn(h, metrics.fitness_test_best.clone()))
            .transpose()?;
        Ok(Arc::new(RunTelemetry {
            metrics,
            server,
            families: labels.families.clone(),
            coordinator: labels.process == 0,
            held_out,
            previous: Mutex::default(),
            ended_mark: AtomicU64::new(u64::MAX),
        }))
    }

    /// The scrape URL, e.g. `http://127.0.0.1:9464/metrics`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The registry (for tests and benches).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The observer to give the dataflow ([`evoflow_dataflows::Connection::observe`]): the
    /// workers of this process publish their counters once per generation; on processes
    /// other than the coordinator they also set `evoflow_generation`.
    pub fn observer(&self) -> Arc<dyn EvaluationObserver> {
        Arc::new(WorkerMetrics::new(
            self.metrics.clone(),
            self.families.clone(),
            !self.coordinator,
        ))
    }

    /// Every process of the run has connected: `peers` others.
    pub fn connected(&self, peers: usize) {
        self.metrics.peers_connected.set(peers as i64);
    }

    /// A generation is complete (the coordinator's per-generation callback).
    pub fn generation(&self, report: &GenerationReport<Genome>) {
        let stats = &report.stats;
        let m = &self.metrics;
        m.generation.set(i64::try_from(stats.generation).unwrap_or(i64::MAX));
        m.fitness_best.set(stats.best.value());
        m.fitness_mean.set(stats.mean);
        for (niche, family) in self.families.iter().enumerate() {
            let count = stats
                .niches
                .iter()
                .find(|n| n.niche as usize == niche)
                .map_or(0, |n| n.count);
            m.family_size.with_label_values(&[family]).set(count as i64);
        }
        let Ok(mut previous) = self.previous.lock() else { return };
        m.generation_duration
            .observe(stats.elapsed.saturating_sub(previous.elapsed).as_secs_f64());
        previous.elapsed = stats.elapsed;
        let best = report.population.first().map(|s| &s.genome);
        if let (Some(best), Some(scorer)) = (best, self.held_out.as_ref()) {
            if previous.scored.as_ref() != Some(best) && scorer.score(best) {
                previous.scored = Some(best.clone());
            }
        }
    }

    /// A generation was stored in `took`, with the checkpoint that resumes the run at
    /// generation `checkpoint_generation`.
    pub fn stored(&self, checkpoint_generation: u64, took: Duration) {
        self.metrics.storage_write_duration.observe(took.as_secs_f64());
        self.metrics
            .checkpoint_generation
            .set(i64::try_from(checkpoint_generation).unwrap_or(i64::MAX));
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        self.metrics.checkpoint_timestamp.set(now.as_secs_f64());
    }

    /// The dataflow ended: completed, interrupted (`stop`), or failed (`None`).
    pub fn ended(&self, stop: Option<&StopReason>) {
        let value = match stop {
            Some(StopReason::Interrupted { .. }) => status::INTERRUPTED,
            Some(_) => status::COMPLETED,
            None => status::FAILED,
        };
        self.metrics.run_status.set(value);
        self.ended_mark.store(self.server.scrapes_begun(), Ordering::SeqCst);
    }

    /// The process is about to exit: a run that did not report its end failed. Waits until
    /// a scrape has seen the final state (one begun after the end was reported), at most
    /// `linger`; returns whether one did.
    pub fn finish(&self, linger: Duration) -> bool {
        if self.metrics.run_status.get() == status::RUNNING {
            self.ended(None);
        }
        self.server
            .wait_for_scrape_after(self.ended_mark.load(Ordering::SeqCst), linger)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_reports_no_end_is_failed_and_ends_are_mapped() {
        let labels = RunLabels {
            version: "v".into(),
            run_id: "r".into(),
            process: 1,
            workers: 2,
            generations_planned: 5,
            families: vec!["a".into()],
        };
        let t = RunTelemetry::start("127.0.0.1:0", &labels, None).unwrap();
        assert!(t.url().starts_with("http://127.0.0.1:"));
        assert_eq!(t.metrics().run_status.get(), status::RUNNING);
        assert!(!t.finish(Duration::ZERO), "nobody scraped");
        assert_eq!(t.metrics().run_status.get(), status::FAILED);
        t.ended(Some(&StopReason::Interrupted { signal: 15 }));
        assert_eq!(t.metrics().run_status.get(), status::INTERRUPTED);
        t.ended(Some(&StopReason::Patience));
        assert_eq!(t.metrics().run_status.get(), status::COMPLETED);
        // A scrape after the end, before `finish`, is the final scrape.
        let mut stream =
            std::net::TcpStream::connect(t.url().trim_start_matches("http://").trim_end_matches("/metrics")).unwrap();
        std::io::Write::write_all(&mut stream, b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stream, &mut text).unwrap();
        assert!(text.contains("evoflow_run_status 1\n"), "{text}");
        assert!(t.finish(Duration::from_secs(30)));
        assert_eq!(t.metrics().run_status.get(), status::COMPLETED);
        assert_eq!(t.metrics().generations_planned.get(), 5);
    }
}
