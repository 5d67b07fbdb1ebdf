//! `scrutineer demo`: an election-season exercise. Simulates a state's season (social
//! media, county websites, mail ballots, the count), runs every engine on it exactly as a
//! user would from the command line, scores what was found against the ground truth, and
//! writes the HTML report.
//!
//! Each stage runs this same executable with the subcommand a person would type (listed in
//! `DIR/commands.txt`, its output in `DIR/logs/`), so the demo exercises the real command
//! paths and every step can be replayed by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use scrutineer_audit::{AuditDecision, ContestSummary};
use scrutineer_core::Finding;
use scrutineer_simulate::count::ContestTruth;
use scrutineer_simulate::mail::MessageKind;
use scrutineer_simulate::score::{AuditOutcome, ComparisonOutcome, ExerciseScore, LeakScore, OperationScore};

use crate::ui::{Context, outln};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Working directory for the simulated inputs, the engines' outputs and the logs.
    #[arg(long, default_value = "scrutineer-demo")]
    dir: PathBuf,
    /// Where to write the HTML report [default: DIR/report.html].
    #[arg(long)]
    report: Option<PathBuf>,
    /// Seed of the simulated season.
    #[arg(long, default_value_t = 2020)]
    seed: u64,
    /// Multiplies every simulated size (0.2 for a quick run, 10 and more for stress).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// The influence operations use evasive tactics (random delays, paraphrase, staggered
    /// accounts, organic filler).
    #[arg(long)]
    evasive: bool,
}

/// The false-alarm budget the demo holds itself to (and its test checks).
pub const BUDGET_ORGANIC_ACCOUNTS: f64 = 0.01;

/// The stages of the exercise: an overall bar, and one spinner per stage that turns into
/// a line with the stage's time when it is done.
struct Stages {
    multi: MultiProgress,
    bar: ProgressBar,
    current: Option<ProgressBar>,
    log_dir: PathBuf,
    commands: Vec<String>,
    timings: Vec<(String, f64)>,
    quiet: bool,
    drawn: bool,
}

