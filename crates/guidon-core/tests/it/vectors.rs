//! Spec §2.7 test vectors (rows 1–18, 20, 21; row 19 is OFREP, a server concern)
//! and the control-flow cases of §2.3 and §2.4.

use guidon_core::eval::{threshold_bucket, variant_bucket};
use guidon_core::{AnyResult, Bucketing, EvalError, EvalRequest, FlagType, Reason};

use crate::util::{
    attachment, b, boolean, boolean_in, rule_boundaries, snapshot, snapshot_with, v, variant,
    variant_in,
};

const BOTH: [Bucketing; 2] = [Bucketing::Legacy, Bucketing::Normalized];

// ---------------------------------------------------------------------------
// Bucket values of the table.

#[test]
fn table_variant_buckets() {
    assert_eq!(variant_bucket("foo", "1"), 244); // #1, #3, #6, #7
    assert_eq!(variant_bucket("foo", "2"), 934); // #2
    assert_eq!(variant_bucket("foo", "123"), 253); // #4, #5
    assert_eq!(variant_bucket("foo", "10"), 54); // #8
    assert_eq!(variant_bucket("foo", "01"), 785); // #8
    assert_eq!(variant_bucket("flag_001", "some-fixed-entity-id"), 553); // #12, #19
    assert_eq!(
        variant_bucket("flag_variant_and_segments", "some-fixed-entity-id"),
        531
    ); // #13
    assert_eq!(variant_bucket("foo", "861"), 666); // #20
    assert_eq!(variant_bucket("qux", "52"), 666); // #21
}

#[test]
fn table_threshold_buckets() {
    // Entity id first, then flag key (the opposite of variant buckets).
    assert_eq!(threshold_bucket("test-entity", "test-flag"), 65); // #9–#11
    assert_eq!(threshold_bucket("fixed", "flag_boolean"), 9); // #14
    assert_eq!(threshold_bucket("hello", "flag_boolean"), 96); // #15
    assert_eq!(threshold_bucket("beover50", "boolean_disabled"), 99); // #17
    assert_eq!(threshold_bucket("fixed", "boolean_disabled"), 38); // #18
}

#[test]
fn bucket_hash_order_matters() {
    // flagKey‖entityId for variants; entityId‖flagKey for thresholds.
    assert_ne!(variant_bucket("foo", "1"), variant_bucket("1", "foo"));
    assert_eq!(variant_bucket("1", "foo"), variant_bucket("1foo", ""));
    assert_eq!(
        threshold_bucket("test-entity", "test-flag"),
        threshold_bucket("test-entitytest-flag", "")
    );
}

// ---------------------------------------------------------------------------
// #1–#3: TestEvaluator_MatchAll_RolloutDistribution.

const MATCH_ALL_ROLLOUT: &str = r#"
version: "1.4"
flags:
  - key: foo
    name: Foo
    enabled: true
    variants:
      - key: boz
      - key: booz
    rules:
      - segment: bar
        distributions:
          - {variant: boz, rollout: 50}
          - {variant: booz, rollout: 50}
segments:
  - key: bar
    name: Bar
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: bar, operator: eq, value: baz}
"#;

#[test]
fn vector_01_match_all_rollout_distribution_entity_1() {
    for bucketing in BOTH {
        let s = snapshot_with(MATCH_ALL_ROLLOUT, bucketing);
        assert_eq!(
            variant(&s, "foo", "1", &[("bar", "baz")]),
            v(true, Reason::Match, "boz", &["bar"]),
            "{bucketing:?}"
        );
    }
}

#[test]
fn vector_02_match_all_rollout_distribution_entity_2() {
    for bucketing in BOTH {
        let s = snapshot_with(MATCH_ALL_ROLLOUT, bucketing);
        assert_eq!(
            variant(&s, "foo", "2", &[("bar", "baz")]),
            v(true, Reason::Match, "booz", &["bar"]),
            "{bucketing:?}"
        );
    }
}

