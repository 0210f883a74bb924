//! Spec §2.2 constraint matching: the constraint-level vectors listed after the
//! §2.7 table, plus match types, segment operators, ENTITY_ID, trimming and
//! missing context keys. Each constraint lives in a one-constraint segment used
//! by a disabled boolean flag whose only rollout is that segment with value
//! true, so `enabled` says whether the constraint matched.

use guidon_core::{Issue, Reason};

use crate::util::{b, boolean, load_issues, snapshot};

/// A document whose flag `probe` is enabled exactly when `constraint` (a YAML
/// flow mapping) matches.
fn probe_doc(constraint: &str) -> String {
    format!(
        r#"
flags:
  - key: probe
    name: Probe
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {{key: s, value: true}}
segments:
  - key: s
    name: S
    constraints:
      - {constraint}
"#
    )
}

/// Whether `constraint` matches entity `entity` with context `ctx`.
fn matches_entity(constraint: &str, entity: &str, ctx: &[(&str, &str)]) -> bool {
    let s = snapshot(&probe_doc(constraint));
    let r = boolean(&s, "probe", entity, ctx);
    if r.enabled {
        assert_eq!(r, b(true, Reason::Match, &["s"]));
    } else {
        assert_eq!(r, b(false, Reason::Default, &[]));
    }
    r.enabled
}

/// Whether `constraint` matches when the context holds `property = value`.
fn matches(constraint: &str, property: &str, value: &str) -> bool {
    matches_entity(constraint, "entity", &[(property, value)])
}

/// The load issues of a document holding `constraint`.
fn rejected(constraint: &str) -> Vec<Issue> {
    load_issues(&probe_doc(constraint))
}

const VALUE_PATH: &str = "segments[0].constraints[0].value";
const OPERATOR_PATH: &str = "segments[0].constraints[0].operator";

/// Asserts the document is rejected with exactly one issue at `path` whose message contains `needle`.
fn assert_rejected_at(constraint: &str, path: &str, needle: &str) {
    let issues = rejected(constraint);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let got = &issues[0];
    assert_eq!(
        (got.file.as_str(), got.document, got.path.as_str()),
        ("features.yml", 1, path),
        "{got:#?}"
    );
    assert!(
        got.message.contains(needle),
        "{got:#?} should mention {needle:?}"
    );
}

// ---------------------------------------------------------------------------
// Strings (Test_matchesString).

#[test]
fn string_empty_trims_whitespace() {
    let c = "{type: STRING_COMPARISON_TYPE, property: p, operator: empty}";
    assert!(matches(c, "p", " "));
    assert!(matches(c, "p", "\t\n "));
    assert!(matches(c, "p", ""));
    assert!(!matches(c, "p", " x "));
}

#[test]
fn string_notempty() {
    let c = "{type: STRING_COMPARISON_TYPE, property: p, operator: notempty}";
    assert!(!matches(c, "p", ""));
    assert!(!matches(c, "p", "  "));
    assert!(matches(c, "p", "x"));
}

#[test]
fn string_unknown_operator_is_rejected_at_load() {
    // Flipt evaluates an unknown operator as false; guidon refuses the document.
    assert_rejected_at(
        "{type: STRING_COMPARISON_TYPE, property: p, operator: foo, value: bar}",
        OPERATOR_PATH,
        "\"foo\"",
    );
}

#[test]
fn string_isoneof() {
    let c = r#"{type: STRING_COMPARISON_TYPE, property: p, operator: isoneof, value: '["bar", "baz"]'}"#;
    assert!(matches(c, "p", "baz"));
    assert!(matches(c, "p", "bar"));
    assert!(!matches(c, "p", "nope"));
    assert!(!matches(c, "p", "ba"));
}

#[test]
fn string_isnotoneof() {
    let c = r#"{type: STRING_COMPARISON_TYPE, property: p, operator: isnotoneof, value: '["bar", "baz"]'}"#;
    assert!(!matches(c, "p", "baz"));
    assert!(matches(c, "p", "nope"));
}

#[test]
fn string_isoneof_invalid_json_is_rejected_at_load() {
    assert_rejected_at(
        r#"{type: STRING_COMPARISON_TYPE, property: p, operator: isoneof, value: '["bar", "baz"'}"#,
        VALUE_PATH,
        "JSON array of strings",
    );
}

