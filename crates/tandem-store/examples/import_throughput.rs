//! A quick look at import speed and memory, not a benchmark (that is `bench/import.sh`).
//!
//!   cargo run --release -p tandem-store --example import_throughput -- [--ordered] [ENTITIES] [URL]
//!
//! Imports ENTITIES generated FtM entities (default 200,000) as version 1 of a dataset, then a
//! second version where a tenth changed, a twentieth is gone and a twentieth is new, into URL
//! (default: a new SQLite file in a temporary directory). Ids come in no order (like hashed ids)
//! unless `--ordered` is given. Prints entities per second for each
//! and the process's peak resident memory.

use std::time::Instant;

use tandem_core::Entity;
use tandem_store::{ImportMode, ImportRequest, Store};

/// Ids arrive in no particular order, as OpenSanctions' hashed ids do: the number is scrambled
/// by a bijection of u64, so ids stay distinct. `--ordered` keeps them in order instead.
fn id(prefix: &str, i: u64, ordered: bool) -> String {
    if ordered {
        format!("{prefix}-{i:08}")
    } else {
        format!("{prefix}-{:x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
}

fn generated(i: u64, version: u32, ordered: bool) -> Option<Entity> {
    let changed = version > 1 && i % 10 == 3;
    let gone = version > 1 && i % 20 == 7;
    if gone {
        return None;
    }
    let entity = match i % 3 {
        0 => {
            let mut e = Entity::new("Person", id("person", i, ordered)).ok()?;
            e.add("name", &format!("Person Number {i}")).ok()?;
            e.add("alias", &format!("P. N. {i}")).ok()?;
            e.add(
                "birthDate",
                &format!("19{:02}-0{}-1{}", i % 100, 1 + i % 9, i % 10),
            )
            .ok()?;
            e.add("nationality", ["ly", "er", "ng", "it"][(i % 4) as usize])
                .ok()?;
            if changed {
                e.add("alias", "Changed Alias").ok()?;
            }
            e
        }
        1 => {
            let mut e = Entity::new("Company", id("company", i, ordered)).ok()?;
            e.add("name", &format!("Company {i} Trading Ltd")).ok()?;
            e.add("jurisdiction", "mt").ok()?;
            e.add("registrationNumber", &format!("C{i}")).ok()?;
            if changed {
                e.add("name", "Renamed Holding").ok()?;
            }
            e
        }
        _ => {
            let mut e = Entity::new("Ownership", format!("ownership-{i:08}")).ok()?;
            e.add("owner", &id("person", i - 2, ordered)).ok()?;
            e.add("asset", &id("company", i - 1, ordered)).ok()?;
            e.add("percentage", "51").ok()?;
            e
        }
    };
    Some(entity)
}

async fn import_version(
    store: &dyn Store,
    entities: u64,
    version: u32,
    ordered: bool,
) -> Result<(), String> {
    let started = Instant::now();
    let mut session = store
        .begin_import(ImportRequest {
            dataset: "synthetic".into(),
            title: None,
            version: format!("v{version}"),
            mode: ImportMode::Full,
            sensitivity: Default::default(),
            source: "generated".into(),
            owner_organisation: None,
        })
        .await
        .map_err(|e| e.to_string())?;
    let extra = if version > 1 { entities / 20 } else { 0 };
    let mut put = 0u64;
    for i in 0..entities + extra {
        if let Some(entity) = generated(i, version, ordered) {
            session.put(entity).await.map_err(|e| e.to_string())?;
            put += 1;
        }
    }
    let staged = started.elapsed().as_secs_f64();
    let summary = session.commit().await.map_err(|e| e.to_string())?;
    let total = started.elapsed().as_secs_f64();
    println!(
        "v{version}: {put} entities in {total:.2}s = {:.0} entities/s (staging {staged:.2}s, \
         commit {:.2}s); added {}, changed {}, kept {}, removed {}",
        put as f64 / total,
        total - staged,
        summary.added,
        summary.changed,
        summary.kept,
        summary.removed
    );
    Ok(())
}

fn peak_memory_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1).peekable();
    let ordered = args.next_if(|arg| arg == "--ordered").is_some();
    let entities: u64 = match args.next() {
        Some(n) => n.parse().map_err(|_| format!("not a number: {n}"))?,
        None => 200_000,
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let url = args
        .next()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("throughput.db").display()));

    let started = Instant::now();
    let generated_count = (0..entities)
        .filter_map(|i| generated(i, 1, ordered))
        .count();
    println!(
        "generating {generated_count} entities alone takes {:.2}s",
        started.elapsed().as_secs_f64()
    );

    let store = tandem_store::open(&url).await.map_err(|e| e.to_string())?;
    println!("backend: {}", store.backend());
    import_version(store.as_ref(), entities, 1, ordered).await?;
    import_version(store.as_ref(), entities, 2, ordered).await?;
    if let Some(mb) = peak_memory_mb() {
        println!("peak resident memory: {mb} MB");
    }
    Ok(())
}
