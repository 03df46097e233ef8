//! `ThrottleRepo` on SQL: one upsert per hit, atomic on both engines, so counters hold
//! across any number of nodes.

use async_trait::async_trait;
use latchkey_core::clock::Timestamp;
use latchkey_core::ports::{RepoResult, ThrottleRepo, WindowCount};

use super::{Run, unexpected};
use crate::SqlStore;

fn window_count(hits: i64, window_start: i64) -> WindowCount {
    WindowCount {
        count: u32::try_from(hits).unwrap_or(u32::MAX),
        window_start: Timestamp::from_unix(window_start),
    }
}

/// After a right password: the account's counter cleared, the address's attempt given back.
pub(crate) const SETTLE: &str = "UPDATE throttle_counters SET hits = CASE WHEN key = $1 THEN 0 ELSE hits - 1 END \
     WHERE key = $1 OR (key = $2 AND hits > 0)";

#[async_trait]
impl ThrottleRepo for SqlStore {
    async fn hit(&self, key: &str, window_secs: i64, now: Timestamp) -> RepoResult<WindowCount> {
        // Both engines evaluate every SET expression against the row as it was before.
        let (hits, start): (i64, i64) = sqlx::query_as(
            "INSERT INTO throttle_counters (key, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN throttle_counters.window_start <= $3 THEN 1 \
                           ELSE throttle_counters.hits + 1 END, \
               window_start = CASE WHEN throttle_counters.window_start <= $3 THEN $2 \
                           ELSE throttle_counters.window_start END \
             RETURNING hits, window_start",
        )
        .bind(key)
        .bind(now.unix())
        .bind(now.unix() - window_secs)
        .fetch_one(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(window_count(hits, start))
    }

    async fn hit_all(
        &self,
        keys: &[&str],
        window_secs: i64,
        now: Timestamp,
    ) -> RepoResult<Vec<WindowCount>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let n = keys.len();
        let rows: Vec<String> = (1..=n).map(|i| format!("(${i}, ${}, 1)", n + 1)).collect();
        let sql = format!(
            "INSERT INTO throttle_counters (key, window_start, hits) VALUES {} \
             ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN throttle_counters.window_start <= ${w} THEN 1 \
                           ELSE throttle_counters.hits + 1 END, \
               window_start = CASE WHEN throttle_counters.window_start <= ${w} THEN ${s} \
                           ELSE throttle_counters.window_start END \
             RETURNING key, hits, window_start",
            rows.join(", "),
            s = n + 1,
            w = n + 2,
        );
        // Only placeholders are generated; every value is bound.
        let mut query = sqlx::query_as::<_, (String, i64, i64)>(sqlx::AssertSqlSafe(sql));
        for key in keys {
            query = query.bind(*key);
        }
        let returned = query
            .bind(now.unix())
            .bind(now.unix() - window_secs)
            .fetch_all(&self.pool)
            .await
            .map_err(unexpected)?;
        keys.iter()
            .map(|key| {
                returned
                    .iter()
                    .find(|(k, _, _)| k == key)
                    .map(|(_, hits, start)| window_count(*hits, *start))
                    .ok_or_else(|| super::corrupt("a throttle counter was not returned"))
            })
            .collect()
    }

    async fn settle(&self, clear: &str, release: &str) -> RepoResult<()> {
        sqlx::query(SETTLE).bind(clear).bind(release).run(&self.pool).await?;
        Ok(())
    }

    async fn release(&self, key: &str) -> RepoResult<()> {
        sqlx::query("UPDATE throttle_counters SET hits = hits - 1 WHERE key = $1 AND hits > 0")
            .bind(key)
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn clear(&self, key: &str) -> RepoResult<()> {
        sqlx::query("DELETE FROM throttle_counters WHERE key = $1")
            .bind(key)
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_stale(&self, older_than: Timestamp) -> RepoResult<u64> {
        let done = sqlx::query("DELETE FROM throttle_counters WHERE window_start < $1")
            .bind(older_than.unix())
            .run(&self.pool)
            .await?;
        Ok(done)
    }
}