#[test]
fn string_isoneof_mixed_list_is_rejected_at_load() {
    assert_rejected_at(
        r#"{type: STRING_COMPARISON_TYPE, property: p, operator: isoneof, value: '["bar", 5]'}"#,
        VALUE_PATH,
        "JSON array of strings",
    );
    assert_rejected_at(
        r#"{type: STRING_COMPARISON_TYPE, property: p, operator: isnotoneof, value: '["bar", 5]'}"#,
        VALUE_PATH,
        "JSON array of strings",
    );
}

#[test]
fn string_isoneof_native_list_form() {
    // Declarative format 1.6 writes the list natively.
    let c = "{type: STRING_COMPARISON_TYPE, property: p, operator: isoneof, value: [bar, baz]}";
    assert!(matches(c, "p", "baz"));
    assert!(!matches(c, "p", "nope"));
}

#[test]
fn string_contains_and_notcontains() {
    let contains = "{type: STRING_COMPARISON_TYPE, property: p, operator: contains, value: bar}";
    assert!(matches(contains, "p", "foobar"));
    assert!(!matches(contains, "p", "foo"));
    let notcontains =
        "{type: STRING_COMPARISON_TYPE, property: p, operator: notcontains, value: bar}";
    assert!(!matches(notcontains, "p", "foobar"));
    assert!(matches(notcontains, "p", "foo"));
}

#[test]
fn string_eq_and_neq_are_exact() {
    let eq = "{type: STRING_COMPARISON_TYPE, property: p, operator: eq, value: foo}";
    assert!(matches(eq, "p", "foo"));
    assert!(!matches(eq, "p", " foo"));
    assert!(!matches(eq, "p", "Foo"));
    let neq = "{type: STRING_COMPARISON_TYPE, property: p, operator: neq, value: foo}";
    assert!(matches(neq, "p", "Foo"));
    assert!(!matches(neq, "p", "foo"));
}

#[test]
fn string_prefix_and_suffix_trim_the_context_value() {
    let prefix = "{type: STRING_COMPARISON_TYPE, property: p, operator: prefix, value: foo}";
    assert!(matches(prefix, "p", "foobar"));
    assert!(matches(prefix, "p", "  foobar"));
    assert!(!matches(prefix, "p", "barfoo"));
    let suffix = "{type: STRING_COMPARISON_TYPE, property: p, operator: suffix, value: bar}";
    assert!(matches(suffix, "p", "foobar"));
    assert!(matches(suffix, "p", "foobar \t\n"));
    assert!(!matches(suffix, "p", "barfoo"));
}

#[test]
fn string_operator_is_case_insensitive() {
    let c = "{type: STRING_COMPARISON_TYPE, property: p, operator: EQ, value: foo}";
    assert!(matches(c, "p", "foo"));
    assert!(!matches(c, "p", "bar"));
}

// ---------------------------------------------------------------------------
// Missing context keys are "".

#[test]
fn missing_context_key_is_the_empty_string() {
    let none: &[(&str, &str)] = &[("other", "x")];
    let cases = [
        (
            "{type: STRING_COMPARISON_TYPE, property: p, operator: empty}",
            true,
        ),
        (
            "{type: STRING_COMPARISON_TYPE, property: p, operator: notempty}",
            false,
        ),
        // v == "" ⇒ false, even for the negative operators.
        (
            "{type: STRING_COMPARISON_TYPE, property: p, operator: neq, value: x}",
            false,
        ),
        (
            "{type: STRING_COMPARISON_TYPE, property: p, operator: notcontains, value: x}",
            false,
        ),
        (
            r#"{type: STRING_COMPARISON_TYPE, property: p, operator: isnotoneof, value: '["x"]'}"#,
            false,
        ),
        (
            "{type: NUMBER_COMPARISON_TYPE, property: p, operator: present}",
            false,
        ),
        (
            "{type: NUMBER_COMPARISON_TYPE, property: p, operator: notpresent}",
            true,
        ),
        (
            "{type: NUMBER_COMPARISON_TYPE, property: p, operator: neq, value: '1'}",
            false,
        ),
        (
            "{type: BOOLEAN_COMPARISON_TYPE, property: p, operator: notpresent}",
            true,
        ),
        (
            "{type: BOOLEAN_COMPARISON_TYPE, property: p, operator: false}",
            false,
        ),
        (
            "{type: DATETIME_COMPARISON_TYPE, property: p, operator: notpresent}",
            true,
        ),
        (
            "{type: DATETIME_COMPARISON_TYPE, property: p, operator: neq, value: '2006-01-02'}",
            false,
        ),
    ];
    for (c, want) in cases {
        assert_eq!(
            matches_entity(c, "entity", none),
            want,
            "{c} with p missing"
        );
        // The same as an explicit empty value.
        assert_eq!(matches(c, "p", ""), want, "{c} with p = \"\"");
    }
}

