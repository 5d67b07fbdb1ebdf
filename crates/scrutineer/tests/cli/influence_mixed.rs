//! Mixed input: `simulate social --platforms` writes Twitter (IRA release CSV), Telegram
//! (Desktop `result.json`) and Reddit (Pushshift NDJSON) files with organic traffic on
//! each and one operation across them; one `influence scan` over the three files must
//! find the operation as one network spanning the three platforms, and report that its
//! items reached the platforms in the order the simulator was told.

use std::collections::HashSet;
use std::path::Path;

use crate::util::{csv_maps, quiet_in, scrutineer};

fn platform(account: &str) -> &str {
    match account.split_once(':') {
        Some((p @ ("telegram" | "reddit"), _)) => p,
        _ => "twitter",
    }
}

fn simulate_and_scan(dir: &Path, order: &[&str]) -> (serde_json::Value, Vec<String>) {
    let sim = dir.join("sim");
    scrutineer()
        .args(["--quiet", "simulate", "social", "--seed", "3", "--accounts", "1800", "--days", "14"])
        .args(["--operation-size", "6", "--platforms", &order.join(",")])
        .arg("--out")
        .arg(&sim)
        .assert()
        .success();
    let inputs =
        [sim.join("twitter.csv"), sim.join("telegram").join("result.json"), sim.join("reddit.ndjson")];
    let out = dir.join("scan");
    let run =
        quiet_in(dir).args(["influence", "scan"]).args(&inputs).arg("--out").arg(&out).output().expect("run");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let networks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("networks.json")).expect("networks.json"))
            .expect("json");
    let truth = csv_maps(&sim.join("truth.csv")).into_iter().map(|r| r["account"].clone()).collect();
    (networks, truth)
}

fn check(order: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (networks, truth) = simulate_and_scan(dir.path(), order);
    let seeded: HashSet<&str> = truth.iter().map(String::as_str).collect();
    assert_eq!(seeded.iter().map(|a| platform(a)).collect::<HashSet<_>>().len(), 3, "{seeded:?}");
    // The network holding most of the seeded accounts.
    let nets = networks["networks"].as_array().expect("networks");
    let members = |n: &serde_json::Value| -> Vec<String> {
        n["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .map(|a| a["account"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let best = nets
        .iter()
        .max_by_key(|n| members(n).iter().filter(|a| seeded.contains(a.as_str())).count())
        .expect("a network");
    let found = members(best);
    let hits = found.iter().filter(|a| seeded.contains(a.as_str())).count();
    assert!(
        hits * 10 >= seeded.len() * 8,
        "{hits} of {} seeded accounts in {}: {found:?}",
        seeded.len(),
        best["id"]
    );
    assert!(hits * 10 >= found.len() * 9, "the network is the operation, not organic accounts: {found:?}");
    let platforms: HashSet<&str> =
        found.iter().filter(|a| seeded.contains(a.as_str())).map(|a| platform(a)).collect();
    assert_eq!(platforms.len(), 3, "one network across the three platforms: {found:?}");
    // The order its items took, as the spread reports it.
    let id = best["id"].as_str().expect("id");
    let spread = networks["spread"]["networks"].as_array().expect("spread networks");
    let mine = spread.iter().find(|s| s["network"] == id).unwrap_or_else(|| panic!("{id} not in {spread:?}"));
    let top: Vec<&str> = mine["orders"][0]["order"]
        .as_array()
        .expect("order")
        .iter()
        .map(|p| p.as_str().unwrap_or(""))
        .collect();
    assert_eq!(top, order, "{mine}");
    assert_eq!(networks["schema_version"], 2);
}

#[test]
fn one_scan_over_three_platform_files_finds_the_seeded_network_and_its_order() {
    check(&["telegram", "twitter", "reddit"]);
}

#[test]
fn another_seeded_order_is_the_order_reported() {
    check(&["reddit", "telegram", "twitter"]);
}
