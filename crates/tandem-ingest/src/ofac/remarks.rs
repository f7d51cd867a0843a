//! The Remarks column of OFAC's legacy files: `;`-separated clauses, each a label followed by a
//! value ("DOB 12 Dec 1985", "Passport LY53FP76 issued 29 Sep 2015", "Linked To: X").
//!
//! This module only reads the text; `ofac.rs` decides which entity and property each clause
//! feeds. Nothing here fails: a clause it cannot read is reported as unrecognised so that the
//! caller keeps it as a note.

use tandem_core::country;
use tandem_core::value::PartialDate;

/// What a clause says, by its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    BirthDate,
    BirthPlace,
    Nationality,
    Citizenship,
    /// `a.k.a. 'X'` in the remarks: OFAC keeps its low-quality aliases here.
    WeakAlias,
    LinkedTo,
    Passport,
    /// An identity document: an `Identification` entity, and its number on this property.
    IdentityDocument(&'static str),
    /// A registration, tax or licence number (with digits), on this property.
    Number(&'static str),
    /// A code that may be letters only (SWIFT/BIC, ticker), on this property.
    Code(&'static str),
    Imo,
    Text(&'static str),
    Country(&'static str),
    Date(&'static str),
    Website,
    Wallet,
    AircraftOperator,
    /// About the sanction rather than the subject (secondary sanctions, directives…).
    Provision,
    ListingDate,
}

/// Labels as OFAC writes them, matched without regard to case; the longest label wins
/// ("Nationality of Registration" over "nationality").
const LABELS: &[(&str, Kind)] = &[
    ("DOB", Kind::BirthDate),
    ("POB", Kind::BirthPlace),
    ("nationality", Kind::Nationality),
    ("citizen", Kind::Citizenship),
    ("a.k.a.", Kind::WeakAlias),
    ("f.k.a.", Kind::WeakAlias),
    ("n.k.a.", Kind::WeakAlias),
    ("Linked To", Kind::LinkedTo),
    ("Gender", Kind::Text("gender")),
    ("ethnicity", Kind::Text("ethnicity")),
    ("Title", Kind::Text("title")),
    ("Position", Kind::Text("position")),
    ("Passport", Kind::Passport),
    ("Passport Number", Kind::Passport),
    ("Diplomatic Passport", Kind::Passport),
    ("British National Overseas Passport", Kind::Passport),
    ("Stateless Person Passport", Kind::Passport),
    ("National ID No.", Kind::IdentityDocument("idNumber")),
    ("National ID Number", Kind::IdentityDocument("idNumber")),
    ("Cedula No.", Kind::IdentityDocument("idNumber")),
    ("D.N.I.", Kind::IdentityDocument("idNumber")),
    ("C.U.R.P.", Kind::IdentityDocument("idNumber")),
    ("Personal ID Card", Kind::IdentityDocument("idNumber")),
    ("Citizen's Card Number", Kind::IdentityDocument("idNumber")),
    ("Identification Number", Kind::IdentityDocument("idNumber")),
    (
        "Birth Certificate Number",
        Kind::IdentityDocument("idNumber"),
    ),
    ("Driver's License No.", Kind::IdentityDocument("idNumber")),
    ("Electoral Registry No.", Kind::IdentityDocument("idNumber")),
    ("Credencial electoral", Kind::IdentityDocument("idNumber")),
    ("Kenyan ID No.", Kind::IdentityDocument("idNumber")),
    (
        "Turkish Identification Number",
        Kind::IdentityDocument("idNumber"),
    ),
    ("Numero de Identidad", Kind::IdentityDocument("idNumber")),
    ("Residency Number", Kind::IdentityDocument("idNumber")),
    ("Refugee ID Card", Kind::IdentityDocument("idNumber")),
    (
        "Tazkira National ID Card",
        Kind::IdentityDocument("idNumber"),
    ),
    ("UAE Identification", Kind::IdentityDocument("idNumber")),
    ("VisaNumberID", Kind::IdentityDocument("idNumber")),
    ("Immigration No.", Kind::IdentityDocument("idNumber")),
    ("I.F.E.", Kind::IdentityDocument("idNumber")),
    ("C.U.I.", Kind::IdentityDocument("idNumber")),
    ("C.U.I.P.", Kind::IdentityDocument("idNumber")),
    (
        "National Foreign ID Number",
        Kind::IdentityDocument("idNumber"),
    ),
    (
        "Cartilla de Servicio Militar Nacional",
        Kind::IdentityDocument("idNumber"),
    ),
    (
        "Military Registration Number",
        Kind::IdentityDocument("idNumber"),
    ),
    ("Travel Document Number", Kind::IdentityDocument("idNumber")),
    ("Pilot License Number", Kind::IdentityDocument("idNumber")),
    ("LE Number", Kind::IdentityDocument("idNumber")),
    (
        "Stateless Person ID Card",
        Kind::IdentityDocument("idNumber"),
    ),
    (
        "Bosnian Personal ID No.",
        Kind::IdentityDocument("idNumber"),
    ),
    (
        "Moroccan Personal ID No.",
        Kind::IdentityDocument("idNumber"),
    ),
    (
        "CNP (Personal Numerical Code)",
        Kind::IdentityDocument("idNumber"),
    ),
    ("SSN", Kind::IdentityDocument("socialSecurityNumber")),
    ("Tax ID No.", Kind::Number("taxNumber")),
    ("Tax ID", Kind::Number("taxNumber")),
    ("R.F.C.", Kind::Number("taxNumber")),
    ("RFC", Kind::Number("taxNumber")),
    ("NIT #", Kind::Number("taxNumber")),
    ("RUC #", Kind::Number("taxNumber")),
    ("RIF #", Kind::Number("taxNumber")),
    ("RTN", Kind::Number("taxNumber")),
    ("C.U.I.T.", Kind::Number("taxNumber")),
    ("US FEIN", Kind::Number("taxNumber")),
    ("C.I.F.", Kind::Number("taxNumber")),
    ("Italian Fiscal Code", Kind::Number("taxNumber")),
    ("Fiscal Code", Kind::Number("taxNumber")),
    ("Romanian Tax Registration", Kind::Number("taxNumber")),
    (
        "Paraguayan tax identification number",
        Kind::Number("taxNumber"),
    ),
    (
        "Numero Unico de Identificacao Tributaria (NUIT)",
        Kind::Number("taxNumber"),
    ),
    ("V.A.T. Number", Kind::Number("vatCode")),
    ("VAT Number", Kind::Number("vatCode")),
    ("Registration Number", Kind::Number("registrationNumber")),
    ("Registration ID", Kind::Number("registrationNumber")),
    (
        "Business Registration Number",
        Kind::Number("registrationNumber"),
    ),
    (
        "Business Registration Document #",
        Kind::Number("registrationNumber"),
    ),
    ("Company Number", Kind::Number("registrationNumber")),
    ("UK Company Number", Kind::Number("registrationNumber")),
    (
        "Commercial Registry Number",
        Kind::Number("registrationNumber"),
    ),
    ("C.R. No.", Kind::Number("registrationNumber")),
    ("Romanian C.R.", Kind::Number("registrationNumber")),
    ("Folio Mercantil No.", Kind::Number("registrationNumber")),
    ("Matricula Mercantil No", Kind::Number("registrationNumber")),
    (
        "Government Gazette Number",
        Kind::Number("registrationNumber"),
    ),
    (
        "Economic Register Number (CBLS)",
        Kind::Number("registrationNumber"),
    ),
    ("Trade License No.", Kind::Number("registrationNumber")),
    (
        "Chamber of Commerce Number",
        Kind::Number("registrationNumber"),
    ),
    (
        "Istanbul Chamber of Comm. No.",
        Kind::Number("registrationNumber"),
    ),
    (
        "Dubai Chamber of Commerce Membership No.",
        Kind::Number("registrationNumber"),
    ),
    (
        "Central Registration System Number",
        Kind::Number("registrationNumber"),
    ),
    ("Business Number", Kind::Number("registrationNumber")),
    ("Enterprise Number", Kind::Number("registrationNumber")),
    (
        "Certificate of Incorporation Number",
        Kind::Number("registrationNumber"),
    ),
    (
        "Public Registration Number",
        Kind::Number("registrationNumber"),
    ),
    ("Registered Charity No.", Kind::Number("registrationNumber")),
    ("Branch Unit Number", Kind::Number("registrationNumber")),
    ("File Number", Kind::Number("registrationNumber")),
    ("Organization Code", Kind::Number("registrationNumber")),
    (
        "MSB Registration Number",
        Kind::Number("registrationNumber"),
    ),
    (
        "Registration Certificate Number",
        Kind::Number("registrationNumber"),
    ),
    ("Aircraft Tail Number", Kind::Number("registrationNumber")),
    ("License", Kind::Number("licenseNumber")),
    ("Tourism License No.", Kind::Number("licenseNumber")),
    ("Permit Number", Kind::Number("licenseNumber")),
    ("SRE Permit No.", Kind::Number("licenseNumber")),
    (
        "Afghan Money Service Provider License Number",
        Kind::Number("licenseNumber"),
    ),
    ("Unified Social Credit Code (USCC)", Kind::Number("uscCode")),
    (
        "United Social Credit Code Certificate (USCCC)",
        Kind::Number("uscCode"),
    ),
    ("Legal Entity Number", Kind::Number("leiCode")),
    ("D-U-N-S Number", Kind::Number("dunsCode")),
    ("BIK (RU)", Kind::Number("bikCode")),
    ("BIK", Kind::Number("bikCode")),
    ("ISIN", Kind::Number("isinCode")),
    ("MMSI", Kind::Number("mmsi")),
    (
        "Aircraft Manufacturer's Serial Number (MSN)",
        Kind::Number("serialNumber"),
    ),
    (
        "Aircraft Construction Number (also called L/N or S/N or F/N)",
        Kind::Number("serialNumber"),
    ),
    (
        "Aircraft Serial Identification",
        Kind::Number("serialNumber"),
    ),
    ("SWIFT/BIC", Kind::Code("swiftBic")),
    ("Equity Ticker", Kind::Code("ticker")),
    ("Other Vessel Call Sign", Kind::Code("callSign")),
    ("Vessel Registration Identification IMO", Kind::Imo),
    ("Vessel Registration Identification", Kind::Imo),
    ("Identification Number IMO", Kind::Imo),
    ("Company Number IMO", Kind::Imo),
    ("International Maritime Organization No.", Kind::Imo),
    ("IMO", Kind::Imo),
    ("Former Vessel Flag", Kind::Country("pastFlags")),
    ("Other Vessel Flag", Kind::Country("flag")),
    ("Nationality of Registration", Kind::Country("country")),
    ("Registration Country", Kind::Country("country")),
    ("Other Vessel Type", Kind::Text("type")),
    ("Aircraft Model", Kind::Text("model")),
    ("Organization Type", Kind::Text("sector")),
    ("Target Type", Kind::Text("classification")),
    ("Email Address", Kind::Text("email")),
    ("Email", Kind::Text("email")),
    ("Phone Number", Kind::Text("phone")),
    ("Phone No.", Kind::Text("phone")),
    ("Phone", Kind::Text("phone")),
    ("Telephone", Kind::Text("phone")),
    ("Telephone No.", Kind::Text("phone")),
    ("Telephone Number", Kind::Text("phone")),
    ("Fax", Kind::Text("phone")),
    ("Fax No.", Kind::Text("phone")),
    ("Fax Number", Kind::Text("phone")),
    (
        "Organization Established Date",
        Kind::Date("incorporationDate"),
    ),
    ("Vessel Year of Build", Kind::Date("buildDate")),
    ("Aircraft Manufacture Date", Kind::Date("buildDate")),
    ("Website", Kind::Website),
    ("Digital Currency Address", Kind::Wallet),
    ("Aircraft Operator", Kind::AircraftOperator),
    ("Additional Sanctions Information", Kind::Provision),
    ("Secondary sanctions risk", Kind::Provision),
    (
        "Transactions Prohibited For Persons Owned or Controlled By U.S. Financial Institutions",
        Kind::Provision,
    ),
    ("Executive Order", Kind::Provision),
    ("CAATSA Section", Kind::Provision),
    ("IFCA Determination", Kind::Provision),
    ("Effective Date", Kind::Provision),
    ("Purchase/Sales For Divestment Date", Kind::Provision),
    ("For more information on directives", Kind::Provision),
    ("For more information, please reference", Kind::Provision),
    ("Listing Date", Kind::ListingDate),
];

/// One clause of the remarks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Clause<'a> {
    /// The clause as written, for notes and provisions.
    pub text: &'a str,
    /// The label as written in the clause, without `alt.` ("Cedula No.").
    pub label: &'a str,
    /// `None` when no label is known: the caller keeps the text as a note.
    pub kind: Option<Kind>,
    /// What follows the label, without the separating `:`, `#`, `-` and spaces.
    pub value: &'a str,
}

/// The clauses of a remarks text, in order, without empty ones. The full stop that ends the
/// remarks is dropped; full stops inside ("CO. LTD.; ") are kept.
pub(super) fn clauses(remarks: &str) -> impl Iterator<Item = Clause<'_>> {
    let remarks = remarks.trim();
    let remarks = remarks.strip_suffix('.').unwrap_or(remarks);
    remarks
        .split(';')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(classify)
}

fn classify(text: &str) -> Clause<'_> {
    // "alt. DOB …" gives another value of the same kind.
    let body = strip_prefix_ignore_case(text, "alt.")
        .map(str::trim_start)
        .unwrap_or(text);
    let mut best: Option<(usize, Kind)> = None;
    for &(label, kind) in LABELS {
        if label.len() > best.map_or(0, |(len, _)| len) && starts_with_label(body, label) {
            best = Some((label.len(), kind));
        }
    }
    match best {
        Some((len, kind)) => {
            let rest = body.get(len..).unwrap_or("");
            let value = rest.trim_start_matches(|c: char| c.is_whitespace() || ":#-".contains(c));
            Clause {
                text,
                label: body.get(..len).unwrap_or(""),
                kind: Some(kind),
                value: value.trim_end(),
            }
        }
        None => Clause {
            text,
            label: "",
            kind: None,
            value: body,
        },
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// The label starts the text and ends at a word boundary ("citizen" does not start
/// "citizenship").
fn starts_with_label(text: &str, label: &str) -> bool {
    match strip_prefix_ignore_case(text, label) {
        Some(rest) => {
            let label_ends_in_word = label.chars().last().is_some_and(char::is_alphanumeric);
            !label_ends_in_word || !rest.chars().next().is_some_and(char::is_alphanumeric)
        }
        None => false,
    }
}

/// Drops the full stop some clauses end with ("Gender Male.").
pub(super) fn without_full_stop(value: &str) -> &str {
    value.trim_end().trim_end_matches('.').trim_end()
}

/// The text between the first and the last quote mark: `'AL-BIJA'` → `AL-BIJA`.
pub(super) fn quoted(value: &str) -> Option<&str> {
    let is_quote = |c: char| c == '\'' || c == '"';
    let start = value.find(is_quote)?;
    let end = value.rfind(is_quote)?;
    let inner = value.get(start + 1..end)?.trim();
    (end > start && !inner.is_empty()).then_some(inner)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_number(word: &str) -> Option<u8> {
    let lower = word.trim_end_matches('.').to_ascii_lowercase();
    let prefix = lower.get(..3)?;
    let index = MONTHS.iter().position(|m| *m == prefix)?;
    // Accept "Sep", "Sept", "September", not "Septic".
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let spelled = full.get(index)?;
    (spelled.starts_with(lower.as_str())).then(|| index as u8 + 1)
}

/// OFAC's date forms: `12 Dec 1985`, `Dec 1985`, `1985`, keeping the precision given.
pub(super) fn parse_date(text: &str) -> Option<PartialDate> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let iso = match words.as_slice() {
        [day, month, year] => format!(
            "{year}-{:02}-{:02}",
            month_number(month)?,
            day.parse::<u8>().ok()?
        ),
        [month, year] => format!("{year}-{:02}", month_number(month)?),
        [year] => (*year).to_string(),
        _ => return None,
    };
    PartialDate::parse(&iso)
}

/// Longest span of years a range is spelled out as single years ("DOB 1972 to 1977" is six
/// birth years); wider ranges keep only their ends.
const MAX_YEARS_SPELLED_OUT: u16 = 10;

/// A date (of birth, of establishment…): one date, `circa` a date, `A to B`, `between A and B`, or `1979-1982`.
/// A range of whole years gives each year; any other range gives its two ends.
pub(super) fn parse_dates(value: &str) -> Option<Vec<PartialDate>> {
    let mut text = value.trim();
    for hedge in ["circa", "approximately", "about", "approx."] {
        if let Some(rest) = strip_prefix_ignore_case(text, hedge)
            && rest.starts_with(char::is_whitespace)
        {
            text = rest.trim_start();
        }
    }
    if let Some(rest) = strip_prefix_ignore_case(text, "between")
        && let Some((start, end)) = split_word(rest, "and")
    {
        return date_range(start, end);
    }
    if let Some((start, end)) = split_word(text, "to") {
        return date_range(start, end);
    }
    if let Some((start, end)) = text.split_once('-')
        && start.trim().len() == 4
        && end.trim().len() == 4
    {
        return date_range(start, end);
    }
    parse_date(text).map(|d| vec![d])
}

/// Splits at the first whole word `word` (case-insensitive).
fn split_word<'a>(text: &'a str, word: &str) -> Option<(&'a str, &'a str)> {
    let lower = text.to_ascii_lowercase();
    let needle = format!(" {word} ");
    let at = lower.find(&needle)?;
    Some((text.get(..at)?, text.get(at + needle.len()..)?))
}

fn date_range(start: &str, end: &str) -> Option<Vec<PartialDate>> {
    let start = parse_date(start)?;
    let end = parse_date(end)?;
    if end < start {
        return None;
    }
    let whole_years = |d: &PartialDate, month: u8, day: u8| {
        d.month.is_none() || (d.month == Some(month) && d.day.is_none_or(|x| x == day))
    };
    if whole_years(&start, 1, 1)
        && whole_years(&end, 12, 31)
        && end.year - start.year <= MAX_YEARS_SPELLED_OUT
    {
        return (start.year..=end.year)
            .map(|year| PartialDate::parse(&format!("{year:04}")))
            .collect();
    }
    Some(vec![start, end])
}

/// An identity document or registration number as OFAC writes it:
/// `NUMBER [(QUALIFIER)]… [issued DATE] [expires DATE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Document<'a> {
    pub number: &'a str,
    pub country: Option<&'static str>,
    pub issued: Option<PartialDate>,
    pub expires: Option<PartialDate>,
    /// The clause says more than number, country and dates (a city, a second country, an
    /// unreadable date), so the caller keeps the whole clause as a note as well.
    pub has_more: bool,
}

pub(super) fn parse_document(value: &str) -> Option<Document<'_>> {
    let value = without_full_stop(value);
    let lower = value.to_ascii_lowercase();
    let issued_at = lower.find(" issued ");
    let expires_at = lower.find(" expires ");
    let head_end = [issued_at, expires_at]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(value.len());
    let mut has_more = false;
    let mut date_after = |at: Option<usize>, word: &str| -> Option<PartialDate> {
        let start = at? + word.len() + 2;
        let rest = value.get(start..)?;
        let rest_lower = lower.get(start..)?;
        // The date runs to the next keyword, if any.
        let end = [" issued ", " expires "]
            .iter()
            .filter_map(|k| rest_lower.find(k))
            .min()
            .unwrap_or(rest.len());
        let date = parse_date(rest.get(..end)?);
        if date.is_none() {
            has_more = true;
        }
        date
    };
    let issued = date_after(issued_at, "issued");
    let expires = date_after(expires_at, "expires");

    let mut head = value.get(..head_end)?.trim();
    let mut country = None;
    while let Some(inner_start) = head.strip_suffix(')').and_then(|h| h.rfind('(')) {
        let inner = head.get(inner_start + 1..head.len() - 1).unwrap_or("");
        match (country::lookup(inner), country) {
            (Some(code), None) => country = Some(code),
            _ => has_more = true,
        }
        head = head.get(..inner_start)?.trim_end();
    }
    // "National ID No.: 1372584, Kenya"
    if country.is_none()
        && let Some((number, tail)) = head.rsplit_once(", ")
        && let Some(code) = country::lookup(tail)
    {
        country = Some(code);
        head = number;
    }
    let number = head.trim().trim_end_matches(',').trim();
    if !number.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(Document {
        number,
        country,
        issued,
        expires,
        has_more,
    })
}

/// A listing date clause: `Listing Date (EO 14024 Directive 2): 24 Feb 2022` gives the
/// qualifier and the date.
pub(super) fn parse_listing_date(value: &str) -> Option<(Option<&str>, PartialDate)> {
    let (before, date) = value.rsplit_once(':').unwrap_or(("", value));
    let date = parse_date(without_full_stop(date))?;
    let qualifier = before
        .trim()
        .strip_prefix('(')
        .and_then(|q| q.strip_suffix(')'))
        .map(str::trim);
    Some((qualifier, date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dates(value: &str) -> Option<Vec<String>> {
        parse_dates(value).map(|ds| ds.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn clauses_split_and_labels_resolve_longest_first() {
        let found: Vec<Clause> = clauses(
            "DOB 12 Dec 1985; alt. DOB 02 Dec 1985; Nationality of Registration Korea, North; \
             nationality Libya; citizenship unknown; Linked To: D'S SUPERMARKET COMPANY LTD.",
        )
        .collect();
        let kinds: Vec<Option<Kind>> = found.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                Some(Kind::BirthDate),
                Some(Kind::BirthDate),
                Some(Kind::Country("country")),
                Some(Kind::Nationality),
                None,
                Some(Kind::LinkedTo),
            ]
        );
        assert_eq!(found[1].value, "02 Dec 1985");
        assert_eq!(found[1].label, "DOB");
        assert_eq!(found[1].text, "alt. DOB 02 Dec 1985");
        assert_eq!(found[2].value, "Korea, North");
        assert_eq!(found[5].value, "D'S SUPERMARKET COMPANY LTD");
        let wallet = classify("alt. Digital Currency Address - XBT 1DT3ten");
        assert_eq!(
            (wallet.kind, wallet.value),
            (Some(Kind::Wallet), "XBT 1DT3ten")
        );
        let nit = classify("NIT # 800018928-0 (Colombia)");
        assert_eq!(nit.value, "800018928-0 (Colombia)");
    }

    #[test]
    fn dates_keep_their_precision() {
        assert_eq!(dates("12 Dec 1985"), Some(vec!["1985-12-12".into()]));
        assert_eq!(dates("Sep 1938"), Some(vec!["1938-09".into()]));
        assert_eq!(dates("1946"), Some(vec!["1946".into()]));
        assert_eq!(dates("circa 1951"), Some(vec!["1951".into()]));
        assert_eq!(dates("circa 07 Jul 1966"), Some(vec!["1966-07-07".into()]));
        assert_eq!(
            dates("1972 to 1977").map(|d| d.len()),
            Some(6),
            "a range of whole years gives each year"
        );
        assert_eq!(
            dates("01 Jan 1961 to 31 Dec 1962"),
            Some(vec!["1961".into(), "1962".into()])
        );
        assert_eq!(
            dates("Mar 1962 to Feb 1963"),
            Some(vec!["1962-03".into(), "1963-02".into()])
        );
        assert_eq!(dates("circa 1979-1982").map(|d| d.len()), Some(4));
        assert_eq!(
            dates("between 1930 and 1990"),
            Some(vec!["1930".into(), "1990".into()])
        );
        for bad in [
            "31 Feb 1980",
            "1990 to 1980",
            "Smarch 1980",
            "12/03/1975",
            "",
            "circa",
        ] {
            assert_eq!(dates(bad), None, "{bad}");
        }
    }

    #[test]
    fn documents() {
        let doc =
            parse_document("AF5164852 (Pakistan) issued 01 Oct 2011 expires 29 Sep 2016").unwrap();
        assert_eq!(doc.number, "AF5164852");
        assert_eq!(doc.country, Some("pk"));
        assert_eq!(doc.issued.map(|d| d.to_string()), Some("2011-10-01".into()));
        assert_eq!(
            doc.expires.map(|d| d.to_string()),
            Some("2016-09-29".into())
        );
        assert!(!doc.has_more);
        let libyan = parse_document("C17HLRL3 issued 30 Dec 2015").unwrap();
        assert_eq!((libyan.number, libyan.country), ("C17HLRL3", None));
        let stuttgart = parse_document("HRA 738077 (Stuttgart) (Germany)").unwrap();
        assert_eq!(stuttgart.number, "HRA 738077");
        assert_eq!(stuttgart.country, Some("de"));
        assert!(stuttgart.has_more);
        let kenya = parse_document("1372584, Kenya").unwrap();
        assert_eq!((kenya.number, kenya.country), ("1372584", Some("ke")));
        assert!(parse_document("place of issue: Al-Anbar, Iraq").is_none());
        assert!(parse_document("").is_none());
    }

    #[test]
    fn quotes_and_listing_dates() {
        assert_eq!(quoted("'al-Bija'"), Some("al-Bija"));
        assert_eq!(quoted("'D'S PLACE'"), Some("D'S PLACE"));
        assert_eq!(quoted("no quotes"), None);
        assert_eq!(quoted("''"), None);
        let (qualifier, date) = parse_listing_date("(EO 14024 Directive 2): 24 Feb 2022").unwrap();
        assert_eq!(qualifier, Some("EO 14024 Directive 2"));
        assert_eq!(date.to_string(), "2022-02-24");
    }

    proptest! {
        #[test]
        fn remark_parsers_never_panic(text in any::<String>()) {
            for clause in clauses(&text) {
                let _ = parse_dates(clause.value);
                let _ = parse_document(clause.value);
                let _ = parse_listing_date(clause.value);
                let _ = quoted(clause.value);
            }
            let _ = parse_document(&text);
            let _ = parse_dates(&text);
        }
    }
}
