//! From raw text to comparable words: Unicode normalisation (NFKC), removal of invisible and
//! format characters, homoglyph folding, word splitting, transliteration to lower-case ASCII.
//!
//! Everything downstream (tokens, phonetic keys, index keys) works on the ASCII forms this module
//! produces, so that `Mus’ab`, `Mus'ab`, `MUSAB`, `Musаb` (Cyrillic а) and `مصعب` meet.

use unicode_normalization::{IsNormalized, UnicodeNormalization};

/// The writing system of a word, as far as matching cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Script {
    Latin,
    Cyrillic,
    Greek,
    Arabic,
    Hebrew,
    Han,
    Hangul,
    Kana,
    /// Digits and anything without a script of its own.
    Common,
    Other,
}

impl Script {
    /// Scripts that write consonants and long vowels only: their transliterations lack the
    /// short vowels a Latin spelling has, so vowel insertions cost little against them.
    pub fn is_abjad(self) -> bool {
        matches!(self, Script::Arabic | Script::Hebrew)
    }

    /// Scripts whose every character (Han) or block (Hangul) is a name syllable of its own:
    /// two different characters are two different names even when they romanise alike.
    pub fn is_syllabic(self) -> bool {
        matches!(self, Script::Han | Script::Hangul)
    }
}

pub fn script_of(c: char) -> Script {
    known_script(c).unwrap_or_else(|| {
        if c.is_alphabetic() {
            Script::Other
        } else {
            Script::Common
        }
    })
}

/// [`script_of`] for the characters it knows by their code alone: `None` for those of other
/// scripts, which take a search of Unicode's alphabetic table to tell from symbols.
fn known_script(c: char) -> Option<Script> {
    if is_latin(c) {
        return Some(Script::Latin);
    }
    Some(match c as u32 {
        0x400..=0x52F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Script::Cyrillic,
        0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
        0x600..=0x6FF | 0x750..=0x77F | 0x8A0..=0x8FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFC => {
            Script::Arabic
        }
        0x590..=0x5FF | 0xFB1D..=0xFB4F => Script::Hebrew,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF => Script::Han,
        0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F => Script::Hangul,
        0x3040..=0x30FF | 0x31F0..=0x31FF => Script::Kana,
        _ if c.is_ascii() => Script::Common,
        _ => return None,
    })
}

/// A Latin letter ([`script_of`] without the table search it needs for unknown scripts).
fn is_latin(c: char) -> bool {
    matches!(c as u32, 0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF | 0x250..=0x2AF)
        && c != '\u{D7}'
        && c != '\u{F7}'
}

/// Characters that render as nothing (or only steer rendering) and are used to defeat
/// screening by splitting a name invisibly: zero-width space and joiners, bidi marks and
/// embeddings, word joiner and invisible operators, BOM, soft hyphen, variation selectors,
/// Mongolian and Hangul fillers, tag characters.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
        || (c.is_control() && !c.is_whitespace())
}

/// Removes invisible characters and applies NFKC (full-width letters, ligatures, presentation
/// forms and compatibility characters become their plain equivalents). ASCII passes through.
pub fn clean(raw: &str) -> std::borrow::Cow<'_, str> {
    // Printable ASCII, tested without an early exit so that it runs on whole vectors.
    if raw
        .bytes()
        .fold(true, |plain, b| plain & (b' '..=b'~').contains(&b))
    {
        return std::borrow::Cow::Borrowed(raw);
    }
    // Most names in other scripts need nothing either, which one bit per character tells.
    if raw.chars().all(is_left_by_cleaning) {
        return std::borrow::Cow::Borrowed(raw);
    }
    std::borrow::Cow::Owned(normalise(raw))
}

/// [`clean`] in full.
fn normalise(raw: &str) -> String {
    let visible: String = raw
        .chars()
        .filter(|&c| !is_invisible(c))
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    // Most names are already in NFKC, which the quick check tells from a table lookup per
    // character; normalising anyway would decompose and recompose every character.
    if unicode_normalization::is_nfkc_quick(visible.chars()) == IsNormalized::Yes {
        return visible;
    }
    visible.nfkc().collect()
}

