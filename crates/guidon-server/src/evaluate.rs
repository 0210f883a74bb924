//! `POST /evaluate/v1/{boolean,variant,batch}`: Flipt's evaluation API (spec §3.3).
//!
//! Requests are decoded the way grpc-gateway decodes them: camelCase or snake_case
//! field names, `null` meaning "unset", unknown fields ignored, an empty body
//! meaning an empty request, and any `Content-Type` (the Node SDK sends
//! `text/plain`). When `namespaceKey` is blank, the `X-Flipt-Namespace` header
//! fills it, as Flipt v2 does. Responses carry every field with its default value,
//! camelCase names in proto field order, enums as names, the request id echoed or
//! a fresh UUID, an RFC 3339 timestamp and a float duration in milliseconds.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use guidon_core::{AnyResult, BooleanResult, EvalRequest, SegmentKeys, Snapshot, VariantResult};
use guidon_source::SnapshotStore;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ApiError;

/// The evaluation routes, for any state that can hand out the snapshot store.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<SnapshotStore>: FromRef<S>,
{
    Router::new()
        .route("/evaluate/v1/boolean", post(boolean))
        .route("/evaluate/v1/variant", post(variant))
        .route("/evaluate/v1/batch", post(batch))
}

/// A JSON string field as grpc-gateway reads it: `null` means empty, and the
/// text is borrowed from the body when it has no escapes.
#[derive(Debug, Default, Clone)]
pub struct Text<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text::default())
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_any(V)
    }
}

/// The evaluation context (`map<string, string>`): `null` means empty, a `null`
/// value means `""`, and a repeated key keeps its last value (Go map semantics).
#[derive(Debug, Default)]
pub struct ContextMap<'a>(pub Vec<(Text<'a>, Text<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for ContextMap<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ContextMap<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of strings to strings")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ContextMap::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ContextMap::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(Text<'de>, Text<'de>)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<Text<'de>, Text<'de>>()? {
                    match entries.iter_mut().find(|(ek, _)| **ek == *k) {
                        Some(slot) => slot.1 = v,
                        None => entries.push((k, v)),
                    }
                }
                Ok(ContextMap(entries))
            }
        }
        d.deserialize_any(V)
    }
}

impl guidon_core::Context for ContextMap<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| **k == *key).map(|(_, v)| &**v)
    }
}

/// `flipt.evaluation.EvaluationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EvaluationRequest<'a> {
    /// Echoed in the response; generated when empty.
    #[serde(borrow, alias = "request_id")]
    pub request_id: Text<'a>,
    /// Namespace key; empty means `default`.
    #[serde(borrow, alias = "namespace_key")]
    pub namespace_key: Text<'a>,
    /// Flag key.
    #[serde(borrow, alias = "flag_key")]
    pub flag_key: Text<'a>,
    /// Entity id.
    #[serde(borrow, alias = "entity_id")]
    pub entity_id: Text<'a>,
    /// Context.
    #[serde(borrow)]
    pub context: ContextMap<'a>,
    /// Storage reference (ignored by declarative local storage).
    #[serde(borrow)]
    pub reference: Text<'a>,
    /// Flipt v2 environment key.
    #[serde(borrow, alias = "environment_key")]
    pub environment_key: Text<'a>,
}

/// A list that may be `null`.
#[derive(Debug, Default)]
pub struct List<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default()))
    }
}

/// `flipt.evaluation.BatchEvaluationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BatchEvaluationRequest<'a> {
    /// Echoed in the response; generated when empty.
    #[serde(borrow, alias = "request_id")]
    pub request_id: Text<'a>,
    /// The evaluations.
    #[serde(borrow)]
    pub requests: List<EvaluationRequest<'a>>,
    /// Storage reference (ignored by declarative local storage).
    #[serde(borrow)]
    pub reference: Text<'a>,
}

/// The `X-Flipt-Namespace` header, read without copying the header map.
#[derive(Debug)]
pub struct NamespaceHeader(pub(crate) Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for NamespaceHeader {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .headers
                .get("x-flipt-namespace")
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        ))
    }
}

pub(crate) fn decode<'a, T: Deserialize<'a> + Default>(body: &'a [u8]) -> Result<T, ApiError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Ok(T::default()),
        Some(b'{') => {}
        Some(&c) => {
            return Err(ApiError::invalid(format!(
                "syntax error: expected a JSON object, found {:?}",
                char::from(c)
            )));
        }
    }
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(e.to_string()))
}

