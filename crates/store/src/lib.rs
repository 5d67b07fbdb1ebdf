//! The embedded store: one SQLite file holding every engine's findings, the runs that
//! produced them and an access log of who read or wrote what.
//!
//! This is the only crate that writes SQL. Engines never depend on it: the binary and
//! the server hand findings over. Schema changes are append-only migrations keyed by
//! SQLite's `user_version`, so an older store file is upgraded in place when opened.
//!
//! Guarantees the server and the engines rely on:
//! - A new store file is created mode 0600 whatever the umask (SQLite gives its `-wal`
//!   and `-shm` files the same mode), because findings about voters are as sensitive as
//!   the voter file.
//! - Two commands opening a store that does not exist yet do not race: migrations run
//!   under SQLite's write lock (`BEGIN IMMEDIATE`), and the schema version is read again
//!   once the lock is held.
//! - A store with a newer schema than this build knows is refused before anything is
//!   written to it (the journal mode is switched only after the version check).
//! - [`Store::open_read_only`] opens extra connections for readers (the dashboard's
//!   pool), and [`Store::change_counter`] tells them whether findings or runs changed.
//! - [`Store::check_on_disk`] notices a store file deleted or replaced under an open
//!   connection, which SQLite itself would keep writing to unseen.
//! - [`Store::sync_links`] keeps the links between findings of different engines that
//!   name the same address or account, both directions, once each; [`Store::links_of`]
//!   reads them.

mod accounts;
mod allow;
mod links;
mod overview;
mod sharing;
mod triage;

pub use crate::accounts::{FailedSignIn, SessionRecord, UserRecord};
pub use crate::allow::{ALLOW_LIST_ENGINES, AllowEntry, AllowEvent, AllowHit, allow_subjects};
pub use crate::links::{FindingLink, LinkKeyKind, LinkSync, NewLink};
pub use crate::sharing::SharedObject;
pub use crate::triage::{NumberedTriageEvent, TriageChange, TriageEvent, TriageState, UNTRIAGED};

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use scrutineer_core::{Engine, Evidence, Finding, FindingId, Severity, StoredSummary, Technique, TimeSpan};

/// Errors from the store, naming the file they concern.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open store {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("store {path}: migration to schema version {version} failed: {source}")]
    Migrate { path: PathBuf, version: usize, source: rusqlite::Error },
    #[error(
        "store {path} has schema version {found}, newer than this build understands ({known}); upgrade scrutineer"
    )]
    TooNew { path: PathBuf, found: usize, known: usize },
    #[error(
        "store {path} has schema version {found}, older than this build ({known}); open it once with a command that writes (any engine, or `scrutineer findings list`) to upgrade it"
    )]
    TooOld { path: PathBuf, found: usize, known: usize },
    #[error("cannot create store {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("store {path} was deleted or replaced while open ({problem}); nothing more is written to it")]
    Gone { path: PathBuf, problem: String },
    #[error("store query failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("store holds a malformed {column} for {id}: {source}")]
    Corrupt { id: String, column: &'static str, source: serde_json::Error },
    #[error("store holds an unknown {column} '{value}' for {id}")]
    UnknownValue { id: String, column: &'static str, value: String },
    #[error("a user named '{0}' already exists")]
    UserExists(String),
    #[error("no user named '{0}'")]
    NoUser(String),
    #[error("allow-list: {0}")]
    AllowList(String),
    #[error("no finding '{0}' to list findings after")]
    UnknownCursor(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Below this many findings with a triage status, listing by that status starts from
/// the status index (and sorts what it finds); above, it walks the listing order, where
/// matches are dense enough to fill a page soon.
const FEW_WITH_STATUS: i64 = 5_000;

/// Below this many findings holding a searched text, the search starts from the text
/// index (and sorts what it finds); above, it walks the listing order.
const FEW_WITH_TEXT: i64 = 50_000;

/// `text` as an FTS5 phrase: quoted, so that the index matches it as one substring and
/// reads none of its characters as query syntax.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Migrations in order; entry `i` takes the schema from version `i` to `i + 1`.
/// Never edit a released entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: runs, findings, access log.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        engine TEXT NOT NULL,
        command TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        summary TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE findings (
        id TEXT PRIMARY KEY,
        run_id INTEGER REFERENCES runs(id),
        engine TEXT NOT NULL,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        severity TEXT NOT NULL,
        severity_rank INTEGER NOT NULL,
        confidence REAL NOT NULL,
        span_start TEXT,
        span_end TEXT,
        scope TEXT,
        techniques TEXT NOT NULL,
        evidence TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX findings_engine ON findings(engine, severity_rank DESC, confidence DESC);
    CREATE INDEX findings_run ON findings(run_id);
    CREATE TABLE access_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL
    );",
    // 2: a counter bumped by every change to findings or runs (whoever writes them,
    // the sqlite3 shell included), so that a reader can cache what it built from them.
    // The access log is left out: every request writes to it.
    "CREATE TABLE changes (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        counter INTEGER NOT NULL
    );
    INSERT INTO changes (id, counter) VALUES (1, 0);
    CREATE TRIGGER findings_inserted AFTER INSERT ON findings BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER findings_updated AFTER UPDATE ON findings BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER findings_deleted AFTER DELETE ON findings BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER runs_inserted AFTER INSERT ON runs BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER runs_updated AFTER UPDATE ON runs BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER runs_deleted AFTER DELETE ON runs BEGIN UPDATE changes SET counter = counter + 1; END;",
    // 3: the layout version of each run's summary (see `scrutineer_core::summary`).
    // Runs recorded before it keep NULL: their summaries are unversioned, which the
    // engines' summary types read by an explicit migration or refuse by name.
    "ALTER TABLE runs ADD COLUMN summary_version INTEGER;",
    // 4: users of the server (password hashes only) and their sign-in sessions (kept by
    // the SHA-256 of the cookie, so a copy of the store signs nobody in).
    "CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        voter_engines TEXT NOT NULL DEFAULT '',
        disabled INTEGER NOT NULL DEFAULT 0,
        failed_sign_ins INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id_sha256 TEXT PRIMARY KEY,
        user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user);",
    // 5: triage, keyed by finding id apart from the findings (an engine re-run replaces
    // findings and keeps their triage), and its append-only history.
    "CREATE TABLE triage (
        finding_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        assignee TEXT,
        tlp TEXT,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    );
    CREATE TABLE triage_events (
        id INTEGER PRIMARY KEY,
        finding_id TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        field TEXT NOT NULL,
        from_value TEXT,
        to_value TEXT
    );
    CREATE INDEX triage_events_finding ON triage_events(finding_id, id);
    CREATE TRIGGER triage_events_no_update BEFORE UPDATE ON triage_events
        BEGIN SELECT RAISE(ABORT, 'the triage history is append-only'); END;
    CREATE TRIGGER triage_events_no_delete BEFORE DELETE ON triage_events
        BEGIN SELECT RAISE(ABORT, 'the triage history is append-only'); END;",
    // 6: STIX objects partners post to the TAXII inbox, one row per object version.
    "CREATE TABLE shared_objects (
        id TEXT NOT NULL,
        version TEXT NOT NULL,
        date_added TEXT NOT NULL,
        posted_by TEXT NOT NULL,
        object TEXT NOT NULL,
        PRIMARY KEY (id, version)
    );",
    // 7: the allow-list made from false positives (sources, accounts), its append-only
    // history, and what each scan left out because of it; findings by when they were
    // written, for the server's live updates and "new since your last visit".
    "CREATE TABLE allow_list (
        id INTEGER PRIMARY KEY,
        engine TEXT NOT NULL,
        subjects TEXT NOT NULL,
        reason TEXT NOT NULL,
        finding_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        removed_at TEXT,
        removed_by TEXT
    );
    CREATE TABLE allow_list_events (
        id INTEGER PRIMARY KEY,
        entry_id INTEGER NOT NULL REFERENCES allow_list(id),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX allow_list_events_entry ON allow_list_events(entry_id, id);
    CREATE TRIGGER allow_list_events_no_update BEFORE UPDATE ON allow_list_events
        BEGIN SELECT RAISE(ABORT, 'the allow-list history is append-only'); END;
    CREATE TRIGGER allow_list_events_no_delete BEFORE DELETE ON allow_list_events
        BEGIN SELECT RAISE(ABORT, 'the allow-list history is append-only'); END;
    CREATE TRIGGER allow_list_no_delete BEFORE DELETE ON allow_list
        BEGIN SELECT RAISE(ABORT, 'allow-list entries are removed by marking them, not deleted'); END;
    CREATE TABLE allow_list_hits (
        id INTEGER PRIMARY KEY,
        entry_id INTEGER NOT NULL REFERENCES allow_list(id),
        run_id INTEGER NOT NULL,
        finding_id TEXT NOT NULL,
        title TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX allow_list_hits_entry ON allow_list_hits(entry_id, run_id);
    CREATE INDEX findings_recorded ON findings(recorded_at);",
    // 8: links between findings of different engines that name the same address or
    // account, one row per direction, written whole by each join (see `links`).
    "CREATE TABLE finding_links (
        finding_id TEXT NOT NULL,
        linked_id TEXT NOT NULL,
        key_kind TEXT NOT NULL,
        key_value TEXT NOT NULL,
        join_name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (finding_id, linked_id, key_kind, key_value)
    );
    CREATE INDEX finding_links_join ON finding_links(join_name);",
    // 9: the listing order (most severe, most confident, then id) as ascending columns,
    // so that one index serves both the order and a keyset cursor `(rank, confidence,
    // id) > (…)`, with or without an engine: a page deep in a million findings is a
    // seek, not a sort of every row. The columns are virtual: nothing is stored twice.
    // And a counter of changes to triage and to the TAXII inbox (whoever writes them),
    // which with the findings' counter keys the server's cache of TAXII collections.
    "ALTER TABLE findings ADD COLUMN order_rank INTEGER GENERATED ALWAYS AS (-severity_rank) VIRTUAL;
    ALTER TABLE findings ADD COLUMN order_confidence REAL GENERATED ALWAYS AS (-confidence) VIRTUAL;
    DROP INDEX findings_engine;
    CREATE INDEX findings_order ON findings(order_rank, order_confidence, id);
    CREATE INDEX findings_engine_order ON findings(engine, order_rank, order_confidence, id);
    CREATE INDEX triage_status ON triage(status, finding_id);
    CREATE TABLE sharing_changes (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        counter INTEGER NOT NULL
    );
    INSERT INTO sharing_changes (id, counter) VALUES (1, 0);
    CREATE TRIGGER triage_inserted_sharing AFTER INSERT ON triage BEGIN UPDATE sharing_changes SET counter = counter + 1; END;
    CREATE TRIGGER triage_updated_sharing AFTER UPDATE ON triage BEGIN UPDATE sharing_changes SET counter = counter + 1; END;
    CREATE TRIGGER triage_deleted_sharing AFTER DELETE ON triage BEGIN UPDATE sharing_changes SET counter = counter + 1; END;
    CREATE TRIGGER shared_objects_inserted AFTER INSERT ON shared_objects BEGIN UPDATE sharing_changes SET counter = counter + 1; END;
    CREATE TRIGGER shared_objects_updated AFTER UPDATE ON shared_objects BEGIN UPDATE sharing_changes SET counter = counter + 1; END;
    CREATE TRIGGER shared_objects_deleted AFTER DELETE ON shared_objects BEGIN UPDATE sharing_changes SET counter = counter + 1; END;",
    // 10: an index of the findings' title and summary by trigrams (FTS5), so that a text
    // search reads the findings that hold the text instead of every finding it walks
    // past; trigrams keep substring search (`scan` finds `scanned`), without case.
    // External content: the text is not stored twice, the index follows the findings by
    // rowid through triggers (which is why `put_findings` updates a finding in place
    // rather than replacing its row, and the store never vacuums: either could give a
    // finding another rowid behind the index's back).
    "CREATE VIRTUAL TABLE findings_text USING fts5(title, summary, content='findings', content_rowid='rowid', tokenize='trigram');
    CREATE TRIGGER findings_text_inserted AFTER INSERT ON findings BEGIN
        INSERT INTO findings_text (rowid, title, summary) VALUES (new.rowid, new.title, new.summary);
    END;
    CREATE TRIGGER findings_text_deleted AFTER DELETE ON findings BEGIN
        INSERT INTO findings_text (findings_text, rowid, title, summary) VALUES ('delete', old.rowid, old.title, old.summary);
    END;
    CREATE TRIGGER findings_text_updated AFTER UPDATE OF title, summary ON findings BEGIN
        INSERT INTO findings_text (findings_text, rowid, title, summary) VALUES ('delete', old.rowid, old.title, old.summary);
        INSERT INTO findings_text (rowid, title, summary) VALUES (new.rowid, new.title, new.summary);
    END;
    INSERT INTO findings_text (findings_text) VALUES ('rebuild');",
    // 11: the access log lives in a database file of its own beside the store (see
    // `LOG_MIGRATIONS`), its rows moved there first by `Store::move_access_log`. A
    // server writes a row per request: in the store's own file, each of those commits
    // emptied every reader's page cache, since SQLite drops a connection's cache when
    // another connection has written to the file.
    "DROP TABLE main.access_log;",
];