#[test]
fn vector_03_constraint_fails() {
    for bucketing in BOTH {
        let s = snapshot_with(MATCH_ALL_ROLLOUT, bucketing);
        assert_eq!(
            variant(&s, "foo", "1", &[("bar", "boz")]),
            v(false, Reason::Unknown, "", &[]),
            "{bucketing:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// #4, #5: a single 10% distribution.

const SINGLE_TEN_PERCENT: &str = r#"
flags:
  - key: foo
    name: Foo
    enabled: true
    variants:
      - key: boz
    rules:
      - segment: everyone
        distributions:
          - {variant: boz, rollout: 10}
segments:
  - key: everyone
    name: Everyone
"#;

#[test]
fn vector_04_distribution_not_matched_legacy() {
    let s = snapshot_with(SINGLE_TEN_PERCENT, Bucketing::Legacy);
    assert_eq!(rule_boundaries(&s, "foo", 0), [100]);
    // 253 >= 100: no distribution covers the bucket. The rule still matched, so
    // its segment keys are kept (§2.3 step 6) but match=false and reason stays UNKNOWN.
    assert_eq!(
        variant(&s, "foo", "123", &[]),
        v(false, Reason::Unknown, "", &["everyone"])
    );
}

#[test]
fn vector_04_distribution_normalised() {
    let s = snapshot_with(SINGLE_TEN_PERCENT, Bucketing::Normalized);
    assert_eq!(rule_boundaries(&s, "foo", 0), [1000]);
    assert_eq!(
        variant(&s, "foo", "123", &[]),
        v(true, Reason::Match, "boz", &["everyone"])
    );
}

const SINGLE_TEN_PERCENT_DEFAULT: &str = r#"
version: "1.3"
flags:
  - key: foo
    name: Foo
    enabled: true
    variants:
      - key: bar
        default: true
        attachment: {pi: 3.14}
      - key: boz
    rules:
      - segment: everyone
        distributions:
          - {variant: boz, rollout: 10}
segments:
  - key: everyone
    name: Everyone
"#;

#[test]
fn vector_05_distribution_not_matched_default_variant_legacy() {
    let s = snapshot_with(SINGLE_TEN_PERCENT_DEFAULT, Bucketing::Legacy);
    assert_eq!(
        variant(&s, "foo", "123", &[]),
        v(false, Reason::Default, "bar", &["everyone"])
    );
    assert_eq!(attachment(&s, "foo", "123"), r#"{"pi":3.14}"#);
}

#[test]
fn vector_05_default_variant_normalised() {
    let s = snapshot_with(SINGLE_TEN_PERCENT_DEFAULT, Bucketing::Normalized);
    assert_eq!(
        variant(&s, "foo", "123", &[]),
        v(true, Reason::Match, "boz", &["everyone"])
    );
    // boz has no attachment: declarative storage serves the literal "null".
    assert_eq!(attachment(&s, "foo", "123"), "null");
}

// ---------------------------------------------------------------------------
// #6, #7: zero-rollout distributions are ignored.

#[test]
fn vector_06_first_rollout_rule_is_zero() {
    let yaml = r#"
flags:
  - key: foo
    name: Foo
    enabled: true
    variants:
      - key: boz
      - key: booz
    rules:
      - segment: everyone
        distributions:
          - {variant: boz, rollout: 0}
          - {variant: booz, rollout: 100}
segments:
  - key: everyone
    name: Everyone
"#;
    for bucketing in BOTH {
        let s = snapshot_with(yaml, bucketing);
        assert_eq!(rule_boundaries(&s, "foo", 0), [1000], "{bucketing:?}");
        assert_eq!(
            variant(&s, "foo", "1", &[]),
            v(true, Reason::Match, "booz", &["everyone"]),
            "{bucketing:?}"
        );
    }
}

#[test]
fn vector_07_multiple_zero_rollout_distributions() {
    let yaml = r#"
flags:
  - key: foo
    name: Foo
    enabled: true
    variants:
      - key: "1"
      - key: "2"
      - key: "3"
      - key: "4"
      - key: "5"
      - key: "6"
    rules:
      - segment: everyone
        distributions:
          - {variant: "1", rollout: 0}
          - {variant: "2", rollout: 0}
          - {variant: "3", rollout: 50}
          - {variant: "4", rollout: 0}
          - {variant: "5", rollout: 0}
          - {variant: "6", rollout: 50}
segments:
  - key: everyone
    name: Everyone
"#;
    for bucketing in BOTH {
        let s = snapshot_with(yaml, bucketing);
        assert_eq!(rule_boundaries(&s, "foo", 0), [500, 1000], "{bucketing:?}");
        assert_eq!(
            variant(&s, "foo", "1", &[]),
            v(true, Reason::Match, "3", &["everyone"]),
            "{bucketing:?}"
        );
        // Bucket 934 lands in the second valid distribution.
        assert_eq!(variant(&s, "foo", "2", &[]).variant, "6", "{bucketing:?}");
    }
}

// ---------------------------------------------------------------------------
// #8: match all, segment without constraints.

#[test]
fn vector_08_match_all_no_constraints() {
    let yaml = r#"
flags:
  - key: foo
    name: Foo
    enabled: true
    variants:
      - key: variant1
      - key: variant2
    rules:
      - segment: segment1
        distributions:
          - {variant: variant1, rollout: 50}
          - {variant: variant2, rollout: 50}
segments:
  - key: segment1
    name: Segment 1
    match_type: ALL_MATCH_TYPE
"#;
    for bucketing in BOTH {
        let s = snapshot_with(yaml, bucketing);
        assert_eq!(
            variant(&s, "foo", "10", &[]),
            v(true, Reason::Match, "variant1", &["segment1"]),
            "{bucketing:?}"
        );
        assert_eq!(
            variant(&s, "foo", "01", &[]),
            v(true, Reason::Match, "variant2", &["segment1"]),
            "{bucketing:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// #9–#11: boolean thresholds.

fn test_flag_threshold(percentage: &str) -> String {
    format!(
        r#"
flags:
  - key: test-flag
    name: Test flag
    type: BOOLEAN_FLAG_TYPE
    enabled: true
    rollouts:
      - threshold: {{percentage: {percentage}, value: false}}
"#
    )
}

#[test]
fn vector_09_boolean_percentage_rule_match() {
    let s = snapshot(&test_flag_threshold("70"));
    assert_eq!(
        boolean(&s, "test-flag", "test-entity", &[]),
        b(false, Reason::Match, &[])
    );
}

#[test]
fn vector_10_boolean_default_rule_fallthrough_with_percentage_rollout() {
    let s = snapshot(&test_flag_threshold("5"));
    assert_eq!(
        boolean(&s, "test-flag", "test-entity", &[]),
        b(true, Reason::Default, &[])
    );
}

#[test]
fn vector_11_boolean_percentage_rule_fallthrough_segment_match() {
    let yaml = r#"
flags:
  - key: test-flag
    name: Test flag
    type: BOOLEAN_FLAG_TYPE
    enabled: true
    rollouts:
      - threshold: {percentage: 5, value: false}
      - segment: {key: test-segment, value: true}
segments:
  - key: test-segment
    name: Test segment
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: hello, operator: eq, value: world}
"#;
    let s = snapshot(yaml);
    assert_eq!(
        boolean(&s, "test-flag", "test-entity", &[("hello", "world")]),
        b(true, Reason::Match, &["test-segment"])
    );
    // Without the context the segment rollout does not match either.
    assert_eq!(
        boolean(&s, "test-flag", "test-entity", &[("hello", "there")]),
        b(true, Reason::Default, &[])
    );
}

// ---------------------------------------------------------------------------
// #12, #13, #16: the read-only integration fixture, rebuilt from the table.

const READONLY: &str = r#"
version: "1.2"
flags:
  - key: flag_001
    name: FLAG_001
    enabled: true
    variants:
      - key: variant_001
      - key: variant_002
    rules:
      - segment: segment_001
        distributions:
          - {variant: variant_001, rollout: 100}
      - segment: segment_005
        distributions:
          - {variant: variant_001, rollout: 50}
          - {variant: variant_002, rollout: 50}
  - key: flag_variant_and_segments
    name: FLAG_VARIANT_AND_SEGMENTS
    enabled: true
    variants:
      - key: variant_001
      - key: variant_002
    rules:
      - segment:
          keys: [segment_001, segment_anding]
          operator: AND_SEGMENT_OPERATOR
        distributions:
          - {variant: variant_001, rollout: 50}
          - {variant: variant_002, rollout: 50}
  - key: flag_boolean
    name: FLAG_BOOLEAN
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: segment_001, value: true}
      - segment: {key: segment_002, value: true}
      - segment: {key: segment_003, value: true}
      - segment: {key: segment_004, value: true}
      - threshold: {percentage: 50, value: true}
  - key: boolean_disabled
    name: BOOLEAN_DISABLED
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: segment_001, value: true}
      - threshold: {percentage: 50, value: false}
segments:
  - key: segment_001
    name: SEGMENT_001
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: in_segment, operator: eq, value: segment_001}
  - key: segment_002
    name: SEGMENT_002
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: in_segment, operator: eq, value: segment_002}
  - key: segment_003
    name: SEGMENT_003
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: in_segment, operator: eq, value: segment_003}
  - key: segment_004
    name: SEGMENT_004
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: in_segment, operator: eq, value: segment_004}
  - key: segment_005
    name: SEGMENT_005
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: in_segment, operator: eq, value: segment_005}
  - key: segment_anding
    name: SEGMENT_ANDING
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: anding, operator: eq, value: segment}
"#;

