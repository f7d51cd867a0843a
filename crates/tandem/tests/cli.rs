//! The command line end to end, on real data: imports, versions, exports, bad input, and an
//! import killed midway.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path)
}

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn db(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("tandem.db").display())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
        command
            .current_dir(self.dir.path())
            .arg("--db")
            .arg(self.db())
            .args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "tandem {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        serde_json::from_str(&self.ok(&with_json)).unwrap()
    }

    fn stats(&self) -> Value {
        self.json(&["stats"])
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn real_sanctions_lists_import_with_the_counts_of_the_files() {
    let sandbox = Sandbox::new();
    let sdn = shared("screening/ofac/sdn_2024-05-03.csv");
    let first = sandbox.json(&["import", "ofac", p(&sdn)]);
    assert_eq!(first["dataset"], "us_ofac_sdn");
    assert_eq!(first["unchanged"], false);

    let un = shared("screening/un/un_consolidated_2026-02-27.xml");
    sandbox.json(&["import", "un", p(&un)]);

    let stats = sandbox.stats();
    let ofac = &stats["datasets"]["us_ofac_sdn"]["schemata"];
    // 14,965 SDN entries: 6,854 individuals, 851 vessels, 376 aircraft, the rest organisations.
    assert_eq!(ofac["Person"], 6854);
    assert_eq!(ofac["Organization"], 6884);
    assert_eq!(ofac["Vessel"], 851);
    assert_eq!(ofac["Airplane"], 376);
    let un_schemata = &stats["datasets"]["un_sc_sanctions"]["schemata"];
    assert_eq!(un_schemata["Person"], 730);
    assert_eq!(un_schemata["Organization"], 273);
    assert_eq!(un_schemata["Sanction"], 1003);

    // The same files again: the same version, nothing written.
    let again = sandbox.json(&["import", "ofac", p(&sdn)]);
    assert_eq!(again["unchanged"], true);
    assert_eq!(sandbox.stats(), stats);
    let versions = sandbox.json(&["datasets", "us_ofac_sdn"]);
    assert_eq!(versions.as_array().unwrap().len(), 1);

    // A Libya smuggler, with provenance on every statement.
    let entity = sandbox.json(&["entity", "unsc-LYi.021"]);
    let statements = entity["statements"].as_array().unwrap();
    assert!(statements.iter().any(|s| s["prop"] == "programId"
        && s["value"] == "LYi.021"
        && s["dataset"] == "un_sc_sanctions"));
    assert!(statements.iter().all(|s| s["first_seen"].is_string()));
}

#[test]
fn a_new_version_records_what_it_added_changed_and_removed() {
    let sandbox = Sandbox::new();
    let lines = |names: &[(&str, &str)]| {
        names
            .iter()
            .map(|(id, name)| {
                format!(r#"{{"id":"{id}","schema":"Person","properties":{{"name":["{name}"]}}}}"#)
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let v1 = sandbox.path("list.jsonl");
    std::fs::write(&v1, lines(&[("a", "Ali"), ("b", "Badr"), ("c", "Cherif")])).unwrap();
    sandbox.json(&["import", "ftm", p(&v1), "--dataset", "watch"]);
    std::fs::write(
        &v1,
        lines(&[("a", "Ali"), ("b", "Badr Omar"), ("d", "Dawit")]),
    )
    .unwrap();
    let summary = sandbox.json(&["import", "ftm", p(&v1), "--dataset", "watch"]);
    assert_eq!(
        (
            &summary["added"],
            &summary["changed"],
            &summary["removed"],
            &summary["entities"]
        ),
        (
            &Value::from(1),
            &Value::from(1),
            &Value::from(1),
            &Value::from(3)
        )
    );
    let changes = sandbox.json(&["datasets", "watch", "--changes"]);
    let mut seen: Vec<(String, String)> = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["entity_id"].as_str().unwrap().to_string(),
                c["change"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("b".to_string(), "changed".to_string()),
            ("c".to_string(), "removed".to_string()),
            ("d".to_string(), "added".to_string())
        ]
    );
    let versions = sandbox.json(&["datasets", "watch"]);
    assert_eq!(versions.as_array().unwrap().len(), 2);
}

#[test]
fn ftm_fixtures_round_trip_through_the_store() {
    for fixture in [
        "yente_zala.ftm.jsonl",
        "yente_parteispenden.ftm.jsonl",
        "yente_t1.ftm.jsonl",
    ] {
        let first = Sandbox::new();
        let path = shared(&format!("screening/ftm/fixtures/{fixture}"));
        first.json(&["import", "ftm", p(&path), "--dataset", "fixture"]);
        let exported = first.path("out.ftm.jsonl");
        first.ok(&["export", "ftm", "--dataset", "fixture", "-o", p(&exported)]);

        let second = Sandbox::new();
        second.json(&["import", "ftm", p(&exported), "--dataset", "fixture"]);
        let again = second.path("again.ftm.jsonl");
        second.ok(&["export", "ftm", "--dataset", "fixture", "-o", p(&again)]);
        assert_eq!(
            std::fs::read_to_string(&exported).unwrap(),
            std::fs::read_to_string(&again).unwrap(),
            "{fixture}: import → export → import changed the statements"
        );
        // Same entities per schema (the versions differ: they digest different files).
        assert_eq!(
            first.stats()["datasets"]["fixture"]["schemata"],
            second.stats()["datasets"]["fixture"]["schemata"]
        );
        let lines = std::fs::read_to_string(&exported).unwrap().lines().count() as u64;
        assert_eq!(
            Value::from(lines),
            first.stats()["datasets"]["fixture"]["entities"]
        );
    }
}

#[test]
fn graph_and_table_exports_are_written_whole() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["demo"]);
    for (format, file) in [
        ("graphml", "net.graphml"),
        ("gexf", "net.gexf"),
        ("csv", "entities.csv"),
        ("statements", "statements.csv"),
    ] {
        let out = sandbox.path(file);
        sandbox.ok(&["export", format, "-o", p(&out)]);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.len() > 1000, "{format} export is too small");
    }
    let graphml = std::fs::read_to_string(sandbox.path("net.graphml")).unwrap();
    assert!(graphml.contains("<graphml") && graphml.trim_end().ends_with("</graphml>"));
    // An export of an unknown dataset fails and leaves no file behind.
    let out = sandbox.path("missing.gexf");
    let failed = sandbox.run(&["export", "gexf", "--dataset", "nope", "-o", p(&out)]);
    assert!(!failed.status.success());
    assert!(!out.exists());
    let leftovers = std::fs::read_dir(sandbox.dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".partial")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn a_bad_line_stops_the_import_names_where_and_stores_nothing() {
    let sandbox = Sandbox::new();
    let good = shared("screening/ftm/fixtures/yente_t1.ftm.jsonl");
    sandbox.json(&["import", "ftm", p(&good), "--dataset", "watch"]);
    let before = sandbox.stats();

    let bad = sandbox.path("bad.jsonl");
    std::fs::write(
        &bad,
        concat!(
            r#"{"id":"x1","schema":"Person","properties":{"name":["Ali Mansour"]}}"#,
            "\n",
            r#"{"id":"x2","schema":"Person","properties":{"name":["Sara"]}}"#,
            "\n",
            r#"{"id":"x3","schema":"Person","properties":{"name":["Omar"],"birthDate":["31/02/1980"]}}"#,
            "\n",
        ),
    )
    .unwrap();
    let output = sandbox.run(&["import", "ftm", p(&bad), "--dataset", "watch"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.jsonl, line 3") && stderr.contains("birthDate"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing of it was stored"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(sandbox.stats(), before);

    // --skip-invalid keeps the good lines and reports the bad one.
    let rejects = sandbox.path("rejects.jsonl");
    let summary = sandbox.json(&[
        "import",
        "ftm",
        p(&bad),
        "--dataset",
        "other",
        "--skip-invalid",
        "--rejects",
        p(&rejects),
    ]);
    assert_eq!(summary["entities"], 2);
    assert_eq!(summary["rejected"], 1);
    let report: Value =
        serde_json::from_str(std::fs::read_to_string(&rejects).unwrap().trim()).unwrap();
    assert_eq!(report["line"], 3);
    assert_eq!(report["field"], "birthDate");
}

#[test]
fn a_truncated_un_list_is_refused_even_with_skip_invalid() {
    let sandbox = Sandbox::new();
    let text =
        std::fs::read_to_string(shared("screening/un/un_consolidated_2026-02-27.xml")).unwrap();
    let cut = sandbox.path("cut.xml");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let output = sandbox.run(&["import", "un", p(&cut), "--skip-invalid"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cut.xml, line"), "{stderr}");
    assert_eq!(sandbox.stats()["datasets"], serde_json::json!({}));
}

#[test]
fn an_import_killed_midway_leaves_the_store_as_it_was() {
    let sandbox = Sandbox::new();
    sandbox.ok(&["demo"]);
    let before = sandbox.stats();

    let big = sandbox.path("big.ftm.jsonl");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        for line in tandem_ingest::ftm::synthetic_lines(400_000, 7) {
            writeln!(file, "{line}").unwrap();
        }
    }
    let mut child = sandbox
        .command(&["import", "ftm", p(&big), "--dataset", "tandem_demo"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Let it get well into the import before killing it (SIGKILL: no cleanup runs).
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import finished in {:?}, before it could be killed; use a bigger file",
        started.elapsed()
    );
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(sandbox.stats(), before);
    // The store still works: a new version of the dataset imports normally.
    let small = sandbox.path("small.ftm.jsonl");
    let lines: Vec<String> = tandem_ingest::ftm::synthetic_lines(500, 7).collect();
    std::fs::write(&small, lines.join("\n")).unwrap();
    let summary = sandbox.json(&["import", "ftm", p(&small), "--dataset", "tandem_demo"]);
    assert_eq!(summary["entities"], 500);
}

#[test]
fn errors_are_sentences_not_panics() {
    let sandbox = Sandbox::new();
    let missing = sandbox.run(&["import", "ftm", "no-such-file.jsonl"]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("no-such-file.jsonl"), "{stderr}");
    assert!(!stderr.contains("panicked"));

    let bad_db = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .current_dir(sandbox.dir.path())
        .args(["--db", "mysql://x", "stats"])
        .output()
        .unwrap();
    assert!(!bad_db.status.success());
    assert!(String::from_utf8_lossy(&bad_db.stderr).contains("sqlite://"));
}

// ---------------------------------------------------------------------------------------------
// `tandem retention review|erase --due` and the audit of `tandem identify`, on both backends.

fn tandem_in(dir: &Path, db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .current_dir(dir)
        .env_remove("TANDEM_KEYS")
        .env("USER", "dpo")
        .arg("--db")
        .arg(db)
        .arg("--key-file")
        .arg(dir.join("tandem.key"))
        .args(args)
        .output()
        .unwrap()
}

fn tandem_json(dir: &Path, db: &str, args: &[&str]) -> Value {
    let mut with_json = vec!["--json"];
    with_json.extend_from_slice(args);
    let output = tandem_in(dir, db, &with_json);
    assert!(
        output.status.success(),
        "tandem {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

const HELD_REASON: &str = "proceedings the person chose to support, Testburg court";

fn retention_and_identify_are_audited(dir: &Path, db: &str) {
    use serde_json::json;
    use tandem_store::cases::{NewCase, NewHold};
    use tandem_store::security::{AuditFilter, NewUser, UserRole};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let keys = tandem_store::KeySource::File(dir.join("tandem.key"));
    let (due, held, active) = runtime.block_on(async {
        let store = tandem_store::open_with_keys(db, keys.clone())
            .await
            .unwrap();
        let org = store.create_organisation("ngo-r", "NGO R").await.unwrap();
        let user = store
            .create_user(NewUser {
                username: "worker-r".into(),
                display_name: "Worker".into(),
                organisation_id: org.id,
                role: UserRole::Caseworker,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                must_change_password: false,
            })
            .await
            .unwrap();
        let mut ids = Vec::new();
        for until in [
            "2020-01-01T00:00:00",
            "2020-02-01T00:00:00",
            "2099-01-01T00:00:00",
        ] {
            let case = store
                .create_case(NewCase {
                    organisation_id: org.id,
                    created_by: user.id,
                    state: "closed".into(),
                    retention_until: until.into(),
                    details: json!({"name": "Ruth Testperson-Retained"}),
                })
                .await
                .unwrap();
            ids.push(case.meta.id);
        }
        store
            .place_hold(
                &ids[1],
                NewHold {
                    placed_by: user.id,
                    reason: HELD_REASON.into(),
                    review_on: "2099-06-01T00:00:00".into(),
                },
            )
            .await
            .unwrap();
        (ids[0].clone(), ids[1].clone(), ids[2].clone())
    });

    // The review lists the due case and the held one, decrypting nothing.
    let review = tandem_json(dir, db, &["retention", "review"]);
    let items = review["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{review}");
    assert_eq!(items[0]["case"]["id"], due.as_str());
    assert_eq!(items[0]["erasable"], true);
    assert_eq!(items[1]["case"]["id"], held.as_str());
    assert_eq!(items[1]["erasable"], false);
    assert_eq!(items[1]["hold"]["reason"], Value::Null);
    assert!(!review.to_string().contains("Testburg"));
    let human = tandem_in(dir, db, &["retention", "review"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("kept by legal hold"), "{text}");

    // Erasure only when asked for, and only what is due and not held.
    let refused = tandem_in(dir, db, &["retention", "erase"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--due"));
    let erased = tandem_json(dir, db, &["retention", "erase", "--due"]);
    assert_eq!(erased["erased"], json!([due.clone()]));
    let again = tandem_json(dir, db, &["retention", "erase", "--due"]);
    assert_eq!(again["erased"], json!([]));

    // `identify` with a store: one audit entry, no answer in it.
    let answers = dir.join("answers-of-ruth.json");
    std::fs::write(
        &answers,
        r#"{"age_at_start": 31, "exploitation": ["labour"], "nationality": "GH",
            "indicators": {"DR-01": "present", "EX-01": "present", "CD-01": "present"}}"#,
    )
    .unwrap();
    let identified = tandem_in(dir, db, &["identify", "--answers", p(&answers)]);
    assert!(identified.status.success());
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"age_at_start": "x"}"#).unwrap();
    assert!(
        !tandem_in(dir, db, &["identify", "--answers", p(&bad)])
            .status
            .success()
    );

    runtime.block_on(async {
        let store = tandem_store::open_with_keys(db, keys).await.unwrap();
        assert!(store.case_meta(&due).await.unwrap().is_none());
        assert!(store.case_meta(&held).await.unwrap().is_some());
        assert!(store.case_meta(&active).await.unwrap().is_some());
        let entries = |prefix: &'static str| {
            let store = &store;
            async move {
                store
                    .audit_entries(&AuditFilter {
                        action_prefix: Some(prefix.to_string()),
                        limit: 100,
                        ..AuditFilter::default()
                    })
                    .await
                    .unwrap()
            }
        };
        let tombstones = entries("case.erase").await;
        assert_eq!(tombstones.len(), 1);
        assert_eq!(tombstones[0].entry.target.as_deref(), Some(due.as_str()));
        assert_eq!(tombstones[0].entry.actor, "cli:dpo");
        assert!(
            !serde_json::to_string(&tombstones[0])
                .unwrap()
                .contains("Ruth")
        );
        assert_eq!(entries("retention.review").await.len(), 2);
        assert_eq!(entries("retention.erase").await.len(), 2);
        let identify = entries("identify.run").await;
        assert_eq!(identify.len(), 2);
        let text = serde_json::to_string(&identify).unwrap();
        for leaked in ["GH", "DR-01", "ruth", "31"] {
            assert!(
                !text.contains(&format!("\"{leaked}\"")) && !text.contains("ruth"),
                "{text}"
            );
        }
        assert!(store.verify_audit().await.unwrap().intact);
    });
}

#[test]
fn retention_review_and_erase_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("tandem.db").display());
    retention_and_identify_are_audited(dir.path(), &db);
}

#[test]
fn retention_review_and_erase_postgres() {
    let base = match std::env::var("TANDEM_TEST_POSTGRES") {
        Ok(url) if url == "skip" => return,
        Ok(url) => url,
        Err(_) => {
            panic!("TANDEM_TEST_POSTGRES is not set: source .ci/postgres.sh (or set it to `skip`)")
        }
    };
    let name = format!("tandem_retention_cli_{}", std::process::id());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime
        .block_on(tandem_store::testing::create_postgres_database(
            &base, &name,
        ))
        .unwrap();
    drop(runtime);
    let dir = tempfile::tempdir().unwrap();
    retention_and_identify_are_audited(dir.path(), &db);
}

#[test]
fn identify_without_a_store_creates_none() {
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("answers.json");
    std::fs::write(
        &answers,
        r#"{"age_at_start": 31, "exploitation": ["labour"]}"#,
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("tandem.db").display());
    let output = tandem_in(dir.path(), &db, &["identify", "--answers", p(&answers)]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!dir.path().join("tandem.db").exists());
}
