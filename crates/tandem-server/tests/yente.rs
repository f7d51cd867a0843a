//! The yente-compatible API over real HTTP, on SQLite and PostgreSQL, against the real UN and
//! OFAC lists imported through tandem-ingest: requests and responses in exactly the shapes a
//! yente client sends and reads them; bad input; authentication and roles; decisions (stored,
//! audited, applied, re-opened on change); batch jobs; monitoring alerts.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestServer, start, token_for};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_core::{Entity, Sensitivity};
use tandem_ingest::{Change, IngestError, Record};
use tandem_store::security::AuditFilter;
use tandem_store::{ImportMode, ImportRequest, ImportSummary, Store};

fn shared(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path)
}

async fn import_records(
    store: &dyn Store,
    dataset: &str,
    version: &str,
    records: impl Iterator<Item = Result<Record, IngestError>>,
) -> ImportSummary {
    let mut session = store
        .begin_import(ImportRequest {
            dataset: dataset.to_string(),
            title: None,
            version: version.to_string(),
            mode: ImportMode::Full,
            sensitivity: Sensitivity::Public,
            source: format!("test {dataset}"),
            owner_organisation: None,
        })
        .await
        .unwrap();
    for record in records {
        match record {
            Ok(Record {
                change: Change::Upsert(entity),
                ..
            }) => session.put(entity).await.unwrap(),
            Ok(Record {
                change: Change::Delete(id),
                ..
            }) => session.delete(&id).await.unwrap(),
            Err(err) if err.is_skippable() => {}
            Err(err) => panic!("{dataset}: {err}"),
        }
    }
    session.commit().await.unwrap()
}

async fn import_real_lists(store: &dyn Store) {
    let un =
        tandem_ingest::un::UnReader::open(shared("screening/un/un_consolidated_2026-02-27.xml"))
            .unwrap();
    import_records(store, "un_sc_sanctions", "2026-02-27", un).await;
    let files =
        tandem_ingest::ofac::OfacFiles::discover(&shared("screening/ofac/sdn_2024-05-03.csv"))
            .unwrap();
    let ofac = tandem_ingest::ofac::OfacReader::open(&files).unwrap();
    import_records(store, "us_ofac_sdn", "2024-05-03", ofac).await;
}

fn person(id: &str, values: &[(&str, &str)]) -> Entity {
    let mut e = Entity::new("Person", id).unwrap();
    for (p, v) in values {
        e.add(p, v).unwrap();
    }
    e
}

async fn import_small(store: &dyn Store, version: &str, entities: Vec<Entity>) -> ImportSummary {
    import_records(
        store,
        "test_watchlist",
        version,
        entities.into_iter().map(|e| {
            Ok(Record::upsert(
                e,
                tandem_ingest::Location::file("test".to_string()),
            ))
        }),
    )
    .await
}

struct Api<'a> {
    server: &'a TestServer,
    client: reqwest::Client,
    token: String,
}

