//! A hack-and-leak campaign: a campaign's mailbox dumped with forged and altered messages
//! seeded among the real ones, the DKIM keys its senders published, and the posts of a
//! network amplifying the dump among ordinary accounts.
//!
//! Files:
//! - `dump.mbox` (mboxrd): the campaign's mail over `days` days from three domains, every
//!   genuine message DKIM-signed (Ed25519, relaxed/relaxed) by its sender's domain. Two
//!   domains rotate their key part-way through: messages before the rotation carry the
//!   old selector, whose record the archive dates (and later holds revoked, `p=` empty).
//!   Some messages reply to earlier ones (`Re:`, `In-Reply-To`).
//! - `keys.csv` (`name,record,first_seen,last_seen`): the key archive, as a researcher
//!   would have collected it from DNS while the keys were published.
//! - `truth.csv` (`message_id,kind,offset,detail`): every message of the dump in order,
//!   with its byte offset in `dump.mbox` (the offset `mail verify` reports) and its kind:
//!   `authentic`; `altered_body` (signed, then a sentence inserted in the body);
//!   `altered_header` (signed, then its Subject, Date or To changed); `forged` (the
//!   Message-ID and headers of a genuine message of the dump with a new body: the genuine
//!   signature copied onto it, a signature by the forger's own key under the domain's
//!   selector, or one under a selector the domain never published); `unsigned` (an
//!   inserted message without a signature).
//! - `posts.csv` (the IRA CSV schema `influence scan` and `mail sightings` read): ordinary
//!   accounts posting about the election (a share of them mention the dump once or twice:
//!   its link, its hashtag, a quoted subject), and the amplifying network: each day after
//!   the release a few of its accounts post a link, the hashtag and a quoted line of the
//!   dump (the forged and altered messages first), and the others retweet within the hour.
//! - `amplifiers.csv` (`account`): the network's accounts.
//!
//! Accounts are `org_` and 7 digits, the network's among the others', so nothing in a
//! name tells them apart. The same seed and sizes give the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use scrutineer_mail::{DkimSigner, SigningKey};
use serde::{Deserialize, Serialize};

use crate::rng::{Draws, mix};
use crate::{SimulateError, csv_err, io_err};

/// What to generate.
#[derive(Debug, Clone)]
pub struct MailScenario {
    pub seed: u64,
    /// Messages in the dump, injected ones included.
    pub messages: u32,
    /// The mailbox's first day.
    pub first_day: NaiveDate,
    /// Days the mailbox covers; the dump is released two days after its last.
    pub days: u32,
    /// Ordinary accounts posting in the week around the release.
    pub organic_accounts: u32,
    /// Accounts of the amplifying network.
    pub amplifiers: u32,
}

impl MailScenario {
    /// 300 messages over 60 days from 2020-08-01, 600 ordinary accounts, a network of 12.
    pub fn new(seed: u64) -> MailScenario {
        MailScenario {
            seed,
            messages: 300,
            first_day: NaiveDate::from_ymd_opt(2020, 8, 1).unwrap_or_default(),
            days: 60,
            organic_accounts: 600,
            amplifiers: 12,
        }
    }
}

/// The kind of a message of the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Sent and signed as it stands.
    Authentic,
    /// Signed, then its body changed.
    AlteredBody,
    /// Signed, then a signed header changed.
    AlteredHeader,
    /// A genuine message's Message-ID and headers over a new body.
    Forged,
    /// Inserted without a signature.
    Unsigned,
}

impl MessageKind {
    /// Every kind, in the order the summary lists them.
    pub const ALL: [MessageKind; 5] = [
        MessageKind::Authentic,
        MessageKind::AlteredBody,
        MessageKind::AlteredHeader,
        MessageKind::Forged,
        MessageKind::Unsigned,
    ];

