//! Sigma rules as SigmaHQ publishes them, evaluated over [`EventRecord`]s.
//!
//! Parsing and matching are the `rsigma` crates' (field modifiers, wildcards, keyword
//! lists, `1 of`/`all of` with wildcards, parentheses). This module finds the rule files,
//! reports a broken rule by file and line, keeps the rules written for Windows, and
//! routes each rule to its event log the way pySigma's Sysmon and Windows pipelines do
//! (the pipelines Zircolite uses): a `category` becomes its Sysmon `EventID` and the
//! Sysmon channel, a `service` its `Channel`. A `process_creation` rule is also routed to
//! Security event 4688 with its fields renamed, as pySigma's `windows_audit` pipeline
//! (Zircolite's generic rule set) routes it, so logs without Sysmon are covered too.

use std::path::{Path, PathBuf};

use rsigma_eval::event::JsonEvent;
use rsigma_eval::{Engine, parse_pipeline};
use rsigma_parser::{
    Detection, DetectionItem, Level, Modifier, SigmaRule, SigmaValue, SpecialChar, StringPart,
    parse_sigma_yaml,
};
use rustc_hash::FxHashMap;
use scrutineer_core::{Severity, Technique};

use crate::evtx::EventRecord;

/// A rule file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The file or directory could not be read.
    #[error("reading the Sigma rules at {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid Sigma rule.
    #[error("{}: not a valid Sigma rule: {message}", location(.path, *.line))]
    Syntax {
        /// The rule file.
        path: PathBuf,
        /// The line the problem is on, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The rule parsed but could not be compiled for evaluation.
    #[error("{}: Sigma rule '{title}' cannot be evaluated: {message}", .path.display())]
    Compile {
        /// The rule file.
        path: PathBuf,
        /// The rule's title.
        title: String,
        /// Why.
        message: String,
    },
    /// No rule for Windows event logs was found.
    #[error("no Sigma rules for Windows event logs in {0}")]
    NoRules(String),
}

fn location(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(l) => format!("{}:{l}", path.display()),
        None => path.display().to_string(),
    }
}

/// What one loaded rule says about its matches.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaRuleInfo {
    /// The rule's `id` (its title when it has none).
    pub id: String,
    /// The rule's title.
    pub title: String,
    /// The rule's `level`.
    pub severity: Severity,
    /// ATT&CK techniques from the rule's `attack.tNNNN` tags.
    pub techniques: Vec<Technique>,
    /// The file it came from.
    pub path: PathBuf,
}

/// Counts of a rule load.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RuleLoadStats {
    /// Rule files read.
    pub files: usize,
    /// Detection rules loaded for evaluation.
    pub rules: usize,
    /// Rules for other products (Linux, cloud, network), not evaluated on event logs.
    pub other_products: usize,
    /// Correlation (aggregation) rules, not evaluated.
    pub correlations: usize,
}

/// Compiled Sigma rules, ready to evaluate records.
pub struct SigmaRules {
    engine: Engine,
    /// The rules of [`AUDIT_CATEGORIES`] again, routed to the Security log's events.
    audit: Engine,
    by_id: FxHashMap<String, usize>,
    rules: Vec<SigmaRuleInfo>,
    /// What was loaded.
    pub stats: RuleLoadStats,
}

impl std::fmt::Debug for SigmaRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigmaRules").field("stats", &self.stats).finish_non_exhaustive()
    }
}

/// The Sysmon channel, where every Sysmon category's events are logged.
const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

