//! The indicator catalogue as an administrator-managed, audited thing: review of the active
//! revision, loading a corrected one (validated by `tandem-protect` before anything is stored),
//! a diff against the active one, and activation. Also [`active_catalogue`], which the rest of
//! the server calls to get the catalogue a new assessment must use.
//!
//! Revisions are stored by the SHA-256 of their exact text (the hash every assessment records);
//! the active one is the one activated last (`tandem-store`'s catalogue log). Until an
//! administrator activates one, the catalogue built into Tandem is in force.
//!
//! Access: catalogue administration is part of running the installation, so every route needs
//! the administrators' permission (users × write): analysts, case workers and viewers are
//! refused by the guard.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tandem_protect::catalogue::{
    BUILTIN_TOML, Catalogue, CatalogueError, CatalogueRef, DimensionId, ListId, ListTier,
    TierStatus,
};
use tandem_store::catalogue::{
    CatalogueActivation, CatalogueVersion, NewCatalogueVersion, StoredCatalogue,
};
use tandem_store::security::{AuditOutcome, User};
use tandem_store::{Store, StoreError};

use crate::app::{Access, AppState, Principal, RemoteAddr, Table};
use crate::authz::{Action, Permission, Resource};
use crate::error::{ApiError, ApiResult};
use crate::pages::Chrome;

/// Administrators only (see the module comment).
const ADMIN: Access = Access::Needs(Permission::new(Resource::Users, Action::Write));

pub(crate) fn routes(table: Table) -> Table {
    table
        .page(Method::GET, "/admin/catalogue", ADMIN, catalogue_page)
        .page(Method::POST, "/admin/catalogue", ADMIN, load_page)
        .page(
            Method::POST,
            "/admin/catalogue/{sha256}/activate",
            ADMIN,
            activate_page,
        )
        .api(Method::GET, "/api/v1/catalogue", ADMIN, catalogue_api)
        .api(Method::POST, "/api/v1/catalogue", ADMIN, load_api)
        .api(
            Method::GET,
            "/api/v1/catalogue/{sha256}",
            ADMIN,
            revision_api,
        )
        .api(
            Method::POST,
            "/api/v1/catalogue/{sha256}/activate",
            ADMIN,
            activate_api,
        )
}

/// OpenAPI summaries and request bodies of the JSON routes.
pub fn describe(method: &Method, path: &str) -> Option<(&'static str, Option<Value>)> {
    Some(match (method.as_str(), path) {
        ("GET", "/api/v1/catalogue") => (
            "The indicator catalogue in force (stored or built-in), the stored revisions and the activation log",
            None,
        ),
        ("POST", "/api/v1/catalogue") => (
            "Load a corrected indicator catalogue (TOML text); validated first, nothing is stored when it fails (422 with `line`, `column`, `location`). Optionally activate it",
            Some(
                json!({"type": "object", "required": ["toml"], "properties": {
                "toml": {"type": "string"},
                "note": {"type": "string"},
                "activate": {"type": "boolean"}}}),
            ),
        ),
        ("GET", "/api/v1/catalogue/{sha256}") => (
            "One catalogue revision (stored, or the built-in one) with its text and its differences from the active one",
            None,
        ),
        ("POST", "/api/v1/catalogue/{sha256}/activate") => (
            "Make a stored revision (or the built-in catalogue) the one new assessments use",
            None,
        ),
        _ => return None,
    })
}

// ----- the catalogue in force ----------------------------------------------------------------

/// Why the catalogue in force could not be had.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueLoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored revision no longer validates (e.g. after an upgrade tightened the rules).
    #[error("the stored indicator catalogue {version} ({sha256}) is not usable: {error}")]
    Invalid {
        sha256: String,
        version: String,
        error: CatalogueError,
    },
}

impl From<CatalogueLoadError> for ApiError {
    fn from(err: CatalogueLoadError) -> ApiError {
        match err {
            CatalogueLoadError::Store(err) => err.into(),
            CatalogueLoadError::Invalid { .. } => {
                tracing::error!(%err, "indicator catalogue");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "catalogue_unusable",
                    format!(
                        "{err}. An administrator must activate another revision at /admin/catalogue."
                    ),
                )
            }
        }
    }
}

fn builtin() -> Arc<Catalogue> {
    static BUILTIN: OnceLock<Arc<Catalogue>> = OnceLock::new();
    BUILTIN
        .get_or_init(|| Arc::new(Catalogue::builtin().clone()))
        .clone()
}

/// Parsed revisions by hash. A hash names one exact text, so an entry never goes stale and the
/// cache may be shared by every store the process opens; it only has to stay small.
static PARSED: LazyLock<Mutex<HashMap<String, Arc<Catalogue>>>> = LazyLock::new(Mutex::default);
const PARSED_MAX: usize = 16;

fn cached(sha256: &str) -> Option<Arc<Catalogue>> {
    PARSED.lock().ok()?.get(sha256).cloned()
}

fn remember(catalogue: Arc<Catalogue>) {
    if let Ok(mut parsed) = PARSED.lock() {
        if parsed.len() >= PARSED_MAX {
            parsed.clear();
        }
        parsed.insert(catalogue.sha256().to_string(), catalogue);
    }
}

/// The catalogue a new assessment must use: the revision an administrator activated last, or
/// the built-in one when none was. One small query per call (the active hash), so a change made
/// by another server process or the CLI counts from the next request; the parsed catalogue is
/// cached by hash.
pub async fn active_catalogue(state: &AppState) -> ApiResult<Arc<Catalogue>> {
    Ok(active_catalogue_in(state.store.as_ref()).await?)
}