    /// The name in `truth.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Authentic => "authentic",
            MessageKind::AlteredBody => "altered_body",
            MessageKind::AlteredHeader => "altered_header",
            MessageKind::Forged => "forged",
            MessageKind::Unsigned => "unsigned",
        }
    }

    /// The `mail verify` verdict that names this kind exactly (a forgery may get any
    /// verdict but `authentic`, depending on how it was made).
    pub fn expected_verdicts(self) -> &'static [&'static str] {
        match self {
            MessageKind::Authentic => &["authentic"],
            MessageKind::AlteredBody => &["body_altered"],
            MessageKind::AlteredHeader => &["headers_altered"],
            MessageKind::Forged => &["body_altered", "headers_altered", "key_unknown"],
            MessageKind::Unsigned => &["unsigned"],
        }
    }
}

/// One row of `truth.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageTruth {
    /// The Message-ID, without angle brackets (a forgery shares its original's).
    pub message_id: String,
    /// What the message is.
    pub kind: MessageKind,
    /// Its byte offset in `dump.mbox`.
    pub offset: u64,
    /// How it was made, in words.
    pub detail: String,
}

/// Reads a `truth.csv` written by [`generate`].
pub fn read_truth(path: &Path) -> Result<Vec<MessageTruth>, SimulateError> {
    let mut r = csv::Reader::from_path(path).map_err(csv_err(path))?;
    r.deserialize().map(|row| row.map_err(csv_err(path))).collect()
}

/// Reads an `amplifiers.csv` written by [`generate`].
pub fn read_amplifiers(path: &Path) -> Result<BTreeSet<String>, SimulateError> {
    #[derive(Deserialize)]
    struct Row {
        account: String,
    }
    let mut r = csv::Reader::from_path(path).map_err(csv_err(path))?;
    r.deserialize::<Row>().map(|row| row.map(|r| r.account).map_err(csv_err(path))).collect()
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct MailWritten {
    pub files: Vec<PathBuf>,
    pub messages: usize,
    /// Messages per kind.
    pub kinds: BTreeMap<String, usize>,
    pub domains: Vec<String>,
    pub key_records: usize,
    /// Where the dump was published (`mail sightings --host`).
    pub host: String,
    /// Its hashtag (`mail sightings --hashtag`).
    pub hashtag: String,
    /// When it was released, RFC 3339 (`mail sightings --released`).
    pub released: String,
    pub posts: usize,
    pub organic_accounts: usize,
    pub amplifiers: usize,
}

pub(crate) const HOST: &str = "leaks.example/harbor-files";
pub(crate) const HASHTAG: &str = "HarborFiles";

/// A sending domain, its staff and its keys.
struct Domain {
    name: &'static str,
    staff: &'static [(&'static str, &'static str)],
    /// Selectors in order of use, and the day (from the first) each takes over.
    selectors: &'static [(&'static str, u32)],
}

const DOMAINS: [Domain; 3] = [
    Domain {
        name: "harbor-campaign.example",
        staff: &[
            ("Dana Whitfield", "dana.whitfield"),
            ("Marcus Oyelaran", "marcus"),
            ("Priya Natarajan", "priya.n"),
            ("Tom Brandt", "tbrandt"),
            ("Elena Sokolova", "elena"),
        ],
        selectors: &[("hc2020a", 0), ("hc2020b", 27)],
    },
    Domain {
        name: "statedems.example",
        staff: &[("Ruth Abernathy", "rabernathy"), ("Caleb Moreno", "cmoreno"), ("June Park", "jpark")],
        selectors: &[("k1", 0), ("k2", 41)],
    },
    Domain {
        name: "harborpac.example",
        staff: &[("Victor Hale", "victor"), ("Nadia Quist", "nquist")],
        selectors: &[("default", 0)],
    },
];

const COUNTIES: [&str; 10] = [
    "Wake",
    "Durham",
    "Mecklenburg",
    "Guilford",
    "Forsyth",
    "Cumberland",
    "Buncombe",
    "New Hanover",
    "Pitt",
    "Union",
];
const TOPICS: [&str; 10] = [
    "field plan",
    "donor call list",
    "draft statement on the debate",
    "polling memo",
    "volunteer shifts",
    "ad buy",
    "press availability",
    "mail program",
    "early vote turnout",
    "rally logistics",
];
const OPENINGS: [&str; 6] =
    ["Hi all,", "Team,", "Quick note:", "Hi,", "Following up on this morning:", "All,"];
