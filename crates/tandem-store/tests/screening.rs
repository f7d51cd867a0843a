//! The conformance suite of the screening store: screened queries, decisions, alerts, batch
//! rows and the datasets generation. Every test runs against SQLite and against PostgreSQL (see
//! `common/mod.rs`).

#[macro_use]
mod common;

use serde_json::json;
use tandem_store::ImportMode;
use tandem_store::screening::{DecisionKind, NewAlert, NewDecision, NewScreeningQuery};

use common::*;

conformance!(
    screened_queries_are_kept_once_per_key_and_organisation,
    decisions_are_history_filtered_by_organisation,
    alerts_are_raised_once_per_subject_entity_and_content,
    batch_rows_keep_inputs_and_take_results,
    the_generation_moves_with_each_new_version,
);

fn query(key: &str, organisation: i64, user: &str, at: &str) -> NewScreeningQuery {
    NewScreeningQuery {
        query_key: key.to_string(),
        organisation_id: organisation,
        schema: "Person".to_string(),
        query: json!({"schema": "Person", "properties": {"name": [format!("name of {key}")]}}),
        user_id: Some(1),
        username: user.to_string(),
        at: at.to_string(),
    }
}

async fn screened_queries_are_kept_once_per_key_and_organisation(h: &Harness) {
    let store = h.store.as_ref();
    store
        .record_screening_queries(&[
            query("k1", 1, "ana", "2026-01-01T00:00:00Z"),
            query("k2", 1, "ana", "2026-01-01T00:00:01Z"),
            query("k1", 2, "bo", "2026-01-01T00:00:02Z"),
        ])
        .await
        .unwrap();
    store
        .record_screening_queries(&[query("k1", 1, "cy", "2026-01-02T00:00:00Z")])
        .await
        .unwrap();
    store.record_screening_queries(&[]).await.unwrap();
    let all = store.screening_queries(0, 100).await.unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
    let k1 = all
        .iter()
        .find(|q| q.query_key == "k1" && q.organisation_id == 1)
        .unwrap();
    assert_eq!(k1.times, 2);
    assert_eq!(k1.first_at, "2026-01-01T00:00:00Z");
    assert_eq!(k1.last_at, "2026-01-02T00:00:00Z");
    assert_eq!(k1.username, "cy");
    assert_eq!(k1.query["properties"]["name"][0], "name of k1");
    // Paging by id.
    let first = store.screening_queries(0, 2).await.unwrap();
    assert_eq!(first.len(), 2);
    let rest = store.screening_queries(first[1].id, 2).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert!(rest[0].id > first[1].id);
}

fn decision(key: &str, entity: &str, kind: DecisionKind, org: i64, hash: &str) -> NewDecision {
    NewDecision {
        query_key: key.to_string(),
        query: json!({"schema": "Person", "properties": {"name": ["X Y"]}}),
        entity_id: entity.to_string(),
        decision: kind,
        reason: format!("reason for {entity}"),
        user_id: Some(7),
        username: "ana".to_string(),
        organisation_id: Some(org),
        content_hash: hash.to_string(),
    }
}

async fn decisions_are_history_filtered_by_organisation(h: &Harness) {
    let store = h.store.as_ref();
    let first = store
        .record_decision(decision("k1", "e1", DecisionKind::FalsePositive, 1, "h1"))
        .await
        .unwrap();
    assert_eq!(first.decision.decision, DecisionKind::FalsePositive);
    assert!(!first.decided_at.is_empty());
    store
        .record_decision(decision("k1", "e1", DecisionKind::TrueMatch, 1, "h1"))
        .await
        .unwrap();
    store
        .record_decision(decision("k1", "e2", DecisionKind::FalsePositive, 2, "h2"))
        .await
        .unwrap();
    store
        .record_decision(decision("k2", "e1", DecisionKind::FalsePositive, 1, "h1"))
        .await
        .unwrap();
    let org1 = store
        .decisions_for(Some(1), &["k1".to_string()])
        .await
        .unwrap();
    assert_eq!(org1.len(), 2);
    assert!(org1[0].id < org1[1].id, "oldest first");
    assert_eq!(org1[1].decision.decision, DecisionKind::TrueMatch);
    let everyone = store
        .decisions_for(None, &["k1".to_string(), "k2".to_string()])
        .await
        .unwrap();
    assert_eq!(everyone.len(), 4);
    assert!(store.decisions_for(Some(1), &[]).await.unwrap().is_empty());
    let recent = store.recent_decisions(2).await.unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[0].decision.query_key, "k2");
    let refused = store
        .record_decision(decision("k1", " ", DecisionKind::TrueMatch, 1, "h"))
        .await;
    assert!(refused.is_err());
}

