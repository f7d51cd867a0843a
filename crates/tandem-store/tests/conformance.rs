//! The conformance suite of imports, reads and jobs: every test runs against SQLite and against
//! PostgreSQL (see `common/mod.rs`).

#[macro_use]
mod common;

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Connection;
use tandem_core::{Entity, Sensitivity};
use tandem_store::{ChangeKind, ImportMode, ImportSummary, JobState, StoreError, StoredEntity};

use common::*;

conformance!(
    real_ftm_data_becomes_a_version,
    a_stored_version_is_not_imported_again,
    a_new_version_reports_added_changed_kept_and_removed,
    a_delta_removes_only_what_it_deletes,
    delete_and_put_of_one_id_follow_their_order,
    an_id_put_twice_is_merged,
    first_seen_stays_and_last_seen_moves,
    sensitivity_is_the_stricter_of_dataset_and_entity,
    rollback_drop_and_failure_leave_the_store_as_it_was,
    entities_stream_in_id_order,
    referencing_follows_entity_properties,
    jobs_record_progress_and_recover,
    one_import_per_dataset_and_no_lock_while_staging,
    damaged_rows_are_reported_as_corrupt,
    the_store_survives_reopening,
    bad_input_is_refused,
    dataset_summaries_keep_title_and_follow_the_latest_version,
);

// ---------------------------------------------------------------------------------------------
// Tests

async fn real_ftm_data_becomes_a_version(h: &Harness) {
    let store = h.store.as_ref();
    let records = parteispenden_json();
    let summary = import(
        store,
        request("parteispenden", "v1", ImportMode::Full),
        parteispenden(),
    )
    .await;
    assert_eq!(
        summary,
        ImportSummary {
            dataset: "parteispenden".into(),
            version: "v1".into(),
            unchanged: false,
            added: 475,
            changed: 0,
            removed: 0,
            kept: 0,
            entities: 475,
        }
    );
    // 475 records, 475 distinct ids, in five schemata (counted from the file itself).
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for record in &records {
        *expected
            .entry(record["schema"].as_str().expect("schema").to_string())
            .or_default() += 1;
    }
    assert_eq!(
        expected,
        BTreeMap::from([
            ("Address".to_string(), 89),
            ("Company".to_string(), 56),
            ("Organization".to_string(), 18),
            ("Payment".to_string(), 290),
            ("Person".to_string(), 22),
        ])
    );
    let datasets = store.datasets().await.expect("datasets");
    assert_eq!(datasets.len(), 1);
    let dataset = summary_of(&datasets, "parteispenden");
    assert_eq!(dataset.version, "v1");
    assert_eq!(dataset.entities, 475);
    assert_eq!(dataset.schemata, expected);

    let versions = store.versions("parteispenden").await.expect("versions");
    assert_eq!(versions.len(), 1);
    assert_eq!((versions[0].added, versions[0].entities), (475, 475));
    let changes = store.changes("parteispenden", "v1").await.expect("changes");
    assert_eq!(changes.len(), 475);
    assert!(changes.iter().all(|c| c.change == ChangeKind::Added));
    let changed_ids: BTreeSet<&str> = changes.iter().map(|c| c.entity_id.as_str()).collect();
    let file_ids: BTreeSet<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(changed_ids, file_ids);

    // The donor of the first payment in the file, as the file has it.
    let stored = store
        .entity("f9c295f21b233ac878fbac4d271bb6fd13d7952a")
        .await
        .expect("entity");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].dataset, "parteispenden");
    assert_eq!(stored[0].entity.schema, "Person");
    assert_eq!(stored[0].entity.get("name"), ["Frau Lina Dachner"]);
    assert_eq!(stored[0].first_seen, versions[0].imported_at);
    assert_eq!(stored[0].last_seen, versions[0].imported_at);
    let statements = store
        .statements("f9c295f21b233ac878fbac4d271bb6fd13d7952a")
        .await
        .expect("statements");
    let props: BTreeSet<&str> = statements.iter().map(|s| s.prop.as_str()).collect();
    assert_eq!(props, BTreeSet::from(["addressEntity", "country", "name"]));
    assert!(
        statements
            .iter()
            .all(|s| s.provenance.version == "v1" && s.provenance.dataset == "parteispenden")
    );
    assert!(store.entity("no-such-id").await.expect("entity").is_empty());
}

