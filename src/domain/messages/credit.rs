//! Words for credits and adjustments, and for the audit trail: usage, the approval card,
//! refusals, thread lines, direct messages, lists and the audit commands.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::item::opened_field;
pub use super::item::{missing_account, unknown_account};
use super::local_time;
use crate::domain::audit::{AuditRecord, ChainBreak};
use crate::domain::audit_verify::VerifyReport;
use crate::domain::credit::{
    Credit, CreditAction, CreditKind, CreditState, Decision, RecentCredit, Refusal, Verdict,
};
use crate::domain::identity::{Directory, Role};
use crate::domain::ids::PersonKey;
use crate::domain::item::LivingItem;
use crate::domain::money::{Currency, MAX_MAGNITUDE, MoneyError};
use crate::domain::reply::{Button, ButtonStyle, Card, Field, Prompt};

crate::command_help! {
    HELP_CREDIT: "/credit <account> <amount> <currency> <reason-code> [note]"
        => "Request a goodwill credit; it goes to the approvers within their authority.";
    HELP_ADJUST: "/adjust <account> <amount> <currency> <reason-code> [note]"
        => "Request a balance adjustment (may be negative); approved like a credit.";
    HELP_CREDIT_EDIT: "/credit edit <id> <amount> <currency> <reason-code> [note]"
        => "Change your pending request: earlier approvals are voided, the chain restarts.";
    HELP_CREDIT_CANCEL: "/credit cancel <id>"
        => "Withdraw your pending request.";
    HELP_CREDIT_SHOW: "/credit show <id>"
        => "Show a request's card and its chain.";
    HELP_CREDITS: "/credits [pending|mine|account <key>] [page N]"
        => "List credit and adjustment requests (default: pending, soonest to expire first; others newest first).";
    HELP_AUDIT: "/audit <account>"
        => "An account's audit history: credits and escalations (auditors, admins, supervisors, finance).";
}

pub fn missing_amount() -> String {
    "Give an amount and a currency, e.g. 250.00 USD.".to_owned()
}

pub fn missing_reason() -> String {
    "Give a reason code, e.g. goodwill.".to_owned()
}

pub fn missing_credit_id() -> String {
    "Name the request by the number shown on its card, e.g. 42.".to_owned()
}

pub fn invalid_credit_id(raw: &str) -> String {
    format!("`{raw}` is not a request id; use the number shown on the card, e.g. 42.")
}

pub fn invalid_list_filter(raw: &str) -> String {
    format!("`{raw}` is not a filter: use pending, mine or account <key>.")
}

pub fn money_error(err: &MoneyError) -> String {
    match err {
        MoneyError::NotANumber(raw) => {
            format!("`{raw}` is not an amount: write digits with an optional point, e.g. 250.00.")
        }
        MoneyError::UnknownCurrency(raw) => {
            format!(
                "`{raw}` is not a currency Steward knows; use an ISO 4217 code such as USD, EUR, GBP or JPY."
            )
        }
        MoneyError::Zero => "The amount must be more than zero.".to_owned(),
        MoneyError::Negative => {
            "A credit cannot be negative; use /adjust for a negative adjustment.".to_owned()
        }
        MoneyError::TooManyDecimals { currency, minor_units: 0 } => {
            format!("{currency} has no minor unit: use a whole amount.")
        }
        MoneyError::TooManyDecimals { currency, minor_units } => {
            format!("{currency} has {minor_units} decimal places at most.")
        }
        MoneyError::TooLarge => format!(
            "That amount is too large: at most {} in any currency.",
            group_thousands(MAX_MAGNITUDE)
        ),
    }
}

fn group_thousands(value: Decimal) -> String {
    super::group_digits(&value.trunc().to_string())
}

pub fn unknown_reason(raw: &str, known: &[String]) -> String {
    format!("`{raw}` is not a reason code. Use one of: {}.", known.join(", "))
}

pub fn unknown_credit(id: i64) -> String {
    format!("There is no credit or adjustment request #{id}.")
}

