//! Role separation (issue 17 item 7): the daemon connects as a role that may read and write
//! its rows but only INSERT into and SELECT from the audit tables, and owns nothing — so it
//! cannot UPDATE, DELETE or TRUNCATE the log, nor `ALTER TABLE … DISABLE TRIGGER` (only an
//! owner may). Migrations run as the owner (`database.migrate_url`), which grants these
//! privileges after every migration run, so new tables are covered too.

use sqlx::PgConnection;

/// The append-only tables: the app role may only add to and read them.
const APPEND_ONLY: &[&str] = &["audit_log", "audit_checkpoints", "audit_checkpoint_entries"];

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Creates the login role `name` with `password` unless it exists (an existing role is left
/// as it is). Returns whether it was created. Needs CREATEROLE (or a superuser).
pub async fn ensure_login_role(
    conn: &mut PgConnection,
    name: &str,
    password: Option<&str>,
) -> sqlx::Result<bool> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(name)
            .fetch_one(&mut *conn)
            .await?;
    if exists {
        return Ok(false);
    }
    // Role names and passwords cannot be bind parameters: quoted here.
    let mut sql = format!("CREATE ROLE {} LOGIN", quote_ident(name));
    if let Some(password) = password {
        sql.push_str(&format!(" PASSWORD {}", quote_literal(password)));
    }
    match sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await {
        Ok(_) => Ok(true),
        // Created meanwhile by a concurrent run: as good as done.
        Err(sqlx::Error::Database(err)) if err.code().as_deref() == Some("42710") => Ok(false),
        Err(err) => Err(err),
    }
}

/// Grants `app` what the daemon needs on every table and sequence of the schema, minus
/// UPDATE, DELETE and TRUNCATE on the append-only tables and any write to the migration
/// history; the same for tables the connected (owner) role creates later. Idempotent.
pub async fn grant_app(conn: &mut PgConnection, app: &str) -> sqlx::Result<()> {
    let app = quote_ident(app);
    let append_only = APPEND_ONLY.join(", ");
    let statements = [
        format!("GRANT USAGE ON SCHEMA public TO {app}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}"),
        format!("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {app}"),
        format!("REVOKE UPDATE, DELETE, TRUNCATE ON {append_only} FROM {app}"),
        format!("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM {app}"),
        format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public
             GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}"
        ),
        format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public
             GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {app}"
        ),
    ];
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    Ok(())
}
