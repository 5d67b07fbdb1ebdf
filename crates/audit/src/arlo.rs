//! Arlo's audit-report export (VotingWorks): one CSV file made of sections, each
//! introduced by a line `######## NAME ########` and holding its own header row.
//! Georgia's November 2020 presidential audit was published in this format.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use crate::error::{AuditError, Result, open_lines};

/// One contest of an Arlo audit.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ArloContest {
    /// The contest's name.
    pub name: String,
    /// Whether the audit targets it (else it is audited opportunistically).
    pub targeted: bool,
    /// Number of winners.
    pub winners: u32,
    /// Votes allowed per ballot.
    pub votes_allowed: u32,
    /// Ballots cast in the contest.
    pub total_ballots: u64,
    /// Reported (tabulated) votes per choice, in file order.
    pub tabulated: Vec<(String, u64)>,
}

/// The audit's settings as Arlo exports them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ArloSettings {
    /// The audit's name.
    pub audit_name: String,
    /// The audit type (e.g. `BALLOT_POLLING`).
    pub audit_type: String,
    /// The risk measurement (e.g. `BRAVO`, `MINERVA`).
    pub math_type: String,
    /// The risk limit (0.10 = 10%).
    pub risk_limit: f64,
    /// The public random seed.
    pub seed: String,
}

/// One round of one contest.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ArloRound {
    /// The round number (from 1).
    pub round: u32,
    /// The contest.
    pub contest: String,
    /// Ballots sampled in the round.
    pub sample_size: u64,
    /// Whether the round met the risk limit.
    pub risk_limit_met: bool,
    /// The measured risk, where Arlo reports it.
    pub p_value: Option<f64>,
    /// Audited votes per choice.
    pub audited: Vec<(String, u64)>,
}

/// One batch row of the export's hand tallies.
#[derive(Debug, Clone, Serialize)]
pub struct ArloBatch {
    /// Its line in the export.
    pub line: u64,
    /// The jurisdiction (county).
    pub jurisdiction: String,
    /// The batch's name.
    pub batch: String,
    /// The batch's type (e.g. absentee by mail, election day).
    pub batch_type: String,
    /// Hand-tallied votes per choice, in the order of [`ArloReport::choices`].
    pub votes: Vec<u64>,
}

/// An Arlo audit-report export: settings, contests, rounds and batch tallies.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ArloReport {
    /// The organisation that ran the audit.
    pub organization: String,
    /// The election.
    pub election: String,
    /// The contests.
    pub contests: Vec<ArloContest>,
    /// The settings.
    pub settings: ArloSettings,
    /// Every round of every contest.
    pub rounds: Vec<ArloRound>,
    /// Choice columns of the batch results section.
    pub choices: Vec<String>,
    /// Every batch row.
    pub batches: Vec<ArloBatch>,
    /// Sections present in the file that this reader keeps only by name.
    pub other_sections: Vec<String>,
}

fn parse_tally(path: &Path, line: u64, field: &str, s: &str) -> Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, n) = part
            .rsplit_once(':')
            .ok_or_else(|| AuditError::field(path, line, field, part, "expected 'Choice: votes'"))?;
        let n = n.trim().parse().map_err(|e: std::num::ParseIntError| {
            AuditError::field(path, line, field, part, e.to_string())
        })?;
        out.push((name.trim().to_owned(), n));
    }
    Ok(out)
}

fn parse_csv_line(path: &Path, line: u64, text: &str) -> Result<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    match r.records().next() {
        Some(Ok(rec)) => Ok(rec.iter().map(|s| s.to_owned()).collect()),
        Some(Err(e)) => Err(AuditError::format(path, line, e.to_string())),
        None => Ok(Vec::new()),
    }
}

