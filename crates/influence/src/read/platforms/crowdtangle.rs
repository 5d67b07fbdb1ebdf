//! CrowdTangle historical CSV exports (the "Historical Data" download of a list or a
//! search, Facebook and Instagram), with CrowdTangle's column names:
//! Facebook `Page Name, User Name, Facebook Id, Page Category, ..., Page Created, Likes at
//! Posting, Followers at Posting, Post Created, Post Created Date, Post Created Time, Type,
//! ..., URL, Message, Link, Final Link, Image Text, Link Text, Description, ...`;
//! Instagram `Account, User Name, Followers at Posting, Post Created, ..., Type, ..., URL,
//! Link, Photo, Title, Description, ...`.
//!
//! - Account: `facebook:` + `Facebook Id`; for Instagram, which has no id column,
//!   `instagram:` + `User Name`. Post id: `URL`, the post's permalink.
//! - Time: `Post Created`, written in the time zone the dashboard was set to, with that
//!   zone's abbreviation (`2020-11-03 09:15:01 EST`); the common North American and
//!   European abbreviations and numeric offsets are read, anything else is a skip naming it.
//! - Text: `Message` (Facebook), else `Description`; links from `Final Link` (else
//!   `Link`) and the text.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use crate::post::{AccountMeta, PostKind, PostRef};
use crate::read::csvio::{Headers, Row, RowMapper};
use crate::read::text::{clip, extract_entities_for, owned_cows, parse_time};

#[derive(Clone)]
pub(crate) struct CrowdTangleMapper {
    platform: &'static str,
    account: usize,
    time: usize,
    handle: Option<usize>,
    name: Option<usize>,
    url: Option<usize>,
    message: Option<usize>,
    description: Option<usize>,
    link: Option<usize>,
    final_link: Option<usize>,
    followers: Option<usize>,
    created: Option<usize>,
}

impl CrowdTangleMapper {
    pub fn from_headers(h: &Headers) -> Result<CrowdTangleMapper, Vec<String>> {
        let (platform, account) = match h.find("Facebook Id") {
            Some(i) => ("facebook", Some(i)),
            None => ("instagram", h.find("User Name")),
        };
        let time = h.find("Post Created");
        let (Some(account), Some(time)) = (account, time) else {
            let mut missing = Vec::new();
            if account.is_none() {
                missing.push("Facebook Id (or User Name)".to_string());
            }
            if time.is_none() {
                missing.push("Post Created".to_string());
            }
            return Err(missing);
        };
        Ok(CrowdTangleMapper {
            platform,
            account,
            time,
            handle: h.find("User Name"),
            name: h.find("Page Name").or_else(|| h.find("Account")),
            url: h.find("URL"),
            message: h.find("Message"),
            description: h.find("Description"),
            link: h.find("Link"),
            final_link: h.find("Final Link"),
            followers: h.find("Followers at Posting").or_else(|| h.find("Likes at Posting")),
            created: h.find("Page Created"),
        })
    }
}

/// UTC offsets, in hours, of the zone abbreviations CrowdTangle writes.
const ZONES: [(&str, i32); 14] = [
    ("UTC", 0),
    ("GMT", 0),
    ("EST", -5),
    ("EDT", -4),
    ("CST", -6),
    ("CDT", -5),
    ("MST", -7),
    ("MDT", -6),
    ("PST", -8),
    ("PDT", -7),
    ("BST", 1),
    ("CET", 1),
    ("CEST", 2),
    ("EET", 2),
];

/// `2020-11-03 09:15:01 EST` (or any layout [`parse_time`] reads).
fn parse_ct_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Some((local, zone)) = s.rsplit_once(' ')
        && zone.bytes().all(|b| b.is_ascii_alphabetic())
    {
        let hours = ZONES
            .iter()
            .find(|(abbr, _)| abbr.eq_ignore_ascii_case(zone))
            .map(|(_, h)| *h)
            .ok_or_else(|| format!("unknown time zone abbreviation '{}'", clip(zone)))?;
        // The two layouts the dashboard writes, by the fast parser first: chrono's format
        // strings are re-read on every call, and this is on every row.
        let fast = matches!(local.len(), 16 | 19).then(|| parse_time(local)).flatten().map(|t| t.naive_utc());
        let naive = match fast {
            Some(naive) => naive,
            None => NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S")
                .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M"))
                .map_err(|_| format!("cannot parse '{}' as a time", clip(s)))?,
        };
        let offset = FixedOffset::east_opt(hours * 3600).ok_or("bad offset")?;
        return offset
            .from_local_datetime(&naive)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| format!("cannot parse '{}' as a time", clip(s)));
    }
    parse_time(s).ok_or_else(|| format!("cannot parse '{}' as a time", clip(s)))
}

