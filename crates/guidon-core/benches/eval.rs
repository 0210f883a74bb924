//! In-process benchmarks of the evaluation engine (`cargo bench -p guidon-core`).
//!
//! - `boolean`: a boolean flag with a segment rollout that fails and a threshold.
//! - `variant_three_constraints`: a variant flag whose matching rule's segment has
//!   three constraints (string, number, datetime), bucketed over three variants.
//! - `compile_10k_flags`: parse, validate and compile a generated document with
//!   10,000 flags and 1,000 segments.
//!
//! The allocation profiler reports allocations per iteration: evaluation must
//! show none.

use std::collections::HashMap;
use std::fmt::Write;

use guidon_core::{CompileOptions, EvalRequest, Snapshot, SourceFile, load};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

const FLAGS: &str = r#"
flags:
  - key: new-checkout
    name: New checkout
    type: BOOLEAN_FLAG_TYPE
    enabled: false
    rollouts:
      - segment: {key: staff, value: true}
      - threshold: {percentage: 40, value: true}
  - key: button-color
    name: Button colour
    enabled: true
    variants:
      - {key: blue, name: Blue}
      - {key: green, name: Green}
      - {key: orange, name: Orange}
    rules:
      - segment: paying
        distributions:
          - {variant: blue, rollout: 33.34}
          - {variant: green, rollout: 33.33}
          - {variant: orange, rollout: 33.33}
segments:
  - key: staff
    name: Staff
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: email, operator: suffix, value: "@example.com"}
  - key: paying
    name: Paying
    constraints:
      - {type: STRING_COMPARISON_TYPE, property: plan, operator: eq, value: pro}
      - {type: NUMBER_COMPARISON_TYPE, property: seats, operator: gte, value: "5"}
      - {type: DATETIME_COMPARISON_TYPE, property: signed_up, operator: lt, value: "2026-01-01T00:00:00Z"}
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

fn context() -> HashMap<String, String> {
    [
        ("email", "someone@customer.org"),
        ("plan", "pro"),
        ("seats", "12"),
        ("signed_up", "2025-03-04T05:06:07Z"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[divan::bench(sample_count = 500, sample_size = 200)]
fn boolean(bencher: divan::Bencher) {
    let snap = snapshot();
    let ctx = context();
    bencher.bench_local(|| {
        let req = EvalRequest {
            namespace: "default",
            flag: divan::black_box("new-checkout"),
            entity_id: divan::black_box("user-1234"),
            context: &ctx,
        };
        divan::black_box(snap.boolean(&req).map(|r| r.enabled))
    });
}

#[divan::bench(sample_count = 500, sample_size = 200)]
fn variant_three_constraints(bencher: divan::Bencher) {
    let snap = snapshot();
    let ctx = context();
    bencher.bench_local(|| {
        let req = EvalRequest {
            namespace: "default",
            flag: divan::black_box("button-color"),
            entity_id: divan::black_box("user-1234"),
            context: &ctx,
        };
        divan::black_box(snap.variant(&req).map(|r| r.variant_key.len()))
    });
}

/// A document with `flags` flags (half boolean, half variant) over 1,000 segments.
pub fn generated(flags: usize) -> String {
    let mut y = String::from("version: \"1.4\"\nnamespace: big\nflags:\n");
    for i in 0..flags {
        let seg = i % 1000;
        if i % 2 == 0 {
            let _ = write!(
                y,
                "  - key: flag-{i}\n    name: Flag {i}\n    type: BOOLEAN_FLAG_TYPE\n    enabled: true\n    rollouts:\n      - segment: {{key: seg-{seg}, value: false}}\n      - threshold: {{percentage: 50, value: true}}\n"
            );
        } else {
            let _ = write!(
                y,
                "  - key: flag-{i}\n    name: Flag {i}\n    enabled: true\n    variants:\n      - {{key: a, name: A, attachment: {{n: {i}}}}}\n      - {{key: b, name: B}}\n    rules:\n      - segment: seg-{seg}\n        distributions:\n          - {{variant: a, rollout: 50}}\n          - {{variant: b, rollout: 50}}\n"
            );
        }
    }
    y.push_str("segments:\n");
    for s in 0..1000 {
        let _ = write!(
            y,
            "  - key: seg-{s}\n    name: Segment {s}\n    constraints:\n      - {{type: STRING_COMPARISON_TYPE, property: tier, operator: eq, value: t{s}}}\n      - {{type: NUMBER_COMPARISON_TYPE, property: age, operator: gte, value: \"18\"}}\n"
        );
    }
    y
}

#[divan::bench(sample_count = 10)]
fn compile_10k_flags(bencher: divan::Bencher) {
    let doc = generated(10_000);
    bencher.bench_local(|| {
        let snap = load(
            &[SourceFile {
                path: "features.yml",
                contents: doc.as_bytes(),
            }],
            CompileOptions::default(),
        );
        let snap = snap.expect("generated flags are valid");
        assert_eq!(snap.flag_count(), 10_000);
        divan::black_box(snap)
    });
}
