//! Twitter's information-operations archive CSV (`tweetid, userid, user_display_name,
//! user_screen_name, ..., tweet_text, tweet_time, tweet_client_name, in_reply_to_tweetid,
//! quoted_tweet_tweetid, is_retweet, retweet_userid, retweet_tweetid, ..., hashtags, urls,
//! user_mentions, ...`), and the column subsets researchers circulate (for example
//! `tweetid, user_screen_name, ..., tweet_text, tweet_time` without `userid`).
//!
//! - Account: `userid`; when the file has no `userid` column, `user_screen_name`.
//! - Kind: `is_retweet` true = retweet (else a text starting `RT @handle:`),
//!   `quoted_tweet_tweetid` = quote, `in_reply_to_tweetid` = reply.
//! - `hashtags` and `urls` are list cells (`['a', 'b']`, `[]`); when a column is absent
//!   the text is scanned instead. `user_mentions` holds user ids, so mentions (handles)
//!   always come from the text.

use std::borrow::Cow;

use super::Fields;
use super::csvio::{Headers, Row, RowMapper, sub_cow};
use super::text::{
    extract_entities_for, owned_cows, parse_flag, split_list_cow, split_rt_prefix, strip_html,
};
use crate::post::{AccountMeta, PostKind, PostRef};

#[derive(Clone)]
pub(crate) struct IoMapper {
    account: usize,
    tweet_time: usize,
    tweetid: Option<usize>,
    screen_name: Option<usize>,
    display_name: Option<usize>,
    location: Option<usize>,
    followers: Option<usize>,
    following: Option<usize>,
    created: Option<usize>,
    tweet_language: Option<usize>,
    text: Option<usize>,
    client: Option<usize>,
    reply_to: Option<usize>,
    quoted: Option<usize>,
    is_retweet: Option<usize>,
    retweet_userid: Option<usize>,
    retweet_tweetid: Option<usize>,
    hashtags: Option<usize>,
    urls: Option<usize>,
}

impl IoMapper {
    pub fn from_headers(h: &Headers) -> Result<IoMapper, Vec<String>> {
        let account = h.find("userid").or_else(|| h.find("user_screen_name"));
        let tweet_time = h.find("tweet_time");
        let (Some(account), Some(tweet_time)) = (account, tweet_time) else {
            let mut missing = Vec::new();
            if account.is_none() {
                missing.push("userid (or user_screen_name)".to_string());
            }
            if tweet_time.is_none() {
                missing.push("tweet_time".to_string());
            }
            return Err(missing);
        };
        Ok(IoMapper {
            account,
            tweet_time,
            tweetid: h.find("tweetid"),
            screen_name: h.find("user_screen_name"),
            display_name: h.find("user_display_name"),
            location: h.find("user_reported_location"),
            followers: h.find("follower_count"),
            following: h.find("following_count"),
            created: h.find("account_creation_date"),
            tweet_language: h.find("tweet_language"),
            text: h.find("tweet_text"),
            client: h.find("tweet_client_name"),
            reply_to: h.find("in_reply_to_tweetid"),
            quoted: h.find("quoted_tweet_tweetid"),
            is_retweet: h.find("is_retweet"),
            retweet_userid: h.find("retweet_userid"),
            retweet_tweetid: h.find("retweet_tweetid"),
            hashtags: h.find("hashtags"),
            urls: h.find("urls"),
        })
    }
}

impl RowMapper for IoMapper {
    fn map<'r>(&mut self, row: &Row<'r>) -> Result<PostRef<'r>, String> {
        let account = row.account(self.account)?;
        let time = row.time(self.tweet_time)?;
        let text = self.text.map(|i| row.text(i)).unwrap_or_default();
        let flagged = match self.is_retweet {
            Some(i) => {
                let v = row.get(i);
                match parse_flag(&v) {
                    Some(b) => b,
                    None if v.is_empty() => false,
                    None => {
                        return Err(format!(
                            "field {}: cannot read '{}' as true/false",
                            row.name(i),
                            super::text::clip(&v)
                        ));
                    }
                }
            }
            None => false,
        };
        let retweeted_id = row.opt_id(self.retweet_tweetid);
        let mut retweeted_account = row.opt_id(self.retweet_userid);
        let quoted_id = row.opt_id(self.quoted);
        let reply_to_id = row.opt_id(self.reply_to);
        let rt_prefix = split_rt_prefix(&text);
        let kind = PostKind::from_references(
            flagged || retweeted_id.is_some() || (self.is_retweet.is_none() && rt_prefix.is_some()),
            quoted_id.is_some(),
            reply_to_id.is_some(),
        );
        if kind == PostKind::Retweet && retweeted_account.is_none() && self.retweet_userid.is_none() {
            // Without the id column, the handle in the prefix is the best there is.
            retweeted_account = rt_prefix.map(|(h, _)| sub_cow(&text, h));
        }
        let fields = row.fields;
        let wanted = Fields {
            urls: fields.urls && self.urls.is_none(),
            hashtags: fields.hashtags && self.hashtags.is_none(),
            mentions: fields.mentions,
        };
        let ents = extract_entities_for(&text, wanted);
        let mut post = PostRef::from_parts(account, time, kind, text);
        post.id = row.opt_id(self.tweetid);
        post.handle = row.opt(self.screen_name);
        post.retweeted_id = retweeted_id;
        post.retweeted_account = retweeted_account;
        post.reply_to_id = reply_to_id;
        post.quoted_id = quoted_id;
        post.urls = match self.urls {
            Some(i) if fields.urls => split_list_cow(row.get(i), None),
            _ => owned_cows(ents.urls),
        };
        post.hashtags = match self.hashtags {
            Some(i) if fields.hashtags => split_list_cow(row.get(i), None),
            _ => owned_cows(ents.hashtags),
        };
        post.mentions = owned_cows(ents.mentions);
        post.language = row.opt_id(self.tweet_language);
        post.client = row.opt(self.client).map(|c| Cow::Owned(strip_html(&c)));
        let meta = AccountMeta {
            created_at: row.opt_time(self.created),
            followers: row.count(self.followers),
            following: row.count(self.following),
            display_name: row.opt(self.display_name),
            location: row.opt(self.location),
            category: None,
        };
        post.account_meta = meta.non_empty();
        Ok(post)
    }
}

