//! Generic CSV: any delimited file, with a [`ColumnMapping`] saying which column holds
//! which [`Post`] field.
//!
//! On the command line: `account=user_id,time=created_at,text=message,urls=links`, plus
//! the options `delimiter=` and `list_separator=` (a single character, or `comma`, `tab`,
//! `semicolon`, `pipe`, `space`). In a TOML file:
//!
//! ```toml
//! delimiter = ";"
//! list_separator = "|"
//! [columns]
//! account = "user_id"
//! time = "created_at"
//! text = "message"
//! ```
//!
//! `account` and `time` are required; every other field is optional. When `kind` is not
//! mapped (or a cell is blank) the kind is inferred: a retweet flag, a retweeted id or
//! account, or a text starting `RT @handle:` make a retweet; a quoted id a quote; a
//! reply-to id a reply. URLs, hashtags and mentions come from their columns when mapped
//! (list cells: `[...]` reprs, or split on the list separator, by default on white space,
//! `,`, `;` and `|`), else from the text.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use super::Fields;
use super::ReadError;
use super::csvio::{Headers, Row, RowMapper, sub_cow};
use super::text::{
    clip, extract_entities_for, owned_cows, parse_flag, split_list_cow, split_rt_prefix, strip_html,
};
use crate::post::{AccountMeta, PostKind, PostRef};

/// A [`crate::Post`] field a generic CSV column can be mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MappedField {
    /// `account`: the account key (required).
    Account,
    /// `time`: when it was posted (required).
    Time,
    /// `id`: the post's id.
    Id,
    /// `handle`: the account's handle.
    Handle,
    /// `text`: the post's text.
    Text,
    /// `kind`: original, retweet, reply or quote.
    Kind,
    /// `is_retweet`: a flag marking retweets.
    IsRetweet,
    /// `retweeted_id`: the retweeted post's id.
    RetweetedId,
    /// `retweeted_account`: the retweeted post's author.
    RetweetedAccount,
    /// `reply_to_id`: the post replied to.
    ReplyToId,
    /// `quoted_id`: the quoted post.
    QuotedId,
    /// `urls`: a list cell of links.
    Urls,
    /// `hashtags`: a list cell of hashtags.
    Hashtags,
    /// `mentions`: a list cell of mentioned handles.
    Mentions,
    /// `language`: the post's language.
    Language,
    /// `client`: the client application.
    Client,
    /// `followers`: the account's follower count.
    Followers,
    /// `following`: the accounts it follows.
    Following,
    /// `account_created`: when the account was made.
    AccountCreated,
    /// `display_name`: the account's display name.
    DisplayName,
    /// `location`: the location the account gives.
    Location,
    /// `category`: a category carried to exports (never used in detection).
    Category,
}

impl MappedField {
    /// Every field, in the order `--help` lists them.
    pub const ALL: [MappedField; 22] = [
        MappedField::Account,
        MappedField::Time,
        MappedField::Id,
        MappedField::Handle,
        MappedField::Text,
        MappedField::Kind,
        MappedField::IsRetweet,
        MappedField::RetweetedId,
        MappedField::RetweetedAccount,
        MappedField::ReplyToId,
        MappedField::QuotedId,
        MappedField::Urls,
        MappedField::Hashtags,
        MappedField::Mentions,
        MappedField::Language,
        MappedField::Client,
        MappedField::Followers,
        MappedField::Following,
        MappedField::AccountCreated,
        MappedField::DisplayName,
        MappedField::Location,
        MappedField::Category,
    ];