/// Channels of the Windows log sources a rule's `service` names (pySigma's
/// `windows_logsource_mapping`, which Zircolite's conversions use).
const SERVICE_CHANNELS: &[(&str, &[&str])] = &[
    ("security", &["Security"]),
    ("application", &["Application"]),
    ("system", &["System"]),
    ("sysmon", &[SYSMON]),
    ("powershell", &["Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"]),
    ("powershell-classic", &["Windows PowerShell"]),
    ("taskscheduler", &["Microsoft-Windows-TaskScheduler/Operational"]),
    ("wmi", &["Microsoft-Windows-WMI-Activity/Operational"]),
    ("dns-server", &["DNS Server"]),
    ("dns-server-audit", &["Microsoft-Windows-DNS-Server/Audit"]),
    ("dns-server-analytic", &["Microsoft-Windows-DNS-Server/Analytical"]),
    ("driver-framework", &["Microsoft-Windows-DriverFrameworks-UserMode/Operational"]),
    ("ntlm", &["Microsoft-Windows-NTLM/Operational"]),
    ("dhcp", &["Microsoft-Windows-DHCP-Server/Operational"]),
    ("msexchange-management", &["MSExchange Management"]),
    (
        "applocker",
        &[
            "Microsoft-Windows-AppLocker/MSI and Script",
            "Microsoft-Windows-AppLocker/EXE and DLL",
            "Microsoft-Windows-AppLocker/Packaged app-Deployment",
            "Microsoft-Windows-AppLocker/Packaged app-Execution",
        ],
    ),
    ("printservice-admin", &["Microsoft-Windows-PrintService/Admin"]),
    ("printservice-operational", &["Microsoft-Windows-PrintService/Operational"]),
    ("codeintegrity-operational", &["Microsoft-Windows-CodeIntegrity/Operational"]),
    ("smbclient-security", &["Microsoft-Windows-SmbClient/Security"]),
    ("firewall-as", &["Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"]),
    ("bits-client", &["Microsoft-Windows-Bits-Client/Operational"]),
    ("windefend", &["Microsoft-Windows-Windows Defender/Operational"]),
    (
        "terminalservices-localsessionmanager",
        &["Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"],
    ),
    ("microsoft-servicebus-client", &["Microsoft-ServiceBus-Client"]),
    ("ldap_debug", &["Microsoft-Windows-LDAP-Client/Debug"]),
    (
        "security-mitigations",
        &[
            "Microsoft-Windows-Security-Mitigations/Kernel Mode",
            "Microsoft-Windows-Security-Mitigations/User Mode",
        ],
    ),
    ("diagnosis-scripted", &["Microsoft-Windows-Diagnosis-Scripted/Operational"]),
    ("shell-core", &["Microsoft-Windows-Shell-Core/Operational"]),
    ("openssh", &["OpenSSH/Operational"]),
    ("bitlocker", &["Microsoft-Windows-BitLocker/BitLocker Management"]),
    ("vhdmp", &["Microsoft-Windows-VHDMP/Operational"]),
    ("appxdeployment-server", &["Microsoft-Windows-AppXDeploymentServer/Operational"]),
    ("lsa-server", &["Microsoft-Windows-LSA/Operational"]),
    ("appxpackaging-om", &["Microsoft-Windows-AppxPackaging/Operational"]),
    ("dns-client", &["Microsoft-Windows-DNS Client Events/Operational"]),
    ("appmodel-runtime", &["Microsoft-Windows-AppModel-Runtime/Admin"]),
    ("capi2", &["Microsoft-Windows-CAPI2/Operational"]),
    (
        "certificateservicesclient-lifecycle-system",
        &["Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"],
    ),
];

