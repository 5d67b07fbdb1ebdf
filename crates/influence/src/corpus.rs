//! Ingest: posts are reduced, as they stream past, to interned accounts, per-account
//! profiles and compact per-behaviour actions. Nothing else of a post is kept except a
//! few sample texts per account, so memory grows with accounts and actions, not text.

use std::collections::hash_map::Entry;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use scrutineer_core::intern::{Interner, prefetch};
use serde::Serialize;
use smallvec::SmallVec;

use crate::keyset::KeySet;
use crate::normalize::{
    hash_bytes, hash_concat, hash_str, hashtag_set_key, normalize_text_into, push_normalized_url, token_set,
    trim_white,
};
use crate::params::{Behaviour, ScanParams};
use crate::post::{Post, PostKind, PostRef};

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
    /// The platform's post id, when known.
    pub id: Option<String>,
    /// When it was posted.
    pub time: DateTime<Utc>,
    /// What sort of post it is.
    pub kind: PostKind,
    /// Its text, clipped.
    pub text: String,
}

/// What is known of one account after ingest.
#[derive(Debug, Clone)]
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
    /// Posts by UTC weekday (Monday = 0) and hour. Kept inline: ingest bumps one slot per
    /// post, and a slot the profile points to elsewhere would cost a second cache miss.
    pub week_hours: [u32; 168],
    pub languages: Vec<(u32, u32)>,
    pub clients: Vec<(u32, u32)>,
    /// Normalised links posted, for the state-media share.
    pub link_hosts: Vec<(u32, u32)>,
    pub samples: Vec<SamplePost>,
}

impl Default for AccountProfile {
    fn default() -> AccountProfile {
        AccountProfile {
            key: String::new(),
            handle: None,
            category: None,
            created_at: None,
            followers: None,
            posts: 0,
            retweets: 0,
            first: None,
            last: None,
            week_hours: [0; 168],
            languages: Vec::new(),
            clients: Vec::new(),
            link_hosts: Vec::new(),
            samples: Vec::new(),
        }
    }
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
    /// The id given last: consecutive posts mostly repeat it (one language, one client,
    /// Twitter's link shortener), and comparing with it is cheaper than hashing.
    last: Option<u32>,
}

impl Vocabulary {
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(last) = self.last
            && self.names.get(last as usize).is_some_and(|name| name == s)
        {
            return last;
        }
        let i = match self.index.get(s) {
            Some(&i) => i,
            None => {
                let i = self.names.len() as u32;
                self.names.push(s.to_owned());
                self.index.insert(s.to_owned(), i);
                i
            }
        };
        self.last = Some(i);
        i
    }

    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map(String::as_str).unwrap_or("")
    }
}

/// A post reduced to what [`Corpus::commit`] needs, with its item keys computed: the
/// part of ingest that needs no shared state, so it runs in parallel (see [`Preparer`]).
/// Its text fields are copied into one buffer: the committing thread then frees two
/// allocations per post (the buffer and the box the post travels in) instead of one per
/// field (frees across threads are the allocator's slow path). Boxed, a post crosses
/// threads and batches as one pointer instead of being copied at every step.
pub struct PreparedPost {
    buf: String,
    account: Span,
    handle: Option<Span>,
    id: Option<Span>,
    time: DateTime<Utc>,
    kind: PostKind,
    /// The post's text, for item labels and sample posts.
    text: Span,
    language: Option<Span>,
    client: Option<Span>,
    created_at: Option<DateTime<Utc>>,
    category: Option<Span>,
    followers: Option<u64>,
    hosts: SmallVec<[Span; 2]>,
    /// (behaviour, item key, where its label comes from if this post is the second to
    /// show the item). Labels are made only then, on the committing thread.
    items: SmallVec<[(Behaviour, u64, LabelSource); 2]>,
    tokens: Option<(u64, Vec<u32>)>,
}

/// A piece of [`PreparedPost::buf`]: start and length in bytes.
#[derive(Clone, Copy)]
struct Span(u32, u32);

impl Span {
    /// The span of `range`. Spans are 32-bit: a post whose fields passed 4 GiB would keep
    /// empty ones.
    fn over(range: std::ops::Range<usize>) -> Span {
        match (u32::try_from(range.start), u32::try_from(range.len())) {
            (Ok(start), Ok(len)) if start.checked_add(len).is_some() => Span(start, len),
            _ => Span(0, 0),
        }
    }