/// The schema version from which the access log is in its own file.
const ACCESS_LOG_MOVED: usize = 11;

/// Migrations of the access log's own file (attached as `log`), as [`MIGRATIONS`].
const LOG_MIGRATIONS: &[&str] = &[
    // 1: the access log, append-only (nothing of the project updates or deletes a row;
    // a row changed or removed through SQL is refused), and visits by who and what, for
    // "new since your last visit".
    "CREATE TABLE log.access_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL
    );
    CREATE INDEX log.access_log_visits ON access_log(actor, action, target, at);
    CREATE TRIGGER log.access_log_no_update BEFORE UPDATE ON access_log
        BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
    CREATE TRIGGER log.access_log_no_delete BEFORE DELETE ON access_log
        BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;",
];

/// The access log's file for the store at `path`: beside it, named after it.
pub fn access_log_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".access-log");
    PathBuf::from(name)
}

/// A finding's id and engine and when it was last written, for followers of the store.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedFinding {
    /// The finding's id.
    pub id: String,
    /// Its engine.
    pub engine: Engine,
    /// When it was last written (by its engine's latest run that found it).
    pub recorded_at: DateTime<Utc>,
}

/// A run of one engine command, recorded so that every finding can be traced to the
/// invocation that produced it. Serialised as it is for the server's `/api/runs`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunRecord {
    pub id: i64,
    pub engine: Engine,
    pub command: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub summary: serde_json::Value,
    /// The summary's layout version; `None` for runs recorded before summaries were
    /// versioned (and for runs not finished).
    pub summary_version: Option<u32>,
}

impl RunRecord {
    /// The run's summary with its engine and version, for the engine's summary type to
    /// read ([`StoredSummary::decode`]).
    pub fn stored_summary(&self) -> StoredSummary {
        StoredSummary { engine: self.engine, version: self.summary_version, body: self.summary.clone() }
    }
}

/// One row of the access log.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRecord {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
}

/// Which findings to list.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub engine: Option<Engine>,
    pub kind: Option<String>,
    pub min_severity: Option<Severity>,
    pub run_id: Option<i64>,
    /// Only findings with this triage status (`new` for those never triaged, or
    /// triaged back to `new`).
    pub status: Option<String>,
    /// Only findings whose title or summary holds this text (SQL `LIKE`: letters
    /// compared without case for ASCII only).
    pub text: Option<String>,
    /// Only findings after this one in the listing order (a keyset cursor: the id of
    /// the last finding of the page before). An id the store does not hold is an error.
    pub after: Option<String>,
    pub limit: Option<usize>,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The file's device and inode when opened (`None` in memory or off Unix), and the
    /// access log's.
    identity: Option<FileIdentity>,
    log_identity: Option<FileIdentity>,
}

