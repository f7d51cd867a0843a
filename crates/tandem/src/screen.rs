//! `tandem screen`: one name, or a CSV batch, against the stored lists.
//!
//! The candidate index is built in memory from the stored entities each time: building it for
//! the SDN and UN lists takes a second or two, less than keeping a persisted index in step with
//! every import would cost in complexity. Protected records (victims, witnesses) are never
//! indexed here: screening from the command line must not become a way to read them.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use futures::TryStreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde_json::{Value, json};
use tandem_core::{Entity, Model, Sensitivity, country};
use tandem_match::index::is_screenable;
use tandem_match::{CandidateIndex, Hit, IndexConfig, MatchConfig, MatchError, Subject};
use tandem_store::Store;

use crate::cli::{Output, ScreenArgs};
use crate::print_json;

/// Longer than any real name (the longest on the SDN list has about 250 characters); a value
/// this long is a pasted document or an attack on the matcher's time.
pub const MAX_NAME_CHARS: usize = 500;

/// The stored lists, indexed for screening, with the datasets each entity is in.
pub struct Lists {
    pub index: CandidateIndex,
    pub datasets: HashMap<String, Vec<String>>,
}

impl Lists {
    /// Loads and indexes every non-protected entity of the named datasets (all when `only` is
    /// empty).
    pub async fn load(store: &dyn Store, only: &[String]) -> anyhow::Result<Lists> {
        let (entities, datasets) = load_entities(store, only).await?;
        Ok(Lists::from_entities(entities, datasets))
    }

    pub fn from_entities(entities: Vec<Entity>, datasets: HashMap<String, Vec<String>>) -> Lists {
        let (index, errors) = CandidateIndex::build(entities, IndexConfig::default());
        if !errors.is_empty() {
            // Nameless records cannot be screened; they are not an error of the query.
            tracing::info!(
                count = errors.len(),
                "stored entities without a usable name left out of screening"
            );
        }
        Lists { index, datasets }
    }

    /// A result in yente's shape: the entity plus `score`, `match` and `explanations`.
    pub fn result_json(&self, hit: &Hit) -> Value {
        let entity = self.index.get(&hit.entity_id);
        json!({
            "id": hit.entity_id,
            "caption": entity.map(Entity::caption),
            "schema": entity.map(|e| e.schema.as_str()),
            "properties": entity.map(|e| &e.properties),
            "datasets": self.datasets.get(&hit.entity_id).cloned().unwrap_or_default(),
            "score": hit.score.score,
            "match": hit.score.is_match,
            "explanations": hit.score.explanations,
        })
    }
}

/// Every screenable, non-protected entity of the named datasets (all when `only` is empty),
/// merged across datasets by id, with the datasets each is in.
pub async fn load_entities(
    store: &dyn Store,
    only: &[String],
) -> anyhow::Result<(Vec<Entity>, HashMap<String, Vec<String>>)> {
    let stored = store.datasets().await?;
    for name in only {
        if !stored.iter().any(|d| &d.name == name) {
            let known: Vec<&str> = stored.iter().map(|d| d.name.as_str()).collect();
            bail!(
                "--dataset {name}: no such dataset (stored: {})",
                if known.is_empty() {
                    "none; import a list first, e.g. `tandem import ofac sdn.csv`".to_string()
                } else {
                    known.join(", ")
                }
            );
        }
    }
    let mut merged: BTreeMap<String, Entity> = BTreeMap::new();
    let mut datasets: HashMap<String, Vec<String>> = HashMap::new();
    // Protected datasets are not even read, so nothing protected is decrypted for screening.
    for dataset in stored.iter().filter(|d| {
        d.sensitivity != Sensitivity::Protected && (only.is_empty() || only.contains(&d.name))
    }) {
        let mut rows = store.entities(Some(&dataset.name));
        while let Some(row) = rows.try_next().await? {
            if row.entity.sensitivity == Sensitivity::Protected
                || !is_screenable(&row.entity.schema)
            {
                continue;
            }
            let id = row.entity.id.clone();
            match merged.get_mut(&id) {
                Some(existing) => {
                    // Two datasets may disagree on the schema (Person vs Organization); then
                    // the first one read stands, and the other's values are left out.
                    if let Err(err) = existing.merge(&row.entity) {
                        tracing::warn!(entity = %id, dataset = %row.dataset, "not merged for screening: {err}");
                    }
                }
                None => {
                    merged.insert(id.clone(), row.entity);
                }
            }
            let list = datasets.entry(id).or_default();
            if !list.contains(&row.dataset) {
                list.push(row.dataset);
            }
        }
    }
    Ok((merged.into_values().collect(), datasets))
}

