//! `latchkey backup FILE` and `latchkey restore FILE`: the embedded database copied while the
//! server runs, and restored into a fresh data folder. PostgreSQL deployments use `pg_dump`.

use std::path::{Path, PathBuf};

use latchkey_store::{BackupError, inspect_backup};
use serde_json::json;

use crate::app::Backend;
use crate::cli::{Failure, print_json};
use crate::config::Config;

fn refused(e: BackupError) -> Failure {
    match e {
        BackupError::Postgres => Failure::Usage(e.to_string()),
        other => Failure::Refused(other.to_string()),
    }
}

/// The SQLite file the configuration names, or the PostgreSQL refusal.
fn sqlite_file(config: &Config) -> Result<PathBuf, Failure> {
    config
        .database_url
        .strip_prefix("sqlite://")
        .map(|rest| PathBuf::from(rest.split('?').next().unwrap_or_default()))
        .ok_or_else(|| refused(BackupError::Postgres))
}

/// Creates `path` empty with mode 0600 (a backup holds every password hash); refuses an
/// existing file rather than overwrite it.
fn create_private(path: &Path) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::Refused(format!("{} already exists: choose a new file", path.display()))
        } else {
            Failure::Refused(format!("cannot create {}: {e}", path.display()))
        }
    })
}

pub async fn backup(file: &Path, config: Config, json: bool) -> Result<(), Failure> {
    sqlite_file(&config)?;
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    create_private(file)?;
    if let Err(e) = backend.store.backup_to(file).await {
        let _ = std::fs::remove_file(file);
        return Err(refused(e));
    }
    let summary = inspect_backup(file).await.map_err(refused)?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or_default();
    let key = master_key_source(&config);
    if json {
        print_json(&json!({
            "backup": file.display().to_string(),
            "bytes": bytes,
            "accounts": summary.accounts,
            "schema": summary.schema,
            "master_key": key,
        }));
    } else {
        println!("Backed up {} accounts to {} ({bytes} bytes).", summary.accounts, file.display());
        eprintln!(
            "Keep the master key ({key}) backed up too, apart from this file: restoring needs it."
        );
    }
    Ok(())
}

fn accounts(n: i64) -> String {
    if n == 1 { "1 account".to_owned() } else { format!("{n} accounts") }
}

fn master_key_source(config: &Config) -> String {
    if config.master_key.is_some() {
        "LATCHKEY_MASTER_KEY".to_owned()
    } else {
        config.data_dir.join("master.key").display().to_string()
    }
}

pub async fn restore(
    file: &Path,
    master_key_file: Option<&Path>,
    config: Config,
    json: bool,
) -> Result<(), Failure> {
    let target = sqlite_file(&config)?;
    if target.exists() {
        return Err(Failure::Refused(format!(
            "{} already holds a database: restore into a fresh data folder (set LATCHKEY_DATA_DIR), or stop the server and move the old one away first",
            target.display()
        )));
    }
    let summary = inspect_backup(file).await.map_err(refused)?;
    place_master_key(&config, master_key_file)?;
    crate::private_files::ensure_private_dir(&config.data_dir)
        .map_err(|e| Failure::Refused(format!("{}: {e}", config.data_dir.display())))?;
    // Copied under a temporary name and renamed: the database appears whole or not at all.
    let partial = target.with_extension("restoring");
    let _ = std::fs::remove_file(&partial);
    create_private(&partial)?;
    let copied = std::fs::copy(file, &partial)
        .and_then(|_| std::fs::File::open(&partial)?.sync_all())
        .and_then(|()| std::fs::rename(&partial, &target));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(Failure::Refused(format!("cannot restore into {}: {e}", target.display())));
    }
    // Opening runs the migrations a backup from an older version lacks, and proves the
    // master key opens the signing keys.
    let mut config = config;
    config.init = true;
    let backend =
        Backend::open_for_cli(&config).await.map_err(|e| Failure::Refused(e.to_string()))?;
    backend.core.oidc().jwks().await.map_err(|e| {
        Failure::Refused(format!("restored, but the signing keys cannot be read: {e}"))
    })?;
    if json {
        print_json(&json!({
            "restored": target.display().to_string(),
            "accounts": summary.accounts,
            "schema": summary.schema,
        }));
    } else {
        println!(
            "Restored {} into {}. Start the server with this data folder.",
            accounts(summary.accounts),
            target.display()
        );
    }
    Ok(())
}

/// The backup's signing keys are sealed with the master key it was made under: the data
/// folder must have that key, from `--master-key-file`, its own `master.key` or
/// `LATCHKEY_MASTER_KEY`.
fn place_master_key(config: &Config, given: Option<&Path>) -> Result<(), Failure> {
    let here = config.data_dir.join("master.key");
    let Some(given) = given else {
        if config.master_key.is_some() || here.exists() {
            return Ok(());
        }
        return Err(Failure::Refused(format!(
            "the backup's signing keys are sealed with the master key of the installation it came from: give it with --master-key-file, put it at {}, or set LATCHKEY_MASTER_KEY",
            here.display()
        )));
    };
    let key = std::fs::read(given)
        .map_err(|e| Failure::Refused(format!("--master-key-file {}: {e}", given.display())))?;
    if key.len() != 32 {
        return Err(Failure::Usage(format!(
            "--master-key-file {}: a master key is exactly 32 bytes",
            given.display()
        )));
    }
    if config.master_key.is_some() {
        return Err(Failure::Usage(
            "LATCHKEY_MASTER_KEY is set: it is the master key; drop --master-key-file".to_owned(),
        ));
    }
    match std::fs::read(&here) {
        Ok(existing) if existing == key => return Ok(()),
        Ok(_) => {
            return Err(Failure::Refused(format!(
                "{} holds a different master key: restore into a fresh data folder",
                here.display()
            )));
        }
        Err(_) => {}
    }
    crate::private_files::ensure_private_dir(&config.data_dir)
        .map_err(|e| Failure::Refused(format!("{}: {e}", config.data_dir.display())))?;
    create_private(&here)?;
    std::fs::write(&here, key)
        .map_err(|e| Failure::Refused(format!("cannot write {}: {e}", here.display())))
}
