//! The rules and the totals: every issued envelope and every receipt checked against
//! the roll, the other receipts and the check-ins, by sorting and scanning integer ids.

use std::collections::BTreeMap;

use rayon::slice::ParallelSliceMut;

use crate::read::{Dataset, NO_ELECTION, NOT_ON_ROLL, Receipt, UNISSUED};
use crate::time::{format_date, format_datetime};
use crate::{Outcome, RuleKind, VoterStatus};

/// One rule finding: a row of `findings.csv`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleFinding {
    /// The rule.
    pub kind: RuleKind,
    /// The envelope (empty for `double_vote`).
    pub envelope_id: String,
    /// The voter (empty for `unissued_envelope`).
    pub voter_id: String,
    /// What was seen, with files and lines.
    pub detail: String,
}

/// One row of `totals.csv`, plus spoiled envelopes for the closing check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrecinctTotals {
    /// Envelopes issued.
    pub issued: u64,
    /// Envelopes received at least once.
    pub returned: u64,
    /// Received envelopes with an accepted (or cured) receipt.
    pub accepted: u64,
    /// Received envelopes rejected and never accepted.
    pub rejected: u64,
    /// Envelopes never received.
    pub outstanding: u64,
    /// Unreturned envelopes voided (spoiled, undeliverable, cancelled) where the input says so.
    pub spoiled: u64,
    /// Returned envelopes whose receipts are all pending.
    pub pending: u64,
}

/// What the rules found and the per-precinct totals.
pub struct Reconciliation {
    /// Rule findings, sorted by rule, envelope and voter.
    pub findings: Vec<RuleFinding>,
    /// Sorted by precinct name.
    pub totals: BTreeMap<String, PrecinctTotals>,
    /// Per envelope: 0 none, else outcome summary used by the anomaly tests.
    pub env_state: Vec<EnvState>,
}

/// What the receipts of one issued envelope add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnvState {
    /// Receipts of the envelope.
    pub receipts: u32,
    /// Some receipt accepted it.
    pub accepted: bool,
    /// Some receipt rejected it and none accepted it.
    pub rejected: bool,
}

