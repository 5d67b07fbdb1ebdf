//! YARA rules, compiled at run time by yara-x (with the `yara` feature).
//!
//! Without the feature the types stay, so that callers need no conditional code, but
//! [`YaraRules::compile`] always fails with [`YaraError::NotBuilt`]: this build hashes
//! files and matches indicators only.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::indicators::ChirpYaraRule;

/// Whether this build can run YARA rules (the crate's `yara` feature).
pub const YARA_BUILT: bool = cfg!(feature = "yara");

/// Seconds one file's scan may take before yara-x stops it; the file is then reported as
/// skipped (scan timeout), not as clean.
pub const SCAN_TIMEOUT_SECONDS: u64 = 60;

/// One problem in a rule file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YaraCompileError {
    /// The rule file (or the CHIRP indicator file carrying the rule).
    pub path: PathBuf,
    /// 1-based line, when yara-x points at one.
    pub line: Option<usize>,
    /// yara-x's message (code and title, such as `E009: unknown identifier`).
    pub message: String,
}

impl std::fmt::Display for YaraCompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// Why YARA rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum YaraError {
    /// This build has no YARA engine.
    #[error(
        "YARA rules need a scrutineer built with `--features yara` (cargo build --release --features yara); this build hashes files and matches indicators only"
    )]
    NotBuilt,
    /// A rule file or directory could not be read.
    #[error("reading the YARA rules at {}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system reported.
        source: std::io::Error,
    },
    /// A directory holds no `.yar`/`.yara` file.
    #[error("no .yar or .yara files in {}", .path.display())]
    NoRuleFiles {
        /// The directory.
        path: PathBuf,
    },
    /// Rules did not compile; every error, in file order.
    #[error("{} YARA compile error(s): {}", .errors.len(), .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Compile {
        /// The errors.
        errors: Vec<YaraCompileError>,
    },
}

/// What was compiled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct YaraStats {
    /// Rule files read.
    pub files: usize,
    /// Rules compiled (from files and CHIRP indicators).
    pub rules: usize,
    /// Of those, rules from CHIRP indicators.
    pub chirp_rules: usize,
    /// Compiler warnings (slow patterns, always-true conditions, ...).
    pub warnings: usize,
    /// Seconds taken to compile.
    pub compile_seconds: f64,
}

/// One rule matching one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YaraMatch {
    /// The rule's identifier.
    pub rule: String,
    /// Its namespace (`default` for rule files, `chirp:<file>` for CHIRP indicators).
    pub namespace: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// The identifiers of the patterns that matched (`$s0`, ...).
    pub patterns: Vec<String>,
}

/// The rule files named by `inputs`: files as given, directories searched recursively
/// for `.yar`/`.yara`, in name order.
pub fn rule_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, YaraError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), YaraError> {
        let io = |source| YaraError::Io { path: dir.to_owned(), source };
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("yar") || e.eq_ignore_ascii_case("yara"))
            {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let before = out.len();
            walk(input, &mut out)?;
            if out.len() == before {
                return Err(YaraError::NoRuleFiles { path: input.clone() });
            }
        } else {
            std::fs::metadata(input).map_err(|source| YaraError::Io { path: input.clone(), source })?;
            out.push(input.clone());
        }
    }
    Ok(out)
}

#[cfg(feature = "yara")]
mod engine {
    use super::*;

    /// Compiled YARA rules.
    pub struct YaraRules {
        rules: yara_x::Rules,
        /// What was compiled.
        pub stats: YaraStats,
    }

