//! Normalisation of the things accounts share: text, links and hashtag sets.
//!
//! Two posts count as the same action only after these functions agree on them, so
//! they decide what "the same" means. The text rule is deliberately the one the QUT
//! coordination-network-toolkit uses, so that exact co-tweet edges agree with it.

use rustc_hash::FxHasher;
use std::hash::Hasher;
use std::ops::Range;

/// 64-bit hash used to key items. Collisions between distinct texts are possible in
/// principle; at 64 bits they are negligible for corpora of billions of posts.
pub fn hash_str(s: &str) -> u64 {
    hash_bytes(s.as_bytes())
}

/// [`hash_str`] of text held as bytes.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(bytes);
    // FxHasher's low bits are weak; a final mix spreads them for the LSH buckets.
    mix64(h.finish())
}

/// [`hash_str`] of the concatenation of `parts`, without allocating for short keys.
pub fn hash_concat(parts: &[&str]) -> u64 {
    let mut buf: smallvec::SmallVec<[u8; 256]> = smallvec::SmallVec::new();
    for p in parts {
        buf.extend_from_slice(p.as_bytes());
    }
    hash_bytes(&buf)
}

/// SplitMix64 finaliser: a bijection with good avalanche, used to derive independent
/// hash functions from one.
pub use scrutineer_core::splitmix::finalise as mix64;

