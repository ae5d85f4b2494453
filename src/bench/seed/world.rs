//! Who and what seeded history is spread over: the configured people, teams, accounts,
//! calendars, policies and currencies, looked up once per run.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::draw::Draw;
use crate::config::Settings;
use crate::domain::identity::{Account, Person, Role};
use crate::domain::ids::{Platform, TeamKey};
use crate::domain::money::Currency;
use crate::domain::sla_policy::CalendarSpec;
use crate::services::{Policies, Services};

/// Roles that may acknowledge, accept and resolve work.
const WORKER_ROLES: [Role; 3] = [Role::Agent, Role::Supervisor, Role::Admin];

pub struct World<'a> {
    pub policies: &'a Policies,
    pub settings: &'a Settings,
    pub people: Vec<&'a Person>,
    pub accounts: Vec<&'a Account>,
    /// Currencies someone holds authority in (a credit in another could never complete).
    pub currencies: Vec<Currency>,
    pub now: DateTime<Utc>,
    /// The first instant of the seeded span.
    pub start: DateTime<Utc>,
    workers: Vec<&'a Person>,
    team_workers: BTreeMap<TeamKey, Vec<&'a Person>>,
    calendars: BTreeMap<TeamKey, CalendarSpec>,
    places: BTreeMap<TeamKey, (Platform, String)>,
    first_team: Option<TeamKey>,
}

impl<'a> World<'a> {
    pub fn new(services: &'a Services, days: i64, now: DateTime<Utc>) -> anyhow::Result<World<'a>> {
        let directory = &services.setup().directory;
        let people: Vec<&Person> = directory.people().collect();
        let accounts: Vec<&Account> = directory.accounts().collect();
        anyhow::ensure!(!people.is_empty(), "seeding needs at least one configured person");
        anyhow::ensure!(!accounts.is_empty(), "seeding needs at least one configured account");
        let workers: Vec<&Person> = people
            .iter()
            .copied()
            .filter(|p| WORKER_ROLES.iter().any(|role| p.has_role(*role)))
            .collect();
        anyhow::ensure!(
            !workers.is_empty(),
            "seeding needs a person with the agent, supervisor or admin role"
        );
        let mut team_workers: BTreeMap<TeamKey, Vec<&Person>> = BTreeMap::new();
        for worker in &workers {
            team_workers.entry(worker.team.clone()).or_default().push(worker);
        }
        let mut calendars = BTreeMap::new();
        let mut places = BTreeMap::new();
        for team in directory.teams() {
            calendars.insert(team.key.clone(), services.setup().settings.team_calendar(&team.key));
            let place = match team.channels.iter().next() {
                Some((platform, channel)) => (*platform, channel.clone()),
                None => (Platform::Console, team.key.to_string()),
            };
            places.insert(team.key.clone(), place);
        }
        let authority = &services.setup().policies.credit.authority;
        let mut currencies: Vec<Currency> = authority
            .roles
            .values()
            .chain(authority.people.values())
            .flat_map(|limits| limits.keys().cloned())
            .collect();
        currencies.sort();
        currencies.dedup();
        Ok(World {
            policies: &services.setup().policies,
            settings: &services.setup().settings,
            people,
            accounts,
            currencies,
            now,
            start: now - Duration::days(days.max(1)),
            workers,
            team_workers,
            calendars,
            places,
            first_team: directory.teams().next().map(|t| t.key.clone()),
        })
    }

    /// When row `row` of `count` opened: row `n` lies in the `n`-th of `count` equal slots
    /// of the span, so rows come out in time order, whole seconds.
    pub fn opened_at(&self, row: u64, count: u64, draw: &mut Draw) -> DateTime<Utc> {
        let span = (self.now - self.start).num_seconds() as f64;
        let slot = span / count.max(1) as f64;
        let offset = ((row as f64 + draw.unit()) * slot).floor() as i64;
        (self.start + Duration::seconds(offset)).min(self.now)
    }

    /// The team's business calendar as configured (what the services snapshot).
    pub fn calendar(&self, team: &TeamKey) -> CalendarSpec {
        self.calendars.get(team).cloned().unwrap_or_else(|| self.settings.team_calendar(team))
    }

    /// Where the team's cards go.
    pub fn place(&self, team: &TeamKey) -> (Platform, String) {
        self.places.get(team).cloned().unwrap_or_else(|| (Platform::Console, team.to_string()))
    }

    /// People of `team` who may work items; everyone who may when the team has none.
    pub fn workers(&self, team: &TeamKey) -> &[&'a Person] {
        self.team_workers.get(team).map_or(&self.workers, |w| w.as_slice())
    }

    /// A request's team when the sender names none: the account owner's, else the first.
    pub fn request_team(&self, account: &Account) -> Option<TeamKey> {
        let owner_team = account
            .owner
            .as_ref()
            .and_then(|owner| self.people.iter().find(|p| &p.key == owner))
            .map(|p| p.team.clone());
        owner_team.or_else(|| self.first_team.clone())
    }
}
