//! Users of the server and their sign-in sessions.
//!
//! The store keeps what the server decides with, never a secret it could leak: a user's
//! password only as the PHC string of its hash (the server hashes with Argon2id), a
//! session only as the SHA-256 of its cookie value. Roles and the engines whose voter
//! fields a user may see are kept as text; the server gives them their meaning.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::{Result, Store, StoreError, parse_time};

/// One user who may sign in to the server.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    /// The sign-in name, as the access log and the triage history show it.
    pub name: String,
    /// `viewer`, `analyst` or `admin`.
    pub role: String,
    /// The PHC string of the password's hash (`$argon2id$...`).
    pub password_hash: String,
    /// Engines whose voter-identifying fields this user may see (`ballots`, `audit` …).
    pub voter_engines: Vec<String>,
    /// A disabled user cannot sign in, and their sessions end.
    pub disabled: bool,
    /// Failed sign-ins since the last success or lock-out.
    pub failed_sign_ins: u32,
    /// Sign-in is refused until then, whatever the password.
    pub locked_until: Option<DateTime<Utc>>,
    /// When the user was added.
    pub created_at: DateTime<Utc>,
}

/// A signed-in browser, found by the SHA-256 of its cookie.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// The user signed in.
    pub user: String,
    /// The session's anti-forgery token, which every state-changing request carries.
    pub csrf_token: String,
    /// When the session began.
    pub created_at: DateTime<Utc>,
    /// When it ends, whatever happens meanwhile.
    pub expires_at: DateTime<Utc>,
}

/// What a failed sign-in did to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedSignIn {
    /// Counted; the account is still open.
    Counted(u32),
    /// That failure locked the account until the time given.
    Locked(DateTime<Utc>),
}

const USER_COLUMNS: &str =
    "name, role, password_hash, voter_engines, disabled, failed_sign_ins, locked_until, created_at";

fn row_to_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    let engines: String = r.get(3)?;
    Ok(UserRecord {
        name: r.get(0)?,
        role: r.get(1)?,
        password_hash: r.get(2)?,
        voter_engines: engines.split(',').filter(|e| !e.is_empty()).map(str::to_owned).collect(),
        disabled: r.get::<_, i64>(4)? != 0,
        failed_sign_ins: u32::try_from(r.get::<_, i64>(5)?).unwrap_or(u32::MAX),
        locked_until: r.get::<_, Option<String>>(6)?.as_deref().and_then(parse_time),
        created_at: parse_time(&r.get::<_, String>(7)?).unwrap_or_default(),
    })
}

impl Store {
    /// Adds a user; fails with [`StoreError::UserExists`] if the name is taken.
    pub fn add_user(
        &self,
        name: &str,
        role: &str,
        password_hash: &str,
        voter_engines: &[String],
    ) -> Result<()> {
        let added = self.conn.execute(
            "INSERT INTO users (name, role, password_hash, voter_engines, disabled, failed_sign_ins, created_at)
             VALUES (?1, ?2, ?3, ?4, 0, 0, ?5) ON CONFLICT(name) DO NOTHING",
            params![name, role, password_hash, voter_engines.join(","), Utc::now().to_rfc3339()],
        )?;
        if added == 0 {
            return Err(StoreError::UserExists(name.to_owned()));
        }
        Ok(())
    }

