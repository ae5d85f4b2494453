//! Digest wording: the SLA, KPI and standup digests, their definitions (`/digest explain`),
//! and `/digest` / `steward digest run` answers.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::domain::digest::chart::sparkline;
use crate::domain::digest::report::{
    Attention, AttentionReason, BreachAge, Capped, ItemKind, KpiReport, Percentiles, SlaItem,
    SlaReport, StandupReport, WindowFigures,
};
use crate::domain::digest::targets::{self, Standing, Trend};
use crate::domain::digest::{DigestDefinition, DigestKind, Targets, WindowSpec};
use crate::domain::duration::format_duration;

crate::command_help! {
    HELP_DIGEST: "/digest <name>"
        => "Preview a configured digest (SLA, KPI or standup) as of now, only for you.";
    HELP_DIGEST_EXPLAIN: "/digest explain <name>"
        => "How a digest's window and each of its figures are defined, and its targets.";
}

/// Characters a digest body may use: below Discord's 4,096 for an embed description (with
/// room for the title and the context line) and split by Slack into 3,000-character sections.
pub const BODY_BUDGET: usize = 3_600;

/// Characters for each part of the SLA digest (together within [`BODY_BUDGET`] with the
/// summary line and headings): at risk, new breaches, the older breaches' table, approvals.
const AT_RISK_BUDGET: usize = 1_300;
const NEW_BREACHES_BUDGET: usize = 1_000;
const OLDER_BREACHES_BUDGET: usize = 500;
const APPROVALS_BUDGET: usize = 600;

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

/// 1063 → "1,063".
pub fn thousands(n: i64) -> String {
    group_digits(&n.unsigned_abs().to_string(), n < 0)
}

fn group_digits(digits: &str, negative: bool) -> String {
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if negative { format!("-{out}") } else { out }
}

/// 18765.97 EUR → "18,765.97 EUR" (the amount's own minor digits are kept).
pub fn amount(value: Decimal, currency: &str) -> String {
    let raw = value.abs().to_string();
    let (whole, fraction) = raw.split_once('.').map_or((raw.as_str(), None), |(w, f)| (w, Some(f)));
    let whole = group_digits(whole, value.is_sign_negative() && !value.is_zero());
    match fraction {
        Some(fraction) => format!("{whole}.{fraction} {currency}"),
        None => format!("{whole} {currency}"),
    }
}

fn credits_of(count: i64) -> String {
    format!("{} {}", thousands(count), if count == 1 { "credit" } else { "credits" })
}

fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Escalation => "Escalation",
        ItemKind::Request => "Request",
        ItemKind::Credit => "Approval",
        ItemKind::AccessRequest => "Access",
        ItemKind::Onboarding => "Onboarding",
        ItemKind::AccessReview => "Access review",
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

/// Lines of a list that fit in `budget` characters, then "… showing N of M" when cut.
fn capped_section(heading: &str, lines: &[String], total: i64, budget: usize) -> String {
    let mut shown = Vec::new();
    let mut used = heading.len();
    for line in lines {
        if used + line.len() > budget {
            break;
        }
        used += line.len();
        shown.push(line.as_str());
    }
    let mut out = if (shown.len() as i64) < total {
        format!("{heading} (showing {} of {})\n", shown.len(), thousands(total))
    } else {
        format!("{heading}\n")
    };
    out.extend(shown.iter().copied());
    out
}

fn local_time(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%a %d %b %H:%M").to_string()
}

