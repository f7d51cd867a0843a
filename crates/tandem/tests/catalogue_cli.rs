//! `tandem catalogue show|diff|load|activate` on SQLite and PostgreSQL: a broken file is refused
//! with its file and line and nothing stored, a corrected one is compared, stored, activated,
//! and every load and activation is audited.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use tandem_protect::catalogue::{BUILTIN_TOML, Catalogue};

struct Sandbox {
    dir: tempfile::TempDir,
    db: String,
}

impl Sandbox {
    fn sqlite() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("tandem.db").display());
        Sandbox { dir, db }
    }

    /// A fresh PostgreSQL database, or `None` with `TANDEM_TEST_POSTGRES=skip`.
    fn postgres() -> Option<Sandbox> {
        let base = match std::env::var("TANDEM_TEST_POSTGRES") {
            Ok(url) if url == "skip" => return None,
            Ok(url) => url,
            Err(_) => panic!(
                "TANDEM_TEST_POSTGRES is not set: source .ci/postgres.sh (or set it to `skip`)"
            ),
        };
        let name = format!("tandem_catalogue_cli_{}", std::process::id());
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let db = runtime
            .block_on(tandem_store::testing::create_postgres_database(
                &base, &name,
            ))
            .unwrap();
        Some(Sandbox {
            dir: tempfile::tempdir().unwrap(),
            db,
        })
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tandem"))
            .current_dir(self.dir.path())
            .env_remove("TANDEM_KEYS")
            .env("USER", "operator")
            .arg("--db")
            .arg(&self.db)
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

/// The built-in text with DR-01's AL tier weakened and the version moved on.
fn corrected(version: &str) -> String {
    let at = BUILTIN_TOML.find("code = \"DR-01\"").unwrap();
    let tiers = at + BUILTIN_TOML[at..].find("AL = \"S\"").unwrap();
    let mut text = BUILTIN_TOML.to_string();
    text.replace_range(tiers..tiers + 8, "AL = \"W\"");
    text.replacen(
        "version = \"0.1.0\"",
        &format!("version = \"{version}\""),
        1,
    )
}

fn catalogue_commands(sandbox: &Sandbox) {
    let builtin = Catalogue::builtin();
    let shown = sandbox.json(&["catalogue", "show"]);
    assert_eq!(shown["active"]["source"], "builtin");
    assert_eq!(shown["active"]["sha256"], builtin.sha256());
    assert!(shown["versions"].as_array().unwrap().is_empty());
    assert!(sandbox.ok(&["catalogue", "show"]).contains("(built-in)"));

    // A broken file: refused with its name and line, nothing stored.
    let broken_text = corrected("0.2.0").replacen("AL = \"W\"", "AL = \"X\"", 1);
    let tandem_protect::CatalogueError::Invalid { line, .. } =
        Catalogue::from_toml(&broken_text).unwrap_err()
    else {
        panic!("expected a validation error");
    };
    let broken = sandbox.file("broken.toml", &broken_text);
    let output = sandbox.run(&["catalogue", "load", broken.to_str().unwrap(), "--activate"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.toml"), "{stderr}");
    assert!(
        stderr.contains(&format!("line {line}: indicator DR-01")),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    assert!(
        sandbox.json(&["catalogue", "show"])["versions"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Diff: what the corrected file changes; nothing stored.
    let text = corrected("0.1.1");
    let candidate = Catalogue::from_toml(&text).unwrap();
    let file = sandbox.file("corrected.toml", &text);
    let path = file.to_str().unwrap();
    let words = sandbox.ok(&["catalogue", "diff", path]);
    assert!(words.contains("Tier of DR-01 in AL: S → W"), "{words}");
    let changes = sandbox.json(&["catalogue", "diff", path]);
    assert_eq!(changes["tier_changes"][0]["code"], "DR-01");
    assert_eq!(changes["to"]["sha256"], candidate.sha256());

    // Load without activating, then again with --activate (same text: not stored twice).
    let loaded = sandbox.json(&["catalogue", "load", path, "--note", "DR-01 is weak"]);
    assert_eq!(loaded["created"], true);
    assert_eq!(loaded["activated"], false);
    assert_eq!(loaded["active"]["sha256"], builtin.sha256());
    assert_eq!(loaded["version"]["loaded_by"], "cli:operator");
    let activated = sandbox.json(&["catalogue", "load", path, "--activate"]);
    assert_eq!(activated["created"], false);
    assert_eq!(activated["activated"], true);
    assert_eq!(activated["active"]["version"], "0.1.1");

    let shown = sandbox.json(&["catalogue", "show"]);
    assert_eq!(shown["active"]["source"], "stored");
    assert_eq!(shown["active"]["sha256"], candidate.sha256());
    assert_eq!(shown["versions"][0]["note"], "DR-01 is weak");
    assert!(sandbox.ok(&["catalogue", "show"]).contains("* 0.1.1"));

    // Back to the built-in catalogue by its hash; an unknown hash is refused.
    let back = sandbox.json(&["catalogue", "activate", builtin.sha256()]);
    assert_eq!(back["changed"], true);
    assert_eq!(back["active"]["sha256"], builtin.sha256());
    let again = sandbox.json(&["catalogue", "activate", builtin.sha256()]);
    assert_eq!(again["changed"], false);
    let unknown = sandbox.run(&["catalogue", "activate", &"0".repeat(64)]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no stored catalogue"));
    assert_eq!(
        sandbox.json(&["catalogue", "show"])["versions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Audited: two loads of the file and the built-in stored on activation; two activations.
    let audit = sandbox.json(&["audit", "list", "--action", "catalogue."]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "catalogue.activate",
            "catalogue.load",
            "catalogue.activate",
            "catalogue.load",
            "catalogue.load"
        ],
        "{audit}"
    );
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == "cli:operator")
    );
    assert_eq!(sandbox.json(&["audit", "verify"])["intact"], true);
}

#[test]
fn catalogue_commands_sqlite() {
    catalogue_commands(&Sandbox::sqlite());
}

#[test]
fn catalogue_commands_postgres() {
    if let Some(sandbox) = Sandbox::postgres() {
        catalogue_commands(&sandbox);
    }
}
