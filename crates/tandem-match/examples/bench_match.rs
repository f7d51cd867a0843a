//! Tandem's side of the screening benchmark (bench/match/run.sh runs it next to nomenklatura's
//! logic-v2). Each command prints a human summary to stderr and, with `--json FILE`, writes its
//! figures for the report; some also write the inputs the Python side rescored.
//!
//!   bench_match pairs FILE.csv [--repeat N] [--scores OUT] [--json OUT]
//!   bench_match perturb [--seed S] [--persons N] [--entities N] [--show CLASS] [--dump DIR] [--json OUT]
//!   bench_match negatives FILE.csv [--qualifiers] [--top N] [--show GROUP|all] [--scores OUT] [--dump DIR] [--json OUT]
//!   bench_match batch FILE.csv [--json OUT]
//!   bench_match scripts [--show-all] [--json OUT]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use serde_json::json;
use tandem_core::Entity;
use tandem_match::eval::{self, Perturbation, PerturbationClass};
use tandem_match::{CandidateIndex, IndexConfig, MatchConfig, Subject, screen_batch};

// The allocator of the `tandem` binary, which screens in production.
#[path = "../../tandem/src/allocator.rs"]
mod allocator;
#[global_allocator]
static ALLOCATOR: allocator::Allocator = allocator::Allocator;

type Failure = Box<dyn std::error::Error>;

struct Args(Vec<String>);

impl Args {
    fn value(&self, flag: &str) -> Option<&str> {
        let i = self.0.iter().position(|a| a == flag)?;
        self.0.get(i + 1).map(String::as_str)
    }
    fn number(&self, flag: &str, default: usize) -> usize {
        self.value(flag)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
    fn flag(&self, flag: &str) -> bool {
        self.0.iter().any(|a| a == flag)
    }
    fn positional(&self, n: usize) -> Option<&str> {
        let mut skip = false;
        let mut seen = 0;
        for a in &self.0 {
            if skip {
                skip = false;
                continue;
            }
            if a.starts_with("--") {
                skip = !matches!(a.as_str(), "--qualifiers" | "--show-all");
                continue;
            }
            if seen == n {
                return Some(a);
            }
            seen += 1;
        }
        None
    }
}

/// CPU time of this thread (Linux), so that timings hold on a loaded machine; falls back to
/// wall-clock time elsewhere.
struct Clock {
    wall: Instant,
    cpu: Option<f64>,
}

fn thread_cpu() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: thread_cpu(),
        }
    }
    /// (cpu seconds, wall seconds)
    fn stop(&self) -> (f64, f64) {
        let wall = self.wall.elapsed().as_secs_f64();
        let cpu = self.cpu.zip(thread_cpu()).map_or(wall, |(a, b)| b - a);
        (cpu, wall)
    }
}

fn write_json(args: &Args, value: &serde_json::Value) -> Result<(), Failure> {
    if let Some(path) = args.value("--json") {
        std::fs::write(path, serde_json::to_string_pretty(value)?)?;
    }
    Ok(())
}

fn sdn_and_un() -> Vec<Entity> {
    let mut entities =
        common::ofac_entities("ofac/sdn_2024-05-03.csv", Some("ofac/alt_2025-12.csv"));
    entities.extend(common::un_records_with(false).into_iter().map(|r| r.entity));
    entities
}

fn build_index(entities: Vec<Entity>) -> (CandidateIndex, f64) {
    let started = Instant::now();
    let (index, errors) = CandidateIndex::build(entities, IndexConfig::default());
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "index: {} entities, {} keys, {} skipped, built in {seconds:.2} s",
        index.len(),
        index.key_count(),
        errors.len()
    );
    (index, seconds)
}

