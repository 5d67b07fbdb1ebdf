//! The rules an event can trip, what they mean, and which ATT&CK techniques they map to.

use serde::{Deserialize, Serialize};

/// Whether a rule marks a known attack or a departure from normal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing wrong.
    Normal,
    /// Outside normal traffic (the learned profile, or a malformed request).
    Anomaly,
    /// A known attack.
    Attack,
}

impl Verdict {
    /// The verdict's name in `events.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Normal => "normal",
            Verdict::Anomaly => "anomaly",
            Verdict::Attack => "attack",
        }
    }
}

macro_rules! rules {
    ($( $var:ident = $bit:expr, $name:expr, $verdict:ident, [$($tech:expr),*], $desc:expr; )*) => {
        /// A per-event rule.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Rule { $( #[doc = $desc] $var = $bit, )* }

        impl Rule {
            /// Every rule, in bit order.
            pub const ALL: &'static [Rule] = &[ $( Rule::$var, )* ];
            /// The id written to `events.csv` and findings.
            pub fn name(self) -> &'static str { match self { $( Rule::$var => $name, )* } }
            /// The verdict an event tripping it gets.
            pub fn verdict(self) -> Verdict { match self { $( Rule::$var => Verdict::$verdict, )* } }
            /// MITRE ATT&CK technique ids.
            pub fn techniques(self) -> &'static [&'static str] { match self { $( Rule::$var => &[$($tech),*], )* } }
            /// What it means, for finding summaries.
            pub fn description(self) -> &'static str { match self { $( Rule::$var => $desc, )* } }
        }
    };
}

rules! {
    Sqli = 0, "sqli", Attack, ["T1190"], "SQL injection (libinjection tokenizer on the decoded value)";
    Xss = 1, "xss", Attack, ["T1190", "T1189"], "cross-site scripting (libinjection HTML5 tokenizer on the decoded value)";
    PathTraversal = 2, "path-traversal", Attack, ["T1190", "T1083"], "directory traversal (../ after decoding)";
    FileInclusion = 3, "file-inclusion", Attack, ["T1190", "T1083"], "local or remote file inclusion (system files, php://, remote script URLs)";
    CommandInjection = 4, "command-injection", Attack, ["T1190", "T1059"], "OS command after a shell separator";
    ServerSideInclude = 5, "ssi", Attack, ["T1190"], "server-side include directive";
    CrlfInjection = 6, "crlf-injection", Attack, ["T1190"], "CR/LF followed by a header in a value (response splitting)";
    Jndi = 7, "jndi-lookup", Attack, ["T1190"], "JNDI/expression-language lookup (Log4Shell and kin)";
    NullByte = 8, "null-byte", Attack, ["T1190"], "NUL byte in a decoded value (extension truncation)";
    WebShell = 9, "web-shell", Attack, ["T1505.003"], "request for a known web shell or shell parameter";
    ScannerAgent = 10, "scanner-agent", Attack, ["T1595.002"], "user agent of a vulnerability scanner";
    ReconProbe = 11, "recon-probe", Attack, ["T1595.003"], "probe for a backup, hidden or configuration file";
    UnusualMethod = 12, "unusual-method", Anomaly, ["T1595.002"], "HTTP method outside GET/POST/HEAD/OPTIONS/PUT/DELETE/PATCH";
    Oversized = 13, "oversized", Anomaly, ["T1190", "T1499.003"], "request target over 4 KiB, a value over 2 KiB or a body over 64 KiB";
    MalformedHeader = 14, "malformed-header", Anomaly, ["T1190"], "header line that is not 'Name: value'";
    NotHttp = 15, "not-http", Anomaly, ["T1595.002"], "request line that is not HTTP (binary, TLS to a plain port)";
    UnknownEndpoint = 16, "profile-endpoint", Anomaly, ["T1595.003"], "path never seen in the learned profile";
    UnexpectedMethod = 17, "profile-method", Anomaly, ["T1190"], "method never seen for this endpoint";
    UnknownParam = 18, "profile-param", Anomaly, ["T1190"], "parameter never seen for this endpoint";
    CharClass = 19, "profile-charset", Anomaly, ["T1190"], "value with a character class never seen for this parameter";
    Length = 20, "profile-length", Anomaly, ["T1190"], "value longer than any seen for this parameter";
    ValueSet = 21, "profile-value", Anomaly, ["T1190"], "value outside the small set this parameter takes";
    IdsAlert = 22, "ids-alert", Attack, ["T1190"], "IDS signature alert";
    AuthFailure = 23, "auth-failure", Normal, ["T1110.001"], "failed login";
    Malformed = 24, "malformed", Anomaly, [], "record the reader could not parse";
    Indicator = 25, "indicator", Attack, [], "source, host or URL on an indicator list";
}

/// A set of rules, as a bit set (no allocation per event).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RuleSet(pub u64);

impl RuleSet {
    /// Adds a rule.
    pub fn insert(&mut self, r: Rule) {
        self.0 |= 1 << (r as u8);
    }
    /// Whether the rule is in the set.
    pub fn contains(self, r: Rule) -> bool {
        self.0 & (1 << (r as u8)) != 0
    }
    /// Whether no rule is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The rules in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Rule> {
        Rule::ALL.iter().copied().filter(move |r| self.contains(*r))
    }
    /// The strongest verdict among the rules.
    pub fn verdict(self) -> Verdict {
        self.iter().map(Rule::verdict).max().unwrap_or(Verdict::Normal)
    }
    /// `sqli;xss`: the `rule` column of `events.csv`.
    pub fn names(self) -> String {
        let mut s = String::new();
        for r in self.iter() {
            if !s.is_empty() {
                s.push(';');
            }
            s.push_str(r.name());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_distinct_and_verdict_is_the_strongest() {
        let mut seen = 0u64;
        for r in Rule::ALL {
            assert_eq!(seen & (1 << (*r as u8)), 0, "{r:?}");
            seen |= 1 << (*r as u8);
        }
        let mut s = RuleSet::default();
        assert_eq!(s.verdict(), Verdict::Normal);
        s.insert(Rule::Length);
        assert_eq!(s.verdict(), Verdict::Anomaly);
        s.insert(Rule::Sqli);
        assert_eq!(s.verdict(), Verdict::Attack);
        assert_eq!(s.names(), "sqli;profile-length");
    }
}