impl RowMapper for CrowdTangleMapper {
    fn map<'r>(&mut self, row: &Row<'r>) -> Result<PostRef<'r>, String> {
        let account = row.account(self.account)?;
        let raw_time = row.get(self.time);
        if raw_time.is_empty() {
            return Err(format!("field {}: empty time", row.name(self.time)));
        }
        let time = parse_ct_time(&raw_time).map_err(|e| format!("field {}: {e}", row.name(self.time)))?;
        let text = row.opt(self.message).or_else(|| row.opt(self.description)).unwrap_or(Cow::Borrowed(""));
        let ents = extract_entities_for(&text, row.fields);
        let mut post = PostRef::from_parts(
            Cow::Owned(format!("{}:{account}", self.platform)),
            time,
            PostKind::Original,
            text,
        );
        post.id = row.opt(self.url);
        post.handle = row.opt(self.handle);
        post.urls = owned_cows(ents.urls);
        if row.fields.urls
            && let Some(link) = row.opt(self.final_link).or_else(|| row.opt(self.link))
            && !post.urls.contains(&link)
        {
            post.urls.insert(0, link);
        }
        post.hashtags = owned_cows(ents.hashtags);
        post.mentions = owned_cows(ents.mentions);
        let meta = AccountMeta {
            display_name: row.opt(self.name),
            followers: row.count(self.followers),
            created_at: row.opt(self.created).and_then(|c| parse_ct_time(&c).ok()),
            ..AccountMeta::default()
        };
        post.account_meta = meta.non_empty();
        Ok(post)
    }
}

#[cfg(test)]
mod tests {
    use crate::read::Format;
    use crate::read::platforms::testing::{compressed_reads_the_same, read_both};

    /// A Facebook historical export's header (a subset of its 40-odd columns, in their
    /// order) with a multi-line `Message`, times in EDT and EST, and an unknown zone.
    const FACEBOOK: &str = "Page Name,User Name,Facebook Id,Page Category,Page Admin Top Country,Page Description,Page Created,Likes at Posting,Followers at Posting,Post Created,Post Created Date,Post Created Time,Type,Total Interactions,Likes,Comments,Shares,URL,Message,Link,Final Link,Image Text,Link Text,Description\n\
        Patriots United,patriotsunited,123456789,POLITICAL_ORGANIZATION,US,desc,2015-04-01 10:00:00 EDT,1000,1200,2020-10-01 12:00:00 EDT,2020-10-01,12:00:00,Link,5,3,1,1,https://www.facebook.com/123456789/posts/111,\"Share before they delete it!\nhttps://ex.org/story\",https://bit.ly/x,https://ex.org/story,,,\n\
        Patriots United,patriotsunited,123456789,POLITICAL_ORGANIZATION,US,desc,2015-04-01 10:00:00 EDT,1000,1200,2020-11-03 09:15:01 EST,2020-11-03,09:15:01,Status,1,1,0,0,https://www.facebook.com/123456789/posts/112,Vote!,,,,,\n\
        Other,other,987,NEWS,US,,,,,2020-11-03 09:15:01 XYZ,2020-11-03,09:15:01,Status,1,1,0,0,https://www.facebook.com/987/posts/1,x,,,,,\n";

    #[test]
    fn facebook_historical_export() {
        let (posts, report) = read_both(FACEBOOK.as_bytes(), Format::CrowdTangle);
        assert_eq!(report.skipped, 1);
        assert_eq!(
            report.skip_samples[0].to_string(),
            "line 5: field Post Created: unknown time zone abbreviation 'XYZ'"
        );
        let p = &posts[0];
        assert_eq!(p.account, "facebook:123456789");
        assert_eq!(p.time.to_rfc3339(), "2020-10-01T16:00:00+00:00", "EDT is UTC-4");
        assert_eq!(p.text, "Share before they delete it!\nhttps://ex.org/story");
        assert_eq!(p.urls, vec!["https://ex.org/story"], "the final link, not the shortener; once");
        assert_eq!(p.id.as_deref(), Some("https://www.facebook.com/123456789/posts/111"));
        let meta = p.account_meta.as_ref().expect("meta");
        assert_eq!(meta.followers, Some(1200));
        assert_eq!(meta.created_at.map(|t| t.to_rfc3339()).as_deref(), Some("2015-04-01T14:00:00+00:00"));
        assert_eq!(posts[1].time.to_rfc3339(), "2020-11-03T14:15:01+00:00", "EST is UTC-5");
        compressed_reads_the_same(FACEBOOK.as_bytes(), &Format::CrowdTangle);
    }

    #[test]
    fn instagram_historical_export() {
        let csv = "Account,User Name,Followers at Posting,Post Created,Post Created Date,Post Created Time,Type,Likes,Comments,Views,URL,Link,Photo,Title,Description\n\
            Insta Page,insta_page,5000,2020-10-01 12:00:00 UTC,2020-10-01,12:00:00,Photo,10,1,,https://www.instagram.com/p/abc/,https://www.instagram.com/p/abc/,https://x/p.jpg,,#vote now\n";
        let (posts, report) = read_both(csv.as_bytes(), Format::CrowdTangle);
        assert_eq!(report.skipped, 0);
        assert_eq!(posts[0].account, "instagram:insta_page");
        assert_eq!(posts[0].hashtags, vec!["vote"]);
    }
}
