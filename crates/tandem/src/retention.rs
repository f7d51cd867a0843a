//! `tandem retention review` and `tandem retention erase --due` (spec §6.5): the retention
//! schedule's review list and the erasure of what is due. Both read only clear metadata (case
//! id, organisation, state, deadline, legal holds' review dates); erasure destroys each case's
//! data key, deletes its rows and leaves a tombstone in the audit log. Both are audited.

use anyhow::bail;
use serde_json::json;
use tandem_store::Store;
use tandem_store::cases::RetentionItem;
use tandem_store::security::{AuditOutcome, NewAuditEntry};

use crate::admin::audit_cli;
use crate::cli::{Output, RetentionCommand};
use crate::print_json;

/// Why cases are erased here; kept in every tombstone.
const LEGAL_BASIS: &str = "retention schedule ended (GDPR Art. 5(1)(e) storage limitation)";

pub async fn run(store: &dyn Store, command: RetentionCommand, out: Output) -> anyhow::Result<()> {
    let now = tandem_core::time::now_iso();
    match command {
        RetentionCommand::Review => {
            let items = store.retention_review(&now).await?;
            audit_cli(
                store,
                "retention.review",
                None,
                json!({"listed": items.len(),
                    "erasable": items.iter().filter(|i| i.erasable).count()}),
            )
            .await?;
            if out.json {
                print_json(&json!({"now": now, "items": items}));
            } else {
                print_review(&items);
            }
        }
        RetentionCommand::Erase { due } => {
            if !due {
                bail!(
                    "say what to erase: `tandem retention erase --due` erases the cases past their deadline that no legal hold keeps"
                );
            }
            let actor = format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "cli".to_string())
            );
            let mut erased = Vec::new();
            for case in store.cases_due_for_erasure(&now).await? {
                store
                    .erase_case(
                        &case.id,
                        NewAuditEntry {
                            actor_user_id: None,
                            actor: actor.clone(),
                            organisation_id: None,
                            action: "case.erase".into(),
                            target: Some(case.id.clone()),
                            outcome: AuditOutcome::Ok,
                            detail: json!({"organisation": case.organisation_id,
                                "reason": "retention period ended", "legal_basis": LEGAL_BASIS,
                                "deadline": case.retention_until,
                                "scope": "all data of the case; its data key destroyed"}),
                            remote_addr: None,
                        },
                    )
                    .await?;
                erased.push(case.id);
            }
            audit_cli(
                store,
                "retention.erase",
                None,
                json!({"erased": erased.len()}),
            )
            .await?;
            if out.json {
                print_json(&json!({"erased": erased}));
            } else if erased.is_empty() {
                println!("Nothing is due for erasure.");
            } else {
                for id in &erased {
                    println!("erased {id}");
                }
                println!(
                    "{} case(s) erased; the audit log keeps a tombstone for each.",
                    erased.len()
                );
            }
        }
    }
    Ok(())
}

fn print_review(items: &[RetentionItem]) {
    if items.is_empty() {
        println!("Nothing is due for review or erasure.");
        return;
    }
    for item in items {
        let what = match (&item.hold, item.deadline_passed) {
            (None, _) => "due for erasure".to_string(),
            (Some(hold), true) => format!(
                "past its deadline, kept by legal hold {} (review on {})",
                hold.id,
                day(&hold.review_on)
            ),
            (Some(hold), false) => format!(
                "legal hold {} due for review (since {})",
                hold.id,
                day(&hold.review_on)
            ),
        };
        println!(
            "{}  organisation {}  {}  keep until {}  {what}",
            item.case.id,
            item.case.organisation_id,
            item.case.state,
            day(&item.case.retention_until)
        );
    }
    let erasable = items.iter().filter(|i| i.erasable).count();
    println!(
        "{erasable} of {} can be erased with `tandem retention erase --due`.",
        items.len()
    );
}

fn day(iso: &str) -> String {
    iso.get(..10).unwrap_or(iso).to_string()
}