const LINES: [&str; 12] = [
    "The {topic} for {county} County is attached; canvass numbers are up {n} percent on last week.",
    "We have {n} volunteers confirmed for Saturday in {county} and need about a dozen more drivers.",
    "Budget for the {topic} stays at ${n},000 unless the finance committee says otherwise on Thursday.",
    "Please send comments on the {topic} by end of day so the press office can circulate a clean copy.",
    "The call with the {county} County chair moved to {h}:30; the dial-in is the usual one.",
    "Turnout models for {county} show us {n} points behind where we were in the last cycle among young voters.",
    "Reminder that every expense over ${n} needs a receipt uploaded to the compliance folder this week.",
    "I spoke with the printer: the {topic} proofs arrive Tuesday and mail drops begin the following Monday.",
    "Can someone cover the {county} phone bank from {h} to {h2}? I have a conflict with the debate prep session.",
    "Our counsel reviewed the {topic} language and asked that we cite the public source for every figure.",
    "The {county} office lease renews next month; facilities will send the paperwork to Dana for signature.",
    "Numbers from the weekend: {n} doors knocked in {county} and roughly a third of them home.",
];
/// What forgers and the alterations put in.
const PLANTED: [&str; 8] = [
    "Move the {n} undeclared cash donations through the {county} account before the audit, as discussed.",
    "Tell the {county} volunteers to collect ballots from nursing homes and fill in the blank ones themselves.",
    "We paid the {county} elections clerk ${n},000 to lose the provisional ballots in the recount.",
    "Delete this thread after reading; the {county} consultant's invoices must not reach the finance report.",
    "The candidate knows the {county} polling memo is fake and wants it leaked to the press anyway on Friday.",
    "Shred the {county} sign-in sheets so nobody can check who really came to the phone bank.",
    "Our friends abroad will cover the ${n},000 ad buy if we keep their name off the disclosure.",
    "Register the {n} names on the attached list at the {county} shelter address before the deadline.",
];

fn fill(template: &str, d: &mut Draws, topic: &str) -> String {
    let county = COUNTIES[d.below(COUNTIES.len() as u64) as usize];
    let n = 3 + d.below(90);
    let h = 9 + d.below(8);
    template
        .replace("{topic}", topic)
        .replace("{county}", county)
        .replace("{n}", &n.to_string())
        .replace("{h2}", &(h + 2).to_string())
        .replace("{h}", &h.to_string())
}

/// A 32-byte key seed from the scenario's seed and a label.
fn key_seed(seed: u64, label: &str) -> [u8; 32] {
    let mut h = mix(seed ^ 0x6D61_696C);
    for b in label.bytes() {
        h = mix(h ^ u64::from(b));
    }
    let mut out = [0u8; 32];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&mix(h ^ i as u64).to_le_bytes());
    }
    out
}

/// One message before it is written.
struct Mail {
    kind: MessageKind,
    message_id: String,
    detail: String,
    from_line: String,
    /// The message, CRLF.
    bytes: Vec<u8>,
}

/// A genuine message's parts, kept so that it can be altered or forged.
#[derive(Clone)]
struct Draft {
    domain: usize,
    sender: usize,
    to: String,
    cc: Option<String>,
    subject: String,
    date: DateTime<FixedOffset>,
    message_id: String,
    in_reply_to: Option<String>,
    body: String,
}

impl Draft {
    fn sender_address(&self) -> String {
        let d = &DOMAINS[self.domain];
        let (name, local) = d.staff[self.sender];
        format!("{name} <{local}@{}>", d.name)
    }

