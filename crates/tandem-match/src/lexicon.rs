//! Word lists for name analysis, written for Tandem: person-name particles, titles, organisation
//! stopwords and generic words, very common name parts, spelling-variant and nickname groups,
//! number words. All entries are in the lower-case ASCII form of [`crate::text`].

use std::sync::OnceLock;

use crate::hash::FastMap;
use crate::text;

/// Words that join or introduce name parts and say little about who is meant: Arabic
/// article and kinship words, Romance, Germanic and other nobiliary particles.
const PERSON_PARTICLES: &[&str] = &[
    // Arabic and Berber: article (with its assimilated forms), son/daughter of, father of.
    "al", "el", "ul", "il", "ad", "ar", "as", "at", "az", "an", "ash", "ath", "adh", "bin", "ben",
    "ibn", "bn", "bint", "binti", "bte", "abu", "abou", "abo", "umm", "um", "ould", "wuld", "ag",
    "ait", "wa", "bou", // Hebrew, Persian, Turkic.
    "bar", "bat", "zade", "zadeh", "oglu", "ogly", "kyzy", "qizi", // European.
    "van", "von", "de", "da", "di", "del", "della", "dei", "degli", "der", "den", "ter", "te",
    "du", "des", "le", "la", "lo", "dos", "das", "do", "y", "e", "zu", "af", "av", "st", "ap",
    "mac", "vander", "vande", "vd",
];

/// Titles, ranks and honorifics that precede or follow names.
const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "doctor",
    "prof",
    "professor",
    "sir",
    "dame",
    "lord",
    "lady",
    "madam",
    "madame",
    "mme",
    "mlle",
    "monsieur",
    "herr",
    "frau",
    "senor",
    "senora",
    "sheikh",
    "shaikh",
    "shaykh",
    "sheik",
    "cheikh",
    "sheich",
    "haji",
    "hajji",
    "hadji",
    "hajj",
    "alhaji",
    "alhaj",
    "mullah",
    "mulla",
    "maulana",
    "mawlana",
    "maulvi",
    "mawlawi",
    "molvi",
    "qari",
    "hafiz",
    "imam",
    "ayatollah",
    "hojatoleslam",
    "sayyid",
    "sayyed",
    "seyed",
    "sharif",
    "emir",
    "amir",
    "prince",
    "princess",
    "king",
    "queen",
    "sultan",
    "shah",
    "pasha",
    "bey",
    "effendi",
    "general",
    "gen",
    "lieutenant",
    "lt",
    "colonel",
    "col",
    "major",
    "maj",
    "captain",
    "capt",
    "cpt",
    "commander",
    "cmdr",
    "admiral",
    "adm",
    "brigadier",
    "brig",
    "marshal",
    "sergeant",
    "sgt",
    "corporal",
    "cpl",
    "private",
    "pvt",
    "navy",
    "army",
    "air",
    "force",
    "president",
    "prasident",
    "praesident",
    "president",
    "presidente",
    "minister",
    "senator",
    "sen",
    "rep",
    "representative",
    "governor",
    "gov",
    "mayor",
    "judge",
    "justice",
    "hon",
    "honorable",
    "honourable",
    "excellency",
    "his",
    "her",
    "reverend",
    "rev",
    "father",
    "fr",
    "pastor",
    "bishop",
    "archbishop",
    "cardinal",
    "pope",
    "saint",
    "jr",
    "junior",
    "sr",
    "senior",
    "esq",
    "phd",
    "md",
    "mp",
    "ing",
    "dipl",
    "mag",
    "dott",
    "ing",
];

/// Organisation-name words that carry no identity.
const ORG_STOPWORDS: &[&str] = &[
    "the", "of", "and", "for", "in", "on", "at", "a", "an", "to", "by", "de", "del", "della", "di",
    "da", "das", "do", "dos", "du", "des", "la", "le", "les", "el", "los", "las", "y", "e", "et",
    "und", "u", "van", "von", "der", "den", "het", "i", "och", "og", "og", "ve", "va", "al", "lil",
    "li", "z", "w", "na", "pod", "s",
];

