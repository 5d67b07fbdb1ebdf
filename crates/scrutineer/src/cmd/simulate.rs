use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};
use scrutineer_simulate::ballots::{BallotScenario, OutputLayout, generate};

use crate::ui::{Context, outln};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SimLayout {
    Generic,
    Nc,
}

#[derive(Debug, Subcommand)]
pub enum SimulateCommand {
    /// A mail-ballot scenario: roll, issued, returns, check-ins, and the ground truth of
    /// every injected irregularity (truth.csv) and legitimate look-alike (lookalikes.csv).
    Ballots {
        /// Seed: the same seed and flags always write the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Registered voters on the roll.
        #[arg(long, default_value_t = 100_000)]
        voters: u64,
        /// `generic` (roll/issued/returns/checkins.csv) or `nc` (ncvoter.txt and absentee.csv
        /// in the NC State Board of Elections layouts; no injected items).
        #[arg(long, value_enum, default_value = "generic")]
        layout: SimLayout,
        /// Share of active voters mailed a ballot (default 0.9 generic, all-mail like
        /// California; 0.2 for nc, like North Carolina 2020).
        #[arg(long)]
        mail_share: Option<f64>,
        /// Share of active voters without a mail ballot who vote in person (nc: 0.49, NC 2020 one-stop).
        #[arg(long)]
        in_person_share: Option<f64>,
        /// Injected items per rule kind (generic layout).
        #[arg(long, default_value_t = 10)]
        inject: u64,
        /// Extra legitimate look-alikes per kind (generic layout).
        #[arg(long, default_value_t = 10)]
        lookalikes: u64,
        /// Directory to write into (created if needed).
        #[arg(long)]
        out: PathBuf,
    },
    /// Social-media posts: organic US accounts (heavy-tailed activity, diurnal rhythms,
    /// retweet cascades) plus injected influence operations; truth.csv lists every
    /// injected account with its operation and tactic.
    Social(SocialArgs),
    /// Access logs of county election websites (registration portal and results site):
    /// voters, crawlers and staff, plus one actor's campaign of scanning, SQL injection and
    /// credential stuffing across several counties, ramping up before election day.
    /// truth.csv and truth.json describe the campaign.
    Infra(InfraArgs),
    /// The count: paper ballots, cast-vote records, a ballot manifest and reported results
    /// for two statewide contests, one tabulated honestly and one altered in half the
    /// counties (enough to flip its reported winner). truth.json says which.
    Count(CountArgs),
    /// A hack-and-leak campaign: a leaked mailbox (dump.mbox, DKIM-signed, with altered,
    /// forged and unsigned messages seeded in it), its senders' key archive with rotated
    /// keys (keys.csv), the posts of a network amplifying it among ordinary accounts
    /// (posts.csv, amplifiers.csv); truth.csv gives every message's kind.
    Mail(MailArgs),
}

#[derive(Debug, clap::Args)]
pub struct MailArgs {
    /// Seed: the same seed and flags always write the same files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Messages in the dump, injected ones included.
    #[arg(long, default_value_t = 300)]
    messages: u32,
    /// The mailbox's first day, YYYY-MM-DD.
    #[arg(long, default_value = "2020-08-01")]
    first_day: String,
    /// Days the mailbox covers (the dump is released two days after its last).
    #[arg(long, default_value_t = 60)]
    days: u32,
    /// Ordinary accounts posting in the week around the release.
    #[arg(long, default_value_t = 600)]
    accounts: u32,
    /// Accounts of the network amplifying the dump.
    #[arg(long, default_value_t = 12)]
    amplifiers: u32,
    /// Directory to write into (created if needed).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct InfraArgs {
    /// Seed: the same seed and flags always write the same files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Counties (one office each) [default: the state's six largest].
    #[arg(long, value_delimiter = ',')]
    counties: Vec<String>,
    /// How many of the counties (the first ones) the actor attacks [default: two thirds].
    #[arg(long)]
    targeted: Option<usize>,
    /// Days of logs, up to and including election day.
    #[arg(long, default_value_t = 56)]
    days: u32,
    /// Election day, YYYY-MM-DD.
    #[arg(long, default_value = "2024-11-05")]
    election_day: String,
    /// Mean visitors per county per day at the start (grows toward election day).
    #[arg(long, default_value_t = 120)]
    visitors_per_day: u32,
    /// Multiplies the actor's request volume.
    #[arg(long, default_value_t = 1.0)]
    attack_intensity: f64,
    /// Directory to write into (one subdirectory per county).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct CountArgs {
    /// Seed: the same seed and flags always write the same files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Counties [default: the state's six largest].
    #[arg(long, value_delimiter = ',')]
    counties: Vec<String>,
    /// Ballots cast statewide, split among the counties by their size.
    #[arg(long, default_value_t = 12_000)]
    ballots: u64,
    /// Share of the true leader's votes switched to the runner-up in the altered counties.
    #[arg(long, default_value_t = 0.15)]
    switch_share: f64,
    /// Tabulate every contest honestly (nothing for the audit to catch).
    #[arg(long)]
    honest: bool,
    /// Directory to write into.
    #[arg(long)]
    out: PathBuf,
}

