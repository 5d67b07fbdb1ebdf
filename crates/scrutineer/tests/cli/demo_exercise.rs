//! `scrutineer demo` at a small size: every injected operation, campaign, manufactured
//! ballot and altered, forged or unsigned message of the leaked mailbox must be found,
//! and findings outside the injected set must stay within the false-alarm budget stated
//! in the README. The score is computed here from the ground-truth files and the
//! engines' outputs, not taken from the demo's own summary.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::util::csv_maps as rows;

/// False-alarm budget (README): organic accounts placed in networks, as a share of the
/// organic accounts that posted.
const ORGANIC_ACCOUNT_BUDGET: f64 = 0.01;
/// An operation counts as found when at least this share of its accounts is placed.
const OPERATION_FOUND: f64 = 0.8;

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .expect("json")
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|x| x.as_str().expect("string").to_owned()).collect()
}

/// Every IP address written anywhere in `v`: each string is split at characters that
/// cannot be part of an address or a network, and each piece that parses as an address
/// is kept.
fn addresses_in(v: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match v {
        serde_json::Value::String(s) => {
            for word in s.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':' || c == '/')) {
                let word = word.trim_matches(|c| c == '.' || c == ':');
                // A network (`45.135.17.0/24`) is not a source address.
                if word.contains(['.', ':'])
                    && !word.contains('/')
                    && word.parse::<std::net::IpAddr>().is_ok()
                {
                    out.insert(word.to_owned());
                }
            }
        }
        serde_json::Value::Array(items) => out.extend(items.iter().flat_map(addresses_in)),
        serde_json::Value::Object(map) => out.extend(map.values().flat_map(addresses_in)),
        _ => {}
    }
    out
}

/// The ballot-comparison audit of the count: the honest contest stops, the altered one
/// goes to a full hand count; the overstatements it counted equal the cards drawn whose
/// CVR recorded the reported winner where the paper shows the true one (counted here from
/// the retrieval lists and the paper file); every retrieval list is sorted as boards walk
/// the storage room (county, container, tabulator, batch, position).
fn check_comparison_audit(dir: &Path, store: &Path, ctruth: &serde_json::Value) {
    let out = crate::util::scrutineer()
        .arg("--store")
        .arg(store)
        .args(["--quiet", "--json", "audit", "comparison", "status", "--audit"])
        .arg(dir.join("count/comparison-audit.json"))
        .output()
        .expect("comparison status");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status json");
    let paper = rows(&dir.join("count/comparison/paper.csv"));
    let mut drawn = BTreeSet::new();
    let mut lists = 0;
    for entry in std::fs::read_dir(dir.join("count/retrieval")).expect("retrieval lists") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        lists += 1;
        let list = rows(&path);
        let key = |r: &HashMap<String, String>| {
            let n = |k: &str| r[k].parse::<u64>().unwrap_or_else(|_| panic!("{k} in {}", path.display()));
            // Containers compare as their names' numbers do ("Box 2" before "Box 10").
            let container = &r["container"];
            let digits = container.trim_start_matches(|c: char| !c.is_ascii_digit());
            let label = (container[..container.len() - digits.len()].to_owned(), digits.parse::<u64>().ok());
            (r["jurisdiction"].clone(), label, n("tabulator"), n("batch"), n("position"))
        };
        let keys: Vec<_> = list.iter().map(key).collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{} is not in walking order", path.display());
        drawn.extend(list.iter().map(|r| {
            (r["jurisdiction"].clone(), r["tabulator"].clone(), r["batch"].clone(), r["position"].clone())
        }));
    }
    assert!(lists >= 1 && !drawn.is_empty(), "no retrieval list written");
    // The CVRs as the tabulators recorded them, by card: the county exports list them in
    // the order of the paper file (county, batch, position), so cvr.csv's rows line up.
    let cvr = rows(&dir.join("count/cvr.csv"));
    assert_eq!(cvr.len(), paper.len(), "one CVR row per paper row");
    for c in ctruth.as_array().expect("contests") {
        let name = c["contest"].as_str().expect("contest");
        let s = status["contests"]
            .as_array()
            .expect("contests")
            .iter()
            .find(|s| s["contest"] == name)
            .unwrap_or_else(|| panic!("no comparison status for {name}"));
        let (truth, reported) =
            (c["true_winner"].as_str().expect("w"), c["reported_winner"].as_str().expect("r"));
        if truth == reported {
            assert_eq!(s["decision"], "stop", "honest contest not confirmed by the comparison audit: {s}");
        } else {
            assert_eq!(s["decision"], "full_hand_count", "altered contest: {s}");
            let flipped = paper
                .iter()
                .zip(&cvr)
                .filter(|(p, v)| {
                    p["contest"] == name
                        && drawn.contains(&(
                            p["jurisdiction"].clone(),
                            p["tabulator"].clone(),
                            p["batch"].clone(),
                            p["position"].clone(),
                        ))
                        && p["choice"] == truth
                        && v["choice"] == reported
                })
                .count() as u64;
            assert!(flipped > 0);
            assert_eq!(s["discrepancies"]["o2"].as_u64(), Some(flipped), "two-vote overstatements: {s}");
        }
    }
}

