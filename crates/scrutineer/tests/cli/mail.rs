//! `scrutineer mail`: a dump with an authentic message, an altered variant of it, an
//! unsigned message and garbage, through verify, the store, STIX and the ledger.

use std::path::Path;

use crate::util::{csv_maps, gzip, quiet_in};

/// RFC 8463's example (appendix A): signed with Ed25519 and with RSA.
const KEYS: [(&str, &str); 2] = [
    (
        "brisbane._domainkey.football.example.com",
        "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
    ),
    (
        "test._domainkey.football.example.com",
        "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
    ),
];
pub(crate) const SIGNED: &str = "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\n d=football.example.com; i=@football.example.com;\n q=dns/txt; s=brisbane; t=1528637909; h=from : to :\n subject : date : message-id : from : subject : date;\n bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\n Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n d=football.example.com; i=@football.example.com;\n q=dns/txt; s=test; t=1528637909; h=from : to : subject :\n date : message-id : from : subject : date;\n bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\n DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\n dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\nFrom: Joe SixPack <joe@football.example.com>\nTo: Suzie Q <suzie@shopping.example.net>\nSubject: Is dinner ready?\nDate: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\nMessage-ID: <20030712040037.46341.5F8J@football.example.com>\n\nHi.\n\nWe lost the game.  Are you hungry yet?\n\nJoe.\n";

pub(crate) fn add_keys(dir: &Path, keys: &Path) {
    for (name, record) in KEYS {
        quiet_in(dir)
            .args(["mail", "keys", "add", name, record, "--first-seen", "2003-01-01", "--keys"])
            .arg(keys)
            .assert()
            .success();
    }
}

fn dump(dir: &Path) -> std::path::PathBuf {
    let forged = SIGNED.replace("Are you hungry yet?", "Wire the money tonight.");
    let mbox = format!(
        "From joe Fri Jul 11 21:00:37 2003\n{SIGNED}\nFrom forger Sat Jul 12 10:00:00 2003\n{forged}\nFrom ana Mon Jan  1 00:00:00 2024\nFrom: ana@example.org\nSubject: plain\nMessage-ID: <plain@example.org>\n\nunsigned\n\nFrom junk Mon Jan  1 00:00:00 2024\n\x00\x01 not a header\n\nx\n"
    );
    let path = dir.join("dump.mbox.gz");
    std::fs::write(&path, gzip(mbox.as_bytes())).expect("write");
    path
}

