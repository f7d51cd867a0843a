//! Security from the command line: users, the audit chain and its verification after
//! tampering, protected data encrypted at rest, key rotation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn db_path(&self) -> PathBuf {
        self.dir.path().join("tandem.db")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tandem"))
            .current_dir(self.dir.path())
            .env_remove("TANDEM_KEYS")
            .arg("--db")
            .arg(format!("sqlite://{}", self.db_path().display()))
            .arg("--key-file")
            .arg(self.dir.path().join("tandem.key"))
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "tandem {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

#[test]
fn users_and_a_verified_audit_chain_that_tampering_breaks() {
    let sandbox = Sandbox::new();
    let added = sandbox.json(&[
        "user",
        "add",
        "amina",
        "--name",
        "Amina K.",
        "--org",
        "ngo-a",
        "--role",
        "caseworker",
    ]);
    let password = added["one_time_password"].as_str().unwrap();
    assert!(password.chars().count() >= 15);
    let duplicate = sandbox.run(&[
        "user", "add", "amina", "--name", "Other", "--org", "ngo-a", "--role", "viewer",
    ]);
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("taken"));
    let bad_role = sandbox.run(&[
        "user", "add", "omar", "--name", "Omar", "--org", "ngo-a", "--role", "boss",
    ]);
    assert!(
        String::from_utf8_lossy(&bad_role.stderr).contains("admin, analyst, caseworker or viewer")
    );
    sandbox.ok(&["user", "reset", "amina"]);
    sandbox.ok(&["user", "disable", "amina"]);
    let users = sandbox.json(&["user", "list"]);
    assert_eq!(users[0]["disabled"], true);
    assert!(
        users[0].get("password_hash").is_none(),
        "hashes never leave the store"
    );

    let verified = sandbox.json(&["audit", "verify"]);
    assert_eq!(verified["intact"], true);
    assert_eq!(verified["entries"], 3);
    let entries = sandbox.json(&["audit", "list"]);
    let actions: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user.disable", "user.reset", "user.create"]);

    // Someone with access to the database file alters an entry (bypassing the append-only
    // trigger): verification names that entry and fails.
    tamper(
        &sandbox.db_path(),
        "UPDATE audit_log SET target = 'someone-else' WHERE seq = 2",
    );
    let broken = sandbox.run(&["--json", "audit", "verify"]);
    assert!(!broken.status.success());
    let report: Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert_eq!(report["intact"], false);
    assert_eq!(report["first_broken_seq"], 2);
}

#[test]
fn a_deleted_audit_entry_is_found() {
    let sandbox = Sandbox::new();
    for name in ["a1", "a2", "a3", "a4"] {
        sandbox.ok(&[
            "user", "add", name, "--name", name, "--org", "x1", "--role", "viewer",
        ]);
    }
    tamper(&sandbox.db_path(), "DELETE FROM audit_log WHERE seq = 3");
    let report: Value =
        serde_json::from_slice(&sandbox.run(&["--json", "audit", "verify"]).stdout).unwrap();
    assert_eq!(report["intact"], false);
    assert_eq!(report["first_broken_seq"], 4);
}

#[test]
fn entries_cut_off_the_end_are_found_through_the_anchor() {
    let sandbox = Sandbox::new();
    let anchor = sandbox.dir.path().join("audit-anchor.tsv");
    let anchor = anchor.to_str().unwrap();
    for name in ["b1", "b2", "b3"] {
        sandbox.ok(&[
            "user", "add", name, "--name", name, "--org", "x1", "--role", "viewer",
        ]);
    }
    let first = sandbox.json(&["audit", "verify", "--anchor", anchor]);
    assert_eq!(first["head"]["seq"], 3);
    sandbox.ok(&[
        "user", "add", "b4", "--name", "b4", "--org", "x1", "--role", "viewer",
    ]);
    let second = sandbox.json(&["audit", "verify", "--anchor", anchor]);
    assert_eq!(second["anchors_checked"], 1);

    // Removing the newest entries leaves a chain that is intact in itself…
    tamper(&sandbox.db_path(), "DELETE FROM audit_log WHERE seq >= 3");
    let chain_only = sandbox.json(&["audit", "verify"]);
    assert_eq!(chain_only["intact"], true);
    // …but the heads kept outside the database are gone from it.
    let anchored = sandbox.run(&["--json", "audit", "verify", "--anchor", anchor]);
    assert!(!anchored.status.success());
    let report: Value = serde_json::from_slice(&anchored.stdout).unwrap();
    assert_eq!(report["intact"], false);
    assert!(
        report["problem"].as_str().unwrap().contains("cut off"),
        "{report}"
    );
}

/// Alters the SQLite file as an attacker would: drop the protecting triggers, then run `sql`.
fn tamper(db: &Path, sql: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let triggers: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert!(
            !triggers.is_empty(),
            "the audit log is protected by triggers"
        );
        for (name,) in triggers {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER \"{name}\"")))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
            .unwrap();
    });
}

#[test]
fn protected_records_are_encrypted_at_rest_and_survive_key_rotation() {
    let sandbox = Sandbox::new();
    let secret_name = "Hawa Testvalue-Bangura";
    let file = sandbox.dir.path().join("cases.jsonl");
    std::fs::write(
        &file,
        format!(
            "{{\"id\":\"case-person-1\",\"schema\":\"Person\",\"properties\":{{\"name\":[\"{secret_name}\"],\"birthPlace\":[\"Kenema\"]}}}}\n"
        ),
    )
    .unwrap();
    sandbox.json(&[
        "import",
        "ftm",
        file.to_str().unwrap(),
        "--dataset",
        "cases",
        "--sensitivity",
        "protected",
    ]);
    let shown = sandbox.json(&["entity", "case-person-1"]);
    assert!(
        shown.to_string().contains(secret_name),
        "readable with the key"
    );
    // Checkpoint the WAL by opening and closing, then look at the raw bytes of every file.
    sandbox.ok(&["stats"]);
    for name in ["tandem.db", "tandem.db-wal", "tandem.db-shm"] {
        let bytes = file_bytes(&sandbox.dir.path().join(name));
        assert!(!contains(&bytes, secret_name), "{name} holds the plaintext");
        assert!(!contains(&bytes, "Testvalue"), "{name} holds part of it");
    }

    let before = std::fs::read_to_string(sandbox.dir.path().join("tandem.key")).unwrap();
    let rotated = sandbox.json(&["keys", "rotate"]);
    assert_eq!(rotated["reencrypted"], 1);
    assert_eq!(
        rotated["keys"].as_array().unwrap().len(),
        2,
        "the old key stays until pruned, for imports that began before the rotation"
    );
    let pruned = sandbox.json(&["keys", "prune"]);
    assert_eq!(pruned["keys"], serde_json::json!([rotated["active"]]));
    assert_eq!(pruned["removed"].as_array().unwrap().len(), 1);
    let after = std::fs::read_to_string(sandbox.dir.path().join("tandem.key")).unwrap();
    assert_ne!(before, after);
    assert!(
        sandbox
            .json(&["entity", "case-person-1"])
            .to_string()
            .contains(secret_name)
    );
    let usage = sandbox.json(&["keys", "status"]);
    assert_eq!(usage[rotated["active"].to_string()], 1);

    // Without the right key the record stays closed, with an error rather than a crash.
    std::fs::write(sandbox.dir.path().join("tandem.key"), before).unwrap();
    let output = sandbox.run(&["entity", "case-person-1"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains(secret_name));
}
