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

#[derive(Default)]
struct AnchorCheck {
    checked: usize,
    /// The first recorded head the log no longer holds, described.
    missing: Option<String>,
}

/// Checks that every head recorded in the anchor file is still in the chain with its hash.
/// An intact chain whose end was cut off, or that was rebuilt from some entry on, fails here.
async fn check_anchors(store: &dyn Store, path: &std::path::Path) -> anyhow::Result<AnchorCheck> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    let mut check = AnchorCheck::default();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut fields = line.split('\t');
        let (Some(seq), Some(hash)) = (fields.next(), fields.next()) else {
            bail!(
                "{}:{}: expected `SEQ<TAB>HASH<TAB>TIME`",
                path.display(),
                index + 1
            );
        };
        let seq: i64 = seq.parse().with_context(|| {
            format!("{}:{}: field seq: not a number", path.display(), index + 1)
        })?;
        let found = store
            .audit_entries(&AuditFilter {
                before_seq: Some(seq + 1),
                limit: 1,
                ..AuditFilter::default()
            })
            .await?;
        check.checked += 1;
        match found.first() {
            Some(entry) if entry.seq == seq && entry.hash == hash => {}
            Some(entry) if entry.seq == seq => {
                check.missing = Some(format!(
                    "entry {seq} no longer has the hash recorded in {} line {} (the log was rewritten from there on or earlier)",
                    path.display(),
                    index + 1
                ));
                break;
            }
            _ => {
                check.missing = Some(format!(
                    "entry {seq}, recorded in {} line {}, is gone (entries were cut off the end of the log)",
                    path.display(),
                    index + 1
                ));
                break;
            }
        }
    }
    Ok(check)
}

fn append_anchor(
    path: &std::path::Path,
    head: &tandem_store::security::AuditHead,
) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    writeln!(
        file,
        "{}\t{}\t{}",
        head.seq,
        head.hash,
        tandem_core::time::now_iso()
    )
    .and_then(|()| file.sync_all())
    .with_context(|| format!("writing {}", path.display()))
}

pub async fn audit(store: &dyn Store, command: AuditCommand, out: Output) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify { anchor } => {
            let verification = store.verify_audit().await?;
            let anchors = match (&anchor, verification.intact) {
                (Some(path), true) => check_anchors(store, path).await?,
                _ => AnchorCheck::default(),
            };
            if out.json {
                print_json(&json!({
                    "entries": verification.entries,
                    "intact": verification.intact && anchors.missing.is_none(),
                    "first_broken_seq": verification.first_broken_seq,
                    "problem": verification.problem.clone().or_else(|| anchors.missing.clone()),
                    "head": verification.head,
                    "anchors_checked": anchors.checked,
                }));
            } else if !verification.intact {
                println!(
                    "The audit log is BROKEN at entry {}: {}",
                    verification
                        .first_broken_seq
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    verification.problem.as_deref().unwrap_or("")
                );
            } else if let Some(missing) = &anchors.missing {
                println!("The audit log is BROKEN: {missing}");
            } else {
                let head = verification
                    .head
                    .as_ref()
                    .map(|h| format!(" Head: entry {} {}.", h.seq, h.hash))
                    .unwrap_or_default();
                println!(
                    "The audit log is intact: {} entries, every hash matches, {} anchored heads found.{head}",
                    verification.entries, anchors.checked
                );
            }
            if !verification.intact || anchors.missing.is_some() {
                bail!("audit verification failed");
            }
            if let (Some(path), Some(head)) = (&anchor, &verification.head) {
                append_anchor(path, head)?;
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

/// A running import seen alive in the last day (a process killed mid-import leaves its job
/// `running` until the next start marks it interrupted; such a job no longer holds rows).
async fn import_under_way(store: &dyn Store) -> anyhow::Result<Option<tandem_store::Job>> {
    let day_ago = tandem_core::time::iso_from_unix(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs().saturating_sub(86_400))
            .unwrap_or(0) as i64,
    );
    Ok(store.jobs(1000).await?.into_iter().find(|job| {
        job.kind == "import"
            && job.state == tandem_store::JobState::Running
            && job.updated_at >= day_ago
    }))
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
            // The new key goes to the file first: servers that meet it reload the file. The old
            // keys stay: an import that staged its rows before this moment commits them under
            // the key it began with, and must still find it (`keys prune` removes them later).
            rotated.save(key_file)?;
            store.reload_keys().await?;
            let moved = store.reencrypt().await?;
            audit_cli(
                store,
                "keys.rotate",
                None,
                json!({"active": rotated.active_id(), "reencrypted": moved}),
            )
            .await?;
            if out.json {
                print_json(&json!({
                    "active": rotated.active_id(),
                    "reencrypted": moved,
                    "keys": rotated.key_ids(),
                }));
            } else {
                println!(
                    "Key {} now encrypts; {moved} protected records re-encrypted. Run `tandem keys prune` to remove the old keys once no import is under way.",
                    rotated.active_id(),
                );
            }
        }
        KeysCommand::Prune => {
            if std::env::var_os("TANDEM_KEYS").is_some() {
                bail!("the keys come from TANDEM_KEYS: prune them where that variable is set");
            }
            if let Some(job) = import_under_way(store).await? {
                bail!(
                    "import job {} is under way (last progress {}): its staged rows may still be under an old key; prune when it has finished",
                    job.id,
                    job.updated_at
                );
            }
            let current = Keyring::load_or_create(key_file)?;
            // Whatever an import committed under an old key since the rotation moves first.
            let moved = store.reencrypt().await?;
            let usage = store.key_usage().await?;
            let mut kept = current.clone();
            for id in current.key_ids() {
                if id != current.active_id() && usage.get(&id).copied().unwrap_or(0) == 0 {
                    kept = kept.without(id);
                }
            }
            let removed: Vec<u32> = current
                .key_ids()
                .into_iter()
                .filter(|id| !kept.key_ids().contains(id))
                .collect();
            kept.save(key_file)?;
            store.reload_keys().await?;
            audit_cli(
                store,
                "keys.prune",
                None,
                json!({"removed": removed, "reencrypted": moved}),
            )
            .await?;
            if out.json {
                print_json(
                    &json!({"removed": removed, "keys": kept.key_ids(), "reencrypted": moved}),
                );
            } else {
                println!("Removed keys {removed:?}; keys kept: {:?}.", kept.key_ids());
            }
        }
    }
    Ok(())
}
