//! `GET /metrics`: Prometheus text exposition of what the source serves.
//!
//! Every value is read from the store's status at scrape time, so the
//! exposition is always consistent with `/health` and needs no background
//! recorder. Labels: `type` (`local`, `object`, `git`) and `location`.

use std::fmt::Write;
use std::time::SystemTime;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::MetaState;

/// Escapes a label value (backslash, quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn unix(t: Option<SystemTime>) -> Option<f64> {
    t.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64())
}

pub(crate) async fn render(State(meta): State<MetaState>) -> Response {
    let st = meta.store.status();
    let labels = format!(
        "type=\"{}\",location=\"{}\"",
        label(st.kind),
        label(&st.location)
    );
    let mut out = String::with_capacity(2048);
    let mut metric = |name: &str, kind: &str, help: &str, value: Option<f64>, extra: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        if let Some(v) = value {
            let _ = writeln!(out, "{name}{{{labels}{extra}}} {v}");
        }
    };
    let rev = format!(",revision=\"{}\"", label(&st.revision));
    metric(
        "guidon_source_info",
        "gauge",
        "The revision the source currently serves (always 1).",
        Some(1.0),
        &rev,
    );
    metric(
        "guidon_source_polls_total",
        "counter",
        "Times the source was read.",
        Some(st.polls as f64),
        "",
    );
    metric(
        "guidon_source_not_modified_total",
        "counter",
        "Reads that found nothing new (nothing downloaded or parsed).",
        Some(st.not_modified as f64),
        "",
    );
    metric(
        "guidon_source_downloads_total",
        "counter",
        "Objects downloaded in full (S3 GETs answered 200, not 304).",
        Some(st.downloads as f64),
        "",
    );
    metric(
        "guidon_source_loads_total",
        "counter",
        "Snapshots compiled from new content.",
        Some(st.loads as f64),
        "",
    );
    metric(
        "guidon_source_errors_total",
        "counter",
        "Failed reads or loads.",
        Some(st.errors as f64),
        "",
    );
    metric(
        "guidon_source_load_duration_seconds",
        "gauge",
        "Seconds the last compile took.",
        Some(st.last_load_seconds),
        "",
    );
    metric(
        "guidon_source_last_success_timestamp_seconds",
        "gauge",
        "When the source was last read successfully (Unix time).",
        unix(st.last_success_time),
        "",
    );
    metric(
        "guidon_source_loaded_timestamp_seconds",
        "gauge",
        "When the served snapshot was loaded (Unix time).",
        unix(st.loaded_at_time),
        "",
    );
    metric(
        "guidon_source_last_error_timestamp_seconds",
        "gauge",
        "When the source last failed (Unix time).",
        unix(st.last_error_time),
        "",
    );
    metric(
        "guidon_source_degraded",
        "gauge",
        "1 while the latest read failed and the last good snapshot is served.",
        Some(f64::from(u8::from(st.degraded))),
        "",
    );
    metric(
        "guidon_flags",
        "gauge",
        "Flags served.",
        Some(st.flags as f64),
        "",
    );
    metric(
        "guidon_namespaces",
        "gauge",
        "Namespaces served.",
        Some(st.namespaces as f64),
        "",
    );
    let mut res = out.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}
