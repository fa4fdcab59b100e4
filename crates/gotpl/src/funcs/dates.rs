//! Template functions: Sprig's `date.go` (`now`, `date`, `dateInZone`/`date_in_zone`,
//! `htmlDate`, `htmlDateInZone`, `ago`, `duration`, `durationRound`, `unixEpoch`,
//! `dateModify`/`date_modify`/`mustDateModify`/`must_date_modify`, `toDate`, `mustToDate`),
//! with Go's `time` semantics: reference-time layouts (`Format`, `ParseInLocation`), durations
//! (`1h2m3s`, `ParseDuration`), and a Go `time.Time` host value ([`GoTime`]) that prints like
//! `time.Time.String()`.
//!
//! The clock is `ctx.env` (its `local_zone` plays Go's `time.Local`); zone rules come from
//! jiff's bundled tz database. `now`'s monotonic clock reading prints as `m=+0.000000000`
//! (Helm prints the process's uptime there, which cannot be reproduced).

use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::strings::arg_str;
use super::{FuncCtx, FuncError, FuncMap, FuncResult, Sig, Ty};
use crate::value::{Object, Value};

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::{Any, String as S};
    map.add("now", Sig::fixed(&[]), |c, _| {
        let mut t = now(c);
        t.mono = true;
        Ok(t.into_value())
    });
    map.add("date", Sig::fixed(&[S, Any]), |c, a| {
        Ok(Value::str(date_in_zone(
            c,
            arg_str(a, 0),
            arg(a, 1),
            "Local",
        )))
    });
    for name in ["dateInZone", "date_in_zone"] {
        map.add(name, Sig::fixed(&[S, Any, S]), |c, a| {
            Ok(Value::str(date_in_zone(
                c,
                arg_str(a, 0),
                arg(a, 1),
                arg_str(a, 2),
            )))
        });
    }
    map.add("htmlDate", Sig::fixed(&[Any]), |c, a| {
        Ok(Value::str(date_in_zone(
            c,
            "2006-01-02",
            arg(a, 0),
            "Local",
        )))
    });
    map.add("htmlDateInZone", Sig::fixed(&[Any, S]), |c, a| {
        Ok(Value::str(date_in_zone(
            c,
            "2006-01-02",
            arg(a, 0),
            arg_str(a, 1),
        )))
    });
    map.add("ago", Sig::fixed(&[Any]), |c, a| {
        let n = now(c);
        let t = match arg(a, 0) {
            Value::Int(s) | Value::Int64(s) => GoTime::unix(*s, 0, Loc::Local(local(c))),
            v => time_of(v).unwrap_or_else(|| n.clone()),
        };
        Ok(Value::str(format_duration(round_duration(
            n.sub(&t),
            NANOS_PER_SEC,
        ))))
    });
    map.add("duration", Sig::fixed(&[Any]), |_, a| {
        let n = match arg(a, 0) {
            Value::Int64(n) => *n,
            Value::String(s) => super::cast::parse_int(s, 10).unwrap_or(0),
            _ => 0,
        };
        Ok(Value::str(format_duration(n.wrapping_mul(NANOS_PER_SEC))))
    });
    map.add("durationRound", Sig::fixed(&[Any]), |c, a| {
        let d = match arg(a, 0) {
            Value::String(s) => parse_duration(s).unwrap_or(0),
            Value::Int64(n) => *n,
            v => time_of(v).map_or(0, |t| now(c).sub(&t)),
        };
        Ok(Value::str(duration_round(d)))
    });
    map.add("unixEpoch", Sig::fixed(&[Any]), |_, a| {
        let t = time_arg(arg(a, 0))?;
        Ok(Value::str(t.secs.to_string()))
    });
    for (name, must) in [
        ("dateModify", false),
        ("date_modify", false),
        ("mustDateModify", true),
        ("must_date_modify", true),
    ] {
        let f = if must {
            date_modify::<true>
        } else {
            date_modify::<false>
        };
        map.add(name, Sig::fixed(&[S, Any]), f);
    }
    map.add("toDate", Sig::fixed(&[S, S]), |c, a| {
        let t = parse_in_location(arg_str(a, 0), arg_str(a, 1), &local(c))
            .unwrap_or_else(|_| GoTime::zero());
        Ok(t.into_value())
    });
    map.add("mustToDate", Sig::fixed(&[S, S]), |c, a| {
        let t =
            parse_in_location(arg_str(a, 0), arg_str(a, 1), &local(c)).map_err(FuncError::msg)?;
        Ok(t.into_value())
    });
}

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&Value::Nil)
}

fn local(c: &FuncCtx<'_>) -> String {
    c.env.local_zone.clone()
}

fn now(c: &FuncCtx<'_>) -> GoTime {
    GoTime::unix(
        c.env.now_unix,
        c.env.now_nanos.min(999_999_999),
        Loc::Local(local(c)),
    )
}

/// A `time.Time` argument, or Go's argument-type error.
fn time_arg(v: &Value) -> Result<GoTime, FuncError> {
    time_of(v).ok_or_else(|| {
        FuncError::msg(format!(
            "wrong type for value; expected time.Time; got {}",
            v.type_name()
        ))
    })
}

fn date_modify<const MUST: bool>(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let t = time_arg(arg(a, 1))?;
    match parse_duration(arg_str(a, 0)) {
        Ok(d) => Ok(t.add(d).into_value()),
        Err(e) if MUST => Err(FuncError::msg(e)),
        Err(_) => Ok(t.into_value()),
    }
}

fn date_in_zone(c: &FuncCtx<'_>, layout: &str, date: &Value, zone: &str) -> String {
    let t = match date {
        Value::Int(s) | Value::Int64(s) => GoTime::unix(*s, 0, Loc::Utc),
        v => time_of(v).unwrap_or_else(|| now(c)),
    };
    let loc = match zone {
        "" | "UTC" => Loc::Utc,
        "Local" => Loc::Local(local(c)),
        name => {
            if TimeZone::get(name).is_ok() {
                Loc::Named(name.to_string())
            } else {
                Loc::Utc
            }
        }
    };
    GoTime {
        loc,
        mono: false,
        ..t
    }
    .format(layout)
}