/// Text normalised for co-tweet matching: lower-cased, every `@...` run up to the next
/// whitespace removed (mentions), whitespace collapsed to single spaces.
// The allocating forms are the tests' reference for the `_into` forms detection uses.
#[cfg(test)]
pub fn normalize_text(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    normalize_text_into(text, &mut out);
    // Only whole characters are written, so the check cannot fail.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`normalize_text`] written into `out` (cleared first) as UTF-8 bytes, so that a
/// caller that only hashes the result can reuse one buffer for every post.
pub fn normalize_text_into(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    // Written by index into a buffer sized up front: a byte is stored at `len` whether or
    // not it is kept, and `len` moves past it only if it is, so the ASCII step has no
    // branch on the kind of byte (word, space, mention), which posts mix unpredictably.
    out.clear();
    out.resize(bytes.len() + 8, 0);
    let mut len = 0;
    // In a word, after its `@` (the rest of the word is dropped).
    let mut cut = false;
    // The last byte kept belongs to a word: white space now writes one separating space
    // (a trailing one is dropped at the end).
    let mut word = false;
    let mut at = 0;
    while at < bytes.len() {
        // Most of a post is words of ASCII or small Cyrillic letters between single
        // spaces: such bytes are only lower-cased, eight in one step. The step writes all
        // eight (the buffer has room) and keeps those before the first that needs more.
        if !cut && let Some(chunk) = bytes.get(at..at + 8).and_then(|c| <[u8; 8]>::try_from(c).ok()) {
            let (lower, unusual) = plain_chunk(u64::from_le_bytes(chunk));
            // A space first is a second one unless a word byte was kept last.
            let unusual = unusual | u64::from(!word && chunk[0] == b' ') << 7;
            // All eight plain, the usual case, is its own branch: the next load's address
            // is then known by prediction, not after this chunk's arithmetic.
            let plain = if unusual == 0 { 8 } else { (unusual.trailing_zeros() / 8) as usize };
            if plain > 0 {
                out[len..len + 8].copy_from_slice(&lower.to_le_bytes());
                (len, at) = (len + plain, at + plain);
                word = chunk[plain - 1] != b' ';
                continue;
            }
        }
        let b = bytes[at];
        if b < 0x80 {
            at += 1;
            // `char::is_whitespace` on ASCII: tab, line feed, vertical tab, form feed,
            // carriage return and space.
            let space = matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ');
            cut = (cut | (b == b'@')) & !space;
            let keep = !space & !cut;
            out[len] = if space { b' ' } else { b.to_ascii_lowercase() };
            len += usize::from(keep | (space & word));
            word = !space & (word | keep);
            continue;
        }
        if let Some(lower) = cyrillic_lowercase(b, bytes.get(at + 1).copied()) {
            at += 2;
            if !cut {
                out[len..len + 2].copy_from_slice(&lower);
                len += 2;
                word = true;
            }
            continue;
        }
        let Some(c) = text.get(at..).and_then(|rest| rest.chars().next()) else { break };
        at += c.len_utf8();
        if c.is_whitespace() {
            if word {
                out[len] = b' ';
                len += 1;
            }
            (cut, word) = (false, false);
        } else if c == 'Σ' {
            // A capital sigma lower-cases by what surrounds it: the whole text goes
            // through `str::to_lowercase`.
            let lower = text.to_lowercase();
            out.clear();
            for word in lower.split_whitespace() {
                let kept = memchr::memchr(b'@', word.as_bytes()).map_or(word, |at| &word[..at]);
                if !kept.is_empty() {
                    if !out.is_empty() {
                        out.push(b' ');
                    }
                    out.extend_from_slice(kept.as_bytes());
                }
            }
            return;
        } else if !cut && (c.is_lowercase() || !c.is_alphabetic()) {
            // Punctuation, symbols and emoji have no case: copied without a search of the
            // case tables.
            let whole = &bytes[at - c.len_utf8()..at];
            out[len..len + whole.len()].copy_from_slice(whole);
            len += whole.len();
            word = true;
        } else if !cut {
            let mut utf8 = [0; 4];
            for lower in c.to_lowercase() {
                let lower = lower.encode_utf8(&mut utf8).as_bytes();
                // Lower-casing can lengthen a character (İ, two bytes, becomes three):
                // the buffer keeps room for every byte still to come.
                if out.len() < len + lower.len() + (bytes.len() - at) + 8 {
                    out.resize(len + lower.len() + (bytes.len() - at) + 8, 0);
                }
                out[len..len + lower.len()].copy_from_slice(lower);
                len += lower.len();
            }
            word = true;
        }
    }
    if len > 0 && !word {
        len -= 1;
    }
    out.truncate(len);
}

/// Eight bytes of text as a little-endian word (byte `i` in bits `8i..8i+8`), with its
/// ASCII capitals lower-cased, and the high bit of each byte that needs more than that
/// (and so ends the bytes the eight-byte step can take): white space other than a single
/// space, `@`, any character but ASCII and small basic Cyrillic letters (which
/// lower-casing leaves alone), and a letter whose second byte lies past the eight. The
/// lowest such byte starts a character.
fn plain_chunk(w: u64) -> (u64, u64) {
    let spaces = byte_eq(w, b' ');
    // Control characters (the other ASCII white space among them), `@`, a second space.
    let mut unusual = byte_below(w, 0x20) | byte_eq(w, b'@') | (spaces & (spaces << 8));
    if w & HIGH != 0 {
        // Lead bytes (0xC0 and up) and continuation bytes (0x80..=0xBF).
        let lead = w & (w << 1) & HIGH;
        let cont = w & HIGH & !lead;
        let (d0, d1) = (byte_eq(w, 0xD0), byte_eq(w, 0xD1));
        // Small letters are 0xD0 0xB0..=0xBF and 0xD1 0x80..=0x9F: continuation bytes
        // whose low seven bits are at least 0x30 after 0xD0, and below 0x20 after 0xD1.
        let after_d0 = cont & !low7_below(w, 0x30);
        let after_d1 = cont & low7_below(w, 0x20);
        unusual |= (lead & !(d0 | d1))
            | (d0 & !(after_d0 >> 8))
            | (d1 & !(after_d1 >> 8))
            | (cont & !((d0 | d1) << 8));
    }
    let upper = byte_below(w, b'Z' + 1) & !byte_below(w, b'A');
    // The high bit of each capital, moved to 0x20.
    (w | (upper >> 2), unusual)
}

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that equals `c`, and no other bit. Exact: no carry
/// crosses bytes, as adding 0x7F to a byte's low seven bits stays within the byte.
fn byte_eq(w: u64, c: u8) -> u64 {
    let x = w ^ (LOW * u64::from(c));
    !(((x & !HIGH) + !HIGH) | x) & HIGH
}

/// The high bit of each ASCII byte of `w` below `c` (at most 0x80). Exact: each byte,
/// with its high bit set, is at least `c`, so the subtraction borrows from no neighbour.
fn byte_below(w: u64, c: u8) -> u64 {
    !((w | HIGH) - LOW * u64::from(c)) & !w & HIGH
}

/// The high bit of each byte of `w` whose low seven bits are below `c` (at most 0x80).
fn low7_below(w: u64, c: u8) -> u64 {
    !((w | HIGH) - LOW * u64::from(c)) & HIGH
}

/// Basic Cyrillic (U+0400..U+045F) is two bytes, 0xD0 or 0xD1 and one more, and its
/// capitals map to small letters by byte arithmetic: the lower-cased bytes of the
/// character that starts with `lead` and `next`, if it is one of those.
fn cyrillic_lowercase(lead: u8, next: Option<u8>) -> Option<[u8; 2]> {
    match (lead, next?) {
        (0xD0, next @ 0x80..=0x8F) => Some([0xD1, next + 0x10]),
        (0xD0, next @ 0x90..=0x9F) => Some([0xD0, next + 0x20]),
        (0xD0, next @ 0xA0..=0xAF) => Some([0xD1, next - 0x20]),
        (0xD0, next @ 0xB0..=0xBF) | (0xD1, next @ 0x80..=0x9F) => Some([lead, next]),
        _ => None,
    }
}

/// Hashes of the distinct word tokens of normalised text, sorted, for Jaccard
/// similarity. Links are dropped (t.co links differ per post even when the text is
/// copied) and so is punctuation around words.
pub fn token_set(normalized: &str) -> Vec<u32> {
    let mut tokens: Vec<u32> = normalized
        .split_whitespace()
        .filter(|w| !w.starts_with("http://") && !w.starts_with("https://"))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '#'))
        .filter(|w| !w.is_empty())
        .map(|w| hash_str(w) as u32)
        .collect();
    tokens.sort_unstable();
    tokens.dedup();
    tokens
}

