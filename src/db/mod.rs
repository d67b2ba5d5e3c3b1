//! The SQLite database: connection settings, the pool, and embedded migrations.
//!
//! WAL is switched on once when migrations run (it is stored in the file); every connection
//! then sets the per-connection PRAGMAs in [`ConnectionSettings`].

pub(crate) mod prepared;
pub mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub type DbPool = Pool<ConnectionManager<SqliteConnection>>;
pub type PooledConn = PooledConnection<ConnectionManager<SqliteConnection>>;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Bytes of the database file each connection may map into memory.
const MMAP_BYTES: u64 = 256 * 1024 * 1024;

/// How long a connection waits for a lock before SQLite answers BUSY.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        source: diesel::ConnectionError,
    },
    #[error(
        "the database {path} cannot be written ({source}): Anshin stores every response in it; \
         check the file's owner and permissions and that its file system is mounted read-write"
    )]
    ReadOnly {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot apply migrations to {path}: {message}")]
    Migrate { path: PathBuf, message: String },
    #[error("cannot configure database connection: {0}")]
    Configure(#[from] diesel::result::Error),
    #[error("{0} already exists: choose a new file for the backup")]
    BackupTarget(PathBuf),
    #[error("cannot start the database writer thread: {0}")]
    Thread(String),
    #[error("cannot create connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
}

/// Per-connection PRAGMAs, applied to every pooled and dedicated connection.
#[derive(Debug, Clone, Copy)]
struct ConnectionSettings {
    /// Map the file into memory. Not for the request path's pool: SQLite drops the whole
    /// mapping at the start of every read after another connection's commit (a `munmap`
    /// with its cross-CPU TLB flushes), which cost a submission's code lookup more than the
    /// lookup itself.
    mmap: bool,
}

impl ConnectionSettings {
    fn apply(self, conn: &mut SqliteConnection) -> QueryResult<()> {
        let mmap_bytes = if self.mmap { MMAP_BYTES } else { 0 };
        // synchronous = FULL: a commit is on disk before a response is acknowledged, even
        // against a power cut; group commit makes that one sync per group of submissions.
        // mmap: reading a wave's responses is a long range scan, which memory-mapped I/O
        // serves without a system call and a copy per page.
        // secure_delete: a deleted row's bytes are overwritten, not left in a freed cell or
        // page where a copy of the file would still hold them (purged code hashes, the empty
        // slots dropped at closing).
        conn.batch_execute(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA busy_timeout = {}; \
             PRAGMA mmap_size = {mmap_bytes}; PRAGMA secure_delete = ON;",
            BUSY_TIMEOUT.as_millis()
        ))
    }
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for ConnectionSettings {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Opens one connection with the project's settings (used by the single group-commit writer).
pub fn connect(path: &Path) -> Result<SqliteConnection, DbError> {
    let url = path.to_string_lossy();
    let mut conn = SqliteConnection::establish(&url).map_err(|source| DbError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    ConnectionSettings { mmap: true }.apply(&mut conn)?;
    Ok(conn)
}

/// Switches the file to WAL and applies every pending migration. Returns how many ran.
/// Refuses a database that cannot be written, which SQLite would otherwise open read-only
/// (or fail to open in WAL mode) with a less helpful message.
pub fn migrate(path: &Path) -> Result<usize, DbError> {
    check_writable(path)?;
    let mut conn = connect(path)?;
    conn.batch_execute("PRAGMA journal_mode = WAL;")?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| DbError::Migrate {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
        .len();
    // Upgrade step of `frozen_results`: waves closed before results were frozen at closing
    // are frozen now (a no-op query once they all are).
    crate::aggregation::frozen::freeze_closed_waves(&mut conn)?;
    // Codes issued before slots existed get theirs (a no-op once they have them).
    crate::collection::slots::top_up_open_waves(&mut conn)?;
    Ok(applied)
}

/// Whether the database answers a statement (the health check).
pub fn ping(conn: &mut SqliteConnection) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

/// Rewrites the whole file in key order with nothing in its free pages (VACUUM), then moves
/// everything out of the write-ahead log and truncates it. Run when a wave closes and after
/// codes are purged: afterwards no byte of the files keeps the order in which rows were
/// written, nor a deleted row.
pub fn compact(conn: &mut SqliteConnection) -> QueryResult<()> {
    // The rebuilt copy is assembled in memory, not in a temporary file left on disk.
    conn.batch_execute("PRAGMA temp_store = MEMORY; VACUUM;")?;
    truncate_wal(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct CheckpointResult {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
}

/// The database's write-ahead log file, `<db>-wal`.
fn wal_path(db_path: &Path) -> PathBuf {
    let mut path = db_path.as_os_str().to_owned();
    path.push("-wal");
    PathBuf::from(path)
}

/// The length of the database's write-ahead log in bytes: 0 once it is emptied (or if it
/// cannot be read).
pub fn wal_length(db_path: &Path) -> u64 {
    std::fs::metadata(wal_path(db_path)).map_or(0, |meta| meta.len())
}

/// Copies every committed page from the write-ahead log into the file and truncates the log
/// to zero bytes. Returns `false` if a reader still needed the log (it is left for the next
/// try); it waits for readers up to the connection's busy timeout.
pub fn truncate_wal(conn: &mut SqliteConnection) -> QueryResult<bool> {
    let result: CheckpointResult =
        diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result(conn)?;
    Ok(result.busy == 0)
}

fn check_writable(path: &Path) -> Result<(), DbError> {
    match std::fs::OpenOptions::new().write(true).open(path) {
        Err(source) if source.kind() != std::io::ErrorKind::NotFound => Err(DbError::ReadOnly {
            path: path.to_path_buf(),
            source,
        }),
        _ => Ok(()),
    }
}

/// Writes a consistent copy of the database to `out` while it may be in use (SQLite's
/// `VACUUM INTO` reads one snapshot; writers carry on). Refuses to overwrite a file.
pub fn backup(path: &Path, out: &Path) -> Result<(), DbError> {
    if out.exists() {
        return Err(DbError::BackupTarget(out.to_path_buf()));
    }
    let mut conn = connect(path)?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(out.to_string_lossy())
        .execute(&mut conn)?;
    Ok(())
}

/// Migrates the database, then builds the connection pool.
pub fn open_pool(path: &Path, max_size: u32) -> Result<DbPool, DbError> {
    migrate(path)?;
    let manager = ConnectionManager::<SqliteConnection>::new(path.to_string_lossy());
    Ok(Pool::builder()
        .max_size(max_size)
        .connection_customizer(Box::new(ConnectionSettings { mmap: false }))
        // A SQLite connection to a local file does not go stale; the check was one more
        // statement for every request.
        .test_on_check_out(false)
        .build(manager)?)
}

/// A migrated database file in a fresh temporary directory, with one connection to it (unit
/// tests; the directory is deleted when the returned guard drops).
#[cfg(test)]
pub fn temporary_database() -> (tempfile::TempDir, std::path::PathBuf, SqliteConnection) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.db");
    migrate(&path).expect("migrate");
    let conn = connect(&path).expect("connect");
    (dir, path, conn)
}
