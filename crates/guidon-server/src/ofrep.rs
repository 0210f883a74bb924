//! OpenFeature Remote Evaluation Protocol (spec §3.8), as Flipt serves it.
//!
//! - `POST /ofrep/v1/evaluate/flags/{key}` and bulk `POST /ofrep/v1/evaluate/flags`
//!   with `{"context": {"targetingKey": ..., ...}}`; the namespace comes from
//!   `X-Flipt-Namespace` (default `default`). `targetingKey` is the entity id; a
//!   random one is used when it is absent, as in Flipt.
//! - Bulk: all boolean flags and enabled variant flags, or the comma-separated
//!   `context.flags`; a weak `ETag` over every key and variant, and `304` on
//!   `If-None-Match`.
//! - `GET /ofrep/v1/configuration`.
//! - Errors: `{"key", "errorCode", "errorDetails"}` with 404 `FLAG_NOT_FOUND`,
//!   400 `INVALID_CONTEXT`, or `GENERAL`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use guidon_core::{AnyResult, EvalError, EvalRequest, FlagType, Reason, Snapshot};
use guidon_source::SnapshotStore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::evaluate::{ContextMap, NamespaceHeader, json as json_response};

/// The OFREP routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<SnapshotStore>: FromRef<S>,
{
    Router::new()
        .route("/ofrep/v1/evaluate/flags/{key}", post(single))
        .route("/ofrep/v1/evaluate/flags", post(bulk))
        .route("/ofrep/v1/configuration", get(configuration))
}

/// An OFREP error answer.
#[derive(Debug)]
pub struct OfrepError {
    status: StatusCode,
    key: String,
    code: &'static str,
    details: String,
}

impl OfrepError {
    fn invalid(key: &str, details: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            key: key.to_owned(),
            code: "INVALID_CONTEXT",
            details: details.into(),
        }
    }

    fn from_eval(key: &str, e: &EvalError) -> Self {
        match e {
            EvalError::FlagNotFound { .. } | EvalError::NamespaceNotFound(_) => Self {
                status: StatusCode::NOT_FOUND,
                key: key.to_owned(),
                code: "FLAG_NOT_FOUND",
                details: format!("flag was not found {key}"),
            },
            EvalError::WrongType(_) => Self::invalid(key, e.to_string()),
        }
    }
}

impl IntoResponse for OfrepError {
    fn into_response(self) -> Response {
        let body = json!({"key": self.key, "errorCode": self.code, "errorDetails": self.details});
        let mut res = (self.status, body.to_string()).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        res
    }
}

#[derive(Deserialize, Default)]
struct OfrepRequest<'a> {
    #[serde(default, borrow)]
    context: ContextMap<'a>,
}

#[derive(Serialize)]
struct Evaluated {
    key: String,
    reason: &'static str,
    variant: String,
    metadata: Map<String, Value>,
    value: Value,
}

fn reason(r: Reason) -> &'static str {
    match r {
        Reason::Match => "TARGETING_MATCH",
        Reason::Default => "DEFAULT",
        Reason::FlagDisabled => "DISABLED",
        Reason::Unknown => "UNKNOWN",
    }
}

fn namespace(header: &NamespaceHeader) -> &str {
    header.0.as_deref().unwrap_or("default")
}

fn decode<'a>(key: &str, body: &'a [u8]) -> Result<OfrepRequest<'a>, OfrepError> {
    crate::evaluate::decode(body).map_err(|e| OfrepError::invalid(key, e.message))
}

fn evaluate(
    snapshot: &Snapshot,
    ns: &str,
    key: &str,
    ctx: &ContextMap<'_>,
    entity: &str,
) -> Result<Evaluated, OfrepError> {
    let req = EvalRequest {
        namespace: ns,
        flag: key,
        entity_id: entity,
        context: ctx,
    };
    let res = snapshot
        .evaluate(&req)
        .map_err(|e| OfrepError::from_eval(key, &e))?;
    Ok(match res {
        AnyResult::Boolean(b) => Evaluated {
            key: key.to_owned(),
            reason: reason(b.reason),
            variant: b.enabled.to_string(),
            metadata: Map::new(),
            value: Value::Bool(b.enabled),
        },
        AnyResult::Variant(v) => {
            let mut metadata = Map::new();
            let segments: Vec<&str> = v.segment_keys.iter().collect();
            if !segments.is_empty() {
                metadata.insert("segments".into(), Value::String(segments.join(",")));
            }
            if !v.variant_attachment.is_empty() {
                metadata.insert(
                    "attachment".into(),
                    Value::String(v.variant_attachment.to_owned()),
                );
            }
            Evaluated {
                key: key.to_owned(),
                reason: reason(v.reason),
                variant: v.variant_key.to_owned(),
                metadata,
                value: Value::String(v.variant_key.to_owned()),
            }
        }
    })
}

/// The entity id: `context.targetingKey`, else a random one (as Flipt does).
fn entity(ctx: &ContextMap<'_>) -> String {
    guidon_core::Context::get(ctx, "targetingKey")
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

async fn single(
    State(store): State<Arc<SnapshotStore>>,
    Path(key): Path<String>,
    header: NamespaceHeader,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OfrepError> {
    let body = body.map_err(|e| OfrepError::invalid(&key, e.body_text()))?;
    if key.trim().is_empty() {
        return Err(OfrepError::invalid(&key, "flag key was not provided"));
    }
    let req = decode(&key, &body)?;
    let published = store.load();
    let out = evaluate(
        &published.snapshot,
        namespace(&header),
        &key,
        &req.context,
        &entity(&req.context),
    )?;
    Ok(json_response(serde_json::to_vec(&out).unwrap_or_default()))
}

async fn bulk(
    State(store): State<Arc<SnapshotStore>>,
    header: NamespaceHeader,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OfrepError> {
    let body = body.map_err(|e| OfrepError::invalid("", e.body_text()))?;
    let req = decode("", &body)?;
    let ns_key = namespace(&header);
    let published = store.load();
    let ns = published
        .snapshot
        .namespace(ns_key)
        .ok_or_else(|| OfrepError {
            status: StatusCode::NOT_FOUND,
            key: String::new(),
            code: "FLAG_NOT_FOUND",
            details: format!("namespace \"{ns_key}\" not found"),
        })?;
    let keys: Vec<String> = match guidon_core::Context::get(&req.context, "flags") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect(),
        None => ns
            .flags()
            .iter()
            .filter(|f| f.flag_type == FlagType::Boolean || f.enabled)
            .map(|f| f.key.clone())
            .collect(),
    };
    let entity = entity(&req.context);
    let mut flags = Vec::with_capacity(keys.len());
    for key in &keys {
        flags.push(evaluate(
            &published.snapshot,
            ns_key,
            key,
            &req.context,
            &entity,
        )?);
    }
    let mut h = sha1_smol::Sha1::new();
    h.update(ns_key.as_bytes());
    for f in &flags {
        h.update(&[0]);
        h.update(f.key.as_bytes());
        h.update(&[0]);
        h.update(f.variant.as_bytes());
    }
    let etag = format!("W/\"{}\"", &h.digest().to_string()[..16]);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == etag);
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        json_response(json!({ "flags": flags }).to_string().into_bytes())
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    Ok(res)
}

async fn configuration() -> Response {
    json_response(
        json!({
            "name": "flipt",
            "capabilities": {
                "cacheInvalidation": {"polling": {"enabled": false, "minPollingIntervalMs": 0}},
                "flagEvaluation": {"supportedTypes": ["string", "boolean"]}
            }
        })
        .to_string()
        .into_bytes(),
    )
}