/// Query parameters that track clicks rather than identify content.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref_src",
    "ref_url", "_ga", "_gl", "yclid", "twclid", "s_cid", "cmpid", "mkt_tok", "spm", "smid", "soc_src",
    "soc_trk",
];

/// Link shorteners: kept as they are, because resolving them needs the network and the
/// short link itself is what the accounts shared.
pub const SHORTENERS: &[&str] = &[
    "t.co",
    "bit.ly",
    "bitly.com",
    "goo.gl",
    "ow.ly",
    "tinyurl.com",
    "buff.ly",
    "dlvr.it",
    "ift.tt",
    "is.gd",
    "trib.al",
    "fb.me",
    "youtu.be",
    "wp.me",
    "amp.gs",
    "lnkd.in",
    "shorturl.at",
    "rebrand.ly",
    "cutt.ly",
    "tiny.cc",
    "j.mp",
    "po.st",
    "sco.lt",
    "ln.is",
    "dld.bz",
];

/// A link normalised for co-link matching: scheme and host lower-cased, default port,
/// fragment and tracking parameters (`utm_*` and the click ids above) removed. Known
/// shorteners keep their path exactly. Text that does not parse as a URL is returned
/// trimmed, so that nothing is silently lost.
// The allocating forms are the tests' reference for the `_into` forms detection uses.
#[cfg(test)]
pub fn normalize_url(raw: &str) -> String {
    normalize_url_and_host(raw).0
}

/// [`normalize_url`] and the normalised link's [`url_host`], from one parse.
// The allocating forms are the tests' reference for the `_into` forms detection uses.
#[cfg(test)]
pub fn normalize_url_and_host(raw: &str) -> (String, Option<String>) {
    let mut out = String::new();
    let (link, host) = push_normalized_url(raw, &mut out);
    let host = host.map(|h| out[h].to_owned());
    out.truncate(link.end);
    (out, host)
}

/// `s` without leading and trailing white space, exactly as [`str::trim`], but without
/// decoding characters at ends that are plain ASCII (cells and links almost always are):
/// only ASCII white space is looked for there, vertical tab included.
pub fn trim_white(s: &str) -> &str {
    let t = s.trim_ascii();
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b.is_ascii() && b != 0x0B);
    if plain(t.as_bytes().first()) && plain(t.as_bytes().last()) { t } else { t.trim() }
}

/// [`normalize_url_and_host`] written onto the end of `out`: where the normalised link and
/// its host lie in `out`. Ingest writes each post's links into the post's one buffer so.
pub fn push_normalized_url(raw: &str, out: &mut String) -> (Range<usize>, Option<Range<usize>>) {
    let raw = trim_white(raw);
    let start = out.len();
    if let Some(host) = push_plain_url(raw, out) {
        return (start..out.len(), Some(host));
    }
    let (link, host) = normalize_parsed_url(raw);
    out.push_str(&link);
    let link = start..out.len();
    let host = host.map(|h| {
        let at = out.len();
        out.push_str(&h);
        at..out.len()
    });
    (link, host)
}