pub(crate) struct Keys<'a>(pub(crate) &'a SegmentKeys<'a>);

impl Serialize for Keys<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VariantResponse<'a> {
    #[serde(rename = "match")]
    matched: bool,
    segment_keys: Keys<'a>,
    reason: &'static str,
    variant_key: &'a str,
    variant_attachment: &'a str,
    request_id: &'a str,
    request_duration_millis: f64,
    timestamp: &'a str,
    flag_key: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BooleanResponse<'a> {
    enabled: bool,
    reason: &'static str,
    request_id: &'a str,
    request_duration_millis: f64,
    timestamp: &'a str,
    flag_key: &'a str,
    segment_keys: Keys<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorResponse<'a> {
    flag_key: &'a str,
    namespace_key: &'a str,
    reason: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchItem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    boolean_response: Option<BooleanResponse<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant_response: Option<VariantResponse<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_response: Option<ErrorResponse<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchResponse<'a> {
    request_id: &'a str,
    responses: Vec<BatchItem<'a>>,
    request_duration_millis: f64,
}

/// Time the evaluation finished, and how long it took.
pub(crate) struct Finish {
    pub(crate) timestamp: String,
    pub(crate) millis: f64,
}

impl Finish {
    pub(crate) fn since(start: Instant) -> Self {
        let millis = start.elapsed().as_nanos() as f64 / 1e6;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        // Flipt rounds server timestamps to microseconds.
        let micros = now.subsec_micros() * 1000;
        Self {
            timestamp: guidon_core::goparse::format_rfc3339(now.as_secs() as i64, micros),
            millis,
        }
    }
}

/// The request id to echo: the given one, or a new UUID v4 written into `buf`.
pub(crate) fn request_id<'a>(given: &'a str, buf: &'a mut [u8; 36]) -> &'a str {
    if given.is_empty() {
        uuid::Uuid::new_v4().hyphenated().encode_lower(buf)
    } else {
        given
    }
}

pub(crate) fn json(body: Vec<u8>) -> Response {
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, ApiError> {
    // Sized for a typical evaluation response, so serialising does not regrow.
    let mut body = Vec::with_capacity(384);
    serde_json::to_writer(&mut body, v).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            crate::error::Code::Internal,
            e.to_string(),
        )
    })?;
    Ok(body)
}

fn fill_namespace<'a>(req: &mut EvaluationRequest<'a>, header: Option<&'a str>) {
    if req.namespace_key.is_empty()
        && let Some(ns) = header
    {
        req.namespace_key = Text(Cow::Borrowed(ns));
    }
}

pub(crate) fn eval_req<'r>(r: &'r EvaluationRequest<'_>) -> EvalRequest<'r, ContextMap<'r>> {
    EvalRequest {
        namespace: &r.namespace_key,
        flag: &r.flag_key,
        entity_id: &r.entity_id,
        context: &r.context,
    }
}

fn variant_body<'a>(
    r: &'a VariantResult<'a>,
    keys: &'a SegmentKeys<'a>,
    request_id: &'a str,
    fin: &'a Finish,
) -> VariantResponse<'a> {
    VariantResponse {
        matched: r.matched,
        segment_keys: Keys(keys),
        reason: r.reason.as_str(),
        variant_key: r.variant_key,
        variant_attachment: r.variant_attachment,
        request_id,
        request_duration_millis: fin.millis,
        timestamp: &fin.timestamp,
        flag_key: &r.flag.key,
    }
}

fn boolean_body<'a>(
    r: &'a BooleanResult<'a>,
    keys: &'a SegmentKeys<'a>,
    request_id: &'a str,
    fin: &'a Finish,
) -> BooleanResponse<'a> {
    BooleanResponse {
        enabled: r.enabled,
        reason: r.reason.as_str(),
        request_id,
        request_duration_millis: fin.millis,
        timestamp: &fin.timestamp,
        flag_key: &r.flag.key,
        segment_keys: Keys(keys),
    }
}

async fn variant(
    State(store): State<Arc<SnapshotStore>>,
    header: NamespaceHeader,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    variant_json(&store.load().snapshot, &body?, header.0.as_deref()).map(json)
}

async fn boolean(
    State(store): State<Arc<SnapshotStore>>,
    header: NamespaceHeader,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    boolean_json(&store.load().snapshot, &body?, header.0.as_deref()).map(json)
}