#[cfg(test)]
mod tests {
    use crate::post::PostKind;
    use crate::read::{Format, read_posts};

    const HEADER: &str = "tweetid,userid,user_display_name,user_screen_name,user_reported_location,user_profile_description,user_profile_url,follower_count,following_count,account_creation_date,account_language,tweet_language,tweet_text,tweet_time,tweet_client_name,in_reply_to_userid,in_reply_to_tweetid,quoted_tweet_tweetid,is_retweet,retweet_userid,retweet_tweetid,latitude,longitude,quote_count,reply_count,like_count,retweet_count,hashtags,urls,user_mentions,poll_choices";

    #[test]
    fn full_archive_rows() {
        let csv = format!(
            "{HEADER}\n\
             1001,42,Name,handle,Moscow,desc,,120,80,2014-05-01,ru,en,Hello #Tag https://t.co/z,2016-10-01 12:30,Twitter Web Client,,,,False,,,absent,absent,0,0,1,2,\"['Tag']\",\"['https://rt.com/a']\",[77],\n\
             1002,42,Name,handle,Moscow,desc,,120,80,2014-05-01,ru,en,RT @other: hi,2016-10-01 12:31,TweetDeck,,,,True,99,555,absent,absent,0,0,0,0,[],[],\"[99]\",\n\
             1003,43,,other,,,,nan,nan,2015-01-01,en,en,@handle yes,2016-10-01 12:32,,42,1001,,false,,,,,,,,,[],[],[42],\n\
             1004,43,,other,,,,,,,en,en,look,2016-10-01 12:33,,,,1001,false,,,,,,,,,[],[],[],\n"
        );
        let mut posts = Vec::new();
        let report = read_posts(csv.as_bytes(), "io.csv", &Format::Auto, |p| posts.push(p)).expect("reads");
        assert_eq!(report.format, "io-archive");
        assert_eq!(report.skipped, 0, "{:?}", report.skip_samples);
        assert_eq!(posts.len(), 4);
        assert_eq!(posts[0].account, "42");
        assert_eq!(posts[0].handle.as_deref(), Some("handle"));
        assert_eq!(posts[0].kind, PostKind::Original);
        assert_eq!(posts[0].hashtags, vec!["Tag"]);
        assert_eq!(posts[0].urls, vec!["https://rt.com/a"], "the urls column beats the t.co link");
        assert_eq!(posts[0].client.as_deref(), Some("Twitter Web Client"));
        let meta = posts[0].account_meta.as_ref().expect("meta");
        assert_eq!(meta.followers, Some(120));
        assert_eq!(meta.created_at.map(|t| t.to_rfc3339()).as_deref(), Some("2014-05-01T00:00:00+00:00"));
        assert_eq!(posts[1].kind, PostKind::Retweet);
        assert_eq!(posts[1].retweeted_id.as_deref(), Some("555"));
        assert_eq!(posts[1].retweeted_account.as_deref(), Some("99"));
        assert_eq!(posts[2].kind, PostKind::Reply);
        assert_eq!(posts[2].reply_to_id.as_deref(), Some("1001"));
        assert_eq!(posts[2].mentions, vec!["handle"]);
        assert_eq!(posts[2].account_meta.as_ref().and_then(|m| m.followers), None, "nan is no count");
        assert_eq!(posts[3].kind, PostKind::Quote);
    }

    #[test]
    fn subset_without_userid_uses_screen_name() {
        let csv = ",account_creation_date,bot_or_not,clean_tweet_text,follower_count,following_count,tweet_text,tweet_time,tweetid,user_profile_description,user_reported_location,user_screen_name\n\
            0,2014-10-26,1,x,22026,12966,RT @someone: yeah #tag,2015-09-27 11:46,648101329898868736,d,l,AndyHashtagger\n";
        let mut posts = Vec::new();
        let report = read_posts(csv.as_bytes(), "u.csv", &Format::Auto, |p| posts.push(p)).expect("reads");
        assert_eq!(report.format, "io-archive");
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].account, "AndyHashtagger");
        assert_eq!(posts[0].kind, PostKind::Retweet);
        assert_eq!(posts[0].retweeted_account.as_deref(), Some("someone"));
        assert_eq!(posts[0].hashtags, vec!["tag"]);
    }
}
