//! `Retry-After` header parsing (RFC 9110 §10.2.3): delay-seconds or HTTP-date.
//!
//! The value comes from the network, so every path is total: bad input yields
//! `None`, never a panic. Kept free of `format!` and float parsing for wasm size.

/// Upper bound for any delay this module returns (one day), so huge values are capped.
pub const MAX_RETRY_AFTER_MS: u64 = 86_400_000;

const MONTHS: &[u8; 36] = b"janfebmaraprmayjunjulaugsepoctnovdec";
const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Parses a Retry-After value. `now_unix_ms` is the current wall-clock time in
/// milliseconds since the Unix epoch (used for the HTTP-date form).
/// Returns the delay in milliseconds, capped at `MAX_RETRY_AFTER_MS`, or `None` when the value is unusable.
#[must_use]
pub fn parse_retry_after(value: &str, now_unix_ms: u64) -> Option<u64> {
    let v = trim_ows(value);
    if v.is_empty() {
        return None;
    }
    // All-digit values are always delay-seconds ("120" is never a year).
    if v.bytes().all(|b| b.is_ascii_digit()) {
        let secs = v.bytes().fold(0u64, |acc, b| {
            acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        });
        return Some(secs.saturating_mul(1000).min(MAX_RETRY_AFTER_MS));
    }
    let at = parse_http_date(v)?;
    Some(at.saturating_sub(now_unix_ms).min(MAX_RETRY_AFTER_MS))
}

