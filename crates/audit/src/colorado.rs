//! Colorado's statewide ballot-comparison audit, as run by ColoradoRLA.
//!
//! The Colorado Secretary of State publishes, for every round, one row per contest
//! (`round_N/contest.csv`): the contest's smallest margin, the ballot cards in the
//! counties where it appears, the risk limit, gamma, the discrepancies found so far and
//! the two sample-size figures. [`replay`] recomputes those figures from the row alone,
//! so that an observer can check the published report independently.
//!
//! The formula (Stark, "Super-Simple Simultaneous Single-Ballot Risk-Limiting Audits",
//! 2010, generalised to observed discrepancies as in ColoradoRLA):
//!
//! ```text
//! μ = min_margin / ballot_card_count                      (diluted margin)
//! optimistic = max(o1 + o2 + u1 + u2,
//!                  ⌈ −2γ (ln α + u2 ln(1 + 1/γ) + u1 ln(1 + 1/(2γ))
//!                            + o1 ln(1 − 1/(2γ)) + o2 ln(1 − 1/γ)) / μ ⌉)
//! optimistic = 0 when μ = 0 (no margin: nothing to audit)
//! estimated  = optimistic                                   when o1 + o2 = 0
//!            = ⌈ optimistic × (1 + overstatements / audited_sample_count) ⌉ otherwise
//! ```

use std::path::Path;

use serde::Serialize;

use crate::error::{AuditError, Columns, Result, csv_err, open_lines, parse_field};

/// Counts of discrepancies between the cast-vote record and the audit board's reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Discrepancies {
    /// One-vote overstatements of the winner's margin.
    pub o1: u64,
    /// Two-vote overstatements.
    pub o2: u64,
    /// One-vote understatements.
    pub u1: u64,
    /// Two-vote understatements.
    pub u2: u64,
}

impl Discrepancies {
    /// All discrepancies counted.
    pub fn total(&self) -> u64 {
        self.o1 + self.o2 + self.u1 + self.u2
    }
}

/// The diluted margin μ = V / N; zero when either is zero.
pub fn diluted_margin(margin: u64, ballots: u64) -> f64 {
    if margin == 0 || ballots == 0 { 0.0 } else { margin as f64 / ballots as f64 }
}

/// ColoradoRLA's "optimistic" samples to audit: the stopping sample size of the
/// Kaplan-Markov comparison test if no further discrepancies are found.
pub fn optimistic_samples(risk_limit: f64, diluted_margin: f64, gamma: f64, d: Discrepancies) -> u64 {
    if diluted_margin == 0.0 {
        return 0;
    }
    let two_gamma = 2.0 * gamma;
    let sum = risk_limit.ln()
        + d.u2 as f64 * (1.0 + 1.0 / gamma).ln()
        + d.u1 as f64 * (1.0 + 1.0 / two_gamma).ln()
        + d.o1 as f64 * (1.0 - 1.0 / two_gamma).ln()
        + d.o2 as f64 * (1.0 - 1.0 / gamma).ln();
    let n = (-two_gamma * sum / diluted_margin).ceil();
    let n = if n.is_finite() && n > 0.0 { n as u64 } else { 0 };
    n.max(d.total())
}

/// ColoradoRLA's "estimated" samples to audit: the optimistic figure scaled up by the
/// rate of overstatements seen so far.
pub fn estimated_samples(optimistic: u64, d: Discrepancies, overstatements: f64, audited: u64) -> u64 {
    if d.o1 + d.o2 == 0 || audited == 0 {
        return optimistic;
    }
    // Exact integer arithmetic when the overstatement count is whole (it always is in
    // the published files): optimistic × (audited + overstatements) / audited, rounded up.
    if overstatements >= 0.0 && overstatements.fract() == 0.0 && overstatements < 1e15 {
        let num = optimistic as u128 * (audited as u128 + overstatements as u128);
        return num.div_ceil(audited as u128).min(u64::MAX as u128) as u64;
    }
    let scale = 1.0 + overstatements / audited as f64;
    (optimistic as f64 * scale).ceil().max(0.0) as u64
}

/// One row of a Colorado `contest.csv` round report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColoradoContestRow {
    /// Line of the row in its file (1-based, the header is line 1).
    pub line: u64,
    /// The contest's name.
    pub contest_name: String,
    /// Why it is audited (county-wide, opportunistic, ...).
    pub audit_reason: String,
    /// The audit's status for it.
    pub random_audit_status: String,
    /// The winners, as written.
    pub winners: String,
    /// Winners allowed (votes per card in the contest); 1 when the column is absent.
    pub winners_allowed: u64,
    /// Ballot cards in the audit's universe.
    pub ballot_card_count: u64,
    /// Ballot cards that carry the contest.
    pub contest_ballot_card_count: u64,
    /// The smallest margin, in votes.
    pub min_margin: u64,
    /// The risk limit.
    pub risk_limit: f64,
    /// Ballot cards audited so far.
    pub audited_sample_count: u64,
    /// Discrepancies found so far.
    pub discrepancies: Discrepancies,
    /// The error inflation factor.
    pub gamma: f64,
    /// The overstatements column, as published.
    pub overstatements: f64,
    /// The published optimistic samples to audit, where given.
    pub published_optimistic: Option<u64>,
    /// The published estimated samples to audit, where given.
    pub published_estimated: Option<u64>,
}

