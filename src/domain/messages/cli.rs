//! Words of the `steward` command line: refusals of bad input, printed as one line on stderr
//! before anything is set up.

/// `steward <command>: <problem>`, the one line an input error prints.
pub fn refusal(command: &str, problem: &str) -> String {
    format!("steward {command}: {problem}")
}

/// A name that is not configured, with the ones that are.
fn unknown(what: &str, name: &str, known: &[&str]) -> String {
    let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
    format!("no {what} `{name}`; configured: {known}")
}

pub fn unknown_person(name: &str, known: &[&str]) -> String {
    unknown("person", name, known)
}

pub fn unknown_team(name: &str, known: &[&str]) -> String {
    unknown("team", name, known)
}

pub fn unknown_digest(name: &str, known: &[&str]) -> String {
    unknown("digest", name, known)
}

pub fn no_people() -> String {
    "no people are configured; add [[people]] to the configuration".to_owned()
}

pub fn no_teams() -> String {
    "no teams are configured; add [[teams]] to the configuration".to_owned()
}

pub fn not_a_time(raw: &str) -> String {
    format!("`{raw}` is not a time: use 2026-11-27T15:00:00Z or \"2026-11-27 15:00\"")
}

pub fn time_in_gap(raw: &str, zone: &str) -> String {
    format!("`{raw}` does not exist in {zone} (a daylight-saving gap)")
}

/// A count option (`--clients`, `--count`) that must be at least `min`.
pub fn too_small(option: &str, value: i64, min: i64) -> String {
    format!("--{option} must be at least {min}, not {value}")
}

/// A required setting or environment variable is missing for a tool.
pub fn not_set(what: &str) -> String {
    format!("{what} is not set")
}

/// `config check`: a credit chain nobody can finish in a currency.
pub fn chain_gap_warning(gap: &crate::domain::credit::gaps::ChainGap) -> String {
    let roles: Vec<&str> = gap.roles.iter().map(|r| r.as_str()).collect();
    let which = match gap.above {
        Some(threshold) => format!("credits in {} above {threshold}", gap.currency.code()),
        None => format!("credits in {}", gap.currency.code()),
    };
    format!(
        "warning: credits.chain: {which} need approval by {} with authority in {}, and nobody \
         holds it (credits.authority); such requests are refused. Add a limit in {} for one of \
         those roles or a person.",
        roles.join(" or "),
        gap.currency.code(),
        gap.currency.code()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_list_what_is_configured() {
        assert_eq!(
            unknown_team("nosuch", &["billing", "onboarding"]),
            "no team `nosuch`; configured: billing, onboarding"
        );
        assert_eq!(unknown_digest("x", &[]), "no digest `x`; configured: none");
    }
}
