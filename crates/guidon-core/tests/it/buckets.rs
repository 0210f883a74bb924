//! Spec §2.5 bucket boundaries and the statistical behaviour of bucketing.

use guidon_core::eval::{threshold_bucket, variant_bucket};
use guidon_core::load::boundaries;
use guidon_core::{Bucketing, EvalRequest, Reason};
use proptest::prelude::*;

use crate::util::{rule_boundaries, snapshot, snapshot_with, variant};

/// The §2.5 table: rollouts (positive ones only), G1 and G2 boundaries.
const TABLE: &[(&[f32], &[u32], &[u32])] = &[
    (&[50.0, 50.0], &[500, 1000], &[500, 1000]),
    (&[33.33, 33.33, 33.34], &[333, 666, 999], &[333, 666, 1000]),
    (&[10.0], &[100], &[1000]),
    (&[10.0, 20.0], &[100, 300], &[333, 1000]),
    (&[80.0, 40.0], &[800, 1200], &[666, 1000]),
    // Row "0,100": the 0% distribution is dropped before boundaries are computed.
    (&[100.0], &[1000], &[1000]),
    (&[50.0, 30.0, 20.0], &[500, 800, 1000], &[500, 800, 1000]),
];

#[test]
fn boundary_table_legacy() {
    for (rollouts, g1, _) in TABLE {
        assert_eq!(
            boundaries(rollouts, Bucketing::Legacy),
            *g1,
            "G1 boundaries of {rollouts:?}"
        );
    }
}

#[test]
fn boundary_table_normalised() {
    for (rollouts, _, g2) in TABLE {
        assert_eq!(
            boundaries(rollouts, Bucketing::Normalized),
            *g2,
            "G2 boundaries of {rollouts:?}"
        );
    }
}

#[test]
fn boundary_table_row_zero_hundred_through_a_compiled_rule() {
    let yaml = r#"
flags:
  - key: f
    name: F
    enabled: true
    variants:
      - key: a
      - key: b
    rules:
      - segment: everyone
        distributions:
          - {variant: a, rollout: 0}
          - {variant: b, rollout: 100}
segments:
  - key: everyone
    name: Everyone
"#;
    for bucketing in [Bucketing::Legacy, Bucketing::Normalized] {
        let s = snapshot_with(yaml, bucketing);
        assert_eq!(rule_boundaries(&s, "f", 0), [1000], "{bucketing:?}");
        let ns = s.namespace("default").unwrap();
        let rule = &ns.flag("f").unwrap().rules[0];
        assert_eq!(rule.distributions.len(), 2, "0% distributions are kept");
        let valid: Vec<f32> = rule.valid_distributions().map(|d| d.rollout).collect();
        assert_eq!(valid, [100.0]);
    }
}

#[test]
fn legacy_terms_are_truncated_separately() {
    // 0.15*10 = 1.5 → 1 per term: 3 × 1 = 3, not int(4.5) = 4.
    assert_eq!(
        boundaries(&[0.15, 0.15, 0.15], Bucketing::Legacy),
        [1, 2, 3]
    );
    // Sums below 100 leave the top buckets uncovered.
    assert_eq!(boundaries(&[25.0, 25.0], Bucketing::Legacy), [250, 500]);
}

#[test]
fn normalised_tiny_distribution_gets_an_empty_range() {
    // 0.01% of 1000 buckets truncates to nothing: boundaries 500, 500, 1000, and
    // the first boundary >= bucket+1 (Go's sort.SearchInts) never picks `tiny`.
    let yaml = r#"
flags:
  - key: f
    name: F
    enabled: true
    variants:
      - key: big
      - key: tiny
      - key: rest
    rules:
      - segment: everyone
        distributions:
          - {variant: big, rollout: 50}
          - {variant: tiny, rollout: 0.01}
          - {variant: rest, rollout: 49.99}
segments:
  - key: everyone
    name: Everyone
"#;
    let s = snapshot(yaml);
    assert_eq!(rule_boundaries(&s, "f", 0), [500, 500, 1000]);
    assert_eq!(variant_bucket("f", "1566"), 499);
    assert_eq!(variant_bucket("f", "468"), 500);
    assert_eq!(variant(&s, "f", "1566", &[]).variant, "big");
    assert_eq!(variant(&s, "f", "468", &[]).variant, "rest");
}

