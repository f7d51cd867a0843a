//! Similarity of two name parts: literal, spelling variant or nickname, initial, a weighted
//! edit distance tuned to transliteration, and the phonetic skeleton.
//!
//! The edit distance is an optimal-string-alignment distance whose costs follow how names
//! drift between romanisations: a vowel for a vowel or a consonant for its sound-twin (c/k/q/g,
//! s/z, b/p, v/w/f, d/t, i/y) costs half, a doubled letter a quarter, a vowel or `h` dropped
//! half, a swap of two neighbours half. Arabic and Hebrew do not write short vowels, and
//! their long vowels are romanised loosely, so a vowel missing on either side costs a fifth,
//! except a final vowel they wrote: that is an ending (the Persian `-i` of Ahmadi, the nisba
//! of Hassani), and Ahmadi is not Ahmad. A part only matches within a budget that grows with its length, so
//! "Jorgan" meets "Jordan" but "Chacón" does not meet "Chávez".

use std::sync::OnceLock;

use serde::Serialize;

use crate::lexicon::Kinship;
use crate::name::{Part, PartClass};
use crate::text::Script;

/// How two parts (or groups of parts) were found to correspond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    Literal,
    /// Spellings of one name (`Mohammed` / `Muhammad`).
    Variant,
    /// Nickname or cognate (`Ted` / `Theodore`, `Juan` / `John`).
    Nickname,
    Phonetic,
    Fuzzy,
    /// An initial and a name with that first letter.
    Initial,
    /// One part against several run together (`Abugrein` / `Abu Grein`).
    Joined,
    /// Legal forms of the same code or family.
    LegalForm,
    /// An abbreviation and the initials of a name (`PLA` / `People's Liberation Army`).
    Acronym,
    /// The same two names around `bin` / `ibn` in swapped roles: the son is not the father.
    RoleSwap,
    /// The stump of a name cut at a length limit and the part it begins.
    Truncated,
    /// Parts of the query the candidate does not have.
    ExtraQuery,
    /// Parts of the candidate the query does not have.
    ExtraCandidate,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Literal => "literal",
            How::Variant => "variant",
            How::Nickname => "nickname",
            How::Phonetic => "phonetic",
            How::Fuzzy => "fuzzy",
            How::Initial => "initial",
            How::Joined => "joined",
            How::LegalForm => "legal_form",
            How::ExtraQuery => "extra_query",
            How::ExtraCandidate => "extra_candidate",
            How::Acronym => "acronym",
            How::RoleSwap => "role_swap",
            How::Truncated => "truncated",
        }
    }
}

const MAX_LEN: usize = 48;

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// Costs are counted in twentieths so that the distance runs on small integers.
pub(crate) const UNIT: f32 = 20.0;

/// Substitution costs, in twentieths, for lower-case ASCII letters and digits.
fn substitution_table() -> &'static [[u8; 128]; 128] {
    static TABLE: OnceLock<Box<[[u8; 128]; 128]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Box::new([[20u8; 128]; 128]);
        for (i, row) in t.iter_mut().enumerate() {
            row[i] = 0;
        }
        let twins: &[&[u8]] = &[
            b"aeiouy", b"ckqg", b"csz", b"bp", b"vwf", b"dt", b"jy", b"jg", b"0o", b"1i", b"1l",
            b"5s", b"8b", b"9g", b"3e", b"4a", b"7t", b"2z",
        ];
        for group in twins {
            for &a in group.iter() {
                for &b in group.iter() {
                    if a != b {
                        let (a, b) = (a as usize, b as usize);
                        // A digit for the letter it looks like is cheaper than a sound-twin.
                        let cost = if a.min(b) < b'a' as usize { 5 } else { 10 };
                        t[a][b] = t[a][b].min(cost);
                        t[b][a] = t[b][a].min(cost);
                    }
                }
            }
        }
        t
    })
}

/// Which of two spellings compared is the romanisation of an abjad (Arabic, Hebrew), which
/// leaves short vowels unwritten: a vowel is cheap to add to that side only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abjad {
    Neither,
    First,
    Second,
    Both,
}

