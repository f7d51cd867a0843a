//! OFAC's legacy CSV set: the SDN list (and the Consolidated non-SDN list, same layout) as four
//! files without a header line.
//!
//! | file | columns |
//! |---|---|
//! | `sdn.csv` (`cons_prim.csv`) | ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks |
//! | `add.csv` | ent_num, add_num, address, city/state/zip, country, add_remarks |
//! | `alt.csv` | ent_num, alt_num, alt_type (`aka`/`fka`/`nka`), alt_name, alt_remarks |
//! | `sdn_comments.csv` | ent_num, the rest of a Remarks text too long for its column |
//!
//! `-0-` (often with a trailing space) means "no value"; lines end in CRLF; most files end with
//! a 0x1A byte. The side files are joined to the primary file by `ent_num`, so the reader
//! indexes them in memory when it opens (they are bounded: a few MB for the whole list) and
//! streams the primary file. It also reads the primary file once beforehand for its names, so
//! that "Linked To: NAME" becomes a relation to the entity of that name.
//!
//! Each SDN row becomes its main entity (`ofac-<ent_num>`: `Person`, `Organization`,
//! `Vessel` or `Airplane`), one `Sanction` per program, and the `Address`, `Passport`,
//! `Identification`, `CryptoWallet`, `UnknownLink` and `Ownership` entities its address rows
//! and remarks describe. Remarks that Tandem cannot place in a property are kept in `notes`, so
//! nothing the list says is lost; only a row whose structure is wrong (column count, ent_num,
//! name, type) is an [`IngestError::Invalid`].

mod remarks;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tandem_core::{Entity, country};

use crate::{IngestError, Location, Record, dataset_names};
use remarks::{Clause, Kind};

/// The issuing authority, as written on every `Sanction`.
pub const AUTHORITY: &str = "Office of Foreign Assets Control";

const SDN_COLUMNS: [&str; 12] = [
    "ent_num",
    "SDN_Name",
    "SDN_Type",
    "Program",
    "Title",
    "Call_Sign",
    "Vess_type",
    "Tonnage",
    "GRT",
    "Vess_flag",
    "Vess_owner",
    "Remarks",
];
const ADD_COLUMNS: [&str; 6] = [
    "ent_num",
    "add_num",
    "address",
    "city/state/zip",
    "country",
    "add_remarks",
];
const ALT_COLUMNS: [&str; 5] = ["ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks"];
const COMMENTS_COLUMNS: [&str; 2] = ["ent_num", "remarks"];

/// The files of one OFAC list. Only the primary file is required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfacFiles {
    pub sdn: PathBuf,
    pub add: Option<PathBuf>,
    pub alt: Option<PathBuf>,
    pub comments: Option<PathBuf>,
}

/// The role each file of the set plays, and the words OFAC and its mirrors name it with.
const PRIMARY_TOKENS: [&str; 2] = ["sdn", "prim"];
const ADD_TOKENS: [&str; 1] = ["add"];
const ALT_TOKENS: [&str; 1] = ["alt"];
const COMMENTS_TOKENS: [&str; 2] = ["sdn_comments", "comments"];

impl OfacFiles {
    pub fn primary_only(sdn: impl Into<PathBuf>) -> OfacFiles {
        OfacFiles {
            sdn: sdn.into(),
            add: None,
            alt: None,
            comments: None,
        }
    }

    /// The set that `path` (any of its four files) belongs to, by OFAC's naming: `sdn.csv`,
    /// `add.csv`, `alt.csv`, `sdn_comments.csv`, with any prefix or suffix shared by the set
    /// (`bench2021_sdn.csv` → `bench2021_add.csv`), and the Consolidated list's `cons_prim.csv`
    /// → `cons_add.csv`, `cons_alt.csv`, `cons_comments.csv`. Side files that do not exist are
    /// left out; a side file given without its primary file is a `Config` error.
    pub fn discover(path: &Path) -> Result<OfacFiles, IngestError> {
        let Some(role) = split_role(path) else {
            return Ok(OfacFiles::primary_only(path));
        };
        let sibling = |tokens: &[&str]| -> Option<PathBuf> {
            tokens
                .iter()
                .map(|t| path.with_file_name(role.sibling(t)))
                .find(|p| p.is_file())
        };
        let sdn = if PRIMARY_TOKENS.contains(&role.token) {
            path.to_path_buf()
        } else {
            sibling(&PRIMARY_TOKENS).ok_or_else(|| IngestError::Config {
                location: Location::file(path.display().to_string()),
                message: format!(
                    "this looks like a side file of an OFAC set, but no primary file \
                     ({} or {}) is beside it",
                    role.sibling("sdn"),
                    role.sibling("prim")
                ),
            })?
        };
        Ok(OfacFiles {
            sdn,
            add: sibling(&ADD_TOKENS),
            alt: sibling(&ALT_TOKENS),
            comments: sibling(&COMMENTS_TOKENS),
        })
    }

