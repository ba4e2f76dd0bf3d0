//! Schema version 2 (`hall_of_fame.validation_json`): a version 1 database reads as it is (validation `null`) and is migrated on a read-write open.

use evoflow::storage::{open_storage, HallOfFameRecord, OpenMode, StorageConfig, SCHEMA_VERSION};

fn entry(validation_json: &str) -> HallOfFameRecord {
    HallOfFameRecord {
        run_id: "old".into(),
        rank: 1,
        seed_name: "rsi_filter".into(),
        genome_json: r#"{"period":14}"#.into(),
        fitness: 1.5,
        train_stats_json: "{}".into(),
        test_stats_json: "null".into(),
        validation_json: validation_json.into(),
    }
}

#[test]
fn a_version_1_database_is_read_then_migrated() {
    assert_eq!(SCHEMA_VERSION, 2);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v1.duckdb");
    let config = StorageConfig::local(&db);
    drop(open_storage(&config, OpenMode::ReadWrite).unwrap());
    // Turn the new file into what version 1 wrote: no validation column, version 1, one row.
    {
        let conn = duckdb::Connection::open(&db).unwrap();
        conn.execute_batch(
            "ALTER TABLE hall_of_fame DROP COLUMN validation_json;
             DELETE FROM schema_version;
             INSERT INTO schema_version VALUES (1, 'evoflow old', 0);
             INSERT INTO hall_of_fame VALUES ('old', 1, 'rsi_filter', '{\"period\":14}', 1.5, '{}', 'null');",
        )
        .unwrap();
    }
    let r = open_storage(&config, OpenMode::ReadOnly).expect("a version 1 file opens read-only");
    assert_eq!(r.read_hall_of_fame("old").unwrap(), vec![entry("null")]);
    drop(r);

    let mut w = open_storage(&config, OpenMode::ReadWrite).expect("migrates to version 2");
    w.claim_writer().unwrap();
    assert_eq!(
        w.read_hall_of_fame("old").unwrap(),
        vec![entry("null")],
        "old rows survive"
    );
    let fresh = entry(r#"{"dsr":0.3,"warnings":["dsr 0.300 < 0.95"]}"#);
    w.write_hall_of_fame("old", std::slice::from_ref(&fresh)).unwrap();
    drop(w);
    let conn = duckdb::Connection::open(&db).unwrap();
    let version: i64 = conn
        .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
    drop(conn);
    let r = open_storage(&config, OpenMode::ReadOnly).unwrap();
    assert_eq!(r.read_hall_of_fame("old").unwrap(), vec![fresh]);
}
