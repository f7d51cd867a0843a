//! `tandem identify`: assess an answers file against the indicator rule.
//!
//! Prints, per list applied, each dimension and whether the rule is met ("indicators
//! consistent with trafficking") — never a legal label, never shown to the person.

use anyhow::Context;
use serde_json::json;
use tandem_protect::catalogue::Catalogue;
use tandem_protect::identify::{Assessment, DimensionStatus};
use tandem_protect::{Answers, identify};

use tandem_store::security::{AuditOutcome, NewAuditEntry};

use crate::cli::{IdentifyArgs, Output};

/// Runs the assessment and writes its audit entry (spec §3.4: every CLI command is audited)
/// to the store at `db` — when there is one: identification creates no database of its own.
/// The entry holds the catalogue used and the outcome, never an answer, a result or the
/// answers file's name (which may name the person).
pub async fn run_audited(db: &str, args: &IdentifyArgs, out: Output) -> anyhow::Result<()> {
    let result = run(args, out);
    let Some(store) = existing_store(db).await? else {
        return result.map(|_| ());
    };
    let (outcome, detail) = match &result {
        Ok(catalogue) => (
            AuditOutcome::Ok,
            json!({"catalogue": catalogue.id, "version": catalogue.version,
                "sha256": catalogue.sha256}),
        ),
        Err(_) => (
            AuditOutcome::Failed,
            json!({"error": "the answers or the catalogue were refused"}),
        ),
    };
    store
        .audit(NewAuditEntry {
            actor_user_id: None,
            actor: format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "cli".to_string())
            ),
            organisation_id: None,
            action: "identify.run".into(),
            target: None,
            outcome,
            detail,
            remote_addr: None,
        })
        .await
        .context("writing the audit entry of `identify`")?;
    result.map(|_| ())
}

/// The store at `db` if it exists already (a SQLite file that is there, or a PostgreSQL
/// server); `None` for a SQLite path with no file, so that nothing is created.
async fn existing_store(db: &str) -> anyhow::Result<Option<Box<dyn tandem_store::Store>>> {
    if let Some(rest) = db.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || path == ":memory:" || !std::path::Path::new(path).exists() {
            return Ok(None);
        }
    }
    let store = tandem_store::open(db)
        .await
        .map_err(|err| anyhow::anyhow!("cannot open the store to audit `identify`: {err}"))?;
    Ok(Some(store))
}

pub fn run(
    args: &IdentifyArgs,
    out: Output,
) -> anyhow::Result<tandem_protect::catalogue::CatalogueRef> {
    let loaded;
    let catalogue: &Catalogue = match &args.catalogue {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the catalogue {}", path.display()))?;
            loaded = Catalogue::from_toml(&text)
                .with_context(|| format!("catalogue {}", path.display()))?;
            &loaded
        }
        None => Catalogue::builtin(),
    };
    let text = std::fs::read_to_string(&args.answers)
        .with_context(|| format!("cannot read the answers file {}", args.answers.display()))?;
    let answers = Answers::from_json(&text, catalogue)
        .with_context(|| format!("answers file {}", args.answers.display()))?;
    let assessment = identify(catalogue, &answers)
        .with_context(|| format!("answers file {}", args.answers.display()))?;
    if out.json {
        crate::print_json(&serde_json::to_value(&assessment)?);
    } else {
        print_human(&assessment, catalogue);
    }
    Ok(catalogue.reference())
}

fn print_human(assessment: &Assessment, catalogue: &Catalogue) {
    println!(
        "Catalogue {} {} (sha256 {})",
        assessment.catalogue.id,
        assessment.catalogue.version,
        &assessment.catalogue.sha256[..16.min(assessment.catalogue.sha256.len())]
    );
    for note in &assessment.selection.notes {
        println!("Note: {note}");
    }
    for evaluation in &assessment.evaluations {
        println!();
        println!("List {}: {}", evaluation.list, evaluation.summary);
        for (dim, result) in &evaluation.dimensions {
            let name = catalogue.dimension(*dim).map_or("", |d| d.name.as_str());
            let status = match result.status {
                DimensionStatus::Positive => "positive",
                DimensionStatus::NotPositive => "not positive",
                DimensionStatus::NotPositiveUnknownsRemain => "not positive, unknowns remain",
            };
            println!(
                "  {dim} {name}: {status} (S {} M {} W {}){}",
                result.counts.strong,
                result.counts.medium,
                result.counts.weak,
                if result.present.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", result.present.join(", "))
                }
            );
        }
        for follow in &evaluation.follow_up {
            println!(
                "  Follow up on {} ({}): {}",
                follow.dimension,
                follow.dimension_name,
                follow.topics.join("; ")
            );
        }
        if !evaluation.uncertain_tiers.is_empty() {
            println!(
                "  Warning: unverified or disputed tiers used: {}",
                evaluation.uncertain_tiers.join(", ")
            );
        }
    }
    if !assessment.act_occurred.is_empty() {
        let acts: Vec<String> = assessment
            .act_occurred
            .iter()
            .map(|a| format!("{a:?}").to_lowercase())
            .collect();
        println!("\nAct recorded: {}", acts.join(", "));
    }
    if !assessment.forced_labour.is_empty() {
        let codes: Vec<String> = assessment
            .forced_labour
            .iter()
            .map(|f| format!("{} {}", f.code, f.label))
            .collect();
        println!("ILO forced-labour indicators shown: {}", codes.join("; "));
    }
    if assessment.non_punishment.flagged {
        println!(
            "Non-punishment: possible compelled offences or status offences ({}); keep out of \
             any share with prosecution or immigration without consent.",
            assessment.non_punishment.anchors.join("; ")
        );
    }
    println!("Referral: {}", assessment.referral.message);
    for note in assessment
        .notes
        .iter()
        .skip(assessment.selection.notes.len())
    {
        println!("{note}");
    }
}
