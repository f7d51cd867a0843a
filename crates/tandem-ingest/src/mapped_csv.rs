//! An analyst's own spreadsheet, read through a mapping file (`tandem import csv FILE
//! --mapping MAPPING.toml`; the format is described in `docs/mapping.md`).
//!
//! Each row goes through every `[[entities]]` section of the mapping and becomes up to one
//! entity per section: people, organisations, and the relations between them, built from the
//! same row or pointing at entities made from other rows or other files by id.
//!
//! A row is taken whole or not at all: if any of its sections fails (a date that is not a date,
//! an empty id column), the row yields one [`IngestError::Invalid`] naming the file, the row's
//! line and the column, and none of its entities, so no relation is stored without its ends.
//! The next call goes on with the next row. Rows whose cells are all empty are skipped.

mod mapping;
mod template;
#[cfg(test)]
mod tests;
mod values;

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use tandem_core::model::PropertyType;
use tandem_core::{Entity, Sensitivity};

use mapping::{ColumnId, ConfidenceSource, PropertyMapping, Section, SensitivitySource, Source};
pub use mapping::{DEFAULT_SENSITIVITY, Mapping};

use crate::{IngestError, Location, Record};

/// Reads CSV rows as [`Record`]s through a [`Mapping`].
pub struct MappedCsvReader<R: Read = BufReader<File>> {
    csv: csv::Reader<R>,
    file: String,
    mapping: Mapping,
    /// Where each of the mapping's columns is in a row, by [`ColumnId`].
    positions: Vec<usize>,
    row: csv::StringRecord,
    pending: VecDeque<Result<Record, IngestError>>,
    finished: bool,
}

impl MappedCsvReader<BufReader<File>> {
    pub fn open(path: impl AsRef<Path>, mapping: &Mapping) -> Result<Self, IngestError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| IngestError::Io {
            file: name.clone(),
            source,
        })?;
        MappedCsvReader::new(BufReader::new(file), &name, mapping)
    }
}

/// One row's cells, by the mapping's column ids.
struct Row<'r> {
    record: &'r csv::StringRecord,
    positions: &'r [usize],
    labels: &'r [String],
    line: u64,
}

impl<'r> Row<'r> {
    fn cell(&self, column: ColumnId) -> &'r str {
        self.positions
            .get(column.0)
            .and_then(|&p| self.record.get(p))
            .unwrap_or("")
    }

    fn label(&self, column: ColumnId) -> &'r str {
        self.labels.get(column.0).map(String::as_str).unwrap_or("?")
    }
}