/// The SLA digest's body: at risk first (what can still be saved), then the breaches new
/// since the previous digest, then older breaches counted per team and age, then approvals
/// waiting too long. Every count is the database's total, whatever the lists show.
pub fn sla_body(report: &SlaReport, zone: Tz, team_name: impl Fn(&str) -> String) -> String {
    if report.is_clear() {
        return "Nothing is breached or at risk: every open escalation, request and approval \
                is within its target."
            .to_owned();
    }
    let since = local_time(report.new_since, zone);
    let wait = format_duration(report.approval_wait);
    let mut out = format!(
        "{} at risk · {} breached ({} new since {since}) · {} approvals waiting over {wait}\n",
        thousands(report.at_risk.total),
        thousands(report.breached_total()),
        thousands(report.new_breaches.total),
        thousands(report.approvals.total),
    );
    let line = |item: &SlaItem| sla_line(item, report.as_of, &team_name);
    if report.at_risk.total > 0 {
        let lines: Vec<String> = report.at_risk.items.iter().map(line).collect();
        out.push('\n');
        out.push_str(&capped_section(
            "At risk, can still be saved",
            &lines,
            report.at_risk.total,
            AT_RISK_BUDGET,
        ));
    }
    if report.new_breaches.total > 0 {
        let lines: Vec<String> = report.new_breaches.items.iter().map(line).collect();
        let heading = format!("Breached since {since}");
        out.push('\n');
        out.push_str(&capped_section(
            &heading,
            &lines,
            report.new_breaches.total,
            NEW_BREACHES_BUDGET,
        ));
    }
    if report.older_total() > 0 {
        out.push_str(&format!(
            "\nOlder breaches: {} by age of the breach\n",
            thousands(report.older_total())
        ));
        let rows: Vec<String> = report
            .older_breaches
            .iter()
            .filter(|(_, counts)| counts.iter().any(|n| *n > 0))
            .map(|(team, counts)| {
                let ages: Vec<String> = BreachAge::ALL
                    .iter()
                    .zip(counts)
                    .map(|(age, n)| format!("{} {}", age_label(*age), thousands(*n)))
                    .collect();
                format!("  • {}: {}\n", team_name(team), ages.join(" · "))
            })
            .collect();
        let mut used = 0;
        for (shown, row) in rows.iter().enumerate() {
            if used + row.len() > OLDER_BREACHES_BUDGET {
                out.push_str(&format!("  … and {} more teams\n", rows.len() - shown));
                break;
            }
            used += row.len();
            out.push_str(row);
        }
    }
    if report.approvals.total > 0 {
        let lines: Vec<String> = report.approvals.items.iter().map(line).collect();
        let heading = format!("Approvals waiting over {wait}");
        out.push('\n');
        out.push_str(&capped_section(&heading, &lines, report.approvals.total, APPROVALS_BUDGET));
    }
    out
}

fn age_label(age: BreachAge) -> &'static str {
    match age {
        BreachAge::UnderADay => "<1d",
        BreachAge::OneToSevenDays => "1–7d",
        BreachAge::OneToFourWeeks => "7–28d",
        BreachAge::OverFourWeeks => ">28d",
    }
}

fn sla_line(item: &SlaItem, now: DateTime<Utc>, team_name: &impl Fn(&str) -> String) -> String {
    let owner = item.owner.as_deref().unwrap_or("unassigned");
    if item.kind == ItemKind::Credit {
        let expiry = match item.due {
            Some(due) if due > now => format!("expires in {}", format_duration(due - now)),
            _ => "expiring".to_owned(),
        };
        return format!(
            "  • Approval #{} ({}, {}), {}, requested by {owner}, {expiry}\n",
            item.id,
            item.label,
            item.account,
            team_name(&item.team)
        );
    }
    format!(
        "  • {} #{} ({}, {}), {}, owner {owner}, {}\n",
        kind_name(item.kind),
        item.id,
        item.label,
        item.account,
        team_name(&item.team),
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

fn arrow(current: Option<f64>, previous: Option<f64>) -> &'static str {
    match targets::trend(current, previous) {
        Some(Trend::Up) => " ▲",
        Some(Trend::Down) => " ▼",
        Some(Trend::Same) => " =",
        None => "",
    }
}

fn standing(standing: Option<Standing>) -> &'static str {
    match standing {
        Some(Standing::Met) => " ✓",
        Some(Standing::Missed) => " ✗",
        None => "",
    }
}

/// "p50 1h 2m ▼ · p90 5h ▲ (target p90 ≤ 1h ✗)".
fn percentiles(
    now: &Percentiles,
    before: &Percentiles,
    p50_target: Option<Duration>,
    p90_target: Option<Duration>,
) -> String {
    let mut out = format!(
        "p50 {}{} · p90 {}{}",
        duration_or_dash(now.p50),
        arrow(now.p50, before.p50),
        duration_or_dash(now.p90),
        arrow(now.p90, before.p90)
    );
    let mut goals = Vec::new();
    if let Some(target) = p50_target {
        let met = targets::at_most(now.p50, targets::seconds(Some(target)));
        goals.push(format!("p50 ≤ {}{}", format_duration(target), standing(met)));
    }
    if let Some(target) = p90_target {
        let met = targets::at_most(now.p90, targets::seconds(Some(target)));
        goals.push(format!("p90 ≤ {}{}", format_duration(target), standing(met)));
    }
    if !goals.is_empty() {
        out.push_str(&format!(" (target {})", goals.join(", ")));
    }
    out.push_str(&format!(
        "; previous p50 {} · p90 {}",
        duration_or_dash(before.p50),
        duration_or_dash(before.p90)
    ));
    out
}