    fn of(self, buf: &str) -> &str {
        buf.get(self.0 as usize..(self.0 + self.1) as usize).unwrap_or("")
    }
}

impl PreparedPost {
    /// Starts loading the cache lines [`Corpus::commit`] reads: the fields it uses, which
    /// lie on several lines of the box, and the whole buffer.
    fn prefetch(&self) {
        prefetch(&self.time);
        prefetch(&self.items);
        prefetch(&self.hosts);
        prefetch(&self.tokens);
        for line in self.buf.as_bytes().chunks(64) {
            prefetch(&line[0]);
        }
    }

    fn str(&self, span: Span) -> &str {
        span.of(&self.buf)
    }

    fn opt(&self, span: Option<Span>) -> Option<&str> {
        span.map(|s| self.str(s))
    }
}

/// Appends text to a [`PreparedPost`] buffer.
struct Writer(String);

impl Writer {
    fn put(&mut self, s: &str) -> Span {
        let start = self.0.len();
        self.0.push_str(s);
        Span::over(start..self.0.len())
    }

    fn put_opt(&mut self, s: Option<&str>) -> Option<Span> {
        s.map(|s| self.put(s))
    }

    /// Appends the normalised link and its host ([`push_normalized_url`]).
    fn put_url(&mut self, raw: &str) -> (Span, Option<Span>) {
        let (link, host) = push_normalized_url(raw, &mut self.0);
        (Span::over(link), host.map(Span::over))
    }
}

/// Where the evidence label of an item comes from.
enum LabelSource {
    /// The post's text (retweets, co-tweets).
    Text,
    /// A normalised link or a hashtag-set key, kept in the buffer.
    Span(Span),
}

