//! What `steward prune` prints.

/// One table's line: `inbox: removed 120 rows older than 7 days (1 batch)`, or for a dry run
/// `inbox: would remove 120 rows older than 7 days`.
pub fn prune_line(
    table: &str,
    removed: u64,
    keep_days: u32,
    batches: u32,
    dry_run: bool,
) -> String {
    let rows = if removed == 1 { "row" } else { "rows" };
    let days = if keep_days == 1 { "day" } else { "days" };
    if dry_run {
        return format!("{table}: would remove {removed} {rows} older than {keep_days} {days}");
    }
    let batches = match batches {
        0 => String::new(),
        1 => " (1 batch)".to_owned(),
        n => format!(" ({n} batches)"),
    };
    format!("{table}: removed {removed} {rows} older than {keep_days} {days}{batches}")
}

/// The closing line of a dry run.
pub fn prune_dry_run_note() -> &'static str {
    "Dry run: nothing was deleted."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_the_table_count_age_and_batches() {
        assert_eq!(
            prune_line("outbox", 12_000, 30, 3, false),
            "outbox: removed 12000 rows older than 30 days (3 batches)"
        );
        assert_eq!(
            prune_line("inbox", 1, 1, 1, false),
            "inbox: removed 1 row older than 1 day (1 batch)"
        );
        assert_eq!(
            prune_line("jobs", 4, 30, 0, true),
            "jobs: would remove 4 rows older than 30 days"
        );
    }
}
