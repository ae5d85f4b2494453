//! `steward seed`: realistic history generated inside PostgreSQL with `generate_series`, so a
//! million rows take seconds. Each row copies a template document written by the real
//! services and overrides the fields that vary, so the app and the digests read seeded rows
//! like their own. Randomness is a hash of the row number (repeatable runs). Rows are written
//! in time order, as a live system writes them, so a window's rows sit on nearby pages.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Who and what the generated rows are spread over.
#[derive(Debug, Clone)]
pub struct SeedPopulation {
    /// Parallel arrays: each person's key, team and whether they may approve credits.
    pub people: Vec<String>,
    pub people_teams: Vec<String>,
    pub approvers: Vec<String>,
    /// Parallel arrays: account keys and tiers.
    pub accounts: Vec<String>,
    pub tiers: Vec<String>,
    pub currencies: Vec<String>,
}

/// Template documents (one real row of each kind).
#[derive(Debug, Clone)]
pub struct SeedTemplates {
    pub escalation: serde_json::Value,
    pub request: serde_json::Value,
    pub credit: serde_json::Value,
}

/// `h(i, salt)`: a repeatable pseudo-random fraction in [0, 1) per row and purpose.
const HASH_FN: &str = "CREATE OR REPLACE FUNCTION pg_temp.seed_rand(i bigint, salt int)
    RETURNS float8 LANGUAGE sql IMMUTABLE AS
    $$ SELECT ((hashint8(i * 7919 + salt)::bigint & 2147483647)::float8 / 2147483648.0) $$";

/// Inserts `count` escalations opened over the `days` before `now`.
pub async fn escalations(
    conn: &mut PgConnection,
    pop: &SeedPopulation,
    template: &serde_json::Value,
    count: i64,
    days: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    generate(
        conn,
        "WITH base AS (
             SELECT nextval(pg_get_serial_sequence('escalations', 'id')) AS id, g,
                    1 + (g % cardinality($1::text[]))::int AS p,
                    1 + ((g * 31) % cardinality($3::text[]))::int AS a,
                    (ARRAY['sev1','sev2','sev2','sev3','sev3','sev3','sev4','sev4'])
                        [1 + floor(pg_temp.seed_rand(g, 1) * 8)::int] AS severity,
                    $6::timestamptz - make_interval(secs => pg_temp.seed_rand(g, 2) * $5 * 86400)
                        AS opened_at
             FROM generate_series(1, $4::bigint) AS g),
         shaped AS (
             SELECT b.*,
                    CASE severity WHEN 'sev1' THEN 900 WHEN 'sev2' THEN 3600
                                  WHEN 'sev3' THEN 14400 ELSE 28800 END AS ack_target,
                    CASE severity WHEN 'sev1' THEN 14400 WHEN 'sev2' THEN 28800
                                  WHEN 'sev3' THEN 86400 ELSE 288000 END AS resolve_target
             FROM base b),
         timed AS (
             SELECT s.*,
                    opened_at + make_interval(secs => ack_target * (0.1 + pg_temp.seed_rand(g, 3) * 1.2))
                        AS ack_at,
                    opened_at + make_interval(secs => resolve_target * (0.2 + pg_temp.seed_rand(g, 4) * 1.3))
                        AS res_at
             FROM shaped s),
         rows AS (
             SELECT t.*, $1[p] AS owner, $2[p] AS team, $3[a] AS account, $7[a] AS tier,
                    CASE WHEN res_at < $6 AND pg_temp.seed_rand(g, 5) < 0.97 THEN 'resolved'
                         WHEN ack_at >= $6 THEN 'open'
                         WHEN pg_temp.seed_rand(g, 6) < 0.2 THEN 'waiting_on_customer'
                         ELSE 'acknowledged' END AS state
             FROM timed t)
         INSERT INTO escalations (id, version, team_key, account_key, severity, state, owner_key,
             opened_by, opened_at, acknowledged_at, resolved_at, due_at, at_risk_at,
             resolved_within_sla, doc, updated_at)
         SELECT id, 3, team, account, severity, state, owner, owner, opened_at,
                CASE WHEN state <> 'open' THEN ack_at END,
                CASE WHEN state = 'resolved' THEN res_at END,
                CASE WHEN state = 'open' THEN opened_at + make_interval(secs => ack_target)
                     WHEN state = 'acknowledged' THEN opened_at + make_interval(secs => resolve_target) END,
                CASE WHEN state = 'open' THEN opened_at + make_interval(secs => ack_target * 0.75)
                     WHEN state = 'acknowledged' THEN opened_at + make_interval(secs => resolve_target * 0.75) END,
                CASE WHEN state = 'resolved' THEN res_at <= opened_at + make_interval(secs => resolve_target) END,
                $8::jsonb || jsonb_build_object(
                    'id', id, 'version', 3, 'team', team, 'account', account, 'tier', tier,
                    'severity', severity, 'summary', 'Seeded escalation ' || g,
                    'opened_by', owner, 'opened_at', opened_at, 'state', state, 'owner', owner,
                    'acknowledged', CASE WHEN state <> 'open'
                        THEN jsonb_build_object('by', owner, 'at', ack_at) END,
                    'resolved', CASE WHEN state = 'resolved'
                        THEN jsonb_build_object('by', owner, 'at', res_at, 'note', 'seeded') END,
                    'alerts', jsonb_build_object(
                        'acknowledge_at_risk', false, 'acknowledge_breached', false,
                        'resolve_at_risk', false,
                        'resolve_breached', state = 'resolved'
                            AND res_at > opened_at + make_interval(secs => resolve_target)),
                    'pauses', '[]'::jsonb, 'audit_head', NULL),
                greatest(opened_at, coalesce(CASE WHEN state = 'resolved' THEN res_at END, ack_at))
         FROM rows ORDER BY opened_at",
        pop,
        &pop.tiers,
        template,
        count,
        days,
        now,
    )
    .await
}

