//! Who spreads a dump: the posts that link to the leak's host, use its hashtags, or quote
//! a message's subject, its text, a link or an attachment name from it; the first
//! sighting, the accounts that spread it earliest, the timing against the dump's release,
//! and which coordinated networks the spreaders belong to.
//!
//! This crate does not read posts: the caller hands each post over as a [`SpreadPost`]
//! (the binary reads them with the influence engine) and, at the end, the networks it
//! detected as [`NetworkMembership`]s. The two engines do not depend on each other.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use scrutineer_core::splitmix::mix;
use scrutineer_core::{Engine, Evidence, Finding, Severity, Technique, TimeSpan, VersionedSummary};
use serde::{Deserialize, Serialize};

use crate::dkim::Verdict;
use crate::message::Message;

/// Words in a quoted run: a post that repeats this many consecutive words of a message's
/// text (or of a long subject) quotes it.
pub const QUOTE_WORDS: usize = 8;
/// Words a short subject needs to be looked for on its own (a subject of three words,
/// such as "Re: lunch today", is no evidence of anything).
pub const MIN_SUBJECT_WORDS: usize = 4;
/// A marker found in more messages than this is boilerplate (a footer, a disclaimer, a
/// newsletter's link), not a message's own: it is not looked for.
pub const MAX_MARKER_MESSAGES: u32 = 3;
/// Words of a message's text that are indexed, at most (the rest of a long message adds
/// memory and hardly any quotes).
const MAX_TEXT_WORDS: usize = 4096;
/// Sightings kept as a finding's evidence, at most.
const EVIDENCE_POSTS: usize = 10;

/// Why the spread of a dump cannot be looked for as asked.
#[derive(Debug, thiserror::Error)]
pub enum SpreadError {
    /// A `--host` that is not a host name (with an optional path).
    #[error("{0:?} is not a host name (like wikileaks.org or wikileaks.org/podesta-emails)")]
    BadHost(String),
    /// A `--hashtag` that is empty.
    #[error("{0:?} is not a hashtag (like PodestaEmails, or PodestaEmails* for every numbered one)")]
    BadHashtag(String),
}

/// What a post was seen to share with the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerKind {
    /// A link to the host the dump was published on.
    Host,
    /// One of the dump's hashtags.
    Hashtag,
    /// A message's subject, quoted whole (or a run of a long one).
    Subject,
    /// A run of a message's text.
    Quote,
    /// A link found in a message's text (not a bare domain; one few messages hold).
    Link,
    /// An attachment's file name.
    Attachment,
}

impl MarkerKind {
    /// Every kind, in the order the summary lists them.
    pub const ALL: [MarkerKind; 6] = [
        MarkerKind::Host,
        MarkerKind::Hashtag,
        MarkerKind::Subject,
        MarkerKind::Quote,
        MarkerKind::Link,
        MarkerKind::Attachment,
    ];

    /// The kind's name, as written in `sightings.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            MarkerKind::Host => "host",
            MarkerKind::Hashtag => "hashtag",
            MarkerKind::Subject => "subject",
            MarkerKind::Quote => "quote",
            MarkerKind::Link => "link",
            MarkerKind::Attachment => "attachment",
        }
    }

    /// Whether a marker of this kind names one message (rather than the dump).
    pub fn names_a_message(self) -> bool {
        !matches!(self, MarkerKind::Host | MarkerKind::Hashtag)
    }
}

/// One message of the dump, as the spread analysis names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DumpMessage {
    /// `file:offset`, as the verdicts and the forged-variant groups name messages.
    pub at: String,
    /// `Message-ID`.
    pub message_id: Option<String>,
    /// The decoded subject.
    pub subject: Option<String>,
    /// The claimed date.
    pub date: Option<DateTime<Utc>>,
    /// The message's own verdict, when the dump was verified.
    pub verdict: Option<Verdict>,
}

/// A post, as the spread analysis reads it.
#[derive(Debug, Clone, Copy)]
pub struct SpreadPost<'a> {
    /// The platform's id for the post.
    pub id: Option<&'a str>,
    /// The account key.
    pub account: &'a str,
    /// The account's handle, when known.
    pub handle: Option<&'a str>,
    /// When it was posted.
    pub time: DateTime<Utc>,
    /// Its text.
    pub text: &'a str,
    /// Its links, as the input gives them (links in the text are found as well).
    pub urls: &'a [String],
    /// Its hashtags without `#` (hashtags in the text are found as well).
    pub hashtags: &'a [String],
}

/// One thing a post shares with the dump.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sighting {
    /// The post's id.
    pub post_id: Option<String>,
    /// The account.
    pub account: String,
    /// Its handle.
    pub handle: Option<String>,
    /// When it was posted.
    pub time: DateTime<Utc>,
    /// What was shared.
    pub kind: MarkerKind,
    /// The dump's message it names, by its place in [`SpreadIndex::messages`] (`None`
    /// for a host or hashtag, which name the dump).
    pub message: Option<usize>,
    /// Other messages of the dump that hold the same marker (0 to
    /// [`MAX_MARKER_MESSAGES`] − 1).
    pub other_messages: u32,
    /// What matched: the host or hashtag, the quoted words, the link, the file name.
    pub marker: String,
    /// The detected network the account belongs to (set by [`SpreadAnalysis::finish`]).
    pub network: Option<String>,
}