// ---------------------------------------------------------------------------
// Numbers (Test_matchesNumber).

#[test]
fn number_comparisons() {
    let cases = [
        ("eq", "42.0", "42.0", true),
        ("eq", "42.0", "42", true),
        ("eq", "42.0", "43", false),
        ("neq", "42.0", "43", true),
        ("lt", "42.0", "8", true),
        ("lt", "42.0", "42", false),
        ("lte", "42.0", "42", true),
        ("gt", "10.11", "10.12", true),
        ("gt", "10.11", "10.11", false),
        ("gte", "10.11", "10.11", true),
        ("gte", "10.11", "10.1", false),
    ];
    for (op, c, v, want) in cases {
        let constraint = format!(
            "{{type: NUMBER_COMPARISON_TYPE, property: num, operator: {op}, value: '{c}'}}"
        );
        assert_eq!(matches(&constraint, "num", v), want, "{v} {op} {c}");
    }
}

#[test]
fn number_context_value_that_does_not_parse_does_not_match() {
    let c = "{type: NUMBER_COMPARISON_TYPE, property: num, operator: eq, value: '42'}";
    assert!(!matches(c, "num", "foo"));
    assert!(
        !matches(c, "num", " 42"),
        "ParseFloat accepts no surrounding spaces"
    );
    let neq = "{type: NUMBER_COMPARISON_TYPE, property: num, operator: neq, value: '42'}";
    assert!(
        !matches(neq, "num", "foo"),
        "a parse error is a non-match, even for neq"
    );
}

#[test]
fn number_context_value_uses_go_parse_float() {
    let c = "{type: NUMBER_COMPARISON_TYPE, property: num, operator: eq, value: '1000'}";
    assert!(matches(c, "num", "1e3"));
    assert!(matches(c, "num", "+1000"));
    assert!(matches(c, "num", "0x1.f4p9"));
    let lt = "{type: NUMBER_COMPARISON_TYPE, property: num, operator: lt, value: '0'}";
    assert!(matches(lt, "num", "-1.5"));
    assert!(matches(lt, "num", "-Inf"));
}

#[test]
fn number_constraint_value_that_does_not_parse_is_rejected_at_load() {
    assert_rejected_at(
        "{type: NUMBER_COMPARISON_TYPE, property: num, operator: eq, value: bar}",
        VALUE_PATH,
        "\"bar\"",
    );
}

#[test]
fn number_isnotoneof_uses_float_equality() {
    let c = "{type: NUMBER_COMPARISON_TYPE, property: num, operator: isnotoneof, value: '[5, 3.14159, 4]'}";
    assert!(matches(c, "num", "3"));
    assert!(!matches(c, "num", "3.14159"));
    assert!(!matches(c, "num", "5.0"));
    let isoneof = "{type: NUMBER_COMPARISON_TYPE, property: num, operator: isoneof, value: '[5, 3.14159, 4]'}";
    assert!(matches(isoneof, "num", "4"));
    assert!(matches(isoneof, "num", "5.0"));
    assert!(!matches(isoneof, "num", "3"));
}

#[test]
fn number_isoneof_with_a_string_item_is_rejected_at_load() {
    assert_rejected_at(
        r#"{type: NUMBER_COMPARISON_TYPE, property: num, operator: isoneof, value: '[5, "str"]'}"#,
        VALUE_PATH,
        "JSON array of numbers",
    );
}

#[test]
fn number_present_and_notpresent_trim() {
    let present = "{type: NUMBER_COMPARISON_TYPE, property: num, operator: present}";
    assert!(
        matches(present, "num", "abc"),
        "present does not parse the value"
    );
    assert!(!matches(present, "num", "  "));
    let notpresent = "{type: NUMBER_COMPARISON_TYPE, property: num, operator: notpresent}";
    assert!(matches(notpresent, "num", " "));
    assert!(!matches(notpresent, "num", "1"));
}

// ---------------------------------------------------------------------------
// Booleans (Test_matchesBool).

#[test]
fn boolean_true_with_unparsable_value_does_not_match() {
    let c = "{type: BOOLEAN_COMPARISON_TYPE, property: b, operator: true}";
    assert!(!matches(c, "b", "foo"));
    assert!(!matches(c, "b", "yes"));
    assert!(!matches(c, "b", "false"));
    for v in ["1", "t", "T", "TRUE", "true", "True"] {
        assert!(matches(c, "b", v), "{v} is true for ParseBool");
    }
}