// ---- time.Time ------------------------------------------------------------------------------

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// A Go `*time.Location`.
#[derive(Clone, Debug, PartialEq)]
pub enum Loc {
    Utc,
    /// `time.Local`, with the IANA zone it stands for.
    Local(String),
    /// A zone loaded by name (`dateInZone`).
    Named(String),
    /// `time.FixedZone(name, offset)`, as `Parse` makes for unknown offsets.
    Fixed(String, i32),
}

impl Loc {
    /// The zone abbreviation and offset in effect at `secs`.
    fn lookup(&self, secs: i64) -> (String, i32) {
        let iana = match self {
            Loc::Utc => return ("UTC".into(), 0),
            Loc::Fixed(name, off) => return (name.clone(), *off),
            Loc::Local(z) | Loc::Named(z) => z,
        };
        let Ok(tz) = TimeZone::get(iana) else {
            return ("UTC".into(), 0);
        };
        let clamped = secs.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        let ts = Timestamp::from_second(clamped).unwrap_or(Timestamp::UNIX_EPOCH);
        let info = tz.to_offset_info(ts);
        (info.abbreviation().to_string(), info.offset().seconds())
    }

    fn encode(&self) -> String {
        match self {
            Loc::Utc => "U".into(),
            Loc::Local(z) => format!("L{z}"),
            Loc::Named(z) => format!("N{z}"),
            Loc::Fixed(n, o) => format!("F{o}:{n}"),
        }
    }

    fn decode(s: &str) -> Option<Loc> {
        let rest = s.get(1..)?;
        Some(match s.chars().next()? {
            'U' => Loc::Utc,
            'L' => Loc::Local(rest.into()),
            'N' => Loc::Named(rest.into()),
            'F' => {
                let (o, n) = rest.split_once(':')?;
                Loc::Fixed(n.into(), o.parse().ok()?)
            }
            _ => return None,
        })
    }
}

/// A Go `time.Time`: an instant, a location, and whether it carries a monotonic reading.
#[derive(Clone, Debug, PartialEq)]
pub struct GoTime {
    pub secs: i64,
    pub nanos: u32,
    pub loc: Loc,
    pub mono: bool,
}

/// Hidden fields through which the functions read a time back from a `Value::Object` (no
/// template identifier can contain a NUL).
const F_SECS: &str = "\0secs";
const F_NANOS: &str = "\0nanos";
const F_LOC: &str = "\0loc";
const F_MONO: &str = "\0mono";

/// The `time.Time` inside a template value, if it is one.
pub fn time_of(v: &Value) -> Option<GoTime> {
    let Value::Object(o) = v else { return None };
    if o.type_name() != "time.Time" {
        return None;
    }
    let secs = match o.field(F_SECS)? {
        Value::Int64(n) => n,
        _ => return None,
    };
    let nanos = match o.field(F_NANOS)? {
        Value::Int64(n) => u32::try_from(n).ok()?,
        _ => return None,
    };
    let loc = Loc::decode(o.field(F_LOC)?.as_str()?)?;
    let mono = matches!(o.field(F_MONO), Some(Value::Bool(true)));
    Some(GoTime {
        secs,
        nanos,
        loc,
        mono,
    })
}

struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    weekday: i64,
    yday: i64,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl GoTime {
    pub fn unix(secs: i64, nanos: u32, loc: Loc) -> GoTime {
        GoTime {
            secs,
            nanos,
            loc,
            mono: false,
        }
    }

    /// Go's zero `time.Time` (`0001-01-01 00:00:00 +0000 UTC`).
    pub fn zero() -> GoTime {
        GoTime::unix(days_from_civil(1, 1, 1) * 86_400, 0, Loc::Utc)
    }

    pub fn into_value(self) -> Value {
        Value::Object(Arc::new(self))
    }

    fn total_nanos(&self) -> i128 {
        i128::from(self.secs) * i128::from(NANOS_PER_SEC) + i128::from(self.nanos)
    }

    /// `t.Sub(u)`, saturating like Go's.
    fn sub(&self, other: &GoTime) -> i64 {
        let d = self.total_nanos() - other.total_nanos();
        i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
    }

    /// `t.AddDate(years, months, days)`: Go's `Date` normalisation in the time's location.
    fn add_date(&self, years: i64, months: i64, days: i64) -> GoTime {
        let (_, offset) = self.loc.lookup(self.secs);
        let c = self.civil(offset);
        let total_months = c
            .year
            .saturating_add(years)
            .saturating_mul(12)
            .saturating_add(c.month - 1)
            .saturating_add(months);
        let (year, month) = (total_months.div_euclid(12), total_months.rem_euclid(12) + 1);
        let day_number = days_from_civil(year, month, 1)
            .saturating_add(c.day - 1)
            .saturating_add(days);
        let wall = day_number
            .saturating_mul(86_400)
            .saturating_add(c.hour * 3600 + c.minute * 60 + c.second);
        // Go's Date: guess the offset at the wall time, then correct it.
        let (_, off1) = self.loc.lookup(wall);
        let mut secs = wall - i64::from(off1);
        let (_, off2) = self.loc.lookup(secs);
        if off2 != off1 {
            secs = wall - i64::from(off2);
        }
        GoTime {
            secs,
            mono: false,
            ..self.clone()
        }
    }

    /// `t.Add(d)`.
    fn add(&self, d: i64) -> GoTime {
        let total = self.total_nanos() + i128::from(d);
        let secs = total.div_euclid(i128::from(NANOS_PER_SEC));
        let nanos = total.rem_euclid(i128::from(NANOS_PER_SEC));
        GoTime {
            secs: i64::try_from(secs).unwrap_or(self.secs),
            nanos: u32::try_from(nanos).unwrap_or(0),
            ..self.clone()
        }
    }

    fn civil(&self, offset: i32) -> Civil {
        let local = self.secs.saturating_add(i64::from(offset));
        let days = local.div_euclid(86_400);
        let rem = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            weekday: (days + 4).rem_euclid(7),
            yday: days - days_from_civil(year, 1, 1) + 1,
        }
    }

    /// Go's `Time.String()`.
    pub fn go_string(&self) -> String {
        let mut s = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if self.mono {
            s.push_str(" m=+0.000000000");
        }
        s
    }

    /// Go's `Time.Format`.
    pub fn format(&self, layout: &str) -> String {
        let (name, offset) = self.loc.lookup(self.secs);
        let c = self.civil(offset);
        let mut out = String::new();
        let mut rest = layout;
        while !rest.is_empty() {
            let (prefix, std, suffix) = next_std_chunk(rest);
            out.push_str(prefix);
            let Some(std) = std else { break };
            rest = suffix;
            let month_name = MONTHS.get((c.month - 1) as usize).copied().unwrap_or("");
            let day_name = DAYS.get(c.weekday as usize).copied().unwrap_or("");
            match std {
                Std::Year => out.push_str(&pad(c.year.rem_euclid(100), 2)),
                Std::LongYear => out.push_str(&pad(c.year, 4)),
                Std::Month => out.push_str(month_name.get(..3).unwrap_or("")),
                Std::LongMonth => out.push_str(month_name),
                Std::NumMonth => out.push_str(&c.month.to_string()),
                Std::ZeroMonth => out.push_str(&pad(c.month, 2)),
                Std::WeekDay => out.push_str(day_name.get(..3).unwrap_or("")),
                Std::LongWeekDay => out.push_str(day_name),
                Std::Day => out.push_str(&c.day.to_string()),
                Std::UnderDay => {
                    if c.day < 10 {
                        out.push(' ');
                    }
                    out.push_str(&c.day.to_string());
                }
                Std::ZeroDay => out.push_str(&pad(c.day, 2)),
                Std::UnderYearDay => out.push_str(&format!("{:>3}", c.yday)),
                Std::ZeroYearDay => out.push_str(&pad(c.yday, 3)),
                Std::Hour => out.push_str(&pad(c.hour, 2)),
                Std::Hour12 | Std::ZeroHour12 => {
                    let h = match c.hour % 12 {
                        0 => 12,
                        h => h,
                    };
                    if std == Std::Hour12 {
                        out.push_str(&h.to_string());
                    } else {
                        out.push_str(&pad(h, 2));
                    }
                }
                Std::Minute => out.push_str(&c.minute.to_string()),
                Std::ZeroMinute => out.push_str(&pad(c.minute, 2)),
                Std::Second => out.push_str(&c.second.to_string()),
                Std::ZeroSecond => out.push_str(&pad(c.second, 2)),
                Std::PM => out.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
                Std::Pm => out.push_str(if c.hour >= 12 { "pm" } else { "am" }),
                Std::Tz => {
                    if name.is_empty() {
                        let zone = offset / 60;
                        out.push(if zone < 0 { '-' } else { '+' });
                        out.push_str(&pad(i64::from(zone.abs() / 60), 2));
                        out.push_str(&pad(i64::from(zone.abs() % 60), 2));
                    } else {
                        out.push_str(&name);
                    }
                }
                Std::NumTz {
                    iso,
                    colon,
                    seconds,
                    short,
                } => {
                    if iso && offset == 0 {
                        out.push('Z');
                        continue;
                    }
                    let zone = offset / 60;
                    out.push(if zone < 0 { '-' } else { '+' });
                    let (zone, abs) = (zone.abs(), offset.abs());
                    out.push_str(&pad(i64::from(zone / 60), 2));
                    if colon {
                        out.push(':');
                    }
                    if !short {
                        out.push_str(&pad(i64::from(zone % 60), 2));
                    }
                    if seconds {
                        if colon {
                            out.push(':');
                        }
                        out.push_str(&pad(i64::from(abs % 60), 2));
                    }
                }
                Std::Frac { sep, digits, trim } => {
                    if trim && (digits == 0 || self.nanos == 0) {
                        continue;
                    }
                    let mut frac = format!("{:09}", self.nanos);
                    frac.truncate(digits.min(9));
                    if trim {
                        let t = frac.trim_end_matches('0');
                        if !t.is_empty() {
                            out.push(sep);
                            out.push_str(t);
                        }
                    } else {
                        out.push(sep);
                        out.push_str(&frac);
                    }
                }
            }
        }
        out
    }
}

impl Object for GoTime {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn field(&self, name: &str) -> Option<Value> {
        let (_, offset) = self.loc.lookup(self.secs);
        let c = self.civil(offset);
        Some(match name {
            F_SECS | "Unix" => Value::Int64(self.secs),
            F_NANOS => Value::Int64(i64::from(self.nanos)),
            F_LOC => Value::str(self.loc.encode()),
            F_MONO => Value::Bool(self.mono),
            "UnixNano" => Value::Int64(i64::try_from(self.total_nanos()).unwrap_or(i64::MIN)),
            "UnixMilli" => {
                Value::Int64(i64::try_from(self.total_nanos() / 1_000_000).unwrap_or(i64::MIN))
            }
            "Year" => Value::Int(c.year),
            "YearDay" => Value::Int(c.yday),
            "Day" => Value::Int(c.day),
            "Hour" => Value::Int(c.hour),
            "Minute" => Value::Int(c.minute),
            "Second" => Value::Int(c.second),
            "Nanosecond" => Value::Int(i64::from(self.nanos)),
            "Month" => NamedInt::month(c.month),
            "Weekday" => NamedInt::weekday(c.weekday),
            "String" => Value::str(self.go_string()),
            "IsZero" => Value::Bool(*self == GoTime::zero()),
            "UTC" => GoTime {
                loc: Loc::Utc,
                mono: false,
                ..self.clone()
            }
            .into_value(),
            _ => return None,
        })
    }

    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let int = |v: &Value| match v {
            Value::Int(n) | Value::Int64(n) => Some(*n),
            _ => None,
        };
        Some(Ok(match (name, args) {
            ("Format", [Value::String(layout)]) => Value::str(self.format(layout)),
            ("AddDate", [y, m, d]) => match (int(y), int(m), int(d)) {
                (Some(y), Some(m), Some(d)) => self.add_date(y, m, d).into_value(),
                _ => return Some(Err(FuncError::msg("wrong type for value; expected int"))),
            },
            ("Add", [d]) => match duration_of(d) {
                Some(d) => self.add(d).into_value(),
                None => {
                    return Some(Err(FuncError::msg(
                        "wrong type for value; expected time.Duration",
                    )));
                }
            },
            ("Sub" | "Before" | "After" | "Equal" | "Compare", [u]) => {
                let Some(u) = time_of(u) else {
                    return Some(Err(FuncError::msg(
                        "wrong type for value; expected time.Time",
                    )));
                };
                let d = self.sub(&u);
                match name {
                    "Sub" => NamedInt::duration(d),
                    "Before" => Value::Bool(d < 0),
                    "After" => Value::Bool(d > 0),
                    "Equal" => Value::Bool(d == 0),
                    _ => Value::Int(d.signum()),
                }
            }
            _ => return None,
        }))
    }

    fn stringer(&self) -> Option<String> {
        Some(self.go_string())
    }

    /// What `toJson`/`toYaml` write for a `time.Time`: its `MarshalJSON`, RFC 3339 with
    /// nanoseconds (`%v` prints its `String()`, see [`Object::stringer`]).
    fn to_value(&self) -> Value {
        Value::str(self.format("2006-01-02T15:04:05.999999999Z07:00"))
    }
}

