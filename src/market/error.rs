//! Errors raised while loading and validating market data; each names the file, row and field.

/// A market-data error. Rows are 1-based data rows (the header is not counted).
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    /// `error` is part of the message (not a `source`, which `{:#}` would print again).
    #[error("{file}: cannot read: {error}")]
    Io { file: String, error: std::io::Error },
    #[error("{file}: missing column `{column}`")]
    MissingColumn { file: String, column: String },
    #[error("{file}: row {row}, field `{field}`: {message}")]
    InvalidField {
        file: String,
        row: usize,
        field: String,
        message: String,
    },
    #[error("{file}: no data rows")]
    Empty { file: String },
    #[error("{file}: {message}")]
    Format { file: String, message: String },
    #[error("unknown sample `{name}`; known samples: {known}")]
    UnknownSample { name: String, known: String },
}

impl MarketError {
    /// Shorthand for [`MarketError::InvalidField`].
    pub fn field(file: &str, row: usize, field: &str, message: impl Into<String>) -> Self {
        MarketError::InvalidField {
            file: file.to_string(),
            row,
            field: field.to_string(),
            message: message.into(),
        }
    }
}
