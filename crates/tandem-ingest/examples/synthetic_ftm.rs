//! Writes N deterministic synthetic FtM entity lines to standard output, for benchmarks:
//! `synthetic_ftm N [SEED]`.

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = match args.next().map(|a| a.parse()) {
        Some(Ok(n)) => n,
        _ => {
            eprintln!("usage: synthetic_ftm N [SEED]");
            std::process::exit(2);
        }
    };
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 20, stdout);
    for line in tandem_ingest::ftm::synthetic_lines(count, seed) {
        writeln!(out, "{line}")?;
    }
    out.flush()
}
