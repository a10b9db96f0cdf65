//! Upstream JSON parsed keeping only the object members a tool reads (and a tool's answer
//! printed, see [`print()`]).
//!
//! Why: an Asio listing answers every field of every row (a company is about 30 members with
//! nested objects) and a tool reads a handful. Parsing it all into a tree of values was most
//! of the plugin's own time in a call: an allocation per key and per string, a map insert per
//! member. Skipped members are scanned and dropped without allocating.
//!
//! A crate of its own so that it can be optimised for speed while the component is optimised
//! for size: serde_json's parser is generic, so it is compiled where it is instantiated, here
//! (see `[profile.release.package.cw-rmm-pruned]` in the plugin's Cargo.toml).

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// The object members to keep, by name, at any depth; `None` keeps every member.
#[derive(Clone, Copy)]
pub struct Keep<'k>(pub Option<&'k [&'k str]>);

impl<'k> Keep<'k> {
    pub const ALL: Keep<'static> = Keep(None);

    /// The kept spelling of `name`, or `None` when it is dropped.
    fn member(self, name: &str) -> Option<Kept<'k>> {
        match self.0 {
            None => Some(Kept::Any),
            Some(names) => names.iter().find(|k| **k == name).map(|k| Kept::Listed(k)),
        }
    }
}

/// A member name that is kept: one of the listed names, or any name when all are kept.
enum Kept<'k> {
    Listed(&'k str),
    Any,
}

/// `body` as JSON with only the members `keep` names.
pub fn parse(body: &[u8], keep: Keep) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = keep.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// `text` as JSON, every member kept. The component parses all JSON through this module, so it
/// carries one JSON parser, not one per kind of input.
pub fn parse_all(text: &[u8]) -> serde_json::Result<Value> {
    parse(text, Keep::ALL)
}

/// `value` as compact JSON: a tool's answer. Here rather than at the caller so that serde_json's
/// serialiser is compiled with this crate's speed settings; writing straight into the text also
/// skips `Display`'s formatter adapter. Together 35,000 fewer instructions per company listing
/// (callgrind) for 2.4 KB of component.
pub fn print(value: &Value) -> String {
    // A `Value` always serialises: its keys are strings and its numbers are finite.
    serde_json::to_string(value).unwrap_or_default()
}

impl<'de> DeserializeSeed<'de> for Keep<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Keep<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(key) = map.next_key_seed(MemberName(self))? {
            match key {
                Some(name) => {
                    let value = map.next_value_seed(self)?;
                    members.insert(name, value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(members))
    }
}

/// A member's name: owned when kept, `None` (and never allocated) when dropped.
struct MemberName<'k>(Keep<'k>);

impl<'de> DeserializeSeed<'de> for MemberName<'_> {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<String>, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for MemberName<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E>(self, v: &str) -> Result<Option<String>, E> {
        Ok(self.0.member(v).map(|kept| match kept {
            Kept::Listed(name) => name.to_owned(),
            Kept::Any => v.to_owned(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const COMPANY: &str = r#"[{"id":"c1","name":"Contoso","account":{"id":"a","name":"Acct"},
        "activityStatus":{"activeFlag":true,"id":"1","name":"Active"},"externalIds":[1,2],
        "primarySite":{"id":"s1","name":"HQ","primaryAddress":{"city":"Perth"}},"size":12.5,
        "na\u006de2":"escaped key","note":null}]"#;

    #[test]
    fn keeps_the_listed_members_at_every_depth_and_drops_the_rest() {
        let keep = ["id", "name", "activityStatus", "primarySite", "size"];
        let value = parse(COMPANY.as_bytes(), Keep(Some(&keep))).unwrap();
        assert_eq!(
            value,
            json!([{"id": "c1", "name": "Contoso", "size": 12.5,
                "activityStatus": {"id": "1", "name": "Active"},
                "primarySite": {"id": "s1", "name": "HQ"}}])
        );
    }

    #[test]
    fn printing_is_compact_json_that_parses_back() {
        let value = parse(COMPANY.as_bytes(), Keep::ALL).unwrap();
        let text = print(&value);
        assert!(!text.contains('\n') && text.starts_with("[{\""), "{text}");
        assert_eq!(parse_all(text.as_bytes()).unwrap(), value);
    }

    #[test]
    fn keeping_all_is_the_same_as_parsing_it_whole() {
        let whole: Value = serde_json::from_str(COMPANY).unwrap();
        assert_eq!(parse(COMPANY.as_bytes(), Keep::ALL).unwrap(), whole);
        let escaped = parse(br#"{"na\u006de2":"\u00e9t\u00e9"}"#, Keep(Some(&["name2"])));
        assert_eq!(escaped.unwrap(), json!({"name2": "été"}));
    }

    #[test]
    fn bad_json_is_still_an_error_inside_a_dropped_member_and_after_the_value() {
        let keep = Keep(Some(&["id"]));
        assert!(parse(br#"{"id":1,"other":[1,}"#, keep).is_err());
        assert!(parse(br#"{"id":1} trailing"#, keep).is_err());
        assert!(parse(br#"{"id":1"#, keep).is_err());
        assert_eq!(parse(b"7", keep).unwrap(), json!(7));
    }
}
