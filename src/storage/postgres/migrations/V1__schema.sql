-- evoflow's PostgreSQL schema, version 1 (applied by refinery; history in refinery_schema_history).
-- Timestamps are UTC milliseconds; JSON is text. Unsigned 64-bit values (seed, counters) are
-- stored as BIGINT; a seed above 2^63 - 1 reads as its two's-complement negative in SQL.
CREATE TABLE bars (
    symbol TEXT NOT NULL, timeframe TEXT NOT NULL, ts_ms BIGINT NOT NULL,
    open DOUBLE PRECISION NOT NULL, high DOUBLE PRECISION NOT NULL, low DOUBLE PRECISION NOT NULL,
    close DOUBLE PRECISION NOT NULL, volume DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (symbol, timeframe, ts_ms));
CREATE TABLE funding (
    symbol TEXT NOT NULL, timeframe TEXT NOT NULL, ts_ms BIGINT NOT NULL, rate DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (symbol, timeframe, ts_ms));
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, config_json TEXT NOT NULL, seed BIGINT NOT NULL,
    data_fingerprint TEXT NOT NULL, code_version TEXT NOT NULL, status TEXT NOT NULL,
    started_at_ms BIGINT NOT NULL, ended_at_ms BIGINT);
CREATE TABLE generations (
    run_id TEXT NOT NULL, generation BIGINT NOT NULL, best DOUBLE PRECISION, mean DOUBLE PRECISION,
    std DOUBLE PRECISION, diversity DOUBLE PRECISION, evaluations BIGINT NOT NULL, cache_hits BIGINT NOT NULL,
    elapsed_ms BIGINT NOT NULL,
    PRIMARY KEY (run_id, generation));
CREATE TABLE individuals (
    run_id TEXT NOT NULL, generation BIGINT NOT NULL, ordinal INTEGER NOT NULL, seed_name TEXT NOT NULL,
    genome_json TEXT NOT NULL, genome_hash TEXT NOT NULL, fitness DOUBLE PRECISION, sharpe DOUBLE PRECISION,
    return_pct DOUBLE PRECISION, max_drawdown_pct DOUBLE PRECISION, num_trades BIGINT NOT NULL,
    PRIMARY KEY (run_id, generation, ordinal));
CREATE TABLE hall_of_fame (
    run_id TEXT NOT NULL, rank BIGINT NOT NULL, ordinal INTEGER NOT NULL, seed_name TEXT NOT NULL,
    genome_json TEXT NOT NULL, fitness DOUBLE PRECISION, train_stats_json TEXT NOT NULL,
    test_stats_json TEXT NOT NULL,
    PRIMARY KEY (run_id, ordinal));
CREATE TABLE checkpoints (
    run_id TEXT NOT NULL, generation BIGINT NOT NULL, created_at_ms BIGINT NOT NULL,
    payload BYTEA NOT NULL, bytes BIGINT NOT NULL, checksum TEXT NOT NULL,
    PRIMARY KEY (run_id, generation));
CREATE TABLE fitness_cache (
    data_fingerprint TEXT NOT NULL, objective TEXT NOT NULL, genome_hash TEXT NOT NULL,
    genome_json TEXT NOT NULL, fitness DOUBLE PRECISION NOT NULL, created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (data_fingerprint, objective, genome_hash));