fn pairs(args: &Args) -> Result<(), Failure> {
    let path = args.positional(1).ok_or("pairs FILE.csv")?;
    let pairs = eval::read_labelled_pairs(File::open(path)?, path)?;
    let config = MatchConfig::default();
    let report = eval::evaluate_pairs(&pairs, &config, 0.7, path)?;
    // Time the full path of one comparison: both names analysed from entities, then scored.
    let entities: Vec<(Entity, Entity)> = pairs
        .iter()
        .map(|p| {
            Ok((
                eval::name_entity(&p.schema, "q", &p.name1)?,
                eval::name_entity(&p.schema, "c", &p.name2)?,
            ))
        })
        .collect::<Result<_, tandem_core::EntityError>>()?;
    let repeat = args.number("--repeat", 200);
    let mut checksum = 0.0;
    let clock = Clock::start();
    for _ in 0..repeat {
        for (q, c) in &entities {
            let (q, c) = (Subject::from_entity(q)?, Subject::from_entity(c)?);
            checksum += tandem_match::score(&q, &c, &config, 0.7).score;
        }
    }
    let timed = (repeat * entities.len()) as f64;
    let (cpu, wall) = clock.stop();
    let (us_per_pair, us_per_pair_wall) = (cpu * 1e6 / timed, wall * 1e6 / timed);
    // And scoring alone, names analysed once (what the index does per candidate).
    let subjects: Vec<(Subject, Subject)> = entities
        .iter()
        .map(|(q, c)| Ok((Subject::from_entity(q)?, Subject::from_entity(c)?)))
        .collect::<Result<_, tandem_match::MatchError>>()?;
    let clock = Clock::start();
    for _ in 0..repeat {
        for (q, c) in &subjects {
            checksum += tandem_match::score(q, c, &config, 0.7).score;
        }
    }
    let us_scoring_only = clock.stop().0 * 1e6 / timed;
    // `--scores FILE`: every pair's score in full, to check that an optimisation changed none.
    if let Some(path) = args.value("--scores") {
        let mut out = BufWriter::new(File::create(path)?);
        for (q, c) in &subjects {
            writeln!(out, "{:?}", tandem_match::score(q, c, &config, 0.7).score)?;
        }
    }
    let m = &report.overall;
    eprintln!(
        "pairs: TP {} FP {} TN {} FN {} precision {:.3} recall {:.3} F1 {:.3}; {us_per_pair:.2} µs CPU a pair ({us_per_pair_wall:.2} µs wall; {us_scoring_only:.2} µs scoring pre-analysed names) [checksum {checksum:.9}]",
        m.tp, m.fp, m.tn, m.fn_, m.precision, m.recall, m.f1
    );
    write_json(
        args,
        &json!({
            "report": report,
            "us_per_pair": us_per_pair,
            "us_per_pair_wall": us_per_pair_wall,
            "us_scoring_only": us_scoring_only,
            "pairs_timed": repeat * entities.len(),
        }),
    )
}

fn entity_json(e: &Entity) -> serde_json::Value {
    json!({"id": e.id, "schema": e.schema, "properties": e.properties})
}