pub fn no_authority_in(currency: &Currency, approvable: &[Currency]) -> String {
    let codes: Vec<&str> = approvable.iter().map(|c| c.code()).collect();
    match codes.as_slice() {
        [] => format!(
            "Nobody can approve a credit in {currency}: no approver holds authority. Ask an admin \
             to configure [authority]."
        ),
        _ => format!(
            "Nobody can approve a credit in {currency}: no approver holds authority in it. \
             Credits can be approved in {}.",
            codes.join(", ")
        ),
    }
}

pub fn no_chain() -> String {
    "No approval chain applies to this amount; ask an admin to configure [[credits.chain]]."
        .to_owned()
}

fn kind_word(kind: CreditKind) -> &'static str {
    match kind {
        CreditKind::Credit => "Credit",
        CreditKind::Adjustment => "Adjustment",
    }
}

fn amount(c: &Credit) -> String {
    c.payload.currency.format(c.payload.amount)
}

fn name(directory: &Directory, key: &PersonKey) -> String {
    directory.person(key).map(|p| p.display_name.clone()).unwrap_or_else(|| key.to_string())
}

fn actor_name(directory: &Directory, raw: &str) -> String {
    PersonKey::parse(raw).ok().map(|k| name(directory, &k)).unwrap_or_else(|| "Steward".into())
}

fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ")
}

pub fn requested(c: &Credit) -> String {
    format!(
        "{} #{} requested: {} for {} ({}). The approval card is in #{}.",
        kind_word(c.kind),
        c.id,
        amount(c),
        c.account,
        c.payload.reason,
        c.living.channel
    )
}

pub fn edited(c: &Credit) -> String {
    format!(
        "{} #{} changed to {} ({}): earlier approvals are void and the chain starts again.",
        kind_word(c.kind),
        c.id,
        amount(c),
        c.payload.reason
    )
}

pub fn cancelled(c: &Credit) -> String {
    format!("{} #{} cancelled.", kind_word(c.kind), c.id)
}

pub fn done(action: &CreditAction, c: &Credit) -> String {
    let what = match (action, c.state) {
        (CreditAction::Approve, CreditState::Approved) => "approved".to_owned(),
        (CreditAction::Approve, _) => {
            format!("approved at your level; it now waits for level {}", c.current_level() + 1)
        }
        (CreditAction::Reject { .. }, _) => "rejected".to_owned(),
        (CreditAction::AskInfo { .. }, _) => "— your question was sent to the requester".to_owned(),
    };
    format!("{} #{} {what}.", kind_word(c.kind), c.id)
}

pub fn stale_card(c: &Credit, directory: &Directory, zone: Tz) -> String {
    let latest = c.decisions.last().or(c.voided.last());
    match latest {
        Some(d) => format!(
            "{} #{} changed since you looked: level {} was {} by {} at {}. Here is the current card.",
            kind_word(c.kind),
            c.id,
            d.level + 1,
            verdict_word(d.verdict),
            name(directory, &d.by),
            local_time(d.at, zone)
        ),
        None => format!(
            "{} #{} changed since you looked; here is the current card.",
            kind_word(c.kind),
            c.id
        ),
    }
}

fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Approve => "approved",
        Verdict::Reject => "rejected",
    }
}

pub fn refusal(refusal: &Refusal, directory: &Directory, zone: Tz) -> String {
    match refusal {
        Refusal::Closed {
            state: CreditState::Approved | CreditState::Rejected,
            last: Some(d),
            ..
        } => {
            format!(
                "Already {} by {} at {}.",
                verdict_word(d.verdict),
                name(directory, &d.by),
                local_time(d.at, zone)
            )
        }
        Refusal::Closed { state, closed: Some(closure), .. } => format!(
            "This request is {} ({} at {}); nothing more can be decided.",
            state.as_str(),
            actor_name(directory, &closure.by),
            local_time(closure.at, zone)
        ),
        Refusal::Closed { state, .. } => format!("This request is {}.", state.as_str()),
        Refusal::OwnRequest => "You can't decide your own request (four eyes).".to_owned(),
        Refusal::AlreadyDecided { level } => format!(
            "You already decided level {} of this chain; another person must decide this level.",
            level + 1
        ),
        Refusal::Role { level, roles } => format!(
            "Level {} needs a {}; it stays for someone who holds that role.",
            level + 1,
            roles_text(roles)
        ),
        Refusal::NoAuthority { currency } => {
            format!("You have no approval authority in {currency}; it stays for another approver.")
        }
        Refusal::PerRequest { limit, currency } => format!(
            "This is above your per-request limit of {}; it stays for another approver.",
            currency.format(*limit)
        ),
        Refusal::Monthly { used, limit, currency } => format!(
            "This would exceed your monthly limit: {} approved this month of {}; it stays for another approver.",
            currency.format(*used),
            currency.format(*limit)
        ),
        Refusal::ReasonRequired => "Rejecting needs a reason.".to_owned(),
        Refusal::QuestionRequired => "Type the question for the requester.".to_owned(),
        Refusal::NotRequester => "Only the requester can change or cancel this request.".to_owned(),
    }
}