impl Abjad {
    pub fn of(first: bool, second: bool) -> Abjad {
        match (first, second) {
            (false, false) => Abjad::Neither,
            (true, false) => Abjad::First,
            (false, true) => Abjad::Second,
            (true, true) => Abjad::Both,
        }
    }
    fn first(self) -> bool {
        matches!(self, Abjad::First | Abjad::Both)
    }
    fn second(self) -> bool {
        matches!(self, Abjad::Second | Abjad::Both)
    }
    fn any(self) -> bool {
        self != Abjad::Neither
    }
}

/// Cost of inserting or deleting `word[k]`, in twentieths. `other_abjad` when the other
/// spelling is an abjad's, which may simply not have written the vowel; `own_abjad` when this
/// one is, whose written long vowels other romanisations render loosely, but not its ending.
fn indel(word: &[u8], k: usize, other_abjad: bool, own_abjad: bool) -> u16 {
    let c = word[k];
    // Only the second letter of a double is cheap: "ll" inserted whole is not a doubling.
    if k > 0 && word[k - 1] == c {
        return 5;
    }
    if is_vowel(c) {
        let cheap = other_abjad || (own_abjad && k + 1 < word.len());
        return if cheap { 4 } else { 10 };
    }
    if c == b'h' {
        return 10;
    }
    20
}

/// The weighted edit cost of turning `a` into `b`, or `None` when it exceeds `budget`.
pub fn edit_cost(a: &[u8], b: &[u8], abjad: Abjad, budget: f32) -> Option<f32> {
    let (n, m) = (a.len(), b.len());
    if n >= MAX_LEN || m >= MAX_LEN {
        return (a == b).then_some(0.0);
    }
    let limit = (budget * UNIT).round() as u16;
    let cheapest_indel: u16 = if abjad.any() { 4 } else { 5 };
    if n.abs_diff(m) as u16 * cheapest_indel > limit {
        return None;
    }
    let table = substitution_table();
    let mut insert = [0u16; MAX_LEN];
    for (j, slot) in insert.iter_mut().enumerate().take(m) {
        *slot = indel(b, j, abjad.first(), abjad.second());
    }
    let mut rows = [[0u16; MAX_LEN]; 3];
    for j in 1..=m {
        rows[0][j] = rows[0][j - 1] + insert[j - 1];
    }
    // Rows i-2, i-1 and i rotate through the three buffers.
    let (mut two_back, mut back, mut cur) = (2usize, 0usize, 1usize);
    // Whether no cell of the previous row could finish within the limit.
    let mut previous_row_over = false;
    for i in 1..=n {
        let delete = indel(a, i - 1, abjad.second(), abjad.first());
        let ca = a[i - 1];
        let costs = &table[usize::from(ca & 0x7F)];
        rows[cur][0] = rows[back][0] + delete;
        // The cheapest finish from cell (i, j) still needs one insertion or deletion per
        // letter of length difference left.
        let left_a = n - i;
        let finish = |j: usize| (left_a.abs_diff(m - j) as u16).saturating_mul(cheapest_indel);
        let mut row_min = rows[cur][0].saturating_add(finish(0));
        for j in 1..=m {
            let cb = b[j - 1];
            let mut v = (rows[back][j - 1] + u16::from(costs[usize::from(cb & 0x7F)]))
                .min(rows[back][j] + delete)
                .min(rows[cur][j - 1] + insert[j - 1]);
            if i > 1 && j > 1 && ca != cb && ca == b[j - 2] && a[i - 2] == cb {
                v = v.min(rows[two_back][j - 2] + 10);
            }
            rows[cur][j] = v;
            row_min = row_min.min(v.saturating_add(finish(j)));
        }
        // A swap of two letters steps over a row: only two rows in a row beyond the limit
        // rule out every path.
        if row_min > limit && previous_row_over {
            return None;
        }
        previous_row_over = row_min > limit;
        (two_back, back, cur) = (back, cur, two_back);
    }
    let cost = rows[back][m];
    (cost <= limit).then(|| f32::from(cost) / UNIT)
}

/// How often a form has each letter, and how many of those directly follow the same letter
/// (the second of a double is cheap to drop); for [`letter_count_bound`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct LetterCounts {
    /// 32 slots, 26 used, so that comparisons run on whole vectors.
    counts: [u8; 32],
    doubled: [u8; 26],
    letters: u32,
    digits: bool,
}