thread_local! {
    /// The normalised text of the post being prepared: one buffer per thread, reused.
    static NORMALIZED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Computes item keys of posts; cheap to copy to worker threads.
#[derive(Debug, Clone, Copy)]
pub struct Preparer {
    want: [bool; Behaviour::ALL.len()],
    keep_tokens: bool,
}

impl Preparer {
    /// The entity lists [`Preparer::prepare`] reads: links always (for the link hosts),
    /// hashtags for co-hashtag only, mentions never.
    pub fn fields(&self) -> crate::read::Fields {
        crate::read::Fields {
            urls: true,
            hashtags: self.want[Behaviour::CoHashtag.index()] || self.want[Behaviour::CoTag.index()],
            mentions: false,
        }
    }

    pub fn prepare(&self, post: PostRef<'_>) -> PreparedPost {
        let mut items = SmallVec::new();
        let mut tokens = None;
        let meta = post.account_meta.as_ref();
        let size = post.account.len()
            + post.handle.as_ref().map_or(0, |h| h.len())
            + post.id.as_ref().map_or(0, |i| i.len())
            + post.text.len()
            + post.urls.iter().map(|u| 2 * u.len()).sum::<usize>();
        let mut w = Writer(String::with_capacity(size));
        let account = w.put(&post.account);
        let handle = w.put_opt(post.handle.as_deref());
        let id = w.put_opt(post.id.as_deref());
        let text = w.put(&post.text);
        let language = w.put_opt(post.language.as_deref());
        let client = w.put_opt(post.client.as_deref());
        let category = w.put_opt(meta.and_then(|m| m.category.as_deref()));
        let mut urls: SmallVec<[Span; 2]> = SmallVec::new();
        let mut hosts: SmallVec<[Span; 2]> = SmallVec::new();
        for u in post.urls.iter().filter(|u| !trim_white(u).is_empty()) {
            let (link, host) = w.put_url(u);
            // A retweet's links count for its hosts only (see below).
            if post.kind != PostKind::Retweet {
                urls.push(link);
            }
            hosts.extend(host);
        }
        if post.kind == PostKind::Retweet {
            if self.want[Behaviour::CoRetweet.index()] {
                let item = match (&post.retweeted_id, crate::read::text::split_rt_prefix(&post.text)) {
                    (Some(id), _) if !id.is_empty() => hash_concat(&["id:", id]),
                    (_, Some((handle, body))) => hash_concat(&["text:@", handle, ":", body]),
                    _ => hash_concat(&[
                        "text:@",
                        post.retweeted_account.as_deref().unwrap_or(""),
                        ":",
                        &post.text,
                    ]),
                };
                items.push((Behaviour::CoRetweet, item, LabelSource::Text));
            }
            // Links and hashtags in a retweet are the original author's, not the
            // retweeter's: they are counted as a co-retweet, not again here.
        } else {
            if self.want[Behaviour::CoLink.index()] {
                let mut seen: SmallVec<[u64; 4]> = SmallVec::new();
                for &span in &urls {
                    let item = hash_str(span.of(&w.0));
                    if !seen.contains(&item) {
                        seen.push(item);
                        items.push((Behaviour::CoLink, item, LabelSource::Span(span)));
                    }
                }
            }
            if self.want[Behaviour::CoHashtag.index()]
                && let Some(key) = hashtag_set_key(&post.hashtags)
            {
                items.push((Behaviour::CoHashtag, hash_str(&key), LabelSource::Span(w.put(&key))));
            }
            if self.want[Behaviour::CoTag.index()] {
                let mut seen: SmallVec<[u64; 4]> = SmallVec::new();
                for tag in &post.hashtags {
                    let Some(key) = hashtag_set_key(std::slice::from_ref(tag)) else { continue };
                    let item = hash_concat(&["tag:", &key]);
                    if !seen.contains(&item) {
                        seen.push(item);
                        items.push((Behaviour::CoTag, item, LabelSource::Span(w.put(&key))));
                    }
                }
            }
            // Platform-qualified ids (the platform readers') cannot meet across platforms.
            if self.want[Behaviour::CoReply.index()]
                && let Some(parent) = post.reply_to_id.as_deref().filter(|p| !p.is_empty())
            {
                items.push((
                    Behaviour::CoReply,
                    hash_concat(&["reply:", parent]),
                    LabelSource::Span(w.put(parent)),
                ));
            }
            if self.want[Behaviour::CoComment.index()]
                && post.kind == PostKind::Reply
                && let Some(thread) = post.thread_id.as_deref().filter(|t| !t.is_empty())
            {
                items.push((
                    Behaviour::CoComment,
                    hash_concat(&["thread:", thread]),
                    LabelSource::Span(w.put(thread)),
                ));
            }
            if self.want[Behaviour::CoTweet.index()] {
                NORMALIZED.with_borrow_mut(|text| {
                    normalize_text_into(&post.text, text);
                    // Empty text (a post that was only mentions) is not evidence of
                    // anything; the toolkit matches empty texts together, which we do not.
                    if !text.is_empty() {
                        let item = hash_bytes(text);
                        if self.keep_tokens {
                            // Normalised text is UTF-8: the check cannot fail.
                            tokens =
                                Some((item, std::str::from_utf8(text).map(token_set).unwrap_or_default()));
                        }
                        items.push((Behaviour::CoTweet, item, LabelSource::Text));
                    }
                });
            }
        }
        PreparedPost {
            buf: w.0,
            account,
            handle,
            id,
            time: post.time,
            kind: post.kind,
            text,
            language,
            client,
            created_at: meta.and_then(|m| m.created_at),
            category,
            followers: meta.and_then(|m| m.followers),
            hosts,
            items,
            tokens,
        }
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
    pub(crate) accounts: Vec<AccountProfile>,
    account_index: Interner,
    /// Actions per windowed behaviour (indexed by [`Behaviour::index`]; sync has none here).
    pub(crate) actions: [Vec<Action>; Behaviour::ALL.len()],
    /// Human-readable label of each item key, kept for evidence, from the second post
    /// that shows the item: an item seen once is shared with no one (near-duplicate texts
    /// aside, which are labelled at once), and most items are seen once, so their text is
    /// never copied.
    pub(crate) labels: FxHashMap<u64, Box<str>>,
    /// Item keys seen once so far: 8 bytes an item instead of a label's 24 and its text.
    seen_once: KeySet,
    /// Item keys seen more than once: the only items whose actions can pair accounts
    /// (near-duplicate texts, labelled at once and merged later, are left out).
    repeated: KeySet,
    /// Token sets of distinct co-tweet texts, for near-duplicate matching.
    pub(crate) text_tokens: FxHashMap<u64, Vec<u32>>,
    /// (account, minute since epoch) of every post, for synchronised activity.
    pub(crate) minutes: Vec<(u32, u32)>,
    pub(crate) languages: Vocabulary,
    pub(crate) clients: Vocabulary,
    pub(crate) hosts: Vocabulary,
    pub(crate) posts: u64,
    pub(crate) span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    samples_per_account: usize,
    keep_tokens: bool,
    want: [bool; Behaviour::ALL.len()],
    /// Rows of user-supplied items taken ([`Corpus::add_item`]): each is an action of its
    /// own, numbered after the posts like one.
    item_rows: u64,
}

const LABEL_CHARS: usize = 200;

fn label(s: &str) -> Box<str> {
    // A char takes at least one byte, so a short string needs no counting.
    if s.len() <= LABEL_CHARS {
        return s.into();
    }
    match s.char_indices().nth(LABEL_CHARS) {
        Some((end, _)) => s[..end].into(),
        None => s.into(),
    }
}

impl Corpus {
    /// Distinct accounts so far.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Posts taken so far.
    pub fn post_count(&self) -> u64 {
        self.posts
    }

    /// An empty corpus that keeps what the behaviours in `params` need.
    pub fn new(params: &ScanParams) -> Corpus {
        let mut want = [false; Behaviour::ALL.len()];
        for b in &params.behaviours {
            want[b.index()] = true;
        }
        Corpus {
            accounts: Vec::new(),
            account_index: Interner::new(),
            actions: Default::default(),
            labels: FxHashMap::default(),
            seen_once: KeySet::default(),
            repeated: KeySet::default(),
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
            item_rows: 0,
        }
    }

    /// Makes room for about `posts` posts: their actions and the set of item keys seen,
    /// which otherwise grow by doubling (copying what they hold, and touching fresh memory
    /// each time). A guess is enough: too low, they grow from there; too high, the actions'
    /// room is only reserved address space, but the key set is as large as the guess asks
    /// (8 bytes a slot, two slots a post), so guesses should err low.
    pub fn expect_posts(&mut self, posts: usize) {
        for b in Behaviour::ALL {
            if b != Behaviour::Sync && self.want[b.index()] {
                let actions = &mut self.actions[b.index()];
                actions.reserve(posts.saturating_sub(actions.len()));
            }
        }
        if self.seen_once.is_empty() {
            self.seen_once = KeySet::with_capacity(posts);
        }
    }

    /// The id of the account with input key `key`, once it has posted.
    pub(crate) fn account_id(&self, key: &str) -> Option<u32> {
        self.account_index.lookup(key.as_bytes())
    }

    fn intern_account(&mut self, key: &str) -> u32 {
        let (id, new) = self.account_index.intern(key.as_bytes());
        if new {
            self.accounts.push(AccountProfile { key: key.to_owned(), ..Default::default() });
        }
        id
    }

    /// Commits a batch of prepared posts in order. Accounts are interned for the whole
    /// batch first, and the table slot and profile each post will touch are prefetched a
    /// few posts ahead, so that the cache misses of consecutive posts overlap.
    // Boxed: the readers' mapping threads hand each prepared post over as it is made,
    // and a box moves as one pointer where the post moves whole.
    #[allow(clippy::vec_box)]
    pub(crate) fn commit_batch(&mut self, mut batch: Vec<Box<PreparedPost>>) {
        const AHEAD: usize = 8;
        // (account, week-hour slot) of each post.
        let mut at = Vec::with_capacity(batch.len());
        for (i, post) in batch.iter().enumerate() {
            // The posts were written on other threads: their boxes, then their buffers,
            // then the table slots of their accounts are fetched in steps ahead.
            if let Some(ahead) = batch.get(i + 3 * AHEAD) {
                prefetch(&**ahead);
            }
            if let Some(first) = batch.get(i + 2 * AHEAD).and_then(|ahead| ahead.buf.as_bytes().first()) {
                prefetch(first);
            }
            if let Some(ahead) = batch.get(i + AHEAD) {
                self.account_index.prefetch(ahead.str(ahead.account).as_bytes());
            }
            at.push((self.intern_account(post.str(post.account)), week_hour(post.time.timestamp())));
        }
        // The batch has left the cache by now: each post's box and buffer are fetched
        // again, whole, and then the set slots of its items and its account's profile.
        for i in 0..batch.len() {
            if let Some(ahead) = batch.get(i + 2 * AHEAD) {
                ahead.prefetch();
            }
            if let Some(ahead) = batch.get(i + AHEAD) {
                for &(_, item, _) in &ahead.items {
                    self.seen_once.prefetch(item);
                }
            }
            if let Some(&(account, slot)) = at.get(i + AHEAD) {
                let profile = &self.accounts[account as usize];
                prefetch(&profile.posts);
                prefetch(&profile.samples);
                prefetch(&profile.week_hours[slot]);
            }
            self.commit_as(at[i].0, &mut batch[i]);
        }
    }

    /// Adds a user-supplied action: `account` acted on `item` (an image's perceptual hash,
    /// a phone number, an ad library id) at `time`. Items are matched exactly, and go
    /// through the same window, chance filter and account test as every behaviour, as
    /// [`Behaviour::CoItem`]; `false` (and nothing added) when the scan does not compute
    /// it. An account first seen here gets a profile without posts.
    pub fn add_item(&mut self, account: &str, item: &str, time: DateTime<Utc>) -> bool {
        if !self.want[Behaviour::CoItem.index()] {
            return false;
        }
        let account = self.intern_account(account);
        let key = hash_concat(&["item:", item]);
        if !self.seen_once.insert(key) {
            self.repeated.insert(key);
            self.labels.entry(key).or_insert_with(|| label(item));
        }
        let post = (self.posts + self.item_rows) as u32;
        self.item_rows += 1;
        self.actions[Behaviour::CoItem.index()].push(Action {
            item: key,
            time: time.timestamp(),
            account,
            post,
        });
        true
    }

    /// Adds one post. Posts may come in any order.
    pub fn add(&mut self, post: Post) {
        let prepared = self.prepare(post.borrowed());
        self.commit(prepared);
    }

    /// The settings [`Corpus::prepare`] needs, so batches can be prepared on other
    /// threads while the corpus is borrowed elsewhere.
    pub(crate) fn preparer(&self) -> Preparer {
        Preparer { want: self.want, keep_tokens: self.keep_tokens }
    }

    fn prepare(&self, post: PostRef<'_>) -> PreparedPost {
        self.preparer().prepare(post)
    }

    /// Adds a post whose keys were computed by [`Preparer::prepare`].
    pub(crate) fn commit(&mut self, mut post: PreparedPost) {
        let account = self.intern_account(post.str(post.account));
        self.commit_as(account, &mut post);
    }

    /// [`Corpus::commit`] with the post's account already interned as `account`.
    fn commit_as(&mut self, account: u32, post: &mut PreparedPost) {
        let post_index = (self.posts + self.item_rows) as u32;
        self.posts += 1;
        let time = post.time.timestamp();
        self.span = Some(match self.span {
            None => (post.time, post.time),
            Some((a, b)) => (a.min(post.time), b.max(post.time)),
        });

        let lang = post.opt(post.language).filter(|l| !l.is_empty()).map(|l| self.languages.id(l));
        let client = post.opt(post.client).filter(|c| !c.is_empty()).map(|c| self.clients.id(c));
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
                p.handle = post.opt(post.handle).map(str::to_owned);
            }
            if p.created_at.is_none() {
                p.created_at = post.created_at;
            }
            if p.category.is_none() {
                p.category = post.opt(post.category).map(str::to_owned);
            }
            if post.followers.is_some() {
                p.followers = post.followers;
            }
            if let Some(l) = lang {
                bump(&mut p.languages, l);
            }
            if let Some(c) = client {
                bump(&mut p.clients, c);
            }
            for &h in &post.hosts {
                bump(&mut p.link_hosts, self.hosts.id(post.str(h)));
            }
        }

        if self.want[Behaviour::Sync.index()] {
            let minute = (time.div_euclid(60)).clamp(0, u32::MAX as i64) as u32;
            self.minutes.push((account, minute));
        }
        for &(behaviour, item, ref source) in &post.items {
            // Near-duplicate texts are matched to each other by their token sets, so a text
            // seen once may still be shared: it is labelled at once.
            let label_now = self.keep_tokens && behaviour == Behaviour::CoTweet;
            // (Labelled at once, near-duplicate texts need no record of repeats: their
            // items are merged before co-occurrence, which then keeps every action.)
            let again = !label_now && !self.seen_once.insert(item);
            if again {
                self.repeated.insert(item);
            }
            if (label_now || again)
                && let Entry::Vacant(slot) = self.labels.entry(item)
            {
                slot.insert(match *source {
                    LabelSource::Text => label(post.str(post.text)),
                    LabelSource::Span(span) => label(post.str(span)),
                });
            }
            self.actions[behaviour.index()].push(Action { item, time, account, post: post_index });
        }
        if keep_sample {
            self.accounts[account as usize].samples.push(SamplePost {
                id: post.opt(post.id).map(str::to_owned),
                time: post.time,
                kind: post.kind,
                text: post.str(post.text).to_owned(),
            });
        }
        if let Some((item, tokens)) = post.tokens.take() {
            self.text_tokens.entry(item).or_insert(tokens);
        }
    }

    /// Moves out of `actions` (keeping the order of the rest) those whose item no other
    /// action of the corpus has, and returns them. Such an action cannot pair two
    /// accounts; it only counts in the null model's statistics. `actions` must hold the
    /// items as committed (not merged since).
    pub(crate) fn take_singles(&self, actions: &mut Vec<Action>) -> Vec<Action> {
        // Room for all up front: most actions are singles, and growing by doubling would
        // copy them and touch fresh pages again at each step.
        let mut singles = Vec::with_capacity(actions.len());
        actions.retain(|a| {
            let repeated = self.repeated.contains(a.item);
            if !repeated {
                singles.push(*a);
            }
            repeated
        });
        singles
    }

    /// The input key of account `id` (empty for an unknown id).
    pub(crate) fn account_key(&self, id: u32) -> &str {
        self.accounts.get(id as usize).map(|a| a.key.as_str()).unwrap_or("")
    }
}

