//! The conformance suite of indicator catalogue versions: storing revisions by hash, refusing a
//! duplicate gracefully, listing, activation as a log, and what survives reopening. Every test
//! runs against SQLite and against PostgreSQL (see `common/mod.rs`).

#[macro_use]
mod common;

use tandem_store::StoreError;
use tandem_store::catalogue::{NewCatalogueVersion, catalogue_sha256};

use common::*;

conformance!(
    revisions_are_stored_by_hash_and_duplicates_are_refused_gracefully,
    activation_is_a_log_and_the_last_one_wins,
    unknown_hashes_and_bad_revisions_are_refused,
    catalogues_survive_reopening,
);

fn revision(version: &str, body: &str, by: &str) -> NewCatalogueVersion {
    NewCatalogueVersion {
        catalogue_id: "tandem-ilo-ec-indicators".to_string(),
        version: version.to_string(),
        // Texts differ by more than their version so that hashes differ.
        toml: format!(
            "[catalogue]\nid = \"tandem-ilo-ec-indicators\"\nversion = \"{version}\"\n# {body}\n"
        ),
        loaded_by: by.to_string(),
        loaded_by_user_id: Some(3),
        note: format!("note on {version}"),
    }
}

async fn revisions_are_stored_by_hash_and_duplicates_are_refused_gracefully(h: &Harness) {
    let store = h.store.as_ref();
    assert!(store.catalogue_versions().await.unwrap().is_empty());
    assert_eq!(store.active_catalogue().await.unwrap(), None);
    assert_eq!(store.active_catalogue_sha256().await.unwrap(), None);

    let first = revision("0.1.0", "first", "ana");
    let stored = store.store_catalogue(first.clone()).await.unwrap();
    assert!(stored.created);
    assert_eq!(stored.version.sha256, catalogue_sha256(&first.toml));
    assert_eq!(stored.version.version, "0.1.0");
    assert_eq!(stored.version.catalogue_id, "tandem-ilo-ec-indicators");
    assert_eq!(stored.version.loaded_by, "ana");
    assert_eq!(stored.version.loaded_by_user_id, Some(3));
    assert_eq!(stored.version.note, "note on 0.1.0");
    assert!(!stored.version.active, "storing does not activate");
    assert_eq!(stored.version.last_activated_at, None);
    assert!(
        stored.version.loaded_at.starts_with("20") && stored.version.loaded_at.contains('T'),
        "{:?}",
        stored.version
    );

    // The same text again, by someone else with another note: nothing changes.
    let again = store
        .store_catalogue(NewCatalogueVersion {
            loaded_by: "bo".to_string(),
            note: "again".to_string(),
            ..first.clone()
        })
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.version, stored.version);

    let second = revision("0.2.0", "second", "bo");
    let stored_second = store.store_catalogue(second.clone()).await.unwrap();
    assert!(stored_second.created);
    assert_ne!(stored_second.version.sha256, stored.version.sha256);

    let all = store.catalogue_versions().await.unwrap();
    assert_eq!(
        all.iter().map(|v| v.version.as_str()).collect::<Vec<_>>(),
        ["0.2.0", "0.1.0"],
        "newest first"
    );

    // The text comes back byte for byte; the hash may be given in upper case.
    let text = store
        .catalogue_by_sha256(&stored.version.sha256.to_uppercase())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(text.toml, first.toml);
    assert_eq!(text.meta, stored.version);
    assert_eq!(
        store
            .catalogue_by_sha256(&catalogue_sha256("never stored"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.catalogue_by_sha256("999999").await.unwrap(), None);
}

async fn activation_is_a_log_and_the_last_one_wins(h: &Harness) {
    let store = h.store.as_ref();
    let a = store
        .store_catalogue(revision("1.0.0", "a", "ana"))
        .await
        .unwrap()
        .version;
    let b = store
        .store_catalogue(revision("1.1.0", "b", "ana"))
        .await
        .unwrap()
        .version;

    let first = store
        .activate_catalogue(&a.sha256, "ana", Some(3))
        .await
        .unwrap();
    assert_eq!(first.sha256, a.sha256);
    assert_eq!(first.version, "1.0.0");
    assert_eq!(first.activated_by, "ana");
    assert_eq!(first.activated_by_user_id, Some(3));
    assert_eq!(
        store.active_catalogue_sha256().await.unwrap().as_deref(),
        Some(a.sha256.as_str())
    );

    store
        .activate_catalogue(&b.sha256, "cli:root", None)
        .await
        .unwrap();
    let active = store.active_catalogue().await.unwrap().unwrap();
    assert_eq!(active.meta.sha256, b.sha256);
    assert!(active.meta.active);
    assert!(active.meta.last_activated_at.is_some());
    assert!(active.toml.contains("1.1.0"));

    let versions = store.catalogue_versions().await.unwrap();
    let flags: Vec<(&str, bool)> = versions
        .iter()
        .map(|v| (v.version.as_str(), v.active))
        .collect();
    assert_eq!(flags, [("1.1.0", true), ("1.0.0", false)]);
    assert!(
        versions[1].last_activated_at.is_some(),
        "a version once active remembers when"
    );

    // Going back to an earlier revision is one more entry in the log.
    store
        .activate_catalogue(&a.sha256, "ana", Some(3))
        .await
        .unwrap();
    assert_eq!(
        store.active_catalogue_sha256().await.unwrap().as_deref(),
        Some(a.sha256.as_str())
    );
    let log = store.catalogue_activations(10).await.unwrap();
    assert_eq!(
        log.iter()
            .map(|e| (e.version.as_str(), e.activated_by.as_str()))
            .collect::<Vec<_>>(),
        [("1.0.0", "ana"), ("1.1.0", "cli:root"), ("1.0.0", "ana")],
        "newest first"
    );
    assert!(log[0].id > log[1].id && log[1].id > log[2].id);
    assert_eq!(store.catalogue_activations(1).await.unwrap().len(), 1);
}

async fn unknown_hashes_and_bad_revisions_are_refused(h: &Harness) {
    let store = h.store.as_ref();
    let stored = store
        .store_catalogue(revision("2.0.0", "kept", "ana"))
        .await
        .unwrap()
        .version;
    store
        .activate_catalogue(&stored.sha256, "ana", None)
        .await
        .unwrap();

    for sha in [catalogue_sha256("not stored"), "999999".to_string()] {
        let err = store
            .activate_catalogue(&sha, "ana", None)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    }
    let err = store
        .activate_catalogue(&stored.sha256, " ", None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");

    let empty = NewCatalogueVersion {
        toml: "   ".to_string(),
        ..revision("2.1.0", "", "ana")
    };
    let no_version = NewCatalogueVersion {
        version: " ".to_string(),
        ..revision("2.2.0", "x", "ana")
    };
    for bad in [empty, no_version] {
        let err = store.store_catalogue(bad).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    }

    // Refusals changed nothing.
    assert_eq!(store.catalogue_versions().await.unwrap().len(), 1);
    assert_eq!(store.catalogue_activations(10).await.unwrap().len(), 1);
    assert_eq!(
        store.active_catalogue_sha256().await.unwrap(),
        Some(stored.sha256)
    );
}

async fn catalogues_survive_reopening(h: &Harness) {
    let stored = h
        .store
        .store_catalogue(revision("3.0.0", "durable", "ana"))
        .await
        .unwrap()
        .version;
    h.store
        .activate_catalogue(&stored.sha256, "ana", None)
        .await
        .unwrap();
    let reopened = h.reopen().await;
    let active = reopened.active_catalogue().await.unwrap().unwrap();
    assert_eq!(active.meta.sha256, stored.sha256);
    assert_eq!(catalogue_sha256(&active.toml), stored.sha256);
}
