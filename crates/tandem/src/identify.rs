//! `tandem identify`: assess an answers file against the indicator rule.
//!
//! Prints, per list applied, each dimension and whether the rule is met ("indicators
//! consistent with trafficking") — never a legal label, never shown to the person.

use anyhow::Context;
use tandem_protect::catalogue::Catalogue;
use tandem_protect::identify::{Assessment, DimensionStatus};
use tandem_protect::{Answers, identify};

use crate::cli::{IdentifyArgs, Output};

pub fn run(args: &IdentifyArgs, out: Output) -> anyhow::Result<()> {
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
    Ok(())
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