/// Reads an Arlo audit report, streaming its batch-results section.
pub fn read_report(path: &Path) -> Result<ArloReport> {
    let reader = open_lines(path)?;
    let mut report = ArloReport::default();
    let mut section = String::new();
    let mut header: Vec<String> = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line_no = i as u64 + 1;
        let text = line.map_err(|e| AuditError::io(path, e))?;
        let text = text.trim_end_matches('\r').trim_start_matches('\u{feff}');
        if text.starts_with("########") {
            section = text.trim_matches('#').trim().to_ascii_uppercase();
            header.clear();
            continue;
        }
        if text.trim().is_empty() {
            continue;
        }
        let fields = parse_csv_line(path, line_no, text)?;
        if header.is_empty() {
            header = fields;
            if section == "BATCH RESULTS" {
                if header.len() < 4 {
                    return Err(AuditError::format(path, line_no, "batch results need choice columns"));
                }
                report.choices = header[3..].to_vec();
            }
            continue;
        }
        let get = |name: &str| -> &str {
            header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
                .and_then(|i| fields.get(i))
                .map(|s| s.trim())
                .unwrap_or("")
        };
        let num = |name: &str| -> Result<u64> {
            let v = get(name);
            v.parse().map_err(|e: std::num::ParseIntError| {
                AuditError::field(path, line_no, name, v, e.to_string())
            })
        };
        match section.as_str() {
            "ELECTION INFO" => {
                report.organization = get("Organization").to_owned();
                report.election = get("Election Name").to_owned();
            }
            "CONTESTS" => report.contests.push(ArloContest {
                name: get("Contest Name").to_owned(),
                targeted: get("Targeted?").eq_ignore_ascii_case("targeted"),
                winners: num("Number of Winners")? as u32,
                votes_allowed: num("Votes Allowed")? as u32,
                total_ballots: num("Total Ballots Cast")?,
                tabulated: parse_tally(path, line_no, "Tabulated Votes", get("Tabulated Votes"))?,
            }),
            "AUDIT SETTINGS" => {
                let risk = get("Risk Limit").trim_end_matches('%');
                let risk: f64 = risk.parse().map_err(|e: std::num::ParseFloatError| {
                    AuditError::field(path, line_no, "Risk Limit", risk, e.to_string())
                })?;
                report.settings = ArloSettings {
                    audit_name: get("Audit Name").to_owned(),
                    audit_type: get("Audit Type").to_owned(),
                    math_type: get("Audit Math Type").to_owned(),
                    risk_limit: risk / 100.0,
                    seed: get("Random Seed").to_owned(),
                };
            }
            "ROUNDS" => report.rounds.push(ArloRound {
                round: num("Round Number")? as u32,
                contest: get("Contest Name").to_owned(),
                sample_size: num("Sample Size")?,
                risk_limit_met: get("Risk Limit Met?").eq_ignore_ascii_case("yes"),
                p_value: get("P-Value").parse().ok(),
                audited: parse_tally(path, line_no, "Audited Votes", get("Audited Votes"))?,
            }),
            "BATCH RESULTS" => {
                if fields.len() != header.len() {
                    return Err(AuditError::format(
                        path,
                        line_no,
                        format!("{} fields, header has {}", fields.len(), header.len()),
                    ));
                }
                let mut votes = Vec::with_capacity(report.choices.len());
                for (name, v) in header[3..].iter().zip(&fields[3..]) {
                    let v = v.trim();
                    votes.push(v.parse().map_err(|e: std::num::ParseIntError| {
                        AuditError::field(path, line_no, name, v, e.to_string())
                    })?);
                }
                report.batches.push(ArloBatch {
                    line: line_no,
                    jurisdiction: fields[0].trim().to_owned(),
                    batch: fields[1].trim().to_owned(),
                    batch_type: fields[2].trim().to_owned(),
                    votes,
                });
            }
            other => {
                if !report.other_sections.iter().any(|s| s == other) {
                    report.other_sections.push(other.to_owned());
                }
            }
        }
    }
    Ok(report)
}

/// Hand-tallied totals per jurisdiction (sorted by name), in the order of `choices`.
pub fn jurisdiction_totals(report: &ArloReport) -> BTreeMap<String, (u64, Vec<u64>)> {
    let mut out: BTreeMap<String, (u64, Vec<u64>)> = BTreeMap::new();
    for b in &report.batches {
        let e = out.entry(b.jurisdiction.clone()).or_insert_with(|| (0, vec![0; report.choices.len()]));
        e.0 += 1;
        for (t, v) in e.1.iter_mut().zip(&b.votes) {
            *t += v;
        }
    }
    out
}

/// What the audit concluded for one contest.
#[derive(Debug, Clone, Serialize)]
pub struct ArloConclusion {
    /// The contest.
    pub contest: String,
    /// The winners reported.
    pub reported_winners: Vec<String>,
    /// The winners of the audited tallies.
    pub audited_winners: Vec<String>,
    /// Ballots examined in the last round, and the contest's ballots.
    pub sample_size: u64,
    /// Ballots cast in the contest.
    pub total_ballots: u64,
    /// Whether the audit became a full hand count.
    pub full_hand_count: bool,
    /// Whether the last round met the risk limit.
    pub risk_limit_met: bool,
    /// The last round's measured risk, where reported.
    pub p_value: Option<f64>,
    /// Audited margin between the last winner and the best loser, in votes.
    pub audited_margin: i64,
    /// Whether the reported outcome stands (risk limit met, or the hand count agrees).
    pub outcome_confirmed: bool,
}

/// Names that are not candidates in Arlo's tallies.
fn is_candidate(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    !(n.contains("write-in")
        || n.contains("write-iin")
        || n.contains("undervote")
        || n.contains("overvote")
        || n.contains("blank"))
}