/// The store file's identity when it was opened, and its access log's; [`OnDisk::check`]
/// fails once either path no longer names that file.
#[derive(Debug, Clone)]
pub struct OnDisk {
    path: PathBuf,
    identity: Option<FileIdentity>,
    log_identity: Option<FileIdentity>,
}

impl OnDisk {
    pub fn check(&self) -> Result<()> {
        let log_path = access_log_path(&self.path);
        for (path, opened) in [(&self.path, self.identity), (&log_path, self.log_identity)] {
            let Some(opened) = opened else { continue };
            match identity_of(path) {
                Ok(Some(now)) if now == opened => {}
                Ok(_) => {
                    return Err(StoreError::Gone {
                        path: path.clone(),
                        problem: "another file now has its name".into(),
                    });
                }
                Err(e) => return Err(StoreError::Gone { path: path.clone(), problem: e.to_string() }),
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    dev: u64,
    ino: u64,
}

#[cfg(unix)]
fn identity_of(path: &Path) -> std::io::Result<Option<FileIdentity>> {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(path)?;
    Ok(Some(FileIdentity { dev: m.dev(), ino: m.ino() }))
}

#[cfg(not(unix))]
fn identity_of(_path: &Path) -> std::io::Result<Option<FileIdentity>> {
    Ok(None)
}

/// Switches the store to WAL (kept in the file, so once is enough). SQLite does not wait
/// on its busy handler for the exclusive lock this needs when another connection is
/// creating the same store, so the switch is retried here for as long as the busy
/// timeout would have waited.
fn set_wal(conn: &Connection, schema: &str) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mode: rusqlite::Result<String> =
            conn.pragma_update_and_check(Some(schema), "journal_mode", "WAL", |r| r.get(0));
        match mode {
            Ok(_) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// How a read-only connection reads: the store file mapped into memory (pages are read
/// where the operating system caches them, with no copy into SQLite's own cache, which
/// SQLite empties whenever another connection has written) and a larger page cache for
/// the pages still read through it (those in the write-ahead log). Mapping is safe here
/// because nothing shrinks the store file while it is open: the store never vacuums.
fn read_tuning(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "mmap_size", 2_i64 << 30)?;
    conn.pragma_update(None, "cache_size", -32_768_i64)
}

/// Creates an empty store file readable by its owner only, unless it exists. SQLite
/// treats an empty file as an empty database and gives the `-wal` and `-shm` files it
/// creates the main file's mode, so all three stay private whatever the umask.
fn create_private(path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StoreError::Create { path: path.to_owned(), source }),
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        create_private(&path)?;
        let conn =
            Connection::open(&path).map_err(|source| StoreError::Open { path: path.clone(), source })?;
        Store::init(conn, path)
    }

    /// Opens an existing, up-to-date store for reading only: no migration, no write, so
    /// any number of these can read beside one writer (the store is in WAL mode).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let open = |source| StoreError::Open { path: path.clone(), source };
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(open)?;
        read_tuning(&conn).map_err(open)?;
        let identity = identity_of(&path)
            .map_err(|e| StoreError::Gone { path: path.clone(), problem: e.to_string() })?;
        let mut store = Store { conn, path, identity, log_identity: None };
        let found = store.schema_version()?;
        let known = MIGRATIONS.len();
        if found > known {
            return Err(StoreError::TooNew { path: store.path, found, known });
        }
        if found < known {
            return Err(StoreError::TooOld { path: store.path, found, known });
        }
        // Attached on a read-only connection, the access log is read-only too.
        let log_path = access_log_path(&store.path);
        store
            .conn
            .execute("ATTACH DATABASE ?1 AS log", params![log_path.to_string_lossy()])
            .map_err(|source| StoreError::Open { path: log_path.clone(), source })?;
        let found: i64 = store.conn.query_row("PRAGMA log.user_version", [], |r| r.get(0))?;
        let (found, known) = (usize::try_from(found).unwrap_or(0), LOG_MIGRATIONS.len());
        if found != known {
            return Err(if found > known {
                StoreError::TooNew { path: log_path, found, known }
            } else {
                StoreError::TooOld { path: log_path, found, known }
            });
        }
        store.log_identity = identity_of(&log_path)
            .map_err(|e| StoreError::Gone { path: log_path.clone(), problem: e.to_string() })?;
        Ok(store)
    }

    /// A store that lives in memory only, for tests and dry runs.
    pub fn open_in_memory() -> Result<Store> {
        let path = PathBuf::from(":memory:");
        let conn =
            Connection::open_in_memory().map_err(|source| StoreError::Open { path: path.clone(), source })?;
        Store::init(conn, path)
    }

