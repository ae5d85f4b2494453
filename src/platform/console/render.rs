//! Renders the neutral message model as terminal text, with numbered buttons.

use crate::domain::reply::{ButtonStyle, Card, Message};

/// Renders a message; buttons are numbered from 1 so they can be pressed by typing the number.
pub fn render_message(message: &Message) -> String {
    let mut out = String::new();
    if let Some(text) = &message.text {
        out.push_str(text.trim_end());
        out.push('\n');
    }
    if let Some(card) = &message.card {
        out.push_str(&render_card(card));
    }
    // The console cannot show files: print what stands in for them (a chart's sparkline).
    for attachment in &message.attachments {
        out.push_str(attachment.fallback.trim_end());
        out.push('\n');
    }
    out
}

fn render_card(card: &Card) -> String {
    let mut lines = vec![format!("┌─ {}", card.title)];
    if !card.fields.is_empty() {
        let width = card.fields.iter().map(|f| f.label.chars().count()).max().unwrap_or(0);
        for field in &card.fields {
            // Later lines of a multi-line value line up under its first, inside the border.
            let mut value = field.value.lines();
            let first = value.next().unwrap_or("");
            lines.push(format!("│ {:<width$}  {first}", field.label));
            lines.extend(value.map(|line| format!("│ {:width$}  {line}", "")));
        }
    }
    if let Some(body) = &card.body {
        lines.extend(body.lines().map(|line| format!("│ {line}")));
    }
    for context in &card.context {
        lines.push(format!("│ · {context}"));
    }
    if !card.buttons.is_empty() {
        let buttons: Vec<String> = card
            .buttons
            .iter()
            .enumerate()
            .map(|(index, button)| {
                let marker = match button.style {
                    ButtonStyle::Default => "",
                    ButtonStyle::Primary => "*",
                    ButtonStyle::Danger => "!",
                };
                let ellipsis = if button.prompt.is_some() { "…" } else { "" };
                format!("[{}] {marker}{}{ellipsis}", index + 1, button.label)
            })
            .collect();
        lines.push(format!("│ {}", buttons.join("  ")));
    }
    lines.push("└─".to_owned());
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reply::{Button, Field, Prompt};

    #[test]
    fn cards_show_fields_and_numbered_buttons() {
        let card = Card {
            title: "Escalation #1".into(),
            fields: vec![Field::new("Account", "ACME-1"), Field::new("Sev", "sev1")],
            buttons: vec![
                Button {
                    label: "Acknowledge".into(),
                    action: "esc:1:ack:v1".into(),
                    style: ButtonStyle::Primary,
                    confirm: None,
                    prompt: None,
                },
                Button {
                    label: "Resolve".into(),
                    action: "esc:1:resolve:v1".into(),
                    style: ButtonStyle::Danger,
                    confirm: None,
                    prompt: Some(Prompt {
                        title: "Resolve".into(),
                        label: "note".into(),
                        required: true,
                        choices: vec![],
                    }),
                },
            ],
            ..Card::default()
        };
        let text = render_message(&Message::card(card));
        assert!(text.contains("│ Account  ACME-1"), "{text}");
        assert!(text.contains("[1] *Acknowledge  [2] !Resolve…"), "{text}");
    }

    #[test]
    fn a_multi_line_field_value_stays_inside_the_border_under_its_first_line() {
        let card = Card {
            title: "Credit #7".into(),
            fields: vec![
                Field::new("Amount", "250.00 USD"),
                Field::new("Approval chain", "1. supervisor: pending\n2. finance: waiting"),
            ],
            ..Card::default()
        };
        let text = render_message(&Message::card(card));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2], "│ Approval chain  1. supervisor: pending", "{text}");
        assert_eq!(lines[3], "│                 2. finance: waiting", "{text}");
        assert!(
            lines.iter().all(|l| l.starts_with('│') || l.starts_with('┌') || l.starts_with('└'))
        );
    }
}
