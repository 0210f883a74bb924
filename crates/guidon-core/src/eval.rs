//! Evaluation: boolean and variant flags, bit-exact with Flipt (spec §2).
//!
//! The entry points are [`Snapshot::variant`] and [`Snapshot::boolean`], and
//! [`Snapshot::evaluate`] for batch items that may be either type. They take an
//! [`EvalRequest`] and return results that borrow from the snapshot, so the hot
//! path allocates nothing. The `*_traced` variants take a [`Trace`] that is told
//! every step (which rule or rollout was tried, every segment and constraint, the
//! bucket); [`crate::explain::Explainer`] turns those calls into an explanation.
//! With [`NoTrace`] the calls compile away.

use std::collections::{BTreeMap, HashMap};

use crate::goparse::{parse_bool, parse_datetime, parse_float};
use crate::model::{
    ComparisonType, Constraint, Flag, FlagType, MatchType, Namespace, Operator, ParsedValue,
    RolloutKind, Rule, Segment, SegmentOperator, SegmentRef, Snapshot, Variant,
};

/// Anything that maps context keys to string values.
pub trait Context {
    /// The value of `key`, if present.
    fn get(&self, key: &str) -> Option<&str>;
}

impl<S: std::hash::BuildHasher> Context for HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<&str> {
        HashMap::get(self, key).map(String::as_str)
    }
}

impl Context for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        BTreeMap::get(self, key).map(String::as_str)
    }
}

impl Context for [(&str, &str)] {
    fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

impl<const N: usize> Context for [(&str, &str); N] {
    fn get(&self, key: &str) -> Option<&str> {
        Context::get(self.as_slice(), key)
    }
}

/// One evaluation request.
#[derive(Debug, Clone, Copy)]
pub struct EvalRequest<'a, C: Context + ?Sized> {
    /// Namespace key; empty means `default`.
    pub namespace: &'a str,
    /// Flag key.
    pub flag: &'a str,
    /// Entity id (may be empty; it is hashed as is).
    pub entity_id: &'a str,
    /// Evaluation context.
    pub context: &'a C,
}

/// Evaluation reasons (`flipt.evaluation.EvaluationReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `UNKNOWN_EVALUATION_REASON` (0).
    Unknown,
    /// `FLAG_DISABLED_EVALUATION_REASON` (1).
    FlagDisabled,
    /// `MATCH_EVALUATION_REASON` (2).
    Match,
    /// `DEFAULT_EVALUATION_REASON` (3).
    Default,
}

impl Reason {
    /// The protobuf enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "UNKNOWN_EVALUATION_REASON",
            Self::FlagDisabled => "FLAG_DISABLED_EVALUATION_REASON",
            Self::Match => "MATCH_EVALUATION_REASON",
            Self::Default => "DEFAULT_EVALUATION_REASON",
        }
    }
}

/// Why an evaluation could not produce a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The namespace does not exist (Flipt: NotFound, `namespace "x" not found`).
    #[error("namespace \"{0}\" not found")]
    NamespaceNotFound(String),
    /// The flag does not exist (Flipt: NotFound, `flag "ns/key" not found`).
    #[error("flag \"{namespace}/{key}\" not found")]
    FlagNotFound {
        /// Namespace key.
        namespace: String,
        /// Flag key.
        key: String,
    },
    /// A variant evaluation of a boolean flag or the reverse (Flipt: InvalidArgument).
    #[error("flag type {} invalid", .0.as_str())]
    WrongType(FlagType),
}

impl EvalError {
    /// Whether this is a not-found error (batch turns those into error items).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NamespaceNotFound(_) | Self::FlagNotFound { .. })
    }
}

/// The segments that matched in the deciding rule or rollout, in declaration order.
///
/// Up to 64 segments are tracked in a bit mask; a rule with more (rare) keeps a
/// heap-allocated list of which matched.
#[derive(Debug, Clone)]
pub struct SegmentKeys<'s> {
    namespace: Option<&'s Namespace>,
    segments: &'s [SegmentRef],
    mask: u64,
    wide: Option<Box<[bool]>>,
}

