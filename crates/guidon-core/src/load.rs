//! Parsing, validating and compiling Flipt declarative documents (spec §6.1).
//!
//! [`load`] takes the contents of every selected file, parses each as a YAML or
//! JSON document stream, checks each document against the rules of its declared
//! `version` (1.0–1.6), and compiles everything into one [`Snapshot`]. Every
//! problem is collected as an [`Issue`] naming the file, the document (1-based) and
//! the path inside it (`flags[3].rules[0].segment`), so one pass reports them all;
//! any issue fails the load, so a bad file can never replace a good snapshot.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use crate::gojson;
use crate::goparse::{parse_datetime, parse_float};
use crate::model::{
    Bucketing, ComparisonType, Constraint, Distribution, Flag, FlagType, MatchType, Namespace,
    Operator, ParsedValue, Rollout, RolloutKind, Rule, Segment, SegmentOperator, SegmentRef,
    Snapshot, Variant,
};
use crate::node::{self, Node};

/// The newest declarative format version understood (Flipt v2.11).
pub const LATEST_VERSION: Version = Version(1, 6);
/// Maximum items in an `isoneof`/`isnotoneof` list (Flipt's `MAX_JSON_ARRAY_ITEMS`).
pub const MAX_LIST_ITEMS: usize = 100;

/// A declarative format version (`major.minor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// One input file: a path relative to the source root, and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct SourceFile<'a> {
    /// Slash-separated path relative to the source root (used in messages and to
    /// pick the format: `.yml`/`.yaml` is YAML, anything else JSON).
    pub path: &'a str,
    /// The file's contents.
    pub contents: &'a [u8],
}

impl<'a> SourceFile<'a> {
    /// Views `(path, contents)` pairs as source files.
    pub fn from_pairs(files: &'a [(String, Vec<u8>)]) -> Vec<Self> {
        files
            .iter()
            .map(|(path, contents)| Self { path, contents })
            .collect()
    }
}

/// One validation problem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    /// File path relative to the source root.
    pub file: String,
    /// 1-based document number within the file (0 when the file itself is unreadable).
    pub document: usize,
    /// Path inside the document, e.g. `flags[3].rules[0].segment` (empty for the
    /// whole document).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.document > 0 {
            write!(f, " (document {})", self.document)?;
        }
        if !self.path.is_empty() {
            write!(f, " at {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A failed load: every issue found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The issues, in file order.
    pub issues: Vec<Issue>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.issues.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} validation issues; first: ", many.len())?;
                match many.first() {
                    Some(first) => write!(f, "{first}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Options for compiling a snapshot.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompileOptions {
    /// Bucket boundary formula.
    pub bucketing: Bucketing,
}

/// Parses, validates and compiles `files` (in the given order) into a snapshot.
pub fn load(files: &[SourceFile<'_>], opts: CompileOptions) -> Result<Snapshot, LoadError> {
    let mut issues = Vec::new();
    let mut namespaces: Vec<RawNamespace> = Vec::new();
    for file in files {
        parse_file(file, &mut namespaces, &mut issues);
    }
    let snapshot = compile(namespaces, opts, &mut issues);
    if issues.is_empty() {
        Ok(snapshot)
    } else {
        Err(LoadError { issues })
    }
}

/// Validates `files` without keeping the snapshot; returns every issue.
pub fn validate(files: &[SourceFile<'_>]) -> Vec<Issue> {
    load(files, CompileOptions::default())
        .err()
        .map(|e| e.issues)
        .unwrap_or_default()
}

/// Whether Flipt parses a file with this path as YAML (else as JSON).
pub fn is_yaml_path(path: &str) -> bool {
    path.ends_with(".yml") || path.ends_with(".yaml")
}

// ---------------------------------------------------------------------------
// Parsing into raw, located records.

#[derive(Debug, Clone)]
struct Loc {
    file: String,
    document: usize,
    path: String,
}

impl Loc {
    fn issue(&self, message: impl Into<String>) -> Issue {
        Issue {
            file: self.file.clone(),
            document: self.document,
            path: self.path.clone(),
            message: message.into(),
        }
    }
}

#[derive(Debug)]
struct RawNamespace {
    key: String,
    name: String,
    description: String,
    flags: Vec<RawFlag>,
    segments: Vec<(Segment, Loc)>,
}

#[derive(Debug)]
struct RawFlag {
    flag: Flag,
    rules: Vec<RawRule>,
    rollouts: Vec<RawRollout>,
    loc: Loc,
}

#[derive(Debug)]
struct RawRule {
    segments: Vec<String>,
    operator: SegmentOperator,
    distributions: Vec<(String, f32, Loc)>,
    loc: Loc,
}

#[derive(Debug)]
struct RawRollout {
    description: String,
    kind: RawRolloutKind,
    loc: Loc,
}

#[derive(Debug)]
enum RawRolloutKind {
    Threshold(f32, bool),
    Segment(Vec<String>, SegmentOperator, bool),
}

/// Walks one document, collecting issues with precise paths.
struct Walker<'a> {
    file: &'a str,
    document: usize,
    version: Version,
    issues: &'a mut Vec<Issue>,
}

type Obj = Node;

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn kind_of(v: &Node) -> &'static str {
    v.kind()
}

fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b',')
}