    fn render(&self) -> String {
        let mut h = format!("From: {}\r\nTo: {}\r\n", self.sender_address(), self.to);
        if let Some(cc) = &self.cc {
            h.push_str(&format!("Cc: {cc}\r\n"));
        }
        h.push_str(&format!(
            "Subject: {}\r\nDate: {}\r\nMessage-ID: <{}>\r\n",
            self.subject,
            self.date.format("%a, %d %b %Y %H:%M:%S %z"),
            self.message_id
        ));
        if let Some(r) = &self.in_reply_to {
            h.push_str(&format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n"));
        }
        h.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n");
        h.push_str(&self.body.replace('\n', "\r\n"));
        h
    }

    fn mbox_line(&self) -> String {
        let (_, local) = DOMAINS[self.domain].staff[self.sender];
        format!(
            "From {local}@{} {}",
            DOMAINS[self.domain].name,
            self.date.with_timezone(&Utc).format("%a %b %e %H:%M:%S %Y")
        )
    }

    /// The selector in use at the message's date.
    fn selector(&self, first_day: NaiveDate) -> &'static str {
        let day = (self.date.date_naive() - first_day).num_days().max(0) as u32;
        let sels = DOMAINS[self.domain].selectors;
        sels.iter().rev().find(|(_, from)| day >= *from).map_or(sels[0].0, |s| s.0)
    }
}

fn address(d: &mut Draws) -> String {
    let dom = d.below(DOMAINS.len() as u64) as usize;
    let staff = DOMAINS[dom].staff;
    let (name, local) = staff[d.below(staff.len() as u64) as usize];
    format!("{name} <{local}@{}>", DOMAINS[dom].name)
}