/// Words that many organisation names share: sectors, structures, qualifiers. They count, but
/// less than a distinctive word, so that "Sparkles Business Corporation" is not "Sporks
/// Business Corporation" and "Management Company" is not "Westminster Management Company".
const ORG_GENERIC: &[&str] = &[
    "group",
    "groupe",
    "gruppe",
    "gruppo",
    "grupo",
    "holding",
    "holdings",
    "international",
    "intl",
    "internacional",
    "internationale",
    "global",
    "worldwide",
    "world",
    "trading",
    "trade",
    "traders",
    "services",
    "service",
    "industries",
    "industry",
    "industrial",
    "industrie",
    "enterprises",
    "enterprise",
    "solutions",
    "systems",
    "system",
    "technologies",
    "technology",
    "tech",
    "management",
    "partners",
    "partner",
    "partnership",
    "capital",
    "investment",
    "investments",
    "invest",
    "fund",
    "funds",
    "finance",
    "financial",
    "bank",
    "banking",
    "banco",
    "banque",
    "insurance",
    "securities",
    "trust",
    "foundation",
    "association",
    "organisation",
    "organization",
    "institute",
    "institution",
    "university",
    "society",
    "national",
    "general",
    "united",
    "central",
    "commercial",
    "development",
    "construction",
    "engineering",
    "energy",
    "oil",
    "gas",
    "petroleum",
    "shipping",
    "logistics",
    "transport",
    "import",
    "export",
    "manufacturing",
    "products",
    "resources",
    "real",
    "estate",
    "properties",
    "property",
    "consulting",
    "consultants",
    "agency",
    "center",
    "centre",
    "network",
    "media",
    "communications",
    "ministry",
    "department",
    "office",
    "council",
    "committee",
    "party",
    "union",
    "front",
    "brigade",
    "brigades",
    "movement",
    "republic",
    "state",
    "federal",
    "bureau",
    "authority",
    "academy",
    "research",
    "science",
    "sciences",
    "medical",
    "health",
    "pharmaceutical",
    "pharma",
    "chemical",
    "chemicals",
    "mining",
    "metals",
    "steel",
    "electric",
    "electronics",
    "equipment",
    "motor",
    "motors",
    "airlines",
    "airline",
    "aviation",
    "marine",
    "maritime",
    "navigation",
    "business",
    "business",
    "ventures",
    "venture",
    "associates",
    "brothers",
    "bros",
    "sons",
    "family",
    "mutual",
    "cooperative",
    "coop",
    "import",
    "exchange",
    "market",
    "markets",
    "supply",
    "supplies",
    "hotel",
    "hotels",
    "plaza",
    "tours",
    "travel",
    "first",
    "new",
    "royal",
    "islamic",
    "charity",
    "charitable",
    "relief",
    "aid",
    "welfare",
    "social",
    "public",
    "private",
    "commerce",
    "commercio",
    "comercial",
    "handel",
    "handels",
    "obshchestvo",
    "tsentr",
    "kompaniya",
    "firma",
    "firm",
    "office",
    "agro",
    "food",
    "foods",
    "textile",
    "textiles",
    "construction",
    "contracting",
    "general",
    "asset",
    "assets",
    "leasing",
    "credit",
    "savings",
    "loan",
    "mortgage",
    "series",
    "factory",
    "plant",
    "works",
    "werke",
    "werk",
    "projects",
    "project",
    "design",
    "studio",
    "school",
    "college",
    "hospital",
    "clinic",
    "church",
    "mission",
    "fleet",
    "lines",
    "line",
    "express",
    "cargo",
    "freight",
    "port",
    "ports",
    "petrochemical",
    "refinery",
    "power",
    "water",
    "telecom",
    "software",
    "digital",
    "data",
    "army",
    "forces",
    "force",
    "organisation",
    "liberation",
    "revolutionary",
    "people",
    "peoples",
    "democratic",
    "army",
];

/// Name parts borne by a large share of people in the regions sanctions lists cover: they
/// identify less than a rare part does. Two tiers: very common, and common.
const VERY_COMMON_NAMES: &[&str] = &[
    "muhammad", "mohammed", "mohammad", "mohamed", "mohamad", "muhammed", "mhmd", "ahmad", "ahmed",
    "ali", "abd", "abdul", "abdel", "abdullah", "abdallah", "kim", "lee", "li", "ri", "wang",
    "zhang", "liu", "chen", "singh", "kumar", "khan", "nguyen", "john", "maria", "jose",
];