#[test]
fn vector_12_readonly_flag_001() {
    for bucketing in BOTH {
        let s = snapshot_with(READONLY, bucketing);
        assert_eq!(
            variant(
                &s,
                "flag_001",
                "some-fixed-entity-id",
                &[("in_segment", "segment_005")]
            ),
            v(true, Reason::Match, "variant_002", &["segment_005"]),
            "{bucketing:?}"
        );
    }
}

#[test]
fn vector_13_readonly_and_segments() {
    for bucketing in BOTH {
        let s = snapshot_with(READONLY, bucketing);
        let ctx = [("in_segment", "segment_001"), ("anding", "segment")];
        assert_eq!(
            variant(
                &s,
                "flag_variant_and_segments",
                "some-fixed-entity-id",
                &ctx
            ),
            v(
                true,
                Reason::Match,
                "variant_002",
                &["segment_001", "segment_anding"]
            ),
            "{bucketing:?}"
        );
        // Only one of the two AND-ed segments: the rule is skipped.
        assert_eq!(
            variant(
                &s,
                "flag_variant_and_segments",
                "some-fixed-entity-id",
                &[("in_segment", "segment_001")]
            ),
            v(false, Reason::Unknown, "", &[]),
            "{bucketing:?}"
        );
    }
}

#[test]
fn vector_14_readonly_disabled_boolean_threshold_match() {
    let s = snapshot(READONLY);
    assert_eq!(
        boolean(&s, "flag_boolean", "fixed", &[]),
        b(true, Reason::Match, &[])
    );
}

