//! An HTTP origin (scheme, host, port): the unit the allowlist and the routes work on.

use std::fmt;

/// Why a URL or origin string could not be understood. Each variant carries the text that
/// was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// No `scheme://` prefix.
    #[error("`{0}` has no scheme: write it as https://host[:port]")]
    MissingScheme(String),
    /// A scheme other than http or https (the text, then the scheme).
    #[error("`{0}` uses scheme `{1}`: only http and https are allowed")]
    UnsupportedScheme(String, String),
    /// Nothing between `://` and the port or path.
    #[error("`{0}` has no host")]
    MissingHost(String),
    /// `user@host`: credentials never travel in an origin.
    #[error("`{0}` has user info (`@`): origins never carry credentials")]
    UserInfo(String),
    /// A port that is not a number from 0 to 65535.
    #[error("`{0}` has an invalid port")]
    InvalidPort(String),
    /// Something after the authority (only an origin's own text is checked for this).
    #[error("`{0}` has a path, query or fragment: an origin is only scheme://host[:port]")]
    HasPath(String),
}

/// The two schemes a plugin may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Plain HTTP (loopback simulators, local proxies).
    Http,
    /// HTTPS.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// 80 or 443: the port an origin without one gets.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn parse(s: &str) -> Option<Scheme> {
        match s.to_ascii_lowercase().as_str() {
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            _ => None,
        }
    }
}

/// Scheme, host (lowercase) and an explicit port. Two origins are equal only when all
/// three are: `https://api.example.com` and `https://api.example.com:8443` differ.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl Origin {
    /// An origin from its parts; the host is lowercased and must not be empty.
    pub fn new(scheme: Scheme, host: &str, port: u16) -> Result<Origin, OriginError> {
        let text = format!("{}://{host}:{port}", scheme.as_str());
        Self::checked_host(host, &text).map(|host| Origin { scheme, host, port })
    }

    /// Parses `scheme://host[:port]` (a trailing `/` is tolerated).
    pub fn parse(text: &str) -> Result<Origin, OriginError> {
        let (scheme_text, rest) = text
            .split_once("://")
            .ok_or_else(|| OriginError::MissingScheme(text.to_string()))?;
        let scheme = Scheme::parse(scheme_text)
            .ok_or_else(|| OriginError::UnsupportedScheme(text.to_string(), scheme_text.into()))?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(OriginError::HasPath(text.to_string()));
        }
        Self::from_authority(scheme, authority, text)
    }

    /// The origin a request URI targets; an error when the URI has no scheme or authority.
    pub fn of_uri(uri: &http::Uri) -> Result<Origin, OriginError> {
        let text = uri.to_string();
        let scheme_text = uri
            .scheme_str()
            .ok_or_else(|| OriginError::MissingScheme(text.clone()))?;
        let scheme = Scheme::parse(scheme_text)
            .ok_or_else(|| OriginError::UnsupportedScheme(text.clone(), scheme_text.into()))?;
        let authority = uri
            .authority()
            .ok_or_else(|| OriginError::MissingHost(text.clone()))?;
        Self::from_authority(scheme, authority.as_str(), &text)
    }

    fn from_authority(scheme: Scheme, authority: &str, text: &str) -> Result<Origin, OriginError> {
        if authority.contains('@') {
            return Err(OriginError::UserInfo(text.to_string()));
        }
        let (host, port) =
            split_host_port(authority).ok_or_else(|| OriginError::InvalidPort(text.to_string()))?;
        let port = port.unwrap_or(scheme.default_port());
        let host = Self::checked_host(host, text)?;
        Ok(Origin { scheme, host, port })
    }

    fn checked_host(host: &str, text: &str) -> Result<String, OriginError> {
        if host.is_empty() {
            return Err(OriginError::MissingHost(text.to_string()));
        }
        Ok(host.to_ascii_lowercase())
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host, lowercase; an IPv6 literal without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, explicit even when it is the scheme's default.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, the form a socket connects to.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The origin as a URL prefix without a trailing slash, with the port only when it is
    /// not the scheme's default (the form browsers send in `Origin`).
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            format!("{}://{host}", self.scheme.as_str())
        } else {
            format!("{}://{host}:{}", self.scheme.as_str(), self.port)
        }
    }
}

/// Splits `host[:port]`, including bracketed IPv6 literals. `None` means a malformed port.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match authority.rsplit_once(':') {
        None => Some((authority, None)),
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{}://{host}:{}", self.scheme.as_str(), self.port)
    }
}

impl serde::Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Origin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Origin, D::Error> {
        let text = String::deserialize(d)?;
        Origin::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_are_made_explicit() {
        let o = Origin::parse("https://API.Example.com").unwrap();
        assert_eq!(o.to_string(), "https://api.example.com:443");
        assert_eq!(o.url(), "https://api.example.com");
        assert_eq!(Origin::parse("http://h").unwrap().port(), 80);
        assert_eq!(Origin::parse("http://h:8080/").unwrap().port(), 8080);
    }

    #[test]
    fn rejects_what_is_not_an_origin() {
        assert!(matches!(
            Origin::parse("api.example.com"),
            Err(OriginError::MissingScheme(_))
        ));
        assert!(matches!(
            Origin::parse("ftp://h"),
            Err(OriginError::UnsupportedScheme(..))
        ));
        assert!(matches!(
            Origin::parse("https://u@h"),
            Err(OriginError::UserInfo(_))
        ));
        assert!(matches!(
            Origin::parse("https://h:99999"),
            Err(OriginError::InvalidPort(_))
        ));
        assert!(matches!(
            Origin::parse("https://h/x"),
            Err(OriginError::HasPath(_))
        ));
        assert!(matches!(
            Origin::parse("https://"),
            Err(OriginError::MissingHost(_))
        ));
    }

    #[test]
    fn reads_the_origin_of_a_request_uri() {
        let uri: http::Uri = "https://api.example.com/v1/x?y=1".parse().unwrap();
        assert_eq!(
            Origin::of_uri(&uri).unwrap(),
            Origin::parse("https://api.example.com:443").unwrap()
        );
        let uri: http::Uri = "http://[::1]:8080/".parse().unwrap();
        let o = Origin::of_uri(&uri).unwrap();
        assert_eq!((o.host(), o.port()), ("::1", 8080));
        assert_eq!(o.authority(), "[::1]:8080");
        let uri: http::Uri = "/relative".parse().unwrap();
        assert!(Origin::of_uri(&uri).is_err());
    }
}