/// Generic categories: the service whose channels log them and their event ids
/// (pySigma's Sysmon pipeline and its Windows pipeline's PowerShell categories).
const CATEGORY_EVENTS: &[(&str, &str, &[u32])] = &[
    ("process_creation", "sysmon", &[1]),
    ("file_change", "sysmon", &[2]),
    ("network_connection", "sysmon", &[3]),
    ("sysmon_status", "sysmon", &[4, 16]),
    ("process_termination", "sysmon", &[5]),
    ("driver_load", "sysmon", &[6]),
    ("image_load", "sysmon", &[7]),
    ("create_remote_thread", "sysmon", &[8]),
    ("raw_access_thread", "sysmon", &[9]),
    ("process_access", "sysmon", &[10]),
    ("file_event", "sysmon", &[11]),
    ("registry_add", "sysmon", &[12]),
    ("registry_delete", "sysmon", &[12]),
    ("registry_set", "sysmon", &[13]),
    ("registry_rename", "sysmon", &[14]),
    ("registry_event", "sysmon", &[12, 13, 14]),
    ("create_stream_hash", "sysmon", &[15]),
    ("pipe_created", "sysmon", &[17, 18]),
    ("wmi_event", "sysmon", &[19, 20, 21]),
    ("dns_query", "sysmon", &[22]),
    ("file_delete", "sysmon", &[23]),
    ("clipboard_capture", "sysmon", &[24]),
    ("process_tampering", "sysmon", &[25]),
    ("file_delete_detected", "sysmon", &[26]),
    ("file_block_executable", "sysmon", &[27]),
    ("file_block_shredding", "sysmon", &[28]),
    ("file_executable_detected", "sysmon", &[29]),
    ("sysmon_error", "sysmon", &[255]),
    ("ps_module", "powershell", &[4103]),
    ("ps_script", "powershell", &[4104]),
    ("ps_classic_start", "powershell-classic", &[400]),
    ("ps_classic_provider_start", "powershell-classic", &[600]),
    ("ps_classic_script", "powershell-classic", &[800]),
];

/// Generic categories the Security log also records, with its event id: pySigma's
/// `windows_audit` pipeline (Zircolite's generic rule set). That pipeline also sends the
/// registry categories to event 4657, on condition that `OperationType` reads "New
/// registry value created" or "Existing registry value modified"; event logs hold that
/// field as the message ids `%%1904`/`%%1905`, so the condition never holds on EVTX
/// records and those categories are not routed here.
const AUDIT_CATEGORIES: &[(&str, u32)] = &[("process_creation", 4688)];

/// Sysmon's field names and the Security log's for the same thing, as the `windows_audit`
/// pipeline (and Hayabusa's 4688 rule conversion) renames them. Sysmon's `User`
/// (`DOMAIN\user`, `NT AUTHORITY\SYSTEM`) is not renamed: 4688's `SubjectUserName` holds
/// the bare name, and the machine account for SYSTEM, so rules comparing `User` values
/// would not mean the same on it; fields 4688 does not record (`OriginalFileName`,
/// `Hashes`, `ParentCommandLine`, `CurrentDirectory`, ...) are absent from its records.
const AUDIT_FIELDS: &[(&str, &str)] = &[
    ("Image", "NewProcessName"),
    ("ParentImage", "ParentProcessName"),
    ("Details", "NewValue"),
    ("LogonId", "SubjectLogonId"),
];

fn channels_of(service: &str) -> &'static [&'static str] {
    SERVICE_CHANNELS.iter().find(|(s, _)| *s == service).map(|(_, c)| *c).unwrap_or(&[])
}

/// The routing pipeline, written in the pipeline language `rsigma` reads: a rule's
/// category adds its channels and event ids, a rule's service its channels. (rsigma's
/// own `sysmon` pipeline is not used: it moves every Windows rule to the Sysmon
/// service, Security rules included.)
fn windows_pipeline_yaml() -> String {
    let mut y = String::from("name: scrutineer_windows_logsources\npriority: 10\ntransformations:\n");
    let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let channel_list = |y: &mut String, channels: &[&str]| {
        y.push_str("      Channel:\n");
        for c in channels {
            y.push_str(&format!("        - {}\n", quoted(c)));
        }
    };
    for (category, service, ids) in CATEGORY_EVENTS {
        y.push_str(&format!("  - id: category_{category}\n    type: add_condition\n    conditions:\n"));
        channel_list(&mut y, channels_of(service));
        y.push_str("      EventID:\n");
        for id in *ids {
            y.push_str(&format!("        - {id}\n"));
        }
        y.push_str(&format!(
            "    rule_conditions:\n      - type: logsource\n        product: windows\n        category: {category}\n"
        ));
    }
    for (service, channels) in SERVICE_CHANNELS {
        y.push_str(&format!("  - id: service_{service}\n    type: add_condition\n    conditions:\n"));
        channel_list(&mut y, channels);
        y.push_str(&format!(
            "    rule_conditions:\n      - type: logsource\n        product: windows\n        service: {service}\n"
        ));
    }
    y
}

