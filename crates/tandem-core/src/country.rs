//! Countries and territories: from the way sanctions lists and case files write them to the
//! lower-case codes FollowTheMoney stores.
//!
//! Lists name a country in many ways — "Korea, North", "Democratic People's Republic of
//! Korea", "DPRK", "North Korean", "PRK" — and [`lookup`] turns any of them into `kp`. It
//! ignores case, accents, punctuation, the order of words ("Congo, Democratic Republic of
//! the" = "Democratic Republic of the Congo") and the filler words "the", "of", "and".
//!
//! Besides ISO 3166-1, the table carries the codes FtM uses for former states (`suhh`,
//! `cshh`, `csxx`, `yucs`, `dd`, `zr`, `an`), Kosovo (`xk`) and territories whose status is
//! contested or which lists name apart from their state (`ua-cri`, `ge-ab`, `md-pmr`…).

use std::collections::HashMap;
use std::sync::OnceLock;

/// One line per country or territory:
/// `code alpha3 | English short name | other names; … | demonyms; …`.
/// `-` stands for "no alpha-3 code". A demonym is left out when it would point at two
/// countries (Congolese, Dominican, Korean).
const TABLE: &str = "
ad and | Andorra | Principality of Andorra | Andorran
ae are | United Arab Emirates | UAE; U.A.E.; Emirates | Emirati; Emirian
af afg | Afghanistan | Islamic Republic of Afghanistan; Islamic Emirate of Afghanistan | Afghan; Afghani
ag atg | Antigua and Barbuda | Antigua | Antiguan; Barbudan
ai aia | Anguilla | | Anguillan
al alb | Albania | Republic of Albania | Albanian
am arm | Armenia | Republic of Armenia | Armenian
an ant | Netherlands Antilles | | Antillean
ao ago | Angola | Republic of Angola | Angolan
aq ata | Antarctica | |
ar arg | Argentina | Argentine Republic | Argentine; Argentinian; Argentinean
as asm | American Samoa | | American Samoan
at aut | Austria | Republic of Austria | Austrian
au aus | Australia | Commonwealth of Australia | Australian
aw abw | Aruba | | Aruban
ax ala | Åland Islands | Aland | Ålander
az aze | Azerbaijan | Republic of Azerbaijan | Azerbaijani; Azeri
ba bih | Bosnia and Herzegovina | Bosnia-Herzegovina; Bosnia; Bosina-Herzegovina | Bosnian; Herzegovinian
bb brb | Barbados | | Barbadian; Bajan
bd bgd | Bangladesh | People's Republic of Bangladesh | Bangladeshi
be bel | Belgium | Kingdom of Belgium | Belgian
bf bfa | Burkina Faso | Upper Volta | Burkinabe; Burkinabé
bg bgr | Bulgaria | Republic of Bulgaria | Bulgarian
bh bhr | Bahrain | Kingdom of Bahrain | Bahraini
bi bdi | Burundi | Republic of Burundi | Burundian
bj ben | Benin | Republic of Benin; Dahomey | Beninese
bl blm | Saint Barthélemy | Saint Barthelemy; St. Barts |
bm bmu | Bermuda | | Bermudian
bn brn | Brunei | Brunei Darussalam | Bruneian
bo bol | Bolivia | Plurinational State of Bolivia; Bolivia, Plurinational State of | Bolivian
bq bes | Bonaire, Sint Eustatius and Saba | Caribbean Netherlands; Bonaire |
br bra | Brazil | Federative Republic of Brazil; Brasil | Brazilian
bs bhs | Bahamas | The Bahamas; Bahamas, The; Commonwealth of the Bahamas | Bahamian
bt btn | Bhutan | Kingdom of Bhutan | Bhutanese
bv bvt | Bouvet Island | |
bw bwa | Botswana | Republic of Botswana | Botswanan; Motswana; Batswana
by blr | Belarus | Republic of Belarus; Byelorussia; Belorussia; Byelorussian SSR | Belarusian; Belarussian; Byelorussian
bz blz | Belize | British Honduras | Belizean
ca can | Canada | | Canadian
cc cck | Cocos (Keeling) Islands | Cocos Islands; Keeling Islands |
cd cod | Democratic Republic of the Congo | Congo, Democratic Republic of the; Congo, The Democratic Republic of the; DR Congo; D.R. Congo; DRC; Congo-Kinshasa; Congo (Kinshasa) |
cf caf | Central African Republic | | Central African
cg cog | Congo | Republic of the Congo; Congo, Republic of the; Congo-Brazzaville; Congo (Brazzaville) |
ch che | Switzerland | Swiss Confederation; Confederation of Switzerland | Swiss
ci civ | Côte d'Ivoire | Cote d'Ivoire; Ivory Coast; Republic of Côte d'Ivoire | Ivorian
ck cok | Cook Islands | | Cook Islander
cl chl | Chile | Republic of Chile | Chilean
cm cmr | Cameroon | Republic of Cameroon; Cameroun | Cameroonian
cn chn | China | People's Republic of China; China, People's Republic of; PRC; Mainland China | Chinese
co col | Colombia | Republic of Colombia | Colombian
cr cri | Costa Rica | Republic of Costa Rica | Costa Rican
cu cub | Cuba | Republic of Cuba | Cuban
cv cpv | Cabo Verde | Cape Verde; Republic of Cabo Verde | Cabo Verdean; Cape Verdean
cw cuw | Curaçao | Curacao | Curaçaoan
cx cxr | Christmas Island | |
cy cyp | Cyprus | Republic of Cyprus | Cypriot
cz cze | Czechia | Czech Republic | Czech
de deu | Germany | Federal Republic of Germany; Deutschland; West Germany | German
dj dji | Djibouti | Republic of Djibouti | Djiboutian
dk dnk | Denmark | Kingdom of Denmark | Danish; Dane
dm dma | Dominica | Commonwealth of Dominica |
do dom | Dominican Republic | |
dz dza | Algeria | People's Democratic Republic of Algeria | Algerian
ec ecu | Ecuador | Republic of Ecuador | Ecuadorian; Ecuadorean
ee est | Estonia | Republic of Estonia | Estonian
eg egy | Egypt | Arab Republic of Egypt | Egyptian
eh esh | Western Sahara | Sahrawi Arab Democratic Republic | Sahrawi; Sahraoui
er eri | Eritrea | State of Eritrea | Eritrean
es esp | Spain | Kingdom of Spain; España | Spanish; Spaniard
et eth | Ethiopia | Federal Democratic Republic of Ethiopia | Ethiopian
fi fin | Finland | Republic of Finland | Finnish; Finn
fj fji | Fiji | Republic of Fiji | Fijian
fk flk | Falkland Islands | Falkland Islands (Malvinas); Malvinas | Falkland Islander
fm fsm | Micronesia | Federated States of Micronesia; Micronesia, Federated States of | Micronesian
fo fro | Faroe Islands | Faeroe Islands | Faroese
fr fra | France | French Republic | French
ga gab | Gabon | Gabonese Republic | Gabonese
gb gbr | United Kingdom | United Kingdom of Great Britain and Northern Ireland; UK; U.K.; Great Britain; Britain | British; Briton
gd grd | Grenada | | Grenadian
ge geo | Georgia | Republic of Georgia | Georgian
gf guf | French Guiana | | French Guianese
gg ggy | Guernsey | Bailiwick of Guernsey |
gh gha | Ghana | Republic of Ghana | Ghanaian
gi gib | Gibraltar | | Gibraltarian
gl grl | Greenland | | Greenlandic
gm gmb | Gambia | The Gambia; Gambia, The; Republic of the Gambia | Gambian
gn gin | Guinea | Republic of Guinea; Guinea-Conakry | Guinean
gp glp | Guadeloupe | |
gq gnq | Equatorial Guinea | Republic of Equatorial Guinea | Equatoguinean; Equatorial Guinean
gr grc | Greece | Hellenic Republic; Hellas | Greek
gs sgs | South Georgia and the South Sandwich Islands | |
gt gtm | Guatemala | Republic of Guatemala | Guatemalan
gu gum | Guam | | Guamanian
gw gnb | Guinea-Bissau | Republic of Guinea-Bissau | Bissau-Guinean
gy guy | Guyana | Co-operative Republic of Guyana | Guyanese
hk hkg | Hong Kong | Hong Kong SAR; Hong Kong, China; Hongkong | Hongkonger
hm hmd | Heard Island and McDonald Islands | |
hn hnd | Honduras | Republic of Honduras | Honduran
hr hrv | Croatia | Republic of Croatia; Hrvatska | Croatian; Croat
ht hti | Haiti | Republic of Haiti | Haitian
hu hun | Hungary | | Hungarian
id idn | Indonesia | Republic of Indonesia | Indonesian
ie irl | Ireland | Republic of Ireland; Eire | Irish
il isr | Israel | State of Israel | Israeli
im imn | Isle of Man | Man, Isle of | Manx
in ind | India | Republic of India; Bharat | Indian
io iot | British Indian Ocean Territory | Chagos Islands |
iq irq | Iraq | Republic of Iraq | Iraqi
ir irn | Iran | Islamic Republic of Iran; Iran, Islamic Republic of; Persia | Iranian; Persian
is isl | Iceland | | Icelandic; Icelander
it ita | Italy | Italian Republic; Italia | Italian
je jey | Jersey | Bailiwick of Jersey |
jm jam | Jamaica | | Jamaican
jo jor | Jordan | Hashemite Kingdom of Jordan | Jordanian
jp jpn | Japan | | Japanese
ke ken | Kenya | Republic of Kenya | Kenyan
kg kgz | Kyrgyzstan | Kyrgyz Republic; Kirghizia; Kirgizstan | Kyrgyz; Kyrgyzstani; Kirghiz
kh khm | Cambodia | Kingdom of Cambodia; Kampuchea | Cambodian; Khmer
ki kir | Kiribati | | I-Kiribati
km com | Comoros | Union of the Comoros; Comoros Islands | Comorian; Comoran
kn kna | Saint Kitts and Nevis | Saint Christopher and Nevis; Federation of Saint Kitts and Nevis | Kittitian; Nevisian
kp prk | North Korea | Korea, North; Democratic People's Republic of Korea; Korea, Democratic People's Republic of; DPRK; D.P.R.K. | North Korean
kr kor | South Korea | Korea, South; Republic of Korea; Korea, Republic of; ROK | South Korean
kw kwt | Kuwait | State of Kuwait | Kuwaiti
ky cym | Cayman Islands | Caymans | Caymanian
kz kaz | Kazakhstan | Republic of Kazakhstan; Kazakstan | Kazakh; Kazakhstani
la lao | Laos | Lao People's Democratic Republic; Lao PDR | Lao; Laotian
lb lbn | Lebanon | Lebanese Republic | Lebanese
lc lca | Saint Lucia | | Saint Lucian
li lie | Liechtenstein | Principality of Liechtenstein | Liechtensteiner
lk lka | Sri Lanka | Democratic Socialist Republic of Sri Lanka; Ceylon | Sri Lankan
lr lbr | Liberia | Republic of Liberia | Liberian
ls lso | Lesotho | Kingdom of Lesotho | Basotho; Mosotho
lt ltu | Lithuania | Republic of Lithuania | Lithuanian
lu lux | Luxembourg | Grand Duchy of Luxembourg | Luxembourger; Luxembourgish
lv lva | Latvia | Republic of Latvia | Latvian
ly lby | Libya | State of Libya; Libyan Arab Jamahiriya; Great Socialist People's Libyan Arab Jamahiriya | Libyan
ma mar | Morocco | Kingdom of Morocco | Moroccan
mc mco | Monaco | Principality of Monaco | Monegasque; Monacan
md mda | Moldova | Republic of Moldova; Moldova, Republic of; Moldavia | Moldovan; Moldavian
me mne | Montenegro | | Montenegrin
mf maf | Saint Martin | Saint Martin (French part); Collectivity of Saint Martin |
mg mdg | Madagascar | Republic of Madagascar | Malagasy
mh mhl | Marshall Islands | Republic of the Marshall Islands | Marshallese
mk mkd | North Macedonia | Republic of North Macedonia; North Macedonia, The Republic of; Macedonia; Macedonia, The Former Yugoslav Republic of; Former Yugoslav Republic of Macedonia; FYROM | Macedonian
ml mli | Mali | Republic of Mali | Malian
mm mmr | Myanmar | Burma; Republic of the Union of Myanmar | Burmese; Myanma
mn mng | Mongolia | | Mongolian
mo mac | Macao | Macau; Macao SAR; Macau SAR | Macanese
mp mnp | Northern Mariana Islands | |
mq mtq | Martinique | | Martinican
mr mrt | Mauritania | Islamic Republic of Mauritania | Mauritanian
ms msr | Montserrat | | Montserratian
mt mlt | Malta | Republic of Malta | Maltese
mu mus | Mauritius | Republic of Mauritius | Mauritian
mv mdv | Maldives | Republic of Maldives; Maldive Islands | Maldivian
mw mwi | Malawi | Republic of Malawi | Malawian
mx mex | Mexico | United Mexican States; México | Mexican
my mys | Malaysia | | Malaysian
mz moz | Mozambique | Republic of Mozambique | Mozambican
na nam | Namibia | Republic of Namibia | Namibian
nc ncl | New Caledonia | | New Caledonian
ne ner | Niger | Republic of the Niger; Republic of Niger | Nigerien
nf nfk | Norfolk Island | |
ng nga | Nigeria | Federal Republic of Nigeria | Nigerian
ni nic | Nicaragua | Republic of Nicaragua | Nicaraguan
nl nld | Netherlands | The Netherlands; Kingdom of the Netherlands; Holland | Dutch
no nor | Norway | Kingdom of Norway | Norwegian
np npl | Nepal | Federal Democratic Republic of Nepal | Nepali; Nepalese
nr nru | Nauru | | Nauruan
nu niu | Niue | | Niuean
nz nzl | New Zealand | Aotearoa | New Zealander
om omn | Oman | Sultanate of Oman | Omani
pa pan | Panama | Republic of Panama | Panamanian
pe per | Peru | Republic of Peru | Peruvian
pf pyf | French Polynesia | | French Polynesian
pg png | Papua New Guinea | | Papua New Guinean
ph phl | Philippines | The Philippines; Republic of the Philippines; Phillipines | Filipino; Philippine
pk pak | Pakistan | Islamic Republic of Pakistan | Pakistani
pl pol | Poland | Republic of Poland | Polish; Pole
pm spm | Saint Pierre and Miquelon | |
pn pcn | Pitcairn | Pitcairn Islands |
pr pri | Puerto Rico | | Puerto Rican
ps pse | Palestine | State of Palestine; Palestinian Territories; Palestinian Territory, Occupied; Occupied Palestinian Territory; Palestinian Authority; West Bank; Gaza; Gaza Strip; West Bank and Gaza | Palestinian
pt prt | Portugal | Portuguese Republic | Portuguese
pw plw | Palau | Republic of Palau | Palauan
py pry | Paraguay | Republic of Paraguay | Paraguayan
qa qat | Qatar | State of Qatar | Qatari
re reu | Réunion | Reunion |
ro rou | Romania | Roumania; Rumania | Romanian
rs srb | Serbia | Republic of Serbia | Serbian; Serb
ru rus | Russia | Russian Federation | Russian
rw rwa | Rwanda | Republic of Rwanda | Rwandan; Rwandese
sa sau | Saudi Arabia | Kingdom of Saudi Arabia; KSA | Saudi; Saudi Arabian
sb slb | Solomon Islands | | Solomon Islander
sc syc | Seychelles | Republic of Seychelles | Seychellois
sd sdn | Sudan | Republic of the Sudan; The Sudan | Sudanese
se swe | Sweden | Kingdom of Sweden | Swedish; Swede
sg sgp | Singapore | Republic of Singapore | Singaporean
sh shn | Saint Helena, Ascension and Tristan da Cunha | Saint Helena | Saint Helenian
si svn | Slovenia | Republic of Slovenia | Slovenian; Slovene
sj sjm | Svalbard and Jan Mayen | Svalbard |
sk svk | Slovakia | Slovak Republic | Slovak
sl sle | Sierra Leone | Republic of Sierra Leone | Sierra Leonean
sm smr | San Marino | Republic of San Marino | Sammarinese
sn sen | Senegal | Republic of Senegal | Senegalese
so som | Somalia | Federal Republic of Somalia | Somali; Somalian
sr sur | Suriname | Surinam; Republic of Suriname | Surinamese
ss ssd | South Sudan | Republic of South Sudan | South Sudanese
st stp | São Tomé and Príncipe | Sao Tome and Principe | Santomean
sv slv | El Salvador | Republic of El Salvador | Salvadoran; Salvadorean
sx sxm | Sint Maarten | Sint Maarten (Dutch part) |
sy syr | Syria | Syrian Arab Republic | Syrian
sz swz | Eswatini | Swaziland; Kingdom of Eswatini | Swazi; Liswati
tc tca | Turks and Caicos Islands | |
td tcd | Chad | Republic of Chad | Chadian
tf atf | French Southern Territories | French Southern and Antarctic Lands |
tg tgo | Togo | Togolese Republic | Togolese
th tha | Thailand | Kingdom of Thailand; Siam | Thai
tj tjk | Tajikistan | Republic of Tajikistan; Tadjikistan | Tajik; Tajikistani
tk tkl | Tokelau | |
tl tls | Timor-Leste | East Timor; Democratic Republic of Timor-Leste | Timorese; East Timorese
tm tkm | Turkmenistan | | Turkmen
tn tun | Tunisia | Tunisian Republic; Republic of Tunisia | Tunisian
to ton | Tonga | Kingdom of Tonga | Tongan
tr tur | Türkiye | Turkey; Republic of Türkiye; Republic of Turkey | Turkish
tt tto | Trinidad and Tobago | Republic of Trinidad and Tobago; Trinidad | Trinidadian; Tobagonian
tv tuv | Tuvalu | | Tuvaluan
tw twn | Taiwan | Republic of China; Taiwan, Province of China; Chinese Taipei | Taiwanese
tz tza | Tanzania | United Republic of Tanzania; Tanzania, United Republic of | Tanzanian
ua ukr | Ukraine | | Ukrainian
ug uga | Uganda | Republic of Uganda | Ugandan
um umi | United States Minor Outlying Islands | |
us usa | United States | United States of America; USA; U.S.A.; U.S.; America | American
uy ury | Uruguay | Oriental Republic of Uruguay | Uruguayan
uz uzb | Uzbekistan | Republic of Uzbekistan | Uzbek; Uzbekistani
va vat | Holy See | Vatican City; Vatican City State; Vatican |
vc vct | Saint Vincent and the Grenadines | Saint Vincent | Vincentian
ve ven | Venezuela | Bolivarian Republic of Venezuela; Venezuela, Bolivarian Republic of | Venezuelan
vg vgb | British Virgin Islands | Virgin Islands, British; BVI |
vi vir | United States Virgin Islands | Virgin Islands, U.S.; US Virgin Islands; U.S. Virgin Islands |
vn vnm | Vietnam | Viet Nam; Socialist Republic of Vietnam | Vietnamese
vu vut | Vanuatu | Republic of Vanuatu | Ni-Vanuatu
wf wlf | Wallis and Futuna | |
ws wsm | Samoa | Independent State of Samoa; Western Samoa | Samoan
xk xkx | Kosovo | Republic of Kosovo | Kosovar; Kosovan
ye yem | Yemen | Republic of Yemen | Yemeni; Yemenite
yt myt | Mayotte | |
za zaf | South Africa | Republic of South Africa | South African
zm zmb | Zambia | Republic of Zambia | Zambian
zw zwe | Zimbabwe | Republic of Zimbabwe | Zimbabwean
suhh - | Soviet Union | USSR; U.S.S.R.; Union of Soviet Socialist Republics | Soviet
cshh - | Czechoslovakia | Czechoslovak Socialist Republic | Czechoslovak; Czechoslovakian
csxx - | Serbia and Montenegro | State Union of Serbia and Montenegro |
yucs - | Yugoslavia | Federal Republic of Yugoslavia; Socialist Federal Republic of Yugoslavia; Former Yugoslavia; ex-Yugoslavia | Yugoslav; Yugoslavian
dd - | East Germany | German Democratic Republic; GDR |
zr - | Zaire | Republic of Zaire | Zairean; Zairian
eu - | European Union | |
ua-cri - | Crimea | Autonomous Republic of Crimea; Crimean Peninsula | Crimean
ua-dpr - | Donetsk People's Republic | DPR; DNR |
ua-lpr - | Luhansk People's Republic | Lugansk People's Republic; LPR; LNR |
ge-ab - | Abkhazia | Republic of Abkhazia | Abkhaz; Abkhazian
md-pmr - | Transnistria | Pridnestrovian Moldavian Republic; Pridnestrovie | Transnistrian
cy-trnc - | Northern Cyprus | Turkish Republic of Northern Cyprus; TRNC |
so-som - | Somaliland | Republic of Somaliland | Somalilander
az-nk - | Nagorno-Karabakh | Artsakh; Republic of Artsakh |
gb-eng - | England | | English
gb-sct - | Scotland | | Scottish; Scot
gb-wls - | Wales | | Welsh
gb-nir - | Northern Ireland | | Northern Irish
";