/// Whether [`normalise`] leaves `c` as it is wherever it stands: a visible character, not
/// whitespace other than the space, in NFKC and a starter (combining class 0). Read from a
/// table of the characters below U+D800 (every script names are written in), built once: the
/// normalisation tables and Unicode's alphabetic tables cost a search per character.
fn is_left_by_cleaning(c: char) -> bool {
    const END: usize = 0xD800;
    static TABLE: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut bits = vec![0u64; END / 64];
        for (code, c) in (0..END as u32).filter_map(|code| Some((code, char::from_u32(code)?))) {
            let kept = c == ' ' || !(c.is_whitespace() || is_invisible(c));
            if kept
                && unicode_normalization::char::canonical_combining_class(c) == 0
                && unicode_normalization::is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
                && let Some(word) = bits.get_mut(code as usize / 64)
            {
                *word |= 1 << (code % 64);
            }
        }
        bits
    });
    let code = c as usize;
    table
        .get(code / 64)
        .is_some_and(|word| word & (1 << (code % 64)) != 0)
}

/// The Latin letter a Cyrillic or Greek letter is drawn like, in common fonts.
pub fn latin_homoglyph(c: char) -> Option<char> {
    Some(match c {
        // Cyrillic
        'а' => 'a',
        'е' => 'e',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'у' => 'y',
        'х' => 'x',
        'і' => 'i',
        'ј' => 'j',
        'ѕ' => 's',
        'ԁ' => 'd',
        'һ' => 'h',
        'ӏ' => 'l',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'к' => 'k',
        'ё' => 'ë',
        'ї' => 'ï',
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'Х' => 'X',
        'У' => 'Y',
        'І' => 'I',
        'Ј' => 'J',
        'Ѕ' => 'S',
        'Ԛ' => 'Q',
        'Ԝ' => 'W',
        'Ӏ' => 'I',
        // Greek
        'α' => 'a',
        'ο' => 'o',
        'ν' => 'v',
        'ι' => 'i',
        'κ' => 'k',
        'ρ' => 'p',
        'υ' => 'u',
        'χ' => 'x',
        'ϲ' => 'c',
        'Α' => 'A',
        'Β' => 'B',
        'Ε' => 'E',
        'Ζ' => 'Z',
        'Η' => 'H',
        'Ι' => 'I',
        'Κ' => 'K',
        'Μ' => 'M',
        'Ν' => 'N',
        'Ο' => 'O',
        'Ρ' => 'P',
        'Τ' => 'T',
        'Υ' => 'Y',
        'Χ' => 'X',
        'Ϲ' => 'C',
        _ => return None,
    })
}

/// What stood between a word and the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    Start,
    /// Nothing but a full stop (`A.B.C.`) or a slash (`A/S`).
    Tight,
    Hyphen,
    Space,
}

/// One word of a name, before classification.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// Lower-case ASCII letters and digits.
    pub form: String,
    /// The word as written (after cleaning), for explanations.
    pub original: String,
    pub script: Script,
    pub gap: Gap,
    /// Written in capitals within a name that also has lower-case words (lists put family
    /// names in capitals: `Abd Al-Rahman SALIM IBRAHIM AL-MILAD`).
    pub upper: bool,
    /// Followed directly by a full stop (`Co.`, `E.`).
    pub dotted: bool,
}

const fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{B4}' | '\u{2BC}' | '\u{2BB}' | '\u{2032}'
    )
}

/// Splits cleaned text into words. Apostrophes vanish inside words (`Qa'ida` = `Qaida`),
/// `&` becomes the word `and`, hyphens and slashes separate but are remembered.
/// The words come as written (`original`), with their gaps; `form` and the rest are left for
/// the caller.
fn split_raw(text: &str) -> Vec<Word> {
    let mut words = Vec::with_capacity(4);
    let mut gap = Gap::Start;
    let mut pending_gap: Option<Gap> = None;
    // The word being read starts at `start`; its text is copied out of `text` once it ends.
    // Only a word with an apostrophe inside is assembled in `joined`, from the pieces around
    // the apostrophes (`piece` is where the current one starts).
    let mut start: Option<usize> = None;
    let mut piece = 0;
    let mut joined = String::new();
    let raw = |original: String, gap: Gap| Word {
        form: String::new(),
        original,
        script: Script::Common,
        gap,
        upper: false,
        dotted: false,
    };
    let flush = |end: usize,
                 start: &mut Option<usize>,
                 piece: usize,
                 joined: &mut String,
                 words: &mut Vec<Word>,
                 gap: Gap| {
        let Some(from) = start.take() else {
            return false;
        };
        let original = if joined.is_empty() {
            text.get(from..end).unwrap_or_default().to_string()
        } else {
            joined.push_str(text.get(piece..end).unwrap_or_default());
            std::mem::take(joined)
        };
        words.push(raw(original, gap));
        true
    };
    for (i, c) in text.char_indices() {
        // Outside ASCII the cheap test first: Unicode's alphabetic table is a binary search.
        if c.is_ascii_alphanumeric() || (!c.is_ascii() && (is_mark(c) || c.is_alphanumeric())) {
            if start.is_none() {
                gap = if words.is_empty() {
                    Gap::Start
                } else {
                    pending_gap.unwrap_or(Gap::Space)
                };
                pending_gap = None;
                start = Some(i);
                piece = i;
            }
            continue;
        }
        if is_apostrophe(c) {
            if start.is_some() {
                joined.push_str(text.get(piece..i).unwrap_or_default());
                piece = i + c.len_utf8();
            }
            continue;
        }
        let had_word = flush(i, &mut start, piece, &mut joined, &mut words, gap);
        pending_gap = Some(separate(c, had_word, pending_gap, &mut words));
    }
    flush(text.len(), &mut start, piece, &mut joined, &mut words, gap);
    words
}

