//! The vendor OpenAPI 3.0 document as a contract: operations matched by method and path
//! template, and request/response bodies validated with a real JSON Schema validator.
//!
//! The document is parsed with `openapiv3`. Each OpenAPI 3.0 schema object is converted to
//! JSON Schema draft 4 (the dialect OpenAPI 3.0 schemas derive from: boolean
//! `exclusiveMinimum`/`exclusiveMaximum`) by [`to_json_schema`], with every
//! `#/components/schemas/X` embedded as `definitions/X`, and validated with `jsonschema`.
//!
//! Included with `#[path]` by the tests that use it (its dependencies are dev-dependencies).

#![allow(dead_code)] // Each including test binary uses a different part.

use openapiv3::{
    OpenAPI, Operation as SpecOperation, Parameter, ReferenceOr, RequestBody, Response,
    StatusCode as SpecStatus,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The spec copied into the test data (a copy of `../shared/reference/asio-openapi-2.2.8.yaml`).
pub fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("asio-openapi-2.2.8.yaml")
}

/// One operation of the spec: `GET /api/platform/v1/company/companies/{companyId}`.
#[derive(Debug)]
pub struct Operation {
    pub method: String,
    pub template: String,
    segments: Vec<Segment>,
    pub spec: SpecOperation,
    /// Path-item and operation parameters, references resolved.
    pub parameters: Vec<Parameter>,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
}

impl Operation {
    /// `GET /api/...{id}`: the key of summaries and messages.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    fn literal_count(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }

    fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        parts.len() == self.segments.len()
            && self
                .segments
                .iter()
                .zip(&parts)
                .all(|(seg, part)| match seg {
                    Segment::Literal(lit) => lit == part,
                    Segment::Param(_) => !part.is_empty(),
                })
    }

    /// Names of the query parameters the operation requires.
    pub fn required_query(&self) -> Vec<&str> {
        self.parameters
            .iter()
            .filter_map(|p| match p {
                Parameter::Query { parameter_data, .. } if parameter_data.required => {
                    Some(parameter_data.name.as_str())
                }
                _ => None,
            })
            .collect()
    }

    /// Names of the path parameters the operation declares (`in: path`).
    pub fn declared_path_params(&self) -> Vec<&str> {
        self.parameters
            .iter()
            .filter_map(|p| match p {
                Parameter::Path { parameter_data, .. } => Some(parameter_data.name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Names of the `{placeholders}` of the path template.
    pub fn template_params(&self) -> Vec<&str> {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Param(name) => Some(name.as_str()),
                Segment::Literal(_) => None,
            })
            .collect()
    }
}

/// What the spec says about one response status of an operation.
#[derive(Debug)]
pub enum ResponseSpec<'a> {
    /// The status is documented (exactly, as a range like `4XX`, or through `default`).
    Documented {
        /// `"200"`, `"4XX"` or `"default"`.
        under: String,
        response: &'a Response,
    },
    /// The operation does not document this status and has no `default`.
    Undocumented,
}

/// The parsed spec, its converted schemas and a cache of compiled validators.
pub struct Spec {
    pub doc: OpenAPI,
    pub operations: Vec<Operation>,
    /// `components.schemas`, converted to JSON Schema.
    definitions: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
    /// What [`parse`] had to repair to read the document as OpenAPI 3.0.
    pub repairs: Vec<String>,
}

/// Loads the YAML document at `path`.
pub fn load(path: &Path) -> Result<Spec, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    parse(&text)
}

/// Parses an OpenAPI 3.0 YAML (or JSON) document.
pub fn parse(text: &str) -> Result<Spec, String> {
    let mut raw: Value =
        serde_norway::from_str(text).map_err(|e| format!("not YAML or JSON: {e}"))?;
    let repairs = repair(&mut raw);
    let doc: OpenAPI =
        serde_json::from_value(raw).map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;
    let mut definitions = Map::new();
    if let Some(components) = &doc.components {
        for (name, schema) in &components.schemas {
            let raw = serde_json::to_value(schema).map_err(|e| format!("schema {name}: {e}"))?;
            definitions.insert(name.clone(), to_json_schema(&raw));
        }
    }
    let mut operations = Vec::new();
    for (template, item) in doc.paths.iter() {
        let item = match item {
            ReferenceOr::Item(item) => item,
            ReferenceOr::Reference { reference } => {
                return Err(format!(
                    "path {template}: $ref {reference} is not supported"
                ))
            }
        };
        for (method, op) in item.iter() {
            let mut parameters = Vec::new();
            // Operation parameters override path-item ones with the same name and location.
            for p in item.parameters.iter().chain(&op.parameters) {
                let p = resolve_parameter(&doc, p)?;
                let data = p.parameter_data_ref();
                parameters.retain(|q: &Parameter| {
                    let d = q.parameter_data_ref();
                    !(d.name == data.name
                        && std::mem::discriminant(q) == std::mem::discriminant(&p))
                });
                parameters.push(p);
            }
            operations.push(Operation {
                method: method.to_ascii_uppercase(),
                template: template.clone(),
                segments: segments(template),
                spec: op.clone(),
                parameters,
            });
        }
    }
    Ok(Spec {
        doc,
        operations,
        definitions: Value::Object(definitions),
        validators: Mutex::new(HashMap::new()),
        repairs,
    })
}

