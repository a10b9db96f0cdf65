//! Which extra origins a plugin may be granted without the operator naming them: public
//! HTTPS host names only. Plain http, loopback, link-local (the cloud metadata service at
//! 169.254.169.254 among them), private ranges and IP literals are where a plugin would go to
//! reach what the operator's network protects, so each needs an explicit `--allow-origin`.

use std::net::IpAddr;
use toolhost_sandbox::{Origin, Scheme};

/// Why an extra origin needs the operator to name it, or `None` when it does not.
pub fn needs_explicit_allow(origin: &Origin) -> Option<&'static str> {
    // Where it points says more than how it is reached: report that first.
    let reason = where_it_points(origin);
    if reason.is_none() && origin.scheme() != Scheme::Https {
        return Some("it is plain http");
    }
    reason
}

fn where_it_points(origin: &Origin) -> Option<&'static str> {
    let host = origin.host().trim_start_matches('[').trim_end_matches(']');
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") || lower.ends_with(".local") {
        return Some("it is a loopback or local name");
    }
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => Some("it is a loopback address"),
        Ok(IpAddr::V4(v4)) if v4.is_link_local() => {
            Some("it is link-local (the cloud metadata service lives there)")
        }
        Ok(IpAddr::V4(v4)) if v4.is_private() => Some("it is in a private range"),
        Ok(IpAddr::V6(v6)) if (v6.segments()[0] & 0xffc0) == 0xfe80 => Some("it is link-local"),
        Ok(IpAddr::V6(v6)) if (v6.segments()[0] & 0xfe00) == 0xfc00 => {
            Some("it is in a private range")
        }
        Ok(_) => Some("it is an IP literal, not a host name"),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Option<&'static str> {
        needs_explicit_allow(&Origin::parse(url).unwrap())
    }

    #[test]
    fn only_public_https_names_pass_unnamed() {
        assert_eq!(check("https://api.example.com"), None);
        assert_eq!(check("https://api.example.com:8443"), None);
        for url in [
            "http://api.example.com",
            "https://localhost",
            "https://127.0.0.1",
            "https://169.254.169.254",
            "https://10.1.2.3",
            "https://192.168.0.1",
            "https://172.16.0.1",
            "https://8.8.8.8",
            "https://[::1]",
            "https://[fe80::1]",
            "https://[fd00::1]",
            "https://printer.local",
        ] {
            assert!(check(url).is_some(), "{url} passed");
        }
    }
}