/// A country or territory as the table describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// The FtM code: ISO 3166-1 alpha-2 in lower case, or an FtM extension.
    pub code: &'static str,
    /// ISO 3166-1 alpha-3 in lower case, when there is one.
    pub alpha3: Option<&'static str>,
    pub name: &'static str,
    pub other_names: Vec<&'static str>,
    pub demonyms: Vec<&'static str>,
}

struct Index {
    countries: Vec<Country>,
    by_code: HashMap<&'static str, usize>,
    by_key: HashMap<String, &'static str>,
    /// Table lines that could not be read, and keys that two countries claim; a test keeps
    /// both empty.
    defects: Vec<String>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| build_index(TABLE))
}

fn build_index(table: &'static str) -> Index {
    let mut index = Index {
        countries: Vec::new(),
        by_code: HashMap::new(),
        by_key: HashMap::new(),
        defects: Vec::new(),
    };
    for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match parse_line(line) {
            Some(country) => {
                if index
                    .by_code
                    .insert(country.code, index.countries.len())
                    .is_some()
                {
                    index
                        .defects
                        .push(format!("code {} listed twice", country.code));
                }
                index.countries.push(country);
            }
            None => index
                .defects
                .push(format!("cannot read table line {line:?}")),
        }
    }
    for country in &index.countries {
        let spellings = [country.code, country.name]
            .into_iter()
            .chain(country.alpha3)
            .chain(country.other_names.iter().copied())
            .chain(country.demonyms.iter().copied());
        for spelling in spellings {
            let key = normalise(spelling);
            match index.by_key.get(key.as_str()) {
                Some(&other) if other != country.code => index.defects.push(format!(
                    "{spelling:?} means both {other} and {}",
                    country.code
                )),
                Some(_) => {}
                None => {
                    index.by_key.insert(key, country.code);
                }
            }
        }
    }
    index
}

