//! The store under the conditions an attacker or a careless operator creates: commands
//! racing to create it, other local users, a file deleted or replaced under an open
//! connection, a store from a newer build.

use std::path::Path;
use std::sync::{Arc, Barrier};

use rusqlite::Connection;
use scrutineer_core::{Engine, Finding, Severity, StoredSummary};
use scrutineer_store::{FindingFilter, Store, StoreError};

fn finding(key: &str) -> Finding {
    Finding::new(Engine::Infra, "scanning", key, format!("scan from {key}")).severity(Severity::High)
}

/// Issue 16, item 11: two commands on a store that does not exist yet both succeed.
/// Without the write lock around migrations, about half the trials failed with "table
/// runs already exists".
#[test]
fn commands_racing_to_create_a_store_all_succeed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let threads = 6;
    for trial in 0..20 {
        let path = dir.path().join(format!("race-{trial}.db"));
        let start = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (path, start) = (path.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    Store::open(&path).map(|s| s.schema_version().expect("version"))
                })
            })
            .collect();
        let versions: Vec<usize> = handles
            .into_iter()
            .map(|h| h.join().expect("thread").unwrap_or_else(|e| panic!("trial {trial}: {e}")))
            .collect();
        assert_eq!(versions.len(), threads);
        assert!(versions.iter().all(|&v| v == versions[0] && v >= 1), "trial {trial}: {versions:?}");
        let store = Store::open(&path).expect("reopen");
        store.log_access("t", "check", "race").expect("the store is usable");
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// Issue 16, item 9: the store and its `-wal` and `-shm` files are readable by their
/// owner only. (The CLI test `store_files_are_private_whatever_the_umask` runs this under
/// umask 000.)
#[cfg(unix)]
#[test]
fn a_new_store_and_its_journal_files_are_owner_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path).expect("open");
    store.put_findings(None, &[finding("10.0.0.1")]).expect("put");
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.path().join(format!("s.db{suffix}"));
        assert_eq!(mode(&file), 0o600, "{} is {:o}", file.display(), mode(&file));
    }
}

fn legacy_store_with_version(path: &Path, version: i64) -> Vec<u8> {
    let c = Connection::open(path).expect("open");
    c.execute_batch("CREATE TABLE future_things (x INTEGER); INSERT INTO future_things VALUES (1);")
        .expect("table");
    c.pragma_update(None, "user_version", version).expect("version");
    drop(c);
    std::fs::read(path).expect("read")
}

/// Issue 16, item 12: a store with a newer schema is refused and left exactly as it was
/// (before, its journal mode was switched to WAL on the way to the refusal).
#[test]
fn a_newer_store_is_refused_without_being_touched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("future.db");
    let before = legacy_store_with_version(&path, 999);
    let err = Store::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::TooNew { found: 999, .. }), "{err}");
    assert!(err.to_string().contains("upgrade scrutineer"), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), before, "the refused store was modified");
    assert!(!dir.path().join("future.db-wal").exists(), "a write-ahead log was started");
    let err = Store::open_read_only(&path).err().expect("refused");
    assert!(matches!(err, StoreError::TooNew { found: 999, .. }), "{err}");
}

/// Issue 16, item 12: a store file deleted, or replaced by another, under an open
/// connection is noticed.
#[test]
fn a_deleted_or_replaced_store_is_noticed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let store = Store::open(&path).expect("open");
    store.check_on_disk().expect("present");
    std::fs::remove_file(&path).expect("delete");
    let err = store.check_on_disk().expect_err("deletion noticed");
    assert!(matches!(err, StoreError::Gone { .. }), "{err}");

    let path = dir.path().join("t.db");
    let store = Store::open(&path).expect("open");
    let on_disk = store.on_disk();
    let other = dir.path().join("other.db");
    drop(Store::open(&other).expect("other"));
    std::fs::rename(&other, &path).expect("replace");
    assert!(matches!(on_disk.check(), Err(StoreError::Gone { .. })), "replacement not noticed");
}

/// Issue 16, item 10: the change counter moves with every change to findings or runs,
/// from any connection (the sqlite3 shell included), and not with the access log, which
/// every request writes.
#[test]
fn the_change_counter_follows_findings_and_runs_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let mut writer = Store::open(&path).expect("open");
    let reader = Store::open_read_only(&path).expect("reader");
    let mut last = reader.change_counter().expect("counter");
    let mut moved = |what: &str, expect_move: bool| {
        let now = reader.change_counter().expect("counter");
        assert_eq!(now != last, expect_move, "{what}: counter {last} -> {now}");
        last = now;
    };
    let run = writer.begin_run(Engine::Infra, "infra scan").expect("run");
    moved("begin_run", true);
    writer.put_findings(Some(run), &[finding("10.0.0.1"), finding("10.0.0.2")]).expect("put");
    moved("put_findings", true);
    writer.put_findings(Some(run), &[finding("10.0.0.1")]).expect("replace");
    moved("replacing a finding", true);
    let summary =
        StoredSummary { engine: Engine::Infra, version: Some(1), body: serde_json::json!({"lines": 2}) };
    writer.finish_run(run, &summary).expect("finish");
    moved("finish_run", true);
    writer.log_access("ana", "http 200 GET /", "").expect("log");
    moved("log_access", false);
    writer.clear_findings(Engine::Infra, None).expect("clear");
    moved("clear_findings", true);
    let shell = Connection::open(&path).expect("another connection");
    shell.execute("DELETE FROM runs", []).expect("delete");
    moved("a delete from another connection", true);
    assert!(reader.findings(&FindingFilter::default()).expect("list").is_empty());
}

/// Readers see the writer's commits and cannot write.
#[test]
fn read_only_connections_read_beside_the_writer_and_cannot_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let mut writer = Store::open(&path).expect("open");
    let reader = Store::open_read_only(&path).expect("reader");
    writer.put_findings(None, &[finding("10.0.0.9")]).expect("put");
    let seen = reader.snapshot(|s| s.findings(&FindingFilter::default())).expect("read");
    assert_eq!(seen.len(), 1);
    assert!(reader.log_access("x", "y", "z").is_err(), "a read-only connection wrote");
    assert!(Store::open_read_only(dir.path().join("missing.db")).is_err());
    assert!(!dir.path().join("missing.db").exists(), "opening read-only created a file");
}