impl Walker<'_> {
    fn loc(&self, path: &str) -> Loc {
        Loc {
            file: self.file.to_owned(),
            document: self.document,
            path: path.to_owned(),
        }
    }

    fn err(&mut self, path: &str, message: impl Into<String>) {
        let issue = self.loc(path).issue(message);
        self.issues.push(issue);
    }

    fn require_version(&mut self, path: &str, field: &str, min: Version) {
        if self.version < min {
            let msg = format!(
                "{field} is supported in version >={min}, found {}",
                self.version
            );
            self.err(path, msg);
        }
    }

    fn object<'v>(&mut self, v: &'v Node, path: &str, known: &[&str]) -> Option<&'v Obj> {
        match v {
            Node::Map(entries) => {
                for (key, _) in entries {
                    if !known.contains(&key.as_str()) {
                        self.err(&join(path, key), format!("unknown field {key:?}"));
                    }
                }
                Some(v)
            }
            other => {
                self.err(
                    path,
                    format!("expected a mapping, found {}", kind_of(other)),
                );
                None
            }
        }
    }

    fn list<'v>(&mut self, obj: &'v Obj, field: &str, path: &str) -> &'v [Node] {
        match obj.get(field) {
            None | Some(Node::Null) => &[],
            Some(Node::Seq(items)) => items,
            Some(other) => {
                let msg = format!("expected a list, found {}", kind_of(other));
                self.err(&join(path, field), msg);
                &[]
            }
        }
    }

    /// A string field; scalars are accepted in their text form (as Go's YAML
    /// decoder does for string fields).
    fn string(&mut self, obj: &Obj, field: &str, path: &str) -> Option<String> {
        match obj.get(field) {
            None | Some(Node::Null) => None,
            Some(n @ (Node::Str { .. } | Node::Number { .. } | Node::Bool { .. })) => {
                n.scalar_text().map(str::to_owned)
            }
            Some(other) => {
                let msg = format!("expected a string, found {}", kind_of(other));
                self.err(&join(path, field), msg);
                None
            }
        }
    }

    fn required_string(&mut self, obj: &Obj, field: &str, path: &str) -> String {
        match self.string(obj, field, path) {
            Some(s) if !s.is_empty() => s,
            _ => {
                self.err(&join(path, field), format!("{field} is required"));
                String::new()
            }
        }
    }

    fn key(&mut self, obj: &Obj, path: &str) -> String {
        let key = self.required_string(obj, "key", path);
        if !key.is_empty() && !is_valid_key(&key) {
            let msg =
                format!("key {key:?} contains invalid characters (allowed: A-Z a-z 0-9 - _ ,)");
            self.err(&join(path, "key"), msg);
        }
        key
    }

    fn boolean(&mut self, obj: &Obj, field: &str, path: &str) -> bool {
        match obj.get(field) {
            None | Some(Node::Null) => false,
            Some(n) if n.as_bool().is_some() => n.as_bool().unwrap_or_default(),
            Some(other) => {
                let msg = format!("expected true or false, found {}", kind_of(other));
                self.err(&join(path, field), msg);
                false
            }
        }
    }

    fn percentage(&mut self, obj: &Obj, field: &str, path: &str) -> f32 {
        let p = join(path, field);
        match obj.get(field) {
            None | Some(Node::Null) => {
                self.err(&p, format!("{field} is required"));
                0.0
            }
            Some(Node::Number { value, text, .. }) => {
                if !(0.0..=100.0).contains(value) {
                    self.err(
                        &p,
                        format!("{field} must be within range [0, 100], found {text}"),
                    );
                }
                *value as f32
            }
            Some(other) => {
                let msg = format!("expected a number, found {}", kind_of(other));
                self.err(&p, msg);
                0.0
            }
        }
    }

    fn document(&mut self, doc: &Node, namespaces: &mut Vec<RawNamespace>) {
        let Some(obj) = self.object(doc, "", &["version", "namespace", "flags", "segments"]) else {
            return;
        };
        let version = match obj.get("version") {
            None | Some(Node::Null) => Some(LATEST_VERSION),
            Some(n) => n.scalar_text().and_then(parse_version),
        };
        let version = match version {
            Some(v) if (Version(1, 0)..=LATEST_VERSION).contains(&v) => v,
            _ => {
                let shown = obj
                    .get("version")
                    .and_then(Node::scalar_text)
                    .unwrap_or_default()
                    .to_owned();
                self.err("version", format!("unsupported version: {shown}"));
                return;
            }
        };
        self.version = version;

        let (ns_key, ns_name, ns_desc) = match obj.get("namespace") {
            None | Some(Node::Null) => ("default".to_owned(), None, String::new()),
            Some(v @ Node::Map(_)) => {
                let Some(ns) = self.object(v, "namespace", &["key", "name", "description"]) else {
                    return;
                };
                let key = self.key(ns, "namespace");
                let name = self.string(ns, "name", "namespace");
                let desc = self
                    .string(ns, "description", "namespace")
                    .unwrap_or_default();
                (key, name, desc)
            }
            Some(_) => match self.string(obj, "namespace", "") {
                Some(key) if is_valid_key(&key) => (key, None, String::new()),
                Some(key) => {
                    let msg = format!("namespace {key:?} contains invalid characters");
                    self.err("namespace", msg);
                    return;
                }
                None => return,
            },
        };
        let ns_key = if ns_key.is_empty() {
            "default".to_owned()
        } else {
            ns_key
        };
        let idx = match namespaces.iter().position(|n| n.key == ns_key) {
            Some(i) => i,
            None => {
                let name = match ns_key.as_str() {
                    "default" => "Default".to_owned(),
                    k => k.to_owned(),
                };
                namespaces.push(RawNamespace {
                    key: ns_key.clone(),
                    name,
                    description: String::new(),
                    flags: Vec::new(),
                    segments: Vec::new(),
                });
                namespaces.len() - 1
            }
        };
        if let Some(name) = ns_name.filter(|n| !n.is_empty()) {
            namespaces[idx].name = name;
        }
        if !ns_desc.is_empty() {
            namespaces[idx].description = ns_desc;
        }

        for (i, f) in self.list(obj, "flags", "").iter().enumerate() {
            if let Some(flag) = self.flag(f, &format!("flags[{i}]")) {
                namespaces[idx].flags.push(flag);
            }
        }
        for (i, s) in self.list(obj, "segments", "").iter().enumerate() {
            let path = format!("segments[{i}]");
            if let Some(seg) = self.segment(s, &path) {
                let loc = self.loc(&path);
                namespaces[idx].segments.push((seg, loc));
            }
        }
    }

    fn flag(&mut self, v: &Node, path: &str) -> Option<RawFlag> {
        const KNOWN: &[&str] = &[
            "key",
            "name",
            "description",
            "type",
            "enabled",
            "metadata",
            "variants",
            "rules",
            "rollouts",
        ];
        let obj = self.object(v, path, KNOWN)?;
        let key = self.key(obj, path);
        let name = self.required_string(obj, "name", path);
        let description = self.string(obj, "description", path).unwrap_or_default();
        let enabled = self.boolean(obj, "enabled", path);
        let flag_type = match obj.get("type") {
            None | Some(Node::Null) => FlagType::Variant,
            Some(_) => {
                self.require_version(&join(path, "type"), "flag.type", Version(1, 1));
                match self.string(obj, "type", path).as_deref() {
                    Some("VARIANT_FLAG_TYPE") | Some("") => FlagType::Variant,
                    Some("BOOLEAN_FLAG_TYPE") => FlagType::Boolean,
                    other => {
                        let msg = format!(
                            "type must be VARIANT_FLAG_TYPE or BOOLEAN_FLAG_TYPE, found {:?}",
                            other.unwrap_or_default()
                        );
                        self.err(&join(path, "type"), msg);
                        FlagType::Variant
                    }
                }
            }
        };
        let metadata = match obj.get("metadata") {
            None | Some(Node::Null) => None,
            Some(m @ Node::Map(_)) => {
                self.require_version(&join(path, "metadata"), "flag.metadata", Version(1, 3));
                match m.to_json() {
                    Some(Value::Object(map)) => Some(map),
                    _ => {
                        self.err(
                            &join(path, "metadata"),
                            "metadata cannot hold NaN or infinite numbers",
                        );
                        None
                    }
                }
            }
            Some(other) => {
                let msg = format!("expected a mapping, found {}", kind_of(other));
                self.err(&join(path, "metadata"), msg);
                None
            }
        };

        let mut variants: Vec<Variant> = Vec::new();
        let mut default_variant = None;
        for (i, v) in self.list(obj, "variants", path).iter().enumerate() {
            let vpath = format!("{path}.variants[{i}]");
            let Some(vo) = self.object(
                v,
                &vpath,
                &["key", "name", "description", "attachment", "default"],
            ) else {
                continue;
            };
            let vkey = self.required_string(vo, "key", &vpath);
            if variants.iter().any(|x| x.key == vkey) && !vkey.is_empty() {
                self.err(
                    &join(&vpath, "key"),
                    format!("variant {vkey:?} is defined more than once"),
                );
            }
            if self.boolean(vo, "default", &vpath) {
                self.require_version(&join(&vpath, "default"), "variant.default", Version(1, 3));
                // As in Flipt, the last variant marked default wins.
                default_variant = Some(variants.len());
            }
            let (attachment, attachment_value) = match vo.get("attachment") {
                None | Some(Node::Null) => ("null".to_owned(), None),
                Some(a @ (Node::Map(_) | Node::Seq(_))) => match a.to_json() {
                    Some(json) => (gojson::marshal(&json), Some(json)),
                    None => {
                        self.err(
                            &join(&vpath, "attachment"),
                            "attachment cannot hold NaN or infinite numbers",
                        );
                        (String::new(), None)
                    }
                },
                Some(other) => {
                    let msg = format!(
                        "attachment must be a mapping or a list, found {}",
                        kind_of(other)
                    );
                    self.err(&join(&vpath, "attachment"), msg);
                    (String::new(), None)
                }
            };
            variants.push(Variant {
                key: vkey,
                name: self.string(vo, "name", &vpath).unwrap_or_default(),
                description: self.string(vo, "description", &vpath).unwrap_or_default(),
                attachment,
                attachment_value,
            });
        }

        let mut rules = Vec::new();
        for (i, r) in self.list(obj, "rules", path).iter().enumerate() {
            let rpath = format!("{path}.rules[{i}]");
            if let Some(rule) = self.rule(r, &rpath) {
                rules.push(rule);
            }
        }
        let rollout_values = self.list(obj, "rollouts", path);
        if !rollout_values.is_empty() {
            self.require_version(&join(path, "rollouts"), "flag.rollouts", Version(1, 1));
        }
        let mut rollouts = Vec::new();
        for (i, r) in rollout_values.iter().enumerate() {
            let rpath = format!("{path}.rollouts[{i}]");
            if let Some(rollout) = self.rollout(r, &rpath) {
                rollouts.push(rollout);
            }
        }
        match flag_type {
            FlagType::Boolean if !variants.is_empty() => self.err(
                &join(path, "variants"),
                "a boolean flag cannot have variants",
            ),
            FlagType::Boolean if !rules.is_empty() => self.err(
                &join(path, "rules"),
                "a boolean flag cannot have rules (use rollouts)",
            ),
            FlagType::Variant if !rollouts.is_empty() => self.err(
                &join(path, "rollouts"),
                "a variant flag cannot have rollouts (set type: BOOLEAN_FLAG_TYPE or use rules)",
            ),
            _ => {}
        }
        Some(RawFlag {
            flag: Flag {
                key,
                name,
                description,
                enabled,
                flag_type,
                metadata,
                variants,
                default_variant,
                rules: Vec::new(),
                rollouts: Vec::new(),
            },
            rules,
            rollouts,
            loc: self.loc(path),
        })
    }

    /// The segment reference of a rule, in every form Flipt accepts.
    fn rule(&mut self, v: &Node, path: &str) -> Option<RawRule> {
        let obj = self.object(
            v,
            path,
            &["segment", "segments", "operator", "rank", "distributions"],
        )?;
        let spath = join(path, "segment");
        let (mut segments, mut operator) = (Vec::new(), SegmentOperator::Or);
        match obj.get("segment") {
            None | Some(Node::Null) => {}
            Some(n @ (Node::Str { .. } | Node::Number { .. } | Node::Bool { .. })) => {
                segments.extend(n.scalar_text().map(str::to_owned));
            }
            Some(Node::Seq(items)) => {
                self.require_version(&spath, "flag.rules[*].segment (list form)", Version(1, 5));
                segments = self.key_list(items, &spath);
            }
            Some(seg @ Node::Map(_)) => {
                let so = self.object(seg, &spath, &["key", "keys", "operator"])?;
                match (so.get("key"), so.get("keys")) {
                    (Some(_), Some(_)) => self.err(&spath, "segment cannot have both key and keys"),
                    (Some(_), None) => segments.extend(self.string(so, "key", &spath)),
                    (None, Some(Node::Seq(items))) => {
                        self.require_version(
                            &join(&spath, "keys"),
                            "flag.rules[*].segment.keys",
                            Version(1, 2),
                        );
                        segments = self.key_list(items, &join(&spath, "keys"));
                    }
                    (None, Some(other)) => {
                        let msg = format!("expected a list, found {}", kind_of(other));
                        self.err(&join(&spath, "keys"), msg);
                    }
                    (None, None) => {}
                }
                operator = self.segment_operator(so, &spath);
            }
        }
        // Flipt 1.2's rule-level `segments: [..]` and `operator:` form.
        if let Some(Node::Seq(items)) = obj.get("segments") {
            self.require_version(
                &join(path, "segments"),
                "flag.rules[*].segments",
                Version(1, 2),
            );
            if !segments.is_empty() {
                self.err(path, "rule cannot have both segment and segments");
            }
            segments = self.key_list(items, &join(path, "segments"));
        }
        if obj.get("operator").is_some() {
            operator = self.segment_operator(obj, path);
        }
        if segments.is_empty() {
            self.err(&spath, "rule must reference at least one segment");
        }
        let mut distributions = Vec::new();
        for (i, d) in self.list(obj, "distributions", path).iter().enumerate() {
            let dpath = format!("{path}.distributions[{i}]");
            let Some(dobj) = self.object(d, &dpath, &["variant", "rollout"]) else {
                continue;
            };
            let variant = self.required_string(dobj, "variant", &dpath);
            let rollout = self.percentage(dobj, "rollout", &dpath);
            distributions.push((variant, rollout, self.loc(&dpath)));
        }
        Some(RawRule {
            segments,
            operator,
            distributions,
            loc: self.loc(path),
        })
    }

    /// Segment keys of a list; repeats are dropped (Flipt keeps a rule's segments
    /// in a map, so `[a, a]` is `[a]`).
    fn key_list(&mut self, items: &[Node], path: &str) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.scalar_text() {
                Some(s) if keys.iter().any(|k| k == s) => {}
                Some(s) if !s.is_empty() => keys.push(s.to_owned()),
                _ => {
                    let msg = format!("expected a segment key, found {}", kind_of(item));
                    self.err(&format!("{path}[{i}]"), msg);
                }
            }
        }
        keys
    }

    fn segment_operator(&mut self, obj: &Obj, path: &str) -> SegmentOperator {
        match self.string(obj, "operator", path).as_deref() {
            None | Some("") | Some("OR_SEGMENT_OPERATOR") => SegmentOperator::Or,
            Some("AND_SEGMENT_OPERATOR") => SegmentOperator::And,
            Some(other) => {
                let msg = format!(
                    "operator must be OR_SEGMENT_OPERATOR or AND_SEGMENT_OPERATOR, found {other:?}"
                );
                self.err(&join(path, "operator"), msg);
                SegmentOperator::Or
            }
        }
    }

    fn rollout(&mut self, v: &Node, path: &str) -> Option<RawRollout> {
        let obj = self.object(v, path, &["description", "segment", "threshold"])?;
        let description = self.string(obj, "description", path).unwrap_or_default();
        let kind = match (obj.get("segment"), obj.get("threshold")) {
            (Some(_), Some(_)) => {
                self.err(path, "rollout cannot have both segment and threshold");
                return None;
            }
            (Some(seg), None) => {
                let spath = join(path, "segment");
                let so = self.object(seg, &spath, &["key", "keys", "operator", "value"])?;
                let mut keys = Vec::new();
                match (so.get("key"), so.get("keys")) {
                    (Some(_), Some(_)) => self.err(&spath, "segment cannot have both key and keys"),
                    (Some(_), None) => keys.extend(self.string(so, "key", &spath)),
                    (None, Some(Node::Seq(items))) => {
                        self.require_version(
                            &join(&spath, "keys"),
                            "flag.rollouts[*].segment.keys",
                            Version(1, 2),
                        );
                        keys = self.key_list(items, &join(&spath, "keys"));
                    }
                    (None, Some(other)) => {
                        let msg = format!("expected a list, found {}", kind_of(other));
                        self.err(&join(&spath, "keys"), msg);
                    }
                    (None, None) => {}
                }
                if keys.is_empty() {
                    self.err(
                        &spath,
                        "segment rollout must reference at least one segment",
                    );
                }
                let op = self.segment_operator(so, &spath);
                let value = self.boolean(so, "value", &spath);
                RawRolloutKind::Segment(keys, op, value)
            }
            (None, Some(t)) => {
                let tpath = join(path, "threshold");
                let to = self.object(t, &tpath, &["percentage", "value"])?;
                let pct = self.percentage(to, "percentage", &tpath);
                let value = self.boolean(to, "value", &tpath);
                RawRolloutKind::Threshold(pct, value)
            }
            (None, None) => {
                self.err(path, "rollout needs a segment or a threshold");
                return None;
            }
        };
        Some(RawRollout {
            description,
            kind,
            loc: self.loc(path),
        })
    }

    fn segment(&mut self, v: &Node, path: &str) -> Option<Segment> {
        let obj = self.object(
            v,
            path,
            &["key", "name", "description", "match_type", "constraints"],
        )?;
        let key = self.key(obj, path);
        let name = self.required_string(obj, "name", path);
        let description = self.string(obj, "description", path).unwrap_or_default();
        let match_type = match self.string(obj, "match_type", path).as_deref() {
            None | Some("") | Some("ALL_MATCH_TYPE") => MatchType::All,
            Some("ANY_MATCH_TYPE") => MatchType::Any,
            Some(other) => {
                let msg =
                    format!("match_type must be ALL_MATCH_TYPE or ANY_MATCH_TYPE, found {other:?}");
                self.err(&join(path, "match_type"), msg);
                MatchType::All
            }
        };
        let mut constraints = Vec::new();
        for (i, c) in self.list(obj, "constraints", path).iter().enumerate() {
            if let Some(c) = self.constraint(c, &format!("{path}.constraints[{i}]")) {
                constraints.push(c);
            }
        }
        Some(Segment {
            key,
            name,
            description,
            match_type,
            constraints,
        })
    }

    fn constraint(&mut self, v: &Node, path: &str) -> Option<Constraint> {
        let obj = self.object(
            v,
            path,
            &["type", "property", "operator", "value", "description"],
        )?;
        let type_name = self.required_string(obj, "type", path);
        let Some(comparison) = ComparisonType::from_name(&type_name) else {
            if !type_name.is_empty() {
                let msg = format!(
                    "unknown comparison type {type_name:?} (expected one of STRING_COMPARISON_TYPE, NUMBER_COMPARISON_TYPE, BOOLEAN_COMPARISON_TYPE, DATETIME_COMPARISON_TYPE, ENTITY_ID_COMPARISON_TYPE)"
                );
                self.err(&join(path, "type"), msg);
            }
            return None;
        };
        let property = self.required_string(obj, "property", path);
        let op_name = self.required_string(obj, "operator", path);
        let operator = match Operator::from_name(&op_name) {
            Some(op) if comparison.allowed_operators().contains(&op) => op,
            _ if op_name.is_empty() => return None,
            _ => {
                let allowed: Vec<&str> = comparison
                    .allowed_operators()
                    .iter()
                    .map(|o| o.as_str())
                    .collect();
                let msg = format!(
                    "operator {op_name:?} is not valid for {} (allowed: {})",
                    comparison.as_str(),
                    allowed.join(", ")
                );
                self.err(&join(path, "operator"), msg);
                return None;
            }
        };
        let description = self.string(obj, "description", path).unwrap_or_default();
        let vpath = join(path, "value");
        if operator.takes_no_value() {
            return Some(Constraint {
                comparison,
                property,
                operator,
                value: String::new(),
                description,
                parsed: ParsedValue::Text,
            });
        }
        let list_op = matches!(operator, Operator::IsOneOf | Operator::IsNotOneOf);
        let raw = match obj.get("value") {
            Some(list @ Node::Seq(_)) if list_op => {
                self.require_version(
                    &vpath,
                    "segment.constraints[*].value (list form)",
                    Version(1, 6),
                );
                list.to_json().map(|v| v.to_string()).unwrap_or_default()
            }
            _ => self.string(obj, "value", path).unwrap_or_default(),
        };
        if raw.is_empty() {
            self.err(
                &vpath,
                format!("value is required for operator {}", operator.as_str()),
            );
            return None;
        }
        let parsed = match (comparison, operator) {
            (ComparisonType::Number, Operator::IsOneOf | Operator::IsNotOneOf) => {
                match serde_json::from_str::<Vec<f64>>(&raw) {
                    Ok(list) if list.len() > MAX_LIST_ITEMS => {
                        self.err(
                            &vpath,
                            format!("too many items in list (maximum {MAX_LIST_ITEMS})"),
                        );
                        return None;
                    }
                    Ok(list) => ParsedValue::Numbers(list),
                    Err(_) => {
                        self.err(
                            &vpath,
                            format!("value {raw:?} must be a JSON array of numbers"),
                        );
                        return None;
                    }
                }
            }
            (_, Operator::IsOneOf | Operator::IsNotOneOf) => {
                match serde_json::from_str::<Vec<String>>(&raw) {
                    Ok(list) if list.len() > MAX_LIST_ITEMS => {
                        self.err(
                            &vpath,
                            format!("too many items in list (maximum {MAX_LIST_ITEMS})"),
                        );
                        return None;
                    }
                    Ok(list) => ParsedValue::Strings(list),
                    Err(_) => {
                        self.err(
                            &vpath,
                            format!("value {raw:?} must be a JSON array of strings"),
                        );
                        return None;
                    }
                }
            }
            (ComparisonType::Number, _) => match parse_float(&raw) {
                Some(n) => ParsedValue::Number(n),
                None => {
                    self.err(&vpath, format!("value {raw:?} is not a number"));
                    return None;
                }
            },
            (ComparisonType::DateTime, _) => match parse_datetime(&raw) {
                Some(t) => ParsedValue::DateTime(t),
                None => {
                    self.err(
                        &vpath,
                        format!("value {raw:?} is not a datetime (RFC 3339 or YYYY-MM-DD)"),
                    );
                    return None;
                }
            },
            _ => ParsedValue::Text,
        };
        Some(Constraint {
            comparison,
            property,
            operator,
            value: raw,
            description,
            parsed,
        })
    }
}

