//! The `sources` evidence of the built-in logon findings (what the binary joins with the
//! infra engine's findings), against the logon records of real EVTX samples read on
//! their own.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use scrutineer_core::Engine;
use scrutineer_hunt::{HuntConfig, hunt_evtx, read_evtx, source_accounts, source_addresses};

fn shared(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/hunt").join(rel);
    assert!(p.exists(), "shared data missing: {} (see ../shared/data/README.md)", p.display());
    p
}

#[test]
fn remote_logon_findings_name_each_source_address_and_its_accounts() {
    let samples = [
        "evtx-to-mitre/TA0003-Persistence/T1098.xxx-Account manipulation/ID4724-5145-password reset with setNTLM (Mimikatz).evtx",
        "evtx-to-mitre/TA0006-Credential Access/T1003-Credential dumping/ID4688-4663-4656-LSASS dump with LSASSY (process).evtx",
    ];
    let files: Vec<PathBuf> = samples.iter().map(|s| shared(s)).collect();
    // Successful network and RDP logons from a remote address, per address and computer.
    let mut expected: BTreeMap<(String, IpAddr), BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        read_evtx(f, |r| {
            let Ok(ip) = r.text("IpAddress").parse::<IpAddr>() else { return };
            let remote = !ip.is_loopback() && !ip.is_unspecified();
            if r.event_id == 4624 && matches!(r.text("LogonType").as_str(), "3" | "10") && remote {
                let accounts = expected.entry((r.computer.clone(), ip)).or_default();
                let account = r.text("TargetUserName").to_ascii_lowercase();
                if !account.is_empty() && account != "-" {
                    accounts.insert(account);
                }
            }
        })
        .expect("read");
    }
    assert!(!expected.is_empty(), "the samples log remote logons");
    let report = hunt_evtx(&files, &HuntConfig { sigma: None, builtins: true });
    let mut found: BTreeMap<(String, IpAddr), BTreeSet<String>> = BTreeMap::new();
    for f in report.findings.iter().filter(|f| f.kind == "remote_logon_source") {
        let addresses = source_addresses(f);
        assert_eq!(addresses.len(), 1, "{}: {addresses:?}", f.title);
        let computer = f.scope.clone().expect("scope");
        found.insert((computer, addresses[0]), source_accounts(f).into_iter().collect());
    }
    assert_eq!(found, expected);
    // Findings about no logon name no address.
    for f in report.findings.iter().filter(|f| f.kind == "log_cleared" || f.kind == "service_installed") {
        assert!(source_addresses(f).is_empty(), "{}", f.title);
    }
    // Only hunt findings are read this way.
    let mut other = report.findings[0].clone();
    other.engine = Engine::Infra;
    assert!(source_addresses(&other).is_empty() && source_accounts(&other).is_empty());
}
