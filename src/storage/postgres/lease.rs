//! The writer lease: a session-level PostgreSQL advisory lock, held by the writer's connection and released by the server when that session ends (also when the writer is killed).

use postgres::Client;

use super::super::StorageError;

/// The two keys of `pg_try_advisory_lock(int4, int4)`: "evof" and 1 (advisory locks are
/// per database, so each database has its own writer).
const KEY1: i32 = 0x6576_6f66;
const KEY2: i32 = 1;

/// Takes the lease on `client`'s session, or names the session that holds it.
pub fn acquire(client: &mut Client, location: &str) -> Result<(), StorageError> {
    let got: bool = client
        .query_one("SELECT pg_try_advisory_lock($1, $2)", &[&KEY1, &KEY2])
        .and_then(|r| r.try_get(0))
        .map_err(|e| super::pg_err(location, &e))?;
    if got {
        return Ok(());
    }
    Err(StorageError::LeaseHeld {
        location: location.to_string(),
        holder: holder(client).unwrap_or_else(|| "another session".into()),
    })
}

/// Gives the lease back (a writer that ends normally: the next writer need not wait for the
/// server to notice the closed session).
pub fn release(client: &mut Client) {
    let _ = client.execute("SELECT pg_advisory_unlock($1, $2)", &[&KEY1, &KEY2]);
}

/// The application name and server pid of the session holding the lease.
fn holder(client: &mut Client) -> Option<String> {
    let sql = format!(
        "SELECT coalesce(a.application_name, ''), a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
           AND l.classid = {KEY1} AND l.objid = {KEY2}
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    );
    let row = client.query_opt(&sql, &[]).ok()??;
    let name: String = row.try_get(0).ok()?;
    let pid: i32 = row.try_get(1).ok()?;
    Some(format!("{name} (server session {pid})"))
}
