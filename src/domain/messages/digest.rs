//! Digest wording: the SLA, KPI and standup digests, and `/digest` answers.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::CommandHelp;
use crate::domain::digest::chart::sparkline;
use crate::domain::digest::report::{
    Attention, AttentionReason, ItemKind, KpiReport, Percentiles, SlaItem, SlaReport,
    StandupReport, WindowFigures,
};
use crate::domain::duration::format_duration;

pub const HELP_DIGEST: CommandHelp = CommandHelp {
    usage: "/digest <name>",
    summary: "Preview a configured digest (SLA, KPI or standup) as of now, only for you.",
};

pub fn missing_name() -> String {
    "Which digest? Name one; an unknown name lists the configured digests.".to_owned()
}

pub fn unknown_digest(name: &str, known: &[&str]) -> String {
    format!("There is no digest `{name}`. Configured: {}.", list_or_none(known))
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

/// The header line: which digest, for when, and whether it is late.
pub fn title(name: &str, kind: &str, slot: DateTime<Utc>, zone: Tz, late: bool) -> String {
    let local = slot.with_timezone(&zone).format("%a %d %b %Y %H:%M %Z");
    let late = if late { " (late)" } else { "" };
    format!("{} digest `{name}` for {local}{late}", capitalise(kind))
}

pub fn preview_note() -> String {
    "Preview: only you see this; nothing was posted.".to_owned()
}

fn capitalise(kind: &str) -> String {
    match kind {
        "sla" => "SLA".to_owned(),
        "kpi" => "KPI".to_owned(),
        other => {
            let mut chars = other.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
        }
    }
}

fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Escalation => "Escalation",
        ItemKind::Request => "Request",
        ItemKind::Credit => "Approval",
        ItemKind::Incident => "Incident",
    }
}

fn left(due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match due {
        None => "no deadline (clock paused)".to_owned(),
        Some(due) if due <= now => format!("breached {} ago", format_duration(now - due)),
        Some(due) => format!("{} left", format_duration(due - now)),
    }
}

/// The SLA digest's body: items grouped by team, or a plain "nothing at risk".
pub fn sla_body(report: &SlaReport, team_name: impl Fn(&str) -> String) -> String {
    if report.items.is_empty() {
        return "Nothing is breached or at risk: every open escalation, request and approval \
                is within its target."
            .to_owned();
    }
    let breached = report.items.iter().filter(|i| i.breached).count();
    let mut out = format!("{breached} breached, {} at risk.\n", report.items.len() - breached);
    let mut teams: Vec<&str> = report.items.iter().map(|i| i.team.as_str()).collect();
    teams.sort();
    teams.dedup();
    for team in teams {
        out.push_str(&format!("\n{}\n", team_name(team)));
        for item in report.items.iter().filter(|i| i.team == team) {
            out.push_str(&sla_line(item, report.as_of));
        }
    }
    out
}

fn sla_line(item: &SlaItem, now: DateTime<Utc>) -> String {
    let mark = if item.breached { "BREACHED" } else { "at risk" };
    let owner = item.owner.as_deref().unwrap_or("unassigned");
    let owner_label = if item.kind == ItemKind::Credit { "requested by" } else { "owner" };
    format!(
        "  • {mark}: {} #{} ({}, {}), {owner_label} {owner}, {}\n",
        kind_name(item.kind),
        item.id,
        item.label,
        item.account,
        left(item.due, now)
    )
}

fn duration_or_dash(seconds: Option<f64>) -> String {
    match seconds {
        Some(s) => format_duration(Duration::seconds(s.round() as i64)),
        None => "–".to_owned(),
    }
}

fn percent_or_dash(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "–".to_owned())
}

fn percentiles(p: &Percentiles) -> String {
    format!("p50 {} · p90 {}", duration_or_dash(p.p50), duration_or_dash(p.p90))
}

fn compare(now: String, before: String) -> String {
    format!("{now} (previous {before})")
}

