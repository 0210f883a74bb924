//! `GET /health` and `GET /meta/info`.
//!
//! `/health` answers `{"status":"SERVING"}` as Flipt's gateway does for
//! `grpc.health.v1`. `/meta/info` follows Flipt v1's shape (plain JSON, not
//! protobuf JSON) and reports declarative storage as read-only.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::response::Response;
use axum::routing::get;
use guidon_source::SnapshotStore;
use serde::Serialize;

use crate::evaluate::json;

/// Static facts about this build and configuration.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildInfo {
    /// Guidon's version.
    pub version: String,
    /// Whether authentication is required (always false until auth lands).
    pub authentication_required: bool,
}

/// Everything `/meta/info` needs.
#[derive(Debug, Clone)]
pub struct MetaState {
    /// Build and configuration facts.
    pub build: Arc<BuildInfo>,
    /// The store, for the storage type.
    pub store: Arc<SnapshotStore>,
}

/// The health and meta routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    MetaState: FromRef<S>,
{
    Router::new()
        .route("/health", get(health))
        .route("/meta/info", get(info))
}

async fn health() -> Response {
    json(br#"{"status":"SERVING"}"#.to_vec())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Info<'a> {
    version: &'a str,
    latest_version: &'a str,
    #[serde(rename = "latestVersionURL")]
    latest_version_url: &'a str,
    commit: &'a str,
    build_date: &'a str,
    go_version: &'a str,
    update_available: bool,
    is_release: bool,
    os: &'a str,
    arch: &'a str,
    authentication: Auth,
    storage: Storage<'a>,
}

#[derive(Serialize)]
struct Auth {
    required: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Storage<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    read_only: bool,
}

async fn info(State(meta): State<MetaState>) -> Response {
    let status = meta.store.status();
    let info = Info {
        version: &meta.build.version,
        latest_version: "",
        latest_version_url: "",
        commit: "",
        build_date: "",
        go_version: "",
        update_available: false,
        is_release: true,
        os: std::env::consts::OS,
        arch: match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        },
        authentication: Auth {
            required: meta.build.authentication_required,
        },
        storage: Storage {
            kind: status.kind,
            read_only: true,
        },
    };
    json(serde_json::to_vec(&info).unwrap_or_default())
}
