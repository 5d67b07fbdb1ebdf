//! Undo the encodings attackers use to slip payloads past filters, so that detectors see
//! what the application will finally see.

/// Percent-decodes once. `+` becomes a space when `plus` (form encoding). `%uXXXX`
/// (IIS's non-standard Unicode escape) becomes UTF-8. Invalid escapes stay as they are.
pub fn percent_decode(s: &[u8], plus: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b == b'%' {
            if let (Some(h), Some(l)) =
                (s.get(i + 1).and_then(|c| hex(*c)), s.get(i + 2).and_then(|c| hex(*c)))
            {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            if matches!(s.get(i + 1), Some(b'u' | b'U'))
                && let Some(cp) = hex4(s.get(i + 2..i + 6))
            {
                push_char(&mut out, cp);
                i += 6;
                continue;
            }
            out.push(b);
        } else if b == b'+' && plus {
            out.push(b' ');
        } else {
            out.push(b);
        }
        i += 1;
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn hex4(s: Option<&[u8]>) -> Option<u32> {
    let s = s?;
    let mut v = 0u32;
    for &c in s {
        v = v << 4 | u32::from(hex(c)?);
    }
    Some(v)
}

fn push_char(out: &mut Vec<u8>, cp: u32) {
    match char::from_u32(cp) {
        // Full-width ASCII forms (U+FF01..U+FF5E) are folded to ASCII, as some
        // back ends do ("best fit" mapping), which is how they are abused.
        Some(_) if (0xFF01..=0xFF5E).contains(&cp) => out.push((cp - 0xFEE0) as u8),
        Some(c) if cp < 0x80 => out.push(c as u8),
        Some(c) => {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        None => out.extend_from_slice(b"?"),
    }
}

/// HTML entities (`&lt;`, `&#60;`, `&#x3c;`, with or without the final `;`) and
/// JavaScript/CSS escapes (`\u003c`, `\x3c`).
pub fn unescape_entities(s: &[u8]) -> Vec<u8> {
    if memchr::memchr2(b'&', b'\\', s).is_none() {
        return s.to_vec();
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b == b'&' {
            if let Some((cp, len)) = entity(&s[i..]) {
                push_char(&mut out, cp);
                i += len;
                continue;
            }
        } else if b == b'\\' {
            match s.get(i + 1) {
                Some(b'u' | b'U') => {
                    if let Some(cp) = hex4(s.get(i + 2..i + 6)) {
                        push_char(&mut out, cp);
                        i += 6;
                        continue;
                    }
                }
                Some(b'x' | b'X') => {
                    if let (Some(h), Some(l)) =
                        (s.get(i + 2).and_then(|c| hex(*c)), s.get(i + 3).and_then(|c| hex(*c)))
                    {
                        out.push(h << 4 | l);
                        i += 4;
                        continue;
                    }
                }
                _ => {}
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

fn entity(s: &[u8]) -> Option<(u32, usize)> {
    const NAMED: &[(&[u8], u32)] = &[
        (b"&lt", 0x3c),
        (b"&gt", 0x3e),
        (b"&quot", 0x22),
        (b"&apos", 0x27),
        (b"&amp", 0x26),
        (b"&sol", 0x2f),
        (b"&lpar", 0x28),
        (b"&rpar", 0x29),
        (b"&colon", 0x3a),
        (b"&semi", 0x3b),
        (b"&Tab", 0x09),
        (b"&NewLine", 0x0a),
    ];
    if s.get(1) == Some(&b'#') {
        let (radix, start) = if matches!(s.get(2), Some(b'x' | b'X')) { (16, 3) } else { (10, 2) };
        let mut j = start;
        let mut v: u32 = 0;
        while j < s.len() && j - start < 8 {
            let d = match (radix, s[j]) {
                (16, c) => hex(c).map(u32::from),
                (_, c) if c.is_ascii_digit() => Some(u32::from(c - b'0')),
                _ => None,
            };
            match d {
                Some(d) => v = v.saturating_mul(radix).saturating_add(d),
                None => break,
            }
            j += 1;
        }
        if j == start {
            return None;
        }
        if s.get(j) == Some(&b';') {
            j += 1;
        }
        return Some((v, j));
    }
    for (name, cp) in NAMED {
        if s.len() >= name.len() && s[..name.len()].eq_ignore_ascii_case(name) {
            let mut j = name.len();
            if s.get(j) == Some(&b';') {
                j += 1;
            }
            return Some((*cp, j));
        }
    }
    None
}

/// Decodes a value until it stops changing (at most three rounds): double URL encoding,
/// entities inside URL encoding, and the reverse.
pub fn decode_value(s: &[u8], plus: bool) -> Vec<u8> {
    let mut cur = percent_decode(s, plus);
    for _ in 0..3 {
        let needs = memchr::memchr3(b'%', b'&', b'\\', &cur).is_some();
        if !needs {
            break;
        }
        let next = unescape_entities(&percent_decode(&cur, false));
        if next == cur {
            break;
        }
        cur = next;
    }
    // Overlong UTF-8 for '.', '/' and '\' (the IIS "Unicode" traversal).
    if cur.contains(&0xc0) || cur.contains(&0xc1) || cur.contains(&0xe0) {
        cur = fold_overlong(&cur);
    }
    cur
}

fn fold_overlong(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match (s[i], s.get(i + 1)) {
            (0xc0, Some(&b)) if (0x80..=0xbf).contains(&b) => {
                out.push(b - 0x80);
                i += 2;
            }
            (0xc1, Some(&b)) if (0x80..=0xbf).contains(&b) => {
                out.push(b - 0x40);
                i += 2;
            }
            (0xe0, Some(&0x80)) if s.get(i + 2).is_some_and(|b| (0x80..=0xbf).contains(b)) => {
                out.push(s[i + 2] - 0x80);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Lower-cases, turns SQL comments into spaces (keeping the content of MySQL's
/// executable `/*!50000 ... */` comments), drops NUL bytes, and squeezes whitespace:
/// the canonical form keyword rules match against.
pub fn canonical(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    let mut last_space = false;
    while i < s.len() {
        let b = s[i];
        if b == b'/' && s.get(i + 1) == Some(&b'*') {
            if s.get(i + 2) == Some(&b'!') {
                // Executable comment: keep what is inside, minus the version number.
                let mut j = i + 3;
                while j < s.len() && s[j].is_ascii_digit() {
                    j += 1;
                }
                i = j;
                continue;
            }
            let end = memchr::memmem::find(&s[i + 2..], b"*/").map(|e| i + 2 + e + 2).unwrap_or(s.len());
            i = end;
            if !last_space {
                out.push(b' ');
                last_space = true;
            }
            continue;
        }
        if b == b'*' && s.get(i + 1) == Some(&b'/') {
            i += 2;
            continue;
        }
        if b == 0 {
            i += 1;
            continue;
        }
        if b.is_ascii_whitespace() || b == 0x0b {
            if !last_space {
                out.push(b' ');
                last_space = true;
            }
            i += 1;
            continue;
        }
        out.push(b.to_ascii_lowercase());
        last_space = false;
        i += 1;
    }
    out
}

/// Splits `a=1&b=2` into raw (still encoded) name/value pairs. `;` is not a separator.
pub fn split_params(q: &str) -> impl Iterator<Item = (&str, &str)> {
    q.split('&').filter(|kv| !kv.is_empty()).map(|kv| kv.split_once('=').unwrap_or((kv, "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layered_encodings_are_undone() {
        assert_eq!(decode_value(b"%253Cscript%253E", true), b"<script>");
        assert_eq!(decode_value(b"a+b%20c", true), b"a b c");
        assert_eq!(decode_value(b"%u003cscript%u003e", false), b"<script>");
        assert_eq!(decode_value(b"&#60;img&#x20;src&#x3D;x&gt;", false), b"<img src=x>");
        assert_eq!(decode_value(b"\\u003csvg\\x3e", false), b"<svg>");
        assert_eq!(decode_value(b"%c0%ae%c0%ae%c0%af", false), b"../");
        assert_eq!(decode_value(b"%uff1cscript%uff1e", false), b"<script>");
        // Broken escapes are left alone, never a panic.
        assert_eq!(decode_value(b"100%", false), b"100%");
        assert_eq!(decode_value(b"%zz&#;&#x", false), b"%zz&#;&#x");
    }

    #[test]
    fn canonical_form_strips_comment_tricks() {
        assert_eq!(canonical(b"UNION/**/SELECT"), b"union select");
        assert_eq!(canonical(b"/*!50000UNION*/ /*!SELECT*/"), b"union select");
        assert_eq!(canonical(b"a \t\n b\0c"), b"a bc");
    }
}
