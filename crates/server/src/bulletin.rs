//! The public bulletin (`scrutineer bulletin --tlp clear`): a short summary for the
//! public and the press.
//!
//! Written to inform without feeding distrust, it describes only what the office has
//! cleared for that audience, in words and without the engines' free text:
//! - a finding is described individually only if its TLP marking (set at triage, else
//!   its engine's default) is at or below the bulletin's, and it is not marked a false
//!   positive; everything else is counted per engine, never described;
//! - a described finding is told by its kind, engine, severity, dates, jurisdiction and
//!   status, with its confidence in words (the ICD 203 scale): never its title,
//!   summary or evidence, which can name voters, ordinary accounts' handles or
//!   addresses;
//! - a section says what is not known: engines that examined nothing, findings still
//!   under investigation, and that no finding by itself says a result was changed.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use scrutineer_core::{Engine, Finding, Severity};
use scrutineer_store::{FindingFilter, Store, StoreError, UNTRIAGED};

use crate::pages::esc;
use crate::taxii::tlp_rank;
use crate::triage::{TLP_LEVELS, default_tlp};

/// The bulletin's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulletinFormat {
    /// Markdown, for a press release or a web page's source.
    Markdown,
    /// A self-contained HTML page.
    Html,
}

/// Confidence in the words of the ICD 203 probability scale.
pub fn confidence_in_words(confidence: f64) -> &'static str {
    match confidence {
        c if c >= 0.95 => "almost certain",
        c if c >= 0.80 => "very likely",
        c if c >= 0.55 => "likely",
        c if c >= 0.45 => "roughly even chance",
        c if c >= 0.20 => "unlikely",
        _ => "very unlikely",
    }
}

fn engine_words(engine: Engine) -> &'static str {
    match engine {
        Engine::Influence => "online influence activity",
        Engine::Infra => "activity against election websites and systems",
        Engine::Ballots => "mail-ballot processing",
        Engine::Audit => "post-election audits",
        Engine::Hunt => "office computers",
        Engine::Mail => "leaked or forged e-mail",
    }
}

fn status_words(status: &str) -> &'static str {
    match status {
        "acknowledged" => "acknowledged, not yet investigated",
        "investigating" => "under investigation",
        "escalated" => "referred to the responsible authorities",
        "resolved" => "resolved",
        _ => "under review",
    }
}

/// One line of the bulletin.
struct Item {
    engine: Engine,
    kind: String,
    severity: Severity,
    confidence: f64,
    when: Option<(DateTime<Utc>, DateTime<Utc>)>,
    scope: Option<String>,
    status: String,
}

/// What the bulletin says, read from the store.
pub struct Bulletin {
    tlp: String,
    generated_at: DateTime<Utc>,
    items: Vec<Item>,
    /// Per engine: findings not described (above the bulletin's marking).
    withheld: BTreeMap<Engine, usize>,
    false_positives: usize,
    examined: Vec<Engine>,
}

impl Bulletin {
    /// Reads the store for a bulletin at `tlp` (`clear`, `green`, …).
    pub fn read(store: &Store, tlp: &str) -> Result<Bulletin, StoreError> {
        let max_rank = tlp_rank(tlp);
        let findings: Vec<Finding> = store.findings(&FindingFilter::default())?;
        let triage = store.triage_all()?;
        let mut items = Vec::new();
        let mut withheld = BTreeMap::new();
        let mut false_positives = 0;
        for f in &findings {
            let t = triage.get(&f.id.0);
            let status = t.map(|t| t.status.clone()).unwrap_or_else(|| UNTRIAGED.to_owned());
            if status == "false_positive" {
                false_positives += 1;
                continue;
            }
            let level = t.and_then(|t| t.tlp.clone()).unwrap_or_else(|| default_tlp(f.engine).to_owned());
            if tlp_rank(&level) > max_rank {
                *withheld.entry(f.engine).or_insert(0) += 1;
                continue;
            }
            items.push(Item {
                engine: f.engine,
                kind: f.kind.replace('_', " "),
                severity: f.severity,
                confidence: f.confidence,
                when: f.time_span.map(|s| (s.start, s.end)),
                // A ballot finding's scope can name a file; only engines whose scope is a
                // jurisdiction or a platform keep it.
                scope: f.scope.clone().filter(|_| matches!(f.engine, Engine::Infra | Engine::Audit)),
                status,
            });
        }
        let mut examined = Vec::new();
        for e in Engine::ALL {
            if store.latest_finished_run(e)?.is_some() {
                examined.push(e);
            }
        }
        Ok(Bulletin {
            tlp: tlp.to_owned(),
            generated_at: Utc::now(),
            items,
            withheld,
            false_positives,
            examined,
        })
    }

