//! Deterministic synthetic FtM data for benchmarks and tests: people and companies around
//! smuggling routes, who owns what, and who is sanctioned under which programme.
//!
//! The mix is roughly 40 % Person, 25 % Company, 15 % Ownership and 20 % Sanction; each entity
//! carries 5 to 12 property values. Ownerships and sanctions only point at entities generated
//! earlier, so every reference in the output resolves. The same `(n, seed)` always gives the
//! same lines, with no dependency on a random-number crate.

use tandem_core::Entity;

use super::entity_line;

/// `n` FtM JSON lines (no line breaks), the same for the same `seed`.
pub fn synthetic_lines(n: usize, seed: u64) -> impl Iterator<Item = String> {
    let mut generator = Generator::new(seed);
    (0..n).map(move |_| generator.next_line())
}

/// SplitMix64: tiny, fast and good enough to pick names.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items
            .get(self.below(items.len()))
            .copied()
            .unwrap_or_default()
    }

    fn date(&mut self, from_year: usize, to_year: usize) -> String {
        let year = from_year + self.below(to_year - from_year + 1);
        format!("{year}-{:02}-{:02}", 1 + self.below(12), 1 + self.below(28))
    }
}

const MALE_FIRST: &[&str] = &[
    "Ermias",
    "Tewelde",
    "Medhanie",
    "Abdelrahman",
    "Mohammed",
    "Osama",
    "Ahmed",
    "Musa",
    "Ibrahim",
    "Yonas",
    "Kidane",
    "Abdulkadir",
    "Emmanuel",
    "Chukwuemeka",
    "Mamadou",
    "Ousmane",
    "Salvatore",
    "Giorgos",
    "Youssef",
    "Hamza",
];
const FEMALE_FIRST: &[&str] = &[
    "Hiwet", "Selam", "Amina", "Fatima", "Mariam", "Blessing", "Aisha", "Nadia", "Ngozi", "Awa",
    "Khadija", "Helen", "Rahel", "Zainab", "Giulia",
];
const LAST: &[&str] = &[
    "Ghermay",
    "Habte",
    "Yehdego",
    "Al-Milad",
    "Al-Kuni",
    "Kachlav",
    "Dabbashi",
    "Weldu",
    "Tesfamariam",
    "Okafor",
    "Diallo",
    "Traore",
    "Mansour",
    "Haile",
    "Abdullahi",
    "Ben Ali",
    "Conte",
    "Papadopoulos",
    "El Amrani",
    "Kebede",
    "Suleiman",
    "Obi",
];
const ARABIC_NAMES: &[&str] = &[
    "عبد الرحمن الميلاد",
    "أسامة الكوني",
    "أحمد الدباشي",
    "محمد كشلاف",
    "مصعب أبو القاسم",
    "إبراهيم موسى",
];
const NICKNAMES: &[&str] = &[
    "Bija",
    "the Doctor",
    "Wedi Isaac",
    "Abu Obeida",
    "the General",
    "Sheikh",
    "the Captain",
];
const PLACES: &[&str] = &[
    "Zawiya",
    "Sabratha",
    "Kufra",
    "Agadez",
    "Khartoum",
    "Asmara",
    "Tripoli",
    "Benghazi",
    "Lagos",
    "Kano",
    "Addis Ababa",
    "Sfax",
    "Nouadhibou",
    "Dakar",
    "Catania",
];
const COUNTRIES: &[&str] = &[
    "er", "et", "sd", "ly", "ng", "eg", "so", "tn", "ma", "gm", "sn", "gh", "ml", "ne", "td", "it",
    "gr", "mt", "es",
];
const COMPANY_HEADS: &[&str] = &[
    "Al-Noor",
    "Sahara",
    "Mediterranean",
    "Blue Horizon",
    "Desert Star",
    "Green Sea",
    "Atlas",
    "Nile Valley",
    "Red Sea",
    "Golden Gate",
    "Oasis",
    "Zawiya Marine",
];
const COMPANY_TRADES: &[&str] = &[
    "Trading",
    "Shipping",
    "Logistics",
    "Travel Agency",
    "Fisheries",
    "Money Exchange",
    "Transport",
    "Construction",
    "Petroleum Services",
    "Import Export",
];
const LEGAL_FORMS: &[&str] = &["LLC", "Ltd", "S.r.l.", "PLC", "SARL", "JSC"];
const OWNERSHIP_ROLES: &[&str] = &["shareholder", "beneficial owner", "nominee shareholder"];
const PERSON_ROLES: &[&str] = &[
    "organiser",
    "recruiter",
    "transporter",
    "boat_operator",
    "safe_house_keeper",
    "enforcer",
    "document_forger",
    "money_handler",
    "corrupt_official",
];
const COMPANY_ROLES: &[&str] = &["transport_company", "money_handler", "private_enabler"];
const STAGES: &[&str] = &["origin", "transit", "departure", "crossing", "destination"];

