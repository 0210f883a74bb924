//! Flipt v1's management API, read side (spec §3.5): namespaces, flags,
//! segments, rules and rollouts, listed (with `limit`, `offset`, `pageToken`/`nextPageToken`,
//! `totalCount`) and fetched, under `/api/v1/namespaces/{ns}/...` and the
//! un-namespaced `/api/v1/flags`, `/api/v1/segments` aliases.
//!
//! Declarative storage is read-only, so every write route exists and answers
//! as Flipt does: HTTP 500 `modification is not allowed in read-only mode`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use guidon_core::{Flag, Namespace, Segment};
use guidon_source::{Published, SnapshotStore};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{ApiError, Code};
use crate::evaluate::{json, to_json};

/// The management routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<SnapshotStore>: FromRef<S>,
{
    let ro = || -> MethodRouter<S> { post(read_only).put(read_only).delete(read_only) };
    Router::new()
        .route("/api/v1/namespaces", get(list_namespaces).post(read_only))
        .route(
            "/api/v1/namespaces/{ns}",
            get(get_namespace).put(read_only).delete(read_only),
        )
        .route(
            "/api/v1/namespaces/{ns}/flags",
            get(list_flags).post(read_only),
        )
        .route("/api/v1/flags", get(list_flags_default).post(read_only))
        .route(
            "/api/v1/namespaces/{ns}/flags/{flag}",
            get(get_flag).put(read_only).delete(read_only),
        )
        .route(
            "/api/v1/flags/{flag}",
            get(get_flag_default).put(read_only).delete(read_only),
        )
        .route(
            "/api/v1/namespaces/{ns}/segments",
            get(list_segments).post(read_only),
        )
        .route(
            "/api/v1/segments",
            get(list_segments_default).post(read_only),
        )
        .route(
            "/api/v1/namespaces/{ns}/segments/{segment}",
            get(get_segment).put(read_only).delete(read_only),
        )
        .route(
            "/api/v1/segments/{segment}",
            get(get_segment_default).put(read_only).delete(read_only),
        )
        // Writes to nested resources, namespaced and legacy aliases.
        .route("/api/v1/namespaces/{ns}/flags/{flag}/variants", ro())
        .route("/api/v1/namespaces/{ns}/flags/{flag}/variants/{id}", ro())
        .route("/api/v1/flags/{flag}/variants", ro())
        .route("/api/v1/flags/{flag}/variants/{id}", ro())
        .route(
            "/api/v1/namespaces/{ns}/flags/{flag}/rules",
            get(list_rules).post(read_only),
        )
        .route(
            "/api/v1/namespaces/{ns}/flags/{flag}/rules/order",
            put(read_only),
        )
        .route(
            "/api/v1/namespaces/{ns}/flags/{flag}/rules/{rule}",
            get(get_rule).put(read_only).delete(read_only),
        )
        .route(
            "/api/v1/flags/{flag}/rules",
            get(list_rules_default).post(read_only),
        )
        .route("/api/v1/flags/{flag}/rules/order", put(read_only))
        .route(
            "/api/v1/flags/{flag}/rules/{rule}",
            get(get_rule_default).put(read_only).delete(read_only),
        )
        .route(
            "/api/v1/namespaces/{ns}/flags/{flag}/rules/{rule}/distributions",
            ro(),
        )
        .route(
            "/api/v1/namespaces/{ns}/flags/{flag}/rules/{rule}/distributions/{id}",
            ro(),
        )
        .route("/api/v1/flags/{flag}/rules/{rule}/distributions", ro())
        .route("/api/v1/flags/{flag}/rules/{rule}/distributions/{id}", ro())
        .route(
            "/api/v1/namespaces/{ns}/flags/{flag}/rollouts",
            get(list_rollouts).post(read_only),
        )
        .route(
            "/api/v1/namespaces/{ns}/flags/{flag}/rollouts/order",
            put(read_only),
        )
        .route(
            "/api/v1/namespaces/{ns}/flags/{flag}/rollouts/{id}",
            get(get_rollout).put(read_only).delete(read_only),
        )
        .route(
            "/api/v1/namespaces/{ns}/segments/{segment}/constraints",
            ro(),
        )
        .route(
            "/api/v1/namespaces/{ns}/segments/{segment}/constraints/{id}",
            ro(),
        )
        .route("/api/v1/segments/{segment}/constraints", ro())
        .route("/api/v1/segments/{segment}/constraints/{id}", ro())
}