/// The Security-log routing of [`AUDIT_CATEGORIES`], in the same pipeline language:
/// the Security channel and the category's event id added, the fields renamed.
fn audit_pipeline_yaml() -> String {
    let mut y = String::from("name: scrutineer_windows_audit\npriority: 10\ntransformations:\n");
    for (category, id) in AUDIT_CATEGORIES {
        y.push_str(&format!(
            "  - id: audit_{category}\n    type: add_condition\n    conditions:\n      Channel:\n        - 'Security'\n      EventID:\n        - {id}\n    rule_conditions:\n      - type: logsource\n        product: windows\n        category: {category}\n"
        ));
    }
    y.push_str("  - id: audit_fields\n    type: field_name_mapping\n    mapping:\n");
    for (sysmon, security) in AUDIT_FIELDS {
        y.push_str(&format!("      {sysmon}: {security}\n"));
    }
    y
}

fn severity(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Critical) => Severity::Critical,
        Some(Level::High) => Severity::High,
        Some(Level::Medium) => Severity::Medium,
        Some(Level::Low) => Severity::Low,
        Some(Level::Informational) | None => Severity::Info,
    }
}

/// ATT&CK technique ids from Sigma tags: `attack.t1059.001` is `T1059.001`.
pub fn attack_techniques(tags: &[String]) -> Vec<Technique> {
    let mut out: Vec<Technique> = Vec::new();
    for tag in tags {
        let Some(rest) = tag.strip_prefix("attack.") else { continue };
        let mut chars = rest.chars();
        let starts_t = matches!(chars.next(), Some('t' | 'T'));
        let digits = rest.len() >= 5 && rest[1..5].bytes().all(|b| b.is_ascii_digit());
        if starts_t && digits {
            let t = Technique::attack(&rest.to_ascii_uppercase());
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// Rewrites `startswith`/`endswith` items whose values hold wildcards as plain
/// (anchored) matches with a leading or trailing `*`, which mean the same. rsigma 0.23
/// anchors such patterns at the wrong end (`endswith: '1?'` becomes `^1.`), so SigmaHQ
/// rules like "AccessMask ends with 1?" would never match; the rewritten form compiles
/// to a correctly anchored pattern.
fn anchor_wildcards(rule: &mut SigmaRule) {
    for detection in rule.detection.named.values_mut() {
        anchor_detection(detection);
    }
}

fn anchor_detection(d: &mut Detection) {
    match d {
        Detection::AllOf(items) => items.iter_mut().for_each(anchor_item),
        Detection::AnyOf(ds) | Detection::And(ds) => ds.iter_mut().for_each(anchor_detection),
        _ => {}
    }
}

fn anchor_item(item: &mut DetectionItem) {
    let mods = &item.field.modifiers;
    let starts = mods.contains(&Modifier::StartsWith);
    let ends = mods.contains(&Modifier::EndsWith);
    let only_simple = mods
        .iter()
        .all(|m| matches!(m, Modifier::StartsWith | Modifier::EndsWith | Modifier::All | Modifier::Cased));
    let has_wildcard = item.values.iter().any(|v| match v {
        SigmaValue::String(s) => s.parts.iter().any(|p| matches!(p, StringPart::Special(_))),
        _ => false,
    });
    let all_strings = item.values.iter().all(|v| matches!(v, SigmaValue::String(_)));
    if starts == ends || !only_simple || !has_wildcard || !all_strings {
        return;
    }
    item.field.modifiers.retain(|m| !matches!(m, Modifier::StartsWith | Modifier::EndsWith));
    for v in &mut item.values {
        if let SigmaValue::String(s) = v {
            let star = StringPart::Special(SpecialChar::WildcardMulti);
            if ends {
                s.parts.insert(0, star);
                s.original.insert(0, '*');
            } else {
                s.parts.push(star);
                s.original.push('*');
            }
        }
    }
}

/// Rule files under `paths`: files as given, directories searched for `.yml`/`.yaml`.
fn rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, RuleError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| RuleError::Io { path: p.clone(), source })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found)?;
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), RuleError> {
    let io = |source| RuleError::Io { path: dir.to_owned(), source };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}

