//! `BrandingRepo` on SQL: one row, or none.

use async_trait::async_trait;
use latchkey_core::branding::Brand;
use latchkey_core::ports::{BrandingRepo, RepoResult};

use super::{Run, unexpected};
use crate::SqlStore;

#[derive(sqlx::FromRow)]
struct BrandRow {
    name: String,
    logo_uri: Option<String>,
    colour: Option<String>,
    updated_at: i64,
}

#[async_trait]
impl BrandingRepo for SqlStore {
    async fn load(&self) -> RepoResult<Option<Brand>> {
        let row = sqlx::query_as::<_, BrandRow>(
            "SELECT name, logo_uri, colour, updated_at FROM branding WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(unexpected)?;
        Ok(row.map(|r| {
            Brand::from_stored(&r.name, r.logo_uri.as_deref(), r.colour.as_deref(), r.updated_at)
        }))
    }

    async fn save(&self, brand: &Brand) -> RepoResult<()> {
        sqlx::query(
            "INSERT INTO branding (id, name, logo_uri, colour, updated_at) \
             VALUES (1, $1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, logo_uri = excluded.logo_uri, \
             colour = excluded.colour, updated_at = excluded.updated_at",
        )
        .bind(brand.name())
        .bind(brand.logo_uri())
        .bind(brand.colour().map(|c| c.to_string()))
        .bind(brand.updated_at().unwrap_or_default())
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear(&self) -> RepoResult<()> {
        sqlx::query("DELETE FROM branding").run(&self.pool).await?;
        Ok(())
    }
}
