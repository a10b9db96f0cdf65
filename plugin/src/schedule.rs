//! The one mapping from the tools' `schedule` argument to the Asio `schedule` body.
//!
//! The vendor spec defines no enum strings for `regularity`, `scheduleType` or `category`
//! (asio-api.md §2.10), so every string comes from configuration with an observed default.

use crate::args::Args;
use crate::errors::{ToolError, ToolResult};
use crate::region::Settings;
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Now,
    NextCheckIn,
    Once,
    Recurring,
}

impl When {
    pub const NAMES: &'static [&'static str] = &["now", "next-check-in", "once", "recurring"];

    fn name(self) -> &'static str {
        match self {
            When::Now => "now",
            When::NextCheckIn => "next-check-in",
            When::Once => "once",
            When::Recurring => "recurring",
        }
    }
}

pub const FREQUENCIES: &[&str] = &["daily", "weekly", "monthly"];
const SCHEDULE_KEYS: &[&str] = &["type", "at", "timeZone", "frequency", "every"];
/// Time zone sent for timed runs when the caller gives none; `at` carries its own offset anyway.
const DEFAULT_TIME_ZONE: &str = "UTC";

/// A validated schedule request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRequest {
    pub when: When,
    pub at: Option<String>,
    pub time_zone: Option<String>,
    pub frequency: Option<&'static str>,
    pub every: Option<u64>,
}

impl ScheduleRequest {
    pub fn of(when: When) -> Self {
        ScheduleRequest {
            when,
            at: None,
            time_zone: None,
            frequency: None,
            every: None,
        }
    }

    /// Validates the `schedule` argument (an object), falling back to `default` when absent.
    pub fn from_args(args: &Args, default: When) -> ToolResult<ScheduleRequest> {
        let Some(map) = args.opt_object("schedule")? else {
            return Ok(Self::of(default));
        };
        let inner = Args::from_map(map.clone());
        inner
            .reject_unknown(SCHEDULE_KEYS)
            .map_err(|e| prefix_field(e, "schedule"))?;
        let when = match inner
            .opt_enum("type", When::NAMES)
            .map_err(|e| prefix_field(e, "schedule"))?
        {
            None => default,
            Some("now") => When::Now,
            Some("next-check-in") => When::NextCheckIn,
            Some("once") => When::Once,
            Some(_) => When::Recurring,
        };
        let at = inner
            .opt_datetime("at")
            .map_err(|e| prefix_field(e, "schedule"))?;
        let time_zone = inner
            .opt_str("timeZone")
            .map_err(|e| prefix_field(e, "schedule"))?;
        let frequency = inner
            .opt_enum("frequency", FREQUENCIES)
            .map_err(|e| prefix_field(e, "schedule"))?;
        let every = if inner.has("every") {
            Some(
                inner
                    .int_in("every", 1, 366, 1)
                    .map_err(|e| prefix_field(e, "schedule"))?,
            )
        } else {
            None
        };
        let timed = matches!(when, When::Once | When::Recurring);
        if timed && at.is_none() {
            return Err(ToolError::invalid(
                "schedule.at",
                format!(
                    "a `{}` schedule needs `at`, an RFC 3339 start time like 2025-01-31T22:00:00Z",
                    when.name()
                ),
            ));
        }
        if !timed {
            for (key, present) in [("at", at.is_some()), ("timeZone", time_zone.is_some())] {
                if present {
                    return Err(ToolError::invalid(
                        format!("schedule.{key}"),
                        format!("`{key}` only applies to `once` and `recurring` schedules; remove it or change `type`"),
                    ));
                }
            }
        }
        if when == When::Recurring && frequency.is_none() {
            return Err(ToolError::invalid(
                "schedule.frequency",
                "a `recurring` schedule needs `frequency`: daily, weekly or monthly",
            ));
        }
        if when != When::Recurring {
            for (key, present) in [
                ("frequency", frequency.is_some()),
                ("every", every.is_some()),
            ] {
                if present {
                    return Err(ToolError::invalid(
                        format!("schedule.{key}"),
                        format!("`{key}` only applies to `recurring` schedules; remove it or set type to recurring"),
                    ));
                }
            }
        }
        Ok(ScheduleRequest {
            when,
            at,
            time_zone,
            frequency,
            every,
        })
    }

    /// The Asio `schedule` body for this request.
    pub fn to_body(&self, settings: &Settings) -> Value {
        let regularity = match self.when {
            When::Now => &settings.regularity_now,
            When::NextCheckIn => &settings.regularity_next_check_in,
            When::Once => &settings.regularity_once,
            When::Recurring => &settings.regularity_recurring,
        };
        let mut body = Map::new();
        body.insert("scheduleType".into(), json!(settings.schedule_type));
        body.insert("regularity".into(), json!(regularity));
        body.insert("category".into(), json!(settings.schedule_category));
        if matches!(self.when, When::Once | When::Recurring) {
            body.insert("startDate".into(), json!(self.at));
            body.insert(
                "timeZone".into(),
                json!(self.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE)),
            );
        }
        if self.when == When::Recurring {
            body.insert(
                "repeat".into(),
                json!({"every": self.every.unwrap_or(1), "frequency": self.frequency}),
            );
        }
        Value::Object(body)
    }

    /// What the tool reports back: the requested type plus the body actually sent.
    pub fn describe(&self, settings: &Settings) -> Value {
        let mut out = Map::new();
        out.insert("type".into(), json!(self.when.name()));
        if let Value::Object(body) = self.to_body(settings) {
            out.extend(body);
        }
        Value::Object(out)
    }
}

