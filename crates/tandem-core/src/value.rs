//! Typed values: each property type cleans and checks what it is given, so that the store holds
//! one canonical spelling of a date, a country code or an e-mail address.

use std::fmt;

use crate::error::ValueError;
use crate::model::PropertyType;

/// Longest value kept for free text; other types are much shorter in practice.
pub const MAX_TEXT_LEN: usize = 65_000;
pub const MAX_VALUE_LEN: usize = 4_096;

/// A date with the precision it was given: `2021`, `2021-02`, `2021-02-16`, up to seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartialDate {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
    pub hour: Option<u8>,
    pub minute: Option<u8>,
    pub second: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DatePrecision {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

impl PartialDate {
    /// Reads ISO 8601 prefixes. A trailing `Z` or fractional seconds are accepted and dropped
    /// (FtM dates are UTC).
    pub fn parse(text: &str) -> Option<PartialDate> {
        let text = text.trim();
        let text = text.strip_suffix('Z').unwrap_or(text);
        let (date_part, time_part) = match text.split_once(['T', ' ']) {
            Some((d, t)) => (d, Some(t)),
            None => (text, None),
        };
        let mut pieces = date_part.split('-');
        let year = digits(pieces.next()?, 4)?;
        if year == 0 {
            return None;
        }
        let month = optional_digits(pieces.next(), 2)?;
        let day = optional_digits(pieces.next(), 2)?;
        if pieces.next().is_some() {
            return None;
        }
        let mut date = PartialDate {
            year: year as u16,
            month: month.map(|m| m as u8),
            day: day.map(|d| d as u8),
            hour: None,
            minute: None,
            second: None,
        };
        if let Some(m) = date.month
            && !(1..=12).contains(&m)
        {
            return None;
        }
        if let Some(d) = date.day {
            let month = date.month?;
            if d == 0 || d > days_in_month(date.year, month) {
                return None;
            }
        }
        if let Some(time) = time_part {
            date.day?;
            let time = time.split(['.', '+']).next().unwrap_or(time);
            let mut parts = time.split(':');
            date.hour = Some(digits(parts.next()?, 2)? as u8);
            date.minute = optional_digits(parts.next(), 2)?.map(|m| m as u8);
            date.second = optional_digits(parts.next(), 2)?.map(|s| s as u8);
            if parts.next().is_some()
                || date.hour > Some(23)
                || date.minute > Some(59)
                || date.second > Some(60)
            {
                return None;
            }
        }
        Some(date)
    }

    pub fn precision(&self) -> DatePrecision {
        match (self.month, self.day, self.hour, self.minute, self.second) {
            (None, ..) => DatePrecision::Year,
            (_, None, ..) => DatePrecision::Month,
            (_, _, None, ..) => DatePrecision::Day,
            (_, _, _, None, _) => DatePrecision::Hour,
            (_, _, _, _, None) => DatePrecision::Minute,
            _ => DatePrecision::Second,
        }
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        if let Some(h) = self.hour {
            write!(f, "T{h:02}")?;
        }
        if let Some(m) = self.minute {
            write!(f, ":{m:02}")?;
        }
        if let Some(s) = self.second {
            write!(f, ":{s:02}")?;
        }
        Ok(())
    }
}

fn digits(text: &str, width: usize) -> Option<u32> {
    if text.len() != width || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `Some(None)` when the part is absent, `None` when it is present but malformed.
fn optional_digits(text: Option<&str>, width: usize) -> Option<Option<u32>> {
    match text {
        None => Some(None),
        Some(t) => digits(t, width).map(Some),
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Entity ids follow FtM practice: letters, digits and a few separators.
pub fn is_valid_entity_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
}

fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Cleans `raw` as a value of `kind` for `property` (the name is only used in errors).
/// Returns the canonical form, or an error that says what is wrong.
pub fn clean(kind: PropertyType, property: &str, raw: &str) -> Result<String, ValueError> {
    let fail = |message: &str| ValueError {
        property: property.to_string(),
        value: raw.chars().take(120).collect(),
        message: message.to_string(),
    };
    let long_text = matches!(
        kind,
        PropertyType::Text | PropertyType::Html | PropertyType::Json
    );
    let limit = if long_text {
        MAX_TEXT_LEN
    } else {
        MAX_VALUE_LEN
    };
    if raw.len() > limit {
        return Err(fail(&format!("longer than {limit} bytes")));
    }
    if raw.contains('\0') {
        return Err(fail("contains a NUL character"));
    }
    let value = if long_text {
        raw.trim().to_string()
    } else {
        collapse_whitespace(raw)
    };
    if value.is_empty() {
        return Err(fail("is empty"));
    }
    Ok(match kind {
        PropertyType::Date => PartialDate::parse(&value)
            .ok_or_else(|| fail("is not a date (YYYY, YYYY-MM, YYYY-MM-DD, optionally THH:MM:SS)"))?
            .to_string(),
        PropertyType::Country => {
            let code = value.to_ascii_lowercase();
            if !is_country_code(&code) {
                return Err(fail(
                    "is not a country code (ISO 3166-1 alpha-2, lower case, or an FtM extension such as 'suhh' or 'ge-ab')",
                ));
            }
            code
        }
        PropertyType::Language => {
            let code = value.to_ascii_lowercase();
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(fail("is not an ISO 639-3 language code"));
            }
            code
        }
        PropertyType::Gender => match value.to_ascii_lowercase().as_str() {
            "male" | "m" | "man" => "male".to_string(),
            "female" | "f" | "woman" => "female".to_string(),
            "other" => "other".to_string(),
            _ => return Err(fail("is not a gender (male, female, other)")),
        },
        PropertyType::Email => {
            let (local, domain) = value
                .rsplit_once('@')
                .ok_or_else(|| fail("is not an e-mail address"))?;
            if local.is_empty() || !domain.contains('.') || value.contains(' ') {
                return Err(fail("is not an e-mail address"));
            }
            format!("{local}@{}", domain.to_ascii_lowercase())
        }
        PropertyType::Url => {
            let lower = value.to_ascii_lowercase();
            if !(lower.starts_with("http://")
                || lower.starts_with("https://")
                || lower.starts_with("ftp://"))
                || value.contains(' ')
            {
                return Err(fail("is not an http(s) URL"));
            }
            value
        }
        PropertyType::Entity => {
            if !is_valid_entity_id(&value) {
                return Err(fail("is not an entity id"));
            }
            value
        }
        _ => value,
    })
}

/// ISO 3166-1 alpha-2 shape, FtM's historic four-letter codes (`suhh`, `csxx`) and
/// sub-national extensions (`ge-ab`, `gb-sct`).
pub fn is_country_code(code: &str) -> bool {
    let lower = |s: &str| s.bytes().all(|b| b.is_ascii_lowercase());
    match code.split_once('-') {
        Some((a, b)) => a.len() == 2 && lower(a) && (2..=4).contains(&b.len()) && lower(b),
        None => (code.len() == 2 || code.len() == 4) && lower(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates_keep_their_precision() {
        for text in ["1975", "1975-03", "1975-03-12", "2021-02-16T21:48:52"] {
            assert_eq!(PartialDate::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            PartialDate::parse("1975").unwrap().precision(),
            DatePrecision::Year
        );
        assert_eq!(
            PartialDate::parse("2020-02-29T10:00:00Z")
                .unwrap()
                .to_string(),
            "2020-02-29T10:00:00"
        );
        for bad in [
            "1975-13",
            "1975-02-30",
            "2019-02-29",
            "75",
            "1975-1-1",
            "",
            "0000",
            "abcd",
        ] {
            assert!(PartialDate::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn cleaning_by_type() {
        assert_eq!(
            clean(PropertyType::Name, "name", "  Ali   Ahmed \n").unwrap(),
            "Ali Ahmed"
        );
        assert_eq!(clean(PropertyType::Country, "country", "LY").unwrap(), "ly");
        assert!(clean(PropertyType::Country, "country", "Libya").is_err());
        assert_eq!(clean(PropertyType::Gender, "gender", "M").unwrap(), "male");
        assert_eq!(
            clean(PropertyType::Email, "email", "a.b@Example.ORG").unwrap(),
            "a.b@example.org"
        );
        let err = clean(PropertyType::Date, "birthDate", "12/03/1975").unwrap_err();
        assert_eq!(err.property, "birthDate");
        assert!(clean(PropertyType::Name, "name", "   ").is_err());
        assert!(clean(PropertyType::Entity, "owner", "a b").is_err());
    }

    proptest! {
        #[test]
        fn cleaning_never_panics(kind in 0usize..20, raw in any::<String>()) {
            let kinds = [
                PropertyType::Address, PropertyType::Checksum, PropertyType::Country,
                PropertyType::Date, PropertyType::Email, PropertyType::Entity,
                PropertyType::Gender, PropertyType::Html, PropertyType::Identifier,
                PropertyType::Ip, PropertyType::Json, PropertyType::Language,
                PropertyType::Mimetype, PropertyType::Name, PropertyType::Number,
                PropertyType::Phone, PropertyType::String, PropertyType::Text,
                PropertyType::Topic, PropertyType::Url,
            ];
            if let Ok(cleaned) = clean(kinds[kind], "p", &raw) {
                // Cleaning is idempotent: the canonical form cleans to itself.
                prop_assert_eq!(clean(kinds[kind], "p", &cleaned).unwrap(), cleaned);
            }
        }
    }
}
