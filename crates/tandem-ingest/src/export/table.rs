//! CSV exports: one row per entity for people, one row per statement for scripts.

use std::io::{self, Write};

use tandem_core::{Entity, Statement};

use super::facts::{Attachments, EntityFacts, ExportKind, export_kind};

/// Columns of [`CsvEntityWriter`]; multi-values are joined with `; `.
pub const ENTITY_COLUMNS: [&str; 16] = [
    "id",
    "schema",
    "name",
    "aliases",
    "birth_date",
    "countries",
    "addresses",
    "identifiers",
    "sanctioned",
    "sanctions",
    "program_ids",
    "topics",
    "tandem_role",
    "tandem_stage",
    "datasets",
    "sensitivity",
];

/// Columns of [`CsvStatementWriter`].
pub const STATEMENT_COLUMNS: [&str; 8] = [
    "entity_id",
    "schema",
    "property",
    "value",
    "dataset",
    "sensitivity",
    "first_seen",
    "last_seen",
];

const JOINER: &str = "; ";

/// One row per entity: the sanctions-list layout spreadsheet users expect.
///
/// Rows are written as entities arrive, one per actor or place (the entities a graph export
/// makes nodes of). Sanctions and identity documents are not rows; they
/// fill the `sanctioned`, `sanctions`, `program_ids` and `identifiers` cells of the entity they
/// name, so pass the [`Attachments`] gathered beforehand. Cells that a spreadsheet would take
/// for a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) are prefixed with
/// `'`, as OWASP advises for CSV meant for spreadsheets; the id column is left as it is.
pub struct CsvEntityWriter<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> CsvEntityWriter<W> {
    /// Starts the file with its header row.
    pub fn new(out: W) -> io::Result<CsvEntityWriter<W>> {
        let mut out = csv::Writer::from_writer(out);
        out.write_record(ENTITY_COLUMNS)?;
        Ok(CsvEntityWriter { out })
    }

    /// Writes the entity's row. Returns `false`, writing nothing, for entities that are not rows:
    /// attachments (their content is in the row of the entity they name), relations (a
    /// spreadsheet of a sanctions list has no row for "A owns B"; use the statements CSV or a
    /// graph export) and annotations.
    pub fn write<S: AsRef<str>>(
        &mut self,
        entity: &Entity,
        attachments: &Attachments,
        datasets: &[S],
    ) -> io::Result<bool> {
        if export_kind(entity) != ExportKind::Node {
            return Ok(false);
        }
        let facts = EntityFacts::of(entity, attachments);
        let joined = |values: &[String]| values.join(JOINER);
        let datasets: Vec<&str> = datasets.iter().map(AsRef::as_ref).collect();
        let cells = [
            entity.schema.clone(),
            facts.name.clone(),
            joined(&facts.aliases),
            joined(&facts.birth_dates),
            joined(&facts.countries),
            joined(&facts.addresses),
            joined(&facts.identifiers),
            facts.sanctioned.to_string(),
            joined(&facts.sanctions),
            joined(&facts.program_ids),
            joined(&facts.topics),
            joined(&facts.roles),
            joined(&facts.stages),
            datasets.join(JOINER),
            entity.sensitivity.to_string(),
        ];
        let row = std::iter::once(entity.id.clone()).chain(cells.into_iter().map(defuse_formula));
        self.out.write_record(row)?;
        Ok(true)
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|err| err.into_error())
    }
}

fn defuse_formula(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// One row per value, with its provenance when known: lossless, for scripts and databases.
/// Values are written exactly as stored (no spreadsheet formula guard).
pub struct CsvStatementWriter<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> CsvStatementWriter<W> {
    /// Starts the file with its header row.
    pub fn new(out: W) -> io::Result<CsvStatementWriter<W>> {
        let mut out = csv::Writer::from_writer(out);
        out.write_record(STATEMENT_COLUMNS)?;
        Ok(CsvStatementWriter { out })
    }

    /// Writes every value of the entity as said by `dataset`; first and last seen stay empty.
    /// Returns the number of rows written.
    pub fn write_entity(&mut self, entity: &Entity, dataset: &str) -> io::Result<usize> {
        let sensitivity = entity.sensitivity.as_str();
        let mut rows = 0;
        for (property, values) in &entity.properties {
            for value in values {
                self.out.write_record([
                    entity.id.as_str(),
                    entity.schema.as_str(),
                    property,
                    value,
                    dataset,
                    sensitivity,
                    "",
                    "",
                ])?;
                rows += 1;
            }
        }
        Ok(rows)
    }

    /// Writes one stored statement with its provenance.
    pub fn write_statement(&mut self, statement: &Statement) -> io::Result<()> {
        self.out.write_record([
            statement.entity_id.as_str(),
            statement.schema.as_str(),
            statement.prop.as_str(),
            statement.value.as_str(),
            statement.provenance.dataset.as_str(),
            statement.sensitivity.as_str(),
            statement.provenance.first_seen.as_str(),
            statement.provenance.last_seen.as_str(),
        ])?;
        Ok(())
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|err| err.into_error())
    }
}
