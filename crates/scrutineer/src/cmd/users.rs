//! `scrutineer users`: the people who sign in to `serve` with a name and a password.

use std::io::{BufRead as _, IsTerminal as _};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use scrutineer_server::{Account, Role};

use crate::cmd::serve::RoleArg;
use crate::ui::{Context, outln};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user. The password is asked for twice on a terminal, else read as the first
    /// line of standard input; only its Argon2id hash is kept, in the store.
    Add {
        name: String,
        #[arg(long, value_enum, default_value = "viewer")]
        role: RoleArg,
        /// Engines whose voter-identifying fields an analyst may see, comma-separated
        /// (`ballots,audit`); admins see all, viewers none.
        #[arg(long, value_name = "ENGINES", default_value = "")]
        voter_data: String,
    },
    /// Set a user's password (read as for `add`); their sessions end and a lock-out is lifted.
    Passwd { name: String },
    /// Disable a user: sign-in is refused and their sessions end at once.
    Disable { name: String },
    /// Enable a disabled user again.
    Enable { name: String },
    /// List the users, their roles, voter-data grants and state.
    List,
}

fn read_password(name: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first =
            rpassword::prompt_password(format!("password for {name}: ")).context("reading the password")?;
        let again = rpassword::prompt_password("again: ").context("reading the password")?;
        if first != again {
            bail!("the two passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

pub fn run(ctx: &Context, cmd: UsersCommand) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::Add { name, role, voter_data } => {
            let role = Role::from(role);
            let engines = scrutineer_server::parse_engines(&voter_data, ',')
                .map_err(anyhow::Error::msg)
                .context("--voter-data")?;
            let password = read_password(&name)?;
            let store = ctx.open_store("users add", &format!("{name} ({})", role.as_str()))?;
            scrutineer_server::add_user(&store, &name, role, &password, &engines)
                .with_context(|| format!("adding user '{name}'"))?;
            ctx.note(format!("added '{name}' ({}); sign in at the server's /login", role.as_str()));
        }
        UsersCommand::Passwd { name } => {
            let password = read_password(&name)?;
            let mut store = ctx.open_store("users passwd", &name)?;
            scrutineer_server::set_password(&mut store, &name, &password)
                .with_context(|| format!("setting the password of '{name}'"))?;
            ctx.note(format!("password of '{name}' set; their sessions ended"));
        }
        UsersCommand::Disable { name } => {
            let mut store = ctx.open_store("users disable", &name)?;
            store.set_user_disabled(&name, true).with_context(|| format!("disabling '{name}'"))?;
            ctx.note(format!("disabled '{name}'; their sessions ended"));
        }
        UsersCommand::Enable { name } => {
            let mut store = ctx.open_store("users enable", &name)?;
            store.set_user_disabled(&name, false).with_context(|| format!("enabling '{name}'"))?;
            ctx.note(format!("enabled '{name}'"));
        }
        UsersCommand::List => {
            let store = ctx.open_store("users list", "")?;
            let users = store.users().context("reading the users")?;
            let mut rows = Vec::new();
            for u in &users {
                let account = Account::from_record(u)?;
                let state = if u.disabled {
                    "disabled".to_owned()
                } else if let Some(t) = u.locked_until.filter(|t| *t > chrono::Utc::now()) {
                    format!("locked until {}", t.to_rfc3339())
                } else {
                    "active".to_owned()
                };
                let engines: Vec<&str> = account.voter_engines.iter().map(|e| e.as_str()).collect();
                rows.push((u.name.clone(), account.role.as_str().to_owned(), engines.join(","), state));
            }
            if ctx.json {
                let rows: Vec<_> = rows
                    .iter()
                    .map(
                        |(n, r, e, s)| serde_json::json!({"name": n, "role": r, "voter_data": e, "state": s}),
                    )
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&rows)?)?;
            } else {
                let rows: Vec<Vec<String>> = rows.into_iter().map(|(n, r, e, s)| vec![n, r, e, s]).collect();
                crate::ui::print_table(&["name", "role", "voter data", "state"], &rows);
            }
        }
    }
    Ok(())
}
