//! An in-memory candidate index over all names and aliases of a set of entities.
//!
//! Every name part is posted under three kinds of key: its exact form (and, for adjacent
//! parts, their forms run together, so that `Abugrein` finds `Abu Grein`), its phonetic
//! skeleton (`Kachlaf` finds `Koshlaf`), and its one-deletion neighbourhood (`Ghermya` finds
//! `Ghermay`: typos, insertions, swaps). Identifiers are keys too. A query collects, per entity,
//! the best key of each of its parts weighted by inverse document frequency, so that a rare
//! part counts for more than `Mohammed`; parts borne by a large share of the index only add to
//! entities that something rarer already found, so common names do not flood the candidates.
//! The best-collected entities are then scored in full.
//!
//! Entities can be added and removed one at a time by id.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use tandem_core::{Entity, Model};

use crate::error::MatchError;
use crate::name::{NameKind, Part, PartClass};
use crate::score::{self, MatchConfig, MatchScore, Subject};

/// Keys are already well-mixed 64-bit hashes; hashing them again is wasted time.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Exact,
    Phonetic,
    Fuzzy,
    Acronym,
    /// A given name's initial with the family name: `R. H. Ibrahim` finds `Rana Hussein Ibrahim`.
    Initials,
    Identifier,
}

impl KeyKind {
    fn tag(self) -> u64 {
        match self {
            KeyKind::Exact => 0x9E37_79B9_7F4A_7C15,
            KeyKind::Phonetic => 0xC2B2_AE3D_27D4_EB4F,
            KeyKind::Fuzzy => 0x1656_67B1_9E37_79F9,
            KeyKind::Acronym => 0x27D4_EB2F_1656_67C5,
            KeyKind::Initials => 0x94D0_49BB_1331_11EB,
            KeyKind::Identifier => 0x85EB_CA77_C2B2_AE63,
        }
    }

    /// How much a hit on this kind of key says, relative to an exact one.
    fn factor(self) -> f32 {
        match self {
            KeyKind::Exact => 1.0,
            KeyKind::Phonetic => 0.6,
            KeyKind::Fuzzy => 0.5,
            KeyKind::Acronym => 0.8,
            KeyKind::Initials => 0.8,
            KeyKind::Identifier => 3.0,
        }
    }
}

/// FNV-1a over the bytes, finished with a multiply-xorshift so that short keys spread.
fn key(kind: KeyKind, text: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325 ^ kind.tag();
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^ (h >> 33)
}

/// `letter:family` keys of a person name: each given name's (or initial's) first letter with
/// each family name.
fn initial_keys(parts: &[Part], only_initials: bool, out: &mut Vec<u64>) {
    for family in parts
        .iter()
        .filter(|p| p.family && p.class == PartClass::Name)
    {
        for given in parts.iter().filter(|p| !p.family) {
            let usable = if only_initials {
                given.class == PartClass::Initial
            } else {
                matches!(given.class, PartClass::Name | PartClass::Initial)
            };
            if let (true, Some(letter)) = (usable, given.form.chars().next()) {
                out.push(key(
                    KeyKind::Initials,
                    &format!("{letter}:{}", family.canon),
                ));
            }
        }
    }
}

fn indexable(part: &Part) -> bool {
    matches!(
        part.class,
        PartClass::Name
            | PartClass::Patronymic
            | PartClass::Generic
            | PartClass::Location
            | PartClass::Number
    )
}

fn joinable(part: &Part) -> bool {
    matches!(
        part.class,
        PartClass::Name
            | PartClass::Patronymic
            | PartClass::Particle
            | PartClass::Generic
            | PartClass::Location
            | PartClass::Initial
            | PartClass::Title
    )
}

/// One-letter deletions of a form (for forms of 4 to 20 letters).
fn deletions(form: &str, out: &mut Vec<String>) {
    if !(4..=20).contains(&form.len()) {
        return;
    }
    for i in 0..form.len() {
        let mut d = String::with_capacity(form.len() - 1);
        d.push_str(form.get(..i).unwrap_or(""));
        d.push_str(form.get(i + 1..).unwrap_or(""));
        out.push(d);
    }
}

