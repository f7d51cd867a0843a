//! `tandem catalogue show|load|diff|activate`: the indicator catalogue identification uses, as
//! administrators manage it from the command line. The same rules as the web page: a file is
//! validated before anything is stored, loading does not activate unless asked, and every load
//! and activation is audited (the operating-system user acts).

use std::path::Path;

use anyhow::Context;
use serde_json::json;
use tandem_protect::catalogue::Catalogue;
use tandem_server::catalogue_pages::{
    self, activate_revision, active_catalogue_in, diff, normalise, overview_json, store_revision,
};
use tandem_store::Store;

use crate::admin::audit_cli;
use crate::cli::{CatalogueCommand, Output};
use crate::print_json;

pub async fn run(store: &dyn Store, command: CatalogueCommand, out: Output) -> anyhow::Result<()> {
    match command {
        CatalogueCommand::Show => show(store, out).await,
        CatalogueCommand::Load {
            file,
            activate,
            note,
        } => load(store, &file, activate, &note, out).await,
        CatalogueCommand::Diff { file } => compare(store, &file, out).await,
        CatalogueCommand::Activate { sha256 } => activate_stored(store, &sha256, out).await,
    }
}

/// The name `audit_cli` records, also kept as who loaded or activated a revision.
fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "cli".to_string())
    )
}

/// Reads and validates a catalogue file; errors name the file and the line.
fn read_candidate(file: &Path) -> anyhow::Result<(String, Catalogue)> {
    let raw = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the catalogue {}", file.display()))?;
    let text = normalise(&raw);
    let catalogue = catalogue_pages::check(&text).map_err(|err| {
        anyhow::anyhow!(
            "{}: not a valid catalogue at {}; nothing was stored",
            file.display(),
            err.describe()
        )
    })?;
    Ok((text, catalogue))
}