    /// The key used in mappings.
    pub fn key(self) -> &'static str {
        match self {
            MappedField::Account => "account",
            MappedField::Time => "time",
            MappedField::Id => "id",
            MappedField::Handle => "handle",
            MappedField::Text => "text",
            MappedField::Kind => "kind",
            MappedField::IsRetweet => "is_retweet",
            MappedField::RetweetedId => "retweeted_id",
            MappedField::RetweetedAccount => "retweeted_account",
            MappedField::ReplyToId => "reply_to_id",
            MappedField::QuotedId => "quoted_id",
            MappedField::Urls => "urls",
            MappedField::Hashtags => "hashtags",
            MappedField::Mentions => "mentions",
            MappedField::Language => "language",
            MappedField::Client => "client",
            MappedField::Followers => "followers",
            MappedField::Following => "following",
            MappedField::AccountCreated => "account_created",
            MappedField::DisplayName => "display_name",
            MappedField::Location => "location",
            MappedField::Category => "category",
        }
    }

    /// The field named `key` in a mapping (case-insensitive).
    pub fn from_key(key: &str) -> Option<MappedField> {
        MappedField::ALL.into_iter().find(|f| f.key().eq_ignore_ascii_case(key))
    }
}

impl fmt::Display for MappedField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Which column holds which field in a generic CSV, with the delimiter and the separator
/// of list cells.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnMapping {
    columns: Vec<(MappedField, String)>,
    delimiter: Option<u8>,
    list_separator: Option<char>,
}

const OPTION_KEYS: &str = "delimiter, list_separator";

impl ColumnMapping {
    /// The column mapped to `field`.
    pub fn column(&self, field: MappedField) -> Option<&str> {
        self.columns.iter().find(|(f, _)| *f == field).map(|(_, c)| c.as_str())
    }

    /// Maps `field` to `column`, replacing an earlier mapping of the field.
    pub fn set(&mut self, field: MappedField, column: impl Into<String>) {
        let column = column.into();
        match self.columns.iter_mut().find(|(f, _)| *f == field) {
            Some(slot) => slot.1 = column,
            None => self.columns.push((field, column)),
        }
    }

    /// Every mapped field with its column, in the order given.
    pub fn columns(&self) -> impl Iterator<Item = (MappedField, &str)> {
        self.columns.iter().map(|(f, c)| (*f, c.as_str()))
    }

    /// The field delimiter (`,` unless set).
    pub fn delimiter(&self) -> u8 {
        self.delimiter.unwrap_or(b',')
    }

    /// Sets the field delimiter.
    pub fn set_delimiter(&mut self, delimiter: u8) {
        self.delimiter = Some(delimiter);
    }

    /// The separator of list cells; `None` splits on white space, `,`, `;` and `|`.
    pub fn list_separator(&self) -> Option<char> {
        self.list_separator
    }

    /// Sets the separator of list cells (`None`: white space, `,`, `;` or `|`).
    pub fn set_list_separator(&mut self, sep: Option<char>) {
        self.list_separator = sep;
    }

    /// Checks that the required fields are mapped.
    pub fn validate(&self) -> Result<(), ReadError> {
        let missing: Vec<&str> = [MappedField::Account, MappedField::Time]
            .into_iter()
            .filter(|f| self.column(*f).is_none())
            .map(MappedField::key)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(ReadError::BadMapping {
            origin: "--format csv".to_string(),
            reason: format!(
                "the mapping must name the {} column{} (for example account=user_id,time=created_at)",
                missing.join(" and "),
                if missing.len() == 1 { "" } else { "s" }
            ),
        })
    }