async fn read_only() -> Response {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        Code::Internal,
        "modification is not allowed in read-only mode",
    )
    .into_response()
}

/// `limit`, `offset`, `pageToken` in camelCase or snake_case; empty values allowed.
fn page<T>(
    items: Vec<T>,
    q: &HashMap<String, String>,
) -> Result<(Vec<T>, String, usize), ApiError> {
    let get = |a: &str, b: &str| {
        q.get(a)
            .or_else(|| q.get(b))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let limit = match get("limit", "limit") {
        None => 0,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| ApiError::invalid(format!("invalid field limit: {v:?}")))?,
    };
    let start = match (get("pageToken", "page_token"), get("offset", "offset")) {
        (Some(token), _) => token
            .parse::<usize>()
            .map_err(|_| ApiError::invalid(format!("pageToken is not valid: {token:?}")))?,
        (None, Some(off)) => off
            .parse::<usize>()
            .map_err(|_| ApiError::invalid(format!("invalid field offset: {off:?}")))?,
        (None, None) => 0,
    };
    let total = items.len();
    let start = start.min(total);
    let end = if limit == 0 {
        total
    } else {
        (start + limit).min(total)
    };
    let next = if end < total {
        end.to_string()
    } else {
        String::new()
    };
    Ok((
        items.into_iter().skip(start).take(end - start).collect(),
        next,
        total,
    ))
}

fn namespace<'a>(p: &'a Published, key: &str) -> Result<&'a Namespace, ApiError> {
    let key = if key.is_empty() { "default" } else { key };
    p.snapshot
        .namespace(key)
        .ok_or_else(|| ApiError::not_found(format!("namespace \"{key}\" not found")))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceDoc<'a> {
    key: &'a str,
    name: &'a str,
    description: &'a str,
    protected: bool,
    created_at: &'a str,
    updated_at: &'a str,
}

fn namespace_doc<'a>(ns: &'a Namespace, at: &'a str) -> NamespaceDoc<'a> {
    NamespaceDoc {
        key: &ns.key,
        name: &ns.name,
        description: &ns.description,
        protected: ns.key == "default",
        created_at: at,
        updated_at: at,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VariantDoc<'a> {
    id: String,
    flag_key: &'a str,
    key: &'a str,
    name: &'a str,
    description: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
    attachment: &'a str,
    namespace_key: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlagDoc<'a> {
    key: &'a str,
    name: &'a str,
    description: &'a str,
    enabled: bool,
    created_at: &'a str,
    updated_at: &'a str,
    variants: Vec<VariantDoc<'a>>,
    namespace_key: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_variant: Option<VariantDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Map<String, Value>>,
}

fn flag_doc<'a>(ns: &'a Namespace, flag: &'a Flag, at: &'a str) -> FlagDoc<'a> {
    let variant = |v: &'a guidon_core::model::Variant| VariantDoc {
        id: format!("{}/{}", flag.key, v.key),
        flag_key: &flag.key,
        key: &v.key,
        name: &v.name,
        description: &v.description,
        created_at: at,
        updated_at: at,
        attachment: &v.attachment,
        namespace_key: &ns.key,
    };
    FlagDoc {
        key: &flag.key,
        name: &flag.name,
        description: &flag.description,
        enabled: flag.enabled,
        created_at: at,
        updated_at: at,
        variants: flag.variants.iter().map(variant).collect(),
        namespace_key: &ns.key,
        kind: flag.flag_type.as_str(),
        default_variant: flag.default_variant().map(variant),
        metadata: flag.metadata.as_ref(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConstraintDoc<'a> {
    id: String,
    segment_key: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    property: &'a str,
    operator: &'static str,
    value: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
    namespace_key: &'a str,
    description: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SegmentDoc<'a> {
    key: &'a str,
    name: &'a str,
    description: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
    constraints: Vec<ConstraintDoc<'a>>,
    match_type: &'static str,
    namespace_key: &'a str,
}

fn segment_doc<'a>(ns: &'a Namespace, seg: &'a Segment, at: &'a str) -> SegmentDoc<'a> {
    SegmentDoc {
        key: &seg.key,
        name: &seg.name,
        description: &seg.description,
        created_at: at,
        updated_at: at,
        constraints: seg
            .constraints
            .iter()
            .enumerate()
            .map(|(i, c)| ConstraintDoc {
                id: format!("{}/{}", seg.key, i + 1),
                segment_key: &seg.key,
                kind: c.comparison.as_str(),
                property: &c.property,
                operator: c.operator.as_str(),
                value: &c.value,
                created_at: at,
                updated_at: at,
                namespace_key: &ns.key,
                description: &c.description,
            })
            .collect(),
        match_type: seg.match_type.as_str(),
        namespace_key: &ns.key,
    }
}

