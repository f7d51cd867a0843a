//! Testimony intelligence in a real headless Chromium: a protection officer confirms an actor
//! mention as a new actor, sees it held back from analysts, records a re-identification
//! review, and the analyst then finds the actor's page.

mod common;

use common::browser::driver;
use common::{Backend, PASSWORD, start, token_for};
use serde_json::json;

#[tokio::test]
async fn a_protection_officer_confirms_and_reviews_an_actor() {
    let Some(driver) = driver().await else { return };
    let server = start(Backend::Sqlite).await.unwrap();
    let token = token_for(&server, "caseworker").await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{}{path}", server.base))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let created: serde_json::Value = post(
        "/api/v1/cases",
        json!({"responses": {"consent_interview": "yes", "consent_storage": "yes",
            "needs_immediate": "rest", "before_interpreter_used": "no",
            "age_at_start": "30", "exploitation": "labour", "ind_DR-01": "yes",
            "ind_EX-01": "yes", "ind_CD-01": "yes"}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let case = created["case_id"].as_str().unwrap().to_string();
    post(
        &format!("/api/v1/cases/{case}/consents"),
        json!({"scope": "intelligence", "given": true}),
    )
    .await
    .unwrap();
    let coded = post(
        &format!("/api/v1/cases/{case}/testimonies"),
        json!({"speaker_name": "Hidden Speakername", "coding": {"source_type": "returnee",
            "actors": [{"role": "Smuggler", "aliases": ["Alhaji Browsertest"]}]}}),
    )
    .await
    .unwrap();
    assert_eq!(coded.status(), 201);

    let browser = driver.browser(1280, 900).await;
    browser.sign_in(&server.base, "caseworker", PASSWORD).await;
    browser.find("header.top nav").await;
    browser
        .goto(&format!("{}/protection/intelligence", server.base))
        .await;
    browser.find("form.pending-mention").await;
    assert!(browser.source().await.contains("Alhaji Browsertest"));
    assert!(!browser.source().await.contains("Hidden Speakername"));
    browser
        .click("form.pending-mention button.confirm-mention")
        .await;
    browser.find("#intel-actor").await;
    assert_eq!(browser.text("#testimony-count").await, "1");
    assert!(browser.text("#guard-state").await.contains("held back"));
    let actor = browser.url().await.rsplit('/').next().unwrap().to_string();
    browser
        .type_into("#reason", "common smuggler nickname on this route")
        .await;
    browser.click("#review-form button[type=submit]").await;
    browser.find("#review").await;
    assert_eq!(browser.text("#guard-state").await, "shown to analysts");
    browser.close().await;

    let analyst = driver.browser(1280, 900).await;
    analyst.sign_in(&server.base, "analyst", PASSWORD).await;
    analyst.find("header.top nav").await;
    analyst
        .goto(&format!("{}/entity/{actor}", server.base))
        .await;
    analyst.find("main").await;
    let page = analyst.source().await;
    assert!(page.contains("Alhaji Browsertest"), "{page}");
    assert!(!page.contains("Hidden Speakername"));
    analyst.close().await;
}
