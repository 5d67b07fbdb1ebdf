//! Text that came from an input, made safe for where it goes: a terminal, a CSV cell, or
//! a message that quotes a bad value.
//!
//! Inputs are hostile: an envelope id can hold terminal escape sequences that rewrite
//! what an analyst sees, a post can start with `=HYPERLINK(...)`, which a spreadsheet
//! runs when it opens the CSV we wrote, and a malformed value can be 200 MB long.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Pushes `c` as a terminal may show it: a backslash doubled, a control character escaped.
fn push_terminal(out: &mut String, c: char) {
    if c == '\\' {
        out.push_str("\\\\");
    } else if needs_terminal_escape(c) {
        push_escape(out, c);
    } else {
        out.push(c);
    }
}

/// How many bytes of a bad value a message quotes ([`echo`]).
pub const ECHO_BYTES: usize = 200;

/// `s` with every control character (C0, DEL, C1; among them ESC, which starts ANSI
/// sequences, CR and backspace, which overwrite what was printed) and the Unicode
/// bidirectional overrides shown as escapes (`\x1b`, `\u{202e}`), so that printing it
/// on a terminal shows the text and does nothing else. Tabs and newlines are escaped
/// too: a table cell or a one-line message must stay one line. A backslash is doubled
/// only when escapes were needed, so ordinary text is unchanged.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_terminal_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_terminal(&mut out, c);
    }
    Cow::Owned(out)
}

/// Like [`terminal`] but keeps newlines (for multi-line text such as a finding's summary).
pub fn terminal_multiline(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && needs_terminal_escape(c)) {
        return Cow::Borrowed(s);
    }
    let lines: Vec<Cow<'_, str>> = s.split('\n').map(terminal).collect();
    Cow::Owned(lines.join("\n"))
}

fn needs_terminal_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// A bounded, printable quotation of a bad value for a message or a skip report: at most
/// the first [`ECHO_BYTES`] bytes, invalid UTF-8 and control characters escaped, and the
/// full length named when it was cut. Whatever the input, the result is one line of at
/// most a few hundred characters.
pub fn echo(bytes: &[u8]) -> String {
    let cut = bytes.len() > ECHO_BYTES;
    let head = &bytes[..bytes.len().min(ECHO_BYTES)];
    let mut out = String::with_capacity(head.len() + 32);
    for chunk in head.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_terminal(&mut out, c);
        }
        // An invalid sequence, or (at the cut) a character split by it.
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    if cut {
        let _ = write!(out, "… ({} bytes in all)", bytes.len());
    }
    out
}

/// [`echo`] of a string.
pub fn echo_str(s: &str) -> String {
    echo(s.as_bytes())
}

/// The cell neutralised against formula injection (OWASP, "CSV Injection"): a cell that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with a single
/// quote, so that a spreadsheet shows it as text instead of evaluating it.
///
/// One exception, so that data stays data: a cell that is entirely a decimal number
/// (`-123`, `+4.5`, `-1e-3`) is left as it is. A number cannot be a formula in Excel,
/// LibreOffice or Google Sheets, and account ids, offsets and statistics like these are
/// common in our outputs (and compared byte for byte with other tools).
///
/// This is not CSV quoting; write the result with a CSV writer (or [`csv_field`]).
pub fn csv_safe(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') if !is_plain_number(cell) => {
            Cow::Owned(format!("'{cell}"))
        }
        _ => Cow::Borrowed(cell),
    }
}

/// A cell passed through [`csv_safe`], as `csv::Writer::write_record` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeCell<'a>(pub Cow<'a, str>);

impl AsRef<[u8]> for SafeCell<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl AsRef<str> for SafeCell<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// [`csv_safe`] applied to every cell of a record, for `csv::Writer::write_record`.
pub fn csv_safe_record<'a, I>(cells: I) -> Vec<SafeCell<'a>>
where
    I: IntoIterator<Item = &'a str>,
{
    cells.into_iter().map(|c| SafeCell(csv_safe(c))).collect()
}

/// One CSV field, neutralised ([`csv_safe`]) and quoted as RFC 4180 requires (when it
/// holds a comma, a quote, a newline or a carriage return), for hand-written CSV lines.
pub fn csv_field(cell: &str) -> Cow<'_, str> {
    let safe = csv_safe(cell);
    if safe.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", safe.replace('"', "\"\"")))
    } else {
        safe
    }
}

/// `[+-]?digits[.digits][(e|E)[+-]?digits]`, with at least one digit before any exponent.
fn is_plain_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let mut n = digits(&mut i);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        n += digits(&mut i);
    }
    if n == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Escapes text for XML 1.0 content and attribute values (GraphML, GEXF): the five
/// markup characters become entities, and the control characters XML 1.0 forbids are
/// dropped rather than written invalid.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_ansi_and_keeps_plain_text() {
        assert_eq!(terminal("ENV-1 ok"), "ENV-1 ok");
        assert!(matches!(terminal("café ✓"), Cow::Borrowed(_)));
        let hostile = "ENV\x1b[2J\x1b]0;pwned\x07\r\u{202e}x";
        let shown = terminal(hostile);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert_eq!(shown, "ENV\\x1b[2J\\x1b]0;pwned\\x07\\r\\u{202e}x");
        assert_eq!(terminal("a\\b\x1b"), "a\\\\b\\x1b");
        assert_eq!(terminal_multiline("a\nb\x1bc"), "a\nb\\x1bc");
    }

    #[test]
    fn echo_is_bounded_and_escaped() {
        let big = vec![b'A'; 10_000_000];
        let e = echo(&big);
        assert!(e.len() < ECHO_BYTES + 40, "{}", e.len());
        assert!(e.ends_with("(10000000 bytes in all)"));
        assert_eq!(echo(b"a\xffb\n"), "a\\xffb\\n");
        // A character cut at the limit is escaped, not a panic.
        let mut s = vec![b'x'; ECHO_BYTES - 1];
        s.extend_from_slice("é".as_bytes());
        let e = echo(&s);
        assert!(e.contains("\\xc3"), "{e}");
    }

    #[test]
    fn formula_cells_are_neutralised_and_numbers_are_not() {
        for bad in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "-",
            "+",
            "-e5",
            "-.",
            "-1e",
            "--1",
        ] {
            assert_eq!(csv_safe(bad), format!("'{bad}"), "{bad:?}");
        }
        for ok in ["-123", "+4.5", "-1e-3", "-0.25", "1234", "abc", "", "'=x", " =x", "-.5", "-5."] {
            assert_eq!(csv_safe(ok), ok, "{ok:?}");
        }
    }

    #[test]
    fn csv_field_quotes_carriage_returns() {
        assert_eq!(csv_field("a\rb"), "\"a\rb\"");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(csv_field("=1,2"), "\"'=1,2\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn xml_escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(xml_escape(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(xml_escape("x\u{1}y\tz\r\n\u{1f}"), "xy\tz\r\n");
        assert_eq!(xml_escape("plain ü"), "plain ü");
    }
}