/// What the separator `c` after the words so far makes of them, and the gap before the next
/// word given the separators already seen since the last one (`pending`). A full stop right
/// after a word (`had_word`) marks it dotted; `&` and `+` are the word `and`.
fn separate(c: char, had_word: bool, pending: Option<Gap>, words: &mut Vec<Word>) -> Gap {
    let this_gap = match c {
        '.' => {
            if had_word && let Some(last) = words.last_mut() {
                last.dotted = true;
            }
            Gap::Tight
        }
        '/' => Gap::Tight,
        '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' => Gap::Hyphen,
        '&' | '+' => {
            words.push(Word {
                form: "and".to_string(),
                original: "and".to_string(),
                script: Script::Latin,
                gap: Gap::Space,
                upper: false,
                dotted: false,
            });
            Gap::Space
        }
        _ => Gap::Space,
    };
    // The widest separator wins: "Co. Ltd" is two words with a space between them.
    match (pending, this_gap) {
        (None, g) => g,
        (Some(Gap::Space), _) | (_, Gap::Space) => Gap::Space,
        (Some(Gap::Hyphen), _) | (_, Gap::Hyphen) => Gap::Hyphen,
        _ => Gap::Tight,
    }
}

/// Combining marks and vowel signs, which belong to the word they sit in. Outside ASCII, every
/// character that is not a space, punctuation or a symbol is taken as part of a word: the
/// vowel signs of Khmer, Thai, Devanagari or Ethiopic are not "alphabetic" to Rust.
fn is_mark(c: char) -> bool {
    !c.is_ascii() && !c.is_whitespace() && !is_punctuation(c)
}

fn is_punctuation(c: char) -> bool {
    matches!(c as u32,
        0xA0..=0xBF | 0xD7 | 0xF7 | 0x2B9..=0x2FF | 0x37E | 0x387 | 0x55A..=0x55F | 0x589 | 0x58A
        | 0x5BE | 0x5C0 | 0x5C3 | 0x5C6 | 0x5F3 | 0x5F4 | 0x600..=0x60F | 0x61B..=0x61F
        | 0x66A..=0x66D | 0x6D4 | 0x964 | 0x965 | 0x970 | 0xE3F | 0xE4F | 0xE5A | 0xE5B
        | 0x104A..=0x104F | 0x10FB | 0x1360..=0x1368 | 0x166D | 0x166E | 0x17D4..=0x17DA
        | 0x1800..=0x180A | 0x2000..=0x2BFF | 0x2E00..=0x2E7F | 0x3000..=0x3004 | 0x3008..=0x3020
        | 0x3030 | 0x303D | 0x30FB | 0xFE10..=0xFE19 | 0xFE30..=0xFE4F | 0xFE50..=0xFE6B
        | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65 | 0x1F000..=0x1FAFF)
}

fn dominant_script(word: &str) -> Script {
    // The known scripts in the order that settles ties (the later wins), then letters of
    // other scripts, which win ties with all of them.
    let mut counts: [(Script, usize); 8] = [
        (Script::Latin, 0),
        (Script::Cyrillic, 0),
        (Script::Greek, 0),
        (Script::Arabic, 0),
        (Script::Hebrew, 0),
        (Script::Han, 0),
        (Script::Hangul, 0),
        (Script::Kana, 0),
    ];
    let mut unknown = 0;
    for c in word.chars() {
        match known_script(c) {
            Some(s) => {
                if let Some(slot) = counts.iter_mut().find(|(k, _)| *k == s) {
                    slot.1 += 1;
                }
            }
            None => unknown += 1,
        }
    }
    let known = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
        .copied();
    // Only as many characters of other scripts are looked up as it takes to outnumber the
    // known scripts: in a Thai or Devanagari word, the first letter.
    let needed = known.map_or(1, |(_, n)| n);
    if unknown >= needed {
        let mut others = 0;
        for c in word.chars().filter(|&c| known_script(c).is_none()) {
            if c.is_alphabetic() {
                others += 1;
                if others >= needed {
                    return Script::Other;
                }
            }
        }
    }
    known.map_or(Script::Common, |(s, _)| s)
}