fn rollout_list() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(0.01f32..=100.0f32, 1..12)
}

proptest! {
    #[test]
    fn normalised_boundaries_cover_every_bucket(rollouts in rollout_list()) {
        let b = boundaries(&rollouts, Bucketing::Normalized);
        prop_assert_eq!(b.len(), rollouts.len());
        prop_assert_eq!(*b.last().unwrap(), 1000);
        for w in b.windows(2) {
            prop_assert!(w[0] <= w[1], "boundaries must not decrease: {:?}", b);
        }
        for bucket in 0..1000u32 {
            // Go's sort.SearchInts(boundaries, bucket+1).
            let index = b.partition_point(|&x| x < bucket + 1);
            prop_assert!(index < rollouts.len(), "bucket {} is uncovered by {:?}", bucket, b);
        }
    }

    #[test]
    fn legacy_boundaries_are_cumulative_truncated_terms(rollouts in rollout_list()) {
        let b = boundaries(&rollouts, Bucketing::Legacy);
        prop_assert_eq!(b.len(), rollouts.len());
        let mut prev = 0u32;
        for (i, r) in rollouts.iter().enumerate() {
            prop_assert_eq!(b[i] - prev, (r * 10.0f32).floor() as u32);
            prev = b[i];
        }
    }
}

#[test]
fn fifty_fifty_split_is_balanced() {
    let yaml = r#"
flags:
  - key: split
    name: Split
    enabled: true
    variants:
      - key: control
      - key: treatment
    rules:
      - segment: everyone
        distributions:
          - {variant: control, rollout: 50}
          - {variant: treatment, rollout: 50}
segments:
  - key: everyone
    name: Everyone
"#;
    let s = snapshot(yaml);
    let ctx: [(&str, &str); 0] = [];
    let (mut control, mut treatment) = (0u32, 0u32);
    for i in 0..100_000 {
        let id = format!("user-{i}");
        let req = EvalRequest {
            namespace: "",
            flag: "split",
            entity_id: &id,
            context: &ctx,
        };
        let r = s.variant(&req).unwrap();
        assert!(r.matched);
        assert_eq!(r.reason, Reason::Match);
        match r.variant_key {
            "control" => {
                control += 1;
                assert!(variant_bucket("split", &id) < 500);
            }
            "treatment" => treatment += 1,
            other => panic!("unexpected variant {other:?}"),
        }
    }
    assert_eq!(control + treatment, 100_000);
    assert!((49_000..=51_000).contains(&control), "control = {control}");
    assert!(
        (49_000..=51_000).contains(&treatment),
        "treatment = {treatment}"
    );
}

fn threshold_flag(percentage: u32) -> String {
    format!(
        r#"
flags:
  - key: pct
    name: Pct
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - threshold: {{percentage: {percentage}, value: true}}
"#
    )
}

fn enabled_count(percentage: u32) -> u32 {
    let s = snapshot(&threshold_flag(percentage));
    let ctx: [(&str, &str); 0] = [];
    let mut on = 0;
    for i in 0..100_000 {
        let id = format!("user-{i}");
        let req = EvalRequest {
            namespace: "",
            flag: "pct",
            entity_id: &id,
            context: &ctx,
        };
        let r = s.boolean(&req).unwrap();
        assert_eq!(r.enabled, threshold_bucket(&id, "pct") < percentage);
        if r.enabled {
            assert_eq!(r.reason, Reason::Match);
            on += 1;
        } else {
            assert_eq!(r.reason, Reason::Default);
        }
    }
    on
}

#[test]
fn threshold_extremes() {
    assert_eq!(enabled_count(0), 0);
    assert_eq!(enabled_count(100), 100_000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn threshold_enables_about_p_percent(p in 1u32..100) {
        let on = enabled_count(p);
        let expected = p * 1000;
        prop_assert!(
            on.abs_diff(expected) <= 1000,
            "{}% enabled {} of 100000 (expected {} ± 1000)", p, on, expected
        );
    }
}