const COMMON_NAMES: &[&str] = &[
    // Arabic, Persian, Turkic, South Asian.
    "hassan",
    "hasan",
    "hussein",
    "husain",
    "hussain",
    "hossein",
    "husayn",
    "ibrahim",
    "omar",
    "umar",
    "mahmoud",
    "mahmud",
    "mustafa",
    "mostafa",
    "yusuf",
    "yousef",
    "youssef",
    "ismail",
    "khalid",
    "khaled",
    "saleh",
    "salih",
    "salem",
    "salim",
    "said",
    "saeed",
    "sayed",
    "karim",
    "abdulrahman",
    "abdrahman",
    "rahman",
    "aziz",
    "hamid",
    "hameed",
    "malik",
    "rashid",
    "mansour",
    "mansur",
    "nasser",
    "nasir",
    "jamal",
    "faisal",
    "fahd",
    "khalil",
    "yahya",
    "musa",
    "isa",
    "osman",
    "othman",
    "uthman",
    "usman",
    "bakr",
    "bakar",
    "hamza",
    "hamzah",
    "abbas",
    "jafar",
    "reza",
    "mehdi",
    "mahdi",
    "hosseini",
    "shah",
    "ahmadi",
    "mohammadi",
    "rezaei",
    "hashemi",
    "gul",
    "noor",
    "nur",
    "din",
    "uddin",
    "ullah",
    "allah",
    "patel",
    "sharma",
    "shaikh",
    "sheikh",
    "syed",
    "haji",
    "mirza",
    "mir",
    "iqbal",
    "akhtar",
    "begum",
    "bibi",
    "fatima",
    "fatma",
    "aisha",
    "ayesha",
    "zainab",
    "maryam",
    "mariam",
    "amina",
    // East Asian.
    "park",
    "pak",
    "choi",
    "jung",
    "jong",
    "kang",
    "cho",
    "yoon",
    "lim",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "xu",
    "sun",
    "ma",
    "hu",
    "zhu",
    "guo",
    "he",
    "lin",
    "luo",
    "tran",
    "le",
    "pham",
    "hoang",
    "phan",
    "vu",
    "dang",
    "bui",
    "do",
    "ho",
    "ngo",
    "duong",
    "ly",
    "sok",
    "chol",
    "song",
    "young",
    "sung",
    // European and American.
    "james",
    "robert",
    "michael",
    "william",
    "david",
    "richard",
    "joseph",
    "thomas",
    "charles",
    "daniel",
    "paul",
    "mark",
    "george",
    "peter",
    "juan",
    "carlos",
    "luis",
    "jorge",
    "antonio",
    "manuel",
    "francisco",
    "pedro",
    "miguel",
    "jesus",
    "ana",
    "jean",
    "pierre",
    "marie",
    "alexander",
    "aleksandr",
    "sergey",
    "sergei",
    "vladimir",
    "andrey",
    "andrei",
    "dmitry",
    "ivan",
    "nikolay",
    "nikolai",
    "alexey",
    "aleksei",
    "igor",
    "olga",
    "elena",
    "natalia",
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "miller",
    "davis",
    "wilson",
    "garcia",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "perez",
    "sanchez",
    "ramirez",
    "torres",
    "flores",
    "rivera",
    "gomez",
    "diaz",
    "cruz",
    "morales",
    "ortiz",
    "gutierrez",
    "ivanov",
    "petrov",
    "smirnov",
    "kuznetsov",
    "popov",
    "sokolov",
    "muller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "meyer",
    "martin",
    "bernard",
    "dubois",
    "rossi",
    "silva",
    "santos",
    "oliveira",
    "souza",
    "pereira",
    "ferreira",
];