/// A detected network, as the influence engine found it: its id and its members.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkMembership {
    /// The network's id (`N1`, ...).
    pub network: String,
    /// Its ranking score, 0..1.
    pub score: f64,
    /// Its member accounts (account keys, as in the posts).
    pub accounts: Vec<String>,
}

/// An account that spread the dump.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spreader {
    /// The account key.
    pub account: String,
    /// Its handle.
    pub handle: Option<String>,
    /// Its first post with a sighting.
    pub first: DateTime<Utc>,
    /// Its posts with a sighting.
    pub posts: u64,
    /// Distinct messages of the dump its posts named.
    pub messages: usize,
    /// Its first post relative to the release, in hours (negative: before it).
    pub hours_after_release: Option<f64>,
    /// The detected network it belongs to.
    pub network: Option<String>,
}

/// A message of the dump seen in posts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SightedMessage {
    /// Its place among the dump's messages (as [`Sighting::message`] names it).
    pub index: usize,
    /// The message.
    pub message: DumpMessage,
    /// The first post that named it.
    pub first: DateTime<Utc>,
    /// The account of that post.
    pub first_account: String,
    /// Posts that named it.
    pub posts: u64,
    /// Distinct accounts that named it.
    pub accounts: usize,
    /// What was shared, per kind.
    pub kinds: Vec<MarkerKind>,
}

/// How a detected network took part in the spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkSpread {
    /// The network's id.
    pub network: String,
    /// Its ranking score.
    pub score: f64,
    /// Its members.
    pub members: usize,
    /// Members that spread the dump.
    pub spreaders: usize,
    /// Their posts with a sighting.
    pub posts: u64,
    /// Share of all posts with a sighting that are theirs.
    pub share_of_posts: f64,
    /// Their first post with a sighting.
    pub first: DateTime<Utc>,
    /// The spreaders, earliest first.
    pub accounts: Vec<String>,
}

/// Posts with a sighting per UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayCount {
    /// The day.
    pub day: chrono::NaiveDate,
    /// Posts with a sighting that day.
    pub posts: u64,
}

/// What the spread analysis found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpreadReport {
    /// Messages of the dump indexed.
    pub dump_messages: u64,
    /// Posts read.
    pub posts: u64,
    /// Posts with at least one sighting.
    pub posts_with_sightings: u64,
    /// Sightings, per kind (a post may share several things).
    pub by_kind: Vec<(MarkerKind, u64)>,
    /// The earliest sighting.
    pub first_sighting: Option<Sighting>,
    /// When the dump was released, if given.
    pub released: Option<DateTime<Utc>>,
    /// Posts with a sighting made before the release.
    pub before_release: u64,
    /// Hours from the release to the first sighting (negative: before it).
    pub first_hours_after_release: Option<f64>,
    /// The accounts that spread it, earliest first.
    pub spreaders: Vec<Spreader>,
    /// The messages seen in posts, earliest first.
    pub messages: Vec<SightedMessage>,
    /// The detected networks among the spreaders, most posts first.
    pub networks: Vec<NetworkSpread>,
    /// Posts with a sighting per day.
    pub timeline: Vec<DayCount>,
    /// Every sighting, in input order (with its account's network).
    #[serde(skip)]
    pub sightings: Vec<Sighting>,
    /// The findings made.
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

/// What one `mail sightings` run records in `sightings.json`: the report without its
/// per-sighting rows (those are `sightings.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpreadSummary {
    /// The report.
    #[serde(flatten)]
    pub report: SpreadReport,
    /// Findings made.
    pub findings: usize,
    /// The networks detection ran on (false: no network was looked for).
    pub networks_detected: bool,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl VersionedSummary for SpreadSummary {
    const ENGINE: Engine = Engine::Mail;
    const VERSION: u32 = 1;
}

/// The messages holding one marker: the first few, and how many there are.
#[derive(Debug, Clone, Copy)]
struct Holders {
    ids: [u32; MAX_MARKER_MESSAGES as usize],
    count: u32,
}

impl Holders {
    fn new(message: u32) -> Holders {
        let mut ids = [u32::MAX; MAX_MARKER_MESSAGES as usize];
        ids[0] = message;
        Holders { ids, count: 1 }
    }

    /// Adds `message` (each message adds a marker once).
    fn add(&mut self, message: u32) {
        if let Some(slot) = self.ids.get_mut(self.count as usize) {
            *slot = message;
        }
        self.count = self.count.saturating_add(1);
    }

    /// The first holder and the number of others, when the marker is distinctive.
    fn distinctive(&self) -> Option<(u32, u32)> {
        (self.count <= MAX_MARKER_MESSAGES).then_some((self.ids[0], self.count - 1))
    }
}

/// A host (and path prefix) the dump was published under.
#[derive(Debug, Clone)]
struct HostPattern {
    host: String,
    path: String,
    shown: String,
}

/// A hashtag of the dump, or a prefix of numbered ones (`PodestaEmails*`).
#[derive(Debug, Clone)]
struct TagPattern {
    tag: String,
    prefix: bool,
}

/// The dump's markers, ready to be looked for in posts.
pub struct SpreadIndex {
    messages: Vec<DumpMessage>,
    quotes: HashMap<u64, Holders>,
    subjects: HashMap<u64, Holders>,
    subject_lengths: Vec<usize>,
    links: HashMap<String, Holders>,
    attachments: HashMap<String, Holders>,
    hosts: Vec<HostPattern>,
    hashtags: Vec<TagPattern>,
}