/// Repairs what makes a document invalid OpenAPI 3.0, so the rest of it can be used, and
/// says what was repaired (tests pin this list: a new defect must be looked at).
///
/// - A parameter object without `in` cannot be a parameter: it is dropped. (2.2.8 has one:
///   the `all` "parameter" of `POST /api/platform/v1/mapping/mappings/lookup`, which has
///   neither `in` nor `schema`. No client of ours uses that operation.)
fn repair(doc: &mut Value) -> Vec<String> {
    let mut repairs = Vec::new();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return repairs;
    };
    for (template, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let params = if method == "parameters" {
                Some(op)
            } else {
                op.get_mut("parameters")
            };
            let Some(Value::Array(params)) = params else {
                continue;
            };
            params.retain(|p| {
                let keep = p.get("$ref").is_some() || p.get("in").is_some();
                if !keep {
                    repairs.push(format!(
                        "{} {template}: dropped parameter {} without `in`",
                        method.to_ascii_uppercase(),
                        p.get("name").unwrap_or(&Value::Null)
                    ));
                }
                keep
            });
        }
    }
    repairs
}

fn segments(template: &str) -> Vec<Segment> {
    template
        .trim_matches('/')
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_string()),
                None => Segment::Literal(s.to_string()),
            },
        )
        .collect()
}

fn component_name<'a>(reference: &'a str, kind: &str) -> Option<&'a str> {
    reference.strip_prefix(&format!("#/components/{kind}/"))
}

fn resolve_parameter(doc: &OpenAPI, p: &ReferenceOr<Parameter>) -> Result<Parameter, String> {
    match p {
        ReferenceOr::Item(p) => Ok(p.clone()),
        ReferenceOr::Reference { reference } => component_name(reference, "parameters")
            .and_then(|name| doc.components.as_ref()?.parameters.get(name))
            .and_then(|p| p.as_item())
            .cloned()
            .ok_or_else(|| format!("unresolvable parameter {reference}")),
    }
}

impl Spec {
    /// The operation for a request: the method must match, and among the path templates that
    /// match, the one with the most literal segments wins (`/tasks/summary` over
    /// `/tasks/{taskId}`).
    pub fn find(&self, method: &str, path: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .filter(|op| op.method.eq_ignore_ascii_case(method) && op.matches(path))
            .max_by_key(|op| op.literal_count())
    }

