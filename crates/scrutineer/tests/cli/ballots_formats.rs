//! End-to-end: the readers beyond the generic layout's minimum. Intelligent Mail barcodes
//! on issued envelopes and return scans, the Ohio voter-file extract as a roll, North
//! Carolina's voter history (`ncvhis`) as poll-book check-ins, and duplicate receipts in
//! NC's status-history rows. Every fixture is written here.

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::csv_records as rows;
use crate::util::quiet_in as bin;
use crate::util::{BallotFiles, ROLL_HEADER, reconcile_args};

fn reconcile(d: &Path, layout: &str, checkins: Option<&str>) {
    let mut c = bin(d);
    let mut paths = Vec::new();
    let files = BallotFiles::in_dir(d, false, &mut paths);
    reconcile_args(&mut c, &files, &d.join("out"))
        .args(["--no-ledger", "--layout", layout])
        // Fixtures of a few dozen rows with a malformed one on purpose (a bad barcode):
        // above the default share, which is for real-sized files.
        .args(["--max-malformed", "10%"]);
    if let Some(ci) = checkins {
        c.arg("--checkins").arg(d.join(ci));
    }
    c.assert().success();
}

fn finding_keys(d: &Path) -> BTreeSet<(String, String, String)> {
    rows(&d.join("out/findings.csv"))
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect()
}

fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    items.iter().map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned())).collect()
}

#[test]
fn return_scans_match_envelopes_by_intelligent_mail_barcode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(
        d.join("roll.csv"),
        format!(
            "{ROLL_HEADER}\
         A,active,P1,S1,1 Main St 27601,1960,2000-01-01\n\
         B,active,P1,S1,2 Main St 27601,1961,2000-01-01\n\
         C,active,P1,S1,3 Main St 27601,1962,2000-01-01\n\
         D,active,P1,S1,4 Main St 27601,1963,2000-01-01\n\
         E,active,P1,S1,5 Main St 27601,1964,2000-01-01\n"
        ),
    )
    .expect("roll");
    std::fs::write(
        d.join("issued.csv"),
        "envelope_id,voter_id,ballot_style,issue_date,address,imb\n\
         EA1,A,S1,2020-10-01,1 Main St,00700901234000000001276011234\n\
         EB1,B,S1,2020-10-01,2 Main St,0070090123400000000227601\n\
         EC1,C,S1,2020-10-01,3 Main St,0070090123400000000327601\n\
         ED1,D,S1,2020-10-01,4 Main St,0070090123400000000327601\n\
         EE1,E,S1,2020-10-01,5 Main St,12AB\n",
    )
    .expect("issued");
    // Row 2: the id field holds EA1's barcode; row 3: no id, the barcode in its own column;
    // row 4: EB1 again by id (a second receipt of the envelope scanned by barcode);
    // row 5: the barcode printed on two envelopes; row 6: a barcode nobody issued.
    std::fs::write(
        d.join("returns.csv"),
        "envelope_id,returned_at,channel,outcome,reason,imb\n\
         00700901234000000001276011234,2020-10-20T10:00:00,mail,accepted,,\n\
         ,2020-10-21T10:00:00,mail,accepted,,0070090123400000000227601\n\
         EB1,2020-10-22T10:00:00,DB-1,accepted,,\n\
         0070090123400000000327601,2020-10-20T10:00:00,mail,accepted,,\n\
         0070090123400000000999999,2020-10-20T10:00:00,mail,accepted,,\n\
         EE1,2020-10-20T10:00:00,mail,accepted,,\n",
    )
    .expect("returns");
    reconcile(d, "generic", None);
    assert_eq!(
        finding_keys(d),
        set(&[("duplicate_return", "EB1", "B"), ("unissued_envelope", "0070090123400000000999999", "")])
    );
    let totals = std::fs::read_to_string(d.join("out/totals.csv")).expect("totals");
    // Issued 5; returned EA1 EB1 EC1 EE1; ED1 (the duplicate barcode's second envelope) outstanding.
    assert!(totals.contains("\nP1,5,4,4,0,1\n"), "{totals}");
    let dup: Vec<Vec<String>> =
        rows(&d.join("out/anomalies.csv")).into_iter().filter(|r| r[0] == "duplicate_imb").collect();
    assert_eq!(dup.len(), 1, "{dup:?}");
    assert_eq!(dup[0][2], "0070090123400000000327601");
    assert!(dup[0][7].contains("EC1") && dup[0][7].contains("ED1"), "{:?}", dup[0]);
    let malformed = rows(&d.join("out/malformed.csv"));
    assert!(
        malformed.iter().any(|r| r[0].ends_with("issued.csv") && r[1] == "6" && r[2] == "imb"),
        "{malformed:?}"
    );
}