fn parse_version(s: &str) -> Option<Version> {
    let s = s.trim().trim_start_matches('v');
    let mut parts = s.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    match parts.next() {
        None | Some("0") => Some(Version(major, minor)),
        Some(_) => None,
    }
}

fn parse_file(file: &SourceFile<'_>, namespaces: &mut Vec<RawNamespace>, issues: &mut Vec<Issue>) {
    let file_issue = |message: String| Issue {
        file: file.path.to_owned(),
        document: 0,
        path: String::new(),
        message,
    };
    let name = file.path.rsplit('/').next().unwrap_or(file.path);
    if let Some((_, ext)) = name.rsplit_once('.')
        && !matches!(ext, "yml" | "yaml" | "json")
    {
        issues.push(file_issue(format!("unexpected extension: \".{ext}\"")));
        return;
    }
    let docs: Vec<Node> = if is_yaml_path(file.path) {
        let Ok(text) = std::str::from_utf8(file.contents) else {
            issues.push(file_issue("file is not valid UTF-8".to_owned()));
            return;
        };
        match node::parse_yaml(text) {
            Ok(docs) => docs,
            Err(e) => {
                issues.push(file_issue(format!("invalid YAML: {e}")));
                return;
            }
        }
    } else {
        let mut docs = Vec::new();
        for doc in serde_json::Deserializer::from_slice(file.contents).into_iter::<Value>() {
            match doc {
                Ok(d) => docs.push(node::from_json(d)),
                Err(e) => {
                    issues.push(file_issue(format!("invalid JSON: {e}")));
                    return;
                }
            }
        }
        docs
    };
    for (i, doc) in docs.iter().enumerate() {
        if *doc == Node::Null {
            continue;
        }
        let mut w = Walker {
            file: file.path,
            document: i + 1,
            version: LATEST_VERSION,
            issues,
        };
        w.document(doc, namespaces);
    }
}

