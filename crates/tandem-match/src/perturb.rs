//! A deterministic generator of name perturbations, one per class of the screening spec
//! (section 4.2): the ways a listed name reaches a screening system misspelt, reordered,
//! abbreviated, romanised otherwise, or deliberately disguised.

use serde::Serialize;

use crate::legal_forms;
use crate::lexicon;
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PerturbationClass {
    Typo,
    Transposition,
    TokenDrop,
    NameOrder,
    Initials,
    DiacriticsRemoved,
    Transliteration,
    Homoglyph,
    InvisibleCharacters,
    HyphenSpace,
    HonorificsParticles,
    LegalForm,
}

impl PerturbationClass {
    pub const ALL: [PerturbationClass; 12] = [
        PerturbationClass::Typo,
        PerturbationClass::Transposition,
        PerturbationClass::TokenDrop,
        PerturbationClass::NameOrder,
        PerturbationClass::Initials,
        PerturbationClass::DiacriticsRemoved,
        PerturbationClass::Transliteration,
        PerturbationClass::Homoglyph,
        PerturbationClass::InvisibleCharacters,
        PerturbationClass::HyphenSpace,
        PerturbationClass::HonorificsParticles,
        PerturbationClass::LegalForm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PerturbationClass::Typo => "typo",
            PerturbationClass::Transposition => "transposition",
            PerturbationClass::TokenDrop => "token_drop",
            PerturbationClass::NameOrder => "name_order",
            PerturbationClass::Initials => "initials",
            PerturbationClass::DiacriticsRemoved => "diacritics_removed",
            PerturbationClass::Transliteration => "transliteration",
            PerturbationClass::Homoglyph => "homoglyph",
            PerturbationClass::InvisibleCharacters => "invisible_characters",
            PerturbationClass::HyphenSpace => "hyphen_space",
            PerturbationClass::HonorificsParticles => "honorifics_particles",
            PerturbationClass::LegalForm => "legal_form",
        }
    }

    /// Classes made to defeat screening rather than by accident.
    pub fn is_adversarial(self) -> bool {
        matches!(
            self,
            PerturbationClass::Homoglyph | PerturbationClass::InvisibleCharacters
        )
    }
}

/// A perturbed name and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Perturbation {
    pub class: PerturbationClass,
    pub entity_id: String,
    pub schema: String,
    pub original: String,
    pub perturbed: String,
}

/// SplitMix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, salt: &str) -> Rng {
        let mut h = seed ^ 0x9E37_79B9_7F4A_7C15;
        for b in salt.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        Rng(h)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// Generates, for one name, one perturbation of each class that applies to it (two for name
/// order). `is_person` selects person or organisation rules. Same input and seed, same output.
pub fn perturb(
    entity_id: &str,
    schema: &str,
    name: &str,
    is_person: bool,
    seed: u64,
) -> Vec<Perturbation> {
    let mut out = Vec::new();
    for class in PerturbationClass::ALL {
        let mut rng = Rng::new(
            seed,
            &format!("{entity_id}\u{1}{name}\u{1}{}", class.name()),
        );
        let variants = match class {
            PerturbationClass::Typo => typo(name, &mut rng).into_iter().collect(),
            PerturbationClass::Transposition => transposition(name, &mut rng).into_iter().collect(),
            PerturbationClass::TokenDrop => {
                token_drop(name, is_person, &mut rng).into_iter().collect()
            }
            PerturbationClass::NameOrder if is_person => name_order(name),
            PerturbationClass::Initials if is_person => initials(name).into_iter().collect(),
            PerturbationClass::DiacriticsRemoved => {
                diacritics(name, &mut rng).into_iter().collect()
            }
            PerturbationClass::Transliteration => {
                transliterate(name, &mut rng).into_iter().collect()
            }
            PerturbationClass::Homoglyph => homoglyph(name, &mut rng).into_iter().collect(),
            PerturbationClass::InvisibleCharacters => {
                invisible(name, &mut rng).into_iter().collect()
            }
            PerturbationClass::HyphenSpace => hyphen_space(name, &mut rng).into_iter().collect(),
            PerturbationClass::HonorificsParticles if is_person => {
                honorifics(name, &mut rng).into_iter().collect()
            }
            PerturbationClass::LegalForm if !is_person => legal_form(name).into_iter().collect(),
            _ => Vec::new(),
        };
        for perturbed in variants {
            if perturbed != name && !perturbed.trim().is_empty() {
                out.push(Perturbation {
                    class,
                    entity_id: entity_id.to_string(),
                    schema: schema.to_string(),
                    original: name.to_string(),
                    perturbed,
                });
            }
        }
    }
    out
}

