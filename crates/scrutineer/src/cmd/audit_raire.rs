//! `scrutineer audit raire-assertions` and `raire-risk`: ranked-choice (IRV) audits.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::ValueEnum;
use scrutineer_audit::{self as audit, AssertionSet, DifficultyMeasure, GenerateOptions, RankedFormat, Trim};

use crate::ui::{Context, outln};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RankedArg {
    /// RAIRE's layout (`Contest,ID,N,...` headers, one ballot a line).
    Raire,
    /// NSW's `*_cvr_contest_info.sql` (raire-service's test data).
    NswSql,
    /// USIRV (`(1, 2, 3) : count` lines).
    Usirv,
}

impl From<RankedArg> for RankedFormat {
    fn from(a: RankedArg) -> Self {
        match a {
            RankedArg::Raire => RankedFormat::Raire,
            RankedArg::NswSql => RankedFormat::NswSql,
            RankedArg::Usirv => RankedFormat::Usirv,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MeasureArg {
    /// 1 / diluted margin (ballot comparison).
    Margin,
    /// 1 / diluted margin squared (ballot polling).
    MarginSquared,
    /// BRAVO's expected sample size at --risk-limit.
    Bravo,
}

#[derive(Debug, clap::Args)]
pub struct AssertionsArgs {
    /// Ranked ballots.
    #[arg(long)]
    cvrs: PathBuf,
    #[arg(long, value_enum, default_value = "raire")]
    format: RankedArg,
    /// The contest's id (default: the file's only contest).
    #[arg(long)]
    contest: Option<String>,
    #[arg(long, value_enum, default_value = "margin")]
    measure: MeasureArg,
    /// Risk limit of the BRAVO measure.
    #[arg(long, default_value_t = 0.05)]
    risk_limit: f64,
    /// Keep every assertion the search took (no trimming).
    #[arg(long)]
    no_trim: bool,
    /// Give up after this many seconds.
    #[arg(long)]
    time_limit: Option<f64>,
    /// Where to write the assertion set (JSON).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RiskArgs {
    /// An assertion set written by `raire-assertions`.
    #[arg(long)]
    assertions: PathBuf,
    /// The audited ballots (a ballot-polling sample) in the same contest and names.
    #[arg(long)]
    sample: PathBuf,
    #[arg(long, value_enum, default_value = "raire")]
    format: RankedArg,
    #[arg(long, default_value_t = 0.05)]
    risk_limit: f64,
}

fn contest_of(path: &Path, format: RankedArg, id: Option<&str>) -> anyhow::Result<audit::RaireContest> {
    let file = audit::read_ranked(path, format.into())?;
    let mut cs = file.contests.into_iter();
    match id {
        Some(id) => {
            cs.find(|c| c.id == id).with_context(|| format!("contest {id} is not in {}", path.display()))
        }
        None => {
            let (Some(c), None) = (cs.next(), cs.next()) else {
                bail!("give --contest: the file has several")
            };
            Ok(c)
        }
    }
}

pub fn assertions(ctx: &Context, a: AssertionsArgs) -> anyhow::Result<()> {
    let contest = contest_of(&a.cvrs, a.format, a.contest.as_deref())?;
    let measure = match a.measure {
        MeasureArg::Margin => DifficultyMeasure::Margin,
        MeasureArg::MarginSquared => DifficultyMeasure::MarginSquared,
        MeasureArg::Bravo => DifficultyMeasure::Bravo { alpha: a.risk_limit },
    };
    let opts = GenerateOptions {
        measure,
        trim: if a.no_trim { Trim::None } else { Trim::MinimizeTree },
        time_limit: a.time_limit.map(Duration::from_secs_f64),
    };
    let set = audit::generate_assertions(&contest, &opts)?;
    std::fs::write(&a.out, serde_json::to_string_pretty(&set)?)
        .with_context(|| format!("writing {}", a.out.display()))?;
    if ctx.json {
        outln!("{}", serde_json::to_string_pretty(&set)?)?;
    } else {
        outln!(
            "contest={} winner={} assertions={} difficulty={} margin={} ballots={}",
            set.contest,
            set.winner_name,
            set.assertions.len(),
            set.difficulty,
            set.margin,
            set.ballots
        )?;
    }
    Ok(())
}

pub fn risk(ctx: &Context, a: RiskArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&a.assertions)
        .with_context(|| format!("reading {}", a.assertions.display()))?;
    let set: AssertionSet =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", a.assertions.display()))?;
    let mut sample = contest_of(&a.sample, a.format, Some(&set.contest))
        .or_else(|_| contest_of(&a.sample, a.format, None))?;
    // Rankings by name, renumbered into the assertion set's candidates.
    let map: Vec<usize> = sample
        .candidates
        .iter()
        .map(|n| {
            set.candidates
                .iter()
                .position(|x| x == n)
                .with_context(|| format!("candidate {n} is not in the set"))
        })
        .collect::<anyhow::Result<_>>()?;
    for b in &mut sample.ballots {
        b.iter_mut().for_each(|c| *c = map[*c]);
    }
    let risks = audit::audit_assertions(&set, &sample.ballots, a.risk_limit);
    let confirmed = risks.iter().all(|r| r.confirmed);
    if ctx.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"contest": set.contest, "confirmed": confirmed, "assertions": risks})
            )?
        )?;
    } else {
        for r in &risks {
            outln!(
                "{:?} sample_mean={:.4} p_value={:.4e} confirmed={}",
                r.assertion,
                r.sample_mean,
                r.p_value,
                r.confirmed
            )?;
        }
        outln!(
            "{}: {}",
            set.contest,
            if confirmed { "OUTCOME CONFIRMED" } else { "NOT CONFIRMED: draw more or count by hand" }
        )?;
    }
    Ok(())
}
