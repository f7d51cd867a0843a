//! What name screening keeps: the queries people screened (so that list changes can re-screen
//! them), decisions on (query, list entity) pairs, alerts raised by re-screening, and the rows of
//! batch screening jobs. The matching itself lives in `tandem-match`; this is only its memory.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::db::on_pool;
use crate::store::SqlStore;
use crate::{Result, StoreError};

/// A screened subject, to remember.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewScreeningQuery {
    /// The normalised query (same subject → same key).
    pub query_key: String,
    /// 0 when the query was made outside any organisation.
    pub organisation_id: i64,
    pub schema: String,
    /// The example entity as screened (yente's `{"schema", "properties"}`).
    pub query: serde_json::Value,
    pub user_id: Option<i64>,
    pub username: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreeningQuery {
    pub id: i64,
    pub query_key: String,
    pub organisation_id: i64,
    pub schema: String,
    pub query: serde_json::Value,
    pub user_id: Option<i64>,
    pub username: String,
    pub first_at: String,
    pub last_at: String,
    /// How often it was screened.
    pub times: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Not the same: hidden from later screenings of the query until the entity changes.
    FalsePositive,
    /// The same person or organisation.
    TrueMatch,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::FalsePositive => "false_positive",
            DecisionKind::TrueMatch => "true_match",
        }
    }

    pub fn parse(text: &str) -> Option<DecisionKind> {
        match text {
            "false_positive" => Some(DecisionKind::FalsePositive),
            "true_match" => Some(DecisionKind::TrueMatch),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDecision {
    pub query_key: String,
    pub query: serde_json::Value,
    pub entity_id: String,
    pub decision: DecisionKind,
    pub reason: String,
    pub user_id: Option<i64>,
    pub username: String,
    pub organisation_id: Option<i64>,
    /// The list entity's content (names, birth dates, identifiers, nationalities) when decided;
    /// a later change re-opens a dismissal.
    pub content_hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub id: i64,
    #[serde(flatten)]
    pub decision: NewDecision,
    pub decided_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAlert {
    /// `query:<key>` for a stored screening query, `entity:<id>` for a stored entity.
    pub subject_key: String,
    /// What was screened (the query, or a reference to the stored entity).
    pub subject: serde_json::Value,
    pub organisation_id: Option<i64>,
    pub entity_id: String,
    pub caption: String,
    pub dataset: String,
    pub version: String,
    pub score: f64,
    pub explanations: serde_json::Value,
    pub content_hash: String,
    pub job_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    #[serde(flatten)]
    pub alert: NewAlert,
    pub created_at: String,
}

/// One row of a batch screening job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRow {
    pub row_no: u64,
    pub input: serde_json::Value,
    pub result: Option<serde_json::Value>,
}

#[async_trait]
pub trait ScreeningStore: Send + Sync {
    /// Remembers screened subjects: a subject screened before (same key and organisation) has
    /// its last time, user and count updated.
    async fn record_screening_queries(&self, queries: &[NewScreeningQuery]) -> Result<()>;
    /// Stored screening queries with an id above `after_id`, by id.
    async fn screening_queries(&self, after_id: i64, limit: u32) -> Result<Vec<ScreeningQuery>>;

    /// Stores a decision (decisions are history: nothing is overwritten).
    async fn record_decision(&self, decision: NewDecision) -> Result<Decision>;
    /// The decisions on these queries, oldest first: of one organisation, or of all (`None`).
    async fn decisions_for(
        &self,
        organisation_id: Option<i64>,
        query_keys: &[String],
    ) -> Result<Vec<Decision>>;
    /// Most recent first.
    async fn recent_decisions(&self, limit: u32) -> Result<Vec<Decision>>;

    /// Adds alerts; one already raised for the same subject, entity and entity content is not
    /// raised again. Returns how many are new.
    async fn add_alerts(&self, alerts: &[NewAlert]) -> Result<u64>;
    /// Most recent first; `before_id` pages back.
    async fn alerts(&self, before_id: Option<i64>, limit: u32) -> Result<Vec<Alert>>;

    /// Stores the input rows of a batch job (numbered from 0).
    async fn put_batch_rows(&self, job_id: i64, inputs: &[serde_json::Value]) -> Result<()>;
    /// Sets the results of rows.
    async fn set_batch_results(
        &self,
        job_id: i64,
        results: &[(u64, serde_json::Value)],
    ) -> Result<()>;
    /// Rows in order, from `offset`; `pending_only` gives those without a result yet.
    async fn batch_rows(
        &self,
        job_id: i64,
        offset: u64,
        limit: u32,
        pending_only: bool,
    ) -> Result<Vec<BatchRow>>;
}

fn json_text(value: &serde_json::Value) -> Result<String> {
    serde_json::to_string(value).map_err(|err| StoreError::Invalid(format!("JSON: {err}")))
}

fn parse_json(text: &str, what: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|err| StoreError::Corrupt(format!("{what}: {err}")))
}

fn to_i64(n: u64, what: &str) -> Result<i64> {
    i64::try_from(n).map_err(|_| StoreError::Invalid(format!("{what} {n} is too large")))
}

#[derive(sqlx::FromRow)]
struct QueryRow {
    id: i64,
    query_key: String,
    organisation_id: i64,
    schema: String,
    query: String,
    user_id: Option<i64>,
    username: String,
    first_at: String,
    last_at: String,
    times: i64,
}

#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: i64,
    query_key: String,
    query: String,
    entity_id: String,
    decision: String,
    reason: String,
    user_id: Option<i64>,
    username: String,
    organisation_id: Option<i64>,
    content_hash: String,
    decided_at: String,
}

