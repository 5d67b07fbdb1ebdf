//! Passwords, sign-in and sessions.
//!
//! Passwords are hashed with Argon2id (the `argon2` crate's defaults: 19 MiB, two
//! passes, one lane, the parameters OWASP recommends) and only the PHC string is kept.
//! A sign-in names a user and a password; it is refused alike whether the user does not
//! exist, is disabled, is locked out or gave a wrong password, so that the answer does
//! not tell which, and an unknown name costs a hash as a known one does. After
//! [`SignInPolicy::max_failures`] failures in a row the account is locked for
//! [`SignInPolicy::lock_for`]. A session is a random cookie value the store keeps only
//! as its SHA-256, with a random anti-forgery token and a fixed end.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Utc;
use scrutineer_core::Engine;
use scrutineer_store::{FailedSignIn, SessionRecord, Store, UserRecord};
use sha2::{Digest, Sha256};

use crate::auth::{Role, parse_engines};

/// Why an account could not be made or changed, or a password hashed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The name holds characters a user name may not.
    #[error("user names are letters, digits, '.', '-', '_' and '@' (got '{0}')")]
    BadName(String),
    /// The password is too short or too long.
    #[error("a password must be 12 to 1024 characters long (got {0})")]
    BadPassword(usize),
    /// Hashing failed.
    #[error("hashing the password: {0}")]
    Hash(String),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] scrutineer_store::StoreError),
    /// The store holds a role this build does not know.
    #[error("user '{user}' has an unknown role '{role}'")]
    UnknownRole {
        /// The user.
        user: String,
        /// The role as stored.
        role: String,
    },
    /// An engine name that is not one.
    #[error("{0}")]
    BadEngine(String),
}

/// How sign-in and sessions behave.
#[derive(Debug, Clone, Copy)]
pub struct SignInPolicy {
    /// Failed sign-ins in a row that lock an account.
    pub max_failures: u32,
    /// How long a locked account stays locked.
    pub lock_for: Duration,
    /// How long a session lasts from sign-in.
    pub session_lifetime: Duration,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        SignInPolicy {
            max_failures: 5,
            lock_for: Duration::from_secs(15 * 60),
            session_lifetime: Duration::from_secs(8 * 3600),
        }
    }
}

const MIN_PASSWORD: usize = 12;
const MAX_PASSWORD: usize = 1024;

/// The PHC string of `password` hashed with Argon2id and a fresh salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&chars) {
        return Err(AccountError::BadPassword(chars));
    }
    let salt = new_salt()?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

fn new_salt() -> Result<SaltString, AccountError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| AccountError::Hash(format!("the system's random source: {e}")))?;
    SaltString::encode_b64(&bytes).map_err(|e| AccountError::Hash(e.to_string()))
}

fn verify_password(password: &str, phc: &str) -> bool {
    // Passwords longer than any accepted one are not hashed (hashing is the costly part).
    if password.len() > MAX_PASSWORD * 4 {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash of a password nobody has, verified against when the user does not exist, so
/// that an unknown name takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        new_salt()
            .ok()
            .and_then(|salt| {
                Argon2::default()
                    .hash_password(b"no user has this password", &salt)
                    .ok()
                    .map(|h| h.to_string())
            })
            .unwrap_or_default()
    })
}

fn check_name(name: &str) -> Result<(), AccountError> {
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        return Err(AccountError::BadName(name.to_owned()));
    }
    Ok(())
}

/// Adds a user with `role`, who may see the voter fields of `voter_engines`.
pub fn add_user(
    store: &Store,
    name: &str,
    role: Role,
    password: &str,
    voter_engines: &[Engine],
) -> Result<(), AccountError> {
    check_name(name)?;
    let hash = hash_password(password)?;
    let engines: Vec<String> = voter_engines.iter().map(|e| e.as_str().to_owned()).collect();
    store.add_user(name, role.as_str(), &hash, &engines)?;
    Ok(())
}

/// Sets `name`'s password; their sessions end and any lock is lifted.
pub fn set_password(store: &mut Store, name: &str, password: &str) -> Result<(), AccountError> {
    let hash = hash_password(password)?;
    store.set_password(name, &hash)?;
    Ok(())
}

/// A user as the server uses them: a role and the engines whose voter fields they see.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user's name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Engines whose voter fields they may see, as granted (before the role applies).
    pub voter_engines: Vec<Engine>,
}

impl Account {
    /// Reads a stored user, refusing an unknown role or engine by name.
    pub fn from_record(u: &UserRecord) -> Result<Account, AccountError> {
        let role = Role::parse(&u.role)
            .ok_or_else(|| AccountError::UnknownRole { user: u.name.clone(), role: u.role.clone() })?;
        let voter_engines =
            parse_engines(&u.voter_engines.join(","), ',').map_err(AccountError::BadEngine)?;
        Ok(Account { name: u.name.clone(), role, voter_engines })
    }
}

