//! Testimony intelligence ([`IntelligenceStore`], protection spec §4.3 and §6.5): actor mentions
//! waiting for a protection officer to confirm them, the confirmed actors with their
//! re-identification reviews, and the protected link table from opaque testimony references
//! back to cases.
//!
//! The store does not build actor entities (that is `tandem-protect`'s business, which this crate
//! may not use): it keeps who was confirmed as whom, counts independent testimonies per actor
//! and applies the guard ([`GUARD_TESTIMONIES`] or a review). Mention bodies and the case side of
//! each link are sealed with the field-encryption keyring; what stays in clear is opaque
//! (HMAC references, actor ids) or organisational (which organisation's officers decide).

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crypto::Keyring;
use crate::db::{Pool, in_transaction, on_pool};
use crate::protect::Keys;
use crate::store::SqlStore;
use crate::{Result, StoreError};

/// An actor named in at least this many independent testimonies (distinct testimony
/// references) is visible to analysts without a review.
pub const GUARD_TESTIMONIES: u64 = 2;
/// Longest review reason, in characters: a reason, not a narrative.
pub const MAX_REASON_CHARS: usize = 200;

/// The protected link of one testimony to its case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTestimonyLink {
    /// HMAC-SHA-256(intel key, testimony id), hex.
    pub testimony_ref: String,
    /// A keyed blind reference of the case id (erasure finds links by it).
    pub case_ref: String,
    /// Sealed: readable only with the field-encryption key.
    pub case_id: String,
    /// Sealed with the case id.
    pub testimony_record_id: i64,
    /// Whose protection officers confirm the mentions.
    pub organisation_id: i64,
}

/// One actor mention to confirm; `body` (sanitised actor data, candidates) is sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMention {
    pub mention_index: u32,
    pub body: Value,
}

/// A stored mention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    pub id: i64,
    pub testimony_ref: String,
    pub mention_index: u32,
    pub organisation_id: i64,
    pub body: Value,
    /// The actor it was confirmed as; `None` while it waits for a decision.
    pub actor_id: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub created_at: String,
}

/// A re-identification review: a protection officer judged that the actor's data cannot point
/// back to the person who testified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub by: String,
    pub by_user_id: Option<i64>,
    pub at: String,
    pub reason: String,
}

/// A confirmed actor and where it stands under the guard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelActor {
    pub actor_id: String,
    /// Independent testimonies (distinct testimony references) that name it.
    pub testimonies: u64,
    pub review: Option<Review>,
    /// Visible to analysts: `testimonies >= GUARD_TESTIMONIES` or reviewed.
    pub released: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// What the protected link table says about one testimony reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedLink {
    pub testimony_ref: String,
    pub organisation_id: i64,
    pub case_id: String,
    pub testimony_record_id: i64,
}

/// How a protection officer decided a mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// A new actor with this id (fails when the id is taken).
    New(String),
    /// The same as this existing actor (fails when there is none).
    Same(String),
}

/// The result of [`IntelligenceStore::erase_intelligence_links`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedLinks {
    pub testimonies: u64,
    pub mentions: u64,
    /// Actors that lost a provenance link (those left with none are deleted).
    pub actors: Vec<String>,
}