impl<R: Read> MappedCsvReader<R> {
    /// Reads the header (when the mapping says there is one) and checks that every column the
    /// mapping names is in it.
    pub fn new(reader: R, file_name: &str, mapping: &Mapping) -> Result<Self, IngestError> {
        let options = &mapping.csv;
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(options.delimiter)
            .quote(options.quote)
            .has_headers(options.header)
            // Spreadsheets drop trailing empty cells; a short row reads as empty cells.
            .flexible(true)
            .from_reader(reader);
        let positions = if options.header {
            let header = csv
                .headers()
                .map_err(|err| csv_error(file_name, err))?
                .clone();
            let mut positions = Vec::with_capacity(mapping.columns.len());
            let mut missing = Vec::new();
            for name in &mapping.columns {
                let found: Vec<usize> = header
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| h.trim() == name)
                    .map(|(i, _)| i)
                    .collect();
                match found.as_slice() {
                    [only] => positions.push(*only),
                    [] => {
                        missing.push(name.as_str());
                        positions.push(usize::MAX);
                    }
                    _ => {
                        return Err(mapping.config_error(
                            column_key(mapping, name),
                            format!("the header of {file_name} has column {name:?} more than once"),
                        ));
                    }
                }
            }
            if let Some(first) = missing.first() {
                let quoted: Vec<String> = missing.iter().map(|m| format!("{m:?}")).collect();
                let verb = if missing.len() == 1 { "is" } else { "are" };
                let present: Vec<&str> = header.iter().map(str::trim).collect();
                return Err(mapping.config_error(
                    column_key(mapping, first),
                    format!(
                        "{} {verb} not in the header of {file_name} (its columns: {})",
                        quoted.join(", "),
                        present.join(", ")
                    ),
                ));
            }
            positions
        } else {
            mapping
                .columns
                .iter()
                .map(|name| {
                    options
                        .names
                        .iter()
                        .position(|n| n == name)
                        .or_else(|| name.parse::<usize>().ok().and_then(|n| n.checked_sub(1)))
                        .unwrap_or(usize::MAX)
                })
                .collect()
        };
        Ok(MappedCsvReader {
            csv,
            file: file_name.to_string(),
            mapping: mapping.clone(),
            positions,
            row: csv::StringRecord::new(),
            pending: VecDeque::new(),
            finished: false,
        })
    }

    fn read_row(&mut self) {
        loop {
            match self.csv.read_record(&mut self.row) {
                Ok(false) => {
                    self.finished = true;
                    return;
                }
                Ok(true) => {
                    if self.row.iter().all(|cell| cell.trim().is_empty()) {
                        continue;
                    }
                    let line = self.row.position().map_or(0, |p| p.line());
                    let row = Row {
                        record: &self.row,
                        positions: &self.positions,
                        labels: &self.mapping.columns,
                        line,
                    };
                    let location = Location::file(&self.file).at_line(line);
                    match build_row(&self.mapping, &row, &self.file) {
                        Ok(entities) => self.pending.extend(
                            entities
                                .into_iter()
                                .map(|e| Ok(Record::upsert(e, location.clone()))),
                        ),
                        Err(err) => self.pending.push_back(Err(err)),
                    }
                    return;
                }
                Err(err) => {
                    let fatal = !matches!(err.kind(), csv::ErrorKind::Utf8 { .. });
                    let error = row_read_error(&self.file, &self.mapping, &self.positions, err);
                    self.finished = fatal;
                    self.pending.push_back(Err(error));
                    return;
                }
            }
        }
    }
}

fn column_key(mapping: &Mapping, column: &str) -> String {
    // The first section that uses the column is where the author will look.
    mapping
        .sections
        .iter()
        .find(|s| section_uses(mapping, s, column))
        .map_or_else(|| "columns".to_string(), Section::key)
}

fn section_uses(mapping: &Mapping, section: &Section, column: &str) -> bool {
    let Some(id) = mapping
        .columns
        .iter()
        .position(|c| c == column)
        .map(ColumnId)
    else {
        return false;
    };
    let in_source = |source: &Source| match source {
        Source::Columns(columns) => columns.contains(&id),
        Source::OtherRow { bindings, .. } => bindings.iter().any(|(_, ours)| *ours == id),
        Source::Id(template) => template.columns().contains(&id),
        Source::Literal(_) | Source::SameRow(_) => false,
    };
    section.id.columns().contains(&id)
        || section.properties.iter().any(|p| in_source(&p.source))
        || matches!(section.sensitivity, SensitivitySource::Column { column, .. } if column == id)
        || matches!(section.confidence, Some(ConfidenceSource::Column(column)) if column == id)
}

fn csv_error(file: &str, err: csv::Error) -> IngestError {
    let line = err.position().map(|p| p.line());
    match err.into_kind() {
        csv::ErrorKind::Io(source) => IngestError::Io {
            file: file.to_string(),
            source,
        },
        other => IngestError::invalid(
            Location {
                line,
                ..Location::file(file)
            },
            format!("cannot read the CSV: {}", describe_kind(&other)),
        ),
    }
}

fn describe_kind(kind: &csv::ErrorKind) -> String {
    match kind {
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("the text is not UTF-8 ({err}); save the sheet as CSV UTF-8")
        }
        other => format!("{other:?}"),
    }
}