async fn a_stored_version_is_not_imported_again(h: &Harness) {
    let store = h.store.as_ref();
    import(store, request("p", "v1", ImportMode::Full), parteispenden()).await;
    let before = snapshot(store).await;
    // Same version, different content: the version identifies the content, so nothing happens.
    let summary = import(
        store,
        request("p", "v1", ImportMode::Full),
        [person("someone-new", "Nobody")],
    )
    .await;
    assert!(summary.unchanged);
    assert_eq!(
        (summary.added, summary.removed, summary.entities),
        (0, 0, 475)
    );
    assert_eq!(snapshot(store).await, before);
    assert_eq!(store.versions("p").await.expect("versions").len(), 1);
}

async fn a_new_version_reports_added_changed_kept_and_removed(h: &Harness) {
    let store = h.store.as_ref();
    let v1 = [
        person("a", "Anna"),
        person("b", "Bruno"),
        person("c", "Carla"),
        entity("Company", "d", &[("name", "Delta Ltd")]),
    ];
    import(store, request("ds", "v1", ImportMode::Full), v1).await;
    let v2 = [
        person("a", "Anna"),
        person("b", "Bruno Rossi"),
        entity("Company", "e", &[("name", "Echo SA")]),
    ];
    let summary = import(store, request("ds", "v2", ImportMode::Full), v2).await;
    assert_eq!(
        (
            summary.added,
            summary.changed,
            summary.kept,
            summary.removed,
            summary.entities
        ),
        (1, 1, 1, 2, 3)
    );
    let changes = store.changes("ds", "v2").await.expect("changes");
    let listed: Vec<(&str, &str, ChangeKind)> = changes
        .iter()
        .map(|c| (c.entity_id.as_str(), c.schema.as_str(), c.change))
        .collect();
    assert_eq!(
        listed,
        [
            ("b", "Person", ChangeKind::Changed),
            ("c", "Person", ChangeKind::Removed),
            ("d", "Company", ChangeKind::Removed),
            ("e", "Company", ChangeKind::Added),
        ]
    );
    let versions = store.versions("ds").await.expect("versions");
    let names: Vec<&str> = versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(names, ["v1", "v2"]);
    assert_eq!(
        (
            versions[1].added,
            versions[1].changed,
            versions[1].removed,
            versions[1].entities
        ),
        (1, 1, 2, 3)
    );
    assert_eq!(store.changes("ds", "v1").await.expect("changes").len(), 4);
    assert!(store.entity("c").await.expect("entity").is_empty());
    let b = store.entity("b").await.expect("entity");
    assert_eq!(b[0].entity.get("name"), ["Bruno Rossi"]);
    let ids: Vec<String> = all_entities(store, Some("ds"))
        .await
        .into_iter()
        .map(|s| s.entity.id)
        .collect();
    assert_eq!(ids, ["a", "b", "e"]);
    assert!(matches!(
        store.changes("ds", "v9").await,
        Err(StoreError::NotFound(_))
    ));
    // Last change: v2 for what it added or changed, v1 for what it only kept.
    let at = |v: usize| versions[v].imported_at.clone();
    let mut last = store
        .last_changes(Some(&["a", "b", "e", "c", "nobody"]))
        .await
        .expect("last changes");
    last.sort_by(|x, y| x.entity_id.cmp(&y.entity_id));
    let last: Vec<(&str, &str, String)> = last
        .iter()
        .map(|l| (l.dataset.as_str(), l.entity_id.as_str(), l.at.clone()))
        .collect();
    assert_eq!(
        last,
        [
            ("ds", "a", at(0)),
            ("ds", "b", at(1)),
            ("ds", "c", at(0)),
            ("ds", "e", at(1)),
        ],
        "a removed entity keeps the time of its last change, not of its removal"
    );
    let every = store.last_changes(None).await.expect("last changes");
    assert_eq!(every.len(), 5, "{every:?}");
    // A full import of nothing empties the dataset but keeps its history.
    let summary = import(store, request("ds", "v3", ImportMode::Full), []).await;
    assert_eq!((summary.removed, summary.entities), (3, 0));
    assert_eq!(store.versions("ds").await.expect("versions").len(), 3);
}

