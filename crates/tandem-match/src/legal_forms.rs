//! Company legal forms, compared as forms rather than as name words: `LLC` = `Limited Liability
//! Company`, `OOO` = `ООО` = `Общество с ограниченной ответственностью`, `S.A. de C.V.`.
//!
//! Each form has a code (its abbreviation) and a family (limited liability, joint stock,
//! partnership…). Two names with forms of one code agree; of one family, nearly agree; of
//! different families, disagree a little. Phrases are written in the lower-case ASCII word
//! forms of [`crate::text`] (Cyrillic and Chinese forms as they transliterate).

use std::borrow::Cow;
use std::sync::OnceLock;

use serde::Serialize;

use crate::hash::{FastMap, FastSet};
use crate::similarity::{Abjad, LetterCounts, letter_count_bound};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    LimitedLiability,
    JointStock,
    /// The generic "company / corporation / incorporated" words of English names.
    Corporation,
    Partnership,
    Cooperative,
    NonProfit,
    SoleTrader,
}

/// `code | family | phrase; phrase; …`
const CATALOGUE: &str = "
llc | limited_liability | llc; limited liability company; limited liability co; ltd liability co; ltd liability company; l l c; wll; with limited liability; fzllc; fz llc; fze; fzco; fzc; pllc
ltd | limited_liability | ltd; limited; company limited; co ltd; coltd; company ltd; co limited; ltda; limitada; pty ltd; pty limited; proprietary limited; pty; pte ltd; pte limited; pte; private limited; private limited company; pvt ltd; pvt limited; pvt; sdn bhd; sendirian berhad; ltd sti; limited sirketi; you xian gong si; you xian ze ren gong si
plc | joint_stock | plc; public limited company; public limited co; public company limited; pcl; bhd; berhad; tbk; public company
inc | corporation | inc; incorporated
corp | corporation | corp; corporation; corpn
co | corporation | co; company; compagnie; cie; compania; cia; companhia; comp; gong si; kompaniya; kompania
gmbh | limited_liability | gmbh; gesellschaft mit beschrankter haftung; gesmbh; ges m b h; mbh; ug; ug haftungsbeschrankt; unternehmergesellschaft; ggmbh
ag | joint_stock | ag; aktiengesellschaft; kgaa; se; societas europaea
kg | partnership | kg; kommanditgesellschaft; gmbh and co kg; gmbh co kg; ag and co kg; ohg; offene handelsgesellschaft; gbr
ev | non_profit | ev; eingetragener verein
sa | joint_stock | sa; societe anonyme; sociedad anonima; sociedade anonima; societa anonima; sab; saic; saca; sae
sarl | limited_liability | sarl; societe a responsabilite limitee; eurl; sprl; societe privee a responsabilite limitee; sarlu
sas | joint_stock | sas; societe par actions simplifiee; sasu; sca; societe en commandite par actions
snc | partnership | snc; societe en nom collectif; scs; sci; societe civile immobiliere
srl | limited_liability | srl; societa a responsabilita limitata; sociedad de responsabilidad limitada; societatea cu raspundere limitata; s de rl; s de rl de cv; sl; sociedad limitada; slu; srls
sa de cv | joint_stock | sa de cv; sociedad anonima de capital variable; sapi de cv; sab de cv; sapi; sa de cv sofom
spa | joint_stock | spa; societa per azioni; sapa
bv | limited_liability | bv; besloten vennootschap; bvba; besloten vennootschap met beperkte aansprakelijkheid; bv ba
nv | joint_stock | nv; naamloze vennootschap
vof | partnership | vof; vennootschap onder firma; cv; commanditaire vennootschap
ab | joint_stock | ab; aktiebolag; aktiebolaget; ab publ; publ
as | joint_stock | as; asa; aksjeselskap; allmennaksjeselskap; aktieselskab; aktieselskabet; aps; anpartsselskab; oy; oyj; osakeyhtio; hf; ehf; anonim sirketi
sp z oo | limited_liability | sp z oo; spolka z ograniczona odpowiedzialnoscia; sp zoo; spzoo; spolka z oo
sro | limited_liability | sro; spol s ro; spolecnost s rucenim omezenym; spolocnost s rucenim obmedzenym; doo; drustvo s ogranicenom odgovornoscu; kft; korlatolt felelossegu tarsasag; uab; sia; ou; ood; eood
ooo | limited_liability | ooo; obshchestvo s ogranichennoy otvetstvennostyu; obshchestvo s ogranichennoi otvetstvennostiu; obshestvo s ogranichennoy otvetstvennostyu; tov; tovaristvo z obmezhenoyu vidpovidalnistyu; too; mchj; mchzh
jsc | joint_stock | jsc; joint stock company; joint stock co; jsco; jt stock co; ojsc; open joint stock company; cjsc; closed joint stock company; pjsc; public joint stock company; oao; otkrytoe aktsionernoe obshchestvo; zao; zakrytoe aktsionernoe obshchestvo; pao; publichnoe aktsionernoe obshchestvo; ao; aktsionernoe obshchestvo; nao; pat; prat; at; ad; ead; dd; aksionerno druzhestvo; gu fen you xian gong si; kabushiki kaisha; kabushikigaisha; kabushiki gaisha; kk
pt | joint_stock | pt; perseroan terbatas; pt tbk
lp | partnership | lp; limited partnership; llp; limited liability partnership; lllp; gp; general partnership
coop | cooperative | coop; co op; cooperative; cooperativa; cooperative society; eg; eingetragene genossenschaft; scrl; scoop
ip | sole_trader | ip; individualnyy predprinimatel; individualnyi predprinimatel; fop; sole proprietorship; sole proprietor
";

