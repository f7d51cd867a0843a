//! Identifying details that make the demo look like case material: phone numbers, passports,
//! addresses, dates, amounts, company, vehicle and vessel names. All are invented; phone numbers
//! use a "555" block after each country's mobile prefix.

use super::rng::{Pool, Rng};

/// The countries the two routes touch, with the names addresses print.
pub(super) fn country_name(code: &str) -> &'static str {
    match code {
        "er" => "Eritrea",
        "et" => "Ethiopia",
        "so" => "Somalia",
        "sd" => "Sudan",
        "ly" => "Libya",
        "it" => "Italy",
        "sn" => "Senegal",
        "gm" => "The Gambia",
        "mr" => "Mauritania",
        "es" => "Spain",
        _ => "",
    }
}

/// Mobile number shapes per country; `#` is a random digit.
fn phone_templates(country: &str) -> &'static [&'static str] {
    match country {
        "er" => &["+291 7 555 ###"],
        "et" => &["+251 91 555 ####", "+251 92 555 ####"],
        "so" => &["+252 61 555 ####", "+252 63 555 ####"],
        "sd" => &["+249 91 555 ####", "+249 12 555 ####"],
        "ly" => &["+218 91 555 ####", "+218 92 555 ####", "+218 94 555 ####"],
        "it" => &["+39 3## 555 ####"],
        "sn" => &["+221 77 555 ## ##", "+221 78 555 ## ##"],
        "gm" => &["+220 555 ####"],
        "mr" => &["+222 4 555 ####", "+222 2 555 ####", "+222 3 555 ####"],
        "es" => &["+34 6## 555 ###"],
        _ => &[],
    }
}

/// Satellite phones are what boat operators carry at sea.
const SATELLITE_PHONE: &str = "+882 16 555 #####";

fn fill(template: &str, rng: &mut Rng) -> String {
    template
        .chars()
        .map(|c| {
            if c == '#' {
                char::from(b'0' + rng.below(10) as u8)
            } else {
                c
            }
        })
        .collect()
}

pub(super) fn phone(country: &str, rng: &mut Rng) -> Option<String> {
    rng.choose(phone_templates(country))
        .map(|template| fill(template, rng))
}

pub(super) fn satellite_phone(rng: &mut Rng) -> String {
    fill(SATELLITE_PHONE, rng)
}

pub(super) fn passport_number(nationality: &str, rng: &mut Rng) -> String {
    format!(
        "{}{}",
        nationality.to_ascii_uppercase(),
        fill("#######", rng)
    )
}

pub(super) fn registration_number(country: &str, rng: &mut Rng) -> String {
    format!("{}-{}", country.to_ascii_uppercase(), fill("######", rng))
}

pub(super) fn licence_plate(country: &str, rng: &mut Rng) -> String {
    let letters: String = (0..2)
        .map(|_| char::from(b'A' + rng.below(26) as u8))
        .collect();
    format!(
        "{}-{}-{letters}",
        country.to_ascii_uppercase(),
        fill("####", rng)
    )
}

static DISTRICTS: Pool<&str> = Pool::new(&[
    "Old Market",
    "Bus Station district",
    "Industrial Zone",
    "Airport Road",
    "North District",
    "Central district",
    "New Town",
    "Ring Road",
    "East Quarter",
    "West Quarter",
]);

pub(super) fn address(city: &str, country: &str, rng: &mut Rng) -> String {
    format!("{}, {city}, {}", DISTRICTS.pick(rng), country_name(country))
}

/// A day within the years `from..=to` (days up to 28, so that every month has them).
pub(super) fn day(from: u32, to: u32, rng: &mut Rng) -> String {
    format!(
        "{}-{:02}-{:02}",
        rng.between(from, to),
        rng.between(1, 12),
        rng.between(1, 28)
    )
}

pub(super) fn month(from: u32, to: u32, rng: &mut Rng) -> String {
    format!("{}-{:02}", rng.between(from, to), rng.between(1, 12))
}

pub(super) fn year(from: u32, to: u32, rng: &mut Rng) -> String {
    rng.between(from, to).to_string()
}

/// Birth dates as intelligence holds them: often a full date, sometimes only a month or a
/// year, and now and then two candidate years.
pub(super) fn birth_dates(rng: &mut Rng) -> Vec<String> {
    let roll = rng.unit();
    if roll < 0.08 {
        let first = rng.between(1962, 1999);
        vec![first.to_string(), (first + rng.between(1, 2)).to_string()]
    } else if roll < 0.25 {
        vec![year(1962, 2001, rng)]
    } else if roll < 0.45 {
        vec![month(1962, 2001, rng)]
    } else {
        vec![day(1962, 2001, rng)]
    }
}

/// An amount given in US dollars, in the currency people along the route would pay it in,
/// rounded as cash amounts are.
pub(super) fn money(country: &str, usd: u64) -> (u64, &'static str) {
    let (rate, currency) = match country {
        "it" | "es" => (0.9, "EUR"),
        "sn" => (600.0, "XOF"),
        "gm" => (70.0, "GMD"),
        "mr" => (40.0, "MRU"),
        _ => (1.0, "USD"),
    };
    let raw = usd as f64 * rate;
    let step = if raw >= 100_000.0 { 1_000.0 } else { 50.0 };
    let rounded = ((raw / step).round() * step).max(step);
    (rounded as u64, currency)
}