#[test]
fn vector_15_readonly_disabled_boolean_default() {
    let s = snapshot(READONLY);
    assert_eq!(
        boolean(&s, "flag_boolean", "hello", &[]),
        b(false, Reason::Default, &[])
    );
}

#[test]
fn vector_16_no_rule_matches_no_default_variant_is_unknown() {
    for bucketing in BOTH {
        let s = snapshot_with(READONLY, bucketing);
        assert_eq!(
            variant(
                &s,
                "flag_001",
                "some-fixed-entity-id",
                &[("in_segment", "unknown")]
            ),
            v(false, Reason::Unknown, "", &[]),
            "{bucketing:?}"
        );
        assert_eq!(attachment(&s, "flag_001", "x"), "");
    }
}

#[test]
fn vector_17_boolean_disabled_default() {
    let s = snapshot(READONLY);
    assert_eq!(
        boolean(&s, "boolean_disabled", "beover50", &[]),
        b(false, Reason::Default, &[])
    );
}

#[test]
fn vector_18_boolean_disabled_threshold_match() {
    let s = snapshot(READONLY);
    assert_eq!(
        boolean(&s, "boolean_disabled", "fixed", &[]),
        b(false, Reason::Match, &[])
    );
}

// ---------------------------------------------------------------------------
// #20, #21: where G1 and G2 differ.

