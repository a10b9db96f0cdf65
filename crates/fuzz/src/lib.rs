//! The bodies of the fuzz targets, shared by the libFuzzer entry points
//! (`fuzz_targets/*.rs`, run with `cargo +nightly fuzz run <target>`) and by the stable,
//! bounded harness in `tests/bounded.rs` (`cargo test`).
//!
//! Each body feeds untrusted bytes to one of the host's parsers and checks the invariants
//! that must hold whatever the input: no panic, and an accepted input is well-formed.

use serde_json::{json, Value};
use std::path::Path;
use toolhost_governance::PolicyFile;
use toolhost_governance::{Role, RoleTable};
use toolhost_host::ArgumentValidators;
use toolhost_sandbox::wit;
use toolhost_sandbox::{PluginMetadata, ToolDescriptor};

/// Input schemas shaped like the plugin's real ones.
fn schemas() -> Vec<Value> {
    vec![
        json!({"type": "object", "properties": {}, "additionalProperties": false}),
        json!({
            "type": "object",
            "properties": {
                "endpointId": {"type": "string", "format": "uuid"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 10000},
                "name": {"type": "string", "minLength": 1, "maxLength": 200}
            },
            "required": ["endpointId"],
            "additionalProperties": false
        }),
        json!({
            "type": "object",
            "properties": {
                "targets": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 100},
                "parameters": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                "schedule": {"oneOf": [
                    {"type": "object", "properties": {"type": {"const": "now"}}, "required": ["type"]},
                    {"type": "object", "properties": {"type": {"const": "at"}, "at": {"type": "string", "format": "date-time"}}, "required": ["type", "at"]}
                ]}
            },
            "required": ["targets"]
        }),
    ]
}

/// `ArgumentValidators::check`: the first byte picks a schema, the rest are the arguments.
pub fn arguments(data: &[u8]) {
    thread_local! {
        static VALIDATORS: ArgumentValidators = ArgumentValidators::default();
    }
    let schemas = schemas();
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let index = pick as usize % schemas.len();
    let schema = &schemas[index];
    let text = String::from_utf8_lossy(rest);
    VALIDATORS.with(
        |v| match v.parse_and_check(&format!("tool-{index}"), schema, &text) {
            Ok(value) => assert!(value.is_object(), "accepted a non-object: {value}"),
            // The field may be empty: `{"": 1}` names a property whose name is empty.
            Err(err) => assert!(!err.message.is_empty()),
        },
    );
}

/// `PolicyFile::parse`: any text; an error names a line.
pub fn policy_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(err) = PolicyFile::parse(Path::new("policy.toml"), &text) {
        assert!(!err.to_string().is_empty());
    }
}

/// `RoleTable::with_roles_text` over a matrix with fixed cells: any text.
pub fn roles_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let always = ["ai-assist", "limited-access", "tasks:view"];
    let matrix = RoleTable::from_roles(vec![
        Role::new("Super Admin", true, false, &["tasks:view"]).with_fixed(always),
        Role::new("Client Site Manager", true, true, &["devices:view"]),
    ]);
    if let Err(err) = matrix.with_roles_text(Path::new("roles.toml"), &text) {
        assert!(!err.to_string().is_empty());
    }
}

/// `PluginMetadata::try_from` and `ToolDescriptor::try_from` on declarations built from
/// the bytes (strings, lists, ports, enums all chosen by the input).
pub fn declarations(data: &[u8]) {
    let mut u = Bytes::new(data);
    let metadata = u.metadata();
    if let Ok(checked) = PluginMetadata::try_from(metadata.clone()) {
        assert_eq!(checked.id, metadata.id);
        assert!(!checked.id.is_empty());
        // A plugin may declare no region (no network); otherwise the default is one of them.
        assert!(checked.regions.is_empty() || checked.region(&checked.default_region).is_some());
    }
    for _ in 0..u.small(4) {
        let tool = u.descriptor();
        if let Ok(checked) = ToolDescriptor::try_from(tool.clone()) {
            assert_eq!(checked.name, tool.name);
            assert!(checked.input_schema.is_object());
        }
    }
}

