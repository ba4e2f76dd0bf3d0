//! Small, fast, deterministic machine-learning models for the ML seeds (scaler, PCA, linear SVM, random forest).
//!
//! The ML seeds retrain walk-forward on a few hundred rows of at most 15 features, thousands of
//! times per evolution run, so these models are written for that size: flat row-major
//! matrices, no allocation in inner loops, and every random draw from the project's seeded
//! [`evoflow_dataflows::Rng`] (the same genome gives the same model on every worker and
//! process).

pub mod forest;
pub mod linear_svm;
pub mod matrix;
pub mod pca;
pub mod scaler;

pub use forest::{Forest, ForestParams};
pub use linear_svm::{LinearSvm, SvmParams};
pub use matrix::Matrix;
pub use pca::Pca;
pub use scaler::Scaler;