/// A readable one-line account of a score: the features that fired, strongest first.
pub fn short_explanation(hit: &Hit) -> String {
    let mut parts: Vec<(f64, String)> = hit
        .score
        .explanations
        .iter()
        .map(|(feature, e)| {
            let effect = e.score * e.weight;
            let text = if e.weight < 0.0 {
                format!("{feature} {effect:+.2} ({})", e.detail)
            } else if !e.alignment.is_empty() {
                format!(
                    "{feature} {:.2}: '{}' ~ '{}'",
                    e.score, e.query, e.candidate
                )
            } else {
                format!("{feature} {:.2}: {}", e.score, e.detail)
            };
            (effect.abs(), text)
        })
        .collect();
    parts.sort_by(|a, b| b.0.total_cmp(&a.0));
    parts
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The fields of one query, as given on the command line or in a CSV row.
#[derive(Debug, Default, Clone)]
pub struct QueryFields<'a> {
    pub name: &'a str,
    pub schema: &'a str,
    pub birth_date: &'a str,
    pub country: &'a str,
    pub id_number: &'a str,
}

/// A query field that is not acceptable, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn field_error(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

/// Builds and checks a query entity. Empty optional fields are left out.
pub fn build_query(id: &str, fields: &QueryFields) -> Result<Entity, FieldError> {
    let schema = match fields.schema.trim() {
        "" => "Person",
        s => s,
    };
    if !is_screenable(schema) {
        let schema = Model::get()
            .schema(schema)
            .map(|s| s.name.as_str())
            .unwrap_or(schema);
        return Err(field_error(
            "schema",
            format!(
                "{schema:?} cannot be screened: use Person, Organization, Company, LegalEntity or Vessel"
            ),
        ));
    }
    let name = fields.name.trim();
    if name.is_empty() {
        return Err(field_error("name", "is empty"));
    }
    let length = name.chars().count();
    if length > MAX_NAME_CHARS {
        return Err(field_error(
            "name",
            format!("has {length} characters; at most {MAX_NAME_CHARS} are screened"),
        ));
    }
    let mut entity = Entity::new(schema, id).map_err(|e| field_error("schema", e.to_string()))?;
    entity
        .add("name", name)
        .map_err(|e| field_error("name", e.to_string()))?;
    let birth_date = fields.birth_date.trim();
    if !birth_date.is_empty() {
        if entity.schema().property("birthDate").is_none() {
            return Err(field_error(
                "birth_date",
                format!("a {schema} has no birth date"),
            ));
        }
        if tandem_core::value::PartialDate::parse(birth_date).is_none() {
            return Err(field_error(
                "birth_date",
                format!("{birth_date:?} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"),
            ));
        }
        entity
            .add("birthDate", birth_date)
            .map_err(|e| field_error("birth_date", e.to_string()))?;
    }
    let country_text = fields.country.trim();
    if !country_text.is_empty() {
        let code = country::lookup(country_text).ok_or_else(|| {
            field_error(
                "country",
                format!("{country_text:?} is not a country name or code"),
            )
        })?;
        let property = if entity.schema().property("nationality").is_some() {
            "nationality"
        } else {
            "country"
        };
        entity
            .add(property, code)
            .map_err(|e| field_error("country", e.to_string()))?;
    }
    let id_number = fields.id_number.trim();
    if !id_number.is_empty() {
        let property = ["idNumber", "imoNumber", "registrationNumber"]
            .into_iter()
            .find(|p| entity.schema().property(p).is_some())
            .ok_or_else(|| field_error("id_number", format!("a {schema} has no identifiers")))?;
        entity
            .add(property, id_number)
            .map_err(|e| field_error("id_number", e.to_string()))?;
    }
    // A name of punctuation only has nothing to match on.
    Subject::from_entity(&entity).map_err(|e| match e {
        MatchError::NoNames { .. } => field_error("name", "has no letters or digits to match on"),
        other => field_error("name", other.to_string()),
    })?;
    Ok(entity)
}

