//! Working ties among smugglers with the odds Campana (2018) found in the Horn of Africa–Libya–
//! Italy ring, which the ecosystem model requires the synthetic generator to reproduce: actors
//! at the same journey stage about 7× more likely to be tied than actors at different stages,
//! two organisers or two aides about 3× less likely than an organiser and an aide.
//!
//! Pairs fall into classes (same group, same stage of the same route, other stage of the same
//! route, other route) and, within each, into same-position and mixed pairs. Each class gets a
//! per-pair rate; the number of ties drawn in each block of pairs (two groups, one position
//! combination) is its expected count rounded at random, and the ties are then spread
//! uniformly over the block's pairs. The cost grows with the number of group pairs and ties,
//! never with the number of actor pairs.

use tandem_core::Stage;

use super::DemoError;
use super::build::Ecosystem;
use super::details;
use super::rng::Rng;

/// Ties per smuggler, on average (assumption; Campana's 292 actors were sparsely tied).
const MEAN_DEGREE: f64 = 4.0;
/// Campana 2018: same stage ≈ 7× more likely to be tied.
pub(super) const SAME_STAGE_ODDS: f64 = 7.0;
/// Campana 2018: two organisers or two aides ≈ 3× less likely to be tied.
pub(super) const SAME_POSITION_ODDS: f64 = 1.0 / 3.0;
/// Within one stage, a pair in the same group is this much likelier to be tied than a pair
/// from rival groups (assumption: groups are where the day-to-day work happens).
const SAME_GROUP_BOOST: f64 = 10.0;
/// Routes are separate markets; the few ties across them run through people who moved
/// (assumption).
const CROSS_ROUTE_ODDS: f64 = 0.05;
/// No pair is certain to be tied.
const MAX_PAIR_PROBABILITY: f64 = 0.9;