async fn a_delta_removes_only_what_it_deletes(h: &Harness) {
    let store = h.store.as_ref();
    import(
        store,
        request("ds", "v1", ImportMode::Full),
        [
            person("a", "Anna"),
            person("b", "Bruno"),
            person("c", "Carla"),
        ],
    )
    .await;
    let mut session = store
        .begin_import(request("ds", "v2", ImportMode::Delta))
        .await
        .expect("begin");
    session.put(person("d", "Dario")).await.expect("put");
    session.put(person("a", "Anna Bianchi")).await.expect("put");
    session.delete("b").await.expect("delete");
    session.delete("never-stored").await.expect("delete");
    let summary = session.commit().await.expect("commit");
    assert_eq!(
        (
            summary.added,
            summary.changed,
            summary.kept,
            summary.removed,
            summary.entities
        ),
        (1, 1, 0, 1, 3)
    );
    let ids: Vec<String> = all_entities(store, Some("ds"))
        .await
        .into_iter()
        .map(|s| s.entity.id)
        .collect();
    assert_eq!(ids, ["a", "c", "d"]);
    let changes = store.changes("ds", "v2").await.expect("changes");
    let listed: Vec<(&str, ChangeKind)> = changes
        .iter()
        .map(|c| (c.entity_id.as_str(), c.change))
        .collect();
    assert_eq!(
        listed,
        [
            ("a", ChangeKind::Changed),
            ("b", ChangeKind::Removed),
            ("d", ChangeKind::Added)
        ]
    );
    // c was neither put nor deleted: it stays as version 1 left it.
    let c = store.statements("c").await.expect("statements");
    assert_eq!(c[0].provenance.version, "v1");
}

async fn delete_and_put_of_one_id_follow_their_order(h: &Harness) {
    let store = h.store.as_ref();
    import(
        store,
        request("ds", "v1", ImportMode::Full),
        [person("kept", "Kept"), person("gone", "Gone")],
    )
    .await;
    let mut session = store
        .begin_import(request("ds", "v2", ImportMode::Delta))
        .await
        .expect("begin");
    // Put, delete, put again in one batch: the last put stands alone, not merged.
    session.put(person("x", "First")).await.expect("put");
    session.delete("x").await.expect("delete");
    session.put(person("x", "Second")).await.expect("put");
    // Put in one batch, deleted in a later one: gone.
    session.put(person("y", "Short-lived")).await.expect("put");
    session
        .put(person("gone", "Gone again"))
        .await
        .expect("put");
    for i in 0..1200 {
        session
            .put(person(&format!("filler-{i:04}"), "Filler"))
            .await
            .expect("put");
    }
    session.delete("y").await.expect("delete");
    session.delete("gone").await.expect("delete");
    // Deleted in one batch, put in a later one: present, with only the new values.
    session.delete("kept").await.expect("delete");
    for i in 1200..2400 {
        session
            .put(person(&format!("filler-{i:04}"), "Filler"))
            .await
            .expect("put");
    }
    session.put(person("kept", "Kept anew")).await.expect("put");
    let summary = session.commit().await.expect("commit");
    assert_eq!(summary.entities, 2 + 2400);
    assert_eq!(
        (summary.added, summary.changed, summary.removed),
        (2401, 1, 1)
    );
    let x = store.entity("x").await.expect("entity");
    assert_eq!(x[0].entity.get("name"), ["Second"]);
    assert!(store.entity("y").await.expect("entity").is_empty());
    assert!(store.entity("gone").await.expect("entity").is_empty());
    let kept = store.entity("kept").await.expect("entity");
    assert_eq!(kept[0].entity.get("name"), ["Kept anew"]);
}