/// [`active_catalogue`] on a bare store (for the CLI).
pub async fn active_catalogue_in(store: &dyn Store) -> Result<Arc<Catalogue>, CatalogueLoadError> {
    match store.active_catalogue_sha256().await? {
        None => Ok(builtin()),
        Some(sha256) => Ok(catalogue_by_sha256_in(store, &sha256)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt(format!("the active catalogue {sha256} is not stored"))
            })?),
    }
}

/// The catalogue with this hash (built-in or stored), e.g. the one an older assessment used.
pub async fn catalogue_by_sha256(
    state: &AppState,
    sha256: &str,
) -> ApiResult<Option<Arc<Catalogue>>> {
    Ok(catalogue_by_sha256_in(state.store.as_ref(), sha256).await?)
}

/// [`catalogue_by_sha256`] on a bare store.
pub async fn catalogue_by_sha256_in(
    store: &dyn Store,
    sha256: &str,
) -> Result<Option<Arc<Catalogue>>, CatalogueLoadError> {
    let sha256 = sha256.trim().to_ascii_lowercase();
    if sha256 == Catalogue::builtin().sha256() {
        return Ok(Some(builtin()));
    }
    if let Some(catalogue) = cached(&sha256) {
        return Ok(Some(catalogue));
    }
    let Some(stored) = store.catalogue_by_sha256(&sha256).await? else {
        return Ok(None);
    };
    let catalogue =
        Catalogue::from_toml(&stored.toml).map_err(|error| CatalogueLoadError::Invalid {
            sha256: stored.meta.sha256.clone(),
            version: stored.meta.version.clone(),
            error,
        })?;
    let catalogue = Arc::new(catalogue);
    remember(catalogue.clone());
    Ok(Some(catalogue))
}

/// What is in force, with its record when it is stored.
pub struct ActiveStatus {
    pub catalogue: Result<Arc<Catalogue>, String>,
    /// `None`: the built-in catalogue (never activated from the store).
    pub stored: Option<CatalogueVersion>,
    pub activation: Option<CatalogueActivation>,
}

pub async fn active_status_in(store: &dyn Store) -> Result<ActiveStatus, StoreError> {
    let activation = store.catalogue_activations(1).await?.into_iter().next();
    let stored = match &activation {
        Some(a) => store.catalogue_by_sha256(&a.sha256).await?.map(|t| t.meta),
        None => None,
    };
    let catalogue = match active_catalogue_in(store).await {
        Ok(catalogue) => Ok(catalogue),
        Err(CatalogueLoadError::Store(err)) => return Err(err),
        Err(err) => Err(err.to_string()),
    };
    Ok(ActiveStatus {
        catalogue,
        stored,
        activation,
    })
}

/// The JSON of `GET /api/v1/catalogue` (also `tandem catalogue show --json`).
pub async fn overview_json(store: &dyn Store) -> Result<Value, StoreError> {
    let status = active_status_in(store).await?;
    let versions = store.catalogue_versions().await?;
    let activations = store.catalogue_activations(50).await?;
    let builtin = Catalogue::builtin().reference();
    let active = match &status.catalogue {
        Ok(catalogue) => {
            let reference = catalogue.reference();
            json!({
                "source": if status.stored.is_some() { "stored" } else { "builtin" },
                "id": reference.id,
                "version": reference.version,
                "sha256": reference.sha256,
                "status": catalogue.header.status,
                "loaded_by": status.stored.as_ref().map(|s| &s.loaded_by),
                "loaded_at": status.stored.as_ref().map(|s| &s.loaded_at),
                "activated_by": status.activation.as_ref().map(|a| &a.activated_by),
                "activated_at": status.activation.as_ref().map(|a| &a.activated_at),
                "indicators": catalogue.indicators.len(),
                "uncertain_tiers": uncertain_cells(catalogue),
            })
        }
        Err(error) => json!({
            "source": "stored",
            "error": error,
            "sha256": status.activation.as_ref().map(|a| &a.sha256),
            "version": status.stored.as_ref().map(|s| &s.version),
        }),
    };
    Ok(json!({
        "active": active,
        "builtin": {
            "id": builtin.id,
            "version": builtin.version,
            "sha256": builtin.sha256,
            "stored": versions.iter().any(|v| v.sha256 == builtin.sha256),
        },
        "versions": versions,
        "activations": activations,
    }))
}

// ----- differences between two revisions -----------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorBrief {
    pub code: String,
    pub dimension: String,
    pub label: String,
}

/// One cell of the list × indicator table that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellChange {
    pub code: String,
    pub list: String,
    /// `S`, `M`, `W`, or `-` when the indicator is not in the list; for status changes the
    /// verification status (`verified`, `unverified`, `disputed`, with `, doubtful`).
    pub from: String,
    pub to: String,
}

/// What a candidate revision changes, compared with a base (usually the active one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogueDiff {
    pub from: CatalogueRef,
    pub to: CatalogueRef,
    /// The same text: nothing below can differ.
    pub identical: bool,
    pub added: Vec<IndicatorBrief>,
    pub removed: Vec<IndicatorBrief>,
    /// Strength changes, the ones that can change an identification.
    pub tier_changes: Vec<CellChange>,
    /// Verification status or the doubtful mark changed.
    pub status_changes: Vec<CellChange>,
    /// Indicators moved to another dimension.
    pub moved: Vec<CellChange>,
    /// Label, question or topic reworded.
    pub reworded: Vec<String>,
    pub provenance_changed: Vec<String>,
    pub dimensions_changed: Vec<String>,
    pub forced_criminality_added: Vec<String>,
    pub forced_criminality_removed: Vec<String>,
    pub forced_criminality_changed: Vec<String>,
    pub forced_labour_changed: Vec<String>,
}

