//! The names index behind [`crate::Store::search_entities`]: every name-typed value and
//! identifier of an entity that is not protected, folded so that case and accents do not matter,
//! kept in a table that imports maintain like the references table. An entity has one row, its
//! names joined as `\nname\nname\n`: half the rows of one per name, which imports feel, and
//! the newlines (which folding turns into spaces within a name) mark where each name starts and
//! ends, for the exact and prefix ranks.
//!
//! Folding lower-cases, decomposes (NFKD) and drops combining marks, and spells out the few Latin
//! letters that do not decompose (`ß`, `æ`, `ø`, `ł`…). Letters of other scripts stay as they are
//! (lower-cased where the script has case), so a name in Arabic or Cyrillic script is found by
//! the same script.

use tandem_core::{Entity, Model, PropertyType, Sensitivity};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::{Result, StoreError};

/// Words of a query that are matched; more cannot narrow a name down further in practice, and
/// each costs a `LIKE` over the index.
pub(crate) const MAX_QUERY_WORDS: usize = 16;
/// Hits returned at most, whatever the caller asks.
pub(crate) const MAX_HITS: u32 = 1000;

/// `text` lower-cased, without accents, whitespace collapsed to single spaces. Control
/// characters count as space (PostgreSQL cannot even take a NUL in text).
pub(crate) fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut pending_space = false;
    let mut push = |c: char, folded: &mut String| {
        if c.is_whitespace() || c.is_control() {
            pending_space = !folded.is_empty();
            return;
        }
        if pending_space {
            folded.push(' ');
            pending_space = false;
        }
        folded.push(c);
    };
    if text.is_ascii() {
        for c in text.chars() {
            push(c.to_ascii_lowercase(), &mut folded);
        }
        return folded;
    }
    // Lower case both before decomposing (a capital's decomposition may differ) and after
    // (compatibility forms such as `ℌ` decompose to capitals).
    let letters = text
        .chars()
        .flat_map(char::to_lowercase)
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase);
    for c in letters {
        match spelled_out(c) {
            Some(plain) => plain.chars().for_each(|p| push(p, &mut folded)),
            None => push(c, &mut folded),
        }
    }
    folded
}

/// Latin letters that NFKD leaves whole.
fn spelled_out(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'ł' => "l",
        'đ' | 'ð' => "d",
        'þ' => "th",
        'ı' => "i",
        'ħ' => "h",
        _ => return None,
    })
}

/// The row of the names index for `entity`: `None` when it has no names, or is protected.
pub(crate) fn index_row(entity: &Entity) -> Option<String> {
    if entity.sensitivity == Sensitivity::Protected {
        return None;
    }
    let schema = entity.schema();
    row_of(
        entity
            .properties
            .iter()
            .filter(|(prop, _)| schema.property(prop).is_some_and(|p| is_indexed(p.kind)))
            .flat_map(|(_, values)| values.iter().map(String::as_str)),
    )
}

/// Whether values of this type go into the names index.
pub(crate) fn is_indexed(kind: PropertyType) -> bool {
    matches!(kind, PropertyType::Name | PropertyType::Identifier)
}

/// The row of the names index for these values (the name and identifier values of an entity
/// that is not protected, see [`is_indexed`]): folded, each once, in order; `None` when none is
/// left.
pub(crate) fn row_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut names: Vec<String> = values
        .into_iter()
        .map(fold)
        .filter(|name| !name.is_empty())
        .collect();
    if names.is_empty() {
        return None;
    }
    names.sort_unstable();
    names.dedup();
    let mut row = String::with_capacity(names.iter().map(|n| n.len() + 1).sum::<usize>() + 1);
    row.push('\n');
    for name in names {
        row.push_str(&name);
        row.push('\n');
    }
    Some(row)
}

/// A search, ready to run: the SQL and the values to bind, in order.
pub(crate) struct SearchQuery {
    pub sql: String,
    pub values: Vec<String>,
    pub limit: i64,
}