/// The keys of one side. Each key belongs to a unit (a part or a run of parts): per unit and
/// entity only the best key counts.
fn query_keys(subject: &Subject) -> Vec<(u32, u64, KeyKind)> {
    let mut keys = Vec::new();
    let mut unit = 0u32;
    let mut scratch = Vec::new();
    for name in &subject.names {
        let parts = &name.name.parts;
        for part in parts.iter().filter(|p| indexable(p)) {
            keys.push((unit, key(KeyKind::Exact, &part.form), KeyKind::Exact));
            if part.canon != part.form {
                keys.push((unit, key(KeyKind::Exact, &part.canon), KeyKind::Exact));
            }
            if part.skeleton.len() >= 2 && part.class != PartClass::Number {
                keys.push((
                    unit,
                    key(KeyKind::Phonetic, part.skeleton.as_str()),
                    KeyKind::Phonetic,
                ));
            }
            if let Some(alternative) = &part.alternative {
                keys.push((unit, key(KeyKind::Exact, alternative), KeyKind::Exact));
                let skeleton = crate::phonetic::skeleton_key(alternative);
                if skeleton.len() >= 2 {
                    keys.push((
                        unit,
                        key(KeyKind::Phonetic, skeleton.as_str()),
                        KeyKind::Phonetic,
                    ));
                }
            }
            if part.class != PartClass::Number && !part.acronym {
                keys.push((unit, key(KeyKind::Fuzzy, &part.form), KeyKind::Fuzzy));
                scratch.clear();
                deletions(&part.form, &mut scratch);
                for d in &scratch {
                    keys.push((unit, key(KeyKind::Fuzzy, d), KeyKind::Fuzzy));
                }
            }
            unit += 1;
        }
        for k in 2..=3usize {
            for run in parts.windows(k) {
                if run.iter().all(joinable) && run.iter().any(|p| p.class.is_substantive()) {
                    let joined: String = run.iter().map(|p| p.canon.as_str()).collect();
                    keys.push((unit, key(KeyKind::Exact, &joined), KeyKind::Exact));
                    unit += 1;
                }
            }
        }
        // A single part may be several run together on the other side (`Abugrein`).
        for part in parts.iter().filter(|p| indexable(p)) {
            keys.push((unit, key(KeyKind::Exact, &part.canon), KeyKind::Exact));
            unit += 1;
        }
        if name.name.kind == NameKind::Person {
            let mut initials = Vec::new();
            initial_keys(parts, true, &mut initials);
            for k in initials {
                keys.push((unit, k, KeyKind::Initials));
                unit += 1;
            }
        }
        if name.name.kind != NameKind::Person
            && parts.len() == 1
            && let Some(p) = parts.first()
            && (2..=6).contains(&p.form.len())
        {
            keys.push((unit, key(KeyKind::Acronym, &p.form), KeyKind::Acronym));
            unit += 1;
        }
    }
    for id in &subject.identifiers {
        keys.push((
            unit,
            key(KeyKind::Identifier, &id.value),
            KeyKind::Identifier,
        ));
        unit += 1;
    }
    keys
}

/// The keys an indexed entity is posted under.
fn entity_keys(subject: &Subject) -> Vec<u64> {
    let mut keys = Vec::new();
    let mut scratch = Vec::new();
    for name in &subject.names {
        let parts = &name.name.parts;
        for part in parts.iter().filter(|p| indexable(p)) {
            keys.push(key(KeyKind::Exact, &part.form));
            if part.canon != part.form {
                keys.push(key(KeyKind::Exact, &part.canon));
            }
            if part.skeleton.len() >= 2 && part.class != PartClass::Number {
                keys.push(key(KeyKind::Phonetic, part.skeleton.as_str()));
            }
            if let Some(alternative) = &part.alternative {
                keys.push(key(KeyKind::Exact, alternative));
                let skeleton = crate::phonetic::skeleton_key(alternative);
                if skeleton.len() >= 2 {
                    keys.push(key(KeyKind::Phonetic, skeleton.as_str()));
                }
            }
            if part.class != PartClass::Number && !part.acronym {
                keys.push(key(KeyKind::Fuzzy, &part.form));
                scratch.clear();
                deletions(&part.form, &mut scratch);
                keys.extend(scratch.iter().map(|d| key(KeyKind::Fuzzy, d)));
            }
        }
        for k in 2..=3usize {
            for run in parts.windows(k) {
                if run.iter().all(joinable) && run.iter().any(|p| p.class.is_substantive()) {
                    let joined: String = run.iter().map(|p| p.canon.as_str()).collect();
                    keys.push(key(KeyKind::Exact, &joined));
                }
            }
        }
        if name.name.kind == NameKind::Person {
            initial_keys(parts, false, &mut keys);
        }
        if name.name.kind != NameKind::Person {
            let initials: String = parts
                .iter()
                .filter(|p| p.class.is_substantive())
                .filter_map(|p| p.form.chars().next())
                .collect();
            if initials.len() >= 2 {
                keys.push(key(KeyKind::Acronym, &initials));
            }
        }
    }
    keys.extend(
        subject
            .identifiers
            .iter()
            .map(|id| key(KeyKind::Identifier, &id.value)),
    );
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// How candidates are gathered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndexConfig {
    /// Entities scored in full per query (at least; more when a query asks for many results).
    pub candidates: usize,
    /// A key posted for more than this share of the index only adds to entities found by
    /// rarer keys.
    pub common_share: f32,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            candidates: 60,
            common_share: 0.02,
        }
    }
}

