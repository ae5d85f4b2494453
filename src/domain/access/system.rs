//! The systems access can be requested to, as configured (`[[access.systems]]`): roles,
//! owners, the longest grant, whether two people must approve, and how grants are carried
//! out. Pure: who the owners are is resolved against the directory passed in.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::domain::identity::{Directory, Person, Role};
use crate::domain::ids::PersonKey;

/// Who owns a system: a named person, or everyone holding a Steward role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Person(PersonKey),
    Role(Role),
}

impl Owner {
    /// `sam` or `role:admin`, as written in the configuration.
    pub fn parse(raw: &str) -> Result<Owner, String> {
        match raw.strip_prefix("role:") {
            Some(role) => Role::parse(role).map(Owner::Role).ok_or_else(|| role.to_owned()),
            None => PersonKey::parse(raw).map(Owner::Person).map_err(|_| raw.to_owned()),
        }
    }

    fn includes(&self, person: &Person) -> bool {
        match self {
            Owner::Person(key) => &person.key == key,
            Owner::Role(role) => person.has_role(*role),
        }
    }
}

/// How a grant and its revocation are carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provisioning {
    /// A signed HTTP call to the system (through the outbox).
    Webhook,
    /// A task for an owner, due within the system's `task_within`.
    Manual,
}

/// One system's access rules.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessSystem {
    pub key: String,
    pub name: String,
    pub roles: Vec<String>,
    pub owners: Vec<Owner>,
    pub max_duration: Duration,
    /// Two different people must approve (four eyes on top of the requester's two).
    pub second_approver: bool,
    pub provisioning: Provisioning,
    /// How long a manual provisioning or revocation task may take.
    pub task_within: Duration,
}

impl AccessSystem {
    /// The people who own the system, in directory order.
    pub fn owners<'a>(&'a self, directory: &'a Directory) -> impl Iterator<Item = &'a Person> {
        directory.people().filter(|p| self.owners.iter().any(|o| o.includes(p)))
    }

    pub fn is_owner(&self, person: &Person) -> bool {
        self.owners.iter().any(|o| o.includes(person))
    }

    /// Who may decide a request of `holder`: the owners and the holder's supervisors, never
    /// the holder.
    pub fn deciders(&self, directory: &Directory, holder: &Person) -> Vec<PersonKey> {
        let supervisors = directory.supervisors(&holder.team);
        let mut keys: Vec<PersonKey> =
            self.owners(directory).chain(supervisors).map(|p| p.key.clone()).collect();
        keys.sort();
        keys.dedup();
        keys.retain(|key| key != &holder.key);
        keys
    }

    /// Approvals a request needs.
    pub fn approvals_needed(&self) -> usize {
        if self.second_approver { 2 } else { 1 }
    }
}

/// Every configured system, in configuration order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccessCatalog {
    pub systems: Vec<AccessSystem>,
}

impl AccessCatalog {
    pub fn system(&self, key: &str) -> Option<&AccessSystem> {
        self.systems.iter().find(|s| s.key == key)
    }

    pub fn keys(&self) -> Vec<&str> {
        self.systems.iter().map(|s| s.key.as_str()).collect()
    }
}