fn tier_text(cell: Option<&ListTier>) -> String {
    cell.and_then(|c| c.tier)
        .map_or("-".to_string(), |t| t.letter().to_string())
}

fn status_word(status: TierStatus) -> &'static str {
    match status {
        TierStatus::Verified => "verified",
        TierStatus::Unverified => "unverified",
        TierStatus::Disputed => "disputed",
    }
}

fn status_text(cell: Option<&ListTier>) -> String {
    match cell {
        None => "-".to_string(),
        Some(c) if c.doubtful => format!("{}, doubtful", status_word(c.status)),
        Some(c) => status_word(c.status).to_string(),
    }
}

/// Whether a cell's strength is in doubt: not verified against the source, or marked doubtful.
fn uncertain(cell: &ListTier) -> bool {
    cell.tier.is_some() && (cell.status != TierStatus::Verified || cell.doubtful)
}

fn uncertain_cells(catalogue: &Catalogue) -> usize {
    catalogue
        .indicators
        .iter()
        .flat_map(|i| i.tiers.values())
        .filter(|c| uncertain(c))
        .count()
}

fn brief(indicator: &tandem_protect::catalogue::Indicator) -> IndicatorBrief {
    IndicatorBrief {
        code: indicator.code.clone(),
        dimension: indicator.dimension.as_str().to_string(),
        label: indicator.label.clone(),
    }
}

/// The differences that matter to a reviewer between `base` and `candidate`.
pub fn diff(base: &Catalogue, candidate: &Catalogue) -> CatalogueDiff {
    let mut out = CatalogueDiff {
        from: base.reference(),
        to: candidate.reference(),
        identical: base.sha256() == candidate.sha256(),
        added: Vec::new(),
        removed: Vec::new(),
        tier_changes: Vec::new(),
        status_changes: Vec::new(),
        moved: Vec::new(),
        reworded: Vec::new(),
        provenance_changed: Vec::new(),
        dimensions_changed: Vec::new(),
        forced_criminality_added: Vec::new(),
        forced_criminality_removed: Vec::new(),
        forced_criminality_changed: Vec::new(),
        forced_labour_changed: Vec::new(),
    };
    for old in &base.indicators {
        let Some(new) = candidate.indicator(&old.code) else {
            out.removed.push(brief(old));
            continue;
        };
        for list in ListId::ALL {
            let (before, after) = (old.tiers.get(&list), new.tiers.get(&list));
            let change = |from: String, to: String| CellChange {
                code: old.code.clone(),
                list: list.as_str().to_string(),
                from,
                to,
            };
            let (tier_before, tier_after) = (tier_text(before), tier_text(after));
            if tier_before != tier_after {
                out.tier_changes.push(change(tier_before, tier_after));
            }
            let (status_before, status_after) = (status_text(before), status_text(after));
            if status_before != status_after {
                out.status_changes.push(change(status_before, status_after));
            }
        }
        if old.dimension != new.dimension {
            out.moved.push(CellChange {
                code: old.code.clone(),
                list: String::new(),
                from: old.dimension.as_str().to_string(),
                to: new.dimension.as_str().to_string(),
            });
        }
        if (&old.label, &old.question, &old.topic, &old.note)
            != (&new.label, &new.question, &new.topic, &new.note)
        {
            out.reworded.push(old.code.clone());
        }
        if old.provenance != new.provenance {
            out.provenance_changed.push(old.code.clone());
        }
    }
    for new in &candidate.indicators {
        if base.indicator(&new.code).is_none() {
            out.added.push(brief(new));
        }
    }
    for id in DimensionId::ALL {
        if base.dimension(id) != candidate.dimension(id) {
            out.dimensions_changed.push(id.as_str().to_string());
        }
    }
    for old in &base.forced_criminality {
        match candidate.forced_criminality_item(&old.code) {
            None => out.forced_criminality_removed.push(old.code.clone()),
            Some(new) if new != old => out.forced_criminality_changed.push(old.code.clone()),
            Some(_) => {}
        }
    }
    for new in &candidate.forced_criminality {
        if base.forced_criminality_item(&new.code).is_none() {
            out.forced_criminality_added.push(new.code.clone());
        }
    }
    let labour = |c: &Catalogue| -> BTreeMap<String, String> {
        c.forced_labour
            .iter()
            .map(|f| (f.code.clone(), format!("{f:?}")))
            .collect()
    };
    let (before, after) = (labour(base), labour(candidate));
    let codes: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for code in codes {
        if before.get(code) != after.get(code) {
            out.forced_labour_changed.push(code.clone());
        }
    }
    out
}

