//! `tandem export FORMAT`: stored entities in formats other tools read. A file is written
//! under a temporary name and renamed when complete, so a failed export leaves no half file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use futures::TryStreamExt;
use tandem_ingest::export::{
    Attachments, CsvEntityWriter, CsvStatementWriter, GraphFormat, GraphWriter,
};
use tandem_ingest::ftm::FtmWriter;
use tandem_store::Store;

use crate::cli::{ExportArgs, ExportFormat};

pub async fn run(store: &dyn Store, args: ExportArgs) -> anyhow::Result<()> {
    let dataset = args.dataset.as_deref();
    if let Some(name) = dataset
        && store.versions(name).await?.is_empty()
    {
        anyhow::bail!("no dataset named {name:?}; `tandem datasets` lists them");
    }
    match &args.output {
        Some(path) => {
            let target = AtomicFile::create(path)?;
            let result = write(store, args.format, dataset, BufWriter::new(target.file()?)).await;
            match result {
                Ok(count) => {
                    target.commit()?;
                    eprintln!("{count} entities written to {}", path.display());
                    Ok(())
                }
                Err(err) => {
                    target.abandon();
                    Err(err)
                }
            }
        }
        None => {
            let stdout = std::io::stdout().lock();
            write(store, args.format, dataset, BufWriter::new(stdout)).await?;
            Ok(())
        }
    }
}

async fn write<W: Write>(
    store: &dyn Store,
    format: ExportFormat,
    dataset: Option<&str>,
    out: W,
) -> anyhow::Result<u64> {
    let mut count = 0u64;
    let mut entities = store.entities(dataset);
    match format {
        ExportFormat::Ftm => {
            let mut writer = FtmWriter::new(out);
            while let Some(stored) = entities.try_next().await? {
                writer.write_with_datasets(&stored.entity, &[stored.dataset.as_str()])?;
                count += 1;
            }
            writer.finish()?.flush()?;
        }
        ExportFormat::Csv => {
            // Sanctions and documents are folded into the row of the entity they name, so the
            // attachments are gathered in a first pass.
            let mut attachments = Attachments::new();
            while let Some(stored) = entities.try_next().await? {
                attachments.add(&stored.entity);
            }
            drop(entities);
            let mut writer = CsvEntityWriter::new(out)?;
            let mut entities = store.entities(dataset);
            while let Some(stored) = entities.try_next().await? {
                if writer.write(&stored.entity, &attachments, &[stored.dataset.as_str()])? {
                    count += 1;
                }
            }
            writer.finish()?.flush()?;
        }
        ExportFormat::Statements => {
            let mut writer = CsvStatementWriter::new(out)?;
            while let Some(stored) = entities.try_next().await? {
                for statement in store.statements(&stored.entity.id).await? {
                    if statement.provenance.dataset == stored.dataset {
                        writer.write_statement(&statement)?;
                    }
                }
                count += 1;
            }
            writer.finish()?.flush()?;
        }
        ExportFormat::Graphml | ExportFormat::Gexf => {
            let graph_format = if format == ExportFormat::Graphml {
                GraphFormat::GraphMl
            } else {
                GraphFormat::Gexf
            };
            let mut writer = GraphWriter::new(out, graph_format);
            while let Some(stored) = entities.try_next().await? {
                writer.write(&stored.entity);
                count += 1;
            }
            let (mut out, summary) = writer.finish()?;
            out.flush()?;
            eprintln!(
                "{} nodes, {} edges ({} edges to entities outside the export left out)",
                summary.nodes, summary.edges, summary.dangling
            );
        }
    }
    Ok(count)
}

/// A file written under a temporary name beside its target and renamed into place at the end.
struct AtomicFile {
    target: PathBuf,
    temporary: PathBuf,
}

impl AtomicFile {
    fn create(target: &Path) -> anyhow::Result<AtomicFile> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "export".to_string());
        let temporary = target.with_file_name(format!(".{name}.{}.partial", std::process::id()));
        Ok(AtomicFile {
            target: target.to_path_buf(),
            temporary,
        })
    }

    fn file(&self) -> anyhow::Result<File> {
        File::create(&self.temporary)
            .with_context(|| format!("{}: cannot create", self.target.display()))
    }

    fn commit(self) -> anyhow::Result<()> {
        std::fs::rename(&self.temporary, &self.target)
            .with_context(|| format!("{}: cannot write", self.target.display()))
    }

    fn abandon(self) {
        let _ = std::fs::remove_file(&self.temporary);
    }
}