    /// `us_ofac_cons` for the Consolidated (non-SDN) list, `us_ofac_sdn` otherwise.
    pub fn dataset_name(&self) -> &'static str {
        let name = self
            .sdn
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.starts_with("cons") || name.contains("prim") {
            dataset_names::OFAC_CONSOLIDATED
        } else {
            dataset_names::OFAC_SDN
        }
    }
}

/// A file name cut around the token that names its role in the set: `bench2021_sdn.csv` →
/// `bench2021_` + `sdn` + `.csv`.
struct RoleName {
    prefix: String,
    /// Lower case.
    token: &'static str,
    suffix: String,
    /// The token is written in capitals (`SDN.CSV`), and so are its siblings'.
    capitals: bool,
}

impl RoleName {
    fn sibling(&self, token: &str) -> String {
        let token = if self.capitals {
            token.to_ascii_uppercase()
        } else {
            token.to_string()
        };
        format!("{}{token}{}", self.prefix, self.suffix)
    }
}

/// Finds the role token; it must stand between separators.
fn split_role(path: &Path) -> Option<RoleName> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    let tokens = COMMENTS_TOKENS
        .iter()
        .chain(&PRIMARY_TOKENS)
        .chain(&ADD_TOKENS)
        .chain(&ALT_TOKENS);
    let is_separator = |c: Option<char>| c.is_none_or(|c| matches!(c, '_' | '-' | '.' | ' '));
    for token in tokens {
        for (at, _) in lower.match_indices(token) {
            let end = at + token.len();
            let before = lower.get(..at).and_then(|s| s.chars().last());
            let after = lower.get(end..).and_then(|s| s.chars().next());
            if is_separator(before) && is_separator(after) {
                let written = name.get(at..end)?;
                return Some(RoleName {
                    prefix: name.get(..at)?.to_string(),
                    token,
                    suffix: name.get(end..)?.to_string(),
                    capitals: written.bytes().all(|b| !b.is_ascii_lowercase()),
                });
            }
        }
    }
    None
}

/// One CSV row as text, with the line it starts on.
struct Row {
    line: u64,
    fields: Vec<String>,
}

impl Row {
    /// The value of a column, `None` when empty or OFAC's null `-0-`.
    fn value(&self, index: usize) -> Option<&str> {
        let text = self.fields.get(index)?.trim();
        (!text.is_empty() && text != "-0-").then_some(text)
    }
}

/// Reads the rows of one file of the set.
struct Rows<R> {
    csv: csv::Reader<R>,
    record: csv::ByteRecord,
    file: String,
    columns: &'static [&'static str],
}

impl<R: Read> Rows<R> {
    fn new(input: R, file: &str, columns: &'static [&'static str]) -> Rows<R> {
        Rows {
            // Ending records at LF alone keeps csv's line numbers right for CRLF files (with
            // CRLF they point at the line before); the CR left on the last field is dropped.
            csv: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .terminator(csv::Terminator::Any(b'\n'))
                .from_reader(input),
            record: csv::ByteRecord::new(),
            file: file.to_string(),
            columns,
        }
    }

    /// The next row with the expected number of columns. A row of another width is an
    /// `Invalid` error; reading goes on after it. Blank rows and the 0x1A end-of-file mark
    /// are skipped.
    fn next_row(&mut self) -> Option<Result<Row, IngestError>> {
        loop {
            match self.csv.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(err) => return Some(Err(self.csv_error(err))),
            }
            let line = self.record.position().map_or(0, csv::Position::line);
            let is_blank = self
                .record
                .iter()
                .all(|f| f.iter().all(|b| b.is_ascii_whitespace() || *b == 0x1A));
            if is_blank {
                continue;
            }
            let mut fields: Vec<String> = self.record.iter().map(decode).collect();
            if let Some(last) = fields.last_mut()
                && last.ends_with('\r')
            {
                last.pop();
            }
            return Some(self.check_width(Row { line, fields }));
        }
    }

    fn check_width(&self, row: Row) -> Result<Row, IngestError> {
        let expected = self.columns.len();
        let found = row.fields.len();
        if found == expected {
            return Ok(row);
        }
        let field = match self.columns.get(found) {
            Some(missing) => (*missing).to_string(),
            None => format!("column {}", expected + 1),
        };
        Err(IngestError::invalid(
            Location::file(&self.file)
                .at_line(row.line)
                .with_field(field),
            format!("expected {expected} columns, found {found}"),
        ))
    }

    fn csv_error(&self, err: csv::Error) -> IngestError {
        let line = err.position().map(csv::Position::line);
        match err.into_kind() {
            csv::ErrorKind::Io(source) => IngestError::Io {
                file: self.file.clone(),
                source,
            },
            other => {
                let location = Location::file(&self.file);
                IngestError::invalid(
                    match line {
                        Some(line) => location.at_line(line),
                        None => location,
                    },
                    format!("cannot read the CSV: {other:?}"),
                )
            }
        }
    }
}