/// A Go named integer type with a `String()` method: `time.Month`, `time.Weekday`,
/// `time.Duration`. It prints its name with `%v`/`%s` and its number with `%d`, and marshals as
/// the number.
#[derive(Debug, Clone)]
pub struct NamedInt {
    type_name: &'static str,
    n: i64,
    text: String,
}

impl NamedInt {
    fn month(m: i64) -> Value {
        let text = MONTHS.get((m - 1) as usize).copied().unwrap_or("");
        Self::value("time.Month", m, text.to_string())
    }

    fn weekday(d: i64) -> Value {
        let text = DAYS.get(d as usize).copied().unwrap_or("");
        Self::value("time.Weekday", d, text.to_string())
    }

    /// A `time.Duration` of `nanos`.
    pub fn duration(nanos: i64) -> Value {
        Self::value("time.Duration", nanos, format_duration(nanos))
    }

    fn value(type_name: &'static str, n: i64, text: String) -> Value {
        Value::Object(Arc::new(NamedInt { type_name, n, text }))
    }
}

impl Object for NamedInt {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn kind_name(&self) -> &str {
        "int64"
    }

    fn field(&self, name: &str) -> Option<Value> {
        match (name, self.type_name) {
            ("String", _) => Some(Value::str(self.text.as_str())),
            ("Hours", "time.Duration") => Some(Value::Float(self.n as f64 / 3.6e12)),
            ("Minutes", "time.Duration") => Some(Value::Float(self.n as f64 / 6e10)),
            ("Seconds", "time.Duration") => Some(Value::Float(self.n as f64 / 1e9)),
            ("Milliseconds", "time.Duration") => Some(Value::Int64(self.n / 1_000_000)),
            ("Nanoseconds", "time.Duration") => Some(Value::Int64(self.n)),
            _ => None,
        }
    }

    fn to_value(&self) -> Value {
        Value::Int64(self.n)
    }

    fn stringer(&self) -> Option<String> {
        Some(self.text.clone())
    }
}

/// A `time.Duration` argument: a [`NamedInt`] duration or a plain integer of nanoseconds.
fn duration_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) | Value::Int64(n) => Some(*n),
        Value::Object(o) if o.type_name() == "time.Duration" => match o.to_value() {
            Value::Int64(n) => Some(n),
            _ => None,
        },
        _ => None,
    }
}

fn pad(n: i64, width: usize) -> String {
    if n < 0 {
        format!("-{:0width$}", n.unsigned_abs())
    } else {
        format!("{n:0width$}")
    }
}

// ---- layouts ------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    Tz,
    NumTz {
        iso: bool,
        colon: bool,
        seconds: bool,
        short: bool,
    },
    Frac {
        sep: char,
        digits: usize,
        trim: bool,
    },
}

/// Go's `nextStdChunk`: the literal prefix, the layout element, and the rest.
fn next_std_chunk(layout: &str) -> (&str, Option<Std>, &str) {
    let b = layout.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let starts = |i: usize, s: &str| layout.get(i..).is_some_and(|r| r.starts_with(s));
    let lower_follows = |i: usize| at(i).is_ascii_lowercase();
    for i in 0..b.len() {
        let found: Option<(Std, usize)> = match at(i) {
            b'J' if starts(i, "January") => Some((Std::LongMonth, 7)),
            b'J' if starts(i, "Jan") && !lower_follows(i + 3) => Some((Std::Month, 3)),
            b'M' if starts(i, "Monday") => Some((Std::LongWeekDay, 6)),
            b'M' if starts(i, "Mon") && !lower_follows(i + 3) => Some((Std::WeekDay, 3)),
            b'M' if starts(i, "MST") => Some((Std::Tz, 3)),
            b'0' if (b'1'..=b'6').contains(&at(i + 1)) => Some((
                match at(i + 1) {
                    b'1' => Std::ZeroMonth,
                    b'2' => Std::ZeroDay,
                    b'3' => Std::ZeroHour12,
                    b'4' => Std::ZeroMinute,
                    b'5' => Std::ZeroSecond,
                    _ => Std::Year,
                },
                2,
            )),
            b'0' if at(i + 1) == b'0' && at(i + 2) == b'2' => Some((Std::ZeroYearDay, 3)),
            b'1' if at(i + 1) == b'5' => Some((Std::Hour, 2)),
            b'1' => Some((Std::NumMonth, 1)),
            b'2' if starts(i, "2006") => Some((Std::LongYear, 4)),
            b'2' => Some((Std::Day, 1)),
            b'_' if at(i + 1) == b'2' => {
                if starts(i + 1, "2006") {
                    let (prefix, rest) = layout.split_at(i + 1);
                    return (prefix, Some(Std::LongYear), rest.get(4..).unwrap_or(""));
                }
                Some((Std::UnderDay, 2))
            }
            b'_' if at(i + 1) == b'_' && at(i + 2) == b'2' => Some((Std::UnderYearDay, 3)),
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if at(i + 1) == b'M' => Some((Std::PM, 2)),
            b'p' if at(i + 1) == b'm' => Some((Std::Pm, 2)),
            c @ (b'-' | b'Z') => {
                let iso = c == b'Z';
                let forms: [(&str, bool, bool, bool); 5] = [
                    ("070000", false, true, false),
                    ("07:00:00", true, true, false),
                    ("0700", false, false, false),
                    ("07:00", true, false, false),
                    ("07", false, false, true),
                ];
                forms.iter().find(|f| starts(i + 1, f.0)).map(|f| {
                    (
                        Std::NumTz {
                            iso,
                            colon: f.1,
                            seconds: f.2,
                            short: f.3,
                        },
                        f.0.len() + 1,
                    )
                })
            }
            sep @ (b'.' | b',') if matches!(at(i + 1), b'0' | b'9') => {
                let ch = at(i + 1);
                let mut j = i + 1;
                while at(j) == ch {
                    j += 1;
                }
                if at(j).is_ascii_digit() {
                    None
                } else {
                    Some((
                        Std::Frac {
                            sep: char::from(sep),
                            digits: j - i - 1,
                            trim: ch == b'9',
                        },
                        j - i,
                    ))
                }
            }
            _ => None,
        };
        if let Some((std, len)) = found {
            return (
                layout.get(..i).unwrap_or(""),
                Some(std),
                layout.get(i + len..).unwrap_or(""),
            );
        }
    }
    (layout, None, "")
}

