//! The normalised post every reader produces.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What sort of post this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostKind {
    /// A post of the account's own.
    Original,
    /// A repost of another post.
    Retweet,
    /// A reply to another post.
    Reply,
    /// A post quoting another.
    Quote,
}

impl PostKind {
    /// The kind a post's references make it, in the order every schema agrees on: a
    /// repost is a repost even when it quotes or replies, and a quote is a quote even
    /// when it replies.
    pub fn from_references(retweet: bool, quote: bool, reply: bool) -> PostKind {
        if retweet {
            PostKind::Retweet
        } else if quote {
            PostKind::Quote
        } else if reply {
            PostKind::Reply
        } else {
            PostKind::Original
        }
    }
}

/// Account metadata, where the input carries it (v1.1 `user`, v2 `includes.users`,
/// the IO archive's `user_*` columns, the IRA file's follower counts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountMeta<S = String> {
    /// When the account was created.
    pub created_at: Option<DateTime<Utc>>,
    /// Followers when the post was collected.
    pub followers: Option<u64>,
    /// Accounts it followed then.
    pub following: Option<u64>,
    /// The account's display name.
    pub display_name: Option<S>,
    /// The location the account gives.
    pub location: Option<S>,
    /// Free-text category the input assigns (the IRA file's `account_category`), kept
    /// only to carry it to exports; detection never reads it.
    pub category: Option<S>,
}

impl<S: PartialEq> AccountMeta<S> {
    /// The metadata, or `None` when the input gave none of it (so that posts without
    /// metadata compare and export alike whatever their reader).
    pub fn non_empty(self) -> Option<Self> {
        let empty = self.created_at.is_none()
            && self.followers.is_none()
            && self.following.is_none()
            && self.display_name.is_none()
            && self.location.is_none()
            && self.category.is_none();
        (!empty).then_some(self)
    }
}

/// What sort of reaction a [`Reaction`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReactionKind {
    /// A standard emoji, held in [`Reaction::emoji`].
    Emoji,
    /// A platform's custom emoji (a Telegram sticker-set emoji): [`Reaction::emoji`] holds
    /// the platform's id for it, not a character.
    CustomEmoji,
    /// A paid reaction (Telegram Stars): no emoji.
    Paid,
}

/// How many reacted to a post one way, as the platform counted them when the post was
/// collected (Telegram's reactions). Kept with the post for exports and analysts; detection
/// does not read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction<S = String> {
    /// What sort of reaction.
    pub kind: ReactionKind,
    /// The emoji, or the custom emoji's id; `None` for a paid reaction.
    pub emoji: Option<S>,
    /// How many reacted so.
    pub count: u64,
}

/// One social-media post, whatever format it came from. `S` is the string type: owned
/// (`String`, the default) or, as [`PostRef`], borrowed from the record it was read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post<S = String> {
    /// The platform's id for the post, when the input has one.
    pub id: Option<S>,
    /// The account key as it appears in the input: `author_id` for the IRA schema, the
    /// numeric user id for Twitter's schemas, the mapped column for generic CSV.
    pub account: S,
    /// The account's handle (screen name), when known.
    pub handle: Option<S>,
    /// When it was posted, in UTC.
    pub time: DateTime<Utc>,
    /// What sort of post it is.
    pub kind: PostKind,
    /// Its text (for retweets, the retweeted post's).
    pub text: S,
    /// For retweets: the id of the retweeted post, when known.
    pub retweeted_id: Option<S>,
    /// For retweets: the account (id or handle) that wrote the retweeted post.
    pub retweeted_account: Option<S>,
    /// For replies: the id of the post replied to.
    pub reply_to_id: Option<S>,
    /// For quotes: the id of the quoted post.
    pub quoted_id: Option<S>,
    /// Links as given (expanded where the input has the expansion).
    pub urls: Vec<S>,
    /// Hashtags without `#`, as written.
    pub hashtags: Vec<S>,
    /// Mentioned handles without `@`.
    pub mentions: Vec<S>,
    /// The post's language code, as the platform gives it.
    pub language: Option<S>,
    /// The client application (`Twitter Web Client`, `twitterfeed`, ...).
    pub client: Option<S>,
    /// The account's metadata, where the input carries it.
    pub account_meta: Option<AccountMeta<S>>,
    /// The conversation a comment belongs to, platform-qualified: a Reddit thread
    /// (`link_id`), a YouTube or TikTok video. `None` for platforms without threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<S>,
    /// The community the post was made in, platform-qualified: a subreddit, a Telegram
    /// chat or channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community: Option<S>,
    /// The reactions counted on the post, where the platform gives them, in the platform's
    /// order. Empty for platforms without reactions (and for posts without any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction<S>>,
}

/// A post whose strings borrow from the record it was read from where they can: CSV
/// readers hand these to per-post work, so that nothing is copied that is not kept.
pub type PostRef<'a> = Post<Cow<'a, str>>;

impl<S> Post<S> {
    /// A post with only the required fields set.
    pub fn from_parts(account: S, time: DateTime<Utc>, kind: PostKind, text: S) -> Post<S> {
        Post {
            id: None,
            account,
            handle: None,
            time,
            kind,
            text,
            retweeted_id: None,
            retweeted_account: None,
            reply_to_id: None,
            quoted_id: None,
            urls: Vec::new(),
            hashtags: Vec::new(),
            mentions: Vec::new(),
            language: None,
            client: None,
            account_meta: None,
            thread_id: None,
            community: None,
            reactions: Vec::new(),
        }
    }
}