#[async_trait]
pub trait IntelligenceStore: Send + Sync {
    /// Stores the link of one testimony and its mentions, pending confirmation. A testimony
    /// reference stored before is refused (`Invalid`).
    async fn record_mentions(
        &self,
        link: NewTestimonyLink,
        mentions: Vec<NewMention>,
    ) -> Result<Vec<Mention>>;
    /// Mentions of one organisation (`None`: every organisation), pending ones only or all.
    async fn mentions(
        &self,
        organisation_id: Option<i64>,
        pending_only: bool,
    ) -> Result<Vec<Mention>>;
    async fn mention(&self, id: i64) -> Result<Option<Mention>>;
    /// Confirmed mentions of one actor, oldest first.
    async fn actor_mentions(&self, actor_id: &str) -> Result<Vec<Mention>>;
    /// Confirms a pending mention as a new or an existing actor, in one transaction. Fails with
    /// `NotFound` for an unknown mention or actor and `Invalid` when it was decided already.
    async fn confirm_mention(
        &self,
        id: i64,
        confirmation: Confirmation,
        by: &str,
        by_user_id: Option<i64>,
    ) -> Result<Mention>;
    async fn intel_actor(&self, actor_id: &str) -> Result<Option<IntelActor>>;
    /// Every confirmed actor, by id.
    async fn intel_actors(&self) -> Result<Vec<IntelActor>>;
    /// Records a re-identification review (a later review replaces the earlier one; the audit
    /// log keeps both).
    async fn review_intel_actor(
        &self,
        actor_id: &str,
        by: &str,
        by_user_id: Option<i64>,
        reason: &str,
    ) -> Result<IntelActor>;
    /// Other actors confirmed in the same testimonies as `actor_id`, with the number of
    /// testimonies they share.
    async fn co_mentioned(&self, actor_id: &str) -> Result<Vec<(String, u64)>>;
    /// Opens the protected link of one testimony reference.
    async fn resolve_testimony_ref(&self, testimony_ref: &str) -> Result<Option<ResolvedLink>>;
    /// Removes the links and mentions of every testimony of one case (by its blind reference);
    /// actors left without any mention are deleted. Returns the actors that lost a link.
    async fn erase_intelligence_links(&self, case_ref: &str) -> Result<ErasedLinks>;
}

// ---------------------------------------------------------------------------------------------
// Sealing

fn associated(what: &str, key: &str) -> Vec<u8> {
    // NUL cannot occur in the labels or in hex references, so the parts cannot run together;
    // the prefix differs from entity rows (`tandem/properties…`) and cases (`tandem/case…`).
    format!("tandem/intel\0{what}\0{key}").into_bytes()
}

fn key_needed() -> StoreError {
    StoreError::Invalid(
        "testimony intelligence is sealed and needs a field-encryption key (a key file or \
         TANDEM_KEYS); this store was opened without one"
            .into(),
    )
}

fn seal(keys: &Keys, what: &str, key: &str, value: &Value) -> Result<(String, i64)> {
    let text = serde_json::to_string(value)
        .map_err(|err| StoreError::Invalid(format!("intelligence {what}: {err}")))?;
    keys.retrying(|ring: Option<&Keyring>| {
        let ring = ring.ok_or_else(key_needed)?;
        let blob = ring.encrypt(text.as_bytes(), &associated(what, key))?;
        Ok((hex::encode(blob), i64::from(ring.active_id())))
    })
}

fn open(keys: &Keys, what: &str, key: &str, stored: &str) -> Result<Value> {
    let corrupt =
        |detail: String| StoreError::Corrupt(format!("intelligence {what} {key}: {detail}"));
    let blob = hex::decode(stored).map_err(|_| corrupt("not sealed".into()))?;
    let plain = keys.retrying(|ring: Option<&Keyring>| {
        let ring = ring.ok_or_else(key_needed)?;
        Ok(ring.decrypt(&blob, &associated(what, key))?)
    })?;
    serde_json::from_slice(&plain).map_err(|err| corrupt(err.to_string()))
}

fn mention_key(testimony_ref: &str, index: i64) -> String {
    format!("{testimony_ref}:{index}")
}