/// Spellings of one name across romanisation conventions; a pair in one group is as good as a
/// literal match. The first member names the group.
const VARIANT_GROUPS: &[&[&str]] = &[
    &[
        "muhammad",
        "mohammed",
        "mohammad",
        "mohamed",
        "mohamad",
        "muhammed",
        "muhamad",
        "muhamed",
        "mohd",
        "muhd",
        "mehmet",
        "mehmed",
        "mohamud",
        "maxamed",
        "mhmd",
        "mamadou",
        "mahammad",
        "magomed",
        "mukhammad",
        "mukhammed",
        "muhammet",
    ],
    &[
        "ahmad", "ahmed", "ahmet", "akhmed", "ahmadou", "ahmd", "achmed", "akhmad",
    ],
    &[
        "husayn", "hussein", "hussain", "husain", "hossein", "husein", "huseyn", "hosein", "hsin",
    ],
    &["hasan", "hassan", "hasen", "hassen", "hsn"],
    &["umar", "omar", "oumar", "omer", "umr"],
    &["usama", "osama", "ousama", "oussama", "usamah", "osamah"],
    &[
        "yusuf", "yousef", "yousuf", "yusef", "youssef", "yousif", "yusif", "youcef", "yossef",
    ],
    &[
        "ibrahim", "ebrahim", "ibraheem", "brahim", "ibragim", "abrahim",
    ],
    &["ismail", "ismael", "ismayil", "esmail", "ismayl"],
    &["mustafa", "mostafa", "moustafa", "mustapha", "mustafah"],
    &["mahmud", "mahmoud", "mahmood", "mehmood", "makhmud"],
    &[
        "abdullah", "abdallah", "abdulla", "abdalla", "abdellah", "abdoulah", "abdlah",
    ],
    &["khalid", "khaled", "khalied", "halid"],
    &["said", "saeed", "sayeed", "saied", "saiid"],
    &["salih", "saleh", "salah", "saalih"],
    &["yahya", "yahia", "yehia", "yahyah", "yihya"],
    &["uthman", "othman", "osman", "usman", "ousmane", "othmane"],
    &["jafar", "jaafar", "jaffar", "djafar"],
    &[
        "sulayman", "suleiman", "sulaiman", "suleyman", "soliman", "sleiman", "slimane",
    ],
    &["ali", "aly", "alee"],
    &["isa", "issa", "eisa", "aissa"],
    &["musa", "mousa", "moussa", "mussa"],
    &[
        "qasim", "qassim", "kassem", "kasim", "qasem", "gasim", "kacem",
    ],
    &[
        "jarjis", "jirjis", "girgis", "gerges", "gergers", "gerjis", "jurjis",
    ],
    &["nasif", "nassif", "nassef", "nasef"],
    &[
        "abdrahman",
        "abdurrahman",
        "abdourahmane",
        "abderrahmane",
        "abdrrahman",
    ],
    &["fatima", "fatma", "fatimah", "fatemeh"],
    &["aisha", "ayesha", "aysha", "aicha", "aishah", "ayse"],
    &["zaynab", "zainab", "zeinab", "zineb"],
    &["sergey", "sergei", "serhiy", "serhii", "sergej", "sergiy"],
    &[
        "aleksandr",
        "alexander",
        "aleksander",
        "oleksandr",
        "alexandr",
        "aleksandar",
    ],
    &[
        "aleksey", "alexei", "alexey", "aleksei", "oleksiy", "oleksii",
    ],
    &[
        "dmitry", "dmitri", "dmitriy", "dmytro", "dimitri", "dimitry",
    ],
    &[
        "yevgeny", "evgeny", "evgeniy", "yevgeniy", "yevhen", "evgenii",
    ],
    &["yury", "yuri", "yuriy", "iurii", "jurij"],
    &["nikolay", "nikolai", "mykola", "nicolai"],
    &["andrey", "andrei", "andriy", "andrii", "andrej"],
    &["vladimir", "volodymyr", "volodimir", "wladimir", "vladimer"],
    &["mikhail", "mykhailo", "michail", "mikhael"],
    &[
        "gaddafi",
        "qaddafi",
        "qadhafi",
        "kadhafi",
        "gadhafi",
        "qadhdhafi",
        "kaddafi",
    ],
    &["muammar", "moammar", "moamar", "muamar"],
];