/// A reader that turns fuzzer bytes into structured values; running out yields defaults.
struct Bytes<'a> {
    data: &'a [u8],
}

const WORDS: &[&str] = &[
    "",
    "au",
    "connectwise_rmm",
    "cw-rmm-list-devices",
    "https",
    "http",
    "ftp",
    "openapi.service.auplatform.connectwise.com",
    "127.0.0.1",
    "[::1]",
    "evil.example.com:443",
    "/v1/token",
    "json",
    "form",
    "platform.devices.read",
    "{\"type\":\"object\"}",
    "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}",
    "{\"type\":\"nope\"}",
    "[]",
    "{",
    "ÄÖÜ\u{0}\u{202e}",
    "a b",
    "UPPER",
];

impl<'a> Bytes<'a> {
    fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data }
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn small(&mut self, max: u8) -> u8 {
        self.byte() % (max + 1)
    }

    fn bool(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A dictionary word, or raw bytes (lossy UTF-8), or a long repeat.
    fn string(&mut self) -> String {
        match self.byte() % 8 {
            0..=4 => WORDS[self.byte() as usize % WORDS.len()].to_string(),
            5 | 6 => {
                let len = self.small(24) as usize;
                let len = len.min(self.data.len());
                let (raw, rest) = self.data.split_at(len);
                self.data = rest;
                String::from_utf8_lossy(raw).into_owned()
            }
            _ => "x".repeat(self.byte() as usize * 4),
        }
    }

    fn strings(&mut self) -> Vec<String> {
        (0..self.small(3)).map(|_| self.string()).collect()
    }

    fn origin(&mut self) -> wit::Origin {
        wit::Origin {
            scheme: self.string(),
            host: self.string(),
            port: u16::from_le_bytes([self.byte(), self.byte()]),
        }
    }

    fn metadata(&mut self) -> wit::PluginMetadata {
        wit::PluginMetadata {
            id: self.string(),
            name: self.string(),
            version: self.string(),
            description: self.string(),
            config_keys: (0..self.small(2))
                .map(|_| wit::ConfigKey {
                    name: self.string(),
                    description: self.string(),
                    required: self.bool(),
                    default_value: self.bool().then(|| self.string()),
                })
                .collect(),
            credential: if self.bool() {
                wit::CredentialKind::None
            } else {
                wit::CredentialKind::Oauth2ClientCredentials(wit::Oauth2ClientCredentials {
                    token_path: self.string(),
                    body_encoding: self.string(),
                    scopes: self.strings(),
                })
            },
            regions: (0..self.small(2))
                .map(|_| wit::Region {
                    id: self.string(),
                    label: self.string(),
                    api: self.origin(),
                    extra_origins: (0..self.small(2)).map(|_| self.origin()).collect(),
                })
                .collect(),
            default_region: self.string(),
            roles: (0..self.small(3))
                .map(|_| wit::RoleTemplate {
                    name: self.string(),
                    ai_assist: self.bool(),
                    limited_access: self.bool(),
                    permissions: self.strings(),
                    fixed: self.strings(),
                })
                .collect(),
            default_role: self.bool().then(|| self.string()),
            discovery_routes: self.routes(),
        }
    }

    fn descriptor(&mut self) -> wit::ToolDescriptor {
        wit::ToolDescriptor {
            name: self.string(),
            title: self.string(),
            description: self.string(),
            input_schema: self.string(),
            output_schema: self.bool().then(|| self.string()),
            annotations: wit::Annotations {
                read_only: self.bool(),
                destructive: self.bool(),
                idempotent: self.bool(),
                open_world: self.bool(),
            },
            policy_hint: match self.small(2) {
                0 => wit::PolicyHint::Auto,
                1 => wit::PolicyHint::Approval,
                _ => wit::PolicyHint::Never,
            },
            permissions: self.strings(),
            routes: self.routes(),
        }
    }

    fn routes(&mut self) -> Vec<wit::Route> {
        (0..self.small(3))
            .map(|_| wit::Route {
                method: self.string(),
                path: self.string(),
                access: if self.bool() {
                    wit::Access::Read
                } else {
                    wit::Access::Write
                },
            })
            .collect()
    }
}