fn parse_line(line: &'static str) -> Option<Country> {
    let mut columns = line.split('|').map(str::trim);
    let mut codes = columns.next()?.split_whitespace();
    let code = codes.next()?;
    let alpha3 = codes.next()?;
    let name = columns.next().filter(|n| !n.is_empty())?;
    let list = |column: Option<&'static str>| -> Vec<&'static str> {
        column
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    };
    let other_names = list(columns.next());
    let demonyms = list(columns.next());
    let well_formed = crate::value::is_country_code(code)
        && codes.next().is_none()
        && columns.next().is_none()
        && (alpha3 == "-" || (alpha3.len() == 3 && alpha3.bytes().all(|b| b.is_ascii_lowercase())));
    well_formed.then_some(Country {
        code,
        alpha3: (alpha3 != "-").then_some(alpha3),
        name,
        other_names,
        demonyms,
    })
}

/// The code for a country written as a name, an alternative name, a demonym, an alpha-2 or
/// alpha-3 code, or an FtM code. `None` when the text names no country in the table.
pub fn lookup(text: &str) -> Option<&'static str> {
    let key = normalise(text);
    if key.is_empty() {
        return None;
    }
    index().by_key.get(key.as_str()).copied()
}

/// The English short name for a code (any case).
pub fn name(code: &str) -> Option<&'static str> {
    country(code).map(|c| c.name)
}

