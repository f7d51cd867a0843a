//! Command-line grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tandem_core::Sensitivity;

#[derive(Parser, Debug)]
#[command(
    name = "tandem",
    version,
    about = "Screen, analyse and protect: one tool against migrant smuggling and human trafficking",
    propagate_version = true
)]
pub struct Cli {
    /// Where the data lives: sqlite://PATH (default) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "TANDEM_DB", default_value = tandem_store::DEFAULT_URL)]
    pub db: String,
    /// Print results as JSON, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// The field-encryption key file (created with a fresh key when missing). `TANDEM_KEYS` may
    /// hold the keys themselves instead. Never store it beside the database's backups.
    #[arg(
        long,
        global = true,
        env = "TANDEM_KEY_FILE",
        default_value = "tandem.key"
    )]
    pub key_file: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug)]
pub struct Output {
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Import a source into the store as a new dataset version.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write stored entities in a format other tools read.
    Export(ExportArgs),
    /// List datasets, or the versions and changes of one.
    Datasets(DatasetsArgs),
    /// Counts per dataset and schema.
    Stats,
    /// Show one entity with every statement and its provenance.
    Entity(EntityArgs),
    /// Long-running work and its progress.
    Jobs(JobsArgs),
    /// Fill the store with a synthetic, fictional smuggling ecosystem to explore.
    Demo(DemoArgs),
    /// Start the web UI and JSON API.
    Serve(ServeArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect and verify the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage field-encryption keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Screen a name (or a CSV batch) against the stored lists.
    Screen(ScreenArgs),
    /// Measure screening accuracy: labelled pairs, perturbations, false positives.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Assess screening answers against the trafficking indicator rule (no data is stored).
    Identify(IdentifyArgs),
    /// Review, load and activate the indicator catalogue that identification uses.
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// Retention of protection records: what is due for review or erasure, and erasure.
    #[command(subcommand)]
    Retention(RetentionCommand),
}

#[derive(Subcommand, Debug)]
pub enum RetentionCommand {
    /// Cases past their retention deadline, held or not, and legal holds due for review
    /// (metadata only: nothing is decrypted).
    Review,
    /// Erase the cases past their deadline that no legal hold keeps: each data key is
    /// destroyed, the rows deleted, and a tombstone stays in the audit log.
    Erase {
        /// Erase what is due now (required: erasure is never the default).
        #[arg(long)]
        due: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum CatalogueCommand {
    /// The catalogue in force (stored or built-in) and the stored revisions.
    Show,
    /// Check a corrected catalogue (TOML) and store it; a fault is reported with its line and
    /// nothing is stored. Loading does not activate unless asked.
    Load {
        file: PathBuf,
        /// Also make it the catalogue new assessments use.
        #[arg(long)]
        activate: bool,
        /// Why this revision (kept with it).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// What a catalogue file changes compared with the one in force (nothing is stored).
    Diff { file: PathBuf },
    /// Make a stored revision, or the built-in catalogue, the one in force (by its SHA-256).
    Activate { sha256: String },
}

#[derive(Args, Debug)]
pub struct IdentifyArgs {
    /// The answers file (JSON: age_at_start, exploitation, indicators, …).
    #[arg(long)]
    pub answers: PathBuf,
    /// A corrected indicator catalogue (TOML) instead of the built-in one.
    #[arg(long)]
    pub catalogue: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ScreenArgs {
    /// The name to screen; or give --entity, or --input and --output for a batch.
    #[arg(required_unless_present_any = ["input", "entity"])]
    pub name: Option<String>,
    /// Screen a stored entity (all its names, birth dates, countries and identifiers)
    /// against the other stored entities.
    #[arg(long, conflicts_with_all = ["name", "input"])]
    pub entity: Option<String>,
    /// Person, Organization, Company, LegalEntity or Vessel.
    #[arg(long, default_value = "Person", conflicts_with = "input")]
    pub schema: String,
    /// YYYY, YYYY-MM or YYYY-MM-DD.
    #[arg(long, conflicts_with = "input")]
    pub birth_date: Option<String>,
    /// Nationality or country: a name ("Libya") or code ("ly").
    #[arg(long, conflicts_with = "input")]
    pub country: Option<String>,
    /// A passport, national ID, registration or IMO number.
    #[arg(long, conflicts_with = "input")]
    pub id_number: Option<String>,
    /// Screen against these datasets only (repeat, or separate with commas; default: all).
    #[arg(long = "dataset", value_delimiter = ',')]
    pub datasets: Vec<String>,
    /// Results scoring at least this are matches.
    #[arg(long, default_value_t = 0.7)]
    pub threshold: f64,
    /// Results per name (default 10; 5 per row in a batch).
    #[arg(long)]
    pub limit: Option<usize>,
    /// A CSV file with columns name,schema,birth_date,country,id_number (others are passed
    /// through to the output); a row may instead name a stored entity in column entity_id.
    #[arg(long, requires = "output", conflicts_with = "name")]
    pub input: Option<PathBuf>,
    /// Where batch results go: FILE.csv (one line per match) or FILE.jsonl (one line per row).
    #[arg(long, requires = "input")]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum EvalCommand {
    /// Precision, recall and F1 on a labelled pairs file (case_group,schema,name1,name2,is_match,…).
    Pairs {
        file: PathBuf,
        #[arg(long, default_value_t = 0.7)]
        threshold: f64,
    },
    /// Recall per perturbation class, on perturbed stored list names (import OFAC and UN first).
    Perturb {
        #[arg(long, default_value_t = 20260227)]
        seed: u64,
        /// Persons sampled from the lists besides every UN record.
        #[arg(long, default_value_t = 1000)]
        persons: usize,
        /// Organisations sampled from the lists besides every UN record.
        #[arg(long, default_value_t = 500)]
        entities: usize,
        #[arg(long, default_value_t = 0.7)]
        threshold: f64,
    },
    /// False-positive rate of people on no list (full_name,date_of_birth,nationality,…).
    Negatives {
        file: PathBuf,
        /// Screen with birth date and nationality, not names only.
        #[arg(long)]
        qualifiers: bool,
        #[arg(long, default_value_t = 0.7)]
        threshold: f64,
        /// Screen against these datasets only (default: all).
        #[arg(long = "dataset", value_delimiter = ',')]
        datasets: Vec<String>,
    },
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TANDEM_BIND")]
    pub bind: Option<std::net::SocketAddr>,
    /// The URL people reach Tandem at; https:// turns on Secure cookies.
    #[arg(long, env = "TANDEM_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A TOML settings file (flags and TANDEM_… variables take precedence).
    #[arg(long, env = "TANDEM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Fill the store with the demo ecosystem first, when it is not there yet.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user; prints a one-time password they must change at first sign-in.
    Add {
        username: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// Organisation short name (created when new).
        #[arg(long)]
        org: String,
        /// admin, analyst, caseworker or viewer.
        #[arg(long)]
        role: String,
    },
    /// List users.
    List,
    /// Disable a user and end their sessions.
    Disable { username: String },
    /// Give a user a new one-time password (also lifts a lockout).
    Reset { username: String },
    /// Create an API token for a user's programs; the secret is printed once.
    Token {
        username: String,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// Days until it expires.
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Prove the hash chain intact, or name the first entry that was altered or removed.
    Verify {
        /// A file kept outside the database (another machine, write-once storage) that records
        /// the chain's head at each verification; earlier heads must still be in the chain,
        /// which catches entries cut off the end of the log.
        #[arg(long)]
        anchor: Option<std::path::PathBuf>,
    },
    /// The latest entries.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Only actions starting with this (e.g. login, protected., user.).
        #[arg(long)]
        action: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Add a new key and re-encrypt every protected value with it. The old keys stay in the
    /// file until `keys prune`, so imports that began before the rotation still commit.
    Rotate,
    /// Remove the keys that no longer encrypt anything, once no import is under way.
    Prune,
    /// Which keys exist and how many protected values each encrypts.
    Status,
}

#[derive(Args, Debug, Clone)]
pub struct ImportOptions {
    /// Dataset name (defaults follow OpenSanctions, e.g. us_ofac_sdn, un_sc_sanctions).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Version label; by default a digest of the input, so re-importing the same files changes nothing.
    #[arg(long)]
    pub dataset_version: Option<String>,
    /// Sensitivity of the dataset's records.
    #[arg(long, value_parser = parse_sensitivity)]
    pub sensitivity: Option<Sensitivity>,
    /// Store the valid records and report the invalid ones instead of stopping at the first.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Where to write the report of rejected records (JSON lines) with --skip-invalid.
    #[arg(long, requires = "skip_invalid")]
    pub rejects: Option<PathBuf>,
}

fn parse_sensitivity(text: &str) -> Result<Sensitivity, String> {
    text.parse()
        .map_err(|e: tandem_core::EntityError| e.to_string())
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// FollowTheMoney entity JSON lines, or delta lines ({"op": ADD|MOD|DEL, "entity": …}).
    Ftm {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The files change the dataset rather than replace it (implied when a line has "op").
        #[arg(long)]
        delta: bool,
        #[command(flatten)]
        options: ImportOptions,
    },
    /// OFAC legacy CSV set: give sdn.csv (add.csv, alt.csv, sdn_comments.csv beside it are found).
    Ofac {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        options: ImportOptions,
    },
    /// UN Security Council consolidated list XML.
    Un {
        file: PathBuf,
        #[command(flatten)]
        options: ImportOptions,
    },
    /// An analyst's own CSV file, mapped to schemata and properties by a TOML mapping.
    Csv {
        file: PathBuf,
        #[arg(long)]
        mapping: PathBuf,
        #[command(flatten)]
        options: ImportOptions,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// FollowTheMoney JSON lines (OpenSanctions, Aleph, yente).
    Ftm,
    /// One row per entity, for spreadsheets.
    Csv,
    /// One row per statement, with provenance.
    Statements,
    /// GraphML network (Gephi, yEd, networkx).
    Graphml,
    /// GEXF network (Gephi).
    Gexf,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    pub format: ExportFormat,
    /// Only this dataset (default: the whole store).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Output file (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DatasetsArgs {
    /// Show this dataset's versions, and with --changes what one version changed.
    pub name: Option<String>,
    /// List the entities added, changed and removed by this version (default: the latest).
    #[arg(long, requires = "name")]
    pub changes: bool,
    #[arg(long, requires = "changes")]
    pub dataset_version: Option<String>,
}

#[derive(Args, Debug)]
pub struct EntityArgs {
    pub id: String,
}

#[derive(Args, Debug)]
pub struct JobsArgs {
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Seed of the generator: the same seed gives the same ecosystem.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Size relative to the default (1.0 ≈ a few hundred actors).
    #[arg(long)]
    pub scale: Option<f64>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_grammar_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