fn loaded_at(p: &Published) -> String {
    guidon_source::store::rfc3339(p.loaded_at)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceList<'a> {
    namespaces: Vec<NamespaceDoc<'a>>,
    next_page_token: String,
    total_count: usize,
}

async fn list_namespaces(
    State(store): State<Arc<SnapshotStore>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let p = store.load();
    let at = loaded_at(&p);
    let all = p.snapshot.namespaces().iter().collect();
    let (items, next, total) = page(all, &q)?;
    to_json(&NamespaceList {
        namespaces: items.into_iter().map(|ns| namespace_doc(ns, &at)).collect(),
        next_page_token: next,
        total_count: total,
    })
    .map(json)
}

async fn get_namespace(
    State(store): State<Arc<SnapshotStore>>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let p = store.load();
    let at = loaded_at(&p);
    to_json(&namespace_doc(namespace(&p, &key)?, &at)).map(json)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlagList<'a> {
    flags: Vec<FlagDoc<'a>>,
    next_page_token: String,
    total_count: usize,
}

fn flags(
    store: &SnapshotStore,
    ns: &str,
    q: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    with_namespace(store, ns, |ns, at| {
        let (items, next, total) = page(ns.flags().iter().collect(), q)?;
        to_json(&FlagList {
            flags: items.into_iter().map(|f| flag_doc(ns, f, at)).collect(),
            next_page_token: next,
            total_count: total,
        })
    })
    .map(json)
}

async fn list_flags(
    State(store): State<Arc<SnapshotStore>>,
    Path(ns): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    flags(&store, &ns, &q)
}

async fn list_flags_default(
    State(store): State<Arc<SnapshotStore>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    flags(&store, "default", &q)
}

fn flag(store: &SnapshotStore, ns: &str, key: &str) -> Result<Response, ApiError> {
    with_flag(store, ns, key, |ns, flag, at| {
        to_json(&flag_doc(ns, flag, at))
    })
    .map(json)
}