/// The files are ASCII in practice; a stray byte from an older Windows code page is read as
/// Latin-1 rather than rejected.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

fn parse_ent_num(row: &Row, file: &str) -> Result<u64, IngestError> {
    let text = row.value(0).unwrap_or("");
    text.parse::<u64>().map_err(|_| {
        IngestError::invalid(
            Location::file(file).at_line(row.line).with_field("ent_num"),
            format!("ent_num {text:?} is not a number"),
        )
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SdnType {
    Person,
    Organization,
    Vessel,
    Airplane,
}

impl SdnType {
    fn parse(text: Option<&str>) -> Option<SdnType> {
        match text.map(str::to_ascii_lowercase).as_deref() {
            None => Some(SdnType::Organization),
            Some("individual") => Some(SdnType::Person),
            Some("vessel") => Some(SdnType::Vessel),
            Some("aircraft") => Some(SdnType::Airplane),
            Some("entity") => Some(SdnType::Organization),
            _ => None,
        }
    }

    fn schema(self) -> &'static str {
        match self {
            SdnType::Person => "Person",
            SdnType::Organization => "Organization",
            SdnType::Vessel => "Vessel",
            SdnType::Airplane => "Airplane",
        }
    }

    fn is_legal_entity(self) -> bool {
        matches!(self, SdnType::Person | SdnType::Organization)
    }
}

fn entity_id(ent_num: u64) -> String {
    format!("ofac-{ent_num}")
}

/// Who a name in "Linked To:", "Aircraft Operator" or Vess_owner refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    One { ent_num: u64, sdn_type: SdnType },
    Several,
}

/// Names of the list's entries, to resolve the names the remarks refer to. Primary names are
/// tried first, then aliases.
#[derive(Default)]
struct NameIndex {
    types: HashMap<u64, SdnType>,
    primary: HashMap<String, Named>,
    aliases: HashMap<String, Named>,
}

/// Case, spacing and trailing full stops do not distinguish OFAC names ("… CO. LTD." at the
/// end of a remark loses its full stop).
fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches('.')
        .to_uppercase()
}

fn insert_name(map: &mut HashMap<String, Named>, name: &str, ent_num: u64, sdn_type: SdnType) {
    let key = name_key(name);
    if key.is_empty() {
        return;
    }
    map.entry(key)
        .and_modify(|named| {
            if *named != (Named::One { ent_num, sdn_type }) {
                *named = Named::Several;
            }
        })
        .or_insert(Named::One { ent_num, sdn_type });
}

