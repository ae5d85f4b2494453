//! The figures of a post-incident review, computed from the incident alone.

use chrono::Duration;

use super::Incident;

/// The review's durations, each measured from the declaration; `None` when it has not
/// happened (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Durations {
    /// Declared → someone took command (acknowledged).
    pub to_commander: Option<Duration>,
    /// Declared → marked mitigated (customer impact stopped).
    pub to_mitigated: Option<Duration>,
    /// Declared → resolved (the last resolution, after any reopen).
    pub to_resolved: Option<Duration>,
    /// Declared → the first customer notice was marked sent.
    pub to_first_notice: Option<Duration>,
}

impl Durations {
    pub fn of(incident: &Incident) -> Durations {
        let since = |at: chrono::DateTime<chrono::Utc>| at - incident.declared_at;
        let first_notice =
            incident.notices.iter().filter_map(|n| n.sent.as_ref().map(|s| s.at)).min();
        Durations {
            to_commander: incident.commanded_at.map(since),
            to_mitigated: incident.mitigated.as_ref().map(|m| since(m.at)),
            to_resolved: incident.resolved.as_ref().map(|r| since(r.at)),
            to_first_notice: first_notice.map(since),
        }
    }
}
