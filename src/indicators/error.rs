//! Errors from indicator parameters and inputs.

/// An indicator error.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    /// A bad period or parameter, mismatched input lengths, or an unknown parameter name.
    #[error("{indicator}: {message}")]
    InvalidParam { indicator: &'static str, message: String },
    /// An indicator name the dispatcher does not know.
    #[error("unknown indicator `{name}`; known: {known}")]
    Unknown { name: String, known: String },
}