/// Folds Cyrillic/Greek look-alikes to Latin when the word is meant to be Latin: it has Latin
/// letters and every foreign letter has a Latin twin, or the name around it is Latin and the
/// whole word is made of twins.
fn fold_homoglyphs(word: &str, name_has_latin: bool) -> Option<String> {
    let mut latin = 0;
    let mut foreign = 0;
    for c in word.chars() {
        match script_of(c) {
            Script::Latin => latin += 1,
            Script::Cyrillic | Script::Greek => {
                latin_homoglyph(c)?;
                foreign += 1;
            }
            Script::Common => {}
            _ => return None,
        }
    }
    if foreign == 0 || (latin == 0 && !name_has_latin) {
        return None;
    }
    Some(
        word.chars()
            .map(|c| latin_homoglyph(c).unwrap_or(c))
            .collect(),
    )
}

/// Splits a cleaned name into words with ASCII forms. Han characters and Hangul blocks become
/// one word each (each is a name syllable); an Arabic word starting with the article `ال`
/// yields the particle `al` and the rest.
pub fn words(cleaned: &str) -> Vec<Word> {
    if cleaned.is_ascii() {
        ascii_words(cleaned)
    } else {
        script_words(cleaned)
    }
}

/// [`words`] for names with letters beyond ASCII.
fn script_words(cleaned: &str) -> Vec<Word> {
    let raw = split_raw(cleaned);
    let name_has_latin = raw.iter().any(|w| w.original.chars().any(is_latin));
    let has_lower = raw
        .iter()
        .any(|w| w.original.chars().any(char::is_lowercase));
    let mut out = Vec::with_capacity(raw.len() + 2);
    for rw in raw {
        let folded = fold_homoglyphs(&rw.original, name_has_latin);
        let text = folded.as_deref().unwrap_or(&rw.original);
        let script = dominant_script(text);
        // The alphabetic test last: outside ASCII it is a long table search, and most words
        // are settled by their case first.
        let upper = has_lower
            && !text.chars().any(char::is_lowercase)
            && text.chars().any(char::is_uppercase)
            && text.chars().filter(|c| c.is_alphabetic()).nth(1).is_some();
        let word = |form: String, original: String, script: Script, gap: Gap| Word {
            form,
            original,
            script,
            gap,
            upper,
            dotted: rw.dotted,
        };
        match script {
            Script::Han | Script::Hangul => {
                let mut first = true;
                for c in text.chars() {
                    let mut form = String::new();
                    push_ascii(any_ascii::any_ascii_char(c), &mut form);
                    if form.is_empty() {
                        continue;
                    }
                    let own_script = if script_of(c) == Script::Common {
                        Script::Common
                    } else {
                        script
                    };
                    let gap = if first { rw.gap } else { Gap::Tight };
                    out.push(word(form, c.to_string(), own_script, gap));
                    first = false;
                }
            }
            Script::Arabic => {
                let stripped: String = text.chars().filter(|&c| c != '\u{0640}').collect();
                // "الله" is Allah, not the article before "lh".
                let (article, rest) = match stripped.strip_prefix("ال") {
                    Some(rest) if rest.chars().count() >= 2 && stripped != "الله" => {
                        (true, rest)
                    }
                    _ => (false, stripped.as_str()),
                };
                if article {
                    out.push(word("al".to_string(), "ال".to_string(), script, rw.gap));
                }
                let mut form = String::new();
                arabic_to_latin(rest, &mut form);
                if !form.is_empty() {
                    let gap = if article { Gap::Tight } else { rw.gap };
                    out.push(word(form, rest.to_string(), script, gap));
                }
            }
            Script::Hebrew => {
                let mut form = String::new();
                hebrew_to_latin(text, &mut form);
                if !form.is_empty() {
                    out.push(word(form, rw.original.clone(), script, rw.gap));
                }
            }
            _ => {
                let mut form = String::new();
                // Character by character, as `any_ascii` would, without its string.
                let mut ascii = [0u8; 4];
                for c in text.chars() {
                    let piece = if c.is_ascii() {
                        c.encode_utf8(&mut ascii)
                    } else {
                        any_ascii::any_ascii_char(c)
                    };
                    push_ascii(piece, &mut form);
                }
                fold_inner_digits(&mut form);
                if !form.is_empty() {
                    out.push(word(form, rw.original.clone(), script, rw.gap));
                }
            }
        }
    }
    out
}

