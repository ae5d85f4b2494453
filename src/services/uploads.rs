//! The [`UploadLedger`] over PostgreSQL (`outbox_files`), and one in memory for adapters
//! built without a database (one process, so a retry in the same process still finds it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sqlx::PgPool;

use super::ports::{Clock, UploadLedger, UploadedFile};
use crate::storage::outbox_files;

/// The ledger in `outbox_files`, which survives restarts.
pub struct PgUploads {
    pool: PgPool,
    clock: Arc<dyn Clock>,
}

impl PgUploads {
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>) -> PgUploads {
        PgUploads { pool, clock }
    }
}

#[async_trait]
impl UploadLedger for PgUploads {
    async fn recorded(
        &self,
        outbox_id: i64,
        position: i32,
    ) -> anyhow::Result<Option<UploadedFile>> {
        let found = outbox_files::recorded(&self.pool, outbox_id, position).await?;
        Ok(found.map(|(file_id, shared)| UploadedFile { file_id, shared }))
    }

    async fn record(&self, outbox_id: i64, position: i32, file_id: &str) -> anyhow::Result<()> {
        let now = self.clock.now();
        Ok(outbox_files::record(&self.pool, outbox_id, position, file_id, now).await?)
    }

    async fn mark_shared(&self, outbox_id: i64, position: i32) -> anyhow::Result<()> {
        let now = self.clock.now();
        Ok(outbox_files::mark_shared(&self.pool, outbox_id, position, now).await?)
    }
}

/// A ledger in memory.
#[derive(Default)]
pub struct MemoryUploads(Mutex<HashMap<(i64, i32), UploadedFile>>);

#[async_trait]
impl UploadLedger for MemoryUploads {
    async fn recorded(
        &self,
        outbox_id: i64,
        position: i32,
    ) -> anyhow::Result<Option<UploadedFile>> {
        Ok(self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&(outbox_id, position)).cloned())
    }

    async fn record(&self, outbox_id: i64, position: i32, file_id: &str) -> anyhow::Result<()> {
        let mut files = self.0.lock().unwrap_or_else(|e| e.into_inner());
        files
            .entry((outbox_id, position))
            .or_insert(UploadedFile { file_id: file_id.to_owned(), shared: false });
        Ok(())
    }

    async fn mark_shared(&self, outbox_id: i64, position: i32) -> anyhow::Result<()> {
        let mut files = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(file) = files.get_mut(&(outbox_id, position)) {
            file.shared = true;
        }
        Ok(())
    }
}
