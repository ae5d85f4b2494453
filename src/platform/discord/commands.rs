//! Application commands mirroring every command in `domain::messages::COMMANDS`.
//!
//! The catalogue is derived from the usage lines: `/credit edit <id> …` becomes the
//! subcommand `edit` of `/credit`; a command that also has a bare form (`/credit <account>
//! …`) gets it as the subcommand `new`. Commands with a typed spec here get typed options
//! (choices for enumerations, autocomplete for accounts and people); any other command —
//! one added later — still registers, with one free-text option. Either way the options are
//! turned back into the argument text the domain parser understands.

use serde_json::{Value, json};

use crate::config::Settings;
use crate::domain::messages::{self, CommandHelp, credit, discord as text, escalation, request};
use crate::domain::severity::Severity;
use crate::domain::triage::Priority;

/// The subcommand name of a command's bare form when it also has subcommands.
pub const BARE_SUBCOMMAND: &str = "new";
/// The option of a command without a typed spec.
pub const FREE_TEXT_OPTION: &str = "text";
/// The option of a list's page number.
const PAGE_OPTION: &str = "page";
/// Discord shows at most 25 choices.
const MAX_CHOICES: usize = 25;

const STRING: u8 = 3;
const INTEGER: u8 = 4;
const SUB_COMMAND: u8 = 1;

/// What autocomplete suggests for an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Account,
    Person,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionSpec {
    pub name: &'static str,
    pub integer: bool,
    pub required: bool,
    pub choices: Vec<String>,
    pub autocomplete: Option<Lookup>,
}

/// One invocable form: `/name` or `/name sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    pub name: String,
    pub sub: Option<String>,
    /// The literal word the domain parser expects before the options (`edit`), if any.
    pub literal: Option<String>,
    pub description: String,
    pub options: Vec<OptionSpec>,
}

/// Every command as Discord knows it.
#[derive(Debug, Clone)]
pub struct Catalogue {
    specs: Vec<CommandSpec>,
}

fn option(name: &'static str, required: bool) -> OptionSpec {
    OptionSpec { name, integer: false, required, choices: Vec::new(), autocomplete: None }
}

fn integer(name: &'static str) -> OptionSpec {
    OptionSpec { integer: true, ..option(name, true) }
}

fn choice(name: &'static str, required: bool, choices: Vec<String>) -> OptionSpec {
    OptionSpec { choices, ..option(name, required) }
}

