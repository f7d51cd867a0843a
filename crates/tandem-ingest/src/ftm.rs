//! FollowTheMoney JSON lines: reading and writing.
//!
//! One JSON object per line. The reader accepts
//! - plain entities: `{"id": …, "schema": …, "properties": {"name": ["…"], …}}`;
//! - OpenSanctions aggregated entities, whose extra keys (`caption`, `datasets`, `referents`,
//!   `first_seen`, `last_seen`, `last_change`, `target`) are accepted and ignored: the dataset
//!   and the dates of a statement come from the import itself, and the caption is derived;
//! - nested entities, where a property value is itself an entity object (yente's and
//!   OpenSanctions' nested exports): each becomes its own [`Record`], after its parent;
//! - delta lines `{"op": "ADD"|"MOD"|"DEL", "entity": {…}}`; `DEL` gives [`Change::Delete`];
//! - Tandem's optional keys `sensitivity` (`public`, `restricted`, `protected`) and
//!   `confidence` (0–1), and its `tandem:role` / `tandem:stage` properties.
//!
//! Other top-level keys are ignored, as FtM's own tools do (Aleph adds several). Every value
//! is cleaned for its property type; an unknown schema or property, a bad id, a value that does
//! not fit its type, malformed JSON or a line that is not an object is an
//! [`IngestError::Invalid`] naming the file, the line and the key or property.
//!
//! The reader holds one line (and the records made from it) at a time, so memory does not grow
//! with the file. The writer emits what OpenSanctions' and Aleph's tools read: one compact
//! `{"id","schema","properties"}` object per line, plus `datasets` when given and `sensitivity`
//! / `confidence` when they are not the defaults. Those tools keep unknown top-level keys as
//! context and skip properties their model lacks (such as `tandem:role`), so Tandem's additions
//! do not stop them from reading the file.

mod json;
mod synthetic;

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque, btree_map};
use std::io::{self, BufRead, BufWriter, Read, Write};

use serde::Serialize;
use tandem_core::model::{Property, ROLE_PROPERTY, STAGE_PROPERTY, Schema};
use tandem_core::{Entity, EntityError, ModelError, Role, Sensitivity, Stage, value};

use crate::{Change, IngestError, Location, Record};
use json::{Json, field};
pub use synthetic::synthetic_lines;

/// Longest line read; a longer one is reported and skipped, so that a file without line breaks
/// cannot exhaust memory.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// Streams [`Record`]s from FtM JSON lines (entities or deltas, see the module docs).
pub struct FtmReader<R> {
    input: R,
    file: Location,
    line_number: u64,
    line: Vec<u8>,
    pending: VecDeque<Record>,
    max_line_bytes: usize,
    finished: bool,
}

enum LineRead {
    Line,
    TooLong,
    End,
}

impl<R: BufRead> FtmReader<R> {
    pub fn new(input: R, file_name: impl Into<String>) -> FtmReader<R> {
        FtmReader {
            input,
            file: Location::file(file_name),
            line_number: 0,
            line: Vec::new(),
            pending: VecDeque::new(),
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            finished: false,
        }
    }

    pub fn with_max_line_bytes(mut self, limit: usize) -> FtmReader<R> {
        self.max_line_bytes = limit;
        self
    }

    fn read_line(&mut self) -> io::Result<LineRead> {
        self.line.clear();
        // One oversized line must not keep its buffer alive for the rest of the file.
        if self.line.capacity() > 1 << 20 {
            self.line.shrink_to(64 * 1024);
        }
        let limit = self.max_line_bytes as u64 + 1;
        let read = Read::take(&mut self.input, limit).read_until(b'\n', &mut self.line)?;
        if read == 0 {
            return Ok(LineRead::End);
        }
        self.line_number += 1;
        if self.line.len() > self.max_line_bytes && self.line.last() != Some(&b'\n') {
            self.skip_rest_of_line()?;
            return Ok(LineRead::TooLong);
        }
        Ok(LineRead::Line)
    }

    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Ok(());
            }
            match available.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    self.input.consume(end + 1);
                    return Ok(());
                }
                None => {
                    let all = available.len();
                    self.input.consume(all);
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for FtmReader<R> {
    type Item = Result<Record, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(record) = self.pending.pop_front() {
                return Some(Ok(record));
            }
            if self.finished {
                return None;
            }
            match self.read_line() {
                Err(source) => {
                    // An I/O error is not about one record; going on could repeat it forever.
                    self.finished = true;
                    return Some(Err(IngestError::Io {
                        file: self.file.file.clone(),
                        source,
                    }));
                }
                Ok(LineRead::End) => {
                    self.finished = true;
                    return None;
                }
                Ok(LineRead::TooLong) => {
                    return Some(Err(IngestError::invalid(
                        self.file.at_line(self.line_number),
                        format!("line is longer than {} bytes", self.max_line_bytes),
                    )));
                }
                Ok(LineRead::Line) => {
                    let at = self.file.at_line(self.line_number);
                    let mut text = self.line.as_slice();
                    if self.line_number == 1 {
                        text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
                    }
                    match parse_line(text, at) {
                        Ok(records) => self.pending.extend(records),
                        Err(err) => return Some(Err(err)),
                    }
                }
            }
        }
    }
}