    /// The bulletin's lines, as (heading, paragraphs) sections, plain text.
    fn sections(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        let mut summary = vec![format!(
            "This bulletin was prepared on {} from the election office's monitoring. It describes only what the office has cleared for publication (TLP:{}).",
            self.generated_at.format("%-d %B %Y"),
            self.tlp.to_ascii_uppercase()
        )];
        if self.items.is_empty() {
            summary.push("No finding has been cleared for publication at this time.".into());
        } else {
            summary.push(format!("{} finding(s) are described below.", self.items.len()));
        }
        out.push(("Summary".to_owned(), summary));
        let mut by_engine: BTreeMap<Engine, Vec<&Item>> = BTreeMap::new();
        for i in &self.items {
            by_engine.entry(i.engine).or_default().push(i);
        }
        for (engine, items) in by_engine {
            let mut lines = Vec::new();
            for i in items.iter().take(20) {
                let when = i
                    .when
                    .map(|(a, b)| format!(" between {} and {}", a.format("%-d %B %Y"), b.format("%-d %B %Y")))
                    .unwrap_or_default();
                let scope = i.scope.as_deref().map(|s| format!(" in {s}")).unwrap_or_default();
                let kind = esc_plain(&i.kind);
                let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) { "An" } else { "A" };
                lines.push(format!(
                    "{article} {kind} signal of {}{when}{scope}: assessed as {} (severity {}); {}.",
                    engine_words(engine),
                    confidence_in_words(i.confidence),
                    i.severity.as_str(),
                    status_words(&i.status)
                ));
            }
            if items.len() > 20 {
                lines.push(format!(
                    "{} further signals of the same kind are not listed one by one.",
                    items.len() - 20
                ));
            }
            let mut heading = engine_words(engine).to_owned();
            if let Some(first) = heading.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            out.push((heading, lines));
        }
        let mut unknown = vec![
            "A signal is a pattern worth a closer look, not proof of wrongdoing, and no finding here by itself means that any result was changed. Results are checked by the canvass and by audits.".to_owned(),
        ];
        let withheld: usize = self.withheld.values().sum();
        if withheld > 0 {
            let parts: Vec<String> =
                self.withheld.iter().map(|(e, n)| format!("{n} about {}", engine_words(*e))).collect();
            unknown.push(format!(
                "{withheld} other finding(s) are still being reviewed or concern individuals and are not described here ({}).",
                parts.join(", ")
            ));
        }
        if self.false_positives > 0 {
            unknown.push(format!(
                "{} signal(s) were checked and found to be false alarms.",
                self.false_positives
            ));
        }
        let not_examined: Vec<&str> =
            Engine::ALL.iter().filter(|e| !self.examined.contains(e)).map(|e| engine_words(*e)).collect();
        if !not_examined.is_empty() {
            unknown.push(format!(
                "This bulletin says nothing about {}: no data on it was examined.",
                not_examined.join(", ")
            ));
        }
        unknown.push(
            "Who is behind an activity is not stated unless the responsible authorities have said so.".into(),
        );
        out.push(("What is not known".to_owned(), unknown));
        out
    }

    /// The bulletin in `format`.
    pub fn render(&self, format: BulletinFormat) -> String {
        let title = format!("Election monitoring bulletin (TLP:{})", self.tlp.to_ascii_uppercase());
        let sections = self.sections();
        match format {
            BulletinFormat::Markdown => {
                let mut out = format!("# {title}\n\n");
                for (heading, lines) in sections {
                    out.push_str(&format!("## {heading}\n\n"));
                    for l in lines {
                        out.push_str(&format!("- {l}\n"));
                    }
                    out.push('\n');
                }
                out.push_str(&format!(
                    "_Generated {}._\n",
                    self.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true)
                ));
                out
            }
            BulletinFormat::Html => {
                let mut body = String::new();
                for (heading, lines) in sections {
                    body.push_str(&format!("<section><h2>{}</h2><ul>", esc(&heading)));
                    for l in lines {
                        body.push_str(&format!("<li>{}</li>", esc(&l)));
                    }
                    body.push_str("</ul></section>");
                }
                crate::pages::page(&title, "", &body)
            }
        }
    }
}