async fn an_id_put_twice_is_merged(h: &Harness) {
    let store = h.store.as_ref();
    let mut session = store
        .begin_import(request("ds", "v1", ImportMode::Full))
        .await
        .expect("begin");
    session
        .put(person("p", "Ermias Ghermay"))
        .await
        .expect("put");
    session
        .put(entity("Person", "p", &[("nationality", "ER")]))
        .await
        .expect("put");
    session
        .put(entity("LegalEntity", "q", &[("name", "Acme")]))
        .await
        .expect("put");
    for i in 0..1500 {
        session
            .put(person(&format!("filler-{i:04}"), "Filler"))
            .await
            .expect("put");
    }
    // q was staged by an earlier batch; this fragment specialises and extends it.
    session
        .put(entity("Company", "q", &[("name", "ACME Ltd")]))
        .await
        .expect("put");
    let summary = session.commit().await.expect("commit");
    assert_eq!((summary.added, summary.entities), (1502, 1502));
    let p = store.entity("p").await.expect("entity");
    assert_eq!(p[0].entity.get("name"), ["Ermias Ghermay"]);
    assert_eq!(p[0].entity.get("nationality"), ["er"]);
    let q = store.entity("q").await.expect("entity");
    assert_eq!(q[0].entity.schema, "Company");
    assert_eq!(q[0].entity.get("name"), ["Acme", "ACME Ltd"]);

    // Two fragments that cannot be one entity: the import fails and stores nothing.
    let before = snapshot(store).await;
    let mut session = store
        .begin_import(request("ds", "v2", ImportMode::Full))
        .await
        .expect("begin");
    session.put(person("clash", "A person")).await.expect("put");
    let same_batch = session
        .put(entity("Company", "clash", &[("name", "A company")]))
        .await;
    assert!(matches!(same_batch, Err(StoreError::Invalid(ref m)) if m.contains("clash")));
    session.rollback().await.expect("rollback");

    let mut session = store
        .begin_import(request("ds", "v2", ImportMode::Full))
        .await
        .expect("begin");
    session.put(person("clash", "A person")).await.expect("put");
    for i in 0..1000 {
        session
            .put(person(&format!("filler-{i:04}"), "Filler"))
            .await
            .expect("put");
    }
    session
        .put(entity("Company", "clash", &[("name", "A company")]))
        .await
        .expect("put (the clash shows when the batch is staged)");
    let later_batch = session.commit().await;
    assert!(matches!(later_batch, Err(StoreError::Invalid(ref m)) if m.contains("clash")));
    assert_eq!(snapshot(store).await, before);
}

async fn first_seen_stays_and_last_seen_moves(h: &Harness) {
    let store = h.store.as_ref();
    import(
        store,
        request("ds", "v1", ImportMode::Full),
        [person("p", "Anna")],
    )
    .await;
    next_second().await;
    let mut p2 = person("p", "Anna");
    p2.add("alias", "Annie").expect("alias");
    let summary = import(store, request("ds", "v2", ImportMode::Full), [p2.clone()]).await;
    assert_eq!(summary.changed, 1);
    next_second().await;
    let summary = import(store, request("ds", "v3", ImportMode::Full), [p2]).await;
    assert_eq!((summary.kept, summary.changed), (1, 0));

    let versions = store.versions("ds").await.expect("versions");
    let [t1, t2, t3] = [0, 1, 2].map(|i| versions[i].imported_at.clone());
    assert!(t1 < t2 && t2 < t3, "{t1} {t2} {t3}");
    let statements = store.statements("p").await.expect("statements");
    let by_value: BTreeMap<&str, (&str, &str, &str)> = statements
        .iter()
        .map(|s| {
            (
                s.value.as_str(),
                (
                    s.provenance.first_seen.as_str(),
                    s.provenance.last_seen.as_str(),
                    s.provenance.version.as_str(),
                ),
            )
        })
        .collect();
    assert_eq!(
        by_value,
        BTreeMap::from([
            ("Anna", (t1.as_str(), t3.as_str(), "v3")),
            ("Annie", (t2.as_str(), t3.as_str(), "v3")),
        ])
    );
    let stored = store.entity("p").await.expect("entity");
    assert_eq!(
        (stored[0].first_seen.as_str(), stored[0].last_seen.as_str()),
        (t1.as_str(), t3.as_str())
    );
    // v3 changed nothing about p, so it records no change.
    assert!(store.changes("ds", "v3").await.expect("changes").is_empty());
}

