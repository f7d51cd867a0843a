//! `tandem`: the command line. `tandem [--db URL] [--json] <noun> <verb> …`

mod admin;
mod allocator;
mod catalogue;
mod cli;
mod demo;
mod eval;
mod export;
mod identify;
mod import;
mod inspect;
mod progress;
mod retention;
mod screen;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use cli::{Cli, Command};

#[global_allocator]
static ALLOCATOR: allocator::Allocator = allocator::Allocator;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TANDEM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The chain names the file, line and field where a reader found the fault.
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// The field-encryption keys: `TANDEM_KEYS` when set, else the key file (created when missing).
fn key_source(cli: &Cli) -> tandem_store::KeySource {
    match std::env::var("TANDEM_KEYS") {
        Ok(text) if !text.trim().is_empty() => tandem_store::KeySource::Text(text),
        _ => tandem_store::KeySource::File(cli.key_file.clone()),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Identification is a pure computation over a file: it creates no store and stores nothing
    // of the answers; an existing store gets its audit entry.
    if let Command::Identify(args) = &cli.command {
        return identify::run_audited(&cli.db, args, cli::Output { json: cli.json }).await;
    }
    let store: Arc<dyn tandem_store::Store> = Arc::from(
        tandem_store::open_with_keys(&cli.db, key_source(&cli))
            .await
            .map_err(|err| {
                anyhow::anyhow!("cannot open the store at {}: {err}", redact_url(&cli.db))
            })?,
    );
    let store_ref = store.as_ref();
    let out = cli::Output { json: cli.json };
    match cli.command {
        Command::Serve(args) => admin::serve(store.clone(), cli.key_file, args, out).await,
        Command::User(command) => admin::user(store.clone(), command, out).await,
        Command::Audit(command) => admin::audit(store_ref, command, out).await,
        Command::Keys(command) => admin::keys(store_ref, &cli.key_file, command, out).await,
        Command::Import(args) => import::run(store.as_ref(), args, out).await,
        Command::Export(args) => export::run(store.as_ref(), args).await,
        Command::Datasets(args) => inspect::datasets(store.as_ref(), args, out).await,
        Command::Stats => inspect::stats(store.as_ref(), out).await,
        Command::Entity(args) => inspect::entity(store.as_ref(), args, out).await,
        Command::Jobs(args) => inspect::jobs(store.as_ref(), args, out).await,
        Command::Demo(args) => demo::run(store.as_ref(), args, out).await,
        Command::Screen(args) => screen::run(store.as_ref(), args, out).await,
        Command::Eval(command) => eval::run(store.as_ref(), command, out).await,
        Command::Identify(args) => identify::run_audited(&cli.db, &args, out).await,
        Command::Retention(command) => retention::run(store_ref, command, out).await,
        Command::Catalogue(command) => catalogue::run(store_ref, command, out).await,
    }
}

/// Database URLs may carry a password; never print it.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact_url("postgres://tandem:secret@db:5432/tandem"),
            "postgres://tandem:***@db:5432/tandem"
        );
        assert_eq!(
            super::redact_url("sqlite://tandem.db"),
            "sqlite://tandem.db"
        );
    }
}
