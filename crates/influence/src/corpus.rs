//! Ingest: posts are reduced, as they stream past, to interned accounts, per-account
//! profiles and compact per-behaviour actions. Nothing else of a post is kept except a
//! few sample texts per account, so memory grows with accounts and actions, not text.

use chrono::{DateTime, Datelike, Timelike, Utc};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::normalize::{
    hash_str, hashtag_set_key, normalize_text, normalize_url, split_retweet_prefix, token_set,
};
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
    if s.chars().count() <= LABEL_CHARS { s.into() } else { s.chars().take(LABEL_CHARS).collect::<String>().into() }
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
        self.accounts.push(AccountProfile { key: key.to_owned(), week_hours: vec![0; 168], ..Default::default() });
        self.account_index.insert(key.to_owned(), i);
        i
    }

    fn remember(&mut self, item: u64, text: &str) {
        self.labels.entry(item).or_insert_with(|| label(text));
    }

    /// Adds one post. Posts may come in any order.
    pub fn add(&mut self, post: Post) {
        let post_index = self.posts as u32;
        self.posts += 1;
        let account = self.intern_account(&post.account);
        let time = post.time.timestamp();
        self.span = Some(match self.span {
            None => (post.time, post.time),
            Some((a, b)) => (a.min(post.time), b.max(post.time)),
        });

        // Profile.
        let lang = post.language.as_deref().filter(|l| !l.is_empty()).map(|l| self.languages.id(l));
        let client = post.client.as_deref().filter(|c| !c.is_empty()).map(|c| self.clients.id(c));
        let normalized_urls: Vec<String> = post.urls.iter().filter(|u| !u.trim().is_empty()).map(|u| normalize_url(u)).collect();
        let hosts: Vec<u32> = normalized_urls
            .iter()
            .filter_map(|u| crate::normalize::url_host(u))
            .map(|h| self.hosts.id(&h))
            .collect();
        {
            let p = &mut self.accounts[account as usize];
            p.posts += 1;
            if post.kind == PostKind::Retweet {
                p.retweets += 1;
            }
            p.first = Some(p.first.map_or(post.time, |f| f.min(post.time)));
            p.last = Some(p.last.map_or(post.time, |l| l.max(post.time)));
            let slot = post.time.weekday().num_days_from_monday() as usize * 24 + post.time.hour() as usize;
            p.week_hours[slot] += 1;
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
            for h in &hosts {
                bump(&mut p.link_hosts, *h);
            }
            if p.samples.len() < self.samples_per_account {
                p.samples.push(SamplePost { id: post.id.clone(), time: post.time, kind: post.kind, text: post.text.clone() });
            }
        }

        if self.want[Behaviour::Sync.index()] {
            let minute = (time.div_euclid(60)).clamp(0, u32::MAX as i64) as u32;
            self.minutes.push((account, minute));
        }

        if post.kind == PostKind::Retweet {
            if self.want[Behaviour::CoRetweet.index()] {
                let (key, shown) = match (&post.retweeted_id, split_retweet_prefix(&post.text)) {
                    (Some(id), _) if !id.is_empty() => (format!("id:{id}"), post.text.clone()),
                    (_, Some((handle, body))) => (format!("text:@{handle}:{body}"), post.text.clone()),
                    _ => {
                        let author = post.retweeted_account.clone().unwrap_or_default();
                        (format!("text:@{author}:{}", post.text), post.text.clone())
                    }
                };
                let item = hash_str(&key);
                self.remember(item, &shown);
                self.actions[Behaviour::CoRetweet.index()].push(Action { item, time, account, post: post_index });
            }
            // Links and hashtags in a retweet are the original author's, not the
            // retweeter's: they are counted as a co-retweet, not again here.
            return;
        }

        if self.want[Behaviour::CoLink.index()] {
            let mut seen: Vec<u64> = Vec::with_capacity(normalized_urls.len());
            for u in &normalized_urls {
                let item = hash_str(u);
                if seen.contains(&item) {
                    continue;
                }
                seen.push(item);
                self.remember(item, u);
                self.actions[Behaviour::CoLink.index()].push(Action { item, time, account, post: post_index });
            }
        }
        if self.want[Behaviour::CoHashtag.index()] {
            if let Some(key) = hashtag_set_key(&post.hashtags) {
                let item = hash_str(&key);
                self.remember(item, &key);
                self.actions[Behaviour::CoHashtag.index()].push(Action { item, time, account, post: post_index });
            }
        }
        if self.want[Behaviour::CoTweet.index()] {
            let text = normalize_text(&post.text);
            // Empty text (a post that was only mentions) is not evidence of anything;
            // the toolkit matches empty texts together, which we do not.
            if !text.is_empty() {
                let item = hash_str(&text);
                if self.keep_tokens && !self.text_tokens.contains_key(&item) {
                    self.text_tokens.insert(item, token_set(&text));
                }
                self.remember(item, &post.text);
                self.actions[Behaviour::CoTweet.index()].push(Action { item, time, account, post: post_index });
            }
        }
    }

    pub fn account_key(&self, id: u32) -> &str {
        self.accounts.get(id as usize).map(|a| a.key.as_str()).unwrap_or("")
    }
}
