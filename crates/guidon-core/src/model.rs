//! The compiled, immutable snapshot that evaluation reads.
//!
//! A [`Snapshot`] is built once per reload by [`crate::load`] and never changes:
//! flags and segments are indexed by key, rule segments are resolved to indices,
//! constraint values are pre-parsed, bucket boundaries are precomputed and variant
//! attachments are pre-serialised exactly as Flipt serialises them. Evaluation
//! therefore does lookups and comparisons only, and allocates nothing.
//!
//! Key indexes use FxHash: the keys come from the operator's own flag files,
//! not from requests, so hash flooding is not a concern, and lookups are about
//! twice as fast as with SipHash.

use rustc_hash::FxHashMap as HashMap;

use serde_json::{Map, Value};

use crate::goparse::Nanos;

/// Which distribution-bucket formula the snapshot uses (spec §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bucketing {
    /// Flipt ≥ 2.9: normalised cumulative boundaries, truncated, last forced to
    /// 1000. Every bucket is covered.
    #[default]
    Normalized,
    /// Flipt 1.x (and 2.0–2.8): cumulative `int(rollout*10)` terms, not normalised.
    Legacy,
}

impl Bucketing {
    /// The configuration spelling (`normalized` / `legacy`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normalized => "normalized",
            Self::Legacy => "legacy",
        }
    }
}

/// Every namespace, flag and segment that one revision of a source serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub(crate) namespaces: Vec<Namespace>,
    pub(crate) index: HashMap<String, usize>,
    pub(crate) bucketing: Bucketing,
}

impl Snapshot {
    /// An empty snapshot: only the `default` namespace, with no flags.
    pub fn empty(bucketing: Bucketing) -> Self {
        let mut s = Self {
            namespaces: Vec::new(),
            index: HashMap::default(),
            bucketing,
        };
        s.push_namespace(Namespace::new("default", "Default", ""));
        s
    }

    pub(crate) fn push_namespace(&mut self, ns: Namespace) -> usize {
        let i = self.namespaces.len();
        self.index.insert(ns.key.clone(), i);
        self.namespaces.push(ns);
        i
    }

    /// The namespace with `key`, if any.
    pub fn namespace(&self, key: &str) -> Option<&Namespace> {
        self.index.get(key).map(|&i| &self.namespaces[i])
    }

    /// All namespaces: `default` first, then in order of first appearance.
    pub fn namespaces(&self) -> &[Namespace] {
        &self.namespaces
    }

    /// The bucketing formula this snapshot evaluates with.
    pub fn bucketing(&self) -> Bucketing {
        self.bucketing
    }

    /// Total number of flags across namespaces.
    pub fn flag_count(&self) -> usize {
        self.namespaces.iter().map(|n| n.flags.len()).sum()
    }
}

/// A namespace: its flags and the segments they reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Namespace {
    /// Namespace key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    pub(crate) flags: Vec<Flag>,
    pub(crate) flag_index: HashMap<String, usize>,
    pub(crate) segments: Vec<Segment>,
    pub(crate) segment_index: HashMap<String, usize>,
}

impl Namespace {
    pub(crate) fn new(key: &str, name: &str, description: &str) -> Self {
        Self {
            key: key.to_owned(),
            name: name.to_owned(),
            description: description.to_owned(),
            flags: Vec::new(),
            flag_index: HashMap::default(),
            segments: Vec::new(),
            segment_index: HashMap::default(),
        }
    }

    /// The flag with `key`, if any.
    pub fn flag(&self, key: &str) -> Option<&Flag> {
        self.flag_index.get(key).map(|&i| &self.flags[i])
    }

    /// Flags in declaration order.
    pub fn flags(&self) -> &[Flag] {
        &self.flags
    }

    /// The segment with `key`, if any.
    pub fn segment(&self, key: &str) -> Option<&Segment> {
        self.segment_index.get(key).map(|&i| &self.segments[i])
    }

    /// Segments in declaration order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Resolves a segment reference held by a rule or rollout.
    pub fn segment_at(&self, r: SegmentRef) -> &Segment {
        &self.segments[r.0]
    }
}

/// An index into [`Namespace::segments`], resolved at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentRef(pub(crate) usize);

/// Flag type, as Flipt names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagType {
    /// `VARIANT_FLAG_TYPE` (0).
    Variant,
    /// `BOOLEAN_FLAG_TYPE` (1).
    Boolean,
}

