//! The screening page in a real headless Chromium: an analyst screens a demo name, reads the
//! explanation, marks a result as a false positive (htmx, CSRF), sees it dismissed on the next
//! screening, and screens a CSV file as a job with progress and a download.

mod common;

use std::time::{Duration, Instant};

use common::browser::{Browser, driver};
use common::{Backend, PASSWORD, TestServer, start};
use futures::TryStreamExt;
use tandem_store::screening::DecisionKind;

async fn sign_in(browser: &Browser<'_>, server: &TestServer, username: &str) {
    browser.sign_in(&server.base, username, PASSWORD).await;
    browser.find("header.top nav").await;
}

/// A public demo person to screen.
async fn demo_person(server: &TestServer) -> (String, String) {
    let mut entities = server.store.entities(Some("tandem_demo"));
    while let Some(stored) = entities.try_next().await.unwrap() {
        let e = &stored.entity;
        if e.schema == "Person"
            && e.sensitivity == tandem_core::Sensitivity::Public
            && e.caption().split_whitespace().count() >= 2
        {
            return (e.id.clone(), e.caption().to_string());
        }
    }
    panic!("the demo has no public person");
}

async fn index_ready(server: &TestServer) {
    let start = Instant::now();
    loop {
        let response = reqwest::get(format!("{}/readyz", server.base))
            .await
            .unwrap();
        if response.status() == 200 {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "index not ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn screenshots() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn analyst_screens_a_name_reads_the_explanation_and_dismisses_a_result() {
    let Some(driver) = driver().await else { return };
    let server = start(Backend::Sqlite).await.unwrap();
    let (id, caption) = demo_person(&server).await;
    index_ready(&server).await;
    let browser = driver.browser(1280, 1000).await;
    sign_in(&browser, &server, "analyst").await;
    browser.find("#datasets").await;
    browser.click("nav a[href='/screening']").await;
    browser.find("#screen-form").await;

    browser.type_into("#name", &caption).await;
    browser.click("#screen-form button[type=submit]").await;
    browser.find("#screen-results").await;
    let results = browser.text("#screen-results").await;
    assert!(results.contains(&caption), "{caption} not in {results}");
    // The first result is the person, with its explanation open: features and alignment.
    let first = browser
        .script("return document.querySelector('#result-0').dataset.entity")
        .await;
    assert_eq!(first.as_str(), Some(id.as_str()));
    let explanation = browser.text("#result-0 .explanation").await;
    assert!(explanation.contains("name_match"), "{explanation}");
    assert!(explanation.contains("literal"), "{explanation}");
    let parts = browser
        .script("return document.querySelectorAll('#result-0 .alignment tbody tr').length")
        .await;
    assert!(parts.as_u64().unwrap() >= 1, "alignment rows: {parts}");
    browser
        .screenshot(&screenshots().join("screening.png"))
        .await;

    // Mark it as a false positive: htmx posts the form and swaps in the decision.
    browser
        .type_into("#reason-0", "different person: born elsewhere")
        .await;
    browser
        .click("#decision-0 button[value=false_positive]")
        .await;
    browser
        .wait_for(
            "return document.querySelector('#decision-0[data-decision]') !== null",
            "the decision",
        )
        .await;
    let shown = browser.text("#decision-0").await;
    assert!(shown.contains("dismissed"), "{shown}");
    assert!(shown.contains("analyst"), "{shown}");
    let decisions = server.store.recent_decisions(10).await.unwrap();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].decision.entity_id, id);
    assert_eq!(decisions[0].decision.decision, DecisionKind::FalsePositive);

    // Screening the same name again hides it among the dismissed.
    browser.type_into("#name", "").await;
    browser.click("#screen-form button[type=submit]").await;
    browser.find("#screen-dismissed").await;
    let dismissed = browser.text("#screen-dismissed").await;
    assert!(dismissed.contains(&caption), "{dismissed}");
    let still_listed = browser
        .script(&format!(
            "return [...document.querySelectorAll('#screen-results li')].some(li => li.dataset.entity === '{id}')"
        ))
        .await;
    assert_eq!(still_listed.as_bool(), Some(false));

    // Every control is labelled.
    let unlabelled = browser
        .script(
            "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length",
        )
        .await;
    assert_eq!(unlabelled.as_u64(), Some(0));

    // A CSV file runs as a job with progress, then offers its results.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("subjects.csv");
    std::fs::write(
        &file,
        format!("name,schema,case_ref\n{caption},Person,C-1\nNobody Atall Matchesme,Person,C-2\n"),
    )
    .unwrap();
    browser
        .type_into("#file", &file.display().to_string())
        .await;
    browser
        .click("form[aria-labelledby=batch-heading] button[type=submit]")
        .await;
    browser
        .wait_for(
            "return document.querySelector('#batch-download') !== null",
            "the batch job to finish",
        )
        .await;
    let status = browser.text("#batch").await;
    assert!(status.contains("2 / 2"), "{status}");
    let href = browser
        .script("return document.querySelector('#batch-download').getAttribute('href')")
        .await;
    assert!(href.as_str().unwrap().ends_with("/results.csv"));
    browser.close().await;
}