impl NameIndex {
    fn resolve(&self, name: &str) -> Option<Named> {
        let key = name_key(name);
        self.primary
            .get(&key)
            .or_else(|| self.aliases.get(&key))
            .copied()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AltType {
    Aka,
    Fka,
    Nka,
}

struct AliasRow {
    alt_type: AltType,
    name: String,
    remarks: Option<String>,
}

struct AddressRow {
    location: Location,
    add_num: String,
    street: Option<String>,
    city: Option<String>,
    country: Option<String>,
    remarks: Option<String>,
}

/// The side files, indexed by ent_num, for the entries of the primary file only.
#[derive(Default)]
struct SideIndex {
    addresses: HashMap<u64, Vec<AddressRow>>,
    aliases: HashMap<u64, Vec<AliasRow>>,
    comments: HashMap<u64, String>,
}

/// A named input of the set: the name is used in locations and error messages.
pub struct Source<R> {
    pub name: String,
    pub input: R,
}

impl<R> Source<R> {
    pub fn new(name: impl Into<String>, input: R) -> Source<R> {
        Source {
            name: name.into(),
            input,
        }
    }
}

/// Streams [`Record`]s from an OFAC legacy CSV set; see the module documentation.
pub struct OfacReader<R = File> {
    rows: Rows<R>,
    sdn_file: String,
    names: NameIndex,
    side: SideIndex,
    pending: VecDeque<Result<Record, IngestError>>,
    seen: HashSet<u64>,
    finished: bool,
}

impl OfacReader<File> {
    /// Opens the set. Errors in the side files are yielded first by the iterator, as
    /// skippable `Invalid` errors; a file that cannot be opened or read is an `Io` error here.
    pub fn open(files: &OfacFiles) -> Result<OfacReader<File>, IngestError> {
        let open = |path: &Path| -> Result<Source<File>, IngestError> {
            let name = path.display().to_string();
            File::open(path)
                .map(|input| Source::new(name.clone(), input))
                .map_err(|source| IngestError::Io { file: name, source })
        };
        let side = |path: &Option<PathBuf>| path.as_deref().map(open).transpose();
        OfacReader::from_sources(
            open(&files.sdn)?,
            side(&files.add)?,
            side(&files.alt)?,
            side(&files.comments)?,
        )
    }
}

impl<R: Read + Seek> OfacReader<R> {
    /// The same as [`OfacReader::open`] over any seekable inputs (the primary file is read
    /// twice: once for its names, once for its records).
    pub fn from_sources(
        mut sdn: Source<R>,
        add: Option<Source<R>>,
        alt: Option<Source<R>>,
        comments: Option<Source<R>>,
    ) -> Result<OfacReader<R>, IngestError> {
        let mut names = index_primary_names(&mut sdn)?;
        let io_error = |file: &str, source| IngestError::Io {
            file: file.to_string(),
            source,
        };
        sdn.input
            .seek(SeekFrom::Start(0))
            .map_err(|e| io_error(&sdn.name, e))?;
        let mut pending = VecDeque::new();
        let mut side = SideIndex::default();
        let mut report = |result: Result<(), IngestError>| -> Result<(), IngestError> {
            match result {
                Err(err) if err.is_skippable() => {
                    pending.push_back(Err(err));
                    Ok(())
                }
                other => other,
            }
        };
        if let Some(add) = add {
            for_each_row(add, &ADD_COLUMNS, |row, file| {
                report(index_address(row, file, &names, &mut side))
            })?;
        }
        if let Some(alt) = alt {
            for_each_row(alt, &ALT_COLUMNS, |row, file| {
                report(index_alias(row, file, &mut names, &mut side))
            })?;
        }
        if let Some(comments) = comments {
            for_each_row(comments, &COMMENTS_COLUMNS, |row, file| {
                report(index_comment(row, file, &names, &mut side))
            })?;
        }
        Ok(OfacReader {
            rows: Rows::new(sdn.input, &sdn.name, &SDN_COLUMNS),
            sdn_file: sdn.name,
            names,
            side,
            pending,
            seen: HashSet::new(),
            finished: false,
        })
    }
}

/// Calls `each` with every row of a side file (or with the row's error). Stops at the first
/// error `each` passes back: the caller queues the skippable ones and passes back I/O errors.
fn for_each_row<R: Read>(
    source: Source<R>,
    columns: &'static [&'static str],
    mut each: impl FnMut(Result<Row, IngestError>, &str) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let mut rows = Rows::new(source.input, &source.name, columns);
    while let Some(row) = rows.next_row() {
        each(row, &source.name)?;
    }
    Ok(())
}

fn index_primary_names<R: Read>(sdn: &mut Source<R>) -> Result<NameIndex, IngestError> {
    let mut names = NameIndex::default();
    let mut rows = Rows::new(&mut sdn.input, &sdn.name, &SDN_COLUMNS);
    while let Some(row) = rows.next_row() {
        let row = match row {
            Ok(row) => row,
            Err(err) if err.is_skippable() => continue,
            Err(err) => return Err(err),
        };
        // Malformed rows are reported when the records are read.
        let (Ok(ent_num), Some(name), Some(sdn_type)) = (
            parse_ent_num(&row, &sdn.name),
            row.value(1),
            SdnType::parse(row.value(2)),
        ) else {
            continue;
        };
        names.types.entry(ent_num).or_insert(sdn_type);
        insert_name(&mut names.primary, name, ent_num, sdn_type);
    }
    Ok(names)
}

fn index_address(
    row: Result<Row, IngestError>,
    file: &str,
    names: &NameIndex,
    side: &mut SideIndex,
) -> Result<(), IngestError> {
    let row = row?;
    let ent_num = parse_ent_num(&row, file)?;
    if !names.types.contains_key(&ent_num) {
        return Ok(());
    }
    let owned = |i: usize| row.value(i).map(str::to_string);
    let address = AddressRow {
        location: Location::file(file).at_line(row.line),
        add_num: row.value(1).unwrap_or("").to_string(),
        street: owned(2),
        city: owned(3),
        country: owned(4),
        remarks: owned(5),
    };
    side.addresses.entry(ent_num).or_default().push(address);
    Ok(())
}

fn index_alias(
    row: Result<Row, IngestError>,
    file: &str,
    names: &mut NameIndex,
    side: &mut SideIndex,
) -> Result<(), IngestError> {
    let row = row?;
    let ent_num = parse_ent_num(&row, file)?;
    let Some(&sdn_type) = names.types.get(&ent_num) else {
        return Ok(());
    };
    let at = |field: &str| Location::file(file).at_line(row.line).with_field(field);
    let alt_type = match row.value(2).map(str::to_ascii_lowercase).as_deref() {
        Some("aka") => AltType::Aka,
        Some("fka") => AltType::Fka,
        Some("nka") => AltType::Nka,
        other => {
            return Err(IngestError::invalid(
                at("alt_type"),
                format!("alt_type {other:?} is not aka, fka or nka"),
            ));
        }
    };
    let name = row
        .value(3)
        .ok_or_else(|| IngestError::invalid(at("alt_name"), "the alias is empty"))?;
    insert_name(&mut names.aliases, name, ent_num, sdn_type);
    side.aliases.entry(ent_num).or_default().push(AliasRow {
        alt_type,
        name: name.to_string(),
        remarks: row.value(4).map(str::to_string),
    });
    Ok(())
}

fn index_comment(
    row: Result<Row, IngestError>,
    file: &str,
    names: &NameIndex,
    side: &mut SideIndex,
) -> Result<(), IngestError> {
    let row = row?;
    let ent_num = parse_ent_num(&row, file)?;
    if let Some(text) = row.fields.get(1)
        && names.types.contains_key(&ent_num)
    {
        // The comment continues the remarks mid-word: no separator.
        side.comments.entry(ent_num).or_default().push_str(text);
    }
    Ok(())
}

impl<R: Read> Iterator for OfacReader<R> {
    type Item = Result<Record, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.finished {
                return None;
            }
            match self.rows.next_row() {
                None => self.finished = true,
                Some(Err(err)) => {
                    self.finished = !err.is_skippable();
                    return Some(Err(err));
                }
                Some(Ok(row)) => match self.records(&row) {
                    Ok(records) => self.pending.extend(records.into_iter().map(Ok)),
                    Err(err) => return Some(Err(err)),
                },
            }
        }
    }
}