impl ColoradoContestRow {
    /// The diluted margin: the smallest margin over the audit's ballot cards.
    pub fn diluted_margin(&self) -> f64 {
        diluted_margin(self.min_margin, self.ballot_card_count)
    }

    /// Optimistic samples to audit, recomputed.
    pub fn optimistic(&self) -> u64 {
        optimistic_samples(self.risk_limit, self.diluted_margin(), self.gamma, self.discrepancies)
    }

    /// Estimated samples to audit, recomputed.
    pub fn estimated(&self) -> u64 {
        estimated_samples(
            self.optimistic(),
            self.discrepancies,
            self.overstatements,
            self.audited_sample_count,
        )
    }
}

/// Reads a Colorado round `contest.csv`. Columns are found by name; the two published
/// sample-size columns are optional (they are what a replay checks).
pub fn read_contest_csv(path: &Path) -> Result<Vec<ColoradoContestRow>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(open_lines(path)?);
    let headers = reader.headers().map_err(|e| csv_err(path, e))?.clone();
    let cols = Columns::new(path, &headers);
    let c_name = cols.require("contest_name")?;
    let c_cards = cols.require("ballot_card_count")?;
    let c_margin = cols.require("min_margin")?;
    let c_risk = cols.require("risk_limit")?;
    let c_gamma = cols.require("gamma")?;
    let c_o2 = cols.require("two_vote_over_count")?;
    let c_o1 = cols.require("one_vote_over_count")?;
    let c_u1 = cols.require("one_vote_under_count")?;
    let c_u2 = cols.require("two_vote_under_count")?;
    let c_audited = cols.find("audited_sample_count");
    let c_contest_cards = cols.find("contest_ballot_card_count");
    let c_over = cols.find("overstatements");
    let c_reason = cols.find("audit_reason");
    let c_status = cols.find("random_audit_status");
    let c_winners = cols.find("winners");
    let c_allowed = cols.find("winners_allowed");
    let c_opt = cols.find("optimistic_samples_to_audit");
    let c_est = cols.find("estimated_samples_to_audit");
    let text = |r: &csv::StringRecord, c: Option<usize>| {
        c.and_then(|i| r.get(i)).map(|s| s.trim().to_owned()).unwrap_or_default()
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let r = record.map_err(|e| csv_err(path, e))?;
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        let opt_u64 = |c: Option<usize>, name: &str| -> Result<Option<u64>> {
            match c.and_then(|i| r.get(i)).map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) => v.parse().map(Some).map_err(|e: std::num::ParseIntError| {
                    AuditError::field(path, line, name, v, e.to_string())
                }),
            }
        };
        let risk_limit: f64 = parse_field(path, &r, c_risk, "risk_limit")?;
        if !(risk_limit > 0.0 && risk_limit < 1.0) {
            return Err(AuditError::field(
                path,
                line,
                "risk_limit",
                r.get(c_risk).unwrap_or(""),
                "must be between 0 and 1",
            ));
        }
        let gamma: f64 = parse_field(path, &r, c_gamma, "gamma")?;
        if gamma <= 1.0 {
            return Err(AuditError::field(
                path,
                line,
                "gamma",
                r.get(c_gamma).unwrap_or(""),
                "must exceed 1",
            ));
        }
        let overstatements = match c_over.and_then(|i| r.get(i)).map(str::trim) {
            None | Some("") => 0.0,
            Some(_) => parse_field(path, &r, c_over.unwrap_or(0), "overstatements")?,
        };
        rows.push(ColoradoContestRow {
            line,
            contest_name: text(&r, Some(c_name)),
            audit_reason: text(&r, c_reason),
            random_audit_status: text(&r, c_status),
            winners: text(&r, c_winners),
            winners_allowed: opt_u64(c_allowed, "winners_allowed")?.unwrap_or(1),
            ballot_card_count: parse_field(path, &r, c_cards, "ballot_card_count")?,
            contest_ballot_card_count: opt_u64(c_contest_cards, "contest_ballot_card_count")?.unwrap_or(0),
            min_margin: parse_field(path, &r, c_margin, "min_margin")?,
            risk_limit,
            audited_sample_count: opt_u64(c_audited, "audited_sample_count")?.unwrap_or(0),
            discrepancies: Discrepancies {
                o1: parse_field(path, &r, c_o1, "one_vote_over_count")?,
                o2: parse_field(path, &r, c_o2, "two_vote_over_count")?,
                u1: parse_field(path, &r, c_u1, "one_vote_under_count")?,
                u2: parse_field(path, &r, c_u2, "two_vote_under_count")?,
            },
            gamma,
            overstatements,
            published_optimistic: opt_u64(c_opt, "optimistic_samples_to_audit")?,
            published_estimated: opt_u64(c_est, "estimated_samples_to_audit")?,
        });
    }
    Ok(rows)
}