/// Runs every rule. `deadline` is seconds since 1970 (local, like the inputs).
pub fn reconcile(ds: &mut Dataset, deadline: i64) -> Reconciliation {
    let mut findings = Vec::new();
    let n_env = ds.envelopes.len();
    // Group receipts by envelope: a sort on one integer key.
    ds.receipts.par_sort_unstable_by_key(|r| (r.envelope, r.at, r.line));
    let mut env_state = vec![EnvState::default(); n_env];
    let mut accepted: Vec<(u32, u32)> = Vec::new(); // (voter, envelope)
    let receipts = std::mem::take(&mut ds.receipts);
    for group in receipts.chunk_by(|a, b| a.envelope == b.envelope) {
        let e = group[0].envelope;
        if e & UNISSUED != 0 {
            let first = &group[0];
            findings.push(RuleFinding {
                kind: RuleKind::UnissuedEnvelope,
                envelope_id: ds.envelope_key(e).to_owned(),
                voter_id: String::new(),
                detail: format!(
                    "received {} time(s), first {} via {} ({}) at {}:{}; no such envelope was issued",
                    group.len(),
                    format_datetime(first.at),
                    ds.labels.get_str(first.channel),
                    first.outcome.as_str(),
                    ds.files.returns,
                    first.line
                ),
            });
            continue;
        }
        let ei = e as usize;
        let voter = ds.env_voter[ei];
        // Only an envelope with a finding needs the voter's id as text.
        let voter_id = || ds.voter_key(voter).to_owned();
        let st = &mut env_state[ei];
        st.receipts = group.len() as u32;
        st.accepted = group.iter().any(|r| r.outcome.is_accepted());
        st.rejected = !st.accepted && group.iter().any(|r| r.outcome == Outcome::Rejected);
        if st.accepted {
            accepted.push((voter, e));
        }
        if group.len() > 1 && !ds.status_events {
            findings.push(RuleFinding {
                kind: RuleKind::DuplicateReturn,
                envelope_id: ds.envelopes.get_str(e).to_owned(),
                voter_id: voter_id(),
                detail: format!("received {} times: {}", group.len(), describe(ds, group)),
            });
        } else if ds.status_events {
            // Status history (NC): rows of one envelope with the same return date are
            // successive statuses of one receipt; a second return date is a second receipt.
            let dates = 1 + group.windows(2).filter(|w| day(w[0].at) != day(w[1].at)).count();
            if dates > 1 {
                findings.push(RuleFinding {
                    kind: RuleKind::DuplicateReturn,
                    envelope_id: ds.envelopes.get_str(e).to_owned(),
                    voter_id: voter_id(),
                    detail: format!(
                        "received on {dates} different return dates ({} status rows): {}",
                        group.len(),
                        describe(ds, group)
                    ),
                });
            }
        }
        let issue_day = ds.env_day[ei] as i64;
        if let Some(r) = group.iter().find(|r| r.at.div_euclid(86_400) < issue_day) {
            findings.push(RuleFinding {
                kind: RuleKind::ReturnBeforeIssue,
                envelope_id: ds.envelopes.get_str(e).to_owned(),
                voter_id: voter_id(),
                detail: format!(
                    "received {} ({}:{}) but issued {} ({}:{})",
                    format_datetime(r.at),
                    ds.files.returns,
                    r.line,
                    format_date(issue_day),
                    ds.files.issued,
                    ds.env_line[ei]
                ),
            });
        }
        if let Some(r) = group.iter().find(|r| r.at > deadline && r.outcome.is_accepted()) {
            findings.push(RuleFinding {
                kind: RuleKind::LateReturn,
                envelope_id: ds.envelopes.get_str(e).to_owned(),
                voter_id: voter_id(),
                detail: format!(
                    "received {} after the deadline {} and {} ({}:{})",
                    format_datetime(r.at),
                    format_datetime(deadline),
                    r.outcome.as_str(),
                    ds.files.returns,
                    r.line
                ),
            });
        }
    }
    ds.receipts = receipts;

    // Issuance rules and totals.
    let mut totals: BTreeMap<String, PrecinctTotals> = BTreeMap::new();
    let mut by_precinct: Vec<PrecinctTotals> = vec![PrecinctTotals::default(); ds.labels.len() + 1];
    let mut unknown = PrecinctTotals::default();
    for (ei, &st) in env_state.iter().enumerate() {
        let v = ds.env_voter[ei];
        let t = if v & NOT_ON_ROLL != 0 {
            &mut unknown
        } else {
            &mut by_precinct[ds.voter_precinct[v as usize] as usize]
        };
        t.issued += 1;
        if st.receipts > 0 {
            t.returned += 1;
            if st.accepted {
                t.accepted += 1;
            } else if st.rejected {
                t.rejected += 1;
            } else {
                t.pending += 1;
            }
        } else {
            t.outstanding += 1;
            if ds.env_spoiled[ei] {
                t.spoiled += 1;
            }
        }
        // Only an envelope with a finding needs its id as text.
        let env_id = || ds.envelopes.get_str(ei as u32).to_owned();
        if v & NOT_ON_ROLL != 0 {
            findings.push(RuleFinding {
                kind: RuleKind::VoterNotOnRoll,
                envelope_id: env_id(),
                voter_id: ds.voter_key(v).to_owned(),
                detail: format!(
                    "issued {} ({}:{}) to a voter id absent from the roll",
                    format_date(ds.env_day[ei] as i64),
                    ds.files.issued,
                    ds.env_line[ei]
                ),
            });
            continue;
        }
        let vi = v as usize;
        if ds.voter_status[vi] != VoterStatus::Active {
            findings.push(RuleFinding {
                kind: RuleKind::VoterNotActive,
                envelope_id: env_id(),
                voter_id: ds.voters.get_str(v).to_owned(),
                detail: format!(
                    "issued ({}:{}) to a voter whose roll status is {} ({}:{})",
                    ds.files.issued,
                    ds.env_line[ei],
                    ds.voter_status[vi].as_str(),
                    ds.files.roll,
                    ds.voter_line[vi]
                ),
            });
        }
        let (issued_style, roll_style) = (ds.labels.get(ds.env_style[ei]), ds.labels.get(ds.voter_style[vi]));
        if !issued_style.is_empty()
            && !roll_style.is_empty()
            && !issued_style.eq_ignore_ascii_case(roll_style)
        {
            findings.push(RuleFinding {
                kind: RuleKind::StyleMismatch,
                envelope_id: env_id(),
                voter_id: ds.voters.get_str(v).to_owned(),
                detail: format!(
                    "issued ballot style {} ({}:{}) but the voter's style on the roll is {} ({}:{})",
                    String::from_utf8_lossy(issued_style),
                    ds.files.issued,
                    ds.env_line[ei],
                    String::from_utf8_lossy(roll_style),
                    ds.files.roll,
                    ds.voter_line[vi]
                ),
            });
        }
    }
    for (label, t) in by_precinct.into_iter().enumerate() {
        if t.issued > 0 {
            let name = ds.labels.get_str(label as u32);
            let name = if name.is_empty() { "(blank)" } else { name };
            let slot = totals.entry(name.to_owned()).or_default();
            add(slot, &t);
        }
    }
    if unknown.issued > 0 {
        add(totals.entry("UNKNOWN".to_owned()).or_default(), &unknown);
    }

    // Voter-history check-ins (one row per voter and election): only this election's, the
    // latest election on or before the deadline.
    if ds.checkins.iter().any(|c| c.election != NO_ELECTION) {
        let last = day(deadline) as i32;
        let target = ds.checkins.iter().map(|c| c.election).filter(|&d| d != NO_ELECTION && d <= last).max();
        let before = ds.checkins.len();
        ds.checkins.retain(|c| c.election == NO_ELECTION || Some(c.election) == target);
        ds.stats.other_election_rows += (before - ds.checkins.len()) as u64;
    }

    // Double votes: more than one accepted envelope, or an accepted one and a check-in.
    accepted.sort_unstable();
    ds.checkins.sort_unstable_by_key(|c| (c.voter, c.at, c.line));
    let mut ci = 0usize;
    for group in accepted.chunk_by(|a, b| a.0 == b.0) {
        let voter = group[0].0;
        while ci < ds.checkins.len() && ds.checkins[ci].voter < voter {
            ci += 1;
        }
        let checkin = ds.checkins.get(ci).filter(|c| c.voter == voter);
        if group.len() < 2 && checkin.is_none() {
            continue;
        }
        let envs: Vec<&str> = group.iter().map(|&(_, e)| ds.envelopes.get_str(e)).collect();
        let mut detail = format!("{} accepted mail envelope(s): {}", group.len(), envs.join(" "));
        if let Some(c) = checkin {
            let loc = ds.labels.get_str(c.location);
            detail.push_str(&format!(
                "; checked in in person {} at {} ({}:{})",
                format_datetime(c.at),
                if loc.is_empty() { "an unnamed location" } else { loc },
                if ds.files.checkins.is_empty() { &ds.files.returns } else { &ds.files.checkins },
                c.line
            ));
        }
        findings.push(RuleFinding {
            kind: RuleKind::DoubleVote,
            envelope_id: String::new(),
            voter_id: ds.voter_key(voter).to_owned(),
            detail,
        });
    }
    findings.sort();
    Reconciliation { findings, totals, env_state }
}