impl Stages {
    fn new(ctx: &Context, total: u64, log_dir: PathBuf) -> Stages {
        let drawn = !ctx.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
        let multi = MultiProgress::with_draw_target(if drawn {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let bar = multi.add(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template("[{bar:24.cyan/blue}] {pos}/{len} stages ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Stages {
            multi,
            bar,
            current: None,
            log_dir,
            commands: Vec::new(),
            timings: Vec::new(),
            quiet: ctx.quiet,
            drawn,
        }
    }

    /// Starts a stage's spinner.
    fn begin(&mut self, name: &str) {
        let spinner = self.multi.insert_before(&self.bar, ProgressBar::new_spinner());
        spinner.set_style(
            ProgressStyle::with_template("{spinner:.green} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        spinner.set_message(name.to_owned());
        spinner.enable_steady_tick(Duration::from_millis(120));
        self.current = Some(spinner);
    }

    /// Runs `scrutineer ARGS` as a stage; returns its standard output.
    fn run(&mut self, name: &str, store: &Path, args: &[String]) -> anyhow::Result<String> {
        self.begin(name);
        let started = Instant::now();
        let exe = std::env::current_exe().context("finding the scrutineer executable")?;
        let mut full = vec!["--quiet".to_owned(), "--store".to_owned(), store.display().to_string()];
        full.extend_from_slice(args);
        self.commands
            .push(format!("scrutineer {}", full.iter().map(|a| shell_word(a)).collect::<Vec<_>>().join(" ")));
        let out = Command::new(&exe)
            .args(&full)
            .output()
            .with_context(|| format!("running {} {}", exe.display(), full.join(" ")))?;
        let slug: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let log = self.log_dir.join(format!("{:02}-{slug}.txt", self.commands.len()));
        let mut text = out.stdout.clone();
        text.extend_from_slice(&out.stderr);
        std::fs::write(&log, &text).with_context(|| format!("writing {}", log.display()))?;
        if !out.status.success() {
            if let Some(s) = self.current.take() {
                s.abandon_with_message(format!("✗ {name}"));
            }
            bail!(
                "stage '{name}' failed (scrutineer {}):\n{}",
                full.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        self.done(name, started);
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn done(&mut self, name: &str, started: Instant) {
        let secs = started.elapsed().as_secs_f64();
        self.timings.push((name.to_owned(), secs));
        self.bar.inc(1);
        let line = format!("✓ {name} ({secs:.1} s)");
        if let Some(s) = self.current.take() {
            s.set_style(
                ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            s.finish_with_message(line.clone());
        }
        if !self.drawn && !self.quiet {
            eprintln!("{line}");
        }
    }
}

fn shell_word(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

pub(super) fn arg(v: impl ToString) -> String {
    v.to_string()
}

pub(super) fn path_arg(p: &Path) -> String {
    p.display().to_string()
}

pub fn run(ctx: &Context, a: DemoArgs) -> anyhow::Result<()> {
    if !(a.scale > 0.0 && a.scale.is_finite()) {
        bail!("--scale must be a positive number, not {}", a.scale);
    }
    let started = Instant::now();
    let dir = a.dir.clone();
    let logs = prepare_dir(&dir)?;
    let store = ctx.store_path.clone();
    let report_path = a.report.clone().unwrap_or_else(|| dir.join("report.html"));

    ctx.note(format!(
        "Simulating an election season (seed {}, scale {}) and running every engine; store {}",
        a.seed,
        a.scale,
        store.display()
    ));
    let mut st = Stages::new(ctx, 14, logs);

    // 1–4: the season.
    let season = simulate_season(&mut st, &store, &dir, &a)?;
    // 5–7: the engines.
    scan_social(&mut st, &store, &season)?;
    scan_infra(&mut st, &store, &season)?;
    reconcile_ballots(&mut st, &store, &season)?;
    // 8–10: the leaked mailbox, verified and followed.
    hack_and_leak(&mut st, &store, &dir, &a)?;

    // 11: the risk-limiting audit, with the demo acting as the audit board that reads the
    // paper ballots drawn.
    let audit_started = Instant::now();
    st.begin("audit: risk-limiting audit of the count");
    let audit = audit_count(&mut st, &store, &season.count, a.seed)?;
    st.done("audit: risk-limiting audit of the count", audit_started);
    // 12: the same count audited by comparing the tabulators' cast-vote records with the
    // paper cards, pulled county by county from retrieval lists.
    let comparison_started = Instant::now();
    let stage = "audit: ballot-comparison audit of the count, with retrieval lists";
    st.begin(stage);
    let comparison = crate::cmd::demo_comparison::audit(&mut st.commands, &store, &season.count, a.seed)?;
    st.done(stage, comparison_started);

    // 13–14: the score against the ground truth, then the report that shows it.
    let score = score(&dir, &audit, &comparison)?;
    let score_path = dir.join("score.json");
    std::fs::write(&score_path, serde_json::to_string_pretty(&score)?)
        .with_context(|| format!("writing {}", score_path.display()))?;
    let report_started = Instant::now();
    st.begin("writing the report");
    crate::cmd::report::write_report(ctx, &report_path, Some(&dir)).context("writing the report")?;
    st.done("writing the report", report_started);
    st.bar.finish_and_clear();

    let commands_path = dir.join("commands.txt");
    std::fs::write(&commands_path, st.commands.join("\n") + "\n")
        .with_context(|| format!("writing {}", commands_path.display()))?;
    let total = started.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "seconds": total,
        "stages": st.timings.iter().map(|(n, s)| serde_json::json!({"stage": n, "seconds": s})).collect::<Vec<_>>(),
        "score": score,
        "report": report_path,
        "store": store,
    });
    let summary_path = dir.join("summary.json");
    std::fs::write(&summary_path, serde_json::to_string_pretty(&summary)?)
        .with_context(|| format!("writing {}", summary_path.display()))?;
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?)?;
        return Ok(());
    }
    print_summary(&score, total, &report_path, &dir)?;
    Ok(())
}

/// Creates `dir` and clears what an earlier exercise left in it; returns the log folder.
fn prepare_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let logs = dir.join("logs");
    for sub in [
        "logs",
        "social",
        "infra",
        "ballots",
        "count",
        "mail",
        "influence-out",
        "infra-out",
        "ballots-out",
        "mail-out",
        "mail-spread",
    ] {
        let p = dir.join(sub);
        if p.exists() {
            std::fs::remove_dir_all(&p).with_context(|| format!("clearing {}", p.display()))?;
        }
    }
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    Ok(logs)
}

/// Where the simulated season and the engines' outputs are.
struct Season {
    dir: PathBuf,
    social: PathBuf,
    infra: PathBuf,
    ballots: PathBuf,
    count: PathBuf,
    /// The ballot return deadline `simulate ballots` chose.
    deadline: String,
}

/// Simulates social media, the county websites, the mail ballots and the count.
fn simulate_season(st: &mut Stages, store: &Path, dir: &Path, a: &DemoArgs) -> anyhow::Result<Season> {
    let scaled = |n: f64| ((n * a.scale).round() as u64).max(1);
    let seed = a.seed;
    let social = dir.join("social");
    let mut social_args = vec![
        arg("simulate"),
        arg("social"),
        arg("--seed"),
        arg(seed),
        arg("--accounts"),
        arg(scaled(4000.0)),
        arg("--days"),
        arg(21),
        arg("--start"),
        arg("2020-10-13"),
        arg("--operation-size"),
        arg(scaled(20.0).max(6)),
        arg("--out"),
        path_arg(&social),
    ];
    if a.evasive {
        social_args.push(arg("--evasive"));
    }
    st.run("simulating social media", store, &social_args)?;
    let infra = dir.join("infra");
    let infra_args = [
        arg("simulate"),
        arg("infra"),
        arg("--seed"),
        arg(seed),
        arg("--election-day"),
        arg("2020-11-03"),
        arg("--visitors-per-day"),
        arg(scaled(40.0)),
        arg("--out"),
        path_arg(&infra),
    ];
    st.run("simulating county websites", store, &infra_args)?;
    let ballots = dir.join("ballots");
    let ballots_args = [
        arg("--json"),
        arg("simulate"),
        arg("ballots"),
        arg("--seed"),
        arg(seed),
        arg("--voters"),
        arg(scaled(60_000.0)),
        arg("--out"),
        path_arg(&ballots),
    ];
    let ballots_json = st.run("simulating mail ballots", store, &ballots_args)?;
    let written: serde_json::Value =
        serde_json::from_str(&ballots_json).context("reading what `simulate ballots` wrote")?;
    let deadline = written["deadline"].as_str().context("`simulate ballots` named no deadline")?.to_owned();
    let count = dir.join("count");
    let count_args = [
        arg("simulate"),
        arg("count"),
        arg("--seed"),
        arg(seed),
        arg("--ballots"),
        arg(scaled(12_000.0).max(600)),
        arg("--out"),
        path_arg(&count),
    ];
    st.run("simulating the count", store, &count_args)?;
    Ok(Season { dir: dir.to_path_buf(), social, infra, ballots, count, deadline })
}

/// `influence scan` of the simulated posts.
fn scan_social(st: &mut Stages, store: &Path, season: &Season) -> anyhow::Result<()> {
    let args = [
        arg("influence"),
        arg("scan"),
        path_arg(&season.social.join("posts.csv")),
        arg("--format"),
        arg("ira"),
        arg("--platform"),
        arg("simulated"),
        arg("--out"),
        path_arg(&season.dir.join("influence-out")),
    ];
    st.run("influence: finding coordinated networks", store, &args)?;
    Ok(())
}

/// `infra scan` of every office's logs, then the STIX export of its findings.
fn scan_infra(st: &mut Stages, store: &Path, season: &Season) -> anyhow::Result<()> {
    let infra_out = season.dir.join("infra-out");
    let mut logs_in: Vec<PathBuf> = Vec::new();
    let infra = &season.infra;
    for entry in std::fs::read_dir(infra).with_context(|| format!("listing {}", infra.display()))? {
        let p = entry?.path();
        if p.is_dir() {
            for name in ["portal.log", "results.log"] {
                logs_in.push(p.join(name));
            }
        }
    }
    logs_in.sort();
    let mut infra_args = vec![arg("infra"), arg("scan")];
    infra_args.extend(logs_in.iter().map(|p| path_arg(p)));
    infra_args.extend([arg("--out"), path_arg(&infra_out)]);
    st.run("infra: attacks, campaigns and the trend", store, &infra_args)?;
    let stix = infra_out.join("stix-bundle.json");
    let export_args = [
        arg("infra"),
        arg("export"),
        arg("--stix"),
        path_arg(&stix),
        arg("--identity"),
        arg("State Board of Elections (exercise)"),
    ];
    st.run("sharing: the infra findings as STIX 2.1", store, &export_args)?;
    Ok(())
}

/// `ballots reconcile` of the simulated roll, envelopes, returns and check-ins.
fn reconcile_ballots(st: &mut Stages, store: &Path, season: &Season) -> anyhow::Result<()> {
    let ballots = &season.ballots;
    let args = [
        arg("ballots"),
        arg("reconcile"),
        arg("--roll"),
        path_arg(&ballots.join("roll.csv")),
        arg("--issued"),
        path_arg(&ballots.join("issued.csv")),
        arg("--returns"),
        path_arg(&ballots.join("returns.csv")),
        arg("--checkins"),
        path_arg(&ballots.join("checkins.csv")),
        arg("--deadline"),
        arg(&season.deadline),
        arg("--out"),
        path_arg(&season.dir.join("ballots-out")),
    ];
    st.run("ballots: reconciling envelopes", store, &args)?;
    Ok(())
}

/// Simulates a leaked mailbox and the posts amplifying it, then runs `mail verify` on
/// the dump against its key archive and `mail sightings` on the posts.
fn hack_and_leak(st: &mut Stages, store: &Path, dir: &Path, a: &DemoArgs) -> anyhow::Result<()> {
    let scaled = |n: f64| ((n * a.scale).round() as u64).max(60);
    let mail = dir.join("mail");
    let sim_args = [
        arg("--json"),
        arg("simulate"),
        arg("mail"),
        arg("--seed"),
        arg(a.seed),
        arg("--messages"),
        arg(scaled(300.0)),
        // With fewer ordinary accounts the network is too much of the traffic for the
        // co-action test to tell it from the crowd (see the simulator's README).
        arg("--accounts"),
        arg(scaled(600.0).max(600)),
        arg("--out"),
        path_arg(&mail),
    ];
    let written = st.run("simulating a leaked mailbox", store, &sim_args)?;
    let written: serde_json::Value =
        serde_json::from_str(&written).context("reading what `simulate mail` wrote")?;
    let field = |name: &str| {
        written[name].as_str().map(str::to_owned).with_context(|| format!("`simulate mail` named no {name}"))
    };
    let (dump, keys) = (path_arg(&mail.join("dump.mbox")), path_arg(&mail.join("keys.csv")));
    let verify_args = [
        arg("mail"),
        arg("verify"),
        dump.clone(),
        arg("--keys"),
        keys.clone(),
        arg("--out"),
        path_arg(&dir.join("mail-out")),
    ];
    st.run("mail: verifying the dump's signatures", store, &verify_args)?;
    let sightings_args = [
        arg("mail"),
        arg("sightings"),
        dump,
        arg("--posts"),
        path_arg(&mail.join("posts.csv")),
        arg("--format"),
        arg("ira"),
        arg("--keys"),
        keys,
        arg("--host"),
        field("host")?,
        arg("--hashtag"),
        field("hashtag")?,
        arg("--released"),
        field("released")?,
        arg("--out"),
        path_arg(&dir.join("mail-spread")),
    ];
    st.run("mail: who spreads the dump", store, &sightings_args)?;
    Ok(())
}

/// Runs the audit in rounds: the first round draws the estimated sample size, each later
/// round three times as many, the last every ballot (a full hand count).
fn audit_count(st: &mut Stages, store: &Path, count: &Path, seed: u64) -> anyhow::Result<Vec<AuditOutcome>> {
    let audit_file = count.join("audit.json");
    let board = AuditBoard { store, audit_file: &audit_file };
    init_audit(st, &board, count, seed)?;
    let paper = read_paper(&count.join("paper.csv"))?;
    let total_ballots = paper.len();
    let mut status = board.status()?;
    let first = status
        .iter()
        .filter_map(|s| s.estimated_total_draws)
        .max()
        .unwrap_or(100)
        .clamp(20, total_ballots as u64) as usize;
    let mut size = first;
    let mut rounds = 0;
    let mut first_stop: BTreeMap<String, u64> = BTreeMap::new();
    loop {
        rounds += 1;
        let sample = vec![
            arg("audit"),
            arg("sample"),
            arg("--audit"),
            path_arg(&audit_file),
            arg("--size"),
            arg(size),
        ];
        st.commands.push(format!("scrutineer {}", sample.join(" ")));
        let drawn = board.run(sample)?;
        // The audit board: read each drawn paper ballot.
        let interp = count.join(format!("interpretations-round{rounds}.csv"));
        write_interpretations(&paper, &drawn, &interp)?;
        let record = vec![
            arg("audit"),
            arg("record"),
            arg("--audit"),
            path_arg(&audit_file),
            arg("--interpretations"),
            path_arg(&interp),
        ];
        st.commands.push(format!("scrutineer {}", record.join(" ")));
        board.run(record)?;
        status = board.status()?;
        for c in &status {
            if c.decision == AuditDecision::Stop {
                first_stop.entry(c.contest.clone()).or_insert(c.ballots_examined);
            }
        }
        let open = status.iter().any(|s| s.decision == AuditDecision::Continue);
        if !open || size >= total_ballots {
            break;
        }
        size = if rounds >= 2 { total_ballots } else { (size * 3).min(total_ballots) };
    }
    let store_cmd =
        vec![arg("audit"), arg("status"), arg("--audit"), path_arg(&audit_file), arg("--store-findings")];
    st.commands.push(format!("scrutineer {}", store_cmd.join(" ")));
    board.run(store_cmd)?;
    Ok(status
        .into_iter()
        .map(|s| AuditOutcome {
            confirmed_after: first_stop.get(&s.contest).copied(),
            contest: s.contest,
            decision: s.decision.as_str().to_owned(),
            ballots_examined: s.ballots_examined,
            measured_risk: s.measured_risk,
            reported_winners: s.reported_winners,
            hand_count_winners: s.sample_leaders,
            rounds,
        })
        .collect())
}

/// `audit init` of the count's results and manifest, with the public seed from `seed`.
fn init_audit(st: &mut Stages, board: &AuditBoard<'_>, count: &Path, seed: u64) -> anyhow::Result<()> {
    let public_seed = format!("{:020}", scrutineer_simulate::mix(seed));
    let init = vec![
        arg("audit"),
        arg("init"),
        arg("--results"),
        path_arg(&count.join("results.csv")),
        arg("--manifest"),
        path_arg(&count.join("manifest.csv")),
        arg("--seed"),
        public_seed.clone(),
        arg("--without-replacement"),
        arg("--out"),
        path_arg(board.audit_file),
    ];
    st.commands.push(format!("scrutineer {}", init.join(" ")));
    board.run(init)?;
    Ok(())
}

/// The audit commands the demo runs as the audit board, on one audit file.
pub(super) struct AuditBoard<'a> {
    pub(super) store: &'a Path,
    pub(super) audit_file: &'a Path,
}

impl AuditBoard<'_> {
    /// Runs `scrutineer ARGS` quietly on the store; returns its standard output.
    pub(super) fn run(&self, args: Vec<String>) -> anyhow::Result<String> {
        let exe = std::env::current_exe().context("finding the scrutineer executable")?;
        let mut full = vec!["--quiet".to_owned(), "--store".to_owned(), self.store.display().to_string()];
        full.extend(args);
        let out = Command::new(&exe).args(&full).output().context("running the audit")?;
        if !out.status.success() {
            bail!("scrutineer {} failed: {}", full.join(" "), String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// [`AuditBoard::run`], with the command appended to `commands` as a person would type it.
    pub(super) fn run_logged(&self, commands: &mut Vec<String>, args: Vec<String>) -> anyhow::Result<String> {
        commands.push(format!("scrutineer {}", args.join(" ")));
        self.run(args)
    }

    /// Every contest's status, as `audit status --json` prints it.
    fn status(&self) -> anyhow::Result<Vec<ContestSummary>> {
        let args =
            vec![arg("--json"), arg("audit"), arg("status"), arg("--audit"), path_arg(self.audit_file)];
        serde_json::from_str(&self.run(args)?).context("reading `audit status --json`")
    }
}

/// Writes what the paper ballots drawn (`drawn`, the CSV `audit sample` prints) say, as
/// the interpretations file `audit record` reads.
fn write_interpretations(paper: &Paper, drawn: &str, interp: &Path) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(interp).with_context(|| format!("writing {}", interp.display()))?;
    w.write_record(["batch", "position", "contest", "choice"])?;
    let mut reader = csv::Reader::from_reader(drawn.as_bytes());
    let mut seen = BTreeSet::new();
    for rec in reader.records() {
        let r = rec.context("reading the drawn sample")?;
        let (batch, position) = (r.get(1).unwrap_or(""), r.get(2).unwrap_or(""));
        if !seen.insert((batch.to_owned(), position.to_owned())) {
            continue;
        }
        let marks = paper
            .get(&(batch.to_owned(), position.parse().unwrap_or(0)))
            .with_context(|| format!("drawn ballot {batch}-{position} is not in paper.csv"))?;
        for (contest, choice) in marks {
            w.write_record([batch, position, contest, choice])?;
        }
    }
    w.flush()?;
    Ok(())
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

type Paper = BTreeMap<(String, u64), Vec<(String, String)>>;

fn read_paper(path: &Path) -> anyhow::Result<Paper> {
    let mut out: Paper = BTreeMap::new();
    let mut r = csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
    for rec in r.records() {
        let rec = rec.with_context(|| format!("reading {}", path.display()))?;
        let pos: u64 =
            rec.get(1).unwrap_or("").parse().with_context(|| format!("{}: bad position", path.display()))?;
        out.entry((rec.get(0).unwrap_or("").to_owned(), pos))
            .or_default()
            .push((rec.get(2).unwrap_or("").to_owned(), rec.get(3).unwrap_or("").to_owned()));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Scoring against the ground truth.

fn csv_rows(path: &Path) -> anyhow::Result<Vec<BTreeMap<String, String>>> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
    let headers = r.headers().with_context(|| format!("reading {}", path.display()))?.clone();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.with_context(|| format!("reading {}", path.display()))?;
        out.push(headers.iter().zip(rec.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect());
    }
    Ok(out)
}

fn score(
    dir: &Path,
    audit: &[AuditOutcome],
    comparison: &[ComparisonOutcome],
) -> anyhow::Result<ExerciseScore> {
    let influence = score_influence(dir)?;
    let infra = score_infra(dir)?;
    let (ballots_injected, ballots_false) = score_ballots(dir)?;
    let audit_truth: Vec<ContestTruth> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("count/truth.json")).context("reading count/truth.json")?,
    )
    .context("reading count/truth.json")?;
    Ok(ExerciseScore {
        version: ExerciseScore::VERSION,
        operations: influence.operations,
        organic_accounts: influence.organic_accounts,
        organic_in_networks: influence.organic_in_networks,
        campaign_found: infra.sources_found > 0 && infra.offices_found.len() == infra.offices.len(),
        campaign_sources: infra.actor.len(),
        campaign_sources_found: infra.sources_found,
        campaign_offices: infra.offices,
        campaign_offices_found: infra.offices_found,
        ramp_up_found: infra.ramp_up_found,
        innocent_sources_flagged: infra.innocent.len(),
        ballots_injected,
        ballots_false,
        audit: audit.to_vec(),
        comparison: comparison.to_vec(),
        audit_truth,
        leak: score_leak(dir)?,
    })
}

/// `mail verify`'s verdicts and variant groups and `mail sightings`' spreaders against
/// the simulated dump's truth.
fn score_leak(dir: &Path) -> anyhow::Result<LeakScore> {
    use scrutineer_simulate::mail::{read_amplifiers, read_truth};
    let truth = read_truth(&dir.join("mail/truth.csv"))?;
    let amplifiers = read_amplifiers(&dir.join("mail/amplifiers.csv"))?;
    let mut signatures = Vec::new();
    for r in csv_rows(&dir.join("mail-out/verdicts.csv"))? {
        let offset = r.get("offset").and_then(|o| o.parse::<u64>().ok());
        let verdict = r.get("verdict").cloned().unwrap_or_default();
        // ARC chains have rows of their own; the messages' verdicts are their signatures'.
        if let Some(offset) = offset.filter(|_| !verdict.starts_with("arc_")) {
            signatures.push((offset, verdict));
        }
    }
    let summary_path = dir.join("mail-out/summary.json");
    // The file is the stored summary's envelope: {"engine", "version", "summary"}.
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&summary_path)
            .with_context(|| format!("reading {}", summary_path.display()))?,
    )
    .with_context(|| format!("reading {}", summary_path.display()))?;
    let stored = scrutineer_core::StoredSummary {
        engine: scrutineer_core::Engine::Mail,
        version: file["version"].as_u64().and_then(|v| u32::try_from(v).ok()),
        body: file["summary"].clone(),
    };
    let summary = scrutineer_mail::RunSummary::from_stored(&stored)
        .with_context(|| format!("reading {}", summary_path.display()))?;
    let spreaders: Vec<(String, bool)> = csv_rows(&dir.join("mail-spread/spreaders.csv"))?
        .into_iter()
        .map(|r| {
            let placed = r.get("network").is_some_and(|n| !n.is_empty());
            (r.get("account").cloned().unwrap_or_default(), placed)
        })
        .collect();
    Ok(LeakScore::score(&truth, &signatures, &summary.variant_groups, &amplifiers, &spreaders))
}

struct InfluenceScore {
    operations: Vec<OperationScore>,
    organic_accounts: usize,
    organic_in_networks: usize,
}

/// Injected accounts placed in any network, and organic accounts placed.
fn score_influence(dir: &Path) -> anyhow::Result<InfluenceScore> {
    let truth = csv_rows(&dir.join("social/truth.csv"))?;
    let placed: BTreeSet<String> = csv_rows(&dir.join("influence-out/accounts.csv"))?
        .into_iter()
        .filter_map(|r| r.get("account").cloned())
        .collect();
    let mut ops: BTreeMap<String, OperationScore> = BTreeMap::new();
    let mut injected = BTreeSet::new();
    for r in &truth {
        let acc = r.get("account").cloned().unwrap_or_default();
        let op = r.get("operation").cloned().unwrap_or_default();
        let e = ops.entry(op.clone()).or_insert_with(|| OperationScore {
            operation: op,
            tactic: r.get("tactic").cloned().unwrap_or_default(),
            accounts: 0,
            found: 0,
        });
        e.accounts += 1;
        if placed.contains(&acc) {
            e.found += 1;
        }
        injected.insert(acc);
    }
    let active = active_accounts(&dir.join("social/posts.csv"))?;
    Ok(InfluenceScore {
        operations: ops.into_values().collect(),
        organic_accounts: active.iter().filter(|a| !injected.contains(*a)).count(),
        organic_in_networks: placed.iter().filter(|a| !injected.contains(*a)).count(),
    })
}

struct InfraScore {
    actor: BTreeSet<String>,
    offices: Vec<String>,
    sources_found: usize,
    offices_found: Vec<String>,
    ramp_up_found: bool,
    innocent: BTreeSet<String>,
}

/// The campaign, its offices, the ramp-up, and innocent sources flagged.
fn score_infra(dir: &Path) -> anyhow::Result<InfraScore> {
    let itruth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("infra/truth.json")).context("reading infra/truth.json")?,
    )?;
    let actor: BTreeSet<String> = strings(&itruth["sources"]).into_iter().collect();
    let offices: Vec<String> = strings(&itruth["counties"]);
    let campaigns: Vec<scrutineer_infra::Campaign> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("infra-out/campaigns.json"))
            .context("reading infra-out/campaigns.json")?,
    )
    .context("infra-out/campaigns.json does not hold campaigns")?;
    let actor_sources =
        |c: &scrutineer_infra::Campaign| c.sources.iter().filter(|s| actor.contains(*s)).count();
    let best = campaigns.iter().max_by_key(|c| actor_sources(c));
    let (mut sources_found, mut offices_found) = (0, Vec::new());
    if let Some(c) = best {
        sources_found = actor_sources(c);
        offices_found = c.jurisdictions.iter().filter(|j| offices.contains(j)).cloned().collect();
    }
    let findings: Vec<Finding> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("infra-out/findings.json"))
            .context("reading infra-out/findings.json")?,
    )
    .context("infra-out/findings.json does not hold findings")?;
    let ramp_up_found = findings.iter().any(|f| f.kind == "activity_ramp_up");
    let mut innocent = BTreeSet::new();
    // Every finding of every kind, campaigns included: a campaign that takes in an
    // innocent address is a false accusation too.
    for f in &findings {
        for s in finding_sources(f) {
            if !actor.contains(&s) {
                innocent.insert(s);
            }
        }
    }
    Ok(InfraScore { actor, offices, sources_found, offices_found, ramp_up_found, innocent })
}

