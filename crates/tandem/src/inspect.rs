//! Read-only commands: `stats`, `datasets`, `entity`, `jobs`.

use std::collections::BTreeMap;

use anyhow::bail;
use serde_json::json;
use tandem_store::Store;

use crate::cli::{DatasetsArgs, EntityArgs, JobsArgs, Output};
use crate::print_json;

pub async fn stats(store: &dyn Store, out: Output) -> anyhow::Result<()> {
    let datasets = store.datasets().await?;
    if out.json {
        let map: BTreeMap<_, _> = datasets
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    json!({"version": d.version, "entities": d.entities, "schemata": d.schemata}),
                )
            })
            .collect();
        print_json(&json!({ "datasets": map }));
        return Ok(());
    }
    if datasets.is_empty() {
        println!("The store is empty. Try `tandem demo` or `tandem import …`.");
        return Ok(());
    }
    for d in &datasets {
        println!(
            "{} — {} entities (version {})",
            d.name, d.entities, d.version
        );
        for (schema, count) in &d.schemata {
            println!("  {schema:<16} {count:>8}");
        }
    }
    Ok(())
}

pub async fn datasets(store: &dyn Store, args: DatasetsArgs, out: Output) -> anyhow::Result<()> {
    let Some(name) = args.name else {
        let datasets = store.datasets().await?;
        if out.json {
            print_json(&serde_json::to_value(&datasets)?);
        } else {
            for d in &datasets {
                println!(
                    "{:<24} {:>8} entities  {:<10}  version {}  {}",
                    d.name,
                    d.entities,
                    d.sensitivity,
                    d.version,
                    d.title.as_deref().unwrap_or("")
                );
            }
        }
        return Ok(());
    };
    let versions = store.versions(&name).await?;
    if versions.is_empty() {
        bail!("no dataset named {name:?}; `tandem datasets` lists them");
    }
    if args.changes {
        let version = match args.dataset_version {
            Some(v) => v,
            None => versions
                .last()
                .map(|v| v.version.clone())
                .unwrap_or_default(),
        };
        if !versions.iter().any(|v| v.version == version) {
            bail!("dataset {name} has no version {version:?}");
        }
        let changes = store.changes(&name, &version).await?;
        if out.json {
            print_json(&json!({"dataset": name, "version": version, "changes": changes}));
        } else {
            for c in &changes {
                println!(
                    "{:<8} {:<14} {}",
                    serde_json::to_value(c.change)?.as_str().unwrap_or(""),
                    c.schema,
                    c.entity_id
                );
            }
        }
        return Ok(());
    }
    if out.json {
        print_json(&serde_json::to_value(&versions)?);
    } else {
        for v in &versions {
            println!(
                "{}  {}  {} entities (+{} ~{} -{})  from {}",
                v.imported_at, v.version, v.entities, v.added, v.changed, v.removed, v.source
            );
        }
    }
    Ok(())
}

pub async fn entity(store: &dyn Store, args: EntityArgs, out: Output) -> anyhow::Result<()> {
    let held = store.entity(&args.id).await?;
    if held.is_empty() {
        bail!("no entity with id {:?}", args.id);
    }
    let statements = store.statements(&args.id).await?;
    if out.json {
        print_json(&json!({
            "id": args.id,
            "datasets": held.iter().map(|h| json!({
                "dataset": h.dataset,
                "schema": h.entity.schema,
                "caption": h.entity.caption(),
                "sensitivity": h.entity.sensitivity,
                "first_seen": h.first_seen,
                "last_seen": h.last_seen,
            })).collect::<Vec<_>>(),
            "statements": statements,
        }));
        return Ok(());
    }
    for h in &held {
        println!(
            "{} ({}) in {} — {}, seen {} to {}",
            h.entity.caption(),
            h.entity.schema,
            h.dataset,
            h.entity.sensitivity,
            h.first_seen,
            h.last_seen
        );
    }
    for s in &statements {
        println!(
            "  {:<18} {:<40} {} {} ({}–{})",
            s.prop,
            s.value,
            s.provenance.dataset,
            s.provenance.version,
            s.provenance.first_seen,
            s.provenance.last_seen
        );
    }
    Ok(())
}

pub async fn jobs(store: &dyn Store, args: JobsArgs, out: Output) -> anyhow::Result<()> {
    let jobs = store.jobs(args.limit).await?;
    if out.json {
        print_json(&serde_json::to_value(&jobs)?);
        return Ok(());
    }
    for j in &jobs {
        println!(
            "#{:<5} {:<8} {:<11} {:>8}{}  {}  {}",
            j.id,
            j.kind,
            serde_json::to_value(j.state)?.as_str().unwrap_or(""),
            j.done,
            j.total.map(|t| format!("/{t}")).unwrap_or_default(),
            j.updated_at,
            j.message.as_deref().unwrap_or("")
        );
    }
    Ok(())
}