async fn batch(
    State(store): State<Arc<SnapshotStore>>,
    header: NamespaceHeader,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    batch_json(&store.load().snapshot, &body?, header.0.as_deref()).map(json)
}

/// Decodes one evaluation request, evaluates it with `eval`, and writes the
/// response with `render` (given the result, the request id and the finish time).
fn single<'s, R>(
    snapshot: &'s Snapshot,
    body: &[u8],
    namespace: Option<&str>,
    eval: impl FnOnce(
        &'s Snapshot,
        &EvalRequest<'_, ContextMap<'_>>,
    ) -> Result<R, guidon_core::EvalError>,
    render: impl FnOnce(&R, &str, &Finish) -> Result<Vec<u8>, ApiError>,
) -> Result<Vec<u8>, ApiError> {
    let start = Instant::now();
    let mut req: EvaluationRequest<'_> = decode(body)?;
    fill_namespace(&mut req, namespace);
    let res = eval(snapshot, &eval_req(&req))?;
    let mut buf = [0u8; 36];
    let id = request_id(&req.request_id, &mut buf);
    render(&res, id, &Finish::since(start))
}

/// Answers a `/evaluate/v1/variant` request body (`namespace` is the
/// `X-Flipt-Namespace` header, used when the body names none).
pub fn variant_json(
    snapshot: &Snapshot,
    body: &[u8],
    namespace: Option<&str>,
) -> Result<Vec<u8>, ApiError> {
    single(
        snapshot,
        body,
        namespace,
        |s, r| s.variant(r),
        |res, id, fin| to_json(&variant_body(res, &res.segment_keys, id, fin)),
    )
}

/// Answers a `/evaluate/v1/boolean` request body.
pub fn boolean_json(
    snapshot: &Snapshot,
    body: &[u8],
    namespace: Option<&str>,
) -> Result<Vec<u8>, ApiError> {
    single(
        snapshot,
        body,
        namespace,
        |s, r| s.boolean(r),
        |res, id, fin| to_json(&boolean_body(res, &res.segment_keys, id, fin)),
    )
}

/// Answers a `/evaluate/v1/batch` request body.
pub fn batch_json(
    snapshot: &Snapshot,
    body: &[u8],
    namespace: Option<&str>,
) -> Result<Vec<u8>, ApiError> {
    let start = Instant::now();
    let mut batch: BatchEvaluationRequest<'_> = decode(body)?;
    for r in &mut batch.requests.0 {
        fill_namespace(r, namespace);
    }
    let results: Vec<_> = batch
        .requests
        .0
        .iter()
        .map(|r| snapshot.evaluate(&eval_req(r)))
        .collect::<Vec<_>>();
    // Not-found items become error items; nothing else can fail per item.
    let mut buf = [0u8; 36];
    let id = request_id(&batch.request_id, &mut buf);
    let fin = Finish::since(start);
    let responses = batch
        .requests
        .0
        .iter()
        .zip(&results)
        .map(|(r, res)| match res {
            Ok(AnyResult::Variant(v)) => BatchItem {
                kind: "VARIANT_EVALUATION_RESPONSE_TYPE",
                boolean_response: None,
                variant_response: Some(variant_body(v, &v.segment_keys, &r.request_id, &fin)),
                error_response: None,
            },
            Ok(AnyResult::Boolean(b)) => BatchItem {
                kind: "BOOLEAN_EVALUATION_RESPONSE_TYPE",
                boolean_response: Some(boolean_body(b, &b.segment_keys, &r.request_id, &fin)),
                variant_response: None,
                error_response: None,
            },
            Err(e) => BatchItem {
                kind: "ERROR_EVALUATION_RESPONSE_TYPE",
                boolean_response: None,
                variant_response: None,
                error_response: Some(ErrorResponse {
                    flag_key: &r.flag_key,
                    namespace_key: if r.namespace_key.is_empty() {
                        "default"
                    } else {
                        &r.namespace_key
                    },
                    reason: if e.is_not_found() {
                        "NOT_FOUND_ERROR_EVALUATION_REASON"
                    } else {
                        "UNKNOWN_ERROR_EVALUATION_REASON"
                    },
                }),
            },
        })
        .collect();
    to_json(&BatchResponse {
        request_id: id,
        responses,
        request_duration_millis: fin.millis,
    })
}