impl Post {
    /// A post with only the required fields set.
    pub fn new(
        account: impl Into<String>,
        time: DateTime<Utc>,
        kind: PostKind,
        text: impl Into<String>,
    ) -> Post {
        Post::from_parts(account.into(), time, kind, text.into())
    }
}

impl<'a> PostRef<'a> {
    /// The post with every string owned.
    pub fn into_owned(self) -> Post {
        let own = |s: Option<Cow<'a, str>>| s.map(Cow::into_owned);
        let own_all = |v: Vec<Cow<'a, str>>| v.into_iter().map(Cow::into_owned).collect();
        Post {
            id: own(self.id),
            account: self.account.into_owned(),
            handle: own(self.handle),
            time: self.time,
            kind: self.kind,
            text: self.text.into_owned(),
            retweeted_id: own(self.retweeted_id),
            retweeted_account: own(self.retweeted_account),
            reply_to_id: own(self.reply_to_id),
            quoted_id: own(self.quoted_id),
            urls: own_all(self.urls),
            hashtags: own_all(self.hashtags),
            mentions: own_all(self.mentions),
            language: own(self.language),
            client: own(self.client),
            account_meta: self.account_meta.map(|m| AccountMeta {
                created_at: m.created_at,
                followers: m.followers,
                following: m.following,
                display_name: own(m.display_name),
                location: own(m.location),
                category: own(m.category),
            }),
            thread_id: own(self.thread_id),
            community: own(self.community),
            reactions: self
                .reactions
                .into_iter()
                .map(|r| Reaction { kind: r.kind, emoji: own(r.emoji), count: r.count })
                .collect(),
        }
    }
}

impl Post {
    /// The post as a [`PostRef`] that owns its strings: moved, never copied (the lists'
    /// buffers are reused in place, as `String` and `Cow<str>` have one layout), so that a
    /// transform taking a [`PostRef`] and keeping its strings ([`PostRef::into_owned`])
    /// copies nothing either.
    pub(crate) fn into_cows(self) -> PostRef<'static> {
        fn cow(s: Option<String>) -> Option<Cow<'static, str>> {
            s.map(Cow::Owned)
        }
        fn cows(v: Vec<String>) -> Vec<Cow<'static, str>> {
            v.into_iter().map(Cow::Owned).collect()
        }
        Post {
            id: cow(self.id),
            account: Cow::Owned(self.account),
            handle: cow(self.handle),
            time: self.time,
            kind: self.kind,
            text: Cow::Owned(self.text),
            retweeted_id: cow(self.retweeted_id),
            retweeted_account: cow(self.retweeted_account),
            reply_to_id: cow(self.reply_to_id),
            quoted_id: cow(self.quoted_id),
            urls: cows(self.urls),
            hashtags: cows(self.hashtags),
            mentions: cows(self.mentions),
            language: cow(self.language),
            client: cow(self.client),
            account_meta: self.account_meta.map(|m| AccountMeta {
                created_at: m.created_at,
                followers: m.followers,
                following: m.following,
                display_name: cow(m.display_name),
                location: cow(m.location),
                category: cow(m.category),
            }),
            thread_id: cow(self.thread_id),
            community: cow(self.community),
            reactions: self
                .reactions
                .into_iter()
                .map(|r| Reaction { kind: r.kind, emoji: cow(r.emoji), count: r.count })
                .collect(),
        }
    }

    /// The post as a [`PostRef`] borrowing its strings.
    pub fn borrowed(&self) -> PostRef<'_> {
        fn lend(s: &Option<String>) -> Option<Cow<'_, str>> {
            s.as_deref().map(Cow::Borrowed)
        }
        fn lend_all(v: &[String]) -> Vec<Cow<'_, str>> {
            v.iter().map(|s| Cow::Borrowed(s.as_str())).collect()
        }
        Post {
            id: lend(&self.id),
            account: Cow::Borrowed(&self.account),
            handle: lend(&self.handle),
            time: self.time,
            kind: self.kind,
            text: Cow::Borrowed(&self.text),
            retweeted_id: lend(&self.retweeted_id),
            retweeted_account: lend(&self.retweeted_account),
            reply_to_id: lend(&self.reply_to_id),
            quoted_id: lend(&self.quoted_id),
            urls: lend_all(&self.urls),
            hashtags: lend_all(&self.hashtags),
            mentions: lend_all(&self.mentions),
            language: lend(&self.language),
            client: lend(&self.client),
            account_meta: self.account_meta.as_ref().map(|m| AccountMeta {
                created_at: m.created_at,
                followers: m.followers,
                following: m.following,
                display_name: lend(&m.display_name),
                location: lend(&m.location),
                category: lend(&m.category),
            }),
            thread_id: lend(&self.thread_id),
            community: lend(&self.community),
            reactions: self
                .reactions
                .iter()
                .map(|r| Reaction { kind: r.kind, emoji: lend(&r.emoji), count: r.count })
                .collect(),
        }
    }
}
