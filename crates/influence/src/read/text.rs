//! Small text helpers shared by every reader: the entity tokenizer (URLs, `#hashtags`,
//! `@mentions` out of post text), HTML clean-up for Twitter's `source`, list-like cells,
//! Windows-1252 fallback decoding and a fast path for the common timestamp layouts.

use std::borrow::Cow;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::Fields;

static WWW_LOWER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new("www."));
static WWW_UPPER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new("WWW."));

/// Entities found in a post's text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TextEntities {
    /// Links, as written.
    pub urls: Vec<String>,
    /// Hashtags without `#`.
    pub hashtags: Vec<String>,
    /// Mentioned handles without `@`.
    pub mentions: Vec<String>,
}

/// Extracts URLs, hashtags (without `#`) and mentions (without `@`) from post text, in
/// order of appearance, the way Twitter's own entity extraction roughly does:
///
/// - a URL starts with `http://`, `https://` or `www.` and runs to white space; trailing
///   punctuation (`.,;:!?'")]}>`) is not part of it, and a URL cut off by an ellipsis
///   (`https://t.co/ab…`, as in truncated retweets) is dropped because it points nowhere;
/// - a hashtag is `#` or `＃` followed by letters, digits, marks or `_`, not all digits,
///   and not glued to a preceding letter, digit or `&` (so `&#39;` and `abc#def` are not);
/// - a mention is `@` or `＠` followed by 1 to 15 ASCII letters, digits or `_`, not
///   preceded by a letter, digit or `_` (so e-mail addresses are not).
pub fn extract_entities(text: &str) -> TextEntities {
    extract_entities_for(text, Fields::ALL)
}

