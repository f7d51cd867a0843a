//! `tandem import …`: every source goes through one pipeline. A reader runs on a blocking
//! thread and hands batches of records to the async side, which writes them into one import
//! session: all of it is stored at commit, or none of it.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tandem_core::Sensitivity;
use tandem_ingest::{Change, IngestError, Record, dataset_names};
use tandem_store::{ImportMode, ImportRequest, ImportSummary, JobState, Store};
use tokio::sync::mpsc;

use crate::cli::{ImportCommand, ImportOptions, Output};
use crate::progress;

/// A reader of any source, ready to be moved onto a blocking thread.
pub type Records = Box<dyn Iterator<Item = Result<Record, IngestError>> + Send>;

/// What to import and how; built per source, then run by [`import`].
pub struct Plan {
    pub dataset: String,
    pub title: Option<String>,
    pub version: String,
    pub mode: ImportMode,
    pub sensitivity: Sensitivity,
    pub source: String,
    pub skip_invalid: bool,
    pub rejects: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    #[serde(flatten)]
    pub summary: ImportSummary,
    pub rejected: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejects_file: Option<String>,
}

pub async fn run(store: &dyn Store, command: ImportCommand, out: Output) -> anyhow::Result<()> {
    let (plan, records) = match command {
        ImportCommand::Ftm {
            files,
            delta,
            options,
        } => {
            let delta = delta || starts_with_delta_line(&files[0])?;
            let default = default_dataset_name(&files[0]);
            let plan = plan_for(
                &options,
                &default,
                None,
                &files,
                if delta {
                    ImportMode::Delta
                } else {
                    ImportMode::Full
                },
            )?;
            let mut readers = Vec::new();
            for path in files {
                let file = open(&path)?;
                readers.push(tandem_ingest::ftm::FtmReader::new(
                    BufReader::with_capacity(1 << 16, file),
                    path.display().to_string(),
                ));
            }
            (plan, Box::new(readers.into_iter().flatten()) as Records)
        }
        ImportCommand::Ofac { files, options } => {
            let mut sets = Vec::new();
            let mut all_files = Vec::new();
            for path in &files {
                let set = tandem_ingest::ofac::OfacFiles::discover(path)?;
                all_files.push(set.sdn.clone());
                all_files.extend(
                    [&set.add, &set.alt, &set.comments]
                        .into_iter()
                        .flatten()
                        .cloned(),
                );
                sets.push(set);
            }
            // The SDN list and the consolidated (non-SDN) list are distinct datasets.
            let (default_dataset, title) = match sets.first().map(|s| s.dataset_name()) {
                Some(dataset_names::OFAC_CONSOLIDATED) => (
                    dataset_names::OFAC_CONSOLIDATED,
                    "OFAC Consolidated (non-SDN) sanctions lists",
                ),
                _ => (
                    dataset_names::OFAC_SDN,
                    "OFAC Specially Designated Nationals (SDN) list",
                ),
            };
            let plan = plan_for(
                &options,
                default_dataset,
                Some(title),
                &all_files,
                ImportMode::Full,
            )?;
            let mut readers = Vec::new();
            for set in &sets {
                readers.push(tandem_ingest::ofac::OfacReader::open(set)?);
            }
            (plan, Box::new(readers.into_iter().flatten()) as Records)
        }
        ImportCommand::Un { file, options } => {
            let plan = plan_for(
                &options,
                dataset_names::UN_SC,
                Some("UN Security Council consolidated sanctions list"),
                std::slice::from_ref(&file),
                ImportMode::Full,
            )?;
            let reader = tandem_ingest::un::UnReader::open(&file)?;
            (plan, Box::new(reader) as Records)
        }
        ImportCommand::Csv {
            file,
            mapping,
            options,
        } => {
            let mapping_text = std::fs::read_to_string(&mapping)
                .with_context(|| format!("{}: cannot read the mapping", mapping.display()))?;
            let parsed = tandem_ingest::mapped_csv::Mapping::from_toml(
                &mapping_text,
                &mapping.display().to_string(),
            )?;
            let default = default_dataset_name(&file);
            let plan = plan_for(
                &options,
                &default,
                None,
                &[file.clone(), mapping.clone()],
                ImportMode::Full,
            )?;
            let reader = tandem_ingest::mapped_csv::MappedCsvReader::new(
                BufReader::new(open(&file)?),
                &file.display().to_string(),
                &parsed,
            )?;
            (plan, Box::new(reader) as Records)
        }
    };
    let outcome = import(store, plan, records).await?;
    // The import is stored whatever monitoring does; its job row records a failure.
    if let Err(err) = tandem_server::monitor::after_import(store, &outcome.summary).await {
        tracing::warn!(error = %err, "re-screening after the import failed");
    }
    print_outcome(&outcome, out);
    Ok(())
}