/// Inserts `count` requests opened over the `days` before `now`.
pub async fn requests(
    conn: &mut PgConnection,
    pop: &SeedPopulation,
    template: &serde_json::Value,
    count: i64,
    days: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    generate(
        conn,
        "WITH base AS (
             SELECT nextval(pg_get_serial_sequence('requests', 'id')) AS id, g,
                    1 + ((g * 7) % cardinality($1::text[]))::int AS p,
                    1 + ((g * 13) % cardinality($3::text[]))::int AS a,
                    (ARRAY['p1','p2','p2','p3','p3','p3','p4','p4'])
                        [1 + floor(pg_temp.seed_rand(g, 11) * 8)::int] AS priority,
                    $6::timestamptz - make_interval(secs => pg_temp.seed_rand(g, 12) * $5 * 86400)
                        AS opened_at
             FROM generate_series(1, $4::bigint) AS g),
         shaped AS (
             SELECT b.*,
                    CASE priority WHEN 'p1' THEN 8 WHEN 'p2' THEN 4 WHEN 'p3' THEN 2 ELSE 1 END
                        AS weight,
                    CASE priority WHEN 'p1' THEN 1800 WHEN 'p2' THEN 7200
                                  WHEN 'p3' THEN 14400 ELSE 28800 END AS response_target,
                    CASE priority WHEN 'p1' THEN 14400 WHEN 'p2' THEN 57600
                                  WHEN 'p3' THEN 144000 ELSE 288000 END AS resolve_target
             FROM base b),
         timed AS (
             SELECT s.*,
                    opened_at + make_interval(secs => response_target * (0.1 + pg_temp.seed_rand(g, 13) * 1.2))
                        AS accept_at,
                    opened_at + make_interval(secs => resolve_target * (0.2 + pg_temp.seed_rand(g, 14) * 1.3))
                        AS res_at,
                    pg_temp.seed_rand(g, 15) < 0.08 AS reopened,
                    pg_temp.seed_rand(g, 16) < 0.12 AS reassigned
             FROM shaped s),
         rows AS (
             SELECT t.*, $1[p] AS assignee, $2[p] AS team, $3[a] AS account, $7[a] AS tier,
                    CASE WHEN res_at < $6 AND pg_temp.seed_rand(g, 17) < 0.97 THEN 'resolved'
                         WHEN accept_at >= $6 THEN 'assigned'
                         WHEN pg_temp.seed_rand(g, 18) < 0.2 THEN 'waiting_on_customer'
                         ELSE 'in_progress' END AS state
             FROM timed t)
         INSERT INTO requests (id, version, team_key, account_key, request_type, priority, weight,
             state, assignee_key, source, external_id, opened_at, due_at, at_risk_at,
             accepted_at, reopened, resolved_at, first_contact_resolution, resolved_within_sla,
             doc, updated_at)
         SELECT id, 4, team, account, $8::jsonb ->> 'kind', priority, weight, state, assignee,
                'chat', NULL, opened_at,
                CASE WHEN state = 'assigned' THEN opened_at + make_interval(secs => response_target)
                     WHEN state = 'in_progress' THEN opened_at + make_interval(secs => resolve_target) END,
                CASE WHEN state = 'assigned' THEN opened_at + make_interval(secs => response_target * 0.75)
                     WHEN state = 'in_progress' THEN opened_at + make_interval(secs => resolve_target * 0.75) END,
                CASE WHEN state <> 'assigned' THEN accept_at END,
                reopened AND state = 'resolved',
                CASE WHEN state = 'resolved' THEN res_at END,
                state = 'resolved' AND NOT reopened AND NOT reassigned,
                CASE WHEN state = 'resolved' THEN res_at <= opened_at + make_interval(secs => resolve_target) END,
                $8::jsonb || jsonb_build_object(
                    'id', id, 'version', 4, 'team', team, 'account', account, 'tier', tier,
                    'priority', priority, 'summary', 'Seeded request ' || g,
                    'requested_by', assignee, 'opened_at', opened_at, 'state', state,
                    'assignee', assignee, 'first_assignee', assignee,
                    'assignment', jsonb_build_object('to', assignee, 'by', 'steward',
                        'at', opened_at, 'reason', 'seeded'),
                    'reassigned', reassigned, 'reopened', reopened AND state = 'resolved',
                    'accepted', CASE WHEN state <> 'assigned'
                        THEN jsonb_build_object('by', assignee, 'at', accept_at) END,
                    'resolved', CASE WHEN state = 'resolved'
                        THEN jsonb_build_object('by', assignee, 'at', res_at, 'note', 'seeded') END,
                    'first_contact_resolution', state = 'resolved' AND NOT reopened AND NOT reassigned,
                    'source', 'chat', 'external_id', NULL, 'pauses', '[]'::jsonb,
                    'audit_head', NULL),
                greatest(opened_at, coalesce(CASE WHEN state = 'resolved' THEN res_at END, accept_at))
         FROM rows ORDER BY opened_at",
        pop,
        &pop.tiers,
        template,
        count,
        days,
        now,
    )
    .await
}