impl LetterCounts {
    pub(crate) fn of(form: &[u8]) -> LetterCounts {
        let mut out = LetterCounts {
            counts: [0; 32],
            doubled: [0; 26],
            letters: 0,
            digits: false,
        };
        let mut previous = 0u8;
        for &c in form {
            if c.is_ascii_digit() {
                out.digits = true;
            } else if c.is_ascii_lowercase() {
                let letter = usize::from(c - b'a');
                out.letters |= 1 << letter;
                if let (Some(count), Some(doubled)) =
                    (out.counts.get_mut(letter), out.doubled.get_mut(letter))
                {
                    *count = count.saturating_add(1);
                    if previous == c {
                        *doubled = doubled.saturating_add(1);
                    }
                }
            }
            previous = c;
        }
        out
    }

    /// The sum over letters of the difference in counts.
    pub(crate) fn difference(&self, other: &LetterCounts) -> u16 {
        self.counts
            .iter()
            .zip(other.counts.iter())
            .map(|(a, b)| u16::from(a.abs_diff(*b)))
            .sum()
    }
}

/// A lower bound of the edit cost like [`consonant_bound`], from how often each letter occurs
/// rather than whether it does: every occurrence one form has beyond the other's count takes
/// an edit of its own. A quarter unit when it is the second of a double; a whole unit for a
/// consonant without a sound-twin in the other form, half a unit for the others. Vowels count
/// only between two spellings that both write them (`Abjad::Neither`): an abjad's are cheaper.
/// ("Tactical" has two `a` and a `t` that "collectif" cannot account for.)
pub(crate) fn letter_count_bound(a: &LetterCounts, b: &LetterCounts, abjad: Abjad) -> f32 {
    if a.digits || b.digits {
        return 0.0;
    }
    let counted = if abjad.any() { !VOWELS } else { u32::MAX };
    let side = |own: &LetterCounts, other: &LetterCounts| {
        let mut cost = 0u32;
        // Only the letters this form has can be in excess.
        let mut left = own.letters & counted;
        while left != 0 {
            let letter = left.trailing_zeros() as usize;
            left &= left - 1;
            let (Some(&count), Some(&doubled), Some(&other_count)) = (
                own.counts.get(letter),
                own.doubled.get(letter),
                other.counts.get(letter),
            ) else {
                continue;
            };
            let excess = count.saturating_sub(other_count);
            if excess == 0 {
                continue;
            }
            let cheap = excess.min(doubled);
            let twins = EXPENSIVE_UNLESS.get(letter).copied().unwrap_or(u32::MAX);
            let each =
                if VOWELS & (1 << letter) != 0 || twins == u32::MAX || twins & other.letters != 0 {
                    10
                } else {
                    20
                };
            cost += u32::from(cheap) * 5 + u32::from(excess - cheap) * each;
        }
        cost
    };
    side(a, b).max(side(b, a)) as f32 / UNIT
}

/// How much edit cost a pair of parts may carry and still match, by the longer length.
pub fn budget(len: usize) -> f32 {
    match len {
        0..=2 => 0.0,
        3 => 0.5,
        4..=5 => 1.0,
        6..=8 => 1.5,
        9..=12 => 2.0,
        13..=17 => 2.5,
        _ => 3.0,
    }
}

/// The consonants a form contains, one bit per letter; bit 31 marks a digit.
pub fn consonant_mask(form: &str) -> u32 {
    form.bytes().fold(0, |mask, b| match b {
        b'a' | b'e' | b'i' | b'o' | b'u' | b'y' => mask,
        b'a'..=b'z' => mask | 1 << (b - b'a'),
        b'0'..=b'9' => mask | 1 << 31,
        _ => mask,
    })
}

const VOWELS: u32 = letter_mask(b"aeiouy");

/// Bits of the letters of `letters` (lower-case ASCII), `a` the lowest.
pub(crate) const fn letter_mask(letters: &[u8]) -> u32 {
    let mut mask = 0u32;
    let mut i = 0;
    while i < letters.len() {
        mask |= 1 << (letters[i] - b'a');
        i += 1;
    }
    mask
}