pub fn audit_forbidden() -> String {
    "the audit history is for auditors, admins, supervisors and finance.".to_owned()
}

fn state_text(c: &Credit, directory: &Directory, zone: Tz) -> String {
    match c.state {
        CreditState::Pending => match c.level() {
            Some(level) => format!(
                "Pending: level {} of {} ({})",
                c.current_level() + 1,
                c.chain.len(),
                roles_text(&level.roles)
            ),
            None => "Pending".to_owned(),
        },
        CreditState::Approved => "Approved".to_owned(),
        CreditState::Rejected => match c.decisions.last() {
            Some(d) => format!(
                "Rejected by {}: {}",
                name(directory, &d.by),
                d.reason.as_deref().unwrap_or_default()
            ),
            None => "Rejected".to_owned(),
        },
        CreditState::Expired => "Expired without a decision".to_owned(),
        CreditState::Cancelled => match &c.closed {
            Some(closure) => format!(
                "Cancelled by {} at {}",
                actor_name(directory, &closure.by),
                local_time(closure.at, zone)
            ),
            None => "Cancelled".to_owned(),
        },
    }
}

fn decision_text(d: &Decision, directory: &Directory, zone: Tz) -> String {
    let mut out = format!(
        "{} by {} at {}",
        verdict_word(d.verdict),
        name(directory, &d.by),
        local_time(d.at, zone)
    );
    if let Some(reason) = &d.reason {
        out.push_str(&format!(": {reason}"));
    }
    out
}

