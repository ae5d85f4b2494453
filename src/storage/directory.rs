//! Mirrors the configured directory into the database (upsert; people and accounts that
//! left the configuration are kept, since audit records and items still refer to them).

use sqlx::PgConnection;

use crate::domain::identity::Directory;

pub async fn sync_directory(conn: &mut PgConnection, directory: &Directory) -> sqlx::Result<()> {
    for team in directory.teams() {
        sqlx::query(
            "INSERT INTO teams (key, name, time_zone) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone",
        )
        .bind(team.key.as_str())
        .bind(&team.name)
        .bind(team.time_zone.name())
        .execute(&mut *conn)
        .await?;
    }
    for person in directory.people() {
        let roles: Vec<&str> = person.roles.iter().map(|r| r.as_str()).collect();
        let skills: Vec<&str> = person.skills.iter().map(String::as_str).collect();
        sqlx::query(
            "INSERT INTO people (key, display_name, team_key, roles, skills, time_zone)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (key) DO UPDATE SET display_name = EXCLUDED.display_name,
                 team_key = EXCLUDED.team_key, roles = EXCLUDED.roles,
                 skills = EXCLUDED.skills, time_zone = EXCLUDED.time_zone",
        )
        .bind(person.key.as_str())
        .bind(&person.display_name)
        .bind(person.team.as_str())
        .bind(&roles)
        .bind(&skills)
        .bind(person.time_zone.name())
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM person_identities WHERE person_key = $1")
            .bind(person.key.as_str())
            .execute(&mut *conn)
            .await?;
        for (platform, configured) in &person.identities {
            // `T123:U456` is user U456 of workspace T123: one row per (platform, workspace, user).
            let (workspace, user) = crate::domain::workspace::split(*platform, configured);
            sqlx::query(
                "INSERT INTO person_identities (platform, workspace, platform_user_id, person_key)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (platform, workspace, platform_user_id)
                 DO UPDATE SET person_key = EXCLUDED.person_key",
            )
            .bind(platform.as_str())
            .bind(workspace.unwrap_or_default())
            .bind(user)
            .bind(person.key.as_str())
            .execute(&mut *conn)
            .await?;
        }
    }
    for account in directory.accounts() {
        sqlx::query(
            "INSERT INTO accounts (key, name, tier, owner_key) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name, tier = EXCLUDED.tier,
                 owner_key = EXCLUDED.owner_key",
        )
        .bind(account.key.as_str())
        .bind(&account.name)
        .bind(&account.tier)
        .bind(account.owner.as_ref().map(|o| o.as_str()))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Number of people in the database copy (used by tests and `/steward status`).
pub async fn count_people(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM people").fetch_one(conn).await
}
