//! `tandem demo`: the synthetic ecosystem, imported like any other source.

use tandem_core::Sensitivity;
use tandem_ingest::dataset_names;
use tandem_ingest::demo::{DEMO_DATASET_TITLE, DemoConfig};
use tandem_store::{ImportMode, Store};

use crate::cli::{DemoArgs, Output};
use crate::import::{self, Plan, Records};

pub async fn run(store: &dyn Store, args: DemoArgs, out: Output) -> anyhow::Result<()> {
    let mut config = DemoConfig::default();
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(scale) = args.scale {
        config.scale = scale;
    }
    // `records` borrows the config; the pipeline needs owned, sendable records.
    let records: Records = Box::new(
        tandem_ingest::demo::records(&config)?
            .collect::<Vec<_>>()
            .into_iter()
            .map(Ok),
    );
    let plan = Plan {
        dataset: dataset_names::DEMO.to_string(),
        title: Some(DEMO_DATASET_TITLE.to_string()),
        // The generator is deterministic: the same seed and scale are the same version.
        version: format!(
            "seed-{}-scale-{}-v{}",
            config.seed,
            config.scale,
            env!("CARGO_PKG_VERSION")
        ),
        mode: ImportMode::Full,
        sensitivity: Sensitivity::Public,
        source: "tandem demo (synthetic; every name is fictional)".to_string(),
        skip_invalid: false,
        rejects: None,
    };
    let outcome = import::import(store, plan, records).await?;
    import::print_outcome(&outcome, out);
    if !out.json {
        println!("{DEMO_DATASET_TITLE}");
        println!(
            "Explore it: tandem stats · tandem datasets · tandem export graphml -o demo.graphml"
        );
    }
    Ok(())
}