    /// Reads a mapping from a TOML file: `delimiter`, `list_separator`, and the field keys
    /// either at the top level or in a `[columns]` table.
    pub fn from_toml_file(path: &Path) -> Result<ColumnMapping, ReadError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ReadError::BadMapping {
            origin: origin.clone(),
            reason: format!("cannot read: {e}"),
        })?;
        ColumnMapping::from_toml_str(&text, &origin)
    }

    /// Reads a mapping from TOML text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<ColumnMapping, ReadError> {
        let bad = |reason: String| ReadError::BadMapping { origin: origin.to_string(), reason };
        let table: toml::Table = toml::from_str(text).map_err(|e| bad(e.to_string().trim().to_string()))?;
        let mut mapping = ColumnMapping::default();
        let mut apply = |key: &str, value: &toml::Value| -> Result<(), ReadError> {
            let toml::Value::String(v) = value else {
                return Err(bad(format!("{key} must be a string, found {}", value.type_str())));
            };
            mapping.apply(key, v).map_err(bad)
        };
        for (key, value) in &table {
            if key == "columns" {
                let toml::Value::Table(columns) = value else {
                    return Err(bad("[columns] must be a table".to_string()));
                };
                for (k, v) in columns {
                    apply(k, v)?;
                }
            } else {
                apply(key, value)?;
            }
        }
        Ok(mapping)
    }

    fn apply(&mut self, key: &str, value: &str) -> Result<(), String> {
        let key = key.trim();
        let value = value.trim();
        match key.to_ascii_lowercase().as_str() {
            "delimiter" | "delim" => {
                let c =
                    separator(value).ok_or_else(|| format!("delimiter '{value}' is not one character"))?;
                let b = u8::try_from(u32::from(c))
                    .ok()
                    .filter(u8::is_ascii)
                    .ok_or_else(|| format!("delimiter '{value}' must be an ASCII character"))?;
                self.delimiter = Some(b);
            }
            "list_separator" | "list_sep" => {
                let c = separator(value)
                    .ok_or_else(|| format!("list_separator '{value}' is not one character"))?;
                self.list_separator = Some(c);
            }
            _ => {
                let field = MappedField::from_key(key).ok_or_else(|| {
                    let keys: Vec<&str> = MappedField::ALL.iter().map(|f| f.key()).collect();
                    format!("unknown field '{key}': expected one of {}, or {OPTION_KEYS}", keys.join(", "))
                })?;
                if value.is_empty() {
                    return Err(format!("field {key} has an empty column name"));
                }
                if self.column(field).is_some() {
                    return Err(format!("field {key} is mapped twice"));
                }
                self.set(field, value);
            }
        }
        Ok(())
    }

    pub(crate) fn resolve(&self, h: &Headers) -> Result<GenericMapper, Vec<String>> {
        let mut idx = [None; MappedField::ALL.len()];
        let mut missing = Vec::new();
        for (field, column) in &self.columns {
            match h.find(column) {
                Some(i) => idx[*field as usize] = Some(i),
                None => missing.push(format!("{column} (mapped to {field})")),
            }
        }
        if !missing.is_empty() {
            return Err(missing);
        }
        let (Some(account), Some(time)) =
            (idx[MappedField::Account as usize], idx[MappedField::Time as usize])
        else {
            return Err(vec!["account and time must be mapped".to_string()]);
        };
        Ok(GenericMapper { idx, account, time, list_sep: self.list_separator })
    }
}

fn separator(value: &str) -> Option<char> {
    match value.to_ascii_lowercase().as_str() {
        "comma" => Some(','),
        "tab" | "\\t" => Some('\t'),
        "semicolon" => Some(';'),
        "pipe" => Some('|'),
        "space" => Some(' '),
        _ => {
            let mut chars = value.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            }
        }
    }
}

impl FromStr for ColumnMapping {
    type Err = ReadError;

    /// Parses `field=column,field=column,...` (see the module docs).
    fn from_str(s: &str) -> Result<ColumnMapping, ReadError> {
        let bad = |reason: String| ReadError::BadMapping { origin: format!("'{}'", clip(s)), reason };
        let mut mapping = ColumnMapping::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) =
                part.split_once('=').ok_or_else(|| bad(format!("'{part}' is not field=column")))?;
            mapping.apply(key, value).map_err(bad)?;
        }
        Ok(mapping)
    }
}

impl fmt::Display for ColumnMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self.columns.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if let Some(d) = self.delimiter {
            parts.push(format!("delimiter={}", sep_name(char::from(d))));
        }
        if let Some(c) = self.list_separator {
            parts.push(format!("list_separator={}", sep_name(c)));
        }
        f.write_str(&parts.join(","))
    }
}

