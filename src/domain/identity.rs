//! Who is who: people, their platform identities, teams, roles and accounts.
//!
//! The directory is built from configuration (see `config.rs`) and is immutable at run time;
//! storage keeps a copy in the database so that SQL reports can join on it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::ids::{AccountKey, PersonKey, Platform, TeamKey};

/// What a person may do. A person can hold several roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works items: accepts, resolves, requests credits.
    Agent,
    /// Leads a team: reassigns, escalates, approves within authority.
    Supervisor,
    /// Approves credits and adjustments above supervisor authority.
    Finance,
    /// Administers Steward itself.
    Admin,
    /// Reads the audit trail; changes nothing.
    Auditor,
    /// Speaks to customers in incidents: approves and sends customer notices.
    Comms,
}

impl Role {
    /// Every role, in the order the configuration documents them.
    pub const ALL: [Role; 6] =
        [Role::Agent, Role::Supervisor, Role::Finance, Role::Admin, Role::Auditor, Role::Comms];

    /// The role named `raw` as in the configuration (`supervisor`), if any.
    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Finance => "finance",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Comms => "comms",
        }
    }
}

impl Role {
    /// Who works items: agents, and the leads who may step in.
    pub const WORKERS: &'static [Role] = &[Role::Agent, Role::Supervisor, Role::Admin];
    /// Who may act on an item that is someone else's.
    pub const LEADS: &'static [Role] = &[Role::Supervisor, Role::Admin];
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person who uses Steward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub key: PersonKey,
    pub display_name: String,
    pub team: TeamKey,
    pub roles: BTreeSet<Role>,
    pub time_zone: Tz,
    pub skills: BTreeSet<String>,
    /// Platform user ids: Slack `U…` (or `T…:U…`, the user of one workspace: see
    /// `domain::workspace`), Discord snowflake, console name.
    pub identities: BTreeMap<Platform, String>,
}

impl Person {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Their user id on `platform` as the platform knows it (without the workspace a Slack
    /// identity may name): where their DMs go.
    pub fn user_on(&self, platform: Platform) -> Option<&str> {
        let configured = self.identities.get(&platform)?;
        Some(super::workspace::split(platform, configured).1)
    }

    /// Whether they hold at least one of `roles`.
    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        roles.iter().any(|role| self.has_role(*role))
    }
}

/// A team of people, with the time zone its calendar runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub key: TeamKey,
    pub name: String,
    pub time_zone: Tz,
    /// Channel per platform where the team's cards go (e.g. escalations).
    pub channels: BTreeMap<Platform, String>,
}

/// A customer account that items refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub key: AccountKey,
    pub name: String,
    pub tier: String,
    pub owner: Option<PersonKey>,
}

/// Everyone and everything Steward knows by name, with lookups by platform identity.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    people: BTreeMap<PersonKey, Person>,
    teams: BTreeMap<TeamKey, Team>,
    accounts: BTreeMap<AccountKey, Account>,
    /// Keyed by the identity as configured: `T1:U1` and `T2:U1` are two people.
    by_identity: HashMap<(Platform, String), PersonKey>,
    /// The Slack workspace plain ids (`U456`) belong to; `None`: whichever workspace an
    /// event comes from (one workspace, whose team id need not be configured).
    default_workspace: Option<String>,
}

/// A directory that does not hang together (dangling team reference, duplicate identity).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DirectoryError(pub String);

impl Directory {
    /// Builds the directory, checking that references resolve and identities are unique.
    pub fn new(
        teams: Vec<Team>,
        people: Vec<Person>,
        accounts: Vec<Account>,
    ) -> Result<Directory, DirectoryError> {
        let mut directory = Directory::default();
        for team in teams {
            if directory.teams.insert(team.key.clone(), team.clone()).is_some() {
                return Err(DirectoryError(format!("team `{}` is defined twice", team.key)));
            }
        }
        for person in people {
            if !directory.teams.contains_key(&person.team) {
                return Err(DirectoryError(format!(
                    "person `{}` belongs to unknown team `{}`",
                    person.key, person.team
                )));
            }
            for (platform, user) in &person.identities {
                let previous =
                    directory.by_identity.insert((*platform, user.clone()), person.key.clone());
                if let Some(other) = previous {
                    return Err(DirectoryError(format!(
                        "{platform} identity `{user}` is claimed by both `{other}` and `{}`",
                        person.key
                    )));
                }
            }
            if directory.people.insert(person.key.clone(), person.clone()).is_some() {
                return Err(DirectoryError(format!("person `{}` is defined twice", person.key)));
            }
        }
        for account in accounts {
            if let Some(owner) = &account.owner
                && !directory.people.contains_key(owner)
            {
                return Err(DirectoryError(format!(
                    "account `{}` is owned by unknown person `{owner}`",
                    account.key
                )));
            }
            if directory.accounts.insert(account.key.clone(), account.clone()).is_some() {
                return Err(DirectoryError(format!("account `{}` is defined twice", account.key)));
            }
        }
        Ok(directory)
    }

    /// The person behind a platform user id, if registered (in the default workspace).
    pub fn resolve(&self, platform: Platform, user: &str) -> Option<&Person> {
        self.resolve_in(platform, None, user)
    }