/// What is wrong with a line, and under which key or property.
struct Problem {
    field: Option<String>,
    message: String,
}

impl Problem {
    fn at(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

/// Every record one line makes: the entity first, then the entities nested in it.
fn parse_line(text: &[u8], at: Location) -> Result<Vec<Record>, IngestError> {
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let value: Json = serde_json::from_slice(text).map_err(|err| {
        IngestError::invalid(
            at.clone(),
            format!("malformed JSON: {}", describe_json_error(&err)),
        )
    })?;
    let changes = changes_of_line(&value).map_err(|problem| {
        let location = match problem.field {
            Some(field) => at.with_field(field),
            None => at.clone(),
        };
        IngestError::invalid(location, problem.message)
    })?;
    // Most lines make one record, which takes the location itself.
    let mut records = Vec::with_capacity(changes.len());
    let before_last = changes.len().saturating_sub(1);
    let mut changes = changes.into_iter();
    for change in changes.by_ref().take(before_last) {
        records.push(Record {
            change,
            location: at.clone(),
        });
    }
    if let Some(change) = changes.next() {
        records.push(Record {
            change,
            location: at,
        });
    }
    Ok(records)
}

/// serde_json counts lines within the one line it was given; only the column means anything.
fn describe_json_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let reason = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(reason, _)| reason);
    format!("{reason} (column {})", err.column())
}

fn changes_of_line(value: &Json) -> Result<Vec<Change>, Problem> {
    let Json::Object(entries) = value else {
        return Err(Problem {
            field: None,
            message: format!("expected a JSON object per line, found {}", value.kind()),
        });
    };
    let Some(op) = field(entries, "op") else {
        return upserts(value, "");
    };
    let Json::Str(op) = op else {
        return Err(Problem::at(
            "op",
            format!("must be a string, found {}", op.kind()),
        ));
    };
    let entity = field(entries, "entity")
        .ok_or_else(|| Problem::at("entity", "a delta line needs an entity"))?;
    if op.eq_ignore_ascii_case("DEL") {
        let Json::Object(deleted) = entity else {
            return Err(Problem::at(
                "entity",
                format!("expected an entity object, found {}", entity.kind()),
            ));
        };
        let id = required_str(deleted, "id", "")?;
        if !value::is_valid_entity_id(id) {
            return Err(Problem::at(
                "id",
                EntityError::InvalidId(id.to_string()).to_string(),
            ));
        }
        return Ok(vec![Change::Delete(id.to_string())]);
    }
    if op.eq_ignore_ascii_case("ADD") || op.eq_ignore_ascii_case("MOD") {
        return upserts(entity, "");
    }
    Err(Problem::at(
        "op",
        format!("unknown op {op:?}: use ADD, MOD or DEL"),
    ))
}

fn upserts(value: &Json, path: &str) -> Result<Vec<Change>, Problem> {
    let mut nested = Vec::new();
    let entity = read_entity(value, path, &mut nested)?;
    Ok(std::iter::once(entity)
        .chain(nested)
        .map(Change::Upsert)
        .collect())
}

fn required_str<'v>(
    entries: &'v [(Cow<'_, str>, Json<'_>)],
    key: &str,
    path: &str,
) -> Result<&'v str, Problem> {
    match field(entries, key) {
        Some(Json::Str(text)) => Ok(text),
        Some(other) => Err(Problem::at(
            format!("{path}{key}"),
            format!("must be a string, found {}", other.kind()),
        )),
        None => Err(Problem::at(format!("{path}{key}"), "is missing")),
    }
}