/// Programme, programme id, authority and its country.
const PROGRAMS: &[(&str, &str, &str, &str)] = &[
    (
        "UN Security Council Libya sanctions (resolution 1970)",
        "UN-SCLY",
        "United Nations Security Council",
        "zz",
    ),
    (
        "Transnational Criminal Organizations",
        "US-TCO",
        "Office of Foreign Assets Control",
        "us",
    ),
    (
        "EU Global Human Rights Sanctions Regime",
        "EU-HR",
        "Council of the European Union",
        "eu",
    ),
    (
        "Global Irregular Migration and Trafficking in Persons Sanctions",
        "GB-MIG",
        "Foreign, Commonwealth & Development Office",
        "gb",
    ),
    (
        "Libya (Sanctions) (EU Exit) Regulations 2020",
        "GB-LY",
        "Foreign, Commonwealth & Development Office",
        "gb",
    ),
];

/// Most property values an entity gets.
const MAX_VALUES: usize = 12;

struct Generator {
    rng: Rng,
    prefix: String,
    persons: usize,
    companies: usize,
    others: usize,
}

impl Generator {
    fn new(seed: u64) -> Generator {
        Generator {
            rng: Rng(seed),
            prefix: format!("syn-{seed:x}"),
            persons: 0,
            companies: 0,
            others: 0,
        }
    }

    fn next_line(&mut self) -> String {
        let roll = self.rng.below(100);
        let entity = if self.companies == 0 || roll < 40 {
            // Starting with a company lets the first ownerships and sanctions find a target.
            if self.companies == 0 {
                self.company()
            } else {
                self.person()
            }
        } else if roll < 65 {
            self.company()
        } else if roll < 80 {
            self.ownership()
        } else {
            self.sanction()
        };
        entity_line(&entity)
    }

    fn person_id(&self, index: usize) -> String {
        format!("{}-p{index}", self.prefix)
    }

    fn company_id(&self, index: usize) -> String {
        format!("{}-c{index}", self.prefix)
    }

    /// An earlier person or company, for owners and sanction targets.
    fn some_party(&mut self) -> String {
        if self.persons > 0 && self.rng.chance(60) {
            let index = self.rng.below(self.persons);
            self.person_id(index)
        } else {
            let index = self.rng.below(self.companies);
            self.company_id(index)
        }
    }

    fn new_entity(&mut self, schema: &str, id: String) -> Entity {
        // The schemata are built in and the ids follow the id rules, so this cannot fail;
        // falling back keeps the generator total anyway.
        Entity::new(schema, id).unwrap_or_else(|_| Entity {
            id: String::new(),
            schema: schema.to_string(),
            properties: Default::default(),
            sensitivity: Default::default(),
            confidence: None,
        })
    }

    fn person(&mut self) -> Entity {
        let id = self.person_id(self.persons);
        self.persons += 1;
        let mut person = self.new_entity("Person", id);
        let female = self.rng.chance(35);
        let first = self
            .rng
            .pick(if female { FEMALE_FIRST } else { MALE_FIRST });
        let last = self.rng.pick(LAST);
        let nationality = self.rng.pick(COUNTRIES);
        let birth_date = self.rng.date(1955, 2000);
        let mut values: Vec<(&str, String)> = vec![
            ("name", format!("{first} {last}")),
            ("firstName", first.to_string()),
            ("lastName", last.to_string()),
            ("birthDate", birth_date),
            ("nationality", nationality.to_string()),
            (
                "gender",
                (if female { "female" } else { "male" }).to_string(),
            ),
        ];
        if self.rng.chance(50) {
            values.push(("alias", format!("{} {}", last.to_uppercase(), first)));
        }
        if self.rng.chance(30) {
            values.push(("alias", format!("{first} \"{}\"", self.rng.pick(NICKNAMES))));
        }
        if self.rng.chance(20) {
            values.push(("alias", self.rng.pick(ARABIC_NAMES).to_string()));
        }
        if self.rng.chance(60) {
            values.push(("birthPlace", self.rng.pick(PLACES).to_string()));
        }
        if self.rng.chance(50) {
            values.push((
                "passportNumber",
                format!(
                    "{}{:07}",
                    nationality.to_uppercase(),
                    self.rng.below(10_000_000)
                ),
            ));
        }
        if self.rng.chance(50) {
            values.push(("country", self.rng.pick(COUNTRIES).to_string()));
        }
        if self.rng.chance(70) {
            let topic = if self.rng.chance(50) {
                "sanction"
            } else {
                "crime.traffick"
            };
            values.push(("topics", topic.to_string()));
        }
        if self.rng.chance(30) {
            values.push(("tandem:role", self.rng.pick(PERSON_ROLES).to_string()));
        }
        if self.rng.chance(20) {
            values.push(("tandem:stage", self.rng.pick(STAGES).to_string()));
        }
        fill(&mut person, values);
        person
    }

