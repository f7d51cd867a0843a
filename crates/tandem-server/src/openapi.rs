//! The OpenAPI 3.1 document, built from the route table so that it covers every JSON route by
//! construction (a test fails when a route has no description here).

use axum::Json;
use axum::http::Method;
use serde_json::{Map, Value, json};

use crate::app::{Access, Surface, route_specs};

/// The schema of a JSON object body with the `required` names among its `properties` (the
/// route modules' `describe` tables build their request bodies with it).
pub(crate) fn object(required: &[&str], properties: Value) -> Value {
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// The schema of a plain string.
pub(crate) fn string() -> Value {
    json!({"type": "string"})
}

/// Summary and request body schema of each JSON route.
fn describe(method: &Method, path: &str) -> Option<(&'static str, Option<Value>)> {
    let string = json!({"type": "string"});
    Some(match (method.as_str(), path) {
        ("GET", "/healthz") => ("Liveness and the storage backend in use", None),
        ("GET", "/openapi.json") => ("This document", None),
        ("GET", "/api/v1/me") => ("The signed-in user", None),
        ("GET", "/api/v1/datasets") => (
            "Datasets with their latest version and counts per schema",
            None,
        ),
        ("GET", "/api/v1/search") => (
            "Search entities by name, alias or identifier (`q`, optional `schema`, `limit` ≤ 100)",
            None,
        ),
        ("GET", "/api/v1/entities/{id}") => {
            ("An entity with every statement and its provenance", None)
        }
        ("GET", "/api/v1/entities/{id}/graph") => (
            "The entity and its direct relations as nodes and edges",
            None,
        ),
        ("GET", "/api/v1/jobs") => ("Recent long-running jobs with progress", None),
        ("GET", "/api/v1/jobs/{id}") => ("One job", None),
        ("GET", "/api/v1/users") => (
            "Users (of the caller's organisation unless administrator)",
            None,
        ),
        ("POST", "/api/v1/users") => (
            "Create a user with a one-time password (returned once)",
            Some(
                json!({"type": "object", "required": ["username", "display_name", "organisation", "role"],
                "properties": {"username": string, "display_name": string, "organisation": string,
                    "role": {"enum": ["admin", "analyst", "caseworker", "viewer"]}}}),
            ),
        ),
        ("POST", "/api/v1/users/{id}/disable") => ("Disable a user and end their sessions", None),
        ("GET", "/api/v1/tokens") => ("API tokens (the caller's own unless administrator)", None),
        ("POST", "/api/v1/tokens") => (
            "Create an API token; the secret is returned once",
            Some(json!({"type": "object", "required": ["name"],
                "properties": {"name": string, "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 365}}})),
        ),
        ("DELETE", "/api/v1/tokens/{id}") => ("Revoke an API token", None),
        ("GET", "/api/v1/audit") => (
            "Audit log entries, newest first (filters: actor, action prefix, target, outcome, before)",
            None,
        ),
        ("GET", "/api/v1/audit/verify") => ("Check the audit log's hash chain end to end", None),
        _ => {
            return crate::protection::describe(method, path)
                .or_else(|| crate::screening_web::describe(method, path))
                .or_else(|| crate::yente::describe(method, path))
                .or_else(|| crate::catalogue_pages::describe(method, path));
        }
    })
}

pub fn build() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for spec in route_specs()
        .into_iter()
        .filter(|s| s.surface == Surface::Api)
    {
        let Some((summary, body)) = describe(&spec.method, spec.path) else {
            continue;
        };
        let parameters: Vec<Value> = spec
            .path
            .split('/')
            .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut operation = json!({
            "summary": summary,
            "parameters": parameters,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {}}},
                "400": {"$ref": "#/components/responses/Problem"},
                "401": {"$ref": "#/components/responses/Problem"},
                "403": {"$ref": "#/components/responses/Problem"},
                "404": {"$ref": "#/components/responses/Problem"},
            },
        });
        if spec.access == Access::Public {
            operation["security"] = json!([]);
        }
        if let Some(schema) = body {
            operation["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema}}});
        }
        let item = paths
            .entry(spec.path.to_string())
            .or_insert_with(|| json!({}));
        item[spec.method.as_str().to_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tandem API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Screening, analysis and protection against migrant smuggling and human trafficking. Errors are RFC 9457 problem documents with a stable `code`.",
        },
        "paths": paths,
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::app::SESSION_COOKIE},
            },
            "responses": {
                "Problem": {
                    "description": "An error",
                    "content": {"application/problem+json": {"schema": {
                        "type": "object",
                        "required": ["type", "title", "status", "code"],
                        "properties": {
                            "type": {"type": "string"}, "title": {"type": "string"},
                            "status": {"type": "integer"}, "code": {"type": "string"},
                            "detail": {"type": "string"}, "field": {"type": "string"},
                        },
                    }}},
                },
            },
        },
    })
}

pub async fn document() -> Json<Value> {
    Json(build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_json_route_is_documented() {
        for spec in route_specs()
            .into_iter()
            .filter(|s| s.surface == Surface::Api)
        {
            assert!(
                describe(&spec.method, spec.path).is_some(),
                "{} {} is missing from the OpenAPI document",
                spec.method,
                spec.path
            );
        }
        let doc = build();
        assert!(doc["paths"]["/api/v1/entities/{id}"]["get"]["parameters"][0]["name"] == "id");
    }
}
