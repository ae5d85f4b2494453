//! Words the Slack adapter shows on its own (modal chrome, the app manifest).

/// Submit button of a prompt modal.
pub const MODAL_SUBMIT: &str = "Submit";
/// Close button of a prompt modal.
pub const MODAL_CANCEL: &str = "Cancel";
/// The app's name and description in the manifest.
pub const APP_NAME: &str = "Steward";
pub const APP_DESCRIPTION: &str =
    "Escalations, request intake and credit approvals for account-operations teams.";
/// Shown in the acknowledgement when the click's trigger expired before the modal opened.
pub fn modal_failed() -> String {
    "Slack did not open the form in time. Please click the button again.".to_owned()
}

/// Shown when Slack refused the modal or its answer could not be read: not a matter of time.
pub fn modal_refused() -> String {
    "Steward could not open the form. Please try again; if it keeps failing, your Steward admin \
     will find the cause in the log (`views.open failed`)."
        .to_owned()
}

/// Under a card whose body or fields did not all fit in one Slack message.
pub fn showing(shown: usize, total: usize, what: &str) -> String {
    format!(
        "Showing {shown} of {total} {what}. Narrow the command (a filter, a team) to see the rest."
    )
}

/// The placeholder of a menu whose options load while the person types (people lists over
/// Slack's 100 options).
pub const SELECT_PLACEHOLDER: &str = "Type a name or key";

/// `steward slack manifest` with the request URLs still on the example host.
pub fn example_public_url(url: &str) -> String {
    format!(
        "slack.public_url is still the example `{url}`: Slack would send commands and clicks \
         there. Set it (or STEWARD__SLACK__PUBLIC_URL) to this server's public https URL."
    )
}

/// The page Slack's OAuth callback lands on after a successful install.
pub fn installed(team_name: &str) -> String {
    format!(
        "Steward is installed in {team_name}. Invite it to private channels with /invite @Steward."
    )
}

/// The page of an install link that is forged or too old.
pub const INSTALL_LINK_INVALID: &str =
    "This install link is invalid or has expired. Start again from /slack/install.";

/// The page when Slack did not hand over the installation.
pub const INSTALL_FAILED: &str = "Slack did not complete the installation. Try again.";