/// A session just begun: the cookie value (shown to the browser only) and its record.
pub struct NewSession {
    /// The cookie's value.
    pub cookie: String,
    /// What the store keeps.
    pub record: SessionRecord,
}

/// The SHA-256 under which the store keeps a session.
pub fn session_key(cookie: &str) -> String {
    hex::encode(Sha256::digest(cookie.as_bytes()))
}

/// 32 random bytes as hex.
pub fn random_hex() -> Result<String, AccountError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AccountError::Hash(format!("the system's random source: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Why a sign-in was refused (the user is told none of this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No such user.
    Unknown,
    /// The account is disabled.
    Disabled,
    /// The account is locked (this failure may have locked it).
    Locked,
    /// A wrong password.
    WrongPassword,
}

impl Refusal {
    /// For the access log.
    pub fn as_str(&self) -> &'static str {
        match self {
            Refusal::Unknown => "unknown user",
            Refusal::Disabled => "disabled",
            Refusal::Locked => "locked",
            Refusal::WrongPassword => "wrong password",
        }
    }
}

/// Checks a sign-in and, when it holds, begins a session. Runs a password hash: call it
/// on a blocking thread.
pub fn sign_in(
    store: &mut Store,
    name: &str,
    password: &str,
    policy: &SignInPolicy,
) -> Result<Result<(Account, NewSession), Refusal>, AccountError> {
    let Some(user) = store.user(name)? else {
        verify_password(password, decoy_hash());
        return Ok(Err(Refusal::Unknown));
    };
    let now = Utc::now();
    let locked = user.locked_until.is_some_and(|t| t > now);
    // The hash is computed whatever the state, so that time says nothing of it.
    let right = verify_password(password, &user.password_hash);
    if user.disabled {
        return Ok(Err(Refusal::Disabled));
    }
    if locked {
        return Ok(Err(Refusal::Locked));
    }
    if !right {
        let lock_for = chrono::Duration::from_std(policy.lock_for).unwrap_or(chrono::Duration::minutes(15));
        return Ok(Err(match store.record_failed_sign_in(name, policy.max_failures, lock_for)? {
            FailedSignIn::Locked(_) => Refusal::Locked,
            FailedSignIn::Counted(_) => Refusal::WrongPassword,
        }));
    }
    let account = Account::from_record(&user)?;
    let lifetime = chrono::Duration::from_std(policy.session_lifetime).unwrap_or(chrono::Duration::hours(8));
    let cookie = random_hex()?;
    let record = SessionRecord {
        user: user.name,
        csrf_token: random_hex()?,
        created_at: now,
        expires_at: now + lifetime,
    };
    store.begin_session(&session_key(&cookie), &record)?;
    Ok(Ok((account, NewSession { cookie, record })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_checks_the_password_and_locks_after_repeated_failures() {
        let mut store = Store::open_in_memory().expect("store");
        add_user(&store, "ana", Role::Analyst, "correct horse battery", &[Engine::Ballots]).expect("add");
        assert!(matches!(
            add_user(&store, "a b", Role::Viewer, "correct horse battery", &[]),
            Err(AccountError::BadName(_))
        ));
        assert!(matches!(
            add_user(&store, "bob", Role::Viewer, "short", &[]),
            Err(AccountError::BadPassword(5))
        ));
        let stored = store.user("ana").expect("read").expect("ana");
        assert!(stored.password_hash.starts_with("$argon2id$"), "{}", stored.password_hash);
        assert!(!stored.password_hash.contains("horse"));

        let policy = SignInPolicy { max_failures: 3, ..SignInPolicy::default() };
        let (account, session) =
            sign_in(&mut store, "ana", "correct horse battery", &policy).expect("sign in").expect("accepted");
        assert_eq!((account.role, account.voter_engines.as_slice()), (Role::Analyst, &[Engine::Ballots][..]));
        assert!(store.session(&session_key(&session.cookie)).expect("read").is_some());
        assert!(store.session(&session.cookie).expect("read").is_none(), "the cookie itself is not kept");

        assert_eq!(sign_in(&mut store, "nobody", "x", &policy).expect("run").err(), Some(Refusal::Unknown));
        for _ in 0..2 {
            assert_eq!(
                sign_in(&mut store, "ana", "wrong", &policy).expect("run").err(),
                Some(Refusal::WrongPassword)
            );
        }
        assert_eq!(sign_in(&mut store, "ana", "wrong", &policy).expect("run").err(), Some(Refusal::Locked));
        assert_eq!(
            sign_in(&mut store, "ana", "correct horse battery", &policy).expect("run").err(),
            Some(Refusal::Locked),
            "a locked account refuses even the right password"
        );
        set_password(&mut store, "ana", "another good password").expect("passwd");
        assert!(sign_in(&mut store, "ana", "another good password", &policy).expect("run").is_ok());
        store.set_user_disabled("ana", true).expect("disable");
        assert_eq!(
            sign_in(&mut store, "ana", "another good password", &policy).expect("run").err(),
            Some(Refusal::Disabled)
        );
    }
}