    impl std::fmt::Debug for YaraRules {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("YaraRules").field("stats", &self.stats).finish_non_exhaustive()
        }
    }

    /// The 1-based line of byte `offset` in `text`.
    fn line_of(text: &str, offset: usize) -> usize {
        text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
    }

    fn compile_error(
        path: &Path,
        text: &str,
        first_line: usize,
        e: &yara_x::errors::CompileError,
    ) -> YaraCompileError {
        let line = e.labels().next().map(|l| line_of(text, l.span().start()) + first_line - 1);
        YaraCompileError { path: path.to_owned(), line, message: format!("{}: {}", e.code(), e.title()) }
    }

    impl YaraRules {
        /// Compiles the rule files named by `inputs` (files, or directories of
        /// `.yar`/`.yara`) into the default namespace, as the `yara` and `yr` tools do, and
        /// the CHIRP indicators' rules each into the namespace of its indicator file. All
        /// errors are collected, each naming its file and line.
        pub fn compile(inputs: &[PathBuf], chirp: &[ChirpYaraRule]) -> Result<YaraRules, YaraError> {
            let started = std::time::Instant::now();
            let files = rule_files(inputs)?;
            let mut compiler = yara_x::Compiler::new();
            let mut errors = Vec::new();
            let mut sources = 0usize;
            for path in &files {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| YaraError::Io { path: path.clone(), source })?;
                let origin = path.display().to_string();
                if let Err(e) =
                    compiler.add_source(yara_x::SourceCode::from(text.as_str()).with_origin(&origin))
                {
                    errors.push(compile_error(path, &text, 1, &e));
                }
                sources += 1;
            }
            for rule in chirp {
                let name =
                    rule.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                compiler.new_namespace(&format!("chirp:{name}"));
                let origin = format!("{} ({})", rule.path.display(), rule.name);
                if let Err(e) =
                    compiler.add_source(yara_x::SourceCode::from(rule.source.as_str()).with_origin(&origin))
                {
                    errors.push(compile_error(&rule.path, &rule.source, rule.first_line, &e));
                }
            }
            if !errors.is_empty() {
                return Err(YaraError::Compile { errors });
            }
            let warnings = compiler.warnings().len();
            let rules = compiler.build();
            let chirp_rules = rules.iter().filter(|r| r.namespace().starts_with("chirp:")).count();
            let stats = YaraStats {
                files: sources,
                rules: rules.iter().len(),
                chirp_rules,
                warnings,
                compile_seconds: started.elapsed().as_secs_f64(),
            };
            Ok(YaraRules { rules, stats })
        }

        pub(crate) fn scanner(&self) -> YaraScanner<'_> {
            let mut inner = yara_x::Scanner::new(&self.rules);
            inner.set_timeout(std::time::Duration::from_secs(SCAN_TIMEOUT_SECONDS));
            YaraScanner { inner }
        }
    }

    /// A scanner over [`YaraRules`], one per worker thread.
    pub(crate) struct YaraScanner<'r> {
        inner: yara_x::Scanner<'r>,
    }

    impl YaraScanner<'_> {
        /// The rules matching `data`, or why the scan stopped.
        pub(crate) fn scan(&mut self, data: &[u8]) -> Result<Vec<YaraMatch>, String> {
            let results = self.inner.scan(data).map_err(|e| e.to_string())?;
            Ok(results
                .matching_rules()
                .map(|r| YaraMatch {
                    rule: r.identifier().to_owned(),
                    namespace: r.namespace().to_owned(),
                    tags: r.tags().map(|t| t.identifier().to_owned()).collect(),
                    patterns: r
                        .patterns()
                        .filter(|p| p.matches().len() > 0)
                        .map(|p| p.identifier().to_owned())
                        .collect(),
                })
                .collect())
        }
    }
}

#[cfg(not(feature = "yara"))]
mod engine {
    use super::*;

    /// Compiled YARA rules; this build has no YARA engine, so none can be made.
    #[derive(Debug)]
    pub struct YaraRules {
        never: std::convert::Infallible,
        /// What was compiled.
        pub stats: YaraStats,
    }

    impl YaraRules {
        /// Always [`YaraError::NotBuilt`]: this build lacks the `yara` feature.
        pub fn compile(_inputs: &[PathBuf], _chirp: &[ChirpYaraRule]) -> Result<YaraRules, YaraError> {
            Err(YaraError::NotBuilt)
        }

        pub(crate) fn scanner(&self) -> YaraScanner<'_> {
            match self.never {}
        }
    }

    /// Never made: see [`YaraRules`].
    pub(crate) struct YaraScanner<'r> {
        never: std::convert::Infallible,
        _rules: std::marker::PhantomData<&'r ()>,
    }

    impl YaraScanner<'_> {
        pub(crate) fn scan(&mut self, _data: &[u8]) -> Result<Vec<YaraMatch>, String> {
            match self.never {}
        }
    }
}

pub use engine::YaraRules;
pub(crate) use engine::YaraScanner;