/// The named counties with weights from the state's figures, or the six largest.
fn county_weights(names: &[String]) -> anyhow::Result<Vec<(String, u32)>> {
    if names.is_empty() {
        return Ok(scrutineer_simulate::largest_counties(6));
    }
    let all = scrutineer_simulate::largest_counties(usize::MAX);
    names
        .iter()
        .map(|n| {
            let up = n.trim().to_ascii_uppercase();
            // A county outside the state's list still gets a weight (the median's).
            let w = all.iter().find(|c| c.0 == up).map_or(5_000, |c| c.1);
            if up.is_empty() || up.contains(['/', '\\']) {
                anyhow::bail!("--counties: '{n}' is not a county name")
            }
            Ok((up, w))
        })
        .collect()
}

pub fn run_infra(ctx: &Context, a: InfraArgs) -> anyhow::Result<scrutineer_simulate::infra::InfraWritten> {
    use scrutineer_simulate::infra::{InfraScenario, generate};
    let counties: Vec<String> = county_weights(&a.counties)?.into_iter().map(|c| c.0).collect();
    let mut s = InfraScenario::new(a.seed, counties);
    if let Some(t) = a.targeted {
        s.targeted = t.clamp(1, s.counties.len());
    }
    s.days = a.days;
    s.election_day = chrono::NaiveDate::parse_from_str(&a.election_day, "%Y-%m-%d")
        .with_context(|| format!("--election-day: '{}' is not a date YYYY-MM-DD", a.election_day))?;
    s.visitors_per_day = a.visitors_per_day;
    s.attack_intensity = a.attack_intensity;
    let bar = ctx.stage(&format!("writing {} days of logs for {} counties", s.days, s.counties.len()));
    let written =
        generate(&s, &a.out).with_context(|| format!("writing the logs into {}", a.out.display()))?;
    bar.finish_and_clear();
    Ok(written)
}

