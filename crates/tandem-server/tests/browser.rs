//! The web UI in a real headless Chromium: sign in, search, open an entity and see its network,
//! refusals for viewers, lockout, keyboard use.

mod common;

use common::browser::{Browser, driver};
use common::{Backend, PASSWORD, TestServer, start};
use futures::TryStreamExt;

async fn sign_in(browser: &Browser<'_>, server: &TestServer, username: &str, password: &str) {
    browser.sign_in(&server.base, username, password).await;
}

/// A sanctioned demo organiser: a name to search for that has relations.
async fn demo_actor(server: &TestServer) -> (String, String) {
    let mut entities = server.store.entities(Some("tandem_demo"));
    while let Some(stored) = entities.try_next().await.unwrap() {
        let e = &stored.entity;
        if e.schema == "Person"
            && e.first("tandem:role") == Some("organiser")
            && e.sensitivity == tandem_core::Sensitivity::Public
        {
            return (e.id.clone(), e.caption().to_string());
        }
    }
    panic!("the demo has no public organiser");
}

fn screenshots() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn analyst_searches_opens_an_entity_and_sees_its_network() {
    let Some(driver) = driver().await else { return };
    let server = start(Backend::Sqlite).await.unwrap();
    let (id, caption) = demo_actor(&server).await;
    let browser = driver.browser(1280, 900).await;

    sign_in(&browser, &server, "analyst", PASSWORD).await;
    browser.find("#datasets").await;
    assert!(browser.source().await.contains("tandem_demo"));

    let surname = caption.split_whitespace().last().unwrap().to_string();
    browser.type_into("#q", &surname).await;
    browser.click("form[role=search] button").await;
    browser.find("#results").await;
    let results = browser.text("#results").await;
    assert!(
        results.contains(&caption),
        "{caption} not in results: {results}"
    );

    browser.click(&format!("a[href='/entity/{id}']")).await;
    browser.find("#network").await;
    assert!(browser.url().await.ends_with(&format!("/entity/{id}")));
    assert!(browser.text("h1").await.contains(&caption));
    browser
        .wait_for(
            "return document.querySelector('#network').dataset.graphReady === 'true'",
            "the network picture",
        )
        .await;
    let nodes = browser
        .script("return Number(document.querySelector('#network').dataset.graphNodes)")
        .await;
    assert!(
        nodes.as_f64().unwrap() >= 2.0,
        "an organiser has ties: {nodes}"
    );
    let drawn = browser
        .script("return document.querySelectorAll('#network canvas').length")
        .await;
    assert!(drawn.as_u64().unwrap() > 0, "cytoscape drew on a canvas");
    browser.screenshot(&screenshots().join("entity.png")).await;
    browser.close().await;
}

#[tokio::test]
async fn a_viewer_is_refused_the_admin_pages() {
    let Some(driver) = driver().await else { return };
    let server = start(Backend::Sqlite).await.unwrap();
    let browser = driver.browser(1280, 900).await;
    sign_in(&browser, &server, "viewer", PASSWORD).await;
    browser.find("#datasets").await;
    assert!(!browser.source().await.contains("href=\"/admin/users\""));
    for page in ["/admin/users", "/admin/audit"] {
        browser.goto(&format!("{}{page}", server.base)).await;
        let error = browser.text("#error-page").await;
        assert!(error.contains("Not allowed"), "{page}: {error}");
    }
    // An administrator sees them.
    let admin = driver.browser(1280, 900).await;
    sign_in(&admin, &server, "admin", PASSWORD).await;
    // The sign-in's redirect must land before the next page is asked for, or the session
    // cookie may not be set yet.
    admin.find("#datasets").await;
    admin.goto(&format!("{}/admin/audit", server.base)).await;
    assert!(admin.text("#audit-verification").await.contains("intact"));
    assert!(admin.text("#audit").await.contains("permission.denied"));
    admin.goto(&format!("{}/admin/users", server.base)).await;
    assert!(admin.text("#users").await.contains("viewer"));
    browser.close().await;
    admin.close().await;
}

#[tokio::test]
async fn six_wrong_passwords_lock_the_account() {
    let Some(driver) = driver().await else { return };
    let server = start(Backend::Sqlite).await.unwrap();
    let browser = driver.browser(1280, 900).await;
    for _ in 0..6 {
        sign_in(&browser, &server, "analyst", "not the password at all").await;
        assert!(
            browser
                .text("#login-error")
                .await
                .contains("Wrong user name or password")
                || browser.text("#login-error").await.contains("locked")
        );
    }
    sign_in(&browser, &server, "analyst", PASSWORD).await;
    let message = browser.text("#login-error").await;
    assert!(message.contains("locked until"), "{message}");
    browser.close().await;
}

#[tokio::test]
async fn keyboard_users_reach_the_content_first() {
    let Some(driver) = driver().await else { return };
    let server = start(Backend::Sqlite).await.unwrap();
    let browser = driver.browser(390, 844).await;
    sign_in(&browser, &server, "analyst", PASSWORD).await;
    browser.find("#datasets").await;
    let first = browser.tab(1).await;
    assert_eq!(first.as_str(), Some("Skip to content"));
    // Every form control has a label.
    let unlabelled = browser
        .script(
            "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length",
        )
        .await;
    assert_eq!(unlabelled.as_u64(), Some(0));
    browser
        .screenshot(&screenshots().join("dashboard-phone.png"))
        .await;
    browser.close().await;
}