/// One replayed row: Scrutineer's figures beside the published ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayRow {
    /// The row's line in the report.
    pub line: u64,
    /// The contest's name.
    pub contest_name: String,
    /// Optimistic samples to audit, recomputed.
    pub optimistic_samples_to_audit: u64,
    /// Estimated samples to audit, recomputed.
    pub estimated_samples_to_audit: u64,
    /// The published optimistic figure, where given.
    pub published_optimistic: Option<u64>,
    /// The published estimated figure, where given.
    pub published_estimated: Option<u64>,
}

impl ReplayRow {
    /// True when the file published both figures and they equal ours.
    pub fn matches(&self) -> bool {
        self.published_optimistic == Some(self.optimistic_samples_to_audit)
            && self.published_estimated == Some(self.estimated_samples_to_audit)
    }
}

/// Recomputes every row's figures, in input order.
pub fn replay(rows: &[ColoradoContestRow]) -> Vec<ReplayRow> {
    rows.iter()
        .map(|r| ReplayRow {
            line: r.line,
            contest_name: r.contest_name.clone(),
            optimistic_samples_to_audit: r.optimistic(),
            estimated_samples_to_audit: r.estimated(),
            published_optimistic: r.published_optimistic,
            published_estimated: r.published_estimated,
        })
        .collect()
}

/// Writes replayed figures as `contest_name,optimistic_samples_to_audit,estimated_samples_to_audit`,
/// one row per input row, in input order.
pub fn write_replay_csv<W: std::io::Write>(
    out: W,
    rows: &[ReplayRow],
) -> std::result::Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["contest_name", "optimistic_samples_to_audit", "estimated_samples_to_audit"])?;
    for r in rows {
        // Contest names come from the input: neutralised against formula injection.
        w.write_record(scrutineer_core::text::csv_safe_record([
            r.contest_name.as_str(),
            &r.optimistic_samples_to_audit.to_string(),
            &r.estimated_samples_to_audit.to_string(),
        ]))?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colorado_unit_test_value() {
        // ColoradoRLA's own unit test: α = 0.5, μ = 0.05, γ = 1.2, no discrepancies → 34.
        assert_eq!(optimistic_samples(0.5, 0.05, 1.2, Discrepancies::default()), 34);
    }

    #[test]
    fn published_examples_from_rlacalc() {
        // rlacalc -n -m 66.1 -r 10 → 8 ; -m 5 -r 20 --o1=1 → 95.
        assert_eq!(optimistic_samples(0.10, 0.661, 1.03905, Discrepancies::default()), 8);
        let d = Discrepancies { o1: 1, ..Default::default() };
        assert_eq!(optimistic_samples(0.20, 0.05, 1.03905, d), 95);
    }

    #[test]
    fn zero_margin_needs_no_sample_and_counts_floor_the_size() {
        assert_eq!(optimistic_samples(0.04, 0.0, 1.03905, Discrepancies::default()), 0);
        let d = Discrepancies { u1: 40, ..Default::default() };
        // Many understatements drive the formula below the number of discrepancies seen.
        assert_eq!(optimistic_samples(0.04, 0.9, 1.03905, d), 40);
    }

    #[test]
    fn estimate_scales_only_with_overstatements() {
        let none = Discrepancies::default();
        assert_eq!(estimated_samples(100, none, 5.0, 50), 100);
        let d = Discrepancies { o1: 2, ..Default::default() };
        assert_eq!(estimated_samples(100, d, 5.0, 50), 110);
        assert_eq!(estimated_samples(100, d, 5.0, 0), 100);
    }

    #[test]
    fn overstatements_raise_and_understatements_lower_the_size() {
        let base = optimistic_samples(0.04, 0.02, 1.03905, Discrepancies::default());
        let o1 = optimistic_samples(0.04, 0.02, 1.03905, Discrepancies { o1: 1, ..Default::default() });
        let o2 = optimistic_samples(0.04, 0.02, 1.03905, Discrepancies { o2: 1, ..Default::default() });
        let u1 = optimistic_samples(0.04, 0.02, 1.03905, Discrepancies { u1: 1, ..Default::default() });
        assert!(o2 > o1 && o1 > base && base > u1);
    }
}
