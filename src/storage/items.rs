//! Living-item rows, for every kind at once (DESIGN.md §11).
//!
//! Each kind has a table with `id`, `version` (the compare-and-set token on its card's
//! buttons), `doc` (the whole aggregate as JSON), `updated_at`, and the columns of its
//! [`Projection`]: what views and digests filter, sort and sum on. The projection is computed
//! by the domain; this module writes exactly that and derives nothing.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection, PgExecutor, Postgres};

use crate::domain::calendar::CalendarError;
use crate::domain::item::{Cell, ItemKind, LivingItem, Projection};
use crate::domain::page::{Listing, Page};

/// The table of each kind. A new workflow adds its line here (and to the audit heads in
/// `audit_trail`).
pub fn table(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Escalation => "escalations",
        ItemKind::Request => "requests",
        ItemKind::Credit => "credits",
        ItemKind::AccessRequest => "access_requests",
        ItemKind::Onboarding => "onboardings",
        ItemKind::AccessReview => "access_reviews",
        ItemKind::Incident => "incidents",
    }
}

/// The columns every item query selects: `id, version, doc`.
#[derive(sqlx::FromRow)]
pub(super) struct ItemRow {
    id: i64,
    version: i32,
    doc: serde_json::Value,
}

/// A row of one page of a list: the item and how many rows matched before the page was cut
/// (`count(*) OVER ()`), so a list learns its total in the same round trip.
#[derive(sqlx::FromRow)]
pub(super) struct PagedRow {
    #[sqlx(flatten)]
    row: ItemRow,
    total: i64,
}

/// Decodes one page of a list. A page past the end has no rows and so no total: it says 0.
pub(super) fn decode_page<T: LivingItem>(
    rows: Vec<PagedRow>,
    page: Page,
) -> sqlx::Result<Listing<T>> {
    let total = rows.first().map_or(0, |r| r.total);
    let items = rows.into_iter().map(|r| decode(r.row)).collect::<sqlx::Result<_>>()?;
    Ok(Listing { items, total, page })
}

pub(super) fn decode<T: LivingItem>(row: ItemRow) -> sqlx::Result<T> {
    let mut item: T =
        serde_json::from_value(row.doc).map_err(|err| sqlx::Error::Decode(Box::new(err)))?;
    item.set_stored(row.id, row.version);
    Ok(item)
}

/// Reserves the id of a new item (the card and the first audit record name it before the
/// row is written).
pub async fn next_id(executor: impl PgExecutor<'_>, kind: ItemKind) -> sqlx::Result<i64> {
    // The sequence by name, so the plan holds its oid (`pg_get_serial_sequence` would look
    // it up in the catalogue on every call).
    let sql = format!("SELECT nextval('{}_id_seq'::regclass)", table(kind));
    sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(executor).await
}

pub async fn get<T: LivingItem>(executor: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<T>> {
    let sql = format!("SELECT id, version, doc FROM {} WHERE id = $1", table(T::KIND));
    let row: Option<ItemRow> =
        sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(executor).await?;
    row.map(decode).transpose()
}

/// Item `id` for a click on its card at `version`: this process's copy when it committed
/// that very version itself (no round trip, see [`ItemCache`](super::item_cache)), else the
/// row as it is now. Either way the write that follows holds only if the row is still that
/// version.
pub async fn get_expecting<T: LivingItem>(
    tx: &mut super::Tx,
    id: i64,
    version: i32,
) -> sqlx::Result<Option<T>> {
    if let Some(doc) = tx.item_cache().and_then(|cache| cache.get(T::KIND, id, version)) {
        let mut item: T =
            serde_json::from_str(&doc).map_err(|err| sqlx::Error::Decode(Box::new(err)))?;
        item.set_stored(id, version);
        return Ok(Some(item));
    }
    get(tx.read().await?, id).await
}

/// Loads an item and locks its row until the transaction ends.
pub async fn get_for_update<T: LivingItem>(
    conn: &mut PgConnection,
    id: i64,
) -> sqlx::Result<Option<T>> {
    let sql = format!("SELECT id, version, doc FROM {} WHERE id = $1 FOR UPDATE", table(T::KIND));
    let row: Option<ItemRow> =
        sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(conn).await?;
    row.map(decode).transpose()
}

/// Loads many items by id (in no particular order).
pub async fn get_many<T: LivingItem>(
    executor: impl PgExecutor<'_>,
    ids: &[i64],
) -> sqlx::Result<Vec<T>> {
    let sql = format!("SELECT id, version, doc FROM {} WHERE id = ANY($1)", table(T::KIND));
    let rows: Vec<ItemRow> =
        sqlx::query_as(AssertSqlSafe(sql)).bind(ids).fetch_all(executor).await?;
    rows.into_iter().map(decode).collect()
}

fn bind_cell<'q>(
    query: Query<'q, Postgres, PgArguments>,
    cell: &'q Cell,
) -> Query<'q, Postgres, PgArguments> {
    match cell {
        Cell::Text(value) => query.bind(value.as_deref()),
        Cell::Time(value) => query.bind(*value),
        Cell::Flag(value) => query.bind(*value),
        Cell::Int(value) => query.bind(*value),
        Cell::Amount(value) => query.bind(*value),
    }
}