/// Bytes a plain link's path may hold: what the URL standard leaves as it is.
const PLAIN_PATH: [bool; 256] = {
    let mut ok = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        ok[c] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
            );
        c += 1;
    }
    ok
};

/// [`push_normalized_url`] for the links most posts carry, `http(s)://host/path` with
/// nothing the URL standard would rewrite, without the general parser (which took a
/// seventh of a scan's time): the host's range in `out`, or `None`, with `out` untouched,
/// for anything else. The rewrites ruled out: a port, user, query or fragment; a host
/// that could be an IP address (last label numeric), is punycode (`xn--`) or has empty
/// labels; a path with percent escapes, characters that get escaped, backslashes, or
/// `.`/`..` segments.
fn push_plain_url(raw: &str, out: &mut String) -> Option<Range<usize>> {
    let bytes = raw.as_bytes();
    // Twitter's own short links, most links in tweets, are already in normal form.
    if let Some(path) = bytes.strip_prefix(b"https://t.co/")
        && !path.is_empty()
        && path.iter().all(u8::is_ascii_alphanumeric)
    {
        let start = out.len();
        out.push_str(raw);
        return Some(start + "https://".len()..start + "https://t.co".len());
    }
    let scheme_len = if bytes.len() >= 8 && bytes[..8].eq_ignore_ascii_case(b"https://") {
        8
    } else if bytes.len() >= 7 && bytes[..7].eq_ignore_ascii_case(b"http://") {
        7
    } else {
        return None;
    };
    let rest = &bytes[scheme_len..];
    let host_len = memchr::memchr(b'/', rest).unwrap_or(rest.len());
    let (host, path) = rest.split_at(host_len);
    let punycode = |label: &[u8]| label.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"));
    let mut label_start = 0;
    for (i, &c) in host.iter().enumerate() {
        if c == b'.' {
            if i == label_start || punycode(&host[label_start..i]) {
                return None;
            }
            label_start = i + 1;
        } else if !(c.is_ascii_alphanumeric() || c == b'-') {
            return None;
        }
    }
    let last = &host[label_start..];
    if !last.first()?.is_ascii_alphabetic() || punycode(last) {
        return None;
    }
    for (i, &c) in path.iter().enumerate() {
        if !PLAIN_PATH[usize::from(c)] || (c == b'.' && i > 0 && path[i - 1] == b'/') {
            return None;
        }
    }
    out.reserve(raw.len());
    out.push_str(if scheme_len == 8 { "https://" } else { "http://" });
    let host_start = out.len();
    out.push_str(&raw[scheme_len..scheme_len + host_len]);
    out[host_start..].make_ascii_lowercase();
    let host_end = out.len();
    // `http://host/` and `http://host` are one page.
    if path != b"/" {
        out.push_str(&raw[scheme_len + host_len..]);
    }
    Some(host_end - without_www(&out[host_start..host_end]).len()..host_end)
}

/// [`normalize_url_and_host`] by the general URL parser.
fn normalize_parsed_url(raw: &str) -> (String, Option<String>) {
    let with_scheme;
    // A byte-window test: `str::contains` builds a substring searcher on every call.
    let candidate = if raw.as_bytes().windows(3).any(|w| w == b"://") {
        raw
    } else {
        with_scheme = format!("http://{raw}");
        &with_scheme
    };
    let Ok(mut url) = url::Url::parse(candidate) else {
        // A host needs `scheme://`, so what does not parse with one has none.
        return (raw.to_owned(), None);
    };
    url.set_fragment(None);
    let host = without_www(url.host_str().unwrap_or("")).to_owned();
    if url.query().is_some() && !SHORTENERS.contains(&host.as_str()) {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_str())
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    let mut s = url.to_string();
    // `http://host/` and `http://host` are one page.
    if url.path() == "/" && url.query().is_none() && s.ends_with('/') {
        s.pop();
    }
    let host = url.host_str().map(|h| without_www(h).to_ascii_lowercase());
    (s, host)
}

/// The host of a link without `www.`, lower-cased, for domain lists.
// The allocating forms are the tests' reference for the `_into` forms detection uses.
#[cfg(test)]
pub fn url_host(normalized: &str) -> Option<String> {
    let parsed = url::Url::parse(normalized).ok()?;
    Some(without_www(parsed.host_str()?).to_ascii_lowercase())
}

/// `host` without its leading `www.`s: `str::trim_start_matches` with the same effect,
/// minus the substring searcher it builds on every call.
fn without_www(mut host: &str) -> &str {
    while let Some(rest) = host.strip_prefix("www.") {
        host = rest;
    }
    host
}

