//! Id templates: `case-{Case ID}` fills `{Case ID}` from that column of the row;
//! `victim-{#Name}` puts a digest of the value instead, for ids that must not reveal it.

use super::mapping::ColumnId;
use crate::un::stable_digest;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Segment {
    Literal(String),
    Column { column: ColumnId, hashed: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Template {
    pub text: String,
    pub segments: Vec<Segment>,
}

/// Splits a template into literal text and placeholders; `resolve` turns a column name into
/// its id (and may refuse it). Errors are messages for the mapping's author.
pub(crate) fn parse(
    text: &str,
    mut resolve: impl FnMut(&str) -> Result<ColumnId, String>,
) -> Result<Template, String> {
    let mut segments = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            None => {
                check_literal(rest)?;
                segments.push(Segment::Literal(rest.to_string()));
                rest = "";
            }
            Some(at) => {
                let (literal, from_brace) = rest.split_at(at);
                if !literal.is_empty() {
                    check_literal(literal)?;
                    segments.push(Segment::Literal(literal.to_string()));
                }
                if from_brace.starts_with('}') {
                    return Err(format!("'}}' without '{{' in {text:?}"));
                }
                let inner_end = from_brace
                    .find('}')
                    .ok_or_else(|| format!("'{{' without '}}' in {text:?}"))?;
                let inner = &from_brace[1..inner_end];
                let (column, hashed) = match inner.strip_prefix('#') {
                    Some(column) => (column, true),
                    None => (inner, false),
                };
                if column.is_empty() || column.contains('{') {
                    return Err(format!("empty or nested placeholder in {text:?}"));
                }
                segments.push(Segment::Column {
                    column: resolve(column)?,
                    hashed,
                });
                rest = &from_brace[inner_end + 1..];
            }
        }
    }
    if !segments.iter().any(|s| matches!(s, Segment::Column { .. })) {
        return Err(format!(
            "{text:?} has no {{column}} placeholder, so every row would get the same id"
        ));
    }
    Ok(Template {
        text: text.to_string(),
        segments,
    })
}

fn check_literal(literal: &str) -> Result<(), String> {
    if tandem_core::value::is_valid_entity_id(literal) {
        Ok(())
    } else {
        Err(format!(
            "{literal:?} cannot be part of an id: use letters, digits, '.', '-', '_' or ':'"
        ))
    }
}

impl Template {
    /// The columns the template reads, in order, without repeats.
    pub fn columns(&self) -> Vec<ColumnId> {
        let mut columns = Vec::new();
        for segment in &self.segments {
            if let Segment::Column { column, .. } = segment
                && !columns.contains(column)
            {
                columns.push(*column);
            }
        }
        columns
    }

    /// The id for a row, with `value` giving each column's cell. `Err(column)` names the first
    /// placeholder column whose cell is empty.
    pub fn render<'v>(
        &self,
        mut value: impl FnMut(ColumnId) -> &'v str,
    ) -> Result<String, ColumnId> {
        let mut id = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => id.push_str(text),
                Segment::Column { column, hashed } => {
                    let cell = value(*column).trim();
                    if cell.is_empty() {
                        return Err(*column);
                    }
                    if *hashed {
                        id.push_str(&stable_digest(&[cell]));
                    } else {
                        id.push_str(&id_part(cell));
                    }
                }
            }
        }
        Ok(id)
    }
}

/// A cell as part of an id. Values that are already id-safe are kept as they are, so ids stay
/// readable and match ids made elsewhere; others become a slug plus a digest of the original,
/// so "Ali Ahmed" and "Ali-Ahmed" (two spellings, maybe two people) stay apart.
fn id_part(cell: &str) -> String {
    if tandem_core::value::is_valid_entity_id(cell) {
        return cell.to_string();
    }
    let mut slug = String::new();
    for c in cell.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let digest = stable_digest(&[cell]);
    let short = digest.get(..8).unwrap_or(&digest);
    if slug.is_empty() {
        short.to_string()
    } else if slug.ends_with('-') {
        format!("{slug}{short}")
    } else {
        format!("{slug}-{short}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_names(text: &str) -> Result<(Template, Vec<String>), String> {
        let mut names = Vec::new();
        let template = parse(text, |column| {
            names.push(column.to_string());
            Ok(ColumnId(names.len() - 1))
        })?;
        Ok((template, names))
    }

    #[test]
    fn placeholders_and_literals() {
        let (template, names) = parse_names("case-{Case ID}-{#Name}").unwrap();
        assert_eq!(names, ["Case ID", "Name"]);
        let cells = ["17", "Ali Ahmed"];
        let id = template.render(|c| cells[c.0]).unwrap();
        assert!(id.starts_with("case-17-"), "{id}");
        assert!(!id.contains("Ali"), "hashed value leaked: {id}");
        assert!(tandem_core::value::is_valid_entity_id(&id));
        assert_eq!(template.render(|c| ["17", " "][c.0]), Err(ColumnId(1)));
    }

    #[test]
    fn unsafe_values_become_distinct_slugs() {
        let a = id_part("Ali Ahmed");
        let b = id_part("Ali-Ahmed");
        assert!(a.starts_with("Ali-Ahmed-"), "{a}");
        assert_eq!(b, "Ali-Ahmed");
        assert_ne!(a, b);
        let arabic = id_part("أسامة");
        assert!(tandem_core::value::is_valid_entity_id(&arabic), "{arabic}");
    }

    #[test]
    fn bad_templates() {
        assert!(parse_names("case").is_err());
        assert!(parse_names("case-{").is_err());
        assert!(parse_names("case-}").is_err());
        assert!(parse_names("case-{}").is_err());
        assert!(parse_names("case {A}").is_err());
    }
}