pub async fn run(store: &dyn Store, args: ScreenArgs, out: Output) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&args.threshold) {
        bail!("--threshold {}: must be between 0 and 1", args.threshold);
    }
    match (&args.name, &args.entity, &args.input, &args.output) {
        (None, None, Some(input), Some(output)) => batch(store, &args, input, output, out).await,
        (Some(_), None, None, None) | (None, Some(_), None, None) => one(store, &args, out).await,
        _ => bail!(
            "give a NAME to screen, --entity ID, or --input FILE.csv with --output FILE.(csv|jsonl)"
        ),
    }
}

/// Screens `query`, leaving out the stored entity it is (when it is one).
fn screen_query(
    lists: &Lists,
    query: &Entity,
    itself: Option<&str>,
    threshold: f64,
    limit: usize,
) -> Result<Vec<Hit>, MatchError> {
    let extra = usize::from(itself.is_some());
    let mut hits = tandem_match::screen_one(
        query,
        &lists.index,
        &MatchConfig::default(),
        threshold,
        limit + extra,
    )?;
    hits.retain(|h| Some(h.entity_id.as_str()) != itself);
    hits.truncate(limit);
    Ok(hits)
}

/// A stored entity as a query: everything the lists hold about it.
fn stored_query(lists: &Lists, id: &str) -> Option<Entity> {
    lists.index.get(id).cloned()
}

async fn one(store: &dyn Store, args: &ScreenArgs, out: Output) -> anyhow::Result<()> {
    let given = match &args.name {
        Some(name) => {
            let fields = QueryFields {
                name,
                schema: &args.schema,
                birth_date: args.birth_date.as_deref().unwrap_or(""),
                country: args.country.as_deref().unwrap_or(""),
                id_number: args.id_number.as_deref().unwrap_or(""),
            };
            Some(build_query("query", &fields).map_err(|e| {
                let flag = match e.field {
                    "name" => "NAME".to_string(),
                    other => format!("--{}", other.replace('_', "-")),
                };
                anyhow::anyhow!("{flag}: {}", e.message)
            })?)
        }
        None => None,
    };
    let lists = Lists::load(store, &args.datasets).await?;
    let (query, itself) = match (given, &args.entity) {
        (Some(query), _) => (query, None),
        (None, Some(id)) => (
            stored_query(&lists, id).ok_or_else(|| {
                anyhow::anyhow!(
                    "--entity {id}: no stored entity with this id that can be screened (a person, organisation or vessel of a dataset that is not protected)"
                )
            })?,
            Some(id.as_str()),
        ),
        (None, None) => bail!("give a NAME to screen or --entity ID"),
    };
    let name = query.caption().to_string();
    let limit = args.limit.unwrap_or(10);
    let hits = screen_query(&lists, &query, itself, args.threshold, limit)?;
    if out.json {
        let results: Vec<Value> = hits.iter().map(|h| lists.result_json(h)).collect();
        print_json(&json!({
            "query": {"id": itself, "schema": query.schema, "properties": query.properties},
            "threshold": args.threshold,
            "results": results,
        }));
        return Ok(());
    }
    if lists.index.is_empty() {
        println!("Nothing to screen against: import a list first (tandem import ofac|un|ftm …).");
        return Ok(());
    }
    if hits.is_empty() {
        println!(
            "No candidates for {name:?} among {} entities.",
            lists.index.len()
        );
        return Ok(());
    }
    println!(
        "{:>5}  {:<5}  {:<18} {:<12} {:<36} {:<20} why",
        "score", "match", "id", "schema", "caption", "datasets"
    );
    for hit in &hits {
        let entity = lists.index.get(&hit.entity_id);
        println!(
            "{:>5.3}  {:<5}  {:<18} {:<12} {:<36} {:<20} {}",
            hit.score.score,
            if hit.score.is_match { "yes" } else { "" },
            hit.entity_id,
            entity.map_or("", |e| e.schema.as_str()),
            clip(entity.map_or("", Entity::caption), 36),
            clip(
                &lists
                    .datasets
                    .get(&hit.entity_id)
                    .map(|d| d.join(","))
                    .unwrap_or_default(),
                20
            ),
            short_explanation(hit)
        );
    }
    let matches = hits.iter().filter(|h| h.score.is_match).count();
    println!(
        "{matches} of {} shown at or above {:.2}.",
        hits.len(),
        args.threshold
    );
    Ok(())
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// The columns a batch file may have besides pass-through ones.
const BATCH_COLUMNS: [&str; 5] = ["name", "schema", "birth_date", "country", "id_number"];

/// One input row, checked: a query built from its fields, or a stored entity to screen.
struct BatchRow {
    row: u64,
    line: u64,
    values: Vec<String>,
    query: Option<Entity>,
    entity_id: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Jsonl,
}

/// Reads and checks every row before anything is screened: a bad row stops the batch with its
/// row, line and field, and no output is written.
fn read_batch(path: &Path) -> anyhow::Result<(Vec<String>, Vec<BatchRow>)> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let display = path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(BufReader::new(file));
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("{display}, line 1: cannot read the header"))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let name_column = column("name");
    if name_column.is_none() && column("entity_id").is_none() {
        bail!(
            "{display}, line 1: no `name` column (columns: {}; expected {})",
            headers.join(","),
            BATCH_COLUMNS.join(",")
        );
    }
    let [schema_column, dob_column, country_column, id_column] = [
        BATCH_COLUMNS[1],
        BATCH_COLUMNS[2],
        BATCH_COLUMNS[3],
        BATCH_COLUMNS[4],
    ]
    .map(column);
    let entity_column = column("entity_id");
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i as u64 + 1;
        let record = record.map_err(|e| {
            let line = e.position().map_or(row + 1, |p| p.line());
            let message = match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("has {len} fields where the header has {expected_len}"),
                csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_string(),
                _ => e.to_string(),
            };
            anyhow::anyhow!("{display}, row {row} (line {line}): malformed CSV row: {message}")
        })?;
        let line = record.position().map_or(row + 1, |p| p.line());
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("");
        let values = record.iter().map(str::to_string).collect();
        let entity_id = get(entity_column).trim();
        if !entity_id.is_empty() {
            rows.push(BatchRow {
                row,
                line,
                values,
                query: None,
                entity_id: Some(entity_id.to_string()),
            });
            continue;
        }
        let fields = QueryFields {
            name: get(name_column),
            schema: get(schema_column),
            birth_date: get(dob_column),
            country: get(country_column),
            id_number: get(id_column),
        };
        let query = build_query(&format!("row-{row}"), &fields).map_err(|e| {
            anyhow::anyhow!(
                "{display}, row {row} (line {line}), field {}: {}",
                e.field,
                e.message
            )
        })?;
        rows.push(BatchRow {
            row,
            line,
            values,
            query: Some(query),
            entity_id: None,
        });
    }
    Ok((headers, rows))
}