/// The key of a hashtag set: distinct lower-cased tags, sorted, joined by spaces.
pub fn hashtag_set_key<S: AsRef<str>>(tags: &[S]) -> Option<String> {
    if tags.is_empty() {
        return None;
    }
    let mut t: Vec<String> = tags.iter().map(|t| t.as_ref().trim_start_matches('#').to_lowercase()).collect();
    t.retain(|s| !s.is_empty());
    if t.is_empty() {
        return None;
    }
    t.sort_unstable();
    t.dedup();
    Some(t.iter().map(|s| format!("#{s}")).collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Trimming with the ASCII shortcut gives what `str::trim` gives.
        #[test]
        fn trim_white_is_str_trim(s in "[ a\t\n\r\u{0B}\u{0C}\u{A0}\u{2003}\u{3000}é]{0,8}") {
            proptest::prop_assert_eq!(trim_white(&s), s.trim());
        }
    }

    proptest::proptest! {
        #[test]
        fn concatenated_hash_is_the_hash_of_the_concatenation(parts in proptest::collection::vec(".{0,200}", 0..4)) {
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            proptest::prop_assert_eq!(hash_concat(&parts), hash_str(&parts.concat()));
        }
    }

    #[test]
    fn every_character_alone_normalises_as_the_unicode_tables_say() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let want: String =
                if c.is_whitespace() || c == '@' { String::new() } else { c.to_lowercase().collect() };
            assert_eq!(normalize_text(c.encode_utf8(&mut [0; 4])), want, "{c:?}");
        }
    }

    #[test]
    fn www_prefixes_are_all_removed() {
        for host in ["www.www.rt.com", "www.rt.com", "rt.com", "www.", "wwwx.rt.com", ""] {
            assert_eq!(without_www(host), host.trim_start_matches("www."), "{host}");
        }
    }

    #[test]
    fn text_normalisation_matches_the_toolkit_rule() {
        assert_eq!(normalize_text("  Hello @Bob   WORLD\n"), "hello world");
        // The toolkit removes from the @ to the next space, even inside a word.
        assert_eq!(normalize_text("mail me at x@y.com now"), "mail me at x now");
        assert_eq!(normalize_text("@a @b"), "");
        assert_eq!(normalize_text("Ünïcode ÀB"), "ünïcode àb");
    }

    /// The general rule, written out: lower-case, split on white space, cut each word
    /// at its first `@`, drop what is left empty.
    fn reference(text: &str) -> String {
        let lower = text.to_lowercase();
        let words: Vec<&str> = lower
            .split_whitespace()
            .map(|w| w.split('@').next().unwrap_or(""))
            .filter(|w| !w.is_empty())
            .collect();
        words.join(" ")
    }

    proptest::proptest! {
        #[test]
        fn ascii_fast_path_agrees_with_the_general_rule(text in "[ -~\t\n\x0B\x0C\r]{0,40}") {
            proptest::prop_assert_eq!(normalize_text(&text), reference(&text));
        }

        #[test]
        fn words_of_latin_and_cyrillic_agree_with_the_general_rule(
            // Long runs of what the eight-byte step takes, broken by what it does not.
            text in "([A-Za-z0-9.,!?#@Ѐ-ѿ]{1,12}( |  |\n|@x ){1}){0,12}"
        ) {
            proptest::prop_assert_eq!(normalize_text(&text), reference(&text));
        }

        #[test]
        fn byte_masks_match_their_definition(w: u64, c: u8, below in 0u8..=0x80) {
            for i in 0..8 {
                let b = (w >> (8 * i)) as u8;
                let bit = |mask: u64| mask >> (8 * i) & 0xFF;
                proptest::prop_assert_eq!(bit(byte_eq(w, c)), if b == c { 0x80 } else { 0 });
                proptest::prop_assert_eq!(bit(byte_below(w, below)), if b < 0x80 && b < below { 0x80 } else { 0 });
                proptest::prop_assert_eq!(bit(low7_below(w, below)), if b & 0x7F < below { 0x80 } else { 0 });
            }
        }

        #[test]
        fn any_text_agrees_with_the_general_rule(
            text in "([a-zA-ZÀ-ÿΑ-Ωα-ωЀ-ѿİ\u{0300}'.@ \t\u{00A0}\u{3000}]|\\PC){0,40}"
        ) {
            proptest::prop_assert_eq!(normalize_text(&text), reference(&text));
        }
    }

    #[test]
    fn urls_lose_tracking_but_keep_content() {
        assert_eq!(
            normalize_url("HTTPS://WWW.Example.COM/Path?id=7&utm_source=tw&fbclid=abc#top"),
            "https://www.example.com/Path?id=7"
        );
        assert_eq!(normalize_url("http://example.com/"), "http://example.com");
        assert_eq!(normalize_url("example.com/a"), "http://example.com/a");
        // Shorteners keep their query and path as they are.
        assert_eq!(normalize_url("https://bit.ly/AbC?utm_source=x"), "https://bit.ly/AbC?utm_source=x");
        assert_eq!(normalize_url("https://t.co/KusOlRGZ0b"), "https://t.co/KusOlRGZ0b");
        assert_eq!(normalize_url("not a url at all"), "not a url at all");
        assert_eq!(url_host("https://www.rt.com/news/1").as_deref(), Some("rt.com"));
    }

    /// The shortcut's link and host, or `None` where it declines the link.
    fn normalize_plain_url(raw: &str) -> Option<(String, Option<String>)> {
        let mut out = String::new();
        let host = push_plain_url(raw, &mut out)?;
        let host = out[host].to_owned();
        Some((out, Some(host)))
    }

    proptest::proptest! {
        /// The shortcut for plain links gives what the URL parser gives, whenever it
        /// takes a link at all.
        #[test]
        fn plain_links_normalise_as_the_parser_does(
            raw in "(https?://|HTTPS?://|Http://|ftp://|)(www\\.|WWW\\.|xn--|XN--)?[a-zA-Z0-9.-]{0,12}(\\.(com|c0|0x1f|12|Org|xn--p1ai))?(:[0-9]{1,3}|@u)?(/[a-zA-Z0-9/._~%!$&'()*+,;=:@\\\\ \"<>`{}|^\\[\\]-]{0,12})?(\\?[a-z_]{1,6}=[a-z0-9]{0,4})?(#x)?"
        ) {
            if let Some(plain) = normalize_plain_url(&raw) {
                proptest::prop_assert_eq!(plain, normalize_parsed_url(&raw));
            }
        }
    }

    #[test]
    fn plain_link_shortcut_takes_common_links() {
        for raw in [
            "https://t.co/KusOlRGZ0b",
            "https://t.co/a",
            "HTTPS://T.CO/KusOlRGZ0b",
            "https://t.co/KusOl-GZ0b",
            "http://www.RT.com/news/1-a.html",
            "HTTPS://bit.ly/x",
            "https://t.co/rRZgBcU8tm.",
        ] {
            let plain = normalize_plain_url(raw).expect("a plain link");
            assert_eq!(plain, normalize_parsed_url(raw), "{raw}");
        }
        for raw in [
            "https://1.2.3.4/a",
            "https://a.b/./c",
            "https://a.b/%41",
            "https://a.b:80/",
            "https://u@a.b/",
            "https://xn--p1ai.ru/",
        ] {
            assert!(normalize_plain_url(raw).is_none(), "{raw}");
        }
    }

    proptest::proptest! {
        /// The host given with the normalised link is the one read back from it.
        #[test]
        fn host_from_one_parse_agrees_with_url_host(
            raw in "(https?://|HTTP://|)(www\\.|WWW\\.)?[a-zA-Z0-9.-]{0,12}(:[0-9]{1,5})?(/[a-zA-Z0-9/._~%-]{0,10})?(\\?[a-z_]{1,6}=[a-z0-9]{0,4})?( |#x)?"
        ) {
            let (normalized, host) = normalize_url_and_host(&raw);
            proptest::prop_assert_eq!(&normalized, &normalize_url(&raw));
            proptest::prop_assert_eq!(host, url_host(&normalized));
        }
    }

    #[test]
    fn hashtag_sets_ignore_case_order_and_repeats() {
        let a = hashtag_set_key(&["MAGA", "#tcot", "maga"]);
        let b = hashtag_set_key(&["tcot", "Maga"]);
        assert_eq!(a, b);
        assert_eq!(a.as_deref(), Some("#maga #tcot"));
        assert_eq!(hashtag_set_key::<&str>(&[]), None);
    }

    #[test]
    fn token_sets_ignore_links_and_order() {
        let a = token_set(&normalize_text("Vote now! https://t.co/abc"));
        let b = token_set(&normalize_text("now vote https://t.co/xyz"));
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
    }
}