/// `LIKE` pattern for text containing `word`, with `%`, `_` and the escape character escaped.
fn escape_like(word: &str) -> String {
    let mut escaped = String::with_capacity(word.len() + 2);
    for c in word.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The query's words to match: folded, each at most once, and none that a longer word already
/// contains (its condition would add nothing); the longest first.
fn query_words(folded: &str) -> Vec<&str> {
    let mut words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    words.dedup();
    let mut kept: Vec<&str> = Vec::new();
    for word in words {
        if !kept.iter().any(|longer| longer.contains(word)) {
            kept.push(word);
        }
    }
    kept.truncate(MAX_QUERY_WORDS);
    kept
}

/// The schema asked for and every schema that is a kind of it; `None` for any schema.
fn schemata_under(schema: Option<&str>) -> Result<Option<Vec<String>>> {
    let Some(name) = schema else {
        return Ok(None);
    };
    let model = Model::get();
    if model.schema(name).is_none() {
        return Err(StoreError::Invalid(format!("unknown schema {name:?}")));
    }
    Ok(Some(
        model
            .schemata()
            .filter(|s| s.is_a(name))
            .map(|s| s.name.clone())
            .collect(),
    ))
}

/// One entity's row of the names index, with what a search filters on.
#[derive(Debug, Clone)]
pub struct NameRow {
    pub dataset: String,
    pub entity_id: String,
    pub schema: String,
    pub sensitivity: Sensitivity,
    /// The folded names, `\nname\nname\n`.
    pub names: String,
}

/// The names index held in memory, for a server that answers many searches: the same search
/// as [`crate::Store::search_entities`] (same words, ranks and order) without a scan of the
/// table per query. Loaded with [`crate::Store::name_table`].
#[derive(Debug, Default)]
pub struct NameTable {
    /// In (entity id, dataset) order, the order of hits within a rank.
    rows: Vec<NameRow>,
    /// Every row's names one after the other, searched in one pass (no word holds a newline,
    /// so no match runs from one row into the next).
    text: String,
    /// Where each row's names start in `text`.
    starts: Vec<usize>,
}

impl NameTable {
    pub fn new(mut rows: Vec<NameRow>) -> NameTable {
        rows.sort_unstable_by(|a, b| {
            (a.entity_id.as_str(), a.dataset.as_str())
                .cmp(&(b.entity_id.as_str(), b.dataset.as_str()))
        });
        let mut text = String::with_capacity(rows.iter().map(|r| r.names.len()).sum());
        let mut starts = Vec::with_capacity(rows.len());
        for row in &rows {
            starts.push(text.len());
            text.push_str(&row.names);
        }
        NameTable { rows, text, starts }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows that match `text`: exact names first, then names that start with it, then the
    /// rest; at most `limit` (and never more than the store's own search returns).
    pub fn search(
        &self,
        text: &str,
        schema: Option<&str>,
        limit: u32,
        ceiling: Sensitivity,
    ) -> Result<Vec<&NameRow>> {
        use memchr::memmem::Finder;
        let schemata = schemata_under(schema)?;
        let folded = fold(text);
        let words = query_words(&folded);
        let limit = limit.min(MAX_HITS) as usize;
        let Some((first, others)) = words.split_first() else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let whole = words_in_order(&folded);
        let exact = Finder::new(format!("\n{whole}\n").as_bytes()).into_owned();
        let prefix = Finder::new(format!("\n{whole}").as_bytes()).into_owned();
        let others: Vec<Finder> = others.iter().map(|w| Finder::new(w.as_bytes())).collect();
        let mut ranks: [Vec<&NameRow>; 3] = Default::default();
        let mut last_row = usize::MAX;
        // The longest word is the rarest: its occurrences pick the candidate rows.
        for at in Finder::new(first.as_bytes()).find_iter(self.text.as_bytes()) {
            let index = self.starts.partition_point(|start| *start <= at) - 1;
            if index == last_row {
                continue;
            }
            last_row = index;
            let row = &self.rows[index];
            let names = row.names.as_bytes();
            if row.sensitivity > ceiling
                || schemata
                    .as_ref()
                    .is_some_and(|names| !names.contains(&row.schema))
                || !others.iter().all(|word| word.find(names).is_some())
            {
                continue;
            }
            let rank = if exact.find(names).is_some() {
                0
            } else if prefix.find(names).is_some() {
                1
            } else {
                2
            };
            ranks[rank].push(row);
            // Rows come in id order, so a full first rank cannot be improved on.
            if ranks[0].len() >= limit {
                break;
            }
        }
        Ok(ranks.into_iter().flatten().take(limit).collect())
    }
}

/// The SQL of a search; `None` when nothing can match (no words, or a limit of 0).
///
/// Every value from the caller is bound, never written into the SQL: only placeholders and the
/// names of known schemata and sensitivities (bound too) vary.
pub(crate) fn search_query(
    text: &str,
    schema: Option<&str>,
    limit: u32,
    ceiling: Sensitivity,
    entity_columns: &str,
) -> Result<Option<SearchQuery>> {
    let schemata = schemata_under(schema)?;
    let folded = fold(text);
    let words = query_words(&folded);
    if words.is_empty() || limit == 0 {
        return Ok(None);
    }
    let whole = escape_like(&words_in_order(&folded));
    let mut values = vec![format!("%\n{whole}\n%"), format!("%\n{whole}%")];
    let mut conditions = Vec::new();
    for word in &words {
        values.push(format!("%{}%", escape_like(word)));
        conditions.push(format!("names LIKE ${} ESCAPE '\\'", values.len()));
    }
    let mut filters = Vec::new();
    let allowed: Vec<&str> = Sensitivity::ALL
        .iter()
        .filter(|s| **s <= ceiling)
        .map(|s| s.as_str())
        .collect();
    filters.push(format!(
        "e.sensitivity IN ({})",
        placeholders(&mut values, &allowed)
    ));
    if let Some(schemata) = &schemata {
        let names: Vec<&str> = schemata.iter().map(String::as_str).collect();
        filters.push(format!(
            "e.schema IN ({})",
            placeholders(&mut values, &names)
        ));
    }
    let sql = format!(
        "SELECT {entity_columns} FROM (\
            SELECT dataset, entity_id, \
                CASE WHEN names LIKE $1 ESCAPE '\\' THEN 0 \
                     WHEN names LIKE $2 ESCAPE '\\' THEN 1 ELSE 2 END AS rank \
            FROM entity_names WHERE {}) r \
         JOIN entities e ON e.dataset = r.dataset AND e.entity_id = r.entity_id \
         JOIN dataset_versions v ON v.id = e.version_id \
         JOIN datasets d ON d.name = e.dataset \
         WHERE {} ORDER BY r.rank, e.entity_id, e.dataset LIMIT ${}",
        conditions.join(" AND "),
        filters.join(" AND "),
        values.len() + 1
    );
    Ok(Some(SearchQuery {
        sql,
        values,
        limit: i64::from(limit.min(MAX_HITS)),
    }))
}

/// The folded query as one name would spell it, for the exact and prefix ranks.
fn words_in_order(folded: &str) -> String {
    folded
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `$n, $n+1, …` for `items`, which are appended to `values`.
fn placeholders(values: &mut Vec<String>, items: &[&str]) -> String {
    let mut list = Vec::with_capacity(items.len());
    for item in items {
        values.push((*item).to_string());
        list.push(format!("${}", values.len()));
    }
    list.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folding_drops_case_accents_and_extra_space() {
        assert_eq!(fold("  Ermias   GHERMAY "), "ermias ghermay");
        assert_eq!(fold("Zérouali-Ğürsoy"), "zerouali-gursoy");
        assert_eq!(
            fold("Straße Łódź Øresund Æther"),
            "strasse lodz oresund aether"
        );
        // Other scripts stay in their script, lower-cased where they have case.
        assert_eq!(fold("Пётр ИВАНОВ"), "петр иванов");
        assert_eq!(fold("محمد"), "محمد");
        // Compatibility forms become their plain letters.
        assert_eq!(fold("ﬁnance ＡＢＣ"), "finance abc");
        assert_eq!(fold("a\0b\tc\u{85}"), "a b c");
    }

    #[test]
    fn protected_entities_give_no_names_and_others_give_names_and_identifiers() {
        let mut person = Entity::new("Person", "p").expect("entity");
        person.add("name", "Ermias Ghermay").expect("name");
        person.add("alias", "Ermias Ghirmay").expect("alias");
        person.add("idNumber", "ER-123").expect("id");
        person.add("nationality", "er").expect("nationality");
        assert_eq!(
            index_row(&person).as_deref(),
            Some("\ner-123\nermias ghermay\nermias ghirmay\n")
        );
        person.sensitivity = Sensitivity::Protected;
        assert_eq!(index_row(&person), None);
        let nameless = Entity::new("Ownership", "o").expect("entity");
        assert_eq!(index_row(&nameless), None);
    }

    #[test]
    fn query_words_drop_repeats_and_words_inside_others() {
        assert_eq!(
            query_words("ermias er ghermay ermias"),
            ["ghermay", "ermias"]
        );
        let many: String = (0..40).map(|i| format!("w{i:02} ")).collect();
        assert_eq!(query_words(&fold(&many)).len(), MAX_QUERY_WORDS);
    }

    #[test]
    fn caller_text_is_bound_never_written_into_the_sql() {
        let query = search_query(
            "50%_off' OR 1=1; --",
            Some("LegalEntity"),
            10,
            Sensitivity::Public,
            "e.*",
        )
        .expect("query")
        .expect("words");
        assert!(!query.sql.contains("off"));
        assert!(!query.sql.contains("1=1"));
        assert!(query.values.contains(&"%50\\%\\_off'%".to_string()));
        assert_eq!(query.values[1], "%\n50\\%\\_off' or 1=1; --%");
        // The schema and the schemata derived from it.
        for schema in ["LegalEntity", "Person", "Company", "Organization"] {
            assert!(query.values.contains(&schema.to_string()), "{schema}");
        }
        assert!(!query.values.contains(&"Vessel".to_string()));
        assert!(!query.values.contains(&"protected".to_string()));
        assert_eq!(query.limit, 10);
        assert!(
            search_query("   ", None, 10, Sensitivity::Public, "e.*")
                .expect("query")
                .is_none()
        );
        assert!(matches!(
            search_query("x", Some("Starship"), 10, Sensitivity::Public, "e.*"),
            Err(StoreError::Invalid(_))
        ));
    }

    proptest! {
        #[test]
        fn any_text_folds_and_makes_a_query(text in ".*", bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let lossy = String::from_utf8_lossy(&bytes);
            for input in [text.as_str(), lossy.as_ref()] {
                let folded = fold(input);
                prop_assert_eq!(fold(&folded), folded.clone());
                let _ = search_query(input, None, 5, Sensitivity::Restricted, "e.*");
            }
        }
    }
}