/// A rate with its arrow, target and previous value.
fn rate(now: Option<f64>, before: Option<f64>, target: Option<f64>, at_least: bool) -> String {
    let mut out = format!("{}{}", percent_or_dash(now), arrow(now, before));
    if let Some(goal) = target {
        let (sign, met) = if at_least {
            ("≥", targets::at_least(now, Some(goal)))
        } else {
            ("≤", targets::at_most(now, Some(goal)))
        };
        out.push_str(&format!(" (target {sign} {}{})", percent_or_dash(Some(goal)), standing(met)));
    }
    out.push_str(&format!("; previous {}", percent_or_dash(before)));
    out
}

fn count(now: i64, before: i64) -> String {
    format!(
        "{}{}; previous {}",
        thousands(now),
        arrow(Some(now as f64), Some(before as f64)),
        thousands(before)
    )
}

/// A window as local days: "Mon 23 Nov – Sun 29 Nov", or with times for windows that do
/// not start and end at midnight.
fn window_label(start: DateTime<Utc>, end: DateTime<Utc>, zone: Tz) -> String {
    let (start, end) = (start.with_timezone(&zone), end.with_timezone(&zone));
    let midnight = |t: &chrono::DateTime<Tz>| t.format("%H:%M").to_string() == "00:00";
    if midnight(&start) && midnight(&end) {
        let last = end - Duration::seconds(1);
        format!("{} – {}", start.format("%a %d %b"), last.format("%a %d %b"))
    } else {
        format!("{} – {}", start.format("%a %d %b %H:%M"), end.format("%a %d %b %H:%M"))
    }
}

/// The definitions line under every KPI digest.
pub fn kpi_footnote(name: &str) -> String {
    format!(
        "Definitions: time to acknowledge is opened → acknowledged (requests: accepted) of the \
         items acknowledged in the window; time to resolve is opened → resolved of the items \
         resolved in it; attainment is resolved within target ÷ (resolved + still open past a \
         deadline that fell in the window). `/digest explain {name}` for more."
    )
}