/// [`extract_entities`], filling only the lists `fields` asks for (URLs are still found
/// when hashtags or mentions are wanted, since `#` and `@` inside them are not entities).
pub fn extract_entities_for(text: &str, fields: Fields) -> TextEntities {
    let mut out = TextEntities::default();
    if !(fields.urls || fields.hashtags || fields.mentions) {
        return out;
    }
    let bytes = text.as_bytes();
    // This runs once per post on millions of posts: candidates are found with memchr, and
    // only they are looked at closely.
    let glued_at = |i: usize| text[..i].chars().next_back().is_some_and(|p| p.is_alphanumeric() || p == '_');

    let mut spans: Vec<(usize, usize)> = Vec::new();
    for colon in memchr::memchr_iter(b':', bytes) {
        if !bytes[colon + 1..].starts_with(b"//") {
            continue;
        }
        let start = if colon >= 5 && bytes[colon - 5..colon].eq_ignore_ascii_case(b"https") {
            colon - 5
        } else if colon >= 4 && bytes[colon - 4..colon].eq_ignore_ascii_case(b"http") {
            colon - 4
        } else {
            continue;
        };
        if spans.last().is_some_and(|&(_, e)| start < e) || glued_at(start) {
            continue;
        }
        if let Some(len) = url_len(&text[start..]) {
            spans.push((start, start + len));
        }
    }
    for finder in [&*WWW_LOWER, &*WWW_UPPER] {
        for start in finder.find_iter(bytes) {
            let inside = spans.iter().any(|&(s, e)| start >= s && start < e);
            if inside || glued_at(start) || (start > 0 && matches!(bytes[start - 1], b'/' | b'.')) {
                continue;
            }
            if let Some(len) = url_len(&text[start..]) {
                spans.push((start, start + len));
            }
        }
    }
    spans.sort_unstable();
    for &(s, e) in &spans {
        let after = &text[e..];
        // A URL cut off by an ellipsis points nowhere.
        if fields.urls && !(after.starts_with('…') || after.starts_with("...")) {
            out.urls.push(text[s..e].to_string());
        }
    }

    if !(fields.hashtags || fields.mentions) {
        return out;
    }
    let mut consumed = 0;
    for i in memchr::memchr3_iter(b'#', b'@', 0xEF, bytes) {
        if i < consumed || spans.iter().any(|&(s, e)| i >= s && i < e) {
            continue;
        }
        let (marker_len, is_tag) = match bytes[i] {
            b'#' => (1, true),
            b'@' => (1, false),
            _ if bytes[i..].starts_with("＃".as_bytes()) => (3, true),
            _ if bytes[i..].starts_with("＠".as_bytes()) => (3, false),
            _ => continue,
        };
        // Marker bytes are ASCII or a UTF-8 lead byte, so `i` is a char boundary.
        let prev = text[..i].chars().next_back();
        if prev.is_some_and(|p| p.is_alphanumeric() || p == '_') {
            continue;
        }
        let start = i + marker_len;
        if is_tag {
            if prev == Some('&') {
                continue;
            }
            let body = &text[start..];
            let len = body
                .char_indices()
                .find(|&(_, ch)| !(ch.is_alphanumeric() || ch == '_' || is_mark(ch)))
                .map_or(body.len(), |(j, _)| j);
            let tag = &body[..len];
            if !tag.is_empty() && !tag.bytes().all(|b| b.is_ascii_digit()) {
                if fields.hashtags {
                    out.hashtags.push(tag.to_string());
                }
                consumed = start + len;
            }
        } else {
            let len = bytes[start..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
            // A handle longer than 15 characters is not a handle (Twitter's rule).
            if (1..=15).contains(&len) {
                if fields.mentions {
                    out.mentions.push(text[start..start + len].to_string());
                }
                consumed = start + len;
            }
        }
    }
    out
}

fn is_mark(c: char) -> bool {
    // Combining marks used inside words in Devanagari, Thai, Arabic and others, plus the
    // zero-width joiner Twitter allows inside hashtags.
    matches!(c as u32, 0x0300..=0x036F | 0x0610..=0x061A | 0x064B..=0x065F | 0x0900..=0x097F
        | 0x0E31..=0x0E4E | 0x200C | 0x200D)
}

/// Length in bytes of the URL at the start of `s`, if one starts there.
fn url_len(s: &str) -> Option<usize> {
    let lower_prefix =
        |p: &str| s.len() >= p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    let scheme_len = if lower_prefix("https://") {
        8
    } else if lower_prefix("http://") {
        7
    } else if lower_prefix("www.") {
        0
    } else {
        return None;
    };
    let end = s
        .char_indices()
        .find(|&(_, c)| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '…' | '«' | '»' | '“' | '”'))
        .map_or(s.len(), |(j, _)| j);
    let mut url = &s[..end];
    // Strip trailing punctuation, keeping a closing bracket that has its opening one
    // inside the URL (Wikipedia links).
    while let Some(last) = url.chars().next_back() {
        let strip = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' => true,
            ')' => url.matches('(').count() < url.matches(')').count(),
            ']' => url.matches('[').count() < url.matches(']').count(),
            '}' => true,
            _ => false,
        };
        if !strip {
            break;
        }
        url = &url[..url.len() - last.len_utf8()];
    }
    let host = &url[scheme_len..];
    // Need at least a host with a dot (or `localhost`-like names after a scheme).
    if host.is_empty() || (scheme_len == 0 && (host.len() <= 4 || !host[4..].contains('.'))) {
        return None;
    }
    Some(url.len())
}

/// Removes HTML tags and decodes the entities Twitter uses in `source`
/// (`<a href="...">Twitter Web Client</a>` -> `Twitter Web Client`).
pub fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = unescape_html(out.trim());
    out.into_owned()
}

/// Decodes the HTML entities Twitter's APIs leave in tweet text (`&amp;`, `&lt;`, `&gt;`,
/// and the occasional `&quot;`/`&#39;`).
pub fn unescape_html(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let tail = &rest[p..];
        let (rep, len) = if tail.starts_with("&amp;") {
            ("&", 5)
        } else if tail.starts_with("&lt;") {
            ("<", 4)
        } else if tail.starts_with("&gt;") {
            (">", 4)
        } else if tail.starts_with("&quot;") {
            ("\"", 6)
        } else if tail.starts_with("&#39;") {
            ("'", 5)
        } else {
            ("&", 1)
        };
        out.push_str(rep);
        rest = &tail[len..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// If `text` starts with the old-style retweet prefix `RT @handle:`, returns the handle and
/// the text after the prefix.
pub fn split_rt_prefix(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("RT @")?;
    let len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    if len == 0 {
        return None;
    }
    let after = rest[len..].strip_prefix(':')?;
    Some((&rest[..len], after.trim_start()))
}

/// Splits a list-valued cell. `['a', 'b']`, `["a","b"]`, `[1, 2]` and `[]` (the Python/JSON
/// reprs found in the IO archive and pandas exports) are parsed as lists; otherwise the
/// value is split on `sep`, or, when `sep` is `None`, on white space, `,`, `;` and `|`.
/// Items are trimmed and empty items dropped.
/// Plain items borrow from `cell`; bracketed ones, which may hold escapes, are owned.
pub fn split_list(cell: &str, sep: Option<char>) -> Vec<Cow<'_, str>> {
    let cell = crate::normalize::trim_white(cell);
    if cell.is_empty() {
        return Vec::new();
    }
    // Most cells hold one item (one link, one hashtag): found with one search, without the
    // splitting machinery. Only ASCII cells are taken so, where the ASCII check covers
    // every separator; the rest go the general way.
    let single = match sep {
        Some(sep) if sep.is_ascii() => memchr::memchr(sep as u8, cell.as_bytes()).is_none(),
        Some(_) => false,
        None => cell.bytes().all(|b| {
            b.is_ascii() && !matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b',' | b';' | b'|')
        }),
    };
    if single && cell.is_ascii() && !cell.starts_with('[') {
        return vec![Cow::Borrowed(cell)];
    }
    split_list_general(cell, sep)
}

