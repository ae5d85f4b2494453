//! Words the Slack adapter shows on its own (modal chrome, the app manifest).

/// Submit button of a prompt modal.
pub const MODAL_SUBMIT: &str = "Submit";
/// Close button of a prompt modal.
pub const MODAL_CANCEL: &str = "Cancel";
/// The app's name and description in the manifest.
pub const APP_NAME: &str = "Steward";
pub const APP_DESCRIPTION: &str =
    "Escalations, request intake and credit approvals for account-operations teams.";
/// Shown in the acknowledgement when Steward could not open a modal in time.
pub fn modal_failed() -> String {
    "Slack did not open the form in time. Please click the button again.".to_owned()
}