fn prefix_field(error: ToolError, prefix: &str) -> ToolError {
    match error {
        ToolError::InvalidInput { field, message } => ToolError::InvalidInput {
            field: if field.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}.{field}")
            },
            message,
        },
        other => other,
    }
}

/// JSON Schema of the `schedule` argument, shared by run-task and every script tool. Kept as
/// text (parsed on use) because a `json!` literal of it cost ~4 KB of component code.
const SCHEDULE_SCHEMA: &str = r#"{"type":"object","description":"When to run. Default: @. `once` and `recurring` need `at`; `recurring` needs `frequency`.","properties":{"type":{"type":"string","enum":["now","next-check-in","once","recurring"],"default":"@"},"at":{"type":"string","format":"date-time","description":"RFC 3339 start time (once/recurring)."},"timeZone":{"type":"string","description":"IANA time zone for once/recurring runs, e.g. Australia/Sydney. Default UTC."},"frequency":{"type":"string","enum":["daily","weekly","monthly"],"description":"Recurrence unit (recurring only)."},"every":{"type":"integer","minimum":1,"maximum":366,"description":"Run every N units (recurring only). Default 1."}},"additionalProperties":false}"#;

pub fn json_schema(default: When) -> Value {
    crate::pruned::parse_all(SCHEDULE_SCHEMA.replace('@', default.name()).as_bytes())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::fake::MapConfig;

    fn settings() -> Settings {
        Settings::load(&MapConfig::with(&[(
            "schedule-regularity-next-check-in",
            "AtCheckIn",
        )]))
        .unwrap()
    }

    fn parse(raw: &str, default: When) -> ToolResult<ScheduleRequest> {
        ScheduleRequest::from_args(&Args::parse(raw, &["schedule"]).unwrap(), default)
    }

    #[test]
    fn the_schema_text_lists_the_parsed_names() {
        let schema = json_schema(When::NextCheckIn);
        assert_eq!(schema["properties"]["type"]["enum"], json!(When::NAMES));
        assert_eq!(schema["properties"]["type"]["default"], "next-check-in");
        assert_eq!(
            schema["properties"]["frequency"]["enum"],
            json!(FREQUENCIES)
        );
        assert!(schema["description"]
            .as_str()
            .unwrap()
            .contains("Default: next-check-in."));
    }

    #[test]
    fn defaults_apply_when_absent() {
        assert_eq!(parse("{}", When::Now).unwrap().when, When::Now);
        assert_eq!(
            parse("{}", When::NextCheckIn).unwrap().when,
            When::NextCheckIn
        );
        assert_eq!(
            parse(r#"{"schedule":{}}"#, When::NextCheckIn).unwrap().when,
            When::NextCheckIn
        );
    }

    #[test]
    fn maps_every_type_with_configured_strings() {
        let s = settings();
        assert_eq!(
            parse(r#"{"schedule":{"type":"now"}}"#, When::NextCheckIn)
                .unwrap()
                .to_body(&s),
            json!({"scheduleType":"TIME","regularity":"RunNow","category":"STZ"})
        );
        assert_eq!(
            parse(r#"{"schedule":{"type":"next-check-in"}}"#, When::Now)
                .unwrap()
                .to_body(&s),
            json!({"scheduleType":"TIME","regularity":"AtCheckIn","category":"STZ"})
        );
        assert_eq!(
            parse(
                r#"{"schedule":{"type":"once","at":"2025-01-31T22:00:00Z"}}"#,
                When::Now
            )
            .unwrap()
            .to_body(&s),
            json!({"scheduleType":"TIME","regularity":"OneTime","category":"STZ","startDate":"2025-01-31T22:00:00Z","timeZone":"UTC"})
        );
        let recurring = parse(
            r#"{"schedule":{"type":"recurring","at":"2025-01-31T22:00:00+10:00","timeZone":"Australia/Sydney","frequency":"Weekly","every":2}}"#,
            When::Now,
        )
        .unwrap();
        assert_eq!(
            recurring.to_body(&s),
            json!({"scheduleType":"TIME","regularity":"Recurrent","category":"STZ","startDate":"2025-01-31T22:00:00+10:00",
                   "timeZone":"Australia/Sydney","repeat":{"every":2,"frequency":"weekly"}})
        );
        assert_eq!(recurring.describe(&s)["type"], "recurring");
    }

    #[test]
    fn rejects_inconsistent_schedules_naming_the_field() {
        let field = |raw: &str| match parse(raw, When::Now) {
            Err(ToolError::InvalidInput { field, .. }) => field,
            other => panic!("{raw}: {other:?}"),
        };
        assert_eq!(field(r#"{"schedule":"now"}"#), "schedule");
        assert_eq!(field(r#"{"schedule":{"type":"later"}}"#), "schedule.type");
        assert_eq!(field(r#"{"schedule":{"type":"once"}}"#), "schedule.at");
        assert_eq!(
            field(r#"{"schedule":{"type":"once","at":"tomorrow"}}"#),
            "schedule.at"
        );
        assert_eq!(
            field(r#"{"schedule":{"type":"now","at":"2025-01-31T22:00:00Z"}}"#),
            "schedule.at"
        );
        assert_eq!(
            field(r#"{"schedule":{"type":"recurring","at":"2025-01-31T22:00:00Z"}}"#),
            "schedule.frequency"
        );
        assert_eq!(
            field(r#"{"schedule":{"type":"once","at":"2025-01-31T22:00:00Z","every":2}}"#),
            "schedule.every"
        );
        assert_eq!(field(r#"{"schedule":{"typ":"now"}}"#), "schedule.typ");
    }
}