/// [`split_list`] of a trimmed, non-empty cell, every case.
fn split_list_general(cell: &str, sep: Option<char>) -> Vec<Cow<'_, str>> {
    if let Some(inner) = cell.strip_prefix('[').and_then(|c| c.strip_suffix(']')) {
        return parse_bracket_list(inner).into_iter().map(Cow::Owned).collect();
    }
    fn item(part: &str) -> Option<Cow<'_, str>> {
        let part = crate::normalize::trim_white(part);
        (!part.is_empty()).then_some(Cow::Borrowed(part))
    }
    // Two loops rather than one over a boxed iterator: this runs on every row of a file.
    match sep {
        Some(sep) => cell.split(sep).filter_map(item).collect(),
        None => {
            cell.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '|')).filter_map(item).collect()
        }
    }
}

/// Owned strings as cows, for a [`crate::post::PostRef`]'s lists.
pub fn owned_cows(items: Vec<String>) -> Vec<Cow<'static, str>> {
    items.into_iter().map(Cow::Owned).collect()
}

/// [`split_list`] of a cell that may own its text: items borrow where the cell does.
pub fn split_list_cow<'a>(cell: Cow<'a, str>, sep: Option<char>) -> Vec<Cow<'a, str>> {
    match cell {
        Cow::Borrowed(cell) => split_list(cell, sep),
        Cow::Owned(cell) => {
            split_list(&cell, sep).into_iter().map(|item| Cow::Owned(item.into_owned())).collect()
        }
    }
}

fn parse_bracket_list(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut item = String::new();
        if first == '\'' || first == '"' {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        item.push(n);
                    }
                } else if c == first {
                    break;
                } else {
                    item.push(c);
                }
            }
            // Skip anything up to the next separator.
            while chars.peek().is_some_and(|c| *c != ',') {
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                item.push(c);
                chars.next();
            }
            let trimmed = item.trim();
            item = trimmed.to_string();
        }
        if !item.is_empty() {
            out.push(item);
        }
    }
    out
}

/// Decodes bytes that are not valid UTF-8 as Windows-1252 (a superset of Latin-1 in which
/// every byte maps to a character, so nothing is ever replaced).
pub fn decode_1252(bytes: &[u8]) -> Cow<'_, str> {
    let (text, _had_errors) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
    text
}

/// Decodes a cell: UTF-8 when it is, Windows-1252 otherwise.
pub fn decode_cell(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => decode_1252(bytes),
    }
}

/// Cell values that mean "no value" in exports from pandas, R and spreadsheets.
pub fn is_null_token(s: &str) -> bool {
    matches!(s, "" | "NA" | "N/A" | "NaN" | "nan" | "None" | "null" | "NULL" | "<NA>")
}

/// Parses a count such as `123`, `123.0` (pandas floats) or `1,234`.
pub fn parse_count(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let digits: String = s.chars().filter(|c| *c != ',' && *c != '_').collect();
    if let Ok(n) = digits.parse::<u64>() {
        return Some(n);
    }
    match digits.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Some(f as u64),
        _ => None,
    }
}