/// Nicknames and cognates: usually the same person, less sure than a spelling variant.
const NICKNAME_GROUPS: &[&[&str]] = &[
    &[
        "william",
        "bill",
        "billy",
        "will",
        "willy",
        "wilhelm",
        "guillermo",
        "guillaume",
    ],
    &["robert", "bob", "bobby", "rob", "robbie", "roberto"],
    &["richard", "dick", "rick", "ricky", "rich", "ricardo"],
    &[
        "james", "jim", "jimmy", "jamie", "diego", "jaime", "santiago",
    ],
    &[
        "michael", "mike", "mick", "mickey", "miguel", "michel", "michele", "mikhail",
    ],
    &["theodore", "ted", "teddy", "theo", "fedor", "fyodor"],
    &["edward", "ed", "eddie", "ted", "ned", "eduardo", "edouard"],
    &["thomas", "tom", "tommy", "tomas", "tommaso"],
    &["anthony", "tony", "antonio", "anton", "antoine"],
    &[
        "alexander",
        "alex",
        "sasha",
        "sascha",
        "alejandro",
        "alessandro",
        "alexandre",
        "aleksandr",
    ],
    &[
        "david", "dave", "davide", "daoud", "dawood", "dawud", "davud",
    ],
    &["daniel", "dan", "danny", "daniele"],
    &[
        "joseph", "joe", "joey", "jose", "giuseppe", "josef", "yosef", "iosif", "yusuf",
    ],
    &["samuel", "sam", "sammy"],
    &["benjamin", "ben", "benny", "bibi", "benyamin", "binyamin"],
    &[
        "christopher",
        "chris",
        "kristopher",
        "christoph",
        "cristobal",
    ],
    &[
        "nicholas", "nick", "nicky", "nicolas", "nikolaus", "nicola", "nikolai",
    ],
    &[
        "stephen", "steve", "steven", "stefan", "esteban", "stephane", "stepan",
    ],
    &[
        "andrew", "andy", "drew", "andreas", "andres", "andre", "andrei",
    ],
    &[
        "peter", "pete", "pedro", "pierre", "pietro", "pyotr", "petr", "petro",
    ],
    &[
        "john", "johnny", "jack", "juan", "jean", "johann", "johannes", "giovanni", "joao", "jan",
        "hans", "ivan", "ioannis", "sean", "ian", "yahya",
    ],
    &["paul", "paulo", "pablo", "paolo", "pavel", "pavlo"],
    &[
        "george", "georg", "jorge", "giorgio", "georgiy", "yuri", "jurgen", "jarjis",
    ],
    &[
        "katherine",
        "kate",
        "katie",
        "kathy",
        "catherine",
        "caterina",
        "ekaterina",
        "katarzyna",
    ],
    &[
        "elizabeth",
        "liz",
        "lizzie",
        "beth",
        "betty",
        "elisabeth",
        "isabel",
        "elisabetta",
    ],
    &[
        "margaret",
        "maggie",
        "peggy",
        "meg",
        "margarita",
        "marguerite",
    ],
    &["abraham", "abe", "ibrahim", "avraham"],
    &["solomon", "sulayman", "shlomo"],
    &["moses", "musa", "moshe", "moise"],
    &["joshua", "josh", "yeshua"],
    &["jennifer", "jen", "jenny"],
    &["susan", "sue", "susie", "suzanne"],
    &["patrick", "pat", "paddy"],
    &[
        "francis",
        "frank",
        "francisco",
        "franz",
        "francois",
        "francesco",
        "frantisek",
    ],
    &[
        "frederick",
        "fred",
        "freddie",
        "friedrich",
        "federico",
        "frederic",
    ],
    &[
        "henry", "harry", "hank", "heinrich", "enrique", "henri", "enrico",
    ],
    &[
        "charles", "charlie", "chuck", "carlos", "karl", "carl", "carlo",
    ],
    &["joseph", "pepe"],
    &["vladimir", "vova", "volodya"],
    &["mikhail", "misha"],
    &["dmitry", "dima"],
    &["yevgeny", "zhenya"],
];

/// Number words, so that "3 Percenters" meets "Three Percenters".
const NUMBER_WORDS: &[(&str, &str)] = &[
    ("zero", "0"),
    ("one", "1"),
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
    ("thirteen", "13"),
    ("fourteen", "14"),
    ("fifteen", "15"),
    ("sixteen", "16"),
    ("seventeen", "17"),
    ("eighteen", "18"),
    ("nineteen", "19"),
    ("twenty", "20"),
    ("first", "1"),
    ("second", "2"),
    ("third", "3"),
];

/// Roman numerals that organisation and vessel names use as series numbers.
const ROMAN_NUMERALS: &[(&str, &str)] = &[
    ("ii", "2"),
    ("iii", "3"),
    ("iv", "4"),
    ("v", "5"),
    ("vi", "6"),
    ("vii", "7"),
    ("viii", "8"),
    ("ix", "9"),
    ("x", "10"),
    ("xi", "11"),
    ("xii", "12"),
    ("xiii", "13"),
    ("xiv", "14"),
    ("xv", "15"),
    ("xvi", "16"),
    ("xvii", "17"),
    ("xviii", "18"),
    ("xix", "19"),
    ("xx", "20"),
];