/// Go's `time.quote` (for parse errors).
fn tquote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
            out.push(c);
        } else if (' '..='~').contains(&c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    out.push('"');
    out
}

fn getnum(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    let d0 = b.first().filter(|c| c.is_ascii_digit())?;
    match b.get(1).filter(|c| c.is_ascii_digit()) {
        None if fixed => None,
        None => Some((i64::from(d0 - b'0'), s.get(1..)?)),
        Some(d1) => Some((
            i64::from(d0 - b'0') * 10 + i64::from(d1 - b'0'),
            s.get(2..)?,
        )),
    }
}

fn getnum3(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let mut n = 0i64;
    let mut i = 0;
    while i < 3 && s.as_bytes().get(i).is_some_and(u8::is_ascii_digit) {
        n = n * 10 + i64::from(s.as_bytes()[i] - b'0');
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, s.get(i..)?))
}

fn skip<'a>(mut value: &'a str, mut prefix: &str) -> Option<&'a str> {
    while let Some(p) = prefix.chars().next() {
        if p == ' ' {
            if value.chars().next().is_some_and(|c| c != ' ') {
                return None;
            }
            prefix = prefix.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        if !value.starts_with(p) {
            return None;
        }
        prefix = &prefix[p.len_utf8()..];
        value = &value[p.len_utf8()..];
    }
    Some(value)
}

fn parse_nanos(value: &str, nbytes: usize) -> Option<u32> {
    if !value.starts_with(['.', ',']) {
        return None;
    }
    let nbytes = nbytes.min(10);
    let digits = value.get(1..nbytes)?;
    let mut ns: u32 = digits.parse().ok()?;
    for _ in 0..(10 - nbytes) {
        ns *= 10;
    }
    Some(ns)
}

fn lookup_name(value: &str, names: &[&str]) -> Option<(usize, usize)> {
    names.iter().enumerate().find_map(|(i, n)| {
        let head = value.get(..n.len())?;
        head.eq_ignore_ascii_case(n).then_some((i, n.len()))
    })
}

fn parse_tz_name(value: &str) -> Option<usize> {
    let b = value.as_bytes();
    if b.len() < 3 {
        return None;
    }
    if value.starts_with("ChST") || value.starts_with("MeST") {
        return Some(4);
    }
    if value.starts_with("GMT") {
        let rest = &b[3..];
        if let Some(&s) = rest.first()
            && (s == b'+' || s == b'-')
        {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n > 0 {
                return Some(4 + n);
            }
        }
        return Some(3);
    }
    let n = b
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match n {
        3 => Some(3),
        4 if b[3] == b'T' || value.starts_with("WITA") => Some(4),
        5 if b[4] == b'T' => Some(5),
        _ => None,
    }
}

