//! The data folder holds the master key, the SQLite database and the mail outbox (whose
//! `.eml` files carry live reset links): none of it is for other local users. New folders are
//! created 0700 and new files 0600; an existing folder or file that others can read is
//! reported at start (it is the operator's to fix: we never silently chmod their files).

use std::io;
use std::path::Path;

/// Creates `dir` (and missing parents) with mode 0700 on the last component; warns when it
/// already exists and is open to group or others.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        warn_if_loose(dir, "data folder");
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// For `sqlite://` URLs: creates the database file empty with mode 0600 before SQLite does
/// (SQLite gives its `-wal` and `-shm` files the database file's mode), or warns when an
/// existing one is readable by others.
pub fn prepare_sqlite_file(database_url: &str) -> io::Result<()> {
    let Some(rest) = database_url.strip_prefix("sqlite://") else { return Ok(()) };
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(':') {
        return Ok(());
    }
    let path = Path::new(path);
    if path.exists() {
        warn_if_loose(path, "database file");
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether `path` can be read or entered by its group or by others.
#[cfg(unix)]
pub fn is_loose(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
pub fn is_loose(_path: &Path) -> bool {
    false
}

fn warn_if_loose(path: &Path, what: &str) {
    if is_loose(path) {
        tracing::warn!(
            path = %path.display(),
            "the {what} is readable by other users of this machine; it holds secrets (keys, \
             sessions, reset links): run `chmod -R go-rwx {}`",
            path.display()
        );
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_folders_and_database_files_are_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("nested").join("latchkey-data");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        ensure_private_dir(&dir).unwrap();
        let db = dir.join("latchkey.db");
        prepare_sqlite_file(&format!("sqlite://{}?mode=rwc", db.display())).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert!(!is_loose(&dir) && !is_loose(&db));
    }

    #[test]
    fn a_loose_existing_folder_is_noticed_and_left_alone() {
        let root = tempfile::tempdir().unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(is_loose(root.path()));
        ensure_private_dir(root.path()).unwrap();
        assert_eq!(mode(root.path()), 0o755, "reported, never changed behind the operator's back");
        prepare_sqlite_file("postgres://localhost/x").unwrap();
        prepare_sqlite_file("sqlite://:memory:").unwrap();
    }
}