async fn sensitivity_is_the_stricter_of_dataset_and_entity(h: &Harness) {
    let store = h.store.as_ref();
    let mut secret = person("victim-1", "Protected Person");
    secret.sensitivity = Sensitivity::Protected;
    let mut plain = person("trafficker-1", "Known Trafficker");
    plain.confidence = Some(0.7);
    let mut restricted = request("intel", "v1", ImportMode::Full);
    restricted.sensitivity = Sensitivity::Restricted;
    import(store, restricted, [secret, plain]).await;

    let victim = store.entity("victim-1").await.expect("entity");
    assert_eq!(victim[0].entity.sensitivity, Sensitivity::Protected);
    let trafficker = store.entity("trafficker-1").await.expect("entity");
    assert_eq!(trafficker[0].entity.sensitivity, Sensitivity::Restricted);
    assert_eq!(trafficker[0].entity.confidence, Some(0.7));
    let statements = store.statements("trafficker-1").await.expect("statements");
    assert!(
        statements
            .iter()
            .all(|s| s.sensitivity == Sensitivity::Restricted && s.confidence == Some(0.7))
    );
    let datasets = store.datasets().await.expect("datasets");
    assert_eq!(
        summary_of(&datasets, "intel").sensitivity,
        Sensitivity::Restricted
    );
}

async fn rollback_drop_and_failure_leave_the_store_as_it_was(h: &Harness) {
    let store = h.store.as_ref();
    import(store, request("p", "v1", ImportMode::Full), parteispenden()).await;
    let job = store
        .create_job("import", serde_json::json!({"dataset": "p"}))
        .await
        .expect("job");
    let before = snapshot(store).await;
    let changed_version = || {
        let mut entities = parteispenden();
        entities.truncate(300);
        for entity in entities.iter_mut().take(50) {
            assert!(entity.add_lenient("description", "changed in v2"));
        }
        entities.extend((0..1500).map(|i| person(&format!("new-{i}"), "New Person")));
        entities
    };

    let mut session = store
        .begin_import(request("p", "v2", ImportMode::Full))
        .await
        .expect("begin");
    for entity in changed_version() {
        session.put(entity).await.expect("put");
    }
    session
        .delete("f9c295f21b233ac878fbac4d271bb6fd13d7952a")
        .await
        .expect("delete");
    session.rollback().await.expect("rollback");
    assert_eq!(snapshot(store).await, before, "after rollback");

    let mut session = store
        .begin_import(request("p", "v2", ImportMode::Full))
        .await
        .expect("begin");
    for entity in changed_version() {
        session.put(entity).await.expect("put");
    }
    drop(session);
    assert_eq!(snapshot(store).await, before, "after drop");

    // A failure at commit (here a clash between fragments) also leaves nothing.
    let mut session = store
        .begin_import(request("p", "v2", ImportMode::Full))
        .await
        .expect("begin");
    for entity in changed_version() {
        session.put(entity).await.expect("put");
    }
    session
        .put(entity("Company", "new-1", &[("name", "Not a person")]))
        .await
        .expect("put");
    assert!(session.commit().await.is_err());
    assert_eq!(snapshot(store).await, before, "after a failed commit");
    assert_eq!(
        store.job(job.id).await.expect("job").expect("job").state,
        JobState::Queued
    );

    // Nothing of the abandoned attempts is held: the same version imports normally now.
    let summary = import(
        store,
        request("p", "v2", ImportMode::Full),
        changed_version(),
    )
    .await;
    assert!(!summary.unchanged);
    assert_eq!(
        (
            summary.added,
            summary.changed,
            summary.kept,
            summary.removed
        ),
        (1500, 50, 250, 175)
    );
    assert_eq!(summary.entities, 1800);
}

