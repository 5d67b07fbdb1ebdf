//! Typed errors: every error that comes from outside data names the file, the line and the field.

use std::path::PathBuf;

use scrutineer_core::input::{self, Input, InputError};
use scrutineer_core::lines::{DEFAULT_MAX_LINE_BYTES, LineLimit};

/// Everything that can go wrong while reading audit inputs or running an audit.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error from the operating system.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file could not be parsed.
    #[error("{path}:{line}: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// What the CSV reader said.
        #[source]
        source: csv::Error,
    },
    /// A JSON file could not be parsed.
    #[error("{path}:{line}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },
    /// A CSV file lacks a column.
    #[error("{path}: missing column '{column}'")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column looked for.
        column: String,
    },
    /// A field's value is not what it must be.
    #[error("{path}:{line}: field '{field}': {message} (value '{value}')")]
    Field {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// The field.
        field: String,
        /// Its value, bounded and escaped.
        value: String,
        /// What is wrong with it.
        message: String,
    },
    /// A line is malformed.
    #[error("{path}:{line}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// A parameter is out of range, or an audit step is not possible.
    #[error("{0}")]
    Invalid(String),
    /// A round-by-round (Minerva, Providence) question that has no answer.
    #[error(transparent)]
    Rounds(#[from] crate::minerva::RoundsError),
    /// An input that could not be opened, or is compressed in a format no reader takes.
    #[error(transparent)]
    Input(#[from] InputError),
}

/// The result of the crate's functions.
pub type Result<T> = std::result::Result<T, AuditError>;

impl AuditError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> AuditError {
        AuditError::Io { path: path.into(), source }
    }

    /// A bad field value, quoted bounded and escaped.
    pub fn field(
        path: impl Into<PathBuf>,
        line: u64,
        field: &str,
        value: &str,
        message: impl Into<String>,
    ) -> AuditError {
        AuditError::Field {
            path: path.into(),
            line,
            field: field.to_owned(),
            // The value is quoted in messages: bounded and escaped.
            value: scrutineer_core::text::echo_str(value),
            message: message.into(),
        }
    }

    /// A malformed line.
    pub fn format(path: impl Into<PathBuf>, line: u64, message: impl Into<String>) -> AuditError {
        AuditError::Format { path: path.into(), line, message: message.into() }
    }
}

/// Column lookup by header name, so readers accept any column order.
pub(crate) struct Columns {
    path: PathBuf,
    names: Vec<String>,
}

impl Columns {
    pub(crate) fn new(path: &std::path::Path, headers: &csv::StringRecord) -> Columns {
        Columns {
            path: path.to_owned(),
            names: headers.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_owned()).collect(),
        }
    }

    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
    }

    pub(crate) fn require(&self, name: &str) -> Result<usize> {
        self.find(name)
            .ok_or_else(|| AuditError::MissingColumn { path: self.path.clone(), column: name.to_owned() })
    }

    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }
}

/// Reads one field of a record and parses it, with an error naming file, line and field.
pub(crate) fn parse_field<T: std::str::FromStr>(
    path: &std::path::Path,
    record: &csv::StringRecord,
    index: usize,
    name: &str,
) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let line = record.position().map(|p| p.line()).unwrap_or(0);
    let raw = record.get(index).unwrap_or("").trim();
    raw.parse::<T>().map_err(|e| AuditError::field(path, line, name, raw, e.to_string()))
}

/// Opens an input, plain, gzip or zstd ([`scrutineer_core::input`]).
pub(crate) fn open(path: &std::path::Path) -> Result<Input> {
    Ok(input::open(path)?)
}

/// Opens a line-based (CSV) input with its lines bounded: a line longer than
/// [`DEFAULT_MAX_LINE_BYTES`] stops the read with an error naming it, as any other
/// malformed row of an audit input does, instead of being held in memory whole.
pub(crate) fn open_lines(path: &std::path::Path) -> Result<LineLimit<Input>> {
    Ok(LineLimit::strict(open(path)?, DEFAULT_MAX_LINE_BYTES))
}

pub(crate) fn csv_err(path: &std::path::Path, e: csv::Error) -> AuditError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    AuditError::Csv { path: path.to_owned(), line, source: e }
}
