//! Query-string parsing that never fails: malformed pairs are dropped rather than rejected,
//! so handlers validate values themselves and answer in their area's error shape.

pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(raw: Option<&str>) -> QueryParams {
        let pairs = raw
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .unwrap_or_default();
        QueryParams(pairs)
    }

    /// The first value of `name`, matched exactly (Asio parameter names are case sensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// Splits a comma-separated list, trimming blanks.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_garbage() {
        let q = QueryParams::parse(Some("a=1&&b=%zz&c"));
        assert_eq!(q.get("a"), Some("1"));
        let empty = QueryParams::parse(None);
        assert!(empty.pairs().is_empty());
    }

    #[test]
    fn splits_lists() {
        assert_eq!(split_list(" a, b,,c "), vec!["a", "b", "c"]);
    }
}
