//! `scrutineer serve` (the HTTP API and live dashboard) and `scrutineer tokens` (who may
//! use it).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Subcommand, ValueEnum};
use scrutineer_server::{RefusedLogLimit, ServerConfig, SessionOptions, SignInPolicy, TlsFiles, serve};
use scrutineer_server::{Role, TokenFile};

use crate::ui::{Context, outln};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Loopback by default: serve HTTPS (--tls-cert, --tls-key) or
    /// put a TLS proxy in front before opening it to a network.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Token file [default: the store's path with `.tokens`]. When it holds no token, an
    /// admin token is made and shown once. It is read again at each request, so
    /// `tokens add` and `tokens revoke` take effect at once.
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// Seconds a client may take to send a request's headers before the connection is
    /// closed (so that slow clients cannot hold every connection open).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    header_timeout: f64,
    /// Hours a browser's session lasts from sign-in.
    #[arg(long, default_value_t = 8.0, value_name = "HOURS")]
    session_hours: f64,
    /// Failed sign-ins in a row that lock an account.
    #[arg(long, default_value_t = 5, value_name = "N")]
    max_failed_sign_ins: u32,
    /// Minutes a locked account stays locked.
    #[arg(long, default_value_t = 15.0, value_name = "MINUTES")]
    lock_minutes: f64,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key. Session cookies
    /// are then `Secure`.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

fn positive_seconds(flag: &str, value: f64, unit: f64) -> anyhow::Result<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(value * unit)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| format!("{flag} must be a positive number (got {value})"))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Findings, runs and the dashboard, without voter-identifying fields.
    Viewer,
    /// Findings, runs, the dashboard and the STIX export; triage; the voter fields of
    /// the engines granted with `--voter-data`.
    Analyst,
    /// Everything, and the access log.
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Analyst => Role::Analyst,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Make a token for NAME and print it (the only time it is shown; the file keeps a hash).
    Add {
        name: String,
        #[arg(long, value_enum, default_value = "analyst")]
        role: RoleArg,
        /// Engines whose voter-identifying fields an analyst's token may see,
        /// comma-separated (`ballots,audit`).
        #[arg(long, value_name = "ENGINES", default_value = "")]
        voter_data: String,
        #[arg(long)]
        tokens: Option<PathBuf>,
    },
    /// List the token names and roles.
    List {
        #[arg(long)]
        tokens: Option<PathBuf>,
    },
    /// Revoke NAME's token.
    Revoke {
        name: String,
        #[arg(long)]
        tokens: Option<PathBuf>,
    },
}

fn tokens_path(ctx: &Context, given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| {
        let mut p = ctx.store_path.clone().into_os_string();
        p.push(".tokens");
        PathBuf::from(p)
    })
}

pub fn run(ctx: &Context, a: ServeArgs) -> anyhow::Result<()> {
    // Serving a store that is not there would create an empty one and show an empty
    // dashboard as if nothing had been found (after a store was deleted, say).
    if !ctx.store_path.exists() {
        bail!(
            "no store at {}: run an engine first (or pass --store PATH to the store to serve)",
            ctx.store_path.display()
        );
    }
    let header_read_timeout =
        std::time::Duration::try_from_secs_f64(a.header_timeout).ok().filter(|d| !d.is_zero()).with_context(
            || format!("--header-timeout must be a positive number of seconds (got {})", a.header_timeout),
        )?;
    let path = tokens_path(ctx, a.tokens);
    let mut tokens =
        TokenFile::load(&path).with_context(|| format!("reading the token file {}", path.display()))?;
    let mut first = None;
    if tokens.entries.is_empty() {
        let token = tokens.add(&ctx.actor, Role::Admin).context("making the first admin token")?;
        tokens.save(&path).with_context(|| format!("writing {}", path.display()))?;
        first = Some(token);
    }
    let policy = SignInPolicy {
        max_failures: a.max_failed_sign_ins.max(1),
        lock_for: positive_seconds("--lock-minutes", a.lock_minutes, 60.0)?,
        session_lifetime: positive_seconds("--session-hours", a.session_hours, 3600.0)?,
    };
    let store = ctx.open_store("serve", &a.listen)?;
    let no_users = store.users().context("reading the users")?.is_empty();
    let tls = match (a.tls_cert, a.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let config = ServerConfig {
        listen: a.listen.clone(),
        tokens_path: path.clone(),
        header_read_timeout,
        refused_log: RefusedLogLimit::default(),
        sessions: SessionOptions { policy, tls: tls.is_some() },
        tls,
    };
    serve(config, store, |addr| {
        // Whoever started the server may not be reading its output: serving goes on.
        let _ = outln!("listening on {scheme}://{addr}");
        if let Some(t) = &first {
            eprintln!(
                "made an admin API token for '{}' (kept as a hash in {}); shown once:\n  {t}\nuse it as Authorization: Bearer TOKEN",
                ctx.actor,
                path.display()
            );
        } else {
            eprintln!("API tokens from {}", path.display());
        }
        if no_users {
            eprintln!("no user can sign in yet: add one with `scrutineer users add NAME --role admin`");
        }
        eprintln!("sign in at {scheme}://{addr}/login");
        let _ = std::io::stdout().flush();
    })
    .with_context(|| format!("serving on {}", a.listen))?;
    Ok(())
}

pub fn tokens(ctx: &Context, cmd: TokensCommand) -> anyhow::Result<()> {
    match cmd {
        TokensCommand::Add { name, role, voter_data, tokens } => {
            let path = tokens_path(ctx, tokens);
            let mut f = TokenFile::load(&path).with_context(|| format!("reading {}", path.display()))?;
            let role = Role::from(role);
            let engines = scrutineer_server::parse_engines(&voter_data, ',')
                .map_err(anyhow::Error::msg)
                .context("--voter-data")?;
            let token = f.add_with_voter_engines(&name, role, &engines)?;
            f.save(&path).with_context(|| format!("writing {}", path.display()))?;
            let store = ctx.open_store("tokens add", &format!("{name} ({})", role.as_str()))?;
            drop(store);
            outln!("{token}")?;
            ctx.note(format!(
                "token for '{name}' ({}) added to {}; it is not shown again",
                role.as_str(),
                path.display()
            ));
        }
        TokensCommand::List { tokens } => {
            let path = tokens_path(ctx, tokens);
            let f = TokenFile::load(&path).with_context(|| format!("reading {}", path.display()))?;
            if ctx.json {
                let rows: Vec<_> = f
                    .entries
                    .iter()
                    .map(|e| serde_json::json!({"name": e.name, "role": e.role.as_str()}))
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&rows)?)?;
            } else {
                let rows: Vec<Vec<String>> =
                    f.entries.iter().map(|e| vec![e.name.clone(), e.role.as_str().to_owned()]).collect();
                crate::ui::print_table(&["name", "role"], &rows);
            }
        }
        TokensCommand::Revoke { name, tokens } => {
            let path = tokens_path(ctx, tokens);
            let mut f = TokenFile::load(&path).with_context(|| format!("reading {}", path.display()))?;
            if f.entries.len() == 1 && f.entries[0].name == name {
                bail!("'{name}' holds the last token; add another admin first");
            }
            f.revoke(&name)?;
            f.save(&path).with_context(|| format!("writing {}", path.display()))?;
            drop(ctx.open_store("tokens revoke", &name)?);
            ctx.note(format!("revoked '{name}'"));
        }
    }
    Ok(())
}