async fn get_flag(
    State(store): State<Arc<SnapshotStore>>,
    Path((ns, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    flag(&store, &ns, &key)
}

async fn get_flag_default(
    State(store): State<Arc<SnapshotStore>>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    flag(&store, "default", &key)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SegmentList<'a> {
    segments: Vec<SegmentDoc<'a>>,
    next_page_token: String,
    total_count: usize,
}

fn segments(
    store: &SnapshotStore,
    ns: &str,
    q: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    with_namespace(store, ns, |ns, at| {
        let (items, next, total) = page(ns.segments().iter().collect(), q)?;
        to_json(&SegmentList {
            segments: items.into_iter().map(|s| segment_doc(ns, s, at)).collect(),
            next_page_token: next,
            total_count: total,
        })
    })
    .map(json)
}

async fn list_segments(
    State(store): State<Arc<SnapshotStore>>,
    Path(ns): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    segments(&store, &ns, &q)
}

async fn list_segments_default(
    State(store): State<Arc<SnapshotStore>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    segments(&store, "default", &q)
}

fn segment(store: &SnapshotStore, ns: &str, key: &str) -> Result<Response, ApiError> {
    with_namespace(store, ns, |ns, at| {
        let seg = ns.segment(key).ok_or_else(|| {
            ApiError::not_found(format!("segment \"{}/{key}\" not found", ns.key))
        })?;
        to_json(&segment_doc(ns, seg, at))
    })
    .map(json)
}

async fn get_segment(
    State(store): State<Arc<SnapshotStore>>,
    Path((ns, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    segment(&store, &ns, &key)
}

async fn get_segment_default(
    State(store): State<Arc<SnapshotStore>>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    segment(&store, "default", &key)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DistributionDoc<'a> {
    id: String,
    rule_id: String,
    variant_id: String,
    rollout: f32,
    created_at: &'a str,
    updated_at: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDoc<'a> {
    id: String,
    flag_key: &'a str,
    segment_key: &'a str,
    distributions: Vec<DistributionDoc<'a>>,
    rank: u32,
    created_at: &'a str,
    updated_at: &'a str,
    namespace_key: &'a str,
    segment_keys: Vec<&'a str>,
    segment_operator: &'static str,
}

fn rule_doc<'a>(
    ns: &'a Namespace,
    flag: &'a Flag,
    rule: &'a guidon_core::model::Rule,
    at: &'a str,
) -> RuleDoc<'a> {
    let id = format!("rule-{}", rule.rank);
    let keys: Vec<&str> = rule
        .segments
        .iter()
        .map(|r| ns.segment_at(*r).key.as_str())
        .collect();
    RuleDoc {
        distributions: rule
            .distributions
            .iter()
            .enumerate()
            .map(|(i, d)| DistributionDoc {
                id: format!("{id}-distribution-{}", i + 1),
                rule_id: id.clone(),
                variant_id: format!("{}/{}", flag.key, flag.variants[d.variant].key),
                rollout: d.rollout,
                created_at: at,
                updated_at: at,
            })
            .collect(),
        id,
        flag_key: &flag.key,
        segment_key: if keys.len() == 1 { keys[0] } else { "" },
        rank: rule.rank,
        created_at: at,
        updated_at: at,
        namespace_key: &ns.key,
        segment_keys: keys,
        segment_operator: rule.segment_operator.as_str(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RolloutSegmentDoc<'a> {
    segment_key: &'a str,
    value: bool,
    segment_keys: Vec<&'a str>,
    segment_operator: &'static str,
}

#[derive(Serialize)]
struct RolloutThresholdDoc {
    percentage: f32,
    value: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RolloutDoc<'a> {
    id: String,
    namespace_key: &'a str,
    flag_key: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    rank: u32,
    description: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    segment: Option<RolloutSegmentDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<RolloutThresholdDoc>,
}

fn rollout_doc<'a>(
    ns: &'a Namespace,
    flag: &'a Flag,
    ro: &'a guidon_core::model::Rollout,
    at: &'a str,
) -> RolloutDoc<'a> {
    use guidon_core::model::RolloutKind;
    let (kind, segment, threshold) = match &ro.kind {
        RolloutKind::Threshold { percentage, value } => (
            "THRESHOLD_ROLLOUT_TYPE",
            None,
            Some(RolloutThresholdDoc {
                percentage: *percentage,
                value: *value,
            }),
        ),
        RolloutKind::Segment {
            segments,
            operator,
            value,
        } => {
            let keys: Vec<&str> = segments
                .iter()
                .map(|r| ns.segment_at(*r).key.as_str())
                .collect();
            (
                "SEGMENT_ROLLOUT_TYPE",
                Some(RolloutSegmentDoc {
                    segment_key: if keys.len() == 1 { keys[0] } else { "" },
                    value: *value,
                    segment_keys: keys,
                    segment_operator: operator.as_str(),
                }),
                None,
            )
        }
    };
    RolloutDoc {
        id: format!("rollout-{}", ro.rank),
        namespace_key: &ns.key,
        flag_key: &flag.key,
        kind,
        rank: ro.rank,
        description: &ro.description,
        created_at: at,
        updated_at: at,
        segment,
        threshold,
    }
}

/// Runs `f` on the namespace `ns` of the served snapshot, with its load time.
fn with_namespace<R>(
    store: &SnapshotStore,
    ns: &str,
    f: impl FnOnce(&Namespace, &str) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    let p = store.load();
    let at = loaded_at(&p);
    f(namespace(&p, ns)?, &at)
}

/// Runs `f` on the flag `key` of namespace `ns`, with the load time.
fn with_flag<R>(
    store: &SnapshotStore,
    ns: &str,
    key: &str,
    f: impl FnOnce(&Namespace, &Flag, &str) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    with_namespace(store, ns, |ns, at| {
        let flag = ns
            .flag(key)
            .ok_or_else(|| ApiError::not_found(format!("flag \"{}/{key}\" not found", ns.key)))?;
        f(ns, flag, at)
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleList<'a> {
    rules: Vec<RuleDoc<'a>>,
    next_page_token: String,
    total_count: usize,
}

fn rules(
    store: &SnapshotStore,
    ns: &str,
    key: &str,
    q: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    with_flag(store, ns, key, |ns, flag, at| {
        let (items, next, total) = page(flag.rules.iter().collect(), q)?;
        to_json(&RuleList {
            rules: items
                .into_iter()
                .map(|r| rule_doc(ns, flag, r, at))
                .collect(),
            next_page_token: next,
            total_count: total,
        })
    })
    .map(json)
}

fn rule(store: &SnapshotStore, ns: &str, key: &str, id: &str) -> Result<Response, ApiError> {
    with_flag(store, ns, key, |ns, flag, at| {
        let rule = flag
            .rules
            .iter()
            .find(|r| format!("rule-{}", r.rank) == id)
            .ok_or_else(|| ApiError::not_found(format!("rule \"{}/{id}\" not found", ns.key)))?;
        to_json(&rule_doc(ns, flag, rule, at))
    })
    .map(json)
}

async fn list_rules(
    State(store): State<Arc<SnapshotStore>>,
    Path((ns, flag)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    rules(&store, &ns, &flag, &q)
}

async fn list_rules_default(
    State(store): State<Arc<SnapshotStore>>,
    Path(flag): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    rules(&store, "default", &flag, &q)
}

async fn get_rule(
    State(store): State<Arc<SnapshotStore>>,
    Path((ns, flag, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    rule(&store, &ns, &flag, &id)
}

async fn get_rule_default(
    State(store): State<Arc<SnapshotStore>>,
    Path((flag, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    rule(&store, "default", &flag, &id)
}

/// `RolloutList`: Flipt names its field `rules`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RolloutList<'a> {
    rules: Vec<RolloutDoc<'a>>,
    next_page_token: String,
    total_count: usize,
}

async fn list_rollouts(
    State(store): State<Arc<SnapshotStore>>,
    Path((ns, flag)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    with_flag(&store, &ns, &flag, |ns, flag, at| {
        let (items, next, total) = page(flag.rollouts.iter().collect(), &q)?;
        to_json(&RolloutList {
            rules: items
                .into_iter()
                .map(|r| rollout_doc(ns, flag, r, at))
                .collect(),
            next_page_token: next,
            total_count: total,
        })
    })
    .map(json)
}

async fn get_rollout(
    State(store): State<Arc<SnapshotStore>>,
    Path((ns, flag, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    with_flag(&store, &ns, &flag, |ns, flag, at| {
        let ro = flag
            .rollouts
            .iter()
            .find(|r| format!("rollout-{}", r.rank) == id)
            .ok_or_else(|| ApiError::not_found(format!("rollout \"{}/{id}\" not found", ns.key)))?;
        to_json(&rollout_doc(ns, flag, ro, at))
    })
    .map(json)
}
