//! `tandem serve`, `tandem user …`, `tandem audit …`, `tandem keys …`.

use std::sync::Arc;

use anyhow::{Context, bail};
use serde_json::json;
use tandem_server::{AppState, Overrides, ServerConfig};
use tandem_store::Store;
use tandem_store::crypto::Keyring;
use tandem_store::security::{AuditFilter, AuditOutcome, NewAuditEntry};

use crate::cli::{AuditCommand, KeysCommand, Output, ServeArgs, UserCommand};
use crate::{demo, print_json};

/// Audits what an administrator does from the command line (the operating-system user acts).
pub async fn audit_cli(
    store: &dyn Store,
    action: &str,
    target: Option<String>,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    let actor = std::env::var("USER").unwrap_or_else(|_| "cli".to_string());
    store
        .audit(NewAuditEntry {
            actor_user_id: None,
            actor: format!("cli:{actor}"),
            organisation_id: None,
            action: action.to_string(),
            target,
            outcome: AuditOutcome::Ok,
            detail,
            remote_addr: None,
        })
        .await?;
    Ok(())
}

pub async fn serve(
    store: Arc<dyn Store>,
    key_file: std::path::PathBuf,
    args: ServeArgs,
    out: Output,
) -> anyhow::Result<()> {
    let config = ServerConfig::resolve(
        args.config.as_deref(),
        Overrides {
            bind: args.bind,
            public_url: args.public_url,
            key_file: Some(key_file),
        },
    )?;
    if args.demo
        && !store
            .datasets()
            .await?
            .iter()
            .any(|d| d.name == tandem_ingest::dataset_names::DEMO)
    {
        demo::run(
            store.as_ref(),
            crate::cli::DemoArgs {
                seed: None,
                scale: None,
            },
            Output { json: false },
        )
        .await?;
    }
    let interrupted = store.recover_jobs().await?;
    if !interrupted.is_empty() {
        eprintln!(
            "{} job(s) were interrupted by a stop and can be resumed.",
            interrupted.len()
        );
    }
    let state = AppState::new(store.clone(), config.clone());
    let first_admin = if store.users().await?.is_empty() {
        let (user, password) = tandem_server::pages::add_user(
            &state,
            "admin",
            "Administrator",
            "administrators",
            "admin",
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the first administrator: {e}"))?;
        audit_cli(
            store.as_ref(),
            "user.create",
            Some(user.username.clone()),
            json!({"role": "admin", "first": true}),
        )
        .await?;
        Some((user.username, password))
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let address = listener.local_addr()?;
    if out.json {
        print_json(&json!({
            "url": config.public_url,
            "listening": address.to_string(),
            "first_admin": first_admin.as_ref().map(|(u, p)| json!({"username": u, "one_time_password": p})),
        }));
    } else {
        println!("Tandem is serving at {}", config.public_url);
        if let Some((username, password)) = &first_admin {
            println!("First administrator: {username}");
            println!("One-time password:   {password}");
            println!("(you will choose your own password when you first sign in)");
        }
        println!("Stop with Ctrl-C.");
    }
    tandem_server::serve(store, config, listener, tandem_server::shutdown_signal()).await?;
    Ok(())
}

pub async fn user(store: Arc<dyn Store>, command: UserCommand, out: Output) -> anyhow::Result<()> {
    let state = AppState::new(store.clone(), ServerConfig::default());
    let find = |username: String| {
        let store = store.clone();
        async move {
            store
                .user_by_name(&username.to_lowercase())
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user named {username:?}"))
        }
    };
    match command {
        UserCommand::Add {
            username,
            name,
            org,
            role,
        } => {
            let (user, password) =
                tandem_server::pages::add_user(&state, &username, &name, &org, &role)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", e.detail.unwrap_or_default()))?;
            audit_cli(
                store.as_ref(),
                "user.create",
                Some(user.username.clone()),
                json!({"role": user.role, "organisation": user.organisation_id}),
            )
            .await?;
            if out.json {
                print_json(&json!({"user": user, "one_time_password": password}));
            } else {
                println!("Added {} ({}).", user.username, user.role.as_str());
                println!("One-time password: {password}");
            }
        }
        UserCommand::List => {
            let users = store.users().await?;
            if out.json {
                print_json(&json!(users));
            } else {
                let organisations = store.organisations().await?;
                for u in users {
                    let org = organisations
                        .iter()
                        .find(|o| o.id == u.organisation_id)
                        .map(|o| o.name.as_str())
                        .unwrap_or("");
                    println!(
                        "{:<20} {:<11} {:<20} {}{}",
                        u.username,
                        u.role.as_str(),
                        org,
                        u.display_name,
                        if u.disabled { "  (disabled)" } else { "" }
                    );
                }
            }
        }
        UserCommand::Disable { username } => {
            let user = find(username).await?;
            store.set_user_disabled(user.id, true).await?;
            store.delete_user_sessions(user.id).await?;
            audit_cli(
                store.as_ref(),
                "user.disable",
                Some(user.username.clone()),
                json!({}),
            )
            .await?;
            println!("Disabled {}.", user.username);
        }
        UserCommand::Reset { username } => {
            let user = find(username).await?;
            let (user, password) = tandem_server::pages::reset_password(&state, user.id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            audit_cli(
                store.as_ref(),
                "user.reset",
                Some(user.username.clone()),
                json!({}),
            )
            .await?;
            if out.json {
                print_json(&json!({"username": user.username, "one_time_password": password}));
            } else {
                println!("New one-time password for {}: {password}", user.username);
            }
        }
        UserCommand::Token {
            username,
            name,
            days,
        } => {
            let user = find(username).await?;
            if !(1..=365).contains(&days) {
                bail!("--days {days}: use 1 to 365");
            }
            let secret = tandem_server::auth::random_token();
            let expires = tandem_core::time::iso_from_unix(
                tandem_server::app::unix_now() + i64::from(days) * 86_400,
            );
            let token = store
                .create_api_token(
                    user.id,
                    &name,
                    &tandem_server::auth::token_digest(&secret),
                    Some(&expires),
                )
                .await?;
            audit_cli(
                store.as_ref(),
                "token.create",
                Some(format!("token:{}", token.id)),
                json!({"user": user.username, "name": name, "expires_at": expires}),
            )
            .await?;
            if out.json {
                print_json(&json!({"token": token, "secret": secret}));
            } else {
                println!("API token for {} (expires {expires}):", user.username);
                println!("{secret}");
            }
        }
    }
    Ok(())
}

pub async fn audit(store: &dyn Store, command: AuditCommand, out: Output) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify => {
            let verification = store.verify_audit().await?;
            if out.json {
                print_json(&json!(verification));
            } else if verification.intact {
                println!(
                    "The audit log is intact: {} entries, every hash matches.",
                    verification.entries
                );
            } else {
                println!(
                    "The audit log is BROKEN at entry {}: {}",
                    verification
                        .first_broken_seq
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    verification.problem.as_deref().unwrap_or("")
                );
            }
            if !verification.intact {
                bail!("audit verification failed");
            }
        }
        AuditCommand::List { limit, action } => {
            let entries = store
                .audit_entries(&AuditFilter {
                    action_prefix: action,
                    limit,
                    ..AuditFilter::default()
                })
                .await?;
            if out.json {
                print_json(&json!(entries));
            } else {
                for e in entries {
                    println!(
                        "{:>6} {} {:<16} {:<20} {} {:?}",
                        e.seq,
                        e.at,
                        e.entry.actor,
                        e.entry.action,
                        e.entry.target.unwrap_or_default(),
                        e.entry.outcome
                    );
                }
            }
        }
    }
    Ok(())
}

pub async fn keys(
    store: &dyn Store,
    key_file: &std::path::Path,
    command: KeysCommand,
    out: Output,
) -> anyhow::Result<()> {
    match command {
        KeysCommand::Status => {
            let usage = store.key_usage().await?;
            if out.json {
                print_json(&json!(usage));
            } else {
                for (id, count) in usage {
                    println!("key {id}: {count} protected records");
                }
            }
        }
        KeysCommand::Rotate => {
            if std::env::var_os("TANDEM_KEYS").is_some() {
                bail!(
                    "the keys come from TANDEM_KEYS: rotate them where that variable is set, or use a key file"
                );
            }
            let current = Keyring::load_or_create(key_file)?;
            let rotated = current.rotated();
            // The new key goes to the file first: servers that meet it reload the file.
            rotated.save(key_file)?;
            store.reload_keys().await?;
            let moved = store.reencrypt().await?;
            let usage = store.key_usage().await?;
            let mut kept = rotated.clone();
            for id in rotated.key_ids() {
                if id != rotated.active_id() && usage.get(&id).copied().unwrap_or(0) == 0 {
                    kept = kept.without(id);
                }
            }
            kept.save(key_file)?;
            store.reload_keys().await?;
            audit_cli(
                store,
                "keys.rotate",
                None,
                json!({"active": kept.active_id(), "reencrypted": moved}),
            )
            .await?;
            if out.json {
                print_json(
                    &json!({"active": kept.active_id(), "reencrypted": moved, "keys": kept.key_ids()}),
                );
            } else {
                println!(
                    "Key {} now encrypts; {moved} protected records re-encrypted; keys kept: {:?}.",
                    kept.active_id(),
                    kept.key_ids()
                );
            }
        }
    }
    Ok(())
}