/// `sql` bound as insert and update take it: `$1` id, `$2` version, `$3` doc, `$4`
/// updated_at, then the projection's cells in order, then the workspace (the kernel's own
/// column: every kind has it, so it is not part of a kind's projection).
fn item_query<'q, T: LivingItem>(
    sql: String,
    item: &'q T,
    projection: &'q Projection,
    now: DateTime<Utc>,
) -> Query<'q, Postgres, PgArguments> {
    let query = sqlx::query(AssertSqlSafe(sql))
        .bind(item.id())
        .bind(item.version())
        .bind(Json(item))
        .bind(now);
    projection
        .cells
        .iter()
        .fold(query, |query, (_, cell)| bind_cell(query, cell))
        .bind(item.workspace())
}

/// The placeholder of the workspace in [`item_query`]'s binding.
fn workspace_placeholder(projection: &Projection) -> String {
    format!("${}", 5 + projection.cells.len())
}

/// Inserts a new item under the id from [`next_id`]. Returns `false` when a unique
/// constraint of the table refused it (e.g. a request's `(source, external_id)`: a concurrent
/// duplicate waits for the first to commit, then gets `false`).
pub async fn insert<T: LivingItem>(
    conn: &mut PgConnection,
    item: &T,
    projection: &Projection,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let columns: Vec<&str> = projection.cells.iter().map(|(name, _)| *name).collect();
    let placeholders: Vec<String> = (5..5 + columns.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "INSERT INTO {} (id, version, doc, updated_at, {}, workspace)
         VALUES ($1, $2, $3, $4, {}, {})
         ON CONFLICT DO NOTHING",
        table(T::KIND),
        columns.join(", "),
        placeholders.join(", "),
        workspace_placeholder(projection),
    );
    let query = item_query(sql, item, projection, now);
    Ok(query.execute(conn).await?.rows_affected() == 1)
}

/// Writes `item` as version `item.version()` if the stored version is the one before it
/// (compare-and-set), with its projection. Returns `false` if someone else wrote first.
pub async fn update<T: LivingItem>(
    conn: &mut PgConnection,
    item: &T,
    projection: &Projection,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let assignments: Vec<String> = projection
        .cells
        .iter()
        .enumerate()
        .map(|(index, (name, _))| format!("{name} = ${}", index + 5))
        .collect();
    let sql = format!(
        "UPDATE {} SET version = $2, doc = $3, updated_at = $4, {}, workspace = {}
         WHERE id = $1 AND version = $2 - 1",
        table(T::KIND),
        assignments.join(", "),
        workspace_placeholder(projection),
    );
    let query = item_query(sql, item, projection, now);
    Ok(query.execute(conn).await?.rows_affected() == 1)
}

/// An item row written as part of a write set, in the same statement as the rest of it
/// ([`effects::write`](super::effects::write)): the item's document, serialised once, and
/// its projection, with what the stored row must be for the write to hold.
#[derive(Debug)]
pub struct ItemWrite {
    pub kind: ItemKind,
    pub id: i64,
    pub version: i32,
    /// The version the stored row must still have (compare-and-set); `None` for a new row.
    pub replaces: Option<i32>,
    pub doc: Box<serde_json::value::RawValue>,
    pub projection: Projection,
    pub workspace: Option<String>,
}

impl ItemWrite {
    /// A new row for `item`, whose id was reserved with [`next_id`].
    pub fn new_row<T: LivingItem>(item: &T, projection: Projection) -> serde_json::Result<Self> {
        ItemWrite::of(item, projection, None)
    }

