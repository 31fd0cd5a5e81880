//! Errors: every one names the file and, where there is one, the line.
use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub struct ReportError {
    /// The file that could not be read or written.
    pub file: PathBuf,
    /// The 1-based line, for a bad line of a JSON-lines file.
    pub line: Option<usize>,
    pub message: String,
}

impl ReportError {
    pub(crate) fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ReportError {
            file: file.into(),
            line: None,
            message: message.into(),
        }
    }

    pub(crate) fn at(file: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        ReportError {
            file: file.into(),
            line: Some(line),
            message: message.into(),
        }
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} line {line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ReportError {}
