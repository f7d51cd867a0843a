//! From one UN listing, as read, to entities.
//!
//! Ids. The main entity is `unsc-<REFERENCE_NUMBER>` (e.g. `unsc-LYi.021`). The reference
//! number is the identifier the Security Council itself publishes and cites: in resolutions,
//! press releases, the HTML and PDF versions of the list and other listings' narratives
//! ("Mohamed Kashlaf (LYi.025)"). It does not change between versions of the list, so an
//! analyst can find `unsc-LYi.025` from any of those sources, and re-importing a newer list
//! updates the same entity. `DATAID` is a key of the UN's database that appears only in the XML;
//! it is the fallback (`unsc-dataid-<DATAID>`) for the rare listing without a usable reference
//! number. Derived entities hang off the main id: `<id>-sanction`, and `<id>-addr-<digest>` /
//! `<id>-doc-<digest>` where the digest is taken over the address or document's own values, so
//! that reordering them in a later list does not change their ids.
//!
//! Names. The UN gives up to four name parts in order but does not say which is the family
//! name (for many Arabic names the parts are given name, father's, grandfather's and family
//! name). `name` is the parts joined; `firstName` is the first, `lastName` the last of two or
//! more, `middleName` those in between: positional, as the list gives them.
//!
//! Aliases keep the list's quality: `Good` and `a.k.a.` → `alias`, `Low` → `weakAlias`,
//! `f.k.a.` (formerly known as) → `previousName`, which is FtM's property for exactly that; an
//! empty or unknown quality → `alias`, since the list still says the name is used.
//!
//! Coded values that cannot be read (a country name the lookup does not know, a gender, a
//! malformed date) never reject the listing: the value is dropped from its typed property and,
//! for countries, kept as text in `notes` so nothing the list says is lost.

use tandem_core::Entity;
use tandem_core::country;

use super::{ListingKind, RawField, RawListing, stable_digest};
use crate::{IngestError, Location};

pub const AUTHORITY: &str = "United Nations Security Council";
pub const SOURCE_URL: &str = "https://scsanctions.un.org/resources/xml/en/consolidated.xml";
const ID_PREFIX: &str = "unsc";
const NAME_PARTS: [&str; 4] = ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"];
/// A BETWEEN range of birth years wider than this is given by its ends only.
const MAX_BIRTH_YEAR_SPAN: u16 = 20;

/// The property an alias of the given UN quality goes to.
pub fn alias_property(quality: &str) -> &'static str {
    let quality = quality.trim().to_ascii_lowercase();
    match quality.as_str() {
        "low" | "weak" => "weakAlias",
        "f.k.a." | "fka" | "formerly known as" => "previousName",
        _ => "alias",
    }
}

/// Field access over a listing as read.
struct Fields<'a> {
    listing: &'a RawListing,
}

impl<'a> Fields<'a> {
    fn all(&self, tag: &'a str) -> impl Iterator<Item = &'a RawField> + 'a {
        self.listing.fields.iter().filter(move |f| f.tag == tag)
    }

    /// The first non-empty text of a leaf field.
    fn text(&self, tag: &'a str) -> Option<&'a str> {
        self.all(tag).map(|f| f.text.trim()).find(|t| !t.is_empty())
    }

    fn field(&self, tag: &'a str) -> Option<&'a RawField> {
        self.all(tag).next()
    }

    /// Every non-empty `VALUE` of group fields such as `<NATIONALITY><VALUE>…`.
    fn values(&self, tag: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.all(tag).flat_map(|f| part_texts(f, "VALUE"))
    }
}

fn part_texts<'a>(field: &'a RawField, tag: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    field
        .parts
        .iter()
        .filter(move |p| p.tag == tag)
        .map(|p| p.text.trim())
        .filter(|t| !t.is_empty())
}

fn part<'a>(field: &'a RawField, tag: &str) -> Option<&'a str> {
    field
        .parts
        .iter()
        .filter(|p| p.tag == tag)
        .map(|p| p.text.trim())
        .find(|t| !t.is_empty())
}

fn join_present(values: &[Option<&str>], separator: &str) -> String {
    values
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join(separator)
}

/// A date as the schema types it (`xs:date`), which may carry a time zone
/// (`2015-04-07-04:00`, `2015-04-07Z`): the zone says nothing about the day, so it is dropped.
fn un_date(text: &str) -> &str {
    let text = text.trim();
    let Some((date, zone)) = text.split_at_checked(10) else {
        return text;
    };
    let is_zone = zone == "Z"
        || (zone.len() == 6
            && zone.starts_with(['+', '-'])
            && zone.as_bytes().get(3) == Some(&b':')
            && zone
                .bytes()
                .enumerate()
                .all(|(i, b)| matches!(i, 0 | 3) || b.is_ascii_digit()));
    if is_zone { date } else { text }
}