/// Reads one entity object. Entities nested in its property values are appended to `nested`
/// (depth first); `path` prefixes field names so an error deep inside names its way there.
fn read_entity(value: &Json, path: &str, nested: &mut Vec<Entity>) -> Result<Entity, Problem> {
    let Json::Object(entries) = value else {
        return Err(Problem {
            field: (!path.is_empty()).then(|| path.trim_end_matches('.').to_string()),
            message: format!("expected an entity object, found {}", value.kind()),
        });
    };
    let id = required_str(entries, "id", path)?;
    let schema = required_str(entries, "schema", path)?;
    let mut entity = Entity::new(schema, id).map_err(|err| match err {
        EntityError::InvalidId(_) => Problem::at(format!("{path}id"), err.to_string()),
        other => Problem::at(format!("{path}schema"), other.to_string()),
    })?;

    match field(entries, "sensitivity") {
        None | Some(Json::Null) => {}
        Some(Json::Str(text)) => {
            entity.sensitivity = text
                .parse::<Sensitivity>()
                .map_err(|err| Problem::at(format!("{path}sensitivity"), err.to_string()))?;
        }
        Some(other) => {
            return Err(Problem::at(
                format!("{path}sensitivity"),
                format!("must be a string, found {}", other.kind()),
            ));
        }
    }
    match field(entries, "confidence") {
        None | Some(Json::Null) => {}
        Some(Json::Number(n)) if (0.0..=1.0).contains(n) => entity.confidence = Some(*n as f32),
        Some(other) => {
            return Err(Problem::at(
                format!("{path}confidence"),
                format!("must be a number from 0 to 1, found {}", describe(other)),
            ));
        }
    }

    match field(entries, "properties") {
        None | Some(Json::Null) => {}
        Some(Json::Object(properties)) => {
            let schema = entity.schema();
            for (name, values) in properties {
                read_property(&mut entity, schema, name, values, path, nested)?;
            }
        }
        Some(other) => {
            return Err(Problem::at(
                format!("{path}properties"),
                format!("must be an object, found {}", other.kind()),
            ));
        }
    }
    Ok(entity)
}

fn describe(value: &Json) -> String {
    match value {
        Json::Number(n) => n.to_string(),
        other => other.kind().to_string(),
    }
}

fn read_property(
    entity: &mut Entity,
    schema: &Schema,
    name: &str,
    values: &Json,
    path: &str,
    nested: &mut Vec<Entity>,
) -> Result<(), Problem> {
    let field_name = || format!("{path}{name}");
    let property = schema.property(name).ok_or_else(|| {
        Problem::at(
            field_name(),
            ModelError::UnknownProperty {
                schema: schema.name.clone(),
                property: name.to_string(),
            }
            .to_string(),
        )
    })?;
    // FtM tools accept a bare value or null where a list is expected.
    let values: &[Json] = match values {
        Json::Array(items) => items,
        Json::Null => &[],
        single => std::slice::from_ref(single),
    };
    // Cleaned values are gathered per property and stored once: the same cleaning as
    // `Entity::add`, without looking the schema and property up again for every value.
    let mut cleaned: Vec<String> = Vec::with_capacity(values.len());
    for (index, item) in values.iter().enumerate() {
        match item {
            Json::Str(raw) => {
                // Stub properties are the computed reverse of a reference held by the other
                // entity, and FtM drops blank values; both carry nothing to store.
                if property.stub || raw.trim().is_empty() {
                    continue;
                }
                let value = clean_value(property, raw)
                    .map_err(|message| Problem::at(field_name(), message))?;
                if !cleaned.contains(&value) {
                    cleaned.push(value);
                }
            }
            Json::Object(_) => {
                let child_path = format!("{path}{name}[{index}].");
                let child = read_nested(entity, property, item, &child_path, nested)?;
                nested.push(child);
            }
            other => {
                return Err(Problem::at(
                    field_name(),
                    format!(
                        "expected a string or an entity object, found {}",
                        other.kind()
                    ),
                ));
            }
        }
    }
    if !cleaned.is_empty() {
        // One search of the map: the key is usually new, so its allocation is rarely wasted.
        match entity.properties.entry(name.to_string()) {
            // A repeated key, or references added by nested entities.
            btree_map::Entry::Occupied(mut slot) => {
                let existing = slot.get_mut();
                for value in cleaned {
                    if !existing.contains(&value) {
                        existing.push(value);
                    }
                }
            }
            btree_map::Entry::Vacant(slot) => {
                slot.insert(cleaned);
            }
        }
    }
    Ok(())
}

