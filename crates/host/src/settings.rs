//! `toolhost.toml` in the home directory: the operator's limits, timeouts and TTLs for every
//! front end (CLI, MCP server, web UI). Every key is optional; a missing file means the
//! defaults. A bad file is an error naming the key, its line and column, and the valid
//! range: the host never guesses.
//!
//! ```toml
//! [limits]
//! memory_mb = 64
//! deadline_secs = 60
//! max_output_kb = 4096
//! memory_budget_mib = 2048  # linear memory all calls in flight may hold together
//! max_concurrent_calls = 1024  # default: memory_budget_mib / 2 MiB (an ordinary call)
//! max_host_resources = 128
//! max_header_kb = 16
//!
//! [outbound]
//! connect_timeout_secs = 10
//! first_byte_timeout_secs = 30
//! between_bytes_timeout_secs = 30
//! max_requests_per_call = 200
//! max_in_flight_per_call = 8
//! max_request_body_kb = 1024
//! max_response_body_kb = 16384
//! max_retries = 3
//! retry_budget_secs = 30
//!
//! [catalog]
//! ttl_secs = 900
//!
//! [approvals]
//! ttl_hours = 24
//! require_passkey = false  # true: only the admin UI, with the approver's passkey, approves
//!
//! [operator]
//! role = "Technician"
//! ```
//!
//! `[operator] role` is the CLI operator's own role: `toolhost call --as` may only lower it.
//! It lives here, in the operator's private home, because a role claimed on the command line
//! is checked against it and nothing the agent can write.

use crate::config::HostConfig;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;
use toolhost_base::{read_optional, TomlError, TomlText};

/// The settings file's name in the home directory.
pub const SETTINGS_FILE: &str = "toolhost.toml";

/// `toolhost.toml` could not be used; the host does not start on a guess.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file exists but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The settings file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A syntax error, an unknown key or a value out of range.
    #[error(transparent)]
    Invalid(#[from] TomlError),
}