fn top(tally: &[(String, u64)], k: usize) -> Vec<String> {
    let mut c: Vec<&(String, u64)> = tally.iter().filter(|(n, _)| is_candidate(n)).collect();
    c.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    c.into_iter().take(k).map(|(n, _)| n.clone()).collect()
}

/// Reproduces each contest's conclusion from the report's own figures.
pub fn conclusions(report: &ArloReport) -> Vec<ArloConclusion> {
    let totals: Vec<u64> = {
        let mut t = vec![0u64; report.choices.len()];
        for b in &report.batches {
            for (x, v) in t.iter_mut().zip(&b.votes) {
                *x += v;
            }
        }
        t
    };
    report
        .contests
        .iter()
        .map(|c| {
            let k = c.winners.max(1) as usize;
            let reported = top(&c.tabulated, k);
            let last = report.rounds.iter().filter(|r| r.contest == c.name).max_by_key(|r| r.round);
            // Prefer the batch tallies when the file has them (a full hand count), else the
            // round's audited votes.
            let audited: Vec<(String, u64)> = if !report.batches.is_empty() && report.contests.len() == 1 {
                report.choices.iter().cloned().zip(totals.iter().copied()).collect()
            } else {
                last.map(|r| r.audited.clone()).unwrap_or_default()
            };
            let winners = top(&audited, k);
            let votes = |name: &str| audited.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v) as i64;
            let best_loser = audited
                .iter()
                .filter(|(n, _)| is_candidate(n) && !winners.contains(n))
                .map(|(_, v)| *v as i64)
                .max()
                .unwrap_or(0);
            let audited_margin = winners.last().map_or(0, |w| votes(w)) - best_loser;
            let sample_size = last.map_or(0, |r| r.sample_size);
            let mut rw = reported.clone();
            rw.sort();
            let mut aw = winners.clone();
            aw.sort();
            ArloConclusion {
                contest: c.name.clone(),
                reported_winners: reported,
                audited_winners: winners,
                sample_size,
                total_ballots: c.total_ballots,
                full_hand_count: sample_size >= c.total_ballots && c.total_ballots > 0,
                risk_limit_met: last.is_some_and(|r| r.risk_limit_met),
                p_value: last.and_then(|r| r.p_value),
                audited_margin,
                outcome_confirmed: rw == aw && audited_margin > 0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "######## ELECTION INFO ########\nOrganization,Election Name,State\nOrg,E1,GA\n\n\
######## CONTESTS ########\nContest Name,Targeted?,Number of Winners,Votes Allowed,Total Ballots Cast,Tabulated Votes\n\
Pres,Targeted,1,1,10,A: 6; B: 3; Blank/Undervote: 1\n\n\
######## AUDIT SETTINGS ########\nAudit Name,Audit Type,Audit Math Type,Risk Limit,Random Seed,Online Data Entry?\n\
\"X, Y\",BALLOT_POLLING,BRAVO,10%,123,No\n\n\
######## ROUNDS ########\nRound Number,Contest Name,Targeted?,Sample Size,Risk Limit Met?,P-Value,Start Time,End Time,Audited Votes\n\
1,Pres,Targeted,10,Yes,0,t0,t1,A: 5; B: 4; Blank/Undervote: 1\n\n\
######## BATCH RESULTS ########\nJurisdiction Name,Batch Name,Batch Type,A,B,Blank/Undervote\n\
C1,01,Absentee By Mail,3,2,1\nC2,01,Election Day,2,2,0\n";

    #[test]
    fn reads_sections_and_concludes() {
        let dir = std::env::temp_dir().join(format!("arlo-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let p = dir.join("r.csv");
        std::fs::write(&p, SAMPLE).expect("write");
        let r = read_report(&p).expect("read");
        assert_eq!(r.settings.seed, "123");
        assert!((r.settings.risk_limit - 0.10).abs() < 1e-12);
        assert_eq!(r.settings.audit_name, "X, Y");
        assert_eq!(r.choices, ["A", "B", "Blank/Undervote"]);
        let t = jurisdiction_totals(&r);
        assert_eq!(t["C1"].1, vec![3, 2, 1]);
        let c = conclusions(&r);
        assert_eq!(c[0].reported_winners, ["A"]);
        assert_eq!(c[0].audited_winners, ["A"]);
        assert_eq!(c[0].audited_margin, 1);
        assert!(c[0].full_hand_count && c[0].outcome_confirmed);
        std::fs::write(&p, SAMPLE.replace("C2,01,Election Day,2,2,0", "C2,01,Election Day,2,x,0"))
            .expect("w");
        let e = read_report(&p).expect_err("bad number").to_string();
        assert!(e.contains(":20:") && e.contains("'B'"), "{e}");
    }
}