pub fn run_count(ctx: &Context, a: CountArgs) -> anyhow::Result<scrutineer_simulate::count::CountWritten> {
    use scrutineer_simulate::count::{CountScenario, generate};
    let counties = scrutineer_simulate::apportion(a.ballots, &county_weights(&a.counties)?);
    let mut s = CountScenario::demo(a.seed, counties);
    for c in &mut s.contests {
        c.switch_share = a.switch_share;
        if a.honest {
            c.altered.clear();
        }
    }
    let bar = ctx.stage(&format!("marking {} ballots", a.ballots));
    let written =
        generate(&s, &a.out).with_context(|| format!("writing the count into {}", a.out.display()))?;
    bar.finish_and_clear();
    Ok(written)
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SocialOutFormat {
    /// posts.csv in the IRA CSV schema (author_id,content,...,post_type,retweet).
    Ira,
    /// posts.jsonl: Twitter API v1.1 tweet objects.
    TwitterV1,
}

#[derive(Debug, clap::Args)]
pub struct SocialArgs {
    /// Seed: the same seed and flags always write the same files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Organic accounts [default: 5000; 10000 with --background-only].
    #[arg(long)]
    accounts: Option<u32>,
    /// Days simulated [default: 14; 91 with --background-only].
    #[arg(long)]
    days: Option<u32>,
    /// First day, YYYY-MM-DD (UTC) [default: 2016-10-01; 2016-09-01 with --background-only].
    #[arg(long)]
    start: Option<String>,
    /// Injected influence operations (tactics rotate through --tactics).
    #[arg(long, default_value_t = 4, conflicts_with = "background_only")]
    operations: u32,
    /// Tactics of the operations, in rotation.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "retweet_ring,copy_paste,link_laundering,hashtag_campaign"
    )]
    tactics: Vec<scrutineer_simulate::social::Tactic>,
    /// Accounts per operation.
    #[arg(long, default_value_t = 20)]
    operation_size: u32,
    /// UTC offset of every operation's office in hours (e.g. 3 or 3.5) [default: Moscow,
    /// Beijing, Tehran, Kyiv, Karachi, Lagos in rotation].
    #[arg(long, allow_hyphen_values = true)]
    operation_utc_offset: Option<f64>,
    /// Operations hide: random delays, paraphrased text, staggered accounts, organic filler.
    #[arg(long)]
    evasive: bool,
    /// Organic traffic only, in the IRA CSV schema, for the IRA file's period
    /// (2016-09-01..2016-11-30), to mix with real data.
    #[arg(long)]
    background_only: bool,
    /// Schema of the posts file.
    #[arg(long, value_enum, default_value = "ira")]
    format: SocialOutFormat,
    /// Mixed input: write twitter.csv (IRA release layout), telegram/result.json (Telegram Desktop export) and
    /// reddit.ndjson (Pushshift), each with organic traffic, and one operation of --operation-size accounts per
    /// platform whose articles reach the platforms in the order given (e.g. telegram,twitter,reddit).
    #[arg(
        long,
        value_delimiter = ',',
        conflicts_with_all = ["background_only", "evasive", "format", "operations", "tactics"]
    )]
    platforms: Vec<scrutineer_simulate::social::mixed::Platform>,
    /// Directory to write into (created if needed).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(ctx: &Context, cmd: SimulateCommand) -> anyhow::Result<()> {
    match cmd {
        SimulateCommand::Social(args) => run_social(ctx, args),
        SimulateCommand::Infra(args) => simulate_infra(ctx, args),
        SimulateCommand::Count(args) => simulate_count(ctx, args),
        SimulateCommand::Mail(args) => simulate_mail(ctx, args),
        SimulateCommand::Ballots {
            seed,
            voters,
            layout,
            mail_share,
            in_person_share,
            inject,
            lookalikes,
            out,
        } => {
            let args =
                BallotsArgs { seed, voters, layout, mail_share, in_person_share, inject, lookalikes, out };
            simulate_ballots(ctx, args)
        }
    }
}

fn simulate_infra(ctx: &Context, args: InfraArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let w = run_infra(ctx, args)?;
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&w)?)?;
    } else {
        outln!(
            "{} log lines ({} hostile) {}..{} in {:.1} s; actor {} against {}; last two weeks {:.1}x the two before",
            w.lines,
            w.hostile_lines,
            w.first_day,
            w.election_day,
            started.elapsed().as_secs_f64(),
            w.actor_sources.join(", "),
            w.targeted.join(", "),
            w.ramp_ratio
        )?;
        for f in &w.files {
            outln!("  {}", f.display())?;
        }
    }
    Ok(())
}

fn simulate_count(ctx: &Context, args: CountArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let w = run_count(ctx, args)?;
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&w)?)?;
    } else {
        outln!("{} ballots in {} batches in {:.1} s", w.ballots, w.batches, started.elapsed().as_secs_f64())?;
        for c in &w.contests {
            outln!(
                "  {}: paper winner {}, reported winner {}{}",
                c.contest,
                c.true_winner,
                c.reported_winner,
                if c.altered_counties.is_empty() {
                    String::new()
                } else {
                    format!(" ({} votes switched in {})", c.switched_votes, c.altered_counties.join(", "))
                }
            )?;
        }
        for f in &w.files {
            outln!("  {}", f.display())?;
        }
    }
    Ok(())
}

