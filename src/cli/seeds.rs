//! `evoflow seeds`: lists the genetic seeds, their type, rule and genes (text or `--json`).

use evoflow::seeds::all_seeds;
use evoflow::strategy::Strategy;
use serde::Serialize;

/// Flags of `evoflow seeds`.
#[derive(clap::Args, Debug)]
pub struct SeedsArgs {
    /// Print a JSON array of `{"name", "type", "doc", "genes": [{"name", "min", "max", "default", "integer"}]}`.
    #[arg(long)]
    pub json: bool,
}

/// One seed as printed by `--json`.
#[derive(Serialize)]
struct SeedJson {
    name: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    doc: &'static str,
    needs_funding: bool,
    genes: &'static [evoflow::strategy::GeneSpec],
}

/// Runs `evoflow seeds`.
pub fn run(args: SeedsArgs) -> anyhow::Result<()> {
    let seeds = all_seeds();
    let mut text = String::new();
    if args.json {
        let list: Vec<SeedJson> = seeds.iter().map(|s| to_json(*s)).collect();
        text = serde_json::to_string_pretty(&list)?;
        text.push('\n');
    } else {
        use std::fmt::Write as _;
        for s in &seeds {
            let funding = if s.needs_funding() { ", needs funding data" } else { "" };
            writeln!(text, "{} ({}{})", s.name(), s.kind().as_str(), funding)?;
            writeln!(text, "  {}", s.doc())?;
            for g in s.genes() {
                let kind = if g.integer { "int " } else { "real" };
                writeln!(
                    text,
                    "    {:<26} {kind} {:>8} .. {:<8} default {}",
                    g.name, g.min, g.max, g.default
                )?;
            }
            writeln!(text)?;
        }
    }
    // A closed pipe (`evoflow seeds | head`) is not an error worth a panic or a message.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn to_json(s: &'static dyn Strategy) -> SeedJson {
    SeedJson {
        name: s.name(),
        kind: s.kind().as_str(),
        doc: s.doc(),
        needs_funding: s.needs_funding(),
        genes: s.genes(),
    }
}