/// Go's `time.ParseInLocation(layout, value, time.Local)`.
fn parse_in_location(layout: &str, value: &str, local_zone: &str) -> Result<GoTime, String> {
    let (alayout, avalue) = (layout, value);
    let perr = |lelem: &str, velem: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            tquote(avalue),
            tquote(alayout),
            tquote(velem),
            tquote(lelem)
        )
    };
    let range_err = |what: &str| format!("parsing time {}: {what} out of range", tquote(avalue));
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0u32);
    let (mut pm, mut am) = (false, false);
    let mut utc = false;
    let mut zone_offset: Option<i64> = None;
    let mut zone_name = String::new();
    let mut layout = layout;
    let mut value = value;
    loop {
        let (prefix, std, suffix) = next_std_chunk(layout);
        let stdstr = &layout[prefix.len()..layout.len() - suffix.len()];
        value = skip(value, prefix).ok_or_else(|| perr(prefix, value))?;
        let Some(std) = std else {
            if !value.is_empty() {
                return Err(format!(
                    "parsing time {}: extra text: {}",
                    tquote(avalue),
                    tquote(value)
                ));
            }
            break;
        };
        layout = suffix;
        let hold = value;
        let bad = || perr(stdstr, hold);
        match std {
            Std::Year => {
                let p = value
                    .get(..2)
                    .filter(|p| p.bytes().all(|c| c.is_ascii_digit()));
                let p = p.ok_or_else(bad)?;
                year = p.parse::<i64>().map_err(|_| bad())?;
                year += if year >= 69 { 1900 } else { 2000 };
                value = &value[2..];
            }
            Std::LongYear => {
                let p = value
                    .get(..4)
                    .filter(|p| p.bytes().all(|c| c.is_ascii_digit()));
                year = p.ok_or_else(bad)?.parse::<i64>().map_err(|_| bad())?;
                value = &value[4..];
            }
            Std::Month | Std::LongMonth => {
                let names: Vec<&str> = if std == Std::Month {
                    MONTHS.iter().map(|m| m.get(..3).unwrap_or("")).collect()
                } else {
                    MONTHS.to_vec()
                };
                let (i, len) = lookup_name(value, &names).ok_or_else(bad)?;
                month = i as i64 + 1;
                value = &value[len..];
            }
            Std::NumMonth | Std::ZeroMonth => {
                let (m, rest) = getnum(value, std == Std::ZeroMonth).ok_or_else(bad)?;
                if !(1..=12).contains(&m) {
                    return Err(range_err("month"));
                }
                month = m;
                value = rest;
            }
            Std::WeekDay | Std::LongWeekDay => {
                let names: Vec<&str> = if std == Std::WeekDay {
                    DAYS.iter().map(|m| m.get(..3).unwrap_or("")).collect()
                } else {
                    DAYS.to_vec()
                };
                let (_, len) = lookup_name(value, &names).ok_or_else(bad)?;
                value = &value[len..];
            }
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                if std == Std::UnderDay {
                    value = value.strip_prefix(' ').unwrap_or(value);
                }
                let (d, rest) = getnum(value, std == Std::ZeroDay).ok_or_else(bad)?;
                day = d;
                value = rest;
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                for _ in 0..2 {
                    if std == Std::UnderYearDay {
                        value = value.strip_prefix(' ').unwrap_or(value);
                    }
                }
                let (d, rest) = getnum3(value, std == Std::ZeroYearDay).ok_or_else(bad)?;
                yday = d;
                value = rest;
            }
            Std::Hour => {
                let (h, rest) = getnum(value, false).ok_or_else(bad)?;
                if h >= 24 {
                    return Err(range_err("hour"));
                }
                hour = h;
                value = rest;
            }
            Std::Hour12 | Std::ZeroHour12 => {
                let (h, rest) = getnum(value, std == Std::ZeroHour12).ok_or_else(bad)?;
                if h > 12 {
                    return Err(range_err("hour"));
                }
                hour = h;
                value = rest;
            }
            Std::Minute | Std::ZeroMinute => {
                let (m, rest) = getnum(value, std == Std::ZeroMinute).ok_or_else(bad)?;
                if m >= 60 {
                    return Err(range_err("minute"));
                }
                min = m;
                value = rest;
            }
            Std::Second | Std::ZeroSecond => {
                let (s, rest) = getnum(value, std == Std::ZeroSecond).ok_or_else(bad)?;
                if s >= 60 {
                    return Err(range_err("second"));
                }
                sec = s;
                value = rest;
                let vb = value.as_bytes();
                if vb.len() >= 2 && matches!(vb[0], b'.' | b',') && vb[1].is_ascii_digit() {
                    let (_, next, _) = next_std_chunk(layout);
                    if !matches!(next, Some(Std::Frac { .. })) {
                        let n = 2 + vb[2..].iter().take_while(|c| c.is_ascii_digit()).count();
                        nsec = parse_nanos(value, n).ok_or_else(bad)?;
                        value = &value[n..];
                    }
                }
            }
            Std::PM | Std::Pm => {
                let p = value.get(..2).ok_or_else(bad)?;
                let (pmv, amv) = if std == Std::PM {
                    ("PM", "AM")
                } else {
                    ("pm", "am")
                };
                if p == pmv {
                    pm = true;
                } else if p == amv {
                    am = true;
                } else {
                    return Err(bad());
                }
                value = &value[2..];
            }
            Std::NumTz {
                iso,
                colon,
                seconds,
                short,
            } => {
                if iso && value.starts_with('Z') {
                    value = &value[1..];
                    utc = true;
                    continue;
                }
                let vb = value.as_bytes();
                let (sign, hh, mm, ss, used) = if colon && !seconds {
                    if vb.len() < 6 || vb[3] != b':' {
                        return Err(bad());
                    }
                    (vb[0], &value[1..3], &value[4..6], "00", 6)
                } else if short {
                    if vb.len() < 3 {
                        return Err(bad());
                    }
                    (vb[0], &value[1..3], "00", "00", 3)
                } else if colon && seconds {
                    if vb.len() < 9 || vb[3] != b':' || vb[6] != b':' {
                        return Err(bad());
                    }
                    (vb[0], &value[1..3], &value[4..6], &value[7..9], 9)
                } else if seconds {
                    if vb.len() < 7 {
                        return Err(bad());
                    }
                    (vb[0], &value[1..3], &value[3..5], &value[5..7], 7)
                } else {
                    if vb.len() < 5 {
                        return Err(bad());
                    }
                    (vb[0], &value[1..3], &value[3..5], "00", 5)
                };
                let num = |s: &str| getnum(s, true).map(|(n, _)| n).ok_or_else(bad);
                let (h, m, s) = (num(hh)?, num(mm)?, num(ss)?);
                if h > 24 {
                    return Err(range_err("time zone offset hour"));
                }
                if m > 60 {
                    return Err(range_err("time zone offset minute"));
                }
                if s > 60 {
                    return Err(range_err("time zone offset second"));
                }
                let off = (h * 60 + m) * 60 + s;
                zone_offset = Some(match sign {
                    b'+' => off,
                    b'-' => -off,
                    _ => return Err(bad()),
                });
                value = value.get(used..).unwrap_or("");
            }
            Std::Tz => {
                if value.starts_with("UTC") {
                    utc = true;
                    value = &value[3..];
                    continue;
                }
                let n = parse_tz_name(value).ok_or_else(bad)?;
                zone_name = value.get(..n).unwrap_or("").to_string();
                value = value.get(n..).unwrap_or("");
            }
            Std::Frac { digits, trim, .. } => {
                if !trim {
                    let n = 1 + digits;
                    if value.len() < n {
                        return Err(bad());
                    }
                    nsec = parse_nanos(value, n).ok_or_else(bad)?;
                    value = value.get(n..).unwrap_or("");
                } else {
                    let vb = value.as_bytes();
                    if vb.len() < 2 || !matches!(vb[0], b'.' | b',') || !vb[1].is_ascii_digit() {
                        continue;
                    }
                    let n = 1 + vb[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    nsec = parse_nanos(value, n).ok_or_else(bad)?;
                    value = value.get(n..).unwrap_or("");
                }
            }
        }
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let leap = days_in(2, year) == 29;
        if yday < 1 || yday > if leap { 366 } else { 365 } {
            return Err(range_err("day-of-year"));
        }
        let (_, m, d) = civil_from_days(days_from_civil(year, 1, 1) + yday - 1);
        if (month >= 0 && month != m) || (day >= 0 && day != d) {
            return Err(range_err("day-of-year"));
        }
        month = m;
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(range_err("day"));
    }
    let wall = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec;
    let local = Loc::Local(local_zone.to_string());
    if utc {
        return Ok(GoTime::unix(wall, nsec, Loc::Utc));
    }
    if let Some(off) = zone_offset {
        let secs = wall - off;
        let (name, loff) = local.lookup(secs);
        if i64::from(loff) == off && (zone_name.is_empty() || name == zone_name) {
            return Ok(GoTime::unix(secs, nsec, local));
        }
        let off = i32::try_from(off).unwrap_or(0);
        return Ok(GoTime::unix(secs, nsec, Loc::Fixed(zone_name, off)));
    }
    if !zone_name.is_empty() {
        let (name, loff) = local.lookup(wall);
        if name == zone_name {
            return Ok(GoTime::unix(wall - i64::from(loff), nsec, local));
        }
        let mut off = 0i32;
        if zone_name.len() > 3 && zone_name.starts_with("GMT") {
            off = zone_name[3..].parse::<i32>().unwrap_or(0) * 3600;
        }
        return Ok(GoTime::unix(wall, nsec, Loc::Fixed(zone_name, off)));
    }
    // Go's Date(..., Local): guess the offset at the wall time, then correct it.
    let (_, off1) = local.lookup(wall);
    let mut secs = wall - i64::from(off1);
    let (_, off2) = local.lookup(secs);
    if off2 != off1 {
        secs = wall - i64::from(off2);
    }
    Ok(GoTime::unix(secs, nsec, local))
}

