//! The Explainer: what an evaluation looked at, step by step.

use guidon_core::eval::{threshold_bucket, variant_bucket};
use guidon_core::{EvalRequest, Explainer, Reason};

use crate::util::snapshot;

const TWO_RULES: &str = r#"
flags:
  - key: checkout
    name: Checkout
    enabled: true
    variants:
      - key: beta-ui
      - key: old-ui
      - key: new-ui
    rules:
      - segment: beta-testers
        distributions:
          - {variant: beta-ui, rollout: 100}
      - segment: {keys: [france, adults], operator: AND_SEGMENT_OPERATOR}
        distributions:
          - {variant: old-ui, rollout: 50}
          - {variant: new-ui, rollout: 50}
  - key: gate
    name: Gate
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: beta-testers, value: true}
      - threshold: {percentage: 40, value: true}
segments:
  - key: beta-testers
    name: Beta testers
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: beta}
      - {type: BOOLEAN_COMPARISON_TYPE, property: optin, operator: true}
  - key: france
    name: France
    match_type: ANY_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: country, operator: eq, value: fr}
      - {type: ENTITY_ID_COMPARISON_TYPE, property: entityId, operator: prefix, value: fr-}
  - key: adults
    name: Adults
    constraints:
      - {type: NUMBER_COMPARISON_TYPE, property: age, operator: gte, value: "18"}
"#;

#[test]
fn two_rule_flag_first_fails_on_a_constraint_second_matches() {
    let s = snapshot(TWO_RULES);
    let ctx = [("plan", "free"), ("country", "fr"), ("age", "30")];
    let req = EvalRequest {
        namespace: "",
        flag: "checkout",
        entity_id: "user-7",
        context: &ctx,
    };
    let mut ex = Explainer::new();
    let traced = s.variant_traced(&req, &mut ex).unwrap();
    let plain = s.variant(&req).unwrap();
    assert_eq!(traced.variant_key, plain.variant_key);
    assert_eq!(traced.reason, Reason::Match);
    assert!(traced.matched);
    assert_eq!(traced.segment_keys.to_vec(), ["france", "adults"]);

    let bucket = variant_bucket("checkout", "user-7");
    let expected_variant = if bucket < 500 { "old-ui" } else { "new-ui" };
    assert_eq!(traced.variant_key, expected_variant);

    let e = ex.finish();
    assert_eq!(e.steps.len(), 2);

    // Rule 1: beta-testers fails on `plan`; the explainer still evaluates `optin`.
    let r1 = &e.steps[0];
    assert_eq!((r1.kind, r1.rank, r1.matched), ("rule", 1, false));
    assert_eq!(r1.segment_operator, Some("OR_SEGMENT_OPERATOR"));
    assert!(
        r1.bucket.is_none(),
        "no bucket for a rule that did not match"
    );
    assert_eq!(r1.segments.len(), 1);
    let seg = &r1.segments[0];
    assert_eq!(
        (seg.key.as_str(), seg.match_type, seg.matched),
        ("beta-testers", "ALL_MATCH_TYPE", false)
    );
    assert_eq!(seg.constraints.len(), 2);
    let plan = &seg.constraints[0];
    assert_eq!(plan.comparison, "STRING_COMPARISON_TYPE");
    assert_eq!(plan.property, "plan");
    assert_eq!(plan.operator, "eq");
    assert_eq!(plan.value, "beta");
    assert_eq!(plan.actual.as_deref(), Some("free"));
    assert!(!plan.matched);
    assert!(plan.why.contains("does not match"), "{}", plan.why);
    let optin = &seg.constraints[1];
    assert_eq!(optin.comparison, "BOOLEAN_COMPARISON_TYPE");
    assert_eq!(optin.property, "optin");
    assert_eq!(optin.operator, "true");
    assert_eq!(optin.actual, None, "optin is not in the context");
    assert!(!optin.matched);
    assert!(optin.why.contains("missing"), "{}", optin.why);

    // Rule 2: both segments match, the bucket decides the variant.
    let r2 = &e.steps[1];
    assert_eq!((r2.kind, r2.rank, r2.matched), ("rule", 2, true));
    assert_eq!(r2.segment_operator, Some("AND_SEGMENT_OPERATOR"));
    let keys: Vec<&str> = r2.segments.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["france", "adults"]);
    assert!(r2.segments.iter().all(|s| s.matched));

    let france = &r2.segments[0];
    assert_eq!(france.match_type, "ANY_MATCH_TYPE");
    assert_eq!(
        france.constraints.len(),
        2,
        "ANY segments are traced exhaustively"
    );
    assert_eq!(france.constraints[0].actual.as_deref(), Some("fr"));
    assert!(france.constraints[0].matched);
    let entity = &france.constraints[1];
    assert_eq!(entity.comparison, "ENTITY_ID_COMPARISON_TYPE");
    assert_eq!(entity.property, "entityId");
    assert_eq!(entity.actual.as_deref(), Some("user-7"));
    assert!(!entity.matched);

    let adults = &r2.segments[1];
    assert_eq!(adults.constraints[0].actual.as_deref(), Some("30"));
    assert_eq!(adults.constraints[0].value, "18");
    assert!(adults.constraints[0].matched);

    let bt = r2.bucket.as_ref().expect("rule 2 computed a bucket");
    assert_eq!(bt.bucket, bucket);
    assert_eq!(bt.boundaries, [500, 1000]);
    assert_eq!(bt.percentage, None);
    assert_eq!(bt.chosen, Some(usize::from(bucket >= 500)));
}