/// The leaked mailbox: every message `mail/truth.csv` calls altered, forged or unsigned
/// has no authentic signature in `verdicts.csv` and every authentic one has one (rows
/// joined by the message's offset in the dump); the network amplifying it is placed
/// among the spreaders, ordinary spreaders within the false-alarm budget.
fn check_leak(dir: &Path) {
    let truth = rows(&dir.join("mail/truth.csv"));
    let kinds: BTreeSet<&str> = truth.iter().map(|t| t["kind"].as_str()).collect();
    for kind in ["authentic", "altered_body", "altered_header", "forged", "unsigned"] {
        assert!(kinds.contains(kind), "no {kind} message in the dump: {kinds:?}");
    }
    let verdict_rows = rows(&dir.join("mail-out/verdicts.csv"));
    let mut verdicts: HashMap<&str, Vec<&HashMap<String, String>>> = HashMap::new();
    for r in &verdict_rows {
        verdicts.entry(r["offset"].as_str()).or_default().push(r);
    }
    let (mut injected, mut authentic) = (0, 0);
    for t in &truth {
        let found = verdicts.get(t["offset"].as_str()).unwrap_or_else(|| panic!("no verdict for {t:?}"));
        assert!(found.iter().all(|r| r["message_id"] == t["message_id"]), "{t:?} joined with {found:?}");
        let says: Vec<&str> = found.iter().map(|r| r["verdict"].as_str()).collect();
        if t["kind"] == "authentic" {
            authentic += 1;
            assert!(says.contains(&"authentic"), "authentic message flagged: {t:?}: {says:?}");
        } else {
            injected += 1;
            assert!(!says.contains(&"authentic"), "{} message not flagged: {t:?}: {says:?}", t["kind"]);
        }
    }
    assert!(injected > 0 && authentic > 0);
    // Authentic messages signed with a key rotated out before the dump: verified from the
    // archive by their date.
    let rotated: BTreeSet<String> = rows(&dir.join("mail/keys.csv"))
        .into_iter()
        .filter(|k| !k["last_seen"].is_empty())
        .map(|k| k["name"].clone())
        .collect();
    let old_key_authentic = verdict_rows
        .iter()
        .filter(|r| r["verdict"] == "authentic")
        .filter(|r| rotated.contains(&format!("{}._domainkey.{}", r["selector"], r["signing_domain"])))
        .count();
    assert!(old_key_authentic > 0, "no authentic message under a rotated-out key ({rotated:?})");

    let amplifiers: BTreeSet<String> =
        rows(&dir.join("mail/amplifiers.csv")).into_iter().map(|r| r["account"].clone()).collect();
    let spreaders = rows(&dir.join("mail-spread/spreaders.csv"));
    let placed = |amplifier: bool| {
        spreaders
            .iter()
            .filter(|s| amplifiers.contains(&s["account"]) == amplifier && !s["network"].is_empty())
            .count()
    };
    assert!(
        placed(true) as f64 >= OPERATION_FOUND * amplifiers.len() as f64,
        "{} of the {} accounts amplifying the dump placed in a network",
        placed(true),
        amplifiers.len()
    );
    let posters: BTreeSet<String> =
        rows(&dir.join("mail/posts.csv")).into_iter().map(|r| r["author_id"].clone()).collect();
    let ordinary = posters.iter().filter(|a| !amplifiers.contains(*a)).count();
    assert!(
        placed(false) as f64 <= ORGANIC_ACCOUNT_BUDGET * ordinary as f64,
        "{} ordinary spreaders of {ordinary} ordinary accounts placed in a network",
        placed(false)
    );
}