/// The genuine messages, in date order.
fn drafts(s: &MailScenario, n: usize) -> Vec<Draft> {
    // The campaign works on US Eastern (daylight) time.
    let eastern = FixedOffset::west_opt(4 * 3600).unwrap_or(Utc.fix());
    let start = s.first_day.and_hms_opt(4, 0, 0).unwrap_or_default().and_utc().timestamp();
    let span = i64::from(s.days.max(1)) * 86_400;
    let mut times: Vec<i64> = (0..n)
        .map(|i| {
            let mut d = Draws::new(s.seed, i as u64, 0x7100);
            // Office hours, 8 am to 10 pm Eastern.
            let day = d.below(s.days.max(1) as u64) as i64;
            day * 86_400 + 8 * 3600 + d.below(14 * 3600) as i64
        })
        .map(|t| t.min(span - 1))
        .collect();
    times.sort_unstable();
    let mut out: Vec<Draft> = Vec::with_capacity(n);
    for (i, t) in times.into_iter().enumerate() {
        let mut d = Draws::new(s.seed, i as u64, 0x7101);
        let domain = (d.below(10) as usize).min(9) / 4; // 0: 40%, 1: 40%, 2: 20%
        let sender = d.below(DOMAINS[domain].staff.len() as u64) as usize;
        let date = Utc.timestamp_opt(start + t, 0).single().unwrap_or_default().with_timezone(&eastern);
        let message_id = format!(
            "{}.{:08x}@{}",
            date.format("%Y%m%d%H%M%S"),
            mix(s.seed ^ i as u64) as u32,
            DOMAINS[domain].name
        );
        let reply_to = (i > 3 && d.chance(0.3)).then(|| d.below(i.min(20) as u64) as usize + i - i.min(20));
        let topic = TOPICS[d.below(TOPICS.len() as u64) as usize];
        let (subject, in_reply_to) = match reply_to {
            Some(j) => {
                let s = &out[j].subject;
                let s = if s.starts_with("Re: ") { s.clone() } else { format!("Re: {s}") };
                (s, Some(out[j].message_id.clone()))
            }
            None => {
                let county = COUNTIES[d.below(COUNTIES.len() as u64) as usize];
                (format!("{} - {county} County, week {}", capital(topic), 1 + t / (7 * 86_400)), None)
            }
        };
        let mut body = format!("{}\n\n", OPENINGS[d.below(OPENINGS.len() as u64) as usize]);
        for _ in 0..2 + d.below(3) {
            body.push_str(&fill(LINES[d.below(LINES.len() as u64) as usize], &mut d, topic));
            body.push('\n');
        }
        let (name, _) = DOMAINS[domain].staff[sender];
        body.push_str(&format!("\n{}\n", name.split(' ').next().unwrap_or(name)));
        let to = address(&mut d);
        let cc = d.chance(0.3).then(|| address(&mut d));
        out.push(Draft { domain, sender, to, cc, subject, date, message_id, in_reply_to, body });
    }
    out
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The archive's records, and a signer per (domain, selector).
struct Keys {
    records: Vec<[String; 4]>,
    signers: BTreeMap<(usize, &'static str), DkimSigner>,
}

fn keys(s: &MailScenario) -> Result<Keys, SimulateError> {
    let day = |n: i64| (s.first_day + Duration::days(n)).format("%Y-%m-%d").to_string();
    let mut records = Vec::new();
    let mut signers = BTreeMap::new();
    for (di, d) in DOMAINS.iter().enumerate() {
        for (si, (sel, from)) in d.selectors.iter().enumerate() {
            let key = SigningKey::ed25519(key_seed(s.seed, &format!("{sel}.{}", d.name)));
            let signer =
                DkimSigner::new(d.name, sel, key).map_err(|e| SimulateError::Invalid(e.to_string()))?;
            let name = format!("{sel}._domainkey.{}", d.name);
            let first = if si == 0 { day(-180) } else { day(i64::from(*from)) };
            // A rotated-out key was last seen the day its successor took over, and its
            // name was republished revoked a week later.
            let next = d.selectors.get(si + 1).map(|(_, f)| i64::from(*f));
            let last = next.map(day).unwrap_or_default();
            records.push([name.clone(), signer.dns_record(), first, last]);
            if let Some(n) = next {
                records.push([name, "v=DKIM1; k=ed25519; p=".to_owned(), day(n + 7), String::new()]);
            }
            signers.insert((di, *sel), signer);
        }
    }
    Ok(Keys { records, signers })
}

fn sign_err(e: scrutineer_mail::SignError) -> SimulateError {
    SimulateError::Invalid(format!("signing a simulated message: {e}"))
}

/// The dump's messages, in the order they are written.
fn messages(s: &MailScenario, keys: &Keys) -> Result<Vec<Mail>, SimulateError> {
    let total = s.messages.max(20) as usize;
    let share = |p: f64| ((total as f64 * p).round() as usize).max(2);
    let (n_body, n_header, n_forged, n_unsigned) = (share(0.03), share(0.03), share(0.03), share(0.02));
    let genuine = total - n_forged - n_unsigned;
    let drafts = drafts(s, genuine);
    // Which genuine messages are altered, and which are the originals of forgeries.
    let mut d = Draws::new(s.seed, 0, 0x7102);
    let mut order: Vec<usize> = (0..genuine).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, d.below(i as u64 + 1) as usize);
    }
    let altered_body: BTreeSet<usize> = order[..n_body].iter().copied().collect();
    let altered_header: BTreeSet<usize> = order[n_body..n_body + n_header].iter().copied().collect();
    let originals: Vec<usize> = order[n_body + n_header..n_body + n_header + n_forged].to_vec();

    let mut out: Vec<Mail> = Vec::with_capacity(total);
    let mut forged_after: BTreeMap<usize, Vec<Mail>> = BTreeMap::new();
    for (i, draft) in drafts.iter().enumerate() {
        let selector = draft.selector(s.first_day);
        let signer = &keys.signers[&(draft.domain, selector)];
        let signed = signer.sign(draft.render().as_bytes()).map_err(sign_err)?;
        let mut r = Draws::new(s.seed, i as u64, 0x7103);
        let (kind, bytes, detail) = if altered_body.contains(&i) {
            let planted = fill(PLANTED[r.below(PLANTED.len() as u64) as usize], &mut r, "");
            let text = String::from_utf8_lossy(&signed).into_owned();
            let at = text.rfind("\r\n\r\n").map_or(text.len(), |p| p + 2);
            let bytes = format!("{}{planted}\r\n{}", &text[..at], &text[at..]).into_bytes();
            (
                MessageKind::AlteredBody,
                bytes,
                format!("signed with {selector}, then a sentence inserted in the body"),
            )
        } else if altered_header.contains(&i) {
            let text = String::from_utf8_lossy(&signed).into_owned();
            let (what, changed) = match i % 3 {
                0 => ("Subject", text.replacen("\r\nSubject: ", "\r\nSubject: URGENT - ", 1)),
                1 => {
                    let later = draft.date + Duration::days(9);
                    let old = format!("Date: {}", draft.date.format("%a, %d %b %Y %H:%M:%S %z"));
                    let new = format!("Date: {}", later.format("%a, %d %b %Y %H:%M:%S %z"));
                    ("Date", text.replacen(&old, &new, 1))
                }
                _ => ("To", text.replacen("\r\nTo: ", "\r\nTo: Press Desk <tips@newsroom.example>, ", 1)),
            };
            (
                MessageKind::AlteredHeader,
                changed.into_bytes(),
                format!("signed with {selector}, then its {what} changed"),
            )
        } else {
            (MessageKind::Authentic, signed.clone(), format!("signed with {selector}"))
        };
        out.push(Mail {
            kind,
            message_id: draft.message_id.clone(),
            detail,
            from_line: draft.mbox_line(),
            bytes,
        });
        if let Some(k) = originals.iter().position(|&o| o == i) {
            let forgery = forge(s, draft, &signed, k)?;
            // The forgery lands some messages later, as if filed in another folder.
            let at = (i + 1 + r.below(30) as usize).min(genuine - 1);
            forged_after.entry(at).or_default().push(forgery);
        }
    }
    // Unsigned insertions, at evenly spread places.
    let mut unsigned_after: BTreeMap<usize, Vec<Mail>> = BTreeMap::new();
    for k in 0..n_unsigned {
        let at = (k * genuine / n_unsigned + genuine / (2 * n_unsigned)).min(genuine - 1);
        let mut r = Draws::new(s.seed, k as u64, 0x7104);
        let base = &drafts[at];
        let mut draft = base.clone();
        draft.message_id = format!(
            "{}.{:08x}@{}",
            base.date.format("%Y%m%d%H%M%S"),
            mix(!s.seed ^ k as u64) as u32,
            DOMAINS[base.domain].name
        );
        draft.in_reply_to = None;
        draft.subject =
            format!("Confidential - {} County", COUNTIES[r.below(COUNTIES.len() as u64) as usize]);
        draft.body = format!(
            "{}\n\n{}\n{}\n",
            OPENINGS[r.below(OPENINGS.len() as u64) as usize],
            fill(PLANTED[r.below(PLANTED.len() as u64) as usize], &mut r, ""),
            fill(PLANTED[r.below(PLANTED.len() as u64) as usize], &mut r, "")
        );
        unsigned_after.entry(at).or_default().push(Mail {
            kind: MessageKind::Unsigned,
            message_id: draft.message_id.clone(),
            detail: "inserted without a signature".into(),
            from_line: draft.mbox_line(),
            bytes: draft.render().into_bytes(),
        });
    }
    let mut ordered = Vec::with_capacity(total);
    for (i, m) in out.into_iter().enumerate() {
        ordered.push(m);
        ordered.extend(forged_after.remove(&i).unwrap_or_default());
        ordered.extend(unsigned_after.remove(&i).unwrap_or_default());
    }
    Ok(ordered)
}