impl DecisionRow {
    fn into_decision(self) -> Result<Decision> {
        let decision = DecisionKind::parse(&self.decision).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "screening decision {}: unknown kind {:?}",
                self.id, self.decision
            ))
        })?;
        Ok(Decision {
            id: self.id,
            decision: NewDecision {
                query: parse_json(&self.query, &format!("screening decision {}", self.id))?,
                query_key: self.query_key,
                entity_id: self.entity_id,
                decision,
                reason: self.reason,
                user_id: self.user_id,
                username: self.username,
                organisation_id: self.organisation_id,
                content_hash: self.content_hash,
            },
            decided_at: self.decided_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: i64,
    subject_key: String,
    subject: String,
    organisation_id: Option<i64>,
    entity_id: String,
    caption: String,
    dataset: String,
    version: String,
    score: f64,
    explanations: String,
    content_hash: String,
    job_id: Option<i64>,
    created_at: String,
}

const DECISION_COLUMNS: &str = "id, query_key, query, entity_id, decision, reason, user_id, \
    username, organisation_id, content_hash, decided_at";
const ALERT_COLUMNS: &str = "id, subject_key, subject, organisation_id, entity_id, caption, \
    dataset, version, score, explanations, content_hash, job_id, created_at";

#[async_trait]
impl ScreeningStore for SqlStore {
    async fn record_screening_queries(&self, queries: &[NewScreeningQuery]) -> Result<()> {
        if queries.is_empty() {
            return Ok(());
        }
        let rows = queries
            .iter()
            .map(|q| Ok((q, json_text(&q.query)?)))
            .collect::<Result<Vec<_>>>()?;
        on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            for (q, query) in &rows {
                sqlx::query(
                    "INSERT INTO screening_queries (query_key, organisation_id, schema, query, \
                     user_id, username, first_at, last_at, times) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1) \
                     ON CONFLICT (query_key, organisation_id) DO UPDATE SET \
                     last_at = excluded.last_at, user_id = excluded.user_id, \
                     username = excluded.username, times = screening_queries.times + 1",
                )
                .bind(&q.query_key)
                .bind(q.organisation_id)
                .bind(&q.schema)
                .bind(query)
                .bind(q.user_id)
                .bind(&q.username)
                .bind(&q.at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn screening_queries(&self, after_id: i64, limit: u32) -> Result<Vec<ScreeningQuery>> {
        let rows: Vec<QueryRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
            "SELECT id, query_key, organisation_id, schema, query, user_id, username, first_at, \
             last_at, times FROM screening_queries WHERE id > $1 ORDER BY id LIMIT $2"
        )
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(ScreeningQuery {
                    query: parse_json(&row.query, &format!("screening query {}", row.id))?,
                    id: row.id,
                    query_key: row.query_key,
                    organisation_id: row.organisation_id,
                    schema: row.schema,
                    user_id: row.user_id,
                    username: row.username,
                    first_at: row.first_at,
                    last_at: row.last_at,
                    times: u64::try_from(row.times).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn record_decision(&self, decision: NewDecision) -> Result<Decision> {
        if decision.entity_id.trim().is_empty() {
            return Err(StoreError::Invalid("a decision needs an entity id".into()));
        }
        let query = json_text(&decision.query)?;
        let now = tandem_core::time::now_iso();
        let sql = format!(
            "INSERT INTO screening_decisions (query_key, query, entity_id, decision, reason, \
             user_id, username, organisation_id, content_hash, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {DECISION_COLUMNS}"
        );
        let row: DecisionRow =
            on_pool!(&self.pool, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&decision.query_key)
                .bind(query)
                .bind(&decision.entity_id)
                .bind(decision.decision.as_str())
                .bind(&decision.reason)
                .bind(decision.user_id)
                .bind(&decision.username)
                .bind(decision.organisation_id)
                .bind(&decision.content_hash)
                .bind(now)
                .fetch_one(pool)
                .await?);
        row.into_decision()
    }

    async fn decisions_for(
        &self,
        organisation_id: Option<i64>,
        query_keys: &[String],
    ) -> Result<Vec<Decision>> {
        if query_keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        // One statement per key: a request holds at most a few hundred distinct queries, and
        // the index on query_key makes each a point lookup.
        for key in query_keys {
            let sql = format!(
                "SELECT {DECISION_COLUMNS} FROM screening_decisions WHERE query_key = $1 \
                 AND ($2 IS NULL OR organisation_id = $2) ORDER BY id"
            );
            let rows: Vec<DecisionRow> =
                on_pool!(&self.pool, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(key)
                    .bind(organisation_id)
                    .fetch_all(pool)
                    .await?);
            for row in rows {
                out.push(row.into_decision()?);
            }
        }
        out.sort_by_key(|d| d.id);
        Ok(out)
    }

    async fn recent_decisions(&self, limit: u32) -> Result<Vec<Decision>> {
        let sql =
            format!("SELECT {DECISION_COLUMNS} FROM screening_decisions ORDER BY id DESC LIMIT $1");
        let rows: Vec<DecisionRow> =
            on_pool!(&self.pool, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?);
        rows.into_iter().map(DecisionRow::into_decision).collect()
    }

    async fn add_alerts(&self, alerts: &[NewAlert]) -> Result<u64> {
        if alerts.is_empty() {
            return Ok(0);
        }
        let rows = alerts
            .iter()
            .map(|a| Ok((a, json_text(&a.subject)?, json_text(&a.explanations)?)))
            .collect::<Result<Vec<_>>>()?;
        let now = tandem_core::time::now_iso();
        let added = on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            let mut added = 0;
            for (a, subject, explanations) in &rows {
                added += sqlx::query(
                    "INSERT INTO screening_alerts (subject_key, subject, organisation_id, \
                     entity_id, caption, dataset, version, score, explanations, content_hash, \
                     job_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                     ON CONFLICT (subject_key, entity_id, content_hash) DO NOTHING",
                )
                .bind(&a.subject_key)
                .bind(subject)
                .bind(a.organisation_id)
                .bind(&a.entity_id)
                .bind(&a.caption)
                .bind(&a.dataset)
                .bind(&a.version)
                .bind(a.score)
                .bind(explanations)
                .bind(&a.content_hash)
                .bind(a.job_id)
                .bind(&now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            added
        });
        Ok(added)
    }

    async fn alerts(&self, before_id: Option<i64>, limit: u32) -> Result<Vec<Alert>> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM screening_alerts WHERE id < $1 ORDER BY id DESC LIMIT $2"
        );
        let rows: Vec<AlertRow> =
            on_pool!(&self.pool, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(before_id.unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?);
        rows.into_iter()
            .map(|row| {
                let what = format!("screening alert {}", row.id);
                Ok(Alert {
                    id: row.id,
                    alert: NewAlert {
                        subject: parse_json(&row.subject, &what)?,
                        explanations: parse_json(&row.explanations, &what)?,
                        subject_key: row.subject_key,
                        organisation_id: row.organisation_id,
                        entity_id: row.entity_id,
                        caption: row.caption,
                        dataset: row.dataset,
                        version: row.version,
                        score: row.score,
                        content_hash: row.content_hash,
                        job_id: row.job_id,
                    },
                    created_at: row.created_at,
                })
            })
            .collect()
    }

    async fn put_batch_rows(&self, job_id: i64, inputs: &[serde_json::Value]) -> Result<()> {
        let rows = inputs.iter().map(json_text).collect::<Result<Vec<_>>>()?;
        on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            for (n, input) in rows.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO screening_batch_rows (job_id, row_no, input) VALUES ($1, $2, $3)",
                )
                .bind(job_id)
                .bind(n as i64)
                .bind(input)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn set_batch_results(
        &self,
        job_id: i64,
        results: &[(u64, serde_json::Value)],
    ) -> Result<()> {
        let rows = results
            .iter()
            .map(|(n, r)| Ok((to_i64(*n, "row")?, json_text(r)?)))
            .collect::<Result<Vec<_>>>()?;
        on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            for (n, result) in &rows {
                sqlx::query(
                    "UPDATE screening_batch_rows SET result = $3 WHERE job_id = $1 AND row_no = $2",
                )
                .bind(job_id)
                .bind(n)
                .bind(result)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn batch_rows(
        &self,
        job_id: i64,
        offset: u64,
        limit: u32,
        pending_only: bool,
    ) -> Result<Vec<BatchRow>> {
        let offset = to_i64(offset, "offset")?;
        let rows: Vec<(i64, String, Option<String>)> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
                "SELECT row_no, input, result FROM screening_batch_rows WHERE job_id = $1 \
                 AND row_no >= $2 AND ($3 = 0 OR result IS NULL) ORDER BY row_no LIMIT $4",
            )
            .bind(job_id)
            .bind(offset)
            .bind(i64::from(pending_only))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(n, input, result)| {
                let what = format!("batch job {job_id}, row {n}");
                Ok(BatchRow {
                    row_no: u64::try_from(n).unwrap_or(0),
                    input: parse_json(&input, &what)?,
                    result: result
                        .as_deref()
                        .map(|r| parse_json(r, &what))
                        .transpose()?,
                })
            })
            .collect()
    }
}