/// The line a parser message points at: its own `line N`, or for a condition the line
/// of the rule's `condition:` key.
fn line_of(message: &str, text: &str) -> Option<usize> {
    if let Some(i) = message.find("line ") {
        let digits: String = message[i + 5..].chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse() {
            return Some(n);
        }
    }
    let lower = message.to_ascii_lowercase();
    let key = ["condition", "detection", "logsource", "title"].into_iter().find(|k| lower.contains(k))?;
    text.lines().position(|l| l.trim_start().starts_with(&format!("{key}:"))).map(|i| i + 1)
}

/// Parses one rule file's text (named `path` in errors) into its detection rules.
pub fn parse_rule_text(path: &Path, text: &str) -> Result<rsigma_parser::SigmaCollection, RuleError> {
    let syntax =
        |message: String| RuleError::Syntax { path: path.to_owned(), line: line_of(&message, text), message };
    let collection = parse_sigma_yaml(text).map_err(|e| syntax(e.to_string()))?;
    if let Some(first) = collection.errors.first() {
        return Err(syntax(first.clone()));
    }
    Ok(collection)
}

impl SigmaRules {
    /// Loads every rule under `paths` (files, or directories searched recursively).
    /// A broken rule file is an error naming it; rules for other products and
    /// correlation rules are counted and left out.
    pub fn load(paths: &[PathBuf]) -> Result<SigmaRules, RuleError> {
        let files = rule_files(paths)?;
        let mut engine = Engine::new();
        let windows = parse_pipeline(&windows_pipeline_yaml()).map_err(|e| RuleError::Compile {
            path: PathBuf::from("<built-in Windows log source pipeline>"),
            title: String::new(),
            message: e.to_string(),
        })?;
        engine.add_pipeline(windows);
        let mut audit = Engine::new();
        let audit_pipeline = parse_pipeline(&audit_pipeline_yaml()).map_err(|e| RuleError::Compile {
            path: PathBuf::from("<built-in Windows audit pipeline>"),
            title: String::new(),
            message: e.to_string(),
        })?;
        audit.add_pipeline(audit_pipeline);
        let mut rules = SigmaRules {
            engine,
            audit,
            by_id: FxHashMap::default(),
            rules: Vec::new(),
            stats: RuleLoadStats::default(),
        };
        for path in &files {
            let text = std::fs::read_to_string(path)
                .map_err(|source| RuleError::Io { path: path.clone(), source })?;
            let collection = parse_rule_text(path, &text)?;
            rules.stats.files += 1;
            rules.stats.correlations += collection.correlations.len();
            for rule in &collection.rules {
                rules.add(path, rule)?;
            }
        }
        if rules.rules.is_empty() {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            return Err(RuleError::NoRules(names.join(", ")));
        }
        Ok(rules)
    }