    /// `item` as version `item.version()` over the version before it.
    pub fn update<T: LivingItem>(item: &T, projection: Projection) -> serde_json::Result<Self> {
        ItemWrite::of(item, projection, Some(item.version() - 1))
    }

    fn of<T: LivingItem>(
        item: &T,
        projection: Projection,
        replaces: Option<i32>,
    ) -> serde_json::Result<Self> {
        Ok(ItemWrite {
            kind: T::KIND,
            id: item.id(),
            version: item.version(),
            replaces,
            doc: serde_json::value::to_raw_value(item)?,
            projection,
            workspace: item.workspace().map(str::to_owned),
        })
    }

    /// The same row written again later in the same write set: the later content, held to
    /// what the first write expected (one statement sees the row only as it was before).
    pub fn then(&mut self, later: ItemWrite) {
        let replaces = self.replaces;
        *self = ItemWrite { replaces, ..later };
    }

    /// This write as a data-modifying CTE named `name` returning one row if it held, its
    /// parameters numbered from `$first` (`$1` is the write set's `now`), in the order
    /// [`ItemWrite::bind`] binds them.
    pub(super) fn cte(&self, name: &str, first: usize) -> String {
        let columns: Vec<&str> = self.projection.cells.iter().map(|(name, _)| *name).collect();
        let cells: Vec<String> =
            (0..columns.len()).map(|i| format!("${}", first + 3 + i)).collect();
        let (id, version, doc, workspace) =
            (first, first + 1, first + 2, first + 3 + columns.len());
        let table = table(self.kind);
        match self.replaces {
            None => format!(
                "{name} AS (INSERT INTO {table} (id, version, doc, updated_at, {}, workspace)
                 VALUES (${id}, ${version}, ${doc}, $1, {}, ${workspace})
                 ON CONFLICT DO NOTHING RETURNING 1)",
                columns.join(", "),
                cells.join(", "),
            ),
            Some(_) => {
                let assignments: Vec<String> =
                    columns.iter().zip(&cells).map(|(c, p)| format!("{c} = {p}")).collect();
                format!(
                    "{name} AS (UPDATE {table} SET version = ${version}, doc = ${doc},
                         updated_at = $1, {}, workspace = ${workspace}
                     WHERE id = ${id} AND version = ${} RETURNING 1)",
                    assignments.join(", "),
                    workspace + 1,
                )
            }
        }
    }

    /// How many parameters [`ItemWrite::cte`] numbers.
    pub(super) fn parameters(&self) -> usize {
        4 + self.projection.cells.len() + usize::from(self.replaces.is_some())
    }

    pub(super) fn bind<'q, O>(
        &'q self,
        query: sqlx::query::QueryScalar<'q, Postgres, O, PgArguments>,
    ) -> sqlx::query::QueryScalar<'q, Postgres, O, PgArguments> {
        let query = query.bind(self.id).bind(self.version).bind(Json(&self.doc));
        let query = self.projection.cells.iter().fold(query, |query, (_, cell)| match cell {
            Cell::Text(value) => query.bind(value.as_deref()),
            Cell::Time(value) => query.bind(*value),
            Cell::Flag(value) => query.bind(*value),
            Cell::Int(value) => query.bind(*value),
            Cell::Amount(value) => query.bind(*value),
        });
        let query = query.bind(self.workspace.as_deref());
        match self.replaces {
            Some(version) => query.bind(version),
            None => query,
        }
    }
}

/// Rows per statement of [`insert_many`]: large enough that a million rows are a few hundred
/// statements, small enough that one batch's arrays stay a few megabytes.
const INSERT_BATCH: usize = 2_000;

/// One projected column of a batch, as the typed array `UNNEST` reads.
enum ColumnArray {
    Text(Vec<Option<String>>),
    Time(Vec<Option<DateTime<Utc>>>),
    Flag(Vec<Option<bool>>),
    Int(Vec<i32>),
    Amount(Vec<Decimal>),
}

impl ColumnArray {
    fn of(cell: &Cell, capacity: usize) -> ColumnArray {
        match cell {
            Cell::Text(_) => ColumnArray::Text(Vec::with_capacity(capacity)),
            Cell::Time(_) => ColumnArray::Time(Vec::with_capacity(capacity)),
            Cell::Flag(_) => ColumnArray::Flag(Vec::with_capacity(capacity)),
            Cell::Int(_) => ColumnArray::Int(Vec::with_capacity(capacity)),
            Cell::Amount(_) => ColumnArray::Amount(Vec::with_capacity(capacity)),
        }
    }