fn plan_for(
    options: &ImportOptions,
    default_dataset: &str,
    title: Option<&str>,
    files: &[PathBuf],
    mode: ImportMode,
) -> anyhow::Result<Plan> {
    let dataset = options
        .dataset
        .clone()
        .unwrap_or_else(|| default_dataset.to_string());
    if dataset.is_empty()
        || !dataset
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        bail!("dataset name {dataset:?}: use letters, digits, '_' and '-'");
    }
    let version = match &options.dataset_version {
        Some(v) => v.clone(),
        None => digest_files(files)?,
    };
    Ok(Plan {
        dataset,
        title: title.map(str::to_string),
        version,
        mode,
        sensitivity: options.sensitivity.unwrap_or_default(),
        source: files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        skip_invalid: options.skip_invalid,
        rejects: options.rejects.clone(),
    })
}

fn open(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("{}: cannot open", path.display()))
}

/// A dataset name from a file name: `my-list.csv` → `my_list`.
fn default_dataset_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let stem = stem.split('.').next().unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "import".to_string()
    } else {
        name
    }
}

/// True when the first non-empty line of an FtM file is a delta (`{"op": …}`).
fn starts_with_delta_line(path: &Path) -> anyhow::Result<bool> {
    let reader = BufReader::new(open(path)?);
    for line in reader.lines() {
        let line = line.with_context(|| format!("{}: cannot read", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        return Ok(serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .is_some_and(|v| v.get("op").is_some()));
    }
    Ok(false)
}

/// The default version: a digest of the input files' bytes, so that the same files are the
/// same version wherever they are imported.
pub fn digest_files(files: &[PathBuf]) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    for path in files {
        let mut file = open(path)?;
        loop {
            let n = file
                .read(&mut buffer)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        hasher.update([0]);
    }
    Ok(format!("sha256-{}", &hex::encode(hasher.finalize())[..16]))
}

const BATCH: usize = 512;

/// Runs one import: records are stored in one session that commits only if every record was
/// accepted (or skipped with `--skip-invalid`).
pub async fn import(store: &dyn Store, plan: Plan, records: Records) -> anyhow::Result<Outcome> {
    let job = store
        .create_job(
            "import",
            serde_json::json!({
                "dataset": plan.dataset,
                "version": plan.version,
                "source": plan.source,
            }),
        )
        .await?;
    let result = import_in_session(store, &plan, records).await;
    match &result {
        Ok(outcome) => {
            store
                .finish_job(
                    job.id,
                    JobState::Done,
                    Some(format!(
                        "{} entities: {} added, {} changed, {} removed{}",
                        outcome.summary.entities,
                        outcome.summary.added,
                        outcome.summary.changed,
                        outcome.summary.removed,
                        if outcome.summary.unchanged {
                            " (version already imported)"
                        } else {
                            ""
                        }
                    )),
                )
                .await?;
        }
        Err(err) => {
            // The import itself rolled back; the job row says why.
            store
                .finish_job(job.id, JobState::Failed, Some(format!("{err:#}")))
                .await?;
        }
    }
    result
}

async fn import_in_session(
    store: &dyn Store,
    plan: &Plan,
    records: Records,
) -> anyhow::Result<Outcome> {
    let (sender, mut receiver) = mpsc::channel::<Vec<Result<Record, IngestError>>>(8);
    let reader = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(BATCH);
        for item in records {
            batch.push(item);
            if batch.len() == BATCH
                && sender
                    .blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .is_err()
            {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = sender.blocking_send(batch);
        }
    });

    let mut session = store
        .begin_import(ImportRequest {
            dataset: plan.dataset.clone(),
            title: plan.title.clone(),
            version: plan.version.clone(),
            mode: plan.mode,
            sensitivity: plan.sensitivity,
            source: plan.source.clone(),
            owner_organisation: None,
        })
        .await?;
    let bar = progress::counter(&format!("importing {}", plan.dataset));
    let mut rejects = Rejects::new(plan)?;
    let mut failure: Option<anyhow::Error> = None;
    'batches: while let Some(batch) = receiver.recv().await {
        // The counter advances a batch at a time: ticking it for every record cost a clock read
        // each.
        bar.inc(batch.len() as u64);
        for item in batch {
            let outcome = match item {
                Ok(Record {
                    change: Change::Upsert(entity),
                    ..
                }) => session.put(entity).await.map_err(anyhow::Error::from),
                Ok(Record {
                    change: Change::Delete(id),
                    ..
                }) => session.delete(&id).await.map_err(anyhow::Error::from),
                Err(err) if plan.skip_invalid && err.is_skippable() => rejects.add(&err),
                Err(err) => Err(anyhow::Error::from(err)),
            };
            if let Err(err) = outcome {
                failure = Some(err);
                break 'batches;
            }
        }
    }
    // Stop the reader thread if it is still producing.
    drop(receiver);
    let _ = reader.await;
    bar.finish_and_clear();
    if let Some(err) = failure {
        session.rollback().await?;
        return Err(err.context(format!(
            "import of {} stopped; nothing of it was stored",
            plan.dataset
        )));
    }
    let rejected = rejects.count;
    let rejects_file = rejects.finish()?;
    let summary = session.commit().await?;
    Ok(Outcome {
        summary,
        rejected,
        rejects_file,
    })
}