impl SpreadIndex {
    /// An index with the dump's hosts (`wikileaks.org`, `wikileaks.org/podesta-emails`)
    /// and hashtags (`PodestaEmails`, `PodestaEmails*`) and no message yet.
    pub fn new(hosts: &[String], hashtags: &[String]) -> Result<SpreadIndex, SpreadError> {
        let hosts = hosts.iter().map(|h| host_pattern(h)).collect::<Result<Vec<_>, _>>()?;
        let hashtags = hashtags
            .iter()
            .map(|t| {
                let t = t.trim().trim_start_matches('#');
                let (tag, prefix) = match t.strip_suffix('*') {
                    Some(p) => (p, true),
                    None => (t, false),
                };
                if tag.is_empty() || tag.chars().any(char::is_whitespace) {
                    return Err(SpreadError::BadHashtag(t.to_owned()));
                }
                Ok(TagPattern { tag: tag.to_lowercase(), prefix })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SpreadIndex {
            messages: Vec::new(),
            quotes: HashMap::new(),
            subjects: HashMap::new(),
            subject_lengths: Vec::new(),
            links: HashMap::new(),
            attachments: HashMap::new(),
            hosts,
            hashtags,
        })
    }

    /// Indexes one message of the dump, read from `file` at `offset`, with its verdict
    /// when the dump was verified.
    pub fn add_message(&mut self, file: &str, offset: u64, msg: &Message, verdict: Option<Verdict>) {
        let id = self.messages.len() as u32;
        self.messages.push(DumpMessage {
            at: format!("{file}:{offset}"),
            message_id: msg.message_id.clone(),
            subject: msg.subject.clone(),
            date: msg.date,
            verdict,
        });
        let subject = msg.subject.as_deref().map(strip_reply_prefixes).unwrap_or("");
        let subject_words = word_hashes(subject);
        if subject_words.len() >= MIN_SUBJECT_WORDS {
            let mut seen = HashSet::new();
            let len = subject_words.len().min(QUOTE_WORDS);
            for w in subject_words.windows(len) {
                if seen.insert(run_hash(w)) {
                    add_holder(&mut self.subjects, run_hash(w), id);
                }
            }
            if !self.subject_lengths.contains(&len) {
                self.subject_lengths.push(len);
                self.subject_lengths.sort_unstable();
            }
        }
        // Quoted replies belong to the messages they quote; a message's own text is what
        // is not quoted.
        let own: String =
            msg.text.lines().filter(|l| !l.trim_start().starts_with('>')).collect::<Vec<_>>().join("\n");
        let mut words = word_hashes(&own);
        words.truncate(MAX_TEXT_WORDS);
        let mut seen = HashSet::new();
        for w in words.windows(QUOTE_WORDS) {
            let h = run_hash(w);
            if seen.insert(h) {
                add_holder(&mut self.quotes, h, id);
            }
        }
        let mut seen = HashSet::new();
        for url in urls_in(&msg.text) {
            if let Some(link) = normalise_link(url).filter(|l| l.contains('/'))
                && seen.insert(link.clone())
            {
                add_holder(&mut self.links, link, id);
            }
        }
        let mut seen = HashSet::new();
        for name in &msg.attachments {
            let name = name.trim().to_lowercase();
            if attachment_worth_looking_for(&name) && seen.insert(name.clone()) {
                add_holder(&mut self.attachments, name, id);
            }
        }
    }

    /// Messages indexed.
    pub fn messages(&self) -> &[DumpMessage] {
        &self.messages
    }

    /// Everything `post` shares with the dump: one sighting per kind and message (or per
    /// host and hashtag).
    pub fn sightings(&self, post: &SpreadPost<'_>) -> Vec<Sighting> {
        let mut found: Vec<(MarkerKind, Option<u32>, u32, String)> = Vec::new();
        let mut add = |kind, message: Option<u32>, others, marker: String| {
            if !found.iter().any(|(k, m, _, _)| *k == kind && *m == message) {
                found.push((kind, message, others, marker));
            }
        };
        let text_links: Vec<&str> = urls_in(post.text).collect();
        let links = post.urls.iter().map(String::as_str).chain(text_links.iter().copied());
        for url in links {
            let Some(link) = normalise_link(url) else { continue };
            for h in &self.hosts {
                if host_matches(&link, h) {
                    add(MarkerKind::Host, None, 0, h.shown.clone());
                }
            }
            if let Some((m, others)) = self.links.get(&link).and_then(Holders::distinctive) {
                add(MarkerKind::Link, Some(m), others, link.clone());
            }
        }
        if !self.hashtags.is_empty() {
            let text_tags = hashtags_in(post.text);
            for tag in post.hashtags.iter().map(String::as_str).chain(text_tags) {
                let tag = tag.to_lowercase();
                for p in &self.hashtags {
                    if tag == p.tag || (p.prefix && tag.starts_with(&p.tag)) {
                        add(MarkerKind::Hashtag, None, 0, format!("#{tag}"));
                    }
                }
            }
        }
        let (words, spans) = words_with_spans(post.text);
        let quoted_run = |from: usize, to: usize| post.text[spans[from].0..spans[to - 1].1].to_owned();
        for &len in &self.subject_lengths {
            for (i, w) in words.windows(len).enumerate() {
                if let Some((m, others)) = self.subjects.get(&run_hash(w)).and_then(Holders::distinctive) {
                    add(MarkerKind::Subject, Some(m), others, quoted_run(i, i + len));
                }
            }
        }
        // Consecutive matching runs of one message are one quote, shown whole.
        let mut quote: Option<(u32, u32, usize, usize)> = None;
        let mut quotes = Vec::new();
        for (i, w) in words.windows(QUOTE_WORDS).enumerate() {
            let hit = self.quotes.get(&run_hash(w)).and_then(Holders::distinctive);
            match (hit, quote.as_mut()) {
                (Some((m, _)), Some((qm, _, _, end))) if *qm == m && i <= *end => *end = i + QUOTE_WORDS,
                (Some((m, others)), _) => {
                    quotes.extend(quote.take());
                    quote = Some((m, others, i, i + QUOTE_WORDS));
                }
                (None, _) => {}
            }
        }
        quotes.extend(quote);
        for (m, others, from, to) in quotes {
            add(MarkerKind::Quote, Some(m), others, quoted_run(from, to));
        }
        if !self.attachments.is_empty() {
            for token in post.text.split(|c: char| c.is_whitespace() || "\"'()[]<>,;".contains(c)) {
                let name = token.trim_end_matches(['.', ':', '!', '?']).to_lowercase();
                if let Some((m, others)) = self.attachments.get(&name).and_then(Holders::distinctive) {
                    add(MarkerKind::Attachment, Some(m), others, name);
                }
            }
        }
        found
            .into_iter()
            .map(|(kind, message, other_messages, marker)| Sighting {
                post_id: post.id.map(str::to_owned),
                account: post.account.to_owned(),
                handle: post.handle.map(str::to_owned),
                time: post.time,
                kind,
                message: message.map(|m| m as usize),
                other_messages,
                marker,
                network: None,
            })
            .collect()
    }
}

fn add_holder<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Holders>, key: K, message: u32) {
    map.entry(key).and_modify(|h| h.add(message)).or_insert_with(|| Holders::new(message));
}

