//! Ranking of list-devices rows against the `name` and `user` filters: exact before prefix before
//! substring, so "DC01" answers DC01 before DC01-BACKUP, and each row says what it matched on.

use crate::args::fold;
use crate::shape::text;
use serde_json::Value;
use std::fmt::Write;

/// How a filter matched, best first: the rank. `NONE` is no match.
const NONE: usize = 3;
/// The `matched` labels, by field then rank. Whole strings rather than built ones: the
/// component's size budget is tight.
const MATCHED: [&str; 9] = [
    "friendlyName exact",
    "friendlyName prefix",
    "friendlyName substring",
    "deviceName exact",
    "deviceName prefix",
    "deviceName substring",
    "os.userName exact",
    "os.userName prefix",
    "os.userName substring",
];

fn how(haystack: Option<&str>, needle: &str) -> usize {
    let Some(haystack) = haystack else {
        return NONE;
    };
    let folded = fold(haystack);
    // One search: at 0 it is a prefix, and a prefix as long as the name is the name.
    match folded.find(needle) {
        Some(0) if folded.len() == needle.len() => 0,
        Some(0) => 1,
        Some(_) => 2,
        None => NONE,
    }
}

/// "CONTOSO\maria.garcia" or "maria.garcia@contoso.com" -> "maria.garcia": the person, not
/// the domain. Byte scans, not `rsplit`: its reverse searcher alone costs the component ~1 KB.
fn bare(account: &str) -> &str {
    let start = account
        .bytes()
        .rposition(|b| b == b'\\')
        .map_or(0, |i| i + 1);
    let rest = &account[start..];
    &rest[..rest.bytes().position(|b| b == b'@').unwrap_or(rest.len())]
}

/// The bucket of a kept row: name match, then user match (0..9, best first). An absent filter
/// counts as exact for every row, so it never reorders anything.
pub type Rank = usize;

/// Folded needles; both given means both must match.
pub struct Filter<'a> {
    pub name: Option<&'a str>,
    pub user: Option<&'a str>,
}

impl Filter<'_> {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.user.is_none()
    }

    /// The row's rank, with `matched` ("friendlyName exact", ...) added to it, or `None` when a
    /// filter does not match.
    pub fn rank(&self, device: &mut Value) -> Option<Rank> {
        let mut matched = String::new();
        let mut rank = 0;
        if let Some(needle) = self.name {
            // Row keys come from the API's friendlyName and deviceName; friendlyName wins a tie.
            let friendly = how(text(device, &["name"]), needle);
            let device_name = how(text(device, &["deviceName"]), needle);
            let (how, label) = if device_name < friendly {
                (device_name, 3 + device_name)
            } else {
                (friendly, friendly)
            };
            if how == NONE {
                return None;
            }
            matched.push_str(MATCHED[label]);
            rank = how * 3;
        }
        if let Some(needle) = self.user {
            // Without its domain, so "maria" is a prefix of CONTOSO\maria.garcia.
            let how = how(text(device, &["user"]).map(bare), needle);
            if how == NONE {
                return None;
            }
            if !matched.is_empty() {
                matched.push_str(", ");
            }
            matched.push_str(MATCHED[6 + how]);
            rank += how;
        }
        if let Value::Object(map) = device {
            // Unfiltered rows carry no annotation.
            if !matched.is_empty() {
                map.insert("matched".into(), Value::String(matched));
            }
        }
        Some(rank)
    }
}

/// Keeps the best `limit` rows seen so far in rank order, stable within a rank (listing order),
/// as JSON text: a row is serialised when it is pushed, so a listing holds its text, never a
/// tree of values per row. Buckets instead of a sort: a stable sort's code would cost the
/// component kilobytes.
pub struct Ranked {
    /// Each row as `{...},`; bucket 0 starts with the array's `[`.
    buckets: [String; 9],
    /// Where each kept row starts in its bucket, so the worst one can be cut off again.
    starts: [Vec<usize>; 9],
    len: usize,
    limit: usize,
    /// A matching row was dropped because `limit` better or earlier ones were kept.
    pub dropped: bool,
}

impl Ranked {
    pub fn new(limit: usize) -> Self {
        let mut buckets: [String; 9] = Default::default();
        buckets[0].push('[');
        Ranked {
            buckets,
            starts: Default::default(),
            len: 0,
            limit,
            dropped: false,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn push(&mut self, rank: Rank, row: &Value) {
        let bucket = &mut self.buckets[rank];
        self.starts[rank].push(bucket.len());
        // Value's Display is the serialiser the component already has; a writer of its own
        // would be a second copy of it.
        let _ = write!(bucket, "{row},");
        self.len += 1;
        if self.len > self.limit {
            // The newest row of the worst rank is the one that ranks last.
            if let Some(worst) = (0..9).rev().find(|r| !self.starts[*r].is_empty()) {
                let start = self.starts[worst].pop().unwrap_or_default();
                self.buckets[worst].truncate(start);
            }
            self.len -= 1;
            self.dropped = true;
        }
    }

    /// The kept rows as a JSON array.
    pub fn finish(self) -> String {
        let [mut rows, rest @ ..] = self.buckets;
        for bucket in rest {
            rows.push_str(&bucket);
        }
        // The last row's comma closes the array; without rows there is none.
        if rows.len() > 1 {
            rows.truncate(rows.len() - 1);
        }
        rows.push(']');
        rows
    }
}