fn lookup(name: &'static str, required: bool, lookup: Lookup) -> OptionSpec {
    OptionSpec { autocomplete: Some(lookup), ..option(name, required) }
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

/// The typed options of the commands Steward has today, by usage line.
fn typed_options(help: &CommandHelp, settings: &Settings) -> Option<Vec<OptionSpec>> {
    let severities = Severity::ALL.iter().map(|s| s.as_str().to_owned()).collect();
    let priorities: Vec<String> = Priority::ALL.iter().map(|p| p.as_str().to_owned()).collect();
    let mut currencies: Vec<String> = settings
        .authority
        .roles
        .values()
        .chain(settings.authority.people.values())
        .flat_map(|limits| limits.keys().cloned())
        .collect();
    currencies.sort();
    currencies.dedup();
    let reasons = settings.credits.reason_codes.clone();
    let teams: Vec<String> = settings.teams.iter().map(|t| t.key.to_string()).collect();
    let types: Vec<String> = settings.requests.types.iter().map(|t| t.key.clone()).collect();
    let money = |with_id: bool| {
        let mut options = Vec::new();
        if with_id {
            options.push(integer("id"));
        } else {
            options.push(lookup("account", true, Lookup::Account));
        }
        options.push(option("amount", true));
        options.push(choice("currency", true, currencies.clone()));
        options.push(choice("reason", true, reasons.clone()));
        options.push(option("note", false));
        options
    };
    let usage = help.usage;
    Some(match usage {
        u if u == escalation::HELP_ESCALATE.usage => vec![
            lookup("account", true, Lookup::Account),
            choice("severity", true, severities),
            option("summary", true),
        ],
        u if u == escalation::HELP_ESCALATIONS.usage => vec![
            choice("scope", false, words(&["mine", "team", "all"])),
            choice("status", false, words(&["open", "at-risk", "breached"])),
            OptionSpec { required: false, ..integer(PAGE_OPTION) },
        ],
        u if u == escalation::HELP_SLA.usage || u == escalation::HELP_SHOW.usage => {
            vec![integer("id")]
        }
        u if u == credit::HELP_CREDIT.usage || u == credit::HELP_ADJUST.usage => money(false),
        u if u == credit::HELP_CREDIT_EDIT.usage => money(true),
        u if u == credit::HELP_CREDIT_CANCEL.usage || u == credit::HELP_CREDIT_SHOW.usage => {
            vec![integer("id")]
        }
        u if u == credit::HELP_CREDITS.usage => vec![
            choice("filter", false, words(&["pending", "mine", "account"])),
            lookup("account", false, Lookup::Account),
            OptionSpec { required: false, ..integer(PAGE_OPTION) },
        ],
        u if u == messages::policy::HELP_POLICY.usage => {
            vec![lookup("account", true, Lookup::Account), choice("severity", true, severities)]
        }
        u if u == messages::policy::HELP_POLICY_CREDIT.usage => vec![
            lookup("account", true, Lookup::Account),
            option("amount", true),
            choice("currency", true, currencies.clone()),
        ],
        u if u == credit::HELP_AUDIT.usage => vec![lookup("account", true, Lookup::Account)],
        u if u == messages::digest::HELP_DIGEST.usage => {
            vec![choice("name", true, settings.digests.iter().map(|d| d.name.clone()).collect())]
        }
        u if u == request::HELP_REQUEST.usage => vec![
            lookup("account", true, Lookup::Account),
            choice("type", true, types),
            option("summary", true),
            option("fields", false),
            choice("priority", false, priorities),
        ],
        u if u == request::HELP_SHOW.usage => vec![integer("id")],
        u if u == request::HELP_ASSIGN.usage => {
            vec![integer("request"), lookup("person", true, Lookup::Person)]
        }
        u if u == request::HELP_HANDOFF.usage => vec![lookup("person", true, Lookup::Person)],
        u if u == request::HELP_WORKLOAD.usage || u == request::HELP_BACKLOG.usage => {
            vec![choice("team", false, teams)]
        }
        // No placeholders: no options (`/steward whoami`).
        u if !u.contains('<') && !u.contains('[') => Vec::new(),
        _ => return None,
    })
}

/// `/credit edit <id>` → (`credit`, Some(`edit`)); `/credit <account>` → (`credit`, None);
/// `/policy explain credit <account>` → (`policy`, Some(`explain credit`)): every literal
/// word before the first placeholder, so two forms of one command never share a literal.
fn split_usage(usage: &str) -> (String, Option<String>) {
    let mut words = usage.trim_start_matches('/').split_whitespace();
    let name = words.next().unwrap_or_default().to_ascii_lowercase();
    let literal: Vec<&str> =
        words.take_while(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-')).collect();
    (name, (!literal.is_empty()).then(|| literal.join(" ")))
}

/// The subcommand name of a literal: `explain credit` → `explain-credit`.
fn subcommand_name(literal: &str) -> String {
    literal.replace(' ', "-")
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(max - 1).collect();
    clipped.push('…');
    clipped
}

impl Catalogue {
    pub fn new(settings: &Settings) -> Catalogue {
        Catalogue::from_commands(messages::COMMANDS, settings)
    }

    pub fn from_commands(commands: &[CommandHelp], settings: &Settings) -> Catalogue {
        let parsed: Vec<(String, Option<String>, &CommandHelp)> = commands
            .iter()
            .map(|help| {
                let (name, literal) = split_usage(help.usage);
                (name, literal, help)
            })
            .collect();
        let has_subcommands =
            |name: &str| parsed.iter().any(|(n, literal, _)| n == name && literal.is_some());
        let specs = parsed
            .iter()
            .map(|(name, literal, help)| {
                let options = typed_options(help, settings).unwrap_or_else(|| {
                    vec![OptionSpec { required: false, ..option(FREE_TEXT_OPTION, false) }]
                });
                let sub = match literal {
                    Some(literal) => Some(subcommand_name(literal)),
                    None if has_subcommands(name) => Some(BARE_SUBCOMMAND.to_owned()),
                    None => None,
                };
                CommandSpec {
                    name: name.clone(),
                    sub,
                    literal: literal.clone(),
                    description: clip(help.summary, 100),
                    options,
                }
            })
            .collect();
        Catalogue { specs }
    }

    pub fn specs(&self) -> &[CommandSpec] {
        &self.specs
    }

    pub fn find(&self, name: &str, sub: Option<&str>) -> Option<&CommandSpec> {
        self.specs.iter().find(|s| s.name == name && s.sub.as_deref() == sub)
    }

    /// The argument text for the domain parser from the options given, in the spec's order.
    pub fn args(&self, name: &str, sub: Option<&str>, given: &[(String, String)]) -> String {
        let value = |option: &str| {
            given.iter().find(|(n, _)| n == option).map(|(_, v)| v.trim().to_owned())
        };
        let mut parts: Vec<String> = Vec::new();
        match self.find(name, sub) {
            Some(spec) => {
                parts.extend(spec.literal.clone());
                // A page is said `page N` (`/escalations all page 2`).
                parts.extend(spec.options.iter().filter_map(|o| {
                    value(o.name)
                        .map(|v| if o.name == PAGE_OPTION { format!("page {v}") } else { v })
                }));
            }
            // Not ours (an old registration): pass the subcommand and values through.
            None => {
                parts.extend(sub.map(str::to_owned));
                parts.extend(given.iter().map(|(_, v)| v.trim().to_owned()));
            }
        }
        parts.retain(|p| !p.is_empty());
        parts.join(" ")
    }

    /// What autocomplete offers for `option` of `/name sub`.
    pub fn lookup(&self, name: &str, sub: Option<&str>, option: &str) -> Option<Lookup> {
        self.find(name, sub)?.options.iter().find(|o| o.name == option)?.autocomplete
    }

    /// The bulk-overwrite body: one Discord application command per command name.
    pub fn registration(&self) -> Value {
        // Each name once, in catalogue order. Discord refuses the whole bulk overwrite when a
        // name repeats, and forms of one command need not be adjacent in the catalogue
        // (`/adjust` sits between `/credit` and `/credit edit`).
        let mut names: Vec<&str> = Vec::new();
        for spec in &self.specs {
            if !names.contains(&spec.name.as_str()) {
                names.push(spec.name.as_str());
            }
        }
        let commands: Vec<Value> = names
            .into_iter()
            .map(|name| {
                let forms: Vec<&CommandSpec> =
                    self.specs.iter().filter(|s| s.name == name).collect();
                match forms.as_slice() {
                    [single] if single.sub.is_none() => json!({
                        "type": 1,
                        "name": name,
                        "description": single.description,
                        "options": single.options.iter().map(option_json).collect::<Vec<_>>(),
                    }),
                    _ => json!({
                        "type": 1,
                        "name": name,
                        "description": clip(&format!("/{name} …"), 100),
                        "options": forms.iter().map(|form| json!({
                            "type": SUB_COMMAND,
                            "name": form.sub.clone().unwrap_or_default(),
                            "description": form.description,
                            "options": form.options.iter().map(option_json).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                    }),
                }
            })
            .collect();
        Value::Array(commands)
    }
}

fn option_json(option: &OptionSpec) -> Value {
    let mut value = json!({
        "type": if option.integer { INTEGER } else { STRING },
        "name": option.name,
        "description": text::option_description(option.name),
        "required": option.required,
    });
    if option.integer {
        value["min_value"] = json!(1);
    }
    if !option.choices.is_empty() && option.choices.len() <= MAX_CHOICES {
        value["choices"] = option
            .choices
            .iter()
            .map(|c| json!({ "name": c, "value": c }))
            .collect::<Vec<_>>()
            .into();
    }
    if option.autocomplete.is_some() {
        value["autocomplete"] = json!(true);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::new(&Settings::default())
    }

    fn given(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_catalogue_command_is_registered() {
        let catalogue = catalogue();
        assert_eq!(catalogue.specs().len(), messages::COMMANDS.len());
        let registered = catalogue.registration();
        for help in messages::COMMANDS {
            let (name, _) = split_usage(help.usage);
            assert!(
                registered.as_array().unwrap().iter().any(|c| c["name"] == name.as_str()),
                "{name} missing"
            );
        }
    }

    #[test]
    fn options_become_the_text_the_parser_understands() {
        let catalogue = catalogue();
        let args = catalogue.args(
            "escalate",
            None,
            &given(&[("summary", "Checkout down"), ("account", "ACME-1"), ("severity", "sev2")]),
        );
        assert_eq!(args, "ACME-1 sev2 Checkout down");
        let edit = catalogue.args(
            "credit",
            Some("edit"),
            &given(&[("id", "4"), ("amount", "10"), ("currency", "EUR"), ("reason", "promo")]),
        );
        assert_eq!(edit, "edit 4 10 EUR promo");
        assert_eq!(catalogue.args("steward", Some("whoami"), &[]), "whoami");
        assert!(crate::domain::command::parse("escalate", &args).is_ok());
        let listed =
            catalogue.args("escalations", None, &given(&[("scope", "all"), ("page", "2")]));
        assert_eq!(listed, "all page 2");
        let credit = catalogue.args(
            "policy",
            Some("explain-credit"),
            &given(&[("account", "ACME-1"), ("amount", "800"), ("currency", "USD")]),
        );
        assert_eq!(credit, "explain credit ACME-1 800 USD");
        assert!(crate::domain::command::parse("policy", &credit).is_ok());
        let paging = catalogue.args(
            "policy",
            Some("explain"),
            &given(&[("account", "ACME-1"), ("severity", "sev1")]),
        );
        assert!(crate::domain::command::parse("policy", &paging).is_ok());
    }

    #[test]
    fn commands_without_a_typed_spec_get_one_free_text_option() {
        let extra = [CommandHelp { usage: "/standup <team> [when]", summary: "Later command." }];
        let catalogue = Catalogue::from_commands(&extra, &Settings::default());
        let spec = catalogue.find("standup", None).unwrap();
        assert_eq!(spec.options.len(), 1);
        assert_eq!(spec.options[0].name, FREE_TEXT_OPTION);
        let args = catalogue.args("standup", None, &given(&[("text", "emea tomorrow")]));
        assert_eq!(args, "emea tomorrow");
    }

    #[test]
    fn severity_has_choices_and_accounts_autocomplete() {
        let registered = catalogue().registration();
        let escalate =
            registered.as_array().unwrap().iter().find(|c| c["name"] == "escalate").unwrap();
        assert_eq!(escalate["options"][0]["autocomplete"], true);
        assert_eq!(escalate["options"][1]["choices"].as_array().unwrap().len(), 4);
        assert_eq!(catalogue().lookup("assign", None, "person"), Some(Lookup::Person));
    }

    #[test]
    fn digest_takes_a_required_name_from_the_configured_digests() {
        let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml");
        let settings = crate::config::load(Some(std::path::Path::new(demo)), Vec::new()).unwrap();
        let registered = Catalogue::new(&settings).registration();
        let digest = registered.as_array().unwrap().iter().find(|c| c["name"] == "digest").unwrap();
        // `/digest explain` is a subcommand too, so the bare form is `/digest new`.
        let bare = digest["options"].as_array().unwrap().iter().find(|o| o["name"] == "new");
        let option = &bare.expect("the bare form")["options"][0];
        assert_eq!(
            (option["name"].as_str(), option["required"].as_bool()),
            (Some("name"), Some(true))
        );
        let choices: Vec<&str> = option["choices"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["value"].as_str())
            .collect();
        let configured: Vec<&str> = settings.digests.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(choices, configured);
        assert!(!configured.is_empty());
    }
}
