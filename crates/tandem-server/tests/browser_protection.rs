//! The protection pages in a real headless Chromium: a case worker completes a screening
//! interview on a phone-sized window and sees the result; an analyst sees only aggregates.

mod common;

use common::browser::{Browser, driver};
use common::{Backend, PASSWORD, TestServer, start, token_for};

async fn sign_in(browser: &Browser<'_>, server: &TestServer, username: &str) {
    browser.sign_in(&server.base, username, PASSWORD).await;
    browser.find("header.top nav").await;
}

fn screenshots() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The page fits the window: nothing to scroll sideways on a phone. Names the elements that
/// reach past the page's content box when something does.
async fn fits(browser: &Browser<'_>, what: &str) {
    let report = browser
        .script(
            "const w = document.documentElement.clientWidth;
             if (document.documentElement.scrollWidth <= w) return '';
             return [...document.querySelectorAll('main *')]
                .filter(e => e.getBoundingClientRect().right > w - 16 + 1)
                .slice(0, 5)
                .map(e => e.tagName + '#' + e.id + '.' + e.className)
                .join(', ') + ' reach past ' + w + 'px';",
        )
        .await;
    assert_eq!(report.as_str(), Some(""), "{what} scrolls sideways");
}

async fn step(browser: &Browser<'_>, expected: &str) {
    browser.find("#step-title").await;
    let title = browser.text("#step-title").await;
    assert_eq!(title, expected);
}

async fn next(browser: &Browser<'_>, following: &str) {
    browser.click("#next").await;
    browser
        .wait_for(
            &format!(
                "const t = document.querySelector('#step-title'); return !!t && t.textContent === {following:?}"
            ),
            following,
        )
        .await;
}

