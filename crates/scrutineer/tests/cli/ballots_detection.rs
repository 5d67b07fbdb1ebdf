//! End-to-end: injected irregularities are all found, legitimate look-alikes never are.

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::quiet_in as bin;
use crate::util::{BallotFiles, ROLL_HEADER, reconcile_args, simulate_ballots};

/// (kind, envelope_id, voter_id) of each row; these three fields never hold commas or quotes here.
fn keys(path: &Path) -> BTreeSet<(String, String, String)> {
    let text = std::fs::read_to_string(path).expect("read");
    text.lines()
        .skip(1)
        .map(|l| {
            let mut f = l.splitn(4, ',');
            let mut next = || f.next().unwrap_or("").to_owned();
            (next(), next(), next())
        })
        .collect()
}

#[test]
fn generated_scenario_every_injection_found_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    simulate_ballots(d, 30_000, 12, 15, &d.join("in"));
    let mut paths = Vec::new();
    let files = BallotFiles::in_dir(&d.join("in"), true, &mut paths);
    reconcile_args(&mut bin(d), &files, &d.join("out")).assert().success();
    let found = keys(&d.join("out/findings.csv"));
    let truth = keys(&d.join("in/truth.csv"));
    assert_eq!(truth.len(), 8 * 12, "every kind injected");
    let missed: Vec<_> = truth.difference(&found).collect();
    let false_findings: Vec<_> = found.difference(&truth).collect();
    assert!(missed.is_empty(), "missed: {missed:?}");
    assert!(false_findings.is_empty(), "false findings: {false_findings:?}");
    // Look-alikes are present in the inputs and absent from the findings.
    let look = keys(&d.join("in/lookalikes.csv"));
    let kinds: BTreeSet<&str> = look.iter().map(|k| k.0.as_str()).collect();
    let edges = [
        "minutes_before_deadline",
        "at_the_deadline",
        "same_day_issue_and_return",
        "cured",
        "replaced_after_rejection",
    ];
    assert!(edges.iter().all(|k| kinds.contains(k)), "the edge look-alikes are all there: {kinds:?}");
    assert_eq!(look.len(), kinds.len() * 15, "{kinds:?}");
    for (_, _, voter) in &look {
        assert!(!found.iter().any(|f| &f.2 == voter), "look-alike voter {voter} flagged");
    }
    // The background has the edges too, on its own voters: returns handed back on the day
    // of issue, and returns in the deadline's last half hour.
    let look_voters: BTreeSet<&str> = look.iter().map(|k| k.2.as_str()).collect();
    let issued: std::collections::BTreeMap<String, (String, String)> = rows(&d.join("in/issued.csv"))
        .into_iter()
        .map(|r| (r[0].clone(), (r[1].clone(), r[3].clone())))
        .collect();
    let (mut same_day, mut last_half_hour) = (0, 0);
    for r in rows(&d.join("in/returns.csv")) {
        let Some((voter, issue_date)) = issued.get(&r[0]) else { continue };
        if look_voters.contains(voter.as_str()) || truth.iter().any(|t| &t.2 == voter) {
            continue;
        }
        same_day += usize::from(r[1].starts_with(issue_date.as_str()));
        last_half_hour +=
            usize::from(r[1].as_str() >= "2020-11-03T19:00:00" && r[1].as_str() <= "2020-11-03T19:30:00");
    }
    assert!(same_day > 10, "background returns on the day of issue: {same_day}");
    assert!(last_half_hour > 10, "background returns in the deadline's last half hour: {last_half_hour}");
    let header = std::fs::read_to_string(d.join("out/findings.csv")).expect("read");
    assert!(header.starts_with("kind,envelope_id,voter_id,detail\n"));
    let totals = std::fs::read_to_string(d.join("out/totals.csv")).expect("read");
    assert!(totals.starts_with("precinct,issued,returned,accepted,rejected,outstanding\n"));
}