/// The KPI digest's body.
pub fn kpi_body(report: &KpiReport, zone: Tz) -> String {
    let (c, p) = (&report.current, &report.previous);
    let local = |at: DateTime<Utc>| at.with_timezone(&zone).format("%d %b %H:%M").to_string();
    let mut out = format!("Window {} – {}\n", local(report.start), local(report.end));
    let lines = [
        ("Opened", compare(c.opened.to_string(), p.opened.to_string())),
        ("Resolved", compare(c.resolved.to_string(), p.resolved.to_string())),
        ("Time to acknowledge", compare(percentiles(&c.acknowledge), percentiles(&p.acknowledge))),
        ("Time to resolve", compare(percentiles(&c.resolve), percentiles(&p.resolve))),
        (
            "SLA attainment",
            compare(percent_or_dash(c.sla_attainment), percent_or_dash(p.sla_attainment)),
        ),
        (
            "First-contact resolution",
            compare(
                percent_or_dash(c.first_contact_resolution),
                percent_or_dash(p.first_contact_resolution),
            ),
        ),
        ("Reopen rate", compare(percent_or_dash(c.reopen_rate), percent_or_dash(p.reopen_rate))),
    ];
    for (label, value) in lines {
        out.push_str(&format!("{label}: {value}\n"));
    }
    let b = &report.backlog;
    out.push_str(&format!(
        "Backlog: {} open (<1d {} · 1–3d {} · 3–7d {} · >7d {})\n",
        b.total(),
        b.under_1d,
        b.from_1d_to_3d,
        b.from_3d_to_7d,
        b.over_7d
    ));
    out.push_str(&format!("Approvals pending: {}", report.approvals_pending));
    if let Some(oldest) = report.oldest_pending {
        out.push_str(&format!(", oldest waiting {}", format_duration(report.end - oldest)));
    }
    out.push('\n');
    out.push_str(&format!("Credits granted: {}\n", credits(c)));
    if !report.by_approver.is_empty() {
        out.push_str("By approver:\n");
        for a in &report.by_approver {
            let authority = match a.monthly_limit {
                Some(limit) => format!(" of {limit} monthly authority"),
                None => " (no authority configured)".to_owned(),
            };
            out.push_str(&format!(
                "  • {}: {} × {} {}{authority}\n",
                a.approver, a.count, a.sum, a.currency
            ));
        }
    }
    if !report.by_severity.is_empty() {
        let severities: Vec<String> =
            report.by_severity.iter().map(|(s, n)| format!("{s} {n}")).collect();
        out.push_str(&format!("Escalations by severity: {}\n", severities.join(" · ")));
    }
    if !report.per_person.is_empty() {
        let people: Vec<String> =
            report.per_person.iter().map(|(person, n)| format!("{person} {n}")).collect();
        out.push_str(&format!("Resolved per person: {}\n", people.join(" · ")));
    }
    out
}

fn credits(figures: &WindowFigures) -> String {
    if figures.credits.is_empty() {
        return "none".to_owned();
    }
    figures
        .credits
        .iter()
        .map(|c| format!("{} × {} {}", c.count, c.sum, c.currency))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The chart's title and its text fallback (the console prints the fallback).
pub fn trend_title(days: usize) -> String {
    format!("Opened (blue) and resolved (green) per day, last {days} days")
}

pub fn trend_fallback(opened: &[i64], resolved: &[i64]) -> String {
    format!(
        "Opened   {} (max {})\nResolved {} (max {})",
        sparkline(opened),
        opened.iter().max().copied().unwrap_or(0),
        sparkline(resolved),
        resolved.iter().max().copied().unwrap_or(0)
    )
}

/// The standup digest's body, one section per team.
pub fn standup_body(report: &StandupReport, now: DateTime<Utc>) -> String {
    if report.teams.is_empty() {
        return "No teams to report on.".to_owned();
    }
    let mut out = String::new();
    for team in &report.teams {
        out.push_str(&format!("{}\n", team.team_name));
        out.push_str(&format!("Yesterday ({}):\n", report.day));
        if team.yesterday.is_empty() {
            out.push_str("  nothing opened or resolved\n");
        }
        for day in &team.yesterday {
            out.push_str(&format!(
                "  • {}: {} opened, {} resolved\n",
                day.person, day.opened, day.resolved
            ));
        }
        let roster =
            if team.on_shift.is_empty() { "nobody".to_owned() } else { team.on_shift.join(", ") };
        out.push_str(&format!("On shift today: {roster}\n"));
        if team.attention.is_empty() {
            out.push_str("Needs attention: nothing\n\n");
            continue;
        }
        out.push_str("Needs attention:\n");
        for item in &team.attention {
            out.push_str(&attention_line(item, now));
        }
        out.push('\n');
    }
    out.trim_end().to_owned()
}

fn attention_line(item: &Attention, now: DateTime<Utc>) -> String {
    let reason = match item.reason {
        AttentionReason::AtRisk => "at risk",
        AttentionReason::Breached => "breached",
        AttentionReason::WaitingOnYou => "waiting on you",
        AttentionReason::ApprovalWaiting => "approval waiting on you",
    };
    format!(
        "  • {}: {} #{} ({}), {reason}, {}\n",
        item.person.as_deref().unwrap_or("unassigned"),
        kind_name(item.kind),
        item.id,
        item.label,
        left(item.due, now)
    )
}

/// `steward digest run` summary lines.
pub fn run_posted(name: &str, channels: usize) -> String {
    format!("Digest `{name}` queued for {}.", super::count_of(channels, "channel", "channels"))
}

pub fn run_already_claimed(name: &str, slot: DateTime<Utc>) -> String {
    format!(
        "Digest `{name}` for {} was already posted (or skipped); nothing sent.",
        slot.to_rfc3339()
    )
}