/// The KPI digest's body.
pub fn kpi_body(report: &KpiReport, zone: Tz, name: &str) -> String {
    let (c, p, t) = (&report.current, &report.previous, &report.targets);
    let mut out = format!(
        "Window {} (previous {})\n",
        window_label(report.start, report.end, zone),
        window_label(report.previous_start, report.start, zone)
    );
    let lines = [
        ("Opened", count(c.opened, p.opened)),
        ("Resolved", count(c.resolved, p.resolved)),
        (
            "Time to acknowledge",
            format!(
                "{} · {} opened in the window still unacknowledged",
                percentiles(&c.acknowledge, &p.acknowledge, t.tta_p50, t.tta_p90),
                thousands(c.unacknowledged)
            ),
        ),
        (
            "Time to resolve",
            format!(
                "{} · {} opened in the window still unresolved",
                percentiles(&c.resolve, &p.resolve, t.ttr_p50, t.ttr_p90),
                thousands(c.unresolved)
            ),
        ),
        (
            "SLA attainment",
            format!(
                "{} · {} met of {} resolved + {} open past due",
                rate(c.sla_attainment(), p.sla_attainment(), t.attainment, true),
                thousands(c.attainment.met),
                thousands(c.attainment.resolved),
                thousands(c.attainment.open_past_due)
            ),
        ),
        (
            "First-contact resolution",
            rate(
                c.first_contact_resolution,
                p.first_contact_resolution,
                t.first_contact_resolution,
                true,
            ),
        ),
        ("Reopen rate", rate(c.reopen_rate, p.reopen_rate, t.reopen_rate, false)),
    ];
    for (label, value) in lines {
        out.push_str(&format!("{label}: {value}\n"));
    }
    let b = &report.backlog;
    out.push_str(&format!(
        "Backlog at the window's end: {} open (<1d {} · 1–3d {} · 3–7d {} · >7d {})\n",
        thousands(b.total()),
        thousands(b.under_1d),
        thousands(b.from_1d_to_3d),
        thousands(b.from_3d_to_7d),
        thousands(b.over_7d)
    ));
    let o = &report.onboarding;
    out.push_str(&format!(
        "Time to onboard: p50 {} · p90 {} ({} activated) · step breaches {}\n",
        duration_or_dash(o.time_to_onboard.p50),
        duration_or_dash(o.time_to_onboard.p90),
        thousands(o.activated),
        thousands(o.step_breaches)
    ));
    out.push_str(&format!("Approvals pending: {}", thousands(report.approvals_pending)));
    if let Some(oldest) = report.oldest_pending {
        out.push_str(&format!(", oldest waiting {}", format_duration(report.end - oldest)));
    }
    out.push('\n');
    out.push_str(&format!("Credits granted: {}\n", credits(c)));
    if !report.by_approver.is_empty() {
        out.push_str(&format!(
            "Approved this month (since {}):\n",
            report.month_start.with_timezone(&zone).format("%d %b")
        ));
        for a in &report.by_approver {
            let authority = match a.monthly_limit {
                Some(limit) => format!(" of {} monthly authority", amount(limit, &a.currency)),
                None => " (no authority configured)".to_owned(),
            };
            out.push_str(&format!(
                "  • {}: {} · {}{authority}\n",
                a.approver,
                credits_of(a.count),
                amount(a.sum, &a.currency)
            ));
        }
    }
    if !report.by_severity.is_empty() {
        let severities: Vec<String> =
            report.by_severity.iter().map(|(s, n)| format!("{s} {}", thousands(*n))).collect();
        out.push_str(&format!("Escalations by severity: {}\n", severities.join(" · ")));
    }
    if !report.per_person.is_empty() {
        let people: Vec<String> = report
            .per_person
            .iter()
            .map(|(person, n)| format!("{person} {}", thousands(*n)))
            .collect();
        out.push_str(&format!("Resolved per person: {}\n", people.join(" · ")));
    }
    out.push_str(&kpi_footnote(name));
    out
}