/// Whether a written word is (part of) a legal form: romanisation and joining rules apply to
/// names, not to `JSC` or `LTD.`.
fn is_legal_word(word: &str) -> bool {
    let forms: Vec<String> = text::words(&text::clean(word))
        .into_iter()
        .map(|w| w.form)
        .collect();
    let refs: Vec<&str> = forms.iter().map(String::as_str).collect();
    let words = refs.len();
    words > 0
        && legal_forms::find(refs)
            .iter()
            .any(|s| s.end - s.start == words)
}

/// Byte ranges of the alphabetic runs of a name.
fn letter_runs(name: &str) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, c) in name.char_indices() {
        match (c.is_alphabetic(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, name.len()));
    }
    runs
}

fn char_count(name: &str, run: (usize, usize)) -> usize {
    name.get(run.0..run.1).map_or(0, |s| s.chars().count())
}

/// Letters next to each other on a QWERTY keyboard.
fn keyboard_neighbour(c: char, rng: &mut Rng) -> char {
    const ROWS: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
    let lower = c.to_ascii_lowercase();
    let mut near = Vec::new();
    for (r, row) in ROWS.iter().enumerate() {
        if let Some(pos) = row.find(lower) {
            let row = row.as_bytes();
            if pos > 0 {
                near.push(row[pos - 1]);
            }
            if let Some(&b) = row.get(pos + 1) {
                near.push(b);
            }
            for other in [r.checked_sub(1), Some(r + 1)].into_iter().flatten() {
                if let Some(&b) = ROWS.get(other).and_then(|o| o.as_bytes().get(pos)) {
                    near.push(b);
                }
            }
        }
    }
    let picked = rng.pick(&near).copied().map(char::from).unwrap_or('e');
    if c.is_uppercase() {
        picked.to_ascii_uppercase()
    } else {
        picked
    }
}