impl CatalogueDiff {
    /// The differences in words, one line each (pages and the CLI).
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.identical {
            lines.push("Identical to the active catalogue.".to_string());
            return lines;
        }
        if self.from.version != self.to.version {
            lines.push(format!(
                "Version {} → {}.",
                self.from.version, self.to.version
            ));
        }
        for i in &self.added {
            lines.push(format!("Added {} ({}): {}", i.code, i.dimension, i.label));
        }
        for i in &self.removed {
            lines.push(format!("Removed {} ({}): {}", i.code, i.dimension, i.label));
        }
        for c in &self.tier_changes {
            lines.push(format!(
                "Tier of {} in {}: {} → {}",
                c.code, c.list, c.from, c.to
            ));
        }
        for c in &self.status_changes {
            lines.push(format!(
                "Status of {} in {}: {} → {}",
                c.code, c.list, c.from, c.to
            ));
        }
        for c in &self.moved {
            lines.push(format!(
                "{} moved from dimension {} to {}",
                c.code, c.from, c.to
            ));
        }
        let listed = |lines: &mut Vec<String>, what: &str, codes: &[String]| {
            if !codes.is_empty() {
                lines.push(format!("{what}: {}", codes.join(", ")));
            }
        };
        listed(&mut lines, "Reworded", &self.reworded);
        listed(&mut lines, "Provenance changed", &self.provenance_changed);
        listed(
            &mut lines,
            "Dimensions described anew",
            &self.dimensions_changed,
        );
        listed(
            &mut lines,
            "Forced-criminality items added",
            &self.forced_criminality_added,
        );
        listed(
            &mut lines,
            "Forced-criminality items removed",
            &self.forced_criminality_removed,
        );
        listed(
            &mut lines,
            "Forced-criminality items changed",
            &self.forced_criminality_changed,
        );
        listed(
            &mut lines,
            "Forced-labour indicators changed",
            &self.forced_labour_changed,
        );
        if lines.is_empty() {
            lines.push(
                "No indicator, tier or status differs (only comments, layout or header fields)."
                    .to_string(),
            );
        }
        lines
    }
}

// ----- loading and activating (shared by the pages, the API and the CLI) ---------------------

/// A rejected text: where it is wrong and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocatedError {
    pub line: usize,
    pub column: Option<usize>,
    pub location: Option<String>,
    pub message: String,
}

impl LocatedError {
    pub fn from_catalogue(err: &CatalogueError) -> LocatedError {
        match err {
            CatalogueError::Syntax {
                line,
                column,
                message,
            } => LocatedError {
                line: *line,
                column: Some(*column),
                location: None,
                message: message.clone(),
            },
            CatalogueError::Invalid {
                line,
                location,
                message,
            } => LocatedError {
                line: *line,
                column: None,
                location: Some(location.clone()),
                message: message.clone(),
            },
        }
    }

    /// `line 12, column 3: …` or `line 40: indicator DR-01, tiers.AL: …`.
    pub fn describe(&self) -> String {
        let mut text = format!("line {}", self.line);
        if let Some(column) = self.column {
            text.push_str(&format!(", column {column}"));
        }
        if let Some(location) = &self.location {
            text.push_str(&format!(": {location}"));
        }
        format!("{text}: {}", self.message)
    }
}

/// The one form in which catalogue texts are kept and hashed: LF line ends. Browsers send a
/// textarea with CR LF and files edited on Windows have them; without this the same catalogue
/// pasted, uploaded or loaded by the CLI would get three hashes.
pub fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Validates and parses a candidate text (nothing is stored).
pub fn check(text: &str) -> Result<Catalogue, LocatedError> {
    Catalogue::from_toml(text).map_err(|err| LocatedError::from_catalogue(&err))
}

/// Stores a validated revision. `actor` is a username or `cli:<os user>`.
pub async fn store_revision(
    store: &dyn Store,
    catalogue: &Catalogue,
    text: &str,
    actor: &str,
    actor_id: Option<i64>,
    note: &str,
) -> Result<StoredCatalogue, StoreError> {
    let stored = store
        .store_catalogue(NewCatalogueVersion {
            catalogue_id: catalogue.header.id.clone(),
            version: catalogue.version().to_string(),
            toml: text.to_string(),
            loaded_by: actor.to_string(),
            loaded_by_user_id: actor_id,
            note: note.to_string(),
        })
        .await?;
    if stored.version.sha256 != catalogue.sha256() {
        // Both hash the same bytes with the same function; a difference is a defect.
        return Err(StoreError::Corrupt(format!(
            "the store hashed the catalogue as {}, the parser as {}",
            stored.version.sha256,
            catalogue.sha256()
        )));
    }
    Ok(stored)
}

/// Makes the revision with this hash active; the built-in catalogue is stored first when it is
/// asked for and not stored yet. Returns `None` when that revision is active already (nothing
/// is written), else the activation and, when the built-in one had to be stored, its record.
pub async fn activate_revision(
    store: &dyn Store,
    sha256: &str,
    actor: &str,
    actor_id: Option<i64>,
) -> Result<Option<(CatalogueActivation, Option<StoredCatalogue>)>, StoreError> {
    let sha256 = sha256.trim().to_ascii_lowercase();
    if store.active_catalogue_sha256().await?.as_deref() == Some(sha256.as_str()) {
        return Ok(None);
    }
    let builtin = Catalogue::builtin();
    let mut stored_builtin = None;
    if sha256 == builtin.sha256() && store.catalogue_by_sha256(&sha256).await?.is_none() {
        stored_builtin = Some(
            store_revision(
                store,
                builtin,
                BUILTIN_TOML,
                actor,
                actor_id,
                "the catalogue built into Tandem",
            )
            .await?,
        );
    }
    let activation = store.activate_catalogue(&sha256, actor, actor_id).await?;
    Ok(Some((activation, stored_builtin)))
}

