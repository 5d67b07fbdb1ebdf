//! The binary's join of hunt findings with infra findings: a real EVTX sample from
//! `../shared/data/hunt` (remote logons on a domain controller) and an SSH log written
//! here in which one of the sample's source addresses, and another one, guess passwords.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::quiet_in;

const SAMPLE: &str = "evtx-to-mitre/TA0003-Persistence/T1098.xxx-Account manipulation/ID4724-5145-password reset with setNTLM (Mimikatz).evtx";
/// Addresses of the documentation range, which no sample logs: one guessing an account
/// no sample names, one guessing an account the sample logs on with.
const OTHER_ADDRESS: &str = "192.0.2.200";
const ACCOUNT_ADDRESS: &str = "192.0.2.201";

fn shared(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/hunt").join(rel);
    assert!(p.exists(), "missing shared data {} (see ../shared/data/README.md)", p.display());
    p
}

fn json_of(dir: &Path, args: &[&str]) -> Value {
    let out = quiet_in(dir).arg("--json").args(args).output().expect("run");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

fn findings(dir: &Path, engine: &str) -> Vec<Value> {
    let list = json_of(dir, &["findings", "list", "--engine", engine, "--limit", "1000"]);
    list.as_array().expect("array").clone()
}

fn links(dir: &Path, id: &str) -> Vec<(String, String, String)> {
    let shown = json_of(dir, &["findings", "show", id]);
    let mut out: Vec<(String, String, String)> = shown["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| {
            let s = |k: &str| l[k].as_str().expect(k).to_owned();
            (s("linked_id"), s("kind"), s("value"))
        })
        .collect();
    out.sort();
    out
}

/// The addresses or accounts of a hunt finding's `sources` evidence.
fn sources(f: &Value, field: &str) -> Vec<String> {
    let sources = f["evidence"].as_array().expect("evidence").iter().filter(|e| e["kind"] == "sources");
    let values = sources.flat_map(|e| e["data"][field].as_array().expect(field).clone());
    values.map(|a| a.as_str().expect(field).to_owned()).collect()
}

fn addresses(f: &Value) -> Vec<String> {
    sources(f, "addresses")
}

fn hunt(dir: &Path) {
    quiet_in(dir)
        .args(["hunt", "evtx"])
        .arg(shared(SAMPLE))
        .arg("--out")
        .arg(dir.join("hunt"))
        .assert()
        .success();
}

fn infra(dir: &Path, log: &Path) {
    quiet_in(dir)
        .args(["infra", "scan", "--year", "2024"])
        .arg(log)
        .arg("--out")
        .arg(dir.join("infra"))
        .assert()
        .success();
}

/// Twenty failed SSH logins from `address` for `account`, one minute apart at most.
fn failures(address: &str, account: &str, port: u32) -> String {
    (0..20)
        .map(|i| {
            format!(
                "Dec 10 06:{:02}:00 host sshd[1]: Failed password for {account} from {address} port {} ssh2\n",
                10 + i / 4,
                port + i
            )
        })
        .collect()
}

#[test]
fn hunt_and_infra_findings_about_one_address_are_linked_both_ways_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    hunt(dir.path());
    let hunt_findings = findings(dir.path(), "hunt");
    let with_address: Vec<(&Value, Vec<String>)> =
        hunt_findings.iter().map(|f| (f, addresses(f))).filter(|(_, a)| !a.is_empty()).collect();
    assert!(with_address.len() >= 2, "the sample logs remote logons from two sources: {hunt_findings:?}");
    let (shared_finding, shared_addresses) = &with_address[0];
    let shared_address = &shared_addresses[0];
    let hunt_id = shared_finding["id"].as_str().expect("id");
    assert!(
        with_address.iter().all(|(_, a)| !a.contains(&OTHER_ADDRESS.to_owned())),
        "the other address must not be in the sample"
    );

    let log = dir.path().join("ssh").join("auth.log");
    std::fs::create_dir_all(log.parent().expect("parent")).expect("mkdir");
    let accounts = sources(shared_finding, "accounts");
    assert!(!accounts.is_empty(), "the sample's remote logons name their account: {shared_finding}");
    let account = &accounts[0];
    let log_text = failures(shared_address, "root", 4000)
        + &failures(OTHER_ADDRESS, "svc-backup-guess", 6000)
        + &failures(ACCOUNT_ADDRESS, account, 8000);
    std::fs::write(&log, log_text).expect("write log");
    infra(dir.path(), &log);

    let infra_findings = findings(dir.path(), "infra");
    let about = |address: &str| -> String {
        let f = infra_findings
            .iter()
            .find(|f| f["kind"] == "brute_force" && f["title"].as_str().expect("title").starts_with(address))
            .unwrap_or_else(|| panic!("no brute-force finding for {address}: {infra_findings:?}"));
        f["id"].as_str().expect("id").to_owned()
    };
    let (infra_id, other_id, account_id) =
        (about(shared_address), about(OTHER_ADDRESS), about(ACCOUNT_ADDRESS));

    let from_hunt = links(dir.path(), hunt_id);
    assert!(
        from_hunt.contains(&(infra_id.clone(), "address".into(), shared_address.clone())),
        "{from_hunt:?}"
    );
    assert!(from_hunt.iter().all(|l| l.0 != other_id), "the other source is linked: {from_hunt:?}");
    assert!(from_hunt.contains(&(account_id.clone(), "account".into(), account.clone())), "{from_hunt:?}");
    assert!(
        links(dir.path(), &account_id).contains(&(hunt_id.to_owned(), "account".into(), account.clone())),
        "the account's link is not stored both ways"
    );
    let from_infra = links(dir.path(), &infra_id);
    assert!(
        from_infra.contains(&(hunt_id.to_owned(), "address".into(), shared_address.clone())),
        "{from_infra:?}"
    );
    assert!(links(dir.path(), &other_id).is_empty(), "a source no event log names is linked");
    for (f, _) in &with_address[1..] {
        let id = f["id"].as_str().expect("id");
        let linked = links(dir.path(), id);
        assert!(linked.iter().all(|l| l.0 != other_id), "{id}: {linked:?}");
    }

    // Re-running either engine keeps one link per pair and address.
    let before: Vec<_> = [hunt_id, infra_id.as_str()].iter().map(|id| links(dir.path(), id)).collect();
    infra(dir.path(), &log);
    hunt(dir.path());
    let after: Vec<_> = [hunt_id, infra_id.as_str()].iter().map(|id| links(dir.path(), id)).collect();
    assert_eq!(before, after);
    let pair = from_infra.iter().filter(|l| l.0 == hunt_id && l.1 == "address").count();
    assert_eq!(pair, 1);
}

#[test]
fn findings_show_prints_the_linked_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    hunt(dir.path());
    let hunt_findings = findings(dir.path(), "hunt");
    let (f, address) = hunt_findings
        .iter()
        .find_map(|f| addresses(f).into_iter().next().map(|a| (f, a)))
        .expect("a hunt finding with a source address");
    let log = dir.path().join("auth.log");
    std::fs::write(&log, failures(&address, "root", 4000)).expect("write log");
    infra(dir.path(), &log);
    let out =
        quiet_in(dir.path()).args(["findings", "show", f["id"].as_str().expect("id")]).output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains(&format!("same address {address}")))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("infra brute_force"), "{line}");
}