    fn init(conn: Connection, path: PathBuf) -> Result<Store> {
        let open = |source| StoreError::Open { path: path.clone(), source };
        // Another command may be creating this store at this moment: wait for its lock
        // rather than fail.
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(open)?;
        // A newer schema is refused before anything (the journal mode included) changes.
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(open)?;
        let found = usize::try_from(found).unwrap_or(0);
        if found > MIGRATIONS.len() {
            return Err(StoreError::TooNew { path, found, known: MIGRATIONS.len() });
        }
        // WAL lets the dashboard read while an engine writes; NORMAL sync is durable
        // across application crashes, which is what findings need (the ballot ledger
        // keeps its own fsync policy).
        set_wal(&conn, "main").map_err(|source| StoreError::Open { path: path.clone(), source })?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|source| StoreError::Open { path: path.clone(), source })?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|source| StoreError::Open { path: path.clone(), source })?;
        // A row replaced by `INSERT OR REPLACE` (from any tool on this connection) then
        // fires its delete triggers, which keep the text index right.
        conn.pragma_update(None, "recursive_triggers", "ON")
            .map_err(|source| StoreError::Open { path: path.clone(), source })?;
        let in_memory = path.as_os_str() == ":memory:";
        let log_path = access_log_path(&path);
        let log_open = |source| StoreError::Open { path: log_path.clone(), source };
        let (identity, log_identity) = if in_memory {
            conn.execute_batch("ATTACH DATABASE ':memory:' AS log").map_err(log_open)?;
            (None, None)
        } else {
            create_private(&log_path)?;
            conn.execute("ATTACH DATABASE ?1 AS log", params![log_path.to_string_lossy()])
                .map_err(log_open)?;
            set_wal(&conn, "log").map_err(log_open)?;
            conn.pragma_update(Some("log"), "synchronous", "NORMAL").map_err(log_open)?;
            let gone =
                |p: &Path, e: std::io::Error| StoreError::Gone { path: p.to_owned(), problem: e.to_string() };
            (
                identity_of(&path).map_err(|e| gone(&path, e))?,
                identity_of(&log_path).map_err(|e| gone(&log_path, e))?,
            )
        };
        let mut store = Store { conn, path, identity, log_identity };
        store.migrate_log()?;
        store.migrate()?;
        Ok(store)
    }

    /// Fails if the file this store was opened from is no longer at its path (deleted,
    /// or replaced by another file): SQLite would go on writing to the unlinked file and
    /// every row written from then on would be lost.
    pub fn check_on_disk(&self) -> Result<()> {
        self.on_disk().check()
    }

    /// What [`Store::check_on_disk`] checks, apart from the connection, so that a caller
    /// can check without waiting for a connection another thread holds.
    pub fn on_disk(&self) -> OnDisk {
        OnDisk { path: self.path.clone(), identity: self.identity, log_identity: self.log_identity }
    }

    /// Runs `read` in one read transaction, so that everything it reads (the change
    /// counter with the findings, say) comes from one state of the store.
    pub fn snapshot<T>(&self, read: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN DEFERRED")?;
        let out = read(self);
        // A read transaction has nothing to keep: ending it cannot lose anything.
        let ended = self.conn.execute_batch("COMMIT");
        let out = out?;
        ended?;
        Ok(out)
    }

    /// A number that changes whenever findings or runs change, by whatever writer (a
    /// trigger keeps it); readers key caches on it. The access log does not move it.
    pub fn change_counter(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT counter FROM changes WHERE id = 1", [], |r| r.get(0))?)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the store, reporting what dropping it would not: a close that failed (its
    /// last checkpoint, for one).
    pub fn close(self) -> Result<()> {
        self.conn.close().map_err(|(_, source)| StoreError::Sql(source))
    }

    pub fn schema_version(&self) -> Result<usize> {
        let v: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok(usize::try_from(v).unwrap_or(0))
    }

    /// Brings the access log's file up to date (see [`LOG_MIGRATIONS`]).
    fn migrate_log(&mut self) -> Result<()> {
        let log_path = access_log_path(&self.path);
        let wrap = |version, source| StoreError::Migrate { path: log_path.clone(), version, source };
        let known = LOG_MIGRATIONS.len();
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| wrap(1, e))?;
        let current: i64 =
            tx.query_row("PRAGMA log.user_version", [], |r| r.get(0)).map_err(|e| wrap(1, e))?;
        let current = usize::try_from(current).unwrap_or(0);
        if current > known {
            return Err(StoreError::TooNew { path: log_path.clone(), found: current, known });
        }
        if current == known {
            return Ok(());
        }
        for (i, sql) in LOG_MIGRATIONS.iter().enumerate().skip(current) {
            let version = i + 1;
            tx.execute_batch(sql).map_err(|e| wrap(version, e))?;
            tx.pragma_update(Some("log"), "user_version", version as i64).map_err(|e| wrap(version, e))?;
        }
        tx.commit().map_err(|e| wrap(known, e))
    }

    /// Copies the rows of an access log still in the store's own file (a store older
    /// than [`ACCESS_LOG_MOVED`]) to the access log's file, in a transaction of that
    /// file alone, ids kept, so that copying again adds nothing. The migration that then
    /// drops the old table checks, under the store's write lock, that every row is in
    /// the new file; a row written meanwhile by an older build makes it copy again.
    /// (One transaction over both files would not do: in WAL mode SQLite commits
    /// attached files one after the other, the store's first, so a crash between the
    /// two commits would lose the rows.)
    fn move_access_log(&mut self) -> Result<()> {
        let has_old: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'access_log')",
            [],
            |r| r.get(0),
        )?;
        if has_old {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT OR IGNORE INTO log.access_log (id, at, actor, action, target)
                 SELECT id, at, actor, action, target FROM main.access_log",
                [],
            )?;
            tx.commit()?;
        }
        Ok(())
    }

    fn migrate(&mut self) -> Result<()> {
        let known = MIGRATIONS.len();
        // A row an older build adds to the old access log between the copy and the
        // migration is copied on the next try.
        for _ in 0..10 {
            if self.schema_version()? == known {
                return Ok(());
            }
            if self.schema_version()? < ACCESS_LOG_MOVED {
                self.move_access_log()?;
            }
            if self.migrate_once()? {
                return Ok(());
            }
        }
        Err(StoreError::Migrate {
            path: self.path.clone(),
            version: ACCESS_LOG_MOVED,
            source: rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                Some("rows kept arriving in the old access log while it was moved".into()),
            ),
        })
    }

    /// Runs the migrations the store lacks in one transaction; `false` if the access
    /// log's rows are not all moved yet (nothing is then changed).
    fn migrate_once(&mut self) -> Result<bool> {
        let known = MIGRATIONS.len();
        // Under the write lock, read the version again: another command may have
        // created or upgraded the store while this one waited.
        let first = self.schema_version()? + 1;
        let wrap = |version, source| StoreError::Migrate { path: self.path.clone(), version, source };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| wrap(first, e))?;
        let current: i64 =
            tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| wrap(first, e))?;
        let current = usize::try_from(current).unwrap_or(0);
        if current > known {
            return Err(StoreError::TooNew { path: self.path.clone(), found: current, known });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
            let version = i + 1;
            if version == ACCESS_LOG_MOVED {
                let unmoved: i64 = tx
                    .query_row(
                        "SELECT COUNT(*) FROM main.access_log AS m
                         WHERE NOT EXISTS (SELECT 1 FROM log.access_log AS l WHERE l.id = m.id)",
                        [],
                        |r| r.get(0),
                    )
                    .map_err(|e| wrap(version, e))?;
                if unmoved > 0 {
                    return Ok(false);
                }
            }
            tx.execute_batch(sql).map_err(|e| wrap(version, e))?;
            tx.pragma_update(None, "user_version", version as i64).map_err(|e| wrap(version, e))?;
        }
        tx.commit().map_err(|e| wrap(known, e))?;
        Ok(true)
    }

    /// Records the start of a run and returns its id.
    pub fn begin_run(&self, engine: Engine, command: &str) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO runs (engine, command, started_at) VALUES (?1, ?2, ?3)",
            params![engine.as_str(), command, Utc::now().to_rfc3339()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Marks a run finished with its engine's summary (counts, parameters, what the
    /// report charts), kept with the summary's layout version.
    pub fn finish_run(&self, run_id: i64, summary: &StoredSummary) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET finished_at = ?1, summary = ?2, summary_version = ?3 WHERE id = ?4",
            params![Utc::now().to_rfc3339(), summary.body.to_string(), summary.version, run_id],
        )?;
        Ok(())
    }

    /// The latest finished run of `engine` that left a summary (what the report charts).
    pub fn latest_finished_run(&self, engine: Engine) -> Result<Option<RunRecord>> {
        Ok(self
            .runs(Some(engine))?
            .into_iter()
            .filter(|r| r.finished_at.is_some() && !r.summary.is_null())
            .max_by_key(|r| (r.started_at, r.id)))
    }

    pub fn runs(&self, engine: Option<Engine>) -> Result<Vec<RunRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, engine, command, started_at, finished_at, summary, summary_version FROM runs
             WHERE (?1 IS NULL OR engine = ?1) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![engine.map(Engine::as_str)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<u32>>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, engine, command, started, finished, summary, summary_version) = row?;
            let engine = engine.parse::<Engine>().map_err(|e| StoreError::UnknownValue {
                id: format!("run {id}"),
                column: "engine",
                value: e.value,
            })?;
            out.push(RunRecord {
                id,
                engine,
                command,
                started_at: parse_time(&started).unwrap_or_default(),
                finished_at: finished.as_deref().and_then(parse_time),
                summary: serde_json::from_str(&summary).map_err(|source| StoreError::Corrupt {
                    id: format!("run {id}"),
                    column: "summary",
                    source,
                })?,
                summary_version,
            });
        }
        Ok(out)
    }

    /// Writes findings in one transaction; a finding whose id exists is replaced, so that
    /// re-running an engine on the same input updates rather than duplicates.
    pub fn put_findings(&mut self, run_id: Option<i64>, findings: &[Finding]) -> Result<usize> {
        let now = Utc::now().to_rfc3339();
        let tx = self.conn.transaction()?;
        // The store's write lock first, by a write of its own: the text index's triggers
        // read the index before they write it, and a transaction that has read before
        // it writes fails at once (SQLITE_BUSY_SNAPSHOT) when another process committed
        // meanwhile, instead of waiting for the lock. (`BEGIN IMMEDIATE` would also
        // lock the access log's file, holding up every request's row for the write.)
        tx.execute("UPDATE changes SET counter = counter + 1 WHERE id = 1", [])?;
        {
            let mut stmt = tx.prepare(
                // In place, not `OR REPLACE`: a replaced row would get a new rowid, and
                // the text index (migration 10) follows rows by rowid.
                "INSERT INTO findings (id, run_id, engine, kind, title, summary, severity,
                 severity_rank, confidence, span_start, span_end, scope, techniques, evidence, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id, engine = excluded.engine,
                     kind = excluded.kind, title = excluded.title, summary = excluded.summary,
                     severity = excluded.severity, severity_rank = excluded.severity_rank,
                     confidence = excluded.confidence, span_start = excluded.span_start,
                     span_end = excluded.span_end, scope = excluded.scope,
                     techniques = excluded.techniques, evidence = excluded.evidence,
                     recorded_at = excluded.recorded_at",
            )?;
            for f in findings {
                let techniques = serde_json::to_string(&f.techniques).unwrap_or_else(|_| "[]".into());
                let evidence = serde_json::to_string(&f.evidence).unwrap_or_else(|_| "[]".into());
                stmt.execute(params![
                    f.id.0,
                    run_id,
                    f.engine.as_str(),
                    f.kind,
                    f.title,
                    f.summary,
                    f.severity.as_str(),
                    f.severity as i64,
                    f.confidence,
                    f.time_span.map(|s| s.start.to_rfc3339()),
                    f.time_span.map(|s| s.end.to_rfc3339()),
                    f.scope,
                    techniques,
                    evidence,
                    now,
                ])?;
            }
        }
        tx.commit()?;
        Ok(findings.len())
    }

    /// Findings matching the filter, most severe and most confident first, then by id.
    ///
    /// The statement holds only the conditions asked for, so that SQLite can seek the
    /// listing-order indices (migration 9) on the engine and the cursor; the status is
    /// a lookup per candidate row, the order is never a sort.
    pub fn findings(&self, filter: &FindingFilter) -> Result<Vec<Finding>> {
        self.stored_findings(filter)?.into_iter().map(StoredFinding::into_finding).collect()
    }

    /// [`Store::findings`] with each finding's evidence and techniques left as the JSON
    /// text the store holds, for a caller that passes them on as they are (the server's
    /// API, where decoding and encoding them again was most of the cost of a page).
    ///
    /// A text search reads the trigram index (migration 10) when few findings hold the
    /// text: those findings are then read by rowid and sorted. When many do, the listing
    /// order is walked instead and each row tested, since matches are then dense enough
    /// to fill a page soon. Texts under three characters have no trigram and are always
    /// tested row by row.
    pub fn stored_findings(&self, filter: &FindingFilter) -> Result<Vec<StoredFinding>> {
        use rusqlite::types::Value as Sql;
        let few_with_text = match filter.text.as_deref() {
            Some(text) if text.chars().count() >= 3 => {
                let with_text: i64 = self.conn.query_row(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM findings_text WHERE findings_text MATCH ?1 LIMIT ?2)",
                    params![fts_phrase(text), FEW_WITH_TEXT],
                    |r| r.get(0),
                )?;
                with_text < FEW_WITH_TEXT
            }
            _ => false,
        };
        // Few findings with the status asked for: read them by the status index and
        // sort them, rather than walk the listing order past every other finding (the
        // other conditions are then written `+column`, which SQLite does not seek on).
        let few_with_status = match filter.status.as_deref() {
            _ if few_with_text => false,
            None | Some(triage::UNTRIAGED) => false,
            Some(status) => {
                let with_status: i64 = self.conn.query_row(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM triage WHERE status = ?1 LIMIT ?2)",
                    params![status, FEW_WITH_STATUS],
                    |r| r.get(0),
                )?;
                with_status < FEW_WITH_STATUS
            }
        };
        let seek = |seekable: &'static str, unseekable: &'static str| {
            if few_with_status || few_with_text { unseekable } else { seekable }
        };
        let mut conditions: Vec<&str> = Vec::new();
        let mut values: Vec<Sql> = Vec::new();
        if let Some(engine) = filter.engine {
            conditions.push(seek("engine = ?", "+engine = ?"));
            values.push(Sql::Text(engine.as_str().to_owned()));
        }
        if let Some(kind) = &filter.kind {
            conditions.push(seek("kind = ?", "+kind = ?"));
            values.push(Sql::Text(kind.clone()));
        }
        if let Some(min) = filter.min_severity {
            conditions.push(seek("order_rank <= ?", "+order_rank <= ?"));
            values.push(Sql::Integer(-(min as i64)));
        }
        if let Some(run_id) = filter.run_id {
            conditions.push(seek("run_id = ?", "+run_id = ?"));
            values.push(Sql::Integer(run_id));
        }
        match filter.status.as_deref() {
            None => {}
            Some(triage::UNTRIAGED) => conditions.push(
                "NOT EXISTS (SELECT 1 FROM triage t WHERE t.finding_id = findings.id AND t.status <> 'new')",
            ),
            Some(status) => {
                conditions.push(if few_with_status {
                    "id IN (SELECT finding_id FROM triage INDEXED BY triage_status WHERE status = ?)"
                } else {
                    "EXISTS (SELECT 1 FROM triage t WHERE t.finding_id = findings.id AND t.status = ?)"
                });
                values.push(Sql::Text(status.to_owned()));
            }
        }
        if few_with_text && let Some(text) = &filter.text {
            conditions.push("rowid IN (SELECT rowid FROM findings_text WHERE findings_text MATCH ?)");
            values.push(Sql::Text(fts_phrase(text)));
        }
        // The index's matches are candidates: trigrams fold case beyond ASCII, which
        // `LIKE` does not, so the `LIKE` stays and says what matches.
        if let Some(text) = &filter.text {
            conditions.push("(title LIKE ? ESCAPE '\\' OR summary LIKE ? ESCAPE '\\')");
            let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = format!("%{escaped}%");
            values.push(Sql::Text(pattern.clone()));
            values.push(Sql::Text(pattern));
        }
        if let Some(after) = &filter.after {
            let (rank, confidence): (i64, f64) = self
                .conn
                .query_row(
                    "SELECT order_rank, order_confidence FROM findings WHERE id = ?1",
                    params![after],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::UnknownCursor(after.clone()))?;
            conditions.push(seek(
                "(order_rank, order_confidence, id) > (?, ?, ?)",
                "(+order_rank, +order_confidence, +id) > (?, ?, ?)",
            ));
            values.extend([Sql::Integer(rank), Sql::Real(confidence), Sql::Text(after.clone())]);
        }
        let columns = "SELECT id, engine, kind, title, summary, severity, confidence, span_start, span_end,
                    scope, techniques, evidence
             FROM findings";
        let mut sql = String::from(columns);
        // Driven by the text index's matches, read by rowid: no index of the table. The
        // matches are sorted by their keys alone and only the page's rows read whole, so
        // that the sort does not copy the evidence of every match.
        if few_with_text {
            sql = String::from("SELECT rowid FROM findings NOT INDEXED");
        }
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY order_rank, order_confidence, id LIMIT ?");
        if few_with_text {
            sql = format!("{columns} WHERE rowid IN ({sql}) ORDER BY order_rank, order_confidence, id");
        }
        values.push(Sql::Integer(filter.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX)).unwrap_or(-1)));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), row_to_raw)?;
        rows.map(|r| r.map_err(StoreError::from).and_then(RawFinding::into_stored)).collect()
    }

    /// One finding by id, or by a unique prefix of its id.
    pub fn finding(&self, id_or_prefix: &str) -> Result<Option<Finding>> {
        // Ids sort as text, so every id that starts with the prefix comes right at or after
        // it: the first two ids from the prefix on, read by seeking the primary key, say
        // whether it is an id, a unique prefix or neither (a `LIKE` would read every row,
        // and would take `_` and `%` in the prefix as wildcards).
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, engine, kind, title, summary, severity, confidence, span_start, span_end,
                    scope, techniques, evidence
             FROM findings WHERE id >= ?1 ORDER BY id LIMIT 2",
        )?;
        let mut rows: Vec<RawFinding> = stmt
            .query_map(params![id_or_prefix], row_to_raw)?
            .filter(|r| r.as_ref().map_or(true, |r| r.id.starts_with(id_or_prefix)))
            .collect::<rusqlite::Result<_>>()?;
        let unique = rows.len() == 1 || rows.first().is_some_and(|r| r.id == id_or_prefix);
        if id_or_prefix.is_empty() || !unique {
            return Ok(None);
        }
        rows.swap_remove(0).into_finding().map(Some)
    }

    /// Findings written after `since` (by an engine run, in whatever process), oldest
    /// first: their ids, engines and when they were written, at most `limit` of them,
    /// and how many there are in all.
    pub fn findings_recorded_after(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<(Vec<RecordedFinding>, usize)> {
        let since = since.to_rfc3339();
        let total: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM findings WHERE recorded_at > ?1",
            params![since],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare(
            "SELECT id, engine, recorded_at FROM findings WHERE recorded_at > ?1 ORDER BY recorded_at, id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![since, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, e, at) = row?;
            let engine = e.parse::<Engine>().map_err(|err| StoreError::UnknownValue {
                id: id.clone(),
                column: "engine",
                value: err.value,
            })?;
            out.push(RecordedFinding { id, engine, recorded_at: parse_time(&at).unwrap_or_default() });
        }
        Ok((out, usize::try_from(total).unwrap_or(0)))
    }

    /// Counts of findings per engine and severity, for summaries and the dashboard.
    pub fn counts(&self) -> Result<Vec<(Engine, Severity, usize)>> {
        let mut stmt = self.conn.prepare(
            "SELECT engine, severity, COUNT(*) FROM findings GROUP BY engine, severity ORDER BY engine, severity_rank DESC",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (e, s, n) = row?;
            let engine = e.parse::<Engine>().map_err(|err| StoreError::UnknownValue {
                id: "the finding counts".into(),
                column: "engine",
                value: err.value,
            })?;
            let severity = s.parse::<Severity>().map_err(|err| StoreError::UnknownValue {
                id: "the finding counts".into(),
                column: "severity",
                value: err.value,
            })?;
            out.push((engine, severity, usize::try_from(n).unwrap_or(0)));
        }
        Ok(out)
    }

    /// Deletes an engine's findings (before a fresh scan replaces them), returning how many.
    pub fn clear_findings(&self, engine: Engine, kind: Option<&str>) -> Result<usize> {
        let n = self.conn.execute(
            "DELETE FROM findings WHERE engine = ?1 AND (?2 IS NULL OR kind = ?2)",
            params![engine.as_str(), kind],
        )?;
        Ok(n)
    }

    /// Appends to the access log. Voter data is sensitive: every command that reads or
    /// writes the store records who ran it and on what.
    pub fn log_access(&self, actor: &str, action: &str, target: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO log.access_log (at, actor, action, target) VALUES (?1, ?2, ?3, ?4)",
            params![Utc::now().to_rfc3339(), actor, action, target],
        )?;
        Ok(())
    }

    /// Appends rows to the access log in one transaction (a server's requests, written
    /// together so that a busy server commits once per batch, not once per request).
    pub fn log_access_batch(&mut self, rows: &[AccessRecord]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO log.access_log (at, actor, action, target) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for r in rows {
                stmt.execute(params![r.at.to_rfc3339(), r.actor, r.action, r.target])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn access_log(&self, limit: usize) -> Result<Vec<AccessRecord>> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, actor, action, target FROM log.access_log ORDER BY id DESC LIMIT ?1")?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok(AccessRecord {
                at: parse_time(&r.get::<_, String>(0)?).unwrap_or_default(),
                actor: r.get(1)?,
                action: r.get(2)?,
                target: r.get(3)?,
            })
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(StoreError::from)
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

