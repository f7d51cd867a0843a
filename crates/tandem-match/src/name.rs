//! Name analysis: a name as written becomes a list of classified, weighted parts with
//! comparison forms and phonetic keys, plus the legal forms it carries.
//!
//! Steps: clean (NFKC, invisible characters), `LAST, First` order, words (homoglyphs,
//! transliteration), dotted initials joined into acronyms (organisations), legal forms and
//! vessel prefixes taken out, Arabic compounds canonicalised (`Abd al-Rahman` = `Abdul Rahman`,
//! `Saif al-Din` = `Saifuddin`), parts classified (name, family name, patronymic, particle,
//! title, initial, number, stopword, generic word, country), weighted by class and commonness,
//! and keyed phonetically.

use std::borrow::Cow;

use serde::Serialize;
use tandem_core::{Model, Schema};

use crate::legal_forms::{self, LegalForm};
use crate::lexicon::{self, Commonness, NameGroups};
use crate::phonetic;
use crate::text::{self, Gap, Script, Word};

/// Which rules a name is read with, from its entity's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NameKind {
    Person,
    Organization,
    /// Vessels, aircraft, vehicles: prefixes such as `MV` removed, numbers count.
    Object,
    /// A legal entity of unknown kind.
    Entity,
}

impl NameKind {
    pub fn of_schema(schema: &Schema) -> NameKind {
        if schema.is_a("Person") {
            NameKind::Person
        } else if schema.is_a("Vehicle") {
            NameKind::Object
        } else if schema.is_a("Organization") || schema.is_a("PublicBody") {
            NameKind::Organization
        } else {
            NameKind::Entity
        }
    }

    /// The kind for a schema name; unknown names read as [`NameKind::Entity`].
    pub fn of_schema_name(name: &str) -> NameKind {
        Model::get()
            .schema(name)
            .map(NameKind::of_schema)
            .unwrap_or(NameKind::Entity)
    }

    fn is_org_like(self) -> bool {
        !matches!(self, NameKind::Person)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartClass {
    Name,
    /// A Slavic patronymic (`Viktorovich`).
    Patronymic,
    /// `al`, `bin`, `abu`, `van`, `de`…
    Particle,
    /// `Dr`, `Sheikh`, `Haji`, `General`…
    Title,
    /// A single letter standing for a name.
    Initial,
    Number,
    /// `the`, `of`, `and` in organisation names.
    Stopword,
    /// A word many organisation names share (`group`, `bank`, `international`).
    Generic,
    /// A country or nationality inside an organisation name: another country is another
    /// company (`Bank of China (Hong Kong)` is not `Bank of China (Singapore)`).
    Location,
    /// A legal form written into a person's name (`Nicolás Maduro SA`).
    LegalNoise,
}

impl PartClass {
    /// Classes that can carry a match on their own; the others only add to one.
    pub fn is_substantive(self) -> bool {
        matches!(
            self,
            PartClass::Name | PartClass::Patronymic | PartClass::Generic | PartClass::Location
        )
    }

    fn base_weight(self) -> f32 {
        match self {
            PartClass::Name => 1.0,
            PartClass::Patronymic => 0.7,
            PartClass::Particle => 0.2,
            PartClass::Title => 0.15,
            PartClass::Initial => 0.35,
            PartClass::Number => 0.4,
            PartClass::Stopword => 0.15,
            PartClass::Generic => 0.55,
            PartClass::Location => 0.55,
            PartClass::LegalNoise => 0.05,
        }
    }
}

/// One part of an analysed name.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Comparison form: lower-case ASCII.
    pub form: String,
    /// The form in canonical romanisation ([`canonical`]).
    pub canon: String,
    /// As written, for explanations.
    pub original: String,
    /// Consonant-skeleton phonetic key of the form.
    pub skeleton: phonetic::Key,
    pub class: PartClass,
    pub weight: f32,
    /// The weight the part carries as evidence *against* when it conflicts with a part of the
    /// other name: like `weight` but without the discount for common names (two different
    /// common names are as different as two rare ones) and higher for initials.
    pub contradiction: f32,
    /// A family name: from `lastName`, the part before the comma of `LAST, First`, or written
    /// in capitals among lower-case parts.
    pub family: bool,
    pub script: Script,
    /// Joined from dotted letters (`A.B.C.`): compared exactly.
    pub acronym: bool,
    pub groups: NameGroups,
    pub commonness: Option<Commonness>,
    /// The consonants of the form, for a quick bound on edit distance.
    pub consonants: u32,
    /// Another romanisation of an Arabic-script part whose letters Arabic and Persian read
    /// differently ([`text::arabic_alternative`]), compared as well.
    pub alternative: Option<String>,
}

/// A name read for matching.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzedName {
    pub text: String,
    pub kind: NameKind,
    pub parts: Vec<Part>,
    pub legal_forms: Vec<LegalForm>,
    /// The forms of the identifying parts run together, in order: equal compacts are a
    /// literal match (`Abu Grein` = `Abu-Grein` = `ABUGREIN`).
    pub compact: String,
}