async fn audit_load(
    state: &AppState,
    user: &User,
    remote: Option<String>,
    stored: &StoredCatalogue,
) -> ApiResult<()> {
    state
        .audit(
            Some(user),
            "catalogue.load",
            Some(stored.version.sha256.clone()),
            AuditOutcome::Ok,
            json!({
                "version": stored.version.version,
                "catalogue_id": stored.version.catalogue_id,
                "created": stored.created,
            }),
            remote,
        )
        .await
}

async fn audit_rejected(
    state: &AppState,
    user: &User,
    remote: Option<String>,
    error: &LocatedError,
) -> ApiResult<()> {
    state
        .audit(
            Some(user),
            "catalogue.load",
            None,
            AuditOutcome::Failed,
            json!({"line": error.line, "location": error.location, "message": error.message}),
            remote,
        )
        .await
}

/// Activates and audits (the load of the built-in catalogue too, when it had to be stored).
/// Returns whether anything changed.
async fn activate_audited(
    state: &AppState,
    user: &User,
    remote: Option<String>,
    sha256: &str,
) -> ApiResult<Option<CatalogueActivation>> {
    let previous = state.store.active_catalogue_sha256().await?;
    let Some((activation, stored_builtin)) =
        activate_revision(state.store.as_ref(), sha256, &user.username, Some(user.id)).await?
    else {
        return Ok(None);
    };
    if let Some(stored) = &stored_builtin {
        audit_load(state, user, remote.clone(), stored).await?;
    }
    state
        .audit(
            Some(user),
            "catalogue.activate",
            Some(activation.sha256.clone()),
            AuditOutcome::Ok,
            json!({
                "version": activation.version,
                "previous_sha256": previous
                    .unwrap_or_else(|| Catalogue::builtin().sha256().to_string()),
            }),
            remote,
        )
        .await?;
    Ok(Some(activation))
}

// ----- JSON API ------------------------------------------------------------------------------

