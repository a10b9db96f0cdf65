//! Timestamp formatting and the lenient parsing the Asio query parameters accept.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};

/// RFC 3339 with millisecond precision and a `Z` suffix, as the v2 APIs emit.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The automation service's timestamp style (`2020-10-04 00:25:42.168000+00:00`, per the spec example).
pub fn automation(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string()
}

/// A fixed calendar instant used for "historic" seed timestamps, so they are identical every run.
pub fn fixed(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Parses RFC 3339, `YYYY-MM-DD HH:MM:SS[.f][+00:00]`, `YYYY-MM-DDTHH:MM:SS` or a bare date.
/// A bare date means the start of the day, or its end when `end_of_day` is set (as the
/// ticket filters document for their `...To` parameters).
pub fn parse_lenient(s: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let time = if end_of_day {
        date.and_hms_opt(23, 59, 59)?
    } else {
        date.and_hms_opt(0, 0, 0)?
    };
    Some(time.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_format() {
        let want = fixed(2020, 10, 4, 0);
        assert_eq!(parse_lenient("2020-10-04T00:00:00Z", false), Some(want));
        assert_eq!(
            parse_lenient("2020-10-04 00:00:00.000000+00:00", false),
            Some(want)
        );
        assert_eq!(parse_lenient("2020-10-04T00:00:00", false), Some(want));
        assert_eq!(parse_lenient("2020-10-04", false), Some(want));
        assert!(parse_lenient("2020-10-04", true).unwrap() > want);
        assert_eq!(parse_lenient("yesterday", false), None);
    }

    #[test]
    fn formats_round_trip() {
        let t = fixed(2024, 1, 2, 3);
        assert_eq!(parse_lenient(&rfc3339(t), false), Some(t));
        assert_eq!(parse_lenient(&automation(t), false), Some(t));
    }
}