async fn entities_stream_in_id_order(h: &Harness) {
    let store = h.store.as_ref();
    // Ids inserted out of order, across several pages, in two datasets that share some ids.
    let big: Vec<Entity> = (0..2500)
        .rev()
        .map(|i| person(&format!("id-{:05}", (i * 7919) % 2500), "Someone"))
        .collect();
    import(store, request("big", "v1", ImportMode::Full), big).await;
    let small: Vec<Entity> = (0..300)
        .map(|i| person(&format!("id-{:05}", i * 3), "Other"))
        .collect();
    import(store, request("small", "v1", ImportMode::Full), small).await;

    let big_ids: Vec<String> = all_entities(store, Some("big"))
        .await
        .into_iter()
        .map(|s| s.entity.id)
        .collect();
    let expected: Vec<String> = (0..2500).map(|i| format!("id-{i:05}")).collect();
    assert_eq!(big_ids, expected);

    let everything: Vec<(String, String)> = all_entities(store, None)
        .await
        .into_iter()
        .map(|s| (s.entity.id, s.dataset))
        .collect();
    assert_eq!(everything.len(), 2800);
    assert!(
        everything.windows(2).all(|w| w[0] < w[1]),
        "not in (id, dataset) order"
    );
    assert_eq!(everything[0], ("id-00000".to_string(), "big".to_string()));
    assert_eq!(everything[1], ("id-00000".to_string(), "small".to_string()));
    assert!(all_entities(store, Some("none")).await.is_empty());
}

async fn referencing_follows_entity_properties(h: &Harness) {
    let store = h.store.as_ref();
    let records = parteispenden_json();
    // MLPD, the beneficiary of the first payments in the file.
    let party = "6d03aec76fdeec8f9697d8b19954ab6fc2568bc8";
    let pointing: BTreeSet<String> = records
        .iter()
        .filter(|r| {
            r["properties"]
                .as_object()
                .expect("properties")
                .values()
                .any(|values| {
                    values
                        .as_array()
                        .expect("values")
                        .iter()
                        .any(|v| v == party)
                })
        })
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect();
    assert!(
        pointing.len() > 1,
        "the fixture should have several payments to {party}"
    );
    import(store, request("p", "v1", ImportMode::Full), parteispenden()).await;
    let found: BTreeSet<String> = store
        .referencing(party)
        .await
        .expect("referencing")
        .into_iter()
        .map(|s| s.entity.id)
        .collect();
    assert_eq!(found, pointing);
    let payments = store.referencing(party).await.expect("referencing");
    assert!(payments.iter().all(|s| s.entity.schema == "Payment"));

    // v2: one payment goes to another beneficiary, one is gone, the rest unchanged.
    let mut redirected_id = String::new();
    let mut removed_id = String::new();
    let mut v2 = Vec::new();
    for mut entity in parteispenden() {
        if pointing.contains(&entity.id) && redirected_id.is_empty() {
            redirected_id = entity.id.clone();
            entity
                .properties
                .insert("beneficiary".into(), vec!["someone-else".into()]);
        } else if pointing.contains(&entity.id) && removed_id.is_empty() {
            removed_id = entity.id.clone();
            continue;
        }
        v2.push(entity);
    }
    let summary = import(store, request("p", "v2", ImportMode::Full), v2).await;
    assert_eq!((summary.changed, summary.removed), (1, 1));
    let found: BTreeSet<String> = store
        .referencing(party)
        .await
        .expect("referencing")
        .into_iter()
        .map(|s| s.entity.id)
        .collect();
    let mut expected = pointing.clone();
    expected.remove(&redirected_id);
    expected.remove(&removed_id);
    assert_eq!(found, expected);
    let elsewhere = store
        .referencing("someone-else")
        .await
        .expect("referencing");
    assert_eq!(elsewhere.len(), 1);
    assert_eq!(elsewhere[0].entity.id, redirected_id);
}

