//! The platforms' documented limits as checks over the JSON Steward sends (DESIGN.md §12).
//!
//! The fakes refuse what these checks reject, the way Slack answers `invalid_blocks` and
//! Discord `50035 Invalid Form Body`: a fake that accepts what the platform refuses proves
//! nothing. Each check returns every problem it finds, described with a JSON path, so a
//! failing test says which limit broke where.

use std::collections::HashSet;

use serde_json::Value;

fn chars(value: &Value) -> usize {
    value.as_str().map(|s| s.chars().count()).unwrap_or(0)
}

fn items(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn at_most(problems: &mut Vec<String>, path: &str, value: &Value, max: usize) {
    let n = chars(value);
    if n > max {
        problems.push(format!("{path}: {n} characters (limit {max})"));
    }
}

fn between(problems: &mut Vec<String>, path: &str, value: &Value, min: usize, max: usize) {
    let n = chars(value);
    if n < min || n > max {
        problems.push(format!("{path}: {n} characters (must be {min}–{max})"));
    }
}

fn count_at_most(problems: &mut Vec<String>, path: &str, value: &Value, max: usize) {
    let n = items(value).len();
    if n > max {
        problems.push(format!("{path}: {n} items (limit {max})"));
    }
}

// ---------------------------------------------------------------- Discord commands

/// Discord's name rule `^[-_\p{L}\p{N}]{1,32}$`, lowercase where the script has case.
fn command_name(problems: &mut Vec<String>, path: &str, name: &Value) {
    let Some(name) = name.as_str() else {
        problems.push(format!("{path}: no name"));
        return;
    };
    let count = name.chars().count();
    let allowed = name.chars().all(|c| c == '-' || c == '_' || c.is_alphabetic() || c.is_numeric());
    if !(1..=32).contains(&count) || !allowed {
        problems
            .push(format!("{path}: name {name:?} does not match ^[-_\\p{{L}}\\p{{N}}]{{1,32}}$"));
    }
    if name.to_lowercase() != name {
        problems.push(format!("{path}: name {name:?} is not lowercase"));
    }
}

fn unique_names(problems: &mut Vec<String>, path: &str, list: &Value) {
    let mut seen = HashSet::new();
    for item in items(list) {
        let name = item["name"].as_str().unwrap_or_default();
        if !seen.insert(name.to_owned()) {
            problems.push(format!("{path}: duplicate name {name:?}"));
        }
    }
}

fn command_options(problems: &mut Vec<String>, path: &str, options: &Value) {
    count_at_most(problems, &format!("{path}.options"), options, 25);
    unique_names(problems, &format!("{path}.options"), options);
    let mut optional_seen = false;
    for (i, option) in items(options).iter().enumerate() {
        let here = format!("{path}.options[{i}]");
        command_name(problems, &here, &option["name"]);
        between(problems, &format!("{here}.description"), &option["description"], 1, 100);
        let kind = option["type"].as_u64().unwrap_or(0);
        if kind == 1 || kind == 2 {
            // A subcommand (group) has its own options.
            command_options(problems, &here, &option["options"]);
            continue;
        }
        let required = option["required"].as_bool().unwrap_or(false);
        if required && optional_seen {
            problems.push(format!("{here}: required option after an optional one"));
        }
        optional_seen |= !required;
        let choices = &option["choices"];
        count_at_most(problems, &format!("{here}.choices"), choices, 25);
        for (j, choice) in items(choices).iter().enumerate() {
            between(problems, &format!("{here}.choices[{j}].name"), &choice["name"], 1, 100);
        }
        if option["autocomplete"] == Value::Bool(true) && !items(choices).is_empty() {
            problems.push(format!("{here}: autocomplete together with choices"));
        }
    }
}

/// Everything Discord would refuse in a bulk overwrite of application commands.
pub fn discord_commands(body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if !body.is_array() {
        return vec!["body is not an array".into()];
    }
    count_at_most(&mut problems, "commands", body, 100);
    unique_names(&mut problems, "commands", body);
    for (i, command) in items(body).iter().enumerate() {
        let path = format!("commands[{i}]");
        command_name(&mut problems, &path, &command["name"]);
        between(&mut problems, &format!("{path}.description"), &command["description"], 1, 100);
        command_options(&mut problems, &path, &command["options"]);
    }
    problems
}

// ---------------------------------------------------------------- Discord messages

fn discord_components(problems: &mut Vec<String>, path: &str, rows: &Value) {
    count_at_most(problems, path, rows, 5);
    for (i, row) in items(rows).iter().enumerate() {
        let row_path = format!("{path}[{i}].components");
        count_at_most(problems, &row_path, &row["components"], 5);
        for (j, control) in items(&row["components"]).iter().enumerate() {
            let here = format!("{row_path}[{j}]");
            between(problems, &format!("{here}.custom_id"), &control["custom_id"], 1, 100);
            at_most(problems, &format!("{here}.label"), &control["label"], 80);
            at_most(problems, &format!("{here}.placeholder"), &control["placeholder"], 150);
            count_at_most(problems, &format!("{here}.options"), &control["options"], 25);
            for (k, option) in items(&control["options"]).iter().enumerate() {
                at_most(problems, &format!("{here}.options[{k}].label"), &option["label"], 100);
                at_most(problems, &format!("{here}.options[{k}].value"), &option["value"], 100);
            }
        }
    }
}

/// Everything Discord would refuse in a message body (create, edit, interaction answer).
pub fn discord_message(body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    at_most(&mut problems, "content", &body["content"], 2000);
    count_at_most(&mut problems, "embeds", &body["embeds"], 10);
    let mut total = 0;
    for (i, embed) in items(&body["embeds"]).iter().enumerate() {
        let path = format!("embeds[{i}]");
        at_most(&mut problems, &format!("{path}.title"), &embed["title"], 256);
        at_most(&mut problems, &format!("{path}.description"), &embed["description"], 4096);
        at_most(&mut problems, &format!("{path}.footer.text"), &embed["footer"]["text"], 2048);
        count_at_most(&mut problems, &format!("{path}.fields"), &embed["fields"], 25);
        total += chars(&embed["title"]) + chars(&embed["description"]);
        total += chars(&embed["footer"]["text"]);
        for (j, field) in items(&embed["fields"]).iter().enumerate() {
            between(&mut problems, &format!("{path}.fields[{j}].name"), &field["name"], 1, 256);
            between(&mut problems, &format!("{path}.fields[{j}].value"), &field["value"], 1, 1024);
            total += chars(&field["name"]) + chars(&field["value"]);
        }
    }
    if total > 6000 {
        problems.push(format!("embeds: {total} characters in all (limit 6000)"));
    }
    discord_components(&mut problems, "components", &body["components"]);
    problems
}

/// Everything Discord would refuse in an interaction callback (message or modal).
pub fn discord_callback(body: &Value) -> Vec<String> {
    let data = &body["data"];
    if body["type"] == 9 {
        let mut problems = Vec::new();
        between(&mut problems, "data.custom_id", &data["custom_id"], 1, 100);
        between(&mut problems, "data.title", &data["title"], 1, 45);
        count_at_most(&mut problems, "data.components", &data["components"], 5);
        return problems;
    }
    if body["type"] == 8 {
        let mut problems = Vec::new();
        count_at_most(&mut problems, "data.choices", &data["choices"], 25);
        return problems;
    }
    if data.is_null() { Vec::new() } else { discord_message(data) }
}

// ---------------------------------------------------------------- Slack Block Kit

/// Where blocks are shown: a message allows 50, a modal or the home tab 100.
#[derive(Debug, Clone, Copy)]
pub enum Surface {
    Message,
    Modal,
}

fn slack_text(problems: &mut Vec<String>, path: &str, text: &Value, max: usize) {
    if text.is_null() {
        return;
    }
    at_most(problems, &format!("{path}.text"), &text["text"], max);
}

fn slack_element(problems: &mut Vec<String>, path: &str, element: &Value) {
    at_most(problems, &format!("{path}.action_id"), &element["action_id"], 255);
    match element["type"].as_str() {
        Some("button") => {
            slack_text(problems, &format!("{path}.text"), &element["text"], 75);
            at_most(problems, &format!("{path}.value"), &element["value"], 2000);
        }
        Some("external_select") => {
            // Its options come from the options load URL; the element carries none.
            slack_text(problems, &format!("{path}.placeholder"), &element["placeholder"], 150);
            if !element["options"].is_null() {
                problems.push(format!("{path}.options: an external_select has no options"));
            }
            if let Some(n) = element["min_query_length"].as_i64().filter(|n| *n < 0) {
                problems.push(format!("{path}.min_query_length: {n}"));
            }
        }
        Some("static_select") => {
            count_at_most(problems, &format!("{path}.options"), &element["options"], 100);
            for (k, option) in items(&element["options"]).iter().enumerate() {
                slack_text(problems, &format!("{path}.options[{k}].text"), &option["text"], 75);
                at_most(problems, &format!("{path}.options[{k}].value"), &option["value"], 150);
            }
        }
        _ => {}
    }
}

/// Everything Slack would answer `invalid_blocks` for.
pub fn slack_blocks(blocks: &Value, surface: Surface) -> Vec<String> {
    let mut problems = Vec::new();
    let max = match surface {
        Surface::Message => 50,
        Surface::Modal => 100,
    };
    count_at_most(&mut problems, "blocks", blocks, max);
    for (i, block) in items(blocks).iter().enumerate() {
        let path = format!("blocks[{i}]");
        at_most(&mut problems, &format!("{path}.block_id"), &block["block_id"], 255);
        match block["type"].as_str() {
            Some("header") => slack_text(&mut problems, &path, &block["text"], 150),
            Some("section") => {
                slack_text(&mut problems, &path, &block["text"], 3000);
                count_at_most(&mut problems, &format!("{path}.fields"), &block["fields"], 10);
                for (j, field) in items(&block["fields"]).iter().enumerate() {
                    at_most(
                        &mut problems,
                        &format!("{path}.fields[{j}].text"),
                        &field["text"],
                        2000,
                    );
                }
            }
            Some("context") => {
                count_at_most(&mut problems, &format!("{path}.elements"), &block["elements"], 10);
                for (j, element) in items(&block["elements"]).iter().enumerate() {
                    let here = format!("{path}.elements[{j}].text");
                    at_most(&mut problems, &here, &element["text"], 2000);
                }
            }
            Some("actions") => {
                count_at_most(&mut problems, &format!("{path}.elements"), &block["elements"], 25);
                for (j, element) in items(&block["elements"]).iter().enumerate() {
                    slack_element(&mut problems, &format!("{path}.elements[{j}]"), element);
                }
            }
            Some("input") => {
                slack_text(&mut problems, &format!("{path}.label"), &block["label"], 2000);
                slack_element(&mut problems, &format!("{path}.element"), &block["element"]);
            }
            _ => {}
        }
    }
    problems
}

/// Everything Slack would refuse in the answer to a `block_suggestion`: at most 100
/// options, each with a plain-text text of at most 75 characters and a value of at most 150.
pub fn slack_options(body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if !body["options"].is_array() {
        return vec!["no options array".into()];
    }
    count_at_most(&mut problems, "options", &body["options"], 100);
    for (k, option) in items(&body["options"]).iter().enumerate() {
        if option["text"]["type"] != "plain_text" {
            problems.push(format!("options[{k}].text: not plain_text"));
        }
        slack_text(&mut problems, &format!("options[{k}].text"), &option["text"], 75);
        between(&mut problems, &format!("options[{k}].value"), &option["value"], 1, 150);
    }
    problems
}

/// Everything Slack would refuse in a modal or App Home view (both hold 100 blocks).
pub fn slack_view(view: &Value) -> Vec<String> {
    let mut problems = slack_blocks(&view["blocks"], Surface::Modal);
    slack_text(&mut problems, "view.title", &view["title"], 24);
    slack_text(&mut problems, "view.submit", &view["submit"], 24);
    slack_text(&mut problems, "view.close", &view["close"], 24);
    at_most(&mut problems, "view.private_metadata", &view["private_metadata"], 3000);
    problems
}

/// Everything Slack would refuse in a message's `text` and `blocks` (a JSON string or array).
pub fn slack_message(params: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    at_most(&mut problems, "text", &params["text"], 40_000);
    let blocks = match &params["blocks"] {
        Value::String(raw) => serde_json::from_str(raw).unwrap_or(Value::Null),
        other => other.clone(),
    };
    problems.extend(slack_blocks(&blocks, Surface::Message));
    problems
}

/// The Slack markup that notifies people: `<!here>`, `<!channel>`, `<!everyone>` and user
/// mentions `<@U…>`, in the text Slack parses: mrkdwn objects and the message `text`.
/// `plain_text` objects are never parsed for mentions, and button values, action ids and
/// metadata are never shown.
pub fn slack_pings(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut visit = |text: &str| {
        for marker in ["<!here", "<!channel", "<!everyone", "<@"] {
            if text.contains(marker) {
                found.push(format!("{marker} in {text:?}"));
            }
        }
    };
    const UNSHOWN: &[&str] = &["value", "action_id", "block_id", "private_metadata", "metadata"];
    fn walk(value: &Value, visit: &mut dyn FnMut(&str)) {
        match value {
            Value::String(s) => {
                // Blocks may arrive as a JSON string; look inside it too.
                if let Ok(inner @ (Value::Array(_) | Value::Object(_))) = serde_json::from_str(s) {
                    walk(&inner, visit);
                } else {
                    visit(s);
                }
            }
            Value::Array(list) => list.iter().for_each(|v| walk(v, visit)),
            Value::Object(map) if map.get("type") == Some(&Value::from("plain_text")) => {}
            Value::Object(map) => map
                .iter()
                .filter(|(k, _)| !UNSHOWN.contains(&k.as_str()))
                .for_each(|(_, v)| walk(v, visit)),
            _ => {}
        }
    }
    walk(value, &mut visit);
    found
}