/// Inserts `count` credits requested over the `days` before `now`, and the authority
/// approvals of the approved ones.
pub async fn credits(
    conn: &mut PgConnection,
    pop: &SeedPopulation,
    template: &serde_json::Value,
    count: i64,
    days: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let inserted = generate(
        conn,
        "WITH base AS (
             SELECT nextval(pg_get_serial_sequence('credits', 'id')) AS id, g,
                    1 + ((g * 5) % cardinality($1::text[]))::int AS p,
                    1 + ((g * 11) % cardinality($3::text[]))::int AS a,
                    $7[1 + floor(pg_temp.seed_rand(g, 24) * cardinality($7::text[]))::int] AS currency,
                    round((5 + pg_temp.seed_rand(g, 21) ^ 3 * 2000)::numeric, 2) AS amount,
                    $6::timestamptz - make_interval(secs => pg_temp.seed_rand(g, 22) * $5 * 86400)
                        AS requested_at,
                    pg_temp.seed_rand(g, 23) AS fate
             FROM generate_series(1, $4::bigint) AS g),
         rows AS (
             SELECT b.*, $1[p] AS requester, $2[p] AS team, $3[a] AS account,
                    CASE WHEN requested_at > $6 - interval '3 days' AND fate < 0.5 THEN 'pending'
                         WHEN fate < 0.75 THEN 'approved' WHEN fate < 0.87 THEN 'rejected'
                         WHEN fate < 0.94 THEN 'expired' ELSE 'cancelled' END AS state,
                    requested_at + make_interval(secs => 600 + fate * 86400) AS decided_at
             FROM base b)
         INSERT INTO credits (id, version, kind, account_key, amount, currency, reason, state,
             requested_by, requested_at, team_key, expires_at, closed_at, doc, updated_at)
         SELECT id, 2, 'credit', account, amount, currency, 'goodwill', state, requester,
                requested_at, team, requested_at + interval '72 hours',
                CASE WHEN state <> 'pending' THEN decided_at END,
                $8::jsonb || jsonb_build_object(
                    'id', id, 'version', 2, 'account', account, 'requested_by', requester,
                    'requested_at', requested_at, 'team', team, 'state', state,
                    'payload', jsonb_build_object('amount', amount::text, 'currency', currency,
                        'reason', 'goodwill', 'note', NULL),
                    'expires_at', requested_at + interval '72 hours',
                    'closed', CASE WHEN state IN ('expired', 'cancelled')
                        THEN jsonb_build_object('by', requester, 'at', decided_at) END,
                    'audit_head', NULL),
                CASE WHEN state = 'pending' THEN requested_at ELSE decided_at END
         FROM rows ORDER BY requested_at",
        pop,
        &pop.currencies,
        template,
        count,
        days,
        now,
    )
    .await?;
    // The approving decision of each approved seeded credit, by an approver who is not the
    // requester.
    sqlx::query(
        "INSERT INTO credit_approvals (credit_id, approver, currency, amount, decided_at)
         SELECT c.id, ap.approver, c.currency, abs(c.amount), c.closed_at
         FROM credits c
         CROSS JOIN LATERAL (
             SELECT x AS approver FROM unnest($1::text[]) AS x
             WHERE x <> c.requested_by
             ORDER BY hashint8(c.id + length(x)) LIMIT 1) AS ap
         WHERE c.state = 'approved' AND c.amount <> 0
           AND NOT EXISTS (SELECT 1 FROM credit_approvals x WHERE x.credit_id = c.id)",
    )
    .bind(&pop.approvers)
    .execute(&mut *conn)
    .await?;
    Ok(inserted)
}