/// Parses a boolean flag: `true`/`false`, `1`/`0`, `yes`/`no`, `t`/`f` (any case).
pub fn parse_flag(s: &str) -> Option<bool> {
    let s = s.trim();
    for (word, value) in [
        ("true", true),
        ("false", false),
        ("1", true),
        ("0", false),
        ("yes", true),
        ("no", false),
        ("t", true),
        ("f", false),
        ("1.0", true),
        ("0.0", false),
    ] {
        if s.eq_ignore_ascii_case(word) {
            return Some(value);
        }
    }
    None
}

/// Parses a time as UTC: a hand-written fast path for `YYYY-MM-DD HH:MM[:SS]` (the layout of
/// the IRA and IO-archive files, millions of rows), then
/// [`scrutineer_core::time::parse_utc`] for everything else.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    // Unix seconds (up to 11 digits, i.e. before the year 5138): the layouts below and
    // RFC 3339 cannot match a run of digits, so this is what `parse_utc` would return.
    if (1..=11).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
        let secs = b.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
        return unix_seconds(secs);
    }
    if (b.len() == 16 || b.len() == 19)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b' ' || b[10] == b'T')
        && b[13] == b':'
        && (b.len() == 16 || b[16] == b':')
    {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, d| d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0')))
        };
        let fast = (|| {
            let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
            let secs = if b.len() == 19 { num(17..19)? } else { 0 };
            let t = date.and_hms_opt(num(11..13)?, num(14..16)?, secs)?;
            Some(Utc.from_utc_datetime(&t))
        })();
        if fast.is_some() {
            return fast;
        }
    }
    scrutineer_core::time::parse_utc(s)
}

thread_local! {
    /// The day of the last Unix time read on this thread: posts come in runs of one day,
    /// and turning a day number into a calendar date is most of the work.
    static LAST_DAY: std::cell::Cell<Option<(i64, NaiveDate)>> = const { std::cell::Cell::new(None) };
}

/// `Utc.timestamp_opt(secs, 0)`, with the calendar date of the last day asked kept.
fn unix_seconds(secs: i64) -> Option<DateTime<Utc>> {
    let (day, second) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let date = match LAST_DAY.get() {
        Some((last, date)) if last == day => date,
        _ => {
            // Day 0 of the Unix epoch is day 719,163 of the common era.
            let date = NaiveDate::from_num_days_from_ce_opt(i32::try_from(day + 719_163).ok()?)?;
            LAST_DAY.set(Some((day, date)));
            date
        }
    };
    let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(u32::try_from(second).ok()?, 0)?;
    Some(Utc.from_utc_datetime(&chrono::NaiveDateTime::new(date, time)))
}