/// The ISO 3166-1 alpha-3 code (lower case) for a code, when it has one.
pub fn alpha3(code: &str) -> Option<&'static str> {
    country(code).and_then(|c| c.alpha3)
}

/// Everything the table knows about one code (any case).
pub fn country(code: &str) -> Option<&'static Country> {
    let index = index();
    let code = code.trim().to_ascii_lowercase();
    index
        .by_code
        .get(code.as_str())
        .and_then(|&i| index.countries.get(i))
}

/// Every country and territory in the table.
pub fn all() -> impl Iterator<Item = &'static Country> {
    index().countries.iter()
}

/// Words that only hold a country's name together ("Republic *of the* Congo", "Bosnia *and*
/// Herzegovina") and that lists drop or move at will.
const FILLER_WORDS: [&str; 3] = ["the", "of", "and"];

/// Lower case, without accents or punctuation, "St." read as "Saint", filler words dropped,
/// words sorted so that "Korea, North" and "North Korea" meet.
fn normalise(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            // Dots join abbreviations: "U.K." is "uk", "St." is "st".
            '.' => {}
            '&' => folded.push_str(" and "),
            c if c.is_alphanumeric() => match fold_accent(c) {
                Some(plain) => folded.push_str(plain),
                None => folded.push(c),
            },
            _ => folded.push(' '),
        }
    }
    let mut words: Vec<&str> = folded
        .split_whitespace()
        .map(|w| if w == "st" { "saint" } else { w })
        .filter(|w| !FILLER_WORDS.contains(w))
        .collect();
    words.sort_unstable();
    words.join(" ")
}