    /// Plain ids (`U456`) belong to `workspace` (Slack's team id `T123`; see
    /// [`Directory::resolve_in`]).
    pub fn with_default_workspace(mut self, workspace: Option<String>) -> Directory {
        self.default_workspace = workspace.filter(|w| !w.is_empty());
        self
    }

    /// The person behind `user` of `workspace` (`None`: the default one): the identity
    /// qualified by the workspace (`T123:U456`) first, then a plain `U456` if the workspace
    /// is the default one. The same user id in two workspaces is two people.
    pub fn resolve_in(
        &self,
        platform: Platform,
        workspace: Option<&str>,
        user: &str,
    ) -> Option<&Person> {
        let by =
            |id: String| self.by_identity.get(&(platform, id)).and_then(|k| self.people.get(k));
        if let Some(team) = workspace
            && let Some(person) = by(super::workspace::qualify(Some(team), user))
        {
            return Some(person);
        }
        let default = match (workspace, &self.default_workspace) {
            (None, _) | (Some(_), None) => true,
            (Some(team), Some(default)) => team == default,
        };
        default.then(|| by(user.to_owned())).flatten()
    }

    pub fn person(&self, key: &PersonKey) -> Option<&Person> {
        self.people.get(key)
    }

    pub fn team(&self, key: &TeamKey) -> Option<&Team> {
        self.teams.get(key)
    }

    pub fn account(&self, key: &AccountKey) -> Option<&Account> {
        self.accounts.get(key)
    }

    pub fn people(&self) -> impl Iterator<Item = &Person> {
        self.people.values()
    }

    /// The supervisors of `team`: who hears of what nobody in the team owns.
    pub fn supervisors<'a>(&'a self, team: &'a TeamKey) -> impl Iterator<Item = &'a Person> {
        self.people().filter(move |p| &p.team == team && p.has_role(Role::Supervisor))
    }

    pub fn teams(&self) -> impl Iterator<Item = &Team> {
        self.teams.values()
    }

    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub fn team(key: &str) -> Team {
        Team {
            key: TeamKey::parse(key).unwrap(),
            name: key.to_owned(),
            time_zone: chrono_tz::Europe::London,
            channels: BTreeMap::new(),
        }
    }

    pub fn person(key: &str, team: &str, roles: &[Role]) -> Person {
        Person {
            key: PersonKey::parse(key).unwrap(),
            display_name: key.to_owned(),
            team: TeamKey::parse(team).unwrap(),
            roles: roles.iter().copied().collect(),
            time_zone: chrono_tz::Europe::London,
            skills: BTreeSet::new(),
            identities: [(Platform::Console, key.to_owned())].into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn the_same_slack_user_id_in_two_workspaces_is_two_people() {
        let mut t1 = person("ana", "ops", &[]);
        t1.identities.insert(Platform::Slack, "T1:U1".into());
        let mut t2 = person("bo", "ops", &[]);
        t2.identities.insert(Platform::Slack, "T2:U1".into());
        let mut plain = person("cy", "ops", &[]);
        plain.identities.insert(Platform::Slack, "U9".into());
        let dir = Directory::new(vec![team("ops")], vec![t1, t2, plain], vec![]).unwrap();
        let who = |dir: &Directory, ws: Option<&str>, user: &str| {
            dir.resolve_in(Platform::Slack, ws, user).map(|p| p.key.to_string())
        };
        assert_eq!(who(&dir, Some("T1"), "U1").as_deref(), Some("ana"));
        assert_eq!(who(&dir, Some("T2"), "U1").as_deref(), Some("bo"));
        assert_eq!(who(&dir, Some("T3"), "U1"), None);
        // No default workspace named: a plain id is whoever has it, in any workspace.
        assert_eq!(who(&dir, Some("T2"), "U9").as_deref(), Some("cy"));
        let dir = dir.with_default_workspace(Some("T1".into()));
        assert_eq!(who(&dir, Some("T1"), "U9").as_deref(), Some("cy"));
        assert_eq!(who(&dir, None, "U9").as_deref(), Some("cy"));
        assert_eq!(who(&dir, Some("T2"), "U9"), None, "U9 of T2 is someone else");
        assert_eq!(
            dir.person(&PersonKey::parse("bo").unwrap()).unwrap().user_on(Platform::Slack),
            Some("U1")
        );
    }

    #[test]
    fn resolves_people_by_platform_identity() {
        let dir =
            Directory::new(vec![team("ops")], vec![person("alice", "ops", &[Role::Agent])], vec![])
                .unwrap();
        assert_eq!(dir.resolve(Platform::Console, "alice").unwrap().key.as_str(), "alice");
        assert!(dir.resolve(Platform::Slack, "alice").is_none());
    }

    #[test]
    fn rejects_people_in_unknown_teams() {
        let err = Directory::new(vec![], vec![person("alice", "ops", &[])], vec![]).unwrap_err();
        assert!(err.0.contains("unknown team `ops`"), "{err}");
    }

    #[test]
    fn rejects_an_identity_claimed_twice() {
        let mut bob = person("bob", "ops", &[]);
        bob.identities.insert(Platform::Console, "alice".into());
        let err = Directory::new(vec![team("ops")], vec![person("alice", "ops", &[]), bob], vec![])
            .unwrap_err();
        assert!(err.0.contains("claimed by both"), "{err}");
    }
}