/// Which kind of row a template is taken from.
#[derive(Debug, Clone, Copy)]
pub enum TemplateKind {
    Escalation,
    Request,
    Credit,
}

/// The newest document of a kind, as the template for seeding.
pub async fn newest_doc(
    conn: &mut PgConnection,
    kind: TemplateKind,
) -> sqlx::Result<Option<serde_json::Value>> {
    let sql = match kind {
        TemplateKind::Escalation => "SELECT doc FROM escalations ORDER BY id DESC LIMIT 1",
        TemplateKind::Request => "SELECT doc FROM requests ORDER BY id DESC LIMIT 1",
        TemplateKind::Credit => "SELECT doc FROM credits ORDER BY id DESC LIMIT 1",
    };
    sqlx::query_scalar(sql).fetch_optional(conn).await
}

/// Runs one generator statement. Every generator takes the same parameters: $1 people, $2
/// their teams, $3 accounts, $4 count, $5 days, $6 now, $7 a list of its own (tiers or
/// currencies), $8 the template document written by the real service.
#[allow(clippy::too_many_arguments)]
async fn generate(
    conn: &mut PgConnection,
    sql: &'static str,
    pop: &SeedPopulation,
    own_list: &[String],
    template: &serde_json::Value,
    count: i64,
    days: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    sqlx::query(HASH_FN).execute(&mut *conn).await?;
    sqlx::query(sql)
        .bind(&pop.people)
        .bind(&pop.people_teams)
        .bind(&pop.accounts)
        .bind(count)
        .bind(days as f64)
        .bind(now)
        .bind(own_list)
        .bind(template)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
}

/// Refreshes planner statistics and the visibility map after a bulk load (as autovacuum
/// would on a live system), so the digests' covering indexes are read without heap visits.
pub async fn analyze(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("VACUUM (ANALYZE) escalations, requests, credits, credit_approvals")
        .execute(conn)
        .await
        .map(|_| ())
}

/// Row counts: escalations, requests, credits, credit approvals.
pub async fn counts(conn: &mut PgConnection) -> sqlx::Result<(i64, i64, i64, i64)> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM escalations), (SELECT count(*) FROM requests),
                (SELECT count(*) FROM credits), (SELECT count(*) FROM credit_approvals)",
    )
    .fetch_one(conn)
    .await
}