/// Injected ballot items per kind: (injected, found).
type FoundByKind = BTreeMap<String, (usize, usize)>;

/// Every injected ballot item by kind (injected, found), and findings outside the truth.
fn score_ballots(dir: &Path) -> anyhow::Result<(FoundByKind, usize)> {
    let btruth = csv_rows(&dir.join("ballots/truth.csv"))?;
    let bfound = csv_rows(&dir.join("ballots-out/findings.csv"))?;
    let key = |r: &BTreeMap<String, String>| {
        let kind = r.get("kind").cloned().unwrap_or_default();
        let id = if kind == "double_vote" { r.get("voter_id") } else { r.get("envelope_id") };
        (kind, id.cloned().unwrap_or_default())
    };
    let found_keys: BTreeSet<(String, String)> = bfound.iter().map(key).collect();
    let truth_keys: BTreeSet<(String, String)> = btruth.iter().map(key).collect();
    let mut by_kind = FoundByKind::new();
    for k in &truth_keys {
        let e = by_kind.entry(k.0.clone()).or_default();
        e.0 += 1;
        if found_keys.contains(k) {
            e.1 += 1;
        }
    }
    Ok((by_kind, found_keys.difference(&truth_keys).count()))
}

/// Source addresses a finding is about: its scope when that is an address, and the
/// addresses of its `observable` evidence (what the STIX export shares as observables).
/// Every address a finding names: its scope, its observables, and the sources the infra
/// engine lists in its evidence (an attacked account's sources, a campaign's members).
fn finding_sources(f: &Finding) -> Vec<String> {
    let mut out: Vec<String> = scrutineer_infra::source_addresses(f).iter().map(|a| a.to_string()).collect();
    if let Some(s) = &f.scope
        && s.parse::<std::net::IpAddr>().is_ok()
    {
        out.push(s.clone());
    }
    for e in f.evidence.iter().filter(|e| e.kind == "observable") {
        let address_type = matches!(e.data["type"].as_str(), Some("ipv4-addr" | "ipv6-addr"));
        if let Some(v) = e.data["value"].as_str()
            && address_type
            && v.parse::<std::net::IpAddr>().is_ok()
        {
            out.push(v.to_owned());
        }
    }
    out.sort();
    out.dedup();
    out
}