/// Shortens a value for an error message.
pub fn clip(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The one-item shortcut gives what the general splitting gives.
        #[test]
        fn split_list_shortcut_agrees(
            cell in "[ab\\[\\]'\" ,;|\t\u{0B}\u{A0}\u{2003}é/:.]{0,12}",
            sep in proptest::option::of(proptest::sample::select(vec![' ', ',', '|', ';', '\t', 'é', '\u{A0}'])),
        ) {
            let trimmed = cell.trim();
            let want = if trimmed.is_empty() { Vec::new() } else { split_list_general(trimmed, sep) };
            proptest::prop_assert_eq!(split_list(&cell, sep), want);
        }

        /// Unix seconds read through the one-day cache are what chrono makes of them, in
        /// runs of one day and across days.
        #[test]
        fn unix_seconds_agree_with_chrono(
            starts in proptest::collection::vec(-100_000_000_000i64..100_000_000_000, 1..4),
            steps in proptest::collection::vec(0i64..50_000, 0..20),
        ) {
            for start in starts {
                let mut secs = start;
                for step in &steps {
                    secs += step;
                    proptest::prop_assert_eq!(unix_seconds(secs), Utc.timestamp_opt(secs, 0).single(), "{}", secs);
                }
            }
        }
    }

    fn ents(t: &str) -> TextEntities {
        extract_entities(t)
    }

    #[test]
    fn urls_are_found_and_trailing_punctuation_dropped() {
        let e = ents("see https://t.co/abc123, and (http://example.com/a_(b)) www.rt.com/news. end");
        assert_eq!(e.urls, vec!["https://t.co/abc123", "http://example.com/a_(b)", "www.rt.com/news"]);
    }

    #[test]
    fn cut_off_urls_are_dropped() {
        let e = ents("RT @a: long text https://t.co/ab… https://t.co/full");
        assert_eq!(e.urls, vec!["https://t.co/full"]);
    }

    #[test]
    fn hashtags_follow_twitter_rules() {
        let e = ents("#MAGA and #Выборы2016, not abc#def nor &#39; nor #2016; #under_score!");
        assert_eq!(e.hashtags, vec!["MAGA", "Выборы2016", "under_score"]);
    }

    #[test]
    fn mentions_skip_emails_and_long_names() {
        let e = ents("@alice: hi @Bob_2 mail me at x@example.com @abcdefghijklmnopq");
        assert_eq!(e.mentions, vec!["alice", "Bob_2"]);
    }

    #[test]
    fn fullwidth_markers_count() {
        let e = ents("＃タグ ＠user");
        assert_eq!(e.hashtags, vec!["タグ"]);
        assert_eq!(e.mentions, vec!["user"]);
    }

    #[test]
    fn hashtag_inside_url_is_not_a_hashtag() {
        let e = ents("http://example.com/page#section #real");
        assert_eq!(e.urls, vec!["http://example.com/page#section"]);
        assert_eq!(e.hashtags, vec!["real"]);
    }

    #[test]
    fn plain_text_has_no_entities() {
        assert_eq!(ents("nothing to see here, what a day"), TextEntities::default());
        assert_eq!(ents("www. is not a url, nor http://"), TextEntities::default());
    }

    #[test]
    fn html_is_stripped_from_source() {
        assert_eq!(
            strip_html(r#"<a href="http://twitter.com" rel="nofollow">Twitter Web Client</a>"#),
            "Twitter Web Client"
        );
        assert_eq!(strip_html("twitterfeed"), "twitterfeed");
        assert_eq!(strip_html("<a href=\"x\">A &amp; B</a>"), "A & B");
    }

    #[test]
    fn entities_are_unescaped() {
        assert_eq!(unescape_html("a &amp; b &lt;3 &gt; &x"), "a & b <3 > &x");
    }

    #[test]
    fn rt_prefix_is_split() {
        assert_eq!(split_rt_prefix("RT @TEN_GOP: hello"), Some(("TEN_GOP", "hello")));
        assert_eq!(split_rt_prefix("RT @: x"), None);
        assert_eq!(split_rt_prefix("RT this"), None);
    }

    #[test]
    fn lists_in_every_spelling() {
        assert_eq!(split_list("['a', 'b']", None), vec!["a", "b"]);
        assert_eq!(split_list(r#"["it's", "x"]"#, None), vec!["it's", "x"]);
        assert_eq!(split_list("[123, 456]", None), vec!["123", "456"]);
        assert_eq!(split_list("[]", None), Vec::<String>::new());
        assert_eq!(split_list("a b,c|d", None), vec!["a", "b", "c", "d"]);
        assert_eq!(split_list("http://x.com/a,b|c", Some('|')), vec!["http://x.com/a,b", "c"]);
    }

    #[test]
    fn windows_1252_decoding_keeps_every_byte() {
        assert_eq!(decode_1252(b"caf\xe9 \x93q\x94 \x81"), "café “q” \u{81}");
    }

    #[test]
    fn fast_time_agrees_with_core() {
        for s in [
            "2016-09-13 11:09:00",
            "2016-09-13 11:09",
            "2016-02-29T23:59:59",
            "2016-10-01 00:00:00",
            "1475325000",
            "0",
            "99999999999",
            "100000000000",
            "1475325000000",
            "1475325000.5",
        ] {
            assert_eq!(parse_time(s), scrutineer_core::time::parse_utc(s), "{s}");
            assert!(parse_time(s).is_some(), "{s}");
        }
        for s in ["2016-13-45 11:09:00", "2015-02-29 10:00:00", "2016-09-13 25:00:00", "20a6-09-13 11:09"] {
            assert_eq!(parse_time(s), None, "{s}");
        }
        assert!(parse_time("9/13/2016 11:09").is_some());
    }

    #[test]
    fn counts_and_flags() {
        assert_eq!(parse_count("1,234"), Some(1234));
        assert_eq!(parse_count("97.0"), Some(97));
        assert_eq!(parse_count("x"), None);
        assert_eq!(parse_flag("True"), Some(true));
        assert_eq!(parse_flag("0"), Some(false));
        assert_eq!(parse_flag("maybe"), None);
    }
}