#[test]
fn verify_writes_verdicts_summary_findings_stix_and_the_ledger() {
    let dir = tempfile::tempdir().expect("tmp");
    let keys = dir.path().join("keys.csv");
    add_keys(dir.path(), &keys);
    let dump = dump(dir.path());
    let out = dir.path().join("out");
    let key_dir = tempfile::tempdir().expect("key dir");
    let ledger = dir.path().join("dump.ledger");
    let run = quiet_in(dir.path())
        .args(["mail", "verify"])
        .arg(&dump)
        .arg("--keys")
        .arg(&keys)
        .arg("--out")
        .arg(&out)
        .arg("--ledger")
        .arg(&ledger)
        .arg("--ledger-key")
        .arg(key_dir.path().join("ledger.key"))
        .args(["--max-unreadable", "30%"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(stdout.contains("ledger: 3 entries"), "{stdout}");

    let text = std::fs::read_to_string(out.join("verdicts.csv")).expect("verdicts");
    assert_eq!(
        text.lines().next(),
        Some("file,offset,message_id,date,from,signing_domain,selector,verdict,detail")
    );
    let rows = csv_maps(&out.join("verdicts.csv"));
    let verdicts: Vec<(&str, &str)> =
        rows.iter().map(|r| (r["selector"].as_str(), r["verdict"].as_str())).collect();
    assert_eq!(
        verdicts,
        [
            ("brisbane", "authentic"),
            ("test", "authentic"),
            ("brisbane", "body_altered"),
            ("test", "body_altered"),
            ("", "unsigned")
        ]
    );
    assert_eq!(rows[0]["offset"], "0");
    assert_eq!(rows[0]["date"], "2003-07-12T04:00:37Z");
    assert_eq!(rows[0]["message_id"], "20030712040037.46341.5F8J@football.example.com");
    let unreadable = csv_maps(&out.join("unreadable.csv"));
    assert_eq!(unreadable.len(), 1);
    assert!(unreadable[0]["reason"].contains("not a field"), "{:?}", unreadable[0]);

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(summary["engine"], "mail");
    assert_eq!(summary["version"], 2);
    let s = &summary["summary"];
    // No message of this dump carries ARC fields: the counts are there, and zero.
    assert_eq!(s["arc"]["chains"], 0, "{s}");
    assert_eq!((s["read"]["messages"].as_u64(), s["read"]["unreadable"].as_u64()), (Some(4), Some(1)));
    assert_eq!(s["verdicts"]["authentic"], 1);
    assert_eq!(s["verdicts"]["body_altered"], 1);
    let group = &s["variant_groups"][0];
    assert_eq!(
        group["variants"][0]["verdict"], "authentic",
        "the variant that verifies comes first: {group}"
    );
    assert!(group["variants"][0]["at"].as_str().expect("at").ends_with(":0"));

    let listed =
        quiet_in(dir.path()).args(["--json", "findings", "list", "--engine", "mail"]).output().expect("list");
    let findings: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("findings");
    let kinds: Vec<&str> =
        findings.as_array().expect("array").iter().filter_map(|f| f["kind"].as_str()).collect();
    for kind in ["body_altered", "forged_variant", "dump_verified"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let t1114 =
        findings.as_array().expect("array").iter().all(|f| f["techniques"].to_string().contains("T1114"));
    assert!(t1114, "every mail finding carries ATT&CK T1114");

    let bundle = dir.path().join("bundle.json");
    quiet_in(dir.path()).args(["mail", "export", "--stix"]).arg(&bundle).assert().success();
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).expect("bundle")).expect("json");
    assert_eq!(b["type"], "bundle");

    quiet_in(dir.path()).args(["ledger", "verify", "--ledger"]).arg(&ledger).assert().success();
}

#[test]
fn too_many_unreadable_messages_fail_after_the_outputs_are_written() {
    let dir = tempfile::tempdir().expect("tmp");
    let keys = dir.path().join("keys.csv");
    add_keys(dir.path(), &keys);
    let out = dir.path().join("out");
    let run = quiet_in(dir.path())
        .args(["mail", "verify"])
        .arg(dump(dir.path()))
        .arg("--keys")
        .arg(&keys)
        .arg("--out")
        .arg(&out)
        .args(["--no-ledger", "--no-store"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(stderr.contains("unreadable.csv"), "{stderr}");
    assert_eq!(csv_maps(&out.join("unreadable.csv")).len(), 1);
}

#[test]
fn a_bad_key_record_or_archive_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tmp");
    let keys = dir.path().join("keys.csv");
    let run = quiet_in(dir.path())
        .args(["mail", "keys", "add", "s._domainkey.example.org", "k=rsa; p=!!", "--keys"])
        .arg(&keys)
        .assert()
        .failure();
    assert!(String::from_utf8_lossy(&run.get_output().stderr).contains("base64"));
    std::fs::write(&keys, "name,value\nx,y\n").expect("write");
    let run = quiet_in(dir.path())
        .args(["mail", "verify", "x.eml", "--no-ledger", "--out"])
        .arg(dir.path().join("out"))
        .arg("--keys")
        .arg(&keys)
        .assert()
        .failure();
    assert!(String::from_utf8_lossy(&run.get_output().stderr).contains("name,record,first_seen,last_seen"));
}

#[test]
fn a_huge_header_and_a_cut_archive_are_counted_skips_and_the_rest_is_verified() {
    let dir = tempfile::tempdir().expect("tmp");
    let keys = dir.path().join("keys.csv");
    add_keys(dir.path(), &keys);
    let mut mbox = b"From big Mon Jan  1 00:00:00 2024\nX-Huge: ".to_vec();
    mbox.extend(std::iter::repeat_n(b'a', 3 << 20));
    mbox.extend_from_slice(
        format!("\nSubject: big\n\nbody\n\nFrom joe Fri Jul 11 21:00:37 2003\n{SIGNED}\n").as_bytes(),
    );
    for i in 0..50 {
        mbox.extend_from_slice(
            format!(
                "From n{i} Mon Jan  1 00:00:00 2024\nFrom: n{i}@example.org\nSubject: {i}\n\n{}\n\n",
                "text ".repeat(40)
            )
            .as_bytes(),
        );
    }
    let gz = gzip(&mbox);
    let cut = dir.path().join("cut.mbox.gz");
    std::fs::write(&cut, &gz[..gz.len() - 200]).expect("write");
    let out = dir.path().join("out");
    quiet_in(dir.path())
        .args(["mail", "verify"])
        .arg(&cut)
        .arg("--keys")
        .arg(&keys)
        .arg("--out")
        .arg(&out)
        .args(["--max-message-bytes", "1M", "--max-unreadable", "10%", "--no-ledger", "--no-store"])
        .assert()
        .success();
    let unreadable = csv_maps(&out.join("unreadable.csv"));
    assert_eq!(unreadable.len(), 2, "{unreadable:?}");
    assert_eq!(unreadable[0]["offset"], "0");
    assert!(
        unreadable[0]["reason"].contains("longer than the limit of 1048576 bytes"),
        "{:?}",
        unreadable[0]
    );
    assert!(unreadable[1]["reason"].contains("truncated or corrupt"), "{:?}", unreadable[1]);
    let rows = csv_maps(&out.join("verdicts.csv"));
    assert_eq!(rows[0]["verdict"], "authentic");
    // The signed message and the plain ones before the cut; the cut one and those after it are not.
    assert!(
        rows.len() > 10 && rows.len() < 52,
        "the complete messages before the cut are verified: {}",
        rows.len()
    );
}

#[test]
fn keys_imported_from_a_zone_dump_verify_the_messages_they_signed() {
    let dir = tempfile::tempdir().expect("tmp");
    let (rsa_name, rsa) = KEYS[1];
    let (p1, p2) = rsa.split_at(60);
    let zone = format!(
        "$ORIGIN football.example.com.\n; exported zone\nbrisbane._domainkey 3600 IN TXT \"{}\"\n{rsa_name}. IN TXT ( \"{p1}\"\n  \"{p2}\" ) ; rsa\nwww IN A 192.0.2.7\nbad._domainkey IN TXT \"k=rsa; p=!!\"\n",
        KEYS[0].1
    );
    let zone_file = dir.path().join("zone.txt");
    std::fs::write(&zone_file, zone).expect("write");
    let keys = dir.path().join("keys.csv");
    quiet_in(dir.path())
        .args(["mail", "keys", "import"])
        .arg(&zone_file)
        .arg("--keys")
        .arg(&keys)
        .assert()
        .success();
    let eml = dir.path().join("m.eml");
    std::fs::write(&eml, SIGNED).expect("write");
    let out = dir.path().join("out");
    quiet_in(dir.path())
        .args(["mail", "verify"])
        .arg(&eml)
        .arg("--keys")
        .arg(&keys)
        .arg("--out")
        .arg(&out)
        .args(["--no-ledger", "--no-store"])
        .assert()
        .success();
    let verdicts: Vec<String> =
        csv_maps(&out.join("verdicts.csv")).into_iter().map(|r| r["verdict"].clone()).collect();
    assert_eq!(verdicts, ["authentic", "authentic"]);
}
