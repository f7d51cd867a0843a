//! Entity search from a copy of the names index in memory. A search of the stored index scans
//! it (names are matched anywhere within a word), which costs milliseconds per query once the
//! lists are loaded; the copy answers in microseconds. It is current while the store's newest
//! dataset version is the one it was made at: every search checks that (one indexed lookup),
//! searches the store itself while the copy is stale, and has the copy rebuilt in the
//! background, so results never lag behind an import, whichever server process ran it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use tandem_core::Sensitivity;
use tandem_store::{NameTable, Store, StoredEntity};

use crate::error::ApiError;

#[derive(Default)]
pub struct NameSearch {
    copy: RwLock<Option<Copy>>,
    rebuilding: Arc<AtomicBool>,
}

struct Copy {
    version: Option<i64>,
    table: Arc<NameTable>,
}

impl NameSearch {
    /// Up to `limit` entities whose names hold every word of `text`, best ranked first (the
    /// order of [`Store::search_entities`]).
    pub async fn search(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
        text: &str,
        schema: Option<&str>,
        limit: u32,
        ceiling: Sensitivity,
    ) -> Result<Vec<StoredEntity>, ApiError> {
        let version = store.latest_version_id().await?;
        let current = self.copy.read().ok().and_then(|copy| {
            copy.as_ref()
                .filter(|c| c.version == version)
                .map(|c| c.table.clone())
        });
        let Some(table) = current else {
            self.rebuild(store.clone(), version);
            return Ok(store.search_entities(text, schema, limit, ceiling).await?);
        };
        let keys: Vec<(&str, &str)> = table
            .search(text, schema, limit, ceiling)?
            .into_iter()
            .map(|row| (row.dataset.as_str(), row.entity_id.as_str()))
            .collect();
        let mut ids: Vec<&str> = keys.iter().map(|(_, id)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut held: HashMap<(String, String), StoredEntity> = store
            .entities_by_ids(&ids)
            .await?
            .into_iter()
            .map(|h| ((h.dataset.clone(), h.entity.id.clone()), h))
            .collect();
        // An entity gone since the version was read (a concurrent import) is left out.
        let found = keys
            .iter()
            .filter_map(|(dataset, id)| held.remove(&(dataset.to_string(), id.to_string())))
            .collect();
        Ok(found)
    }

    fn rebuild(self: &Arc<Self>, store: Arc<dyn Store>, version: Option<i64>) {
        if self.rebuilding.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            match store.name_table().await {
                Ok(table) => {
                    if let Ok(mut copy) = this.copy.write() {
                        *copy = Some(Copy {
                            version,
                            table: Arc::new(table),
                        });
                    }
                }
                Err(err) => tracing::warn!("names index copy not rebuilt: {err}"),
            }
            this.rebuilding.store(false, Ordering::Release);
        });
    }
}
