//! The Clemson/FiveThirtyEight IRA CSV (`external_author_id, author, content, region,
//! language, publish_date, ..., post_type, account_category, ..., tweet_id, tco1_step1,
//! ...`) and its per-author reorganisation (`author_id, content, region, language,
//! publish_date, harvested_date, following, followers, updates, post_type, retweet`).
//!
//! - Account: `author_id` when the column exists, else `author` (the handle).
//! - `publish_date` (`YYYY-MM-DD HH:MM:SS` or `M/D/YYYY H:MM`) has no zone: read as UTC.
//! - Kind: `post_type` blank = original, `RETWEET`/`R` = retweet, `QUOTE_TWEET`/`Q` = quote;
//!   a blank `post_type` with `retweet` = 1 is a retweet.
//! - Retweets whose content starts `RT @handle:` give `retweeted_account` = handle, and the
//!   text after the prefix; the per-author file already has the prefix removed.
//! - URLs: the expanded `tco1_step1..tco3_step1` when present, else links in the text.

use super::Fields;
use super::csvio::{Headers, Row, RowMapper, sub_cow};
use super::generic::parse_kind;
use super::text::{extract_entities_for, owned_cows, parse_flag, split_rt_prefix};
use crate::post::{AccountMeta, PostKind, PostRef};

#[derive(Clone)]
pub(crate) struct IraMapper {
    account: usize,
    author: Option<usize>,
    content: usize,
    publish_date: usize,
    language: Option<usize>,
    region: Option<usize>,
    following: Option<usize>,
    followers: Option<usize>,
    post_type: Option<usize>,
    retweet: Option<usize>,
    category: Option<usize>,
    tweet_id: Option<usize>,
    tco: Vec<usize>,
}

impl IraMapper {
    pub fn from_headers(h: &Headers) -> Result<IraMapper, Vec<String>> {
        let account = h.find("author_id").or_else(|| h.find("author"));
        let content = h.find("content");
        let publish_date = h.find("publish_date");
        let (Some(account), Some(content), Some(publish_date)) = (account, content, publish_date) else {
            let mut missing = Vec::new();
            if account.is_none() {
                missing.push("author_id (or author)".to_string());
            }
            if content.is_none() {
                missing.push("content".to_string());
            }
            if publish_date.is_none() {
                missing.push("publish_date".to_string());
            }
            return Err(missing);
        };
        Ok(IraMapper {
            account,
            author: h.find("author").filter(|&a| a != account),
            content,
            publish_date,
            language: h.find("language"),
            region: h.find("region"),
            following: h.find("following"),
            followers: h.find("followers"),
            post_type: h.find("post_type"),
            retweet: h.find("retweet"),
            category: h.find("account_category"),
            tweet_id: h.find("tweet_id"),
            tco: (1..=10).filter_map(|i| h.find(&format!("tco{i}_step1"))).collect(),
        })
    }
}

impl RowMapper for IraMapper {
    fn map<'r>(&mut self, row: &Row<'r>) -> Result<PostRef<'r>, String> {
        let account = row.account(self.account)?;
        let time = row.time(self.publish_date)?;
        let post_type = row.opt(self.post_type);
        let retweet_flag = row.opt(self.retweet).and_then(|v| parse_flag(&v)).unwrap_or(false);
        // Unknown post_type values fall back to the retweet flag.
        let kind = match post_type.as_deref().and_then(parse_kind) {
            Some(PostKind::Original) | None if retweet_flag => PostKind::Retweet,
            Some(kind) => kind,
            None => PostKind::Original,
        };
        let content = row.text(self.content);
        let mut retweeted_account = None;
        let text = match (kind, split_rt_prefix(&content)) {
            (PostKind::Retweet, Some((handle, rest))) => {
                retweeted_account = Some(sub_cow(&content, handle));
                sub_cow(&content, rest)
            }
            _ => content,
        };
        let expanded: Vec<_> = if row.fields.urls {
            self.tco.iter().filter_map(|&i| row.opt(Some(i))).collect()
        } else {
            Vec::new()
        };
        let wanted = Fields { urls: row.fields.urls && expanded.is_empty(), ..row.fields };
        let ents = extract_entities_for(&text, wanted);
        let mut post = PostRef::from_parts(account, time, kind, text);
        post.id = row.opt_id(self.tweet_id);
        post.handle = row.opt(self.author);
        post.retweeted_account = retweeted_account;
        post.urls = if expanded.is_empty() { owned_cows(ents.urls) } else { expanded };
        post.hashtags = owned_cows(ents.hashtags);
        post.mentions = owned_cows(ents.mentions);
        post.language = row.opt(self.language);
        let meta = AccountMeta {
            followers: row.count(self.followers),
            following: row.count(self.following),
            location: row.opt(self.region),
            category: row.opt(self.category),
            ..AccountMeta::default()
        };
        post.account_meta = meta.non_empty();
        Ok(post)
    }
}

#[cfg(test)]
mod tests {
    use crate::post::PostKind;
    use crate::read::{Format, ReadError, read_posts};

