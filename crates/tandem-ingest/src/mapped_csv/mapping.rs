//! The mapping file: how the rows of an analyst's CSV become entities (format described in
//! `docs/mapping.md`). Everything that can be checked without the data is checked here, so that
//! a wrong schema, property or reference is reported before the first row is read.

use std::collections::HashMap;
use std::str::FromStr;

use tandem_core::model::{Property, PropertyType, Schema};
use tandem_core::{Model, Sensitivity};
use toml::{Table, Value};

use super::template::{self, Template};
use super::values::{self, DateFormat};
use crate::{IngestError, Location};

/// A column as the mapping names it; the reader finds where it is in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ColumnId(pub usize);

#[derive(Debug, Clone)]
pub(crate) struct CsvOptions {
    pub delimiter: u8,
    pub quote: u8,
    pub header: bool,
    /// Names for the columns of a file without a header row, in order.
    pub names: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum SensitivitySource {
    Fixed(Sensitivity),
    Column {
        column: ColumnId,
        default: Sensitivity,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum ConfidenceSource {
    Fixed(f32),
    Column(ColumnId),
}

#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Cells of these columns.
    Columns(Vec<ColumnId>),
    /// The same value on every row, already converted and checked.
    Literal(String),
    /// The id of the entity that another section made from this same row.
    SameRow(usize),
    /// The id another section would give a row whose placeholder columns held these cells:
    /// (the other section's placeholder column, the column of this row that fills it).
    OtherRow {
        section: usize,
        bindings: Vec<(ColumnId, ColumnId)>,
    },
    /// An id built from this row by a template of its own (entities from another file).
    Id(Template),
}

#[derive(Debug, Clone)]
pub(crate) struct PropertyMapping {
    /// Where the mapping says it, e.g. `entities[people].properties.alias`.
    pub key: String,
    pub property: &'static Property,
    pub source: Source,
    pub split: Option<String>,
    /// Lower-cased cell → value to use instead; an empty value drops the cell.
    pub map: HashMap<String, String>,
    pub date_format: Option<DateFormat>,
}

#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub name: String,
    pub schema: &'static Schema,
    pub id: Template,
    pub optional: bool,
    pub sensitivity: SensitivitySource,
    pub confidence: Option<ConfidenceSource>,
    pub properties: Vec<PropertyMapping>,
}

impl Section {
    pub fn key(&self) -> String {
        format!("entities[{}]", self.name)
    }
}

/// A checked mapping, ready to read CSV files with [`super::MappedCsvReader`].
#[derive(Debug, Clone)]
pub struct Mapping {
    pub(crate) file: String,
    pub(crate) csv: CsvOptions,
    /// Column names as the mapping writes them, by [`ColumnId`].
    pub(crate) columns: Vec<String>,
    pub(crate) sections: Vec<Section>,
    /// Sections in an order where every same-row reference comes after its target.
    pub(crate) order: Vec<usize>,
}

/// An analyst's sheet is intelligence unless the mapping says otherwise.
pub const DEFAULT_SENSITIVITY: Sensitivity = Sensitivity::Restricted;

fn config(file: &str, key: impl Into<String>, message: impl Into<String>) -> IngestError {
    IngestError::Config {
        location: Location::file(file).with_field(key),
        message: message.into(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "true or false",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

/// Reads one TOML table, remembering where it is for errors and refusing unknown keys.
struct TableReader<'t> {
    file: &'t str,
    path: String,
    table: &'t Table,
}

impl<'t> TableReader<'t> {
    fn new(
        file: &'t str,
        path: String,
        table: &'t Table,
        allowed: &[&str],
    ) -> Result<Self, IngestError> {
        if let Some(unknown) = table.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(config(
                file,
                join_key(&path, unknown),
                format!(
                    "unknown key {unknown:?}; expected one of: {}",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(TableReader { file, path, table })
    }

    fn key(&self, key: &str) -> String {
        join_key(&self.path, key)
    }

    fn error(&self, key: &str, message: impl Into<String>) -> IngestError {
        config(self.file, self.key(key), message)
    }

    fn wrong_type(&self, key: &str, wanted: &str, found: &Value) -> IngestError {
        self.error(
            key,
            format!("expected {wanted}, found {}", type_name(found)),
        )
    }

    fn string(&self, key: &str) -> Result<Option<&'t str>, IngestError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    fn required_string(&self, key: &str) -> Result<&'t str, IngestError> {
        self.string(key)?
            .ok_or_else(|| self.error(key, format!("{key:?} is required")))
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, IngestError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong_type(key, "true or false", other)),
        }
    }

    fn strings(&self, key: &str) -> Result<Option<Vec<&'t str>>, IngestError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.as_str()),
                    other => Err(self.wrong_type(key, "a list of strings", other)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.wrong_type(key, "a list of strings", other)),
        }
    }

    fn byte(&self, key: &str, default: u8) -> Result<u8, IngestError> {
        match self.string(key)? {
            None => Ok(default),
            Some(text) => match text.as_bytes() {
                [b] if b.is_ascii() => Ok(*b),
                _ => Err(self.error(
                    key,
                    format!("{text:?} must be exactly one ASCII character (\"\\t\" for a tab)"),
                )),
            },
        }
    }
}

fn join_key(path: &str, key: &str) -> String {
    if key.is_empty() {
        path.to_string()
    } else if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Column names are interned so that every reference is a small id.
struct Columns<'o> {
    options: &'o CsvOptions,
    names: Vec<String>,
}

impl Columns<'_> {
    fn id(&mut self, name: &str) -> Result<ColumnId, String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("a column name is empty".to_string());
        }
        if !self.options.header
            && !self.options.names.iter().any(|n| n == name)
            && !name.parse::<usize>().is_ok_and(|n| n >= 1)
        {
            return Err(format!(
                "column {name:?}: the file has no header, so name columns in csv.columns or by number (the first is 1)"
            ));
        }
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Ok(ColumnId(i));
        }
        self.names.push(name.to_string());
        Ok(ColumnId(self.names.len() - 1))
    }
}

