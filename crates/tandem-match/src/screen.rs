//! Screening queries against a candidate index, one or many at a time.

use rayon::prelude::*;
use tandem_core::Entity;

use crate::error::MatchError;
use crate::index::{CandidateIndex, Hit};
use crate::score::{MatchConfig, Subject};

/// Screens one query entity: its results (up to `limit`, best first, `match` at `threshold`).
pub fn screen_one(
    query: &Entity,
    index: &CandidateIndex,
    config: &MatchConfig,
    threshold: f64,
    limit: usize,
) -> Result<Vec<Hit>, MatchError> {
    let subject = Subject::from_entity(query)?;
    Ok(index.screen(&subject, config, threshold, limit))
}

/// Screens many queries in parallel on all cores. Results come back in query order; a query
/// that cannot be screened (no usable name, unknown schema) yields its error.
pub fn screen_batch(
    queries: &[Entity],
    index: &CandidateIndex,
    threshold: f64,
    limit: usize,
) -> Vec<Result<Vec<Hit>, MatchError>> {
    screen_batch_with(queries, index, &MatchConfig::default(), threshold, limit)
}

/// [`screen_batch`] with explicit weights.
pub fn screen_batch_with(
    queries: &[Entity],
    index: &CandidateIndex,
    config: &MatchConfig,
    threshold: f64,
    limit: usize,
) -> Vec<Result<Vec<Hit>, MatchError>> {
    queries
        .par_iter()
        .map(|q| screen_one(q, index, config, threshold, limit))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexConfig;

    #[test]
    fn batch_keeps_query_order_and_errors() {
        let mut listed = Entity::new("Person", "ofac-24311").unwrap();
        listed.add("name", "Mohamed KOSHLAF").unwrap();
        let (index, _) = CandidateIndex::build([listed], IndexConfig::default());
        let mut found = Entity::new("Person", "q1").unwrap();
        found.add("name", "Mohammed Kachlaf").unwrap();
        let nameless = Entity::new("Person", "q2").unwrap();
        let mut other = Entity::new("Person", "q3").unwrap();
        other.add("name", "Fernando Pérez").unwrap();
        let results = screen_batch(&[found, nameless, other], &index, 0.7, 5);
        assert_eq!(results.len(), 3);
        let first = results[0].as_ref().unwrap();
        assert_eq!(first[0].entity_id, "ofac-24311");
        assert!(first[0].score.is_match);
        assert!(matches!(results[1], Err(MatchError::NoNames { .. })));
        assert!(
            results[2]
                .as_ref()
                .unwrap()
                .iter()
                .all(|h| !h.score.is_match)
        );
    }
}