    fn read(csv: &str) -> (Vec<crate::Post>, crate::read::ReadReport) {
        let mut posts = Vec::new();
        let report = read_posts(csv.as_bytes(), "t.csv", &Format::Ira, |p| posts.push(p)).expect("reads");
        (posts, report)
    }

    #[test]
    fn per_author_file() {
        let csv = "author_id,content,region,language,publish_date,harvested_date,following,followers,updates,post_type,retweet\n\
            ten_gop,Vote! #MAGA https://t.co/x @someone,United States,English,2016-10-01 12:30:00,2016-10-01 12:31:00,10,2000,5,,0\n\
            ten_gop,the retweeted text,United States,English,2016-10-01 12:31:00,2016-10-01 12:31:00,10,2000,6,R,1\n\
            pamela,RT @TEN_GOP: with prefix,Unknown,English,10/2/2016 9:05,x,1,2,3,R,1\n\
            pamela,quoting,Unknown,English,2016-10-03 00:00:00,x,1,2,3,Q,1\n\
            pamela,flag only,Unknown,English,2016-10-03 00:00:00,x,1,2,3,,1\n";
        let (posts, report) = read(csv);
        assert_eq!(report.skipped, 0, "{:?}", report.skip_samples);
        assert_eq!(report.format, "ira");
        assert_eq!(posts.len(), 5);
        let p = &posts[0];
        assert_eq!(p.account, "ten_gop");
        assert_eq!(p.kind, PostKind::Original);
        assert_eq!(p.hashtags, vec!["MAGA"]);
        assert_eq!(p.urls, vec!["https://t.co/x"]);
        assert_eq!(p.mentions, vec!["someone"]);
        assert_eq!(p.time.to_rfc3339(), "2016-10-01T12:30:00+00:00");
        let meta = p.account_meta.as_ref().expect("meta");
        assert_eq!((meta.followers, meta.following), (Some(2000), Some(10)));
        assert_eq!(posts[1].kind, PostKind::Retweet);
        assert_eq!(posts[1].retweeted_account, None);
        assert_eq!(posts[2].retweeted_account.as_deref(), Some("TEN_GOP"));
        assert_eq!(posts[2].text, "with prefix");
        assert_eq!(posts[2].time.to_rfc3339(), "2016-10-02T09:05:00+00:00");
        assert_eq!(posts[3].kind, PostKind::Quote);
        assert_eq!(posts[4].kind, PostKind::Retweet);
    }

    #[test]
    fn original_clemson_file() {
        let csv = "external_author_id,author,content,region,language,publish_date,harvested_date,following,followers,updates,post_type,account_type,retweet,account_category,new_june_2018,alt_external_id,tweet_id,article_url,tco1_step1,tco2_step1,tco3_step1\n\
            906000000000000000,10_GOP,\"Hi, \"\"all\"\" https://t.co/a\",Unknown,English,10/1/2017 19:58,10/1/2017 19:59,1052,9636,253,RETWEET,Right,1,RightTroll,0,905874659358453760,914580356430536707,http://twitter.com/x,https://example.com/a,,\n";
        let (posts, report) = read(csv);
        assert_eq!(report.skipped, 0, "{:?}", report.skip_samples);
        let p = &posts[0];
        assert_eq!(p.account, "10_GOP", "no author_id column: the author is the key");
        assert_eq!(p.kind, PostKind::Retweet);
        assert_eq!(p.text, "Hi, \"all\" https://t.co/a");
        assert_eq!(p.id.as_deref(), Some("914580356430536707"));
        assert_eq!(p.urls, vec!["https://example.com/a"]);
        assert_eq!(p.account_meta.as_ref().and_then(|m| m.category.as_deref()), Some("RightTroll"));
    }

    #[test]
    fn bad_rows_are_skipped_with_field_names() {
        let csv = "author_id,content,publish_date,post_type\n\
            a,ok,2016-10-01 12:00:00,\n\
            b,bad time,2016-13-45 00:00:00,\n\
            ,no account,2016-10-01 12:00:00,\n\
            c,too,many,fields,here\n";
        let (posts, report) = read(csv);
        assert_eq!(posts.len(), 1);
        assert_eq!(report.skipped, 3);
        let shown: Vec<String> = report.skip_samples.iter().map(ToString::to_string).collect();
        assert_eq!(shown[0], "line 3: field publish_date: cannot parse '2016-13-45 00:00:00' as a time");
        assert_eq!(shown[1], "line 4: field author_id: empty account");
        assert_eq!(shown[2], "line 5: expected 4 fields as in the header, found 5");
    }

    #[test]
    fn missing_columns_are_named() {
        let err = read_posts("author_id,text\n".as_bytes(), "t.csv", &Format::Ira, |_| {})
            .expect_err("missing columns");
        match &err {
            ReadError::MissingColumns { missing, found, .. } => {
                assert_eq!(missing, &["content", "publish_date"]);
                assert_eq!(found, &["author_id", "text"]);
            }
            other => panic!("unexpected {other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.starts_with("t.csv: missing required columns for format ira: content, publish_date"),
            "{msg}"
        );
    }
}
