//! Prints precision, recall and F1 of Tandem's scorer on a labelled pairs file, and with
//! `--errors` every misclassified pair with its alignment.
//!
//!   cargo run --release -p tandem-match --example eval_pairs -- FILE.csv [--threshold 0.7] [--errors] [--json]

use std::fs::File;
use std::process::ExitCode;

use tandem_match::MatchConfig;
use tandem_match::eval::{evaluate_pairs, read_labelled_pairs};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args
        .iter()
        .find(|a| !a.starts_with("--") && a.parse::<f64>().is_err())
    else {
        eprintln!("usage: eval_pairs FILE.csv [--threshold T] [--errors] [--json]");
        return ExitCode::from(2);
    };
    let threshold = args
        .iter()
        .position(|a| a == "--threshold")
        .and_then(|i| args.get(i + 1))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0.7);
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
        let pairs = read_labelled_pairs(file, path)?;
        let report = evaluate_pairs(&pairs, &MatchConfig::default(), threshold, path)?;
        if args.iter().any(|a| a == "--json") {
            println!("{}", serde_json::to_string_pretty(&report)?);
            return Ok(());
        }
        let m = &report.overall;
        println!(
            "threshold {threshold}: TP {} FP {} TN {} FN {}  precision {:.3} recall {:.3} F1 {:.3}",
            m.tp, m.fp, m.tn, m.fn_, m.precision, m.recall, m.f1
        );
        for (label, map) in [
            ("case_group", &report.by_case_group),
            ("schema", &report.by_schema),
            ("quality", &report.by_quality),
        ] {
            for (key, m) in map {
                println!(
                    "  {label:10} {key:28} TP {:3} FP {:3} TN {:3} FN {:3}  F1 {:.3}",
                    m.tp, m.fp, m.tn, m.fn_, m.f1
                );
            }
        }
        if args.iter().any(|a| a == "--errors") {
            for p in &report.pairs {
                if (p.score >= threshold) != p.is_match {
                    let kind = if p.is_match { "FN" } else { "FP" };
                    println!(
                        "{kind} {:.3} line {} | {} | {} | {}",
                        p.score, p.line, p.name1, p.name2, p.detail
                    );
                }
            }
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
