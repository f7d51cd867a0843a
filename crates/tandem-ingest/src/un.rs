//! The UN Security Council Consolidated List (XML, schema
//! <https://www.un.org/sc/resources/sc-sanctions.xsd>).
//!
//! The document is read as a stream of XML events: one `INDIVIDUAL` or `ENTITY` element is
//! gathered at a time, turned into entities and handed out, so memory is bounded by the largest
//! single listing, not by the list.
//!
//! Each listing becomes a `Person` (INDIVIDUAL) or `Organization` (ENTITY), one `Sanction`, and
//! `Address`, `Passport` and `Identification` entities for the addresses and documents it gives.
//! `un/convert.rs` documents the property mapping and the choice of ids.
//!
//! Errors: a listing that cannot become an entity (no name, no usable identifier) is an
//! [`IngestError::Invalid`] naming its element path and line; the reader goes on with the next
//! listing. A document that is not well-formed XML (or ends early) is an `Invalid` error naming
//! the element path where it broke and the line; nothing after it can be read, so the iterator
//! ends there.

mod convert;
mod lines;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use quick_xml::events::{BytesRef, Event};
use sha2::{Digest, Sha256};

use crate::{IngestError, Location, Record};
use lines::LineTracker;

pub use convert::{AUTHORITY, SOURCE_URL, alias_property};

const ROOT: &str = "CONSOLIDATED_LIST";

/// Deeper than anything in the schema (five levels); refusing more keeps a hostile document
/// from growing the element stack.
const MAX_DEPTH: usize = 32;
/// One field's text. COMMENTS1 is the longest in practice, a few kilobytes.
const MAX_FIELD_BYTES: usize = 1 << 20;
/// Fields (and sub-fields) in one listing; real listings have fewer than two hundred.
const MAX_FIELDS_PER_LISTING: usize = 10_000;
/// Distinct child names remembered per open element for `[n]` indexes.
const MAX_TRACKED_CHILD_NAMES: usize = 256;

/// Which kind of listing an element is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListingKind {
    Individual,
    Entity,
}

impl ListingKind {
    fn from_element(name: &str) -> Option<ListingKind> {
        match name {
            "INDIVIDUAL" => Some(ListingKind::Individual),
            "ENTITY" => Some(ListingKind::Entity),
            _ => None,
        }
    }
}

/// One leaf or group below a listing, as read: `<NATIONALITY><VALUE>Libya</VALUE></NATIONALITY>`
/// is a field `NATIONALITY` with one part `VALUE`.
#[derive(Debug, Default)]
pub(crate) struct RawField {
    pub tag: String,
    pub element: String,
    pub line: u64,
    pub text: String,
    pub parts: Vec<RawPart>,
}

#[derive(Debug, Default)]
pub(crate) struct RawPart {
    pub tag: String,
    pub text: String,
}

/// One `INDIVIDUAL` or `ENTITY` element, as read.
#[derive(Debug)]
pub(crate) struct RawListing {
    pub kind: ListingKind,
    pub element: String,
    pub line: u64,
    pub fields: Vec<RawField>,
    /// A problem found while reading that makes the listing unusable (reported at its end).
    pub defect: Option<(Location, String)>,
}

impl RawListing {
    fn field_count(&self) -> usize {
        self.fields.len() + self.fields.iter().map(|f| f.parts.len()).sum::<usize>()
    }
}

struct OpenElement {
    name: String,
    /// The element path including this element.
    path: String,
    /// How many children of each name this element has had so far.
    child_counts: Vec<(String, usize)>,
}

impl OpenElement {
    fn next_index(&mut self, child: &str) -> usize {
        if let Some((_, count)) = self.child_counts.iter_mut().find(|(n, _)| n == child) {
            *count += 1;
            return *count;
        }
        if self.child_counts.len() < MAX_TRACKED_CHILD_NAMES {
            self.child_counts.push((child.to_string(), 1));
        }
        1
    }
}

/// Elements that repeat in the schema carry their position in paths even when first, so that
/// `INDIVIDUAL_ALIAS[1]` and `INDIVIDUAL_ALIAS[2]` are told apart.
fn is_repeatable(name: &str) -> bool {
    ListingKind::from_element(name).is_some()
        || name == "VALUE"
        || name.starts_with("INDIVIDUAL_")
        || name.starts_with("ENTITY_")
}

/// Reads the UN consolidated list as [`Record`]s.
pub struct UnReader<R: BufRead = BufReader<File>> {
    xml: quick_xml::Reader<LineTracker<R>>,
    file: String,
    buf: Vec<u8>,
    stack: Vec<OpenElement>,
    /// The INDIVIDUAL or ENTITY element being read, if any.
    listing: Option<RawListing>,
    pending: VecDeque<Result<Record, IngestError>>,
    finished: bool,
    seen_root: bool,
    date_generated: Option<String>,
}