impl<R> OfacReader<R> {
    fn records(&mut self, row: &Row) -> Result<Vec<Record>, IngestError> {
        let location = Location::file(&self.sdn_file).at_line(row.line);
        let ent_num = parse_ent_num(row, &self.sdn_file)?;
        let invalid = |field: &str, message: String| {
            IngestError::invalid(location.with_field(field), message)
        };
        if !self.seen.insert(ent_num) {
            return Err(invalid(
                "ent_num",
                format!("ent_num {ent_num} appears a second time"),
            ));
        }
        let sdn_type = SdnType::parse(row.value(2)).ok_or_else(|| {
            invalid(
                "SDN_Type",
                format!(
                    "SDN_Type {:?} is not individual, vessel, aircraft or empty",
                    row.value(2).unwrap_or("")
                ),
            )
        })?;
        let raw_name = row
            .value(1)
            .ok_or_else(|| invalid("SDN_Name", "the name is empty".to_string()))?;
        let entity = Entity::new(sdn_type.schema(), entity_id(ent_num))
            .map_err(|e| invalid("ent_num", e.to_string()))?;
        let mut builder = Builder {
            entity,
            sdn_type,
            ent_num,
            notes: Vec::new(),
            extra: Vec::new(),
            provisions: Vec::new(),
            listing_dates: Vec::new(),
            names: &self.names,
        };
        builder
            .set_name("name", raw_name)
            .map_err(|message| invalid("SDN_Name", message))?;
        builder.add_or_note("topics", "sanction", "");
        builder.columns(row);

        // The remarks as written: a text cut just after a space continues in the comments
        // file, and trimming would glue the two words.
        let mut remarks = match (row.value(11), row.fields.get(11)) {
            (Some(_), Some(raw)) => raw.clone(),
            _ => String::new(),
        };
        if let Some(rest) = self.side.comments.remove(&ent_num) {
            remarks.push_str(&rest);
        }
        for clause in remarks::clauses(&remarks) {
            builder.clause(&clause);
        }
        for alias in self.side.aliases.remove(&ent_num).unwrap_or_default() {
            builder.alias(&alias);
        }
        let addresses = self.side.addresses.remove(&ent_num).unwrap_or_default();
        let mut address_records = Vec::new();
        for address in &addresses {
            if let Some(entity) = builder.address(address) {
                address_records.push(Record::upsert(entity, address.location.clone()));
            }
        }
        builder.sanctions(row.value(3));
        let (main, extra) = builder.finish();
        let mut records = vec![Record::upsert(main, location.clone())];
        records.extend(
            extra
                .into_iter()
                .map(|e| Record::upsert(e, location.clone())),
        );
        records.extend(address_records);
        Ok(records)
    }
}

/// Builds the entities of one SDN row.
struct Builder<'a> {
    entity: Entity,
    sdn_type: SdnType,
    ent_num: u64,
    notes: Vec<String>,
    extra: Vec<Entity>,
    provisions: Vec<String>,
    /// Listing dates the remarks give, with the qualifier naming what they apply to.
    listing_dates: Vec<(Option<String>, String)>,
    names: &'a NameIndex,
}