#[tokio::test]
async fn a_caseworker_completes_an_interview_on_a_phone() {
    let Some(driver) = driver().await else { return };
    let server = start(Backend::Sqlite).await.unwrap();
    let browser = driver.browser(390, 844).await;
    sign_in(&browser, &server, "caseworker").await;
    browser.goto(&format!("{}/cases", server.base)).await;
    browser.click("#start-interview").await;

    // 1. Before: the interpreter is noted.
    step(&browser, "Before you start").await;
    assert!(browser.text("#step-counter").await.starts_with("Step 1 of"));
    assert!(browser.text("#quick-exit").await.contains("Quick exit"));
    fits(&browser, "the first step").await;
    let unlabelled = browser
        .script(
            "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(e => !(e.labels && e.labels.length) && !e.closest('fieldset')).length",
        )
        .await;
    assert_eq!(unlabelled.as_u64(), Some(0), "every control has a label");
    browser.click("#before_interpreter_used").await;
    browser
        .type_into("#before_interpreter_language", "Edo")
        .await;
    next(&browser, "Consent").await;

    // 2. Consent first: without it the flow stops and nothing is stored.
    browser.click("#next").await;
    let error = browser.text("#interview-error").await;
    assert!(error.contains("Consent is needed"), "{error}");
    assert!(server.store.cases(None).await.unwrap().is_empty());
    browser.click("#consent_interview").await;
    browser.click("#consent_storage").await;
    next(&browser, "Immediate needs").await;

    // 3. Immediate needs before any account.
    browser.click("label[for='needs_immediate-rest']").await;
    next(&browser, "Life before leaving").await;

    // 4. The account, with a break in the middle that keeps what was entered.
    assert!(
        browser
            .text("#prompts")
            .await
            .contains("your life before you left")
    );
    browser.type_into("#age_at_start", "24").await;
    browser.click("#take-break").await;
    assert!(browser.text("#pause").await.contains("Paused"));
    fits(&browser, "the pause screen").await;
    browser.click("#resume").await;
    step(&browser, "Life before leaving").await;
    let age = browser
        .script("return document.querySelector('#age_at_start').value")
        .await;
    assert_eq!(age.as_str(), Some("24"), "the break kept the answer");
    next(&browser, "How it started").await;
    browser.click("label[for='ind_DR-01-yes']").await;
    browser.click("label[for='ind_DR-08-yes']").await;
    fits(&browser, "a coding step").await;
    next(&browser, "The journey").await;
    next(&browser, "Work and living").await;
    browser.click("label[for='exploitation-labour']").await;
    browser.click("label[for='ind_EX-01-yes']").await;
    browser.click("label[for='ind_EX-04-yes']").await;
    next(&browser, "Leaving and contact with others").await;
    browser.click("label[for='ind_CD-01-yes']").await;
    browser.click("label[for='ind_CD-03-yes']").await;
    browser
        .screenshot(&screenshots().join("interview-phone.png"))
        .await;
    next(&browser, "How it ended").await;
    next(&browser, "Options and support").await;
    next(&browser, "Closing").await;
    browser.click("#breaks_offered").await;
    browser.click("#finish").await;

    // The result: each dimension with the indicators that counted, never a legal label.
    browser.find("#result").await;
    let outcome = browser.text("#outcome-AL").await;
    assert!(outcome.contains("consistent with trafficking"), "{outcome}");
    assert!(!outcome.to_lowercase().contains("victim"), "{outcome}");
    assert!(browser.text("#dim-AL-D1").await.contains("DR-01"));
    assert!(browser.text("#dim-AL-D4").await.contains("EX-01"));
    assert!(browser.text("#dim-AL-D5").await.contains("CD-03"));
    let referral = browser.text("#referral-offer").await;
    assert!(
        referral.contains("whether or not the person cooperates"),
        "{referral}"
    );
    assert!(browser.text("#result-notice").await.contains("never show"));
    fits(&browser, "the result").await;
    browser
        .screenshot(&screenshots().join("interview-result-phone.png"))
        .await;

    // Stored: one case of the worker's organisation, with consent and the interpreter noted.
    let cases = server.store.cases(None).await.unwrap();
    assert_eq!(cases.len(), 1);
    let file = server.store.case_file(&cases[0].id).await.unwrap().unwrap();
    assert!(file.has_consent("interview") && file.has_consent("storage"));
    assert_eq!(
        file.case.details["interview"]["interpreter_language"],
        "Edo"
    );
    assert_eq!(file.assessments.len(), 1);
    assert!(browser.url().await.ends_with(&format!(
        "/cases/{}/assessments/{}",
        cases[0].id, file.assessments[0].id
    )));
    // The case page: consent before referral, on the phone too.
    browser
        .goto(&format!("{}/cases/{}", server.base, cases[0].id))
        .await;
    browser.find("#referral-needs-consent").await;
    fits(&browser, "the case page").await;
    browser.click("#referral-form button").await;
    let refused = browser.text("#case-error").await;
    assert!(refused.contains("referral consent"), "{refused}");
    browser
        .screenshot(&screenshots().join("case-phone.png"))
        .await;
    browser.close().await;
}

#[tokio::test]
async fn an_analyst_sees_only_aggregates() {
    let Some(driver) = driver().await else { return };
    let server = start(Backend::Sqlite).await.unwrap();
    // A case exists, made by a case worker through the API.
    let worker = token_for(&server, "caseworker").await;
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/cases", server.base))
        .bearer_auth(&worker)
        .json(&serde_json::json!({"responses": {
            "consent_interview": "yes", "consent_storage": "yes", "needs_immediate": "none",
            "age_in_doubt": "yes"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["case_id"].as_str().unwrap().to_string();

    let browser = driver.browser(1280, 900).await;
    sign_in(&browser, &server, "analyst").await;
    let nav = browser.text("header.top nav").await;
    assert!(nav.contains("Aggregates"), "{nav}");
    assert!(!nav.contains("Cases"), "{nav}");
    browser.goto(&format!("{}/aggregates", server.base)).await;
    assert!(
        browser
            .text("#aggregates-rule")
            .await
            .contains("at least 11")
    );
    browser.find("#aggregates-empty").await;
    assert!(browser.text("#export-ctdc").await.contains("CTDC"));
    for page in [
        "/cases".to_string(),
        format!("/cases/{id}"),
        "/cases/interview".to_string(),
        format!("/cases/{id}/testimony"),
    ] {
        browser.goto(&format!("{}{page}", server.base)).await;
        let error = browser.text("#error-page").await;
        assert!(error.contains("Not allowed"), "{page}: {error}");
    }
    browser
        .screenshot(&screenshots().join("aggregates-analyst.png"))
        .await;
    browser.close().await;
}