/// Per consonant, the letters whose absence from the other form makes losing it cost a whole
/// unit: those it cannot be exchanged for at half cost. `h` (dropped at half cost) and `j`
/// (for the vowel `y`) are always cheap: `u32::MAX`.
const EXPENSIVE_UNLESS: [u32; 26] = {
    let mut table = [0u32; 26];
    let groups: [(&[u8], &[u8]); 9] = [
        (b"c", b"kqgsz"),
        (b"kq", b"ckqg"),
        (b"g", b"ckqj"),
        (b"sz", b"csz"),
        (b"b", b"p"),
        (b"p", b"b"),
        (b"vwf", b"vwf"),
        (b"d", b"t"),
        (b"t", b"d"),
    ];
    let mut g = 0;
    while g < groups.len() {
        let (letters, twins) = groups[g];
        let mut i = 0;
        while i < letters.len() {
            table[(letters[i] - b'a') as usize] = letter_mask(twins);
            i += 1;
        }
        g += 1;
    }
    table[(b'h' - b'a') as usize] = u32::MAX;
    table[(b'j' - b'a') as usize] = u32::MAX;
    table
};

/// A lower bound of the edit cost between two forms from their consonant sets. Each consonant
/// one form has and the other lacks takes an edit of its own: half a unit when it can be `h`
/// dropped, `j` for `y`, or a sound-twin the other form has; a whole unit otherwise (deleted,
/// or exchanged for an unrelated letter).
pub(crate) fn consonant_bound(a: u32, b: u32) -> f32 {
    if (a | b) & (1 << 31) != 0 {
        return 0.0;
    }
    let side = |missing: u32, other: u32| {
        let mut cost = 0.0f32;
        let mut left = missing;
        while left != 0 {
            let letter = left.trailing_zeros() as usize;
            left &= left - 1;
            let twins = EXPENSIVE_UNLESS.get(letter).copied().unwrap_or(u32::MAX);
            cost += if twins == u32::MAX || twins & other != 0 {
                0.5
            } else {
                1.0
            };
        }
        cost
    };
    side(a & !b, b).max(side(b & !a, a))
}

/// Similarity of two forms by weighted edit distance: 1 when equal, 0.6 at the edge of the
/// budget, 0 beyond it.
pub fn fuzzy(a: &str, b: &str, abjad: Abjad) -> f32 {
    if a == b {
        return 1.0;
    }
    let limit = budget(a.len().max(b.len()));
    if consonant_bound(consonant_mask(a), consonant_mask(b)) > limit {
        return 0.0;
    }
    fuzzy_within(a, b, abjad, limit)
}

/// [`fuzzy`] for two different forms within the consonant bound of their budget `limit`.
fn fuzzy_within(a: &str, b: &str, abjad: Abjad, limit: f32) -> f32 {
    if limit <= 0.0
        || letter_count_bound(
            &LetterCounts::of(a.as_bytes()),
            &LetterCounts::of(b.as_bytes()),
            abjad,
        ) > limit
    {
        return 0.0;
    }
    match edit_cost(a.as_bytes(), b.as_bytes(), abjad, limit) {
        Some(cost) => 1.0 - 0.4 * cost / limit,
        None => 0.0,
    }
}

/// Similarity of two forms' phonetic skeletons.
pub const PHONETIC_SIMILARITY: f32 = 0.7;

/// Similarity of two parts in different scripts whose skeletons agree.
pub const CROSS_SCRIPT_PHONETIC: f32 = 0.75;

/// Similarity of two parts whose skeletons agree but whose spellings are beyond the edit
/// budget: that of a spelling at the edge of the budget.
pub const BEYOND_BUDGET_PHONETIC: f32 = 0.6;

fn phonetic(a: &Part, b: &Part, abjad: bool) -> f32 {
    // Short keys collide by chance (Olga and Oleg share ALK; Hein and هانيه share HN, Htet
    // and هدایت HTT once vowels are free): three consonant classes at least, and against
    // Latin a longer form.
    let (min_key, min_len) = if abjad { (3, 3) } else { (3, 5) };
    if a.skeleton == b.skeleton
        && a.skeleton.len() >= min_key
        && a.form.len().min(b.form.len()) >= min_len
    {
        PHONETIC_SIMILARITY
    } else {
        0.0
    }
}

