//! The indicator catalogue: a versioned TOML data file, parsed and validated.
//!
//! The built-in catalogue (`catalogue/indicators.toml`) is embedded in the binary; an
//! administrator can load a corrected revision with [`Catalogue::from_toml`]. Every assessment
//! records the catalogue id, version and the SHA-256 of the exact text it was built from, so a
//! later revision never silently changes what a past evaluation meant.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The text of the built-in catalogue.
pub const BUILTIN_TOML: &str = include_str!("../catalogue/indicators.toml");

/// One of the four ILO/EC operational lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ListId {
    /// Adults, labour exploitation.
    AL,
    /// Adults, sexual exploitation.
    AS,
    /// Children (under 18), labour exploitation.
    CL,
    /// Children (under 18), sexual exploitation.
    CS,
}

impl ListId {
    pub const ALL: [ListId; 4] = [ListId::AL, ListId::AS, ListId::CL, ListId::CS];

    pub fn as_str(self) -> &'static str {
        match self {
            ListId::AL => "AL",
            ListId::AS => "AS",
            ListId::CL => "CL",
            ListId::CS => "CS",
        }
    }

    /// Children's lists need no destination-means dimension (Palermo Protocol Art. 3(c)).
    pub fn is_child(self) -> bool {
        matches!(self, ListId::CL | ListId::CS)
    }

    pub fn is_sexual(self) -> bool {
        matches!(self, ListId::AS | ListId::CS)
    }

    /// The list for an age group and an exploitation family.
    pub fn of(child: bool, sexual: bool) -> ListId {
        match (child, sexual) {
            (false, false) => ListId::AL,
            (false, true) => ListId::AS,
            (true, false) => ListId::CL,
            (true, true) => ListId::CS,
        }
    }
}

impl fmt::Display for ListId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ListId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ListId::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown list {s:?}; expected AL, AS, CL or CS"))
    }
}

/// One of the six dimensions shared by the four lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DimensionId {
    D1,
    D2,
    D3,
    D4,
    D5,
    D6,
}

impl DimensionId {
    pub const ALL: [DimensionId; 6] = [
        DimensionId::D1,
        DimensionId::D2,
        DimensionId::D3,
        DimensionId::D4,
        DimensionId::D5,
        DimensionId::D6,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DimensionId::D1 => "D1",
            DimensionId::D2 => "D2",
            DimensionId::D3 => "D3",
            DimensionId::D4 => "D4",
            DimensionId::D5 => "D5",
            DimensionId::D6 => "D6",
        }
    }
}

impl fmt::Display for DimensionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DimensionId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        DimensionId::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown dimension {s:?}; expected D1 to D6"))
    }
}

/// How strongly an indicator points at trafficking in one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tier {
    #[serde(rename = "S")]
    Strong,
    #[serde(rename = "M")]
    Medium,
    #[serde(rename = "W")]
    Weak,
}

impl Tier {
    pub fn letter(self) -> &'static str {
        match self {
            Tier::Strong => "S",
            Tier::Medium => "M",
            Tier::Weak => "W",
        }
    }
}

/// How far a tier cell has been checked against the source publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TierStatus {
    Verified,
    Unverified,
    Disputed,
}

/// The review state of a catalogue revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogueStatus {
    Draft,
    Reviewed,
    Approved,
}

/// The catalogue header (spec §1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueHeader {
    pub id: String,
    /// Semantic version, `MAJOR.MINOR.PATCH`.
    pub version: String,
    pub status: CatalogueStatus,
    pub source: String,
    #[serde(default)]
    pub approver: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
    /// Licence and wording note: labels are the project's own paraphrases.
    #[serde(default)]
    pub note: Option<String>,
}

/// Where an indicator comes from and who checked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    pub document: String,
    /// Page, table or section of the document.
    pub section: String,
    #[serde(default)]
    pub checked_by: Option<String>,
    #[serde(default)]
    pub checked_on: Option<String>,
}

/// One indicator's cell in one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListTier {
    /// `None`: the indicator is not part of this list.
    pub tier: Option<Tier>,
    pub status: TierStatus,
    /// The spec marks this individual cell `?` (doubtful).
    pub doubtful: bool,
}

/// A dimension as described by the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    pub id: DimensionId,
    pub name: String,
    /// The element of the trafficking definition it reflects.
    pub element: String,
}