impl<'s> SegmentKeys<'s> {
    const NONE: Self = Self {
        namespace: None,
        segments: &[],
        mask: 0,
        wide: None,
    };

    /// Iterates over the matched segment keys.
    pub fn iter(&self) -> impl Iterator<Item = &'s str> + '_ {
        let (ns, segments, mask) = (self.namespace, self.segments, self.mask);
        segments.iter().enumerate().filter_map(move |(i, r)| {
            let hit = match &self.wide {
                Some(wide) => wide[i],
                None => mask & (1 << i) != 0,
            };
            match (hit, ns) {
                (true, Some(ns)) => Some(ns.segment_at(*r).key.as_str()),
                _ => None,
            }
        })
    }

    /// Whether no segment matched.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The keys as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

/// Result of a variant evaluation.
#[derive(Debug, Clone)]
pub struct VariantResult<'s> {
    /// The flag evaluated.
    pub flag: &'s Flag,
    /// Whether a rule matched (and, under legacy bucketing, a distribution covered
    /// the entity's bucket).
    pub matched: bool,
    /// Why.
    pub reason: Reason,
    /// The variant key (`""` when none).
    pub variant_key: &'s str,
    /// The variant attachment (`""` when no variant).
    pub variant_attachment: &'s str,
    /// Matched segments of the deciding rule.
    pub segment_keys: SegmentKeys<'s>,
}

/// Result of a boolean evaluation.
#[derive(Debug, Clone)]
pub struct BooleanResult<'s> {
    /// The flag evaluated.
    pub flag: &'s Flag,
    /// The value.
    pub enabled: bool,
    /// Why.
    pub reason: Reason,
    /// Matched segments of the deciding segment rollout.
    pub segment_keys: SegmentKeys<'s>,
}

/// Result of evaluating a flag of either type (batch items).
#[derive(Debug, Clone)]
pub enum AnyResult<'s> {
    /// The flag was a variant flag.
    Variant(VariantResult<'s>),
    /// The flag was a boolean flag.
    Boolean(BooleanResult<'s>),
}

/// Observer of evaluation steps. Every method has an empty default.
#[allow(unused_variables)]
pub trait Trace {
    /// `true` when the tracer wants every constraint evaluated even after the
    /// segment's outcome is known (results are the same either way).
    const EXHAUSTIVE: bool = false;
    /// A rule (variant flags) is about to be tried.
    fn rule(&mut self, rule: &Rule) {}
    /// A rollout (boolean flags) is about to be tried.
    fn rollout(&mut self, rank: u32, kind: &RolloutKind) {}
    /// A segment is about to be evaluated.
    fn segment(&mut self, segment: &Segment) {}
    /// One constraint was evaluated; `actual` is `None` when the property was absent.
    fn constraint(&mut self, constraint: &Constraint, actual: Option<&str>, matched: bool) {}
    /// The segment evaluated to `matched`.
    fn segment_done(&mut self, matched: bool) {}
    /// The rule or rollout matched (`true`) or was skipped.
    fn step_done(&mut self, matched: bool) {}
    /// A threshold rollout computed `bucket` (0–99) against `percentage`.
    fn threshold(&mut self, bucket: u32, percentage: f32, matched: bool) {}
    /// A rule computed `bucket` (0–999) against `boundaries`; `chosen` is the
    /// index into the valid distributions, `None` when no boundary covers it.
    fn bucket(&mut self, bucket: u32, boundaries: &[u32], chosen: Option<usize>) {}
}

/// A [`Trace`] that records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;
impl Trace for NoTrace {}

/// The variant bucket (0–999): CRC-32 of flag key then entity id, mod 1000.
pub fn variant_bucket(flag_key: &str, entity_id: &str) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(flag_key.as_bytes());
    h.update(entity_id.as_bytes());
    h.finalize() % 1000
}

