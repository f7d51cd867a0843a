//! Exports that people's tools read: spreadsheets (CSV) and graphs (GraphML and GEXF, for
//! Gephi). FtM JSON lines are written by [`crate::ftm::FtmWriter`].
//!
//! Two CSV shapes:
//! - [`CsvEntityWriter`], one row per entity, is what a sanctions unit opens in a spreadsheet:
//!   name, aliases, birth date, countries, identifiers and the sanctions that name the entity,
//!   multi-values joined with `; `. Sanctions and identity documents are separate entities in
//!   FtM; they are folded into the row of the entity they describe (see [`Attachments`]).
//! - [`CsvStatementWriter`], one row per value, loses nothing and suits scripts.
//!
//! Graphs ([`GraphWriter`]): people, companies, addresses and other actors are nodes; relation
//! entities (ownership, family, directorship, payment…) and plain references between actors
//! (e.g. `addressEntity`) are edges. Sanctions and identity documents are not nodes: they
//! become node attributes (`sanctioned`, `sanctions`, `program_ids`, `identifiers`).

mod facts;
mod graph;
mod table;
mod xml;

pub use facts::{Attachments, EntityFacts};
pub use graph::{GraphFormat, GraphSummary, GraphWriter};
pub use table::{CsvEntityWriter, CsvStatementWriter, ENTITY_COLUMNS, STATEMENT_COLUMNS};

#[cfg(test)]
mod tests;