const THIRDS: &str = r#"
flags:
  - key: foo
    name: Foo
    enabled: true
    variants:
      - key: a
      - key: b
      - key: c
    rules:
      - segment: everyone
        distributions:
          - {variant: a, rollout: 33.33}
          - {variant: b, rollout: 33.33}
          - {variant: c, rollout: 33.34}
segments:
  - key: everyone
    name: Everyone
"#;

#[test]
fn vector_20_thirds_normalised() {
    let s = snapshot_with(THIRDS, Bucketing::Normalized);
    assert_eq!(rule_boundaries(&s, "foo", 0), [333, 666, 1000]);
    assert_eq!(
        variant(&s, "foo", "861", &[]),
        v(true, Reason::Match, "c", &["everyone"])
    );
}

#[test]
fn vector_20_thirds_legacy() {
    let s = snapshot_with(THIRDS, Bucketing::Legacy);
    assert_eq!(rule_boundaries(&s, "foo", 0), [333, 666, 999]);
    assert_eq!(
        variant(&s, "foo", "861", &[]),
        v(true, Reason::Match, "c", &["everyone"])
    );
}

#[test]
fn thirds_bucket_999_is_uncovered_only_in_legacy() {
    // Entity 1391 hashes to bucket 999 with flag foo (found with zlib's crc32).
    assert_eq!(variant_bucket("foo", "1391"), 999);
    let legacy = snapshot_with(THIRDS, Bucketing::Legacy);
    assert_eq!(
        variant(&legacy, "foo", "1391", &[]),
        v(false, Reason::Unknown, "", &["everyone"])
    );
    let normalised = snapshot_with(THIRDS, Bucketing::Normalized);
    assert_eq!(
        variant(&normalised, "foo", "1391", &[]),
        v(true, Reason::Match, "c", &["everyone"])
    );
}

const OVER_HUNDRED: &str = r#"
flags:
  - key: qux
    name: Qux
    enabled: true
    variants:
      - key: v1
      - key: v2
    rules:
      - segment: everyone
        distributions:
          - {variant: v1, rollout: 80}
          - {variant: v2, rollout: 40}
segments:
  - key: everyone
    name: Everyone
"#;

#[test]
fn vector_21_over_hundred_normalised() {
    let s = snapshot_with(OVER_HUNDRED, Bucketing::Normalized);
    assert_eq!(rule_boundaries(&s, "qux", 0), [666, 1000]);
    assert_eq!(
        variant(&s, "qux", "52", &[]),
        v(true, Reason::Match, "v2", &["everyone"])
    );
}

#[test]
fn vector_21_over_hundred_legacy() {
    let s = snapshot_with(OVER_HUNDRED, Bucketing::Legacy);
    assert_eq!(rule_boundaries(&s, "qux", 0), [800, 1200]);
    assert_eq!(
        variant(&s, "qux", "52", &[]),
        v(true, Reason::Match, "v1", &["everyone"])
    );
}

// ---------------------------------------------------------------------------
// §2.3 control flow: disabled flags, rules without distributions, rule order.