/// A part read with its alternative romanisation in place of its form.
fn with_alternative(part: &Part) -> Option<Part> {
    let alternative = part.alternative.as_ref()?;
    let mut other = part.clone();
    other.form = alternative.clone();
    other.canon = crate::name::canonical(alternative).into_owned();
    other.skeleton = crate::phonetic::skeleton_key(alternative);
    other.consonants = consonant_mask(alternative);
    other.alternative = None;
    Some(other)
}

/// Similarity of two single parts, with how it was found. Symmetric. An Arabic-script part
/// with another common romanisation counts by the better of the two.
pub fn part_similarity(a: &Part, b: &Part) -> (f32, How) {
    let mut best = form_similarity(a, b);
    if best.0 < 1.0 && (a.alternative.is_some() || b.alternative.is_some()) {
        for (x, y) in [(with_alternative(a), None), (None, with_alternative(b))] {
            if x.is_none() && y.is_none() {
                continue;
            }
            let found = form_similarity(x.as_ref().unwrap_or(a), y.as_ref().unwrap_or(b));
            if found.0 > best.0 {
                best = found;
            }
        }
    }
    best
}

/// Vowel letters of a form, in order.
fn vowels(form: &str) -> impl Iterator<Item = u8> + '_ {
    form.bytes().filter(|&c| is_vowel(c))
}

fn form_similarity(a: &Part, b: &Part) -> (f32, How) {
    let none = (0.0, How::Fuzzy);
    if a.form == b.form {
        // Two Han characters or Hangul blocks that romanise alike are still two names.
        if a.script.is_syllabic() && b.script.is_syllabic() && a.original != b.original {
            return none;
        }
        return (1.0, How::Literal);
    }
    if a.class == PartClass::Number || b.class == PartClass::Number {
        return none;
    }
    if a.canon == b.canon
        && !a.canon.is_empty()
        && !(a.script.is_syllabic() && b.script.is_syllabic())
    {
        return (0.95, How::Variant);
    }
    let a_initial = a.class == PartClass::Initial;
    let b_initial = b.class == PartClass::Initial;
    if a_initial || b_initial {
        if a_initial != b_initial && a.form.as_bytes().first() == b.form.as_bytes().first() {
            return (1.0, How::Initial);
        }
        return none;
    }
    if a.acronym || b.acronym || (a.script.is_syllabic() && b.script.is_syllabic()) {
        return none;
    }
    match a.groups.kinship(&b.groups) {
        Some(Kinship::Variant) => return (0.95, How::Variant),
        Some(Kinship::Nickname) => return (0.85, How::Nickname),
        None => {}
    }
    let abjad = Abjad::of(a.script.is_abjad(), b.script.is_abjad());
    // A Han character or Hangul block romanises to one short syllable; other romanisations
    // of it differ by a vowel or a voiced consonant (gim / kim, jeong / jong), while a
    // further edit names another syllable (cheng is not chen).
    let syllabic = a.script.is_syllabic() || b.script.is_syllabic();
    let limit = budget(a.form.len().max(b.form.len()));
    let edit = if consonant_bound(a.consonants, b.consonants) > limit {
        0.0
    } else if syllabic
        && (a.script == Script::Han || b.script == Script::Han)
        && (!vowels(&a.form).eq(vowels(&b.form))
            || is_vowel(a.form.as_bytes().first().copied().unwrap_or(b'a'))
                != is_vowel(b.form.as_bytes().first().copied().unwrap_or(b'a')))
    {
        // A Han syllable romanises with other consonant letters (Zhang / Chang, Zhu / Ju),
        // but another vowel or a vowel moved is another syllable (Cheng is not Chang, Lai is
        // not Ali), and hence another name.
        0.0
    } else if syllabic
        && (a.script == Script::Han || b.script == Script::Han)
        && a.form.starts_with("sh") != b.form.starts_with("sh")
    {
        // Pinyin and Wade-Giles both write `sh` for one initial; `zh`, `ch` and `s` are others
        // (Sheng is not Cheng, Shu is not Zhu).
        0.0
    } else if syllabic {
        match edit_cost(a.form.as_bytes(), b.form.as_bytes(), Abjad::Neither, 0.5) {
            Some(cost) => 1.0 - 0.3 * cost / limit.max(0.5),
            None => 0.0,
        }
    } else {
        // Different forms (equal ones matched literally) within the consonant bound.
        fuzzy_within(&a.form, &b.form, abjad, limit)
    };
    let mut sound = if syllabic {
        0.0
    } else {
        phonetic(a, b, abjad.any())
    };
    if sound > 0.0 && a.script != b.script {
        // Across scripts the skeleton is all the evidence there is: an abjad writes no short
        // vowels and other scripts romanise by table, so the vowels that would tell
        // Mahdian from Matnee are missing. A shared key counts less than a spelled match,
        // however the transliteration happened to spell it.
        sound = CROSS_SCRIPT_PHONETIC;
    } else if sound > 0.0 && edit <= 0.0 {
        // Within one script, sounding alike while spelled beyond the edit budget (Gozdur /
        // Castro, Qarin / Grein) is as weak as a spelling at the edge of the budget.
        sound = sound.min(BEYOND_BUDGET_PHONETIC);
    }
    if sound > edit {
        (sound, How::Phonetic)
    } else {
        (edit, How::Fuzzy)
    }
}