fn active_accounts(posts: &Path) -> anyhow::Result<BTreeSet<String>> {
    let mut r = csv::Reader::from_path(posts).with_context(|| format!("opening {}", posts.display()))?;
    let headers = r.headers()?.clone();
    let col = headers
        .iter()
        .position(|h| h == "author_id" || h == "external_author_id")
        .with_context(|| format!("{}: no author_id column", posts.display()))?;
    let mut out = BTreeSet::new();
    for rec in r.records() {
        let rec = rec.with_context(|| format!("reading {}", posts.display()))?;
        out.insert(rec.get(col).unwrap_or("").to_owned());
    }
    Ok(out)
}

fn print_leak(l: &LeakScore) -> std::io::Result<()> {
    let mark = |ok: bool| if ok { "found " } else { "MISSED" };
    outln!(
        "\nHack-and-leak dump (injected → flagged by `mail verify`, and with the verdict that names it):"
    )?;
    for k in l.kinds.iter().filter(|k| k.kind != MessageKind::Authentic.as_str()) {
        let grouped = if k.kind == MessageKind::Forged.as_str() {
            format!("; {} grouped with the genuine message named", l.forgeries_grouped)
        } else {
            String::new()
        };
        outln!(
            "  {} {:<16} {:>3}/{:<3} flagged, {} named{grouped}",
            mark(k.flagged == k.messages),
            k.kind,
            k.flagged,
            k.messages,
            k.named
        )?;
    }
    if let Some(a) = l.kind(MessageKind::Authentic) {
        outln!("  false alarms: {} of {} authentic messages flagged", a.flagged, a.messages)?;
    }
    outln!(
        "  {} amplifying network: {}/{} accounts spreading it placed in a detected network",
        mark(l.amplifiers_in_network * 2 > l.amplifiers),
        l.amplifiers_in_network,
        l.amplifiers
    )?;
    outln!(
        "  false alarms: {} of {} ordinary spreaders placed in a network",
        l.ordinary_in_network,
        l.ordinary_spreaders
    )
}