fn row_read_error(
    file: &str,
    mapping: &Mapping,
    positions: &[usize],
    err: csv::Error,
) -> IngestError {
    let field = match err.kind() {
        csv::ErrorKind::Utf8 { err, .. } => Some(err.field()),
        _ => None,
    };
    let mut error = csv_error(file, err);
    if let (Some(field), IngestError::Invalid { location, .. }) = (field, &mut error) {
        let label = positions
            .iter()
            .position(|&p| p == field)
            .and_then(|id| mapping.columns.get(id).cloned())
            .unwrap_or_else(|| format!("column {}", field + 1));
        location.field = Some(label);
    }
    error
}

fn row_error(file: &str, row: &Row<'_>, column: Option<&str>, message: String) -> IngestError {
    IngestError::invalid(
        Location {
            file: file.to_string(),
            line: Some(row.line),
            element: None,
            field: column.map(str::to_string),
        },
        message,
    )
}

/// Every section's entity for one row, or the first error.
fn build_row(mapping: &Mapping, row: &Row<'_>, file: &str) -> Result<Vec<Entity>, IngestError> {
    let mut made: Vec<Option<String>> = vec![None; mapping.sections.len()];
    let mut entities = Vec::new();
    for &index in &mapping.order {
        let Some(section) = mapping.sections.get(index) else {
            continue;
        };
        if let Some(entity) = build_section(mapping, section, row, &made, file)? {
            if let Some(slot) = made.get_mut(index) {
                *slot = Some(entity.id.clone());
            }
            entities.push(entity);
        }
    }
    Ok(entities)
}

fn build_section(
    mapping: &Mapping,
    section: &Section,
    row: &Row<'_>,
    made: &[Option<String>],
    file: &str,
) -> Result<Option<Entity>, IngestError> {
    let id = match section.id.render(|c| row.cell(c)) {
        Ok(id) => id,
        Err(_) if section.optional => return Ok(None),
        Err(column) => {
            return Err(row_error(
                file,
                row,
                Some(row.label(column)),
                format!(
                    "section {:?}: the cell is empty, but the id {:?} is built from it (set optional = true to skip such rows)",
                    section.name, section.id.text
                ),
            ));
        }
    };
    let id_columns: Vec<&str> = section
        .id
        .columns()
        .into_iter()
        .map(|c| row.label(c))
        .collect();
    let mut entity = Entity::new(&section.schema.name, id).map_err(|err| {
        row_error(
            file,
            row,
            id_columns.first().copied(),
            format!("section {:?}: {err}", section.name),
        )
    })?;
    entity.sensitivity = match &section.sensitivity {
        SensitivitySource::Fixed(s) => *s,
        SensitivitySource::Column { column, default } => {
            let cell = row.cell(*column).trim();
            if cell.is_empty() {
                *default
            } else {
                cell.parse::<Sensitivity>().map_err(|err| {
                    row_error(
                        file,
                        row,
                        Some(row.label(*column)),
                        format!("section {:?}: {err}", section.name),
                    )
                })?
            }
        }
    };
    entity.confidence = match &section.confidence {
        None => None,
        Some(ConfidenceSource::Fixed(c)) => Some(*c),
        Some(ConfidenceSource::Column(column)) => {
            let cell = row.cell(*column).trim();
            if cell.is_empty() {
                None
            } else {
                Some(parse_confidence(cell).ok_or_else(|| {
                    row_error(
                        file,
                        row,
                        Some(row.label(*column)),
                        format!(
                            "section {:?}: confidence {cell:?} is not a number from 0 to 1 (or 0% to 100%)",
                            section.name
                        ),
                    )
                })?)
            }
        }
    };
    for property in &section.properties {
        add_property(mapping, section, property, &mut entity, row, made, file)?;
    }
    let missing = entity.missing_required();
    if let Some(first) = missing.first() {
        if section.optional {
            return Ok(None);
        }
        let column = section
            .properties
            .iter()
            .find(|p| p.property.name == *first)
            .and_then(|p| first_column(&p.source))
            .map(|c| row.label(c));
        return Err(row_error(
            file,
            row,
            column,
            format!(
                "section {:?}: {} needs {} but the row gives none (set optional = true to skip such rows)",
                section.name,
                section.schema.name,
                missing.join(" and ")
            ),
        ));
    }
    Ok(Some(entity))
}