/// Prepared posts per batch handed from the reading thread to the committing one.
const BATCH: usize = 4096;

/// Reads posts from `input` into `corpus` using every core: the reader's threads parse
/// and map records and compute item keys (`Preparer::prepare`), and this thread
/// commits them in input order (so the result is identical to adding posts one by one).
pub fn ingest<R: std::io::Read + Send>(
    corpus: &mut Corpus,
    input: R,
    source_name: &str,
    format: &crate::read::Format,
) -> Result<crate::read::ReadReport, crate::read::ReadError> {
    ingest_limited(corpus, input, source_name, format, crate::read::DEFAULT_MAX_LINE_BYTES)
}

/// [`ingest`] with lines longer than `max_line` bytes skipped (see
/// [`crate::read::read_posts_limited`]).
pub fn ingest_limited<R: std::io::Read + Send>(
    corpus: &mut Corpus,
    input: R,
    source_name: &str,
    format: &crate::read::Format,
    max_line: usize,
) -> Result<crate::read::ReadReport, crate::read::ReadError> {
    let preparer = corpus.preparer();
    let prepare = move |post: PostRef<'_>| Box::new(preparer.prepare(post));
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Box<PreparedPost>>>(4);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let fields = preparer.fields();
            let report = crate::read::read_posts_limited(
                input,
                source_name,
                format,
                fields,
                max_line,
                &prepare,
                |post| {
                    batch.push(post);
                    if batch.len() == BATCH {
                        // The receiver only stops early if the main thread panicked.
                        let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                    }
                },
            );
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
            report
        });
        for batch in rx {
            corpus.commit_batch(batch);
        }
        match reader.join() {
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
        /// Ids are given in order of first appearance, the same for every repeat, and
        /// name what they stand for, runs of one value (the cached case) included.
        #[test]
        fn vocabulary_ids_are_first_appearance_order(words in proptest::collection::vec("[ab]{0,2}", 0..60)) {
            let mut vocabulary = Vocabulary::default();
            let mut want: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
            for w in &words {
                let next = want.len() as u32;
                let id = *want.entry(w.as_str()).or_insert(next);
                proptest::prop_assert_eq!(vocabulary.id(w), id);
                proptest::prop_assert_eq!(vocabulary.name(id), w.as_str());
            }
        }

        #[test]
        fn week_hour_agrees_with_the_calendar(t in -10_000_000_000i64..10_000_000_000) {
            let dt = Utc.timestamp_opt(t, 0).single().expect("in range");
            let want = dt.weekday().num_days_from_monday() as usize * 24 + dt.hour() as usize;
            proptest::prop_assert_eq!(week_hour(t), want);
        }
    }
}