/// Prefixes of vessel names that say "ship", not which ship.
const VESSEL_PREFIXES: &[&str] = &[
    "mv", "mt", "ms", "ss", "fv", "mfv", "tb", "lpg", "lng", "mts", "mk", "rv", "hmv", "m", "v",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commonness {
    VeryCommon,
    Common,
}

/// How two name parts relate through the groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kinship {
    Variant,
    Nickname,
}

/// The variant and nickname groups a name part belongs to, looked up once at analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NameGroups {
    pub variant: Option<u16>,
    pub nicknames: &'static [u16],
}

impl NameGroups {
    pub fn of(form: &str) -> NameGroups {
        info(form).groups
    }

    pub fn kinship(&self, other: &NameGroups) -> Option<Kinship> {
        if self.variant.is_some() && self.variant == other.variant {
            return Some(Kinship::Variant);
        }
        if self.nicknames.iter().any(|g| other.nicknames.contains(g)) {
            return Some(Kinship::Nickname);
        }
        None
    }
}

/// Everything the word lists say about one word, found with one lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WordInfo {
    pub particle: bool,
    pub title: bool,
    pub org_stopword: bool,
    pub org_generic: bool,
    pub vessel_prefix: bool,
    /// A country's name or nationality written as one word (`china`, `libyan`).
    pub country: bool,
    pub commonness: Option<Commonness>,
    pub groups: NameGroups,
    pub number: Option<&'static str>,
    pub roman: Option<&'static str>,
}

fn lexicon() -> &'static FastMap<String, WordInfo> {
    static LEXICON: OnceLock<FastMap<String, WordInfo>> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let mut map: FastMap<String, WordInfo> = FastMap::default();
        let mut set = |words: &[&str], apply: &dyn Fn(&mut WordInfo)| {
            for w in words {
                apply(map.entry((*w).to_string()).or_default());
            }
        };
        set(PERSON_PARTICLES, &|i| i.particle = true);
        set(TITLES, &|i| i.title = true);
        set(ORG_STOPWORDS, &|i| i.org_stopword = true);
        set(ORG_GENERIC, &|i| i.org_generic = true);
        set(VESSEL_PREFIXES, &|i| i.vessel_prefix = true);
        set(COMMON_NAMES, &|i| i.commonness = Some(Commonness::Common));
        set(VERY_COMMON_NAMES, &|i| {
            i.commonness = Some(Commonness::VeryCommon)
        });
        for (word, value) in NUMBER_WORDS {
            map.entry((*word).to_string()).or_default().number = Some(value);
        }
        for (word, value) in ROMAN_NUMERALS {
            map.entry((*word).to_string()).or_default().roman = Some(value);
        }
        for country in tandem_core::country::all() {
            let names = std::iter::once(country.name)
                .chain(country.other_names.iter().copied())
                .chain(country.demonyms.iter().copied());
            for name in names {
                let words = text::words(&text::clean(name));
                if let [word] = words.as_slice() {
                    map.entry(word.form.clone()).or_default().country = true;
                }
            }
        }
        for (i, group) in VARIANT_GROUPS.iter().enumerate() {
            for w in group.iter() {
                let slot = &mut map.entry((*w).to_string()).or_default().groups.variant;
                slot.get_or_insert(i as u16);
            }
        }
        let mut nicknames: FastMap<&'static str, Vec<u16>> = FastMap::default();
        for (i, group) in NICKNAME_GROUPS.iter().enumerate() {
            for w in group.iter() {
                nicknames.entry(w).or_default().push(i as u16);
            }
        }
        // A spelling variant of a nickname-group member belongs to that group too (Yousef and
        // Joseph through Yusuf).
        for group in VARIANT_GROUPS {
            let inherited: Vec<u16> = group
                .iter()
                .filter_map(|m| nicknames.get(m))
                .flatten()
                .copied()
                .collect();
            if inherited.is_empty() {
                continue;
            }
            for w in group.iter() {
                let list = nicknames.entry(w).or_default();
                for g in &inherited {
                    if !list.contains(g) {
                        list.push(*g);
                    }
                }
            }
        }
        for (word, groups) in nicknames {
            let leaked: &'static [u16] = Box::leak(groups.into_boxed_slice());
            map.entry(word.to_string()).or_default().groups.nicknames = leaked;
        }
        map
    })
}

