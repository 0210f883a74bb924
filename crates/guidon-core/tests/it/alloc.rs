//! Evaluation must not allocate: a counting global allocator checks every
//! evaluation path.

use std::collections::HashMap;

use guidon_core::EvalRequest;

use crate::util::snapshot;

/// Heap allocations made by `f` on this thread (allocation-counter replaces the
/// global allocator in this test binary and counts per thread).
fn allocations<R>(f: impl FnOnce() -> R) -> u64 {
    allocation_counter::measure(|| {
        std::hint::black_box(f());
    })
    .count_total
}

const FLAGS: &str = r#"
flags:
  - key: b
    name: B
    type: BOOLEAN_FLAG_TYPE
    rollouts:
      - segment: {keys: [s1, s2], operator: AND_SEGMENT_OPERATOR, value: true}
      - threshold: {percentage: 50, value: true}
  - key: v
    name: V
    enabled: true
    variants: [{key: x, name: X, attachment: {a: 1}}, {key: y, name: Y}]
    rules:
      - segment: {keys: [s1, s2, s3], operator: OR_SEGMENT_OPERATOR}
        distributions: [{variant: x, rollout: 30}, {variant: y, rollout: 70}]
segments:
  - key: s1
    name: S1
    constraints:
      - {type: NUMBER_COMPARISON_TYPE, property: n, operator: isoneof, value: "[1, 2.5, 0x10]"}
      - {type: NUMBER_COMPARISON_TYPE, property: n, operator: gte, value: "1e0"}
  - key: s2
    name: S2
    match_type: ANY_MATCH_TYPE
    constraints:
      - {type: DATETIME_COMPARISON_TYPE, property: t, operator: lt, value: "2030-01-01"}
      - {type: BOOLEAN_COMPARISON_TYPE, property: f, operator: "true"}
  - key: s3
    name: S3
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: s, operator: isoneof, value: '["a", "b"]'}
      - {type: ENTITY_ID_COMPARISON_TYPE, property: entityId, operator: prefix, value: "user-"}
"#;

#[test]
fn evaluation_does_not_allocate() {
    // Hex in a JSON list is invalid JSON: keep the list plain decimal.
    let snap = snapshot(&FLAGS.replace(", 0x10]", ", 16]"));
    let contexts: Vec<HashMap<String, String>> = [
        vec![
            ("n", "2.5"),
            ("t", "2029-12-31T23:59:59.5Z"),
            ("f", "T"),
            ("s", "a"),
        ],
        vec![("n", "NaN"), ("t", "bad"), ("f", "nope"), ("s", "z")],
        vec![("n", "0x1p1"), ("t", "2031-01-01"), ("f", "false")],
        vec![],
    ]
    .into_iter()
    .map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    })
    .collect();
    for ctx in &contexts {
        for entity in ["", "user-1", "someone"] {
            let req = |flag| EvalRequest {
                namespace: "default",
                flag,
                entity_id: entity,
                context: ctx,
            };
            assert_eq!(
                allocations(|| snap.boolean(&req("b")).map(|r| r.enabled)),
                0,
                "{ctx:?}"
            );
            assert_eq!(
                allocations(|| snap.variant(&req("v")).map(|r| r.variant_key.len())),
                0,
                "{ctx:?}"
            );
            assert_eq!(
                allocations(|| snap.evaluate(&req("v")).is_ok()),
                0,
                "{ctx:?}"
            );
            // Reading the matched segment keys does not allocate either.
            assert_eq!(
                allocations(|| snap
                    .variant(&req("v"))
                    .map(|r| r.segment_keys.iter().count())),
                0
            );
        }
    }
    // The counter works: an error path allocates its message.
    let ctx = HashMap::new();
    let req = EvalRequest {
        namespace: "default",
        flag: "missing",
        entity_id: "e",
        context: &ctx,
    };
    assert!(allocations(|| snap.boolean(&req).is_err()) > 0);
}