const DISABLED: &str = r#"
flags:
  - key: with-default
    name: With default
    enabled: false
    variants:
      - key: red
      - key: blue
        default: true
        attachment: {colour: blue}
    rules:
      - segment: everyone
        distributions:
          - {variant: red, rollout: 100}
  - key: without-default
    name: Without default
    enabled: false
    variants:
      - key: red
    rules:
      - segment: everyone
        distributions:
          - {variant: red, rollout: 100}
segments:
  - key: everyone
    name: Everyone
"#;

#[test]
fn disabled_variant_flag_keeps_default_variant() {
    let s = snapshot(DISABLED);
    assert_eq!(
        variant(&s, "with-default", "u1", &[]),
        v(false, Reason::FlagDisabled, "blue", &[])
    );
    assert_eq!(attachment(&s, "with-default", "u1"), r#"{"colour":"blue"}"#);
}

#[test]
fn disabled_variant_flag_without_default() {
    let s = snapshot(DISABLED);
    assert_eq!(
        variant(&s, "without-default", "u1", &[]),
        v(false, Reason::FlagDisabled, "", &[])
    );
    assert_eq!(attachment(&s, "without-default", "u1"), "");
}

const NO_DISTRIBUTIONS: &str = r#"
flags:
  - key: plain
    name: Plain
    enabled: true
    variants:
      - key: red
    rules:
      - segment: everyone
  - key: defaulted
    name: Defaulted
    enabled: true
    variants:
      - key: red
      - key: green
        default: true
    rules:
      - segment: everyone
        distributions:
          - {variant: red, rollout: 0}
segments:
  - key: everyone
    name: Everyone
"#;

#[test]
fn rule_without_distributions_matches_with_empty_variant() {
    let s = snapshot(NO_DISTRIBUTIONS);
    assert_eq!(
        variant(&s, "plain", "u1", &[]),
        v(true, Reason::Match, "", &["everyone"])
    );
    assert_eq!(attachment(&s, "plain", "u1"), "");
}

#[test]
fn rule_with_only_zero_distributions_matches_with_default_variant() {
    let s = snapshot(NO_DISTRIBUTIONS);
    assert_eq!(
        variant(&s, "defaulted", "u1", &[]),
        v(true, Reason::Match, "green", &["everyone"])
    );
    assert_eq!(attachment(&s, "defaulted", "u1"), "null");
}

#[test]
fn no_rules_gives_default_or_unknown() {
    let yaml = r#"
flags:
  - key: bare
    name: Bare
    enabled: true
    variants:
      - key: red
  - key: bare-default
    name: Bare default
    enabled: true
    variants:
      - key: red
        default: true
"#;
    let s = snapshot(yaml);
    assert_eq!(
        variant(&s, "bare", "u1", &[]),
        v(false, Reason::Unknown, "", &[])
    );
    assert_eq!(
        variant(&s, "bare-default", "u1", &[]),
        v(false, Reason::Default, "red", &[])
    );
}

#[test]
fn first_matching_rule_wins_and_stops() {
    let yaml = r#"
flags:
  - key: first
    name: First
    enabled: true
    variants:
      - key: one
      - key: two
    rules:
      - segment: never
        distributions:
          - {variant: one, rollout: 100}
      - segment: everyone
        distributions:
          - {variant: two, rollout: 100}
      - segment: everyone
        distributions:
          - {variant: one, rollout: 100}
segments:
  - key: everyone
    name: Everyone
  - key: never
    name: Never
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: x, operator: eq, value: "y"}
"#;
    let s = snapshot(yaml);
    assert_eq!(
        variant(&s, "first", "u1", &[]),
        v(true, Reason::Match, "two", &["everyone"])
    );
    assert_eq!(
        variant(&s, "first", "u1", &[("x", "y")]),
        v(true, Reason::Match, "one", &["never"])
    );
}