fn chain_text(c: &Credit, directory: &Directory, zone: Tz) -> String {
    c.chain
        .iter()
        .enumerate()
        .map(|(index, level)| {
            let status = match c.decisions.iter().find(|d| d.level == index) {
                Some(d) => decision_text(d, directory, zone),
                None if c.state == CreditState::Pending && index == c.current_level() => {
                    "waiting".to_owned()
                }
                None => "—".to_owned(),
            };
            let authority = if level.authority { ", within authority" } else { ", review" };
            format!("{}. {}{authority}: {status}", index + 1, roles_text(&level.roles))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line about another request of the same account (the card's recent credits).
pub fn recent_line(c: &RecentCredit, zone: Tz) -> String {
    format!(
        "#{} {} {} · {} · {}",
        c.id,
        c.currency.format(c.amount),
        c.reason,
        c.state.as_str(),
        c.requested_at.with_timezone(&zone).format("%d %b %Y")
    )
}

/// The living approval card, times in `zone` (the team's); `recent` are the account's other
/// requests of the last `recent_days` days.
pub fn card(
    c: &Credit,
    recent: &[RecentCredit],
    recent_days: u32,
    directory: &Directory,
    zone: Tz,
) -> Card {
    let account = directory
        .account(&c.account)
        .map(|a| format!("{} ({}, {})", a.key, a.name, a.tier))
        .unwrap_or_else(|| c.account.to_string());
    let reason = match &c.payload.note {
        Some(note) => format!("{} — {note}", c.payload.reason),
        None => c.payload.reason.clone(),
    };
    let mut fields = vec![
        Field::new("Account", account),
        Field::new("Amount", amount(c)),
        Field::new("Reason", reason),
        opened_field("Requested", name(directory, &c.requested_by), c.requested_at, zone),
        Field::new("State", state_text(c, directory, zone)),
        Field::new("Approval chain", chain_text(c, directory, zone)),
    ];
    if !c.voided.is_empty() {
        let voided: Vec<String> =
            c.voided.iter().map(|d| decision_text(d, directory, zone)).collect();
        fields.push(Field::new("Voided by an edit", voided.join("\n")));
    }
    let recent_text = if recent.is_empty() {
        "none".to_owned()
    } else {
        recent.iter().map(|r| recent_line(r, zone)).collect::<Vec<_>>().join("\n")
    };
    fields.push(Field::new(format!("Recent credits ({recent_days} days)"), recent_text));
    if c.state == CreditState::Pending {
        fields.push(Field::new("Expires", local_time(c.expires_at, zone)));
    }
    Card {
        living_key: Some(c.card_key()),
        title: format!("{} #{} · {} · {}", kind_word(c.kind), c.id, amount(c), c.account),
        fields,
        body: None,
        context: vec![format!(
            "payload sha256 {} · version {}",
            &c.payload_hash[..12.min(c.payload_hash.len())],
            c.version
        )],
        buttons: buttons(c),
    }
}

/// The decision buttons of a pending request (its card, and `/mine`).
pub fn buttons(c: &Credit) -> Vec<Button> {
    if c.state != CreditState::Pending {
        return Vec::new();
    }
    let button = |label: &str, verb: &str, style| Button {
        label: label.to_owned(),
        action: c.action_id(verb),
        style,
        confirm: None,
        prompt: None,
    };
    vec![
        button("Approve", "approve", ButtonStyle::Primary),
        Button {
            prompt: Some(Prompt {
                title: "Reject".into(),
                label: "reason for rejecting".into(),
                required: true,
                choices: Vec::new(),
            }),
            ..button("Reject", "reject", ButtonStyle::Danger)
        },
        Button {
            prompt: Some(Prompt {
                title: "Ask for info".into(),
                label: "question for the requester".into(),
                required: true,
                choices: Vec::new(),
            }),
            ..button("Ask for info", "ask", ButtonStyle::Default)
        },
    ]
}

/// A line in the card's thread recording a decision.
pub fn decision_line(action: &CreditAction, actor: &str, c: &Credit) -> String {
    match action {
        CreditAction::Approve if c.state == CreditState::Approved => {
            format!("{actor} approved {}: approved.", amount(c))
        }
        CreditAction::Approve => format!(
            "{actor} approved level {} of {}; waiting for level {}.",
            c.current_level(),
            c.chain.len(),
            c.current_level() + 1
        ),
        CreditAction::Reject { reason } => format!("{actor} rejected it: {reason}"),
        CreditAction::AskInfo { question } => format!("{actor} asked the requester: {question}"),
    }
}

pub fn edited_line(actor: &str, c: &Credit, voided: usize) -> String {
    format!(
        "{actor} changed the request to {} ({}); {} voided, the chain starts again.",
        amount(c),
        c.payload.reason,
        match voided {
            1 => "1 earlier approval".to_owned(),
            n => format!("{n} earlier approvals"),
        }
    )
}

pub fn cancelled_line(actor: &str) -> String {
    format!("{actor} cancelled the request.")
}

pub fn reminder_line() -> String {
    "Still waiting for a decision; the approvers were reminded.".to_owned()
}

pub fn expired_line() -> String {
    "Expired: no decision in time.".to_owned()
}

/// The DM to the approvers of the current level.
pub fn approval_needed(c: &Credit, requester: &str, reminder: bool) -> String {
    let lead =
        if reminder { "Reminder: your decision is needed" } else { "Your decision is needed" };
    format!(
        "{lead} on {} #{} · {} for {} ({}) requested by {requester}, level {} of {}. Decide on its card.",
        kind_word(c.kind).to_lowercase(),
        c.id,
        amount(c),
        c.account,
        c.payload.reason,
        c.current_level() + 1,
        c.chain.len()
    )
}

/// The DM telling the requester about a decision, question, or expiry.
pub fn requester_update(c: &Credit, line: &str) -> String {
    format!("{} #{} ({} for {}): {line}", kind_word(c.kind), c.id, amount(c), c.account)
}

/// `listed` is how many are shown of how many (`item::listed`).
pub fn list_title(filter: &str, listed: &str) -> String {
    format!("Credit and adjustment requests ({filter}): {listed}")
}

/// The list's command without its page, for "Next: …".
pub fn list_command(filter: &str) -> String {
    format!("/credits {filter}")
}

pub fn empty_list() -> String {
    "No requests match.".to_owned()
}

pub fn list_line(c: &Credit, directory: &Directory) -> String {
    format!(
        "#{} {} {} {} · {} · {} · by {}",
        c.id,
        kind_word(c.kind).to_lowercase(),
        c.account,
        amount(c),
        c.payload.reason,
        c.state.as_str(),
        name(directory, &c.requested_by)
    )
}

/// `/audit <account>`: one line per audit record.
pub fn audit_line(r: &AuditRecord, directory: &Directory, zone: Tz) -> String {
    format!(
        "{} · {} #{} · {} · {}",
        local_time(r.entry.at, zone),
        r.entry.subject,
        r.subject_seq,
        actor_name(directory, &r.entry.actor),
        r.entry.action
    )
}

pub fn audit_title(account: &str, count: usize) -> String {
    format!("Audit history of {account}: {count} records")
}

pub fn audit_empty() -> String {
    "No audit records for this account.".to_owned()
}

/// `steward audit verify`: the summary printed at the end.
pub fn verify_summary(report: &VerifyReport) -> String {
    let checkpoints = match report.checkpoints {
        0 => String::new(),
        1 => " and 1 checkpoint".to_owned(),
        n => format!(" and {n} checkpoints"),
    };
    let checkpoints = match report.kept_checkpoints {
        0 => checkpoints,
        n => format!("{checkpoints} ({n} compared with copies kept outside)"),
    };
    let mut out = format!(
        "Checked {} records in {} chains against {} recorded heads{checkpoints}: ",
        report.records, report.subjects, report.heads
    );
    if report.intact() {
        out.push_str("intact.");
    } else {
        let broken = super::count_of(report.breaks.len(), "chain", "chains");
        out.push_str(&format!("{broken} broken."));
        for ChainBreak { subject, subject_seq, problem } in &report.breaks {
            out.push_str(&format!("\n  {subject} record {subject_seq}: {problem}"));
        }
    }
    if let Some(last) = &report.last_checkpoint {
        let at = last.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        out.push_str(&format!("\nLast checkpoint: #{} at {at}, hash {}", last.seq, last.hash));
    }
    out
}

/// `steward audit checkpoint`: what was sealed.
pub fn checkpoint_sealed(seq: i64, entries: usize, hash: &str) -> String {
    let heads =
        if entries == 1 { "1 chain head".to_owned() } else { format!("{entries} chain heads") };
    format!("Sealed checkpoint #{seq}: {heads}, hash {hash}.")
}

/// `steward audit checkpoint` when no chain moved since the previous checkpoint.
pub fn checkpoint_unchanged() -> String {
    "No audit chain moved since the last checkpoint: nothing to seal.".to_owned()
}

/// `steward audit export`: a bad date range.
pub fn export_range_problem(from: &str, to: &str) -> String {
    format!("--from {from} must not be after --to {to}")
}

pub fn bad_date(raw: &str) -> String {
    format!("`{raw}` is not a date: use YYYY-MM-DD")
}

/// The approver's time of decision in their own zone (for `check_authority` reports).
pub fn at_local(at: DateTime<Utc>, zone: Tz) -> String {
    local_time(at, zone)
}

/// `steward db roles`: what was done for the app role.
pub fn app_role_granted(role: &str, created: bool) -> String {
    let what = if created { "created" } else { "already existed" };
    format!(
        "Role `{role}` {what}; granted SELECT/INSERT/UPDATE/DELETE on Steward's tables, only \
         SELECT/INSERT on audit_log and the checkpoint tables, and no ownership."
    )
}