fn day(t: i64) -> i64 {
    t.div_euclid(86_400)
}

fn add(a: &mut PrecinctTotals, b: &PrecinctTotals) {
    a.issued += b.issued;
    a.returned += b.returned;
    a.accepted += b.accepted;
    a.rejected += b.rejected;
    a.outstanding += b.outstanding;
    a.spoiled += b.spoiled;
    a.pending += b.pending;
}

fn describe(ds: &Dataset, group: &[Receipt]) -> String {
    group
        .iter()
        .take(5)
        .map(|r| {
            format!(
                "{} via {} {} (line {})",
                format_datetime(r.at),
                ds.labels.get_str(r.channel),
                r.outcome.as_str(),
                r.line
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::{Inputs, Layout, read_all};

    const DEADLINE: &str = "2020-11-03T19:30:00";

    /// Writes the four generic files into a temporary folder and reads them.
    fn dataset(roll: &str, issued: &str, returns: &str, checkins: &str) -> (tempfile::TempDir, Dataset) {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, header: &str, body: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, format!("{header}\n{body}")).expect("write");
            path
        };
        let roll = write("roll.csv", "voter_id,status,precinct,ballot_style,address,zip,county", roll);
        let issued =
            write("issued.csv", "envelope_id,voter_id,ballot_style,issue_date,address,zip,imb", issued);
        let returns = write("returns.csv", "envelope_id,returned_at,channel,outcome,reason,imb", returns);
        let checkins = write("checkins.csv", "voter_id,checked_in_at,location", checkins);
        let inputs = Inputs {
            roll: &roll,
            issued: &issued,
            returns: &returns,
            checkins: Some(&checkins),
            max_line: 1 << 20,
        };
        let ds = read_all(&inputs, &Layout::generic(), None, None).expect("read");
        (dir, ds)
    }

    fn deadline() -> i64 {
        crate::parse_deadline(DEADLINE).expect("deadline")
    }

    fn keys(rec: &Reconciliation) -> BTreeSet<(&'static str, String, String)> {
        rec.findings.iter().map(|f| (f.kind.as_str(), f.envelope_id.clone(), f.voter_id.clone())).collect()
    }

    fn set(items: &[(&'static str, &str, &str)]) -> BTreeSet<(&'static str, String, String)> {
        items.iter().map(|(k, e, v)| (*k, (*e).to_owned(), (*v).to_owned())).collect()
    }

    /// Totals close on every row: issued = returned + outstanding, and returned =
    /// accepted + rejected + pending.
    fn assert_totals_close(rec: &Reconciliation) {
        for (p, t) in &rec.totals {
            assert_eq!(t.issued, t.returned + t.outstanding, "{p}: {t:?}");
            assert_eq!(t.returned, t.accepted + t.rejected + t.pending, "{p}: {t:?}");
        }
    }

    const ROLL: &str = "A,active,P1,S1,1 Main St,27601,C\n\
                        B,active,P1,S1,2 Main St,27601,C\n\
                        C,inactive,P1,S1,3 Main St,27601,C\n\
                        D,active,P2,S2,4 Oak St,27602,C\n\
                        E,active,P2,S2,5 Oak St,27602,C\n\
                        F,active,P2,S2,6 Oak St,27602,C\n\
                        G,active,P2,S2,7 Oak St,27602,C\n";

    #[test]
    fn each_rule_names_its_envelope_and_voter_once() {
        let issued = "EA,A,S1,2020-10-01,,,\n\
                      EB1,B,S1,2020-10-01,,,\n\
                      EB2,B,S1,2020-10-10,,,\n\
                      EC,C,S1,2020-10-01,,,\n\
                      ED,D,S9,2020-10-01,,,\n\
                      EE,E,S2,2020-10-20,,,\n\
                      EF,F,S2,2020-10-01,,,\n\
                      EZ,Z,S2,2020-10-01,,,\n";
        let returns = "EA,2020-10-10T10:00:00,mail,accepted,\n\
                       EA,2020-10-12T10:00:00,mail,accepted,\n\
                       EB1,2020-10-11T10:00:00,mail,accepted,\n\
                       EB2,2020-10-15T10:00:00,mail,accepted,\n\
                       EE,2020-10-19T10:00:00,mail,accepted,\n\
                       EF,2020-11-03T19:30:01,mail,accepted,\n\
                       EX,2020-10-20T10:00:00,mail,accepted,\n";
        let (_dir, mut ds) = dataset(ROLL, issued, returns, "G,2020-11-03T09:00:00,SITE\n");
        let rec = reconcile(&mut ds, deadline());
        assert_eq!(
            keys(&rec),
            set(&[
                ("duplicate_return", "EA", "A"),
                ("double_vote", "", "B"),
                ("voter_not_active", "EC", "C"),
                ("style_mismatch", "ED", "D"),
                ("return_before_issue", "EE", "E"),
                ("late_return", "EF", "F"),
                ("voter_not_on_roll", "EZ", "Z"),
                ("unissued_envelope", "EX", ""),
            ])
        );
        // One finding each, in the order of the rule list, then by envelope.
        assert_eq!(rec.findings.len(), 8);
        assert!(rec.findings.windows(2).all(|w| w[0] <= w[1]), "findings are sorted");
        assert_totals_close(&rec);
    }

    #[test]
    fn edge_look_alikes_are_not_findings() {
        // A at the deadline to the second; B minutes before it; C handed back on the day of
        // issue; D cured; E rejected then in person; F rejected, then a replacement accepted;
        // G accepted late and rejected (late, not counted).
        let roll = "A,active,P1,S1,,,\nB,active,P1,S1,,,\nC,active,P1,S1,,,\nD,active,P1,S1,,,\n\
                    E,active,P1,S1,,,\nF,active,P1,S1,,,\nG,active,P1,S1,,,\n";
        let issued = "EA,A,S1,2020-10-01,,,\nEB,B,S1,2020-10-01,,,\nEC,C,S1,2020-10-30,,,\n\
                      ED,D,S1,2020-10-01,,,\nEE,E,S1,2020-10-01,,,\nEF1,F,S1,2020-10-01,,,\n\
                      EF2,F,S1,2020-10-15,,,\nEG,G,S1,2020-10-01,,,\n";
        let returns = "EA,2020-11-03T19:30:00,mail,accepted,\n\
                       EB,2020-11-03T19:26:00,dropbox,accepted,\n\
                       EC,2020-10-30T16:00:00,in_person,accepted,\n\
                       ED,2020-10-20T10:00:00,mail,cured,\n\
                       EE,2020-10-20T10:00:00,mail,rejected,signature\n\
                       EF1,2020-10-10T10:00:00,mail,rejected,unsigned\n\
                       EF2,2020-10-20T10:00:00,mail,accepted,\n\
                       EG,2020-11-04T10:00:00,mail,rejected,late\n";
        let (_dir, mut ds) = dataset(roll, issued, returns, "E,2020-11-03T10:00:00,SITE\n");
        let rec = reconcile(&mut ds, deadline());
        assert!(rec.findings.is_empty(), "{:?}", rec.findings);
        let t = &rec.totals["P1"];
        assert_eq!((t.issued, t.returned, t.accepted, t.rejected, t.outstanding), (8, 8, 5, 3, 0), "{t:?}");
        assert_totals_close(&rec);
        // One second later is late.
        let late = returns.replace("2020-11-03T19:30:00", "2020-11-03T19:30:01");
        let (_dir, mut ds) = dataset(roll, issued, &late, "E,2020-11-03T10:00:00,SITE\n");
        assert_eq!(keys(&reconcile(&mut ds, deadline())), set(&[("late_return", "EA", "A")]));
        // And the day before issue is before issue.
        let early = returns.replace("2020-10-30T16:00:00", "2020-10-29T23:59:59");
        let (_dir, mut ds) = dataset(roll, issued, &early, "E,2020-11-03T10:00:00,SITE\n");
        assert_eq!(keys(&reconcile(&mut ds, deadline())), set(&[("return_before_issue", "EC", "C")]));
    }

    #[test]
    fn status_history_rows_of_one_date_are_one_receipt() {
        // As the NC absentee file writes it: a cure is a second row of the same return date;
        // a second return date is a second receipt.
        let roll = "A,active,P1,S1,,,\nB,active,P1,S1,,,\n";
        let issued = "EA,A,S1,2020-10-01,,,\nEB,B,S1,2020-10-01,,,\n";
        let returns = "EA,2020-10-20T00:00:00,mail,pending,\n\
                       EA,2020-10-20T00:00:00,mail,cured,\n\
                       EB,2020-10-20T00:00:00,mail,accepted,\n\
                       EB,2020-10-22T00:00:00,mail,accepted,\n";
        let (_dir, mut ds) = dataset(roll, issued, returns, "");
        ds.status_events = true;
        let rec = reconcile(&mut ds, deadline());
        assert_eq!(keys(&rec), set(&[("duplicate_return", "EB", "B")]));
        assert!(rec.findings[0].detail.contains("2 different return dates"), "{}", rec.findings[0].detail);
        // Read as one row per receipt, both envelopes were received twice.
        let (_dir, mut ds) = dataset(roll, issued, returns, "");
        let rec = reconcile(&mut ds, deadline());
        assert_eq!(keys(&rec), set(&[("duplicate_return", "EA", "A"), ("duplicate_return", "EB", "B")]));
    }

    #[test]
    fn totals_count_each_envelope_once_by_its_outcome() {
        let roll = "A,active,P1,S1,,,\nB,active,P1,S1,,,\nC,active,P1,S1,,,\nD,active,P2,S2,,,\n";
        // A: rejected then accepted (accepted); B: pending only; C: nothing; D: rejected;
        // a voter not on the roll goes to UNKNOWN.
        let issued = "EA,A,S1,2020-10-01,,,\nEB,B,S1,2020-10-01,,,\nEC,C,S1,2020-10-01,,,\n\
                      ED,D,S2,2020-10-01,,,\nEQ,Q,S2,2020-10-01,,,\n";
        let returns = "EA,2020-10-10T10:00:00,mail,rejected,unsigned\n\
                       EA,2020-10-12T10:00:00,mail,accepted,\n\
                       EB,2020-10-12T10:00:00,mail,pending,\n\
                       ED,2020-10-12T10:00:00,mail,rejected,signature\n";
        let (_dir, mut ds) = dataset(roll, issued, returns, "");
        let rec = reconcile(&mut ds, deadline());
        let row = |p: &str| {
            let t = &rec.totals[p];
            (t.issued, t.returned, t.accepted, t.rejected, t.pending, t.outstanding)
        };
        assert_eq!(row("P1"), (3, 2, 1, 0, 1, 1));
        assert_eq!(row("P2"), (1, 1, 0, 1, 0, 0));
        assert_eq!(row("UNKNOWN"), (1, 0, 0, 0, 0, 1));
        assert_eq!(rec.totals.len(), 3);
        assert_totals_close(&rec);
        // The envelope states the anomaly tests read.
        let st = |id: &str| {
            let e = (0..ds.envelopes.len() as u32).find(|&e| ds.envelopes.get_str(e) == id).expect(id);
            rec.env_state[e as usize]
        };
        assert!(st("EA").accepted && !st("EA").rejected && st("EA").receipts == 2);
        assert!(!st("EB").accepted && !st("EB").rejected && st("EB").receipts == 1);
        assert!(!st("ED").accepted && st("ED").rejected);
        assert_eq!(st("EC").receipts, 0);
    }
}
