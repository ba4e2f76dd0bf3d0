//! The PostgreSQL connection string (`--pg-url`, `EVOFLOW_PG_URL`, `DATABASE_URL`): parsed and checked once, `sslmode` and `sslrootcert` taken out for rustls, the password never shown.

use std::path::PathBuf;
use std::str::FromStr;

use super::super::StorageError;

/// How TLS is used, with libpq's meaning of each `sslmode`:
/// `disable` never, `prefer` (the default) when the server offers it, `require` always
/// but without checking the certificate (encryption only, what Neon's URLs ask for; like
/// libpq it checks the chain when `sslrootcert` is given), `verify-ca` always with the
/// chain checked, `verify-full` always with the chain and the host name checked. The
/// roots are `sslrootcert` when given, else the Mozilla roots (webpki-roots).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Option<SslMode> {
        Some(match text {
            "disable" | "allow" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

/// A checked connection string. `Debug` and [`PgUrl::redacted`] never show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl {
    /// The connection string without `sslmode`/`sslrootcert` (tokio-postgres parses the rest).
    pub(crate) rest: String,
    pub ssl_mode: SslMode,
    /// CA certificates (PEM) to trust instead of the Mozilla roots.
    pub root_cert: Option<PathBuf>,
    redacted: PathBuf,
}

impl std::fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgUrl")
            .field("location", &self.redacted)
            .field("ssl_mode", &self.ssl_mode)
            .finish()
    }
}

impl PgUrl {
    /// Parses a `postgres://` / `postgresql://` URL or a `key=value` string; `source` names
    /// the flag or variable it came from, for the error.
    pub fn parse(text: &str, source: &str) -> Result<PgUrl, StorageError> {
        let bad = |why: String| StorageError::Config(format!("{source}: {why}"));
        let text = text.trim();
        let mut ssl_mode = None;
        let mut root_cert = None;
        let mut take = |key: &str, value: &str| -> Result<bool, StorageError> {
            match key {
                "sslmode" => {
                    ssl_mode = Some(SslMode::parse(value).ok_or_else(|| {
                        bad(format!(
                            "sslmode `{value}` is not one of disable, prefer, require, verify-ca, verify-full"
                        ))
                    })?);
                    Ok(true)
                }
                "sslrootcert" => {
                    root_cert = Some(PathBuf::from(value));
                    Ok(true)
                }
                _ => Ok(false),
            }
        };
        let rest = if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            match text.split_once('?') {
                None => text.to_string(),
                Some((base, query)) => {
                    let mut kept = Vec::new();
                    for pair in query.split('&').filter(|p| !p.is_empty()) {
                        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                        if !take(k, v)? {
                            kept.push(pair);
                        }
                    }
                    if kept.is_empty() {
                        base.to_string()
                    } else {
                        format!("{base}?{}", kept.join("&"))
                    }
                }
            }
        } else if text.contains('=') {
            let mut kept = Vec::new();
            for pair in text.split_whitespace() {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                if !take(k, v.trim_matches('\''))? {
                    kept.push(pair);
                }
            }
            kept.join(" ")
        } else {
            return Err(bad(
                "not a PostgreSQL connection string (expected postgres://user@host:port/db or `host=... dbname=...`)"
                    .into(),
            ));
        };
        let config = postgres::Config::from_str(&rest).map_err(|e| {
            // The cause names the option (e.g. "invalid value for option `port`"), never a value.
            match std::error::Error::source(&e) {
                Some(cause) => bad(format!("cannot parse it: {e}: {cause}")),
                None => bad(format!("cannot parse it: {e}")),
            }
        })?;
        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .unwrap_or_else(|| "localhost".into());
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().map(|u| format!("{u}@")).unwrap_or_default();
        let db = config.get_dbname().unwrap_or("");
        Ok(PgUrl {
            rest,
            ssl_mode: ssl_mode.unwrap_or(SslMode::Prefer),
            root_cert,
            redacted: PathBuf::from(format!("postgres://{user}{host}:{port}/{db}")),
        })
    }

    /// `postgres://user@host:port/db`: where the data is, without the password.
    pub fn redacted(&self) -> &std::path::Path {
        &self.redacted
    }

    /// The tokio-postgres configuration (TLS mode set from `sslmode`).
    pub(crate) fn config(&self) -> Result<postgres::Config, StorageError> {
        let mut c = postgres::Config::from_str(&self.rest)
            .map_err(|e| StorageError::Config(format!("{}: {e}", self.redacted.display())))?;
        c.ssl_mode(match self.ssl_mode {
            SslMode::Disable => postgres::config::SslMode::Disable,
            SslMode::Prefer => postgres::config::SslMode::Prefer,
            _ => postgres::config::SslMode::Require,
        });
        if c.get_connect_timeout().is_none() {
            c.connect_timeout(std::time::Duration::from_secs(10));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_is_taken_out_and_the_password_hidden() {
        let u = PgUrl::parse(
            "postgres://alice:s3cret@ep-x.neon.tech/app?sslmode=require&channel_binding=require",
            "--pg-url",
        )
        .unwrap();
        assert_eq!(u.ssl_mode, SslMode::Require);
        assert_eq!(
            u.redacted(),
            std::path::Path::new("postgres://alice@ep-x.neon.tech:5432/app")
        );
        assert!(!format!("{u:?}").contains("s3cret"));
        assert!(!u.rest.contains("sslmode"));
        let k = PgUrl::parse("host=127.0.0.1 port=5999 user=bob dbname=d sslmode=verify-full", "X").unwrap();
        assert_eq!(k.ssl_mode, SslMode::VerifyFull);
        assert_eq!(k.redacted(), std::path::Path::new("postgres://bob@127.0.0.1:5999/d"));
        assert_eq!(PgUrl::parse("postgres://h/d", "X").unwrap().ssl_mode, SslMode::Prefer);
        let e = PgUrl::parse("postgres://h/d?sslmode=maybe", "EVOFLOW_PG_URL")
            .unwrap_err()
            .to_string();
        assert!(e.contains("EVOFLOW_PG_URL") && e.contains("maybe"), "{e}");
        assert!(PgUrl::parse("just-a-word", "X").is_err());
    }
}