fn host_pattern(spec: &str) -> Result<HostPattern, SpreadError> {
    let bad = || SpreadError::BadHost(spec.to_owned());
    let link = normalise_link(spec.trim()).ok_or_else(bad)?;
    let (host, path) = link.split_once('/').unwrap_or((&link, ""));
    if host.is_empty()
        || !host.contains('.')
        || host.contains(|c: char| !(c.is_alphanumeric() || ".-:".contains(c)))
    {
        return Err(bad());
    }
    Ok(HostPattern { host: host.to_owned(), path: path.trim_end_matches('/').to_owned(), shown: link })
}

fn host_matches(link: &str, p: &HostPattern) -> bool {
    let (host, path) = link.split_once('/').unwrap_or((link, ""));
    let host_ok = host == p.host || host.strip_suffix(&p.host).is_some_and(|sub| sub.ends_with('.'));
    host_ok
        && (p.path.is_empty()
            || path == p.path
            || path.strip_prefix(&p.path).is_some_and(|rest| rest.starts_with(['/', '?', '#'])))
}

/// A link as compared: no scheme, no `www.`, the host in lower case, no fragment and no
/// trailing slash or punctuation. `None` for what is no link.
fn normalise_link(url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '>', '"', '\'']);
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|s| url.get(..s.len()).filter(|p| p.eq_ignore_ascii_case(s)).map(|_| &url[s.len()..]))
        .unwrap_or(url);
    let rest = rest.split('#').next().unwrap_or("");
    let (host, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = host.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    if host.is_empty() || !host.contains('.') || host.contains(char::is_whitespace) {
        return None;
    }
    let path = path.trim_start_matches('/').trim_end_matches('/');
    Some(if path.is_empty() { host.to_owned() } else { format!("{host}/{path}") })
}

/// Links written in a text: `http://` or `https://` up to white space or a bracket.
fn urls_in(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || "<>\"()[]{}".contains(c)).filter(|t| {
        let l = t.len().min(8);
        let head = t.get(..l).unwrap_or("").to_ascii_lowercase();
        head.starts_with("http://") || head.starts_with("https://")
    })
}

/// Hashtags written in a text, without `#`.
fn hashtags_in(text: &str) -> impl Iterator<Item = &str> {
    text.split('#').skip(1).filter_map(|rest| {
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        (end > 0).then(|| &rest[..end])
    })
}

/// A subject without its `Re:`, `Fwd:` and `Fw:` prefixes.
fn strip_reply_prefixes(subject: &str) -> &str {
    let mut s = subject.trim();
    loop {
        let lower = s.get(..4).unwrap_or(s).to_ascii_lowercase();
        let cut = if lower.starts_with("re:") || lower.starts_with("aw:") {
            3
        } else if lower.starts_with("fwd:") {
            4
        } else if lower.starts_with("fw:") {
            3
        } else {
            return s;
        };
        s = s[cut..].trim_start();
    }
}

/// An attachment name worth looking for: a file name with an extension and a stem of
/// at least five characters (`image001.png` is in every other message; the count of
/// holders drops it).
fn attachment_worth_looking_for(name: &str) -> bool {
    match name.rsplit_once('.') {
        Some((stem, ext)) => {
            stem.chars().count() >= 5
                && (1..=5).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphanumeric())
                && !name.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// The words of a text (letters and digits, lower case), each hashed.
fn word_hashes(text: &str) -> Vec<u64> {
    words_with_spans(text).0
}

/// The words of a text, hashed, with their byte spans.
fn words_with_spans(text: &str) -> (Vec<u64>, Vec<(usize, usize)>) {
    let (mut words, mut spans) = (Vec::new(), Vec::new());
    let mut start = None;
    let mut h = 0u64;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
                h = 0xcbf2_9ce4_8422_2325;
            }
            for l in c.to_lowercase() {
                h = mix(h ^ l as u64);
            }
        } else if let Some(s) = start.take() {
            words.push(h);
            spans.push((s, i));
        }
    }
    (words, spans)
}