#[test]
fn explanation_when_nothing_matches() {
    let s = snapshot(TWO_RULES);
    let ctx = [("plan", "beta"), ("optin", "false"), ("country", "de")];
    let req = EvalRequest {
        namespace: "default",
        flag: "checkout",
        entity_id: "de-1",
        context: &ctx,
    };
    let mut ex = Explainer::new();
    let r = s.variant_traced(&req, &mut ex).unwrap();
    assert!(!r.matched);
    assert_eq!(r.reason, Reason::Unknown);
    let e = ex.finish();
    assert_eq!(e.steps.len(), 2);
    assert!(e.steps.iter().all(|s| !s.matched && s.bucket.is_none()));
    // The AND rule is traced exhaustively: `adults` is shown even though `france` failed.
    let keys: Vec<&str> = e.steps[1].segments.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["france", "adults"]);
    let age = &e.steps[1].segments[1].constraints[0];
    assert_eq!(age.actual, None);
    assert!(!age.matched);
}

#[test]
fn boolean_explanation_records_threshold_bucket() {
    let s = snapshot(TWO_RULES);
    let ctx = [("plan", "beta")];
    // Find entities on both sides of the 40% threshold.
    let below = (0..)
        .map(|i| format!("e{i}"))
        .find(|e| threshold_bucket(e, "gate") < 40)
        .unwrap();
    let above = (0..)
        .map(|i| format!("e{i}"))
        .find(|e| threshold_bucket(e, "gate") >= 40)
        .unwrap();

    for (entity, hit) in [(&below, true), (&above, false)] {
        let req = EvalRequest {
            namespace: "",
            flag: "gate",
            entity_id: entity,
            context: &ctx,
        };
        let mut ex = Explainer::new();
        let r = s.boolean_traced(&req, &mut ex).unwrap();
        assert_eq!(r.enabled, hit);
        assert_eq!(r.reason, if hit { Reason::Match } else { Reason::Default });
        let e = ex.finish();
        assert_eq!(e.steps.len(), 2);
        assert_eq!(e.steps[0].kind, "segmentRollout");
        assert_eq!(e.steps[0].rank, 1);
        assert!(!e.steps[0].matched);
        assert_eq!(e.steps[0].segments[0].key, "beta-testers");
        assert_eq!(e.steps[1].kind, "thresholdRollout");
        assert_eq!(e.steps[1].rank, 2);
        assert_eq!(e.steps[1].segment_operator, None);
        assert_eq!(e.steps[1].matched, hit);
        let bt = e.steps[1].bucket.as_ref().unwrap();
        assert_eq!(bt.bucket, threshold_bucket(entity, "gate"));
        assert_eq!(bt.percentage, Some(40.0));
        assert!(bt.boundaries.is_empty());
        assert_eq!(bt.chosen, None);
    }
}

#[test]
fn explanation_serialises_to_json() {
    let s = snapshot(TWO_RULES);
    let ctx = [("plan", "beta"), ("optin", "t")];
    let req = EvalRequest {
        namespace: "",
        flag: "checkout",
        entity_id: "u",
        context: &ctx,
    };
    let mut ex = Explainer::new();
    let r = s.variant_traced(&req, &mut ex).unwrap();
    assert_eq!(r.variant_key, "beta-ui");
    let json = serde_json::to_value(ex.finish()).unwrap();
    let step = &json["steps"][0];
    assert_eq!(step["kind"], "rule");
    assert_eq!(step["matched"], true);
    assert_eq!(step["bucket"]["boundaries"], serde_json::json!([1000]));
    assert_eq!(
        step["segments"][0]["constraints"][1]["type"],
        "BOOLEAN_COMPARISON_TYPE"
    );
    assert_eq!(step["segments"][0]["constraints"][1]["actual"], "t");
    assert_eq!(
        json["steps"].as_array().unwrap().len(),
        1,
        "evaluation stops at the matched rule"
    );
}