/// The threshold bucket (0–99): CRC-32 of entity id then flag key, mod 100.
pub fn threshold_bucket(entity_id: &str, flag_key: &str) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(entity_id.as_bytes());
    h.update(flag_key.as_bytes());
    h.finalize() % 100
}

impl Snapshot {
    fn lookup<C: Context + ?Sized>(
        &self,
        req: &EvalRequest<'_, C>,
    ) -> Result<(&Namespace, &Flag), EvalError> {
        let ns_key = if req.namespace.is_empty() {
            "default"
        } else {
            req.namespace
        };
        let ns = self
            .namespace(ns_key)
            .ok_or_else(|| EvalError::NamespaceNotFound(ns_key.to_owned()))?;
        let flag = ns.flag(req.flag).ok_or_else(|| EvalError::FlagNotFound {
            namespace: ns_key.to_owned(),
            key: req.flag.to_owned(),
        })?;
        Ok((ns, flag))
    }

    /// Evaluates a variant flag.
    pub fn variant<C: Context + ?Sized>(
        &self,
        req: &EvalRequest<'_, C>,
    ) -> Result<VariantResult<'_>, EvalError> {
        self.variant_traced(req, &mut NoTrace)
    }

    /// Evaluates a variant flag, reporting each step to `trace`.
    pub fn variant_traced<C: Context + ?Sized, T: Trace>(
        &self,
        req: &EvalRequest<'_, C>,
        trace: &mut T,
    ) -> Result<VariantResult<'_>, EvalError> {
        let (ns, flag) = self.lookup(req)?;
        if flag.flag_type != FlagType::Variant {
            return Err(EvalError::WrongType(flag.flag_type));
        }
        Ok(self.eval_variant(ns, flag, req, trace))
    }

    /// Evaluates a boolean flag.
    pub fn boolean<C: Context + ?Sized>(
        &self,
        req: &EvalRequest<'_, C>,
    ) -> Result<BooleanResult<'_>, EvalError> {
        self.boolean_traced(req, &mut NoTrace)
    }

    /// Evaluates a boolean flag, reporting each step to `trace`.
    pub fn boolean_traced<C: Context + ?Sized, T: Trace>(
        &self,
        req: &EvalRequest<'_, C>,
        trace: &mut T,
    ) -> Result<BooleanResult<'_>, EvalError> {
        let (ns, flag) = self.lookup(req)?;
        if flag.flag_type != FlagType::Boolean {
            return Err(EvalError::WrongType(flag.flag_type));
        }
        Ok(eval_boolean(ns, flag, req, trace))
    }

    /// Evaluates a flag of either type, as a batch item does.
    pub fn evaluate<C: Context + ?Sized>(
        &self,
        req: &EvalRequest<'_, C>,
    ) -> Result<AnyResult<'_>, EvalError> {
        self.evaluate_traced(req, &mut NoTrace)
    }

    /// Evaluates a flag of either type, reporting each step to `trace`.
    pub fn evaluate_traced<C: Context + ?Sized, T: Trace>(
        &self,
        req: &EvalRequest<'_, C>,
        trace: &mut T,
    ) -> Result<AnyResult<'_>, EvalError> {
        let (ns, flag) = self.lookup(req)?;
        Ok(match flag.flag_type {
            FlagType::Variant => AnyResult::Variant(self.eval_variant(ns, flag, req, trace)),
            FlagType::Boolean => AnyResult::Boolean(eval_boolean(ns, flag, req, trace)),
        })
    }

    fn eval_variant<'s, C: Context + ?Sized, T: Trace>(
        &'s self,
        ns: &'s Namespace,
        flag: &'s Flag,
        req: &EvalRequest<'_, C>,
        trace: &mut T,
    ) -> VariantResult<'s> {
        let mut res = VariantResult {
            flag,
            matched: false,
            reason: Reason::Unknown,
            variant_key: "",
            variant_attachment: "",
            segment_keys: SegmentKeys::NONE,
        };
        if let Some(v) = flag.default_variant() {
            res.reason = Reason::Default;
            res.variant_key = &v.key;
            res.variant_attachment = &v.attachment;
        }
        if !flag.enabled {
            res.reason = Reason::FlagDisabled;
            return res;
        }
        for rule in &flag.rules {
            trace.rule(rule);
            let Some(keys) = match_segments(ns, &rule.segments, rule.segment_operator, req, trace)
            else {
                trace.step_done(false);
                continue;
            };
            trace.step_done(true);
            res.segment_keys = keys;
            if rule.valid.is_empty() {
                res.matched = true;
                res.reason = Reason::Match;
                return res;
            }
            let bucket = variant_bucket(&flag.key, req.entity_id);
            let chosen = rule.boundaries.iter().position(|&b| b > bucket);
            trace.bucket(bucket, &rule.boundaries, chosen);
            if let Some(i) = chosen {
                let v: &Variant = &flag.variants[rule.distributions[rule.valid[i]].variant];
                res.matched = true;
                res.reason = Reason::Match;
                res.variant_key = &v.key;
                res.variant_attachment = &v.attachment;
            }
            return res;
        }
        res
    }
}