impl Mapping {
    /// Reads and checks a mapping; `file_name` is used in errors.
    pub fn from_toml(text: &str, file_name: &str) -> Result<Mapping, IngestError> {
        let table: Table = text.parse().map_err(|err: toml::de::Error| {
            let line = err.span().map(|span| {
                text.get(..span.start).unwrap_or(text).matches('\n').count() as u64 + 1
            });
            IngestError::Config {
                location: Location {
                    line,
                    ..Location::file(file_name)
                },
                message: format!("not valid TOML: {}", err.message()),
            }
        })?;
        let top = TableReader::new(file_name, String::new(), &table, &["csv", "entities"])?;
        let csv = read_csv_options(&top)?;
        let mut columns = Columns {
            options: &csv,
            names: Vec::new(),
        };

        let raw_sections = match table.get("entities") {
            Some(Value::Array(items)) if !items.is_empty() => items,
            Some(Value::Array(_)) | None => {
                return Err(top.error(
                    "entities",
                    "no [[entities]] section: the mapping must say what each row becomes",
                ));
            }
            Some(other) => return Err(top.wrong_type("entities", "[[entities]] sections", other)),
        };
        let mut tables = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for (index, item) in raw_sections.iter().enumerate() {
            let Value::Table(section) = item else {
                return Err(top.wrong_type("entities", "[[entities]] sections", item));
            };
            let fallback = format!("entities[{}]", index + 1);
            let name = match section.get("name") {
                Some(Value::String(n)) if !n.trim().is_empty() => n.trim().to_string(),
                Some(Value::String(_)) => {
                    return Err(config(
                        file_name,
                        format!("{fallback}.name"),
                        "the name is empty",
                    ));
                }
                Some(other) => {
                    return Err(config(
                        file_name,
                        format!("{fallback}.name"),
                        format!("expected a string, found {}", type_name(other)),
                    ));
                }
                None => (index + 1).to_string(),
            };
            if names.contains(&name) {
                return Err(config(
                    file_name,
                    format!("entities[{name}].name"),
                    format!("two sections are named {name:?}; references need unique names"),
                ));
            }
            names.push(name);
            tables.push(section);
        }

        // Ids first: references to a section need its template, whatever the order.
        let mut heads = Vec::new();
        for (section, name) in tables.iter().zip(&names) {
            let reader = TableReader::new(
                file_name,
                format!("entities[{name}]"),
                section,
                &[
                    "name",
                    "schema",
                    "id",
                    "optional",
                    "sensitivity",
                    "confidence",
                    "properties",
                ],
            )?;
            let schema_name = reader.required_string("schema")?;
            let schema = Model::get()
                .schema(schema_name)
                .ok_or_else(|| reader.error("schema", format!("unknown schema {schema_name:?}")))?;
            if schema.is_abstract {
                return Err(reader.error(
                    "schema",
                    format!("schema {schema_name} is abstract; use a concrete one (e.g. Person, Company)"),
                ));
            }
            let id_text = reader.required_string("id")?;
            let id = template::parse(id_text, |column| columns.id(column))
                .map_err(|message| reader.error("id", message))?;
            heads.push((reader, schema, id));
        }

        let mut sections = Vec::new();
        for ((reader, schema, id), name) in heads.iter().zip(&names) {
            let properties = read_properties(reader, schema, &names, &heads, &mut columns)?;
            sections.push(Section {
                name: name.clone(),
                schema,
                id: id.clone(),
                optional: reader.boolean("optional")?.unwrap_or(false),
                sensitivity: read_sensitivity(reader, &mut columns)?,
                confidence: read_confidence(reader, &mut columns)?,
                properties,
            });
        }
        let order = dependency_order(file_name, &sections)?;
        let column_names = columns.names;
        Ok(Mapping {
            file: file_name.to_string(),
            csv,
            columns: column_names,
            sections,
            order,
        })
    }

