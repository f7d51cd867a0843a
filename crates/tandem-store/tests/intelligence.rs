//! The conformance suite of testimony intelligence (protection spec §4.3, §6.5): pending
//! mentions, confirmation as a new or the same actor, the independent-testimony count and the
//! guard, reviews, the sealed link table, and erasure of a case's links. Every test runs
//! against SQLite and against PostgreSQL (see `common/mod.rs`).

#[macro_use]
mod common;

use std::collections::BTreeMap;

use serde_json::json;
use tandem_store::KeySource;
use tandem_store::StoreError;
use tandem_store::crypto::Keyring;
use tandem_store::intelligence::{Confirmation, GUARD_TESTIMONIES, NewMention, NewTestimonyLink};

use common::*;

conformance!(
    mentions_wait_and_confirmations_count_independent_testimonies,
    reviews_release_and_erasure_drops_the_count,
    decisions_are_checked,
    links_are_sealed_and_survive_reopening,
    rotation_reseals_links_and_mentions,
);

/// Stands in for the server's keyed blind reference: opaque, and not the case id.
fn case_ref(case: &str) -> String {
    let hash = case.bytes().fold(7u64, |h, b| {
        h.wrapping_mul(1_099_511_628_211).wrapping_add(u64::from(b))
    });
    format!("cref{hash:x}")
}

fn link(testimony_ref: &str, case: &str, org: i64) -> NewTestimonyLink {
    NewTestimonyLink {
        testimony_ref: testimony_ref.to_string(),
        case_ref: case_ref(case),
        case_id: case.to_string(),
        testimony_record_id: 7,
        organisation_id: org,
    }
}

fn mention(index: u32, name: &str) -> NewMention {
    NewMention {
        mention_index: index,
        body: json!({"evidence": {"name": name}}),
    }
}