#[test]
fn small_demo_finds_every_injected_item_within_the_false_alarm_budget() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("demo");
    let store = tmp.path().join("store.db");
    // The ledger's signing key goes to the configuration folder, kept inside the test's.
    let config = tmp.path().join("config");
    crate::util::scrutineer()
        .env("XDG_CONFIG_HOME", &config)
        .env_remove("SCRUTINEER_LEDGER_KEY")
        .arg("--store")
        .arg(&store)
        .args(["--quiet", "demo", "--scale", "0.25", "--seed", "11", "--dir"])
        .arg(&dir)
        .assert()
        .success();

    // Influence: each operation mostly placed; organic accounts within budget.
    let truth = rows(&dir.join("social/truth.csv"));
    assert!(!truth.is_empty());
    let placed: BTreeSet<String> =
        rows(&dir.join("influence-out/accounts.csv")).into_iter().map(|r| r["account"].clone()).collect();
    let mut per_op: HashMap<String, (usize, usize)> = HashMap::new();
    let injected: BTreeSet<String> = truth.iter().map(|r| r["account"].clone()).collect();
    for r in &truth {
        let e = per_op.entry(r["operation"].clone()).or_default();
        e.0 += 1;
        if placed.contains(&r["account"]) {
            e.1 += 1;
        }
    }
    assert!(per_op.len() >= 4, "{per_op:?}");
    for (op, (n, found)) in &per_op {
        assert!(
            *found as f64 >= OPERATION_FOUND * *n as f64,
            "operation {op}: {found} of {n} accounts placed"
        );
    }
    let posters: BTreeSet<String> =
        rows(&dir.join("social/posts.csv")).into_iter().map(|r| r["author_id"].clone()).collect();
    let organic = posters.iter().filter(|a| !injected.contains(*a)).count();
    let organic_placed = placed.iter().filter(|a| !injected.contains(*a)).count();
    assert!(
        (organic_placed as f64) <= ORGANIC_ACCOUNT_BUDGET * organic as f64,
        "{organic_placed} of {organic} organic accounts placed in networks"
    );

    // Infrastructure: one campaign linking the actor across every targeted office, a
    // ramp-up, and no finding about an innocent source.
    let itruth = json(&dir.join("infra/truth.json"));
    let actor: BTreeSet<String> = strings(&itruth["sources"]).into_iter().collect();
    let offices: BTreeSet<String> = strings(&itruth["counties"]).into_iter().collect();
    let campaigns = json(&dir.join("infra-out/campaigns.json"));
    let linked = campaigns.as_array().expect("campaigns").iter().any(|c| {
        let srcs: BTreeSet<String> = strings(&c["sources"]).into_iter().collect();
        let offs: BTreeSet<String> = strings(&c["jurisdictions"]).into_iter().collect();
        !srcs.is_disjoint(&actor) && offices.is_subset(&offs)
    });
    assert!(linked, "no campaign links the actor across {offices:?}: {campaigns}");
    let findings = json(&dir.join("infra-out/findings.json"));
    let findings = findings.as_array().expect("findings");
    assert!(findings.iter().any(|f| f["kind"] == "activity_ramp_up"), "no ramp-up finding");
    // Every finding, whatever its kind, and every campaign member: an address named
    // anywhere in it (title, summary, scope, evidence) must be the actor's.
    let mut named = 0;
    for f in findings {
        let addresses = addresses_in(f);
        named += addresses.iter().filter(|ip| actor.contains(*ip)).count();
        let innocent: Vec<String> = addresses.into_iter().filter(|ip| !actor.contains(ip)).collect();
        assert!(
            innocent.is_empty(),
            "{} finding names the innocent sources {innocent:?}: {}",
            f["kind"],
            f["title"]
        );
    }
    assert!(named > 0, "no finding names a source address");
    for c in campaigns.as_array().expect("campaigns") {
        let members = strings(&c["sources"]);
        assert!(!members.is_empty(), "a campaign without sources: {c}");
        for s in members {
            assert!(actor.contains(&s), "campaign {} includes the innocent source {s}", c["id"]);
        }
    }
    // Each (source, office) pair of the truth has attack verdicts in events.csv, found by
    // joining the verdict rows (file, index) with the source address of that log line.
    let pairs: BTreeSet<(String, String)> = rows(&dir.join("infra/truth.csv"))
        .into_iter()
        .map(|r| (r["source"].clone(), r["jurisdiction"].clone()))
        .collect();
    assert!(!pairs.is_empty());
    let mut attacked: BTreeSet<(String, String)> = BTreeSet::new();
    let events = rows(&dir.join("infra-out/events.csv"));
    let mut lines_of: HashMap<String, Vec<String>> = HashMap::new();
    for e in events.iter().filter(|e| e["verdict"] == "attack") {
        let file = &e["file"];
        let lines = lines_of.entry(file.clone()).or_insert_with(|| {
            std::fs::read_to_string(file)
                .unwrap_or_else(|err| panic!("{file}: {err}"))
                .lines()
                .map(str::to_owned)
                .collect()
        });
        let index: usize = e["index"].parse().expect("index");
        let ip = lines[index].split_whitespace().next().unwrap_or("").to_owned();
        let office = Path::new(file)
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        attacked.insert((ip, office));
    }
    let unseen: Vec<_> = pairs.difference(&attacked).collect();
    assert!(unseen.is_empty(), "actor activity without an attack verdict: {unseen:?}");

    // Ballots: every injected item found (manufactured envelopes included), nothing else.
    let key = |r: &HashMap<String, String>| {
        let id = if r["kind"] == "double_vote" { &r["voter_id"] } else { &r["envelope_id"] };
        (r["kind"].clone(), id.clone())
    };
    let btruth: BTreeSet<(String, String)> = rows(&dir.join("ballots/truth.csv")).iter().map(key).collect();
    let bfound: BTreeSet<(String, String)> =
        rows(&dir.join("ballots-out/findings.csv")).iter().map(key).collect();
    assert!(btruth.iter().any(|k| k.0 == "unissued_envelope"), "no manufactured ballots injected");
    let missed: Vec<_> = btruth.difference(&bfound).collect();
    assert!(missed.is_empty(), "missed: {missed:?}");
    let extra: Vec<_> = bfound.difference(&btruth).collect();
    assert!(extra.is_empty(), "false findings: {extra:?}");

    check_leak(&dir);

    // The count: the honest contest is confirmed, the altered one goes to a full hand count
    // that names the paper winner.
    let ctruth = json(&dir.join("count/truth.json"));
    let audit = json(&dir.join("count/audit.json"));
    assert!(audit["draws"].as_array().is_some_and(|d| !d.is_empty()));
    let status = crate::util::scrutineer()
        .arg("--store")
        .arg(&store)
        .args(["--quiet", "--json", "audit", "status", "--audit"])
        .arg(dir.join("count/audit.json"))
        .output()
        .expect("status");
    assert!(status.status.success());
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status json");
    for c in ctruth.as_array().expect("contests") {
        let s = status
            .as_array()
            .expect("status")
            .iter()
            .find(|s| s["contest"] == c["contest"])
            .unwrap_or_else(|| panic!("no status for {}", c["contest"]));
        if c["true_winner"] == c["reported_winner"] {
            assert!(
                s["decision"] == "stop"
                    || strings(&s["sample_leaders"]) == vec![c["true_winner"].as_str().unwrap_or("")],
                "honest contest not confirmed: {s}"
            );
        } else {
            assert_eq!(s["decision"], "full_hand_count", "altered contest: {s}");
            assert_eq!(
                strings(&s["sample_leaders"]),
                vec![c["true_winner"].as_str().unwrap_or("").to_owned()]
            );
        }
    }

    check_comparison_audit(&dir, &store, &ctruth);

    // The ballots stage signed its ledger, with the key outside the ledger's folder.
    crate::util::scrutineer()
        .arg("--store")
        .arg(&store)
        .args(["--quiet", "ledger", "verify"])
        .assert()
        .success();
    assert!(config.join("scrutineer/ledger-keys").read_dir().is_ok_and(|mut d| d.next().is_some()));

    // The report was written and the store holds findings of every engine.
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report");
    assert!(html.contains("data-chart=\"influence-network\""));
    let list = crate::util::scrutineer()
        .arg("--store")
        .arg(&store)
        .args(["--json", "findings", "list", "--limit", "100000"])
        .output()
        .expect("findings list");
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).expect("findings json");
    let engines: BTreeSet<String> = listed
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["engine"].as_str().map(str::to_owned))
        .collect();
    assert!(html.contains("data-chart=\"mail-verdicts\""), "the report has no verdict chart of the dump");
    for e in ["influence", "infra", "ballots", "audit", "mail"] {
        assert!(engines.contains(e), "no {e} findings in the store: {engines:?}");
    }
}