fn simulate_mail(ctx: &Context, a: MailArgs) -> anyhow::Result<()> {
    use scrutineer_simulate::mail::{MailScenario, generate};
    let started = std::time::Instant::now();
    let first_day = chrono::NaiveDate::parse_from_str(&a.first_day, "%Y-%m-%d")
        .with_context(|| format!("--first-day: '{}' is not a date YYYY-MM-DD", a.first_day))?;
    let s = MailScenario {
        messages: a.messages,
        first_day,
        days: a.days,
        organic_accounts: a.accounts,
        amplifiers: a.amplifiers,
        ..MailScenario::new(a.seed)
    };
    let bar = ctx.stage(&format!("signing {} messages", a.messages));
    let w = generate(&s, &a.out).with_context(|| format!("writing the dump into {}", a.out.display()))?;
    bar.finish_and_clear();
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&w)?)?;
        return Ok(());
    }
    let kinds: Vec<String> = w.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    outln!(
        "{} messages from {} ({}) and {} key records in {:.1} s",
        w.messages,
        w.domains.join(", "),
        kinds.join(", "),
        w.key_records,
        started.elapsed().as_secs_f64()
    )?;
    outln!(
        "released {} on {} (#{}); {} posts by {} ordinary accounts and a network of {}",
        w.released,
        w.host,
        w.hashtag,
        w.posts,
        w.organic_accounts,
        w.amplifiers
    )?;
    for f in &w.files {
        outln!("  {}", f.display())?;
    }
    Ok(())
}

/// The arguments of `simulate ballots`.
struct BallotsArgs {
    seed: u64,
    voters: u64,
    layout: SimLayout,
    mail_share: Option<f64>,
    in_person_share: Option<f64>,
    inject: u64,
    lookalikes: u64,
    out: PathBuf,
}

fn simulate_ballots(ctx: &Context, args: BallotsArgs) -> anyhow::Result<()> {
    let BallotsArgs { seed, voters, layout, mail_share, in_person_share, inject, lookalikes, out } = args;
    let layout = match layout {
        SimLayout::Generic => OutputLayout::Generic,
        SimLayout::Nc => OutputLayout::Nc,
    };
    let nc = layout == OutputLayout::Nc;
    let s = BallotScenario {
        seed,
        voters,
        layout,
        mail_share: mail_share.unwrap_or(if nc { 0.2 } else { 0.9 }),
        in_person_share: in_person_share.unwrap_or(if nc { 0.49 } else { 0.5 }),
        inject: if nc { 0 } else { inject },
        lookalikes: if nc { 0 } else { lookalikes },
    };
    let bar = ctx.stage(&format!("generating {voters} voters"));
    let started = std::time::Instant::now();
    let written = generate(&s, &out, &|n| bar.set_message(format!("generated {n} of {voters} voters")))
        .with_context(|| format!("writing the scenario into {}", out.display()))?;
    bar.finish_and_clear();
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&written)?)?;
    } else {
        outln!(
            "{} voters, {} envelopes, {} receipts, {} check-ins, {} injected items in {:.1} s",
            written.voters,
            written.envelopes,
            written.receipts,
            written.checkins,
            written.injected,
            started.elapsed().as_secs_f64()
        )?;
        outln!("deadline {} (election day {})", written.deadline, written.election_day)?;
        for f in &written.files {
            outln!("  {}", f.display())?;
        }
    }
    Ok(())
}