/// Kinds are engine identifiers (`coordinated_network`); keep them to plain words.
fn esc_plain(kind: &str) -> String {
    kind.chars().filter(|c| c.is_ascii_alphanumeric() || *c == ' ' || *c == '-').collect()
}

/// Whether `tlp` names a TLP 2.0 level (`clear`, `green`, `amber`, `amber+strict`, `red`,
/// with or without `TLP:`).
pub fn parse_tlp(tlp: &str) -> Option<&'static str> {
    let t = tlp.trim().to_ascii_lowercase();
    let t = t.strip_prefix("tlp:").unwrap_or(&t).to_owned();
    TLP_LEVELS.iter().copied().find(|l| *l == t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrutineer_core::Evidence;
    use scrutineer_store::TriageChange;

    #[test]
    fn only_cleared_findings_are_described_and_never_with_their_text() {
        let mut store = Store::open_in_memory().expect("store");
        let network = Finding::new(
            Engine::Influence,
            "coordinated_network",
            "n1",
            "network of @jane_doe_1984 and @bob",
        )
        .summary("accounts @jane_doe_1984, @bob retweeted in sync")
        .confidence(0.9)
        .severity(Severity::High);
        let voter = Finding::new(Engine::Ballots, "duplicate_return", "v", "Duplicate return: voter G123")
            .evidence(Evidence::new("envelope", "voter G123", serde_json::json!({"voter_id": "G123"})));
        let noise =
            Finding::new(Engine::Influence, "coordinated_network", "n2", "network of @alice").confidence(0.3);
        store.put_findings(None, &[network.clone(), voter, noise.clone()]).expect("put");
        let bulletin = Bulletin::read(&store, "clear").expect("read").render(BulletinFormat::Markdown);
        assert!(bulletin.contains("No finding has been cleared"), "{bulletin}");
        assert!(bulletin.contains("3 other finding(s)"), "{bulletin}");

        let clear = TriageChange {
            tlp: Some(Some("clear".into())),
            status: Some("investigating".into()),
            ..Default::default()
        };
        store.apply_triage(&network.id.0, "ana", &clear).expect("triage");
        let fp = TriageChange {
            tlp: Some(Some("clear".into())),
            status: Some("false_positive".into()),
            ..Default::default()
        };
        store.apply_triage(&noise.id.0, "ana", &fp).expect("triage");
        let b = Bulletin::read(&store, "clear").expect("read");
        for format in [BulletinFormat::Markdown, BulletinFormat::Html] {
            let text = b.render(format);
            assert!(text.contains("coordinated network signal of online influence activity"), "{text}");
            assert!(text.contains("very likely") && text.contains("under investigation"), "{text}");
            assert!(!text.contains("jane_doe") && !text.contains("@bob") && !text.contains("G123"), "{text}");
            assert!(text.contains("1 signal(s) were checked and found to be false alarms"), "{text}");
            assert!(text.contains("1 other finding(s)"), "{text}");
            assert!(text.contains("What is not known"));
        }
        assert_eq!(parse_tlp("TLP:AMBER+STRICT"), Some("amber+strict"));
        assert_eq!(parse_tlp("white"), None);
        assert_eq!(confidence_in_words(0.5), "roughly even chance");
    }
}
