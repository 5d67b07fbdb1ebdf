//! The normalised post every reader produces.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What sort of post this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostKind {
    Original,
    Retweet,
    Reply,
    Quote,
}

/// Account metadata, where the input carries it (v1.1 `user`, v2 `includes.users`,
/// the IO archive's `user_*` columns, the IRA file's follower counts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountMeta {
    pub created_at: Option<DateTime<Utc>>,
    pub followers: Option<u64>,
    pub following: Option<u64>,
    pub display_name: Option<String>,
    pub location: Option<String>,
    /// Free-text category the input assigns (the IRA file's `account_category`), kept
    /// only to carry it to exports; detection never reads it.
    pub category: Option<String>,
}

/// One social-media post, whatever format it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// The platform's id for the post, when the input has one.
    pub id: Option<String>,
    /// The account key as it appears in the input: `author_id` for the IRA schema, the
    /// numeric user id for Twitter's schemas, the mapped column for generic CSV.
    pub account: String,
    /// The account's handle (screen name), when known.
    pub handle: Option<String>,
    pub time: DateTime<Utc>,
    pub kind: PostKind,
    pub text: String,
    /// For retweets: the id of the retweeted post, when known.
    pub retweeted_id: Option<String>,
    /// For retweets: the account (id or handle) that wrote the retweeted post.
    pub retweeted_account: Option<String>,
    /// For replies: the id of the post replied to.
    pub reply_to_id: Option<String>,
    /// For quotes: the id of the quoted post.
    pub quoted_id: Option<String>,
    /// Links as given (expanded where the input has the expansion).
    pub urls: Vec<String>,
    /// Hashtags without `#`, as written.
    pub hashtags: Vec<String>,
    /// Mentioned handles without `@`.
    pub mentions: Vec<String>,
    pub language: Option<String>,
    /// The client application (`Twitter Web Client`, `twitterfeed`, ...).
    pub client: Option<String>,
    pub account_meta: Option<AccountMeta>,
}

impl Post {
    /// A post with only the required fields set.
    pub fn new(
        account: impl Into<String>,
        time: DateTime<Utc>,
        kind: PostKind,
        text: impl Into<String>,
    ) -> Post {
        Post {
            id: None,
            account: account.into(),
            handle: None,
            time,
            kind,
            text: text.into(),
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
        }
    }
}
