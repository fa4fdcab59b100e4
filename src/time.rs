//! Timestamps as the index and release records write them: RFC 3339 in UTC, whole seconds
//! (`2026-11-22T00:30:00Z`), through jiff; and the one duration syntax (`90s`, `5m`, `1h30m`).
//! Pure: callers pass the time in; nothing here reads the clock except [`now`], for the IO edge.

/// Seconds since the Unix epoch, UTC.
pub type UnixTime = i64;

/// Formats a Unix time as `YYYY-MM-DDTHH:MM:SSZ` (times outside jiff's range, years -9999 to
/// 9999, are clamped to it).
pub fn format_rfc3339(t: UnixTime) -> String {
    let ts = jiff::Timestamp::from_second(t).unwrap_or(if t < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    });
    // Whole seconds: jiff prints no fraction for them.
    let whole = jiff::Timestamp::from_second(ts.as_second()).unwrap_or(ts);
    whole.to_string()
}

/// Parses an RFC 3339 timestamp (`Z` or `±HH:MM` offset, optional fractional seconds, which are
/// dropped) into whole Unix seconds. Impossible dates (`2026-02-31`) and times are refused.
pub fn parse_rfc3339(s: &str) -> Option<UnixTime> {
    let b = s.as_bytes();
    // RFC 3339 requires the offset; jiff would also accept a bare civil time with a zone
    // annotation, which records never hold.
    if b.len() < 20 || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let normalized = s.replacen(' ', "T", 1);
    normalized
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|ts| ts.as_second())
}

/// Longest duration accepted anywhere (`--timeout`, `--soak`, `--min-age`, lease TTLs): ten years.
/// Longer values are refused when parsed, so no deadline computation can overflow.
pub const MAX_DURATION_SECS: u64 = 10 * 366 * 86_400;

/// Seconds from `90`, `90s`, `5m`, `72h`, `3d` or combinations in decreasing units (`1h30m`), at
/// most [`MAX_DURATION_SECS`]. The one duration syntax of every flag and setting.
pub fn parse_duration_secs(text: &str) -> Result<u64, String> {
    let err = || {
        format!(
            "invalid duration `{text}`: expected seconds (`90`) or numbers with units d, h, m, s \
             in that order (`90s`, `5m`, `72h`, `3d`, `1h30m`)"
        )
    };
    let too_long = || {
        format!(
            "duration `{}` is too long: the most accepted is {}d (ten years)",
            text.trim(),
            MAX_DURATION_SECS / 86_400
        )
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(err());
    }
    let total = if t.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: only an overflow can fail the parse.
        t.parse::<u64>().map_err(|_| too_long())?
    } else {
        let mut total: u64 = 0;
        let mut last_unit = u64::MAX;
        let mut rest = t;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err());
            }
            let n: u64 = rest
                .get(..digits)
                .and_then(|d| d.parse().ok())
                .ok_or_else(too_long)?;
            let unit = match rest.as_bytes().get(digits) {
                Some(b'd') => 86_400,
                Some(b'h') => 3_600,
                Some(b'm') => 60,
                Some(b's') => 1,
                _ => return Err(err()),
            };
            if unit >= last_unit {
                return Err(err());
            }
            last_unit = unit;
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(too_long)?;
            rest = rest.get(digits + 1..).unwrap_or_default();
        }
        total
    };
    if total > MAX_DURATION_SECS {
        return Err(too_long());
    }
    Ok(total)
}

/// [`parse_duration_secs`] as a `Duration`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    parse_duration_secs(text).map(std::time::Duration::from_secs)
}

/// The current time: for the IO edge only (pure code takes `now` as a parameter).
pub fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for (t, s) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_795_307_400, "2026-11-22T00:30:00Z"),
            (-86_400, "1969-12-31T00:00:00Z"),
        ] {
            assert_eq!(format_rfc3339(t), s);
            assert_eq!(parse_rfc3339(s), Some(t));
        }
        assert_eq!(
            parse_rfc3339("2026-11-22T09:30:00+09:00"),
            Some(1_795_307_400)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T00:30:00.123Z"),
            Some(1_795_307_400)
        );
        for bad in [
            "",
            "2026-02-31T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-04-31T12:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-22",
            "2026-11-22T00:30:00",
            "x026-11-22T00:30:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations() {
        for (text, secs) in [
            ("0", 0),
            ("90", 90),
            ("90s", 90),
            ("5m", 300),
            ("72h", 259_200),
            ("3d", 259_200),
            ("1h30m", 5_400),
            ("1d2h3m4s", 93_784),
            (" 10m ", 600),
        ] {
            assert_eq!(parse_duration_secs(text), Ok(secs), "{text}");
        }
        for bad in ["", "h", "5x", "1.5h", "30m1h", "1h1h", "-5m", "5 m", "5ms"] {
            assert!(parse_duration_secs(bad).is_err(), "{bad}");
        }
        // Issue 10, defect 8: huge values are refused, never overflow a deadline later.
        for huge in [
            "18446744073709551615",
            "99999999999999999999999",
            "18446744073709551615s",
            "999999999999d",
            "3661d",
        ] {
            let e = parse_duration_secs(huge).unwrap_err();
            assert!(e.contains("too long"), "{huge}: {e}");
        }
        assert_eq!(parse_duration_secs("3660d"), Ok(3660 * 86_400));
    }
}