impl Builder<'_> {
    /// Adds a value; when the property does not exist on this schema or the value does not fit
    /// it, the clause it came from is kept as a note instead.
    fn add_or_note(&mut self, property: &str, value: &str, clause: &str) -> bool {
        let added = self.entity.add(property, value).is_ok();
        if !added && !clause.is_empty() {
            self.note(clause);
        }
        added
    }

    fn note(&mut self, text: &str) {
        let text = text.trim();
        if !text.is_empty() && !self.notes.iter().any(|n| n == text) {
            self.notes.push(text.to_string());
        }
    }

    fn is_person(&self) -> bool {
        self.sdn_type == SdnType::Person
    }

    /// OFAC writes persons "LAST, First Middle"; the name is stored "First Middle LAST", with
    /// the parts in `firstName` / `lastName` for the primary name.
    fn set_name(&mut self, property: &str, raw: &str) -> Result<(), String> {
        let split = self
            .is_person()
            .then(|| raw.split_once(','))
            .flatten()
            .map(|(last, first)| (last.trim(), first.trim()))
            .filter(|(last, first)| !last.is_empty() && !first.is_empty());
        let full = match split {
            Some((last, first)) => format!("{first} {last}"),
            None => raw.to_string(),
        };
        self.entity
            .add(property, &full)
            .map_err(|e| e.to_string())?;
        if property == "name"
            && let Some((last, first)) = split
        {
            self.add_or_note("firstName", first, raw);
            self.add_or_note("lastName", last, raw);
        }
        Ok(())
    }

    fn columns(&mut self, row: &Row) {
        let column = |builder: &mut Self, index: usize, property: &str| {
            if let Some(value) = row.value(index) {
                let label = SDN_COLUMNS.get(index).copied().unwrap_or("");
                builder.add_or_note(property, value, &format!("{label}: {value}"));
            }
        };
        column(self, 4, "title");
        column(self, 5, "callSign");
        column(self, 6, "type");
        column(self, 7, "tonnage");
        column(self, 8, "grossRegisteredTonnage");
        if let Some(flag) = row.value(9) {
            self.country_or_note("flag", flag, &format!("Vess_flag: {flag}"));
        }
        if let Some(owner) = row.value(10) {
            self.vessel_owner(owner);
        }
    }

    fn country_or_note(&mut self, property: &str, text: &str, clause: &str) {
        match country_code(text) {
            Some(code) => {
                self.add_or_note(property, code, clause);
            }
            None => self.note(clause),
        }
    }

    fn clause(&mut self, clause: &Clause) {
        let text = clause.text;
        let value = clause.value;
        let Some(kind) = clause.kind else {
            self.note(text);
            return;
        };
        match kind {
            Kind::BirthDate => self.dates("birthDate", value, text),
            Kind::Date(property) => self.dates(property, value, text),
            Kind::BirthPlace => {
                let place = remarks::without_full_stop(value);
                if self.add_or_note("birthPlace", place, text)
                    && let Some(code) = place.rsplit(',').next().and_then(country_code)
                {
                    self.add_or_note("birthCountry", code, "");
                }
            }
            Kind::Nationality => {
                self.country_or_note("nationality", remarks::without_full_stop(value), text);
            }
            Kind::Citizenship => {
                self.country_or_note("citizenship", remarks::without_full_stop(value), text);
            }
            Kind::Country(property) => {
                self.country_or_note(property, remarks::without_full_stop(value), text);
            }
            Kind::Text(property) | Kind::Code(property) => {
                self.add_or_note(property, remarks::without_full_stop(value), text);
            }
            Kind::WeakAlias => match remarks::quoted(value) {
                Some(alias) => {
                    if self.set_name("weakAlias", alias).is_err() {
                        self.note(text);
                    }
                }
                None => self.note(text),
            },
            Kind::LinkedTo => self.linked_to(value, text),
            Kind::Passport => self.document(clause, "Passport", "passportNumber"),
            Kind::IdentityDocument(property) => {
                self.document(clause, "Identification", property);
            }
            Kind::Number(property) => match remarks::parse_document(value) {
                Some(doc) => {
                    if self.add_or_note(property, doc.number, text) && doc.has_more {
                        self.note(text);
                    }
                }
                None => self.note(text),
            },
            Kind::Imo => {
                let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                let only_imo = value
                    .chars()
                    .all(|c| c.is_ascii_digit() || c.is_whitespace() || "IMOimo().".contains(c));
                if digits.len() == 7 && only_imo {
                    self.add_or_note("imoNumber", &format!("IMO{digits}"), text);
                } else {
                    self.note(text);
                }
            }
            Kind::Website => {
                let site = remarks::without_full_stop(value);
                let has_scheme = site.contains("://");
                let url = if has_scheme {
                    site.to_string()
                } else {
                    format!("http://{site}")
                };
                self.add_or_note("website", &url, text);
            }
            Kind::Wallet => self.wallet(value, text),
            Kind::AircraftOperator => {
                let operator = remarks::without_full_stop(value);
                match self.legal_entity_named(operator) {
                    Some(id) => {
                        self.add_or_note("operator", &id, text);
                    }
                    None => self.note(text),
                }
            }
            Kind::Provision => self.provisions.push(text.to_string()),
            Kind::ListingDate => {
                if let Some((qualifier, date)) = remarks::parse_listing_date(value) {
                    self.listing_dates
                        .push((qualifier.map(str::to_string), date.to_string()));
                }
                self.provisions.push(text.to_string());
            }
        }
    }

    fn dates(&mut self, property: &str, value: &str, clause: &str) {
        match remarks::parse_dates(remarks::without_full_stop(value)) {
            Some(dates) => {
                for date in dates {
                    if !self.add_or_note(property, &date.to_string(), clause) {
                        break;
                    }
                }
            }
            None => self.note(clause),
        }
    }

    fn id(&self, kind: &str, parts: &[&str]) -> String {
        format!("{}-{kind}-{}", entity_id(self.ent_num), short_hash(parts))
    }

    /// A passport or identity document: its own entity held by the subject, and the number on
    /// the subject. Only persons and organisations hold documents.
    fn document(&mut self, found: &Clause, schema: &str, property: &str) {
        let (clause, label) = (found.text, found.label);
        let Some(doc) = remarks::parse_document(found.value) else {
            self.note(clause);
            return;
        };
        if !self.sdn_type.is_legal_entity() || !self.add_or_note(property, doc.number, clause) {
            self.note(clause);
            return;
        }
        let id = self.id(
            &schema.to_ascii_lowercase(),
            &[label, doc.number, doc.country.unwrap_or("")],
        );
        let Ok(mut document) = Entity::new(schema, id) else {
            self.note(clause);
            return;
        };
        let holder = self.entity.id.clone();
        let mut complete = document.add("holder", &holder).is_ok()
            && document.add("number", doc.number).is_ok()
            && document.add("type", label).is_ok();
        if let Some(code) = doc.country {
            complete &= document.add("country", code).is_ok();
        }
        if let Some(date) = doc.issued {
            complete &= document.add("startDate", &date.to_string()).is_ok();
        }
        if let Some(date) = doc.expires {
            complete &= document.add("endDate", &date.to_string()).is_ok();
        }
        if !complete || doc.has_more {
            self.note(clause);
        }
        self.push_extra(document);
    }

    fn wallet(&mut self, value: &str, clause: &str) {
        let value = remarks::without_full_stop(value);
        let Some((currency, address)) = value.split_once(char::is_whitespace) else {
            self.note(clause);
            return;
        };
        let address = address.trim();
        if !self.sdn_type.is_legal_entity() || address.is_empty() || address.contains(' ') {
            self.note(clause);
            return;
        }
        let id = self.id("wallet", &[currency, address]);
        let Ok(mut wallet) = Entity::new("CryptoWallet", id) else {
            self.note(clause);
            return;
        };
        let holder = self.entity.id.clone();
        if wallet.add("publicKey", address).is_ok()
            && wallet.add("currencySymbol", currency).is_ok()
            && wallet.add("holder", &holder).is_ok()
        {
            self.push_extra(wallet);
        } else {
            self.note(clause);
        }
    }

    /// The id of the list's person or organisation with this name, if exactly one.
    fn legal_entity_named(&self, name: &str) -> Option<String> {
        match self.names.resolve(name)? {
            Named::One { ent_num, sdn_type } if sdn_type.is_legal_entity() => {
                Some(entity_id(ent_num))
            }
            _ => None,
        }
    }

    fn linked_to(&mut self, name: &str, clause: &str) {
        let other = match self.names.resolve(name) {
            Some(Named::One { ent_num, .. }) if ent_num != self.ent_num => ent_num,
            _ => {
                self.note(clause);
                return;
            }
        };
        let id = format!("ofac-link-{}-{other}", self.ent_num);
        let Ok(mut link) = Entity::new("UnknownLink", id) else {
            self.note(clause);
            return;
        };
        let subject = self.entity.id.clone();
        if link.add("subject", &subject).is_ok()
            && link.add("object", &entity_id(other)).is_ok()
            && link.add("role", "Linked To").is_ok()
        {
            self.push_extra(link);
        } else {
            self.note(clause);
        }
    }

    /// Vess_owner names a company; when it is on the list, the vessel gets an `Ownership`.
    fn vessel_owner(&mut self, owner: &str) {
        let clause = format!("Vess_owner: {owner}");
        let Some(owner_id) = self.legal_entity_named(owner) else {
            self.note(&clause);
            return;
        };
        let asset = self.entity.id.clone();
        let Ok(mut ownership) = Entity::new("Ownership", format!("ofac-own-{owner_id}-{asset}"))
        else {
            self.note(&clause);
            return;
        };
        if ownership.add("owner", &owner_id).is_ok()
            && ownership.add("asset", &asset).is_ok()
            && ownership.add("role", "Vessel owner").is_ok()
        {
            self.push_extra(ownership);
        } else {
            self.note(&clause);
        }
    }

    fn alias(&mut self, alias: &AliasRow) {
        let property = match alias.alt_type {
            AltType::Aka | AltType::Nka => "alias",
            AltType::Fka => "previousName",
        };
        if self.set_name(property, &alias.name).is_err() {
            self.note(&format!("alias: {}", alias.name));
        }
        if let Some(remarks) = &alias.remarks {
            self.note(&format!("alias {}: {remarks}", alias.name));
        }
    }

    /// An `Address` entity for an add.csv row, and its text and country on the subject.
    fn address(&mut self, row: &AddressRow) -> Option<Entity> {
        let parts: Vec<&str> = [&row.street, &row.city, &row.country]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if parts.is_empty() && row.remarks.is_none() {
            return None;
        }
        let full = parts.join(", ");
        let code = row.country.as_deref().and_then(country_code);
        let id = format!(
            "{}-address-{}",
            entity_id(self.ent_num),
            slug(&row.add_num).unwrap_or_else(|| short_hash(&[&full]))
        );
        let mut address = Entity::new("Address", id).ok()?;
        let mut fits = true;
        for (property, value) in [
            ("full", Some(full.as_str())),
            ("street", row.street.as_deref()),
            ("city", row.city.as_deref()),
            ("country", code),
            ("remarks", row.remarks.as_deref()),
        ] {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                fits &= address.add(property, value).is_ok();
            }
        }
        if !full.is_empty() {
            fits &= self.entity.add("address", &full).is_ok();
        }
        if let Some(code) = code {
            fits &= self.entity.add("country", code).is_ok();
        }
        fits &= self.entity.add("addressEntity", &address.id).is_ok();
        if !fits {
            self.note(&format!("address: {full}"));
        }
        Some(address)
    }

    /// One `Sanction` per program tag (`[SDGT] [IRGC]` is written `SDGT] [IRGC` in the
    /// column).
    fn sanctions(&mut self, programs: Option<&str>) {
        let mut codes: Vec<&str> = Vec::new();
        for code in programs
            .unwrap_or("")
            .split(['[', ']'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        if codes.is_empty() {
            for provision in std::mem::take(&mut self.provisions) {
                self.note(&provision);
            }
            return;
        }
        let dated_programs: Vec<bool> = codes
            .iter()
            .map(|code| {
                self.listing_dates
                    .iter()
                    .any(|(qualifier, _)| qualifier_names_program(qualifier.as_deref(), code))
            })
            .collect();
        let any_dated = dated_programs.contains(&true);
        for (code, dated) in codes.into_iter().zip(dated_programs) {
            let id = format!(
                "{}-sanction-{}",
                entity_id(self.ent_num),
                slug(code).unwrap_or_else(|| short_hash(&[code]))
            );
            let Ok(mut sanction) = Entity::new("Sanction", id) else {
                continue;
            };
            let url = format!(
                "https://sanctionssearch.ofac.treas.gov/Details.aspx?id={}",
                self.ent_num
            );
            let program_id = format!("US-OFAC-{}", slug(code).unwrap_or_default());
            let mut fits = [
                ("entity", self.entity.id.as_str()),
                ("authority", AUTHORITY),
                ("country", "us"),
                ("program", code),
                ("programId", program_id.as_str()),
                ("sourceUrl", url.as_str()),
            ]
            .into_iter()
            .all(|(property, value)| sanction.add(property, value).is_ok());
            for (qualifier, date) in &self.listing_dates {
                // A date that names no program of this entry applies to all of them.
                if !any_dated || (dated && qualifier_names_program(qualifier.as_deref(), code)) {
                    fits &= sanction.add("listingDate", date).is_ok();
                }
            }
            for provision in &self.provisions {
                fits &= sanction.add("provisions", provision).is_ok();
            }
            if !fits {
                self.note(&format!("Program: {code}"));
            }
            self.push_extra(sanction);
        }
    }

    fn push_extra(&mut self, entity: Entity) {
        match self.extra.iter_mut().find(|e| e.id == entity.id) {
            Some(existing) => {
                if existing.merge(&entity).is_err() {
                    self.notes
                        .push(format!("conflicting data for {}", entity.id));
                }
            }
            None => self.extra.push(entity),
        }
    }

    fn finish(mut self) -> (Entity, Vec<Entity>) {
        for note in std::mem::take(&mut self.notes) {
            self.entity.add_lenient("notes", &note.replace('\0', ""));
        }
        (self.entity, self.extra)
    }
}

/// Whether a listing-date qualifier ("EO 14024 Directive 2") names a program code
/// ("RUSSIA-EO14024"): they share the executive order's number.
fn qualifier_names_program(qualifier: Option<&str>, program: &str) -> bool {
    let Some(qualifier) = qualifier else {
        return false;
    };
    qualifier
        .split(|c: char| !c.is_ascii_digit())
        .filter(|number| number.len() >= 4)
        .any(|number| program.contains(number))
}

/// A country code for the way OFAC writes a country ("Korea, North", "Region: Gaza").
fn country_code(text: &str) -> Option<&'static str> {
    let text = text.trim();
    country::lookup(text).or_else(|| {
        let region = text.get(..7)?;
        region
            .eq_ignore_ascii_case("region:")
            .then(|| text.get(7..))
            .flatten()
            .and_then(country::lookup)
    })
}

/// Letters and digits kept, every other run of characters a single `-`; `None` when nothing
/// is left.
fn slug(text: &str) -> Option<String> {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    (!out.is_empty() && out.len() <= 80).then(|| out.to_string())
}

/// A short, stable digest of some values, for ids of entities the list gives no number to.
fn short_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize().get(..8).unwrap_or(&[]))
}