fn print_summary(s: &ExerciseScore, secs: f64, report: &Path, dir: &Path) -> std::io::Result<()> {
    let mark = |ok: bool| if ok { "found " } else { "MISSED" };
    outln!("Election-season exercise finished in {secs:.1} s\n")?;
    outln!("Influence operations (injected → placed in a detected network):")?;
    for o in &s.operations {
        outln!(
            "  {} {:<5} {:<17} {:>3}/{:<3} accounts",
            mark(o.found * 2 > o.accounts),
            o.operation,
            o.tactic,
            o.found,
            o.accounts
        )?;
    }
    outln!(
        "  false alarms: {} of {} organic accounts in networks ({:.2}%; budget {:.0}%)",
        s.organic_in_networks,
        s.organic_accounts,
        100.0 * s.organic_in_networks as f64 / s.organic_accounts.max(1) as f64,
        100.0 * BUDGET_ORGANIC_ACCOUNTS
    )?;
    outln!("\nAttacks on county websites:")?;
    outln!(
        "  {} campaign: {}/{} actor addresses, {}/{} targeted offices linked",
        mark(s.campaign_found),
        s.campaign_sources_found,
        s.campaign_sources,
        s.campaign_offices_found.len(),
        s.campaign_offices.len()
    )?;
    outln!("  {} ramp-up before election day", mark(s.ramp_up_found))?;
    outln!("  false alarms: {} innocent source addresses flagged", s.innocent_sources_flagged)?;
    outln!("\nMail ballots (injected → in findings.csv):")?;
    for (k, (n, f)) in &s.ballots_injected {
        outln!("  {} {k:<20} {f:>3}/{n:<3}", mark(f == n))?;
    }
    outln!("  false alarms: {} findings outside the injected set", s.ballots_false)?;
    print_leak(&s.leak)?;
    outln!("\nRisk-limiting audit of the count:")?;
    for a in &s.audit {
        let truth = s.audit_truth.iter().find(|t| t.contest == a.contest);
        let altered = truth.is_some_and(|t| t.true_winner != t.reported_winner);
        let examined = a.confirmed_after.unwrap_or(a.ballots_examined);
        let verdict = match (a.decision.as_str(), altered) {
            ("stop", false) => "confirmed the reported winner (correct)".to_owned(),
            ("full_hand_count", true) => {
                format!("caught the altered tally: hand count names {}", a.hand_count_winners.join(", "))
            }
            ("stop", true) => "MISSED: confirmed an altered outcome".to_owned(),
            (d, _) => format!("{d} after examining {} ballots", a.ballots_examined),
        };
        outln!("  {:<20} {examined:>6} ballots examined: {verdict}", a.contest)?;
    }
    if !s.comparison.is_empty() {
        let retrieved = s.comparison.iter().map(|c| c.cards_retrieved).max().unwrap_or(0);
        let rounds = s.comparison.iter().map(|c| c.rounds).max().unwrap_or(0);
        outln!(
            "\nBallot-comparison audit of the count ({rounds} rounds, {retrieved} cards pulled from retrieval lists):"
        )?;
        for c in &s.comparison {
            let truth = s.audit_truth.iter().find(|t| t.contest == c.contest);
            let altered = truth.is_some_and(|t| t.true_winner != t.reported_winner);
            let examined = c.confirmed_after.unwrap_or(c.cards_examined);
            let verdict = match (c.decision.as_str(), altered) {
                ("stop", false) => "confirmed the reported winner (correct)".to_owned(),
                ("full_hand_count", true) => format!(
                    "caught the altered tally: {} two-vote and {} one-vote overstatements",
                    c.o2, c.o1
                ),
                ("stop", true) => "MISSED: confirmed an altered outcome".to_owned(),
                (d, _) => format!("{d} after comparing {} cards", c.cards_examined),
            };
            outln!("  {:<20} {examined:>6} cards compared: {verdict}", c.contest)?;
        }
    }
    outln!("\nReport: {}   (open it in a browser; or `scrutineer report --out FILE`)", report.display())?;
    outln!("STIX 2.1 bundle for partners: {}", dir.join("infra-out/stix-bundle.json").display())?;
    outln!("Inputs, outputs and the commands each stage ran: {}", dir.display())
}