/// Removes the partial output unless the batch finished and renamed it.
struct Partial {
    path: PathBuf,
    done: bool,
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

async fn batch(
    store: &dyn Store,
    args: &ScreenArgs,
    input: &Path,
    output: &Path,
    out: Output,
) -> anyhow::Result<()> {
    let format = match output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => Format::Csv,
        Some("jsonl") => Format::Jsonl,
        _ => bail!(
            "--output {}: the name must end in .csv or .jsonl",
            output.display()
        ),
    };
    let (headers, mut rows) = read_batch(input)?;
    let lists = Lists::load(store, &args.datasets).await?;
    // Rows that name stored entities are checked against the store before anything runs.
    for row in rows.iter_mut() {
        if let Some(id) = &row.entity_id {
            row.query = Some(stored_query(&lists, id).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}, row {} (line {}), field entity_id: no stored entity {id:?} that can be screened",
                    input.display(),
                    row.row,
                    row.line
                )
            })?);
        }
    }
    let limit = args.limit.unwrap_or(5);

    let started = Instant::now();
    let bar = ProgressBar::new(rows.len() as u64);
    if std::io::stderr().is_terminal() {
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:40} {human_pos}/{human_len} queries ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style);
        }
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let results: Vec<Vec<Hit>> = rows
        .par_iter()
        .map(|row| {
            let hits = row
                .query
                .as_ref()
                .and_then(|query| {
                    screen_query(
                        &lists,
                        query,
                        row.entity_id.as_deref(),
                        args.threshold,
                        limit,
                    )
                    .ok()
                })
                .unwrap_or_default()
                .into_iter()
                // A batch reports alerts: results below the threshold would bury them.
                .filter(|h| h.score.is_match)
                .collect();
            bar.inc(1);
            hits
        })
        .collect();
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();

    // Written beside the target and renamed over it at the end, so that a failed batch leaves
    // no half-written file where the caller expects the output.
    let directory = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = output
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut partial = Partial {
        path: directory.join(format!(".{file_name}.partial-{}", std::process::id())),
        done: false,
    };
    let file = File::create(&partial.path)
        .with_context(|| format!("--output {}: cannot write", output.display()))?;
    let mut writer = BufWriter::new(file);
    match format {
        Format::Csv => write_csv(&mut writer, &headers, &rows, &results, &lists)?,
        Format::Jsonl => write_jsonl(&mut writer, &headers, &rows, &results, &lists)?,
    }
    let file = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("--output {}: {}", output.display(), e.error()))?;
    file.sync_all()?;
    std::fs::rename(&partial.path, output)
        .with_context(|| format!("--output {}: cannot write", output.display()))?;
    partial.done = true;

    let alerted = results.iter().filter(|r| !r.is_empty()).count();
    if out.json {
        print_json(&json!({
            "queries": rows.len(),
            "alerted": alerted,
            "threshold": args.threshold,
            "entities": lists.index.len(),
            "seconds": seconds,
            "output": output.display().to_string(),
        }));
    } else {
        println!(
            "Screened {} queries against {} entities in {seconds:.1} s: {alerted} with a result at or above {:.2}. Wrote {}.",
            rows.len(),
            lists.index.len(),
            args.threshold,
            output.display()
        );
    }
    Ok(())
}

