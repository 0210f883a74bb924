//! # guidon-core
//!
//! Guidon's evaluation engine: Flipt's declarative flag format, validation,
//! compilation into an indexed immutable snapshot, and evaluation that is
//! bit-exact with Flipt's Go server. Pure: no I/O, no async, no global state, so
//! the server, the relay, the client library and the CLI all share it.
//!
//! ## Layout
//!
//! - [`load`]: parse YAML/JSON document streams (format versions 1.0–1.6),
//!   validate them with precise paths ([`Issue`]) and compile a [`Snapshot`].
//! - [`index`]: the `.flipt.yml` include/exclude rules that pick the files.
//! - [`model`]: the compiled snapshot (namespaces, flags, segments, rules with
//!   precomputed bucket boundaries, constraints with pre-parsed values).
//! - [`eval`]: boolean, variant and either-type evaluation; allocation-free.
//! - [`diff`]: which flags and segments changed between two snapshots.
//! - [`explain`]: a tracer that records why an evaluation answered what it did.
//! - [`goparse`]: Go's `ParseFloat`, `ParseBool` and RFC 3339 rules, and protobuf
//!   timestamp formatting.
//! - [`gojson`]: Go `encoding/json` output (how Flipt serialises attachments).
//! - [`glob`]: gobwas-style globs used by the index.
//!
//! ## Example
//!
//! ```
//! use guidon_core::{load, CompileOptions, EvalRequest, SourceFile, Reason};
//!
//! let yaml = br#"
//! namespace: prd
//! flags:
//!   - key: new-checkout
//!     name: New checkout
//!     type: BOOLEAN_FLAG_TYPE
//!     enabled: false
//!     rollouts:
//!       - segment: {key: office, value: true}
//! segments:
//!   - key: office
//!     name: Office users
//!     constraints:
//!       - {type: STRING_COMPARISON_TYPE, property: applicationName, operator: eq, value: office}
//! "#;
//! let snapshot = load(&[SourceFile { path: "features.yml", contents: yaml }], CompileOptions::default()).unwrap();
//! let ctx = [("applicationName", "office")];
//! let req = EvalRequest { namespace: "prd", flag: "new-checkout", entity_id: "u1", context: &ctx };
//! let res = snapshot.boolean(&req).unwrap();
//! assert!(res.enabled);
//! assert_eq!(res.reason, Reason::Match);
//! assert_eq!(res.segment_keys.to_vec(), ["office"]);
//! ```
//!
//! ## Deliberately left out
//!
//! Reading files, watching, HTTP and JSON wire shapes live in `guidon-source` and
//! `guidon-server`. The client-side engine's rounding ("R" in the spec) is never
//! emulated: Guidon answers as Flipt's server does.

pub mod diff;
pub mod eval;
pub mod explain;
pub mod glob;
pub mod gojson;
pub mod goparse;
pub mod index;
pub mod load;
pub mod model;
mod node;

pub use eval::{
    AnyResult, BooleanResult, Context, EvalError, EvalRequest, NoTrace, Reason, SegmentKeys, Trace,
    VariantResult,
};
pub use explain::{Explainer, Explanation};
pub use index::Index;
pub use load::{CompileOptions, Issue, LoadError, SourceFile, load, validate};
pub use model::{Bucketing, Flag, FlagType, Namespace, Segment, Snapshot};