fn alert(subject: &str, entity: &str, hash: &str) -> NewAlert {
    NewAlert {
        subject_key: subject.to_string(),
        subject: json!({"kind": "query"}),
        organisation_id: Some(1),
        entity_id: entity.to_string(),
        caption: format!("caption {entity}"),
        dataset: "list".to_string(),
        version: "v1".to_string(),
        score: 0.91,
        explanations: json!({"name_match": {"score": 0.91}}),
        content_hash: hash.to_string(),
        job_id: None,
    }
}

async fn alerts_are_raised_once_per_subject_entity_and_content(h: &Harness) {
    let store = h.store.as_ref();
    let added = store
        .add_alerts(&[alert("s1", "e1", "h1"), alert("s1", "e2", "h1")])
        .await
        .unwrap();
    assert_eq!(added, 2);
    // The same again: nothing new; the entity changed: new.
    let added = store
        .add_alerts(&[alert("s1", "e1", "h1"), alert("s1", "e1", "h2")])
        .await
        .unwrap();
    assert_eq!(added, 1);
    let all = store.alerts(None, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all[0].id > all[1].id, "newest first");
    assert_eq!(all[0].alert.content_hash, "h2");
    assert!((all[0].alert.score - 0.91).abs() < 1e-9);
    assert_eq!(all[0].alert.explanations["name_match"]["score"], 0.91);
    let older = store.alerts(Some(all[0].id), 10).await.unwrap();
    assert_eq!(older.len(), 2);
}

async fn batch_rows_keep_inputs_and_take_results(h: &Harness) {
    let store = h.store.as_ref();
    let job = store
        .create_job("screening.batch", json!({"rows": 3}))
        .await
        .unwrap();
    let inputs = vec![
        json!({"name": "A"}),
        json!({"name": "B"}),
        json!({"name": "C"}),
    ];
    store.put_batch_rows(job.id, &inputs).await.unwrap();
    let pending = store.batch_rows(job.id, 0, 10, true).await.unwrap();
    assert_eq!(pending.len(), 3);
    store
        .set_batch_results(
            job.id,
            &[(0, json!({"total": 1})), (2, json!({"total": 0}))],
        )
        .await
        .unwrap();
    let pending = store.batch_rows(job.id, 0, 10, true).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].row_no, 1);
    assert_eq!(pending[0].input["name"], "B");
    let all = store.batch_rows(job.id, 0, 10, false).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].result, Some(json!({"total": 1})));
    assert_eq!(all[1].result, None);
    let from_two = store.batch_rows(job.id, 2, 10, false).await.unwrap();
    assert_eq!(from_two.len(), 1);
    assert!(
        store
            .batch_rows(job.id + 1, 0, 10, false)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_generation_moves_with_each_new_version(h: &Harness) {
    let store = h.store.as_ref();
    let empty = store.latest_version_id().await.unwrap();
    import(
        store,
        request("list", "v1", ImportMode::Full),
        [person("p1", "Ana Example")],
    )
    .await;
    let one = store.latest_version_id().await.unwrap();
    assert_ne!(empty, one);
    // Importing a stored version again changes nothing.
    import(
        store,
        request("list", "v1", ImportMode::Full),
        [person("p1", "Ana Example")],
    )
    .await;
    assert_eq!(store.latest_version_id().await.unwrap(), one);
    import(
        store,
        request("list", "v2", ImportMode::Full),
        [person("p1", "Ana Example Changed")],
    )
    .await;
    let two = store.latest_version_id().await.unwrap();
    assert_ne!(one, two);
    // Another handle (another process) sees the same.
    assert_eq!(h.reopen().await.latest_version_id().await.unwrap(), two);
}