#[test]
fn legacy_uncovered_bucket_does_not_fall_through_to_later_rules() {
    // §2.3: evaluation stops at the matched rule regardless of the distribution outcome.
    let yaml = r#"
flags:
  - key: foo
    name: Foo
    enabled: true
    variants:
      - key: boz
      - key: fallback
    rules:
      - segment: everyone
        distributions:
          - {variant: boz, rollout: 10}
      - segment: everyone
        distributions:
          - {variant: fallback, rollout: 100}
segments:
  - key: everyone
    name: Everyone
"#;
    let s = snapshot_with(yaml, Bucketing::Legacy);
    assert_eq!(
        variant(&s, "foo", "123", &[]),
        v(false, Reason::Unknown, "", &["everyone"])
    );
}

// ---------------------------------------------------------------------------
// §2.4: boolean flags.

#[test]
fn disabled_boolean_flag_still_runs_rollouts() {
    let yaml = r#"
flags:
  - key: dark-launch
    name: Dark launch
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: staff, value: true}
  - key: empty-off
    name: Empty off
    type: BOOLEAN_FLAG_TYPE
    enabled: false
  - key: empty-on
    name: Empty on
    type: BOOLEAN_FLAG_TYPE
    enabled: true
segments:
  - key: staff
    name: Staff
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: email, operator: suffix, value: "@example.com"}
"#;
    let s = snapshot(yaml);
    assert_eq!(
        boolean(&s, "dark-launch", "u1", &[("email", "a@example.com")]),
        b(true, Reason::Match, &["staff"])
    );
    assert_eq!(
        boolean(&s, "dark-launch", "u1", &[("email", "a@example.org")]),
        b(false, Reason::Default, &[])
    );
    assert_eq!(
        boolean(&s, "empty-off", "u1", &[]),
        b(false, Reason::Default, &[])
    );
    assert_eq!(
        boolean(&s, "empty-on", "u1", &[]),
        b(true, Reason::Default, &[])
    );
}

#[test]
fn threshold_edges() {
    let yaml = r#"
flags:
  - key: test-flag
    name: Test flag
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - threshold: {percentage: 50, value: true}
  - key: none
    name: None
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - threshold: {percentage: 0, value: true}
  - key: all
    name: All
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - threshold: {percentage: 100, value: true}
"#;
    let s = snapshot(yaml);
    // The empty entity id hashes crc32("test-flag") % 100 = 50: not < 50.
    assert_eq!(threshold_bucket("", "test-flag"), 50);
    assert_eq!(
        boolean(&s, "test-flag", "", &[]),
        b(false, Reason::Default, &[])
    );
    for e in ["a", "b", "c", "fixed", "hello", "user-1"] {
        assert_eq!(boolean(&s, "none", e, &[]), b(false, Reason::Default, &[]));
        assert_eq!(boolean(&s, "all", e, &[]), b(true, Reason::Match, &[]));
    }
}

#[test]
fn fractional_threshold_covers_buckets_up_to_the_integer_part() {
    // 33.3 ⇒ buckets 0..=33 match (§2.4).
    let yaml = r#"
flags:
  - key: pct
    name: Pct
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - threshold: {percentage: 33.3, value: true}
"#;
    let s = snapshot(yaml);
    assert_eq!(threshold_bucket("35", "pct"), 33);
    assert_eq!(threshold_bucket("3", "pct"), 34);
    assert_eq!(boolean(&s, "pct", "35", &[]), b(true, Reason::Match, &[]));
    assert_eq!(boolean(&s, "pct", "3", &[]), b(false, Reason::Default, &[]));
}

// ---------------------------------------------------------------------------
// Errors and request handling.

const TYPES: &str = r#"
namespace: team
flags:
  - key: colour
    name: Colour
    enabled: true
    variants:
      - key: red
  - key: switch
    name: Switch
    type: BOOLEAN_FLAG_TYPE
    enabled: true
"#;