impl AnalyzedName {
    /// True when the name has at least one part that can carry a match.
    pub fn is_matchable(&self) -> bool {
        self.parts.iter().any(|p| p.class.is_substantive())
    }

    pub fn substantive_parts(&self) -> impl Iterator<Item = &Part> {
        self.parts.iter().filter(|p| p.class.is_substantive())
    }
}

/// A word on its way to becoming a part.
#[derive(Debug, Clone)]
struct Proto {
    form: String,
    original: String,
    script: Script,
    family: bool,
    gap: Gap,
    dotted: bool,
    acronym: bool,
    /// Set by compound analysis: read as a particle whatever the word.
    particle: bool,
}

impl Proto {
    fn from_word(word: Word, family: bool) -> Proto {
        Proto {
            form: word.form,
            original: word.original,
            script: word.script,
            family,
            gap: word.gap,
            dotted: word.dotted,
            acronym: false,
            particle: false,
        }
    }
}

/// Suffixes after a comma that are not a given name: `SMITH, Jr.`.
const NAME_SUFFIXES: &[&str] = &["jr", "sr", "ii", "iii", "iv", "phd", "md", "esq"];

/// `LAST, First` as lists write persons: (last, first) when the name has exactly one comma and
/// a short part before it.
fn split_inverted(cleaned: &str) -> Option<(&str, &str)> {
    let (last, first) = cleaned.split_once(',')?;
    if first.contains(',') {
        return None;
    }
    let (last, first) = (last.trim(), first.trim());
    let has_letters = |s: &str| s.chars().any(char::is_alphabetic);
    if !has_letters(last) || !has_letters(first) || last.split_whitespace().count() > 3 {
        return None;
    }
    let suffix: String = first
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    if NAME_SUFFIXES.contains(&suffix.as_str()) {
        return None;
    }
    Some((last, first))
}

/// Analyses one name as written.
pub fn analyze(text: &str, kind: NameKind) -> AnalyzedName {
    let cleaned = text::clean(text);
    // Words become protos in place (the two are the same size): no second list per name.
    let protos: Vec<Proto> = match (kind, split_inverted(&cleaned)) {
        (NameKind::Person, Some((last, first))) => {
            let mut protos: Vec<Proto> = text::words(first)
                .into_iter()
                .map(|w| Proto::from_word(w, false))
                .collect();
            protos.extend(
                text::words(last)
                    .into_iter()
                    .map(|w| Proto::from_word(w, true)),
            );
            protos
        }
        _ => text::words(&cleaned)
            .into_iter()
            .map(|w| {
                let family = kind == NameKind::Person && w.upper;
                Proto::from_word(w, family)
            })
            .collect(),
    };
    build(text, kind, protos)
}

/// Analyses a person's name given in parts (`firstName`, `middleName`…, `lastName`); the parts
/// of `family` are family names.
pub fn analyze_person_parts(given: &[&str], family: &[&str]) -> AnalyzedName {
    let mut protos = Vec::new();
    let mut text = String::new();
    for (piece, is_family) in given
        .iter()
        .map(|p| (p, false))
        .chain(family.iter().map(|p| (p, true)))
    {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(piece);
        protos.extend(
            text::words(&text::clean(piece))
                .into_iter()
                .map(|w| Proto::from_word(w, is_family)),
        );
    }
    build(&text, NameKind::Person, protos)
}