impl Api<'_> {
    async fn post(
        &self,
        path: &str,
        body: &Value,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let response = self
            .client
            .post(format!("{}{path}", self.server.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value, headers)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.server.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `POST /match/{dataset}` with one query; the response of that query.
    async fn match_one(&self, path: &str, query: Value) -> Value {
        let (status, body, _) = self.post(path, &json!({"queries": {"q1": query}})).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body["responses"]["q1"].clone()
    }
}

/// Waits until the index holds at least `entities` entities (it rebuilds within seconds of a
/// new dataset version).
async fn index_ready(api: &Api<'_>, entities: u64) {
    let start = Instant::now();
    loop {
        let (status, body) = api.get("/readyz").await;
        if status == StatusCode::OK && body["entities"].as_u64().unwrap_or(0) >= entities {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "the index did not reach {entities} entities: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Waits until the index has been rebuilt from the store as it is now.
async fn index_rebuilt(api: &Api<'_>) {
    let generation = api
        .server
        .store
        .latest_version_id()
        .await
        .unwrap()
        .unwrap_or(0)
        .to_string();
    let start = Instant::now();
    loop {
        let (status, body) = api.get("/readyz").await;
        if status == StatusCode::OK && body["generation"] == generation.as_str() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no rebuild: {body}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn find<'a>(response: &'a Value, caption_part: &str) -> Option<&'a Value> {
    response["results"].as_array().unwrap().iter().find(|r| {
        r["caption"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains(&caption_part.to_lowercase())
    })
}

async fn yente_api(backend: Backend) {
    let Some(server) = start(backend).await else {
        return;
    };
    import_real_lists(server.store.as_ref()).await;
    let api = Api {
        server: &server,
        client: common::client(),
        token: token_for(&server, "analyst").await,
    };
    index_ready(&api, 10_000).await;

    // --- the shape of a yente match, Libya designees across UN and OFAC --------------------
    let (status, body, headers) = api
        .post(
            "/match/default",
            &json!({"weights": {}, "queries": {"q1": {"schema": "Person",
                "properties": {"name": ["Ermias Ghermay"], "birthDate": ["1980"], "nationality": ["er"]}}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-batch-size"], "1");
    assert_eq!(body["limit"], 5);
    let q1 = &body["responses"]["q1"];
    assert_eq!(q1["status"], 200);
    assert_eq!(q1["total"]["relation"], "eq");
    assert_eq!(q1["query"]["schema"], "Person");
    assert_eq!(q1["query"]["id"], Value::Null);
    assert_eq!(q1["query"]["properties"]["name"], json!(["Ermias Ghermay"]));
    let un = find(q1, "Ermias Alem").unwrap_or_else(|| panic!("UN LYi.021 not found: {q1}"));
    let ofac = find(q1, "GHERMAY").unwrap_or_else(|| panic!("OFAC 24004 not found: {q1}"));
    for result in [un, ofac] {
        for field in [
            "id",
            "caption",
            "schema",
            "properties",
            "datasets",
            "referents",
            "target",
            "first_seen",
            "last_seen",
            "last_change",
            "score",
            "match",
            "features",
            "explanations",
        ] {
            assert!(
                result.get(field).is_some(),
                "result lacks {field}: {result}"
            );
        }
        assert_eq!(result["match"], true, "{result}");
        assert!(result["score"].as_f64().unwrap() >= 0.7);
        let name = &result["explanations"]["name_match"];
        for field in ["score", "detail", "query", "candidate"] {
            assert!(
                name.get(field).is_some(),
                "name_match lacks {field}: {name}"
            );
        }
        assert!(!result["first_seen"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(un["datasets"], json!(["un_sc_sanctions"]));
    assert_eq!(ofac["datasets"], json!(["us_ofac_sdn"]));
    assert!(q1["total"]["value"].as_u64().unwrap() >= 2);

    // The press spelling finds KOSHLAF; several queries in one request keep their keys.
    let (status, body, headers) = api
        .post(
            "/match/default",
            &json!({"queries": {
                "kachlaf": {"schema": "Person", "properties": {"name": "Mohammed Kachlaf"}},
                "grein": {"id": "mine-1", "schema": "Person", "properties": {"name": ["Mus’ab Abu Qarin"]}},
                // The OFAC record shares the passport, not the name (its alias is in a later alt.csv).
                "dabbashi": {"schema": "Person", "properties": {"name": ["Ahmad Oumar Imhamad al-Fitouri"], "passportNumber": ["LY53FP76"]}},
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-batch-size"], "3");
    let responses = &body["responses"];
    assert!(
        find(&responses["kachlaf"], "KOSHLAF").is_some_and(|r| r["match"] == true),
        "{}",
        responses["kachlaf"]
    );
    assert!(
        find(&responses["grein"], "GREIN").is_some_and(|r| r["match"] == true),
        "{}",
        responses["grein"]
    );
    assert_eq!(responses["grein"]["query"]["id"], "mine-1");
    let dabbashi = find(&responses["dabbashi"], "DABBASHI")
        .unwrap_or_else(|| panic!("{}", responses["dabbashi"]));
    assert!(
        dabbashi["explanations"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.contains("identifier")),
        "{dabbashi}"
    );

    // One dataset only; unknown datasets are 404 with yente's `detail`.
    let only_un = api
        .match_one(
            "/match/un_sc_sanctions",
            json!({"schema": "Person", "properties": {"name": ["Ermias Ghermay"]}}),
        )
        .await;
    assert!(!only_un["results"].as_array().unwrap().is_empty());
    for r in only_un["results"].as_array().unwrap() {
        assert_eq!(r["datasets"], json!(["un_sc_sanctions"]));
    }
    let (status, body, _) = api
        .post(
            "/match/no_such_list",
            &json!({"queries": {"q1": {"schema": "Person", "properties": {"name": "A B"}}}}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["detail"].as_str().unwrap().contains("no_such_list"));

    // --- threshold, limit, cutoff, exclude_entity_ids ---------------------------------------
    let query = json!({"schema": "Person", "properties": {"name": ["Mohamed Kashlaf"]}});
    let wide = api
        .match_one(
            "/match/default?limit=20&threshold=0.5&cutoff=0.3",
            query.clone(),
        )
        .await;
    let wide_results = wide["results"].as_array().unwrap();
    assert!(wide_results.len() > 1, "{wide}");
    assert!(
        wide_results
            .iter()
            .all(|r| r["score"].as_f64().unwrap() >= 0.3)
    );
    assert!(
        wide_results
            .windows(2)
            .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64())
    );
    for r in wide_results {
        assert_eq!(r["match"], r["score"].as_f64().unwrap() >= 0.5, "{r}");
    }
    let one = api.match_one("/match/default?limit=1", query.clone()).await;
    assert_eq!(one["results"].as_array().unwrap().len(), 1);
    let top = one["results"][0]["id"].as_str().unwrap().to_string();
    let strict = api
        .match_one("/match/default?threshold=0.999&limit=10", query.clone())
        .await;
    assert!(
        strict["total"]["value"].as_u64().unwrap()
            < wide["total"]["value"].as_u64().unwrap().max(1)
    );
    assert!(
        strict["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["match"] == (r["score"].as_f64().unwrap() >= 0.999))
    );
    let excluded = api
        .match_one(
            &format!("/match/default?exclude_entity_ids={top}&exclude_entity_ids=other"),
            query.clone(),
        )
        .await;
    assert!(
        excluded["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != top.as_str()),
        "{excluded}"
    );

    // --- bad input: 400 problems that name the field ----------------------------------------
    let many: serde_json::Map<String, Value> = (0..101)
        .map(|i| {
            (
                format!("q{i}"),
                json!({"schema": "Person", "properties": {"name": ["A B"]}}),
            )
        })
        .collect();
    let long = "x".repeat(10_000);
    for (path, body, status, field) in [
        ("/match/default", json!({"queries": many}), 400, "queries"),
        ("/match/default", json!({"queries": {}}), 400, "queries"),
        (
            "/match/default",
            json!({"queries": {"q1": {"schema": "Person", "properties": {"name": ["   "]}}}}),
            400,
            "queries.q1.properties.name",
        ),
        (
            "/match/default",
            json!({"queries": {"q1": {"schema": "Person", "properties": {"name": [long]}}}}),
            400,
            "queries.q1.properties.name",
        ),
        (
            "/match/default",
            json!({"queries": {"q1": {"schema": "Person", "properties": {"name": ["A B"], "birthDate": ["1980-13-45"]}}}}),
            400,
            "queries.q1.properties.birthDate",
        ),
        (
            "/match/default",
            json!({"queries": {"q1": {"schema": "Planet", "properties": {"name": ["A B"]}}}}),
            400,
            "queries.q1.schema",
        ),
        (
            "/match/default",
            json!({"queries": {"q1": {"properties": {"name": ["A B"]}}}}),
            422,
            "queries.q1.schema",
        ),
        (
            "/match/default",
            json!({"config": {"no_such_key": 1}, "queries": {"q1": {"schema": "Person", "properties": {"name": ["A B"]}}}}),
            400,
            "config.no_such_key",
        ),
        (
            "/match/default?limit=501",
            json!({"queries": {"q1": {"schema": "Person", "properties": {"name": ["A B"]}}}}),
            400,
            "limit",
        ),
        (
            "/match/default?algorithm=nope",
            json!({"queries": {"q1": {"schema": "Person", "properties": {"name": ["A B"]}}}}),
            400,
            "algorithm",
        ),
    ] {
        let (got, problem, _) = api.post(path, &body).await;
        assert_eq!(got.as_u16(), status, "{path} {field}: {problem}");
        assert_eq!(problem["field"], field, "{problem}");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }

    // --- authentication and roles -----------------------------------------------------------
    let body = json!({"queries": {"q1": {"schema": "Person", "properties": {"name": ["Ermias Ghermay"]}}}});
    let anonymous = api
        .client
        .post(format!("{}/match/default", server.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let viewer = Api {
        server: &server,
        client: common::client(),
        token: token_for(&server, "viewer").await,
    };
    let (status, _, _) = viewer.post("/match/default", &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = viewer.get("/search/default?q=KOSHLAF").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let caseworker = Api {
        server: &server,
        client: common::client(),
        token: token_for(&server, "caseworker").await,
    };
    let (status, _, _) = caseworker.post("/match/default", &body).await;
    assert_eq!(status, StatusCode::OK);

    // --- search and entities ----------------------------------------------------------------
    let (status, search) = api.get("/search/default?q=KOSHLAF&limit=5").await;
    assert_eq!(status, StatusCode::OK, "{search}");
    assert_eq!(search["limit"], 5);
    assert_eq!(search["offset"], 0);
    assert!(search["total"]["value"].as_u64().unwrap() >= 1);
    let koshlaf = find(&search, "KOSHLAF")
        .unwrap_or_else(|| panic!("{search}"))
        .clone();
    assert!(
        search["facets"]["datasets"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["name"] == "us_ofac_sdn")
    );
    let (status, _) = api.get("/search/nope?q=KOSHLAF").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, problem) = api.get("/search/default?q=x&filter=nocolon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "filter");
    let id = koshlaf["id"].as_str().unwrap();
    let (status, entity) = api.get(&format!("/entities/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{entity}");
    assert_eq!(entity["id"], id);
    let sanctions = entity["properties"]["sanctions"]
        .as_array()
        .unwrap_or_else(|| panic!("no nested sanctions: {entity}"));
    assert!(
        sanctions
            .iter()
            .any(|s| s["schema"] == "Sanction" && s["properties"].is_object())
    );
    let (_, flat) = api.get(&format!("/entities/{id}?nested=false")).await;
    assert!(flat["properties"].get("sanctions").is_none());
    let (status, _) = api.get("/entities/no-such-entity").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = viewer.get(&format!("/entities/{id}")).await;
    assert_eq!(status, StatusCode::OK, "viewers read public entities");
    // Adjacent pages: every property at once, and one property paged.
    let (status, adjacent) = api.get(&format!("/entities/{id}/adjacent")).await;
    assert_eq!(status, StatusCode::OK, "{adjacent}");
    assert_eq!(adjacent["entity"]["id"], id);
    assert!(adjacent["entity"]["properties"].get("sanctions").is_none());
    let page = &adjacent["adjacent"]["sanctions"];
    let sanctions_total = page["total"]["value"].as_u64().unwrap();
    assert_eq!(sanctions_total as usize, sanctions.len(), "{adjacent}");
    assert_eq!(page["results"][0]["schema"], "Sanction");
    let (status, one) = api
        .get(&format!(
            "/entities/{id}/adjacent/sanctions?limit=1&offset=0"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["limit"], 1);
    assert_eq!(one["total"]["value"], sanctions_total);
    assert_eq!(one["results"].as_array().unwrap().len(), 1);
    let (_, past_end) = api
        .get(&format!(
            "/entities/{id}/adjacent/sanctions?offset={sanctions_total}"
        ))
        .await;
    assert_eq!(past_end["results"], json!([]));
    let (status, problem) = api
        .get(&format!("/entities/{id}/adjacent/noSuchProperty"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["field"], "property_name");
    let (status, _) = api.get("/entities/no-such-entity/adjacent").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Catalogue, manifest, health and re-index.
    let (status, catalog) = api.get("/catalog").await;
    assert_eq!(status, StatusCode::OK, "{catalog}");
    let sdn = catalog["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "us_ofac_sdn")
        .unwrap_or_else(|| panic!("no SDN in {catalog}"));
    assert!(sdn["entity_count"].as_u64().unwrap() > 14_000, "{sdn}");
    assert!(sdn["updated_at"].as_str().is_some(), "{sdn}");
    let (status, manifest) = api.get("/manifest").await;
    assert_eq!(status, StatusCode::OK, "{manifest}");
    assert!(
        manifest["collections"][0]["children"]
            .as_array()
            .unwrap()
            .contains(&json!("un_sc_sanctions")),
        "{manifest}"
    );
    let (status, health) = api.get("/healthz").await;
    assert_eq!((status, &health["status"]), (StatusCode::OK, &json!("ok")));
    let (status, updated, _) = api.post("/updatez", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert!(updated["entities"].as_u64().unwrap() > 14_000, "{updated}");
    let (_, catalog) = api.get("/catalog").await;
    assert_eq!(catalog["index_stale"], false, "{catalog}");
    let (status, viewer_update, _) = viewer.post("/updatez", &json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{viewer_update}");

    // --- decisions: stored, audited, applied, re-opened on change ---------------------------
    let zarko = person("tw-zarko", &[("name", "Zarko Vlatkovic Testperson")]);
    import_small(server.store.as_ref(), "v1", vec![zarko.clone()]).await;
    index_rebuilt(&api).await;
    let subject = json!({"schema": "Person", "properties": {"name": ["Zarko Vlatkovic"]}});
    let first = api.match_one("/match/default", subject.clone()).await;
    assert!(find(&first, "Zarko").is_some(), "{first}");
    let (status, decision, _) = api
        .post(
            "/api/v1/screening/decisions",
            &json!({"query": subject, "entity_id": "tw-zarko", "decision": "false_positive",
                    "reason": "our Zarko was born in 1999 in Split"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{decision}");
    assert_eq!(decision["decision"]["username"], "analyst");
    let audited = server
        .store
        .audit_entries(&AuditFilter {
            action_prefix: Some("screening.decision".into()),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(
        audited
            .iter()
            .any(|e| e.entry.target.as_deref() == Some("tw-zarko"))
    );
    // The same subject typed differently is the same query: the pair stays hidden.
    let again = api
        .match_one(
            "/match/default",
            json!({"schema": "Person", "properties": {"name": ["  zarko   VLATKOVIC "]}}),
        )
        .await;
    assert!(
        find(&again, "Zarko").is_none(),
        "dismissed pair shown: {again}"
    );
    // Another organisation's analysts are not bound by it.
    let other_org = Api {
        server: &server,
        client: common::client(),
        token: token_for(&server, "caseworker-b").await,
    };
    assert!(
        find(
            &other_org.match_one("/match/default", subject.clone()).await,
            "Zarko"
        )
        .is_some()
    );
    // A change of birth date re-opens it.
    let mut changed = zarko.clone();
    changed.add("birthDate", "1971-03-02").unwrap();
    import_small(server.store.as_ref(), "v2", vec![changed]).await;
    index_rebuilt(&api).await;
    let reopened = api.match_one("/match/default", subject.clone()).await;
    let hit = find(&reopened, "Zarko").unwrap_or_else(|| panic!("not re-opened: {reopened}"));
    assert_eq!(hit["decision"]["reopened"], true);

    // --- monitoring: a new version that adds a matching entity raises one alert -------------
    let watched = json!({"schema": "Person", "properties": {"name": ["Amadou Testman Kourouma"]}});
    let nothing = api.match_one("/match/default", watched.clone()).await;
    assert!(find(&nothing, "Kourouma").is_none());
    // Screened subjects are stored off the request path.
    let start_wait = Instant::now();
    loop {
        let stored = server.store.screening_queries(0, 1000).await.unwrap();
        if stored
            .iter()
            .any(|q| q.query.to_string().contains("Kourouma"))
        {
            break;
        }
        assert!(
            start_wait.elapsed() < Duration::from_secs(20),
            "the screening query was not stored"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Versions are timed to the second: v3 must come after v2 for `changed_since` below.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let summary = import_small(
        server.store.as_ref(),
        "v3",
        vec![
            person(
                "tw-zarko",
                &[
                    ("name", "Zarko Vlatkovic Testperson"),
                    ("birthDate", "1971-03-02"),
                ],
            ),
            person(
                "tw-kourouma",
                &[("name", "KOUROUMA, Amadou Testman"), ("nationality", "gn")],
            ),
        ],
    )
    .await;
    assert_eq!(summary.added, 1);

    // --- last_change and changed_since: v3 kept Zarko as v2 left him and added Kourouma -----
    index_rebuilt(&api).await;
    let versions = server.store.versions("test_watchlist").await.unwrap();
    let (v2_at, v3_at) = (&versions[1].imported_at, &versions[2].imported_at);
    assert!(v2_at < v3_at, "{versions:?}");
    let (_, zarko_now) = api.get("/entities/tw-zarko").await;
    assert_eq!(zarko_now["last_change"], v2_at.as_str(), "{zarko_now}");
    assert_eq!(zarko_now["last_seen"], v3_at.as_str(), "{zarko_now}");
    let both = json!({"queries": {
        "z": {"schema": "Person", "properties": {"name": ["Zarko Vlatkovic"]}},
        "k": {"schema": "Person", "properties": {"name": ["Amadou Testman Kourouma"]}}}});
    let (status, since_v3, _) = api
        .post(&format!("/match/default?changed_since={v3_at}"), &both)
        .await;
    assert_eq!(status, StatusCode::OK, "{since_v3}");
    assert!(
        find(&since_v3["responses"]["k"], "Kourouma").is_some(),
        "{since_v3}"
    );
    assert!(
        find(&since_v3["responses"]["z"], "Zarko").is_none(),
        "{since_v3}"
    );
    let day = &v2_at[..10];
    let (_, since_day, _) = api
        .post(&format!("/match/default?changed_since={day}"), &both)
        .await;
    assert!(
        find(&since_day["responses"]["z"], "Zarko").is_some(),
        "{since_day}"
    );
    let (_, searched) = api
        .get(&format!("/search/default?q=Zarko&changed_since={v3_at}"))
        .await;
    assert_eq!(searched["total"]["value"], 0, "{searched}");
    let (_, searched) = api
        .get(&format!("/search/default?q=Kourouma&changed_since={v3_at}"))
        .await;
    assert!(find(&searched, "Kourouma").is_some(), "{searched}");
    for bad in [
        "2024-13-01",
        "yesterday",
        "2024-05-03T25",
        "2024-05-03T10:61",
    ] {
        let (status, problem, _) = api
            .post(&format!("/match/default?changed_since={bad}"), &both)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {problem}");
        assert_eq!(problem["field"], "changed_since");
    }
    let report = tandem_server::monitor::after_import(server.store.as_ref(), &summary)
        .await
        .unwrap()
        .expect("a public list version is monitored");
    assert_eq!(report.changed_entities, 1);
    assert!(report.new_alerts >= 1, "{report:?}");
    let job = server.store.job(report.job_id).await.unwrap().unwrap();
    assert_eq!(job.state, tandem_store::JobState::Done);
    assert_eq!(job.done, report.subjects);
    let (status, alerts) = api.get("/api/v1/alerts").await;
    assert_eq!(status, StatusCode::OK);
    let alert = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["entity_id"] == "tw-kourouma")
        .unwrap_or_else(|| panic!("{alerts}"));
    assert!(alert["score"].as_f64().unwrap() >= 0.7);
    assert!(
        alert["subject"]
            .to_string()
            .contains("Amadou Testman Kourouma")
    );
    // The alerts page lists it for people.
    let (status, page) = api.get("/alerts").await;
    assert_eq!(status, StatusCode::OK);
    let page = page.as_str().unwrap_or_default().to_string();
    assert!(
        page.contains("/entity/tw-kourouma") && page.contains("Amadou Testman Kourouma"),
        "{page}"
    );
    // Run again: nothing new.
    let again = tandem_server::monitor::after_import(server.store.as_ref(), &summary)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.new_alerts, 0);
    let (status, viewer_alerts) = viewer.get("/api/v1/alerts").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{viewer_alerts}");

    // --- batch screening as a job ------------------------------------------------------------
    let csv = "name,schema,birth_date,country,id_number,case_ref\n\
               Mohammed Kachlaf,Person,1985,ly,,A-1\n\
               Ermias Ghermay,Person,,,,A-2\n\
               Nobody Atall Matchesme,Person,,,,A-3\n";
    let response = api
        .client
        .post(format!("{}/api/v1/screening/batch", server.base))
        .bearer_auth(&api.token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let started: Value = response.json().await.unwrap();
    let job_id = started["job"].as_i64().unwrap();
    let start_wait = Instant::now();
    let status = loop {
        let (_, status) = api.get(&format!("/api/v1/screening/batch/{job_id}")).await;
        if status["job"]["state"] == "done" {
            break status;
        }
        assert_ne!(status["job"]["state"], "failed", "{status}");
        assert!(start_wait.elapsed() < Duration::from_secs(60), "{status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status["job"]["done"], 3);
    let rows = status["results"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["input"]["case_ref"], "A-1");
    assert!(find(&rows[0]["result"], "KOSHLAF").is_some(), "{}", rows[0]);
    assert_eq!(rows[2]["result"]["total"], 0);
    let bad = api
        .client
        .post(format!("{}/api/v1/screening/batch", server.base))
        .bearer_auth(&api.token)
        .header("content-type", "text/csv")
        .body("name,birth_date\nA B,1980\nC D,not-a-date\n")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["field"], "line 3.birth_date", "{problem}");

    // --- an interrupted batch job resumes when a server starts, keeping finished rows --------
    let analyst = server.store.user_by_name("analyst").await.unwrap().unwrap();
    let job = server
        .store
        .create_job(
            tandem_server::screening_web::BATCH_JOB,
            json!({"user_id": analyst.id, "organisation_id": analyst.organisation_id, "username": "analyst", "rows": 2}),
        )
        .await
        .unwrap();
    server
        .store
        .put_batch_rows(
            job.id,
            &[
                json!({"name": "Mohammed Kachlaf", "schema": "Person"}),
                json!({"name": "Ermias Ghermay"}),
            ],
        )
        .await
        .unwrap();
    server
        .store
        .set_batch_results(job.id, &[(0, json!({"total": 99, "kept": true}))])
        .await
        .unwrap();
    server
        .store
        .update_job(job.id, 1, Some(2), None)
        .await
        .unwrap();
    server
        .store
        .finish_job(job.id, tandem_store::JobState::Interrupted, None)
        .await
        .unwrap();
    let restarted = common::state(&server);
    restarted.screening.start(server.store.clone());
    let start_wait = Instant::now();
    loop {
        let job = server.store.job(job.id).await.unwrap().unwrap();
        if job.state == tandem_store::JobState::Done {
            assert_eq!(job.done, 2);
            break;
        }
        assert!(
            start_wait.elapsed() < Duration::from_secs(120),
            "not resumed: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rows = server.store.batch_rows(job.id, 0, 10, false).await.unwrap();
    assert_eq!(
        rows[0].result,
        Some(json!({"total": 99, "kept": true})),
        "a finished row is kept"
    );
    let second = rows[1].result.clone().unwrap();
    assert!(
        find(&second, "GHERMAY").is_some() || find(&second, "Ermias").is_some(),
        "{second}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yente_api_sqlite() {
    yente_api(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yente_api_postgres() {
    yente_api(Backend::Postgres).await;
}