// ---- durations --------------------------------------------------------------------------

/// Go's `Duration.String()`.
pub fn format_duration(d: i64) -> String {
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = if u < NANOS_PER_SEC as u64 {
        let (prec, unit) = match u {
            0 => return "0s".into(),
            1..=999 => (0, "ns"),
            1000..=999_999 => (3, "µs"),
            _ => (6, "ms"),
        };
        format!("{}{unit}", frac_string(u, prec))
    } else {
        let secs = u / NANOS_PER_SEC as u64;
        let frac = u % NANOS_PER_SEC as u64;
        let mut s = String::new();
        let (h, m, sec) = (secs / 3600, secs / 60 % 60, secs % 60);
        if h > 0 {
            s.push_str(&format!("{h}h"));
        }
        if secs >= 60 {
            s.push_str(&format!("{m}m"));
        }
        s.push_str(&frac_string(sec * NANOS_PER_SEC as u64 + frac, 9));
        s.push('s');
        s
    };
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `v / 10^prec` with the fraction's trailing zeros (and a bare point) dropped.
fn frac_string(v: u64, prec: u32) -> String {
    let p = 10u64.pow(prec);
    let (int, frac) = (v / p, v % p);
    if frac == 0 {
        return int.to_string();
    }
    let f = format!("{frac:0width$}", width = prec as usize);
    format!("{int}.{}", f.trim_end_matches('0'))
}

/// Go's `Duration.Round(m)`.
fn round_duration(d: i64, m: i64) -> i64 {
    let r = d % m;
    let less_than_half = |x: i64| (x as u64).wrapping_add(x as u64) < m as u64;
    if d < 0 {
        let r = -r;
        if less_than_half(r) {
            return d + r;
        }
        return d.checked_sub(m - r).unwrap_or(i64::MIN);
    }
    if less_than_half(r) {
        return d - r;
    }
    d.checked_add(m - r).unwrap_or(i64::MAX)
}

/// Sprig's `durationRound`: the largest whole unit (`y`, `mo`, `d`, `h`, `m`, `s`).
fn duration_round(d: i64) -> String {
    let u = d.unsigned_abs();
    let hour = 3600 * NANOS_PER_SEC as u64;
    let units: [(u64, &str); 6] = [
        (hour * 24 * 365, "y"),
        (hour * 24 * 30, "mo"),
        (hour * 24, "d"),
        (hour, "h"),
        (60 * NANOS_PER_SEC as u64, "m"),
        (NANOS_PER_SEC as u64, "s"),
    ];
    for (size, unit) in units {
        if u > size {
            return format!("{}{unit}", u / size);
        }
    }
    "0s".into()
}

/// Go's `time.ParseDuration`.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let orig = s;
    let invalid = || format!("time: invalid duration {}", tquote(orig));
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut v: u64 = 0;
        for c in s[..int_len].bytes() {
            v = v
                .checked_mul(10)
                .and_then(|x| x.checked_add(u64::from(c - b'0')))
                .ok_or_else(invalid)?;
        }
        s = &s[int_len..];
        let mut frac: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut frac_len = 0;
        if let Some(rest) = s.strip_prefix('.') {
            s = rest;
            frac_len = s.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for c in s[..frac_len].bytes() {
                if overflow {
                    continue;
                }
                match frac
                    .checked_mul(10)
                    .and_then(|x| x.checked_add(u64::from(c - b'0')))
                {
                    Some(x) if x < (1 << 62) => {
                        frac = x;
                        scale *= 10.0;
                    }
                    _ => overflow = true,
                }
            }
            s = &s[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return Err(invalid());
        }
        let unit_len = s
            .bytes()
            .take_while(|&c| c != b'.' && !c.is_ascii_digit())
            .count();
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", tquote(orig)));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let mult: u64 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    tquote(unit),
                    tquote(orig)
                ));
            }
        };
        if v > (1u64 << 63) / mult {
            return Err(invalid());
        }
        v *= mult;
        if frac > 0 {
            v += (frac as f64 * (mult as f64 / scale)) as u64;
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        total = total
            .checked_add(v)
            .filter(|&t| t <= 1 << 63)
            .ok_or_else(invalid)?;
    }
    if neg {
        return Ok((total as i64).wrapping_neg());
    }
    if total > (1 << 63) - 1 {
        return Err(invalid());
    }
    Ok(total as i64)
}

#[cfg(test)]
mod tests {
    use super::super::cast::tests_support::{call, call_err, s};
    use super::*;
    use crate::fmt::format_v;

    // The tests' clock: 2024-01-02T03:04:05Z.
    fn t(v: &Value) -> GoTime {
        time_of(v).unwrap_or_else(GoTime::zero)
    }