impl UnReader<BufReader<File>> {
    pub fn open(path: impl AsRef<Path>) -> Result<UnReader<BufReader<File>>, IngestError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| IngestError::Io {
            file: path.display().to_string(),
            source,
        })?;
        Ok(UnReader::from_reader(
            BufReader::new(file),
            path.display().to_string(),
        ))
    }
}

impl<R: BufRead> UnReader<R> {
    /// Reads from any buffered source; `file_name` is used in locations and errors.
    pub fn from_reader(reader: R, file_name: impl Into<String>) -> UnReader<R> {
        let mut xml = quick_xml::Reader::from_reader(LineTracker::new(reader));
        // `<QUALITY/>` then reads like `<QUALITY></QUALITY>`: one code path for both.
        xml.config_mut().expand_empty_elements = true;
        xml.config_mut().check_end_names = true;
        UnReader {
            xml,
            file: file_name.into(),
            buf: Vec::new(),
            stack: Vec::new(),
            listing: None,
            pending: VecDeque::new(),
            finished: false,
            seen_root: false,
            date_generated: None,
        }
    }

    /// The list's `dateGenerated` attribute, once the root element has been read (after the
    /// first call to `next`).
    pub fn date_generated(&self) -> Option<&str> {
        self.date_generated.as_deref()
    }

    fn location(&self, line: u64, element: Option<String>) -> Location {
        Location {
            file: self.file.clone(),
            line: Some(line),
            element,
            field: None,
        }
    }

    fn current_path(&self) -> Option<String> {
        self.stack.last().map(|e| e.path.clone())
    }

    /// Stops reading: the document cannot be trusted past this point.
    fn broken(&mut self, line: u64, message: String) -> IngestError {
        self.finished = true;
        self.listing = None;
        IngestError::unreadable(self.location(line, self.current_path()), message)
    }

    /// Reads events until at least one result is pending or the document ends.
    fn advance(&mut self) {
        while self.pending.is_empty() && !self.finished {
            let before = self.xml.buffer_position();
            self.xml.get_mut().forget_before(before);
            self.buf.clear();
            let event = match self.xml.read_event_into(&mut self.buf) {
                Ok(event) => event.into_owned(),
                Err(err) => {
                    let line = self.xml.get_ref().line_of(self.xml.error_position());
                    let error = self.broken(line, format!("not well-formed XML: {err}"));
                    self.pending.push_back(Err(error));
                    return;
                }
            };
            let line = self.xml.get_ref().line_of(before);
            match event {
                Event::Start(start) => {
                    let name = start.name().as_ref().to_string();
                    let generated = if self.stack.is_empty() {
                        start
                            .try_get_attribute("dateGenerated")
                            .ok()
                            .flatten()
                            .and_then(|a| {
                                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                    .ok()
                                    .map(|v| v.into_owned())
                            })
                    } else {
                        None
                    };
                    self.open_element(name, line, generated);
                }
                Event::End(_) => self.close_element(),
                Event::Text(text) => self.append_text(&text.xml10_content()),
                Event::CData(data) => self.append_text(&data.xml10_content()),
                Event::GeneralRef(reference) => self.append_reference(&reference, line),
                Event::Eof => {
                    self.finish(line);
                    return;
                }
                Event::Comment(_)
                | Event::Decl(_)
                | Event::PI(_)
                | Event::DocType(_)
                | Event::Empty(_) => {}
            }
        }
    }

    fn open_element(&mut self, name: String, line: u64, date_generated: Option<String>) {
        if self.stack.len() >= MAX_DEPTH {
            let error = self.broken(line, format!("elements nested deeper than {MAX_DEPTH}"));
            self.pending.push_back(Err(error));
            return;
        }
        let path = match self.stack.last_mut() {
            None => format!("/{name}"),
            Some(parent) => {
                let index = parent.next_index(&name);
                if index > 1 || is_repeatable(&name) {
                    format!("{}/{name}[{index}]", parent.path)
                } else {
                    format!("{}/{name}", parent.path)
                }
            }
        };
        let depth = self.stack.len();
        if depth == 0 {
            if self.seen_root || name != ROOT {
                let message = if self.seen_root {
                    "a second root element after the list".to_string()
                } else {
                    format!(
                        "not a UN consolidated list: the root element is <{name}>, expected <{ROOT}>"
                    )
                };
                let error = IngestError::unreadable(self.location(line, Some(path)), message);
                self.finished = true;
                self.pending.push_back(Err(error));
                return;
            }
            self.seen_root = true;
            self.date_generated = date_generated;
        }
        let in_listing_group = depth == 2
            && self
                .stack
                .get(1)
                .is_some_and(|group| matches!(group.name.as_str(), "INDIVIDUALS" | "ENTITIES"));
        if in_listing_group && let Some(kind) = ListingKind::from_element(&name) {
            self.listing = Some(RawListing {
                kind,
                element: path.clone(),
                line,
                fields: Vec::new(),
                defect: None,
            });
        } else if let Some(listing) = self.listing.as_mut() {
            // Depth 3 is a field of the listing, depth 4 a part of a field; anything deeper is
            // not in the schema and its text joins the part it sits in.
            if listing.field_count() >= MAX_FIELDS_PER_LISTING {
                if listing.defect.is_none() {
                    listing.defect = Some((
                        Location {
                            file: self.file.clone(),
                            line: Some(line),
                            element: Some(path.clone()),
                            field: None,
                        },
                        format!("more than {MAX_FIELDS_PER_LISTING} fields in one listing"),
                    ));
                }
            } else if depth == 3 {
                listing.fields.push(RawField {
                    tag: name.clone(),
                    element: path.clone(),
                    line,
                    ..RawField::default()
                });
            } else if depth == 4
                && let Some(field) = listing.fields.last_mut()
            {
                field.parts.push(RawPart {
                    tag: name.clone(),
                    text: String::new(),
                });
            }
        }
        self.stack.push(OpenElement {
            name,
            path,
            child_counts: Vec::new(),
        });
    }

