//! Who gets a request: pure assignment strategies over the people on shift, their open load
//! and the team's rotation cursor.
//!
//! The service gathers the candidates (people of the team on shift now, see [`on_shift`]),
//! their loads (open items, weighted by priority) and the cursor (the last person the team's
//! rotation picked) under the team's cursor lock, then asks [`decide`]. Ties always break by
//! rotation order after the cursor, so equal people take turns instead of the
//! alphabetically first one taking everything.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::ids::PersonKey;

/// How a team assigns requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Everyone on shift in turn.
    RoundRobin,
    /// Whoever has the least open work, weighted by priority.
    #[default]
    LeastLoaded,
    /// The least loaded of those with every skill the request type needs.
    SkillMatch,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::RoundRobin => "round_robin",
            Strategy::LeastLoaded => "least_loaded",
            Strategy::SkillMatch => "skill_match",
        }
    }
}

/// A person who could take a request now (already known to be on shift).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub key: PersonKey,
    pub skills: BTreeSet<String>,
}

/// A person's open work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Load {
    pub open: i64,
    /// Sum of the open items' priority weights.
    pub weight: i64,
}

/// The choice and why it was made (the words are in `messages::request`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub person: PersonKey,
    pub strategy: Strategy,
    /// How many people were eligible (on shift, and with the skills when matching).
    pub considered: usize,
    /// The skills required, when the strategy matched skills.
    pub skills: Vec<String>,
    /// The chosen person's open items before this one.
    pub open: i64,
}

/// Why nobody was chosen: the request waits in the team queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoAssignee {
    NobodyOnShift,
    NobodyWithSkills(Vec<String>),
}

/// Whether a person works at `now`: inside their weekly shift (in their own zone, the
/// calendar's) and not on one of their out-of-office dates (local dates in that zone).
pub fn on_shift(shift: &Calendar, out_of_office: &[NaiveDate], now: DateTime<Utc>) -> bool {
    shift.is_open_at(now) && !out_of_office.contains(&shift.local_date(now))
}

/// Candidates in rotation order: those after `cursor` (by key), then from the start.
fn rotation<'a>(candidates: &'a [Candidate], cursor: Option<&PersonKey>) -> Vec<&'a Candidate> {
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    sorted.dedup_by(|a, b| a.key == b.key);
    let split = cursor.map(|c| sorted.partition_point(|x| &x.key <= c)).unwrap_or(0);
    sorted.rotate_left(split);
    sorted
}