type Value = Option<Spanned<u64>>;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    outbound: Outbound,
    #[serde(default)]
    catalog: Catalog,
    #[serde(default)]
    approvals: Approvals,
    #[serde(default)]
    operator: Operator,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Limits {
    memory_mb: Value,
    deadline_secs: Value,
    max_output_kb: Value,
    max_concurrent_calls: Value,
    memory_budget_mib: Value,
    max_host_resources: Value,
    max_header_kb: Value,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Outbound {
    connect_timeout_secs: Value,
    first_byte_timeout_secs: Value,
    between_bytes_timeout_secs: Value,
    max_requests_per_call: Value,
    max_in_flight_per_call: Value,
    max_request_body_kb: Value,
    max_response_body_kb: Value,
    max_retries: Value,
    retry_budget_secs: Value,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalog {
    ttl_secs: Value,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Approvals {
    ttl_hours: Value,
    require_passkey: Option<bool>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Operator {
    role: Option<Spanned<String>>,
}

/// Where `toolhost.toml` lives in a home directory.
pub fn settings_path(home: &Path) -> PathBuf {
    home.join(SETTINGS_FILE)
}

/// Applies `<home>/toolhost.toml`, if there is one, to `config`.
pub fn apply(config: &mut HostConfig) -> Result<(), SettingsError> {
    let path = settings_path(&config.home);
    match read_optional(&path) {
        Ok(Some(text)) => apply_text(config, &path, &text),
        Ok(None) => Ok(()),
        Err(source) => Err(SettingsError::Read { path, source }),
    }
}

fn apply_text(config: &mut HostConfig, path: &Path, text: &str) -> Result<(), SettingsError> {
    let toml = TomlText::new(path, text);
    let invalid =
        |offset: usize, message: String| SettingsError::from(toml.error_at(offset, message));
    let file: SettingsFile = toml.parse()?;
    // Each key: its range, and where it goes.
    let read =
        |value: &Value, key: &str, min: u64, max: u64| -> Result<Option<u64>, SettingsError> {
            let Some(value) = value else { return Ok(None) };
            let n = *value.get_ref();
            if n < min || n > max {
                return Err(invalid(
                    value.span().start,
                    format!("`{key}` = {n} is out of range: use {min}..={max}"),
                ));
            }
            Ok(Some(n))
        };
    let secs = Duration::from_secs;
    let l = &file.limits;
    if let Some(n) = read(&l.memory_mb, "limits.memory_mb", 1, 4096)? {
        config.limits.max_memory_bytes = (n as usize) << 20;
    }
    if let Some(n) = read(&l.deadline_secs, "limits.deadline_secs", 1, 3600)? {
        config.limits.deadline = secs(n);
    }
    if let Some(n) = read(&l.max_output_kb, "limits.max_output_kb", 1, 1 << 20)? {
        config.limits.max_output_bytes = (n as usize) << 10;
    }
    let budget = read(
        &l.memory_budget_mib,
        "limits.memory_budget_mib",
        16,
        1 << 20,
    )?;
    if let Some(n) = budget {
        config.limits.memory_budget_bytes = (n as usize) << 20;
        // The number of calls in flight follows the budget unless it is set as well.
        config.limits.max_concurrent_calls =
            toolhost_sandbox::CallLimits::concurrency_for_budget(config.limits.memory_budget_bytes);
    }
    if let Some(n) = read(
        &l.max_concurrent_calls,
        "limits.max_concurrent_calls",
        1,
        toolhost_sandbox::CallLimits::MAX_CONCURRENT_CALLS as u64,
    )? {
        config.limits.max_concurrent_calls = n as usize;
    }
    if config.limits.max_memory_bytes > config.limits.memory_budget_bytes {
        let at = l
            .memory_mb
            .as_ref()
            .or(l.memory_budget_mib.as_ref())
            .map_or(0, |v| v.span().start);
        return Err(invalid(
            at,
            format!(
                "`limits.memory_mb` = {} is more than `limits.memory_budget_mib` = {}: one call \
                 could never have the memory it is allowed; lower memory_mb or raise memory_budget_mib",
                config.limits.max_memory_bytes >> 20,
                config.limits.memory_budget_bytes >> 20
            ),
        ));
    }
    if let Some(n) = read(
        &l.max_host_resources,
        "limits.max_host_resources",
        16,
        100_000,
    )? {
        config.limits.max_host_resources = n as usize;
    }
    if let Some(n) = read(&l.max_header_kb, "limits.max_header_kb", 1, 1024)? {
        config.limits.max_header_bytes = (n as usize) << 10;
    }
    let o = &file.outbound;
    let out = &mut config.outbound;
    if let Some(n) = read(
        &o.connect_timeout_secs,
        "outbound.connect_timeout_secs",
        1,
        300,
    )? {
        out.timeouts.connect = secs(n);
    }
    if let Some(n) = read(
        &o.first_byte_timeout_secs,
        "outbound.first_byte_timeout_secs",
        1,
        600,
    )? {
        out.timeouts.first_byte = secs(n);
    }
    if let Some(n) = read(
        &o.between_bytes_timeout_secs,
        "outbound.between_bytes_timeout_secs",
        1,
        600,
    )? {
        out.timeouts.between_bytes = secs(n);
    }
    if let Some(n) = read(
        &o.max_requests_per_call,
        "outbound.max_requests_per_call",
        1,
        10_000,
    )? {
        out.max_requests_per_call = n as u32;
    }
    if let Some(n) = read(
        &o.max_in_flight_per_call,
        "outbound.max_in_flight_per_call",
        1,
        256,
    )? {
        out.max_in_flight_per_call = n as u32;
    }
    if let Some(n) = read(
        &o.max_request_body_kb,
        "outbound.max_request_body_kb",
        1,
        1 << 20,
    )? {
        out.max_request_body_bytes = n << 10;
    }
    if let Some(n) = read(
        &o.max_response_body_kb,
        "outbound.max_response_body_kb",
        1,
        1 << 20,
    )? {
        out.max_response_body_bytes = n << 10;
    }
    if let Some(n) = read(&o.max_retries, "outbound.max_retries", 0, 10)? {
        out.retry.max_retries = n as u32;
    }
    if let Some(n) = read(&o.retry_budget_secs, "outbound.retry_budget_secs", 1, 600)? {
        out.retry.max_elapsed = secs(n);
    }
    if let Some(n) = read(&file.catalog.ttl_secs, "catalog.ttl_secs", 0, 7 * 24 * 3600)? {
        config.catalog_ttl = secs(n);
    }
    if let Some(n) = read(&file.approvals.ttl_hours, "approvals.ttl_hours", 1, 24 * 30)? {
        config.approval_ttl = secs(n * 3600);
    }
    if let Some(required) = file.approvals.require_passkey {
        config.require_passkey = required;
    }
    if let Some(role) = &file.operator.role {
        let name = role.get_ref().trim();
        // Whether the role exists is checked when it is used: roles.toml may change meanwhile.
        if name.is_empty() {
            return Err(invalid(
                role.span().start,
                "`operator.role` is empty: name a role of the role table, e.g. \"Technician\""
                    .to_string(),
            ));
        }
        config.operator_role = Some(name.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> HostConfig {
        HostConfig::new("/nonexistent-home", "/nonexistent.wasm")
    }

    #[test]
    fn applies_every_key() {
        let mut c = config();
        let text = "[limits]\nmemory_mb = 32\ndeadline_secs = 5\nmax_output_kb = 8\nmax_concurrent_calls = 2\n\
                    max_host_resources = 64\nmax_header_kb = 8\n\
                    [outbound]\nconnect_timeout_secs = 2\nfirst_byte_timeout_secs = 3\nbetween_bytes_timeout_secs = 4\n\
                    max_requests_per_call = 7\nmax_in_flight_per_call = 3\nmax_request_body_kb = 1\nmax_response_body_kb = 2\nmax_retries = 0\nretry_budget_secs = 9\n\
                    [catalog]\nttl_secs = 0\n[approvals]\nttl_hours = 2\nrequire_passkey = true\n";
        apply_text(&mut c, Path::new("t.toml"), text).unwrap();
        assert_eq!(c.limits.max_memory_bytes, 32 << 20);
        assert_eq!(c.limits.deadline, Duration::from_secs(5));
        assert_eq!(c.limits.max_output_bytes, 8 << 10);
        assert_eq!(c.limits.max_concurrent_calls, 2);
        assert_eq!(c.limits.max_host_resources, 64);
        assert_eq!(c.limits.max_header_bytes, 8 << 10);
        assert_eq!(c.outbound.timeouts.connect, Duration::from_secs(2));
        assert_eq!(c.outbound.timeouts.first_byte, Duration::from_secs(3));
        assert_eq!(c.outbound.timeouts.between_bytes, Duration::from_secs(4));
        assert_eq!(c.outbound.max_requests_per_call, 7);
        assert_eq!(c.outbound.max_in_flight_per_call, 3);
        assert_eq!(c.outbound.max_request_body_bytes, 1 << 10);
        assert_eq!(c.outbound.max_response_body_bytes, 2 << 10);
        assert_eq!(c.outbound.retry.max_retries, 0);
        assert_eq!(c.outbound.retry.max_elapsed, Duration::from_secs(9));
        assert_eq!(c.catalog_ttl, Duration::ZERO);
        assert_eq!(c.approval_ttl, Duration::from_secs(7200));
        assert!(c.require_passkey);
        assert!(!config().require_passkey);
    }

    #[test]
    fn the_number_of_calls_in_flight_follows_the_memory_budget_unless_set() {
        let mut c = config();
        assert_eq!(c.limits.memory_budget_bytes, 2 << 30);
        assert_eq!(c.limits.max_concurrent_calls, 1024, "2 GiB / 2 MiB");
        apply_text(
            &mut c,
            Path::new("t.toml"),
            "[limits]\nmemory_budget_mib = 256\n",
        )
        .unwrap();
        assert_eq!(c.limits.memory_budget_bytes, 256 << 20);
        assert_eq!(c.limits.max_concurrent_calls, 128);
        let mut c = config();
        let text = "[limits]\nmax_concurrent_calls = 8\nmemory_budget_mib = 4096\n";
        apply_text(&mut c, Path::new("t.toml"), text).unwrap();
        assert_eq!(c.limits.max_concurrent_calls, 8, "an explicit count wins");
        assert_eq!(c.limits.memory_budget_bytes, 4096 << 20);
    }

    #[test]
    fn a_budget_smaller_than_one_calls_cap_is_refused_naming_both_keys() {
        let mut c = config();
        let err = apply_text(
            &mut c,
            Path::new("t.toml"),
            "[limits]\nmemory_budget_mib = 32\nmemory_mb = 64\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("t.toml, line 3, column 13:"), "{err}");
        assert!(
            err.contains("`limits.memory_mb` = 64")
                && err.contains("`limits.memory_budget_mib` = 32"),
            "{err}"
        );
        for bad in ["0", "15", "1048577"] {
            let text = format!("[limits]\nmemory_budget_mib = {bad}\n");
            let err = apply_text(&mut c, Path::new("t.toml"), &text)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("limits.memory_budget_mib") && err.contains("16..=1048576"),
                "{err}"
            );
        }
        let err = apply_text(
            &mut c,
            Path::new("t.toml"),
            "[limits]\nmax_concurrent_calls = 4097\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("limits.max_concurrent_calls") && err.contains("1..=4096"),
            "{err}"
        );
    }

    #[test]
    fn the_in_flight_cap_is_range_checked() {
        let mut c = config();
        assert_eq!(c.outbound.max_in_flight_per_call, 8);
        for bad in ["0", "257"] {
            let text = format!("[outbound]\nmax_in_flight_per_call = {bad}\n");
            let err = apply_text(&mut c, Path::new("t.toml"), &text)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("t.toml, line 2, column 26:"), "{err}");
            assert!(
                err.contains("outbound.max_in_flight_per_call") && err.contains("1..=256"),
                "{err}"
            );
        }
        assert_eq!(c.outbound.max_in_flight_per_call, 8);
    }

    #[test]
    fn the_operator_role_is_read_and_may_not_be_empty() {
        let mut c = config();
        assert_eq!(c.operator_role, None);
        apply_text(
            &mut c,
            Path::new("t.toml"),
            "[operator]\nrole = \" Manager \"\n",
        )
        .unwrap();
        assert_eq!(c.operator_role.as_deref(), Some("Manager"));
        let err = apply_text(&mut c, Path::new("t.toml"), "[operator]\nrole = \" \"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("t.toml, line 2, column 8:") && err.contains("operator.role"),
            "{err}"
        );
        let err = apply_text(&mut c, Path::new("t.toml"), "[operator]\nrank = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("rank"), "{err}");
    }

    #[test]
    fn missing_keys_keep_the_defaults() {
        let mut c = config();
        apply_text(&mut c, Path::new("t.toml"), "[limits]\nmemory_mb = 8\n").unwrap();
        let d = config();
        assert_eq!(c.limits.deadline, d.limits.deadline);
        assert_eq!(c.outbound.timeouts, d.outbound.timeouts);
    }

    #[test]
    fn errors_name_the_key_line_column_and_fix() {
        let mut c = config();
        let err = apply_text(&mut c, Path::new("t.toml"), "[limits]\n\nmemory_mb = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.toml, line 3, column 13:"), "{err}");
        assert!(
            err.contains("limits.memory_mb") && err.contains("1..=4096"),
            "{err}"
        );
        let err = apply_text(&mut c, Path::new("t.toml"), "[limits]\nmemory = 8\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("t.toml, line 2, column 1:") && err.contains("memory"),
            "{err}"
        );
        let err = apply_text(&mut c, Path::new("t.toml"), "[limits\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.toml, line 1,"), "{err}");
        let err = apply_text(
            &mut c,
            Path::new("t.toml"),
            "[outbound]\nmax_retries = \"3\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("t.toml, line 2,"), "{err}");
    }
}