/// The unaccented spelling of the Latin letters that occur in country names and in the way
/// people type them.
fn fold_accent(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' | 'ģ' | 'ġ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ř' => "r",
        'ś' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_table_reads_cleanly_and_no_spelling_names_two_countries() {
        let index = index();
        assert!(index.defects.is_empty(), "{:#?}", index.defects);
        // The 249 ISO 3166-1 entries, plus the two-letter codes FtM adds: Netherlands Antilles,
        // Kosovo, East Germany, Zaire and the European Union.
        let two_letter = all().filter(|c| c.code.len() == 2).count();
        assert_eq!(two_letter, 254);
        for country in all() {
            assert!(
                crate::value::is_country_code(country.code),
                "{}",
                country.code
            );
            assert_eq!(lookup(country.code), Some(country.code));
            assert_eq!(lookup(country.name), Some(country.code), "{}", country.name);
        }
    }

    #[test]
    fn sanctions_list_spellings() {
        let cases = [
            ("Korea, North", "kp"),
            ("North Korea", "kp"),
            ("Democratic People's Republic of Korea", "kp"),
            ("DPRK", "kp"),
            ("Korea, South", "kr"),
            ("Iran", "ir"),
            ("Iran, Islamic Republic of", "ir"),
            ("Russia", "ru"),
            ("Russian Federation", "ru"),
            ("the Russian Federation", "ru"),
            ("Syria", "sy"),
            ("Syrian Arab Republic", "sy"),
            ("Congo, Democratic Republic of the", "cd"),
            ("Democratic Republic of the Congo", "cd"),
            ("Congo, Republic of the", "cg"),
            ("Burma", "mm"),
            ("Myanmar", "mm"),
            ("Cote d'Ivoire", "ci"),
            ("Côte d’Ivoire", "ci"),
            ("Cote d Ivoire", "ci"),
            ("COTE D'IVOIRE", "ci"),
            ("Turkey", "tr"),
            ("Türkiye", "tr"),
            ("Turkiye", "tr"),
            ("Libya", "ly"),
            ("Libyan Arab Jamahiriya", "ly"),
            ("Palestinian", "ps"),
            ("West Bank", "ps"),
            ("Gaza", "ps"),
            ("Kosovo", "xk"),
            ("Soviet Union", "suhh"),
            ("USSR", "suhh"),
            ("U.S.S.R.", "suhh"),
            ("Yugoslavia", "yucs"),
            ("Czechoslovakia", "cshh"),
            ("Serbia and Montenegro", "csxx"),
            ("Man, Isle of", "im"),
            ("Bahamas, The", "bs"),
            ("The Gambia", "gm"),
            ("Virgin Islands, British", "vg"),
            ("British Virgin Islands", "vg"),
            ("St. Kitts & Nevis", "kn"),
            ("St. Vincent and the Grenadines", "vc"),
            ("Macedonia, The Former Yugoslav Republic of", "mk"),
            ("North Macedonia, The Republic of", "mk"),
            ("Bosnia-Herzegovina", "ba"),
            ("U.K.", "gb"),
            ("USA", "us"),
            ("Hong Kong", "hk"),
            ("Sao Tome and Principe", "st"),
            ("Crimea", "ua-cri"),
            ("UA-CRI", "ua-cri"),
        ];
        for (text, code) in cases {
            assert_eq!(lookup(text), Some(code), "{text}");
        }
    }

    #[test]
    fn demonyms_and_codes() {
        let cases = [
            ("Libyan", "ly"),
            ("Eritrean", "er"),
            ("Nigerian", "ng"),
            ("Nigerien", "ne"),
            ("Sudanese", "sd"),
            ("South Sudanese", "ss"),
            ("Afghan", "af"),
            ("Iraqi", "iq"),
            ("Syrian", "sy"),
            ("Ethiopian", "et"),
            ("Somali", "so"),
            ("Gambian", "gm"),
            ("Ivorian", "ci"),
            ("Malian", "ml"),
            ("Tunisian", "tn"),
            ("Egyptian", "eg"),
            ("Bangladeshi", "bd"),
            ("Ghanaian", "gh"),
            ("LY", "ly"),
            ("lby", "ly"),
            ("ERI", "er"),
            ("deu", "de"),
            ("XKX", "xk"),
        ];
        for (text, code) in cases {
            assert_eq!(lookup(text), Some(code), "{text}");
        }
        // Demonyms shared by two countries stay unresolved rather than guessed.
        for ambiguous in ["Congolese", "Dominican", "Korean", "Korea"] {
            assert_eq!(lookup(ambiguous), None, "{ambiguous}");
        }
        for nothing in [
            "",
            "   ",
            "-0-",
            "undetermined",
            "Region: Kafia Kingi",
            "Atlantis",
        ] {
            assert_eq!(lookup(nothing), None, "{nothing}");
        }
    }

    #[test]
    fn names_and_alpha3_by_code() {
        assert_eq!(name("ly"), Some("Libya"));
        assert_eq!(name("KP"), Some("North Korea"));
        assert_eq!(name("suhh"), Some("Soviet Union"));
        assert_eq!(name("xx"), None);
        assert_eq!(alpha3("er"), Some("eri"));
        assert_eq!(alpha3("suhh"), None);
        assert_eq!(
            country("ci").map(|c| c.demonyms.clone()),
            Some(vec!["Ivorian"])
        );
    }

    #[test]
    fn a_malformed_table_reports_its_defects() {
        let broken = build_index("xx abc | Somewhere | Here\nyy | Nowhere\nzz zzz | Here | |\n");
        assert_eq!(broken.countries.len(), 2);
        assert_eq!(broken.defects.len(), 2, "{:?}", broken.defects);
    }

    proptest! {
        #[test]
        fn lookup_never_panics_and_only_returns_table_codes(text in any::<String>()) {
            if let Some(code) = lookup(&text) {
                prop_assert!(name(code).is_some());
            }
        }
    }
}