/// One group as the tie generator sees it: actor indices by position.
pub(super) struct Shape {
    pub corridor: usize,
    pub stage: Stage,
    pub organisers: Vec<usize>,
    pub aides: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Between {
    SameGroup,
    SameStage,
    OtherStage,
    OtherRoute,
}

impl Between {
    fn of(i: usize, j: usize, a: &Shape, b: &Shape) -> Between {
        if i == j {
            Between::SameGroup
        } else if a.corridor != b.corridor {
            Between::OtherRoute
        } else if a.stage == b.stage {
            Between::SameStage
        } else {
            Between::OtherStage
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Positions {
    TwoOrganisers,
    TwoAides,
    Mixed,
}

const POSITIONS: [Positions; 3] = [
    Positions::TwoOrganisers,
    Positions::TwoAides,
    Positions::Mixed,
];

impl Positions {
    fn mixed(self) -> usize {
        usize::from(self == Positions::Mixed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tie {
    pub a: usize,
    pub b: usize,
    pub between: Between,
    pub mixed: bool,
}

fn choose2(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

fn pair_count(a: &Shape, b: &Shape, same_group: bool, positions: Positions) -> u64 {
    let (oa, aa) = (a.organisers.len() as u64, a.aides.len() as u64);
    let (ob, ab) = (b.organisers.len() as u64, b.aides.len() as u64);
    match (same_group, positions) {
        (true, Positions::TwoOrganisers) => choose2(oa),
        (true, Positions::TwoAides) => choose2(aa),
        (true, Positions::Mixed) => oa * aa,
        (false, Positions::TwoOrganisers) => oa * ob,
        (false, Positions::TwoAides) => aa * ab,
        (false, Positions::Mixed) => oa * ab + aa * ob,
    }
}

fn pairs_of(a: &Shape, b: &Shape, same_group: bool, positions: Positions) -> Vec<(usize, usize)> {
    let cross = |xs: &[usize], ys: &[usize]| -> Vec<(usize, usize)> {
        xs.iter()
            .flat_map(|&x| ys.iter().map(move |&y| (x, y)))
            .collect()
    };
    let within = |xs: &[usize]| -> Vec<(usize, usize)> {
        xs.iter()
            .enumerate()
            .flat_map(|(k, &x)| xs.iter().skip(k + 1).map(move |&y| (x, y)))
            .collect()
    };
    match (same_group, positions) {
        (true, Positions::TwoOrganisers) => within(&a.organisers),
        (true, Positions::TwoAides) => within(&a.aides),
        (true, Positions::Mixed) => cross(&a.organisers, &a.aides),
        (false, Positions::TwoOrganisers) => cross(&a.organisers, &b.organisers),
        (false, Positions::TwoAides) => cross(&a.aides, &b.aides),
        (false, Positions::Mixed) => {
            let mut pairs = cross(&a.organisers, &b.aides);
            pairs.extend(cross(&a.aides, &b.organisers));
            pairs
        }
    }
}

/// Per-pair tie probability by class and by position (same, mixed).
fn rates(groups: &[Shape]) -> [[f64; 2]; 4] {
    // Pairs per class and position.
    let mut pairs = [[0u64; 2]; 4];
    for (i, a) in groups.iter().enumerate() {
        for (j, b) in groups.iter().enumerate().skip(i) {
            let class = Between::of(i, j, a, b).index();
            for positions in POSITIONS {
                pairs[class][positions.mixed()] += pair_count(a, b, i == j, positions);
            }
        }
    }
    let total = |class: Between| {
        let [same, mixed] = pairs[class.index()];
        (same + mixed) as f64
    };
    let smugglers: usize = groups
        .iter()
        .map(|g| g.organisers.len() + g.aides.len())
        .sum();
    let wanted_ties = MEAN_DEGREE * smugglers as f64 / 2.0;
    let within_stage = total(Between::SameGroup) + total(Between::SameStage);
    let weight = SAME_STAGE_ODDS * within_stage
        + total(Between::OtherStage)
        + CROSS_ROUTE_ODDS * total(Between::OtherRoute);
    if weight <= 0.0 {
        return [[0.0; 2]; 4];
    }
    let base = wanted_ties / weight;
    // Split the within-stage ties between same-group and rival-group pairs.
    let within_ties = SAME_STAGE_ODDS * base * within_stage;
    let split = SAME_GROUP_BOOST * total(Between::SameGroup) + total(Between::SameStage);
    let rival = if split > 0.0 {
        within_ties / split
    } else {
        0.0
    };
    let class_rates = [
        SAME_GROUP_BOOST * rival,
        rival,
        base,
        CROSS_ROUTE_ODDS * base,
    ];
    // Within a class, keep the class's expected ties but make same-position pairs
    // SAME_POSITION_ODDS as likely as mixed ones.
    let mut out = [[0.0; 2]; 4];
    for (class, rate) in class_rates.into_iter().enumerate() {
        let [same, mixed] = pairs[class];
        let (same, mixed) = (same as f64, mixed as f64);
        let denominator = SAME_POSITION_ODDS * same + mixed;
        if denominator > 0.0 {
            let mixed_rate = (rate * (same + mixed) / denominator).min(MAX_PAIR_PROBABILITY);
            out[class] = [
                (SAME_POSITION_ODDS * mixed_rate).min(MAX_PAIR_PROBABILITY),
                mixed_rate,
            ];
        }
    }
    out
}

/// Draws the working ties among the members of `groups`.
pub(super) fn campana_ties(groups: &[Shape], rng: &mut Rng) -> Vec<Tie> {
    let rates = rates(groups);
    let mut ties = Vec::new();
    for (i, a) in groups.iter().enumerate() {
        for (j, b) in groups.iter().enumerate().skip(i) {
            let between = Between::of(i, j, a, b);
            for positions in POSITIONS {
                let count = pair_count(a, b, i == j, positions);
                if count == 0 {
                    continue;
                }
                let rate = rates[between.index()][positions.mixed()];
                let wanted = rng.round_random(rate * count as f64).min(count);
                if wanted == 0 {
                    continue;
                }
                let pairs = pairs_of(a, b, i == j, positions);
                for k in rng.sample(pairs.len(), wanted as usize) {
                    if let Some(&(x, y)) = pairs.get(k) {
                        ties.push(Tie {
                            a: x,
                            b: y,
                            between,
                            mixed: positions == Positions::Mixed,
                        });
                    }
                }
            }
        }
    }
    ties
}

impl Ecosystem {
    /// `Associate` ties among all smugglers, with the odds above.
    pub fn associate_ties(&mut self) -> Result<(), DemoError> {
        let mut rng = Rng::stream(self.seed, "ties");
        let shapes: Vec<Shape> = self
            .groups
            .iter()
            .map(|g| Shape {
                corridor: g.corridor,
                stage: g.stage,
                organisers: g.organisers.clone(),
                aides: g.aides.clone(),
            })
            .collect();
        for tie in campana_ties(&shapes, &mut rng) {
            let organiser = |actor: usize| {
                self.actors
                    .get(actor)
                    .is_some_and(|a| a.role.is_organiser())
            };
            // Mixed ties read from the aide to the organiser.
            let (person, other) = if tie.mixed && organiser(tie.a) {
                (tie.b, tie.a)
            } else {
                (tie.a, tie.b)
            };
            let relationship = match (tie.between, tie.mixed, organiser(person)) {
                (Between::SameGroup | Between::SameStage, true, _) => "works for",
                (Between::SameGroup | Between::SameStage, false, true) => "business partner",
                (Between::SameGroup | Between::SameStage, false, false) => "works with",
                (Between::OtherStage, true, _) => "arranges transfers with",
                (Between::OtherStage, false, true) => "coordinates journeys with",
                (Between::OtherStage | Between::OtherRoute, _, _) => "in contact with",
            };
            let since = details::year(2014, 2023, &mut rng);
            self.associate(person, other, relationship, &since)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2 routes × 5 stages × 4 groups of 8 (1–2 organisers), actors numbered in order.
    fn shapes() -> Vec<Shape> {
        let mut next = 0;
        let mut groups = Vec::new();
        for corridor in 0..2 {
            for &stage in Stage::ALL {
                for g in 0..4 {
                    let organisers = 1 + g % 2;
                    let ids: Vec<usize> = (next..next + 8).collect();
                    next += 8;
                    groups.push(Shape {
                        corridor,
                        stage,
                        organisers: ids[..organisers].to_vec(),
                        aides: ids[organisers..].to_vec(),
                    });
                }
            }
        }
        groups
    }

    #[test]
    fn ties_reproduce_the_stage_and_position_odds() {
        let groups = shapes();
        let mut organiser = vec![false; 320];
        let mut cell = vec![(0, Stage::Origin); 320];
        for g in &groups {
            for &o in &g.organisers {
                organiser[o] = true;
            }
            for &m in g.organisers.iter().chain(&g.aides) {
                cell[m] = (g.corridor, g.stage);
            }
        }
        // Pool several seeds so that the check measures the design, not one draw.
        let (mut within, mut across, mut same_pos, mut mixed_pos) = (0u64, 0u64, 0u64, 0u64);
        for seed in 0..5 {
            let ties = campana_ties(&groups, &mut Rng::stream(seed, "ties"));
            let mut seen = std::collections::BTreeSet::new();
            for t in &ties {
                assert_ne!(t.a, t.b);
                assert!(seen.insert((t.a.min(t.b), t.a.max(t.b))), "duplicate tie");
                assert_eq!(t.mixed, organiser[t.a] != organiser[t.b]);
                let same_route = cell[t.a].0 == cell[t.b].0;
                if cell[t.a] == cell[t.b] {
                    within += 1;
                } else if same_route {
                    across += 1;
                }
                if same_route && cell[t.a] == cell[t.b] {
                    if t.mixed {
                        mixed_pos += 1;
                    } else {
                        same_pos += 1;
                    }
                }
            }
            let mean_degree = 2.0 * ties.len() as f64 / 320.0;
            assert!((3.6..4.4).contains(&mean_degree), "{mean_degree}");
        }
        // Pairs: 10 cells of 32 actors; 2 routes of 160 actors.
        let within_pairs = 10.0 * 32.0 * 31.0 / 2.0;
        let across_pairs = 2.0 * (160.0 * 159.0 / 2.0) - within_pairs;
        let odds = (within as f64 / within_pairs) / (across as f64 / across_pairs);
        assert!((6.0..8.0).contains(&odds), "same-stage odds {odds}");
        // Within a stage cell: 6 organisers, 26 aides.
        let same_pairs = 10.0 * (6.0 * 5.0 / 2.0 + 26.0 * 25.0 / 2.0);
        let mixed_pairs = 10.0 * 6.0 * 26.0;
        let position_odds = (same_pos as f64 / same_pairs) / (mixed_pos as f64 / mixed_pairs);
        assert!(
            (0.2..0.5).contains(&position_odds),
            "same-position odds {position_odds}"
        );
    }

    #[test]
    fn no_groups_no_ties() {
        assert!(campana_ties(&[], &mut Rng::stream(0, "ties")).is_empty());
        let lone = [Shape {
            corridor: 0,
            stage: Stage::Origin,
            organisers: vec![0],
            aides: vec![],
        }];
        assert!(campana_ties(&lone, &mut Rng::stream(0, "ties")).is_empty());
    }
}