/// The hash of a run of words.
fn run_hash(words: &[u64]) -> u64 {
    words.iter().fold(words.len() as u64, |acc, w| mix(acc.rotate_left(17) ^ w))
}

/// What names a post among the sightings: its account, id and time.
type PostKey<'a> = (&'a str, Option<&'a str>, DateTime<Utc>);

/// Gathers the sightings of a dump over a stream of posts.
pub struct SpreadAnalysis<'i> {
    index: &'i SpreadIndex,
    released: Option<DateTime<Utc>>,
    posts: u64,
    posts_with_sightings: u64,
    sightings: Vec<Sighting>,
}

impl<'i> SpreadAnalysis<'i> {
    /// An analysis over `index`, with the dump's release time when known.
    pub fn new(index: &'i SpreadIndex, released: Option<DateTime<Utc>>) -> SpreadAnalysis<'i> {
        SpreadAnalysis { index, released, posts: 0, posts_with_sightings: 0, sightings: Vec::new() }
    }

    /// Looks for the dump in one post; returns how many sightings it holds.
    pub fn observe(&mut self, post: &SpreadPost<'_>) -> usize {
        self.posts += 1;
        let found = self.index.sightings(post);
        if !found.is_empty() {
            self.posts_with_sightings += 1;
        }
        let n = found.len();
        self.sightings.extend(found);
        n
    }

    /// The report, with each spreader placed in the network that holds it.
    pub fn finish(mut self, networks: &[NetworkMembership]) -> SpreadReport {
        let member_of: HashMap<&str, &NetworkMembership> =
            networks.iter().flat_map(|n| n.accounts.iter().map(move |a| (a.as_str(), n))).collect();
        for s in &mut self.sightings {
            s.network = member_of.get(s.account.as_str()).map(|n| n.network.clone());
        }
        let hours = |t: DateTime<Utc>| self.released.map(|r| (t - r).num_seconds() as f64 / 3600.0);

        // Posts, not sightings, are counted per account, message, network and day.
        let mut post_keys: HashSet<PostKey<'_>> = HashSet::new();
        let mut accounts: HashMap<&str, (Spreader, HashSet<usize>)> = HashMap::new();
        let mut messages: HashMap<usize, (SightedMessage, HashSet<&str>, HashSet<PostKey<'_>>)> =
            HashMap::new();
        let mut days: HashMap<chrono::NaiveDate, u64> = HashMap::new();
        let mut by_kind: HashMap<MarkerKind, u64> = HashMap::new();
        let mut before_release = 0;
        for s in &self.sightings {
            *by_kind.entry(s.kind).or_default() += 1;
            let key = (s.account.as_str(), s.post_id.as_deref(), s.time);
            let new_post = post_keys.insert(key);
            let (acc, acc_messages) = accounts.entry(&s.account).or_insert_with(|| {
                (
                    Spreader {
                        account: s.account.clone(),
                        handle: s.handle.clone(),
                        first: s.time,
                        posts: 0,
                        messages: 0,
                        hours_after_release: None,
                        network: s.network.clone(),
                    },
                    HashSet::new(),
                )
            });
            if new_post {
                acc.posts += 1;
                *days.entry(s.time.date_naive()).or_default() += 1;
                if self.released.is_some_and(|r| s.time < r) {
                    before_release += 1;
                }
            }
            acc.first = acc.first.min(s.time);
            if acc.handle.is_none() {
                acc.handle.clone_from(&s.handle);
            }
            if let Some(m) = s.message {
                acc_messages.insert(m);
                let (sm, who, posts) = messages.entry(m).or_insert_with(|| {
                    (
                        SightedMessage {
                            index: m,
                            message: self.index.messages[m].clone(),
                            first: s.time,
                            first_account: s.account.clone(),
                            posts: 0,
                            accounts: 0,
                            kinds: Vec::new(),
                        },
                        HashSet::new(),
                        HashSet::new(),
                    )
                });
                if s.time < sm.first {
                    sm.first = s.time;
                    sm.first_account.clone_from(&s.account);
                }
                who.insert(&s.account);
                posts.insert(key);
                if !sm.kinds.contains(&s.kind) {
                    sm.kinds.push(s.kind);
                    sm.kinds.sort_unstable();
                }
            }
        }
        let mut spreaders: Vec<Spreader> = accounts
            .into_values()
            .map(|(mut s, m)| {
                s.messages = m.len();
                s.hours_after_release = hours(s.first);
                s
            })
            .collect();
        spreaders.sort_by(|a, b| {
            a.first.cmp(&b.first).then(b.posts.cmp(&a.posts)).then(a.account.cmp(&b.account))
        });
        let mut sighted: Vec<SightedMessage> = messages
            .into_values()
            .map(|(mut sm, who, posts)| {
                sm.accounts = who.len();
                sm.posts = posts.len() as u64;
                sm
            })
            .collect();
        sighted.sort_by(|a, b| a.first.cmp(&b.first).then(a.message.at.cmp(&b.message.at)));

        let mut net_spread: HashMap<&str, NetworkSpread> = HashMap::new();
        for s in &spreaders {
            let Some(n) = s.network.as_deref().and_then(|id| networks.iter().find(|n| n.network == id))
            else {
                continue;
            };
            let e = net_spread.entry(&n.network).or_insert_with(|| NetworkSpread {
                network: n.network.clone(),
                score: n.score,
                members: n.accounts.len(),
                spreaders: 0,
                posts: 0,
                share_of_posts: 0.0,
                first: s.first,
                accounts: Vec::new(),
            });
            e.spreaders += 1;
            e.posts += s.posts;
            e.first = e.first.min(s.first);
            e.accounts.push(s.account.clone());
        }
        let total_posts = self.posts_with_sightings.max(1) as f64;
        let mut net_spread: Vec<NetworkSpread> = net_spread
            .into_values()
            .map(|mut n| {
                n.share_of_posts = n.posts as f64 / total_posts;
                n
            })
            .collect();
        net_spread.sort_by(|a, b| {
            b.posts.cmp(&a.posts).then(a.first.cmp(&b.first)).then(a.network.cmp(&b.network))
        });

        let first_sighting = self.sightings.iter().min_by_key(|s| s.time).cloned();
        let mut timeline: Vec<DayCount> =
            days.into_iter().map(|(day, posts)| DayCount { day, posts }).collect();
        timeline.sort_by_key(|d| d.day);
        let mut report = SpreadReport {
            dump_messages: self.index.messages.len() as u64,
            posts: self.posts,
            posts_with_sightings: self.posts_with_sightings,
            by_kind: MarkerKind::ALL.iter().map(|k| (*k, by_kind.get(k).copied().unwrap_or(0))).collect(),
            first_hours_after_release: first_sighting.as_ref().and_then(|s| hours(s.time)),
            first_sighting,
            released: self.released,
            before_release,
            spreaders,
            messages: sighted,
            networks: net_spread,
            timeline,
            sightings: self.sightings,
            findings: Vec::new(),
        };
        report.findings = spread_findings(&report);
        report
    }
}

/// The findings of a spread: a network pushing the dump, posts made before its release,
/// and altered or forged messages being spread.
fn spread_findings(r: &SpreadReport) -> Vec<Finding> {
    let mut out = Vec::new();
    let span_of = |times: &mut dyn Iterator<Item = DateTime<Utc>>| {
        times.fold(None, |span: Option<TimeSpan>, t| {
            Some(match span {
                None => TimeSpan::new(t, t),
                Some(mut s) => {
                    s.extend(t);
                    s
                }
            })
        })
    };
    let evidence_of = |f: Finding, rows: &mut dyn Iterator<Item = &Sighting>| {
        rows.take(EVIDENCE_POSTS).fold(f, |f, s| {
            f.evidence(Evidence::new(
                "post",
                format!(
                    "{} ({}) at {}: {} {}",
                    s.handle.as_deref().unwrap_or(&s.account),
                    s.post_id.as_deref().unwrap_or("no id"),
                    s.time.to_rfc3339(),
                    s.kind.as_str(),
                    s.marker
                ),
                serde_json::to_value(s).unwrap_or_default(),
            ))
        })
    };
    let hashtag_used = r.by_kind.iter().any(|(k, n)| *k == MarkerKind::Hashtag && *n > 0);
    for n in &r.networks {
        let title = format!(
            "Network {} ({} accounts) spread the leaked mail: {} of its members, {} posts ({:.0}% of the dump's sightings)",
            n.network,
            n.members,
            n.spreaders,
            n.posts,
            100.0 * n.share_of_posts
        );
        let mut f = Finding::new(Engine::Mail, "dump_spread_network", &n.network, title)
            .summary(format!(
                "Accounts of the coordinated network {} (score {:.2}) posted the dump's links, hashtags or text, first at {}{}: {}.",
                n.network,
                n.score,
                n.first.to_rfc3339(),
                r.released
                    .map(|rel| format!(", {:+.1} h from the release", (n.first - rel).num_seconds() as f64 / 3600.0))
                    .unwrap_or_default(),
                n.accounts.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
            ))
            .severity(if n.spreaders >= 2 { Severity::High } else { Severity::Medium })
            .confidence((0.5 + 0.5 * n.score).min(0.95))
            .time_span(span_of(&mut r.sightings.iter().filter(|s| s.network.as_deref() == Some(&n.network)).map(|s| s.time)))
            .scope(n.network.clone())
            .technique(Technique::attack("T1114"))
            .technique(Technique::disarm("T0118"))
            .technique(Technique::disarm("T0049.001"));
        if hashtag_used {
            f = f.technique(Technique::disarm("T0049.002"));
        }
        out.push(evidence_of(
            f,
            &mut r.sightings.iter().filter(|s| s.network.as_deref() == Some(&n.network)),
        ));
    }
    if let Some(released) = r.released
        && r.before_release > 0
    {
        let early: Vec<&Sighting> = {
            let mut v: Vec<&Sighting> = r.sightings.iter().filter(|s| s.time < released).collect();
            v.sort_by_key(|s| s.time);
            v
        };
        let accounts: HashSet<&str> = early.iter().map(|s| s.account.as_str()).collect();
        let title = format!(
            "{} posts by {} accounts showed the leaked mail before its release at {}",
            r.before_release,
            accounts.len(),
            released.to_rfc3339()
        );
        let f = Finding::new(Engine::Mail, "dump_sighted_before_release", &released.to_rfc3339(), title)
            .summary(format!(
                "The first, by {}, came {:.1} hours before the release: whoever posts a leak's content before it is public had it early (the leaker, or an account fed by it).",
                early.first().map(|s| s.handle.as_deref().unwrap_or(&s.account)).unwrap_or(""),
                early.first().map(|s| (released - s.time).num_seconds() as f64 / 3600.0).unwrap_or(0.0)
            ))
            .severity(Severity::High)
            .confidence(0.7)
            .time_span(span_of(&mut early.iter().map(|s| s.time)))
            .technique(Technique::attack("T1114"))
            .technique(Technique::disarm("T0089.001"));
        out.push(evidence_of(f, &mut early.into_iter()));
    }
    for m in &r.messages {
        let Some(v) = m.message.verdict.filter(|v| {
            matches!(
                v,
                Verdict::BodyAltered
                    | Verdict::HeadersAltered
                    | Verdict::UnsignedHeaderChanged
                    | Verdict::Expired
            )
        }) else {
            continue;
        };
        let title = format!(
            "A {} message is being spread: {} ({} posts by {} accounts)",
            v.as_str(),
            m.message.message_id.as_deref().unwrap_or(&m.message.at),
            m.posts,
            m.accounts
        );
        let f = Finding::new(Engine::Mail, "altered_message_spread", &m.message.at, title)
            .summary(format!(
                "{} (subject {:?}) does not verify as sent ({}), and posts quote or link it, first at {} by {}.",
                m.message.at,
                m.message.subject.as_deref().unwrap_or(""),
                v.as_str(),
                m.first.to_rfc3339(),
                m.first_account
            ))
            .severity(Severity::High)
            .confidence(0.8)
            .time_span(Some(TimeSpan::new(m.first, m.first)))
            .technique(Technique::disarm("T0085.002"))
            .technique(Technique::attack("T1114"))
            .technique(Technique::disarm("T0118"));
        out.push(evidence_of(f, &mut r.sightings.iter().filter(|s| s.message == Some(m.index))));
    }
    if r.posts_with_sightings > 0 {
        let first = r.first_sighting.as_ref();
        let title = format!(
            "The leaked mail was seen in {} of {} posts by {} accounts",
            r.posts_with_sightings,
            r.posts,
            r.spreaders.len()
        );
        let f = Finding::new(Engine::Mail, "dump_sightings", &format!("{}|{}", r.dump_messages, r.posts), title)
            .summary(format!(
                "First sighting {} by {}; {} messages of {} named in posts; {} detected networks among the spreaders.",
                first.map(|s| s.time.to_rfc3339()).unwrap_or_default(),
                first.map(|s| s.handle.as_deref().unwrap_or(&s.account)).unwrap_or(""),
                r.messages.len(),
                r.dump_messages,
                r.networks.len()
            ))
            .severity(Severity::Info)
            .confidence(1.0)
            .time_span(span_of(&mut r.sightings.iter().map(|s| s.time)))
            .evidence(Evidence::new(
                "spreaders",
                "the earliest accounts",
                serde_json::to_value(r.spreaders.iter().take(EVIDENCE_POSTS).collect::<Vec<_>>()).unwrap_or_default(),
            ))
            .technique(Technique::attack("T1114"))
            .technique(Technique::disarm("T0118"));
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn message(id: &str, subject: &str, body: &str, attachment: Option<&str>) -> Message {
        let raw = match attachment {
            None => format!("From: a@x.org\nMessage-ID: <{id}>\nSubject: {subject}\n\n{body}\n"),
            Some(name) => format!(
                "From: a@x.org\nMessage-ID: <{id}>\nSubject: {subject}\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n{body}\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"{name}\"\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n"
            ),
        };
        Message::parse(raw.as_bytes()).expect("parse")
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2016, 10, 7, h, 0, 0).single().expect("time")
    }

    fn post<'a>(account: &'a str, time: DateTime<Utc>, text: &'a str, urls: &'a [String]) -> SpreadPost<'a> {
        SpreadPost { id: None, account, handle: None, time, text, urls, hashtags: &[] }
    }