/// The report of records skipped with `--skip-invalid`, one JSON object a line.
struct Rejects {
    path: Option<PathBuf>,
    writer: Option<BufWriter<File>>,
    count: u64,
}

impl Rejects {
    fn new(plan: &Plan) -> anyhow::Result<Rejects> {
        let path = plan.skip_invalid.then(|| {
            plan.rejects
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("{}-rejects.jsonl", plan.dataset)))
        });
        Ok(Rejects {
            path,
            writer: None,
            count: 0,
        })
    }

    fn add(&mut self, err: &IngestError) -> anyhow::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if self.writer.is_none() {
            let file = File::create(path)
                .with_context(|| format!("{}: cannot write the rejects report", path.display()))?;
            self.writer = Some(BufWriter::new(file));
        }
        let location = err.location();
        let line = serde_json::json!({
            "file": location.map(|l| l.file.clone()),
            "line": location.and_then(|l| l.line),
            "element": location.and_then(|l| l.element.clone()),
            "field": location.and_then(|l| l.field.clone()),
            "error": err.to_string(),
        });
        if let Some(writer) = self.writer.as_mut() {
            writeln!(writer, "{line}")
                .with_context(|| format!("{}: cannot write", path.display()))?;
        }
        self.count += 1;
        Ok(())
    }

    fn finish(self) -> anyhow::Result<Option<String>> {
        if let (Some(mut writer), Some(path)) = (self.writer, self.path) {
            writer
                .flush()
                .with_context(|| format!("{}: cannot write", path.display()))?;
            return Ok(Some(path.display().to_string()));
        }
        Ok(None)
    }
}

pub fn print_outcome(outcome: &Outcome, out: Output) {
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(outcome).unwrap_or_default()
        );
        return;
    }
    let s = &outcome.summary;
    if s.unchanged {
        println!(
            "{}: version {} is already stored; nothing changed ({} entities).",
            s.dataset, s.version, s.entities
        );
    } else {
        println!(
            "{}: version {} stored — {} entities ({} added, {} changed, {} removed, {} unchanged).",
            s.dataset, s.version, s.entities, s.added, s.changed, s.removed, s.kept
        );
    }
    if outcome.rejected > 0 {
        println!(
            "{} invalid records skipped; see {}.",
            outcome.rejected,
            outcome
                .rejects_file
                .as_deref()
                .unwrap_or("the rejects report")
        );
    }
}
