//! Explanations: why an evaluation returned what it did.
//!
//! [`Explainer`] is a [`Trace`] that records every step of an evaluation as a
//! serialisable [`Explanation`]: each rule or rollout tried, each segment with each
//! constraint (the value it saw, whether it matched and why), and the bucket with
//! the boundaries it was placed against. It evaluates every constraint, even after
//! a segment's outcome is known, so the whole picture is shown; results are the
//! same as without it. The server, the CLI and the UI render it.

use serde::Serialize;

use crate::eval::{Trace, constraint_matches};
use crate::goparse::{parse_bool, parse_datetime, parse_float};
use crate::model::{ComparisonType, Constraint, Operator, RolloutKind, Rule, Segment};

/// Everything an evaluation looked at, in order.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// The rules (variant flags) or rollouts (boolean flags) tried, in rank order.
    pub steps: Vec<Step>,
}

/// One rule or rollout that was tried.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// `rule`, `segmentRollout` or `thresholdRollout`.
    pub kind: &'static str,
    /// 1-based rank.
    pub rank: u32,
    /// `OR_SEGMENT_OPERATOR` / `AND_SEGMENT_OPERATOR` for segment steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_operator: Option<&'static str>,
    /// Segments evaluated.
    pub segments: Vec<SegmentTrace>,
    /// Whether this step decided the result.
    pub matched: bool,
    /// The bucket computation, when one was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<BucketTrace>,
}

/// One segment's evaluation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentTrace {
    /// Segment key.
    pub key: String,
    /// `ALL_MATCH_TYPE` / `ANY_MATCH_TYPE`.
    pub match_type: &'static str,
    /// Whether it matched.
    pub matched: bool,
    /// Each constraint.
    pub constraints: Vec<ConstraintTrace>,
}

/// One constraint's evaluation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConstraintTrace {
    /// Comparison type name.
    #[serde(rename = "type")]
    pub comparison: &'static str,
    /// Property read (`entityId` for ENTITY_ID constraints).
    pub property: String,
    /// Operator.
    pub operator: &'static str,
    /// The constraint's value.
    pub value: String,
    /// The value seen; `None` when the property was not in the context.
    pub actual: Option<String>,
    /// Whether it matched.
    pub matched: bool,
    /// Why, in words.
    pub why: String,
}

/// The bucket placement of a rule or threshold rollout.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketTrace {
    /// The entity's bucket (0–999 for rules, 0–99 for thresholds).
    pub bucket: u32,
    /// Rule boundaries (exclusive upper bounds), one per distribution with a
    /// positive rollout.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub boundaries: Vec<u32>,
    /// The threshold percentage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentage: Option<f32>,
    /// Index of the chosen distribution among those with a positive rollout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen: Option<usize>,
}

/// A [`Trace`] that builds an [`Explanation`].
#[derive(Debug, Default)]
pub struct Explainer {
    explanation: Explanation,
}

impl Explainer {
    /// A new, empty explainer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The explanation recorded so far.
    pub fn finish(self) -> Explanation {
        self.explanation
    }

    fn step(&mut self) -> Option<&mut Step> {
        self.explanation.steps.last_mut()
    }
}

impl Trace for Explainer {
    const EXHAUSTIVE: bool = true;

    fn rule(&mut self, rule: &Rule) {
        self.explanation.steps.push(Step {
            kind: "rule",
            rank: rule.rank,
            segment_operator: Some(rule.segment_operator.as_str()),
            segments: Vec::new(),
            matched: false,
            bucket: None,
        });
    }

    fn rollout(&mut self, rank: u32, kind: &RolloutKind) {
        let (kind, op) = match kind {
            RolloutKind::Threshold { .. } => ("thresholdRollout", None),
            RolloutKind::Segment { operator, .. } => ("segmentRollout", Some(operator.as_str())),
        };
        self.explanation.steps.push(Step {
            kind,
            rank,
            segment_operator: op,
            segments: Vec::new(),
            matched: false,
            bucket: None,
        });
    }