#[test]
fn boolean_false_with_false_matches() {
    let c = "{type: BOOLEAN_COMPARISON_TYPE, property: b, operator: false}";
    assert!(matches(c, "b", "false"));
    for v in ["0", "f", "F", "FALSE", "False"] {
        assert!(matches(c, "b", v), "{v} is false for ParseBool");
    }
    assert!(!matches(c, "b", "true"));
    assert!(!matches(c, "b", "foo"));
}

#[test]
fn boolean_rejects_value_operators_at_load() {
    assert_rejected_at(
        "{type: BOOLEAN_COMPARISON_TYPE, property: b, operator: eq, value: 'true'}",
        OPERATOR_PATH,
        "BOOLEAN_COMPARISON_TYPE",
    );
}

// ---------------------------------------------------------------------------
// Datetimes (Test_matchesDateTime).

#[test]
fn datetime_eq_date_only() {
    let c = "{type: DATETIME_COMPARISON_TYPE, property: d, operator: eq, value: '2006-01-02'}";
    assert!(matches(c, "d", "2006-01-02"));
    assert!(
        matches(c, "d", "2006-01-02T00:00:00Z"),
        "date-only is midnight UTC"
    );
    assert!(!matches(c, "d", "2006-01-03"));
}

#[test]
fn datetime_lt_rfc3339() {
    let c = "{type: DATETIME_COMPARISON_TYPE, property: d, operator: lt, value: '2006-01-02T15:04:05Z'}";
    assert!(matches(c, "d", "2005-01-02T15:04:05Z"));
    assert!(!matches(c, "d", "2006-01-02T15:04:05Z"));
    assert!(!matches(c, "d", "2007-01-02T15:04:05Z"));
}

#[test]
fn datetime_compares_instants_across_offsets() {
    let eq = "{type: DATETIME_COMPARISON_TYPE, property: d, operator: eq, value: '2006-01-02T15:04:05Z'}";
    assert!(matches(eq, "d", "2006-01-02T16:04:05+01:00"));
    assert!(
        !matches(eq, "d", "2006-01-02T15:04:05.000000001Z"),
        "nanosecond precision"
    );
    let gte = "{type: DATETIME_COMPARISON_TYPE, property: d, operator: gte, value: '2006-01-02T15:04:05Z'}";
    assert!(matches(gte, "d", "2006-01-02T10:04:05-05:00"));
    assert!(!matches(gte, "d", "2006-01-02T15:04:04Z"));
}

#[test]
fn datetime_unparsable_context_value_does_not_match() {
    let c = "{type: DATETIME_COMPARISON_TYPE, property: d, operator: neq, value: '2006-01-02'}";
    assert!(!matches(c, "d", "bar"));
    assert!(
        !matches(c, "d", "2006-01-02 15:04:05"),
        "RFC 3339 requires T"
    );
}

#[test]
fn datetime_constraint_value_that_does_not_parse_is_rejected_at_load() {
    assert_rejected_at(
        "{type: DATETIME_COMPARISON_TYPE, property: d, operator: eq, value: bar}",
        VALUE_PATH,
        "\"bar\"",
    );
}

// ---------------------------------------------------------------------------
// ENTITY_ID constraints compare the entity id, not a context value.

#[test]
fn entity_id_constraints() {
    let eq = "{type: ENTITY_ID_COMPARISON_TYPE, property: entityId, operator: eq, value: user-1}";
    assert!(matches_entity(eq, "user-1", &[]));
    assert!(!matches_entity(eq, "user-2", &[("entityId", "user-1")]));

    let isoneof = r#"{type: ENTITY_ID_COMPARISON_TYPE, property: entityId, operator: isoneof, value: '["a", "b"]'}"#;
    assert!(matches_entity(isoneof, "b", &[]));
    assert!(!matches_entity(isoneof, "c", &[]));

    let contains =
        "{type: ENTITY_ID_COMPARISON_TYPE, property: entityId, operator: contains, value: admin}";
    assert!(matches_entity(contains, "org-admin-7", &[]));
    assert!(!matches_entity(contains, "org-7", &[]));

    let neq = "{type: ENTITY_ID_COMPARISON_TYPE, property: entityId, operator: neq, value: x}";
    assert!(matches_entity(neq, "y", &[]));
    assert!(
        !matches_entity(neq, "", &[]),
        "an empty entity id never matches neq"
    );
}

#[test]
fn entity_id_rejects_numeric_operators_at_load() {
    assert_rejected_at(
        "{type: ENTITY_ID_COMPARISON_TYPE, property: entityId, operator: lt, value: x}",
        OPERATOR_PATH,
        "ENTITY_ID_COMPARISON_TYPE",
    );
}