struct Indexed {
    entity: Entity,
    subject: Subject,
}

/// A screening result: the entity and its explained score.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub entity_id: String,
    pub score: MatchScore,
}

/// The candidate index.
pub struct CandidateIndex {
    config: IndexConfig,
    slots: Vec<Option<Indexed>>,
    free: Vec<u32>,
    by_id: HashMap<String, u32>,
    postings: KeyMap<Vec<u32>>,
}

impl std::fmt::Debug for CandidateIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CandidateIndex")
            .field("entities", &self.len())
            .field("keys", &self.postings.len())
            .finish()
    }
}

impl Default for CandidateIndex {
    fn default() -> Self {
        CandidateIndex::new(IndexConfig::default())
    }
}

/// Whether entities of a schema are screened: matchable legal entities and vehicles, not
/// addresses, relations or documents.
pub fn is_screenable(schema: &str) -> bool {
    Model::get().schema(schema).is_some_and(|s| {
        s.matchable && !s.is_edge() && (s.is_a("LegalEntity") || s.is_a("Vehicle"))
    })
}

/// Per-thread buffers of candidate gathering: totals and per-unit bests per slot, and the
/// slots each touched.
type Scratch = (Vec<f32>, Vec<f32>, Vec<u32>, Vec<u32>);

thread_local! {
    static SCRATCH: RefCell<Scratch> = const { RefCell::new((Vec::new(), Vec::new(), Vec::new(), Vec::new())) };
}

impl CandidateIndex {
    pub fn new(config: IndexConfig) -> CandidateIndex {
        CandidateIndex {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            postings: KeyMap::default(),
        }
    }

