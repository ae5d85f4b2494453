//! Wording specific to the Discord adapter: option descriptions of the application
//! commands, the confirmation step (Discord has no confirm dialog) and modal fallbacks.

/// Description of an application-command option, by option name.
pub fn option_description(option: &str) -> &'static str {
    match option {
        "account" => "Account key, e.g. ACME-1042",
        "severity" => "How bad it is: sev1 (worst) to sev4",
        "summary" => "What happened, in one line",
        "scope" => "Whose items: mine, my team's, or all",
        "status" => "Which items by SLA standing",
        "id" => "The item's number",
        "amount" => "Amount, e.g. 250.00",
        "currency" => "ISO currency code",
        "reason" => "Reason code",
        "note" => "Optional note for the approvers",
        "filter" => "Which requests to list",
        "type" => "Request type",
        "fields" => "Extra fields as field=value, separated by spaces",
        "priority" => "Priority (default: from the triage rules)",
        "request" => "The request's number",
        "person" => "Person (start typing a name or key)",
        "team" => "Team (default: yours)",
        _ => "Arguments, as in /steward help",
    }
}

/// The private question shown before a destructive click is sent.
pub fn confirm_question(title: &str, text: &str) -> String {
    format!("**{title}**\n{text}")
}

pub fn cancelled() -> String {
    super::console_cancelled()
}

/// Title of a text modal whose button's prompt could not be found any more.
pub fn prompt_fallback_title() -> String {
    "Add a note".to_owned()
}

pub fn prompt_fallback_label() -> String {
    "Text".to_owned()
}

/// A component or modal Steward did not render (an old message, or a forged custom id).
pub fn unknown_component() -> String {
    "That control is not Steward's, or it is too old. Run the command again.".to_owned()
}

/// An interaction type Steward does not handle.
pub fn unsupported_interaction() -> String {
    "Steward cannot handle that kind of interaction.".to_owned()
}

/// The answer to a command option that is not a Steward command.
pub fn unknown_command(name: &str) -> String {
    super::unknown_command(name)
}

/// Name of the thread that holds an item's history, started from its card.
pub fn thread_name(living_key: &str) -> String {
    format!("History of {living_key}")
}

/// Under an embed whose description or fields did not all fit in one Discord message.
pub fn showing(shown: usize, total: usize, what: &str) -> String {
    format!(
        "Showing {shown} of {total} {what}. Narrow the command (a filter, a team) to see the rest."
    )
}

/// The label of a prompt whose choices were too many for a menu (45 characters at most).
pub fn typed_choice_label(label: &str) -> String {
    format!("{label} (their key)")
}