    /// The operation with this method and exact path template.
    pub fn operation(&self, method: &str, template: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|op| op.method.eq_ignore_ascii_case(method) && op.template == template)
    }

    pub fn request_body<'a>(&'a self, op: &'a Operation) -> Option<&'a RequestBody> {
        match op.spec.request_body.as_ref()? {
            ReferenceOr::Item(body) => Some(body),
            ReferenceOr::Reference { reference } => component_name(reference, "requestBodies")
                .and_then(|name| self.doc.components.as_ref()?.request_bodies.get(name))
                .and_then(|b| b.as_item()),
        }
    }

    /// The response the spec documents for `status`: exact code, then `NXX` range, then
    /// `default`.
    pub fn response<'a>(&'a self, op: &'a Operation, status: u16) -> ResponseSpec<'a> {
        let responses = &op.spec.responses;
        let found = responses
            .responses
            .get(&SpecStatus::Code(status))
            .map(|r| (status.to_string(), r))
            .or_else(|| {
                responses
                    .responses
                    .get(&SpecStatus::Range(status / 100))
                    .map(|r| (format!("{}XX", status / 100), r))
            })
            .or_else(|| responses.default.as_ref().map(|r| ("default".into(), r)));
        let Some((under, response)) = found else {
            return ResponseSpec::Undocumented;
        };
        let response = match response {
            ReferenceOr::Item(r) => Some(r),
            ReferenceOr::Reference { reference } => component_name(reference, "responses")
                .and_then(|name| self.doc.components.as_ref()?.responses.get(name))
                .and_then(|r| r.as_item()),
        };
        match response {
            Some(response) => ResponseSpec::Documented { under, response },
            None => ResponseSpec::Undocumented,
        }
    }

    /// A validator for an OpenAPI schema (as in a media type), compiled once per `key`.
    pub fn validator(
        &self,
        key: &str,
        schema: &ReferenceOr<openapiv3::Schema>,
    ) -> Result<Arc<jsonschema::Validator>, String> {
        if let Some(v) = self.validators.lock().unwrap().get(key) {
            return Ok(v.clone());
        }
        let raw = serde_json::to_value(schema).map_err(|e| format!("{key}: {e}"))?;
        let validator = Arc::new(self.compile(&raw).map_err(|e| format!("{key}: {e}"))?);
        self.validators
            .lock()
            .unwrap()
            .insert(key.to_string(), validator.clone());
        Ok(validator)
    }

    /// Compiles an OpenAPI schema (as JSON) against the document's components.
    pub fn compile(&self, openapi_schema: &Value) -> Result<jsonschema::Validator, String> {
        let root = serde_json::json!({
            "definitions": self.definitions,
            "allOf": [to_json_schema(openapi_schema)],
        });
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            // Draft 4 knows no `uuid` format; OpenAPI documents use it for ids.
            .with_format("uuid", is_uuid)
            .build(&root)
            .map_err(|e| format!("the schema does not compile: {e}"))
    }
}

/// `8-4-4-4-12` hex digits, as the `uuid` format of JSON Schema 2019-09 (RFC 4122 text).
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Every error of `instance` against `validator`, as `at <json pointer>: <message>`.
pub fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("at `{}`: {e}", if at.is_empty() { "/" } else { &at })
        })
        .collect()
}