    fn close_element(&mut self) {
        let closed_depth = self.stack.len();
        self.stack.pop();
        // The listing element sits at depth 3 (root, group, listing).
        if closed_depth == 3
            && let Some(listing) = self.listing.take()
        {
            self.emit(listing);
        }
    }

    fn emit(&mut self, listing: RawListing) {
        if let Some((location, message)) = listing.defect {
            self.pending
                .push_back(Err(IngestError::invalid(location, message)));
            return;
        }
        let location = self.location(listing.line, Some(listing.element.clone()));
        match convert::listing_entities(&listing, &self.file) {
            Ok(entities) => self.pending.extend(
                entities
                    .into_iter()
                    .map(|entity| Ok(Record::upsert(entity, location.clone()))),
            ),
            Err(error) => self.pending.push_back(Err(error)),
        }
    }

    fn append_text(&mut self, text: &str) {
        let depth = self.stack.len();
        let file = &self.file;
        let path = self.stack.last().map(|e| e.path.as_str());
        let Some(listing) = self.listing.as_mut() else {
            return;
        };
        let target = match depth {
            4 => listing.fields.last_mut().map(|f| &mut f.text),
            d if d > 4 => listing
                .fields
                .last_mut()
                .and_then(|f| f.parts.last_mut())
                .map(|p| &mut p.text),
            _ => None,
        };
        let Some(target) = target else {
            return;
        };
        if target.len() + text.len() > MAX_FIELD_BYTES {
            if listing.defect.is_none() {
                listing.defect = Some((
                    Location {
                        file: file.clone(),
                        line: None,
                        element: path.map(str::to_string),
                        field: None,
                    },
                    format!("text longer than {MAX_FIELD_BYTES} bytes"),
                ));
            }
            return;
        }
        target.push_str(text);
    }

    fn append_reference(&mut self, reference: &BytesRef<'_>, line: u64) {
        let resolved = match reference.resolve_char_ref() {
            Ok(Some(c)) => Some(c.to_string()),
            Ok(None) => quick_xml::escape::resolve_xml_entity(reference).map(str::to_string),
            Err(_) => None,
        };
        match resolved {
            Some(text) => self.append_text(&text),
            None => {
                let location = self.location(line, self.current_path());
                let message = format!("unknown entity reference &{};", &**reference);
                // Outside a listing the reference is in text we do not use.
                if let Some(listing) = self.listing.as_mut()
                    && listing.defect.is_none()
                {
                    listing.defect = Some((location, message));
                }
            }
        }
    }

    fn finish(&mut self, line: u64) {
        self.finished = true;
        if let Some(open) = self.stack.last() {
            let message = format!(
                "the document ends before </{}> (truncated file?); no listing after this point can be read",
                open.name
            );
            let error =
                IngestError::unreadable(self.location(line, Some(open.path.clone())), message);
            self.listing = None;
            self.pending.push_back(Err(error));
        } else if !self.seen_root {
            let error = IngestError::unreadable(
                self.location(line, None),
                format!("not a UN consolidated list: no <{ROOT}> element"),
            );
            self.pending.push_back(Err(error));
        }
    }
}

impl<R: BufRead> Iterator for UnReader<R> {
    type Item = Result<Record, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pending.is_empty() {
            self.advance();
        }
        self.pending.pop_front()
    }
}

/// A short, stable digest of some values, for ids derived from content: the same values give
/// the same id in every import, and a change in order of the source does not move ids.
pub(crate) fn stable_digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        // A separator that cannot occur in text keeps ("ab","c") apart from ("a","bc").
        hasher.update([0x1f]);
    }
    hex::encode(&hasher.finalize()[..8])
}
