//! Go's parsing rules, reproduced exactly where Flipt's evaluation depends on them.
//!
//! Flipt's Go server parses constraint values and context values with
//! `strconv.ParseFloat`, `strconv.ParseBool` and `time.Parse` (RFC 3339, then
//! `2006-01-02`). A Rust parser that is merely "close" changes which users match a
//! segment, so each Go rule is written down here with its edge cases:
//!
//! - [`parse_float`]: decimal and hexadecimal floats, `inf`/`infinity` in any
//!   case with an optional sign, `nan` without one, underscores between digits
//!   (Go's `underscoreOK`), and an error (not infinity) when a finite literal
//!   overflows.
//! - [`parse_bool`]: exactly `1 t T TRUE true True 0 f F FALSE false False`.
//! - [`parse_datetime`]: RFC 3339 as Go reads it (optional fractional seconds of any
//!   length, `T` separator, `Z` or `±hh:mm`), else a bare `YYYY-MM-DD` at midnight UTC.
//!
//! It also formats timestamps the way protobuf JSON does ([`format_rfc3339`]).

/// Parses a number as Go's `strconv.ParseFloat(s, 64)` does; `None` when Go would
/// return an error.
pub fn parse_float(s: &str) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let (neg, body) = match s.as_bytes()[0] {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        return Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    // Go accepts NaN only without a sign.
    if s.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    let magnitude = if body.contains('_') {
        // Underscores may separate digits (or follow a base prefix); Go checks
        // the whole literal, then ignores them.
        if !underscores_ok(s) {
            return None;
        }
        let stripped: String = body.chars().filter(|&c| c != '_').collect();
        unsigned_float(&stripped)?
    } else {
        unsigned_float(body)?
    };
    Some(if neg { -magnitude } else { magnitude })
}

fn unsigned_float(body: &str) -> Option<f64> {
    match body.get(..2) {
        Some(p) if p.eq_ignore_ascii_case("0x") => parse_hex_float(&body[2..]),
        _ => parse_decimal(body),
    }
}

/// Go's `underscoreOK`: an underscore must sit between digits, or between a base
/// prefix and a digit.
fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    // `^` start, `0` digit or base prefix, `_` underscore, `!` anything else.
    let mut saw = b'^';
    let mut hex = false;
    if b.len() >= i + 2
        && b[i] == b'0'
        && matches!(b[i + 1].to_ascii_lowercase(), b'b' | b'o' | b'x')
    {
        hex = b[i + 1].eq_ignore_ascii_case(&b'x');
        i += 2;
        saw = b'0';
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else if saw == b'_' {
            return false;
        } else {
            saw = b'!';
        }
    }
    saw != b'_'
}

/// Decimal form: digits with an optional `.` and an optional exponent.
fn parse_decimal(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    // Go reports ErrRange (an error) when a finite literal overflows.
    if v.is_infinite() { None } else { Some(v) }
}

/// Hexadecimal form after `0x`: hex mantissa with an optional `.`, then a
/// mandatory `p` exponent (Go requires it for hex floats).
///
/// The first 60 significant bits are kept exactly; further non-zero digits only
/// set a sticky bit, so the single rounding to f64 happens in one conversion.
fn parse_hex_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut mantissa: u64 = 0;
    let mut exp: i64 = 0;
    let mut digits = 0;
    let mut seen_dot = false;
    let mut sticky = false;
    while i < b.len() {
        let c = b[i];
        if c == b'.' {
            if seen_dot {
                return None;
            }
            seen_dot = true;
            i += 1;
            continue;
        }
        let Some(d) = char::from(c).to_digit(16) else {
            break;
        };
        digits += 1;
        if mantissa >> 56 == 0 {
            mantissa = mantissa * 16 + u64::from(d);
            if seen_dot {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_dot {
                exp += 4;
            }
        }
        i += 1;
    }
    if digits == 0 || i >= b.len() || !matches!(b[i], b'p' | b'P') {
        return None;
    }
    i += 1;
    let mut exp_neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        exp_neg = b[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut e: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        e = (e * 10 + i64::from(b[i] - b'0')).min(1_000_000);
        i += 1;
    }
    if i == start || i != b.len() {
        return None;
    }
    exp += if exp_neg { -e } else { e };
    if mantissa == 0 {
        return Some(0.0);
    }
    // Fold the sticky bit into the lowest bit: the mantissa has at least 57
    // significant bits when it is set, so this only breaks rounding ties.
    let m = mantissa | u64::from(sticky);
    let v = scale_by_power_of_two(m as f64, exp);
    if v.is_infinite() { None } else { Some(v) }
}