#[test]
fn wrong_flag_type_is_an_error() {
    let s = snapshot(TYPES);
    let err = variant_in(&s, "team", "switch", "u1", &[]).unwrap_err();
    assert_eq!(err, EvalError::WrongType(FlagType::Boolean));
    assert_eq!(err.to_string(), "flag type BOOLEAN_FLAG_TYPE invalid");
    assert!(!err.is_not_found());

    let err = boolean_in(&s, "team", "colour", "u1", &[]).unwrap_err();
    assert_eq!(err, EvalError::WrongType(FlagType::Variant));
    assert_eq!(err.to_string(), "flag type VARIANT_FLAG_TYPE invalid");
}

#[test]
fn missing_flag_is_not_found() {
    let s = snapshot(TYPES);
    let err = variant_in(&s, "team", "nope", "u1", &[]).unwrap_err();
    assert_eq!(
        err,
        EvalError::FlagNotFound {
            namespace: "team".to_owned(),
            key: "nope".to_owned()
        }
    );
    assert_eq!(err.to_string(), r#"flag "team/nope" not found"#);
    assert!(err.is_not_found());

    // The default namespace always exists, even when no document declares it.
    let err = boolean_in(&s, "", "switch", "u1", &[]).unwrap_err();
    assert_eq!(err.to_string(), r#"flag "default/switch" not found"#);
}

#[test]
fn missing_namespace_is_not_found() {
    let s = snapshot(TYPES);
    let err = variant_in(&s, "x", "colour", "u1", &[]).unwrap_err();
    assert_eq!(err, EvalError::NamespaceNotFound("x".to_owned()));
    assert_eq!(err.to_string(), r#"namespace "x" not found"#);
    assert!(err.is_not_found());
}

#[test]
fn empty_namespace_means_default() {
    let s = snapshot(MATCH_ALL_ROLLOUT);
    let ctx = [("bar", "baz")];
    let explicit = variant_in(&s, "default", "foo", "1", &ctx).unwrap();
    let empty = variant_in(&s, "", "foo", "1", &ctx).unwrap();
    assert_eq!(empty, v(true, Reason::Match, "boz", &["bar"]));
    assert_eq!(empty, explicit);
}

#[test]
fn empty_entity_id_is_hashed_as_empty_string() {
    let s = snapshot(MATCH_ALL_ROLLOUT);
    assert_eq!(variant_bucket("foo", ""), 769);
    assert_eq!(
        variant(&s, "foo", "", &[("bar", "baz")]),
        v(true, Reason::Match, "booz", &["bar"])
    );
}

#[test]
fn evaluate_dispatches_on_flag_type() {
    let s = snapshot(TYPES);
    let ctx: [(&str, &str); 0] = [];
    let req = EvalRequest {
        namespace: "team",
        flag: "switch",
        entity_id: "u1",
        context: &ctx,
    };
    match s.evaluate(&req).unwrap() {
        AnyResult::Boolean(r) => {
            assert!(r.enabled);
            assert_eq!(r.reason, Reason::Default);
            assert_eq!(r.flag.key, "switch");
        }
        AnyResult::Variant(_) => panic!("switch is a boolean flag"),
    }
    let req = EvalRequest {
        flag: "colour",
        ..req
    };
    match s.evaluate(&req).unwrap() {
        AnyResult::Variant(r) => {
            assert!(!r.matched);
            assert_eq!(r.reason, Reason::Unknown);
            assert_eq!(r.flag.key, "colour");
        }
        AnyResult::Boolean(_) => panic!("colour is a variant flag"),
    }
    let req = EvalRequest {
        flag: "nope",
        ..req
    };
    assert_eq!(
        s.evaluate(&req).unwrap_err().to_string(),
        r#"flag "team/nope" not found"#
    );
}

#[test]
fn reason_names() {
    assert_eq!(Reason::Unknown.as_str(), "UNKNOWN_EVALUATION_REASON");
    assert_eq!(
        Reason::FlagDisabled.as_str(),
        "FLAG_DISABLED_EVALUATION_REASON"
    );
    assert_eq!(Reason::Match.as_str(), "MATCH_EVALUATION_REASON");
    assert_eq!(Reason::Default.as_str(), "DEFAULT_EVALUATION_REASON");
}