/// [`words`] for plain ASCII names, the common case, in one pass over the bytes: no
/// homoglyphs, no transliteration. The words and gaps are [`split_raw`]'s: apostrophes vanish
/// wherever they are (inside a word they join its pieces, outside one they are no separator).
fn ascii_words(text: &str) -> Vec<Word> {
    let bytes = text.as_bytes();
    // Capitals mark family names only in names that also have lower case; the `and` that `&`
    // stands for is lower case.
    let has_lower = bytes
        .iter()
        .any(|&b| b.is_ascii_lowercase() || b == b'&' || b == b'+');
    let mut words: Vec<Word> = Vec::with_capacity(4);
    let mut pending_gap: Option<Gap> = None;
    // Whether the last byte read (apostrophes aside) ended a word.
    let mut after_word = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let class = ASCII_CLASSES[usize::from(b)];
        if class == APOSTROPHE {
            i += 1;
            continue;
        }
        if class == 0 {
            pending_gap = Some(separate(char::from(b), after_word, pending_gap, &mut words));
            after_word = false;
            i += 1;
            continue;
        }
        let start = i;
        // The classes seen in the word, and its letters.
        let (mut seen, mut letters) = (0, 0);
        while let Some(&c) = bytes.get(i) {
            let class = ASCII_CLASSES[usize::from(c)];
            if class == 0 {
                break;
            }
            seen |= class;
            letters += usize::from(class & LETTER);
            i += 1;
        }
        let (lower, digits, apostrophes) =
            (seen & LOWER != 0, seen & DIGIT != 0, seen & APOSTROPHE != 0);
        let run = text.get(start..i).unwrap_or_default();
        let original = if apostrophes {
            run.chars().filter(|&c| !is_apostrophe(c)).collect()
        } else {
            run.to_string()
        };
        let mut form = original.to_ascii_lowercase();
        if digits {
            fold_inner_digits(&mut form);
        }
        words.push(Word {
            form,
            original,
            script: if letters > 0 {
                Script::Latin
            } else {
                Script::Common
            },
            gap: if words.is_empty() {
                Gap::Start
            } else {
                pending_gap.unwrap_or(Gap::Space)
            },
            upper: has_lower && letters >= 2 && !lower,
            dotted: false,
        });
        pending_gap = None;
        after_word = true;
    }
    words
}

/// What [`ascii_words`] asks of each byte, in one look-up: a letter (lower case or not), a
/// digit, an apostrophe, or (0) a separator.
const LETTER: u8 = 1;
const LOWER: u8 = 2;
const DIGIT: u8 = 4;
const APOSTROPHE: u8 = 8;
const ASCII_CLASSES: [u8; 256] = {
    let mut classes = [0u8; 256];
    let mut b = 0u8;
    while b < 128 {
        classes[b as usize] = if b.is_ascii_lowercase() {
            LETTER | LOWER
        } else if b.is_ascii_uppercase() {
            LETTER
        } else if b.is_ascii_digit() {
            DIGIT
        } else if is_apostrophe(b as char) {
            APOSTROPHE
        } else {
            0
        };
        b += 1;
    }
    classes
};

/// Appends the ASCII letters and digits of `text`, lower-cased.
fn push_ascii(text: &str, out: &mut String) {
    out.extend(
        text.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase()),
    );
}

/// Digits between letters are letters in disguise (`I9or Sech1n`): 0→o, 1→i, 3→e, 4→a, 5→s,
/// 7→t, 8→b, 9→g. Digits at the edges (`AHL1`, `2007`) stay numbers.
fn fold_inner_digits(form: &mut String) {
    let bytes = form.as_bytes();
    if !bytes.iter().any(u8::is_ascii_digit)
        || bytes.iter().filter(|b| b.is_ascii_alphabetic()).count() < 2
    {
        return;
    }
    let mut folded = bytes.to_vec();
    for i in 1..bytes.len().saturating_sub(1) {
        let (before, here, after) = (bytes[i - 1], bytes[i], bytes[i + 1]);
        if before.is_ascii_alphabetic() && after.is_ascii_alphabetic() {
            folded[i] = match here {
                b'0' => b'o',
                b'1' => b'i',
                b'3' => b'e',
                b'4' => b'a',
                b'5' => b's',
                b'7' => b't',
                b'8' => b'b',
                b'9' => b'g',
                other => other,
            };
        }
    }
    if let Ok(text) = String::from_utf8(folded) {
        *form = text;
    }
}

