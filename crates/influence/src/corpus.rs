//! Ingest: posts are reduced, as they stream past, to interned accounts, per-account
//! profiles and compact per-behaviour actions. Nothing else of a post is kept except a
//! few sample texts per account, so memory grows with accounts and actions, not text.

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::normalize::{hash_str, hashtag_set_key, normalize_text, normalize_url, token_set};
use crate::params::{Behaviour, ScanParams};
use crate::post::{Post, PostKind};

/// One account doing one thing at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    /// The shared thing (retweeted post, link, hashtag set, text), hashed.
    pub item: u64,
    /// Seconds since the Unix epoch.
    pub time: i64,
    pub account: u32,
    /// Index of the post in input order, so a post that matches twice counts once.
    pub post: u32,
}

/// A post kept as evidence.
#[derive(Debug, Clone, Serialize)]
pub struct SamplePost {
    pub id: Option<String>,
    pub time: DateTime<Utc>,
    pub kind: PostKind,
    pub text: String,
}

/// What is known of one account after ingest.
#[derive(Debug, Clone, Default)]
pub struct AccountProfile {
    pub key: String,
    pub handle: Option<String>,
    pub category: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub followers: Option<u64>,
    pub posts: u32,
    pub retweets: u32,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    /// Posts by UTC weekday (Monday = 0) and hour.
    pub week_hours: Vec<u32>,
    pub languages: Vec<(u32, u32)>,
    pub clients: Vec<(u32, u32)>,
    /// Normalised links posted, for the state-media share.
    pub link_hosts: Vec<(u32, u32)>,
    pub samples: Vec<SamplePost>,
}

fn bump(list: &mut Vec<(u32, u32)>, id: u32) {
    match list.iter_mut().find(|(k, _)| *k == id) {
        Some((_, n)) => *n += 1,
        None => list.push((id, 1)),
    }
}

/// A string interner for small vocabularies (languages, clients, hosts).
#[derive(Debug, Default)]
pub struct Vocabulary {
    index: FxHashMap<String, u32>,
    pub names: Vec<String>,
}

impl Vocabulary {
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }

    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map(String::as_str).unwrap_or("")
    }
}

/// A post with its item keys computed: the part of ingest that needs no shared state,
/// so it runs in parallel (see [`Preparer`]).
pub struct PreparedPost {
    post: Post,
    hosts: Vec<String>,
    /// (behaviour, item key, where its label comes from if this post is the first to
    /// show the item). Labels are made only then, on the committing thread.
    items: Vec<(Behaviour, u64, LabelSource)>,
    /// Normalised links, for the labels of co-link items.
    urls: Vec<String>,
    tokens: Option<(u64, Vec<u32>)>,
}

/// Where the evidence label of an item comes from.
enum LabelSource {
    /// The post's text (retweets, co-tweets).
    Text,
    /// The normalised link at this index.
    Url(usize),
    /// The item key itself (hashtag sets).
    Key(String),
}

/// Computes item keys of posts; cheap to copy to worker threads.
#[derive(Debug, Clone, Copy)]
pub struct Preparer {
    want: [bool; 5],
    keep_tokens: bool,
}

impl Preparer {
    pub fn prepare(&self, post: Post) -> PreparedPost {
        let mut items = Vec::new();
        let mut tokens = None;
        let normalized_urls: Vec<String> =
            post.urls.iter().filter(|u| !u.trim().is_empty()).map(|u| normalize_url(u)).collect();
        let hosts: Vec<String> =
            normalized_urls.iter().filter_map(|u| crate::normalize::url_host(u)).collect();
        if post.kind == PostKind::Retweet {
            if self.want[Behaviour::CoRetweet.index()] {
                let key = match (&post.retweeted_id, crate::read::text::split_rt_prefix(&post.text)) {
                    (Some(id), _) if !id.is_empty() => format!("id:{id}"),
                    (_, Some((handle, body))) => format!("text:@{handle}:{body}"),
                    _ => format!("text:@{}:{}", post.retweeted_account.as_deref().unwrap_or(""), post.text),
                };
                items.push((Behaviour::CoRetweet, hash_str(&key), LabelSource::Text));
            }
            // Links and hashtags in a retweet are the original author's, not the
            // retweeter's: they are counted as a co-retweet, not again here.
            return PreparedPost { post, hosts, items, tokens, urls: Vec::new() };
        }
        if self.want[Behaviour::CoLink.index()] {
            let mut seen: Vec<u64> = Vec::with_capacity(normalized_urls.len());
            for (i, u) in normalized_urls.iter().enumerate() {
                let item = hash_str(u);
                if !seen.contains(&item) {
                    seen.push(item);
                    items.push((Behaviour::CoLink, item, LabelSource::Url(i)));
                }
            }
        }
        if self.want[Behaviour::CoHashtag.index()]
            && let Some(key) = hashtag_set_key(&post.hashtags)
        {
            items.push((Behaviour::CoHashtag, hash_str(&key), LabelSource::Key(key)));
        }
        if self.want[Behaviour::CoTweet.index()] {
            let text = normalize_text(&post.text);
            // Empty text (a post that was only mentions) is not evidence of anything;
            // the toolkit matches empty texts together, which we do not.
            if !text.is_empty() {
                let item = hash_str(&text);
                if self.keep_tokens {
                    tokens = Some((item, token_set(&text)));
                }
                items.push((Behaviour::CoTweet, item, LabelSource::Text));
            }
        }
        PreparedPost { post, hosts, items, tokens, urls: normalized_urls }
    }
}