/// Parses an IMF-fixdate / RFC 850 / asctime HTTP-date into ms since the Unix epoch.
///
/// Names (day, month, `GMT`) match case-insensitively. Either day-name length is
/// accepted in any form, since the weekday is not checked against the date.
/// RFC 850 two-digit years: 00-69 → 2000-2069, 70-99 → 1970-1999.
/// Dates before 1970 are not representable and yield `None`.
#[must_use]
pub fn parse_http_date(value: &str) -> Option<u64> {
    let mut s = trim_ows(value).as_bytes();
    let s = &mut s;
    weekday(s)?;
    let (y, mo, d, t) = if lit(s, b',').is_some() {
        lit(s, b' ')?;
        let d = num(s, 2)?;
        let (mo, y) = if lit(s, b' ').is_some() {
            // IMF-fixdate: "06 Nov 1994"
            let mo = month(s)?;
            lit(s, b' ')?;
            (mo, num(s, 4)?)
        } else {
            // RFC 850: "06-Nov-94"
            lit(s, b'-')?;
            let mo = month(s)?;
            lit(s, b'-')?;
            let yy = num(s, 2)?;
            (mo, if yy < 70 { 2000 + yy } else { 1900 + yy })
        };
        lit(s, b' ')?;
        let t = time(s)?;
        lit(s, b' ')?;
        if !s.eq_ignore_ascii_case(b"GMT") {
            return None;
        }
        (y, mo, d, t)
    } else {
        // asctime: "Nov  6 08:49:37 1994"
        lit(s, b' ')?;
        let mo = month(s)?;
        lit(s, b' ')?;
        let d = if lit(s, b' ').is_some() {
            num(s, 1)?
        } else {
            num(s, 2)?
        };
        lit(s, b' ')?;
        let t = time(s)?;
        lit(s, b' ')?;
        let y = num(s, 4)?;
        if !s.is_empty() {
            return None;
        }
        (y, mo, d, t)
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let dim = match mo {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if d == 0 || d > dim || y < 1970 {
        return None;
    }
    Some((days_from_civil(y, mo, d) * 86_400 + u64::from(t)) * 1000)
}

/// Strips spaces and tabs at both ends (bytes: no char-pattern code in the wasm).
fn trim_ows(s: &str) -> &str {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let b = s.as_bytes();
    let start = b.iter().position(|c| !ows(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ows(c)).map_or(start, |i| i + 1);
    // Both cuts are next to ASCII bytes, so on char boundaries.
    s.get(start..end).unwrap_or_default()
}

/// Consumes one exact byte.
fn lit(s: &mut &[u8], c: u8) -> Option<()> {
    match s.split_first() {
        Some((&b, rest)) if b == c => {
            *s = rest;
            Some(())
        }
        _ => None,
    }
}

/// Consumes exactly `n` ASCII digits (n <= 4, so no overflow).
fn num(s: &mut &[u8], n: usize) -> Option<u32> {
    let d = s.get(..n)?;
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    *s = s.get(n..)?;
    Some(d.iter().fold(0, |a, &b| a * 10 + u32::from(b - b'0')))
}

/// Consumes a three-letter month name, returning 1..=12.
fn month(s: &mut &[u8]) -> Option<u32> {
    let m = s.get(..3)?;
    let i = MONTHS.chunks(3).position(|c| c.eq_ignore_ascii_case(m))?;
    *s = s.get(3..)?;
    u32::try_from(i + 1).ok()
}

/// Consumes a short ("Sun") or long ("Sunday") day name.
fn weekday(s: &mut &[u8]) -> Option<()> {
    let n = s.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let w = s.get(..n)?;
    let known = DAYS.iter().any(|d| {
        let d = d.as_bytes();
        w.eq_ignore_ascii_case(d) || d.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(w))
    });
    *s = s.get(n..)?;
    known.then_some(())
}

/// Consumes "HH:MM:SS", returning seconds since midnight (60 allows a leap second).
fn time(s: &mut &[u8]) -> Option<u32> {
    let h = num(s, 2)?;
    lit(s, b':')?;
    let m = num(s, 2)?;
    lit(s, b':')?;
    let sec = num(s, 2)?;
    (h < 24 && m < 60 && sec <= 60).then_some(h * 3600 + m * 60 + sec)
}

/// Days since 1970-01-01 (Hinnant's algorithm); caller guarantees y >= 1970.
fn days_from_civil(y: u32, m: u32, d: u32) -> u64 {
    // Years start in March so the leap day is the last day of the year.
    let y = u64::from(if m <= 2 { y - 1 } else { y });
    let era = y / 400;
    let yoe = y % 400;
    let mp = u64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + u64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1994-11-06T08:49:37Z, the RFC's example date.
    const NOW: u64 = 784_111_777_000;

    fn ra(v: &str) -> Option<u64> {
        parse_retry_after(v, NOW)
    }

    #[test]
    fn delay_seconds() {
        assert_eq!(ra("0"), Some(0));
        assert_eq!(ra("1"), Some(1000));
        assert_eq!(ra("120"), Some(120_000));
        assert_eq!(ra("007"), Some(7000));
        assert_eq!(ra("000"), Some(0));
        assert_eq!(ra("  30\t"), Some(30_000));
        assert_eq!(ra("\t5 "), Some(5000));
    }

    #[test]
    fn delay_120_is_not_a_year() {
        assert_eq!(parse_retry_after("120", 0), Some(120_000));
        assert_eq!(parse_retry_after("1994", NOW), Some(1_994_000));
    }

    #[test]
    fn delay_cap_and_overflow() {
        assert_eq!(ra("86400"), Some(MAX_RETRY_AFTER_MS));
        assert_eq!(ra("86399"), Some(86_399_000));
        assert_eq!(ra("86401"), Some(MAX_RETRY_AFTER_MS));
        assert_eq!(ra("18446744073709551615"), Some(MAX_RETRY_AFTER_MS));
        assert_eq!(ra("18446744073709551616"), Some(MAX_RETRY_AFTER_MS));
        assert_eq!(
            ra("1234567890123456789012345678901234567890"),
            Some(MAX_RETRY_AFTER_MS)
        );
        let long = "9".repeat(10_000);
        assert_eq!(ra(&long), Some(MAX_RETRY_AFTER_MS));
    }

    #[test]
    fn invalid_values() {
        for v in [
            "", "   ", "\t", "-5", "+5", "1.5", "0x10", "1e3", "12abc", "abc", " 1 2 ", "1,2",
            "5s", "\u{663}", "１２", "12\u{e9}", "\n5", "5\r", "\u{a0}5", "GMT", ",", "Sun,",
            "Sun",
        ] {
            assert_eq!(ra(v), None, "{v:?}");
        }
    }

    #[test]
    fn imf_fixdate() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(NOW));
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Fri, 31 Dec 1999 23:59:59 GMT"),
            Some(946_684_799_000)
        );
        assert_eq!(
            parse_http_date("Sat, 01 Jan 2000 00:00:00 GMT"),
            Some(946_684_800_000)
        );
        assert_eq!(
            parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(253_402_300_799_000)
        );
        // Case-insensitive names, surrounding whitespace.
        assert_eq!(
            parse_http_date(" sun, 06 NOV 1994 08:49:37 gmt\t"),
            Some(NOW)
        );
        // Weekday is not cross-checked, only required to be a day name.
        assert_eq!(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"), Some(NOW));
        assert_eq!(
            parse_http_date("Sunday, 06 Nov 1994 08:49:37 GMT"),
            Some(NOW)
        );
    }

    #[test]
    fn leap_days() {
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT"),
            Some(1_709_164_800_000)
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400_000)
        );
        assert_eq!(parse_http_date("Wed, 29 Feb 2023 00:00:00 GMT"), None);
        assert_eq!(parse_http_date("Mon, 29 Feb 2100 00:00:00 GMT"), None);
        assert_eq!(parse_http_date("Fri, 30 Feb 2024 00:00:00 GMT"), None);
    }

    #[test]
    fn rfc850() {
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(NOW));
        assert_eq!(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"), Some(0));
        // 00-69 map to 2000-2069.
        assert_eq!(
            parse_http_date("Saturday, 01-Jan-00 00:00:00 GMT"),
            Some(946_684_800_000)
        );
        assert_eq!(
            parse_http_date("Thursday, 29-Feb-24 00:00:00 GMT"),
            Some(1_709_164_800_000)
        );
        assert_eq!(parse_http_date("Wednesday, 29-Feb-23 00:00:00 GMT"), None);
        assert_eq!(parse_http_date("Sunday, 06-Nov-1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37"), None);
    }

    #[test]
    fn asctime() {
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(NOW));
        assert_eq!(
            parse_http_date("Thu Feb 29 00:00:00 2024"),
            Some(1_709_164_800_000)
        );
        assert_eq!(parse_http_date("Thu Jan  1 00:00:00 1970"), Some(0));
        // Grammar requires a padded single-digit day.
        assert_eq!(parse_http_date("Sun Nov 6 08:49:37 1994"), None);
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994 GMT"), None);
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 94"), None);
    }

    #[test]
    fn garbage_dates() {
        for v in [
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:00:00 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "Sun, 06 Nov 1994 08:49:37 GMT\u{e9}",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 32 Jan 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun 06 Nov 1994 08:49:37 GMT",
            "Sun,06 Nov 1994 08:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Su, 06 Nov 1994 08:49:37 GMT",
            "Sundays, 06 Nov 1994 08:49:37 GMT",
            ", 06 Nov 1994 08:49:37 GMT",
            "06 Nov 1994 08:49:37 GMT",
            "Sun, -6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT",
            "Sun, 06 Nov 0000 08:49:37 GMT",
            "Sun, 06 N\u{f6}v 1994 08:49:37 GMT",
            "\u{1f600}",
            "",
        ] {
            assert_eq!(parse_http_date(v), None, "{v:?}");
            assert_eq!(ra(v), None, "{v:?}");
        }
    }

    #[test]
    fn leap_second_accepted() {
        assert_eq!(
            parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT"),
            parse_http_date("Sun, 01 Jan 2017 00:00:00 GMT")
        );
    }

    #[test]
    fn date_relative_to_now() {
        // Equal and past → 0.
        assert_eq!(ra("Sun, 06 Nov 1994 08:49:37 GMT"), Some(0));
        assert_eq!(ra("Sun, 06 Nov 1994 08:49:36 GMT"), Some(0));
        assert_eq!(ra("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        // Future → exact difference.
        assert_eq!(ra("Sun, 06 Nov 1994 08:49:38 GMT"), Some(1000));
        assert_eq!(ra("Sun, 06 Nov 1994 08:50:37 GMT"), Some(60_000));
        assert_eq!(ra("Sunday, 06-Nov-94 09:49:37 GMT"), Some(3_600_000));
        assert_eq!(ra("Sun Nov  6 10:49:37 1994"), Some(7_200_000));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:38 GMT", NOW - 500),
            Some(1500)
        );
        // Exactly one day and beyond → cap.
        assert_eq!(
            ra("Mon, 07 Nov 1994 08:49:37 GMT"),
            Some(MAX_RETRY_AFTER_MS)
        );
        assert_eq!(ra("Mon, 07 Nov 1994 08:49:36 GMT"), Some(86_399_000));
        assert_eq!(
            ra("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(MAX_RETRY_AFTER_MS)
        );
        // Extreme `now` values.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 0),
            Some(MAX_RETRY_AFTER_MS)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", u64::MAX),
            Some(0)
        );
        assert_eq!(parse_retry_after("5", u64::MAX), Some(5000));
    }

    #[test]
    fn days_from_civil_matches_known_points() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1970, 3, 1), 59);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }

    #[test]
    fn days_from_civil_is_contiguous() {
        // Walking every day 1970..2401 must step by exactly one.
        let mut prev = None;
        for y in 1970..2401 {
            let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            for m in 1..=12 {
                let dim = match m {
                    2 if leap => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                for d in 1..=dim {
                    let n = days_from_civil(y, m, d);
                    if let Some(p) = prev {
                        assert_eq!(n, p + 1, "{y}-{m}-{d}");
                    }
                    prev = Some(n);
                }
            }
        }
    }
}