    /// Appends `cell`; `false` if it is not of this column's type.
    fn push(&mut self, cell: Cell) -> bool {
        match (self, cell) {
            (ColumnArray::Text(values), Cell::Text(value)) => values.push(value),
            (ColumnArray::Time(values), Cell::Time(value)) => values.push(value),
            (ColumnArray::Flag(values), Cell::Flag(value)) => values.push(value),
            (ColumnArray::Int(values), Cell::Int(value)) => values.push(value),
            (ColumnArray::Amount(values), Cell::Amount(value)) => values.push(value),
            _ => return false,
        }
        true
    }

    fn array_type(&self) -> &'static str {
        match self {
            ColumnArray::Text(_) => "text[]",
            ColumnArray::Time(_) => "timestamptz[]",
            ColumnArray::Flag(_) => "boolean[]",
            ColumnArray::Int(_) => "int4[]",
            ColumnArray::Amount(_) => "numeric[]",
        }
    }

    fn bind<'q>(self, query: Query<'q, Postgres, PgArguments>) -> Query<'q, Postgres, PgArguments> {
        match self {
            ColumnArray::Text(values) => query.bind(values),
            ColumnArray::Time(values) => query.bind(values),
            ColumnArray::Flag(values) => query.bind(values),
            ColumnArray::Int(values) => query.bind(values),
            ColumnArray::Amount(values) => query.bind(values),
        }
    }
}

/// Inserts new items (ids already reserved from the table's sequence), each with its own
/// projection, in one statement per [`INSERT_BATCH`] rows: one typed array per column,
/// `UNNEST`ed, so a batch costs one round trip and one plan. Every item of a kind projects
/// the same columns; a batch where one does not is refused before anything is sent. Rows
/// are written in slice order. Returns how many were inserted.
pub async fn insert_many<T: LivingItem>(
    conn: &mut PgConnection,
    items: &[T],
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let mut inserted = 0;
    for batch in items.chunks(INSERT_BATCH) {
        inserted += insert_batch(conn, batch, now).await?;
    }
    Ok(inserted)
}

async fn insert_batch<T: LivingItem>(
    conn: &mut PgConnection,
    items: &[T],
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    if items.is_empty() {
        return Ok(0);
    }
    let encode = |err: CalendarError| sqlx::Error::Encode(Box::new(err));
    let mut names: Vec<&'static str> = Vec::new();
    let mut columns: Vec<ColumnArray> = Vec::new();
    for (row, item) in items.iter().enumerate() {
        let projection = item.projection().map_err(encode)?;
        if row == 0 {
            names = projection.cells.iter().map(|(name, _)| *name).collect();
            columns =
                projection.cells.iter().map(|(_, c)| ColumnArray::of(c, items.len())).collect();
        }
        let same_names = projection.cells.len() == names.len()
            && projection.cells.iter().zip(&names).all(|((name, _), expected)| name == expected);
        let mut same_types = same_names;
        if same_names {
            for ((_, cell), column) in projection.cells.into_iter().zip(&mut columns) {
                same_types &= column.push(cell);
            }
        }
        if !same_types {
            return Err(sqlx::Error::Encode(
                format!(
                    "{} {} projects other columns than the first of its batch",
                    T::KIND,
                    item.id()
                )
                .into(),
            ));
        }
    }
    let arrays: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(index, column)| format!("${}::{}", index + 5, column.array_type()))
        .collect();
    let sql = format!(
        "INSERT INTO {table} (id, version, doc, updated_at, {names}, workspace)
         SELECT id, version, doc, $4, {names}, workspace
         FROM UNNEST($1::int8[], $2::int4[], $3::jsonb[], {arrays}, ${ws}::text[])
             AS row (id, version, doc, {names}, workspace)",
        table = table(T::KIND),
        names = names.join(", "),
        arrays = arrays.join(", "),
        ws = 5 + names.len(),
    );
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(items.iter().map(|item| item.id()).collect::<Vec<i64>>())
        .bind(items.iter().map(|item| item.version()).collect::<Vec<i32>>())
        .bind(items.iter().map(Json).collect::<Vec<Json<&T>>>())
        .bind(now);
    for column in columns {
        query = column.bind(query);
    }
    let query = query.bind(items.iter().map(|item| item.workspace()).collect::<Vec<_>>());
    Ok(query.execute(conn).await?.rows_affected())
}