struct RawFinding {
    id: String,
    engine: String,
    kind: String,
    title: String,
    summary: String,
    severity: String,
    confidence: f64,
    span_start: Option<String>,
    span_end: Option<String>,
    scope: Option<String>,
    techniques: String,
    evidence: String,
}

fn row_to_raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawFinding> {
    Ok(RawFinding {
        id: r.get(0)?,
        engine: r.get(1)?,
        kind: r.get(2)?,
        title: r.get(3)?,
        summary: r.get(4)?,
        severity: r.get(5)?,
        confidence: r.get(6)?,
        span_start: r.get(7)?,
        span_end: r.get(8)?,
        scope: r.get(9)?,
        techniques: r.get(10)?,
        evidence: r.get(11)?,
    })
}

/// A finding as the store holds it: its fields, and its evidence and techniques as the
/// JSON text they were stored as (written by `serde_json` from the finding's own types,
/// so encoding the decoded values again gives the same text).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFinding {
    pub id: FindingId,
    pub engine: Engine,
    pub kind: String,
    pub title: String,
    pub summary: String,
    pub severity: Severity,
    pub confidence: f64,
    pub time_span: Option<TimeSpan>,
    pub scope: Option<String>,
    /// The evidence list as stored (JSON).
    pub evidence_json: String,
    /// The techniques as stored (JSON).
    pub techniques_json: String,
}

