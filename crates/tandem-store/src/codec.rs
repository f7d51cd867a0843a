//! How an entity's statements are kept in one row: its values as a JSON object
//! (`{"property": ["value", …]}`, the same shape as [`Entity::properties`]) plus, for the few
//! values first seen after the entity itself, a JSON list of `[property, value, first_seen]`.
//! Every value of a row was last asserted by the row's version at the row's `last_seen`, because
//! an import replaces all of a dataset's statements about an entity.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use tandem_core::{Entity, Model, Sensitivity};

use crate::crypto::Keyring;
use crate::protect::{self, Field};
use crate::{Result, StoreError};

pub(crate) type Properties = BTreeMap<String, Vec<String>>;

/// When each (property, value) of a row was first seen, for the values that differ from the row.
pub(crate) type ValueFirstSeen = HashMap<(String, String), String>;

/// The stored JSON of an entity's values: byte for byte what `serde_json::to_string` writes,
/// written directly because every import encodes every entity once and serde's generic map
/// serialiser was a measurable part of it. It cannot fail; the `Result` keeps callers unchanged.
pub(crate) fn encode_properties(properties: &Properties) -> Result<String> {
    let size: usize = properties
        .iter()
        .map(|(name, values)| name.len() + 6 + values.iter().map(|v| v.len() + 3).sum::<usize>())
        .sum();
    let mut out = String::with_capacity(size + 2);
    out.push('{');
    for (i, (name, values)) in properties.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, name);
        out.push_str(":[");
        for (j, value) in values.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            push_json_string(&mut out, value);
        }
        out.push(']');
    }
    out.push('}');
    Ok(out)
}

/// A JSON string literal escaped as serde_json escapes it: `"`, `\` and control characters
/// only (short forms where JSON has them, else `\u00xx`); everything else as is.
fn push_json_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = text.as_bytes();
    // Most values need no escape: one branch-free pass over the bytes tells.
    if !bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    }) {
        out.push_str(text);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let short = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Escaped bytes are ASCII, so the slices end on character boundaries.
        out.push_str(&text[start..i]);
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(short);
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// Names the stored row a decoding error comes from.
pub(crate) struct RowName<'a> {
    pub dataset: &'a str,
    pub entity_id: &'a str,
}

impl RowName<'_> {
    fn corrupt(&self, column: &str, message: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!(
            "entity {} of dataset {}, column {column}: {message}",
            self.entity_id, self.dataset
        ))
    }
}

pub(crate) fn decode_properties(row: &RowName<'_>, text: &str) -> Result<Properties> {
    serde_json::from_str(text).map_err(|err| row.corrupt("properties", err))
}

/// A row's values as stored: sealed when the row is protected.
pub(crate) fn decode_stored_properties(
    row: &RowName<'_>,
    sensitivity: Sensitivity,
    stored: &str,
    ring: Option<&Keyring>,
) -> Result<Properties> {
    if sensitivity == Sensitivity::Protected {
        let text = protect::unseal(ring, Field::Properties, row, stored)?;
        decode_properties(row, &text)
    } else {
        decode_properties(row, stored)
    }
}

/// A row's first-seen dates as stored: sealed when the row is protected (they repeat values).
pub(crate) fn decode_stored_value_first_seen(
    row: &RowName<'_>,
    sensitivity: Sensitivity,
    stored: Option<&str>,
    ring: Option<&Keyring>,
) -> Result<ValueFirstSeen> {
    match stored {
        Some(sealed) if sensitivity == Sensitivity::Protected => {
            let text = protect::unseal(ring, Field::ValueFirstSeen, row, sealed)?;
            decode_value_first_seen(row, Some(&text))
        }
        _ => decode_value_first_seen(row, stored),
    }
}

/// First-seen dates to store for a row, sealed when the row is protected.
pub(crate) fn encode_stored_value_first_seen(
    row: &RowName<'_>,
    sensitivity: Sensitivity,
    values: &[(&str, &str, &str)],
    ring: Option<&Keyring>,
) -> Result<Option<String>> {
    let Some(text) = encode_value_first_seen(values)? else {
        return Ok(None);
    };
    if sensitivity == Sensitivity::Protected {
        let (sealed, _) = protect::seal(ring, Field::ValueFirstSeen, row, &text)?;
        Ok(Some(sealed))
    } else {
        Ok(Some(text))
    }
}

pub(crate) fn encode_value_first_seen(values: &[(&str, &str, &str)]) -> Result<Option<String>> {
    if values.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(values)
        .map(Some)
        .map_err(|err| StoreError::Invalid(format!("cannot encode first-seen dates: {err}")))
}

pub(crate) fn decode_value_first_seen(
    row: &RowName<'_>,
    text: Option<&str>,
) -> Result<ValueFirstSeen> {
    let Some(text) = text else {
        return Ok(ValueFirstSeen::new());
    };
    let triples: Vec<(String, String, String)> =
        serde_json::from_str(text).map_err(|err| row.corrupt("value_first_seen", err))?;
    Ok(triples
        .into_iter()
        .map(|(prop, value, seen)| ((prop, value), seen))
        .collect())
}

pub(crate) fn decode_sensitivity(row: &RowName<'_>, text: &str) -> Result<Sensitivity> {
    Sensitivity::from_str(text).map_err(|err| row.corrupt("sensitivity", err))
}