/// Testimony references and actor ids are opaque tokens; anything else is refused before it
/// reaches SQL or the associated data.
fn check_token(what: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "{what}: expected an opaque token (letters, digits, - and _), got {value:?}"
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// Rows

const MENTION_COLUMNS: &str = "id, testimony_ref, mention_index, organisation_id, body, \
    actor_id, decided_by, decided_at, created_at";

#[derive(sqlx::FromRow)]
struct MentionRow {
    id: i64,
    testimony_ref: String,
    mention_index: i64,
    organisation_id: i64,
    body: String,
    actor_id: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<String>,
    created_at: String,
}

impl MentionRow {
    fn open(self, keys: &Keys) -> Result<Mention> {
        let key = mention_key(&self.testimony_ref, self.mention_index);
        let body = open(keys, "mention", &key, &self.body)?;
        let mention_index = u32::try_from(self.mention_index).map_err(|_| {
            StoreError::Corrupt(format!("intelligence mention {}: bad index", self.id))
        })?;
        Ok(Mention {
            id: self.id,
            testimony_ref: self.testimony_ref,
            mention_index,
            organisation_id: self.organisation_id,
            body,
            actor_id: self.actor_id,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            created_at: self.created_at,
        })
    }
}

/// The testimony count is computed from the mentions in the same statement, so it cannot
/// disagree with them.
const ACTOR_SELECT: &str = "SELECT a.actor_id, a.created_at, a.updated_at, a.reviewed_by, \
    a.reviewed_by_user_id, a.reviewed_at, a.review_reason, \
    (SELECT COUNT(DISTINCT m.testimony_ref) FROM intel_mentions m WHERE m.actor_id = a.actor_id) \
    AS testimonies FROM intel_actors a";

#[derive(sqlx::FromRow)]
struct ActorRow {
    actor_id: String,
    created_at: String,
    updated_at: String,
    reviewed_by: Option<String>,
    reviewed_by_user_id: Option<i64>,
    reviewed_at: Option<String>,
    review_reason: Option<String>,
    testimonies: i64,
}

impl From<ActorRow> for IntelActor {
    fn from(row: ActorRow) -> IntelActor {
        let testimonies = u64::try_from(row.testimonies).unwrap_or(0);
        let review = match (row.reviewed_by, row.reviewed_at) {
            (Some(by), Some(at)) => Some(Review {
                by,
                by_user_id: row.reviewed_by_user_id,
                at,
                reason: row.review_reason.unwrap_or_default(),
            }),
            _ => None,
        };
        IntelActor {
            released: testimonies >= GUARD_TESTIMONIES || review.is_some(),
            actor_id: row.actor_id,
            testimonies,
            review,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl SqlStore {
    async fn mention_rows(
        &self,
        sql: String,
        values: Vec<crate::db::Scalar>,
    ) -> Result<Vec<Mention>> {
        let rows: Vec<MentionRow> = crate::db::fetch_bound(&self.pool, sql, values).await?;
        rows.into_iter().map(|row| row.open(&self.keys)).collect()
    }
}

#[async_trait]
impl IntelligenceStore for SqlStore {
    async fn record_mentions(
        &self,
        link: NewTestimonyLink,
        mentions: Vec<NewMention>,
    ) -> Result<Vec<Mention>> {
        check_token("testimony reference", &link.testimony_ref)?;
        check_token("case reference", &link.case_ref)?;
        let now = tandem_core::time::now_iso();
        let (link_body, link_key) = seal(
            &self.keys,
            "link",
            &link.testimony_ref,
            &serde_json::json!({"case_id": link.case_id,
                "testimony_record_id": link.testimony_record_id}),
        )?;
        let mut sealed = Vec::with_capacity(mentions.len());
        for mention in &mentions {
            let index = i64::from(mention.mention_index);
            let key = mention_key(&link.testimony_ref, index);
            let (body, key_id) = seal(&self.keys, "mention", &key, &mention.body)?;
            sealed.push((index, body, key_id));
        }
        let ref_ = link.testimony_ref.clone();
        in_transaction!(&self.pool, |tx| {
            let inserted = sqlx::query(
                "INSERT INTO intel_testimony_links (testimony_ref, case_ref, organisation_id, \
                 body, key_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (testimony_ref) DO NOTHING",
            )
            .bind(&link.testimony_ref)
            .bind(&link.case_ref)
            .bind(link.organisation_id)
            .bind(&link_body)
            .bind(link_key)
            .bind(&now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Err(StoreError::Invalid(format!(
                    "testimony reference {ref_} is stored already"
                )));
            }
            for (index, body, key_id) in &sealed {
                sqlx::query(
                    "INSERT INTO intel_mentions (testimony_ref, mention_index, organisation_id, \
                     body, key_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&link.testimony_ref)
                .bind(*index)
                .bind(link.organisation_id)
                .bind(body)
                .bind(*key_id)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            }
        });
        self.mention_rows(
            format!(
                "SELECT {MENTION_COLUMNS} FROM intel_mentions WHERE testimony_ref = $1 \
                 ORDER BY mention_index"
            ),
            vec![crate::db::Scalar::Text(ref_)],
        )
        .await
    }

    async fn mentions(
        &self,
        organisation_id: Option<i64>,
        pending_only: bool,
    ) -> Result<Vec<Mention>> {
        let mut sql = format!("SELECT {MENTION_COLUMNS} FROM intel_mentions WHERE 1 = 1");
        let mut values = Vec::new();
        if let Some(org) = organisation_id {
            sql.push_str(" AND organisation_id = $1");
            values.push(crate::db::Scalar::Int(org));
        }
        if pending_only {
            sql.push_str(" AND actor_id IS NULL");
        }
        sql.push_str(" ORDER BY id");
        self.mention_rows(sql, values).await
    }

    async fn mention(&self, id: i64) -> Result<Option<Mention>> {
        Ok(self
            .mention_rows(
                format!("SELECT {MENTION_COLUMNS} FROM intel_mentions WHERE id = $1"),
                vec![crate::db::Scalar::Int(id)],
            )
            .await?
            .pop())
    }

    async fn actor_mentions(&self, actor_id: &str) -> Result<Vec<Mention>> {
        self.mention_rows(
            format!("SELECT {MENTION_COLUMNS} FROM intel_mentions WHERE actor_id = $1 ORDER BY id"),
            vec![crate::db::Scalar::Text(actor_id.to_string())],
        )
        .await
    }

    async fn confirm_mention(
        &self,
        id: i64,
        confirmation: Confirmation,
        by: &str,
        by_user_id: Option<i64>,
    ) -> Result<Mention> {
        if by.trim().is_empty() {
            return Err(StoreError::Invalid("decided_by: missing".into()));
        }
        let (actor_id, new) = match &confirmation {
            Confirmation::New(a) => (a.clone(), true),
            Confirmation::Same(a) => (a.clone(), false),
        };
        check_token("actor id", &actor_id)?;
        let now = tandem_core::time::now_iso();
        in_transaction!(&self.pool, |tx| {
            let state: Option<(Option<String>,)> =
                sqlx::query_as("SELECT actor_id FROM intel_mentions WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match state {
                None => return Err(StoreError::NotFound(format!("intelligence mention {id}"))),
                Some((Some(decided),)) => {
                    return Err(StoreError::Invalid(format!(
                        "mention {id} was confirmed already (as actor {decided})"
                    )));
                }
                Some((None,)) => {}
            }
            if new {
                let inserted = sqlx::query(
                    "INSERT INTO intel_actors (actor_id, created_at, updated_at) \
                     VALUES ($1, $2, $2) ON CONFLICT (actor_id) DO NOTHING",
                )
                .bind(&actor_id)
                .bind(&now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    return Err(StoreError::Invalid(format!(
                        "actor {actor_id} exists already: confirm the mention as the same actor"
                    )));
                }
            } else {
                let updated =
                    sqlx::query("UPDATE intel_actors SET updated_at = $2 WHERE actor_id = $1")
                        .bind(&actor_id)
                        .bind(&now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                if updated == 0 {
                    return Err(StoreError::NotFound(format!(
                        "intelligence actor {actor_id}"
                    )));
                }
            }
            // The `actor_id IS NULL` condition makes a concurrent second decision fail
            // instead of overwriting the first.
            let decided = sqlx::query(
                "UPDATE intel_mentions SET actor_id = $2, decided_by = $3, \
                 decided_by_user_id = $4, decided_at = $5 WHERE id = $1 AND actor_id IS NULL",
            )
            .bind(id)
            .bind(&actor_id)
            .bind(by.trim())
            .bind(by_user_id)
            .bind(&now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if decided == 0 {
                return Err(StoreError::Invalid(format!(
                    "mention {id} was confirmed meanwhile"
                )));
            }
        });
        self.mention(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("intelligence mention {id}")))
    }

    async fn intel_actor(&self, actor_id: &str) -> Result<Option<IntelActor>> {
        let row: Option<ActorRow> = on_pool!(&self.pool, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(format!("{ACTOR_SELECT} WHERE a.actor_id = $1"))
        )
        .bind(actor_id)
        .fetch_optional(pool)
        .await?);
        Ok(row.map(IntelActor::from))
    }

    async fn intel_actors(&self) -> Result<Vec<IntelActor>> {
        let rows: Vec<ActorRow> = on_pool!(&self.pool, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{ACTOR_SELECT} ORDER BY a.actor_id")
        ))
        .fetch_all(pool)
        .await?);
        Ok(rows.into_iter().map(IntelActor::from).collect())
    }

    async fn review_intel_actor(
        &self,
        actor_id: &str,
        by: &str,
        by_user_id: Option<i64>,
        reason: &str,
    ) -> Result<IntelActor> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::Invalid(
                "reason: say why the actor may be shown".into(),
            ));
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(StoreError::Invalid(format!(
                "reason: at most {MAX_REASON_CHARS} characters, and no personal details"
            )));
        }
        if by.trim().is_empty() {
            return Err(StoreError::Invalid("reviewed_by: missing".into()));
        }
        let now = tandem_core::time::now_iso();
        let updated = on_pool!(&self.pool, |pool| sqlx::query(
            "UPDATE intel_actors SET reviewed_by = $2, reviewed_by_user_id = $3, \
             reviewed_at = $4, review_reason = $5, updated_at = $4 WHERE actor_id = $1"
        )
        .bind(actor_id)
        .bind(by.trim())
        .bind(by_user_id)
        .bind(&now)
        .bind(reason)
        .execute(pool)
        .await?
        .rows_affected());
        if updated == 0 {
            return Err(StoreError::NotFound(format!(
                "intelligence actor {actor_id}"
            )));
        }
        self.intel_actor(actor_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("intelligence actor {actor_id}")))
    }

    async fn co_mentioned(&self, actor_id: &str) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = on_pool!(&self.pool, |pool| sqlx::query_as(
            "SELECT o.actor_id, COUNT(DISTINCT o.testimony_ref) FROM intel_mentions m \
             JOIN intel_mentions o ON o.testimony_ref = m.testimony_ref \
             WHERE m.actor_id = $1 AND o.actor_id IS NOT NULL AND o.actor_id <> $1 \
             GROUP BY o.actor_id ORDER BY o.actor_id"
        )
        .bind(actor_id)
        .fetch_all(pool)
        .await?);
        Ok(rows
            .into_iter()
            .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    async fn resolve_testimony_ref(&self, testimony_ref: &str) -> Result<Option<ResolvedLink>> {
        let row: Option<(i64, String)> = on_pool!(&self.pool, |pool| sqlx::query_as(
            "SELECT organisation_id, body FROM intel_testimony_links WHERE testimony_ref = $1"
        )
        .bind(testimony_ref)
        .fetch_optional(pool)
        .await?);
        let Some((organisation_id, body)) = row else {
            return Ok(None);
        };
        let value = open(&self.keys, "link", testimony_ref, &body)?;
        let corrupt = || StoreError::Corrupt(format!("intelligence link {testimony_ref}"));
        Ok(Some(ResolvedLink {
            testimony_ref: testimony_ref.to_string(),
            organisation_id,
            case_id: value["case_id"].as_str().ok_or_else(corrupt)?.to_string(),
            testimony_record_id: value["testimony_record_id"].as_i64().ok_or_else(corrupt)?,
        }))
    }

    async fn erase_intelligence_links(&self, case_ref: &str) -> Result<ErasedLinks> {
        check_token("case reference", case_ref)?;
        let now = tandem_core::time::now_iso();
        let erased = in_transaction!(&self.pool, |tx| {
            let actors: Vec<(String,)> = sqlx::query_as(
                "SELECT DISTINCT m.actor_id FROM intel_mentions m \
                 JOIN intel_testimony_links l ON l.testimony_ref = m.testimony_ref \
                 WHERE l.case_ref = $1 AND m.actor_id IS NOT NULL ORDER BY m.actor_id",
            )
            .bind(case_ref)
            .fetch_all(&mut *tx)
            .await?;
            let mentions = sqlx::query(
                "DELETE FROM intel_mentions WHERE testimony_ref IN \
                 (SELECT testimony_ref FROM intel_testimony_links WHERE case_ref = $1)",
            )
            .bind(case_ref)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let testimonies = sqlx::query("DELETE FROM intel_testimony_links WHERE case_ref = $1")
                .bind(case_ref)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            for (actor,) in &actors {
                sqlx::query("UPDATE intel_actors SET updated_at = $2 WHERE actor_id = $1")
                    .bind(actor)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
            }
            // An actor no testimony names any more is no longer intelligence at all.
            sqlx::query(
                "DELETE FROM intel_actors WHERE NOT EXISTS \
                 (SELECT 1 FROM intel_mentions m WHERE m.actor_id = intel_actors.actor_id)",
            )
            .execute(&mut *tx)
            .await?;
            ErasedLinks {
                testimonies,
                mentions,
                actors: actors.into_iter().map(|(a,)| a).collect(),
            }
        });
        Ok(erased)
    }
}