/// A forgery of `draft` (signed as `signed`): its headers over a new body, made the
/// `k`-th of three ways.
fn forge(s: &MailScenario, draft: &Draft, signed: &[u8], k: usize) -> Result<Mail, SimulateError> {
    let mut r = Draws::new(s.seed, k as u64, 0x7105);
    let mut fake = draft.clone();
    let planted = fill(PLANTED[r.below(PLANTED.len() as u64) as usize], &mut r, "");
    let first = draft.body.lines().next().unwrap_or("Hi,");
    let (name, _) = DOMAINS[draft.domain].staff[draft.sender];
    fake.body = format!("{first}\n\n{planted}\n\n{}\n", name.split(' ').next().unwrap_or(name));
    let selector = draft.selector(s.first_day);
    let domain = DOMAINS[draft.domain].name;
    let (bytes, detail) = match k % 3 {
        0 => {
            // The genuine signature field copied above the new body.
            let text = String::from_utf8_lossy(signed);
            let end = text.find("\r\nFrom: ").map_or(0, |p| p + 2);
            (
                format!("{}{}", &text[..end], fake.render()).into_bytes(),
                "the genuine signature copied onto a new body".to_owned(),
            )
        }
        1 => {
            let key = SigningKey::ed25519(key_seed(!s.seed, &format!("forger.{k}")));
            let forger = DkimSigner::new(domain, selector, key).map_err(sign_err)?;
            (
                forger.sign(fake.render().as_bytes()).map_err(sign_err)?,
                format!("signed by the forger's own key as {selector}._domainkey.{domain}"),
            )
        }
        _ => {
            let key = SigningKey::ed25519(key_seed(!s.seed, &format!("forger.{k}")));
            let forger = DkimSigner::new(domain, "mail2020", key).map_err(sign_err)?;
            (
                forger.sign(fake.render().as_bytes()).map_err(sign_err)?,
                format!("signed under mail2020._domainkey.{domain}, which {domain} never published"),
            )
        }
    };
    Ok(Mail {
        kind: MessageKind::Forged,
        message_id: draft.message_id.clone(),
        detail,
        from_line: draft.mbox_line(),
        bytes,
    })
}