fn replace_char(name: &str, char_index: usize, with: &str) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if i == char_index {
                with.to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The char positions (in the whole name) of the letters of a run.
fn run_chars(name: &str, run: (usize, usize)) -> Vec<usize> {
    let start = name.get(..run.0).map_or(0, |s| s.chars().count());
    (start..start + char_count(name, run)).collect()
}

fn typo(name: &str, rng: &mut Rng) -> Option<String> {
    let runs: Vec<_> = letter_runs(name)
        .into_iter()
        .filter(|r| char_count(name, *r) >= 5)
        .collect();
    let run = *rng.pick(&runs)?;
    let positions = run_chars(name, run);
    let at = *rng.pick(&positions)?;
    let c = name.chars().nth(at)?;
    Some(match rng.below(3) {
        0 => replace_char(name, at, &keyboard_neighbour(c, rng).to_string()),
        1 => replace_char(name, at, &format!("{c}{}", keyboard_neighbour(c, rng))),
        _ => replace_char(name, at, ""),
    })
}

fn transposition(name: &str, rng: &mut Rng) -> Option<String> {
    let runs: Vec<_> = letter_runs(name)
        .into_iter()
        .filter(|r| char_count(name, *r) >= 4)
        .collect();
    let run = *rng.pick(&runs)?;
    let positions = run_chars(name, run);
    let chars: Vec<char> = name.chars().collect();
    let swappable: Vec<usize> = positions
        .windows(2)
        .filter_map(|w| {
            let (a, b) = (*w.first()?, *w.get(1)?);
            (chars.get(a)? != chars.get(b)?).then_some(a)
        })
        .collect();
    let at = *rng.pick(&swappable)?;
    let mut chars = chars;
    chars.swap(at, at + 1);
    Some(chars.into_iter().collect())
}

/// Splits `LAST, First Middle` into (family words, given words); without a comma the last
/// word is the family name.
fn person_words(name: &str) -> (Vec<&str>, Vec<&str>) {
    match name.split_once(',') {
        Some((last, first)) => (
            last.split_whitespace().collect(),
            first.split_whitespace().collect(),
        ),
        None => {
            let words: Vec<&str> = name.split_whitespace().collect();
            match words.split_last() {
                Some((last, given)) => (vec![*last], given.to_vec()),
                None => (Vec::new(), Vec::new()),
            }
        }
    }
}

fn token_drop(name: &str, is_person: bool, rng: &mut Rng) -> Option<String> {
    if is_person {
        let (family, given) = person_words(name);
        if family.len() + given.len() < 3 || given.is_empty() {
            return None;
        }
        let drop = rng.below(given.len());
        let kept: Vec<&str> = given
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != drop)
            .map(|(_, w)| *w)
            .collect();
        return Some(if name.contains(',') {
            format!("{}, {}", family.join(" "), kept.join(" "))
        } else {
            kept.into_iter().chain(family).collect::<Vec<_>>().join(" ")
        });
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.len() < 3 {
        return None;
    }
    let forms: Vec<String> = words
        .iter()
        .map(|w| {
            text::words(&text::clean(w))
                .into_iter()
                .map(|x| x.form)
                .collect::<String>()
        })
        .collect();
    let refs: Vec<&str> = forms.iter().map(String::as_str).collect();
    let legal: Vec<usize> = legal_forms::find(refs)
        .iter()
        .flat_map(|s| s.start..s.end)
        .collect();
    let droppable: Vec<usize> = (0..words.len()).filter(|i| !legal.contains(i)).collect();
    if droppable.len() < 3 {
        return None;
    }
    let drop = *rng.pick(&droppable)?;
    Some(
        words
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != drop)
            .map(|(_, w)| *w)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn name_order(name: &str) -> Vec<String> {
    let (family, given) = person_words(name);
    if family.is_empty() || given.is_empty() {
        return Vec::new();
    }
    let (family, given) = (family.join(" "), given.join(" "));
    if name.contains(',') {
        vec![format!("{given} {family}"), format!("{family} {given}")]
    } else {
        vec![format!("{family} {given}"), format!("{family}, {given}")]
    }
}

fn initials(name: &str) -> Option<String> {
    let (family, given) = person_words(name);
    if family.is_empty() || given.is_empty() {
        return None;
    }
    let reduced: Vec<String> = given
        .iter()
        .filter_map(|w| {
            w.chars()
                .find(|c| c.is_alphabetic())
                .map(|c| format!("{}.", c.to_uppercase()))
        })
        .collect();
    Some(format!("{} {}", reduced.join(" "), family.join(" ")))
}

fn diacritics(name: &str, rng: &mut Rng) -> Option<String> {
    let stripped = text::strip_diacritics(name);
    if stripped != name {
        return Some(stripped);
    }
    const ACCENTED: [(char, char); 10] = [
        ('a', 'á'),
        ('e', 'é'),
        ('i', 'í'),
        ('o', 'ö'),
        ('u', 'ü'),
        ('A', 'Á'),
        ('E', 'É'),
        ('I', 'Í'),
        ('O', 'Ö'),
        ('U', 'Ü'),
    ];
    let positions: Vec<(usize, char)> = name
        .chars()
        .enumerate()
        .filter_map(|(i, c)| {
            ACCENTED
                .iter()
                .find(|(plain, _)| *plain == c)
                .map(|(_, a)| (i, *a))
        })
        .collect();
    let (at, accented) = *rng.pick(&positions)?;
    Some(replace_char(name, at, &accented.to_string()))
}

/// Alternative romanisations: (pattern, replacements), matched case-insensitively.
const ROMANISATIONS: &[(&str, &[&str])] = &[
    ("mohammed", &["muhammad", "mohamed", "mohammad"]),
    ("mohamed", &["muhammad", "mohammed"]),
    ("muhammad", &["mohammed", "mohamed"]),
    ("mohammad", &["muhammad", "mohamed"]),
    ("kh", &["ch", "h"]),
    ("q", &["k", "g"]),
    ("ou", &["u"]),
    ("ov", &["off"]),
    ("dj", &["j"]),
    ("j", &["dj", "dzh"]),
    ("sch", &["sh"]),
    ("sh", &["sch"]),
];

fn match_case(template: &str, replacement: &str) -> String {
    if template.chars().all(|c| !c.is_lowercase()) {
        replacement.to_uppercase()
    } else if template.chars().next().is_some_and(char::is_uppercase) {
        let mut chars = replacement.chars();
        chars
            .next()
            .map(|f| f.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    } else {
        replacement.to_string()
    }
}

/// Whether byte `at` of `name` falls inside a word that is a legal form.
fn in_legal_word(name: &str, at: usize) -> bool {
    let start = name
        .get(..at)
        .and_then(|s| s.rfind(|c: char| c.is_whitespace()))
        .map_or(0, |i| i + 1);
    let end = name
        .get(at..)
        .and_then(|s| s.find(|c: char| c.is_whitespace()))
        .map_or(name.len(), |i| at + i);
    name.get(start..end).is_some_and(is_legal_word)
}

fn transliterate(name: &str, rng: &mut Rng) -> Option<String> {
    let lower = name.to_lowercase();
    if lower.len() != name.len() {
        return None;
    }
    let applicable: Vec<(usize, &str, &[&str])> = ROMANISATIONS
        .iter()
        .filter_map(|(pattern, replacements)| {
            let spots: Vec<usize> = lower
                .match_indices(pattern)
                .map(|(i, _)| i)
                .filter(|&i| !in_legal_word(name, i))
                .collect();
            // "-ov" only at the end of a word; "j" not inside "dj".
            let spots: Vec<usize> = if *pattern == "j" {
                spots
                    .into_iter()
                    .filter(|&i| i == 0 || lower.as_bytes().get(i - 1) != Some(&b'd'))
                    .collect()
            } else if *pattern == "ov" {
                spots
                    .into_iter()
                    .filter(|i| !lower[i + 2..].starts_with(|c: char| c.is_alphabetic()))
                    .collect()
            } else {
                spots
            };
            let at = *rng.pick(&spots)?;
            Some((at, *pattern, *replacements))
        })
        .collect();
    let (at, pattern, replacements) = *rng.pick(&applicable)?;
    let replacement = rng.pick(replacements)?;
    let original = name.get(at..at + pattern.len())?;
    Some(format!(
        "{}{}{}",
        name.get(..at)?,
        match_case(original, replacement),
        name.get(at + pattern.len()..)?
    ))
}

fn homoglyph(name: &str, rng: &mut Rng) -> Option<String> {
    const LOOK_ALIKES: [(char, char); 14] = [
        ('a', 'а'),
        ('e', 'е'),
        ('o', 'о'),
        ('p', 'р'),
        ('c', 'с'),
        ('x', 'х'),
        ('i', 'і'),
        ('A', 'А'),
        ('E', 'Е'),
        ('O', 'О'),
        ('P', 'Р'),
        ('C', 'С'),
        ('X', 'Х'),
        ('I', 'І'),
    ];
    let mut chars: Vec<char> = name.chars().collect();
    let mut positions: Vec<usize> = chars
        .iter()
        .enumerate()
        .filter(|(_, c)| LOOK_ALIKES.iter().any(|(l, _)| l == *c))
        .map(|(i, _)| i)
        .collect();
    let count = 1 + rng.below(2);
    let mut changed = false;
    for _ in 0..count {
        if positions.is_empty() {
            break;
        }
        let k = rng.below(positions.len());
        let at = positions.swap_remove(k);
        if let Some(c) = chars.get_mut(at)
            && let Some((_, twin)) = LOOK_ALIKES.iter().find(|(l, _)| l == c)
        {
            *c = *twin;
            changed = true;
        }
    }
    changed.then(|| chars.into_iter().collect())
}

fn invisible(name: &str, rng: &mut Rng) -> Option<String> {
    const INVISIBLE: [char; 6] = [
        '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}',
    ];
    let mut chars: Vec<char> = name.chars().collect();
    let inside: Vec<usize> = (1..chars.len())
        .filter(|&i| {
            chars.get(i - 1).is_some_and(|c| c.is_alphabetic())
                && chars.get(i).is_some_and(|c| c.is_alphabetic())
        })
        .collect();
    let mut spots: Vec<usize> = (0..1 + rng.below(2))
        .filter_map(|_| rng.pick(&inside).copied())
        .collect();
    if spots.is_empty() {
        return None;
    }
    spots.sort_unstable();
    spots.dedup();
    for at in spots.into_iter().rev() {
        chars.insert(at, *rng.pick(&INVISIBLE)?);
    }
    Some(chars.into_iter().collect())
}

fn hyphen_space(name: &str, rng: &mut Rng) -> Option<String> {
    if let Some(at) = name.find('-') {
        let with = if rng.below(2) == 0 { " " } else { "" };
        return Some(format!("{}{with}{}", name.get(..at)?, name.get(at + 1..)?));
    }
    // Join a particle with the word after it, or else two adjacent words.
    let words: Vec<&str> = name.split(' ').collect();
    if words.len() < 2 {
        return None;
    }
    let lower: Vec<String> = words
        .iter()
        .map(|w| w.trim_matches(',').to_lowercase())
        .collect();
    let candidates: Vec<usize> = (0..words.len() - 1)
        .filter(|&i| !words.get(i).is_some_and(|w| w.ends_with(',')))
        .filter(|&i| {
            !words.get(i).is_some_and(|w| is_legal_word(w))
                && !words.get(i + 1).is_some_and(|w| is_legal_word(w))
        })
        .collect();
    let particles: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| lower.get(i).is_some_and(|w| lexicon::is_person_particle(w)))
        .collect();
    let at = *rng.pick(if particles.is_empty() {
        &candidates
    } else {
        &particles
    })?;
    let joiner = if rng.below(2) == 0 { "-" } else { "" };
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        out.push_str(w);
        if i + 1 < words.len() {
            out.push_str(if i == at { joiner } else { " " });
        }
    }
    Some(out)
}

fn honorifics(name: &str, rng: &mut Rng) -> Option<String> {
    let words: Vec<&str> = name.split_whitespace().collect();
    let removable: Vec<usize> = words
        .iter()
        .enumerate()
        .filter(|(_, w)| {
            let form = w
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            lexicon::is_title(&form) || lexicon::is_person_particle(&form)
        })
        .map(|(i, _)| i)
        .collect();
    if !removable.is_empty() && words.len() > 2 {
        let drop = *rng.pick(&removable)?;
        return Some(
            words
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != drop)
                .map(|(_, w)| *w)
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    const ADDED: [&str; 6] = ["Sheikh", "Dr", "Haji", "Mr", "al-", "bin"];
    let added = *rng.pick(&ADDED)?;
    Some(match added {
        "al-" => {
            let (last, rest) = words.split_last()?;
            let rest = rest.join(" ");
            format!("{rest} al-{}", last.trim_start_matches(','))
        }
        "bin" => {
            let (last, rest) = words.split_last()?;
            format!("{} bin {last}", rest.join(" "))
        }
        title => format!("{title} {name}"),
    })
}

/// Legal-form rewrites: (as written, replacement), whole words, case-insensitive.
const LEGAL_REWRITES: &[(&str, &str)] = &[
    ("s.a. de c.v.", ""),
    ("limited liability company", "LLC"),
    ("limited", "LTD"),
    ("ltd.", "LIMITED"),
    ("ltd", "LIMITED"),
    ("llc", "Limited Liability Company"),
    ("l.l.c.", "Limited Liability Company"),
    ("incorporated", "INC"),
    ("inc.", "INCORPORATED"),
    ("corporation", "CORP"),
    ("corp.", "CORPORATION"),
    ("company", "CO"),
    ("co.", "COMPANY"),
    ("gmbh", "Gesellschaft mit beschränkter Haftung"),
    ("jsc", "Joint Stock Company"),
    ("joint stock company", "JSC"),
    ("s.a.", ""),
];

fn legal_form(name: &str) -> Option<String> {
    let lower = name.to_lowercase();
    if lower.len() != name.len() {
        return None;
    }
    for (written, replacement) in LEGAL_REWRITES {
        let mut search = 0;
        while let Some(found) = lower.get(search..).and_then(|s| s.find(written)) {
            let at = search + found;
            let end = at + written.len();
            let before_ok = at == 0 || !lower[..at].ends_with(|c: char| c.is_alphanumeric());
            let after_ok =
                end == lower.len() || !lower[end..].starts_with(|c: char| c.is_alphanumeric());
            if before_ok && after_ok {
                let replacement = if name[at..end].chars().any(char::is_lowercase) {
                    replacement.to_string()
                } else {
                    replacement.to_uppercase()
                };
                let out = format!("{}{replacement}{}", &name[..at], &name[end..]);
                let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
                let out = out.trim_end_matches([',', ' ']).to_string();
                return (!out.is_empty()).then_some(out);
            }
            search = end;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(name: &str, is_person: bool, class: PerturbationClass) -> Vec<String> {
        perturb(
            "e1",
            if is_person { "Person" } else { "Company" },
            name,
            is_person,
            7,
        )
        .into_iter()
        .filter(|p| p.class == class)
        .map(|p| p.perturbed)
        .collect()
    }

    #[test]
    fn deterministic() {
        let a = perturb("e1", "Person", "GHERMAY, Ermias", true, 42);
        let b = perturb("e1", "Person", "GHERMAY, Ermias", true, 42);
        assert_eq!(a, b);
        assert!(a.len() >= 8, "{a:?}");
    }

    #[test]
    fn each_class_does_what_it_says() {
        let typo = of("GHERMAY, Ermias", true, PerturbationClass::Typo);
        assert_eq!(typo.len(), 1);
        assert!(typo[0].len().abs_diff("GHERMAY, Ermias".len()) <= 1);
        assert_eq!(
            of("GHERMAY, Ermias", true, PerturbationClass::NameOrder),
            ["Ermias GHERMAY", "GHERMAY Ermias"]
        );
        assert_eq!(
            of(
                "KOSHLAF, Mohamed al-Aameen",
                true,
                PerturbationClass::Initials
            ),
            ["M. A. KOSHLAF"]
        );
        assert_eq!(
            of("Mus’ab ABU-QURAYN", true, PerturbationClass::HyphenSpace).len(),
            1
        );
        let dropped = of(
            "KOSHLAF, Mohamed al-Aameen",
            true,
            PerturbationClass::TokenDrop,
        );
        assert!(
            dropped[0] == "KOSHLAF, al-Aameen" || dropped[0] == "KOSHLAF, Mohamed",
            "{dropped:?}"
        );
        assert_eq!(
            of("Two Words", true, PerturbationClass::TokenDrop),
            Vec::<String>::new()
        );
        let homoglyph = of("Ermias Ghermay", true, PerturbationClass::Homoglyph);
        assert!(
            homoglyph[0]
                .chars()
                .any(|c| ('\u{400}'..='\u{4FF}').contains(&c))
        );
        let invisible = of(
            "Ermias Ghermay",
            true,
            PerturbationClass::InvisibleCharacters,
        );
        assert!(invisible[0].chars().any(text::is_invisible));
        assert_eq!(
            of(
                "Fatima del Rocío",
                true,
                PerturbationClass::DiacriticsRemoved
            ),
            ["Fatima del Rocio"]
        );
        assert_eq!(
            of(
                "HOTELERA LOPEZ MATEOS S.A. DE C.V.",
                false,
                PerturbationClass::LegalForm
            ),
            ["HOTELERA LOPEZ MATEOS"]
        );
        assert_eq!(
            of("CRYSTALORD LIMITED", false, PerturbationClass::LegalForm),
            ["CRYSTALORD LTD"]
        );
        let t = of(
            "Mohammed KHUSHLAF",
            true,
            PerturbationClass::Transliteration,
        );
        assert_eq!(t.len(), 1);
        assert_ne!(t[0], "Mohammed KHUSHLAF");
        // Person-only classes do not apply to organisations and the reverse.
        assert!(of("ACME LIMITED", false, PerturbationClass::NameOrder).is_empty());
        assert!(of("GHERMAY, Ermias", true, PerturbationClass::LegalForm).is_empty());
    }
}
