//! `tandem identify` end to end: good answers give the JSON of issue 5; bad answers name the
//! field and exit non-zero; nothing is stored.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn identify(dir: &Path, answers: &str, extra: &[&str]) -> Output {
    let file = dir.join("answers.json");
    std::fs::write(&file, answers).unwrap();
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .current_dir(dir)
        .env_remove("TANDEM_DB")
        .env_remove("TANDEM_KEYS")
        .arg("identify")
        .arg("--answers")
        .arg(&file)
        .args(extra)
        .output()
        .unwrap()
}

const GOOD: &str = r#"{"age_at_start": 24, "exploitation": ["labour"],
  "indicators": {"DR-01": "present", "DR-02": "present", "EX-01": "present", "EX-04": "present",
                 "CD-01": "present", "CD-03": "present", "AV-06": "absent"},
  "gender": "male", "nationality": "NG"}"#;

#[test]
fn good_answers_give_the_json_shape() {
    let dir = tempfile::tempdir().unwrap();
    let out = identify(dir.path(), GOOD, &["--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &v["evaluations"][0];
    assert_eq!(e["list"], "AL");
    assert_eq!(e["rule_met"], true);
    assert_eq!(e["dimensions"]["D1"]["positive"], true);
    assert_eq!(e["dimensions"]["D1"]["present"][0], "DR-01");
    assert!(e["follow_up"].is_array());
    assert_eq!(v["catalogue"]["sha256"].as_str().unwrap().len(), 64);
    assert!(v["catalogue"]["version"].is_string());
    assert_eq!(v["referral"]["offered"], true);
    // Identification stores nothing: no database or key file appears.
    assert!(!dir.path().join("tandem.db").exists());
    assert!(!dir.path().join("tandem.key").exists());
}

#[test]
fn human_output_uses_the_rule_wording() {
    let dir = tempfile::tempdir().unwrap();
    let out = identify(dir.path(), GOOD, &[]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Indicators consistent with trafficking (rule met)"),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("victim"));
}

#[test]
fn bad_answers_name_the_field_and_fail() {
    let dir = tempfile::tempdir().unwrap();
    for (answers, field) in [
        (r#"{"exploitation": ["labour"]}"#, "age_at_start"),
        (
            r#"{"age_at_start": 30, "indicators": {"ZZ-01": "present"}}"#,
            "indicators.ZZ-01",
        ),
        (
            r#"{"age_at_start": 30, "indicators": {"CD-01": "present", "CD-01": "absent"}}"#,
            "indicators.CD-01",
        ),
    ] {
        let out = identify(dir.path(), answers, &["--json"]);
        assert!(!out.status.success(), "{answers}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(field), "{answers}: {err}");
        assert!(out.stdout.is_empty());
    }
    assert!(!dir.path().join("tandem.db").exists());
}

#[test]
fn a_corrected_catalogue_can_be_given() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[catalogue]\nid = \"x\"\n").unwrap();
    let out = identify(dir.path(), GOOD, &["--catalogue", broken.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.toml") && err.contains("line"), "{err}");
}