const RESULT_COLUMNS: [&str; 8] = [
    "result_rank",
    "result_id",
    "result_caption",
    "result_schema",
    "result_datasets",
    "result_score",
    "result_match",
    "result_explanation",
];

/// One line per result; a query without results still gets one line, so that every input row
/// appears in the output.
fn write_csv<W: Write>(
    writer: W,
    headers: &[String],
    rows: &[BatchRow],
    results: &[Vec<Hit>],
    lists: &Lists,
) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(writer);
    let mut header: Vec<&str> = headers.iter().map(String::as_str).collect();
    header.extend(RESULT_COLUMNS);
    csv.write_record(&header)?;
    for (row, hits) in rows.iter().zip(results) {
        if hits.is_empty() {
            let mut record = row.values.clone();
            record.extend(std::iter::repeat_n(String::new(), RESULT_COLUMNS.len()));
            csv.write_record(&record)?;
        }
        for (rank, hit) in hits.iter().enumerate() {
            let entity = lists.index.get(&hit.entity_id);
            let mut record = row.values.clone();
            record.extend([
                (rank + 1).to_string(),
                hit.entity_id.clone(),
                entity.map_or("", Entity::caption).to_string(),
                entity.map_or("", |e| e.schema.as_str()).to_string(),
                lists
                    .datasets
                    .get(&hit.entity_id)
                    .map(|d| d.join(";"))
                    .unwrap_or_default(),
                format!("{:.4}", hit.score.score),
                hit.score.is_match.to_string(),
                short_explanation(hit),
            ]);
            csv.write_record(&record)?;
        }
    }
    csv.flush()?;
    Ok(())
}

fn write_jsonl<W: Write>(
    mut writer: W,
    headers: &[String],
    rows: &[BatchRow],
    results: &[Vec<Hit>],
    lists: &Lists,
) -> anyhow::Result<()> {
    for (row, hits) in rows.iter().zip(results) {
        let input: serde_json::Map<String, Value> = headers
            .iter()
            .zip(&row.values)
            .map(|(h, v)| (h.clone(), Value::String(v.clone())))
            .collect();
        let line = json!({
            "row": row.row,
            "input": input,
            "query": row.query.as_ref().map(|q| json!({
                "id": row.entity_id,
                "schema": q.schema,
                "properties": q.properties,
            })),
            "results": hits.iter().map(|h| lists.result_json(h)).collect::<Vec<_>>(),
        });
        serde_json::to_writer(&mut writer, &line)?;
        writer.write_all(b"\n")?;
    }
    writer.flush()?;
    Ok(())
}