/// Similarity of one part against several parts run together (`Abugrein` / `Abu Grein`,
/// `Platonovich` / `Plat Ono Vich`).
/// `sound` allows a phonetic match; syllables of Han or Hangul run together do not sound
/// like one word (`xin yi` is not `Kassan`).
pub fn joined_similarity(
    single: &Part,
    joined: &str,
    joined_canon: &str,
    abjad: Abjad,
    sound: bool,
) -> f32 {
    if single.form == joined || single.canon == joined_canon {
        return 1.0;
    }
    let sim = fuzzy(&single.form, joined, abjad);
    if sim > 0.0 {
        return sim;
    }
    if sound && single.form.len() >= 5 && crate::phonetic::skeleton_key(joined) == single.skeleton {
        return PHONETIC_SIMILARITY;
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::{NameKind, analyze};

    fn part(text: &str) -> Part {
        analyze(text, NameKind::Person).parts.remove(0)
    }

    fn sim(a: &str, b: &str) -> f32 {
        part_similarity(&part(a), &part(b)).0
    }

    fn any_abjad() -> proptest::sample::Select<Abjad> {
        proptest::sample::select(&[Abjad::Neither, Abjad::First, Abjad::Second, Abjad::Both])
    }

    /// The edit cost without a budget to stop at.
    fn unbounded_cost(a: &str, b: &str, abjad: Abjad) -> f32 {
        edit_cost(a.as_bytes(), b.as_bytes(), abjad, 40.0).unwrap_or(f32::MAX)
    }

    proptest::proptest! {
        /// The budget only cuts the work short: a cost within it is found, whatever the path
        /// (swapped letters included).
        #[test]
        fn edit_cost_within_a_budget_is_the_cost(
            a in "[abcdehiklmnorstuy]{2,9}",
            edit in (0usize..9, 0usize..9, "[abcdehiklmnorstuy]"),
            abjad in any_abjad(),
            budget in proptest::sample::select(&[0.5f32, 1.0, 1.5, 2.0, 2.5, 3.0][..]),
        ) {
            // `b` is `a` with one letter replaced and two neighbours swapped.
            let (at, swap, letter) = edit;
            let mut bytes = a.clone().into_bytes();
            let len = bytes.len();
            bytes[at % len] = letter.as_bytes()[0];
            bytes.swap(swap % (len - 1), swap % (len - 1) + 1);
            let b = String::from_utf8(bytes).unwrap_or_default();
            let cost = unbounded_cost(&a, &b, abjad);
            let within = edit_cost(a.as_bytes(), b.as_bytes(), abjad, budget);
            let expected = (cost <= budget).then_some(cost);
            proptest::prop_assert_eq!(within, expected, "{} / {}", a, b);
        }

        /// The consonant bound may skip the edit distance only where the distance is at least
        /// as high: it is a lower bound for every pair of forms, abjad or not.
        #[test]
        fn consonant_bound_is_a_lower_bound(
            a in "[hjckqgszbpvwfdtlmnraeiouy]{0,10}",
            b in "[hjckqgszbpvwfdtlmnraeiouy]{0,10}",
            abjad in any_abjad(),
        ) {
            let cost = unbounded_cost(&a, &b, abjad);
            let bound = consonant_bound(consonant_mask(&a), consonant_mask(&b));
            proptest::prop_assert!(bound <= cost + 1e-6, "{a} / {b}: bound {bound}, cost {cost}");
        }

        /// The same for the bound from letter counts, on forms with doubled letters.
        #[test]
        fn letter_count_bound_is_a_lower_bound(
            a in "([hjckqgszbpvwfdtlmnraeiouy]{1,2}){0,6}",
            b in "([hjckqgszbpvwfdtlmnraeiouy]{1,2}){0,6}",
            abjad in any_abjad(),
        ) {
            let cost = unbounded_cost(&a, &b, abjad);
            let bound = letter_count_bound(
                &LetterCounts::of(a.as_bytes()),
                &LetterCounts::of(b.as_bytes()),
                abjad,
            );
            proptest::prop_assert!(bound <= cost + 1e-6, "{a} / {b}: bound {bound}, cost {cost}");
        }
    }

    #[test]
    fn edit_costs_follow_transliteration() {
        let cost =
            |a: &str, b: &str| edit_cost(a.as_bytes(), b.as_bytes(), Abjad::Neither, 10.0).unwrap();
        assert_eq!(cost("musk", "mosk"), 0.5); // vowel for vowel
        assert_eq!(cost("gates", "cates"), 0.5); // sound twins
        assert_eq!(cost("hasan", "hassan"), 0.25); // doubled letter
        assert_eq!(cost("scholz", "schloz"), 0.5); // neighbours swapped
        assert_eq!(cost("jordan", "jorgan"), 1.0);
        let abjad = edit_cost(b"mhmd", b"muhammad", Abjad::First, 10.0).unwrap();
        assert!((abjad - 0.85).abs() < 1e-5, "{abjad}");
        // A final vowel the abjad wrote (Persian -i) is an ending, not a vowel left out.
        let ahmadi = edit_cost(b"ahmdi", b"ahmad", Abjad::First, 10.0).unwrap();
        assert!((ahmadi - 0.7).abs() < 1e-5, "{ahmadi}");
        let reversed = edit_cost(b"ahmad", b"ahmdi", Abjad::Second, 10.0).unwrap();
        assert!((reversed - 0.7).abs() < 1e-5, "{reversed}");
        assert_eq!(edit_cost(b"chavez", b"chacon", Abjad::Neither, 1.5), None);
    }

    #[test]
    fn letter_counts_bound_more_than_consonant_sets() {
        let counts = |a: &str, b: &str| {
            letter_count_bound(
                &LetterCounts::of(a.as_bytes()),
                &LetterCounts::of(b.as_bytes()),
                Abjad::Neither,
            )
        };
        let sets = |a: &str, b: &str| consonant_bound(consonant_mask(a), consonant_mask(b));
        assert_eq!(sets("tactical", "capital"), 1.0);
        assert_eq!(counts("tactical", "capital"), 2.0);
        assert_eq!(sets("tactical", "collectif"), 1.0);
        assert_eq!(counts("tactical", "collectif"), 2.25);
        // The second of a double is a quarter unit; sound-twins half a unit.
        assert_eq!(counts("hassan", "hasan"), 0.25);
        assert_eq!(counts("gates", "cates"), 0.5);
        assert_eq!(counts("a1", "b2"), 0.0);
    }

    #[test]
    fn similar_names_match_and_different_ones_do_not() {
        for (a, b) in [
            ("Musk", "Mosk"),
            ("Gates", "Cates"),
            ("Jordan", "Jorgan"),
            ("Steinbaum", "Sheinbaum"),
            ("Lindenberg", "Lyndenburg"),
            ("Hannibal", "Hanniball"),
            ("Igor", "I9or"),
        ] {
            assert!(sim(a, b) >= 0.7, "{a} / {b}: {}", sim(a, b));
        }
        for (a, b) in [
            ("Chavez", "Chacon"),
            ("Castro", "Castillo"),
            ("Starmer", "Starkey"),
            ("Hathaway", "Halloway"),
            ("Mahathir", "Mahir"),
            ("Ortega", "Ortiz"),
        ] {
            assert_eq!(sim(a, b), 0.0, "{a} / {b}");
        }
    }

    #[test]
    fn phonetic_variants_and_groups() {
        assert!(part_similarity(&part("Kachlaf"), &part("Koshlaf")).0 >= PHONETIC_SIMILARITY);
        assert!(part_similarity(&part("Khushlaf"), &part("Kashlaf")).0 >= PHONETIC_SIMILARITY);
        assert_eq!(
            part_similarity(&part("Qarin"), &part("Grein")).1,
            How::Phonetic
        );
        assert_eq!(
            part_similarity(&part("Mohammed"), &part("Muhammad")),
            (0.95, How::Variant)
        );
        assert_eq!(
            part_similarity(&part("Ted"), &part("Theodore")),
            (0.85, How::Nickname)
        );
        // Within the edit budget and of one skeleton: the better of the two counts.
        assert!(part_similarity(&part("Schulze"), &part("Scholz")).0 >= PHONETIC_SIMILARITY);
    }

    #[test]
    fn initials_numbers_and_syllables() {
        let initial = analyze("E. Ghermay", NameKind::Person).parts.remove(0);
        assert_eq!(
            part_similarity(&initial, &part("Ermias")),
            (1.0, How::Initial)
        );
        assert_eq!(part_similarity(&initial, &part("Abdullah")).0, 0.0);
        let five = analyze("Zu 5", NameKind::Object).parts.remove(1);
        let six = analyze("Zu 6", NameKind::Object).parts.remove(1);
        assert_eq!(part_similarity(&five, &six).0, 0.0);
        // 近 and 金 both romanise as "jin".
        let a = analyze("近", NameKind::Person).parts.remove(0);
        let b = analyze("金", NameKind::Person).parts.remove(0);
        assert_eq!(a.form, b.form);
        assert_eq!(part_similarity(&a, &b).0, 0.0);
        assert_eq!(part_similarity(&a, &a.clone()).0, 1.0);
    }

    #[test]
    fn han_syllables_and_arabic_readings() {
        // Han: other consonant letters are other romanisations of one syllable; another
        // vowel, a moved vowel or another initial is another syllable.
        assert!(sim("张", "Chang") > 0.8);
        assert!(sim("朱", "Ju") > 0.8);
        assert_eq!(sim("成", "Chang"), 0.0);
        assert_eq!(sim("朱", "Shu"), 0.0);
        assert_eq!(sim("賴", "Ali"), 0.0);
        // Arabic letters that Persian, Urdu and Pashto names read otherwise.
        assert!(sim("ذاکر", "Zakir") >= 0.8, "{}", sim("ذاکر", "Zakir"));
        assert!(sim("كاظم", "Kathim") >= 0.8, "{}", sim("كاظم", "Kathim"));
        assert!(sim("ثاقب", "Saqib") >= 0.8, "{}", sim("ثاقب", "Saqib"));
        assert!(sim("حيدر", "Haidar") >= 0.8);
        // Muwahhid is not Muhammad (whatever `Muhd` abbreviates in Latin script); Mousavi is
        // not Moussa.
        assert!(sim("موحد", "Muhammad") < 0.7, "{}", sim("موحد", "Muhammad"));
        assert!(sim("Muhd", "Muhammad") >= 0.95);
        assert!(sim("موسوی", "Moussa") < 0.7, "{}", sim("موسوی", "Moussa"));
        assert!(sim("موسوی", "Musavi") >= 0.8, "{}", sim("موسوی", "Musavi"));
    }

    #[test]
    fn joined_parts() {
        let single = part("Abugrein");
        assert_eq!(
            joined_similarity(&single, "abugrein", "abugrein", Abjad::Neither, true),
            1.0
        );
        assert!(
            joined_similarity(
                &part("FridrichBuchenberg"),
                "friedrichbuchenberg",
                "fridrihbuhenberg",
                Abjad::Neither,
                true
            ) > 0.9
        );
    }
}