/// Converts one OpenAPI 3.0 schema object (serialized as JSON) to JSON Schema draft 4:
/// - `$ref: #/components/schemas/X` becomes `#/definitions/X`;
/// - `nullable: true` adds `"null"` to `type` (and `null` to an `enum`), or, on a schema
///   without `type` (a `$ref` or a composition), becomes `anyOf [schema, {type: null}]`;
/// - OpenAPI-only keywords (`nullable`, `discriminator`, `xml`, `externalDocs`, `example`,
///   `deprecated`) are dropped;
/// - sub-schemas are converted recursively: `properties`, `items`, `additionalProperties`,
///   `allOf`/`anyOf`/`oneOf`, `not`.
pub fn to_json_schema(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    if let Some(Value::String(reference)) = map.get("$ref") {
        let target = match component_name(reference, "schemas") {
            Some(name) => format!("#/definitions/{name}"),
            None => reference.clone(),
        };
        // Siblings of `$ref` are ignored in OpenAPI 3.0, as in draft 4.
        return serde_json::json!({ "$ref": target });
    }
    let mut out = Map::new();
    for (key, value) in map {
        let converted = match key.as_str() {
            "nullable" | "discriminator" | "xml" | "externalDocs" | "example" | "deprecated" => {
                continue
            }
            "properties" => match value {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(name, s)| (name.clone(), to_json_schema(s)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "not" => to_json_schema(value),
            "additionalProperties" => match value {
                Value::Object(_) => to_json_schema(value),
                other => other.clone(),
            },
            "allOf" | "anyOf" | "oneOf" => match value {
                Value::Array(list) => Value::Array(list.iter().map(to_json_schema).collect()),
                other => other.clone(),
            },
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if map.get("nullable") == Some(&Value::Bool(true)) {
        if let Some(Value::Array(values)) = out.get_mut("enum") {
            if !values.contains(&Value::Null) {
                values.push(Value::Null);
            }
        }
        match out.get("type").cloned() {
            Some(Value::String(t)) => {
                out.insert("type".into(), serde_json::json!([t, "null"]));
            }
            Some(Value::Array(mut types)) => {
                if !types.contains(&Value::from("null")) {
                    types.push("null".into());
                }
                out.insert("type".into(), Value::Array(types));
            }
            _ => {
                return serde_json::json!({
                    "anyOf": [Value::Object(out), {"type": "null"}]
                })
            }
        }
    }
    Value::Object(out)
}

/// Query parameter names of a raw query string (`a=1&b=2` -> `a`, `b`), percent-decoded.
pub fn query_names(query: Option<&str>) -> Vec<String> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split('=').next().unwrap_or(""))
        .map(percent_decode)
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_becomes_a_type_union() {
        assert_eq!(
            to_json_schema(&json!({"type": "string", "nullable": true, "example": "x"})),
            json!({"type": ["string", "null"]})
        );
        assert_eq!(
            to_json_schema(&json!({"type": "string", "enum": ["a"], "nullable": true})),
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
        assert_eq!(
            to_json_schema(
                &json!({"allOf": [{"$ref": "#/components/schemas/A"}], "nullable": true})
            ),
            json!({"anyOf": [{"allOf": [{"$ref": "#/definitions/A"}]}, {"type": "null"}]})
        );
    }

    #[test]
    fn refs_are_rewritten_everywhere_and_property_names_are_not_keywords() {
        let converted = to_json_schema(&json!({
            "type": "object",
            "properties": {
                "example": {"$ref": "#/components/schemas/A"},
                "nullable": {"type": "array", "items": {"$ref": "#/components/schemas/B", "description": "ignored"}}
            },
            "additionalProperties": {"oneOf": [{"$ref": "#/components/schemas/C"}]}
        }));
        assert_eq!(
            converted,
            json!({
                "type": "object",
                "properties": {
                    "example": {"$ref": "#/definitions/A"},
                    "nullable": {"type": "array", "items": {"$ref": "#/definitions/B"}}
                },
                "additionalProperties": {"oneOf": [{"$ref": "#/definitions/C"}]}
            })
        );
    }

    const MINI: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      parameters:
        - $ref: "#/components/parameters/Fields"
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
        4XX:
          description: client error
        default:
          description: other
  /things/special:
    get:
      responses:
        "200": {description: ok}
components:
  parameters:
    Fields: {name: field, in: query, required: true, schema: {type: string}}
  schemas:
    Thing:
      type: object
      required: [id]
      properties:
        id: {type: string, format: uuid}
        note: {type: string, nullable: true}
        count: {type: integer, minimum: 0, exclusiveMinimum: true}
"##;

    #[test]
    fn finds_operations_parameters_and_responses() {
        let spec = parse(MINI).unwrap();
        let op = spec.find("get", "/things/abc").unwrap();
        assert_eq!(op.template, "/things/{id}");
        assert_eq!(op.required_query(), ["field"]);
        assert_eq!(op.declared_path_params(), ["id"]);
        assert_eq!(
            spec.find("GET", "/things/special").unwrap().template,
            "/things/special",
            "the literal template wins"
        );
        assert!(spec.find("POST", "/things/abc").is_none());
        assert!(spec.find("GET", "/things/abc/more").is_none());
        assert!(matches!(
            spec.response(op, 404),
            ResponseSpec::Documented { ref under, .. } if under == "4XX"
        ));
        assert!(matches!(
            spec.response(op, 503),
            ResponseSpec::Documented { ref under, .. } if under == "default"
        ));
        let special = spec.find("GET", "/things/special").unwrap();
        assert!(matches!(
            spec.response(special, 500),
            ResponseSpec::Undocumented
        ));
    }

    #[test]
    fn validates_bodies_with_refs_nullable_and_formats() {
        let spec = parse(MINI).unwrap();
        let thing = spec
            .compile(&json!({"$ref": "#/components/schemas/Thing"}))
            .unwrap();
        let id = "0b7a3c1e-2d4f-4a5b-8c6d-7e8f9a0b1c2d";
        assert!(errors(&thing, &json!({"id": id, "note": null, "count": 1})).is_empty());
        let bad = errors(&thing, &json!({"id": "nope", "note": 3, "count": 0}));
        assert_eq!(bad.len(), 3, "{bad:?}");
        assert!(bad.iter().any(|e| e.starts_with("at `/note`")), "{bad:?}");
        assert!(!errors(&thing, &json!({})).is_empty(), "id is required");
    }

    #[test]
    fn query_names_are_decoded() {
        assert_eq!(
            query_names(Some("a=1&b%5B%5D=2&c")),
            ["a", "b[]", "c"].map(String::from)
        );
        assert!(query_names(None).is_empty());
    }

    #[test]
    fn the_vendor_spec_parses_and_every_schema_compiles() {
        let spec = load(&spec_path()).unwrap();
        assert!(spec.operations.len() >= 60, "{}", spec.operations.len());
        for name in spec.definitions.as_object().unwrap().keys() {
            spec.compile(&json!({"$ref": format!("#/components/schemas/{name}")}))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