fn perturb(args: &Args) -> Result<(), Failure> {
    let seed = args.number("--seed", 20260227) as u64;
    let persons = args.number("--persons", 1000);
    let orgs = args.number("--entities", 500);
    let ofac = common::ofac_entities("ofac/sdn_2024-05-03.csv", Some("ofac/alt_2025-12.csv"));
    let un = common::un_records_with(false);
    let mut sampled: Vec<(&Entity, String)> = Vec::new();
    for (schema, count) in [("Person", persons), ("Organization", orgs)] {
        let mut of_schema: Vec<&Entity> = ofac.iter().filter(|e| e.schema == schema).collect();
        of_schema.sort_by_key(|e| eval::sample_key(seed, &e.id));
        sampled.extend(
            of_schema
                .into_iter()
                .take(count)
                .map(|e| (e, e.first("name").unwrap_or("").to_string())),
        );
    }
    sampled.extend(un.iter().map(|r| (&r.entity, r.latin_name.clone())));
    let mut perturbations: Vec<Perturbation> = Vec::new();
    for (entity, name) in &sampled {
        perturbations.extend(eval::perturb(
            &entity.id,
            &entity.schema,
            name,
            entity.schema == "Person",
            seed,
        ));
    }
    // The UN's original-script names, as written in Arabic or Cyrillic, are queries too.
    for record in &un {
        if let Some(original) = &record.original_script {
            perturbations.push(Perturbation {
                class: PerturbationClass::Transliteration,
                entity_id: record.entity.id.clone(),
                schema: record.entity.schema.clone(),
                original: record.latin_name.clone(),
                perturbed: original.clone(),
            });
        }
    }
    let mut entities = ofac.clone();
    entities.extend(un.iter().map(|r| r.entity.clone()));
    let (index, _) = build_index(entities);
    let config = MatchConfig::default();
    let started = Instant::now();
    let report = eval::evaluate_perturbations(&perturbations, &index, &config, 0.7, 10);
    eprintln!(
        "perturbations: {} screened in {:.1} s",
        perturbations.len(),
        started.elapsed().as_secs_f64()
    );
    // Pairwise recall: each perturbed name against its own source entity, as the Python side
    // measures it.
    let mut pairwise: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for p in &perturbations {
        let found = eval::name_entity(&p.schema, "perturbed", &p.perturbed)
            .ok()
            .and_then(|q| Subject::from_entity(&q).ok())
            .zip(index.subject(&p.entity_id))
            .is_some_and(|(q, c)| tandem_match::score(&q, c, &config, 0.7).is_match);
        let entry = pairwise.entry(p.class.name()).or_default();
        entry.0 += 1;
        entry.1 += u64::from(found);
        // `--show CLASS` prints every pairwise miss of a class with its alignment.
        if !found && args.value("--show") == Some(p.class.name()) {
            let detail = eval::name_entity(&p.schema, "perturbed", &p.perturbed)
                .ok()
                .and_then(|q| Subject::from_entity(&q).ok())
                .zip(index.subject(&p.entity_id))
                .map(|(q, c)| {
                    let s = tandem_match::score(&q, c, &config, 0.7);
                    let name = s.explanations.get("name_match");
                    format!(
                        "{:.3} {} | {}",
                        s.score,
                        name.map_or("", |e| e.candidate.as_str()),
                        name.map_or("", |e| e.detail.as_str())
                    )
                })
                .unwrap_or_default();
            eprintln!("  miss {} <- {}: {detail}", p.perturbed, p.original);
        }
    }
    eprintln!(
        "{:24} {:>6} {:>9} {:>8} {:>9}",
        "class", "n", "recall", "rank-1", "pairwise"
    );
    for (class, r) in &report.by_class {
        let (n, found) = pairwise.get(class.as_str()).copied().unwrap_or_default();
        eprintln!(
            "{class:24} {:>6} {:>9.3} {:>8.3} {:>9.3}",
            r.n,
            r.recall,
            r.rank1_rate,
            found as f64 / n.max(1) as f64
        );
        for miss in r.misses.iter().take(3) {
            eprintln!("    miss: {miss}");
        }
    }
    if let Some(dir) = args.value("--dump") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        let mut out = BufWriter::new(File::create(dir.join("perturbations.jsonl"))?);
        for p in &perturbations {
            writeln!(out, "{}", serde_json::to_string(p)?)?;
        }
        let mut out = BufWriter::new(File::create(dir.join("perturbation_sources.jsonl"))?);
        let mut written = std::collections::HashSet::new();
        for p in &perturbations {
            if written.insert(p.entity_id.clone())
                && let Some(e) = index.get(&p.entity_id)
            {
                writeln!(out, "{}", entity_json(e))?;
            }
        }
    }
    let pairwise_json: BTreeMap<&str, serde_json::Value> = pairwise
        .iter()
        .map(|(k, (n, f))| {
            (
                *k,
                json!({"n": n, "found": f, "recall": *f as f64 / (*n).max(1) as f64}),
            )
        })
        .collect();
    write_json(args, &json!({"search": report, "pairwise": pairwise_json}))
}

fn negatives(args: &Args) -> Result<(), Failure> {
    let file = args.positional(1).ok_or("negatives FILE.csv")?;
    let qualifiers = args.flag("--qualifiers");
    let queries = common::negatives(file, qualifiers);
    let (index, build_seconds) = build_index(sdn_and_un());
    let config = MatchConfig::default();
    let started = Instant::now();
    let report = eval::false_positive_rate(&queries, &index, &config, 0.7);
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "negatives ({}): {} rows, {} alerted, {:.2} per 1,000 [{:.2}, {:.2}], {seconds:.1} s",
        if qualifiers {
            "with birth date and nationality"
        } else {
            "name only"
        },
        report.overall.rows,
        report.overall.alerted,
        report.overall.per_1000,
        report.overall.wilson_low * 1000.0,
        report.overall.wilson_high * 1000.0
    );
    for (group, r) in &report.by_group {
        eprintln!(
            "  {group:12} {:>6} rows {:>5} alerted {:>7.2} per 1,000",
            r.rows, r.alerted, r.per_1000
        );
    }
    for (q, c, s) in report.examples.iter().take(10) {
        eprintln!("    alert {s:.3}: {q} -> {c}");
    }
    // `--scores FILE`: each query's best score and candidate, to compare two builds.
    if let Some(path) = args.value("--scores") {
        let mut out = BufWriter::new(File::create(path)?);
        for q in &queries {
            let best = Subject::from_entity(&q.entity)
                .ok()
                .and_then(|s| index.screen(&s, &config, 0.7, 1).into_iter().next());
            match best {
                Some(hit) => writeln!(out, "{} {:?}", hit.entity_id, hit.score.score)?,
                None => writeln!(out, "-")?,
            }
        }
    }
    // `--show GROUP` (or `all`) prints every alert of a script group with its name alignment.
    if let Some(show) = args.value("--show") {
        for q in queries.iter().filter(|q| show == "all" || q.group == show) {
            let Ok(subject) = Subject::from_entity(&q.entity) else {
                continue;
            };
            for hit in index.screen(&subject, &config, 0.7, 1) {
                if let Some(name) = hit.score.explanations.get("name_match")
                    && hit.score.is_match
                {
                    eprintln!(
                        "  alert {} {:.3} {} -> {} | {}",
                        q.group, hit.score.score, name.query, name.candidate, name.detail
                    );
                }
            }
        }
    }
    if let Some(dir) = args.value("--dump") {
        let top = args.number("--top", 50);
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        let mut out = BufWriter::new(File::create(dir.join("negative_candidates.jsonl"))?);
        let mut needed = std::collections::HashSet::new();
        for q in &queries {
            let Ok(subject) = Subject::from_entity(&q.entity) else {
                continue;
            };
            let ids = index.candidate_ids(&subject, top);
            needed.extend(ids.iter().map(|s| s.to_string()));
            writeln!(
                out,
                "{}",
                json!({"group": q.group, "query": entity_json(&q.entity), "candidates": ids})
            )?;
        }
        let mut out = BufWriter::new(File::create(dir.join("list_entities.jsonl"))?);
        for e in index.entities() {
            if needed.contains(&e.id) {
                writeln!(out, "{}", entity_json(e))?;
            }
        }
    }
    write_json(
        args,
        &json!({"report": report, "qualifiers": qualifiers, "seconds": seconds, "index_build_seconds": build_seconds}),
    )
}

