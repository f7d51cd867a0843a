//! Tandem's name screening.
//!
//! - [`text`]: Unicode normalisation (NFKC), invisible characters, homoglyphs, transliteration
//!   of Arabic, Hebrew, Cyrillic, Greek, Han, Hangul and other scripts to lower-case ASCII.
//! - [`name`]: name analysis into classified, weighted parts (particles, titles, initials,
//!   patronymics, family names, legal forms, generic organisation words, numbers), with
//!   [`phonetic`] keys, [`lexicon`] word lists and the [`legal_forms`] catalogue.
//! - [`similarity`] and [`align`]: part similarity and order-free name alignment.
//! - [`score`]: entity scoring with names, weak aliases, identifiers and soft qualifiers,
//!   explained in yente's result shape.
//! - [`index`]: the candidate index; [`screen`]: one query or a parallel batch.
//! - [`eval`]: labelled pairs, perturbations and false-positive rates.
//!
//! The weights of [`NameConfig`] and [`MatchConfig`] were set on principle (a conflicting part
//! counts twice a matching one; a part only one name has counts a little, less when the list
//! has it than when the query has it, unless it is the list's family name; qualifiers are
//! soft, none alone turns a strong name match into no match) and then checked, not fitted,
//! against the development half of nomenklatura's labelled name pairs: the other half is held
//! back. The false-positive rules (family names, the Persian `-i` ending, sound-alikes, birth
//! dates beyond what lists disagree by) were chosen looking at alerts on the synthetic global
//! negatives, so the US negatives serve as their check. `bench/match/run.sh` measures all of
//! them next to nomenklatura's logic-v2.
//!
//! ```
//! use tandem_core::Entity;
//! use tandem_match::{CandidateIndex, IndexConfig, screen_batch};
//!
//! let mut listed = Entity::new("Person", "ofac-24310").unwrap();
//! listed.add("name", "Musab ABU GREIN").unwrap();
//! listed.add("alias", "Mus'ab ABU-QURAYN").unwrap();
//! let (index, _) = CandidateIndex::build([listed], IndexConfig::default());
//!
//! let mut query = Entity::new("Person", "q").unwrap();
//! query.add("name", "Mus’ab Abu Qarin").unwrap();
//! let results = screen_batch(&[query], &index, 0.7, 5);
//! let hits = results[0].as_ref().unwrap();
//! assert_eq!(hits[0].entity_id, "ofac-24310");
//! assert!(hits[0].score.is_match);
//! ```

pub mod align;
pub mod error;
pub mod eval;
pub mod hash;
pub mod index;
pub mod legal_forms;
pub mod lexicon;
pub mod name;
mod perturb;
pub mod phonetic;
pub mod score;
pub mod screen;
pub mod similarity;
pub mod text;

pub use align::{AlignedPart, NameComparison, NameConfig};
pub use error::MatchError;
pub use index::{CandidateIndex, Hit, IndexConfig};
pub use name::{AnalyzedName, NameKind, Part, PartClass, analyze};
pub use score::{Explanation, MatchConfig, MatchScore, Subject, score};
pub use screen::{screen_batch, screen_batch_with, screen_one};
