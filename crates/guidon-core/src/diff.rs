//! What changed between two snapshots: flags and segments added, removed or
//! modified, named `namespace/key`.
//!
//! A flag counts as modified when any of its own fields changed or when a segment
//! it references changed (so the log line on a swap says which flags may now
//! answer differently). Segment references are compared by key, not by position,
//! so reordering segments in a file is not a change.

use serde::Serialize;

use crate::model::{Flag, Namespace, RolloutKind, SegmentRef, Snapshot};

/// Keys (`namespace/key`) that changed between two snapshots, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Flags only in the new snapshot.
    pub added: Vec<String>,
    /// Flags only in the old snapshot.
    pub removed: Vec<String>,
    /// Flags in both whose definition or referenced segments differ.
    pub modified: Vec<String>,
    /// Segments added, removed or modified.
    pub segments: Vec<String>,
}

impl Changes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.modified.is_empty()
            && self.segments.is_empty()
    }
}

fn segment_keys<'a>(ns: &'a Namespace, refs: &[SegmentRef]) -> Vec<&'a crate::model::Segment> {
    refs.iter().map(|r| ns.segment_at(*r)).collect()
}

/// Whether two flags evaluate identically, resolving segment references.
fn same_flag(old_ns: &Namespace, old: &Flag, new_ns: &Namespace, new: &Flag) -> bool {
    let same_own = old.key == new.key
        && old.name == new.name
        && old.description == new.description
        && old.enabled == new.enabled
        && old.flag_type == new.flag_type
        && old.metadata == new.metadata
        && old.variants == new.variants
        && old.default_variant == new.default_variant
        && old.rules.len() == new.rules.len()
        && old.rollouts.len() == new.rollouts.len();
    if !same_own {
        return false;
    }
    let rules_same = old.rules.iter().zip(&new.rules).all(|(a, b)| {
        a.segment_operator == b.segment_operator
            && a.distributions == b.distributions
            && a.boundaries == b.boundaries
            && segment_keys(old_ns, &a.segments) == segment_keys(new_ns, &b.segments)
    });
    let rollouts_same = old.rollouts.iter().zip(&new.rollouts).all(|(a, b)| {
        a.description == b.description
            && match (&a.kind, &b.kind) {
                (
                    RolloutKind::Segment {
                        segments: sa,
                        operator: oa,
                        value: va,
                    },
                    RolloutKind::Segment {
                        segments: sb,
                        operator: ob,
                        value: vb,
                    },
                ) => oa == ob && va == vb && segment_keys(old_ns, sa) == segment_keys(new_ns, sb),
                (ka, kb) => ka == kb,
            }
    });
    rules_same && rollouts_same
}

/// Computes the changes from `old` to `new`.
pub fn changes(old: &Snapshot, new: &Snapshot) -> Changes {
    let mut out = Changes::default();
    let empty = Namespace::new("", "", "");
    for new_ns in new.namespaces() {
        let old_ns = old.namespace(&new_ns.key).unwrap_or(&empty);
        for flag in new_ns.flags() {
            let id = format!("{}/{}", new_ns.key, flag.key);
            match old_ns.flag(&flag.key) {
                None => out.added.push(id),
                Some(prev) if !same_flag(old_ns, prev, new_ns, flag) => out.modified.push(id),
                Some(_) => {}
            }
        }
        for seg in new_ns.segments() {
            if old_ns.segment(&seg.key) != Some(seg) {
                out.segments.push(format!("{}/{}", new_ns.key, seg.key));
            }
        }
    }
    for old_ns in old.namespaces() {
        let new_ns = new.namespace(&old_ns.key).unwrap_or(&empty);
        for flag in old_ns.flags() {
            if new_ns.flag(&flag.key).is_none() {
                out.removed.push(format!("{}/{}", old_ns.key, flag.key));
            }
        }
        for seg in old_ns.segments() {
            if new_ns.segment(&seg.key).is_none() {
                out.segments.push(format!("{}/{}", old_ns.key, seg.key));
            }
        }
    }
    for list in [
        &mut out.added,
        &mut out.removed,
        &mut out.modified,
        &mut out.segments,
    ] {
        list.sort();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompileOptions, SourceFile, load};

    fn snap(yaml: &str) -> Snapshot {
        load(
            &[SourceFile {
                path: "features.yml",
                contents: yaml.as_bytes(),
            }],
            CompileOptions::default(),
        )
        .unwrap()
    }

    const BASE: &str = "
flags:
  - {key: a, name: A, type: BOOLEAN_FLAG_TYPE, rollouts: [{segment: {key: s, value: true}}]}
  - {key: b, name: B}
segments:
  - {key: s, name: S, constraints: [{type: STRING_COMPARISON_TYPE, property: p, operator: eq, value: x}]}
  - {key: t, name: T}
";

    #[test]
    fn unchanged_and_reordered_segments_are_no_change() {
        let reordered = BASE.replace(
            "  - {key: s, name: S, constraints: [{type: STRING_COMPARISON_TYPE, property: p, operator: eq, value: x}]}\n  - {key: t, name: T}",
            "  - {key: t, name: T}\n  - {key: s, name: S, constraints: [{type: STRING_COMPARISON_TYPE, property: p, operator: eq, value: x}]}",
        );
        assert_ne!(reordered, BASE);
        assert!(changes(&snap(BASE), &snap(BASE)).is_empty());
        assert!(changes(&snap(BASE), &snap(&reordered)).is_empty());
    }

    #[test]
    fn segment_edit_marks_dependent_flags_modified() {
        let edited = BASE.replace("value: x}", "value: y}");
        let c = changes(&snap(BASE), &snap(&edited));
        assert_eq!(c.modified, ["default/a"]);
        assert_eq!(c.segments, ["default/s"]);
        assert!(c.added.is_empty() && c.removed.is_empty());
    }

    #[test]
    fn added_and_removed_flags() {
        let edited = BASE.replace("  - {key: b, name: B}", "  - {key: c, name: C}");
        let c = changes(&snap(BASE), &snap(&edited));
        assert_eq!(c.added, ["default/c"]);
        assert_eq!(c.removed, ["default/b"]);
    }
}
