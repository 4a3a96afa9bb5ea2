//! Clock and date/time formats: Zoho renders datetimes as `yyyy-MM-ddTHH:mm:ss±HH:mm`
//! in the user's time zone and dates as `yyyy-MM-dd`.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike, Utc};

/// Seconds since the Unix epoch, now.
pub(crate) fn now_secs() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// `secs` as `yyyy-MM-ddTHH:mm:ss±HH:mm` in `offset` (formatted by hand: this runs
/// for every seeded record).
pub(crate) fn format(secs: i64, offset: FixedOffset) -> String {
    let shift = i64::from(offset.local_minus_utc());
    let Some(t) = DateTime::<Utc>::from_timestamp(secs + shift, 0) else {
        return String::new();
    };
    let sign = if shift < 0 { '-' } else { '+' };
    let shift = shift.abs();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        shift / 3600,
        (shift % 3600) / 60
    )
}

/// Parses an ISO-8601 / RFC 3339 datetime with an offset (`Z` allowed) into seconds.
pub(crate) fn parse_datetime(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|d| d.timestamp())
}

/// Parses an `If-Modified-Since` value: ISO-8601 as Zoho documents it, or an HTTP
/// date (RFC 2822 style, `Tue, 15 Nov 1994 08:12:31 GMT`) as many HTTP clients send.
pub(crate) fn parse_if_modified_since(text: &str) -> Option<i64> {
    parse_datetime(text).or_else(|| {
        DateTime::parse_from_rfc2822(text.trim())
            .ok()
            .map(|d| d.timestamp())
    })
}

/// Whether `text` is a valid `yyyy-MM-dd` date.
pub(crate) fn valid_date(text: &str) -> bool {
    text.len() == 10 && NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// The `yyyy-MM-dd` date of `secs` in `offset`.
pub(crate) fn format_date(secs: i64, offset: FixedOffset) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .map(|t| t.with_timezone(&offset).format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        let ist = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        let text = format(1_564_048_609, ist);
        assert_eq!(text, "2019-07-25T15:26:49+05:30");
        assert_eq!(parse_datetime(&text), Some(1_564_048_609));
        assert_eq!(parse_datetime("2019-07-25T09:56:49Z"), Some(1_564_048_609));
        assert_eq!(
            parse_if_modified_since("Thu, 25 Jul 2019 09:56:49 GMT"),
            Some(1_564_048_609)
        );
        assert!(valid_date("2024-02-29"));
        assert!(!valid_date("2023-02-29"));
        assert!(!valid_date("2023-2-1"));
        assert_eq!(format_date(1_564_048_609, ist), "2019-07-25");
        let west = FixedOffset::west_opt(7 * 3600).unwrap();
        assert_eq!(format(1_564_048_609, west), "2019-07-25T02:56:49-07:00");
    }
}