fn eval_boolean<'s, C: Context + ?Sized, T: Trace>(
    ns: &'s Namespace,
    flag: &'s Flag,
    req: &EvalRequest<'_, C>,
    trace: &mut T,
) -> BooleanResult<'s> {
    for rollout in &flag.rollouts {
        trace.rollout(rollout.rank, &rollout.kind);
        match &rollout.kind {
            RolloutKind::Threshold { percentage, value } => {
                let bucket = threshold_bucket(req.entity_id, &flag.key);
                let hit = (bucket as f32) < *percentage;
                trace.threshold(bucket, *percentage, hit);
                trace.step_done(hit);
                if hit {
                    return BooleanResult {
                        flag,
                        enabled: *value,
                        reason: Reason::Match,
                        segment_keys: SegmentKeys::NONE,
                    };
                }
            }
            RolloutKind::Segment {
                segments,
                operator,
                value,
            } => {
                let keys = match_segments(ns, segments, *operator, req, trace);
                trace.step_done(keys.is_some());
                if let Some(segment_keys) = keys {
                    return BooleanResult {
                        flag,
                        enabled: *value,
                        reason: Reason::Match,
                        segment_keys,
                    };
                }
            }
        }
    }
    BooleanResult {
        flag,
        enabled: flag.enabled,
        reason: Reason::Default,
        segment_keys: SegmentKeys::NONE,
    }
}

/// Evaluates the segments of a rule or rollout; `Some(matched keys)` when the
/// operator is satisfied.
fn match_segments<'s, C: Context + ?Sized, T: Trace>(
    ns: &'s Namespace,
    segments: &'s [SegmentRef],
    operator: SegmentOperator,
    req: &EvalRequest<'_, C>,
    trace: &mut T,
) -> Option<SegmentKeys<'s>> {
    let mut mask = 0u64;
    let mut wide = (segments.len() > 64).then(|| vec![false; segments.len()].into_boxed_slice());
    let mut count = 0usize;
    for (i, r) in segments.iter().enumerate() {
        let seg = ns.segment_at(*r);
        trace.segment(seg);
        let hit = segment_matches(seg, req, trace);
        trace.segment_done(hit);
        if hit {
            count += 1;
            match wide.as_mut() {
                Some(w) => w[i] = true,
                None => mask |= 1 << i,
            }
        } else if operator == SegmentOperator::And && !T::EXHAUSTIVE {
            return None;
        }
    }
    let ok = match operator {
        SegmentOperator::Or => count > 0,
        SegmentOperator::And => count == segments.len(),
    };
    ok.then_some(SegmentKeys {
        namespace: Some(ns),
        segments,
        mask,
        wide,
    })
}