fn batch(args: &Args) -> Result<(), Failure> {
    let file = args.positional(1).ok_or("batch FILE.csv")?;
    let queries: Vec<Entity> = common::negatives(file, true)
        .into_iter()
        .map(|q| q.entity)
        .collect();
    let (index, build_seconds) = build_index(sdn_and_un());
    let started = Instant::now();
    let results = screen_batch(&queries, &index, 0.7, 5);
    let seconds = started.elapsed().as_secs_f64();
    let errors = results.iter().filter(|r| r.is_err()).count();
    let per_second = queries.len() as f64 / seconds;
    eprintln!(
        "batch: {} queries against {} entities in {seconds:.2} s on {} threads ({per_second:.0} queries/s, {errors} errors)",
        queries.len(),
        index.len(),
        rayon::current_num_threads()
    );
    write_json(
        args,
        &json!({"queries": queries.len(), "seconds": seconds, "per_second": per_second, "threads": rayon::current_num_threads(), "index_build_seconds": build_seconds}),
    )
}

/// Cross-script figures (screening spec, section 4.4): UN original-script names against their
/// Latin records, and the 81 spellings of Putin.
fn scripts(args: &Args) -> Result<(), Failure> {
    let show = args.flag("--show-all");
    let un = common::cross_script::un_original_script();
    if show {
        un.missed.iter().for_each(|m| eprintln!("    miss {m}"));
        un.hard_negatives
            .iter()
            .for_each(|w| eprintln!("    wrong {w}"));
    }
    let recall = un.found as f64 / un.positives.max(1) as f64;
    eprintln!(
        "UN original-script names: {} of {} found at 0.7 (recall {recall:.3}), {} alerts on other records of the same regime",
        un.found,
        un.positives,
        un.hard_negatives.len()
    );
    let (variants, missed) = common::cross_script::putin_spellings();
    if show {
        missed.iter().for_each(|m| eprintln!("    miss {m}"));
    }
    let putin_found = variants - missed.len();
    let putin_recall = putin_found as f64 / variants.max(1) as f64;
    eprintln!(
        "Putin spellings: {putin_found} of {variants} found at 0.7 (recall {putin_recall:.3})"
    );
    write_json(
        args,
        &json!({"un_original_script": {"positives": un.positives, "found": un.found, "recall": recall, "hard_negative_alerts": un.hard_negatives.len()},
                "putin": {"variants": variants, "found": putin_found, "recall": putin_recall}}),
    )
}

fn main() -> ExitCode {
    let args = Args(std::env::args().skip(1).collect());
    let result = match args.positional(0) {
        Some("pairs") => pairs(&args),
        Some("perturb") => perturb(&args),
        Some("negatives") => negatives(&args),
        Some("batch") => batch(&args),
        Some("scripts") => scripts(&args),
        _ => Err("usage: bench_match pairs|perturb|negatives|batch|scripts …".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
