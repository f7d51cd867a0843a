//! `tandem screen` and `tandem eval` end to end: the real UN and OFAC lists imported through the
//! command line, the Libya smuggling designations found across them (screening spec, section
//! 5.1), yente's result shape, batches with pass-through columns, and bad input. The tests that
//! read the store run on SQLite and, when `TANDEM_TEST_POSTGRES` names a server, on PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path)
}

struct Sandbox {
    dir: tempfile::TempDir,
    db: String,
}

static NEXT_DATABASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Sandbox {
    fn sqlite() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("tandem.db").display());
        Sandbox { dir, db }
    }

    /// A fresh PostgreSQL database, or `None` when the run opts out with
    /// `TANDEM_TEST_POSTGRES=skip`. Unset, the test fails: CI must run both backends.
    fn postgres() -> Option<Sandbox> {
        let base = match std::env::var("TANDEM_TEST_POSTGRES") {
            Ok(url) if url == "skip" => return None,
            Ok(url) => url,
            Err(_) => panic!(
                "TANDEM_TEST_POSTGRES is not set: source .ci/postgres.sh (or set it to `skip` to run without PostgreSQL)"
            ),
        };
        let name = format!(
            "tandem_screen_{}_{}",
            std::process::id(),
            NEXT_DATABASE.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let db = runtime
            .block_on(tandem_store::testing::create_postgres_database(
                &base, &name,
            ))
            .expect("create a PostgreSQL test database");
        Some(Sandbox {
            dir: tempfile::tempdir().unwrap(),
            db,
        })
    }

    fn backends() -> Vec<Sandbox> {
        let mut all = vec![Sandbox::sqlite()];
        all.extend(Sandbox::postgres());
        all
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tandem"))
            .current_dir(self.dir.path())
            .env("TANDEM_KEY_FILE", self.path("tandem.key"))
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .output()
            .unwrap()
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
        let text = self.ok(&with_json);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    /// Runs a command that must fail; returns its error output.
    fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            !output.status.success(),
            "tandem {args:?} should have failed:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8(output.stderr).unwrap()
    }

    /// Files in the sandbox besides the database and key (outputs, partial outputs).
    fn other_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| !n.starts_with("tandem.db") && n != "tandem.key")
            .collect();
        names.sort();
        names
    }

    /// The 2024 SDN file with the December 2025 aliases beside it under OFAC's own names (the
    /// shipped files are dated, so the importer would not pair them), then the UN list.
    fn import_real_lists(&self) {
        let ofac = self.path("ofac");
        std::fs::create_dir_all(&ofac).unwrap();
        for (link, target) in [
            ("sdn.csv", "screening/ofac/sdn_2024-05-03.csv"),
            ("alt.csv", "screening/ofac/alt_2025-12.csv"),
        ] {
            std::os::unix::fs::symlink(shared(target), ofac.join(link)).unwrap();
        }
        self.json(&["import", "ofac", p(&ofac.join("sdn.csv"))]);
        let un = shared("screening/un/un_consolidated_2026-02-27.xml");
        self.json(&["import", "un", p(&un)]);
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The seven UN designees of the 1970 (Libya) Committee for migrant smuggling and their OFAC
/// records (spec 5.1).
const LIBYA: [(&str, &str); 7] = [
    ("unsc-LYi.021", "ofac-24004"),
    ("unsc-LYi.022", "ofac-24313"),
    ("unsc-LYi.023", "ofac-24314"),
    ("unsc-LYi.024", "ofac-24310"),
    ("unsc-LYi.025", "ofac-24311"),
    ("unsc-LYi.026", "ofac-24312"),
    ("unsc-LYi.029", "ofac-30526"),
];

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn libya_smugglers_are_found_across_the_un_and_ofac_lists() {
    for sandbox in Sandbox::backends() {
        sandbox.import_real_lists();

        // Every designee both ways, each as the stored record with all its names, dates,
        // nationalities and documents; plus the press spelling and a shared family name.
        let mut csv = String::from("entity_id,name,expected\n");
        for (un, ofac) in LIBYA {
            csv.push_str(&format!("{un},,{ofac}\n{ofac},,{un}\n"));
        }
        csv.push_str(",Mohammed Kachlaf,ofac-24311\n,Osama Milad,none\n");
        let input = sandbox.path("libya.csv");
        std::fs::write(&input, csv).unwrap();
        let output = sandbox.path("libya.jsonl");
        let summary = sandbox.json(&["screen", "--input", p(&input), "--output", p(&output)]);
        assert_eq!(summary["queries"], 16);
        let lines = read_jsonl(&output);
        assert_eq!(lines.len(), 16);
        for line in &lines {
            let expected = line["input"]["expected"].as_str().unwrap();
            let results = line["results"].as_array().unwrap();
            let query = line["input"]["entity_id"].as_str().unwrap_or("");
            assert!(
                results.iter().all(|r| r["id"] != query),
                "{query} found itself"
            );
            if expected == "none" {
                // Osama Milad (LYi.029) is not Abd al-Rahman Milad (LYi.026): one shared
                // family name across two designees.
                assert!(
                    results
                        .iter()
                        .all(|r| r["id"] != "ofac-24312" && r["id"] != "unsc-LYi.026"),
                    "{results:#?}"
                );
                continue;
            }
            let best = results
                .first()
                .unwrap_or_else(|| panic!("{query}: no result at 0.7, expected {expected}"));
            assert_eq!(best["id"], expected, "{query}: {best:#}");
            assert_eq!(best["match"], true);
            assert!(best["score"].as_f64().unwrap() >= 0.7);
        }
        let row = |query: &str| {
            lines
                .iter()
                .find(|l| l["input"]["entity_id"] == query)
                .unwrap()
                .clone()
        };
        // Ermias Alem meets GHERMAY only through the UN's aliases.
        let ghermay = &row("unsc-LYi.021")["results"][0];
        assert_eq!(
            ghermay["explanations"]["name_match"]["query"],
            "Ermias Ghermay"
        );
        // Koshlaf's passport is on both lists and fires as evidence.
        let koshlaf = &row("unsc-LYi.025")["results"][0]["explanations"];
        assert_eq!(koshlaf["identifier_match"]["query"], "C17HLRL3");
        // Fitiwi: Eritrean at the UN, Sudanese (born in Eritrea) at OFAC; still a match.
        let fitiwi = &row("unsc-LYi.022")["results"][0];
        assert_eq!(
            fitiwi["properties"]["nationality"],
            serde_json::json!(["sd"])
        );
        assert_eq!(
            row("unsc-LYi.022")["query"]["properties"]["nationality"],
            serde_json::json!(["er"])
        );
        assert_eq!(fitiwi["match"], true);
        // Dabbashi and Osama Al Kuni: day and month swapped between the lists, still matches.
        for swapped in ["unsc-LYi.023", "unsc-LYi.029"] {
            let best = &row(swapped)["results"][0];
            assert!(
                best["score"].as_f64().unwrap() >= 0.7,
                "{swapped}: {best:#}"
            );
        }
        assert_eq!(fitiwi["datasets"], serde_json::json!(["us_ofac_sdn"]));

        // One name on the command line finds the OFAC record first.
        let one = sandbox.json(&["screen", "Mus’ab Abu Qarin", "--dataset", "us_ofac_sdn"]);
        assert_eq!(one["results"][0]["id"], "ofac-24310");
        assert!(one["results"].as_array().unwrap().iter().all(|r| {
            r["datasets"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d == "us_ofac_sdn")
        }));
    }
}

#[test]
fn evaluation_commands_measure_the_matcher_on_the_stored_lists() {
    let sandbox = Sandbox::sqlite();
    // Labelled pairs need no store.
    let pairs = sandbox.json(&[
        "eval",
        "pairs",
        p(&shared("screening/eval/name_pairs_dev.csv")),
    ]);
    assert_eq!(pairs["threshold"], 0.7);
    let f1 = pairs["f1"].as_f64().unwrap();
    assert!(f1 >= 0.85, "F1 {f1}");
    assert!(pairs["precision"].as_f64().unwrap() > 0.0);
    assert!(pairs["recall"].as_f64().unwrap() > 0.0);
    assert!(pairs["by_category"].as_object().unwrap().len() > 3);
    let m = &pairs;
    let counted = ["tp", "fp", "tn", "fn"]
        .iter()
        .map(|k| m[k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(counted, 419);

    // Perturbations need stored names.
    let error = sandbox.fails(&["eval", "perturb"]);
    assert!(error.contains("import the lists first"), "{error}");
    sandbox.import_real_lists();
    let perturbed = sandbox.json(&["eval", "perturb", "--persons", "40", "--entities", "20"]);
    let classes = perturbed["by_class"].as_object().unwrap();
    for class in [
        "typo",
        "transposition",
        "name_order",
        "homoglyph",
        "invisible_characters",
        "transliteration",
    ] {
        let r = &classes[class];
        assert!(r["n"].as_u64().unwrap() > 10, "{class}: {r}");
        let recall = r["recall"].as_f64().unwrap();
        assert!(
            recall >= perturbed["targets"][class].as_f64().unwrap() - 0.05,
            "{class}: {recall}"
        );
    }
    // Deterministic: the same seed gives the same report.
    let again = sandbox.json(&["eval", "perturb", "--persons", "40", "--entities", "20"]);
    assert_eq!(again["by_class"], perturbed["by_class"]);

    // False positives of people on no list.
    let negatives = sandbox.json(&[
        "eval",
        "negatives",
        p(&shared("screening/eval/yente_negatives_global_1k.csv")),
    ]);
    assert_eq!(negatives["rows"], 1000);
    let alerted = negatives["alerted"].as_u64().unwrap();
    assert!(alerted <= 10, "{alerted} of 1,000 negatives alerted");
    assert!(negatives["by_group"]["Latin"]["rows"].as_u64().unwrap() > 400);
}

/// A small list of our own: fast to import on both backends.
fn small_list(sandbox: &Sandbox) {
    let lines = [
        r#"{"id":"grein","schema":"Person","properties":{"name":["Musab ABU GREIN"],"alias":["Mus'ab ABU-QURAYN"],"birthDate":["1983-01-19"],"nationality":["ly"]}}"#,
        r#"{"id":"koshlaf","schema":"Person","properties":{"name":["Mohamed KOSHLAF"],"passportNumber":["C17HLRL3"]}}"#,
        r#"{"id":"plaza","schema":"Organization","properties":{"name":["HOTEL PLAZA"]}}"#,
        r#"{"id":"link","schema":"UnknownLink","properties":{"subject":["grein"],"object":["koshlaf"]}}"#,
    ];
    let list = sandbox.path("list.jsonl");
    std::fs::write(&list, lines.join("\n")).unwrap();
    sandbox.json(&["import", "ftm", p(&list), "--dataset", "watch"]);
    // A protected record (a victim's testimony names the same man): never screened from here.
    let protected = sandbox.path("protected.jsonl");
    std::fs::write(
        &protected,
        r#"{"id":"victim-1","schema":"Person","properties":{"name":["Musab Abu Grein"]}}"#,
    )
    .unwrap();
    sandbox.json(&[
        "import",
        "ftm",
        p(&protected),
        "--dataset",
        "casework",
        "--sensitivity",
        "protected",
    ]);
}

#[test]
fn one_name_prints_results_in_yentes_shape() {
    for sandbox in Sandbox::backends() {
        small_list(&sandbox);
        let found = sandbox.json(&[
            "screen",
            "Mus’ab Abu Qarin",
            "--birth-date",
            "1983",
            "--country",
            "Libya",
        ]);
        let results = found["results"].as_array().unwrap();
        assert!(
            results.iter().all(|r| r["id"] != "victim-1"),
            "{results:#?}"
        );
        let hit = &results[0];
        for key in [
            "id",
            "caption",
            "schema",
            "properties",
            "datasets",
            "score",
            "match",
            "explanations",
        ] {
            assert!(hit.get(key).is_some(), "{key} missing from {hit}");
        }
        assert_eq!(hit["id"], "grein");
        assert_eq!(hit["caption"], "Musab ABU GREIN");
        assert_eq!(hit["schema"], "Person");
        assert_eq!(hit["datasets"], serde_json::json!(["watch"]));
        assert_eq!(hit["properties"]["alias"][0], "Mus'ab ABU-QURAYN");
        assert_eq!(hit["match"], true);
        let name = &hit["explanations"]["name_match"];
        for key in ["score", "detail", "query", "candidate"] {
            assert!(name.get(key).is_some(), "{key} missing from {name}");
        }
        assert_eq!(name["query"], "Mus’ab Abu Qarin");
        assert_eq!(name["candidate"], "Mus'ab ABU-QURAYN");
        assert_eq!(found["query"]["properties"]["nationality"][0], "ly");

        // An identifier alone is strong evidence; the threshold is the caller's.
        let by_passport = sandbox.json(&["screen", "M. Koshlaf", "--id-number", "C17-HLRL3"]);
        assert_eq!(by_passport["results"][0]["id"], "koshlaf");
        let strict = sandbox.json(&["screen", "Mohamed Kashlaf", "--threshold", "0.99"]);
        assert_eq!(strict["results"][0]["match"], false);

        // The human table: score, match flag, id and why.
        let table = sandbox.ok(&["screen", "Musab Abugrein"]);
        assert!(table.contains("grein"), "{table}");
        assert!(table.contains("yes"), "{table}");
        assert!(table.contains("name_match"), "{table}");
        assert!(!table.contains("victim-1"), "{table}");

        // A stored entity screened against the others.
        let stored = sandbox.json(&["screen", "--entity", "grein"]);
        assert!(
            stored["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["id"] != "grein" && r["id"] != "victim-1")
        );
        let error = sandbox.fails(&["screen", "--entity", "victim-1"]);
        assert!(error.contains("--entity victim-1"), "{error}");
        let error = sandbox.fails(&["screen", "Musab", "--dataset", "nowhere"]);
        assert!(error.contains("--dataset nowhere"), "{error}");
    }
}

#[test]
fn batches_pass_columns_through_to_csv_and_jsonl() {
    let sandbox = Sandbox::sqlite();
    small_list(&sandbox);
    let input = sandbox.path("customers.csv");
    std::fs::write(
        &input,
        "customer_ref,name,schema,birth_date,country,id_number,branch\n\
         C-1,Mus'ab Abu Qarin,Person,1983-01-19,ly,,Tripoli\n\
         C-2,Jane Smith,,,,,Rome\n\
         C-3,Hotel Plaza,Organization,,,,\"Valletta, Malta\"\n\
         C-4,M. Koshlaf,Person,,,C17HLRL3,Tunis\n",
    )
    .unwrap();
    let csv_out = sandbox.path("alerts.csv");
    let summary = sandbox.json(&["screen", "--input", p(&input), "--output", p(&csv_out)]);
    assert_eq!(summary["queries"], 4);
    assert_eq!(summary["alerted"], 3);
    let mut reader = csv::Reader::from_path(&csv_out).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        &headers[..7],
        [
            "customer_ref",
            "name",
            "schema",
            "birth_date",
            "country",
            "id_number",
            "branch"
        ]
    );
    assert!(headers.contains(&"result_id".to_string()));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let by_ref = |r: &str| rows.iter().find(|row| &row[0] == r).unwrap().clone();
    assert_eq!(&by_ref("C-1")[column("result_id")], "grein");
    assert_eq!(&by_ref("C-1")[column("branch")], "Tripoli");
    assert_eq!(&by_ref("C-1")[column("result_match")], "true");
    // A row without alerts is still in the output, with empty result columns.
    assert_eq!(&by_ref("C-2")[column("result_id")], "");
    assert_eq!(&by_ref("C-2")[column("branch")], "Rome");
    assert_eq!(&by_ref("C-3")[column("result_id")], "plaza");
    assert_eq!(&by_ref("C-3")[column("branch")], "Valletta, Malta");
    assert_eq!(&by_ref("C-4")[column("result_id")], "koshlaf");
    assert!(by_ref("C-4")[column("result_explanation")].contains("identifier_match"));

    let jsonl_out = sandbox.path("alerts.jsonl");
    sandbox.ok(&["screen", "--input", p(&input), "--output", p(&jsonl_out)]);
    let lines = read_jsonl(&jsonl_out);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["row"], 1);
    assert_eq!(lines[0]["input"]["customer_ref"], "C-1");
    assert_eq!(lines[2]["input"]["branch"], "Valletta, Malta");
    assert_eq!(lines[0]["results"][0]["id"], "grein");
    assert_eq!(lines[0]["results"][0]["datasets"][0], "watch");
    assert!(lines[1]["results"].as_array().unwrap().is_empty());
    // Only the two outputs were written; no partial files are left behind.
    assert_eq!(
        sandbox.other_files(),
        [
            "alerts.csv",
            "alerts.jsonl",
            "customers.csv",
            "list.jsonl",
            "protected.jsonl"
        ]
    );
}

#[test]
fn bad_input_names_row_and_field_and_writes_nothing() {
    let sandbox = Sandbox::sqlite();
    small_list(&sandbox);
    let long = "a".repeat(10_000);
    let header = "name,schema,birth_date,country,id_number,note\n";
    let good = "Musab Abu Grein,Person,1983,ly,,first\n";
    let cases: [(&str, String, &str); 8] = [
        (
            "empty name",
            format!("{header}{good},Person,,,,x\n"),
            "row 2 (line 3), field name: is empty",
        ),
        (
            "whitespace name",
            format!("{header}{good}   ,Person,,,,x\n"),
            "row 2 (line 3), field name: is empty",
        ),
        (
            "long name",
            format!("{header}{good}{long},Person,,,,x\n"),
            "row 2 (line 3), field name: has 10000 characters",
        ),
        (
            "invalid date",
            format!("{header}{good}Ali Hassan,Person,1985-13-45,,,x\n"),
            "row 2 (line 3), field birth_date: \"1985-13-45\" is not a date",
        ),
        (
            "unknown schema",
            format!("{header}{good}Ali Hassan,Spaceship,,,,x\n"),
            "row 2 (line 3), field schema: \"Spaceship\" cannot be screened",
        ),
        (
            "unknown country",
            format!("{header}{good}Ali Hassan,Person,,Atlantis,,x\n"),
            "row 2 (line 3), field country: \"Atlantis\" is not a country",
        ),
        (
            "malformed row",
            format!("{header}{good}Ali Hassan,Person\n"),
            "row 2 (line 3): malformed CSV row: has 2 fields where the header has 6",
        ),
        (
            "no name column",
            "who,schema\nAli,Person\n".to_string(),
            "line 1: no `name` column",
        ),
    ];
    for (case, text, expected) in cases {
        let input = sandbox.path("batch.csv");
        std::fs::write(&input, text).unwrap();
        for output in ["out.csv", "out.jsonl"] {
            let error = sandbox.fails(&["screen", "--input", p(&input), "--output", output]);
            assert!(error.contains(expected), "{case}: {error}");
            assert!(error.contains("batch.csv"), "{case}: {error}");
            assert_eq!(
                sandbox.other_files(),
                ["batch.csv", "list.jsonl", "protected.jsonl"],
                "{case}: an output was written"
            );
        }
    }
    // An output format that is neither CSV nor JSON lines.
    let input = sandbox.path("batch.csv");
    std::fs::write(&input, format!("{header}{good}")).unwrap();
    let error = sandbox.fails(&["screen", "--input", p(&input), "--output", "out.xlsx"]);
    assert!(error.contains("--output out.xlsx"), "{error}");

    // The same checks for one name on the command line.
    for (args, expected) in [
        (vec!["screen", ""], "NAME: is empty"),
        (vec!["screen", "   "], "NAME: is empty"),
        (vec!["screen", long.as_str()], "NAME: has 10000 characters"),
        (vec!["screen", "!!!"], "NAME: has no letters or digits"),
        (
            vec!["screen", "Ali", "--birth-date", "1985-02-30"],
            "--birth-date: \"1985-02-30\" is not a date",
        ),
        (
            vec!["screen", "Ali", "--schema", "Spaceship"],
            "--schema: \"Spaceship\" cannot be screened",
        ),
        (
            vec!["screen", "Ali", "--schema", "Address"],
            "--schema: \"Address\" cannot be screened",
        ),
        (
            vec!["screen", "Ali", "--threshold", "1.5"],
            "--threshold 1.5",
        ),
    ] {
        let error = sandbox.fails(&args);
        assert!(error.contains(expected), "{args:?}: {error}");
    }
}
