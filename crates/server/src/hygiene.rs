//! What may reach the access log from a request: never a credential, never more than a
//! bounded number of bytes.
//!
//! A token can arrive in a query parameter under any path (`/login/?token=`,
//! `/Login?token=`, `/api/summary?TOKEN=`), percent-encoded or not, or anywhere in the
//! path itself. So every query parameter whose decoded name contains `token` (any case)
//! has its value replaced by `[redacted]`, and anything shaped like a Scrutineer token
//! (`scr_` then hex digits), found in the path or the query after decoding, is replaced
//! by `[token]`. Headers (`Authorization`, `Cookie`) are never logged at all. Request
//! bodies (a sign-in's password, a triage note) are never logged either, and parameters
//! that may carry voter-identifying text (a search, a name, a voter id, an address, a
//! birth date) are logged as `[redacted]` like tokens.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// The most of a request path the access log keeps, in bytes.
pub const MAX_PATH: usize = 256;
/// The most of a query string the access log keeps, in bytes.
pub const MAX_QUERY: usize = 512;
/// The most of a method name the access log keeps (methods are free text in HTTP).
pub const MAX_METHOD: usize = 16;

/// Shortens `s` to at most `max` bytes (on a character boundary), saying how much was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…(+{} bytes)", &s[..end], s.len() - end)
}

/// Decodes percent escapes (and `+` as a space, as forms send it) until nothing changes,
/// so that a double-encoded name or token is seen for what it is.
fn decode_fully(s: &str, plus_is_space: bool) -> String {
    let mut cur = if plus_is_space { s.replace('+', " ") } else { s.to_owned() };
    for _ in 0..4 {
        let next = percent_decode_str(&cur).decode_utf8_lossy().into_owned();
        if next == cur {
            break;
        }
        cur = next;
    }
    cur
}

/// Replaces every token-shaped run (`scr_` followed by at least eight hex digits, any
/// case) by `[token]`; `None` when there is none.
fn redact_token_shapes(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    let mut found = false;
    while let Some(at) = lower[i..].find("scr_").map(|p| p + i) {
        let hex = bytes[at + 4..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if hex >= 8 {
            out.push_str(&s[copied..at]);
            out.push_str("[token]");
            copied = at + 4 + hex;
            found = true;
        }
        i = at + 4 + hex;
    }
    if !found {
        return None;
    }
    out.push_str(&s[copied..]);
    Some(out)
}

/// Removes token shapes from `s`: unchanged (as sent) when there is none, else the
/// decoded text with each one replaced.
fn without_token_shapes(s: &str, plus_is_space: bool) -> Cow<'_, str> {
    match redact_token_shapes(&decode_fully(s, plus_is_space)) {
        Some(clean) => Cow::Owned(clean),
        None => Cow::Borrowed(s),
    }
}

/// Whether a parameter of that (decoded, lower-case) name may hold voter-identifying
/// text: a search, a name, a voter id, an address or a birth date.
fn may_name_a_voter(name: &str) -> bool {
    matches!(name.trim(), "q" | "query" | "search" | "dob")
        || ["name", "voter", "address", "street", "birth", "password"].iter().any(|w| name.contains(w))
}

/// The path as the access log keeps it.
pub fn loggable_path(path: &str) -> String {
    truncate(&without_token_shapes(path, false), MAX_PATH)
}

/// The query as the access log keeps it: `token`-named parameters redacted, token
/// shapes removed, bounded.
pub fn loggable_query(query: &str) -> String {
    let parts: Vec<String> = query
        .split('&')
        .map(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let decoded = decode_fully(name, true).to_lowercase();
            if decoded.contains("token") || may_name_a_voter(&decoded) {
                if value.is_empty() { name.to_owned() } else { format!("{name}=[redacted]") }
            } else {
                without_token_shapes(part, true).into_owned()
            }
        })
        .collect();
    truncate(&parts.join("&"), MAX_QUERY)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "scr_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn token_parameters_are_redacted_under_any_name_case_and_encoding() {
        for q in [
            format!("token={T}"),
            format!("TOKEN={T}&x=1"),
            format!("x=1&Token={T}"),
            format!("%74oken={T}"),
            format!("%2574oken={T}"),
            format!("access_token={T}"),
            "token=hunter2".to_owned(),
        ] {
            let logged = loggable_query(&q);
            assert!(!logged.contains(&T[4..]) && !logged.contains("hunter2"), "{q} -> {logged}");
            assert!(logged.contains("[redacted]"), "{q} -> {logged}");
        }
        assert_eq!(loggable_query("engine=infra&limit=5"), "engine=infra&limit=5");
        assert_eq!(
            loggable_query("q=Ada+Byron&voter_id=123&engine=ballots"),
            "q=[redacted]&voter_id=[redacted]&engine=ballots"
        );
    }

    #[test]
    fn token_shapes_are_removed_from_paths_and_other_parameters() {
        let encoded: String = T.bytes().map(|b| format!("%{b:02X}")).collect();
        for p in [format!("/x/{T}"), format!("/x/{encoded}"), format!("/{}", T.to_uppercase())] {
            let logged = loggable_path(&p);
            assert!(!logged.to_lowercase().contains(&T[4..]), "{p} -> {logged}");
            assert!(logged.contains("[token]"), "{p} -> {logged}");
        }
        let logged = loggable_query(&format!("kind={encoded}"));
        assert_eq!(logged, "kind=[token]");
        assert_eq!(loggable_path("/api/findings/infra-scr_"), "/api/findings/infra-scr_");
    }

    #[test]
    fn what_is_logged_is_bounded() {
        let long = "a".repeat(60_000);
        assert!(loggable_query(&format!("q={long}")).len() < MAX_QUERY + 32);
        assert!(loggable_path(&format!("/{long}")).len() < MAX_PATH + 32);
        let cut = truncate(&"é".repeat(300), 11);
        assert!(cut.starts_with("ééééé…"), "{cut}");
    }
}