impl FlagType {
    /// The protobuf enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Variant => "VARIANT_FLAG_TYPE",
            Self::Boolean => "BOOLEAN_FLAG_TYPE",
        }
    }
}

/// A flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    /// Flag key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// For variant flags a kill switch; for boolean flags the default value.
    pub enabled: bool,
    /// Variant or boolean.
    pub flag_type: FlagType,
    /// Free-form metadata (declarative format ≥ 1.3).
    pub metadata: Option<Map<String, Value>>,
    /// Variants (variant flags only).
    pub variants: Vec<Variant>,
    /// Index into `variants` of the default variant.
    pub default_variant: Option<usize>,
    /// Rules in rank order (variant flags).
    pub rules: Vec<Rule>,
    /// Rollouts in rank order (boolean flags).
    pub rollouts: Vec<Rollout>,
}

impl Flag {
    /// The default variant, if the flag has one.
    pub fn default_variant(&self) -> Option<&Variant> {
        self.default_variant.map(|i| &self.variants[i])
    }
}

/// A variant of a variant flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Variant key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The attachment as Flipt's declarative storage returns it: Go-marshalled JSON
    /// (sorted keys), or the literal `null` when the variant has none.
    pub attachment: String,
    /// The attachment as parsed, for display.
    pub attachment_value: Option<Value>,
}

/// How a rule or segment rollout combines its segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SegmentOperator {
    /// Any one segment must match (`OR_SEGMENT_OPERATOR`, 0).
    #[default]
    Or,
    /// Every segment must match (`AND_SEGMENT_OPERATOR`, 1).
    And,
}

impl SegmentOperator {
    /// The protobuf enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Or => "OR_SEGMENT_OPERATOR",
            Self::And => "AND_SEGMENT_OPERATOR",
        }
    }
}

/// A rule of a variant flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// 1-based rank (= position in the file).
    pub rank: u32,
    /// Segments, in declaration order.
    pub segments: Vec<SegmentRef>,
    /// How the segments combine.
    pub segment_operator: SegmentOperator,
    /// All distributions in file order, including 0% ones.
    pub distributions: Vec<Distribution>,
    /// Indices into `distributions` of those with a rollout above 0, in order.
    pub(crate) valid: Vec<usize>,
    /// Upper bucket boundaries of the `valid` distributions for the snapshot's
    /// bucketing formula.
    pub(crate) boundaries: Vec<u32>,
}

impl Rule {
    /// The bucket boundaries evaluation uses, one per distribution with a positive rollout.
    pub fn boundaries(&self) -> &[u32] {
        &self.boundaries
    }

    /// The distributions with a positive rollout, the ones buckets map to.
    pub fn valid_distributions(&self) -> impl Iterator<Item = &Distribution> {
        self.valid.iter().map(|&i| &self.distributions[i])
    }
}

/// A share of a rule's matching entities that gets one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// Index into the flag's `variants`.
    pub variant: usize,
    /// Percentage, float32 as in Flipt.
    pub rollout: f32,
}

/// A rollout of a boolean flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    /// 1-based rank.
    pub rank: u32,
    /// Description.
    pub description: String,
    /// Threshold or segment.
    pub kind: RolloutKind,
}

/// The two kinds of boolean rollout.
#[derive(Debug, Clone, PartialEq)]
pub enum RolloutKind {
    /// Matches the first `percentage` of the 100 entity buckets.
    Threshold {
        /// Percentage, float32 as in Flipt.
        percentage: f32,
        /// The value returned on a match.
        value: bool,
    },
    /// Matches entities in the segments.
    Segment {
        /// Segments, in declaration order.
        segments: Vec<SegmentRef>,
        /// How the segments combine.
        operator: SegmentOperator,
        /// The value returned on a match.
        value: bool,
    },
}

/// How a segment combines its constraints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchType {
    /// Every constraint must match (`ALL_MATCH_TYPE`, 0).
    #[default]
    All,
    /// At least one constraint must match (`ANY_MATCH_TYPE`, 1).
    Any,
}

impl MatchType {
    /// The management-API enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "ALL_MATCH_TYPE",
            Self::Any => "ANY_MATCH_TYPE",
        }
    }
}

/// A segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Segment key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// ALL or ANY.
    pub match_type: MatchType,
    /// Constraints in declaration order.
    pub constraints: Vec<Constraint>,
}