/// Writes `m` as an mboxrd entry (LF line ends, `>From ` escaping); returns its length.
fn write_mbox_entry(w: &mut impl Write, m: &Mail) -> std::io::Result<u64> {
    let text = String::from_utf8_lossy(&m.bytes).replace("\r\n", "\n");
    let mut n = 0u64;
    let mut put = |w: &mut dyn Write, s: &str| -> std::io::Result<()> {
        w.write_all(s.as_bytes())?;
        n += s.len() as u64;
        Ok(())
    };
    put(w, &m.from_line)?;
    put(w, "\n")?;
    for line in text.split_inclusive('\n') {
        if line.trim_start_matches('>').starts_with("From ") {
            put(w, ">")?;
        }
        put(w, line)?;
    }
    if !text.ends_with('\n') {
        put(w, "\n")?;
    }
    put(w, "\n")?;
    Ok(n)
}

/// Writes the scenario into `out`.
pub fn generate(s: &MailScenario, out: &Path) -> Result<MailWritten, SimulateError> {
    if s.days == 0 {
        return Err(SimulateError::Invalid("the mailbox must cover at least one day".into()));
    }
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let keys = keys(s)?;
    let mails = messages(s, &keys)?;

    let dump = out.join("dump.mbox");
    let mut w = BufWriter::new(File::create(&dump).map_err(io_err(&dump))?);
    let mut offsets = Vec::with_capacity(mails.len());
    let mut at = 0u64;
    for m in &mails {
        offsets.push(at);
        at += write_mbox_entry(&mut w, m).map_err(io_err(&dump))?;
    }
    w.flush().map_err(io_err(&dump))?;

    let keys_path = out.join("keys.csv");
    let mut kw = csv::Writer::from_path(&keys_path).map_err(csv_err(&keys_path))?;
    kw.write_record(["name", "record", "first_seen", "last_seen"]).map_err(csv_err(&keys_path))?;
    for r in &keys.records {
        kw.write_record(r).map_err(csv_err(&keys_path))?;
    }
    kw.flush().map_err(io_err(&keys_path))?;

    let truth_path = out.join("truth.csv");
    let mut tw = csv::Writer::from_path(&truth_path).map_err(csv_err(&truth_path))?;
    let mut kinds: BTreeMap<String, usize> =
        MessageKind::ALL.iter().map(|k| (k.as_str().to_owned(), 0)).collect();
    for (m, offset) in mails.iter().zip(&offsets) {
        *kinds.entry(m.kind.as_str().to_owned()).or_default() += 1;
        tw.serialize(MessageTruth {
            message_id: m.message_id.clone(),
            kind: m.kind,
            offset: *offset,
            detail: m.detail.clone(),
        })
        .map_err(csv_err(&truth_path))?;
    }
    tw.flush().map_err(io_err(&truth_path))?;

    let last = mails.iter().filter_map(|m| message_date(&m.bytes)).max().unwrap_or(0);
    let released =
        Utc.timestamp_opt((last / 86_400 + 2) * 86_400 + 14 * 3600, 0).single().unwrap_or_default();
    let posts = crate::mail_posts::write(s, out, &mails_for_posts(&mails), released)?;

    let mut files = vec![dump, keys_path, truth_path];
    files.extend(posts.files.iter().cloned());
    Ok(MailWritten {
        files,
        messages: mails.len(),
        kinds,
        domains: DOMAINS.iter().map(|d| d.name.to_owned()).collect(),
        key_records: keys.records.len(),
        host: HOST.to_owned(),
        hashtag: HASHTAG.to_owned(),
        released: released.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        posts: posts.posts,
        organic_accounts: posts.organic_accounts,
        amplifiers: posts.amplifiers,
    })
}

