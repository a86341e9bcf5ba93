//! Every date, time and duration helper, in one place.
//!
//! Google sends RFC 3339 timestamps, waivers expire on `YYYY-MM-DD` dates,
//! the command line and the config take durations (`500ms`, `5m`). Each is
//! parsed once, where it is read, into the types here; checks compare
//! [`Timestamp`]s and never parse text. Durations are bounded when parsed:
//! an absurd `--timeout 300000000000y` is a usage error, not an overflow
//! panic when a deadline is computed.

use std::fmt;
use std::time::Duration;

/// A point in time: seconds and nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// A time from Unix seconds.
    pub const fn from_unix(secs: i64) -> Self {
        Timestamp { secs, nanos: 0 }
    }

    /// A time from Unix seconds and nanoseconds (nanoseconds above one
    /// second are clamped).
    pub fn from_parts(secs: i64, nanos: i32) -> Self {
        Timestamp {
            secs,
            nanos: nanos.clamp(0, 999_999_999) as u32,
        }
    }

    /// Unix seconds.
    pub const fn unix(self) -> i64 {
        self.secs
    }

    /// Parses RFC 3339 (`2026-02-01T00:00:00Z`, `...T00:00:00.5+02:00`).
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let t = text.trim().as_bytes();
        if t.len() < 20 || !matches!(t[10], b'T' | b't' | b' ') {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let s = std::str::from_utf8(t.get(range)?).ok()?;
            s.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        if t[4] != b'-' || t[7] != b'-' || t[13] != b':' || t[16] != b':' {
            return None;
        }
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let mut i = 19;
        let mut nanos: u32 = 0;
        if t.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while t.get(i).is_some_and(u8::is_ascii_digit) {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(t[i] - b'0');
                }
                i += 1;
            }
            if i == start {
                return None;
            }
            for _ in (i - start).min(9)..9 {
                nanos *= 10;
            }
        }
        let offset = match t.get(i..)? {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let digits = [*h1, *h2, *m1, *m2];
                if !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let v = |a: u8, b: u8| i64::from(a - b'0') * 10 + i64::from(b - b'0');
                let off = v(*h1, *h2) * 3600 + v(*m1, *m2) * 60;
                if *sign == b'+' {
                    off
                } else {
                    -off
                }
            }
            _ => return None,
        };
        let days = days_from_civil(y, mo as u32, d as u32);
        let secs = days * 86_400 + h * 3600 + mi * 60 + s.min(59) - offset;
        Some(Timestamp { secs, nanos })
    }

    /// The date of this time (UTC), as days since 1970-01-01.
    pub fn day(self) -> i64 {
        self.secs.div_euclid(86_400)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, whole seconds: `2026-09-21T14:13:20Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.day());
        let rem = self.secs.rem_euclid(86_400);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

/// Unix seconds now. Only the edge of the program reads the clock; checks
/// receive the time of the run.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut it = text.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(0..=9999).contains(&y) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of days since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2026-09-21T14:13:20Z` for Unix seconds (at most the last second of
/// 9999: a token's absurd `exp` is shown, not overflowed).
pub fn rfc3339(secs: u64) -> String {
    const LAST: u64 = 253_402_300_799;
    Timestamp::from_unix(secs.min(LAST) as i64).to_string()
}

/// The longest network bound (`--timeout`, a probe's `timeout`): a day.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);
/// The longest `watch --interval`: a year.
pub const MAX_INTERVAL: Duration = Duration::from_secs(366 * 86_400);
/// The longest token lifetime (`ttl`): ten years.
pub const MAX_TTL: Duration = Duration::from_secs(3_660 * 86_400);

/// Parses `500ms`, `2s`, `1m`, `1h30m`, at most `max`.
pub fn parse_duration(text: &str, max: Duration) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration (try 500ms, 10s, 5m): {e}"))?;
    if d > max {
        return Err(format!(
            "`{text}` is out of range: at most {}",
            format_duration(max)
        ));
    }
    Ok(d)
}

/// `1m 30s` for a duration.
pub fn format_duration(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_and_offsets() {
        for (text, want) in [
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2026-09-21T14:13:20Z", Some(1_790_000_000)),
            ("2026-09-21T16:13:20+02:00", Some(1_790_000_000)),
            ("2026-09-21T14:13:20.123456789Z", Some(1_790_000_000)),
            ("2026-09-21t14:13:20z", Some(1_790_000_000)),
            ("2000-02-29T00:00:00Z", Some(951_782_400)),
            ("2026-13-01T00:00:00Z", None),
            ("2026-09-21T14:13:20", None),
            ("2026-09-21T14:13:20.Z", None),
            ("yesterday", None),
            ("", None),
        ] {
            assert_eq!(
                Timestamp::parse_rfc3339(text).map(Timestamp::unix),
                want,
                "{text}"
            );
        }
        let a = Timestamp::parse_rfc3339("2026-02-01T00:00:00Z").unwrap();
        let b = Timestamp::parse_rfc3339("2026-02-01T00:00:00.5Z").unwrap();
        assert!(a < b);
        assert_eq!(a.to_string(), "2026-02-01T00:00:00Z");
    }

    #[test]
    fn unix_seconds_to_rfc3339() {
        for (secs, want) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_790_000_000, "2026-09-21T14:13:20Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
            (u64::MAX, "9999-12-31T23:59:59Z"),
        ] {
            assert_eq!(rfc3339(secs), want);
        }
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-11-23"), Some(20780));
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("soon"), None);
        assert_eq!(parse_date("99999999999-01-01"), None);
        assert_eq!(civil_from_days(20780), (2026, 11, 23));
    }

    #[test]
    fn durations_are_bounded() {
        assert_eq!(
            parse_duration("500ms", MAX_TIMEOUT),
            Ok(Duration::from_millis(500))
        );
        for absurd in ["300000000000y", "18446744073709551615s", "2d"] {
            let e = parse_duration(absurd, MAX_TIMEOUT).unwrap_err();
            assert!(
                e.contains("out of range") || e.contains("not a duration"),
                "{e}"
            );
        }
        assert!(parse_duration("soon", MAX_TTL).is_err());
    }
}
