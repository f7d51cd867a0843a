//! Turning what an analyst typed into what a property holds: country names into codes,
//! role words into Tandem's roles, dates in the sheet's own format into ISO dates.

use std::str::FromStr;

use tandem_core::model::{Property, PropertyType, ROLE_PROPERTY, STAGE_PROPERTY};
use tandem_core::value::PartialDate;
use tandem_core::{Role, Stage, country};

/// A date layout such as `DD/MM/YYYY` or `MM.YYYY`: `YYYY` is four digits, `MM` and `DD` one or
/// two; everything else must appear as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DateFormat {
    pub text: String,
    tokens: Vec<DateToken>,
}

#[derive(Debug, Clone, PartialEq)]
enum DateToken {
    Year,
    Month,
    Day,
    Literal(char),
}

impl DateFormat {
    pub fn parse(text: &str) -> Result<DateFormat, String> {
        let mut tokens = Vec::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            let (token, width) = if rest.starts_with("YYYY") {
                (DateToken::Year, 4)
            } else if rest.starts_with("MM") {
                (DateToken::Month, 2)
            } else if rest.starts_with("DD") {
                (DateToken::Day, 2)
            } else {
                (DateToken::Literal(c), c.len_utf8())
            };
            tokens.push(token);
            rest = &rest[width..];
        }
        let count = |wanted: &DateToken| tokens.iter().filter(|t| *t == wanted).count();
        let (years, months, days) = (
            count(&DateToken::Year),
            count(&DateToken::Month),
            count(&DateToken::Day),
        );
        if years != 1 || months > 1 || days > 1 || (days == 1 && months == 0) {
            return Err(format!(
                "date format {text:?} must have YYYY once, optionally MM, and DD only with MM"
            ));
        }
        Ok(DateFormat {
            text: text.to_string(),
            tokens,
        })
    }

    /// The ISO date (as precise as the format) for `value`, or `None` when it does not fit.
    pub fn read(&self, value: &str) -> Option<String> {
        let mut rest = value.trim();
        let (mut year, mut month, mut day) = (None, None, None);
        for token in &self.tokens {
            match token {
                DateToken::Literal(c) => rest = rest.strip_prefix(*c)?,
                DateToken::Year => {
                    let digits = rest.get(..4)?;
                    year = Some(number(digits)?);
                    rest = &rest[4..];
                }
                DateToken::Month | DateToken::Day => {
                    let width = rest.bytes().take(2).take_while(u8::is_ascii_digit).count();
                    let value = number(rest.get(..width)?)?;
                    rest = &rest[width..];
                    if *token == DateToken::Month {
                        month = Some(value);
                    } else {
                        day = Some(value);
                    }
                }
            }
        }
        if !rest.is_empty() {
            return None;
        }
        let iso = match (year?, month, day) {
            (y, Some(m), Some(d)) => format!("{y:04}-{m:02}-{d:02}"),
            (y, Some(m), None) => format!("{y:04}-{m:02}"),
            (y, _, _) => format!("{y:04}"),
        };
        // PartialDate knows month lengths and leap years.
        PartialDate::parse(&iso).map(|d| d.to_string())
    }
}

fn number(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// What `raw` becomes for `property` before the model cleans it; `Err` says why it cannot.
pub(crate) fn convert(
    property: &Property,
    date_format: Option<&DateFormat>,
    raw: &str,
) -> Result<String, String> {
    if property.name == ROLE_PROPERTY {
        return Role::from_str(raw).map(|r| r.as_str().to_string());
    }
    if property.name == STAGE_PROPERTY {
        return Stage::from_str(raw).map(|s| s.as_str().to_string());
    }
    match property.kind {
        PropertyType::Country => country::lookup(raw)
            .map(str::to_string)
            .ok_or_else(|| format!("{raw:?} is not a country name or code Tandem knows")),
        PropertyType::Date => match date_format {
            Some(format) => format
                .read(raw)
                .ok_or_else(|| format!("{raw:?} is not a date in the format {:?}", format.text)),
            None => Ok(raw.to_string()),
        },
        _ => Ok(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_core::Model;

    #[test]
    fn date_formats() {
        let dmy = DateFormat::parse("DD/MM/YYYY").unwrap();
        assert_eq!(dmy.read("12/03/1975").as_deref(), Some("1975-03-12"));
        assert_eq!(dmy.read("1/3/1975").as_deref(), Some("1975-03-01"));
        assert_eq!(dmy.read("31/02/1975"), None);
        assert_eq!(dmy.read("12/03/75"), None);
        assert_eq!(dmy.read("12/03/1975x"), None);
        let my = DateFormat::parse("MM.YYYY").unwrap();
        assert_eq!(my.read("07.2018").as_deref(), Some("2018-07"));
        assert!(DateFormat::parse("DD/YYYY").is_err());
        assert!(DateFormat::parse("MM/DD").is_err());
    }

    #[test]
    fn conversions_by_property() {
        let person = Model::get().schema("Person").unwrap();
        let nationality = person.property("nationality").unwrap();
        assert_eq!(convert(nationality, None, "Eritrea").unwrap(), "er");
        assert_eq!(convert(nationality, None, "LY").unwrap(), "ly");
        assert!(convert(nationality, None, "Atlantis").is_err());
        let role = person.property(ROLE_PROPERTY).unwrap();
        assert_eq!(
            convert(role, None, "Boat operator").unwrap(),
            "boat_operator"
        );
        assert!(convert(role, None, "smuggler").is_err());
    }
}