    /// One user by name.
    pub fn user(&self, name: &str) -> Result<Option<UserRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
                params![name],
                row_to_user,
            )
            .optional()?)
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<UserRecord>> {
        let mut stmt = self.conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
        let rows = stmt.query_map([], row_to_user)?;
        rows.collect::<rusqlite::Result<_>>().map_err(StoreError::from)
    }

    /// Sets a new password hash, clears failed sign-ins and any lock, and ends the
    /// user's sessions (whoever knew the old password is signed out).
    pub fn set_password(&mut self, name: &str, password_hash: &str) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE users SET password_hash = ?2, failed_sign_ins = 0, locked_until = NULL WHERE name = ?1",
            params![name, password_hash],
        )?;
        if changed == 0 {
            return Err(StoreError::NoUser(name.to_owned()));
        }
        tx.execute("DELETE FROM sessions WHERE user = ?1", params![name])?;
        tx.commit()?;
        Ok(())
    }

    /// Disables (or enables again) a user; disabling ends their sessions.
    pub fn set_user_disabled(&mut self, name: &str, disabled: bool) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed =
            tx.execute("UPDATE users SET disabled = ?2 WHERE name = ?1", params![name, i64::from(disabled)])?;
        if changed == 0 {
            return Err(StoreError::NoUser(name.to_owned()));
        }
        if disabled {
            tx.execute("DELETE FROM sessions WHERE user = ?1", params![name])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Counts a failed sign-in; the `max_failures`-th in a row locks the account for
    /// `lock_for` and starts the count again.
    pub fn record_failed_sign_in(
        &mut self,
        name: &str,
        max_failures: u32,
        lock_for: Duration,
    ) -> Result<FailedSignIn> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let count: Option<i64> = tx
            .query_row(
                "UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE name = ?1 RETURNING failed_sign_ins",
                params![name],
                |r| r.get(0),
            )
            .optional()?;
        let Some(count) = count else { return Err(StoreError::NoUser(name.to_owned())) };
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        let outcome = if count >= max_failures {
            let until = Utc::now() + lock_for;
            tx.execute(
                "UPDATE users SET failed_sign_ins = 0, locked_until = ?2 WHERE name = ?1",
                params![name, until.to_rfc3339()],
            )?;
            FailedSignIn::Locked(until)
        } else {
            FailedSignIn::Counted(count)
        };
        tx.commit()?;
        Ok(outcome)
    }

    /// A successful sign-in: the failure count starts again and a new session is kept
    /// under the SHA-256 of its cookie value.
    pub fn begin_session(&mut self, id_sha256: &str, session: &SessionRecord) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE name = ?1",
            params![session.user],
        )?;
        // Sessions that ended are not kept: nobody can use them and they would pile up.
        tx.execute("DELETE FROM sessions WHERE expires_at < ?1", params![Utc::now().to_rfc3339()])?;
        tx.execute(
            "INSERT INTO sessions (id_sha256, user, csrf_token, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id_sha256,
                session.user,
                session.csrf_token,
                session.created_at.to_rfc3339(),
                session.expires_at.to_rfc3339()
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The session with that cookie hash, with its user, if both exist. Whether it has
    /// expired or its user is disabled is for the caller to judge.
    pub fn session(&self, id_sha256: &str) -> Result<Option<(SessionRecord, UserRecord)>> {
        let sql = format!(
            "SELECT s.user, s.csrf_token, s.created_at, s.expires_at, {}
             FROM sessions s JOIN users u ON u.name = s.user WHERE s.id_sha256 = ?1",
            USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
        );
        Ok(self
            .conn
            .query_row(&sql, params![id_sha256], |r| {
                let session = SessionRecord {
                    user: r.get(0)?,
                    csrf_token: r.get(1)?,
                    created_at: parse_time(&r.get::<_, String>(2)?).unwrap_or_default(),
                    expires_at: parse_time(&r.get::<_, String>(3)?).unwrap_or_default(),
                };
                let user = UserRecord {
                    name: r.get(4)?,
                    role: r.get(5)?,
                    password_hash: r.get(6)?,
                    voter_engines: r
                        .get::<_, String>(7)?
                        .split(',')
                        .filter(|e| !e.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    disabled: r.get::<_, i64>(8)? != 0,
                    failed_sign_ins: u32::try_from(r.get::<_, i64>(9)?).unwrap_or(u32::MAX),
                    locked_until: r.get::<_, Option<String>>(10)?.as_deref().and_then(parse_time),
                    created_at: parse_time(&r.get::<_, String>(11)?).unwrap_or_default(),
                };
                Ok((session, user))
            })
            .optional()?)
    }

    /// Ends a session (sign-out, or one found expired).
    pub fn end_session(&self, id_sha256: &str) -> Result<()> {
        self.conn.execute("DELETE FROM sessions WHERE id_sha256 = ?1", params![id_sha256])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(user: &str, csrf: &str) -> SessionRecord {
        let now = Utc::now();
        SessionRecord {
            user: user.into(),
            csrf_token: csrf.into(),
            created_at: now,
            expires_at: now + Duration::hours(1),
        }
    }

    #[test]
    fn users_sessions_lock_out_and_password_changes() {
        let mut store = Store::open_in_memory().expect("open");
        store.add_user("ana", "analyst", "$argon2id$x", &["ballots".into()]).expect("add");
        assert!(matches!(store.add_user("ana", "admin", "$y", &[]), Err(StoreError::UserExists(_))));
        let ana = store.user("ana").expect("read").expect("ana");
        assert_eq!(
            (ana.role.as_str(), ana.voter_engines.as_slice()),
            ("analyst", &["ballots".to_owned()][..])
        );

        assert_eq!(
            store.record_failed_sign_in("ana", 3, Duration::minutes(5)).expect("fail"),
            FailedSignIn::Counted(1)
        );
        store.record_failed_sign_in("ana", 3, Duration::minutes(5)).expect("fail");
        let third = store.record_failed_sign_in("ana", 3, Duration::minutes(5)).expect("fail");
        assert!(matches!(third, FailedSignIn::Locked(t) if t > Utc::now()), "{third:?}");
        assert!(store.user("ana").expect("read").expect("ana").locked_until.is_some());
        assert!(matches!(
            store.record_failed_sign_in("nobody", 3, Duration::minutes(5)),
            Err(StoreError::NoUser(_))
        ));

        store.begin_session("aa", &session("ana", "c1")).expect("session");
        let (s, u) = store.session("aa").expect("read").expect("session");
        assert_eq!((s.csrf_token.as_str(), u.name.as_str()), ("c1", "ana"));
        assert_eq!(u.failed_sign_ins, 0, "a sign-in starts the count again");
        assert!(store.session("bb").expect("read").is_none());

        store.set_password("ana", "$argon2id$new").expect("passwd");
        assert!(store.session("aa").expect("read").is_none(), "a new password ends old sessions");
        store.begin_session("cc", &session("ana", "c2")).expect("session");
        store.set_user_disabled("ana", true).expect("disable");
        assert!(store.session("cc").expect("read").is_none(), "disabling ends sessions");
        assert!(store.user("ana").expect("read").expect("ana").disabled);
        assert!(matches!(store.set_user_disabled("bob", true), Err(StoreError::NoUser(_))));
    }

    #[test]
    fn ended_sessions_are_removed_at_the_next_sign_in() {
        let mut store = Store::open_in_memory().expect("open");
        store.add_user("ana", "viewer", "$h", &[]).expect("add");
        let mut old = session("ana", "c");
        old.expires_at = Utc::now() - Duration::seconds(1);
        store.begin_session("old", &old).expect("old");
        store.begin_session("new", &session("ana", "d")).expect("new");
        assert!(store.session("old").expect("read").is_none());
        assert!(store.session("new").expect("read").is_some());
    }
}