/// The slot of a time in a week of hours: UTC weekday (Monday = 0) × 24 + hour, from
/// seconds since the epoch (1970-01-01 was a Thursday).
fn week_hour(time: i64) -> usize {
    let weekday = (time.div_euclid(86_400) + 3).rem_euclid(7) as usize;
    weekday * 24 + (time.rem_euclid(86_400) / 3600) as usize
}

/// Everything detection needs, built by streaming posts into [`Corpus::add`].
pub struct Corpus {
    pub accounts: Vec<AccountProfile>,
    account_index: FxHashMap<String, u32>,
    /// Actions per windowed behaviour (indexed by [`Behaviour::index`]; sync has none here).
    pub actions: [Vec<Action>; 4],
    /// Human-readable label of each item key, kept for evidence.
    pub labels: FxHashMap<u64, Box<str>>,
    /// Token sets of distinct co-tweet texts, for near-duplicate matching.
    pub text_tokens: FxHashMap<u64, Vec<u32>>,
    /// (account, minute since epoch) of every post, for synchronised activity.
    pub minutes: Vec<(u32, u32)>,
    pub languages: Vocabulary,
    pub clients: Vocabulary,
    pub hosts: Vocabulary,
    pub posts: u64,
    pub span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    samples_per_account: usize,
    keep_tokens: bool,
    want: [bool; 5],
}

const LABEL_CHARS: usize = 200;

fn label(s: &str) -> Box<str> {
    if s.chars().count() <= LABEL_CHARS {
        s.into()
    } else {
        s.chars().take(LABEL_CHARS).collect::<String>().into()
    }
}

impl Corpus {
    pub fn new(params: &ScanParams) -> Corpus {
        let mut want = [false; 5];
        for b in &params.behaviours {
            want[b.index()] = true;
        }
        Corpus {
            accounts: Vec::new(),
            account_index: FxHashMap::default(),
            actions: Default::default(),
            labels: FxHashMap::default(),
            text_tokens: FxHashMap::default(),
            minutes: Vec::new(),
            languages: Vocabulary::default(),
            clients: Vocabulary::default(),
            hosts: Vocabulary::default(),
            posts: 0,
            span: None,
            samples_per_account: 3,
            keep_tokens: params.text_similarity < 1.0,
            want,
        }
    }

    pub fn account_id(&self, key: &str) -> Option<u32> {
        self.account_index.get(key).copied()
    }

    fn intern_account(&mut self, key: &str) -> u32 {
        if let Some(&i) = self.account_index.get(key) {
            return i;
        }
        let i = self.accounts.len() as u32;
        self.accounts.push(AccountProfile {
            key: key.to_owned(),
            week_hours: vec![0; 168],
            ..Default::default()
        });
        self.account_index.insert(key.to_owned(), i);
        i
    }

    /// Adds one post. Posts may come in any order.
    pub fn add(&mut self, post: Post) {
        let prepared = self.prepare(post);
        self.commit(prepared);
    }

    /// The settings [`Corpus::prepare`] needs, so batches can be prepared on other
    /// threads while the corpus is borrowed elsewhere.
    pub fn preparer(&self) -> Preparer {
        Preparer { want: self.want, keep_tokens: self.keep_tokens }
    }

    fn prepare(&self, post: Post) -> PreparedPost {
        self.preparer().prepare(post)
    }