    /// Reads the mapping file at `path`.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Mapping, IngestError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| IngestError::Io {
            file: name.clone(),
            source,
        })?;
        Mapping::from_toml(&text, &name)
    }

    /// The section names, in the order the mapping gives them.
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|s| s.name.as_str())
    }

    pub(crate) fn config_error(
        &self,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> IngestError {
        config(&self.file, key, message)
    }
}

fn read_csv_options(top: &TableReader<'_>) -> Result<CsvOptions, IngestError> {
    let Some(value) = top.table.get("csv") else {
        return Ok(CsvOptions {
            delimiter: b',',
            quote: b'"',
            header: true,
            names: Vec::new(),
        });
    };
    let Value::Table(table) = value else {
        return Err(top.wrong_type("csv", "a [csv] table", value));
    };
    let reader = TableReader::new(
        top.file,
        "csv".to_string(),
        table,
        &["delimiter", "quote", "header", "columns"],
    )?;
    let header = reader.boolean("header")?.unwrap_or(true);
    let names: Vec<String> = reader
        .strings("columns")?
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.trim().to_string())
        .collect();
    if header && !names.is_empty() {
        return Err(reader.error(
            "columns",
            "columns are named by the header row; set header = false to name them here",
        ));
    }
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() || names[..i].contains(name) {
            return Err(reader.error(
                "columns",
                format!("column name {name:?} is empty or repeated"),
            ));
        }
    }
    Ok(CsvOptions {
        delimiter: reader.byte("delimiter", b',')?,
        quote: reader.byte("quote", b'"')?,
        header,
        names,
    })
}

fn read_sensitivity(
    reader: &TableReader<'_>,
    columns: &mut Columns<'_>,
) -> Result<SensitivitySource, IngestError> {
    let parse = |key: &str, text: &str| {
        Sensitivity::from_str(text).map_err(|err| reader.error(key, err.to_string()))
    };
    match reader.table.get("sensitivity") {
        None => Ok(SensitivitySource::Fixed(DEFAULT_SENSITIVITY)),
        Some(Value::String(text)) => Ok(SensitivitySource::Fixed(parse("sensitivity", text)?)),
        Some(Value::Table(table)) => {
            let inner = TableReader::new(
                reader.file,
                reader.key("sensitivity"),
                table,
                &["column", "default"],
            )?;
            let column = inner.required_string("column")?;
            let default = match inner.string("default")? {
                Some(text) => parse("sensitivity.default", text)?,
                None => DEFAULT_SENSITIVITY,
            };
            Ok(SensitivitySource::Column {
                column: columns.id(column).map_err(|m| inner.error("column", m))?,
                default,
            })
        }
        Some(other) => Err(reader.wrong_type(
            "sensitivity",
            "public, restricted, protected or { column = \"…\" }",
            other,
        )),
    }
}