async fn show(store: &dyn Store, out: Output) -> anyhow::Result<()> {
    let overview = overview_json(store).await?;
    if out.json {
        print_json(&overview);
        return Ok(());
    }
    let active = &overview["active"];
    if let Some(error) = active["error"].as_str() {
        println!("In force: UNUSABLE — {error}");
        println!("Activate another revision with `tandem catalogue activate SHA256`.");
    } else {
        let catalogue = active_catalogue_in(store).await?;
        let source = if active["source"] == "builtin" {
            " (built-in)"
        } else {
            ""
        };
        println!(
            "In force: {} {}{source}",
            catalogue.header.id,
            catalogue.version()
        );
        println!("  sha256 {}", catalogue.sha256());
        if let (Some(by), Some(at)) = (active["loaded_by"].as_str(), active["loaded_at"].as_str()) {
            println!("  loaded by {by} on {at}");
        }
        if let (Some(by), Some(at)) = (
            active["activated_by"].as_str(),
            active["activated_at"].as_str(),
        ) {
            println!("  activated by {by} on {at}");
        }
        let counts: Vec<String> = tandem_protect::ListId::ALL
            .into_iter()
            .map(|list| format!("{list} {}", catalogue.count(list)))
            .collect();
        println!(
            "  indicators per list: {}; uncertain tiers: {}",
            counts.join(", "),
            active["uncertain_tiers"]
        );
    }
    let versions = overview["versions"].as_array().cloned().unwrap_or_default();
    if versions.is_empty() {
        println!("No revision stored: the built-in catalogue is in force.");
    } else {
        println!("Stored revisions (newest first):");
        for v in versions {
            let mark = if v["active"] == true { "*" } else { " " };
            let sha = v["sha256"].as_str().unwrap_or_default();
            println!(
                "{mark} {:<10} {}  {}  {}  {}",
                v["version"].as_str().unwrap_or_default(),
                sha,
                v["loaded_by"].as_str().unwrap_or_default(),
                v["loaded_at"].as_str().unwrap_or_default(),
                v["note"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}

async fn load(
    store: &dyn Store,
    file: &Path,
    activate: bool,
    note: &str,
    out: Output,
) -> anyhow::Result<()> {
    let (text, candidate) = read_candidate(file)?;
    // A broken active revision must not stand in the way of loading its fix: no diff then.
    let active = active_catalogue_in(store).await.ok();
    let actor = cli_actor();
    let stored = store_revision(store, &candidate, &text, &actor, None, note)
        .await
        .with_context(|| format!("cannot store the catalogue {}", file.display()))?;
    audit_cli(
        store,
        "catalogue.load",
        Some(stored.version.sha256.clone()),
        json!({
            "version": stored.version.version,
            "catalogue_id": stored.version.catalogue_id,
            "created": stored.created,
            "file": file.display().to_string(),
        }),
    )
    .await?;
    let activated = if activate {
        activate_audited(store, &stored.version.sha256, &actor).await?
    } else {
        false
    };
    let changes = active.map(|active| diff(&active, &candidate));
    if out.json {
        print_json(&json!({
            "version": stored.version,
            "created": stored.created,
            "activated": activated,
            "active": active_catalogue_in(store).await.ok().map(|c| c.reference()),
            "diff": changes,
        }));
        return Ok(());
    }
    if stored.created {
        println!(
            "Loaded {} {} (sha256 {}).",
            candidate.header.id,
            candidate.version(),
            candidate.sha256()
        );
    } else {
        println!(
            "Already stored: {} (sha256 {}), loaded by {} on {}.",
            stored.version.version,
            stored.version.sha256,
            stored.version.loaded_by,
            stored.version.loaded_at
        );
    }
    match &changes {
        Some(changes) => {
            println!("Differences from the catalogue in force:");
            for line in changes.lines() {
                println!("  {line}");
            }
        }
        None => println!("The catalogue in force is not usable: no differences to show."),
    }
    if activated {
        println!("Activated: new assessments use it from now on.");
    } else if activate {
        println!("It is the catalogue in force already.");
    } else {
        println!(
            "Not active. Activate it with `tandem catalogue activate {}`.",
            stored.version.sha256
        );
    }
    Ok(())
}

/// Activates and audits; `false` when the revision was in force already.
async fn activate_audited(store: &dyn Store, sha256: &str, actor: &str) -> anyhow::Result<bool> {
    let previous = store
        .active_catalogue_sha256()
        .await?
        .unwrap_or_else(|| Catalogue::builtin().sha256().to_string());
    let Some((activation, stored_builtin)) = activate_revision(store, sha256, actor, None)
        .await
        .map_err(|err| match err {
            tandem_store::StoreError::NotFound(_) => anyhow::anyhow!(
                "no stored catalogue has hash {sha256} (see `tandem catalogue show`)"
            ),
            other => other.into(),
        })?
    else {
        return Ok(false);
    };
    if let Some(stored) = stored_builtin {
        audit_cli(
            store,
            "catalogue.load",
            Some(stored.version.sha256.clone()),
            json!({"version": stored.version.version, "created": stored.created, "builtin": true}),
        )
        .await?;
    }
    audit_cli(
        store,
        "catalogue.activate",
        Some(activation.sha256.clone()),
        json!({"version": activation.version, "previous_sha256": previous}),
    )
    .await?;
    Ok(true)
}

async fn activate_stored(store: &dyn Store, sha256: &str, out: Output) -> anyhow::Result<()> {
    let changed = activate_audited(store, sha256, &cli_actor()).await?;
    let active = active_catalogue_in(store).await?;
    if out.json {
        print_json(&json!({"changed": changed, "active": active.reference()}));
    } else if changed {
        println!(
            "Activated {} {} (sha256 {}).",
            active.header.id,
            active.version(),
            active.sha256()
        );
    } else {
        println!("{} is the catalogue in force already.", active.version());
    }
    Ok(())
}

async fn compare(store: &dyn Store, file: &Path, out: Output) -> anyhow::Result<()> {
    let (_, candidate) = read_candidate(file)?;
    let active = active_catalogue_in(store).await?;
    let changes = diff(&active, &candidate);
    if out.json {
        print_json(&serde_json::to_value(&changes)?);
    } else {
        println!(
            "{} {} → {} {}",
            active.version(),
            &active.sha256()[..12],
            candidate.version(),
            &candidate.sha256()[..12]
        );
        for line in changes.lines() {
            println!("  {line}");
        }
    }
    Ok(())
}