// ---------------------------------------------------------------------------------------------
// Key rotation

/// Re-seals every link and mention body that is not under the active key (after `tandem keys
/// rotate`); returns how many it re-sealed. Each row is rewritten only if it is still the one
/// read, so a concurrent erasure or rewrite wins.
pub(crate) async fn reencrypt(store: &SqlStore) -> Result<u64> {
    let Some(ring) = store.keys.current() else {
        return Err(StoreError::Invalid(
            "re-encryption needs the field-encryption keys (a key file or TANDEM_KEYS)".into(),
        ));
    };
    let active = i64::from(ring.active_id());
    let mut resealed = 0;
    let links: Vec<(String, String)> = on_pool!(&store.pool, |pool| sqlx::query_as(
        "SELECT testimony_ref, body FROM intel_testimony_links WHERE key_id <> $1"
    )
    .bind(active)
    .fetch_all(pool)
    .await?);
    for (testimony_ref, body) in links {
        let value = open(&store.keys, "link", &testimony_ref, &body)?;
        let (sealed, key_id) = seal(&store.keys, "link", &testimony_ref, &value)?;
        resealed += on_pool!(&store.pool, |pool| sqlx::query(
            "UPDATE intel_testimony_links SET body = $2, key_id = $3 \
             WHERE testimony_ref = $1 AND body = $4"
        )
        .bind(&testimony_ref)
        .bind(&sealed)
        .bind(key_id)
        .bind(&body)
        .execute(pool)
        .await?
        .rows_affected());
    }
    let mentions: Vec<(i64, String, i64, String)> = on_pool!(&store.pool, |pool| sqlx::query_as(
        "SELECT id, testimony_ref, mention_index, body FROM intel_mentions WHERE key_id <> $1"
    )
    .bind(active)
    .fetch_all(pool)
    .await?);
    for (id, testimony_ref, index, body) in mentions {
        let key = mention_key(&testimony_ref, index);
        let value = open(&store.keys, "mention", &key, &body)?;
        let (sealed, key_id) = seal(&store.keys, "mention", &key, &value)?;
        resealed += on_pool!(&store.pool, |pool| sqlx::query(
            "UPDATE intel_mentions SET body = $2, key_id = $3 WHERE id = $1 AND body = $4"
        )
        .bind(id)
        .bind(&sealed)
        .bind(key_id)
        .bind(&body)
        .execute(pool)
        .await?
        .rows_affected());
    }
    Ok(resealed)
}