    fn add(&mut self, path: &Path, rule: &SigmaRule) -> Result<(), RuleError> {
        let windows = rule.logsource.product.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("windows"));
        if !windows {
            self.stats.other_products += 1;
            return Ok(());
        }
        let id = rule.id.clone().unwrap_or_else(|| rule.title.clone());
        if self.by_id.contains_key(&id) {
            // The same rule given twice (a file and its directory): evaluated once.
            return Ok(());
        }
        let mut rule = rule.clone();
        anchor_wildcards(&mut rule);
        let compile = |e: rsigma_eval::EvalError| RuleError::Compile {
            path: path.to_owned(),
            title: rule.title.clone(),
            message: e.to_string(),
        };
        self.engine.add_rule(&rule).map_err(compile)?;
        let category = rule.logsource.category.as_deref().unwrap_or("");
        if AUDIT_CATEGORIES.iter().any(|(c, _)| c.eq_ignore_ascii_case(category)) {
            self.audit.add_rule(&rule).map_err(compile)?;
        }
        self.by_id.insert(id.clone(), self.rules.len());
        self.rules.push(SigmaRuleInfo {
            id,
            title: rule.title.clone(),
            severity: severity(rule.level),
            techniques: attack_techniques(&rule.tags),
            path: path.to_owned(),
        });
        self.stats.rules += 1;
        Ok(())
    }

    /// How many of the loaded rules are also evaluated on Security audit events
    /// (`process_creation` rules on event 4688).
    pub fn audit_routed(&self) -> usize {
        self.audit.rule_count()
    }

    /// The loaded rules, in load order.
    pub fn rules(&self) -> &[SigmaRuleInfo] {
        &self.rules
    }

    /// Indexes into [`SigmaRules::rules`] of the rules `record` matches.
    pub fn matches(&self, record: &EventRecord) -> Vec<usize> {
        let value = serde_json::Value::Object(record.fields.clone());
        let event = JsonEvent::borrow(&value);
        // Every rule of the audit engine carries the pipeline's Security channel and event
        // id conditions, so other records are not given to it at all.
        let audited = record.channel.eq_ignore_ascii_case("Security")
            && AUDIT_CATEGORIES.iter().any(|(_, id)| *id == record.event_id);
        let audit = if audited { self.audit.evaluate(&event) } else { Vec::new() };
        let mut hits: Vec<usize> = self
            .engine
            .evaluate(&event)
            .into_iter()
            .chain(audit)
            .filter_map(|r| {
                let key = r.header.rule_id.unwrap_or(r.header.rule_title);
                self.by_id.get(&key).copied()
            })
            .collect();
        hits.sort_unstable();
        hits.dedup();
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use serde_json::json;

    fn record(fields: serde_json::Value) -> EventRecord {
        EventRecord::from_json(1, DateTime::<Utc>::default(), &json!({"Event": fields}))
    }

    fn load(dir: &Path, name: &str, text: &str) -> Result<SigmaRules, RuleError> {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write rule");
        SigmaRules::load(&[p])
    }

    const PROC_RULE: &str = "title: Whoami\nid: r-1\nlogsource:\n  product: windows\n  category: process_creation\ntags:\n  - attack.discovery\n  - attack.t1033\nlevel: high\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  filter:\n    User|contains: 'SYSTEM'\n  condition: sel and not filter\n";

    #[test]
    fn a_process_rule_matches_sysmon_event_one_and_not_other_ids() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rules = load(dir.path(), "r.yml", PROC_RULE).expect("load");
        assert_eq!(rules.rules()[0].techniques, vec![Technique::attack("T1033")]);
        assert_eq!(rules.rules()[0].severity, Severity::High);
        let hit = record(json!({"System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational"},
            "EventData": {"Image": "C:\\Windows\\System32\\WHOAMI.EXE", "User": "bob"}}));
        assert_eq!(rules.matches(&hit), vec![0]);
        let filtered =
            record(json!({"System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational"},
            "EventData": {"Image": "C:\\whoami.exe", "User": "NT AUTHORITY\\SYSTEM"}}));
        assert!(rules.matches(&filtered).is_empty());
        let other_event =
            record(json!({"System": {"EventID": 11, "Channel": "Microsoft-Windows-Sysmon/Operational"},
            "EventData": {"Image": "C:\\whoami.exe"}}));
        assert!(rules.matches(&other_event).is_empty());
    }

    #[test]
    fn a_process_rule_matches_security_4688_with_the_audit_field_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = "title: Child of Word\nid: w-1\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    ParentImage|endswith: '\\winword.exe'\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: '/c'\n  condition: sel\n";
        let rules = load(dir.path(), "w.yml", text).expect("load");
        assert_eq!(rules.audit_routed(), 1);
        let process = |channel: &str, id: u32, data: serde_json::Value| {
            record(json!({"System": {"EventID": id, "Channel": channel}, "EventData": data}))
        };
        let audit_fields = json!({"ParentProcessName": "C:\\Office\\WINWORD.EXE",
            "NewProcessName": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami"});
        let sysmon_fields = json!({"ParentImage": "C:\\Office\\WINWORD.EXE",
            "Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami"});
        assert_eq!(rules.matches(&process("Security", 4688, audit_fields.clone())), vec![0]);
        assert_eq!(rules.matches(&process(SYSMON, 1, sysmon_fields.clone())), vec![0]);
        // Each log with its own field names, and only on its own event.
        assert!(rules.matches(&process("Security", 4688, sysmon_fields)).is_empty());
        assert!(rules.matches(&process(SYSMON, 1, audit_fields.clone())).is_empty());
        assert!(rules.matches(&process("Security", 4689, audit_fields.clone())).is_empty());
        assert!(rules.matches(&process("System", 4688, audit_fields)).is_empty());
    }

    #[test]
    fn a_rule_on_a_field_4688_lacks_does_not_match_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = "title: Renamed\nid: o-1\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    OriginalFileName: 'psexec.c'\n  condition: sel\n";
        let rules = load(dir.path(), "o.yml", text).expect("load");
        let security = record(json!({"System": {"EventID": 4688, "Channel": "Security"},
            "EventData": {"NewProcessName": "C:\\psexec.exe"}}));
        assert!(rules.matches(&security).is_empty());
        let service = "title: Cleared\nid: c-2\nlogsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n    EventID: 4688\n  condition: sel\n";
        let rules = load(dir.path(), "s.yml", service).expect("load");
        assert_eq!(rules.audit_routed(), 0, "only process_creation rules are routed to 4688");
    }

    #[test]
    fn a_service_rule_is_routed_to_its_channel() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = "title: Cleared\nid: c-1\nlogsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n    EventID: 1102\n  condition: sel\n";
        let rules = load(dir.path(), "c.yml", text).expect("load");
        let security = record(json!({"System": {"EventID": 1102, "Channel": "Security"}}));
        let system = record(json!({"System": {"EventID": 1102, "Channel": "System"}}));
        assert_eq!(rules.matches(&security), vec![0]);
        assert!(rules.matches(&system).is_empty());
    }

    #[test]
    fn a_broken_condition_names_the_file_and_the_condition_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = "title: Bad\nlogsource:\n  product: windows\ndetection:\n  sel:\n    a: b\n  condition: sel and (\n";
        let err = load(dir.path(), "bad.yml", text).expect_err("broken condition");
        let shown = err.to_string();
        assert!(shown.contains("bad.yml:7"), "{shown}");
    }

    #[test]
    fn broken_yaml_names_the_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text =
            "title: Bad\nlogsource:\n  product: windows\ndetection:\n  sel: [unclosed\n  condition: sel\n";
        let err = load(dir.path(), "yaml.yml", text).expect_err("broken yaml");
        assert!(matches!(err, RuleError::Syntax { line: Some(_), .. }), "{err}");
        assert!(err.to_string().contains("yaml.yml"), "{err}");
    }

    #[test]
    fn single_character_wildcards_match_inside_modifiers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = "title: Mask\nid: m-1\nlogsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n    EventID: 4662\n    AccessMask|endswith: '1?'\n  condition: sel\n";
        let rules = load(dir.path(), "m.yml", text).expect("load");
        let with = |mask: &str| {
            record(
                json!({"System": {"EventID": 4662, "Channel": "Security"}, "EventData": {"AccessMask": mask}}),
            )
        };
        assert_eq!(rules.matches(&with("0x10")), vec![0]);
        assert!(rules.matches(&with("0x100")).is_empty());
        let text = "title: Prefix\nid: p-1\nlogsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n    AccessMask|startswith: '0x?0'\n  condition: sel\n";
        let rules = load(dir.path(), "p.yml", text).expect("load");
        assert_eq!(rules.matches(&with("0x100")), vec![0]);
        assert!(rules.matches(&with("10x10")).is_empty());
    }

    #[test]
    fn tags_without_a_technique_give_none() {
        let tags =
            vec!["attack.execution".to_owned(), "attack.t1059.001".to_owned(), "cve.2021-1".to_owned()];
        assert_eq!(attack_techniques(&tags), vec![Technique::attack("T1059.001")]);
    }
}