/// One ILO/EC operational indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    pub code: String,
    pub dimension: DimensionId,
    /// Paraphrased label for interviewers; never read to the person as a checklist.
    pub label: String,
    /// The coding question in plain words, for an interviewer without training in the tool.
    pub question: String,
    /// An open topic for a follow-up conversation when this indicator is still unknown.
    pub topic: String,
    pub tiers: BTreeMap<ListId, ListTier>,
    pub provenance: Provenance,
    pub note: Option<String>,
}

impl Indicator {
    /// The tier in a list, `None` when the list does not use the indicator.
    pub fn tier(&self, list: ListId) -> Option<Tier> {
        self.tiers.get(&list).and_then(|t| t.tier)
    }
}

/// Act, means or purpose (UNODC forced-criminality grouping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Element {
    Act,
    Means,
    Purpose,
}

/// One forced-criminality screening item (spec §1.5). Not counted by the rule: when confirmed
/// it sets the mapped ILO/EC indicators to present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForcedCriminalityItem {
    pub code: String,
    pub element: Element,
    pub theme: String,
    pub question: String,
    /// ILO/EC indicator codes this item sets to present when confirmed.
    pub sets: Vec<String>,
    pub status: TierStatus,
    pub provenance: Provenance,
}

/// One of the eleven ILO forced-labour indicators (2012), derived from the same answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForcedLabourIndicator {
    pub code: String,
    pub label: String,
    /// Indicator codes whose presence shows this one.
    pub derived_codes: Vec<String>,
    /// Dimensions any present indicator of which shows this one.
    pub derived_dimensions: Vec<DimensionId>,
    pub provenance: Provenance,
}

/// A parsed, validated catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub header: CatalogueHeader,
    pub dimensions: Vec<Dimension>,
    pub indicators: Vec<Indicator>,
    pub forced_criminality: Vec<ForcedCriminalityItem>,
    pub forced_labour: Vec<ForcedLabourIndicator>,
    sha256: String,
    by_code: BTreeMap<String, usize>,
    fc_by_code: BTreeMap<String, usize>,
}

/// What identifies the catalogue an assessment used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueRef {
    pub id: String,
    pub version: String,
    pub sha256: String,
}

/// A catalogue that cannot be used; each error names where it is.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogueError {
    #[error("catalogue line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("catalogue line {line}: {location}: {message}")]
    Invalid {
        /// 1-based line of the offending entry (0 when the whole file is at fault).
        line: usize,
        /// The entry and field, e.g. `indicator DR-01, tiers.AL`.
        location: String,
        message: String,
    },
}

impl Catalogue {
    /// The catalogue shipped with Tandem.
    pub fn builtin() -> &'static Catalogue {
        static BUILTIN: std::sync::OnceLock<Catalogue> = std::sync::OnceLock::new();
        BUILTIN.get_or_init(|| {
            // The file is embedded at build time and a unit test parses it: failure here is a
            // build defect, not bad input.
            Catalogue::from_toml(BUILTIN_TOML)
                .unwrap_or_else(|err| panic!("built-in indicator catalogue: {err}"))
        })
    }

    /// Parses and validates a catalogue revision.
    pub fn from_toml(text: &str) -> Result<Catalogue, CatalogueError> {
        let raw: raw::File = toml::from_str(text).map_err(|err| syntax_error(text, &err))?;
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        raw::build(text, raw, sha256)
    }

    pub fn version(&self) -> &str {
        &self.header.version
    }

    /// SHA-256 (hex) of the exact text the catalogue was parsed from.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    pub fn reference(&self) -> CatalogueRef {
        CatalogueRef {
            id: self.header.id.clone(),
            version: self.header.version.clone(),
            sha256: self.sha256.clone(),
        }
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.by_code.get(code).map(|&i| &self.indicators[i])
    }

    pub fn forced_criminality_item(&self, code: &str) -> Option<&ForcedCriminalityItem> {
        self.fc_by_code
            .get(code)
            .map(|&i| &self.forced_criminality[i])
    }

    pub fn dimension(&self, id: DimensionId) -> Option<&Dimension> {
        self.dimensions.iter().find(|d| d.id == id)
    }

    /// Indicators of one dimension that take part in one list, in catalogue order.
    pub fn indicators_in(
        &self,
        dimension: DimensionId,
        list: ListId,
    ) -> impl Iterator<Item = (&Indicator, Tier)> {
        self.indicators
            .iter()
            .filter(move |i| i.dimension == dimension)
            .filter_map(move |i| i.tier(list).map(|t| (i, t)))
    }

    /// How many indicators a list uses.
    pub fn count(&self, list: ListId) -> usize {
        self.indicators
            .iter()
            .filter(|i| i.tier(list).is_some())
            .count()
    }
}