/// Adds the sealed intelligence rows per key id to `usage`.
pub(crate) async fn add_key_usage(pool: &Pool, usage: &mut BTreeMap<u32, u64>) -> Result<()> {
    for sql in [
        "SELECT key_id, COUNT(*) FROM intel_testimony_links GROUP BY key_id",
        "SELECT key_id, COUNT(*) FROM intel_mentions GROUP BY key_id",
    ] {
        let rows: Vec<(i64, i64)> =
            on_pool!(pool, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        for (key_id, count) in rows {
            let key_id = u32::try_from(key_id)
                .map_err(|_| StoreError::Corrupt(format!("key id {key_id} is out of range")))?;
            *usage.entry(key_id).or_default() += u64::try_from(count).unwrap_or(0);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked() {
        assert!(check_token("x", "act-0a1b").is_ok());
        assert!(check_token("x", "").is_err());
        assert!(check_token("x", "a b").is_err());
        assert!(check_token("x", "a'--").is_err());
        assert!(check_token("x", &"a".repeat(129)).is_err());
    }

    #[test]
    fn sealed_values_open_only_in_their_place() {
        let keys = Keys::load(crate::KeySource::Text(Keyring::generate().to_text())).unwrap();
        let value = serde_json::json!({"case_id": "c-1"});
        let (body, _) = seal(&keys, "link", "ref1", &value).unwrap();
        assert!(!body.contains("c-1"));
        assert_eq!(open(&keys, "link", "ref1", &body).unwrap(), value);
        assert!(open(&keys, "link", "ref2", &body).is_err());
        assert!(open(&keys, "mention", "ref1", &body).is_err());
        assert!(matches!(
            seal(&Keys::none(), "link", "r", &value),
            Err(StoreError::Invalid(_))
        ));
    }
}