#[test]
fn ohio_voter_file_extract_serves_as_the_roll_and_feeds_the_address_test() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut roll = String::from("ObjectID,X,Y,SOS_VOTERI,county,full_addr\n");
    let mut issued = String::from("envelope_id,voter_id,ballot_style,issue_date,address\n");
    let mut returns = String::from("envelope_id,returned_at,channel,outcome,reason\n");
    for n in 0..400u32 {
        let county = if n % 2 == 0 { "ADAMS" } else { "FRANKLIN" };
        // Voters 20-22 share a real household; the others live alone.
        let home = if (20..23).contains(&n) {
            "77 OAK ST WEST UNION OH 45693".to_owned()
        } else {
            format!("{} MAIN ST COLUMBUS OH 43{:03}", 100 + n, n % 200)
        };
        roll.push_str(&format!("{},-83.0,39.0,OH{:010},{county},{home}\n", n + 1, 16_000_000 + n));
        // The ballots of voters 0-11 are all mailed to one address.
        let mail = if n < 12 { "999 ELM ST DAYTON OH 45402".to_owned() } else { home };
        issued.push_str(&format!("OE{n},OH{:010},,2020-10-01,{mail}\n", 16_000_000 + n));
        if n % 3 == 0 {
            returns.push_str(&format!("OE{n},2020-10-20T10:00:00,mail,accepted,\n"));
        }
    }
    std::fs::write(d.join("roll.csv"), roll).expect("roll");
    std::fs::write(d.join("issued.csv"), issued).expect("issued");
    std::fs::write(d.join("returns.csv"), returns).expect("returns");
    reconcile(d, "ohio", None);
    // Every voter is found on the roll and active: no rule finding at all.
    assert_eq!(finding_keys(d), BTreeSet::new());
    let totals = rows(&d.join("out/totals.csv"));
    let precincts: Vec<(&str, &str)> = totals.iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(precincts, vec![("ADAMS", "200"), ("FRANKLIN", "200")]);
    let clusters: Vec<Vec<String>> =
        rows(&d.join("out/anomalies.csv")).into_iter().filter(|r| r[0] == "address_cluster").collect();
    assert_eq!(clusters.len(), 1, "only the injected cluster, not the household: {clusters:?}");
    assert_eq!(clusters[0][3], "12");
    let env: u32 = clusters[0][2]
        .rsplit(' ')
        .next()
        .and_then(|e| e.strip_prefix("OE"))
        .and_then(|e| e.parse().ok())
        .expect("envelope in key");
    assert!(env < 12, "{:?}", clusters[0]);
}

