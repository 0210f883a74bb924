use guidon_core::{
    Bucketing, CompileOptions, EvalError, EvalRequest, Issue, LoadError, Reason, Snapshot,
    SourceFile, load,
};

/// Loads `yaml` as the file `features.yml` with the default (normalised) bucketing.
pub(crate) fn snapshot(yaml: &str) -> Snapshot {
    snapshot_with(yaml, Bucketing::default())
}

/// Loads `yaml` as the file `features.yml` with the given bucketing; panics on issues.
pub(crate) fn snapshot_with(yaml: &str, bucketing: Bucketing) -> Snapshot {
    match load_files(&[("features.yml", yaml)], bucketing) {
        Ok(s) => s,
        Err(e) => panic!("load failed: {:#?}", e.issues),
    }
}

/// Loads several `(path, contents)` files in order.
pub(crate) fn load_files(
    files: &[(&str, &str)],
    bucketing: Bucketing,
) -> Result<Snapshot, LoadError> {
    let sources: Vec<SourceFile<'_>> = files
        .iter()
        .map(|(path, contents)| SourceFile {
            path,
            contents: contents.as_bytes(),
        })
        .collect();
    load(&sources, CompileOptions { bucketing })
}

/// Loads `yaml` as `features.yml`, expecting it to fail; returns the issues.
pub(crate) fn load_issues(yaml: &str) -> Vec<Issue> {
    match load_files(&[("features.yml", yaml)], Bucketing::default()) {
        Ok(_) => panic!("expected the load to fail:\n{yaml}"),
        Err(e) => {
            assert!(!e.issues.is_empty(), "a LoadError must carry issues");
            e.issues
        }
    }
}

/// An issue in `features.yml`, document 1.
pub(crate) fn issue(path: &str, message: &str) -> Issue {
    issue_at("features.yml", 1, path, message)
}

/// An issue with every field given.
pub(crate) fn issue_at(file: &str, document: usize, path: &str, message: &str) -> Issue {
    Issue {
        file: file.to_owned(),
        document,
        path: path.to_owned(),
        message: message.to_owned(),
    }
}

/// An owned summary of a variant evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct V {
    pub(crate) matched: bool,
    pub(crate) reason: Reason,
    pub(crate) variant: String,
    pub(crate) segments: Vec<String>,
}

/// Builds an expected [`V`].
pub(crate) fn v(matched: bool, reason: Reason, variant: &str, segments: &[&str]) -> V {
    V {
        matched,
        reason,
        variant: variant.to_owned(),
        segments: segments.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// An owned summary of a boolean evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct B {
    pub(crate) enabled: bool,
    pub(crate) reason: Reason,
    pub(crate) segments: Vec<String>,
}

/// Builds an expected [`B`].
pub(crate) fn b(enabled: bool, reason: Reason, segments: &[&str]) -> B {
    B {
        enabled,
        reason,
        segments: segments.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// Evaluates variant flag `flag` in namespace `ns`.
pub(crate) fn variant_in(
    s: &Snapshot,
    ns: &str,
    flag: &str,
    entity: &str,
    ctx: &[(&str, &str)],
) -> Result<V, EvalError> {
    let req = EvalRequest {
        namespace: ns,
        flag,
        entity_id: entity,
        context: ctx,
    };
    s.variant(&req).map(|r| V {
        matched: r.matched,
        reason: r.reason,
        variant: r.variant_key.to_owned(),
        segments: r.segment_keys.to_vec(),
    })
}

/// Evaluates variant flag `flag` in the default namespace; panics on error.
pub(crate) fn variant(s: &Snapshot, flag: &str, entity: &str, ctx: &[(&str, &str)]) -> V {
    variant_in(s, "default", flag, entity, ctx).expect("variant evaluation failed")
}

/// The variant attachment returned for `flag` / `entity` (default namespace, no context).
pub(crate) fn attachment(s: &Snapshot, flag: &str, entity: &str) -> String {
    let ctx: [(&str, &str); 0] = [];
    let req = EvalRequest {
        namespace: "",
        flag,
        entity_id: entity,
        context: &ctx,
    };
    s.variant(&req)
        .expect("variant evaluation failed")
        .variant_attachment
        .to_owned()
}

/// Evaluates boolean flag `flag` in namespace `ns`.
pub(crate) fn boolean_in(
    s: &Snapshot,
    ns: &str,
    flag: &str,
    entity: &str,
    ctx: &[(&str, &str)],
) -> Result<B, EvalError> {
    let req = EvalRequest {
        namespace: ns,
        flag,
        entity_id: entity,
        context: ctx,
    };
    s.boolean(&req).map(|r| B {
        enabled: r.enabled,
        reason: r.reason,
        segments: r.segment_keys.to_vec(),
    })
}

/// Evaluates boolean flag `flag` in the default namespace; panics on error.
pub(crate) fn boolean(s: &Snapshot, flag: &str, entity: &str, ctx: &[(&str, &str)]) -> B {
    boolean_in(s, "default", flag, entity, ctx).expect("boolean evaluation failed")
}

/// The compiled bucket boundaries of rule `rule` (0-based) of `flag` in the default namespace.
pub(crate) fn rule_boundaries(s: &Snapshot, flag: &str, rule: usize) -> Vec<u32> {
    let ns = s.namespace("default").expect("default namespace");
    let f = ns.flag(flag).expect("flag exists");
    f.rules[rule].boundaries().to_vec()
}