/// A legal form found in a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegalForm {
    pub code: &'static str,
    pub family: Family,
    /// The words as written.
    pub original: String,
}

/// A legal-form phrase: its words, code and family.
type Phrase = (Vec<&'static str>, &'static str, Family);

/// A long catalogue word with what the misspelling check needs of it, computed once.
struct LongWord {
    word: &'static str,
    consonants: u32,
    letters: LetterCounts,
}

struct Catalogue {
    /// First word of a phrase → (phrase words, code, family), longest phrases first.
    by_first: FastMap<&'static str, Vec<Phrase>>,
    /// Every word of five letters or more in the catalogue, once, shortest first, for
    /// misspelt forms (`Aktiengeselschaft`, `Joynt Stock Company`, `Compamy`).
    long_words: Vec<LongWord>,
    /// Where the long words of each length are in `long_words`, by length.
    long_by_length: Vec<std::ops::Range<usize>>,
    /// Every word of the catalogue.
    words: FastSet<&'static str>,
    /// Long catalogue words by their canonical romanisation.
    by_canon: FastMap<String, &'static str>,
}

fn family(name: &str) -> Option<Family> {
    Some(match name {
        "limited_liability" => Family::LimitedLiability,
        "joint_stock" => Family::JointStock,
        "corporation" => Family::Corporation,
        "partnership" => Family::Partnership,
        "cooperative" => Family::Cooperative,
        "non_profit" => Family::NonProfit,
        "sole_trader" => Family::SoleTrader,
        _ => return None,
    })
}

impl Catalogue {
    /// The long catalogue words of `length` letters.
    fn of_length(&self, length: usize) -> &[LongWord] {
        self.long_by_length
            .get(length)
            .and_then(|range| self.long_words.get(range.clone()))
            .unwrap_or(&[])
    }
}

fn catalogue() -> &'static Catalogue {
    static CATALOGUE_INDEX: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE_INDEX.get_or_init(|| {
        let mut by_first: FastMap<&'static str, Vec<Phrase>> = FastMap::default();
        for line in CATALOGUE.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let mut fields = line.split('|').map(str::trim);
            let (Some(code), Some(fam), Some(phrases)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let Some(fam) = family(fam) else { continue };
            for phrase in phrases.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                let words: Vec<&'static str> = phrase.split(' ').collect();
                if let Some(first) = words.first() {
                    by_first.entry(first).or_default().push((words, code, fam));
                }
            }
        }
        for list in by_first.values_mut() {
            list.sort_by_key(|(words, _, _)| std::cmp::Reverse(words.len()));
        }
        let mut long: Vec<&'static str> = by_first
            .values()
            .flatten()
            .flat_map(|(words, _, _)| words.iter().copied())
            .filter(|w| w.len() >= 5)
            .collect();
        long.sort_unstable_by_key(|w| (w.len(), *w));
        long.dedup();
        let long_words = long
            .iter()
            .map(|&word| LongWord {
                word,
                consonants: crate::similarity::consonant_mask(word),
                letters: LetterCounts::of(word.as_bytes()),
            })
            .collect();
        let long_by_length = (0..=long.last().map_or(0, |w| w.len()))
            .map(|length| {
                long.partition_point(|w| w.len() < length)
                    ..long.partition_point(|w| w.len() <= length)
            })
            .collect();
        let words = by_first
            .values()
            .flatten()
            .flat_map(|(words, _, _)| words.iter().copied())
            .collect();
        let by_canon = long
            .iter()
            .map(|w| (crate::name::canonical(w).into_owned(), *w))
            .collect();
        Catalogue {
            by_first,
            long_words,
            long_by_length,
            words,
            by_canon,
        }
    })
}