fn first_column(source: &Source) -> Option<ColumnId> {
    match source {
        Source::Columns(columns) => columns.first().copied(),
        Source::OtherRow { bindings, .. } => bindings.first().map(|(_, ours)| *ours),
        Source::Id(template) => template.columns().first().copied(),
        Source::Literal(_) | Source::SameRow(_) => None,
    }
}

fn parse_confidence(cell: &str) -> Option<f32> {
    let (number, scale) = match cell.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (cell, 1.0),
    };
    let value = number.replace(',', ".").parse::<f32>().ok()? / scale;
    (0.0..=1.0).contains(&value).then_some(value)
}

fn add_property(
    mapping: &Mapping,
    section: &Section,
    property: &PropertyMapping,
    entity: &mut Entity,
    row: &Row<'_>,
    made: &[Option<String>],
    file: &str,
) -> Result<(), IngestError> {
    let name = &property.property.name;
    let fail = |column: Option<ColumnId>, message: String| {
        row_error(
            file,
            row,
            column.map(|c| row.label(c)),
            format!("section {:?}, property {name}: {message}", section.name),
        )
    };
    match &property.source {
        Source::Literal(value) => entity
            .add(name, value)
            .map_err(|err| fail(None, err.to_string())),
        Source::SameRow(target) => {
            if let Some(Some(id)) = made.get(*target) {
                entity
                    .add(name, id)
                    .map_err(|err| fail(None, err.to_string()))?;
            }
            Ok(())
        }
        Source::OtherRow {
            section: target,
            bindings,
        } => {
            let Some(target_section) = mapping.sections.get(*target) else {
                return Ok(());
            };
            let rendered = target_section.id.render(|theirs| {
                bindings
                    .iter()
                    .find(|(t, _)| *t == theirs)
                    .map_or("", |(_, ours)| row.cell(*ours))
            });
            // An empty cell means no reference on this row; a required one is caught later.
            if let Ok(id) = rendered {
                let column = bindings.first().map(|(_, ours)| *ours);
                entity
                    .add(name, &id)
                    .map_err(|err| fail(column, err.to_string()))?;
            }
            Ok(())
        }
        Source::Id(template) => {
            if let Ok(id) = template.render(|c| row.cell(c)) {
                let column = template.columns().first().copied();
                entity
                    .add(name, &id)
                    .map_err(|err| fail(column, err.to_string()))?;
            }
            Ok(())
        }
        Source::Columns(columns) => {
            for &column in columns {
                for raw in split_cell(row.cell(column), property.split.as_deref()) {
                    let value = match property.map.get(&raw.to_lowercase()) {
                        Some(replacement) if replacement.is_empty() => continue,
                        Some(replacement) => replacement.as_str(),
                        None => raw,
                    };
                    let converted =
                        values::convert(property.property, property.date_format.as_ref(), value)
                            .map_err(|message| fail(Some(column), message))?;
                    entity.add(name, &converted).map_err(|err| {
                        let hint = if property.property.kind == PropertyType::Date
                            && property.date_format.is_none()
                        {
                            format!(
                                "; set date_format in {} to read another layout",
                                property.key
                            )
                        } else {
                            String::new()
                        };
                        fail(Some(column), format!("{err}{hint}"))
                    })?;
                }
            }
            Ok(())
        }
    }
}

fn split_cell<'c>(cell: &'c str, separator: Option<&'c str>) -> impl Iterator<Item = &'c str> + 'c {
    let pieces: Box<dyn Iterator<Item = &'c str> + 'c> = match separator {
        Some(separator) => Box::new(cell.split(separator)),
        None => Box::new(std::iter::once(cell)),
    };
    pieces.map(str::trim).filter(|piece| !piece.is_empty())
}

impl<R: Read> Iterator for MappedCsvReader<R> {
    type Item = Result<Record, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.pending.is_empty() && !self.finished {
            self.read_row();
        }
        self.pending.pop_front()
    }
}