/// An entity from its stored parts. The schema is checked here because `Entity` methods
/// assume a known schema.
pub(crate) fn rebuild_entity(
    row: &RowName<'_>,
    schema: String,
    properties: Properties,
    sensitivity: Sensitivity,
    confidence: Option<f64>,
) -> Result<Entity> {
    if Model::get().schema(&schema).is_none() {
        return Err(row.corrupt("schema", format!("unknown schema {schema:?}")));
    }
    Ok(Entity {
        id: row.entity_id.to_string(),
        schema,
        properties,
        sensitivity,
        confidence: confidence.map(|c| c as f32),
    })
}

/// The first-seen dates of a changed entity's values: a value the row held before keeps its
/// date, a new value is first seen `now`. Returns the values whose date differs from the row's
/// own first-seen date, which is the only part that needs storing.
pub(crate) fn carry_first_seen<'a>(
    new_properties: &'a Properties,
    old_properties: &Properties,
    old_dates: &'a ValueFirstSeen,
    row_first_seen: &str,
    now: &'a str,
) -> Vec<(&'a str, &'a str, &'a str)> {
    let mut differing = Vec::new();
    for (prop, values) in new_properties {
        let old_values = old_properties.get(prop);
        for value in values {
            let seen = if old_values.is_some_and(|old| old.contains(value)) {
                match old_dates.get(&(prop.clone(), value.clone())) {
                    Some(date) => date.as_str(),
                    None => continue,
                }
            } else {
                now
            };
            if seen != row_first_seen {
                differing.push((prop.as_str(), value.as_str(), seen));
            }
        }
    }
    differing
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ROW: RowName<'static> = RowName {
        dataset: "d",
        entity_id: "e",
    };

    fn props(pairs: &[(&str, &[&str])]) -> Properties {
        pairs
            .iter()
            .map(|(p, vs)| (p.to_string(), vs.iter().map(|v| v.to_string()).collect()))
            .collect()
    }

    #[test]
    fn properties_round_trip() {
        let p = props(&[
            ("name", &["Ermias Ghermay", "Ermias"]),
            ("country", &["ly"]),
        ]);
        let text = encode_properties(&p).unwrap();
        assert_eq!(decode_properties(&ROW, &text).unwrap(), p);
    }

    #[test]
    fn properties_are_encoded_as_serde_json_encodes_them() {
        let p = props(&[
            (
                "name",
                &[
                    "quote \" back \\ slash",
                    "tab\t nl\n cr\r \u{8}\u{c} \u{1} \u{1f}",
                ],
            ),
            ("alias", &["Ğhermay – ድርጅት \u{7f} 😀", ""]),
            ("notes", &[]),
        ]);
        assert_eq!(
            encode_properties(&p).unwrap(),
            serde_json::to_string(&p).unwrap()
        );
        assert_eq!(encode_properties(&Properties::new()).unwrap(), "{}");
    }

    proptest! {
        #[test]
        fn any_values_encode_as_serde_json_does(
            p in prop::collection::btree_map(".{0,8}", prop::collection::vec(any::<String>(), 0..4), 0..4)
        ) {
            prop_assert_eq!(encode_properties(&p).unwrap(), serde_json::to_string(&p).unwrap());
        }
    }

    #[test]
    fn kept_values_keep_their_date_and_new_ones_are_dated_now() {
        let old = props(&[("name", &["A", "B"]), ("alias", &["X"])]);
        let mut old_dates = ValueFirstSeen::new();
        old_dates.insert(("name".into(), "B".into()), "2026-02-01T00:00:00".into());
        let new = props(&[("name", &["A", "B", "C"])]);
        let dates = carry_first_seen(&new, &old, &old_dates, "2026-01-01T00:00:00", "NOW");
        assert_eq!(
            dates,
            [("name", "B", "2026-02-01T00:00:00"), ("name", "C", "NOW")]
        );
        let text = encode_value_first_seen(&dates).unwrap();
        let decoded = decode_value_first_seen(&ROW, text.as_deref()).unwrap();
        assert_eq!(decoded.len(), 2);
        assert_eq!(
            decoded.get(&("name".to_string(), "C".to_string())).unwrap(),
            "NOW"
        );
        assert_eq!(encode_value_first_seen(&[]).unwrap(), None);
    }

    #[test]
    fn damage_is_reported_as_corrupt_with_the_row() {
        let err = decode_properties(&ROW, "{\"name\": [1]}").unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(ref m) if m.contains("entity e of dataset d")));
        assert!(matches!(
            decode_value_first_seen(&ROW, Some("[[\"a\"]]")),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            decode_sensitivity(&ROW, "secret"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            rebuild_entity(
                &ROW,
                "Nope".into(),
                Properties::new(),
                Sensitivity::Public,
                None
            ),
            Err(StoreError::Corrupt(_))
        ));
    }

    proptest! {
        #[test]
        fn decoders_never_panic(text in ".*", bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let lossy = String::from_utf8_lossy(&bytes);
            for input in [text.as_str(), lossy.as_ref()] {
                let _ = decode_properties(&ROW, input);
                let _ = decode_value_first_seen(&ROW, Some(input));
                let _ = decode_sensitivity(&ROW, input);
            }
        }

        #[test]
        fn encoded_properties_decode_to_themselves(
            p in proptest::collection::btree_map(".{1,8}", proptest::collection::vec(".*", 0..4), 0..5)
        ) {
            let text = encode_properties(&p).unwrap();
            prop_assert_eq!(decode_properties(&ROW, &text).unwrap(), p);
        }
    }
}