/// Picks the assignee under `strategy`. `skills` are the request type's required skills.
pub fn decide(
    strategy: Strategy,
    candidates: &[Candidate],
    loads: &BTreeMap<PersonKey, Load>,
    cursor: Option<&PersonKey>,
    skills: &[String],
) -> Result<Decision, NoAssignee> {
    let order = rotation(candidates, cursor);
    if order.is_empty() {
        return Err(NoAssignee::NobodyOnShift);
    }
    let load = |c: &Candidate| loads.get(&c.key).copied().unwrap_or_default();
    let (eligible, skills): (Vec<&Candidate>, Vec<String>) = match strategy {
        Strategy::SkillMatch if !skills.is_empty() => {
            let with: Vec<&Candidate> =
                order.into_iter().filter(|c| skills.iter().all(|s| c.skills.contains(s))).collect();
            if with.is_empty() {
                return Err(NoAssignee::NobodyWithSkills(skills.to_vec()));
            }
            (with, skills.to_vec())
        }
        _ => (order, Vec::new()),
    };
    let chosen = match strategy {
        Strategy::RoundRobin => eligible[0],
        // `min_by_key` keeps the first of equals: the next in rotation.
        Strategy::LeastLoaded | Strategy::SkillMatch => {
            eligible.iter().copied().min_by_key(|c| load(c).weight).unwrap_or(eligible[0])
        }
    };
    Ok(Decision {
        person: chosen.key.clone(),
        strategy,
        considered: eligible.len(),
        skills,
        open: load(chosen).open,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;
    use chrono_tz::Tz;

    use super::*;

    fn key(k: &str) -> PersonKey {
        PersonKey::parse(k).unwrap()
    }

    fn people(keys: &[&str]) -> Vec<Candidate> {
        keys.iter().map(|k| Candidate { key: key(k), skills: BTreeSet::new() }).collect()
    }

    fn skilled(k: &str, skills: &[&str]) -> Candidate {
        Candidate { key: key(k), skills: skills.iter().map(|s| s.to_string()).collect() }
    }

    fn loads(entries: &[(&str, i64, i64)]) -> BTreeMap<PersonKey, Load> {
        entries
            .iter()
            .map(|(k, open, weight)| (key(k), Load { open: *open, weight: *weight }))
            .collect()
    }

    #[test]
    fn round_robin_is_fair_over_many_requests() {
        let team = people(&["cara", "alice", "bob"]);
        let mut cursor = None;
        let mut counts = BTreeMap::new();
        let mut sequence = Vec::new();
        for _ in 0..300 {
            let d = decide(Strategy::RoundRobin, &team, &BTreeMap::new(), cursor.as_ref(), &[])
                .unwrap();
            *counts.entry(d.person.to_string()).or_insert(0) += 1;
            sequence.push(d.person.to_string());
            cursor = Some(d.person);
        }
        assert_eq!(counts.values().copied().collect::<Vec<_>>(), vec![100, 100, 100]);
        assert_eq!(&sequence[..4], ["alice", "bob", "cara", "alice"]);
    }

    #[test]
    fn round_robin_continues_after_the_cursor_when_people_come_and_go() {
        // bob was last; bob has gone off shift and dan came on: the turn passes to cara.
        let team = people(&["alice", "cara", "dan"]);
        let d =
            decide(Strategy::RoundRobin, &team, &BTreeMap::new(), Some(&key("bob")), &[]).unwrap();
        assert_eq!(d.person, key("cara"));
        // After the last key the rotation wraps to the first.
        let d =
            decide(Strategy::RoundRobin, &team, &BTreeMap::new(), Some(&key("dan")), &[]).unwrap();
        assert_eq!(d.person, key("alice"));
    }

    #[test]
    fn least_loaded_weighs_open_items_by_priority() {
        let team = people(&["alice", "bob"]);
        // alice has one P1 (weight 8), bob three P4s (weight 3): bob is less loaded.
        let loads = loads(&[("alice", 1, 8), ("bob", 3, 3)]);
        let d = decide(Strategy::LeastLoaded, &team, &loads, None, &[]).unwrap();
        assert_eq!((d.person.as_str(), d.open, d.considered), ("bob", 3, 2));
    }

    #[test]
    fn least_loaded_ties_take_turns_in_rotation_order() {
        let team = people(&["alice", "bob", "cara"]);
        let mut cursor = None;
        let mut picked = Vec::new();
        for _ in 0..6 {
            let d = decide(Strategy::LeastLoaded, &team, &BTreeMap::new(), cursor.as_ref(), &[])
                .unwrap();
            picked.push(d.person.to_string());
            cursor = Some(d.person);
        }
        assert_eq!(picked, ["alice", "bob", "cara", "alice", "bob", "cara"]);
    }

    #[test]
    fn least_loaded_spreads_simulated_work_evenly() {
        let team = people(&["a1", "a2", "a3", "a4", "a5"]);
        let mut loads: BTreeMap<PersonKey, Load> = BTreeMap::new();
        let mut cursor = None;
        for n in 0..1000 {
            let weight = [8, 4, 2, 1][n % 4];
            let d = decide(Strategy::LeastLoaded, &team, &loads, cursor.as_ref(), &[]).unwrap();
            let entry = loads.entry(d.person.clone()).or_default();
            entry.open += 1;
            entry.weight += weight;
            cursor = Some(d.person);
        }
        let weights: Vec<i64> = loads.values().map(|l| l.weight).collect();
        let spread = weights.iter().max().unwrap() - weights.iter().min().unwrap();
        assert!(spread <= 8, "weighted loads stay within one P1 of each other: {weights:?}");
    }

    #[test]
    fn skill_match_considers_only_people_with_every_skill() {
        let team = vec![
            skilled("alice", &["onboarding", "billing"]),
            skilled("bob", &["billing"]),
            skilled("sam", &["disputes"]),
        ];
        let loads = loads(&[("alice", 5, 10), ("bob", 1, 2)]);
        let billing = vec!["billing".to_owned()];
        let d = decide(Strategy::SkillMatch, &team, &loads, None, &billing).unwrap();
        assert_eq!((d.person.as_str(), d.considered, d.skills.clone()), ("bob", 2, billing));
        let both = vec!["billing".to_owned(), "onboarding".to_owned()];
        assert_eq!(
            decide(Strategy::SkillMatch, &team, &loads, None, &both).unwrap().person,
            key("alice")
        );
        let closures = vec!["closures".to_owned()];
        assert_eq!(
            decide(Strategy::SkillMatch, &team, &loads, None, &closures),
            Err(NoAssignee::NobodyWithSkills(closures))
        );
    }

    #[test]
    fn nobody_on_shift_means_nobody_is_chosen() {
        assert_eq!(
            decide(Strategy::LeastLoaded, &[], &BTreeMap::new(), None, &[]),
            Err(NoAssignee::NobodyOnShift)
        );
    }

    fn shift(zone: Tz, hours: &[(&str, &str)]) -> Calendar {
        let hours: BTreeMap<String, String> =
            hours.iter().map(|(d, h)| (d.to_string(), h.to_string())).collect();
        Calendar::from_weekly(zone, &hours, &[]).unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn shifts_are_read_in_each_persons_own_time_zone() {
        let london = shift(chrono_tz::Europe::London, &[("mon", "09:00-17:00")]);
        let new_york = shift(chrono_tz::America::New_York, &[("mon", "09:00-17:00")]);
        // Monday 23 Nov 2026, 15:00 UTC: 15:00 in London, 10:00 in New York: both on.
        let both = utc(2026, 11, 23, 15, 0);
        assert!(on_shift(&london, &[], both) && on_shift(&new_york, &[], both));
        // 18:00 UTC: London has gone home, New York (13:00) is still on.
        let late = utc(2026, 11, 23, 18, 0);
        assert!(!on_shift(&london, &[], late) && on_shift(&new_york, &[], late));
    }

    #[test]
    fn shifts_up_to_midnight_belong_to_their_local_day() {
        let tokyo =
            shift(chrono_tz::Asia::Tokyo, &[("mon", "18:00-24:00"), ("tue", "00:00-02:00")]);
        // Monday 23:30 in Tokyo is 14:30 UTC Monday; Tuesday 01:00 Tokyo is 16:00 UTC Monday.
        assert!(on_shift(&tokyo, &[], utc(2026, 11, 23, 14, 30)));
        assert!(on_shift(&tokyo, &[], utc(2026, 11, 23, 16, 0)));
        // Tuesday 03:00 Tokyo (18:00 UTC Monday): off.
        assert!(!on_shift(&tokyo, &[], utc(2026, 11, 23, 18, 0)));
    }

    #[test]
    fn out_of_office_dates_are_local_dates_of_the_person() {
        let sydney = shift(chrono_tz::Australia::Sydney, &[("thu", "09:00-17:00")]);
        let christmas_eve = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap();
        // Thursday 24 Dec 10:00 in Sydney is Wednesday 23 Dec 23:00 UTC.
        let at = utc(2026, 12, 23, 23, 0);
        assert!(on_shift(&sydney, &[], at));
        assert!(!on_shift(&sydney, &[christmas_eve], at));
    }
}