/// Arabic, Persian and Urdu letters to Latin. Long vowels and the weak letters و and ي are
/// read as vowels inside a word and as consonants at its start or before alif; short vowel
/// marks, when written, become vowels; shadda doubles; hamza and tatweel vanish.
pub fn arabic_to_latin(word: &str, out: &mut String) {
    let chars: Vec<char> = word.chars().collect();
    let start_len = out.len();
    // Where the last consonant was written, so that shadda can double it even after a
    // short-vowel mark (NFKC puts fatha before shadda).
    let mut last_consonant: Option<(usize, usize)> = None;
    for (i, &c) in chars.iter().enumerate() {
        let at_start = out.len() == start_len;
        // Before alif a weak letter is a consonant (Nawaz, Yahya), except before a final alif,
        // which only closes a vowel (Ondoa).
        let before_alif = matches!(chars.get(i + 1), Some('ا' | 'أ' | 'آ')) && i + 2 < chars.len();
        // The nisba ending -wi (Musawi, Alawi, Badawi) writes waw before a final ya: a
        // consonant there, or Mousavi would read "musui" and sound like Moussa.
        let before_final_ya = c == 'و'
            && i > 0
            && i + 2 == chars.len()
            && matches!(chars.get(i + 1), Some('ي' | 'ی'));
        let piece: &str = match c {
            'ا' | 'أ' | 'آ' | 'ٱ' => "a",
            'إ' => "i",
            'ب' => "b",
            'ت' => "t",
            'ث' => "th",
            'ج' => "j",
            'ح' => "h",
            'خ' => "kh",
            'د' => "d",
            'ذ' => "dh",
            'ر' => "r",
            'ز' => "z",
            'س' => "s",
            'ش' => "sh",
            'ص' => "s",
            'ض' => "d",
            'ط' => "t",
            'ظ' => "z",
            'ع' if at_start => "a",
            'ع' | 'ء' | 'ؤ' => "",
            'غ' => "gh",
            'ف' => "f",
            'ق' => "q",
            'ك' | 'ک' => "k",
            'ل' => "l",
            'م' => "m",
            'ن' | 'ں' => "n",
            'ه' | 'ہ' | 'ھ' if word == "الله" => "ah",
            'ه' | 'ہ' | 'ھ' => "h",
            'ة' | 'ۃ' | 'ى' => "a",
            'و' if at_start || before_alif || before_final_ya => "w",
            'و' => "u",
            'ي' | 'ی' | 'ې' | 'ئ' if at_start || before_alif => "y",
            'ي' | 'ی' | 'ې' | 'ئ' => "i",
            'ے' | 'ۀ' => "e",
            'پ' => "p",
            'چ' => "ch",
            'ژ' => "zh",
            'گ' => "g",
            'ٹ' => "t",
            'ڈ' => "d",
            'ڑ' => "r",
            '\u{064E}' | '\u{0670}' => "a",
            '\u{064F}' => "u",
            '\u{0650}' => "i",
            '\u{0651}' => {
                if let Some((from, to)) = last_consonant
                    && let Some(consonant) = out.get(from..to).map(str::to_string)
                {
                    out.insert_str(to, &consonant);
                    last_consonant = Some((to, to + consonant.len()));
                }
                ""
            }
            '\u{064B}'..='\u{0652}' | '\u{0640}' => "",
            '\u{0660}'..='\u{0669}' => {
                out.push(char::from(b'0' + (c as u32 - 0x660) as u8));
                ""
            }
            '\u{06F0}'..='\u{06F9}' => {
                out.push(char::from(b'0' + (c as u32 - 0x6F0) as u8));
                ""
            }
            other => {
                push_ascii(any_ascii::any_ascii_char(other), out);
                ""
            }
        };
        if !piece.is_empty()
            && !piece
                .bytes()
                .all(|b| matches!(b, b'a' | b'e' | b'i' | b'o' | b'u'))
        {
            last_consonant = Some((out.len(), out.len() + piece.len()));
        }
        out.push_str(piece);
    }
}

/// The other common romanisation of an Arabic-script word whose letters are read differently
/// in Arabic and in Persian, Urdu or Pashto names: ث is `th` or `s` (Haitham, Saqib), ذ `dh` or
/// `z` (Dhakir, Zakir), ض `d` or `z` (Fadl, Fazal), ظ `z` or `dh`/`d` (Zahir, Dahir, Kathim).
/// `None` when the word has none of them.
pub fn arabic_alternative(word: &str) -> Option<String> {
    if !word.contains(['ث', 'ذ', 'ض', 'ظ']) {
        return None;
    }
    let swapped: String = word
        .chars()
        .map(|c| match c {
            'ث' => 'س',
            'ذ' => 'ز',
            'ض' => 'ز',
            'ظ' => 'ذ',
            other => other,
        })
        .collect();
    let mut form = String::new();
    arabic_to_latin(&swapped, &mut form);
    (!form.is_empty()).then_some(form)
}