fn credits(figures: &WindowFigures) -> String {
    if figures.credits.is_empty() {
        return "none".to_owned();
    }
    figures
        .credits
        .iter()
        .map(|c| format!("{} · {}", credits_of(c.count), amount(c.sum, &c.currency)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The chart's title and its text fallback (the console prints the fallback).
pub fn trend_title(days: usize) -> String {
    format!("Opened (blue) and resolved (green) per day, {days} whole days")
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

/// The standup digest's body, one section per team, within [`BODY_BUDGET`]: each team's
/// attention list gets an even share and ends with "and N more" when cut.
pub fn standup_body(report: &StandupReport, now: DateTime<Utc>) -> String {
    if report.teams.is_empty() {
        return "No teams to report on.".to_owned();
    }
    let share = BODY_BUDGET / report.teams.len();
    let mut out = String::new();
    for team in &report.teams {
        let mut section = format!("{}\n", team.team_name);
        section.push_str(&format!("Yesterday ({}):\n", report.day));
        if team.yesterday.is_empty() {
            section.push_str("  nothing opened or resolved\n");
        }
        for day in &team.yesterday {
            section.push_str(&format!(
                "  • {}: {} opened, {} resolved\n",
                day.person,
                thousands(day.opened),
                thousands(day.resolved)
            ));
        }
        let roster =
            if team.on_shift.is_empty() { "nobody".to_owned() } else { team.on_shift.join(", ") };
        section.push_str(&format!("On shift today: {roster}\n"));
        if team.attention.total == 0 {
            section.push_str("Needs attention: nothing\n\n");
            out.push_str(&section);
            continue;
        }
        section.push_str(&format!("Needs attention ({}):\n", thousands(team.attention.total)));
        section.push_str(&attention_lines(
            &team.attention,
            now,
            share.saturating_sub(section.len()),
        ));
        section.push('\n');
        out.push_str(&section);
    }
    out.trim_end().to_owned()
}

fn attention_lines(attention: &Capped<Attention>, now: DateTime<Utc>, budget: usize) -> String {
    // Room for the "and N more" line.
    let budget = budget.saturating_sub(24);
    let mut out = String::new();
    let mut shown = 0_i64;
    for item in &attention.items {
        let line = attention_line(item, now);
        if out.len() + line.len() > budget {
            break;
        }
        out.push_str(&line);
        shown += 1;
    }
    if shown < attention.total {
        out.push_str(&format!("  … and {} more\n", thousands(attention.total - shown)));
    }
    out
}

fn attention_line(item: &Attention, now: DateTime<Utc>) -> String {
    let who = item.person.as_deref().unwrap_or("unassigned");
    let what = format!("{} #{} ({})", kind_name(item.kind), item.id, item.label);
    match item.reason {
        // "breached 5m ago" / "25m left" say it: no "breached, breached".
        AttentionReason::Breached => format!("  • {who}: {what}, {}\n", left(item.due, now)),
        AttentionReason::AtRisk => {
            format!("  • {who}: {what}, at risk, {}\n", left(item.due, now))
        }
        AttentionReason::WaitingOnYou => {
            format!("  • {who}: {what}, waiting on you, {}\n", left(item.due, now))
        }
        AttentionReason::ActionDue => {
            format!("  • {who}: {what}, action item due, {}\n", left(item.due, now))
        }
        AttentionReason::ApprovalWaiting => {
            let approvers = if item.approvers.is_empty() {
                "nobody with the authority".to_owned()
            } else {
                item.approvers.join(", ")
            };
            let expiry = match item.due {
                Some(due) if due > now => format!("expires in {}", format_duration(due - now)),
                _ => "expiring".to_owned(),
            };
            format!("  • {what} waits on {approvers}, {expiry}\n")
        }
    }
}

/// `/digest explain <name>`: the window and every figure's definition, with the targets.
/// An incident action item's label in the standup: "action 2: Renew the certificate".
pub fn action_item_label(number: u32, text: &str) -> String {
    format!("action {number}: {text}")
}

pub fn explain(definition: &DigestDefinition) -> String {
    let window = match definition.window {
        WindowSpec::Days(1) => format!(
            "the day before the slot, local midnight to midnight in {}",
            definition.time_zone
        ),
        WindowSpec::Days(days) => format!(
            "the {days} local days ({}) before the slot's day, midnight to midnight",
            definition.time_zone
        ),
        WindowSpec::Week(starts) => format!(
            "the last whole week, {starts} 00:00 to {starts} 00:00 local time ({}), 167 or 169 \
             hours across a DST change",
            definition.time_zone
        ),
        WindowSpec::Fixed(length) => {
            format!("the {} before the slot", format_duration(length))
        }
    };
    let mut out = format!(
        "Digest `{}` ({}), schedule `{}` in {}.\n",
        definition.name,
        definition.kind.as_str(),
        definition.schedule_source,
        definition.time_zone
    );
    out.push_str(
        "Every figure is as of the slot: a replay (`steward digest run … --at`) shows what was \
         known then.\n",
    );
    out.push_str(
        "Items changed since are read as they stood then: their owner, their paused clocks, \
         resolutions a later reopen undid, onboarding steps done since (still open then) and \
         plans started since (absent).\n",
    );
    match definition.kind {
        DigestKind::Sla => out.push_str(
            "At risk: open at the slot, a running clock past its at-risk time but not its due \
             time. Breached: a running clock past its due time; \"new\" since the previous slot \
             of the schedule, older ones counted per team and by how long ago the deadline \
             passed. A clock paused at the slot (waiting on the customer) is neither. \
             Approvals: pending at the slot and waiting longer than the reminder delay. Counts \
             are totals; lists show the first lines.\n",
        ),
        DigestKind::Kpi => {
            out.push_str(&format!("Window: {window}; compared with the window before it.\n"));
            out.push_str(
                "Opened / resolved: items opened / resolved in the window.\n\
                 Time to acknowledge: opened → acknowledged (requests: accepted), p50 and p90, \
                 of the items acknowledged in the window, whenever opened; items opened in the \
                 window and not acknowledged by its end are counted as still unacknowledged.\n\
                 Time to resolve: opened → resolved of the items resolved in the window; those \
                 opened in it and not resolved by its end are counted as still unresolved.\n\
                 SLA attainment: resolved within the resolve target ÷ (resolved in the window + \
                 still open at its end with a resolve deadline that fell in it).\n\
                 First-contact resolution and reopen rate: of the requests resolved in the \
                 window, as they stood at its end (a resolution reopened since still counts).\n\
                 Approved this month: each approver's approvals from the 1st of the month to the \
                 window's end, against the monthly authority.\n",
            );
            out.push_str(&targets_line(&definition.targets));
        }
        DigestKind::Standup => out.push_str(
            "Yesterday: items opened (owned) and resolved per person, local midnight to \
             midnight. Needs attention: open items at risk, breached or waiting on their owner \
             at the slot, and pending approvals, each listed once with everyone it waits on.\n",
        ),
    }
    out.trim_end().to_owned()
}

fn targets_line(targets: &Targets) -> String {
    let mut parts = Vec::new();
    let duration = |label: &str, target: Option<Duration>, parts: &mut Vec<String>| {
        if let Some(target) = target {
            parts.push(format!("{label} ≤ {}", format_duration(target)));
        }
    };
    duration("TTA p50", targets.tta_p50, &mut parts);
    duration("TTA p90", targets.tta_p90, &mut parts);
    duration("TTR p50", targets.ttr_p50, &mut parts);
    duration("TTR p90", targets.ttr_p90, &mut parts);
    let rate = |label: &str, sign: &str, target: Option<f64>, parts: &mut Vec<String>| {
        if let Some(target) = target {
            parts.push(format!("{label} {sign} {}", percent_or_dash(Some(target))));
        }
    };
    rate("attainment", "≥", targets.attainment, &mut parts);
    rate("first-contact resolution", "≥", targets.first_contact_resolution, &mut parts);
    rate("reopen rate", "≤", targets.reopen_rate, &mut parts);
    if parts.is_empty() {
        "Targets: none configured.\n".to_owned()
    } else {
        format!(
            "Targets: {}. ✓ met, ✗ missed; ▲/▼ against the previous window.\n",
            parts.join(", ")
        )
    }
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

/// A manual run at an instant that is not a slot of the schedule.
pub fn run_not_a_slot(
    name: &str,
    at: DateTime<Utc>,
    zone: Tz,
    nearest: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> String {
    let slot = |at: Option<DateTime<Utc>>| match at {
        Some(at) => format!(
            "{} ({})",
            at.with_timezone(&zone).format("%a %d %b %Y %H:%M %Z"),
            at.to_rfc3339()
        ),
        None => "none within a year".to_owned(),
    };
    format!(
        "{} is not a slot of digest `{name}`: only a slot is posted (use --dry-run to preview \
         any time). Nearest slots: before {}, after {}.",
        at.with_timezone(&zone).format("%a %d %b %Y %H:%M %Z"),
        slot(nearest.0),
        slot(nearest.1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn numbers_and_amounts_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_063), "1,063");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(amount(Decimal::from_str("18765.97").unwrap(), "EUR"), "18,765.97 EUR");
        assert_eq!(amount(Decimal::from_str("250").unwrap(), "JPY"), "250 JPY");
        assert_eq!(amount(Decimal::from_str("-1000.50").unwrap(), "USD"), "-1,000.50 USD");
        assert_eq!(
            format!(
                "{} · {}",
                credits_of(57),
                amount(Decimal::from_str("18765.97").unwrap(), "EUR")
            ),
            "57 credits · 18,765.97 EUR"
        );
    }

    #[test]
    fn a_cut_list_says_how_many_it_shows_of_the_total() {
        let lines: Vec<String> =
            (0..50).map(|i| format!("  • line {i:02} of some length\n")).collect();
        let out = capped_section("At risk", &lines, 96, 300);
        assert!(out.starts_with("At risk (showing "), "{out}");
        let shown = out.lines().count() - 1;
        assert!(out.contains(&format!("showing {shown} of 96")), "{out}");
        assert!(out.len() <= 300 + 40, "{}", out.len());
        let whole = capped_section("At risk", &lines[..2], 2, 300);
        assert!(!whole.contains("showing"), "{whole}");
    }
}