async fn jobs_record_progress_and_recover(h: &Harness) {
    let store = h.store.as_ref();
    let params = serde_json::json!({"dataset": "us_ofac_sdn", "files": ["sdn.csv"]});
    let job = store
        .create_job("import", params.clone())
        .await
        .expect("create");
    assert_eq!(
        (job.state, job.done, job.total),
        (JobState::Queued, 0, None)
    );
    assert_eq!(job.params, params);

    let checkpoint = serde_json::json!({"line": 5120});
    store
        .update_job(job.id, 5120, Some(14965), Some(checkpoint.clone()))
        .await
        .expect("update");
    let running = store.job(job.id).await.expect("job").expect("present");
    assert_eq!(running.state, JobState::Running);
    assert_eq!((running.done, running.total), (5120, Some(14965)));
    assert_eq!(running.checkpoint, Some(checkpoint));

    let other = store
        .create_job("screen", serde_json::json!({}))
        .await
        .expect("create");
    store
        .update_job(other.id, 1, None, None)
        .await
        .expect("update");
    store
        .finish_job(job.id, JobState::Done, Some("14965 entities".into()))
        .await
        .expect("finish");
    let done = store.job(job.id).await.expect("job").expect("present");
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.message.as_deref(), Some("14965 entities"));

    let listed: Vec<i64> = store
        .jobs(10)
        .await
        .expect("jobs")
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(listed, [other.id, job.id]);
    assert_eq!(store.jobs(1).await.expect("jobs").len(), 1);

    assert!(matches!(
        store.update_job(job.id, 1, None, None).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.finish_job(job.id, JobState::Running, None).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store.job(999_999).await.expect("job").is_none());
    assert!(matches!(
        store.update_job(999_999, 1, None, None).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.finish_job(999_999, JobState::Done, None).await,
        Err(StoreError::NotFound(_))
    ));

    // A new process finds the job the dead one left running.
    let reopened = h.reopen().await;
    let recovered = reopened.recover_jobs().await.expect("recover");
    assert_eq!(recovered.len(), 1);
    assert_eq!(
        (recovered[0].id, recovered[0].state),
        (other.id, JobState::Interrupted)
    );
    assert!(reopened.recover_jobs().await.expect("recover").is_empty());
    // Resuming takes it up where it stopped.
    reopened
        .update_job(other.id, 2, Some(10), None)
        .await
        .expect("resume");
    assert_eq!(
        reopened
            .job(other.id)
            .await
            .expect("job")
            .expect("present")
            .state,
        JobState::Running
    );
}

async fn one_import_per_dataset_and_no_lock_while_staging(h: &Harness) {
    let store = h.store.as_ref();
    let mut first = store
        .begin_import(request("a", "v1", ImportMode::Full))
        .await
        .expect("begin");
    for i in 0..1500 {
        first
            .put(person(&format!("a-{i}"), "Staged"))
            .await
            .expect("put");
    }
    let second = store
        .begin_import(request("a", "v2", ImportMode::Full))
        .await;
    assert!(matches!(second, Err(StoreError::Invalid(ref m)) if m.contains("already open")));
    // While one import stages, the store takes other writes: jobs and other datasets.
    let job = store
        .create_job("import", serde_json::json!({}))
        .await
        .expect("job");
    store
        .update_job(job.id, 1500, None, None)
        .await
        .expect("update");
    let other = import(
        store,
        request("b", "v1", ImportMode::Full),
        [person("b-1", "Other")],
    )
    .await;
    assert_eq!(other.entities, 1);
    let summary = first.commit().await.expect("commit");
    assert_eq!(summary.entities, 1500);
    // Once closed, the dataset can be imported again.
    let summary = import(
        store,
        request("a", "v2", ImportMode::Delta),
        [person("a-x", "X")],
    )
    .await;
    assert_eq!(summary.entities, 1501);
}

async fn damaged_rows_are_reported_as_corrupt(h: &Harness) {
    let store = h.store.as_ref();
    import(
        store,
        request("ds", "v1", ImportMode::Full),
        [person("fine", "Fine"), person("hurt", "Hurt")],
    )
    .await;
    let job = store
        .create_job("import", serde_json::json!({}))
        .await
        .expect("job");
    h.execute_behind("UPDATE entities SET properties = '{\"name\": [1' WHERE entity_id = 'hurt'")
        .await;
    h.execute_behind(&format!(
        "UPDATE jobs SET params = 'no json' WHERE id = {}",
        job.id
    ))
    .await;
    assert!(
        matches!(store.entity("hurt").await, Err(StoreError::Corrupt(ref m)) if m.contains("hurt"))
    );
    assert!(matches!(
        store.statements("hurt").await,
        Err(StoreError::Corrupt(_))
    ));
    assert_eq!(store.entity("fine").await.expect("entity").len(), 1);
    let streamed: Vec<Result<StoredEntity, StoreError>> =
        futures::StreamExt::collect(store.entities(Some("ds"))).await;
    assert_eq!(streamed.len(), 2);
    assert!(streamed[0].is_ok());
    assert!(matches!(streamed[1], Err(StoreError::Corrupt(_))));
    assert!(matches!(
        store.job(job.id).await,
        Err(StoreError::Corrupt(_))
    ));

    h.execute_behind("UPDATE entities SET schema = 'Starship' WHERE entity_id = 'fine'")
        .await;
    assert!(
        matches!(store.entity("fine").await, Err(StoreError::Corrupt(ref m)) if m.contains("Starship"))
    );
}