// ---------------------------------------------------------------------------
// Compilation: resolve references, index, precompute buckets.

/// Bucket boundaries for `rollouts` (each > 0), per spec §2.5.
pub fn boundaries(rollouts: &[f32], bucketing: Bucketing) -> Vec<u32> {
    match bucketing {
        Bucketing::Legacy => {
            let mut acc = 0u32;
            rollouts
                .iter()
                .map(|r| {
                    acc += (r * 10.0f32) as u32;
                    acc
                })
                .collect()
        }
        Bucketing::Normalized => {
            let total: f32 = rollouts.iter().fold(0.0f32, |a, r| a + r);
            let mut cum = 0.0f32;
            let last = rollouts.len().saturating_sub(1);
            rollouts
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    cum += (r / total) * 100.0f32;
                    if i == last {
                        1000
                    } else {
                        (cum * 10.0f32) as u32
                    }
                })
                .collect()
        }
    }
}

fn compile(raw: Vec<RawNamespace>, opts: CompileOptions, issues: &mut Vec<Issue>) -> Snapshot {
    let mut snapshot = Snapshot::empty(opts.bucketing);
    for rns in raw {
        let mut ns = Namespace::new(&rns.key, &rns.name, &rns.description);
        let mut seg_locs: HashMap<String, Loc> = HashMap::new();
        for (seg, loc) in rns.segments {
            if let Some(first) = seg_locs.get(&seg.key) {
                issues.push(loc.issue(format!(
                    "segment \"{}/{}\" is defined more than once (first in {} document {})",
                    rns.key, seg.key, first.file, first.document
                )));
                continue;
            }
            seg_locs.insert(seg.key.clone(), loc);
            ns.segment_index.insert(seg.key.clone(), ns.segments.len());
            ns.segments.push(seg);
        }
        let mut flag_locs: HashMap<String, Loc> = HashMap::new();
        for rf in rns.flags {
            let mut flag = rf.flag;
            if let Some(first) = flag_locs.get(&flag.key) {
                issues.push(rf.loc.issue(format!(
                    "flag \"{}/{}\" is defined more than once (first in {} document {})",
                    rns.key, flag.key, first.file, first.document
                )));
                continue;
            }
            let resolve = |keys: &[String], loc: &Loc, what: &str, issues: &mut Vec<Issue>| {
                let mut refs = Vec::new();
                for k in keys {
                    match ns.segment_index.get(k) {
                        Some(&i) => refs.push(SegmentRef(i)),
                        None => issues.push(loc.issue(format!(
                            "flag {}/{} {what} references unknown segment {k:?}",
                            rns.key, flag.key
                        ))),
                    }
                }
                refs
            };
            for (i, rr) in rf.rules.iter().enumerate() {
                let rank = (i + 1) as u32;
                let segments = resolve(&rr.segments, &rr.loc, &format!("rule {rank}"), issues);
                let mut distributions = Vec::new();
                for (vkey, rollout, loc) in &rr.distributions {
                    match flag.variants.iter().position(|v| &v.key == vkey) {
                        Some(variant) => distributions.push(Distribution {
                            variant,
                            rollout: *rollout,
                        }),
                        None => issues.push(loc.issue(format!(
                            "flag {}/{} rule {rank} references unknown variant {vkey:?}",
                            rns.key, flag.key
                        ))),
                    }
                }
                let valid: Vec<usize> = (0..distributions.len())
                    .filter(|&d| distributions[d].rollout > 0.0)
                    .collect();
                let rollouts: Vec<f32> = valid.iter().map(|&d| distributions[d].rollout).collect();
                flag.rules.push(Rule {
                    rank,
                    segments,
                    segment_operator: rr.operator,
                    distributions,
                    boundaries: boundaries(&rollouts, opts.bucketing),
                    valid,
                });
            }
            for (i, ro) in rf.rollouts.iter().enumerate() {
                let rank = (i + 1) as u32;
                let kind = match &ro.kind {
                    RawRolloutKind::Threshold(percentage, value) => RolloutKind::Threshold {
                        percentage: *percentage,
                        value: *value,
                    },
                    RawRolloutKind::Segment(keys, operator, value) => RolloutKind::Segment {
                        segments: resolve(keys, &ro.loc, &format!("rollout {rank}"), issues),
                        operator: *operator,
                        value: *value,
                    },
                };
                flag.rollouts.push(Rollout {
                    rank,
                    description: ro.description.clone(),
                    kind,
                });
            }
            flag_locs.insert(flag.key.clone(), rf.loc);
            ns.flag_index.insert(flag.key.clone(), ns.flags.len());
            ns.flags.push(flag);
        }
        // `default` exists in every snapshot; a declared one replaces it.
        match snapshot.index.get(&ns.key) {
            Some(&i) => snapshot.namespaces[i] = ns,
            None => {
                snapshot.push_namespace(ns);
            }
        }
    }
    snapshot
}