    const SECRET: &str = "The donors meeting moves to the lake house on Thursday, keep the guest list between us.\n\
        > an older line quoted from another message in the thread here\n\
        Draft is at https://docs.example.com/d/4f9a2/edit please do not forward it";

    fn index() -> SpreadIndex {
        let mut idx = SpreadIndex::new(&["wikileaks.org/podesta-emails".into()], &["PodestaEmails*".into()])
            .expect("index");
        idx.add_message(
            "dump.mbox",
            0,
            &message("1@x", "Re: Lake house donors meeting moved", SECRET, Some("guest_list_final.pdf")),
            Some(Verdict::BodyAltered),
        );
        // A footer in every message is boilerplate, never a sighting.
        for i in 0..5 {
            let body = format!(
                "Message number {i} says something else entirely.\nSent from the campaign office, all rights reserved by the committee today."
            );
            idx.add_message(
                "dump.mbox",
                100 + i,
                &message(&format!("f{i}@x"), &format!("note {i}"), &body, None),
                Some(Verdict::Authentic),
            );
        }
        idx
    }

    fn kinds(s: &[Sighting]) -> Vec<(MarkerKind, Option<usize>)> {
        let mut v: Vec<_> = s.iter().map(|s| (s.kind, s.message)).collect();
        v.sort();
        v
    }

