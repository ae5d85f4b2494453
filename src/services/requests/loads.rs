//! A short-lived, per-process view of each team's assignment inputs.
//!
//! "Least loaded" needs every on-shift person's open items, which is a sum over all open
//! requests: cheap once, too dear on every intake at thousands of requests a second. A
//! decision is a heuristic anyway (concurrent decisions are not serialised, see `assign`), so
//! each process reads a team's loads from the database at most once per [`FRESH_FOR`] and
//! counts its own assignments on top in between. Any other change to a request (accept,
//! reassign, resolve, hand-off) drops the team's view, so the next decision reads again.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::domain::assignment::Load;
use crate::domain::ids::{PersonKey, TeamKey};

/// How long loads read from the database are trusted.
pub const FRESH_FOR: Duration = Duration::seconds(1);

/// A team's rotation point and the loads of its people.
#[derive(Debug, Clone, Default)]
pub struct TeamInputs {
    pub cursor: Option<PersonKey>,
    pub loads: BTreeMap<PersonKey, Load>,
}

#[derive(Debug, Default)]
pub struct LoadCache {
    teams: Mutex<HashMap<TeamKey, (DateTime<Utc>, TeamInputs)>>,
}

impl LoadCache {
    /// The team's inputs if they were read less than [`FRESH_FOR`] before `now`.
    pub fn fresh(&self, team: &TeamKey, now: DateTime<Utc>) -> Option<TeamInputs> {
        let teams = self.teams.lock().unwrap_or_else(|e| e.into_inner());
        let (read_at, inputs) = teams.get(team)?;
        (now >= *read_at && now - *read_at < FRESH_FOR).then(|| inputs.clone())
    }

    pub fn store(&self, team: &TeamKey, now: DateTime<Utc>, inputs: TeamInputs) {
        let mut teams = self.teams.lock().unwrap_or_else(|e| e.into_inner());
        teams.insert(team.clone(), (now, inputs));
    }

    /// Counts an assignment this process just decided.
    pub fn assigned(&self, team: &TeamKey, person: &PersonKey, weight: i64) {
        let mut teams = self.teams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, inputs)) = teams.get_mut(team) {
            let load = inputs.loads.entry(person.clone()).or_insert(Load { open: 0, weight: 0 });
            load.open += 1;
            load.weight += weight;
            inputs.cursor = Some(person.clone());
        }
    }

    /// Forgets the team's inputs (a request changed in a way the counts do not follow).
    pub fn invalidate(&self, team: &TeamKey) {
        self.teams.lock().unwrap_or_else(|e| e.into_inner()).remove(team);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> PersonKey {
        PersonKey::parse(raw).unwrap()
    }

    #[test]
    fn inputs_are_fresh_for_a_second_and_count_local_assignments() {
        let cache = LoadCache::default();
        let team = TeamKey::parse("ops").unwrap();
        let t0 = DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z").unwrap().to_utc();
        assert!(cache.fresh(&team, t0).is_none());
        cache.store(&team, t0, TeamInputs::default());
        cache.assigned(&team, &key("bob"), 4);
        let inputs = cache.fresh(&team, t0 + Duration::milliseconds(999)).unwrap();
        assert_eq!(inputs.loads[&key("bob")], Load { open: 1, weight: 4 });
        assert_eq!(inputs.cursor, Some(key("bob")));
        assert!(cache.fresh(&team, t0 + Duration::seconds(1)).is_none());
        cache.invalidate(&team);
        assert!(cache.fresh(&team, t0).is_none());
    }
}