/// An ISO code for a country name as the UN writes it.
fn country_code(name: &str) -> Option<&'static str> {
    country::lookup(name)
}

/// Adds the country's code to `property`, or keeps the name in `notes` when it has none.
fn add_country(entity: &mut Entity, property: &str, label: &str, name: &str) {
    let added = country_code(name).is_some_and(|code| entity.add_lenient(property, code));
    if !added {
        entity.add_lenient("notes", &format!("{label}: {name}"));
    }
}

fn listing_location(listing: &RawListing, file: &str) -> Location {
    Location {
        file: file.to_string(),
        line: Some(listing.line),
        element: Some(listing.element.clone()),
        field: None,
    }
}

fn field_location(listing: &RawListing, file: &str, tag: &str, fields: &Fields) -> Location {
    match fields.field(tag) {
        Some(field) => Location {
            file: file.to_string(),
            line: Some(field.line),
            element: Some(field.element.clone()),
            field: Some(tag.to_string()),
        },
        None => listing_location(listing, file).with_field(tag),
    }
}

/// The main entity's id; see the module documentation for why the reference number.
fn main_id(listing: &RawListing, file: &str, fields: &Fields) -> Result<String, IngestError> {
    let candidates = [
        fields
            .text("REFERENCE_NUMBER")
            .map(|r| format!("{ID_PREFIX}-{r}")),
        fields
            .text("DATAID")
            .map(|d| format!("{ID_PREFIX}-dataid-{d}")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|id| tandem_core::value::is_valid_entity_id(id))
        .ok_or_else(|| {
            IngestError::invalid(
                field_location(listing, file, "REFERENCE_NUMBER", fields),
                "the listing has neither a usable REFERENCE_NUMBER nor a DATAID",
            )
        })
}

pub(crate) fn listing_entities(
    listing: &RawListing,
    file: &str,
) -> Result<Vec<Entity>, IngestError> {
    let fields = Fields { listing };
    let id = main_id(listing, file, &fields)?;
    let schema = match listing.kind {
        ListingKind::Individual => "Person",
        ListingKind::Entity => "Organization",
    };
    let model_error = |tag: &str, err: tandem_core::EntityError| {
        IngestError::invalid(field_location(listing, file, tag, &fields), err.to_string())
    };
    let mut main = Entity::new(schema, &id).map_err(|e| model_error("REFERENCE_NUMBER", e))?;

    let parts: Vec<&str> = NAME_PARTS.iter().filter_map(|t| fields.text(t)).collect();
    if parts.is_empty() {
        return Err(IngestError::invalid(
            field_location(listing, file, "FIRST_NAME", &fields),
            "the listing has no name (FIRST_NAME to FOURTH_NAME are all empty)",
        ));
    }
    main.add("name", &parts.join(" "))
        .map_err(|e| model_error("FIRST_NAME", e))?;
    if listing.kind == ListingKind::Individual {
        add_name_parts(&mut main, &parts);
    }
    if let Some(original) = fields.text("NAME_ORIGINAL_SCRIPT") {
        main.add_lenient("alias", original);
    }
    add_aliases(&mut main, &fields);

    let reference = fields.text("REFERENCE_NUMBER");
    let program = fields.text("UN_LIST_TYPE");
    let comments = fields.text("COMMENTS1");
    let listed_on = fields.text("LISTED_ON").map(un_date);
    let modified = fields.values("LAST_DAY_UPDATED").map(un_date).max();
    for (property, value) in [
        ("notes", comments),
        ("program", program),
        ("programId", reference),
        ("modifiedAt", modified),
        ("gender", fields.text("GENDER")),
        ("topics", Some("sanction")),
        ("sourceUrl", Some(SOURCE_URL)),
    ] {
        if let Some(value) = value {
            main.add_lenient(property, value);
        }
    }
    for designation in fields.values("DESIGNATION") {
        main.add_lenient("position", designation);
    }
    for title in fields.values("TITLE") {
        main.add_lenient("title", title);
    }
    for nationality in fields.values("NATIONALITY") {
        add_country(&mut main, "nationality", "Nationality", nationality);
    }
    for birth in fields.all("INDIVIDUAL_DATE_OF_BIRTH") {
        add_birth_dates(&mut main, birth);
    }
    for place in fields.all("INDIVIDUAL_PLACE_OF_BIRTH") {
        add_birth_place(&mut main, place);
    }

    let mut derived: Vec<Entity> = Vec::new();
    let addresses = fields
        .all("INDIVIDUAL_ADDRESS")
        .chain(fields.all("ENTITY_ADDRESS"))
        .filter_map(|address| address_entity(&mut main, address))
        .collect::<Vec<_>>();
    let documents = fields
        .all("INDIVIDUAL_DOCUMENT")
        .filter_map(|document| document_entity(&mut main, document))
        .collect::<Vec<_>>();
    // A listing that repeats an address or document gives the same id twice: keep one.
    for entity in addresses.into_iter().chain(documents) {
        if !derived.iter().any(|d| d.id == entity.id) {
            derived.push(entity);
        }
    }

    let mut sanction =
        Entity::new("Sanction", format!("{id}-sanction")).map_err(|e| model_error("DATAID", e))?;
    for (property, value) in [
        ("entity", Some(id.as_str())),
        ("authority", Some(AUTHORITY)),
        ("program", program),
        ("programId", reference),
        ("unscId", reference),
        ("startDate", listed_on),
        ("listingDate", listed_on),
        ("reason", comments),
        ("modifiedAt", modified),
        ("recordId", fields.text("DATAID")),
        ("sourceUrl", Some(SOURCE_URL)),
    ] {
        if let Some(value) = value {
            sanction.add_lenient(property, value);
        }
    }

    let mut entities = Vec::with_capacity(derived.len() + 2);
    entities.push(main);
    entities.push(sanction);
    entities.extend(derived);
    Ok(entities)
}

fn add_name_parts(person: &mut Entity, parts: &[&str]) {
    if let Some((first, rest)) = parts.split_first() {
        person.add_lenient("firstName", first);
        if let Some((last, middle)) = rest.split_last() {
            person.add_lenient("lastName", last);
            if !middle.is_empty() {
                person.add_lenient("middleName", &middle.join(" "));
            }
        }
    }
}

fn add_aliases(main: &mut Entity, fields: &Fields) {
    for alias in fields
        .all("INDIVIDUAL_ALIAS")
        .chain(fields.all("ENTITY_ALIAS"))
    {
        if let Some(name) = part(alias, "ALIAS_NAME") {
            let quality = part(alias, "QUALITY").unwrap_or("");
            main.add_lenient(alias_property(quality), name);
        }
        // Some aliases come with the birth data used under that name.
        if let Some(date) = part(alias, "DATE_OF_BIRTH") {
            main.add_lenient("birthDate", un_date(date));
        }
        if let Some(city) = part(alias, "CITY_OF_BIRTH") {
            main.add_lenient("birthPlace", city);
        }
        if let Some(country) = part(alias, "COUNTRY_OF_BIRTH") {
            add_country(main, "birthCountry", "Country of birth", country);
        }
    }
}

/// `EXACT`/`APPROXIMATELY` with a `DATE` or `YEAR` keep the precision given (a year stays a
/// year); `BETWEEN` adds every year from `FROM_YEAR` to `TO_YEAR`, so that matching on any year
/// in the range works. A note without a date ("30-35 years old") goes to `notes`.
fn add_birth_dates(person: &mut Entity, birth: &RawField) {
    for tag in ["DATE", "YEAR"] {
        for value in part_texts(birth, tag) {
            person.add_lenient("birthDate", un_date(value));
        }
    }
    let year = |tag: &str| part(birth, tag).and_then(|y| y.parse::<u16>().ok());
    if let (Some(from), Some(to)) = (year("FROM_YEAR"), year("TO_YEAR")) {
        let (from, to) = (from.min(to), from.max(to));
        let years: Vec<u16> = if to - from <= MAX_BIRTH_YEAR_SPAN {
            (from..=to).collect()
        } else {
            vec![from, to]
        };
        for y in years {
            person.add_lenient("birthDate", &format!("{y:04}"));
        }
    }
    if let Some(note) = part(birth, "NOTE") {
        person.add_lenient("notes", &format!("Date of birth: {note}"));
    }
}

fn add_birth_place(person: &mut Entity, place: &RawField) {
    let country = part(place, "COUNTRY");
    let text = join_present(
        &[
            part(place, "STREET"),
            part(place, "CITY"),
            part(place, "STATE_PROVINCE"),
            country,
            part(place, "NOTE"),
        ],
        ", ",
    );
    if !text.is_empty() {
        person.add_lenient("birthPlace", &text);
    }
    if let Some(country) = country {
        add_country(person, "birthCountry", "Country of birth", country);
    }
}

fn address_entity(main: &mut Entity, address: &RawField) -> Option<Entity> {
    let street = part(address, "STREET");
    let city = part(address, "CITY");
    let state = part(address, "STATE_PROVINCE");
    let postal_code = part(address, "ZIP_CODE");
    let country = part(address, "COUNTRY");
    let note = part(address, "NOTE");
    let mut full = join_present(&[street, city, state, postal_code, country], ", ");
    if full.is_empty() {
        full = note?.to_string();
    }
    let digest = stable_digest(&[
        street.unwrap_or(""),
        city.unwrap_or(""),
        state.unwrap_or(""),
        postal_code.unwrap_or(""),
        country.unwrap_or(""),
        note.unwrap_or(""),
    ]);
    let mut entity = Entity::new("Address", format!("{}-addr-{digest}", main.id)).ok()?;
    for (property, value) in [
        ("full", Some(full.as_str())),
        ("street", street),
        ("city", city),
        ("state", state),
        ("postalCode", postal_code),
        ("remarks", note),
        ("sourceUrl", Some(SOURCE_URL)),
    ] {
        if let Some(value) = value {
            entity.add_lenient(property, value);
        }
    }
    if let Some(country) = country {
        add_country(&mut entity, "country", "Country", country);
        if let Some(code) = country_code(country) {
            main.add_lenient("country", code);
        }
    }
    main.add_lenient("address", &full);
    main.add_lenient("addressEntity", &entity.id);
    Some(entity)
}

fn is_passport(kind: &str) -> bool {
    let kind = kind.to_lowercase();
    ["passport", "passeport", "pasaporte"]
        .iter()
        .any(|word| kind.contains(word))
}

/// A document with a number becomes a `Passport` or `Identification`; one without (the number
/// is often buried in the note) is kept as a note on the holder.
fn document_entity(holder: &mut Entity, document: &RawField) -> Option<Entity> {
    let kind = join_present(
        &[
            part(document, "TYPE_OF_DOCUMENT"),
            part(document, "TYPE_OF_DOCUMENT2"),
        ],
        " / ",
    );
    let note = part(document, "NOTE");
    let Some(number) = part(document, "NUMBER") else {
        if let Some(note) = note {
            let label = if kind.is_empty() { "Document" } else { &kind };
            holder.add_lenient("notes", &format!("{label}: {note}"));
        }
        return None;
    };
    let countries: Vec<&str> = ["ISSUING_COUNTRY", "COUNTRY_OF_ISSUE"]
        .iter()
        .filter_map(|tag| part(document, tag))
        .collect();
    let passport = is_passport(&kind);
    let digest = stable_digest(&[&kind, number, &countries.join(";")]);
    let schema = if passport {
        "Passport"
    } else {
        "Identification"
    };
    let mut entity = Entity::new(schema, format!("{}-doc-{digest}", holder.id)).ok()?;
    entity.add_lenient("holder", &holder.id);
    if !entity.add_lenient("number", number) {
        return None;
    }
    if !kind.is_empty() {
        entity.add_lenient("type", &kind);
    }
    for country in &countries {
        add_country(&mut entity, "country", "Country of issue", country);
    }
    if let Some(date) = part(document, "DATE_OF_ISSUE") {
        entity.add_lenient("startDate", un_date(date));
    }
    let description = join_present(
        &[
            part(document, "CITY_OF_ISSUE")
                .map(|city| format!("Issued in {city}"))
                .as_deref(),
            note,
        ],
        ". ",
    );
    if !description.is_empty() {
        entity.add_lenient("description", &description);
    }
    entity.add_lenient("sourceUrl", SOURCE_URL);
    let holder_property = if passport && holder.schema == "Person" {
        "passportNumber"
    } else {
        "idNumber"
    };
    holder.add_lenient(holder_property, number);
    Some(entity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_qualities() {
        assert_eq!(alias_property("Good"), "alias");
        assert_eq!(alias_property("a.k.a."), "alias");
        assert_eq!(alias_property("Low"), "weakAlias");
        assert_eq!(alias_property(" f.k.a. "), "previousName");
        assert_eq!(alias_property(""), "alias");
        assert_eq!(alias_property("something new"), "alias");
    }

    #[test]
    fn dates_lose_their_time_zone() {
        assert_eq!(un_date("2015-04-07-04:00"), "2015-04-07");
        assert_eq!(un_date("2015-04-07+01:00"), "2015-04-07");
        assert_eq!(un_date("2015-04-07Z"), "2015-04-07");
        assert_eq!(un_date(" 2015-04-07 "), "2015-04-07");
        assert_eq!(un_date("1980"), "1980");
        assert_eq!(un_date("2015-04-07 and more"), "2015-04-07 and more");
        assert_eq!(un_date("ééééééé-04:00"), "ééééééé-04:00");
    }

    #[test]
    fn passports_in_three_languages() {
        assert!(is_passport("Passport"));
        assert!(is_passport("Numéro de passeport"));
        assert!(is_passport("Número de pasaporte"));
        assert!(is_passport(
            "National Identification Number / Service passport"
        ));
        assert!(!is_passport("National Identification Number"));
    }
}
