//! The work a request costs Guidon beyond HTTP itself: decode the body,
//! evaluate, serialise the response (`cargo bench -p guidon-server`).

use guidon_core::{CompileOptions, Snapshot, SourceFile, load};
use guidon_server::evaluate::{boolean_json, variant_json};

fn main() {
    divan::main();
}

const FLAGS: &str = r#"
flags:
  - key: flag-500
    name: Flag
    type: BOOLEAN_FLAG_TYPE
    enabled: true
    rollouts:
      - segment: {key: seg-0, value: false}
      - threshold: {percentage: 50, value: true}
  - key: flag-501
    name: Flag
    enabled: true
    variants: [{key: a, name: A, attachment: {n: 501}}, {key: b, name: B}]
    rules:
      - segment: seg-1
        distributions: [{variant: a, rollout: 50}, {variant: b, rollout: 50}]
segments:
  - key: seg-0
    name: S0
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: tier, operator: eq, value: t0}
      - {type: NUMBER_COMPARISON_TYPE, property: age, operator: gte, value: "18"}
  - key: seg-1
    name: S1
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: tier, operator: eq, value: t1}
      - {type: NUMBER_COMPARISON_TYPE, property: age, operator: gte, value: "18"}
"#;

fn snapshot() -> Snapshot {
    load(
        &[SourceFile {
            path: "features.yml",
            contents: FLAGS.as_bytes(),
        }],
        CompileOptions::default(),
    )
    .expect("benchmark flags are valid")
}

#[divan::bench(sample_count = 300, sample_size = 100)]
fn boolean(bencher: divan::Bencher) {
    let snap = snapshot();
    let body = br#"{"namespaceKey":"default","flagKey":"flag-500","entityId":"user-1234","context":{"tier":"t7","age":"30"}}"#;
    bencher.bench_local(|| boolean_json(&snap, divan::black_box(body), None).map(|b| b.len()));
}

#[divan::bench(sample_count = 300, sample_size = 100)]
fn variant(bencher: divan::Bencher) {
    let snap = snapshot();
    let body = br#"{"namespaceKey":"default","flagKey":"flag-501","entityId":"user-1234","context":{"tier":"t1","age":"30"}}"#;
    bencher.bench_local(|| variant_json(&snap, divan::black_box(body), None).map(|b| b.len()));
}
