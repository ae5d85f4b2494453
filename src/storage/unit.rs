//! One unit of work on the database: a transaction that opens only when something needs it.
//!
//! A click reads its item, decides in Rust, and writes everything it changed — the item's
//! row, audit records, messages, timers, the inbox row — in one statement
//! ([`effects::write`](super::effects::write)). One statement is atomic on its own, so
//! wrapping it in `BEGIN` … `COMMIT` would cost two round trips and buy nothing: such a unit
//! runs in 2 round trips instead of 5, or in 1 when the item comes from this process's copy
//! of what it committed ([`ItemCache`], shared by the driver with [`Tx::with_item_cache`]). Its item was read without a lock; the statement
//! writes the row only if its version is still the one read (compare-and-set) and otherwise
//! fails as a whole, and the caller decides again on what is there now.
//!
//! Everything else is transactional by default: [`Tx::conn`] opens the transaction (`BEGIN`)
//! before its first statement, so a use case that writes twice, or reads under a lock, keeps
//! both inside one transaction without saying so. Only a call site that asks for
//! [`Tx::read`] runs outside it, while none is open.

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};

use super::item_cache::ItemCache;

pub struct Tx {
    pool: PgPool,
    state: State,
    /// The unit's one write ran on its own ([`Tx::last`]): no statement may follow it.
    finished: bool,
    /// What this process committed of its items, when the driver shares it (see
    /// [`ItemCache`]).
    items: Option<ItemCache>,
}

enum State {
    /// No statement has needed the transaction yet. Reads run on this connection (acquired
    /// at the first), each statement its own snapshot.
    Idle(Option<PoolConnection<Postgres>>),
    Open(sqlx::Transaction<'static, Postgres>),
}

fn finished() -> sqlx::Error {
    sqlx::Error::Protocol("a statement after the unit of work's last write".into())
}

impl Tx {
    /// A unit of work on `pool`; nothing is acquired until its first statement.
    pub fn new(pool: &PgPool) -> Tx {
        Tx { pool: pool.clone(), state: State::Idle(None), finished: false, items: None }
    }

    /// This unit reading the items this process committed from `items` when it can.
    pub fn with_item_cache(self, items: ItemCache) -> Tx {
        Tx { items: Some(items), ..self }
    }

    /// The item cache this unit reads from, if any.
    pub(super) fn item_cache(&self) -> Option<&ItemCache> {
        self.items.as_ref()
    }

    /// A unit of work whose transaction is open from the start.
    pub async fn begin(pool: &PgPool) -> sqlx::Result<Tx> {
        let state = State::Open(pool.begin().await?);
        Ok(Tx { pool: pool.clone(), state, finished: false, items: None })
    }

    /// The connection inside the transaction, opening it first if it is not yet.
    pub async fn conn(&mut self) -> sqlx::Result<&mut PgConnection> {
        if self.finished {
            return Err(finished());
        }
        if let State::Idle(idle) = &mut self.state {
            // The idle connection holds nothing worth keeping (its reads were each their
            // own snapshot): give it back, and begin on whichever the pool hands out.
            drop(idle.take());
            self.state = State::Open(self.pool.begin().await?);
        }
        connection(&mut self.state, &self.pool).await
    }

    /// A connection for a read that needs no lock and no snapshot shared with the unit's
    /// writes: inside the transaction if it is open, else on its own.
    pub async fn read(&mut self) -> sqlx::Result<&mut PgConnection> {
        if self.finished {
            return Err(finished());
        }
        connection(&mut self.state, &self.pool).await
    }

    /// The connection for the unit's last write: inside the transaction if it is open (the
    /// caller still commits), else on its own — one statement, atomic by itself — after
    /// which nothing may run and there is nothing to commit.
    pub async fn last(&mut self) -> sqlx::Result<&mut PgConnection> {
        if self.finished {
            return Err(finished());
        }
        self.finished = matches!(self.state, State::Idle(_));
        connection(&mut self.state, &self.pool).await
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        match self.state {
            State::Open(tx) => tx.commit().await,
            State::Idle(_) => Ok(()),
        }
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        match self.state {
            State::Open(tx) => tx.rollback().await,
            State::Idle(_) => Ok(()),
        }
    }
}

/// The unit's connection as it stands: the transaction's, or the idle one (acquired now if
/// no statement has run yet).
async fn connection<'a>(state: &'a mut State, pool: &PgPool) -> sqlx::Result<&'a mut PgConnection> {
    match state {
        State::Open(tx) => Ok(&mut **tx),
        State::Idle(idle) => {
            if idle.is_none() {
                *idle = Some(pool.acquire().await?);
            }
            Ok(idle.as_deref_mut().expect("acquired just above"))
        }
    }
}