/// Hebrew letters to Latin: vav and yod inside a word are vowels, pe is p at the start and f
/// elsewhere, points (niqqud) vanish.
pub fn hebrew_to_latin(word: &str, out: &mut String) {
    let start_len = out.len();
    for c in word.chars() {
        let at_start = out.len() == start_len;
        let piece = match c {
            'א' | 'ע' if at_start => "a",
            'א' | 'ע' => "",
            'ב' => "b",
            'ג' => "g",
            'ד' => "d",
            'ה' => "h",
            'ו' if at_start => "v",
            'ו' => "u",
            'ז' => "z",
            'ח' => "h",
            'ט' => "t",
            'י' if at_start => "y",
            'י' => "i",
            'כ' | 'ך' | 'ק' => "k",
            'ל' => "l",
            'מ' | 'ם' => "m",
            'נ' | 'ן' => "n",
            'ס' => "s",
            'פ' if at_start => "p",
            'פ' | 'ף' => "f",
            'צ' | 'ץ' => "ts",
            'ר' => "r",
            'ש' => "sh",
            'ת' => "t",
            '\u{0591}'..='\u{05C7}' => "",
            other => {
                push_ascii(any_ascii::any_ascii_char(other), out);
                ""
            }
        };
        out.push_str(piece);
    }
}