    /// Adds a post whose keys were computed by [`Preparer::prepare`].
    pub fn commit(&mut self, prep: PreparedPost) {
        let post = prep.post;
        let post_index = self.posts as u32;
        self.posts += 1;
        let account = self.intern_account(&post.account);
        let time = post.time.timestamp();
        self.span = Some(match self.span {
            None => (post.time, post.time),
            Some((a, b)) => (a.min(post.time), b.max(post.time)),
        });

        let lang = post.language.as_deref().filter(|l| !l.is_empty()).map(|l| self.languages.id(l));
        let client = post.client.as_deref().filter(|c| !c.is_empty()).map(|c| self.clients.id(c));
        let keep_sample = self.accounts[account as usize].samples.len() < self.samples_per_account;
        {
            let p = &mut self.accounts[account as usize];
            p.posts += 1;
            if post.kind == PostKind::Retweet {
                p.retweets += 1;
            }
            p.first = Some(p.first.map_or(post.time, |f| f.min(post.time)));
            p.last = Some(p.last.map_or(post.time, |l| l.max(post.time)));
            p.week_hours[week_hour(time)] += 1;
            if p.handle.is_none() {
                p.handle = post.handle.clone();
            }
            if let Some(meta) = &post.account_meta {
                if p.created_at.is_none() {
                    p.created_at = meta.created_at;
                }
                if p.category.is_none() {
                    p.category = meta.category.clone();
                }
                if meta.followers.is_some() {
                    p.followers = meta.followers;
                }
            }
            if let Some(l) = lang {
                bump(&mut p.languages, l);
            }
            if let Some(c) = client {
                bump(&mut p.clients, c);
            }
            for h in &prep.hosts {
                bump(&mut p.link_hosts, self.hosts.id(h));
            }
        }

        if self.want[Behaviour::Sync.index()] {
            let minute = (time.div_euclid(60)).clamp(0, u32::MAX as i64) as u32;
            self.minutes.push((account, minute));
        }
        for (behaviour, item, source) in prep.items {
            if let std::collections::hash_map::Entry::Vacant(slot) = self.labels.entry(item) {
                slot.insert(match source {
                    LabelSource::Text => label(&post.text),
                    LabelSource::Url(i) => label(prep.urls.get(i).map_or("", String::as_str)),
                    LabelSource::Key(key) => label(&key),
                });
            }
            self.actions[behaviour.index()].push(Action { item, time, account, post: post_index });
        }
        if let Some((item, tokens)) = prep.tokens {
            self.text_tokens.entry(item).or_insert(tokens);
        }
        if keep_sample {
            self.accounts[account as usize].samples.push(SamplePost {
                id: post.id,
                time: post.time,
                kind: post.kind,
                text: post.text,
            });
        }
    }

    pub fn account_key(&self, id: u32) -> &str {
        self.accounts.get(id as usize).map(|a| a.key.as_str()).unwrap_or("")
    }
}

/// Posts per batch handed from the parsing thread to the preparing threads.
const BATCH: usize = 4096;

/// Reads posts from `input` into `corpus` using every core: one thread parses, the
/// rayon pool computes item keys, and this thread commits them in input order (so the
/// result is identical to adding posts one by one).
pub fn ingest<R: std::io::Read + Send>(
    corpus: &mut Corpus,
    input: R,
    source_name: &str,
    format: &crate::read::Format,
) -> Result<crate::read::ReadReport, crate::read::ReadError> {
    use rayon::prelude::*;
    let preparer = corpus.preparer();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Post>>(4);
    std::thread::scope(|scope| {
        let parser = scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let report = crate::read::read_posts(input, source_name, format, |post| {
                batch.push(post);
                if batch.len() == BATCH {
                    // The receiver only stops early if the main thread panicked.
                    let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                }
            });
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
            report
        });
        // Keys of the next batch are computed (on the rayon pool) while this thread
        // commits the previous one; batches stay in input order through both channels.
        let (prepared_tx, prepared_rx) = std::sync::mpsc::sync_channel::<Vec<PreparedPost>>(2);
        scope.spawn(move || {
            for batch in rx {
                let prepared: Vec<PreparedPost> =
                    batch.into_par_iter().map(|p| preparer.prepare(p)).collect();
                if prepared_tx.send(prepared).is_err() {
                    break;
                }
            }
        });
        for prepared in prepared_rx {
            for p in prepared {
                corpus.commit(p);
            }
        }
        match parser.join() {
            Ok(report) => report,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike};

    proptest::proptest! {
        #[test]
        fn week_hour_agrees_with_the_calendar(t in -10_000_000_000i64..10_000_000_000) {
            let dt = Utc.timestamp_opt(t, 0).single().expect("in range");
            let want = dt.weekday().num_days_from_monday() as usize * 24 + dt.hour() as usize;
            proptest::prop_assert_eq!(week_hour(t), want);
        }
    }
}