/// `x * 2^exp` without intermediate overflow or underflow (exact for normal results).
fn scale_by_power_of_two(mut x: f64, mut exp: i64) -> f64 {
    while exp > 1000 {
        x *= 2f64.powi(1000);
        exp -= 1000;
        if x.is_infinite() {
            return x;
        }
    }
    while exp < -1000 {
        x *= 2f64.powi(-1000);
        exp += 1000;
        if x == 0.0 {
            return x;
        }
    }
    x * 2f64.powi(exp as i32)
}

/// Parses a boolean as Go's `strconv.ParseBool` does.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// An instant as nanoseconds since the Unix epoch (UTC). `i128` covers every year
/// Go can parse (0000–9999) without overflow.
pub type Nanos = i128;

/// Parses `s` as Flipt does for DATETIME constraints: Go's `time.RFC3339`, else
/// `2006-01-02` (midnight UTC).
pub fn parse_datetime(s: &str) -> Option<Nanos> {
    parse_rfc3339(s).or_else(|| parse_date(s))
}

fn num(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Validated `YYYY-MM-DD` at the start of `b`, as days since the epoch.
fn date_part(b: &[u8]) -> Option<i64> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn parse_date(s: &str) -> Option<Nanos> {
    let b = s.as_bytes();
    if b.len() != 10 {
        return None;
    }
    Some(Nanos::from(date_part(b)?) * 86_400 * 1_000_000_000)
}

/// RFC 3339 as Go's `time.Parse(time.RFC3339, s)` accepts it, including what its
/// lenient fallback parser allows: a one-digit hour, and zone offsets up to
/// `+24:60`.
fn parse_rfc3339(s: &str) -> Option<Nanos> {
    let b = s.as_bytes();
    if b.len() < 11 || b[10] != b'T' {
        return None;
    }
    let days = date_part(b)?;
    let mut i = 11;
    let hour_len = if b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        2
    } else {
        1
    };
    let h = num(b.get(i..i + hour_len)?)?;
    i += hour_len;
    if b.get(i) != Some(&b':') || b.get(i + 3) != Some(&b':') {
        return None;
    }
    let mi = num(b.get(i + 1..i + 3)?)?;
    let sec = num(b.get(i + 4..i + 6)?)?;
    i += 6;
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut frac: i64 = 0;
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                frac = frac * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        for _ in (i - start)..9 {
            frac *= 10;
        }
    }
    let offset_secs = match &b[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let oh = num(&[*h1, *h2])?;
            let om = num(&[*m1, *m2])?;
            if oh > 24 || om > 60 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_secs;
    Some(Nanos::from(secs) * 1_000_000_000 + Nanos::from(frac))
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date for a count of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Formats seconds and nanoseconds since the epoch as protobuf JSON formats a
/// `google.protobuf.Timestamp`: UTC, `Z`, and 0, 3, 6 or 9 fractional digits.
pub fn format_rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    // Written digit by digit into one allocation: this runs on every response.
    let mut out = String::with_capacity(30);
    push_digits(&mut out, y.unsigned_abs(), 4);
    for (sep, v) in [
        ('-', m),
        ('-', d),
        ('T', rem / 3600),
        (':', (rem / 60) % 60),
        (':', rem % 60),
    ] {
        out.push(sep);
        push_digits(&mut out, v.unsigned_abs(), 2);
    }
    if nanos != 0 {
        out.push('.');
        let nanos = u64::from(nanos);
        if nanos.is_multiple_of(1_000_000) {
            push_digits(&mut out, nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            push_digits(&mut out, nanos / 1_000, 6);
        } else {
            push_digits(&mut out, nanos, 9);
        }
    }
    out.push('Z');
    out
}

/// Appends the lowest `width` decimal digits of `v`, zero-padded.
fn push_digits(out: &mut String, v: u64, width: u32) {
    for p in (0..width).rev() {
        let digit = (v / 10u64.pow(p)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_follow_go() {
        for (s, want) in [
            ("42", Some(42.0)),
            ("42.0", Some(42.0)),
            ("-1.5", Some(-1.5)),
            ("+5", Some(5.0)),
            ("1e3", Some(1000.0)),
            ("1E-2", Some(0.01)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("0x1p-2", Some(0.25)),
            ("0x1.8p1", Some(3.0)),
            ("0X_1p4", Some(16.0)),
            ("0x1.8P1", Some(3.0)),
            ("0XAp0", Some(10.0)),
            ("+nan", None),
            ("0x1", None),
            ("1_000", Some(1000.0)),
            ("1_23.50_0_0e+1_2", Some(1.235e14)),
            ("_123.5e+12", None),
            ("1__23.5e+12", None),
            ("123_.5e+12", None),
            ("123.5_e+12", None),
            ("123.5e+12_", None),
            ("-_123.5e+12", None),
            ("0x_1p0", Some(1.0)),
            ("0x1p_4", None),
            ("0x1.fffffffffffffp1023", Some(f64::MAX)),
            ("0x1p-1074", Some(f64::from_bits(1))),
            ("0x1000000000p-1100", Some(f64::from_bits(1 << 10))),
            ("", None),
            (" 1", None),
            ("1 ", None),
            ("foo", None),
            ("1e", None),
            (".", None),
            ("1e400", None),
            ("--1", None),
        ] {
            assert_eq!(parse_float(s), want, "{s:?}");
        }
        assert_eq!(parse_float("Inf"), Some(f64::INFINITY));
        assert_eq!(parse_float("-INFINITY"), Some(f64::NEG_INFINITY));
        assert!(parse_float("NaN").is_some_and(f64::is_nan));
    }

    #[test]
    fn bools_follow_go() {
        for s in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(s), Some(true));
        }
        for s in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(s), Some(false));
        }
        for s in ["yes", "tRUE", "", " true", "2"] {
            assert_eq!(parse_bool(s), None, "{s:?}");
        }
    }

    #[test]
    fn datetimes_follow_go() {
        let base = parse_datetime("2006-01-02T15:04:05Z").unwrap();
        assert_eq!(base, 1_136_214_245 * 1_000_000_000);
        assert_eq!(parse_datetime("2006-01-02T16:04:05+01:00"), Some(base));
        assert_eq!(
            parse_datetime("2006-01-02T15:04:05.5Z"),
            Some(base + 500_000_000)
        );
        assert_eq!(
            parse_datetime("2006-01-02T15:04:05.123456789123Z"),
            Some(base + 123_456_789)
        );
        assert_eq!(
            parse_datetime("2006-01-02"),
            Some(1_136_160_000 * 1_000_000_000)
        );
        for bad in [
            "2006-01-02 15:04:05Z",
            "2006-01-02t15:04:05Z",
            "2006-01-02T15:04:05z",
            "2006-01-02T15:04:05",
            "2006-02-30",
            "2006-13-01",
            "2006-01-02T24:00:00Z",
            "2006-01-02T15:04:60Z",
            "2006-01-02T15:04:05+0100",
            "2006-01-02T15:04:05+25:00",
            "2006-01-02T15:04:05+01:61",
            "2006-01-02T15:4:05Z",
            "2006-01-02T15:04:05.Z",
            "2006-01-02T",
            "bar",
            "",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad:?}");
        }
        assert!(parse_datetime("2004-02-29").is_some());
        // Go's lenient fallback: one-digit hours, offsets up to +24:60.
        assert_eq!(
            parse_datetime("2006-01-02T5:04:05Z"),
            parse_datetime("2006-01-02T05:04:05Z")
        );
        assert_eq!(parse_datetime("2006-01-03T15:04:05+24:00"), Some(base));
        assert!(parse_datetime("2006-01-02T15:04:05+05:60").is_some());
        assert_eq!(
            parse_datetime("2006-01-02T15:04:05,5Z"),
            Some(base + 500_000_000)
        );
        assert!(parse_datetime("1900-02-29").is_none());
    }

    #[test]
    fn timestamps_format_like_protojson() {
        assert_eq!(format_rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(1_721_989_428, 576_877_000),
            "2024-07-26T10:23:48.576877Z"
        );
        assert_eq!(
            format_rfc3339(1_721_989_428, 500_000_000),
            "2024-07-26T10:23:48.500Z"
        );
        assert_eq!(
            format_rfc3339(1_721_989_428, 1),
            "2024-07-26T10:23:48.000000001Z"
        );
        for days in [-1000, 0, 59, 10_957, 20_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