/// Constraint comparison types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparisonType {
    /// `STRING_COMPARISON_TYPE` (1).
    String,
    /// `NUMBER_COMPARISON_TYPE` (2).
    Number,
    /// `BOOLEAN_COMPARISON_TYPE` (3).
    Boolean,
    /// `DATETIME_COMPARISON_TYPE` (4).
    DateTime,
    /// `ENTITY_ID_COMPARISON_TYPE` (5): compares the entity id, not a context value.
    EntityId,
}

impl ComparisonType {
    /// All types, in enum order.
    pub const ALL: [Self; 5] = [
        Self::String,
        Self::Number,
        Self::Boolean,
        Self::DateTime,
        Self::EntityId,
    ];

    /// The management-API enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "STRING_COMPARISON_TYPE",
            Self::Number => "NUMBER_COMPARISON_TYPE",
            Self::Boolean => "BOOLEAN_COMPARISON_TYPE",
            Self::DateTime => "DATETIME_COMPARISON_TYPE",
            Self::EntityId => "ENTITY_ID_COMPARISON_TYPE",
        }
    }

    /// Parses the management-API enum name.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Operators the declarative schema allows for this type (spec §1.4).
    pub fn allowed_operators(self) -> &'static [Operator] {
        use Operator::*;
        match self {
            Self::String => &[
                Eq,
                Neq,
                Empty,
                NotEmpty,
                Prefix,
                Suffix,
                IsOneOf,
                IsNotOneOf,
                Contains,
                NotContains,
            ],
            Self::Number => &[
                Eq, Neq, Lt, Lte, Gt, Gte, Present, NotPresent, IsOneOf, IsNotOneOf,
            ],
            Self::Boolean => &[True, False, Present, NotPresent],
            Self::DateTime => &[Eq, Neq, Lt, Lte, Gt, Gte, Present, NotPresent],
            Self::EntityId => &[
                Eq,
                Neq,
                IsOneOf,
                IsNotOneOf,
                Contains,
                NotContains,
                Empty,
                NotEmpty,
                Prefix,
                Suffix,
            ],
        }
    }
}

/// Constraint operators (`rpc/flipt/operators.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Operator {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Empty,
    NotEmpty,
    True,
    False,
    Present,
    NotPresent,
    Prefix,
    Suffix,
    IsOneOf,
    IsNotOneOf,
    Contains,
    NotContains,
}

impl Operator {
    const NAMES: [(Self, &'static str); 18] = [
        (Self::Eq, "eq"),
        (Self::Neq, "neq"),
        (Self::Lt, "lt"),
        (Self::Lte, "lte"),
        (Self::Gt, "gt"),
        (Self::Gte, "gte"),
        (Self::Empty, "empty"),
        (Self::NotEmpty, "notempty"),
        (Self::True, "true"),
        (Self::False, "false"),
        (Self::Present, "present"),
        (Self::NotPresent, "notpresent"),
        (Self::Prefix, "prefix"),
        (Self::Suffix, "suffix"),
        (Self::IsOneOf, "isoneof"),
        (Self::IsNotOneOf, "isnotoneof"),
        (Self::Contains, "contains"),
        (Self::NotContains, "notcontains"),
    ];

    /// The operator as Flipt spells it (lower case).
    pub fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(o, _)| *o == self)
            .map_or("", |(_, n)| n)
    }

    /// Parses an operator name, case-insensitively as Flipt's API does.
    pub fn from_name(s: &str) -> Option<Self> {
        let lower = s.to_ascii_lowercase();
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == lower)
            .map(|(o, _)| *o)
    }

    /// Operators that take no value (and whose value Flipt clears).
    pub fn takes_no_value(self) -> bool {
        matches!(
            self,
            Self::True
                | Self::False
                | Self::Empty
                | Self::NotEmpty
                | Self::Present
                | Self::NotPresent
        )
    }
}

/// A constraint with its value parsed once, at compile time.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    /// Comparison type.
    pub comparison: ComparisonType,
    /// Context property (ignored for ENTITY_ID, which reads the entity id).
    pub property: String,
    /// Operator.
    pub operator: Operator,
    /// The value as written (normalised for list forms to a JSON array string).
    pub value: String,
    /// Description.
    pub description: String,
    pub(crate) parsed: ParsedValue,
}

/// A constraint value parsed for its comparison type and operator.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ParsedValue {
    /// Operators without a value, and string comparisons (which use `value`).
    Text,
    Number(f64),
    DateTime(Nanos),
    Strings(Vec<String>),
    Numbers(Vec<f64>),
}