/// A hand-made jurisdiction: one of each rule beside each legitimate look-alike, plus a
/// malformed row, with totals worked out by hand.
#[test]
fn hand_written_fixture_rules_lookalikes_totals_and_malformed_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(
        d.join("roll.csv"),
        format!(
            "{ROLL_HEADER}\
         A,active,P1,S1,1 Main St 27601,1960,2000-01-01\n\
         B,active,P1,S1,2 Main St 27601,1961,2000-01-01\n\
         C,inactive,P1,S1,3 Main St 27601,1962,2000-01-01\n\
         D,active,P2,S2,4 Oak St 27602,1963,2000-01-01\n\
         E,active,P2,S2,5 Oak St 27602,1964,2000-01-01\n\
         F,active,P2,S2,6 Oak St 27602,1965,2000-01-01\n\
         G,active,P2,S2,7 Oak St 27602,1966,2000-01-01\n\
         H,active,P2,S2,8 Oak St 27602,1967,2000-01-01\n\
         I,active,P2,S2,9 Oak St 27602,1968,2000-01-01\n\
         J,active,P1,S1,10 Main St 27601,1969,2000-01-01\n"
        ),
    )
    .expect("roll");
    std::fs::write(
        d.join("issued.csv"),
        "envelope_id,voter_id,ballot_style,issue_date,address\n\
         EA1,A,S1,2020-10-01,1 Main St\n\
         EA2,A,S1,2020-10-10,1 Main St\n\
         EB1,B,S1,2020-10-01,2 Main St\n\
         EC1,C,S1,2020-10-01,3 Main St\n\
         ED1,D,S1,2020-10-01,4 Oak St\n\
         EE1,E,S2,2020-10-01,5 Oak St\n\
         EF1,F,S2,2020-10-01,6 Oak St\n\
         EG1,G,S2,2020-10-20,7 Oak St\n\
         EH1,H,S2,2020-10-01,8 Oak St\n\
         EI1,I,S2,2020-10-01,9 Oak St\n\
         EZ1,Z,S9,2020-10-01,99 Nowhere\n\
         EJ1,J,S1,2020-10-01,10 Main St\n\
         EJ2,J,S1,2020-10-12,10 Main St\n\
         EBAD,B,S1,not-a-date,2 Main St\n",
    )
    .expect("issued");
    std::fs::write(
        d.join("returns.csv"),
        "envelope_id,returned_at,channel,outcome,reason\n\
         EA2,2020-10-20T10:00:00,mail,accepted,\n\
         EB1,2020-10-15T10:00:00,mail,rejected,signature\n\
         EE1,2020-10-15T10:00:00,DB-1,accepted,\n\
         EE1,2020-10-16T10:00:00,DB-1,rejected,duplicate\n\
         EF1,2020-10-15T10:00:00,mail,cured,\n\
         EF1X,2020-10-15T11:00:00,mail,accepted,\n\
         EG1,2020-10-15T10:00:00,mail,accepted,\n\
         EH1,2020-11-04T10:00:00,mail,accepted,\n\
         EI1,2020-11-04T10:00:00,mail,rejected,late\n\
         EJ1,2020-10-15T10:00:00,mail,accepted,\n\
         EJ2,2020-10-25T10:00:00,mail,accepted,\n\
         ED1,2020-10-15T10:00:00,mail,maybe,\n",
    )
    .expect("returns");
    std::fs::write(
        d.join("checkins.csv"),
        "voter_id,checked_in_at,location\n\
         B,2020-11-03T09:00:00,School\n\
         D,2020-11-03T09:30:00,School\n\
         F,2020-11-03T10:00:00,School\n",
    )
    .expect("checkins");
    let mut paths = Vec::new();
    let files = BallotFiles::in_dir(d, true, &mut paths);
    reconcile_args(&mut bin(d), &files, &d.join("out"))
        .arg("--no-ledger")
        // A handful of rows, several malformed on purpose: far above the default share.
        .args(["--max-malformed", "100%"])
        .assert()
        .success();
    let found = keys(&d.join("out/findings.csv"));
    let want: BTreeSet<(String, String, String)> = [
        ("unissued_envelope", "EF1X", ""),
        ("voter_not_on_roll", "EZ1", "Z"),
        ("voter_not_active", "EC1", "C"),
        ("duplicate_return", "EE1", "E"),
        ("double_vote", "", "F"),
        ("double_vote", "", "J"),
        ("style_mismatch", "ED1", "D"),
        ("return_before_issue", "EG1", "G"),
        ("late_return", "EH1", "H"),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    .collect();
    // A: replaced (EA1 unreturned, EA2 accepted); B: rejected then in person; D: unreturned
    // envelope surrendered at the polls (its receipt row is malformed); I: late and rejected.
    assert_eq!(found, want);
    let malformed = std::fs::read_to_string(d.join("out/malformed.csv")).expect("read");
    assert!(malformed.contains("issued.csv,15,issue_date"), "{malformed}");
    assert!(malformed.contains("returns.csv,13,outcome"), "{malformed}");
    let totals = std::fs::read_to_string(d.join("out/totals.csv")).expect("read");
    // P1: EA1 EA2 EB1 EC1 ED1? no, ED1 belongs to D in P2. P1 = A(2) B C J(2) = 6 issued.
    assert!(totals.contains("\nP1,6,4,3,1,2\n"), "{totals}");
    // P2: ED1 EE1 EF1 EG1 EH1 EI1 = 6 issued; returned EE1 EF1 EG1 EH1 EI1 = 5; accepted 4; rejected EI1.
    assert!(totals.contains("\nP2,6,5,4,1,1\n"), "{totals}");
    assert!(totals.contains("\nUNKNOWN,1,0,0,0,1\n"), "{totals}");
}

/// Rows (after the header) of a CSV file.
fn rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.records().map(|rec| rec.expect("record").iter().map(str::to_owned).collect()).collect()
}