/// A legal-form phrase found at `start..end` of a word sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub code: &'static str,
    pub family: Family,
}

impl Span {
    /// Two-letter codes (`as`, `ab`, `co`, `sa`…) are also ordinary words and abbreviations;
    /// they only count as legal forms at the edges of a name.
    fn is_ambiguous(&self, forms: &[&str]) -> bool {
        self.end - self.start == 1 && forms.get(self.start).is_some_and(|f| f.len() <= 3)
    }
}

/// The catalogue word a misspelt word stands for, if it is close to exactly one.
fn correct(word: &str) -> Option<&'static str> {
    let cat = catalogue();
    if word.len() < 5 || !word.bytes().all(|b| b.is_ascii_lowercase()) || cat.words.contains(word) {
        return None;
    }
    // Known words are not misspelt forms (nor other romanisations of one: a test checks).
    if crate::lexicon::info(word) != crate::lexicon::WordInfo::default() {
        return None;
    }
    // Another romanisation of a form word (`djoint`) is that word.
    if let Cow::Owned(canon) = crate::name::canonical(word)
        && canon != word
        && let Some(found) = cat.by_canon.get(&canon)
    {
        return Some(found);
    }
    // The word must be within the edit budget of exactly one catalogue word (what
    // `similarity::fuzzy` > 0 means). Cheap bounds skip most of the catalogue before the
    // edit distance runs: letter counts (in twentieths, a substitution costs at least 10 and
    // changes two counts, an insertion or deletion at least 5 and changes one, a swap changes
    // none: so the cost is at least 5 per count of difference; one vector instruction, cheaper
    // than comparing letter sets without a popcount instruction), consonants one word has and
    // the other lacks, and letters one word has more often than the other.
    let consonants = crate::similarity::consonant_mask(word);
    let letters = LetterCounts::of(word.as_bytes());
    let mut found: Option<&'static str> = None;
    // A misspelling adds or drops a letter at most: words two letters longer or shorter are
    // other words (Europe is not Europaea), though the budget would let some through.
    for length in word.len() - 1..=word.len() + 1 {
        let limit = crate::similarity::budget(word.len().max(length));
        // The budget in counts of difference (it is a whole number of fives of twentieths).
        let most_different = (limit * crate::similarity::UNIT / 5.0) as u16;
        for long in cat.of_length(length) {
            if letters.difference(&long.letters) > most_different
                || crate::similarity::consonant_bound(consonants, long.consonants) > limit
                || letter_count_bound(&letters, &long.letters, Abjad::Neither) > limit
            {
                continue;
            }
            if crate::similarity::edit_cost(
                word.as_bytes(),
                long.word.as_bytes(),
                Abjad::Neither,
                limit,
            )
            .is_some()
            {
                if found.is_some() {
                    // Close to two catalogue words: no correction.
                    return None;
                }
                found = Some(long.word);
            }
        }
    }
    found
}