async fn mentions_wait_and_confirmations_count_independent_testimonies(h: &Harness) {
    let s = &h.store;
    let first = s
        .record_mentions(
            link("ref1", "case-a", 1),
            vec![mention(0, "Kofi"), mention(1, "Ama")],
        )
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|m| m.actor_id.is_none()));
    assert_eq!(first[0].body, json!({"evidence": {"name": "Kofi"}}));
    // The same testimony twice is refused.
    assert!(matches!(
        s.record_mentions(link("ref1", "case-a", 1), vec![]).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(s.mentions(Some(1), true).await.unwrap().len(), 2);
    assert_eq!(s.mentions(Some(2), true).await.unwrap().len(), 0);

    let kofi = s
        .confirm_mention(
            first[0].id,
            Confirmation::New("act-kofi".into()),
            "po",
            Some(3),
        )
        .await
        .unwrap();
    assert_eq!(kofi.actor_id.as_deref(), Some("act-kofi"));
    assert_eq!(kofi.decided_by.as_deref(), Some("po"));
    s.confirm_mention(first[1].id, Confirmation::New("act-ama".into()), "po", None)
        .await
        .unwrap();
    let actor = s.intel_actor("act-kofi").await.unwrap().unwrap();
    assert_eq!(actor.testimonies, 1);
    assert!(!actor.released, "one testimony is below the guard");
    assert_eq!(s.mentions(Some(1), true).await.unwrap().len(), 0);

    // A second testimony naming Kofi, from another organisation: two independent testimonies.
    let second = s
        .record_mentions(link("ref2", "case-b", 2), vec![mention(0, "Kofi M.")])
        .await
        .unwrap();
    s.confirm_mention(
        second[0].id,
        Confirmation::Same("act-kofi".into()),
        "po-b",
        None,
    )
    .await
    .unwrap();
    let actor = s.intel_actor("act-kofi").await.unwrap().unwrap();
    assert_eq!(actor.testimonies, GUARD_TESTIMONIES);
    assert!(actor.released);
    assert_eq!(s.actor_mentions("act-kofi").await.unwrap().len(), 2);
    // Kofi and Ama were named together once.
    assert_eq!(
        s.co_mentioned("act-kofi").await.unwrap(),
        vec![("act-ama".to_string(), 1)]
    );
    assert_eq!(s.intel_actors().await.unwrap().len(), 2);
}

async fn reviews_release_and_erasure_drops_the_count(h: &Harness) {
    let s = &h.store;
    let a = s
        .record_mentions(link("refa", "case-a", 1), vec![mention(0, "X")])
        .await
        .unwrap();
    let b = s
        .record_mentions(
            link("refb", "case-b", 1),
            vec![mention(0, "X"), mention(1, "Y")],
        )
        .await
        .unwrap();
    s.confirm_mention(a[0].id, Confirmation::New("act-x".into()), "po", None)
        .await
        .unwrap();
    s.confirm_mention(b[0].id, Confirmation::Same("act-x".into()), "po", None)
        .await
        .unwrap();
    s.confirm_mention(b[1].id, Confirmation::New("act-y".into()), "po", None)
        .await
        .unwrap();
    assert!(s.intel_actor("act-x").await.unwrap().unwrap().released);

    // Y: one testimony, released by a review.
    let y = s
        .review_intel_actor("act-y", "po", Some(3), "generic role, no unique detail")
        .await
        .unwrap();
    assert!(y.released);
    assert_eq!(y.review.as_ref().unwrap().by, "po");

    // Erasing case b: X drops to one testimony and is held back again; Y loses its only
    // testimony and is gone.
    let erased = s
        .erase_intelligence_links(&case_ref("case-b"))
        .await
        .unwrap();
    assert_eq!(erased.testimonies, 1);
    assert_eq!(erased.mentions, 2);
    assert_eq!(
        erased.actors,
        vec!["act-x".to_string(), "act-y".to_string()]
    );
    let x = s.intel_actor("act-x").await.unwrap().unwrap();
    assert_eq!(x.testimonies, 1);
    assert!(!x.released);
    assert_eq!(s.intel_actor("act-y").await.unwrap(), None);
    assert_eq!(s.resolve_testimony_ref("refb").await.unwrap(), None);
    assert!(s.resolve_testimony_ref("refa").await.unwrap().is_some());
    // Erasing again changes nothing.
    assert_eq!(
        s.erase_intelligence_links(&case_ref("case-b"))
            .await
            .unwrap()
            .testimonies,
        0
    );
}

async fn decisions_are_checked(h: &Harness) {
    let s = &h.store;
    let m = s
        .record_mentions(
            link("refc", "case-c", 1),
            vec![mention(0, "Z"), mention(1, "W")],
        )
        .await
        .unwrap();
    assert!(matches!(
        s.confirm_mention(m[0].id, Confirmation::Same("act-none".into()), "po", None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.confirm_mention(999_999, Confirmation::New("act-q".into()), "po", None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.confirm_mention(m[0].id, Confirmation::New("bad id'".into()), "po", None)
            .await,
        Err(StoreError::Invalid(_))
    ));
    s.confirm_mention(m[0].id, Confirmation::New("act-z".into()), "po", None)
        .await
        .unwrap();
    // Decided once only; a taken id cannot be "new" again.
    assert!(matches!(
        s.confirm_mention(m[0].id, Confirmation::New("act-z2".into()), "po", None)
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.confirm_mention(m[1].id, Confirmation::New("act-z".into()), "po", None)
            .await,
        Err(StoreError::Invalid(_))
    ));
    // The failed attempts left the mention pending and created nothing.
    assert!(
        s.mention(m[1].id)
            .await
            .unwrap()
            .unwrap()
            .actor_id
            .is_none()
    );
    assert_eq!(s.intel_actors().await.unwrap().len(), 1);
    for reason in ["", &"r".repeat(201)] {
        assert!(matches!(
            s.review_intel_actor("act-z", "po", None, reason).await,
            Err(StoreError::Invalid(_))
        ));
    }
    assert!(matches!(
        s.review_intel_actor("act-none", "po", None, "ok").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn links_are_sealed_and_survive_reopening(h: &Harness) {
    let s = &h.store;
    s.record_mentions(
        link("refd", "case-secret-d", 4),
        vec![mention(0, "Unique Alias Dd")],
    )
    .await
    .unwrap();
    let resolved = s.resolve_testimony_ref("refd").await.unwrap().unwrap();
    assert_eq!(resolved.case_id, "case-secret-d");
    assert_eq!(resolved.organisation_id, 4);
    assert_eq!(resolved.testimony_record_id, 7);
    let reopened = h.reopen().await;
    assert_eq!(
        reopened
            .resolve_testimony_ref("refd")
            .await
            .unwrap()
            .unwrap()
            .case_id,
        "case-secret-d"
    );
    assert_eq!(
        reopened.mentions(Some(4), true).await.unwrap()[0].body,
        json!({"evidence": {"name": "Unique Alias Dd"}})
    );
}

async fn rotation_reseals_links_and_mentions(h: &Harness) {
    h.store
        .record_mentions(
            link("refr", "case-rotated", 5),
            vec![mention(0, "Rotated Alias"), mention(1, "Other Alias")],
        )
        .await
        .unwrap();
    // At rest, the case id and the mentions are ciphertext (SQLite: read the file itself).
    if let Some(path) = h.sqlite_path() {
        let reader = h.reopen().await;
        drop(reader);
        let mut bytes = std::fs::read(&path).unwrap();
        if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
            bytes.extend(wal);
        }
        for secret in ["case-rotated", "Rotated Alias"] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in clear"
            );
        }
    }
    let rotated = Keyring::parse(&h.keys, "test keys").unwrap().rotated();
    let rotator = h.open_with(KeySource::Text(rotated.to_text())).await;
    assert_eq!(
        rotator.reencrypt().await.unwrap(),
        3,
        "one link, two mentions"
    );
    assert_eq!(rotator.key_usage().await.unwrap(), BTreeMap::from([(2, 3)]));
    assert_eq!(rotator.reencrypt().await.unwrap(), 0);
    let fresh = h
        .open_with(KeySource::Text(rotated.without(1).to_text()))
        .await;
    assert_eq!(
        fresh
            .resolve_testimony_ref("refr")
            .await
            .unwrap()
            .unwrap()
            .case_id,
        "case-rotated"
    );
    assert_eq!(fresh.mentions(Some(5), true).await.unwrap().len(), 2);
}