    fn segment(&mut self, segment: &Segment) {
        if let Some(step) = self.step() {
            step.segments.push(SegmentTrace {
                key: segment.key.clone(),
                match_type: segment.match_type.as_str(),
                matched: false,
                constraints: Vec::new(),
            });
        }
    }

    fn constraint(&mut self, c: &Constraint, actual: Option<&str>, matched: bool) {
        debug_assert_eq!(matched, constraint_matches(c, actual.unwrap_or("")));
        let trace = ConstraintTrace {
            comparison: c.comparison.as_str(),
            property: match c.comparison {
                ComparisonType::EntityId => "entityId".to_owned(),
                _ => c.property.clone(),
            },
            operator: c.operator.as_str(),
            value: c.value.clone(),
            actual: actual.map(str::to_owned),
            matched,
            why: why(c, actual, matched),
        };
        if let Some(seg) = self.step().and_then(|s| s.segments.last_mut()) {
            seg.constraints.push(trace);
        }
    }

    fn segment_done(&mut self, matched: bool) {
        if let Some(seg) = self.step().and_then(|s| s.segments.last_mut()) {
            seg.matched = matched;
        }
    }

    fn step_done(&mut self, matched: bool) {
        if let Some(step) = self.step() {
            step.matched = matched;
        }
    }

    fn threshold(&mut self, bucket: u32, percentage: f32, _matched: bool) {
        if let Some(step) = self.step() {
            step.bucket = Some(BucketTrace {
                bucket,
                boundaries: Vec::new(),
                percentage: Some(percentage),
                chosen: None,
            });
        }
    }

    fn bucket(&mut self, bucket: u32, boundaries: &[u32], chosen: Option<usize>) {
        if let Some(step) = self.step() {
            step.bucket = Some(BucketTrace {
                bucket,
                boundaries: boundaries.to_vec(),
                percentage: None,
                chosen,
            });
        }
    }
}

/// A sentence saying why a constraint matched or not.
fn why(c: &Constraint, actual: Option<&str>, matched: bool) -> String {
    let v = actual.unwrap_or("");
    let seen = match actual {
        None if c.comparison == ComparisonType::EntityId => "entity id \"\"".to_owned(),
        None => format!(
            "property {:?} is missing from the context (treated as \"\")",
            c.property
        ),
        Some(v) if c.comparison == ComparisonType::EntityId => format!("entity id {v:?}"),
        Some(v) => format!("{:?} = {v:?}", c.property),
    };
    let verdict = if matched { "matches" } else { "does not match" };
    let op = c.operator;
    if matches!(
        op,
        Operator::Empty | Operator::NotEmpty | Operator::Present | Operator::NotPresent
    ) {
        return format!("{seen}: {verdict} {} (whitespace trimmed)", op.as_str());
    }
    if v.is_empty() {
        return format!("{seen}: an empty value never matches {}", op.as_str());
    }
    match c.comparison {
        ComparisonType::Number if parse_float(v).is_none() => {
            format!("{seen}: not a number, so it does not match")
        }
        ComparisonType::Boolean if parse_bool(v).is_none() => {
            format!("{seen}: not a boolean (1, t, true, 0, f, false, ...), so it does not match")
        }
        ComparisonType::DateTime if parse_datetime(v).is_none() => {
            format!("{seen}: not a datetime (RFC 3339 or YYYY-MM-DD), so it does not match")
        }
        _ => match op {
            Operator::True | Operator::False => format!("{seen}: {verdict} {}", op.as_str()),
            Operator::IsOneOf | Operator::IsNotOneOf => {
                format!("{seen}: {verdict} {} {}", op.as_str(), c.value)
            }
            _ => format!("{seen}: {verdict} {} {:?}", op.as_str(), c.value),
        },
    }
}
