//! Errors from indicator parameters and inputs.

/// An indicator error.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    #[error("{indicator}: {message}")]
    InvalidParam { indicator: &'static str, message: String },
    #[error("unknown indicator `{name}`; known: {known}")]
    Unknown { name: String, known: String },
}