fn sep_name(c: char) -> String {
    match c {
        ',' => "comma".to_string(),
        '\t' => "tab".to_string(),
        ' ' => "space".to_string(),
        c => c.to_string(),
    }
}

/// Reads a post kind as exports spell it.
pub(crate) fn parse_kind(s: &str) -> Option<PostKind> {
    const TABLE: [(&str, PostKind); 22] = [
        ("original", PostKind::Original),
        ("tweet", PostKind::Original),
        ("post", PostKind::Original),
        ("o", PostKind::Original),
        ("retweet", PostKind::Retweet),
        ("retweeted", PostKind::Retweet),
        ("rt", PostKind::Retweet),
        ("r", PostKind::Retweet),
        ("repost", PostKind::Retweet),
        ("share", PostKind::Retweet),
        ("quote", PostKind::Quote),
        ("quoted", PostKind::Quote),
        ("quote_tweet", PostKind::Quote),
        ("q", PostKind::Quote),
        ("qt", PostKind::Quote),
        ("reply", PostKind::Reply),
        ("replied_to", PostKind::Reply),
        ("replied", PostKind::Reply),
        ("comment", PostKind::Reply),
        ("retweet_tweet", PostKind::Retweet),
        ("quoted_tweet", PostKind::Quote),
        ("reply_tweet", PostKind::Reply),
    ];
    let s = s.trim();
    TABLE.iter().find(|(k, _)| k.eq_ignore_ascii_case(s)).map(|(_, v)| *v)
}

#[derive(Clone)]
pub(crate) struct GenericMapper {
    idx: [Option<usize>; MappedField::ALL.len()],
    account: usize,
    time: usize,
    list_sep: Option<char>,
}

impl GenericMapper {
    fn at(&self, f: MappedField) -> Option<usize> {
        self.idx[f as usize]
    }

    /// The mapped list column `f` (empty when not `wanted`), or `None` when not mapped.
    fn list<'r>(
        &self,
        row: &Row<'r>,
        f: MappedField,
        strip: char,
        wanted: bool,
    ) -> Option<Vec<Cow<'r, str>>> {
        let i = self.at(f)?;
        if !wanted {
            return Some(Vec::new());
        }
        Some(
            split_list_cow(row.get(i), self.list_sep)
                .into_iter()
                .map(|s| match s.strip_prefix(strip) {
                    Some(rest) => sub_cow(&s, rest),
                    None => s,
                })
                .filter(|s| !s.is_empty())
                .collect(),
        )
    }
}