    #[test]
    fn a_post_quoting_a_run_of_text_names_the_message_and_shows_the_words() {
        let idx = index();
        let p = post(
            "u1",
            at(12),
            "LEAKED: they said \"moves to the lake house on Thursday, keep the guest list\" wow",
            &[],
        );
        let s = idx.sightings(&p);
        assert_eq!(kinds(&s), vec![(MarkerKind::Quote, Some(0))]);
        assert_eq!(s[0].marker, "moves to the lake house on Thursday, keep the guest list");
        // Seven words are not a quote; nor is the quoted line of another message.
        let short = post("u1", at(12), "moves to the lake house on Thursday", &[]);
        assert!(idx.sightings(&short).is_empty());
        let quoted = post("u1", at(12), "an older line quoted from another message in the thread here", &[]);
        assert!(idx.sightings(&quoted).is_empty());
    }

    #[test]
    fn boilerplate_shared_by_many_messages_is_no_sighting() {
        let idx = index();
        let p =
            post("u1", at(12), "Sent from the campaign office, all rights reserved by the committee", &[]);
        assert!(idx.sightings(&p).is_empty());
    }

    #[test]
    fn hosts_hashtags_subjects_links_and_attachments_are_each_seen() {
        let idx = index();
        let urls = vec!["https://WikiLeaks.org/podesta-emails/emailid/1234".to_owned()];
        let p = post("u1", at(12), "Lake House Donors Meeting Moved!! #PodestaEmails14", &urls);
        assert_eq!(
            kinds(&idx.sightings(&p)),
            vec![(MarkerKind::Host, None), (MarkerKind::Hashtag, None), (MarkerKind::Subject, Some(0))]
        );
        let p = post("u2", at(12), "see docs.example.com/d/4f9a2/edit", &[]);
        assert!(idx.sightings(&p).is_empty(), "a link without scheme in text is not extracted");
        let urls = vec!["http://docs.example.com/d/4f9a2/edit/".to_owned()];
        let p = post("u2", at(12), "and guest_list_final.pdf.", &urls);
        assert_eq!(
            kinds(&idx.sightings(&p)),
            vec![(MarkerKind::Link, Some(0)), (MarkerKind::Attachment, Some(0))]
        );
        // Another path on the host, a look-alike host and a bare hashtag prefix do not match.
        let urls = vec![
            "https://wikileaks.org/clinton-emails/1".to_owned(),
            "https://notwikileaks.org/podesta-emails".to_owned(),
        ];
        let p = post("u3", at(12), "#Podesta", &urls);
        assert!(idx.sightings(&p).is_empty());
        assert!(SpreadIndex::new(&["not a host".into()], &[]).is_err());
        assert!(SpreadIndex::new(&[], &["#".into()]).is_err());
    }