    /// Builds an index from entities; those that are not screenable (relations, addresses,
    /// sanctions…) are left out, and so are screenable ones without a usable name, which are
    /// returned as errors.
    pub fn build<I: IntoIterator<Item = Entity>>(
        entities: I,
        config: IndexConfig,
    ) -> (CandidateIndex, Vec<MatchError>) {
        let mut index = CandidateIndex::new(config);
        let mut errors = Vec::new();
        for entity in entities {
            if let Err(e) = index.add(entity) {
                errors.push(e);
            }
        }
        (index, errors)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Entity> {
        let slot = *self.by_id.get(id)?;
        self.slots.get(slot as usize)?.as_ref().map(|i| &i.entity)
    }

    pub fn subject(&self, id: &str) -> Option<&Subject> {
        let slot = *self.by_id.get(id)?;
        self.slots.get(slot as usize)?.as_ref().map(|i| &i.subject)
    }

    /// Adds or replaces an entity. Returns `Ok(false)` for entities that are not screened.
    pub fn add(&mut self, entity: Entity) -> Result<bool, MatchError> {
        if !is_screenable(&entity.schema) {
            return Ok(false);
        }
        let subject = Subject::from_entity(&entity)?;
        self.remove(&entity.id);
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        for k in entity_keys(&subject) {
            self.postings.entry(k).or_default().push(slot);
        }
        self.by_id.insert(entity.id.clone(), slot);
        if let Some(cell) = self.slots.get_mut(slot as usize) {
            *cell = Some(Indexed { entity, subject });
        }
        Ok(true)
    }

    /// Removes an entity by id; false when it was not there.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(slot) = self.by_id.remove(id) else {
            return false;
        };
        if let Some(Some(indexed)) = self.slots.get_mut(slot as usize).map(Option::take) {
            for k in entity_keys(&indexed.subject) {
                if let Some(list) = self.postings.get_mut(&k) {
                    list.retain(|s| *s != slot);
                    if list.is_empty() {
                        self.postings.remove(&k);
                    }
                }
            }
        }
        self.free.push(slot);
        true
    }

    /// The slots of the entities most worth scoring for `query`, best first.
    fn candidates(&self, query: &Subject, count: usize) -> Vec<u32> {
        let n = self.slots.len();
        let live = self.by_id.len().max(1) as f32;
        let common = ((live * self.config.common_share).max(200.0)) as usize;
        let mut keys: Vec<(u32, u64, KeyKind, f32, usize)> = query_keys(query)
            .into_iter()
            .filter_map(|(unit, k, kind)| {
                let df = self.postings.get(&k)?.len();
                let idf = (1.0 + live / df as f32).ln();
                Some((unit, k, kind, idf * kind.factor(), df))
            })
            .collect();
        // Rare keys first, so that common ones know which entities are already found.
        keys.sort_by_key(|a| a.4);
        SCRATCH.with(|cell| {
            let mut scratch = cell.borrow_mut();
            let (totals, unit_best, touched, unit_touched) = &mut *scratch;
            totals.clear();
            totals.resize(n, 0.0);
            unit_best.clear();
            unit_best.resize(n, 0.0);
            touched.clear();
            // Units in the order of their rarest key.
            let mut units: Vec<u32> = Vec::new();
            for k in keys.iter() {
                if !units.contains(&k.0) {
                    units.push(k.0);
                }
            }
            let any_rare = keys.iter().any(|k| k.4 <= common);
            for unit in units {
                unit_touched.clear();
                for (_, k, _, weight, df) in keys.iter().filter(|k| k.0 == unit) {
                    let Some(list) = self.postings.get(k) else {
                        continue;
                    };
                    let only_found = any_rare && *df > common;
                    for &slot in list {
                        let s = slot as usize;
                        if only_found && totals[s] == 0.0 {
                            continue;
                        }
                        if unit_best[s] == 0.0 {
                            unit_touched.push(slot);
                        }
                        if *weight > unit_best[s] {
                            unit_best[s] = *weight;
                        }
                    }
                }
                for &slot in unit_touched.iter() {
                    let s = slot as usize;
                    if totals[s] == 0.0 {
                        touched.push(slot);
                    }
                    totals[s] += unit_best[s];
                    unit_best[s] = 0.0;
                }
            }
            let mut ranked: Vec<(u32, f32)> =
                touched.iter().map(|&s| (s, totals[s as usize])).collect();
            let by_score = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
            if ranked.len() > count && count > 0 {
                ranked.select_nth_unstable_by(count - 1, by_score);
                ranked.truncate(count);
            }
            ranked.sort_by(by_score);
            ranked.into_iter().map(|(s, _)| s).collect()
        })
    }

    /// The ids of the entities candidate gathering ranks highest for `query`, before full
    /// scoring (what a second scorer would be given to rescore).
    pub fn candidate_ids(&self, query: &Subject, count: usize) -> Vec<&str> {
        self.candidates(query, count)
            .into_iter()
            .filter_map(|slot| self.slots.get(slot as usize)?.as_ref())
            .filter(|indexed| {
                query.schema == indexed.subject.schema
                    || score::schemata_compatible(query.schema, indexed.subject.schema)
            })
            .map(|indexed| indexed.entity.id.as_str())
            .collect()
    }

    /// Every indexed entity, in no particular order.
    pub fn entities(&self) -> impl Iterator<Item = &Entity> {
        self.slots.iter().flatten().map(|i| &i.entity)
    }

    /// Screens one query: gathers candidates, scores them in full, and returns up to `limit`
    /// results with a score above zero, best first. `match` is set at `threshold`.
    pub fn screen(
        &self,
        query: &Subject,
        config: &MatchConfig,
        threshold: f64,
        limit: usize,
    ) -> Vec<Hit> {
        let count = self.config.candidates.max(limit.saturating_mul(3));
        let mut hits: Vec<Hit> = self
            .candidates(query, count)
            .into_iter()
            .filter_map(|slot| self.slots.get(slot as usize)?.as_ref())
            .filter(|indexed| {
                query.schema == indexed.subject.schema
                    || score::schemata_compatible(query.schema, indexed.subject.schema)
            })
            .filter_map(|indexed| {
                let result = score::score(query, &indexed.subject, config, threshold);
                (result.score > 0.0).then(|| Hit {
                    entity_id: indexed.entity.id.clone(),
                    score: result,
                })
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .score
                .total_cmp(&a.score.score)
                .then_with(|| a.entity_id.cmp(&b.entity_id))
        });
        hits.truncate(limit);
        hits
    }

    /// Number of distinct keys, for diagnostics.
    pub fn key_count(&self) -> usize {
        self.postings.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, names: &[&str]) -> Entity {
        let mut e = Entity::new("Person", id).unwrap();
        for (i, n) in names.iter().enumerate() {
            e.add(if i == 0 { "name" } else { "alias" }, n).unwrap();
        }
        e
    }

    fn query(name: &str) -> Subject {
        Subject::from_entity(&person("q", &[name])).unwrap()
    }

    fn ids(index: &CandidateIndex, name: &str) -> Vec<String> {
        index
            .screen(&query(name), &MatchConfig::default(), 0.7, 5)
            .into_iter()
            .filter(|h| h.score.is_match)
            .map(|h| h.entity_id)
            .collect()
    }

    fn sample() -> CandidateIndex {
        let (index, errors) = CandidateIndex::build(
            [
                person(
                    "koshlaf",
                    &["Mohamed KOSHLAF", "Mohammed Al Amin Al-Arabi KASHLAF"],
                ),
                person("grein", &["Musab ABU GREIN", "Mus'ab ABU-QURAYN"]),
                person("ghermay", &["Ermias GHERMAY"]),
                person("milad", &["Abd al-Rahman MILAD"]),
                person("bush", &["George W. Bush"]),
                person("habbash", &["George HABBASH"]),
            ],
            IndexConfig::default(),
        );
        assert!(errors.is_empty());
        index
    }

    #[test]
    fn finds_variants() {
        let index = sample();
        assert_eq!(index.len(), 6);
        assert_eq!(ids(&index, "Mohammed Kachlaf"), ["koshlaf"]);
        assert_eq!(ids(&index, "Abugrein Musab"), ["grein"]);
        assert_eq!(ids(&index, "Ermias Ghermya"), ["ghermay"]);
        assert_eq!(ids(&index, "Abdulrahman Milad"), ["milad"]);
        assert_eq!(ids(&index, "George Bush"), ["bush"]);
    }

    #[test]
    fn add_replace_remove() {
        let mut index = sample();
        assert!(index.remove("ghermay"));
        assert!(!index.remove("ghermay"));
        assert!(ids(&index, "Ermias Ghermay").is_empty());
        assert!(index.add(person("ghermay", &["Ermias GHERMAY"])).unwrap());
        assert_eq!(ids(&index, "Ermias Ghermay"), ["ghermay"]);
        // Replacing keeps one entry and drops the old names.
        index.add(person("ghermay", &["Ermias ALEM"])).unwrap();
        assert_eq!(index.len(), 6);
        assert!(ids(&index, "Ermias Ghermay").is_empty());
        assert_eq!(ids(&index, "Ermias Alem"), ["ghermay"]);
        // Relations are not screened; nameless persons are errors.
        let mut link = Entity::new("UnknownLink", "l").unwrap();
        link.add("subject", "a").unwrap();
        assert!(!index.add(link).unwrap());
        assert!(
            index
                .add(Entity::new("Person", "nameless").unwrap())
                .is_err()
        );
    }

    #[test]
    fn identifiers_find_candidates() {
        let mut index = sample();
        let mut e = person("dabbashi", &["Ahmed DABBASHI"]);
        e.add("passportNumber", "LY53FP76").unwrap();
        index.add(e).unwrap();
        let mut q = person("q", &["Ahmad al-Fitouri"]);
        q.add("passportNumber", "LY53FP76").unwrap();
        let hits = index.screen(
            &Subject::from_entity(&q).unwrap(),
            &MatchConfig::default(),
            0.7,
            5,
        );
        assert_eq!(hits.first().map(|h| h.entity_id.as_str()), Some("dabbashi"));
        assert!(hits[0].score.explanations.contains_key("identifier_match"));
    }
}