impl RowMapper for GenericMapper {
    fn map<'r>(&mut self, row: &Row<'r>) -> Result<PostRef<'r>, String> {
        use MappedField as F;
        let account = row.account(self.account)?;
        let time = row.time(self.time)?;
        let text = self.at(F::Text).map(|i| row.text(i)).unwrap_or_default();
        let retweeted_id = row.opt_id(self.at(F::RetweetedId));
        let mut retweeted_account = row.opt_id(self.at(F::RetweetedAccount));
        let quoted_id = row.opt_id(self.at(F::QuotedId));
        let reply_to_id = row.opt_id(self.at(F::ReplyToId));
        let rt_prefix = split_rt_prefix(&text);
        let explicit = match self.at(F::Kind) {
            Some(i) => {
                let v = row.get(i);
                if v.is_empty() {
                    None
                } else {
                    Some(parse_kind(&v).ok_or_else(|| {
                        format!(
                            "field {}: unknown post kind '{}' (expected original, retweet, reply or quote)",
                            row.name(i),
                            clip(&v)
                        )
                    })?)
                }
            }
            None => None,
        };
        let flagged = match self.at(F::IsRetweet) {
            Some(i) => {
                let v = row.get(i);
                if v.is_empty() || super::text::is_null_token(&v) {
                    false
                } else {
                    parse_flag(&v).ok_or_else(|| {
                        format!("field {}: cannot read '{}' as true/false", row.name(i), clip(&v))
                    })?
                }
            }
            None => false,
        };
        let kind = explicit.unwrap_or(PostKind::from_references(
            flagged || retweeted_id.is_some() || retweeted_account.is_some() || rt_prefix.is_some(),
            quoted_id.is_some(),
            reply_to_id.is_some(),
        ));
        if kind == PostKind::Retweet && retweeted_account.is_none() {
            retweeted_account = rt_prefix.map(|(h, _)| sub_cow(&text, h));
        }
        let fields = row.fields;
        let (urls, hashtags, mentions) = (
            self.list(row, F::Urls, '\0', fields.urls),
            self.list(row, F::Hashtags, '#', fields.hashtags),
            self.list(row, F::Mentions, '@', fields.mentions),
        );
        // Only what no column holds is looked for in the text.
        let ents = extract_entities_for(
            &text,
            Fields {
                urls: urls.is_none() && fields.urls,
                hashtags: hashtags.is_none() && fields.hashtags,
                mentions: mentions.is_none() && fields.mentions,
            },
        );
        let meta = AccountMeta {
            created_at: row.opt_time(self.at(F::AccountCreated)),
            followers: row.count(self.at(F::Followers)),
            following: row.count(self.at(F::Following)),
            display_name: row.opt(self.at(F::DisplayName)),
            location: row.opt(self.at(F::Location)),
            category: row.opt(self.at(F::Category)),
        };
        // One literal, so the post is built where it is returned: this runs on every row.
        Ok(PostRef {
            id: row.opt_id(self.at(F::Id)),
            account,
            handle: row.opt(self.at(F::Handle)),
            time,
            kind,
            retweeted_id,
            retweeted_account,
            reply_to_id,
            quoted_id,
            urls: urls.unwrap_or_else(|| owned_cows(ents.urls)),
            hashtags: hashtags.unwrap_or_else(|| owned_cows(ents.hashtags)),
            mentions: mentions.unwrap_or_else(|| owned_cows(ents.mentions)),
            language: row.opt_id(self.at(F::Language)),
            client: row.opt_id(self.at(F::Client)).map(|c| Cow::Owned(strip_html(&c))),
            account_meta: meta.non_empty(),
            text,
            thread_id: None,
            community: None,
            reactions: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Format, read_posts};

    #[test]
    fn mapping_parses_and_prints() {
        let m: ColumnMapping =
            "account=user_id, time=created_at,text=message,urls=links,delimiter=tab,list_separator=pipe"
                .parse()
                .expect("valid");
        assert_eq!(m.column(MappedField::Account), Some("user_id"));
        assert_eq!(m.column(MappedField::Urls), Some("links"));
        assert_eq!(m.delimiter(), b'\t');
        assert_eq!(m.list_separator(), Some('|'));
        let again: ColumnMapping = m.to_string().parse().expect("round trip");
        assert_eq!(again, m);
    }

    #[test]
    fn mapping_errors_say_what_is_wrong() {
        let err = "acount=x".parse::<ColumnMapping>().expect_err("typo").to_string();
        assert!(err.contains("unknown field 'acount'"), "{err}");
        assert!(err.contains("account, time"), "{err}");
        let err = "account".parse::<ColumnMapping>().expect_err("no =").to_string();
        assert!(err.contains("'account' is not field=column"), "{err}");
        let err = "text=t".parse::<ColumnMapping>().expect("parses").validate().expect_err("no account");
        assert!(err.to_string().contains("account and time columns"), "{err}");
        let err = "account=a,account=b".parse::<ColumnMapping>().expect_err("twice").to_string();
        assert!(err.contains("mapped twice"), "{err}");
    }

    #[test]
    fn toml_mapping_in_both_layouts() {
        let flat =
            ColumnMapping::from_toml_str("account = \"u\"\ntime = \"t\"\ndelimiter = \";\"\n", "m.toml")
                .expect("flat");
        let nested = ColumnMapping::from_toml_str(
            "delimiter = \";\"\n[columns]\naccount = \"u\"\ntime = \"t\"\n",
            "m.toml",
        )
        .expect("nested");
        assert_eq!(flat, nested);
        assert_eq!(flat.delimiter(), b';');
        let err = ColumnMapping::from_toml_str("account = 3\n", "m.toml").expect_err("not a string");
        assert!(
            err.to_string().starts_with("bad column mapping (m.toml): account must be a string"),
            "{err}"
        );
    }

    #[test]
    fn generic_rows_with_inference() {
        let mapping: ColumnMapping =
            "account=screenName,time=created,text=text,id=id,reply_to_id=replyToSID,\
            client=statusSource,is_retweet=isRetweet,hashtags=tags,list_separator=|"
                .parse()
                .expect("mapping");
        let csv = "text,created,id,replyToSID,statusSource,screenName,isRetweet,tags\n\
            \"hello @bob https://x.org/a\",2019-05-06T23:10:44Z,1,NA,\"<a href=\"\"x\"\">Web App</a>\",alice,FALSE,#a|b\n\
            \"RT @carol: hi\",2019-05-06T23:10:45Z,2,NA,web,dave,TRUE,\n\
            \"@alice yes\",2019-05-06T23:10:46Z,3,1,web,bob,FALSE,\n\
            \"bad\",2019-05-06T23:10:46Z,4,NA,web,bob,maybe,\n";
        let mut posts = Vec::new();
        let report =
            read_posts(csv.as_bytes(), "g.csv", &Format::Csv(mapping), |p| posts.push(p)).expect("reads");
        assert_eq!(posts.len(), 3);
        assert_eq!(report.skipped, 1);
        assert_eq!(
            report.skip_samples[0].to_string(),
            "line 5: field isRetweet: cannot read 'maybe' as true/false"
        );
        assert_eq!(posts[0].kind, PostKind::Original);
        assert_eq!(posts[0].client.as_deref(), Some("Web App"));
        assert_eq!(posts[0].hashtags, vec!["a", "b"]);
        assert_eq!(posts[0].mentions, vec!["bob"]);
        assert_eq!(posts[0].urls, vec!["https://x.org/a"]);
        assert_eq!(posts[0].reply_to_id, None, "NA is no id");
        assert_eq!(posts[1].kind, PostKind::Retweet);
        assert_eq!(posts[1].retweeted_account.as_deref(), Some("carol"));
        assert_eq!(posts[2].kind, PostKind::Reply);
    }

    #[test]
    fn kind_column_and_delimiter() {
        let mapping: ColumnMapping =
            "account=u,time=t,kind=k,retweeted_id=r,delimiter=;".parse().expect("mapping");
        let csv = "u;t;k;r\na;2020-01-01;RT;9\nb;2020-01-01;quote;\nc;2020-01-01;banana;\n";
        let mut posts = Vec::new();
        let report =
            read_posts(csv.as_bytes(), "k.csv", &Format::Csv(mapping), |p| posts.push(p)).expect("reads");
        assert_eq!(
            posts.iter().map(|p| p.kind).collect::<Vec<_>>(),
            vec![PostKind::Retweet, PostKind::Quote]
        );
        assert_eq!(posts[0].retweeted_id.as_deref(), Some("9"));
        assert!(report.skip_samples[0].reason.starts_with("field k: unknown post kind 'banana'"));
    }

    #[test]
    fn mapped_columns_must_exist() {
        let mapping: ColumnMapping = "account=user,time=when,urls=links".parse().expect("mapping");
        let err = read_posts("user,when\n".as_bytes(), "m.csv", &Format::Csv(mapping), |_| {})
            .expect_err("missing");
        assert_eq!(
            err.to_string(),
            "m.csv: missing required column for format csv: links (mapped to urls); the header has: user, when"
        );
    }
}