    fn company(&mut self) -> Entity {
        let id = self.company_id(self.companies);
        self.companies += 1;
        let mut company = self.new_entity("Company", id);
        let head = self.rng.pick(COMPANY_HEADS);
        let trade = self.rng.pick(COMPANY_TRADES);
        let form = self.rng.pick(LEGAL_FORMS);
        let country = self.rng.pick(COUNTRIES);
        let mut values: Vec<(&str, String)> = vec![
            ("name", format!("{head} {trade} {form}")),
            ("jurisdiction", country.to_string()),
            ("country", country.to_string()),
            (
                "registrationNumber",
                format!(
                    "{}-{:06}",
                    country.to_uppercase(),
                    self.rng.below(1_000_000)
                ),
            ),
            ("incorporationDate", self.rng.date(1990, 2024)),
        ];
        if self.rng.chance(60) {
            values.push(("legalForm", form.to_string()));
        }
        if self.rng.chance(50) {
            values.push(("alias", format!("{head} {trade}")));
        }
        if self.rng.chance(50) {
            values.push((
                "address",
                format!(
                    "{} Street {}, {}",
                    self.rng.below(200) + 1,
                    self.rng.pick(LAST),
                    self.rng.pick(PLACES)
                ),
            ));
        }
        if self.rng.chance(30) {
            values.push((
                "email",
                format!(
                    "info@{}.example",
                    head.to_lowercase().replace([' ', '-'], "")
                ),
            ));
        }
        if self.rng.chance(40) {
            values.push(("topics", "sanction".to_string()));
        }
        if self.rng.chance(25) {
            values.push(("tandem:role", self.rng.pick(COMPANY_ROLES).to_string()));
        }
        fill(&mut company, values);
        company
    }

    fn ownership(&mut self) -> Entity {
        let id = format!("{}-o{}", self.prefix, self.others);
        self.others += 1;
        let mut ownership = self.new_entity("Ownership", id);
        let owner = self.some_party();
        let asset_index = self.rng.below(self.companies);
        let mut values: Vec<(&str, String)> = vec![
            ("owner", owner),
            ("asset", self.company_id(asset_index)),
            ("percentage", format!("{}", 5 + self.rng.below(96))),
            ("startDate", self.rng.date(1995, 2024)),
            ("role", self.rng.pick(OWNERSHIP_ROLES).to_string()),
            (
                "sourceUrl",
                format!(
                    "https://registry.example/filings/{}",
                    self.rng.next() % 1_000_000
                ),
            ),
        ];
        if self.rng.chance(30) {
            values.push(("endDate", self.rng.date(2020, 2025)));
        }
        if self.rng.chance(40) {
            values.push((
                "sharesCount",
                format!("{}", 100 * (1 + self.rng.below(500))),
            ));
        }
        fill(&mut ownership, values);
        ownership
    }

    fn sanction(&mut self) -> Entity {
        let id = format!("{}-s{}", self.prefix, self.others);
        self.others += 1;
        let mut sanction = self.new_entity("Sanction", id);
        let target = self.some_party();
        let (program, program_id, authority, country) = PROGRAMS
            .get(self.rng.below(PROGRAMS.len()))
            .copied()
            .unwrap_or_default();
        let listed = self.rng.date(2015, 2025);
        let mut values: Vec<(&str, String)> = vec![
            ("entity", target),
            ("program", program.to_string()),
            ("programId", program_id.to_string()),
            ("authority", authority.to_string()),
            ("country", country.to_string()),
            ("listingDate", listed.clone()),
            ("startDate", listed),
            (
                "reason",
                format!(
                    "Leads a network that smuggles migrants from {} through {} towards Europe.",
                    self.rng.pick(PLACES),
                    self.rng.pick(PLACES)
                ),
            ),
            (
                "sourceUrl",
                format!(
                    "https://sanctions.example/{}/{}",
                    program_id.to_lowercase(),
                    self.rng.next() % 100_000
                ),
            ),
        ];
        if self.rng.chance(50) {
            values.push(("provisions", "Asset freeze".to_string()));
        }
        if self.rng.chance(30) {
            values.push(("provisions", "Travel ban".to_string()));
        }
        fill(&mut sanction, values);
        sanction
    }
}

fn fill(entity: &mut Entity, values: Vec<(&str, String)>) {
    for (property, value) in values.into_iter().take(MAX_VALUES) {
        entity.add_lenient(property, &value);
    }
}