/// Removes diacritics the way a person typing without them would (NFD, drop combining
/// marks); used by the perturbation generator and tests.
pub fn strip_diacritics(text: &str) -> String {
    text.nfd()
        .filter(|c| !matches!(*c as u32, 0x300..=0x36F))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(text: &str) -> Vec<String> {
        words(&clean(text)).into_iter().map(|w| w.form).collect()
    }

    #[test]
    fn the_commonest_script_of_a_word_wins_and_other_scripts_win_ties() {
        assert_eq!(dominant_script("Сергей"), Script::Cyrillic);
        assert_eq!(dominant_script("สมชาย"), Script::Other);
        // One Latin letter and one Thai: a tie, which letters of other scripts win.
        assert_eq!(dominant_script("aก"), Script::Other);
        assert_eq!(dominant_script("aaก"), Script::Latin);
        // A Thai digit is no letter: the known script has the word.
        assert_eq!(dominant_script("a๑"), Script::Latin);
        // Between known scripts, the later in the list wins a tie.
        assert_eq!(dominant_script("aб"), Script::Cyrillic);
        assert_eq!(dominant_script("12-"), Script::Common);
        assert_eq!(dominant_script("१२"), Script::Common);
    }

    proptest::proptest! {
        /// Names the table says cleaning leaves alone are left alone.
        #[test]
        fn clean_borrows_only_what_normalising_keeps(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    // Letters of the scripts names come in, which cleaning keeps...
                    6 => "[a-zA-Z ,.àéöçşğА-яёЁΑ-ωا-يپچژگ一-龥가-힣]",
                    // ...and what it removes, replaces or composes.
                    1 => "[\\u{300}-\\u{36F}\\u{64B}-\\u{652}\\u{200B}-\\u{200F}\\u{FB50}-\\u{FDFF}\\u{FF01}-\\u{FF5E}\\u{A0}\\u{2000}-\\u{206F}\\t]",
                    1 => "[\\u{80}-\\u{D7FF}]|\\PC",
                    // A letter and a mark NFKC composes with it.
                    1 => "[aeiouncAEIOUNCиеИЕ][\\u{300}-\\u{308}\\u{327}]",
                ],
                0..10,
            ),
        ) {
            let text: String = pieces.concat();
            proptest::prop_assert_eq!(clean(&text).into_owned(), normalise(&text));
        }

        /// The one-pass reading of ASCII names finds the words, gaps and marks that the
        /// general one does.
        #[test]
        fn ascii_names_read_as_the_general_path_reads_them(
            text in "[a-zA-Z0-9 .,/&+'`()-]{0,24}",
        ) {
            proptest::prop_assert_eq!(ascii_words(&text), script_words(&text));
        }
    }

    #[test]
    fn invisible_characters_vanish() {
        for c in [
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{202E}',
        ] {
            let text = format!("Gher{c}may");
            assert_eq!(forms(&text), ["ghermay"], "U+{:04X}", c as u32);
        }
        assert_eq!(clean("a\u{0007}b"), "ab");
    }

    #[test]
    fn nfkc_and_case_folding() {
        assert_eq!(forms("ＡＢＵ　ＧＲＥＩＮ"), ["abu", "grein"]);
        assert_eq!(forms("ﬁtwi"), ["fitwi"]);
        assert_eq!(forms("Mus’ab"), forms("Mus'ab"));
        assert_eq!(forms("François Hollande"), ["francois", "hollande"]);
        assert_eq!(forms("Straße"), ["strasse"]);
    }

    #[test]
    fn homoglyphs_fold_to_latin() {
        // Cyrillic а, е, о, р, с, х and Ukrainian і inside Latin names.
        assert_eq!(forms("Ermiаs Ghermаy"), ["ermias", "ghermay"]);
        assert_eq!(forms("Ρutin"), ["putin"]); // Greek capital rho
        assert_eq!(forms("Kоshlаf"), ["koshlaf"]);
        assert_eq!(forms("Alі"), ["ali"]);
        // A whole word of look-alikes inside a Latin name is Latin too: Cyrillic "Оса".
        assert_eq!(forms("Musab Оса"), ["musab", "oca"]);
        // Real Cyrillic is transliterated, not folded: р is r there.
        assert_eq!(forms("Сергей Лавров"), ["sergey", "lavrov"]);
        assert_eq!(forms("Пётр"), ["petr"]);
    }

    #[test]
    fn transliteration_of_scripts() {
        assert_eq!(forms("Κυριάκος Μητσοτάκης"), ["kyriakos", "mitsotakis"]);
        assert_eq!(forms("Володимир Зеленський"), ["volodimir", "zelenskiy"]);
        assert_eq!(forms("习近平"), ["xi", "jin", "ping"]);
        assert_eq!(forms("김정은"), ["gim", "jeong", "eun"]);
        assert_eq!(forms("バラク・オバマ"), ["baraku", "obama"]);
        assert_eq!(forms("Բարակ Օբամա"), ["barak", "obama"]);
    }

    #[test]
    fn arabic_transliteration() {
        assert_eq!(forms("محمد بن سلمان"), ["mhmd", "bn", "slman"]);
        // The article splits off; و and ي are vowels inside a word.
        assert_eq!(forms("السوداني"), ["al", "sudani"]);
        assert_eq!(forms("فرناندو بيريز"), ["frnandu", "biriz"]);
        // Initial ain is written as a vowel in Latin spellings: Abd, Ali, Omar.
        assert_eq!(forms("عبد الفتاح"), ["abd", "al", "ftah"]);
        assert_eq!(forms("علي"), ["ali"]);
        // Persian letters and the zero-width non-joiner inside a compound.
        assert_eq!(forms("مسعود پزشک‌فر"), ["msud", "pzshkfr"]);
        // Short vowels and shadda when written.
        assert_eq!(forms("مُحَمَّد"), ["muhammad"]);
        assert_eq!(forms("١٢٣"), ["123"]);
    }

    #[test]
    fn hebrew_transliteration() {
        assert_eq!(forms("ולדימיר פוטין"), ["vldimir", "putin"]);
    }

    #[test]
    fn word_boundaries() {
        let ws = words(&clean("Al-Qa'ida/Islamic Army & Co. A.B.C. A/S"));
        let f: Vec<&str> = ws.iter().map(|w| w.form.as_str()).collect();
        assert_eq!(
            f,
            [
                "al", "qaida", "islamic", "army", "and", "co", "a", "b", "c", "a", "s"
            ]
        );
        let gaps: Vec<Gap> = ws.iter().map(|w| w.gap).collect();
        assert_eq!(gaps[1], Gap::Hyphen);
        assert_eq!(gaps[2], Gap::Tight);
        assert_eq!(gaps[7], Gap::Tight);
        assert_eq!(gaps[10], Gap::Tight);
        assert!(ws[5].dotted);
        assert_eq!(
            forms("I9or Sech1n 2007-AHL1"),
            ["igor", "sechin", "2007", "ahl1"]
        );
    }

    #[test]
    fn capitals_mark_family_names() {
        let ws = words(&clean("Abd Al-Rahman SALIM IBRAHIM AL-MILAD"));
        let upper: Vec<bool> = ws.iter().map(|w| w.upper).collect();
        assert_eq!(upper, [false, false, false, true, true, true, true]);
        assert!(words(&clean("ALL CAPS NAME")).iter().all(|w| !w.upper));
    }
}