/// Finds the legal forms among a name's words: the longest phrase at each position, kept when
/// unambiguous or when it sits at the start or end of the name (possibly next to other forms).
/// Misspelt form words in `forms` are corrected in place.
pub fn find(mut forms: Vec<&str>) -> Vec<Span> {
    let cat = catalogue();
    for form in forms.iter_mut() {
        if let Some(corrected) = correct(form) {
            *form = corrected;
        }
    }
    let forms = forms.as_slice();
    let mut found = Vec::new();
    let mut i = 0;
    while i < forms.len() {
        let hit = forms
            .get(i)
            .and_then(|first| cat.by_first.get(first))
            .and_then(|phrases| {
                phrases.iter().find(|(words, _, _)| {
                    forms
                        .get(i..i + words.len())
                        .is_some_and(|slice| slice == words.as_slice())
                })
            });
        match hit {
            Some((words, code, family)) => {
                found.push(Span {
                    start: i,
                    end: i + words.len(),
                    code,
                    family: *family,
                });
                i += words.len();
            }
            None => i += 1,
        }
    }
    // The spans that run from the start of the name without a gap, and those that run to its
    // end: `leading` and `found.len() - trailing` of them.
    let mut edge = 0;
    let leading = found
        .iter()
        .take_while(|span| {
            let adjacent = span.start == edge;
            edge = span.end;
            adjacent
        })
        .count();
    let mut edge = forms.len();
    let trailing = found
        .iter()
        .rev()
        .take_while(|span| {
            let adjacent = span.end == edge;
            edge = span.start;
            adjacent
        })
        .count();
    let first_trailing = found.len() - trailing;
    let mut k = 0;
    found.retain(|span| {
        let keep = k < leading || k >= first_trailing || !span.is_ambiguous(forms);
        k += 1;
        keep
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(name: &str) -> Vec<&'static str> {
        let words: Vec<String> = name.split(' ').map(str::to_string).collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        find(refs).into_iter().map(|s| s.code).collect()
    }

    /// `correct` rules out known words before it looks for other romanisations of form
    /// words: that is only the same when no known word is one.
    #[test]
    fn no_known_word_is_another_romanisation_of_a_form_word() {
        let cat = catalogue();
        for word in crate::lexicon::known_words() {
            if word.len() < 5 || cat.words.contains(word) {
                continue;
            }
            let canon = crate::name::canonical(word);
            assert!(
                canon == word || !cat.by_canon.contains_key(canon.as_ref()),
                "{word}"
            );
        }
    }

    #[test]
    fn forms_and_abbreviations_share_a_code() {
        assert_eq!(codes("siemens ag"), ["ag"]);
        assert_eq!(codes("siemens aktiengesellschaft"), ["ag"]);
        assert_eq!(
            codes("lloyds banking group public limited company"),
            ["plc"]
        );
        assert_eq!(codes("lloyds banking group plc"), ["plc"]);
        assert_eq!(codes("crystalord limited"), ["ltd"]);
        assert_eq!(codes("crystalord ltd"), ["ltd"]);
        assert_eq!(
            codes("tactical missiles corporation joint stock company"),
            ["corp", "jsc"]
        );
        assert_eq!(codes("ojsc tactical missiles corporation"), ["jsc", "corp"]);
        assert_eq!(codes("oao gazprom"), ["jsc"]);
        // ООО and its full Russian name, as they transliterate.
        assert_eq!(codes("ooo oboronnye initsiativy"), ["ooo"]);
        assert_eq!(
            codes("obshchestvo s ogranichennoy otvetstvennostyu bai"),
            ["ooo"]
        );
        assert_eq!(codes("hotelera lopez mateos sa de cv"), ["sa de cv"]);
        assert_eq!(codes("faberlic europe sp z oo"), ["sp z oo"]);
        assert_eq!(
            codes("societatea cu raspundere limitata pro traffic"),
            ["srl"]
        );
        assert_eq!(codes("llc"), ["llc"]);
        assert_eq!(
            codes("limited liability company iskusstvo krasoty"),
            ["llc"]
        );
        // Misspelt forms are still forms.
        assert_eq!(codes("siemens aktiengeselschaft"), ["ag"]);
        assert_eq!(
            codes("tactical missiles corporation joynt stock company"),
            ["corp", "jsc"]
        );
        assert_eq!(codes("crystalord compamy"), ["co"]);
        // A word two letters short of a form word is another word: Europe is not Europaea.
        assert_eq!(codes("gazprom europe"), Vec::<&str>::new());
    }

    #[test]
    fn short_codes_only_at_the_edges() {
        // "as" and "co" inside a name are words, at its end they are forms.
        assert_eq!(codes("tech as a service"), Vec::<&str>::new());
        assert_eq!(codes("bowne global solutions denmark as"), ["as"]);
        assert_eq!(codes("procter and gamble co"), ["co"]);
        assert_eq!(codes("ab volvo"), ["ab"]);
        // A long form is a form anywhere.
        assert_eq!(codes("x limited partners"), ["ltd"]);
    }
}