/// Every word the lists know.
#[cfg(test)]
pub(crate) fn known_words() -> impl Iterator<Item = &'static str> {
    lexicon().keys().map(String::as_str)
}

/// What the word lists say about a lower-case ASCII word.
pub fn info(form: &str) -> WordInfo {
    lexicon().get(form).copied().unwrap_or_default()
}

/// Abbreviations Latin script writes for a name (`Mohd`, `Muhd` for Muhammad). A word
/// transliterated from Arabic script that happens to spell one (موحد, Muwahhid, reads `muhd`)
/// is not that name: Arabic writes Muhammad in full.
pub fn is_latin_abbreviation(form: &str) -> bool {
    matches!(form, "mohd" | "muhd" | "md" | "mhd")
}

pub fn is_person_particle(form: &str) -> bool {
    info(form).particle
}

pub fn is_title(form: &str) -> bool {
    info(form).title
}

pub fn is_org_stopword(form: &str) -> bool {
    info(form).org_stopword
}

pub fn is_org_generic(form: &str) -> bool {
    info(form).org_generic
}

pub fn is_vessel_prefix(form: &str) -> bool {
    info(form).vessel_prefix
}

pub fn commonness(form: &str) -> Option<Commonness> {
    info(form).commonness
}

/// How two different forms are related through the variant and nickname groups.
pub fn kinship(a: &str, b: &str) -> Option<Kinship> {
    NameGroups::of(a).kinship(&NameGroups::of(b))
}

/// The digits a number word or (for organisations and vessels) a Roman numeral stands for.
pub fn number_value(form: &str, allow_roman: bool) -> Option<&'static str> {
    let i = info(form);
    i.number.or(if allow_roman { i.roman } else { None })
}

/// Slavic patronymics (`Viktorovich`, `Oleksandrovych`, `Ivanovna`): a father's name, which
/// lists often leave out.
pub fn is_patronymic(form: &str) -> bool {
    form.len() >= 7
        && [
            "ovich", "evich", "ovych", "evych", "ovna", "evna", "ivna", "ichna", "ovitch", "evitch",
        ]
        .iter()
        .any(|s| form.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_relate_spellings_and_nicknames() {
        assert_eq!(kinship("mohammed", "muhammad"), Some(Kinship::Variant));
        assert_eq!(kinship("jarjis", "gergers"), Some(Kinship::Variant));
        assert_eq!(kinship("ted", "theodore"), Some(Kinship::Nickname));
        assert_eq!(kinship("bibi", "benjamin"), Some(Kinship::Nickname));
        assert_eq!(kinship("john", "juan"), Some(Kinship::Nickname));
        // Variants of a nickname-group member inherit the group: Yousef ~ Joseph.
        assert_eq!(kinship("yousef", "joseph"), Some(Kinship::Nickname));
        assert_eq!(kinship("hassan", "hussein"), None);
        assert_eq!(kinship("boris", "benjamin"), None);
    }

    #[test]
    fn word_classes() {
        for p in [
            "al", "bin", "ibn", "abu", "ould", "bint", "van", "de", "von",
        ] {
            assert!(is_person_particle(p), "{p}");
        }
        for t in [
            "sheikh",
            "dr",
            "haji",
            "general",
            "navy",
            "major",
            "mr",
            "prasident",
        ] {
            assert!(is_title(t), "{t}");
        }
        assert!(!is_person_particle("ghermay"));
        assert_eq!(commonness("muhammad"), Some(Commonness::VeryCommon));
        assert_eq!(commonness("hassan"), Some(Commonness::Common));
        assert_eq!(commonness("ghermay"), None);
        assert!(is_org_generic("holdings") && is_org_stopword("the"));
        assert_eq!(number_value("three", false), Some("3"));
        assert_eq!(number_value("vi", true), Some("6"));
        assert_eq!(number_value("vi", false), None);
        assert!(is_patronymic("viktorovich") && is_patronymic("oleksandrovych"));
        assert!(!is_patronymic("lavrov"));
    }
}
