//! Spec §6.1 declarative format: load errors with precise issues, versions,
//! multi-document and JSON input, attachment serialisation, segment reference
//! forms and namespaces.

use guidon_core::{Bucketing, Issue, Reason};

use crate::util::{
    attachment, b, boolean, issue, issue_at, load_files, load_issues, snapshot, v, variant,
    variant_in,
};

/// Asserts exactly one issue, at `path` of features.yml document 1, whose message contains `needle`.
fn assert_single(issues: &[Issue], path: &str, needle: &str) {
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
// Keys and names.

#[test]
fn bad_key_characters() {
    let issues = load_issues(
        r#"
flags:
  - key: "bad key!"
    name: Bad
"#,
    );
    assert_single(&issues, "flags[0].key", "contains invalid characters");
    assert!(issues[0].message.contains("\"bad key!\""));
}

#[test]
fn allowed_key_characters() {
    let s = snapshot(
        r#"
flags:
  - key: "a-b_c,D9"
    name: Ok
    enabled: true
"#,
    );
    assert_eq!(
        variant(&s, "a-b_c,D9", "u", &[]),
        v(false, Reason::Unknown, "", &[])
    );
}

#[test]
fn bad_segment_key_and_namespace_key() {
    let issues = load_issues(
        r#"
segments:
  - key: "a.b"
    name: Dotted
"#,
    );
    assert_single(&issues, "segments[0].key", "contains invalid characters");

    let issues = load_issues("namespace: \"team a\"\n");
    assert_single(&issues, "namespace", "contains invalid characters");
}

#[test]
fn missing_name() {
    let issues = load_issues(
        r#"
flags:
  - key: nameless
    enabled: true
"#,
    );
    assert_single(&issues, "flags[0].name", "name is required");

    let issues = load_issues(
        r#"
segments:
  - key: nameless
    name: ""
"#,
    );
    assert_single(&issues, "segments[0].name", "name is required");
}

#[test]
fn missing_key() {
    let issues = load_issues(
        r#"
flags:
  - name: No key
"#,
    );
    assert_single(&issues, "flags[0].key", "key is required");
}

#[test]
fn duplicate_flag_keys_across_two_files() {
    let a = r#"
flags:
  - key: dup
    name: First
"#;
    let b_doc = r#"
flags:
  - key: other
    name: Other
  - key: dup
    name: Second
"#;
    let err = load_files(
        &[("a.features.yml", a), ("b.features.yml", b_doc)],
        Bucketing::default(),
    )
    .unwrap_err();
    assert_eq!(err.issues.len(), 1, "{:#?}", err.issues);
    let got = &err.issues[0];
    assert_eq!(
        (got.file.as_str(), got.document, got.path.as_str()),
        ("b.features.yml", 1, "flags[1]")
    );
    assert!(
        got.message
            .contains(r#"flag "default/dup" is defined more than once"#),
        "{got:#?}"
    );
    assert!(got.message.contains("a.features.yml"), "{got:#?}");
}

#[test]
fn same_flag_key_in_different_namespaces_is_fine() {
    let a = "namespace: one\nflags:\n  - {key: dup, name: One, enabled: true, variants: [{key: x, default: true}]}\n";
    let b_doc = "namespace: two\nflags:\n  - {key: dup, name: Two, enabled: true, variants: [{key: y1, default: true}]}\n";
    let s = load_files(&[("a.yml", a), ("b.yml", b_doc)], Bucketing::default()).unwrap();
    assert_eq!(variant_in(&s, "one", "dup", "u", &[]).unwrap().variant, "x");
    assert_eq!(
        variant_in(&s, "two", "dup", "u", &[]).unwrap().variant,
        "y1"
    );
}

#[test]
fn duplicate_segment_keys() {
    let issues = load_issues(
        r#"
segments:
  - key: s
    name: S
  - key: s
    name: S again
"#,
    );
    assert_single(
        &issues,
        "segments[1]",
        r#"segment "default/s" is defined more than once"#,
    );
}

// ---------------------------------------------------------------------------
// References.

#[test]
fn unknown_segment_reference() {
    let issues = load_issues(
        r#"
namespace: ns
flags:
  - key: key
    name: Key
    variants:
      - key: a
    rules:
      - segment: x
"#,
    );
    assert_eq!(
        issues,
        [issue(
            "flags[0].rules[0]",
            r#"flag ns/key rule 1 references unknown segment "x""#
        )]
    );
}

#[test]
fn unknown_segment_reference_in_second_rule_and_rollout() {
    let issues = load_issues(
        r#"
flags:
  - key: v
    name: V
    rules:
      - segment: s
      - segment: {keys: [s, missing]}
  - key: b
    name: B
    type: BOOLEAN_FLAG_TYPE
    rollouts:
      - threshold: {percentage: 10}
      - segment: {key: gone}
segments:
  - key: s
    name: S
"#,
    );
    assert_eq!(
        issues,
        [
            issue(
                "flags[0].rules[1]",
                r#"flag default/v rule 2 references unknown segment "missing""#
            ),
            issue(
                "flags[1].rollouts[1]",
                r#"flag default/b rollout 2 references unknown segment "gone""#
            ),
        ]
    );
}

#[test]
fn rule_without_segment() {
    let issues = load_issues(
        r#"
flags:
  - key: f
    name: F
    rules:
      - distributions: []
"#,
    );
    assert_single(&issues, "flags[0].rules[0].segment", "at least one segment");
}

#[test]
fn unknown_variant_reference() {
    let issues = load_issues(
        r#"
flags:
  - key: f
    name: F
    variants:
      - key: a
    rules:
      - segment: s
        distributions:
          - {variant: a, rollout: 50}
          - {variant: nope, rollout: 50}
segments:
  - key: s
    name: S
"#,
    );
    assert_eq!(
        issues,
        [issue(
            "flags[0].rules[0].distributions[1]",
            r#"flag default/f rule 1 references unknown variant "nope""#
        )]
    );
}

#[test]
fn segment_of_another_namespace_is_unknown() {
    let docs = r#"
namespace: one
segments:
  - key: s
    name: S
---
namespace: two
flags:
  - key: f
    name: F
    rules:
      - segment: s
"#;
    let err = load_files(&[("features.yml", docs)], Bucketing::default()).unwrap_err();
    assert_eq!(
        err.issues,
        [issue_at(
            "features.yml",
            2,
            "flags[0].rules[0]",
            r#"flag two/f rule 1 references unknown segment "s""#
        )]
    );
}

// ---------------------------------------------------------------------------
// Constraints.

fn constraint_doc(constraint: &str) -> String {
    format!("segments:\n  - key: s\n    name: S\n    constraints:\n      - {constraint}\n")
}

#[test]
fn operator_not_allowed_for_type() {
    let cases = [
        ("BOOLEAN_COMPARISON_TYPE", "eq"),
        ("STRING_COMPARISON_TYPE", "lt"),
        ("STRING_COMPARISON_TYPE", "present"),
        ("NUMBER_COMPARISON_TYPE", "contains"),
        ("NUMBER_COMPARISON_TYPE", "true"),
        ("DATETIME_COMPARISON_TYPE", "prefix"),
        ("DATETIME_COMPARISON_TYPE", "isoneof"),
        ("ENTITY_ID_COMPARISON_TYPE", "gte"),
    ];
    for (ty, op) in cases {
        let c = format!("{{type: {ty}, property: p, operator: '{op}', value: '1'}}");
        let issues = load_issues(&constraint_doc(&c));
        assert_single(&issues, "segments[0].constraints[0].operator", ty);
        assert!(
            issues[0].message.contains(&format!("{op:?}")),
            "{issues:#?}"
        );
    }
}

#[test]
fn unknown_comparison_type() {
    let issues = load_issues(&constraint_doc(
        "{type: REGEX_COMPARISON_TYPE, property: p, operator: eq, value: x}",
    ));
    assert_single(
        &issues,
        "segments[0].constraints[0].type",
        "REGEX_COMPARISON_TYPE",
    );
}

#[test]
fn value_required_for_value_operators() {
    let issues = load_issues(&constraint_doc(
        "{type: STRING_COMPARISON_TYPE, property: p, operator: eq}",
    ));
    assert_single(
        &issues,
        "segments[0].constraints[0].value",
        "value is required",
    );
}

fn list_of(n: usize) -> String {
    let items: Vec<String> = (0..n).map(|i| format!("\"v{i}\"")).collect();
    format!("[{}]", items.join(", "))
}

#[test]
fn isoneof_with_more_than_100_items() {
    let c = format!(
        "{{type: STRING_COMPARISON_TYPE, property: p, operator: isoneof, value: '{}'}}",
        list_of(101)
    );
    let issues = load_issues(&constraint_doc(&c));
    assert_single(&issues, "segments[0].constraints[0].value", "100");

    let numbers: Vec<String> = (0..101).map(|i| i.to_string()).collect();
    let c = format!(
        "{{type: NUMBER_COMPARISON_TYPE, property: p, operator: isnotoneof, value: '[{}]'}}",
        numbers.join(",")
    );
    let issues = load_issues(&constraint_doc(&c));
    assert_single(&issues, "segments[0].constraints[0].value", "100");
}

#[test]
fn isoneof_with_exactly_100_items_is_accepted() {
    let c = format!(
        "{{type: STRING_COMPARISON_TYPE, property: p, operator: isoneof, value: '{}'}}",
        list_of(100)
    );
    let s = snapshot(&constraint_doc(&c));
    let seg = s.namespace("default").unwrap().segment("s").unwrap();
    assert_eq!(seg.constraints.len(), 1);
}

#[test]
fn bad_datetime() {
    for bad in [
        "2006-13-45",
        "2006-01-02T15:04:05",
        "yesterday",
        "2006-02-30",
    ] {
        let c = format!(
            "{{type: DATETIME_COMPARISON_TYPE, property: d, operator: gt, value: '{bad}'}}"
        );
        let issues = load_issues(&constraint_doc(&c));
        assert_single(&issues, "segments[0].constraints[0].value", bad);
    }
}

#[test]
fn good_datetimes_are_accepted() {
    for good in [
        "2006-01-02",
        "2006-01-02T15:04:05Z",
        "2006-01-02T15:04:05.123+02:00",
    ] {
        let c = format!(
            "{{type: DATETIME_COMPARISON_TYPE, property: d, operator: gt, value: '{good}'}}"
        );
        snapshot(&constraint_doc(&c));
    }
}

#[test]
fn no_value_operators_clear_the_value() {
    let s = snapshot(&constraint_doc(
        "{type: STRING_COMPARISON_TYPE, property: p, operator: empty, value: ignored}",
    ));
    let seg = s.namespace("default").unwrap().segment("s").unwrap();
    assert_eq!(seg.constraints[0].value, "");
}

// ---------------------------------------------------------------------------
// Percentages.

#[test]
fn distribution_rollout_101() {
    let issues = load_issues(
        r#"
flags:
  - key: f
    name: F
    variants:
      - key: a
    rules:
      - segment: s
        distributions:
          - {variant: a, rollout: 101}
segments:
  - key: s
    name: S
"#,
    );
    assert_single(
        &issues,
        "flags[0].rules[0].distributions[0].rollout",
        "[0, 100]",
    );
    assert!(issues[0].message.contains("101"), "{issues:#?}");
}

#[test]
fn threshold_percentage_out_of_range() {
    for bad in ["101", "-1", "100.5"] {
        let yaml = format!(
            "flags:\n  - key: f\n    name: F\n    type: BOOLEAN_FLAG_TYPE\n    rollouts:\n      - threshold: {{percentage: {bad}, value: true}}\n"
        );
        let issues = load_issues(&yaml);
        assert_single(
            &issues,
            "flags[0].rollouts[0].threshold.percentage",
            "[0, 100]",
        );
    }
    // The bounds themselves are allowed.
    for ok in ["0", "100"] {
        let yaml = format!(
            "flags:\n  - key: f\n    name: F\n    type: BOOLEAN_FLAG_TYPE\n    rollouts:\n      - threshold: {{percentage: {ok}, value: true}}\n"
        );
        snapshot(&yaml);
    }
}

// ---------------------------------------------------------------------------
// Versions.

#[test]
fn flag_type_needs_version_1_1() {
    let issues = load_issues(
        r#"
version: "1.0"
flags:
  - key: f
    name: F
    type: BOOLEAN_FLAG_TYPE
"#,
    );
    assert_eq!(
        issues,
        [issue(
            "flags[0].type",
            "flag.type is supported in version >=1.1, found 1.0"
        )]
    );
}

#[test]
fn unsupported_version() {
    let issues = load_issues("version: \"5.0\"\nflags: []\n");
    assert_eq!(issues, [issue("version", "unsupported version: 5.0")]);
}

#[test]
fn version_gates() {
    let cases = [
        (
            r#"
version: "1.2"
flags:
  - key: f
    name: F
    metadata: {owner: me}
"#,
            "flags[0].metadata",
            "flag.metadata is supported in version >=1.3, found 1.2",
        ),
        (
            r#"
version: "1.2"
flags:
  - key: f
    name: F
    variants:
      - key: a
        default: true
"#,
            "flags[0].variants[0].default",
            "variant.default is supported in version >=1.3, found 1.2",
        ),
        (
            r#"
version: "1.1"
flags:
  - key: f
    name: F
    rules:
      - segment: {keys: [s], operator: OR_SEGMENT_OPERATOR}
segments:
  - key: s
    name: S
"#,
            "flags[0].rules[0].segment.keys",
            "flag.rules[*].segment.keys is supported in version >=1.2, found 1.1",
        ),
        (
            r#"
version: "1.4"
flags:
  - key: f
    name: F
    rules:
      - segment: [s]
segments:
  - key: s
    name: S
"#,
            "flags[0].rules[0].segment",
            "flag.rules[*].segment (list form) is supported in version >=1.5, found 1.4",
        ),
    ];
    for (yaml, path, message) in cases {
        assert_eq!(load_issues(yaml), [issue(path, message)], "{yaml}");
    }
}

#[test]
fn version_gate_for_native_isoneof_list() {
    let yaml = format!(
        "version: \"1.5\"\n{}",
        constraint_doc(
            "{type: STRING_COMPARISON_TYPE, property: p, operator: isoneof, value: [a, b]}"
        )
    );
    let issues = load_issues(&yaml);
    assert_single(
        &issues,
        "segments[0].constraints[0].value",
        ">=1.6, found 1.5",
    );
}

#[test]
fn every_known_version_is_accepted() {
    for ver in ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6"] {
        let yaml = format!("version: \"{ver}\"\nflags:\n  - key: f\n    name: F\n");
        snapshot(&yaml);
    }
}

// ---------------------------------------------------------------------------
// Unknown fields and shapes.

#[test]
fn unknown_fields() {
    let issues = load_issues(
        r#"
flagz: []
flags:
  - key: f
    name: F
    colour: red
    variants:
      - key: a
        weight: 3
"#,
    );
    assert_eq!(
        issues,
        [
            issue("flagz", r#"unknown field "flagz""#),
            issue("flags[0].colour", r#"unknown field "colour""#),
            issue("flags[0].variants[0].weight", r#"unknown field "weight""#),
        ]
    );
}

#[test]
fn unknown_constraint_field() {
    let issues = load_issues(&constraint_doc(
        "{type: STRING_COMPARISON_TYPE, property: p, operator: eq, value: x, negate: true}",
    ));
    assert_eq!(
        issues,
        [issue(
            "segments[0].constraints[0].negate",
            r#"unknown field "negate""#
        )]
    );
}

#[test]
fn boolean_flag_cannot_have_variants_and_variant_flag_cannot_have_rollouts() {
    let issues = load_issues(
        r#"
flags:
  - key: b
    name: B
    type: BOOLEAN_FLAG_TYPE
    variants:
      - key: a
  - key: v
    name: V
    rollouts:
      - threshold: {percentage: 5, value: true}
"#,
    );
    assert_eq!(issues.len(), 2, "{issues:#?}");
    assert_eq!(issues[0].path, "flags[0].variants");
    assert_eq!(issues[1].path, "flags[1].rollouts");
}

#[test]
fn every_issue_is_reported_in_one_pass() {
    let issues = load_issues(
        r#"
flags:
  - key: "x y"
  - key: ok
    name: Ok
    enabled: "yes"
"#,
    );
    let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["flags[0].key", "flags[0].name", "flags[1].enabled"]);
}

// ---------------------------------------------------------------------------
// Multi-document YAML and JSON.

#[test]
fn multi_document_yaml_reports_the_bad_document() {
    let yaml = r#"
flags:
  - key: good
    name: Good
---
namespace: other
flags:
  - key: bad
"#;
    let err = load_files(&[("features.yml", yaml)], Bucketing::default()).unwrap_err();
    assert_eq!(
        err.issues,
        [issue_at(
            "features.yml",
            2,
            "flags[0].name",
            "name is required"
        )]
    );
    assert_eq!(
        err.to_string(),
        "features.yml (document 2) at flags[0].name: name is required"
    );
}

#[test]
fn multi_document_yaml_merges_namespaces() {
    let yaml = r#"
namespace: team
segments:
  - key: s
    name: S
---
namespace: team
flags:
  - key: f
    name: F
    enabled: true
    variants:
      - key: on-variant
    rules:
      - segment: s
---
flags:
  - key: g
    name: G
    type: BOOLEAN_FLAG_TYPE
    enabled: true
"#;
    let s = snapshot(yaml);
    assert_eq!(
        variant_in(&s, "team", "f", "u", &[]).unwrap(),
        v(true, Reason::Match, "", &["s"])
    );
    assert_eq!(boolean(&s, "g", "u", &[]), b(true, Reason::Default, &[]));
    let keys: Vec<&str> = s.namespaces().iter().map(|n| n.key.as_str()).collect();
    assert_eq!(keys, ["default", "team"]);
}

const JSON_DOC: &str = r#"{
  "version": "1.4",
  "namespace": "json-ns",
  "flags": [
    {"key": "f", "name": "F", "enabled": true,
     "variants": [{"key": "a", "attachment": {"z": 1, "a": [true, null]}}],
     "rules": [{"segment": "s", "distributions": [{"variant": "a", "rollout": 100}]}]}
  ],
  "segments": [
    {"key": "s", "name": "S", "match_type": "ANY_MATCH_TYPE",
     "constraints": [{"type": "NUMBER_COMPARISON_TYPE", "property": "age", "operator": "gte", "value": "18"}]}
  ]
}"#;

#[test]
fn json_file_input() {
    let s = load_files(&[("flags/features.json", JSON_DOC)], Bucketing::default()).unwrap();
    assert_eq!(
        variant_in(&s, "json-ns", "f", "u", &[("age", "21")]).unwrap(),
        v(true, Reason::Match, "a", &["s"])
    );
    assert_eq!(
        variant_in(&s, "json-ns", "f", "u", &[("age", "17")]).unwrap(),
        v(false, Reason::Unknown, "", &[])
    );
    let flag = s.namespace("json-ns").unwrap().flag("f").unwrap();
    assert_eq!(flag.variants[0].attachment, r#"{"a":[true,null],"z":1}"#);
}

#[test]
fn json_stream_and_json_errors() {
    let stream = r#"{"namespace": "a", "flags": [{"key": "f", "name": "F"}]}
{"namespace": "b", "flags": [{"key": "g"}]}"#;
    let err = load_files(&[("features.json", stream)], Bucketing::default()).unwrap_err();
    assert_eq!(
        err.issues,
        [issue_at(
            "features.json",
            2,
            "flags[0].name",
            "name is required"
        )]
    );

    let err = load_files(&[("features.json", "{\"flags\": [")], Bucketing::default()).unwrap_err();
    assert_eq!(err.issues.len(), 1);
    assert_eq!(
        (
            err.issues[0].file.as_str(),
            err.issues[0].document,
            err.issues[0].path.as_str()
        ),
        ("features.json", 0, "")
    );
    assert!(
        err.issues[0].message.starts_with("invalid JSON"),
        "{:?}",
        err.issues
    );

    // A .yml path is YAML: the same broken text is a YAML error.
    let err = load_files(
        &[("features.yml", "flags: [\n  - key: x\n")],
        Bucketing::default(),
    )
    .unwrap_err();
    assert_eq!(err.issues[0].document, 0);
    assert!(
        err.issues[0].message.starts_with("invalid YAML"),
        "{:?}",
        err.issues
    );
}

// ---------------------------------------------------------------------------
// Attachments.

const ATTACHMENTS: &str = r#"
flags:
  - key: f
    name: F
    enabled: true
    variants:
      - key: sorted
        attachment:
          zeta: 1
          alpha: {d: x, c: [3, 2, 1]}
          mid: 1.0
      - key: html
        attachment: {html: "<b>Tom & Jerry</b>"}
      - key: bare
      - key: list
        attachment: [{b: 2, a: 1}, "x", 2.5, false]
      - key: big
        attachment: {n: 1e21, small: 0.000001, neg: -0}
    rules:
      - segment: {key: pick, operator: OR_SEGMENT_OPERATOR}
        distributions:
          - {variant: sorted, rollout: 100}
segments:
  - key: pick
    name: Pick
"#;

fn attachment_of(s: &guidon_core::Snapshot, key: &str) -> String {
    let flag = s.namespace("default").unwrap().flag("f").unwrap();
    flag.variants
        .iter()
        .find(|v| v.key == key)
        .unwrap()
        .attachment
        .clone()
}

#[test]
fn attachments_are_go_marshalled_with_sorted_keys() {
    let s = snapshot(ATTACHMENTS);
    assert_eq!(
        attachment_of(&s, "sorted"),
        r#"{"alpha":{"c":[3,2,1],"d":"x"},"mid":1,"zeta":1}"#
    );
    // The evaluation response carries the same string.
    assert_eq!(
        attachment(&s, "f", "anyone"),
        r#"{"alpha":{"c":[3,2,1],"d":"x"},"mid":1,"zeta":1}"#
    );
}

#[test]
fn attachments_escape_html_as_go_does() {
    let s = snapshot(ATTACHMENTS);
    assert_eq!(
        attachment_of(&s, "html"),
        r#"{"html":"\u003cb\u003eTom \u0026 Jerry\u003c/b\u003e"}"#
    );
}

#[test]
fn variant_without_attachment_is_the_string_null() {
    let s = snapshot(ATTACHMENTS);
    assert_eq!(attachment_of(&s, "bare"), "null");
}

#[test]
fn list_attachments_and_go_float_formatting() {
    let s = snapshot(ATTACHMENTS);
    assert_eq!(
        attachment_of(&s, "list"),
        r#"[{"a":1,"b":2},"x",2.5,false]"#
    );
    assert_eq!(
        attachment_of(&s, "big"),
        r#"{"n":1e+21,"neg":0,"small":0.000001}"#
    );
}

#[test]
fn scalar_attachment_is_rejected() {
    let issues = load_issues(
        r#"
flags:
  - key: f
    name: F
    variants:
      - key: a
        attachment: "just a string"
"#,
    );
    assert_single(&issues, "flags[0].variants[0].attachment", "a string");
}

// ---------------------------------------------------------------------------
// Segment reference forms.

const REFERENCE_FORMS: &str = r#"
version: "1.5"
flags:
  - key: string-form
    name: String form
    enabled: true
    rules:
      - segment: a
  - key: key-form
    name: Key form
    enabled: true
    rules:
      - segment: {key: a}
  - key: keys-and
    name: Keys AND
    enabled: true
    rules:
      - segment: {keys: [a, b], operator: AND_SEGMENT_OPERATOR}
  - key: keys-or
    name: Keys OR
    enabled: true
    rules:
      - segment: {keys: [a, b]}
  - key: list-form
    name: List form
    enabled: true
    rules:
      - segment: [a, b]
  - key: rule-segments
    name: Rule-level segments
    enabled: true
    rules:
      - segments: [a, b]
        operator: AND_SEGMENT_OPERATOR
  - key: rollout-key
    name: Rollout key
    type: BOOLEAN_FLAG_TYPE
    rollouts:
      - segment: {key: b, value: true}
  - key: rollout-keys
    name: Rollout keys
    type: BOOLEAN_FLAG_TYPE
    rollouts:
      - segment: {keys: [a, b], operator: AND_SEGMENT_OPERATOR, value: true}
segments:
  - key: a
    name: A
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: a, operator: eq, value: "yes"}
  - key: b
    name: B
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: b, operator: eq, value: "yes"}
"#;

#[test]
fn segment_reference_forms() {
    let s = snapshot(REFERENCE_FORMS);
    let both = [("a", "yes"), ("b", "yes")];
    let only_a = [("a", "yes")];
    let only_b = [("b", "yes")];
    let hit = |segs: &[&str]| v(true, Reason::Match, "", segs);
    let miss = v(false, Reason::Unknown, "", &[]);

    assert_eq!(variant(&s, "string-form", "u", &only_a), hit(&["a"]));
    assert_eq!(variant(&s, "string-form", "u", &only_b), miss);
    assert_eq!(variant(&s, "key-form", "u", &only_a), hit(&["a"]));
    assert_eq!(variant(&s, "key-form", "u", &only_b), miss);

    assert_eq!(variant(&s, "keys-and", "u", &both), hit(&["a", "b"]));
    assert_eq!(variant(&s, "keys-and", "u", &only_a), miss);
    assert_eq!(variant(&s, "keys-or", "u", &only_b), hit(&["b"]));
    assert_eq!(variant(&s, "keys-or", "u", &both), hit(&["a", "b"]));

    // The 1.5 list form is an OR of the keys.
    assert_eq!(variant(&s, "list-form", "u", &only_b), hit(&["b"]));
    assert_eq!(variant(&s, "list-form", "u", &[]), miss);

    // The 1.2 rule-level form honours `operator`.
    assert_eq!(variant(&s, "rule-segments", "u", &both), hit(&["a", "b"]));
    assert_eq!(variant(&s, "rule-segments", "u", &only_a), miss);

    assert_eq!(
        boolean(&s, "rollout-key", "u", &only_b),
        b(true, Reason::Match, &["b"])
    );
    assert_eq!(
        boolean(&s, "rollout-key", "u", &only_a),
        b(false, Reason::Default, &[])
    );
    assert_eq!(
        boolean(&s, "rollout-keys", "u", &both),
        b(true, Reason::Match, &["a", "b"])
    );
    assert_eq!(
        boolean(&s, "rollout-keys", "u", &only_a),
        b(false, Reason::Default, &[])
    );
}

#[test]
fn segment_with_both_key_and_keys_is_rejected() {
    let issues = load_issues(
        r#"
flags:
  - key: f
    name: F
    rules:
      - segment: {key: a, keys: [a]}
segments:
  - key: a
    name: A
"#,
    );
    assert!(
        issues
            .iter()
            .any(|i| i.path == "flags[0].rules[0].segment"
                && i.message.contains("both key and keys")),
        "{issues:#?}"
    );
}

#[test]
fn rollout_segment_value_defaults_to_false() {
    let s = snapshot(
        r#"
flags:
  - key: f
    name: F
    type: BOOLEAN_FLAG_TYPE
    enabled: true
    rollouts:
      - segment: {key: all}
segments:
  - key: all
    name: All
"#,
    );
    assert_eq!(
        boolean(&s, "f", "u", &[]),
        b(false, Reason::Match, &["all"])
    );
}

// ---------------------------------------------------------------------------
// Namespaces.

#[test]
fn namespace_as_string_and_as_object() {
    let yaml = r#"
namespace: team-a
flags:
  - {key: f, name: F, type: BOOLEAN_FLAG_TYPE, enabled: true}
---
namespace:
  key: team-b
  name: Team B
  description: The B team
flags:
  - {key: f, name: F, type: BOOLEAN_FLAG_TYPE, enabled: false}
"#;
    let s = snapshot(yaml);
    let a = s.namespace("team-a").unwrap();
    assert_eq!((a.key.as_str(), a.name.as_str()), ("team-a", "team-a"));
    let bns = s.namespace("team-b").unwrap();
    assert_eq!(
        (
            bns.key.as_str(),
            bns.name.as_str(),
            bns.description.as_str()
        ),
        ("team-b", "Team B", "The B team")
    );
    assert_eq!(
        crate::util::boolean_in(&s, "team-a", "f", "u", &[]).unwrap(),
        b(true, Reason::Default, &[])
    );
    assert_eq!(
        crate::util::boolean_in(&s, "team-b", "f", "u", &[]).unwrap(),
        b(false, Reason::Default, &[])
    );
    // Not in the default namespace.
    assert!(crate::util::boolean_in(&s, "", "f", "u", &[]).is_err());
}

#[test]
fn absent_namespace_is_default() {
    let s = snapshot("flags:\n  - {key: f, name: F, type: BOOLEAN_FLAG_TYPE, enabled: true}\n");
    let d = s.namespace("default").unwrap();
    assert_eq!(d.name, "Default");
    assert_eq!(d.flags().len(), 1);
    assert_eq!(s.namespaces().len(), 1);
    assert_eq!(s.flag_count(), 1);
}

// ---------------------------------------------------------------------------
// YAML scalars in string fields.
//
// Flipt decodes documents with Go's gopkg.in/yaml.v3 into structs whose key,
// property, variant and value fields are Go strings; yaml.v3 stores a plain
// scalar's original text in a string field (`on` stays "on", `n` stays "n",
// `1.10` stays "1.10"). The spec's own §6.1 example uses `key: on`.

#[test]
fn yaml_1_1_boolean_words_are_plain_strings_in_key_fields() {
    let yaml = r#"
flags:
  - key: y
    name: Yes flag
    enabled: true
    variants:
      - key: on
      - key: off
    rules:
      - segment: n
        distributions:
          - {variant: on, rollout: 100}
segments:
  - key: n
    name: N
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: no, operator: eq, value: yes}
"#;
    let s = snapshot(yaml);
    let ns = s.namespace("default").unwrap();
    let flag_keys: Vec<&str> = ns.flags().iter().map(|f| f.key.as_str()).collect();
    assert_eq!(flag_keys, ["y"]);
    let variant_keys: Vec<&str> = ns.flags()[0]
        .variants
        .iter()
        .map(|v| v.key.as_str())
        .collect();
    assert_eq!(variant_keys, ["on", "off"]);
    let seg = &ns.segments()[0];
    assert_eq!(seg.key, "n");
    assert_eq!(seg.constraints[0].property, "no");
    assert_eq!(seg.constraints[0].value, "yes");
    assert_eq!(
        variant(&s, "y", "u", &[("no", "yes")]),
        v(true, Reason::Match, "on", &["n"])
    );
}