impl StoredFinding {
    /// The finding with its evidence and techniques decoded.
    pub fn into_finding(self) -> Result<Finding> {
        let techniques: Vec<Technique> = serde_json::from_str(&self.techniques_json).map_err(|source| {
            StoreError::Corrupt { id: format!("finding {}", self.id.0), column: "techniques", source }
        })?;
        let evidence: Vec<Evidence> = serde_json::from_str(&self.evidence_json).map_err(|source| {
            StoreError::Corrupt { id: format!("finding {}", self.id.0), column: "evidence", source }
        })?;
        Ok(Finding {
            id: self.id,
            engine: self.engine,
            kind: self.kind,
            title: self.title,
            summary: self.summary,
            severity: self.severity,
            confidence: self.confidence,
            time_span: self.time_span,
            scope: self.scope,
            evidence,
            techniques,
        })
    }
}

impl RawFinding {
    fn into_finding(self) -> Result<Finding> {
        self.into_stored()?.into_finding()
    }

    fn into_stored(self) -> Result<StoredFinding> {
        let engine = self.engine.parse::<Engine>().map_err(|e| StoreError::UnknownValue {
            id: format!("finding {}", self.id),
            column: "engine",
            value: e.value,
        })?;
        let severity = self.severity.parse::<Severity>().map_err(|e| StoreError::UnknownValue {
            id: format!("finding {}", self.id),
            column: "severity",
            value: e.value,
        })?;
        let time_span = match (
            self.span_start.as_deref().and_then(parse_time),
            self.span_end.as_deref().and_then(parse_time),
        ) {
            (Some(a), Some(b)) => Some(TimeSpan::new(a, b)),
            _ => None,
        };
        Ok(StoredFinding {
            id: FindingId(self.id),
            engine,
            kind: self.kind,
            title: self.title,
            summary: self.summary,
            severity,
            confidence: self.confidence,
            time_span,
            scope: self.scope,
            evidence_json: self.evidence,
            techniques_json: self.techniques,
        })
    }
}

