//! `scrutineer mail sightings`: a dump with an authentic message and a forged variant,
//! posts (IRA CSV, read by the influence engine) that quote the forgery, use the dump's
//! hashtag before and after its release, or only mention a short subject.

use crate::mail::{SIGNED, add_keys};
use crate::util::{csv_maps, quiet_in};

const FORGED_LINE: &str = "Wire the money to the offshore account before the vote tonight.";

fn posts_csv() -> String {
    let mut s = String::from(
        "author_id,content,region,language,publish_date,harvested_date,following,followers,updates,post_type,retweet\n",
    );
    let rows = [
        ("early_bird", "they have it all #DinnerLeaks", "2024-03-01 08:00:00"),
        (
            "amplifier",
            "\"wire the money to the OFFSHORE account before the vote\" says Joe",
            "2024-03-01 12:30:00",
        ),
        ("amplifier", "Is dinner ready? lol", "2024-03-01 12:40:00"),
        ("late_one", "#dinnerleaks2 is out", "2024-03-02 09:00:00"),
        ("bystander", "lost the game again, hungry", "2024-03-01 13:00:00"),
    ];
    for (account, text, time) in rows {
        s.push_str(&format!(
            "{account},\"{}\",United States,English,{time},{time},1,1,1,,0\n",
            text.replace('"', "\"\"")
        ));
    }
    s
}

#[test]
fn sightings_name_the_forged_message_its_spreaders_and_the_posts_before_the_release() {
    let dir = tempfile::tempdir().expect("tmp");
    let keys = dir.path().join("keys.csv");
    add_keys(dir.path(), &keys);
    let forged = SIGNED.replace("Are you hungry yet?", FORGED_LINE);
    let mbox = format!(
        "From joe Fri Jul 11 21:00:37 2003\n{SIGNED}\nFrom forger Sat Jul 12 10:00:00 2003\n{forged}"
    );
    let dump = dir.path().join("dump.mbox");
    std::fs::write(&dump, mbox).expect("write");
    let posts = dir.path().join("posts.csv");
    std::fs::write(&posts, posts_csv()).expect("write");
    let out = dir.path().join("out");
    let run = quiet_in(dir.path())
        .args(["mail", "sightings"])
        .arg(&dump)
        .arg("--posts")
        .arg(&posts)
        .args([
            "--format",
            "ira",
            "--hashtag",
            "DinnerLeaks*",
            "--released",
            "2024-03-01T10:00:00Z",
            "--no-networks",
        ])
        .arg("--keys")
        .arg(&keys)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(stdout.contains("3 of 5 posts show the dump"), "{stdout}");

    let text = std::fs::read_to_string(out.join("sightings.csv")).expect("sightings");
    assert_eq!(
        text.lines().next(),
        Some("time,post_id,account,handle,kind,marker,message_id,message,verdict,other_messages,network")
    );
    let rows = csv_maps(&out.join("sightings.csv"));
    let got: Vec<(&str, &str, &str)> =
        rows.iter().map(|r| (r["account"].as_str(), r["kind"].as_str(), r["verdict"].as_str())).collect();
    // The quote names the forged copy (it shares its Message-ID with the authentic one,
    // but only it holds the words); "Is dinner ready?" is too short a subject to count.
    assert_eq!(
        got,
        [("early_bird", "hashtag", ""), ("amplifier", "quote", "body_altered"), ("late_one", "hashtag", "")]
    );
    assert_eq!(rows[1]["marker"], "wire the money to the OFFSHORE account before the vote");
    assert!(
        rows[1]["message"]
            .ends_with(&format!(":{}", SIGNED.len() + "From joe Fri Jul 11 21:00:37 2003\n\n".len())),
        "{:?}",
        rows[1]
    );

    let spreaders = csv_maps(&out.join("spreaders.csv"));
    let order: Vec<(&str, &str)> =
        spreaders.iter().map(|r| (r["account"].as_str(), r["hours_after_release"].as_str())).collect();
    assert_eq!(order, [("early_bird", "-2.00"), ("amplifier", "2.50"), ("late_one", "23.00")]);

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sightings.json")).expect("json"))
            .expect("json");
    assert_eq!(
        (summary["engine"].as_str(), summary["layout"].as_str(), summary["version"].as_u64()),
        (Some("mail"), Some("mail-sightings"), Some(1))
    );
    assert_eq!(summary["summary"]["before_release"], 1);
    assert_eq!(summary["summary"]["dump_messages"], 2);

    let listed =
        quiet_in(dir.path()).args(["--json", "findings", "list", "--engine", "mail"]).output().expect("list");
    let findings: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("findings");
    let kinds: Vec<&str> =
        findings.as_array().expect("array").iter().filter_map(|f| f["kind"].as_str()).collect();
    for kind in ["dump_sighted_before_release", "altered_message_spread", "dump_sightings"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
}

#[test]
fn a_bad_hashtag_host_or_release_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tmp");
    let dump = dir.path().join("one.eml");
    std::fs::write(&dump, SIGNED).expect("write");
    let posts = dir.path().join("posts.csv");
    std::fs::write(&posts, posts_csv()).expect("write");
    for (flag, value, says) in [
        ("--host", "not a host", "not a host name"),
        ("--hashtag", "#", "not a hashtag"),
        ("--released", "yesterday", "--released"),
    ] {
        let run = quiet_in(dir.path())
            .args(["mail", "sightings"])
            .arg(&dump)
            .arg("--posts")
            .arg(&posts)
            .args(["--format", "ira", flag, value, "--no-store"])
            .arg("--out")
            .arg(dir.path().join("out"))
            .assert()
            .failure();
        let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
        assert!(stderr.contains(says), "{flag} {value}: {stderr}");
    }
}
