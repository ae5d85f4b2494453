//! The architecture invariants of `src/lib.rs`, checked by reading the sources.

use std::path::{Path, PathBuf};

/// Crates the pure domain must not use.
const IO_CRATES: &[&str] =
    &["sqlx", "tokio", "axum", "reqwest", "hyper", "slack_morphism", "serenity"];

/// Rule breaches in `files` (paths relative to `src/`, with contents).
fn violations(files: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, source) in files {
        let code = strip_comments(source);
        let in_dir = |dir: &str| path.starts_with(dir);
        if in_dir("domain/") {
            for krate in IO_CRATES {
                if mentions_crate(&code, krate) {
                    found.push(format!("{path}: domain uses `{krate}` (domain must stay pure)"));
                }
            }
        }
        if !in_dir("storage/") && has_sql(&code) {
            found.push(format!("{path}: SQL outside storage/"));
        }
        if !in_dir("platform/slack/") && mentions_crate(&code, "slack_morphism") {
            found.push(format!("{path}: slack_morphism outside platform/slack/"));
        }
        if !in_dir("platform/discord/") && mentions_crate(&code, "serenity") {
            found.push(format!("{path}: serenity outside platform/discord/"));
        }
        if !path.starts_with("domain/messages/") && has_inline_user_text(&code) {
            found.push(format!("{path}: user-visible text outside domain/messages.rs"));
        }
    }
    found
}

fn strip_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn mentions_crate(code: &str, krate: &str) -> bool {
    code.contains(&format!("{krate}::")) || code.contains(&format!("use {krate}"))
}

/// String literals that start like SQL statements, or sqlx query builders.
fn has_sql(code: &str) -> bool {
    const SQL_STARTS: &[&str] = &[
        "\"SELECT ",
        "\"INSERT INTO ",
        "\"UPDATE ",
        "\"DELETE FROM ",
        "\"CREATE ",
        "\"ALTER ",
        "\"DROP ",
    ];
    code.contains("sqlx::query") || SQL_STARTS.iter().any(|start| code.contains(start))
}

/// Replies built from string literals instead of `messages::…`.
fn has_inline_user_text(code: &str) -> bool {
    [
        "Reply::private(\"",
        "Reply::private(format!",
        "Message::text(\"",
        "Message::text(format!",
        ".write(\"",
        ".write(&format!",
    ]
    .iter()
    .any(|needle| code.contains(needle))
}

fn rust_files(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            out.push((relative, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

fn file(path: &str, source: &str) -> Vec<(String, String)> {
    vec![(path.to_owned(), source.to_owned())]
}

#[test]
fn the_source_tree_keeps_the_layering_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &root, &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    assert_eq!(violations(&files), Vec::<String>::new());
}

#[test]
fn io_in_the_domain_is_caught() {
    let found =
        violations(&file("domain/sla.rs", "use sqlx::PgPool;\nfn f() { tokio::spawn(x); }"));
    assert_eq!(found.len(), 2, "{found:?}");
}

#[test]
fn sql_outside_storage_is_caught() {
    let found = violations(&file("services/x.rs", "let q = \"SELECT id FROM escalations\";"));
    assert_eq!(found, vec!["services/x.rs: SQL outside storage/".to_owned()]);
    assert!(violations(&file("storage/x.rs", "sqlx::query(\"SELECT 1\")")).is_empty());
}

#[test]
fn platform_types_outside_their_folder_are_caught() {
    assert_eq!(violations(&file("services/x.rs", "use slack_morphism::prelude::*;")).len(), 1);
    assert_eq!(
        violations(&file("platform/slack/x.rs", "use serenity::model::id::UserId;")).len(),
        1
    );
    assert!(violations(&file("platform/discord/x.rs", "use serenity::all::Http;")).is_empty());
}

#[test]
fn inline_user_text_is_caught() {
    assert_eq!(violations(&file("services/x.rs", "Reply::private(\"nope\")")).len(), 1);
    assert!(
        violations(&file("domain/messages/escalation.rs", "Reply::private(\"fine here\")"))
            .is_empty()
    );
}

#[test]
fn comments_do_not_count() {
    assert!(
        violations(&file("domain/x.rs", "//! no sqlx:: here, no tokio::spawn\nfn f() {}"))
            .is_empty()
    );
}