#[test]
fn nc_voter_history_check_ins_and_duplicate_receipts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut roll = String::from(
        "county_desc\tvoter_reg_num\tncid\tvoter_status_desc\tres_street_address\tzip_code\tprecinct_desc\n",
    );
    for v in 1..=9 {
        roll.push_str(&format!("WAKE\t{v}\tAA{v}\tACTIVE\t{v} MAIN ST\t27601\tWAKE-01\n"));
    }
    std::fs::write(d.join("roll.csv"), roll).expect("roll");
    let head = "county_desc,voter_reg_num,ncid,precinct_desc,ballot_req_type,ballot_req_dt,ballot_send_dt,ballot_rtn_dt,ballot_rtn_status,site_name\n";
    let row = |v: u32, rtn: &str, status: &str| {
        format!("WAKE,{v},AA{v},WAKE-01,MAIL,09/15/2020,09/20/2020,{rtn},{status},\n")
    };
    let mut absentee = String::from(head);
    for v in [1, 2, 3, 5, 9] {
        absentee.push_str(&row(v, "10/10/2020", "ACCEPTED"));
    }
    absentee.push_str(&row(4, "10/10/2020", "SIGNATURE DIFFERENT"));
    // AA6: the same ballot received on two dates; AA7: a cure, one receipt with two statuses.
    absentee.push_str(&row(6, "10/05/2020", "ACCEPTED"));
    absentee.push_str(&row(6, "10/19/2020", "ACCEPTED"));
    absentee.push_str(&row(7, "10/05/2020", "WITNESS INFO INCOMPLETE"));
    absentee.push_str(&row(7, "10/05/2020", "ACCEPTED - CURED"));
    absentee.push_str(&row(8, "", ""));
    std::fs::write(d.join("issued.csv"), &absentee).expect("issued");
    std::fs::write(d.join("returns.csv"), &absentee).expect("returns");
    let mut his = String::from(
        "county_id\tcounty_desc\tvoter_reg_num\telection_lbl\telection_desc\tvoting_method\tvoted_party_cd\tvoted_party_desc\tpct_label\tpct_description\tncid\tvoted_county_id\tvoted_county_desc\tvtd_label\tvtd_description\n",
    );
    let h = |v: u32, date: &str, method: &str| {
        format!(
            "\"92\"\t\"WAKE\"\t\"{v}\"\t\"{date}\"\t\"{date} GENERAL\"\t\"{method}\"\t\"UNA\"\t\"UNAFFILIATED\"\t\"01-01\"\t\"PRECINCT 01-01\"\t\"AA{v}\"\t\"92\"\t\"WAKE\"\t\"01-01\"\t\"01-01\"\n"
        )
    };
    his.push_str(&h(1, "11/03/2020", "IN-PERSON")); // accepted by mail and in person
    his.push_str(&h(2, "11/03/2020", "ABSENTEE BY MAIL")); // the mail ballot itself
    his.push_str(&h(3, "11/06/2018", "IN-PERSON")); // an earlier election
    his.push_str(&h(4, "11/03/2020", "ABSENTEE ONESTOP")); // rejected by mail, then early in person
    his.push_str(&h(5, "11/03/2020", "ABSENTEE ONESTOP")); // accepted by mail and early in person
    his.push_str(&h(8, "11/03/2020", "IN-PERSON")); // unreturned ballot, voted at the polls
    his.push_str(&h(9, "03/02/2021", "IN-PERSON")); // a later election
    his.push_str(&h(2, "13/45/2020", "IN-PERSON")); // unreadable date
    std::fs::write(d.join("ncvhis.txt"), his).expect("ncvhis");
    reconcile(d, "nc", Some("ncvhis.txt"));
    assert_eq!(
        finding_keys(d),
        set(&[
            ("double_vote", "", "AA1"),
            ("double_vote", "", "AA5"),
            ("duplicate_return", "AA6/09/20/2020", "AA6")
        ])
    );
    let malformed = rows(&d.join("out/malformed.csv"));
    assert!(
        malformed.iter().any(|r| r[0].ends_with("ncvhis.txt") && r[1] == "9" && r[2] == "election_lbl"),
        "{malformed:?}"
    );
    // Without the voter history, the same files give only the duplicate receipt.
    std::fs::remove_dir_all(d.join("out")).expect("rm");
    reconcile(d, "nc", None);
    assert_eq!(finding_keys(d), set(&[("duplicate_return", "AA6/09/20/2020", "AA6")]));
}
