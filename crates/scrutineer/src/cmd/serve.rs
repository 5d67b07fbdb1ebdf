//! `scrutineer serve` (the HTTP API and live dashboard) and `scrutineer tokens` (who may
//! use it).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Subcommand, ValueEnum};
use scrutineer_server::{RefusedLogLimit, ServerConfig, serve};
use scrutineer_server::{Role, TokenFile};

use crate::ui::{Context, outln};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Loopback by default: put a TLS proxy in front before opening
    /// it to a network.
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
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Findings, runs, the dashboard and the STIX export.
    Analyst,
    /// Everything, and the access log.
    Admin,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Make a token for NAME and print it (the only time it is shown; the file keeps a hash).
    Add {
        name: String,
        #[arg(long, value_enum, default_value = "analyst")]
        role: RoleArg,
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
    let store = ctx.open_store("serve", &a.listen)?;
    let config = ServerConfig {
        listen: a.listen.clone(),
        tokens_path: path.clone(),
        header_read_timeout,
        refused_log: RefusedLogLimit::default(),
    };
    serve(config, store, |addr| {
        // Whoever started the server may not be reading its output: serving goes on.
        let _ = outln!("listening on http://{addr}");
        if let Some(t) = &first {
            eprintln!(
                "made an admin token for '{}' (kept as a hash in {}); shown once:\n  {t}\nopen http://{addr}/login?token={t}",
                ctx.actor,
                path.display()
            );
        } else {
            eprintln!("tokens from {}; open http://{addr}/login?token=YOUR_TOKEN", path.display());
        }
        let _ = std::io::stdout().flush();
    })
    .with_context(|| format!("serving on {}", a.listen))?;
    Ok(())
}

pub fn tokens(ctx: &Context, cmd: TokensCommand) -> anyhow::Result<()> {
    match cmd {
        TokensCommand::Add { name, role, tokens } => {
            let path = tokens_path(ctx, tokens);
            let mut f = TokenFile::load(&path).with_context(|| format!("reading {}", path.display()))?;
            let role = match role {
                RoleArg::Analyst => Role::Analyst,
                RoleArg::Admin => Role::Admin,
            };
            let token = f.add(&name, role)?;
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