#[test]
fn numeric_scalars_keep_their_text_in_string_fields() {
    let yaml = r#"
flags:
  - key: f
    name: F
    type: BOOLEAN_FLAG_TYPE
    rollouts:
      - segment: {key: s, value: true}
segments:
  - key: s
    name: S
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: version, operator: eq, value: 1.10}
"#;
    let s = snapshot(yaml);
    let seg = s.namespace("default").unwrap().segment("s").unwrap();
    assert_eq!(seg.constraints[0].value, "1.10");
    assert_eq!(
        boolean(&s, "f", "u", &[("version", "1.10")]),
        b(true, Reason::Match, &["s"])
    );
}

#[test]
fn repeated_segment_keys_count_once() {
    // Flipt keeps a rule's segments in a map: `[s, s]` is one segment.
    let s = crate::util::snapshot(
        r#"
flags:
  - key: f
    name: F
    enabled: true
    variants: [{key: x, name: X}]
    rules:
      - segment: {keys: [s, s], operator: AND_SEGMENT_OPERATOR}
        distributions: [{variant: x, rollout: 100}]
segments:
  - key: s
    name: S
"#,
    );
    assert_eq!(
        crate::util::variant(&s, "f", "e", &[]),
        crate::util::v(true, Reason::Match, "x", &["s"])
    );
}

#[test]
fn unexpected_extensions_are_errors() {
    let err =
        crate::util::load_files(&[("flags.txt", "flags: []")], Bucketing::default()).unwrap_err();
    assert_eq!(err.issues.len(), 1);
    assert_eq!(err.issues[0].file, "flags.txt");
    assert_eq!(err.issues[0].message, "unexpected extension: \".txt\"");
    // No extension means JSON.
    assert!(
        crate::util::load_files(&[("flags", r#"{"flags": []}"#)], Bucketing::default()).is_ok()
    );
}