/// `simulate social --platforms ...`: one operation across Twitter, Telegram and Reddit.
fn run_mixed(ctx: &Context, a: SocialArgs) -> anyhow::Result<()> {
    use scrutineer_simulate::social::SocialScenario;
    use scrutineer_simulate::social::mixed::{MixedScenario, generate_mixed};
    let mut base = SocialScenario { accounts: 3_000, days: 14, ..SocialScenario::background(a.seed) };
    base.start = chrono::NaiveDate::from_ymd_opt(2016, 10, 1).context("default start date")?;
    if let Some(n) = a.accounts {
        base.accounts = n;
    }
    if let Some(n) = a.days {
        base.days = n;
    }
    if let Some(d) = &a.start {
        base.start = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .with_context(|| format!("--start: '{d}' is not a date YYYY-MM-DD"))?;
    }
    let s = MixedScenario {
        base,
        order: a.platforms.clone(),
        accounts_per_platform: a.operation_size,
        utc_offset_minutes: a.operation_utc_offset.map_or(180, |h| (h * 60.0).round() as i32),
    };
    let bar = ctx.stage(&format!("simulating {} accounts on three platforms", s.base.accounts));
    let started = std::time::Instant::now();
    let written = generate_mixed(&s, &a.out, &|m| bar.set_message(m.to_string()))
        .with_context(|| format!("writing the mixed scenario into {}", a.out.display()))?;
    bar.finish_and_clear();
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&written)?)?;
    } else {
        let order: Vec<&str> = s.order.iter().map(|p| p.as_str()).collect();
        outln!(
            "{} twitter, {} telegram, {} reddit posts in {:.1} s; the operation: {} accounts, {} articles reaching {}, {} posts",
            written.posts.get("twitter").copied().unwrap_or(0),
            written.posts.get("telegram").copied().unwrap_or(0),
            written.posts.get("reddit").copied().unwrap_or(0),
            started.elapsed().as_secs_f64(),
            written.injected_accounts,
            written.articles,
            order.join(" → "),
            written.injected_posts
        )?;
        for f in &written.files {
            outln!("  {}", f.display())?;
        }
    }
    Ok(())
}

fn run_social(ctx: &Context, a: SocialArgs) -> anyhow::Result<()> {
    use scrutineer_simulate::social::{SocialFormat, SocialScenario, default_operations, generate};
    if !a.platforms.is_empty() {
        return run_mixed(ctx, a);
    }
    let bg = a.background_only;
    let mut s = if bg {
        SocialScenario::background(a.seed)
    } else {
        SocialScenario { accounts: 5_000, days: 14, ..SocialScenario::background(a.seed) }
    };
    if !bg {
        s.start = chrono::NaiveDate::from_ymd_opt(2016, 10, 1).context("default start date")?;
        let offset = a.operation_utc_offset.map(|h| (h * 60.0).round() as i32);
        s.operations = default_operations(a.operations, a.operation_size, &a.tactics, offset);
        s.evasive = a.evasive;
    }
    if let Some(n) = a.accounts {
        s.accounts = n;
    }
    if let Some(n) = a.days {
        s.days = n;
    }
    if let Some(d) = &a.start {
        s.start = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .with_context(|| format!("--start: '{d}' is not a date YYYY-MM-DD"))?;
    }
    s.format = match a.format {
        SocialOutFormat::Ira => SocialFormat::Ira,
        SocialOutFormat::TwitterV1 => SocialFormat::TwitterV1,
    };
    let bar = ctx.stage(&format!("simulating {} accounts over {} days", s.accounts, s.days));
    let started = std::time::Instant::now();
    let written = generate(&s, &a.out, &|m| bar.set_message(m.to_string()))
        .with_context(|| format!("writing the scenario into {}", a.out.display()))?;
    bar.finish_and_clear();
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&written)?)?;
    } else {
        outln!(
            "{} posts by {} active accounts ({} originals, {} retweets, {} replies, {} quotes) {}..{} in {:.1} s",
            written.posts,
            written.active_accounts,
            written.originals,
            written.retweets,
            written.replies,
            written.quotes,
            written.start,
            written.end,
            started.elapsed().as_secs_f64()
        )?;
        outln!(
            "most retweeted post: {} retweets; injected: {} operations, {} accounts, {} posts",
            written.max_retweets_of_one_post,
            written.operations,
            written.injected_accounts,
            written.injected_posts
        )?;
        for f in &written.files {
            outln!("  {}", f.display())?;
        }
    }
    Ok(())
}