    #[test]
    fn formats_like_go() {
        let tm = GoTime::unix(1_704_164_645, 123_456_789, Loc::Utc);
        let cases: &[(&str, &str)] = &[
            ("2006-01-02T15:04:05Z07:00", "2024-01-02T03:04:05Z"),
            (
                "Mon Jan _2 15:04:05 MST 2006",
                "Tue Jan  2 03:04:05 UTC 2024",
            ),
            (
                "Monday, January 2, 2006 3:04PM pm",
                "Tuesday, January 2, 2024 3:04AM am",
            ),
            ("06 1 2 3 4 5 002 __2", "24 1 2 3 4 5 002   2"),
            (
                "15:04:05.000 .999 ,999999999 .0",
                "03:04:05.123 .123 ,123456789 .1",
            ),
            (
                "-0700 -07:00 -07 Z0700 -07:00:00",
                "+0000 +00:00 +00 Z +00:00:00",
            ),
            ("_2006 Janet", "_2024 Janet"),
        ];
        for (layout, want) in cases {
            assert_eq!(tm.format(layout), *want, "{layout}");
        }
        let ny = GoTime::unix(1_704_164_645, 0, Loc::Named("America/New_York".into()));
        assert_eq!(
            ny.format("2006-01-02 15:04:05 -0700 MST"),
            "2024-01-01 22:04:05 -0500 EST"
        );
        assert_eq!(GoTime::zero().go_string(), "0001-01-01 00:00:00 +0000 UTC");
    }

    #[test]
    fn helm_observed_dates() {
        // Shapes and values from helm v4.1.4 (its clock differs; the arithmetic does not).
        let now = call("now", vec![]);
        assert_eq!(now.type_name(), "time.Time");
        assert_eq!(
            format_v(&now),
            "2024-01-02 03:04:05 +0000 UTC m=+0.000000000"
        );
        let i = Value::Int;
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("date", vec![s("2006-01-02"), i(0)], "1970-01-01"),
            (
                "date",
                vec![s("2006-01-02"), Value::Float(0.0)],
                "2024-01-02",
            ),
            (
                "dateInZone",
                vec![s("15:04 MST"), i(0), s("Asia/Tokyo")],
                "09:00 JST",
            ),
            (
                "dateInZone",
                vec![s("15:04 MST"), i(0), s("Nowhere/Bogus")],
                "00:00 UTC",
            ),
            ("htmlDate", vec![Value::Int64(86_400)], "1970-01-02"),
            (
                "htmlDateInZone",
                vec![i(0), s("America/Los_Angeles")],
                "1969-12-31",
            ),
            ("duration", vec![i(90)], "0s"),
            ("duration", vec![s("90")], "1m30s"),
            ("duration", vec![Value::Int64(3_725)], "1h2m5s"),
            ("duration", vec![Value::Float(90.0)], "0s"),
            ("durationRound", vec![i(3600)], "0s"),
            ("durationRound", vec![s("2h5m")], "2h"),
            ("durationRound", vec![Value::Int64(7_200_000_000_000)], "2h"),
            ("durationRound", vec![s("-49h")], "2d"),
            ("durationRound", vec![s("800h")], "1mo"),
            ("durationRound", vec![s("9000h")], "1y"),
            ("ago", vec![Value::Int64(1_704_164_645 - 90)], "1m30s"),
            ("ago", vec![s("x")], "0s"),
            (
                "unixEpoch",
                vec![call("toDate", vec![s("2006-01-02"), s("2024-01-02")])],
                "1704153600",
            ),
            (
                "toDate",
                vec![s("2006-01-02"), s("bad")],
                "0001-01-01 00:00:00 +0000 UTC",
            ),
            (
                "toDate",
                vec![
                    s("2006-01-02T15:04:05Z07:00"),
                    s("2024-03-04T05:06:07+02:00"),
                ],
                "2024-03-04 05:06:07 +0200 +0200",
            ),
            (
                "toDate",
                vec![s("15:04"), s("10:30")],
                "0000-01-01 10:30:00 +0000 UTC",
            ),
            (
                "toDate",
                vec![
                    s("Jan 2 2006 3:04:05.000 PM"),
                    s("feb 29 2024 1:02:03.450 PM"),
                ],
                "2024-02-29 13:02:03.45 +0000 UTC",
            ),
            (
                "toDate",
                vec![s("2006-01-02 15:04:05 MST"), s("2024-01-02 03:04:05 PST")],
                "2024-01-02 03:04:05 +0000 PST",
            ),
        ];
        for (name, args, want) in cases {
            assert_eq!(format_v(&call(name, args.clone())), want, "{name} {args:?}");
        }
        let later = call("dateModify", vec![s("1h30m"), now.clone()]);
        assert_eq!(t(&later).secs, 1_704_164_645 + 5400);
        let same = call("dateModify", vec![s("bogus"), now.clone()]);
        assert_eq!(t(&same).secs, 1_704_164_645);
    }

    #[test]
    fn helm_observed_date_errors() {
        assert_eq!(
            call_err("mustToDate", vec![s("2006-01-02"), s("x")]),
            "parsing time \"x\" as \"2006-01-02\": cannot parse \"x\" as \"2006\""
        );
        assert_eq!(
            call_err("mustToDate", vec![s("2006-01-02"), s("2024-02-30")]),
            "parsing time \"2024-02-30\": day out of range"
        );
        assert_eq!(
            call_err("mustDateModify", vec![s("1x"), call("now", vec![])]),
            "time: unknown unit \"x\" in duration \"1x\""
        );
        assert_eq!(
            call_err("unixEpoch", vec![s("x")]),
            "wrong type for value; expected time.Time; got string"
        );
    }

    #[test]
    fn durations_like_go() {
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (1_500_000, "1.5ms"),
            (1_500_000_000, "1.5s"),
            (3_723_000_000_000, "1h2m3s"),
            (-60_000_000_000, "-1m0s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for (d, want) in cases {
            assert_eq!(format_duration(*d), *want);
        }
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("-1.5h"), Ok(-5_400_000_000_000));
        assert_eq!(parse_duration("300ms"), Ok(300_000_000));
        assert_eq!(parse_duration("1µs2ns"), Ok(1002));
        assert!(parse_duration("1").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999h").is_err());
    }
}
