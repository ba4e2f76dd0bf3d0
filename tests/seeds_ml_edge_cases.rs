//! ML seeds on under-determined training windows (few rows, many features) give a signal, never a panic.

use evoflow::market::sample::load_sample;
use evoflow::seeds::seed;

#[test]
fn svc_with_a_tiny_window_and_many_features_does_not_panic() {
    // Found by evolution (run seed 3): 22-bar window, 15 features, 7 folds: fewer rows than
    // twice the features. The SVC that evoflow used before its own solver panicked on it.
    let data = load_sample("eurusd-1h").unwrap().slice(0..3500);
    let svc = seed("linear_svc_classifier").unwrap();
    let signal = svc
        .signal(&data, &[22.0, 15.0, 1.7844215746346315, 2.0, 7.0, 3.0])
        .unwrap();
    assert_eq!(signal.len(), data.bars.len());
    assert!(signal.iter().all(|v| v.is_finite() && (-1.0..=1.0).contains(v)));
}