fn syntax_error(text: &str, err: &toml::de::Error) -> CatalogueError {
    let (line, column) = err
        .span()
        .map(|span| line_col(text, span.start))
        .unwrap_or((0, 0));
    CatalogueError::Syntax {
        line,
        column,
        message: err.message().to_string(),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

/// The file as written, before validation. Spans give the line of each entry for errors.
mod raw {
    use super::*;
    use toml::Spanned;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct File {
        catalogue: CatalogueHeader,
        #[serde(default)]
        dimension: Vec<Spanned<RawDimension>>,
        #[serde(default)]
        indicator: Vec<Spanned<RawIndicator>>,
        #[serde(default)]
        forced_criminality: Vec<Spanned<RawFc>>,
        #[serde(default)]
        forced_labour: Vec<Spanned<RawFl>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawDimension {
        id: String,
        name: String,
        element: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawIndicator {
        code: String,
        dimension: String,
        label: String,
        question: String,
        topic: String,
        /// List → tier cell: `S`, `M`, `W` or `-`, with `?` appended when doubtful.
        tiers: BTreeMap<String, String>,
        /// List → `verified` | `unverified` | `disputed`.
        status: BTreeMap<String, TierStatus>,
        provenance: Provenance,
        #[serde(default)]
        note: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawFc {
        code: String,
        element: Element,
        theme: String,
        question: String,
        sets: Vec<String>,
        status: TierStatus,
        provenance: Provenance,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawFl {
        code: String,
        label: String,
        #[serde(default)]
        derived_codes: Vec<String>,
        #[serde(default)]
        derived_dimensions: Vec<String>,
        provenance: Provenance,
    }

    fn invalid(text: &str, start: usize, location: String, message: String) -> CatalogueError {
        CatalogueError::Invalid {
            line: line_col(text, start).0,
            location,
            message,
        }
    }

    fn check_text(
        text: &str,
        start: usize,
        location: &str,
        field: &str,
        value: &str,
    ) -> Result<(), CatalogueError> {
        if value.trim().is_empty() {
            return Err(invalid(
                text,
                start,
                format!("{location}, {field}"),
                "must not be empty".into(),
            ));
        }
        Ok(())
    }

    fn parse_cell(cell: &str) -> Result<(Option<Tier>, bool), String> {
        let cell = cell.trim();
        let (base, doubtful) = match cell.strip_suffix('?') {
            Some(base) => (base, true),
            None => (cell, false),
        };
        let tier = match base {
            "S" => Some(Tier::Strong),
            "M" => Some(Tier::Medium),
            "W" => Some(Tier::Weak),
            "-" => None,
            other => {
                return Err(format!(
                    "unknown tier {other:?}; expected S, M, W or - (with ? when doubtful)"
                ));
            }
        };
        Ok((tier, doubtful))
    }

    fn valid_semver(v: &str) -> bool {
        let core = v.split(['-', '+']).next().unwrap_or("");
        let parts: Vec<&str> = core.split('.').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    }

    pub(super) fn build(
        text: &str,
        raw: File,
        sha256: String,
    ) -> Result<Catalogue, CatalogueError> {
        let header = raw.catalogue;
        if !valid_semver(&header.version) {
            return Err(CatalogueError::Invalid {
                line: 0,
                location: "catalogue.version".into(),
                message: format!(
                    "{:?} is not a semantic version (MAJOR.MINOR.PATCH)",
                    header.version
                ),
            });
        }
        if header.id.trim().is_empty() {
            return Err(CatalogueError::Invalid {
                line: 0,
                location: "catalogue.id".into(),
                message: "must not be empty".into(),
            });
        }

        let mut dimensions = Vec::new();
        for spanned in raw.dimension {
            let start = spanned.span().start;
            let d = spanned.into_inner();
            let location = format!("dimension {}", d.id);
            let id = DimensionId::from_str(&d.id)
                .map_err(|m| invalid(text, start, format!("{location}, id"), m))?;
            if dimensions.iter().any(|x: &Dimension| x.id == id) {
                return Err(invalid(
                    text,
                    start,
                    format!("{location}, id"),
                    "duplicate dimension".into(),
                ));
            }
            check_text(text, start, &location, "name", &d.name)?;
            dimensions.push(Dimension {
                id,
                name: d.name,
                element: d.element,
            });
        }
        for id in DimensionId::ALL {
            if !dimensions.iter().any(|d| d.id == id) {
                return Err(CatalogueError::Invalid {
                    line: 0,
                    location: format!("dimension {id}"),
                    message: "missing; the rule needs all six dimensions".into(),
                });
            }
        }

        let mut indicators: Vec<Indicator> = Vec::new();
        let mut by_code = BTreeMap::new();
        let mut starts = Vec::new();
        for spanned in raw.indicator {
            let start = spanned.span().start;
            let r = spanned.into_inner();
            let location = format!("indicator {}", r.code);
            if !valid_code(&r.code) {
                return Err(invalid(
                    text,
                    start,
                    format!("{location}, code"),
                    "codes look like AB-01".into(),
                ));
            }
            if by_code.contains_key(&r.code) {
                return Err(invalid(
                    text,
                    start,
                    format!("{location}, code"),
                    "duplicate indicator code".into(),
                ));
            }
            let dimension = DimensionId::from_str(&r.dimension)
                .map_err(|m| invalid(text, start, format!("{location}, dimension"), m))?;
            check_text(text, start, &location, "label", &r.label)?;
            check_text(text, start, &location, "question", &r.question)?;
            check_text(text, start, &location, "topic", &r.topic)?;
            for key in r.tiers.keys().chain(r.status.keys()) {
                ListId::from_str(key)
                    .map_err(|m| invalid(text, start, format!("{location}, {key}"), m))?;
            }
            let mut tiers = BTreeMap::new();
            for list in ListId::ALL {
                let cell = r.tiers.get(list.as_str()).ok_or_else(|| {
                    invalid(
                        text,
                        start,
                        format!("{location}, tiers.{list}"),
                        "missing; give S, M, W or -".into(),
                    )
                })?;
                let (tier, doubtful) = parse_cell(cell)
                    .map_err(|m| invalid(text, start, format!("{location}, tiers.{list}"), m))?;
                let status = *r.status.get(list.as_str()).ok_or_else(|| {
                    invalid(
                        text,
                        start,
                        format!("{location}, status.{list}"),
                        "missing; give verified, unverified or disputed".into(),
                    )
                })?;
                tiers.insert(
                    list,
                    ListTier {
                        tier,
                        status,
                        doubtful,
                    },
                );
            }
            if tiers.values().all(|t| t.tier.is_none()) {
                return Err(invalid(
                    text,
                    start,
                    format!("{location}, tiers"),
                    "the indicator is in no list".into(),
                ));
            }
            check_text(
                text,
                start,
                &location,
                "provenance.document",
                &r.provenance.document,
            )?;
            check_text(
                text,
                start,
                &location,
                "provenance.section",
                &r.provenance.section,
            )?;
            by_code.insert(r.code.clone(), indicators.len());
            starts.push(start);
            indicators.push(Indicator {
                code: r.code,
                dimension,
                label: r.label,
                question: r.question,
                topic: r.topic,
                tiers,
                provenance: r.provenance,
                note: r.note,
            });
        }
        if indicators.is_empty() {
            return Err(CatalogueError::Invalid {
                line: 0,
                location: "indicator".into(),
                message: "the catalogue has no indicators".into(),
            });
        }

        let mut forced_criminality = Vec::new();
        let mut fc_by_code = BTreeMap::new();
        for spanned in raw.forced_criminality {
            let start = spanned.span().start;
            let r = spanned.into_inner();
            let location = format!("forced_criminality {}", r.code);
            if !valid_code(&r.code) || by_code.contains_key(&r.code) {
                return Err(invalid(
                    text,
                    start,
                    format!("{location}, code"),
                    "must be a new code like FC-01".into(),
                ));
            }
            if fc_by_code.contains_key(&r.code) {
                return Err(invalid(
                    text,
                    start,
                    format!("{location}, code"),
                    "duplicate code".into(),
                ));
            }
            check_text(text, start, &location, "question", &r.question)?;
            if r.sets.is_empty() {
                return Err(invalid(
                    text,
                    start,
                    format!("{location}, sets"),
                    "must name at least one indicator".into(),
                ));
            }
            for code in &r.sets {
                if !by_code.contains_key(code) {
                    return Err(invalid(
                        text,
                        start,
                        format!("{location}, sets"),
                        format!("unknown indicator code {code:?}"),
                    ));
                }
            }
            fc_by_code.insert(r.code.clone(), forced_criminality.len());
            forced_criminality.push(ForcedCriminalityItem {
                code: r.code,
                element: r.element,
                theme: r.theme,
                question: r.question,
                sets: r.sets,
                status: r.status,
                provenance: r.provenance,
            });
        }

        let mut forced_labour = Vec::new();
        let mut fl_codes = BTreeSet::new();
        for spanned in raw.forced_labour {
            let start = spanned.span().start;
            let r = spanned.into_inner();
            let location = format!("forced_labour {}", r.code);
            if !valid_code(&r.code) || !fl_codes.insert(r.code.clone()) {
                return Err(invalid(
                    text,
                    start,
                    format!("{location}, code"),
                    "must be a unique code like FL-01".into(),
                ));
            }
            for code in &r.derived_codes {
                if !by_code.contains_key(code) {
                    return Err(invalid(
                        text,
                        start,
                        format!("{location}, derived_codes"),
                        format!("unknown indicator code {code:?}"),
                    ));
                }
            }
            let mut dims = Vec::new();
            for d in &r.derived_dimensions {
                dims.push(DimensionId::from_str(d).map_err(|m| {
                    invalid(text, start, format!("{location}, derived_dimensions"), m)
                })?);
            }
            if r.derived_codes.is_empty() && dims.is_empty() {
                return Err(invalid(
                    text,
                    start,
                    format!("{location}, derived_codes"),
                    "must derive from at least one indicator or dimension".into(),
                ));
            }
            forced_labour.push(ForcedLabourIndicator {
                code: r.code,
                label: r.label,
                derived_codes: r.derived_codes,
                derived_dimensions: dims,
                provenance: r.provenance,
            });
        }

        Ok(Catalogue {
            header,
            dimensions,
            indicators,
            forced_criminality,
            forced_labour,
            sha256,
            by_code,
            fc_by_code,
        })
    }

    fn valid_code(code: &str) -> bool {
        let Some((prefix, number)) = code.split_once('-') else {
            return false;
        };
        (2..=3).contains(&prefix.len())
            && prefix.chars().all(|c| c.is_ascii_uppercase())
            && number.len() == 2
            && number.chars().all(|c| c.is_ascii_digit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_with_spec_counts() {
        let c = Catalogue::builtin();
        assert_eq!(c.count(ListId::AL), 67);
        assert_eq!(c.count(ListId::CL), 65);
        assert!(
            c.indicators
                .iter()
                .all(|i| i.tier(ListId::CL) != Some(Tier::Weak)),
            "CL has no weak tier"
        );
        assert_eq!(c.sha256().len(), 64);
        assert_eq!(c.forced_criminality.len(), 8);
        assert_eq!(c.forced_labour.len(), 11);
    }

    #[test]
    fn uncertain_tiers_are_marked() {
        let c = Catalogue::builtin();
        for i in &c.indicators {
            for list in [ListId::AS, ListId::CS] {
                assert_eq!(
                    i.tiers[&list].status,
                    TierStatus::Unverified,
                    "{} {list}",
                    i.code
                );
            }
        }
        for code in ["AV-14", "AV-15"] {
            assert_eq!(
                c.indicator(code).unwrap().tiers[&ListId::AL].status,
                TierStatus::Disputed
            );
        }
        assert_eq!(
            c.indicator("DR-01").unwrap().tiers[&ListId::AL].status,
            TierStatus::Verified
        );
        assert!(c.indicator("DR-10").unwrap().tiers[&ListId::CS].doubtful);
        assert!(
            c.forced_criminality
                .iter()
                .all(|f| f.status == TierStatus::Unverified)
        );
    }

    #[test]
    fn debt_bondage_sits_in_two_dimensions() {
        let c = Catalogue::builtin();
        assert_eq!(c.indicator("CR-04").unwrap().dimension, DimensionId::D2);
        assert_eq!(c.indicator("CD-02").unwrap().dimension, DimensionId::D5);
        assert_eq!(
            c.indicator("CR-04").unwrap().tier(ListId::CL),
            Some(Tier::Strong)
        );
        assert_eq!(c.indicator("DR-11").unwrap().tier(ListId::AL), None);
    }
}