/// A nested entity becomes its own record. Under a normal reference property the parent keeps
/// its id; under a stub (e.g. `Person.sanctions`, the reverse of `Sanction.entity`) the child
/// gets the reference back to the parent instead, since nested exports drop it to avoid cycles.
fn read_nested(
    parent: &mut Entity,
    property: &Property,
    value: &Json,
    child_path: &str,
    nested: &mut Vec<Entity>,
) -> Result<Entity, Problem> {
    let name = property.name.as_str();
    let field_name = || child_path.trim_end_matches('.').to_string();
    if property.kind != tandem_core::PropertyType::Entity {
        return Err(Problem::at(
            field_name(),
            format!("{name} holds {} values, not entities", property.kind),
        ));
    }
    let mut child = read_entity(value, child_path, nested)?;
    match (&property.reverse, property.stub) {
        (Some(reverse), true) => {
            child.add(reverse, &parent.id).map_err(|err| {
                Problem::at(
                    format!("{child_path}{reverse}"),
                    format!("cannot point the nested entity back at its parent: {err}"),
                )
            })?;
        }
        _ => {
            parent
                .add(name, &child.id)
                .map_err(|err| Problem::at(field_name(), err.to_string()))?;
        }
    }
    Ok(child)
}

/// A value cleaned for its property's type; Tandem's role and stage words are checked and
/// spelled canonically.
fn clean_value(property: &Property, raw: &str) -> Result<String, String> {
    let canonical = if property.name == ROLE_PROPERTY {
        Some(raw.parse::<Role>()?.as_str())
    } else if property.name == STAGE_PROPERTY {
        Some(raw.parse::<Stage>()?.as_str())
    } else {
        None
    };
    value::clean(property.kind, &property.name, canonical.unwrap_or(raw))
        .map_err(|err| err.to_string())
}

/// The JSON object of one entity line, in the key order FtM tools write.
#[derive(Serialize)]
struct EntityJson<'a, S: Serialize> {
    id: &'a str,
    schema: &'a str,
    properties: &'a BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "is_empty_list")]
    datasets: &'a [S],
    #[serde(skip_serializing_if = "is_public")]
    sensitivity: Sensitivity,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<f32>,
}

fn is_empty_list<S>(list: &&[S]) -> bool {
    list.is_empty()
}

fn is_public(sensitivity: &Sensitivity) -> bool {
    *sensitivity == Sensitivity::Public
}

impl<'a, S: Serialize> EntityJson<'a, S> {
    fn new(entity: &'a Entity, datasets: &'a [S]) -> EntityJson<'a, S> {
        EntityJson {
            id: &entity.id,
            schema: &entity.schema,
            properties: &entity.properties,
            datasets,
            sensitivity: entity.sensitivity,
            confidence: entity.confidence,
        }
    }
}

#[derive(Serialize)]
struct DeltaJson<E: Serialize> {
    op: &'static str,
    entity: E,
}

#[derive(Serialize)]
struct DeletedJson<'a> {
    id: &'a str,
}

/// Writes FtM JSON lines (see the module docs for what each line holds).
pub struct FtmWriter<W: Write> {
    out: BufWriter<W>,
    datasets: Vec<String>,
}

impl<W: Write> FtmWriter<W> {
    pub fn new(out: W) -> FtmWriter<W> {
        FtmWriter {
            out: BufWriter::new(out),
            datasets: Vec::new(),
        }
    }

    /// Datasets named on every line written with [`FtmWriter::write`].
    pub fn with_datasets<I, S>(mut self, datasets: I) -> FtmWriter<W>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.datasets = datasets.into_iter().map(Into::into).collect();
        self
    }

    pub fn write(&mut self, entity: &Entity) -> io::Result<()> {
        write_json_line(&mut self.out, &EntityJson::new(entity, &self.datasets))
    }

    /// Writes one entity naming these datasets instead of the writer's.
    pub fn write_with_datasets<S: Serialize>(
        &mut self,
        entity: &Entity,
        datasets: &[S],
    ) -> io::Result<()> {
        write_json_line(&mut self.out, &EntityJson::new(entity, datasets))
    }

    /// Writes a delta line. Upserts are written as `ADD`: OpenSanctions' tools, like this
    /// reader, apply `ADD` and `MOD` alike.
    pub fn write_change(&mut self, change: &Change) -> io::Result<()> {
        match change {
            Change::Upsert(entity) => write_json_line(
                &mut self.out,
                &DeltaJson {
                    op: "ADD",
                    entity: EntityJson::new(entity, &self.datasets),
                },
            ),
            Change::Delete(id) => write_json_line(
                &mut self.out,
                &DeltaJson {
                    op: "DEL",
                    entity: DeletedJson { id },
                },
            ),
        }
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> io::Result<W> {
        self.out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
    }
}

fn write_json_line<W: Write, T: Serialize>(out: &mut W, line: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}

/// One entity as an FtM JSON line (without the line break).
fn entity_line(entity: &Entity) -> String {
    // Serialising strings and string maps into a String cannot fail.
    serde_json::to_string(&EntityJson::<&str>::new(entity, &[])).unwrap_or_default()
}

#[cfg(test)]
mod tests;
