//! The password never changes. When the running database's credentials are in Secrets Manager
//! (the function's `DB_SECRET_NAME`, the RDS-managed secret, or `database.secret_name`), the
//! plan adopts that secret and the template references it without generating a value
//! (`database.secret_name`, see `PostgresRdsProps::adopted`). When they are not, the import
//! (never `--dry-run`) first creates the secret from the current values: the master password is
//! read from standard input, never from a flag (flags end up in shell history and `ps`), and
//! the secret gets `username`, `password`, `host`, `port` and `dbname`, the shape the API and
//! the tunnel read.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, anyhow};

use super::discover::{LiveDb, LiveSecret, Sdk};

/// The secret's name when the config names none: `<stack name>/db-credentials`.
pub fn default_secret_name(stack_name: &str) -> String {
    format!("{stack_name}/db-credentials")
}

/// Reads one line (the password) from `input`, without its line ending; an empty one is an
/// error (the master password of a running instance is never empty).
pub fn read_password(input: &mut impl BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read the master password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        anyhow::bail!(
            "no master password on standard input: pipe it in, e.g. `printf '%s' \"$PGPASSWORD\" | snowcdk import ...` (it is never taken from a flag)"
        );
    }
    Ok(password)
}

/// Reads the password from this process's standard input, with echo off on a terminal.
pub fn read_password_from_stdin(db: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    if terminal {
        eprint!("current master password of {db} (not echoed): ");
        let _ = std::process::Command::new("stty").arg("-echo").status();
    }
    let result = read_password(&mut stdin.lock());
    if terminal {
        let _ = std::process::Command::new("stty").arg("echo").status();
        eprintln!();
    }
    result
}

/// The secret's value: the connection's fields as the API reads them.
pub fn secret_value(db: &LiveDb, password: &str) -> String {
    let text = |k: &str| {
        db.properties
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    serde_json::json!({
        "username": text("MasterUsername"),
        "password": password,
        "engine": "postgres",
        "host": db.address,
        "port": db.port,
        "dbname": text("DBName"),
        "dbInstanceIdentifier": db.identifier,
    })
    .to_string()
}

/// Creates the credentials' secret `name` from the current password (a write: only outside
/// `--dry-run`), and returns it as discovery would have found it.
pub async fn create_credentials_secret(
    sdk: &Sdk,
    name: &str,
    db: &LiveDb,
    password: &str,
) -> anyhow::Result<LiveSecret> {
    let created = sdk
        .secrets
        .create_secret()
        .name(name)
        .description(format!(
            "Master credentials of the PostgreSQL database {}: username, password, host, port, dbname",
            db.identifier
        ))
        .secret_string(secret_value(db, password))
        .send()
        .await
        .map_err(|e| anyhow!("cannot create secret {name}: {e}"))?;
    Ok(LiveSecret {
        arn: created.arn().unwrap_or_default().to_owned(),
        name: created.name().unwrap_or(name).to_owned(),
        description: None,
        tags: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_comes_from_one_line_of_input() {
        let mut input = std::io::Cursor::new(b"s3cret pass\nnext".to_vec());
        assert_eq!(read_password(&mut input).expect("read"), "s3cret pass");
        let mut empty = std::io::Cursor::new(b"\n".to_vec());
        let err = read_password(&mut empty).expect_err("empty");
        assert!(err.to_string().contains("never taken from a flag"), "{err}");
    }

    #[test]
    fn the_secret_holds_what_the_api_reads() {
        let mut db = LiveDb {
            identifier: "snowexdb".into(),
            address: "snowexdb.x.us-west-2.rds.amazonaws.com".into(),
            port: 5432,
            ..LiveDb::default()
        };
        db.properties
            .insert("MasterUsername".into(), "snowex_admin".into());
        db.properties.insert("DBName".into(), "snowex".into());
        let v: serde_json::Value = serde_json::from_str(&secret_value(&db, "pw")).expect("JSON");
        assert_eq!(v["username"], "snowex_admin");
        assert_eq!(v["password"], "pw");
        assert_eq!(v["host"], "snowexdb.x.us-west-2.rds.amazonaws.com");
        assert_eq!(v["port"], 5432);
        assert_eq!(v["dbname"], "snowex");
        assert_eq!(
            default_secret_name("snowex-dev"),
            "snowex-dev/db-credentials"
        );
    }
}