// ---------------------------------------------------------------------------
// Match types and segment operators.

const MATCH_TYPES: &str = r#"
flags:
  - key: all
    name: All
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: all-of, value: true}
  - key: any
    name: Any
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: any-of, value: true}
  - key: all-empty
    name: All empty
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: no-constraints-all, value: true}
  - key: any-empty
    name: Any empty
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: no-constraints-any, value: true}
segments:
  - key: all-of
    name: All of
    match_type: ALL_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: a, operator: eq, value: "1"}
      - {type: STRING_COMPARISON_TYPE, property: b, operator: eq, value: "2"}
  - key: any-of
    name: Any of
    match_type: ANY_MATCH_TYPE
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: a, operator: eq, value: "1"}
      - {type: STRING_COMPARISON_TYPE, property: b, operator: eq, value: "2"}
  - key: no-constraints-all
    name: No constraints (all)
    match_type: ALL_MATCH_TYPE
  - key: no-constraints-any
    name: No constraints (any)
    match_type: ANY_MATCH_TYPE
    constraints: []
"#;

/// Context pairs, then whether the ALL segment and the ANY segment match.
type MatchCase<'a> = (&'a [(&'a str, &'a str)], bool, bool);

#[test]
fn all_vs_any_match_types() {
    let s = snapshot(MATCH_TYPES);
    let cases: [MatchCase<'_>; 4] = [
        (&[("a", "1"), ("b", "2")], true, true),
        (&[("a", "1"), ("b", "3")], false, true),
        (&[("a", "0"), ("b", "2")], false, true),
        (&[("a", "0"), ("b", "0")], false, false),
    ];
    for (ctx, all, any) in cases {
        assert_eq!(
            boolean(&s, "all", "e", ctx).enabled,
            all,
            "ALL with {ctx:?}"
        );
        assert_eq!(
            boolean(&s, "any", "e", ctx).enabled,
            any,
            "ANY with {ctx:?}"
        );
    }
}

#[test]
fn segments_without_constraints_match_everyone() {
    let s = snapshot(MATCH_TYPES);
    assert_eq!(
        boolean(&s, "all-empty", "e", &[]),
        b(true, Reason::Match, &["no-constraints-all"])
    );
    assert_eq!(
        boolean(&s, "any-empty", "e", &[]),
        b(true, Reason::Match, &["no-constraints-any"])
    );
}

const OPERATORS: &str = r#"
flags:
  - key: or-rollout
    name: OR rollout
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {keys: [eu, beta], operator: OR_SEGMENT_OPERATOR, value: true}
  - key: and-rollout
    name: AND rollout
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {keys: [eu, beta], operator: AND_SEGMENT_OPERATOR, value: true}
  - key: default-op
    name: Default operator
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {keys: [eu, beta], value: true}
segments:
  - key: eu
    name: EU
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: region, operator: isoneof, value: '["fr", "de"]'}
  - key: beta
    name: Beta
    constraints:
      - {type: BOOLEAN_COMPARISON_TYPE, property: beta, operator: true}
"#;

#[test]
fn or_vs_and_segment_operators() {
    let s = snapshot(OPERATORS);
    let both = [("region", "fr"), ("beta", "true")];
    let eu_only = [("region", "de"), ("beta", "false")];
    let beta_only = [("region", "us"), ("beta", "1")];
    let neither = [("region", "us")];

    assert_eq!(
        boolean(&s, "or-rollout", "e", &both),
        b(true, Reason::Match, &["eu", "beta"])
    );
    assert_eq!(
        boolean(&s, "or-rollout", "e", &eu_only),
        b(true, Reason::Match, &["eu"])
    );
    assert_eq!(
        boolean(&s, "or-rollout", "e", &beta_only),
        b(true, Reason::Match, &["beta"])
    );
    assert_eq!(
        boolean(&s, "or-rollout", "e", &neither),
        b(false, Reason::Default, &[])
    );

    assert_eq!(
        boolean(&s, "and-rollout", "e", &both),
        b(true, Reason::Match, &["eu", "beta"])
    );
    for ctx in [&eu_only[..], &beta_only[..], &neither[..]] {
        assert_eq!(
            boolean(&s, "and-rollout", "e", ctx),
            b(false, Reason::Default, &[]),
            "AND with {ctx:?}"
        );
    }

    // The operator defaults to OR.
    assert_eq!(
        boolean(&s, "default-op", "e", &beta_only),
        b(true, Reason::Match, &["beta"])
    );
}