/// The claimed date of a message, from its `Date:` field.
fn message_date(bytes: &[u8]) -> Option<i64> {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().find_map(|l| l.strip_prefix("Date: "))?;
    DateTime::parse_from_rfc2822(line.trim()).ok().map(|d| d.timestamp())
}

/// What the posts quote of a message.
pub(crate) struct Quotable {
    pub kind: MessageKind,
    pub subject: String,
    /// A line of its body long enough to be quoted (8 words or more).
    pub line: Option<String>,
}

fn mails_for_posts(mails: &[Mail]) -> Vec<Quotable> {
    mails
        .iter()
        .map(|m| {
            let text = String::from_utf8_lossy(&m.bytes).replace("\r\n", "\n");
            let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
            let subject = head.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or("").to_owned();
            let line = body
                .lines()
                .filter(|l| l.split_whitespace().count() >= 10)
                .max_by_key(|l| l.len())
                .map(str::to_owned);
            Quotable { kind: m.kind, subject, line }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrutineer_mail::{KeyArchive, Message, Verdict, verify_message};

    fn small() -> MailScenario {
        MailScenario { messages: 80, organic_accounts: 60, ..MailScenario::new(5) }
    }

    #[test]
    fn every_kind_gets_the_verdict_it_was_made_for_and_the_same_seed_writes_the_same_bytes() {
        let dir = tempfile::tempdir().expect("tmp");
        let w = generate(&small(), dir.path()).expect("generate");
        let truth = read_truth(&dir.path().join("truth.csv")).expect("truth");
        assert_eq!(truth.len(), w.messages);
        for kind in MessageKind::ALL {
            assert!(truth.iter().any(|t| t.kind == kind), "no {kind:?}");
        }
        let keys = KeyArchive::read(&dir.path().join("keys.csv")).expect("keys");
        let dump = std::fs::read(dir.path().join("dump.mbox")).expect("dump");
        let mut rotated_out = 0;
        for (i, t) in truth.iter().enumerate() {
            let end = truth.get(i + 1).map_or(dump.len(), |n| n.offset as usize);
            let raw = &dump[t.offset as usize..end];
            assert!(raw.starts_with(b"From "), "{t:?}");
            let msg = Message::parse(raw).expect("parse");
            assert_eq!(msg.message_id.as_deref(), Some(t.message_id.as_str()));
            let verdicts: Vec<&str> =
                verify_message(&msg, &keys).iter().map(|c| c.verdict.as_str()).collect();
            let ok = verdicts.iter().any(|v| t.kind.expected_verdicts().contains(v));
            assert!(ok, "{t:?}: {verdicts:?}");
            if t.kind != MessageKind::Authentic {
                assert!(!verdicts.contains(&Verdict::Authentic.as_str()), "{t:?}");
            }
            if t.kind == MessageKind::Authentic && (t.detail.ends_with("hc2020a") || t.detail.ends_with("k1"))
            {
                rotated_out += 1;
            }
        }
        assert!(rotated_out > 0, "no authentic message under a rotated-out selector");
        let again = tempfile::tempdir().expect("tmp");
        generate(&small(), again.path()).expect("generate");
        for f in ["dump.mbox", "keys.csv", "truth.csv", "posts.csv", "amplifiers.csv"] {
            assert_eq!(
                std::fs::read(dir.path().join(f)).ok(),
                std::fs::read(again.path().join(f)).ok(),
                "{f}"
            );
        }
    }
}
