//! Integration tests for guidon-core, one binary (ripgrep layout).

// Shared helpers: loading YAML into snapshots and evaluating into owned results.
mod util;

// Spec §2.7 test-vector table and the evaluation control flow of §2.3/§2.4.
mod vectors;

// Spec §2.5 bucket boundaries (G1/G2) and statistical/property tests of bucketing.
mod buckets;

// Spec §2.2 constraint semantics: the constraint-level vectors after the §2.7 table and more.
mod constraints;

// Spec §6.1 declarative format: load errors with precise issues, reference forms, attachments.
mod validation;

// The Explainer trace: rules tried, segments, constraint values, bucket and boundaries.
mod explain;

// Evaluation allocates nothing on the heap (counted, not timed).
mod alloc;