fn read_confidence(
    reader: &TableReader<'_>,
    columns: &mut Columns<'_>,
) -> Result<Option<ConfidenceSource>, IngestError> {
    let fixed = |value: f64| {
        if (0.0..=1.0).contains(&value) {
            Ok(Some(ConfidenceSource::Fixed(value as f32)))
        } else {
            Err(reader.error("confidence", format!("{value} is not between 0 and 1")))
        }
    };
    match reader.table.get("confidence") {
        None => Ok(None),
        Some(Value::Float(value)) => fixed(*value),
        Some(Value::Integer(value)) => fixed(*value as f64),
        Some(Value::Table(table)) => {
            let inner =
                TableReader::new(reader.file, reader.key("confidence"), table, &["column"])?;
            let column = inner.required_string("column")?;
            let id = columns.id(column).map_err(|m| inner.error("column", m))?;
            Ok(Some(ConfidenceSource::Column(id)))
        }
        Some(other) => Err(reader.wrong_type(
            "confidence",
            "a number from 0 to 1 or { column = \"…\" }",
            other,
        )),
    }
}

type SectionHead<'t> = (TableReader<'t>, &'static Schema, Template);

fn read_properties(
    reader: &TableReader<'_>,
    schema: &'static Schema,
    names: &[String],
    heads: &[SectionHead<'_>],
    columns: &mut Columns<'_>,
) -> Result<Vec<PropertyMapping>, IngestError> {
    let table = match reader.table.get("properties") {
        Some(Value::Table(table)) => table,
        None => {
            return Err(reader.error(
                "properties",
                "no [entities.properties]: say which columns fill which properties",
            ));
        }
        Some(other) => return Err(reader.wrong_type("properties", "a table", other)),
    };
    let mut mappings = Vec::new();
    for (name, spec) in table {
        let key = reader.key(&format!("properties.{name}"));
        let error = |message: String| config(reader.file, key.clone(), message);
        let property = schema
            .property(name)
            .ok_or_else(|| error(format!("schema {} has no property {name:?}", schema.name)))?;
        if property.stub {
            return Err(error(format!(
                "{name} is the reverse side of a relation and is computed; map the relation's own property instead"
            )));
        }
        mappings.push(read_property(
            reader.file,
            key.clone(),
            property,
            spec,
            names,
            heads,
            columns,
        )?);
    }
    let missing: Vec<&str> = schema
        .required
        .iter()
        .filter(|p| !mappings.iter().any(|m| &m.property.name == *p))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(reader.error(
            "properties",
            format!("schema {} needs {}", schema.name, missing.join(" and ")),
        ));
    }
    Ok(mappings)
}