static ADJECTIVES: Pool<&str> = Pool::new(&[
    "Golden", "Silver", "Green", "Blue", "Red", "White", "Southern", "Northern", "Twin", "New",
    "Rising", "Evening",
]);
static NOUNS: Pool<&str> = Pool::new(&[
    "Falcon", "Oasis", "Dune", "Palm", "Star", "Crescent", "Horizon", "Caravan", "Gazelle", "Wave",
    "Anchor", "Harbour",
]);
static FARM_FIRST: Pool<&str> = Pool::new(&["Poggio", "Valle", "Campo", "Piano", "Contrada"]);
static FARM_SECOND: Pool<&str> = Pool::new(&["Verde", "del Sole", "Dorato", "Alto", "degli Ulivi"]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CompanyKind {
    Exchange,
    Trucking,
    Coaches,
    Fishing,
    Pirogues,
    Farm,
}

impl CompanyKind {
    pub fn legal_form(self) -> &'static str {
        match self {
            CompanyKind::Exchange => "money exchange office",
            CompanyKind::Trucking | CompanyKind::Coaches | CompanyKind::Fishing => {
                "limited liability company"
            }
            CompanyKind::Pirogues => "groupement d'intérêt économique",
            CompanyKind::Farm => "società a responsabilità limitata",
        }
    }

    pub fn sector(self) -> &'static str {
        match self {
            CompanyKind::Exchange => "currency exchange and money transfer",
            CompanyKind::Trucking => "road haulage",
            CompanyKind::Coaches => "passenger transport",
            CompanyKind::Fishing | CompanyKind::Pirogues => "fishing",
            CompanyKind::Farm => "agriculture",
        }
    }

    pub fn name(self, rng: &mut Rng) -> String {
        let adjective = ADJECTIVES.pick(rng);
        let noun = NOUNS.pick(rng);
        match self {
            CompanyKind::Exchange => format!("{adjective} {noun} Exchange"),
            CompanyKind::Trucking => format!("{adjective} {noun} Transport Co."),
            CompanyKind::Coaches => format!("{adjective} {noun} Bus Lines"),
            CompanyKind::Fishing => format!("{adjective} {noun} Fishing Co."),
            CompanyKind::Pirogues => format!("GIE {adjective} {noun} Pêche"),
            CompanyKind::Farm => format!(
                "Azienda Agricola {} {} s.r.l.",
                FARM_FIRST.pick(rng),
                FARM_SECOND.pick(rng)
            ),
        }
    }
}

/// Model and type of road vehicles for a company kind.
static TRUCKS: Pool<(&str, &str)> = Pool::new(&[
    ("Toyota Land Cruiser 79", "pickup"),
    ("Toyota Hilux", "pickup"),
    ("Isuzu FVR", "truck"),
    ("Mercedes-Benz Actros", "truck"),
    ("Iveco Trakker", "truck"),
]);
static COACHES: Pool<(&str, &str)> = Pool::new(&[
    ("Mercedes-Benz Sprinter", "minibus"),
    ("Toyota HiAce", "minibus"),
    ("King Long XMQ6127", "coach"),
]);

pub(super) fn road_vehicle(kind: CompanyKind, rng: &mut Rng) -> (&'static str, &'static str) {
    match kind {
        CompanyKind::Coaches => *COACHES.pick(rng),
        _ => *TRUCKS.pick(rng),
    }
}

static MEDITERRANEAN_BOATS: Pool<&str> = Pool::new(&[
    "Nour al-Bahr",
    "Zahrat al-Sahil",
    "Al-Fajr",
    "Al-Murjan",
    "Bahr al-Amal",
    "Al-Nawras",
]);
static ATLANTIC_BOATS: Pool<&str> = Pool::new(&[
    "Teranga",
    "Jamm",
    "Yaakaar",
    "Ndokh",
    "Jamono",
    "Ocean Star",
]);

/// Name, type and gross tonnage of a boat a fishing company owns.
pub(super) fn boat(kind: CompanyKind, country: &str, rng: &mut Rng) -> (String, &'static str, u32) {
    let names = if country == "ly" {
        &MEDITERRANEAN_BOATS
    } else {
        &ATLANTIC_BOATS
    };
    let name = format!("{} {}", names.pick(rng), rng.between(1, 19));
    match kind {
        CompanyKind::Pirogues => (name, "pirogue", rng.between(3, 12)),
        _ if rng.chance(0.5) => (name, "fishing trawler", rng.between(40, 180)),
        _ => (name, "wooden fishing boat", rng.between(8, 30)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_core::PropertyType;
    use tandem_core::value::clean;

    #[test]
    fn generated_values_clean_to_themselves() {
        let mut rng = Rng::stream(9, "details");
        for _ in 0..200 {
            for date in birth_dates(&mut rng) {
                assert_eq!(clean(PropertyType::Date, "birthDate", &date).unwrap(), date);
            }
            let d = day(2015, 2025, &mut rng);
            assert_eq!(clean(PropertyType::Date, "date", &d).unwrap(), d);
        }
        for country in ["er", "et", "so", "sd", "ly", "it", "sn", "gm", "mr", "es"] {
            let number = phone(country, &mut rng).unwrap();
            assert!(
                number.starts_with('+') && number.contains(" 555"),
                "{number}"
            );
            assert!(!number.contains('#'));
            assert!(!country_name(country).is_empty());
        }
        assert!(phone("zz", &mut rng).is_none());
    }

    #[test]
    fn money_is_converted_and_rounded() {
        assert_eq!(money("ly", 2_430), (2_450, "USD"));
        assert_eq!(money("it", 1_000), (900, "EUR"));
        assert_eq!(money("sn", 1_000), (600_000, "XOF"));
        assert_eq!(money("gm", 1), (50, "GMD"));
    }
}