fn segment_matches<C: Context + ?Sized, T: Trace>(
    seg: &Segment,
    req: &EvalRequest<'_, C>,
    trace: &mut T,
) -> bool {
    if seg.constraints.is_empty() {
        return true;
    }
    let mut matched = 0usize;
    for c in &seg.constraints {
        let actual = match c.comparison {
            ComparisonType::EntityId => Some(req.entity_id),
            _ => req.context.get(&c.property),
        };
        let hit = constraint_matches(c, actual.unwrap_or(""));
        trace.constraint(c, actual, hit);
        if hit {
            matched += 1;
            if seg.match_type == MatchType::Any && !T::EXHAUSTIVE {
                return true;
            }
        } else if seg.match_type == MatchType::All && !T::EXHAUSTIVE {
            return false;
        }
    }
    match seg.match_type {
        MatchType::All => matched == seg.constraints.len(),
        MatchType::Any => matched > 0,
    }
}

/// Whether one constraint matches the value `v` (a missing property is `""`),
/// with Flipt's Go server semantics (spec §2.2).
pub fn constraint_matches(c: &Constraint, v: &str) -> bool {
    use Operator::*;
    match c.comparison {
        ComparisonType::String | ComparisonType::EntityId => {
            match c.operator {
                Empty => return v.trim().is_empty(),
                NotEmpty => return !v.trim().is_empty(),
                _ if v.is_empty() => return false,
                _ => {}
            }
            let want = c.value.as_str();
            match (c.operator, &c.parsed) {
                (Eq, _) => v == want,
                (Neq, _) => v != want,
                (Prefix, _) => v.trim().starts_with(want),
                (Suffix, _) => v.trim().ends_with(want),
                (Contains, _) => v.contains(want),
                (NotContains, _) => !v.contains(want),
                (IsOneOf, ParsedValue::Strings(list)) => list.iter().any(|s| s == v),
                (IsNotOneOf, ParsedValue::Strings(list)) => !list.iter().any(|s| s == v),
                _ => false,
            }
        }
        ComparisonType::Number => {
            match c.operator {
                Present => return !v.trim().is_empty(),
                NotPresent => return v.trim().is_empty(),
                _ if v.is_empty() => return false,
                _ => {}
            }
            let Some(n) = parse_float(v) else {
                return false;
            };
            match (c.operator, &c.parsed) {
                (IsOneOf, ParsedValue::Numbers(list)) => list.contains(&n),
                (IsNotOneOf, ParsedValue::Numbers(list)) => !list.contains(&n),
                (op, ParsedValue::Number(want)) => compare(op, n, *want),
                _ => false,
            }
        }
        ComparisonType::Boolean => {
            match c.operator {
                Present => return !v.trim().is_empty(),
                NotPresent => return v.trim().is_empty(),
                _ if v.is_empty() => return false,
                _ => {}
            }
            match (c.operator, parse_bool(v)) {
                (True, Some(b)) => b,
                (False, Some(b)) => !b,
                _ => false,
            }
        }
        ComparisonType::DateTime => {
            match c.operator {
                Present => return !v.trim().is_empty(),
                NotPresent => return v.trim().is_empty(),
                _ if v.is_empty() => return false,
                _ => {}
            }
            match (parse_datetime(v), &c.parsed) {
                (Some(t), ParsedValue::DateTime(want)) => compare(c.operator, t, *want),
                _ => false,
            }
        }
    }
}

fn compare<T: PartialOrd>(op: Operator, v: T, c: T) -> bool {
    match op {
        Operator::Eq => v == c,
        Operator::Neq => v != c,
        Operator::Lt => v < c,
        Operator::Lte => v <= c,
        Operator::Gt => v > c,
        Operator::Gte => v >= c,
        _ => false,
    }
}