async fn the_store_survives_reopening(h: &Harness) {
    import(
        h.store.as_ref(),
        request("ds", "v1", ImportMode::Full),
        [person("p", "Anna")],
    )
    .await;
    let before = snapshot(h.store.as_ref()).await;
    let reopened = h.reopen().await;
    assert_eq!(snapshot(reopened.as_ref()).await, before);
    let summary = import(
        reopened.as_ref(),
        request("ds", "v1", ImportMode::Full),
        [person("p", "Anna")],
    )
    .await;
    assert!(summary.unchanged);
}

async fn bad_input_is_refused(h: &Harness) {
    let store = h.store.as_ref();
    let mut session = store
        .begin_import(request("ds", "v1", ImportMode::Full))
        .await
        .expect("begin");
    let mut unknown = person("p", "Anna");
    unknown.schema = "Starship".into();
    assert!(
        matches!(session.put(unknown).await, Err(StoreError::Invalid(ref m)) if m.contains("Starship"))
    );
    let mut bad_id = person("p", "Anna");
    bad_id.id = "has spaces".into();
    assert!(matches!(
        session.put(bad_id).await,
        Err(StoreError::Invalid(_))
    ));
    let mut abstract_schema = person("p", "Anna");
    abstract_schema.schema = "Thing".into();
    assert!(matches!(
        session.put(abstract_schema).await,
        Err(StoreError::Invalid(_))
    ));
    session.rollback().await.expect("rollback");
    assert!(matches!(
        store
            .begin_import(request("ds", " ", ImportMode::Full))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .begin_import(request("", "v1", ImportMode::Full))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store.datasets().await.expect("datasets").is_empty());
}

async fn dataset_summaries_keep_title_and_follow_the_latest_version(h: &Harness) {
    let store = h.store.as_ref();
    import(
        store,
        request("ds", "v1", ImportMode::Full),
        [person("a", "A")],
    )
    .await;
    let mut titled = request("ds", "v2", ImportMode::Delta);
    titled.title = Some("First title".into());
    import(
        store,
        titled,
        [
            entity("Company", "b", &[("name", "B")]),
            entity("Company", "c", &[("name", "C")]),
        ],
    )
    .await;
    let mut retitled = request("ds", "v3", ImportMode::Delta);
    retitled.title = Some("Second title".into());
    retitled.sensitivity = Sensitivity::Restricted;
    import(store, retitled, [person("d", "D")]).await;
    import(
        store,
        request("other", "2026-01", ImportMode::Full),
        [person("z", "Z")],
    )
    .await;

    let datasets = store.datasets().await.expect("datasets");
    let names: Vec<&str> = datasets.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["ds", "other"]);
    let ds = summary_of(&datasets, "ds");
    assert_eq!(ds.title.as_deref(), Some("First title"));
    assert_eq!(ds.version, "v3");
    assert_eq!(ds.sensitivity, Sensitivity::Restricted);
    assert_eq!(ds.entities, 4);
    assert_eq!(
        ds.schemata,
        BTreeMap::from([("Company".to_string(), 2), ("Person".to_string(), 2)])
    );
    let other = summary_of(&datasets, "other");
    assert_eq!((other.version.as_str(), other.entities), ("2026-01", 1));
}

// ---------------------------------------------------------------------------------------------
// Not per backend

#[tokio::test]
async fn unknown_urls_are_refused() {
    for url in ["mysql://localhost/db", "tandem.db", "sqlite::memory:"] {
        assert!(
            matches!(
                tandem_store::open(url).await,
                Err(StoreError::UnsupportedUrl(_))
            ),
            "{url}"
        );
    }
}

#[tokio::test]
async fn sqlite_creates_its_file_in_wal_mode() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("fresh.db");
    assert!(!path.exists());
    let url = format!("sqlite://{}", path.display());
    let store = tandem_store::open(&url).await.expect("open");
    assert_eq!(store.backend(), "sqlite");
    assert!(path.exists());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
}