/// Looks up whether a table exists; used by tests and by `scrutineer doctor`-style checks.
pub fn table_exists(store: &Store, name: &str) -> Result<bool> {
    let found: Option<String> = store
        .conn
        .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1", params![name], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(found.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use scrutineer_core::Evidence;

    fn sample(key: &str, severity: Severity, confidence: f64) -> Finding {
        Finding::new(Engine::Influence, "coordinated_network", key, format!("network {key}"))
            .severity(severity)
            .confidence(confidence)
            .scope("twitter")
            .time_span(Some(TimeSpan::new(
                Utc.with_ymd_and_hms(2016, 9, 1, 0, 0, 0).single().expect("valid"),
                Utc.with_ymd_and_hms(2016, 11, 30, 0, 0, 0).single().expect("valid"),
            )))
            .evidence(Evidence::new("shared_retweet", "both retweeted X", serde_json::json!({"n": 3})))
            .technique(Technique::disarm("T0049.003"))
    }

    #[test]
    fn findings_round_trip_and_order_by_severity() {
        let mut store = Store::open_in_memory().expect("open");
        let run = store.begin_run(Engine::Influence, "influence scan x.csv").expect("run");
        let fs = vec![
            sample("a", Severity::Low, 0.5),
            sample("b", Severity::High, 0.4),
            sample("c", Severity::High, 0.9),
        ];
        store.put_findings(Some(run), &fs).expect("put");
        let summary = StoredSummary {
            engine: Engine::Influence,
            version: Some(1),
            body: serde_json::json!({"posts": 10}),
        };
        store.finish_run(run, &summary).expect("finish");
        let got = store.findings(&FindingFilter::default()).expect("list");
        let keys: Vec<_> = got.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(keys, ["network c", "network b", "network a"]);
        assert_eq!(got[0], fs[2]);
        let high = store
            .findings(&FindingFilter { min_severity: Some(Severity::Medium), ..Default::default() })
            .expect("list");
        assert_eq!(high.len(), 2);
        let runs = store.runs(None).expect("runs");
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].summary["posts"], 10);
        assert_eq!(runs[0].stored_summary(), summary);
    }

    /// Pages by the keyset cursor, under both ways of reading a status (by the status
    /// index when few findings have it, along the listing order otherwise), are the
    /// list filtered in Rust, in order, once each.
    #[test]
    fn status_filters_and_cursor_pages_agree_with_the_whole_list() {
        let mut store = Store::open_in_memory().expect("open");
        let severities = [Severity::Low, Severity::Medium, Severity::High];
        let fs: Vec<Finding> = (0..6_000)
            .map(|i| sample(&format!("k{i}"), severities[i % 3], [0.25, 0.5, 0.75][i % 7 % 3]))
            .collect();
        store.put_findings(None, &fs).expect("put");
        let all = store.findings(&FindingFilter::default()).expect("list");
        let status_of = |i: usize| match i {
            _ if i % 600 == 1 => "escalated",
            _ if !i.is_multiple_of(10) => "acknowledged",
            _ => "new",
        };
        for (i, f) in all.iter().enumerate().filter(|(i, _)| status_of(*i) != "new") {
            store
                .conn
                .execute(
                    "INSERT INTO triage (finding_id, status, updated_at, updated_by) VALUES (?1, ?2, '', 't')",
                    params![f.id.0, status_of(i)],
                )
                .expect("triage");
        }
        for status in ["escalated", "acknowledged", "new"] {
            let expected: Vec<&str> = all
                .iter()
                .enumerate()
                .filter(|(i, f)| status_of(*i) == status && f.severity >= Severity::Medium)
                .map(|(_, f)| f.id.0.as_str())
                .collect();
            let mut paged = Vec::new();
            let mut after = None;
            loop {
                let filter = FindingFilter {
                    status: Some(status.into()),
                    min_severity: Some(Severity::Medium),
                    after: after.take(),
                    limit: Some(7),
                    ..FindingFilter::default()
                };
                let page = store.findings(&filter).expect("page");
                after = page.last().map(|f| f.id.0.clone());
                paged.extend(page.into_iter().map(|f| f.id.0));
                if after.is_none() {
                    break;
                }
            }
            assert_eq!(paged, expected, "{status}");
        }
        let unknown = FindingFilter { after: Some("no-such-id".into()), ..FindingFilter::default() };
        assert!(matches!(store.findings(&unknown), Err(StoreError::UnknownCursor(_))));
    }

    #[test]
    fn runs_from_before_versioning_keep_no_summary_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        {
            let c = Connection::open(&path).expect("open");
            for sql in &MIGRATIONS[..2] {
                c.execute_batch(sql).expect("old schema");
            }
            c.pragma_update(None, "user_version", 2).expect("version");
            c.execute(
                "INSERT INTO runs (engine, command, started_at, finished_at, summary)
                 VALUES ('infra', 'infra scan', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', '{\"records\":4}')",
                [],
            )
            .expect("old run");
        }
        let store = Store::open(&path).expect("upgrade");
        assert_eq!(store.schema_version().expect("version"), MIGRATIONS.len());
        let run = store.latest_finished_run(Engine::Infra).expect("runs").expect("the old run");
        assert_eq!(run.summary_version, None);
        assert_eq!(run.summary["records"], 4);
    }

    #[test]
    fn a_run_summary_that_is_not_json_is_an_error_naming_the_run() {
        let store = Store::open_in_memory().expect("open");
        let run = store.begin_run(Engine::Infra, "infra scan x.log").expect("run");
        store
            .conn
            .execute("UPDATE runs SET summary = '{\"records\": 4' WHERE id = ?1", [run])
            .expect("corrupt");
        let err = store.runs(None).expect_err("a truncated summary is not read as empty");
        assert!(err.to_string().contains(&format!("malformed summary for run {run}")), "{err}");
        assert!(store.latest_finished_run(Engine::Infra).is_err());
    }

    #[test]
    fn rerun_replaces_instead_of_duplicating() {
        let mut store = Store::open_in_memory().expect("open");
        store.put_findings(None, &[sample("a", Severity::Low, 0.5)]).expect("put");
        store.put_findings(None, &[sample("a", Severity::High, 0.8)]).expect("put");
        let got = store.findings(&FindingFilter::default()).expect("list");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].severity, Severity::High);
    }

    #[test]
    fn lookup_by_prefix() {
        let mut store = Store::open_in_memory().expect("open");
        let f = sample("a", Severity::Low, 0.5);
        store.put_findings(None, std::slice::from_ref(&f)).expect("put");
        let prefix = &f.id.0[..14];
        assert_eq!(store.finding(prefix).expect("get"), Some(f));
        assert_eq!(store.finding("influence-zzzz").expect("get"), None);
    }

    #[test]
    fn lookup_takes_an_id_or_a_unique_prefix_and_no_wildcards() {
        let mut store = Store::open_in_memory().expect("open");
        let with_id = |id: &str| {
            let mut f = sample(id, Severity::Low, 0.5);
            f.id.0 = id.to_owned();
            f
        };
        let all = [with_id("net_a"), with_id("net_ab"), with_id("netXa"), with_id("nez"), with_id("x_1abc")];
        store.put_findings(None, &all).expect("put");
        let got = |q: &str| store.finding(q).expect("get").map(|f| f.id.0);
        assert_eq!(got("net_a").as_deref(), Some("net_a"), "an id that is also a prefix is that id");
        assert_eq!(got("net_ab").as_deref(), Some("net_ab"));
        assert_eq!(got("netX").as_deref(), Some("netXa"), "a unique prefix");
        assert_eq!(got("net_"), None, "two ids start with it");
        assert_eq!(got("net"), None, "three ids start with it");
        assert_eq!(got("net%"), None, "% is a character, not a wildcard");
        assert_eq!(got("ne_a"), None, "_ is a character, not a wildcard");
        assert_eq!(got("x_1").as_deref(), Some("x_1abc"), "a prefix holding an underscore");
        assert_eq!(got("nez").as_deref(), Some("nez"));
        assert_eq!(got("nf"), None);
        assert_eq!(got(""), None, "an empty prefix names nothing");
    }

    #[test]
    fn reopening_a_file_keeps_schema_and_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        {
            let mut s = Store::open(&path).expect("open");
            s.put_findings(None, &[sample("a", Severity::Low, 0.5)]).expect("put");
            s.log_access("tester", "write", "findings").expect("log");
        }
        let s = Store::open(&path).expect("reopen");
        assert_eq!(s.schema_version().expect("v"), MIGRATIONS.len());
        assert_eq!(s.findings(&FindingFilter::default()).expect("list").len(), 1);
        assert_eq!(s.access_log(10).expect("log")[0].actor, "tester");
        assert!(table_exists(&s, "findings").expect("exists"));
    }

    /// An explicit close checkpoints the write-ahead log into the database file and
    /// removes it, as dropping the store would.
    #[test]
    fn closing_checkpoints_and_keeps_the_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        let mut s = Store::open(&path).expect("open");
        s.put_findings(None, &[sample("a", Severity::Low, 0.5)]).expect("put");
        assert!(dir.path().join("s.db-wal").exists(), "writes go to the log first");
        s.close().expect("close");
        assert!(!dir.path().join("s.db-wal").exists(), "the log is checkpointed and removed");
        let s = Store::open(&path).expect("reopen");
        assert_eq!(s.findings(&FindingFilter::default()).expect("list").len(), 1);
    }

    /// What a text search must find: findings whose title or summary holds the text,
    /// anywhere and in any case, in the listing order; counted here over every finding.
    fn holding(all: &[Finding], text: &str) -> Vec<String> {
        let text = text.to_lowercase();
        all.iter()
            .filter(|f| f.title.to_lowercase().contains(&text) || f.summary.to_lowercase().contains(&text))
            .map(|f| f.id.0.clone())
            .collect()
    }

    fn search(store: &Store, text: &str, limit: usize) -> Vec<String> {
        let mut found = Vec::new();
        let mut after = None;
        loop {
            let filter = FindingFilter {
                text: Some(text.into()),
                after: after.take(),
                limit: Some(limit),
                ..Default::default()
            };
            let page = store.findings(&filter).expect("search");
            after = (page.len() == limit).then(|| page.last().map(|f| f.id.0.clone())).flatten();
            found.extend(page.into_iter().map(|f| f.id.0));
            if after.is_none() {
                return found;
            }
        }
    }

    /// The trigram index finds substrings of the title and the summary without case,
    /// pages by the cursor, follows findings rewritten and deleted, and takes a text
    /// that is FTS5 query syntax as plain text; texts too short for a trigram are still
    /// found, row by row.
    #[test]
    fn text_search_by_the_index_finds_substrings_and_follows_changes() {
        let mut store = Store::open_in_memory().expect("open");
        let severities = [Severity::Low, Severity::Medium, Severity::High];
        let mut fs: Vec<Finding> = (0..300)
            .map(|i| {
                let f = sample(&format!("k{i}"), severities[i % 3], [0.25, 0.5][i % 2]);
                match i % 5 {
                    0 => f.summary(format!("host {i} scanned /wp-login.php")),
                    1 => Finding { title: format!("Scanner \"NEAR\" AND {i}"), ..f },
                    _ => f,
                }
            })
            .collect();
        store.put_findings(None, &fs).expect("put");
        let in_order = |store: &Store| store.findings(&FindingFilter::default()).expect("list");
        for text in
            ["scanned", "SCAN", "can", "wp-login", "\"near\" and", "network k1", "nothing like it", "k7", "%"]
        {
            let all = in_order(&store);
            let expected = holding(&all, text);
            assert_eq!(search(&store, text, 7), expected, "{text}");
        }
        assert!(!search(&store, "scanned", 1000).is_empty());

        // Rewritten: found by its new text only; deleted: not found.
        fs[0].summary = "quiet now".into();
        fs[5].title = "renamed to a beacon".into();
        store.put_findings(None, &[fs[0].clone(), fs[5].clone()]).expect("rewrite");
        let all = in_order(&store);
        assert_eq!(all.len(), 300, "rewriting kept one row per finding");
        for text in ["scanned", "quiet now", "beacon"] {
            assert_eq!(search(&store, text, 10), holding(&all, text), "{text}");
        }
        assert!(search(&store, "beacon", 10).contains(&fs[5].id.0));
        store.clear_findings(Engine::Influence, None).expect("clear");
        assert!(search(&store, "scanned", 10).is_empty());
    }

    /// A store from before the text index and the access log's own file (schema 9, with
    /// findings and access-log rows) is upgraded on opening: its findings are found by
    /// text, its access log is in the new file with every row in order, and the old
    /// table is gone; a reader then opens it.
    #[test]
    fn opening_a_schema_9_store_indexes_its_text_and_moves_its_access_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        let old_rows: Vec<(String, String)> =
            (0..25).map(|i| (format!("user{i}"), format!("http 200 GET /{i}"))).collect();
        {
            let c = Connection::open(&path).expect("open");
            for sql in &MIGRATIONS[..9] {
                c.execute_batch(sql).expect("old schema");
            }
            c.pragma_update(None, "user_version", 9).expect("version");
            for (i, key) in ["a", "b", "c"].iter().enumerate() {
                c.execute(
                    "INSERT INTO findings (id, engine, kind, title, summary, severity, severity_rank, confidence,
                                           techniques, evidence, recorded_at)
                     VALUES (?1, 'infra', 'scanning', ?2, ?3, 'high', 3, 0.5, '[]', '[]', '2026-01-01T00:00:00+00:00')",
                    params![format!("infra-{key}"), format!("old finding {key}"), if i == 1 { "scanned twice" } else { "" }],
                )
                .expect("old finding");
            }
            for (actor, action) in &old_rows {
                c.execute(
                    "INSERT INTO access_log (at, actor, action, target) VALUES ('2026-01-01T00:00:00+00:00', ?1, ?2, '')",
                    params![actor, action],
                )
                .expect("old row");
            }
        }
        let store = Store::open(&path).expect("upgrade");
        assert_eq!(store.schema_version().expect("version"), MIGRATIONS.len());
        assert_eq!(search(&store, "SCANNED", 10), ["infra-b"]);
        assert_eq!(search(&store, "old finding", 2).len(), 3);
        store.log_access("new", "http 200 GET /new", "").expect("log");
        let log = store.access_log(100).expect("log");
        let mut expected: Vec<(String, String)> = old_rows.clone();
        expected.push(("new".into(), "http 200 GET /new".into()));
        expected.reverse();
        assert_eq!(log.iter().map(|r| (r.actor.clone(), r.action.clone())).collect::<Vec<_>>(), expected);
        let old_table: bool = store
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM main.sqlite_master WHERE name = 'access_log')",
                [],
                |r| r.get(0),
            )
            .expect("schema");
        assert!(!old_table, "the old access-log table is still in the store's file");
        assert!(access_log_path(&path).exists());
        drop(store);
        let reader = Store::open_read_only(&path).expect("reader");
        assert_eq!(reader.access_log(1).expect("log")[0].actor, "new");
        // Opening again moves nothing twice.
        drop(Store::open(&path).expect("again"));
        assert_eq!(reader.access_log(1000).expect("log").len(), old_rows.len() + 1);
    }

    /// Writing the access log leaves the store's own file alone (readers' page caches
    /// stay), and its rows cannot be changed or removed.
    #[test]
    fn the_access_log_is_a_file_of_its_own_and_append_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        let mut writer = Store::open(&path).expect("open");
        let reader = Store::open_read_only(&path).expect("reader");
        let version =
            |r: &Store| -> i64 { r.conn.query_row("PRAGMA main.data_version", [], |x| x.get(0)).expect("v") };
        let before = version(&reader);
        writer.log_access("ana", "http 200 GET /", "").expect("log");
        writer
            .log_access_batch(&[AccessRecord {
                at: Utc::now(),
                actor: "bo".into(),
                action: "x".into(),
                target: "".into(),
            }])
            .expect("batch");
        assert_eq!(version(&reader), before, "an access-log write changed the store's file");
        writer.put_findings(None, &[sample("a", Severity::Low, 0.5)]).expect("put");
        assert_ne!(version(&reader), before, "data_version does not see writes at all");
        for sql in ["UPDATE log.access_log SET actor = 'x'", "DELETE FROM log.access_log"] {
            let err = writer.conn.execute(sql, []).expect_err(sql);
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        assert_eq!(reader.access_log(10).expect("log").len(), 2);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        {
            let c = Connection::open(&path).expect("open");
            c.pragma_update(None, "user_version", 999).expect("set");
        }
        assert!(matches!(Store::open(&path), Err(StoreError::TooNew { found: 999, .. })));
    }
}