async fn catalogue_api(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(overview_json(state.store.as_ref()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadRequest {
    toml: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    activate: bool,
}

/// 422 with the place of the fault as extension members of the problem document.
fn located_problem(error: &LocatedError) -> Response {
    let body = json!({
        "type": "https://tandem.invalid/problems/catalogue_invalid",
        "title": "Unprocessable Entity",
        "status": 422,
        "code": "catalogue_invalid",
        "detail": format!("the catalogue is not valid: {}", error.describe()),
        "field": "toml",
        "line": error.line,
        "column": error.column,
        "location": error.location,
        "message": error.message,
    });
    let mut response = (
        StatusCode::UNPROCESSABLE_ENTITY,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

async fn load_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Json(request): Json<LoadRequest>,
) -> ApiResult<Response> {
    let text = normalise(&request.toml);
    let candidate = match check(&text) {
        Ok(candidate) => candidate,
        Err(error) => {
            audit_rejected(&state, &principal.user, remote, &error).await?;
            return Ok(located_problem(&error));
        }
    };
    // A broken active revision must not stand in the way of loading its fix: no diff then.
    let active = active_catalogue(&state).await.ok();
    let stored = store_revision(
        state.store.as_ref(),
        &candidate,
        &text,
        &principal.user.username,
        Some(principal.user.id),
        &request.note,
    )
    .await?;
    audit_load(&state, &principal.user, remote.clone(), &stored).await?;
    let activation = if request.activate {
        activate_audited(&state, &principal.user, remote, &stored.version.sha256).await?
    } else {
        None
    };
    let status = if stored.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let version = state
        .store
        .catalogue_by_sha256(&stored.version.sha256)
        .await?
        .map_or(stored.version.clone(), |t| t.meta);
    Ok((
        status,
        Json(json!({
            "version": version,
            "created": stored.created,
            "activation": activation,
            "diff": active.map(|active| diff(&active, &candidate)),
        })),
    )
        .into_response())
}

async fn revision_api(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
) -> ApiResult<Json<Value>> {
    let Some(catalogue) = catalogue_by_sha256(&state, &sha256).await? else {
        return Err(ApiError::not_found(format!(
            "no catalogue revision has hash {sha256}"
        )));
    };
    let stored = state.store.catalogue_by_sha256(&sha256).await?;
    let text = stored
        .as_ref()
        .map_or(BUILTIN_TOML.to_string(), |s| s.toml.clone());
    let active = active_catalogue(&state).await?;
    Ok(Json(json!({
        "reference": catalogue.reference(),
        "builtin": catalogue.sha256() == Catalogue::builtin().sha256(),
        "record": stored.map(|s| s.meta),
        "toml": text,
        "diff_from_active": diff(&active, &catalogue),
    })))
}

async fn activate_api(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(sha256): Path<String>,
) -> ApiResult<Json<Value>> {
    let activation = activate_audited(&state, &principal.user, remote, &sha256).await?;
    Ok(Json(json!({
        "changed": activation.is_some(),
        "activation": activation,
        "active": active_catalogue(&state).await?.reference(),
    })))
}

// ----- pages ---------------------------------------------------------------------------------

struct VersionRow {
    sha256: String,
    short: String,
    version: String,
    loaded_by: String,
    loaded_at: String,
    note: String,
    active: bool,
    builtin: bool,
    stored: bool,
    last_activated: String,
    reviewing: bool,
}

struct Cell {
    list: &'static str,
    text: String,
    uncertain: bool,
    title: String,
}

struct IndicatorView {
    code: String,
    label: String,
    question: String,
    topic: String,
    cells: Vec<Cell>,
    provenance: String,
    note: String,
}

struct DimensionView {
    id: &'static str,
    name: String,
    element: String,
    indicators: Vec<IndicatorView>,
}

struct ItemView {
    code: String,
    text: String,
    detail: String,
    status: String,
    uncertain: bool,
    provenance: String,
}

struct Review {
    id: String,
    version: String,
    sha256: String,
    status: String,
    source: String,
    approver: String,
    date: String,
    note: String,
    counts: Vec<(&'static str, usize)>,
    uncertain: usize,
    dimensions: Vec<DimensionView>,
    forced_criminality: Vec<ItemView>,
    forced_labour: Vec<ItemView>,
}

fn provenance_text(p: &tandem_protect::catalogue::Provenance) -> String {
    let mut text = format!("{}, {}", p.document, p.section);
    match (&p.checked_by, &p.checked_on) {
        (Some(by), Some(on)) => text.push_str(&format!(" (checked by {by} on {on})")),
        (Some(by), None) => text.push_str(&format!(" (checked by {by})")),
        (None, Some(on)) => text.push_str(&format!(" (checked on {on})")),
        (None, None) => text.push_str(" (not yet checked)"),
    }
    text
}

fn review(catalogue: &Catalogue) -> Review {
    let header = &catalogue.header;
    let dimensions = catalogue
        .dimensions
        .iter()
        .map(|d| DimensionView {
            id: d.id.as_str(),
            name: d.name.clone(),
            element: d.element.clone(),
            indicators: catalogue
                .indicators
                .iter()
                .filter(|i| i.dimension == d.id)
                .map(|i| IndicatorView {
                    code: i.code.clone(),
                    label: i.label.clone(),
                    question: i.question.clone(),
                    topic: i.topic.clone(),
                    cells: ListId::ALL
                        .into_iter()
                        .map(|list| {
                            let cell = i.tiers.get(&list);
                            let doubt = cell.is_some_and(uncertain);
                            Cell {
                                list: list.as_str(),
                                text: format!(
                                    "{}{}",
                                    tier_text(cell),
                                    if doubt { "?" } else { "" }
                                ),
                                uncertain: doubt,
                                title: status_text(cell),
                            }
                        })
                        .collect(),
                    provenance: provenance_text(&i.provenance),
                    note: i.note.clone().unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    Review {
        id: header.id.clone(),
        version: header.version.clone(),
        sha256: catalogue.sha256().to_string(),
        status: format!("{:?}", header.status).to_lowercase(),
        source: header.source.clone(),
        approver: header.approver.clone().unwrap_or_default(),
        date: header.date.clone().unwrap_or_default(),
        note: header.note.clone().unwrap_or_default(),
        counts: ListId::ALL
            .into_iter()
            .map(|l| (l.as_str(), catalogue.count(l)))
            .collect(),
        uncertain: uncertain_cells(catalogue),
        dimensions,
        forced_criminality: catalogue
            .forced_criminality
            .iter()
            .map(|f| ItemView {
                code: f.code.clone(),
                text: f.question.clone(),
                detail: format!(
                    "{} · {}{}",
                    format!("{:?}", f.element).to_lowercase(),
                    f.theme,
                    if f.sets.is_empty() {
                        String::new()
                    } else {
                        format!(" · sets {}", f.sets.join(", "))
                    }
                ),
                status: status_word(f.status).to_string(),
                uncertain: f.status != TierStatus::Verified,
                provenance: provenance_text(&f.provenance),
            })
            .collect(),
        forced_labour: catalogue
            .forced_labour
            .iter()
            .map(|f| ItemView {
                code: f.code.clone(),
                text: f.label.clone(),
                detail: {
                    let dims: Vec<&str> = f.derived_dimensions.iter().map(|d| d.as_str()).collect();
                    format!(
                        "from {}{}",
                        f.derived_codes.join(", "),
                        if dims.is_empty() {
                            String::new()
                        } else {
                            format!("; any of {}", dims.join(", "))
                        }
                    )
                },
                status: String::new(),
                uncertain: false,
                provenance: provenance_text(&f.provenance),
            })
            .collect(),
    }
}

struct ActiveView {
    version: String,
    sha256: String,
    builtin: bool,
    loaded_by: String,
    loaded_at: String,
    activated_by: String,
    activated_at: String,
}

#[derive(Template)]
#[template(path = "admin/catalogue.html")]
struct CataloguePage {
    chrome: Chrome,
    active: Option<ActiveView>,
    active_error: Option<String>,
    versions: Vec<VersionRow>,
    /// What the review shows: the candidate when there is one, else the active catalogue.
    review: Option<Review>,
    reviewing_candidate: bool,
    /// The candidate's hash when it may be activated (stored or built-in, not active).
    activatable: Option<String>,
    /// The candidate was only checked: nothing is stored.
    checked_only: bool,
    diff: Vec<String>,
    load_error: Option<String>,
    text: String,
    note: String,
}

#[derive(Deserialize, Default)]
struct PageQuery {
    review: Option<String>,
    done: Option<String>,
}

/// A candidate to show beside the active catalogue.
struct Candidate {
    catalogue: Arc<Catalogue>,
    checked_only: bool,
}

#[derive(Default)]
struct PageInput {
    candidate: Option<Candidate>,
    notice: Option<String>,
    load_error: Option<String>,
    text: String,
    note: String,
}

async fn render_page(
    state: &AppState,
    principal: &Principal,
    input: PageInput,
    status: StatusCode,
) -> ApiResult<Response> {
    let store = state.store.as_ref();
    let active = active_status_in(store).await?;
    let stored = store.catalogue_versions().await?;
    let builtin = Catalogue::builtin();
    let active_sha = active
        .activation
        .as_ref()
        .map_or_else(|| builtin.sha256().to_string(), |a| a.sha256.clone());
    let candidate_sha = input
        .candidate
        .as_ref()
        .map(|c| c.catalogue.sha256().to_string());
    let mut versions: Vec<VersionRow> = stored
        .iter()
        .map(|v| VersionRow {
            short: v.sha256.chars().take(12).collect(),
            version: v.version.clone(),
            loaded_by: v.loaded_by.clone(),
            loaded_at: v.loaded_at.replace('T', " "),
            note: v.note.clone(),
            active: v.active,
            builtin: v.sha256 == builtin.sha256(),
            stored: true,
            last_activated: v
                .last_activated_at
                .as_deref()
                .map_or(String::new(), |t| t.replace('T', " ")),
            reviewing: candidate_sha.as_deref() == Some(v.sha256.as_str()),
            sha256: v.sha256.clone(),
        })
        .collect();
    if !versions.iter().any(|v| v.builtin) {
        versions.push(VersionRow {
            sha256: builtin.sha256().to_string(),
            short: builtin.sha256().chars().take(12).collect(),
            version: builtin.version().to_string(),
            loaded_by: String::new(),
            loaded_at: String::new(),
            note: "the catalogue built into Tandem (not stored until activated)".to_string(),
            active: active.activation.is_none(),
            builtin: true,
            stored: false,
            last_activated: String::new(),
            reviewing: candidate_sha.as_deref() == Some(builtin.sha256()),
        });
    }
    let (active_view, active_error, active_catalogue) = match &active.catalogue {
        Ok(catalogue) => (
            Some(ActiveView {
                version: catalogue.version().to_string(),
                sha256: catalogue.sha256().to_string(),
                builtin: active.stored.is_none(),
                loaded_by: active
                    .stored
                    .as_ref()
                    .map_or(String::new(), |s| s.loaded_by.clone()),
                loaded_at: active
                    .stored
                    .as_ref()
                    .map_or(String::new(), |s| s.loaded_at.replace('T', " ")),
                activated_by: active
                    .activation
                    .as_ref()
                    .map_or(String::new(), |a| a.activated_by.clone()),
                activated_at: active
                    .activation
                    .as_ref()
                    .map_or(String::new(), |a| a.activated_at.replace('T', " ")),
            }),
            None,
            Some(catalogue.clone()),
        ),
        Err(error) => (None, Some(error.clone()), None),
    };
    let candidate = input
        .candidate
        .filter(|c| c.checked_only || c.catalogue.sha256() != active_sha);
    let diff_lines = match (&candidate, &active_catalogue) {
        (Some(c), Some(active)) => diff(active, &c.catalogue).lines(),
        _ => Vec::new(),
    };
    let activatable = candidate
        .as_ref()
        .filter(|c| !c.checked_only && c.catalogue.sha256() != active_sha)
        .map(|c| c.catalogue.sha256().to_string());
    let reviewed = candidate
        .as_ref()
        .map(|c| c.catalogue.clone())
        .or(active_catalogue);
    let page = CataloguePage {
        chrome: Chrome::new(Some(principal), "catalogue").with_notice(input.notice),
        active: active_view,
        active_error,
        versions,
        review: reviewed.as_deref().map(review),
        reviewing_candidate: candidate.is_some(),
        activatable,
        checked_only: candidate.as_ref().is_some_and(|c| c.checked_only),
        diff: diff_lines,
        load_error: input.load_error,
        text: input.text,
        note: input.note,
    };
    let html = page.render().map_err(ApiError::internal)?;
    Ok((status, Html(html)).into_response())
}

/// Fixed messages after a redirect (nothing from the request is reflected).
fn done_notice(done: Option<&str>) -> Option<String> {
    match done? {
        "activated" => Some("Activated: new assessments use this catalogue from now on.".into()),
        "unchanged" => Some("That revision is active already; nothing changed.".into()),
        _ => None,
    }
}

async fn catalogue_page(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<PageQuery>,
) -> ApiResult<Response> {
    let candidate = match query.review.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(sha256) => Some(Candidate {
            catalogue: catalogue_by_sha256(&state, sha256).await?.ok_or_else(|| {
                ApiError::not_found(format!("no catalogue revision has hash {sha256}"))
            })?,
            checked_only: false,
        }),
        None => None,
    };
    let input = PageInput {
        candidate,
        notice: done_notice(query.done.as_deref()),
        ..PageInput::default()
    };
    render_page(&state, &principal, input, StatusCode::OK).await
}

#[derive(Deserialize)]
struct LoadForm {
    #[serde(default)]
    toml: String,
    #[serde(default)]
    note: String,
    /// `check` (validate and compare only), `load`, or `load_activate`.
    #[serde(default)]
    intent: String,
}

async fn load_page(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Form(form): Form<LoadForm>,
) -> ApiResult<Response> {
    let text = normalise(&form.toml);
    let intent = match form.intent.as_str() {
        "" | "load" => "load",
        "check" | "load_activate" => form.intent.as_str(),
        _ => {
            return Err(ApiError::bad_request(
                "intent",
                "use check, load or load_activate",
            ));
        }
    };
    let candidate = match check(&text) {
        Ok(candidate) => candidate,
        Err(error) => {
            if intent != "check" {
                audit_rejected(&state, &principal.user, remote, &error).await?;
            }
            let input = PageInput {
                load_error: Some(format!(
                    "Not loaded — the catalogue is not valid at {}. Nothing was stored.",
                    error.describe()
                )),
                text,
                note: form.note,
                ..PageInput::default()
            };
            return render_page(&state, &principal, input, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    if intent == "check" {
        let input = PageInput {
            candidate: Some(Candidate {
                catalogue: Arc::new(candidate),
                checked_only: true,
            }),
            notice: Some("Valid. Checked only: nothing was stored.".to_string()),
            text,
            note: form.note,
            ..PageInput::default()
        };
        return render_page(&state, &principal, input, StatusCode::OK).await;
    }
    let stored = match store_revision(
        state.store.as_ref(),
        &candidate,
        &text,
        &principal.user.username,
        Some(principal.user.id),
        &form.note,
    )
    .await
    {
        Ok(stored) => stored,
        Err(StoreError::Invalid(message)) => {
            let input = PageInput {
                load_error: Some(format!("Not loaded: {message}. Nothing was stored.")),
                text,
                note: form.note,
                ..PageInput::default()
            };
            return render_page(&state, &principal, input, StatusCode::BAD_REQUEST).await;
        }
        Err(err) => return Err(err.into()),
    };
    audit_load(&state, &principal.user, remote.clone(), &stored).await?;
    let mut notice = if stored.created {
        format!(
            "Loaded version {} ({}).",
            stored.version.version, stored.version.sha256
        )
    } else {
        format!(
            "This exact text is stored already: version {}, loaded by {} on {}.",
            stored.version.version,
            stored.version.loaded_by,
            stored.version.loaded_at.replace('T', " ")
        )
    };
    if intent == "load_activate" {
        let activated =
            activate_audited(&state, &principal.user, remote, &stored.version.sha256).await?;
        notice.push_str(if activated.is_some() {
            " Activated: new assessments use it from now on."
        } else {
            " It is the active catalogue already."
        });
    } else {
        notice.push_str(" Review the differences below, then activate it.");
    }
    let input = PageInput {
        candidate: Some(Candidate {
            catalogue: Arc::new(candidate),
            checked_only: false,
        }),
        notice: Some(notice),
        ..PageInput::default()
    };
    render_page(&state, &principal, input, StatusCode::OK).await
}

async fn activate_page(
    State(state): State<AppState>,
    principal: Principal,
    RemoteAddr(remote): RemoteAddr,
    Path(sha256): Path<String>,
) -> ApiResult<Response> {
    let activated = activate_audited(&state, &principal.user, remote, &sha256).await?;
    let done = if activated.is_some() {
        "activated"
    } else {
        "unchanged"
    };
    Ok(Redirect::to(&format!("/admin/catalogue?done={done}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_does_not_differ_from_itself() {
        let builtin = Catalogue::builtin();
        let same = diff(builtin, builtin);
        assert!(same.identical);
        assert_eq!(same.lines(), ["Identical to the active catalogue."]);
    }

    #[test]
    fn a_changed_tier_an_added_and_a_removed_indicator_are_reported() {
        let builtin = Catalogue::builtin();
        let first = &builtin.indicators[0];
        let al = first.tiers.get(&ListId::AL).and_then(|t| t.tier);
        assert_eq!(al.map(|t| t.letter()), Some("S"), "{}", first.code);
        // Weaken the first indicator's AL tier, and bump the version.
        let code_line = format!("code = \"{}\"", first.code);
        let at = BUILTIN_TOML.find(&code_line).unwrap();
        let tiers_at = at + BUILTIN_TOML[at..].find("AL = \"S\"").unwrap();
        let mut text = BUILTIN_TOML.to_string();
        text.replace_range(tiers_at..tiers_at + 8, "AL = \"W\"");
        let text = text.replacen("version = \"0.1.0\"", "version = \"0.1.1\"", 1);
        let candidate = Catalogue::from_toml(&text).unwrap();
        let changes = diff(builtin, &candidate);
        assert!(!changes.identical);
        assert_eq!(
            changes.tier_changes,
            [CellChange {
                code: first.code.clone(),
                list: "AL".into(),
                from: "S".into(),
                to: "W".into()
            }]
        );
        assert!(changes.added.is_empty() && changes.removed.is_empty());
        let lines = changes.lines();
        assert!(
            lines.contains(&"Version 0.1.0 → 0.1.1.".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&format!("Tier of {} in AL: S → W", first.code)),
            "{lines:?}"
        );
        // Reversed, the same cell changes back.
        let back = diff(&candidate, builtin);
        assert_eq!(back.tier_changes[0].from, "W");
        assert_eq!(back.tier_changes[0].to, "S");
    }

    #[test]
    fn located_errors_name_the_line() {
        let syntax = check("[catalogue\nid = 1").unwrap_err();
        assert_eq!(syntax.line, 1);
        assert!(syntax.column.is_some());
        assert!(
            syntax.describe().starts_with("line 1, column "),
            "{syntax:?}"
        );
        let wrong_tier = BUILTIN_TOML.replacen("AL = \"S\"", "AL = \"X\"", 1);
        let invalid = check(&wrong_tier).unwrap_err();
        assert!(invalid.line > 1, "{invalid:?}");
        assert!(
            invalid
                .describe()
                .contains(&format!("line {}", invalid.line))
        );
    }

    #[test]
    fn uncertain_cells_are_counted() {
        // The built-in catalogue ships AS and CS cells unverified.
        assert!(uncertain_cells(Catalogue::builtin()) > 0);
    }
}