fn read_property(
    file: &str,
    key: String,
    property: &'static Property,
    spec: &Value,
    names: &[String],
    heads: &[SectionHead<'_>],
    columns: &mut Columns<'_>,
) -> Result<PropertyMapping, IngestError> {
    let error = |key: &str, message: String| config(file, key.to_string(), message);
    let column_list = |items: &[&str], columns: &mut Columns<'_>, key: &str| {
        items
            .iter()
            .map(|c| columns.id(c).map_err(|m| error(key, m)))
            .collect::<Result<Vec<_>, _>>()
    };
    let mut mapping = PropertyMapping {
        key: key.clone(),
        property,
        source: Source::Columns(Vec::new()),
        split: None,
        map: HashMap::new(),
        date_format: None,
    };
    match spec {
        Value::String(column) => {
            mapping.source = Source::Columns(column_list(&[column.as_str()], columns, &key)?);
        }
        Value::Array(items) => {
            let list = items
                .iter()
                .map(|item| match item {
                    Value::String(column) => Ok(column.as_str()),
                    other => Err(error(
                        &key,
                        format!(
                            "expected a list of column names, found {}",
                            type_name(other)
                        ),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            mapping.source = Source::Columns(column_list(&list, columns, &key)?);
        }
        Value::Table(table) => {
            let reader = TableReader::new(
                file,
                key.clone(),
                table,
                &[
                    "column",
                    "columns",
                    "value",
                    "entity",
                    "id",
                    "split",
                    "map",
                    "date_format",
                ],
            )?;
            mapping.source = read_source(&reader, property, names, heads, columns)?;
            mapping.split = reader.string("split")?.map(str::to_string);
            if mapping.split.as_deref() == Some("") {
                return Err(reader.error("split", "the separator is empty".to_string()));
            }
            if let Some(format) = reader.string("date_format")? {
                if property.kind != PropertyType::Date {
                    return Err(reader.error(
                        "date_format",
                        format!("{} is not a date property", property.name),
                    ));
                }
                mapping.date_format =
                    Some(DateFormat::parse(format).map_err(|m| reader.error("date_format", m))?);
            }
            if let Some(value) = table.get("map") {
                let Value::Table(pairs) = value else {
                    return Err(reader.wrong_type("map", "a table of \"cell\" = \"value\"", value));
                };
                for (cell, replacement) in pairs {
                    let Value::String(replacement) = replacement else {
                        return Err(reader.wrong_type(
                            &format!("map.{cell}"),
                            "a string",
                            replacement,
                        ));
                    };
                    if !replacement.trim().is_empty() {
                        check_value(property, mapping.date_format.as_ref(), replacement)
                            .map_err(|m| reader.error(&format!("map.{cell}"), m))?;
                    }
                    mapping
                        .map
                        .insert(cell.trim().to_lowercase(), replacement.trim().to_string());
                }
            }
        }
        other => {
            return Err(error(
                &key,
                format!(
                    "expected a column name, a list of columns or a table, found {}",
                    type_name(other)
                ),
            ));
        }
    }
    if let Source::Literal(text) = &mapping.source {
        let checked = check_value(property, mapping.date_format.as_ref(), text)
            .map_err(|m| error(&format!("{key}.value"), m))?;
        mapping.source = Source::Literal(checked);
    }
    Ok(mapping)
}

/// Checks a value the mapping itself gives (a literal or a map replacement) as a row's cell
/// would be checked, and returns its stored form.
fn check_value(
    property: &'static Property,
    date_format: Option<&DateFormat>,
    raw: &str,
) -> Result<String, String> {
    let converted = values::convert(property, date_format, raw)?;
    tandem_core::value::clean(property.kind, &property.name, &converted).map_err(|e| e.to_string())
}

fn read_source(
    reader: &TableReader<'_>,
    property: &'static Property,
    names: &[String],
    heads: &[SectionHead<'_>],
    columns: &mut Columns<'_>,
) -> Result<Source, IngestError> {
    let given: Vec<&str> = ["column", "columns", "value", "entity", "id"]
        .into_iter()
        .filter(|k| reader.table.contains_key(*k))
        .collect();
    let is_reference = property.kind == PropertyType::Entity;
    let entity_target = reader.string("entity")?;
    let allowed_together = matches!(
        given.as_slice(),
        ["column", "entity"] | ["columns", "entity"]
    );
    if given.len() != 1 && !allowed_together {
        return Err(reader.error(
            "",
            "give exactly one of column, columns, value, entity (optionally with column/columns) or id",
        ));
    }
    if (entity_target.is_some() || reader.table.contains_key("id")) && !is_reference {
        return Err(reader.error(
            if entity_target.is_some() {
                "entity"
            } else {
                "id"
            },
            format!("{} is not a reference to another entity", property.name),
        ));
    }
    if let Some(target_name) = entity_target {
        let target = names.iter().position(|n| n == target_name).ok_or_else(|| {
            reader.error(
                "entity",
                format!(
                    "no section is named {target_name:?} (sections: {})",
                    names.join(", ")
                ),
            )
        })?;
        let (_, target_schema, target_id) = heads
            .get(target)
            .ok_or_else(|| reader.error("entity", "section index out of range"))?;
        if let Some(range) = &property.range
            && !target_schema.is_a(range)
        {
            return Err(reader.error(
                "entity",
                format!(
                    "{} must point at a {range}, but section {target_name:?} makes {}",
                    property.name, target_schema.name
                ),
            ));
        }
        let placeholders = target_id.columns();
        return match (reader.table.get("column"), reader.table.get("columns")) {
            (None, None) => Ok(Source::SameRow(target)),
            (Some(_), _) => {
                let column = reader.required_string("column")?;
                let [only] = placeholders.as_slice() else {
                    return Err(reader.error(
                        "column",
                        format!(
                            "section {target_name:?} builds ids from several columns ({}); use columns = {{ \"its column\" = \"this row's column\", … }}",
                            target_id.text
                        ),
                    ));
                };
                let ours = columns.id(column).map_err(|m| reader.error("column", m))?;
                Ok(Source::OtherRow {
                    section: target,
                    bindings: vec![(*only, ours)],
                })
            }
            (None, Some(Value::Table(pairs))) => {
                let mut bindings = Vec::new();
                for (theirs, ours) in pairs {
                    let Value::String(ours) = ours else {
                        return Err(reader.wrong_type(
                            &format!("columns.{theirs}"),
                            "a column name",
                            ours,
                        ));
                    };
                    let theirs_id = columns.id(theirs).map_err(|m| reader.error("columns", m))?;
                    if !placeholders.contains(&theirs_id) {
                        return Err(reader.error(
                            &format!("columns.{theirs}"),
                            format!("{theirs:?} is not a placeholder of section {target_name:?}'s id {:?}", target_id.text),
                        ));
                    }
                    let ours_id = columns.id(ours).map_err(|m| reader.error("columns", m))?;
                    bindings.push((theirs_id, ours_id));
                }
                if let Some(unbound) = placeholders
                    .iter()
                    .find(|p| !bindings.iter().any(|(theirs, _)| theirs == *p))
                {
                    let name = columns.names.get(unbound.0).cloned().unwrap_or_default();
                    return Err(reader.error(
                        "columns",
                        format!("say which column of this row fills {name:?} of section {target_name:?}'s id"),
                    ));
                }
                Ok(Source::OtherRow {
                    section: target,
                    bindings,
                })
            }
            (None, Some(other)) => Err(reader.wrong_type(
                "columns",
                "a table of \"its column\" = \"this row's column\"",
                other,
            )),
        };
    }
    if let Some(text) = reader.string("id")? {
        let template = template::parse(text, |column| columns.id(column))
            .map_err(|m| reader.error("id", m))?;
        return Ok(Source::Id(template));
    }
    if let Some(column) = reader.string("column")? {
        let id = columns.id(column).map_err(|m| reader.error("column", m))?;
        return Ok(Source::Columns(vec![id]));
    }
    if let Some(list) = reader.strings("columns")? {
        let ids = list
            .iter()
            .map(|c| columns.id(c).map_err(|m| reader.error("columns", m)))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Source::Columns(ids));
    }
    match reader.table.get("value") {
        Some(Value::String(s)) => Ok(Source::Literal(s.clone())),
        Some(Value::Integer(i)) => Ok(Source::Literal(i.to_string())),
        Some(Value::Float(f)) => Ok(Source::Literal(f.to_string())),
        Some(Value::Boolean(b)) => Ok(Source::Literal(b.to_string())),
        Some(Value::Datetime(d)) => Ok(Source::Literal(d.to_string())),
        Some(other) => Err(reader.wrong_type("value", "a string or number", other)),
        None => Err(reader.error("", "no source given")),
    }
}

/// Orders sections so that a same-row reference is made after its target; refuses cycles.
fn dependency_order(file: &str, sections: &[Section]) -> Result<Vec<usize>, IngestError> {
    let depends_on = |i: usize| -> Vec<usize> {
        sections
            .get(i)
            .map(|s| {
                s.properties
                    .iter()
                    .filter_map(|p| match p.source {
                        Source::SameRow(target) => Some(target),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut order = Vec::with_capacity(sections.len());
    let mut placed = vec![false; sections.len()];
    while order.len() < sections.len() {
        let next = (0..sections.len()).find(|&i| {
            !placed[i]
                && depends_on(i)
                    .iter()
                    .all(|&d| placed.get(d).copied().unwrap_or(false))
        });
        match next {
            Some(i) => {
                placed[i] = true;
                order.push(i);
            }
            None => {
                let stuck: Vec<String> = (0..sections.len())
                    .filter(|&i| !placed[i])
                    .filter_map(|i| sections.get(i).map(Section::key))
                    .collect();
                return Err(config(
                    file,
                    stuck.first().cloned().unwrap_or_default(),
                    format!(
                        "sections refer to each other's entities from the same row in a circle: {}",
                        stuck.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(order)
}