fn build(text: &str, kind: NameKind, mut protos: Vec<Proto>) -> AnalyzedName {
    if kind.is_org_like() {
        protos = join_letters(protos);
    }
    let mut legal_forms = Vec::new();
    match kind {
        NameKind::Person => {}
        _ => protos = take_legal_forms(protos, &mut legal_forms),
    }
    if kind == NameKind::Object
        && protos.len() > 1
        && protos
            .first()
            .is_some_and(|p| lexicon::is_vessel_prefix(&p.form))
    {
        protos.remove(0);
    }
    let protos = arabic_compounds(protos);
    let mut parts = classify(protos, kind);
    weigh(&mut parts, kind);
    let in_compact = |p: &&Part| {
        !matches!(
            p.class,
            PartClass::Title | PartClass::Stopword | PartClass::LegalNoise
        )
    };
    let mut compact =
        String::with_capacity(parts.iter().filter(in_compact).map(|p| p.canon.len()).sum());
    compact.extend(parts.iter().filter(in_compact).map(|p| p.canon.as_str()));
    AnalyzedName {
        text: text.to_string(),
        kind,
        parts,
        legal_forms,
        compact,
    }
}

fn is_letter(p: &Proto) -> bool {
    p.form.len() == 1 && p.form.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Runs of single letters in organisation names are one abbreviation: `A.B.C.`, `A/S`,
/// `C G Clow`; but not across a space next to a dotted letter (`Partners V L.P.` is the fund
/// V and the form L.P.).
fn join_letters(protos: Vec<Proto>) -> Vec<Proto> {
    if protos.iter().filter(|p| is_letter(p)).nth(1).is_none() {
        return protos;
    }
    let mut out: Vec<Proto> = Vec::with_capacity(protos.len());
    for p in protos {
        if let Some(last) = out.last_mut()
            && is_letter(&p)
            && (last.acronym || is_letter(last))
            && (p.gap == Gap::Tight || (p.gap == Gap::Space && !p.dotted && !last.dotted))
        {
            last.form.push_str(&p.form);
            last.original.push('.');
            last.original.push_str(&p.original);
            last.acronym = true;
            continue;
        }
        out.push(p);
    }
    out
}

fn take_legal_forms(mut protos: Vec<Proto>, found: &mut Vec<LegalForm>) -> Vec<Proto> {
    let forms: Vec<&str> = protos.iter().map(|p| p.form.as_str()).collect();
    let spans = legal_forms::find(forms);
    let covered: usize = spans.iter().map(|s| s.end - s.start).sum();
    if spans.is_empty() || covered >= protos.len() {
        return protos;
    }
    for span in &spans {
        let original = protos
            .get(span.start..span.end)
            .unwrap_or(&[])
            .iter()
            .map(|p| p.original.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        found.push(LegalForm {
            code: span.code,
            family: span.family,
            original,
        });
    }
    let mut k = 0;
    protos.retain(|_| {
        let keep = !spans.iter().any(|s| (s.start..s.end).contains(&k));
        k += 1;
        keep
    });
    protos
}

/// The ways `Abd` ("servant of") is written before the name it governs.
const ABD_FORMS: &[&str] = &[
    "abd", "abdul", "abdel", "abdal", "abdol", "abdoul", "abdu", "abdou", "abdel", "abdil",
];
/// The article in its assimilated spellings (`al-`, `ar-Rahman`, `ud-Din`).
const ARTICLES: &[&str] = &[
    "al", "el", "ul", "il", "ar", "ur", "as", "us", "ad", "ud", "ed", "an", "un", "at", "ut", "az",
    "uz", "ash", "ush", "ath", "adh", "ad",
];
const DIN_FORMS: &[&str] = &[
    "din", "deen", "dine", "eddine", "eddin", "uddin", "uddeen", "addin", "aldin",
];
/// Each ends in `din`, `dine` or `deen` ([`canonical`] relies on it).
const DIN_SUFFIXES: &[&str] = &[
    "uddin", "eddine", "eddin", "uddeen", "addin", "aldin", "oddin", "iddin", "uldin", "eldin",
    "aldeen",
];

/// Canonicalises the Arabic compounds that lists write in many ways: `Abd al-Rahman` and
/// `Abdul Rahman` → `abd` `rahman`, `Abdulrahman` → `abdrahman` (the two meet run together);
/// `Saif al-Din`, `Saifuddin` → `saifdin`.
fn arabic_compounds(protos: Vec<Proto>) -> Vec<Proto> {
    // Nothing to do for names without these words, the common case.
    if !protos.iter().any(|p| {
        p.form.starts_with("abd")
            || p.form.ends_with("din")
            || p.form.ends_with("deen")
            || p.form.ends_with("dine")
    }) {
        return protos;
    }
    let mut out: Vec<Proto> = Vec::with_capacity(protos.len());
    let mut i = 0;
    while let Some(p) = protos.get(i) {
        if ABD_FORMS.contains(&p.form.as_str()) {
            let mut k = i + 1;
            if protos
                .get(k)
                .is_some_and(|a| ARTICLES.contains(&a.form.as_str()))
                && k + 1 < protos.len()
            {
                k += 1;
            }
            if let Some(governed) = protos.get(k)
                && governed.form.len() >= 3
                && !lexicon::is_person_particle(&governed.form)
                && governed.form.bytes().all(|b| b.is_ascii_alphabetic())
            {
                // "Abd" stays a part of its own, read as a particle, and the article goes: the
                // compound then meets `Abdulrahman` run together, and a list that drops the
                // "Abdul" of "Abdul Hanif" still meets "Hanif".
                out.push(Proto {
                    particle: true,
                    ..p.clone()
                });
                i = k;
                continue;
            }
        }
        if DIN_FORMS.contains(&p.form.as_str()) {
            let article_before = out
                .last()
                .is_some_and(|a| ARTICLES.contains(&a.form.as_str()));
            let joined_suffix = !matches!(p.form.as_str(), "din" | "deen" | "dine");
            let name_at = if article_before {
                out.len().checked_sub(2)
            } else if joined_suffix || p.gap == Gap::Hyphen {
                out.len().checked_sub(1)
            } else {
                None
            };
            if let Some(at) = name_at
                && out
                    .get(at)
                    .is_some_and(|n| n.form.len() >= 3 && !lexicon::is_person_particle(&n.form))
            {
                let mut tail: Vec<Proto> = out.drain(at + 1..).collect();
                tail.push(p.clone());
                if let Some(name) = out.last_mut() {
                    name.form.push_str("din");
                    for t in tail {
                        name.original.push(' ');
                        name.original.push_str(&t.original);
                    }
                }
                i += 1;
                continue;
            }
        }
        out.push(p.clone());
        i += 1;
    }
    out
}

/// The canonical romanisation of a form: one spelling for the sounds romanisations write
/// differently (dzh/dj/zh = j, kh = h, sch = sh, ph = f, q/c = k, w = v, y = i, ou/oo = u),
/// doubled letters single, `-off` = `-ov`, and the Arabic compounds in one shape
/// (`Abdulrahman` = `abdrahman`, `Sirajuddin` = `sirajdin`).
pub fn canonical(form: &str) -> Cow<'_, str> {
    let mut base = form;
    let mut compound = String::new();
    // Every part of every name passes here: look for the compounds' spellings only in forms
    // that can hold one.
    let abd_rest = if form.starts_with("abd") {
        [
            "abdoul", "abdul", "abdel", "abdal", "abdol", "abdou", "abdu",
        ]
        .iter()
        .find_map(|prefix| form.strip_prefix(prefix))
    } else {
        None
    };
    if let Some(rest) = abd_rest {
        if rest.is_empty() || rest.len() >= 3 {
            compound = format!("abd{rest}");
        }
    } else if (form.ends_with("din") || form.ends_with("dine") || form.ends_with("deen"))
        && let Some(stem) = DIN_SUFFIXES
            .iter()
            .find_map(|suffix| form.strip_suffix(suffix))
            .filter(|stem| stem.len() >= 3)
    {
        compound = format!("{stem}din");
    }
    if !compound.is_empty() {
        base = &compound;
    } else if romanises_to_itself(form) {
        return Cow::Borrowed(form);
    }
    Cow::Owned(romanise(base))
}

/// Letters [`romanise`] respells wherever they stand.
const RESPELT: u32 = crate::similarity::letter_mask(b"cqwxy");
/// First letters of the pairs [`romanise`] reads as one sound (`dz dj ts tc sc zh kh gh ph ou
/// oo ee`).
const PAIR_STARTS: u32 = crate::similarity::letter_mask(b"dtszkgpoe");

/// Whether a rule of [`romanise`] can start at the lower-case ASCII letter `c`.
fn starts_a_rule(c: u8) -> bool {
    c.is_ascii_lowercase() && (RESPELT | PAIR_STARTS) & (1 << u32::from(c - b'a')) != 0
}

/// Whether [`romanise`] returns `form` unchanged: no letter it respells, no pair it reads as
/// one sound, no doubled letter, no `-of` ending. Most name parts; the check costs a fraction
/// of the rewrite.
fn romanises_to_itself(form: &str) -> bool {
    let b = form.as_bytes();
    if b.len() > 4 && b.ends_with(b"of") {
        return false;
    }
    !b.iter().enumerate().any(|(i, &c)| {
        let next = b.get(i + 1).copied().unwrap_or(0);
        (c.is_ascii_lowercase() && RESPELT & (1 << u32::from(c - b'a')) != 0)
            || c == next
            || matches!(
                (c, next),
                (b'd', b'z' | b'j')
                    | (b't', b's' | b'c')
                    | (b's', b'c')
                    | (b'z' | b'k' | b'g' | b'p', b'h')
                    | (b'o', b'u' | b'o')
                    | (b'e', b'e')
            )
    })
}

/// The letter rules of [`canonical`].
fn romanise(base: &str) -> String {
    let b = base.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        // Letters no rule starts with are copied (doubles made single) without the match,
        // whose arms each start with a letter of `RESPELT` or `PAIR_STARTS`.
        if !starts_a_rule(c) {
            if out.last() != Some(&c) {
                out.push(c);
            }
            i += 1;
            continue;
        }
        let next = b.get(i + 1).copied().unwrap_or(0);
        let next2 = b.get(i + 2).copied().unwrap_or(0);
        let (piece, used): (&[u8], usize) = match (c, next, next2) {
            (b'd', b'z', b'h') => (b"j", 3),
            (b't', b's', b'c') if b.get(i + 3) == Some(&b'h') => (b"ch", 4),
            (b's', b'c', b'h') => (b"sh", 3),
            (b't', b'c', b'h') => (b"ch", 3),
            (b'd', b'j', _) | (b'z', b'h', _) => (b"j", 2),
            (b'k', b'h', _) => (b"h", 2),
            (b'g', b'h', _) => (b"g", 2),
            (b'p', b'h', _) => (b"f", 2),
            (b'c', b'k', _) | (b'q', b'u', _) => (b"k", 2),
            (b'c', b'h', _) => (b"ch", 2),
            (b'o', b'u', _) | (b'o', b'o', _) => (b"u", 2),
            (b'e', b'e', _) => (b"i", 2),
            (b'q', _, _) => (b"k", 1),
            (b'c', _, _) => (b"k", 1),
            (b'w', _, _) => (b"v", 1),
            (b'y', _, _) => (b"i", 1),
            (b'x', _, _) => (b"ks", 1),
            _ => (&b[i..i + 1], 1),
        };
        for &p in piece {
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
        i += used;
    }
    if out.len() > 4 && out.ends_with(b"of") {
        out.pop();
        out.push(b'v');
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Person legal-form words that are noise in a person's name.
const PERSON_LEGAL_NOISE: &[&str] = &[
    "sa", "llc", "ltd", "inc", "gmbh", "ag", "corp", "plc", "sarl", "srl", "bv", "nv", "jsc",
    "ooo", "co", "limited",
];

/// Titles that follow a name rather than precede it.
const SUFFIX_TITLES: &[&str] = &["jr", "sr", "junior", "senior", "phd", "md", "esq", "mp"];

fn classify(protos: Vec<Proto>, kind: NameKind) -> Vec<Part> {
    let count = protos.len();
    // Titles precede the name ("Navy Major", "Sheikh") or close it ("Jr"); inside a name the
    // same words are names (Sultan, Haji, Amir). True while every word so far was a title.
    let mut leading_title = true;
    let mut parts: Vec<Part> = protos
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let info = lexicon::info(&p.form);
            leading_title &= info.title;
            let form = p.form.as_str();
            let is_digits = form.bytes().all(|b| b.is_ascii_digit());
            let number = if is_digits {
                None
            } else {
                info.number.or(if kind.is_org_like() && i > 0 {
                    info.roman
                } else {
                    None
                })
            };
            let class = if is_digits || number.is_some() {
                PartClass::Number
            } else if kind == NameKind::Person {
                if p.particle && count > 1 {
                    PartClass::Particle
                } else if leading_title
                    || (i + 1 == count && count > 1 && SUFFIX_TITLES.contains(&form))
                {
                    PartClass::Title
                } else if form.len() == 1 && (p.dotted || !info.particle) {
                    PartClass::Initial
                } else if info.particle && count > 1 {
                    PartClass::Particle
                } else if i + 1 == count && count > 2 && PERSON_LEGAL_NOISE.contains(&form) {
                    PartClass::LegalNoise
                } else if lexicon::is_patronymic(form) {
                    PartClass::Patronymic
                } else {
                    PartClass::Name
                }
            } else if info.org_stopword {
                PartClass::Stopword
            } else if form.len() == 1 {
                PartClass::Initial
            } else if info.org_generic {
                PartClass::Generic
            } else if form.len() >= 4 && !p.acronym && info.country {
                PartClass::Location
            } else {
                PartClass::Name
            };
            let form = number.map(str::to_string).unwrap_or(p.form);
            let alternative = if p.script == Script::Arabic && class != PartClass::Number {
                text::arabic_alternative(&p.original).filter(|alt| *alt != form)
            } else {
                None
            };
            Part {
                alternative,
                skeleton: phonetic::skeleton_key(&form),
                groups: if matches!(class, PartClass::Name | PartClass::Particle)
                    && !(p.script.is_abjad() && lexicon::is_latin_abbreviation(&form))
                {
                    info.groups
                } else {
                    NameGroups::default()
                },
                commonness: info.commonness,
                consonants: crate::similarity::consonant_mask(&form),
                canon: canonical(&form).into_owned(),
                form,
                original: p.original,
                class,
                weight: 0.0,
                contradiction: 0.0,
                family: p.family,
                script: p.script,
                acronym: p.acronym,
            }
        })
        .collect();
    // A name made only of words that usually accompany names is still a name: the person
    // called "Sultan", the organisation "The Base".
    if !parts.iter().any(|p| p.class.is_substantive()) {
        for p in parts.iter_mut() {
            // Names made of codes and letters (the aircraft "P-532") keep them as names.
            if matches!(
                p.class,
                PartClass::Title
                    | PartClass::Particle
                    | PartClass::Stopword
                    | PartClass::LegalNoise
                    | PartClass::Initial
                    | PartClass::Number
            ) {
                p.class = PartClass::Name;
                p.groups = NameGroups::of(&p.form);
                p.commonness = lexicon::commonness(&p.form);
            }
        }
    }
    parts
}

/// Weight multiplier of the family name in person names (nomenklatura's
/// `nm_family_name_weight` is 1.3; a milder boost keeps given-name conflicts decisive).
const FAMILY_WEIGHT: f32 = 1.2;

fn weigh(parts: &mut [Part], kind: NameKind) {
    // Without a sign of which part is the family name, take the last one: after `LAST, First`
    // is turned around, lists and customers alike put it there.
    let names = parts
        .iter()
        .filter(|p| matches!(p.class, PartClass::Name | PartClass::Initial))
        .count();
    if kind == NameKind::Person
        && names >= 2
        && !parts.iter().any(|p| p.family)
        && let Some(last) = parts.iter_mut().rev().find(|p| p.class == PartClass::Name)
    {
        last.family = true;
    }
    let all_family = parts.iter().all(|p| p.family);
    for p in parts.iter_mut() {
        let mut w = p.class.base_weight();
        if p.class == PartClass::Name {
            if !p.acronym {
                w *= match p.form.len() {
                    0..=2 => 0.6,
                    3 => 0.8,
                    _ => 1.0,
                };
            }
            if kind == NameKind::Person && p.family && !all_family {
                w *= FAMILY_WEIGHT;
            }
        }
        p.contradiction = match p.class {
            PartClass::Initial => INITIAL_CONTRADICTION,
            // "Abd" begins a compound name of its own: "Abdul Khudai" is not "Wali Khudai".
            PartClass::Particle if p.canon == "abd" => 1.0,
            _ => w,
        };
        if p.class == PartClass::Name {
            // "Abd" compounds are among the commonest Arabic names.
            let common = p
                .commonness
                .or_else(|| p.form.starts_with("abd").then_some(Commonness::Common));
            w *= match common {
                Some(Commonness::VeryCommon) => 0.5,
                Some(Commonness::Common) => 0.7,
                None => 1.0,
            };
        }
        p.weight = w;
    }
}

/// What an unmatched initial weighs against a match: little evidence for, but a clear one
/// against ("Hans O. Friedrich" is not "Hans Joachim Friedrich").
const INITIAL_CONTRADICTION: f32 = 0.8;

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(name: &AnalyzedName) -> Vec<&str> {
        name.parts.iter().map(|p| p.form.as_str()).collect()
    }

    fn classes(name: &AnalyzedName) -> Vec<PartClass> {
        name.parts.iter().map(|p| p.class).collect()
    }

    proptest::proptest! {
        /// `canonical` skips the letter rules for forms they would leave unchanged.
        #[test]
        fn forms_said_to_romanise_to_themselves_do(form in "[a-z0-9]{0,12}") {
            if romanises_to_itself(&form) {
                proptest::prop_assert_eq!(romanise(&form), form);
            }
        }
    }

    #[test]
    fn last_first_order_marks_the_family_name() {
        let n = analyze("GHERMAY, Ermias", NameKind::Person);
        assert_eq!(forms(&n), ["ermias", "ghermay"]);
        assert_eq!(
            n.parts.iter().map(|p| p.family).collect::<Vec<_>>(),
            [false, true]
        );
        assert!(n.parts[1].weight > n.parts[0].weight);
        // Capitals among lower case mark it too.
        let n = analyze("Sergey Viktorovich LAVROV", NameKind::Person);
        assert_eq!(
            classes(&n),
            [PartClass::Name, PartClass::Patronymic, PartClass::Name]
        );
        assert!(n.parts[2].family && !n.parts[0].family);
        // A suffix after the comma is no given name.
        assert_eq!(
            forms(&analyze("Smith, Jr.", NameKind::Person)),
            ["smith", "jr"]
        );
    }

    #[test]
    fn particles_and_titles() {
        let n = analyze("Sheikh Abu Bakr al-Baghdadi", NameKind::Person);
        assert_eq!(forms(&n), ["sheikh", "abu", "bakr", "al", "baghdadi"]);
        assert_eq!(
            classes(&n),
            [
                PartClass::Title,
                PartClass::Particle,
                PartClass::Name,
                PartClass::Particle,
                PartClass::Name
            ]
        );
        // Inside a name a title word is a name.
        let n = analyze("MAHMOOD SULTAN BASHIR", NameKind::Person);
        assert_eq!(n.parts[1].class, PartClass::Name);
        let n = analyze("Navy Major General Ali Saleh, Jr.", NameKind::Person);
        assert_eq!(
            n.parts
                .iter()
                .filter(|p| p.class == PartClass::Title)
                .count(),
            4
        );
        let n = analyze("Ould Mohamed Lemine", NameKind::Person);
        assert_eq!(n.parts[0].class, PartClass::Particle);
        let n = analyze("Ludwig van Beethoven", NameKind::Person);
        assert_eq!(n.parts[1].class, PartClass::Particle);
        // A name of one particle-like word is a name.
        assert_eq!(
            classes(&analyze("Sultan", NameKind::Person)),
            [PartClass::Name]
        );
    }

    #[test]
    fn arabic_compounds_are_canonical() {
        for written in [
            "Abd al-Rahman Milad",
            "Abdul Rahman Milad",
            "ABD AL-RAHMAN MILAD",
            "Abd-ur-Rahman Milad",
        ] {
            let n = analyze(written, NameKind::Person);
            assert_eq!(n.parts[0].canon, "abd", "{written}");
            assert_eq!(n.parts[0].class, PartClass::Particle);
            assert_eq!(forms(&n)[1..], ["rahman", "milad"]);
            assert_eq!(n.compact, "abdrahmanmilad");
        }
        let n = analyze("Abdulrahman Milad", NameKind::Person);
        assert_eq!(n.parts[0].canon, "abdrahman");
        assert_eq!(n.compact, "abdrahmanmilad");
        // Arabic writes Rahman without its long alif.
        assert_eq!(
            forms(&analyze("عبد الرحمن ميلاد", NameKind::Person)),
            ["abd", "rhmn", "milad"]
        );
        assert_eq!(analyze("Abdullah", NameKind::Person).compact, "abdlah");
        assert_eq!(analyze("Abdallah", NameKind::Person).compact, "abdlah");
        assert_eq!(
            forms(&analyze("SAIF-AL-DIN FULAYYIH", NameKind::Person)),
            ["saifdin", "fulayyih"]
        );
        assert_eq!(
            analyze("Sirajuddin Haqqani", NameKind::Person).parts[0].canon,
            "sirajdin"
        );
        assert_eq!(
            forms(&analyze("Salah Eddine", NameKind::Person)),
            ["salahdin"]
        );
    }

    #[test]
    fn initials_and_acronyms() {
        let n = analyze("E. Ghermay", NameKind::Person);
        assert_eq!(classes(&n), [PartClass::Initial, PartClass::Name]);
        let n = analyze("A.B.C. Company", NameKind::Organization);
        assert_eq!(forms(&n), ["abc"]);
        assert!(n.parts[0].acronym);
        assert_eq!(n.legal_forms.len(), 1);
        assert_eq!(n.legal_forms[0].code, "co");
        assert_eq!(
            analyze("ABC Co.", NameKind::Organization).compact,
            n.compact
        );
    }

    #[test]
    fn legal_forms_leave_the_name() {
        let n = analyze("Siemens Aktiengesellschaft", NameKind::Organization);
        assert_eq!(forms(&n), ["siemens"]);
        assert_eq!(n.legal_forms[0].code, "ag");
        let n = analyze("ООО \"БАЙ\"", NameKind::Organization);
        assert_eq!(forms(&n), ["bay"]);
        assert_eq!(n.legal_forms[0].code, "ooo");
        let n = analyze("OOO Oboronnye Initsiativy", NameKind::Organization);
        assert_eq!(n.legal_forms[0].code, "ooo");
        let n = analyze("HOTELERA LOPEZ MATEOS S.A. DE C.V.", NameKind::Organization);
        assert_eq!(forms(&n), ["hotelera", "lopez", "mateos"]);
        assert_eq!(n.legal_forms[0].code, "sa de cv");
        // A legal form in a person's name is noise, not a name part.
        let n = analyze("Nicolás Maduro SA", NameKind::Person);
        assert_eq!(
            classes(&n),
            [PartClass::Name, PartClass::Name, PartClass::LegalNoise]
        );
        // A name that is nothing but a form keeps its words.
        assert_eq!(
            forms(&analyze("Company Limited", NameKind::Organization)),
            ["company", "limited"]
        );
    }

    #[test]
    fn organisation_words() {
        let n = analyze("Bank of China (Hong Kong) Limited", NameKind::Organization);
        assert_eq!(forms(&n), ["bank", "of", "china", "hong", "kong"]);
        assert_eq!(
            classes(&n),
            [
                PartClass::Generic,
                PartClass::Stopword,
                PartClass::Location,
                PartClass::Name,
                PartClass::Name
            ]
        );
        let n = analyze(
            "Blackstone Capital Partners VII L.P.",
            NameKind::Organization,
        );
        assert_eq!(forms(&n), ["blackstone", "capital", "partners", "7"]);
        assert_eq!(n.parts[3].class, PartClass::Number);
        assert_eq!(
            forms(&analyze("Three Percenters", NameKind::Organization)),
            ["3", "percenters"]
        );
        let n = analyze("M/V Snow Storm 1", NameKind::Object);
        assert_eq!(forms(&n), ["snow", "storm", "1"]);
    }

    #[test]
    fn common_names_weigh_less() {
        let n = analyze("Mohammed Koshlaf", NameKind::Person);
        assert!(n.parts[0].weight < 0.6);
        // Against a match, a common name counts in full.
        assert!((n.parts[0].contradiction - 1.0).abs() < 1e-6);
        // The last part is taken for the family name.
        assert!(n.parts[1].family && (n.parts[1].weight - FAMILY_WEIGHT).abs() < 1e-6);
        assert_eq!(n.parts[1].skeleton, "KXLF");
    }

    #[test]
    fn compact_forms_ignore_spacing_and_hyphens() {
        let a = analyze("Abu Grein", NameKind::Person);
        let b = analyze("ABU-GREIN", NameKind::Person);
        let c = analyze("Abugrein", NameKind::Person);
        assert_eq!(a.compact, "abugrein");
        assert_eq!(a.compact, b.compact);
        assert_eq!(a.compact, c.compact);
    }

    #[test]
    fn canonical_romanisation() {
        for (a, b) in [
            ("dzhong", "jong"),
            ("djarjis", "jarjis"),
            ("khushlaf", "hushlaf"),
            ("schulz", "shulz"),
            ("qasim", "kasim"),
            ("ivanoff", "ivanov"),
            ("mohammed", "mohamed"),
            ("youssef", "yusef"),
            ("wladimir", "vladimir"),
        ] {
            assert_eq!(canonical(a), canonical(b), "{a} / {b}");
        }
        assert_ne!(canonical("hassan"), canonical("hussein"));
    }

    #[test]
    fn person_parts() {
        let n = analyze_person_parts(&["Ermias"], &["GHERMAY"]);
        assert_eq!(forms(&n), ["ermias", "ghermay"]);
        assert!(n.parts[1].family);
    }
}