    #[test]
    fn the_report_orders_spreaders_places_networks_and_times_the_release() {
        let idx = index();
        let mut a = SpreadAnalysis::new(&idx, Some(at(16)));
        let urls = vec!["https://wikileaks.org/podesta-emails/".to_owned()];
        let posts = [
            ("late", at(20), "nothing to see"),
            ("b", at(18), "moves to the lake house on Thursday, keep the guest list between us"),
            ("a", at(15), "moves to the lake house on Thursday, keep the guest list between us"),
            ("b", at(17), "read it"),
            ("c", at(19), "read it"),
        ];
        for (acc, t, text) in posts {
            let u: &[String] = if text == "read it" { &urls } else { &[] };
            a.observe(&post(acc, t, text, u));
        }
        let net = NetworkMembership {
            network: "N1".into(),
            score: 0.6,
            accounts: vec!["b".into(), "c".into(), "z".into()],
        };
        let r = a.finish(&[net]);
        assert_eq!(r.posts, 5);
        assert_eq!(r.posts_with_sightings, 4);
        assert_eq!(r.before_release, 1);
        assert_eq!(r.first_hours_after_release, Some(-1.0));
        let order: Vec<(&str, u64, Option<&str>)> =
            r.spreaders.iter().map(|s| (s.account.as_str(), s.posts, s.network.as_deref())).collect();
        assert_eq!(order, vec![("a", 1, None), ("b", 2, Some("N1")), ("c", 1, Some("N1"))]);
        assert_eq!(r.networks.len(), 1);
        assert_eq!((r.networks[0].spreaders, r.networks[0].posts, r.networks[0].members), (2, 3, 3));
        assert_eq!(r.messages.len(), 1);
        assert_eq!(
            (r.messages[0].posts, r.messages[0].accounts, r.messages[0].first_account.as_str()),
            (2, 2, "a")
        );
        let kinds: Vec<&str> = r.findings.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec![
                "dump_spread_network",
                "dump_sighted_before_release",
                "altered_message_spread",
                "dump_sightings"
            ]
        );
        assert!(r.sightings.iter().filter(|s| s.account == "b").all(|s| s.network.as_deref() == Some("N1")));
    }

    #[test]
    fn the_summary_round_trips_through_its_stored_form() {
        let idx = index();
        let mut a = SpreadAnalysis::new(&idx, None);
        a.observe(&post("a", at(15), "#PodestaEmails", &[]));
        let s = SpreadSummary { report: a.finish(&[]), findings: 1, networks_detected: false, seconds: 0.5 };
        let stored = scrutineer_core::StoredSummary::new(&s).expect("serialize");
        assert_eq!(stored.body["posts_with_sightings"], 1);
        let back = stored.decode::<SpreadSummary>().expect("decode");
        assert_eq!(back.report.spreaders, s.report.spreaders);
        assert_eq!(back.report.by_kind, s.report.by_kind);
    }
}
