//! Automatic upgrades: policies, maintenance windows and the per-release decision. Pure: no IO,
//! and no clock reads (`now` is always passed in).
//!
//! `cocktail-pkg upgrade --auto` (run from cron) asks [`decide`] for every release whether to
//! upgrade now and to which version; `outdated` uses [`newest_allowed`] and [`newest`] to show
//! what would be installed.
//!
//! # Policy
//!
//! A [`Policy`] (JSON/YAML, camelCase) has:
//!
//! - `autoUpgrade`, a [`Track`]: `off` (the default), `patch` (same `MAJOR.MINOR` as the
//!   installed version), `minor` (same `MAJOR`), `major` (anything newer), or a semver
//!   requirement such as `^2` or `>=1.4, <3`;
//! - `windows`: maintenance [`Window`]s; empty means any time;
//! - `allowPrerelease`: whether pre-releases may be chosen (default false);
//! - `minAgeSecs`: skip versions published less than this long ago, except security fixes;
//! - `soakSecs`: how long workloads must stay ready after an upgrade (used by the caller).
//!
//! # Decision rules ([`decide`])
//!
//! 1. Track `off`: skip (`off`).
//! 2. Candidates are the versions strictly newer than the installed one (never a downgrade, never
//!    the same version) that are not yanked; pre-releases only with `allowPrerelease` (a
//!    pre-release then matches `patch`/`minor`/`major` by its numbers, and a requirement either
//!    by semver's own rule or with its pre-release part stripped, as `index::select` does); that
//!    the track allows; whose `kubeVersion` requirement (if any) matches the cluster version
//!    with its pre-release part stripped (an unparsable requirement never matches); and that are
//!    at least `minAgeSecs` old, unless they are security fixes (a changelog entry with
//!    `security: true`). An unparsable `created` counts as old enough; `minAgeSecs: 0` disables
//!    the check entirely.
//! 3. No candidate: skip with `up-to-date` when nothing is newer than the installed version;
//!    otherwise explain the most relevant exclusion: the checks run in the order yanked,
//!    pre-release, track, kube-version, min-age, and the reported newer version is the one that
//!    passed the most checks (ties: the newest), since it is the closest to being installed.
//!    Codes: `yanked`, `prerelease`, `track`, `kube-version`, `min-age`.
//! 4. Outside every window (when there are windows): skip (`outside-window`), naming the next
//!    opening (RFC 3339, UTC) and its window. Windows are checked after the candidates, so the
//!    version that would be installed is still known.
//! 5. Otherwise upgrade to the newest candidate. The upgrade is a security upgrade when any
//!    non-yanked version in `(installed, target]` has a security changelog entry.
//!
//! # Windows
//!
//! Syntax: `DAYS HH:MM-HH:MM TIMEZONE`, e.g. `Sat,Sun 02:00-05:00 Asia/Seoul`.
//!
//! - `DAYS` is `daily` or a comma list of `Mon`..`Sun` (3 letters, any case) and ranges such as
//!   `Mon-Fri`; a range may wrap (`Fri-Mon` is Fri, Sat, Sun, Mon). Spaces inside `DAYS` are
//!   tolerated (`Sat, Sun`).
//! - The times are local wall-clock times in `TIMEZONE`, an IANA name (`UTC`, `Europe/Berlin`)
//!   checked against the tz database bundled in the binary. The range is half-open: it includes
//!   its start and excludes its end.
//! - An end before the start crosses midnight: `Fri 22:00-02:00 UTC` runs from Friday 22:00 to
//!   Saturday 02:00; the day list names the day the window *starts*. Start equal to end is an
//!   error.
//! - The canonical form ([`Display`](std::fmt::Display), serialization) lists days in week order,
//!   writes runs of three or more days as a range (`Mon-Fri`), all seven as `daily`, and the
//!   zone's canonical IANA spelling (`Sat,Sun 02:00-05:00 Asia/Seoul`).
//!
//! # Daylight saving time
//!
//! Each day's window is computed from the civil date and the local start and end times with
//! jiff's "compatible" disambiguation, so windows follow the zone's clocks through DST changes:
//!
//! - A local time that does not exist (in the spring-forward gap) moves forward by the length of
//!   the gap. In Europe/Berlin on Sunday 2026-03-29 the clocks jump from 02:00 CET to 03:00 CEST,
//!   so `Sun 02:00-04:00 Europe/Berlin` that day opens at 03:00 CEST (01:00 UTC) and closes at
//!   04:00 CEST (02:00 UTC): one hour instead of two.
//! - A local time that occurs twice (in the fall-back overlap) resolves to the earlier
//!   occurrence. In Europe/Berlin on Sunday 2026-10-25 the clocks go back from 03:00 CEST to
//!   02:00 CET, so `Sun 02:00-03:00 Europe/Berlin` that day opens at the first 02:00 (CEST,
//!   00:00 UTC) and closes at 03:00 CET (02:00 UTC): two hours instead of one.
//! - If both ends fall so that the end is not after the start (e.g. `02:30-03:00` on a
//!   spring-forward day, where 02:30 becomes 03:30), that day's window is empty.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use semver::{Version, VersionReq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::index::format::VersionEntry;
use crate::time::{UnixTime, format_rfc3339, parse_rfc3339};

/// A policy value (track, window) that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(String);

fn string_serde<T: fmt::Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

fn string_deserde<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: FromStr,
    T::Err: fmt::Display,
    D: Deserializer<'de>,
{
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

// ---------------------------------------------------------------------------------------------
// Track

/// Which versions a release may move to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Track {
    /// No automatic upgrades.
    #[default]
    Off,
    /// Same `MAJOR.MINOR` as the installed version.
    Patch,
    /// Same `MAJOR` as the installed version.
    Minor,
    /// Any newer version.
    Major,
    /// Versions matching a semver requirement.
    Req(VersionReq),
}

impl FromStr for Track {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "off" => return Ok(Track::Off),
            "patch" => return Ok(Track::Patch),
            "minor" => return Ok(Track::Minor),
            "major" => return Ok(Track::Major),
            _ => {}
        }
        let err = |detail: String| {
            ParseError(format!(
                "invalid upgrade track `{text}`: expected `off`, `patch`, `minor`, `major` or a \
                 semver requirement such as `^2` or `>=1.4, <3`{detail}"
            ))
        };
        if t.is_empty() {
            return Err(err(String::new()));
        }
        crate::index::select::parse_requirement(t)
            .map(Track::Req)
            .map_err(|e| err(format!(" ({e})")))
    }
}

impl fmt::Display for Track {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Track::Off => f.write_str("off"),
            Track::Patch => f.write_str("patch"),
            Track::Minor => f.write_str("minor"),
            Track::Major => f.write_str("major"),
            Track::Req(r) => write!(f, "{r}"),
        }
    }
}

impl Serialize for Track {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        string_serde(self, s)
    }
}

impl<'de> Deserialize<'de> for Track {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_deserde(d)
    }
}

// ---------------------------------------------------------------------------------------------
// Window

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const ALL_DAYS: u8 = 0b111_1111;
const WINDOW_SYNTAX: &str =
    "expected DAYS HH:MM-HH:MM TIMEZONE, e.g. `Sat,Sun 02:00-05:00 Asia/Seoul`";

/// A maintenance window: days of the week, a local time range, a time zone.
#[derive(Clone)]
pub struct Window {
    /// Bit `i` set: the window starts on day `i` (0 = Monday).
    days: u8,
    /// Minutes after local midnight.
    start: u16,
    end: u16,
    /// Canonical IANA name.
    tz_name: String,
    tz: TimeZone,
}

impl PartialEq for Window {
    fn eq(&self, other: &Self) -> bool {
        (self.days, self.start, self.end, &self.tz_name)
            == (other.days, other.start, other.end, &other.tz_name)
    }
}

impl Eq for Window {}

impl fmt::Debug for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Window({self})")
    }
}

fn parse_day(text: &str) -> Option<u8> {
    DAY_NAMES
        .iter()
        .position(|d| d.eq_ignore_ascii_case(text))
        .map(|i| i as u8)
}

fn parse_days(text: &str) -> Result<u8, String> {
    if text.eq_ignore_ascii_case("daily") {
        return Ok(ALL_DAYS);
    }
    let unknown = |d: &str| {
        format!("unknown day `{d}` (expected Mon..Sun, a range such as `Mon-Fri`, or `daily`)")
    };
    let mut days = 0u8;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!("empty day in `{text}`"));
        }
        if let Some((a, b)) = item.split_once('-') {
            let from = parse_day(a).ok_or_else(|| unknown(a))?;
            let to = parse_day(b).ok_or_else(|| unknown(b))?;
            let mut d = from;
            loop {
                days |= 1 << d;
                if d == to {
                    break;
                }
                d = (d + 1) % 7;
            }
        } else {
            days |= 1 << parse_day(item).ok_or_else(|| unknown(item))?;
        }
    }
    Ok(days)
}

fn parse_clock(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl FromStr for Window {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let bad = |detail: &str| ParseError(format!("invalid upgrade window `{text}`: {detail}"));
        let tokens: Vec<&str> = text.split_whitespace().collect();
        if tokens.len() < 3 {
            return Err(bad(WINDOW_SYNTAX));
        }
        let (zone, range) = (tokens[tokens.len() - 1], tokens[tokens.len() - 2]);
        let days = parse_days(&tokens[..tokens.len() - 2].concat()).map_err(|e| bad(&e))?;
        let (start, end) = range
            .split_once('-')
            .and_then(|(a, b)| Some((parse_clock(a)?, parse_clock(b)?)))
            .ok_or_else(|| {
                bad(&format!(
                    "bad time range `{range}` (expected HH:MM-HH:MM, 00:00 to 23:59); \
                     {WINDOW_SYNTAX}"
                ))
            })?;
        if start == end {
            return Err(bad(&format!(
                "the window starts and ends at the same time `{range}`"
            )));
        }
        let tz = TimeZone::get(zone)
            .ok()
            .filter(|tz| tz.iana_name().is_some());
        let Some(tz) = tz else {
            return Err(ParseError(format!(
                "unknown time zone `{zone}` in upgrade window `{text}`: expected an IANA name \
                 such as `UTC`, `Europe/Berlin` or `Asia/Seoul`"
            )));
        };
        let tz_name = tz.iana_name().unwrap_or(zone).to_string();
        Ok(Window {
            days,
            start,
            end,
            tz_name,
            tz,
        })
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.days == ALL_DAYS {
            f.write_str("daily")?;
        } else {
            let mut parts = Vec::new();
            let mut d = 0;
            while d < 7 {
                if self.days & (1 << d) == 0 {
                    d += 1;
                    continue;
                }
                let mut e = d;
                while e + 1 < 7 && self.days & (1 << (e + 1)) != 0 {
                    e += 1;
                }
                match e - d {
                    0 => parts.push(DAY_NAMES[d].to_string()),
                    1 => parts.extend([DAY_NAMES[d].to_string(), DAY_NAMES[e].to_string()]),
                    _ => parts.push(format!("{}-{}", DAY_NAMES[d], DAY_NAMES[e])),
                }
                d = e + 1;
            }
            f.write_str(&parts.join(","))?;
        }
        write!(
            f,
            " {:02}:{:02}-{:02}:{:02} {}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60,
            self.tz_name
        )
    }
}

impl Serialize for Window {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        string_serde(self, s)
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_deserde(d)
    }
}

impl Window {
    /// The instant a local date and time (minutes after midnight) happens in this zone, with
    /// compatible disambiguation.
    fn instant(&self, date: Date, minutes: u16) -> Option<UnixTime> {
        let dt = date.at((minutes / 60) as i8, (minutes % 60) as i8, 0, 0);
        let ts = self.tz.to_ambiguous_timestamp(dt).compatible().ok()?;
        Some(ts.as_second())
    }

    /// The window's occurrences `[start, end)` that start on local dates from the day before
    /// `now` up to `days_ahead` days after it, in order. Empty occurrences are left out.
    fn occurrences(&self, now: UnixTime, days_ahead: u32) -> Vec<(UnixTime, UnixTime)> {
        let Ok(ts) = Timestamp::from_second(now) else {
            return Vec::new();
        };
        let Ok(mut date) = ts.to_zoned(self.tz.clone()).date().yesterday() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for _ in 0..=days_ahead + 1 {
            let weekday = date.weekday().to_monday_zero_offset();
            if self.days & (1 << weekday) != 0 {
                let end_date = if self.end <= self.start {
                    date.tomorrow().ok()
                } else {
                    Some(date)
                };
                let span = self
                    .instant(date, self.start)
                    .zip(end_date.and_then(|d| self.instant(d, self.end)));
                if let Some((s, e)) = span.filter(|(s, e)| s < e) {
                    out.push((s, e));
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        out
    }
}

/// How many days ahead [`next_window`] searches.
const SEARCH_DAYS: u32 = 8;

/// Whether `now` is inside one of the windows (no windows: always).
pub fn in_window(windows: &[Window], now: UnixTime) -> bool {
    windows.is_empty()
        || windows.iter().any(|w| {
            w.occurrences(now, 0)
                .iter()
                .any(|&(s, e)| s <= now && now < e)
        })
}

/// The next opening and its window: `now` with the window containing it, else the earliest
/// future start within [`SEARCH_DAYS`] days.
fn next_opening(windows: &[Window], now: UnixTime) -> Option<(UnixTime, &Window)> {
    if let Some(w) = windows
        .iter()
        .find(|w| in_window(std::slice::from_ref(*w), now))
    {
        return Some((now, w));
    }
    let limit = now.saturating_add(i64::from(SEARCH_DAYS) * 86_400);
    windows
        .iter()
        .filter_map(|w| {
            w.occurrences(now, SEARCH_DAYS)
                .into_iter()
                .map(|(s, _)| s)
                .find(|&s| s > now && s <= limit)
                .map(|s| (s, w))
        })
        .min_by_key(|&(s, _)| s)
}

/// When the next window opens: `now` if inside one, else the earliest future start (searching
/// up to 8 days ahead); `None` when there are no windows (always open) or, which a valid window
/// cannot cause, none opens within that time.
pub fn next_window(windows: &[Window], now: UnixTime) -> Option<UnixTime> {
    next_opening(windows, now).map(|(t, _)| t)
}

// ---------------------------------------------------------------------------------------------
// Policy and durations

/// How a release is upgraded automatically.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// Which versions automatic upgrades may move to (default `off`).
    #[serde(default)]
    pub auto_upgrade: Track,
    /// When upgrades may run; empty = any time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<Window>,
    #[serde(default)]
    pub allow_prerelease: bool,
    /// Skip versions published less than this long ago (security fixes excepted).
    #[serde(default)]
    pub min_age_secs: u64,
    /// How long workloads must stay ready after an upgrade.
    #[serde(default)]
    pub soak_secs: u64,
    /// What an automatic upgrade does when the release's objects drifted (fields another field
    /// manager changed).
    #[serde(default, skip_serializing_if = "OnDrift::is_default")]
    pub on_drift: OnDrift,
}

/// What an automatic upgrade does with drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OnDrift {
    /// Report it and upgrade without touching it (an upgrade that changes a drifted object
    /// stops at the conflict and is rolled back).
    #[default]
    Warn,
    /// Report it and take the fields back with the upgrade.
    Correct,
    /// Report it and leave the release alone until someone looks.
    Skip,
}

impl OnDrift {
    fn is_default(&self) -> bool {
        *self == OnDrift::Warn
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OnDrift::Warn => "warn",
            OnDrift::Correct => "correct",
            OnDrift::Skip => "skip",
        }
    }
}

/// Changes to a release's policy, from flags; unset fields keep their value.
#[derive(Debug, Clone, Default)]
pub struct PolicyUpdate {
    pub auto_upgrade: Option<Track>,
    /// `Some(vec![])` clears the windows (any time).
    pub windows: Option<Vec<Window>>,
    pub allow_prerelease: Option<bool>,
    pub min_age_secs: Option<u64>,
    pub soak_secs: Option<u64>,
    pub on_drift: Option<OnDrift>,
}

impl PolicyUpdate {
    pub fn is_empty(&self) -> bool {
        self.auto_upgrade.is_none()
            && self.windows.is_none()
            && self.allow_prerelease.is_none()
            && self.min_age_secs.is_none()
            && self.soak_secs.is_none()
            && self.on_drift.is_none()
    }

    /// The policy after the update; `None` when there was none and nothing is set.
    pub fn apply_to(&self, base: Option<&Policy>) -> Option<Policy> {
        if base.is_none() && self.is_empty() {
            return None;
        }
        let mut p = base.cloned().unwrap_or_default();
        if let Some(t) = &self.auto_upgrade {
            p.auto_upgrade = t.clone();
        }
        if let Some(w) = &self.windows {
            p.windows = w.clone();
        }
        if let Some(a) = self.allow_prerelease {
            p.allow_prerelease = a;
        }
        if let Some(m) = self.min_age_secs {
            p.min_age_secs = m;
        }
        if let Some(s) = self.soak_secs {
            p.soak_secs = s;
        }
        if let Some(d) = self.on_drift {
            p.on_drift = d;
        }
        Some(p)
    }
}

/// `72h`, `5m`, `1h30m`, `0s`: hours, minutes and seconds, zero parts left out.
pub fn format_duration(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, 'h'), (m, 'm'), (s, 's')] {
        if n > 0 {
            out.push_str(&n.to_string());
            out.push(unit);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Decision

/// Why a release is not upgraded (stable `code` for JSON, human `reason`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub code: &'static str,
    pub reason: String,
}

/// What to do with one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Decision {
    Upgrade {
        to: Version,
        security: bool,
        reason: String,
    },
    Skip(Skip),
}

/// The facts [`decide`] works from.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub policy: &'a Policy,
    /// The installed version.
    pub current: &'a Version,
    /// The package's published versions (any order).
    pub versions: &'a [VersionEntry],
    pub now: UnixTime,
    /// The cluster's Kubernetes version.
    pub kube_version: &'a Version,
}

/// Why a newer version is not a candidate. Variants are in check order: a later variant means
/// the version passed more checks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Exclusion {
    Yanked,
    Prerelease,
    Track,
    KubeVersion,
    MinAge,
}

fn strip_pre(v: &Version) -> Version {
    Version::new(v.major, v.minor, v.patch)
}

fn is_security(e: &VersionEntry) -> bool {
    e.changelog.iter().any(|c| c.security)
}

fn track_allows(track: &Track, current: &Version, v: &Version, allow_pre: bool) -> bool {
    match track {
        Track::Off => false,
        Track::Patch => v.major == current.major && v.minor == current.minor,
        Track::Minor => v.major == current.major,
        Track::Major => true,
        Track::Req(req) => {
            req.matches(v) || (allow_pre && !v.pre.is_empty() && req.matches(&strip_pre(v)))
        }
    }
}

fn kube_allows(e: &VersionEntry, cluster: &Version) -> bool {
    match &e.kube_version {
        None => true,
        Some(req) => VersionReq::parse(req.trim())
            .map(|r| r.matches(&strip_pre(cluster)))
            .unwrap_or(false),
    }
}

/// When `e` becomes old enough, if it is not yet (security fixes are always old enough).
fn too_young_until(input: &Input, e: &VersionEntry) -> Option<UnixTime> {
    let min_age = input.policy.min_age_secs;
    if min_age == 0 || is_security(e) {
        return None;
    }
    let created = parse_rfc3339(&e.created)?;
    let until = created.saturating_add(i64::try_from(min_age).unwrap_or(i64::MAX));
    (until > input.now).then_some(until)
}

/// Checks a version newer than the installed one against the policy.
fn check(input: &Input, e: &VersionEntry) -> Result<(), Exclusion> {
    let p = input.policy;
    if e.yanked {
        return Err(Exclusion::Yanked);
    }
    if !e.version.pre.is_empty() && !p.allow_prerelease {
        return Err(Exclusion::Prerelease);
    }
    if !track_allows(
        &p.auto_upgrade,
        input.current,
        &e.version,
        p.allow_prerelease,
    ) {
        return Err(Exclusion::Track);
    }
    if !kube_allows(e, input.kube_version) {
        return Err(Exclusion::KubeVersion);
    }
    if too_young_until(input, e).is_some() {
        return Err(Exclusion::MinAge);
    }
    Ok(())
}

fn newer<'a>(input: &Input<'a>) -> impl Iterator<Item = &'a VersionEntry> + use<'a> {
    let current = input.current;
    input
        .versions
        .iter()
        .filter(move |e| e.version.cmp_precedence(current) == Ordering::Greater)
}

/// The newest version the policy allows (track, pre-release, yanked, kubeVersion, min-age with
/// the security exception), ignoring windows; `None` if no such version is newer than the
/// installed one.
pub fn newest_allowed<'a>(input: &Input<'a>) -> Option<&'a VersionEntry> {
    if input.policy.auto_upgrade == Track::Off {
        return None;
    }
    newer(input)
        .filter(|e| check(input, e).is_ok())
        .max_by(|a, b| a.version.cmp(&b.version))
}

/// The newest version overall: not yanked, any track, pre-releases only if allowed.
pub fn newest(versions: &[VersionEntry], allow_prerelease: bool) -> Option<&VersionEntry> {
    versions
        .iter()
        .filter(|e| !e.yanked && (allow_prerelease || e.version.pre.is_empty()))
        .max_by(|a, b| a.version.cmp(&b.version))
}

fn skip(code: &'static str, reason: String) -> Decision {
    Decision::Skip(Skip { code, reason })
}

/// The skip for a release with newer versions but no candidate.
fn explain(input: &Input, e: &VersionEntry, why: Exclusion) -> Decision {
    let v = &e.version;
    let p = input.policy;
    match why {
        Exclusion::Yanked => skip("yanked", format!("{v} is newer but was yanked")),
        Exclusion::Prerelease => skip(
            "prerelease",
            format!(
                "{v} is newer but is a pre-release, and the policy does not allow pre-releases"
            ),
        ),
        Exclusion::Track => {
            let c = input.current;
            let allowed = match &p.auto_upgrade {
                Track::Patch => format!("allows only {}.{}.x", c.major, c.minor),
                Track::Minor => format!("allows only {}.x", c.major),
                _ => "does not allow it".to_string(),
            };
            skip(
                "track",
                format!("{v} is newer but the policy `{}` {allowed}", p.auto_upgrade),
            )
        }
        Exclusion::KubeVersion => {
            let req = e.kube_version.as_deref().unwrap_or_default();
            let reason = if VersionReq::parse(req.trim()).is_ok() {
                format!(
                    "{v} needs Kubernetes {req}, the cluster runs {}",
                    input.kube_version
                )
            } else {
                format!("{v} declares an invalid kubeVersion `{req}`")
            };
            skip("kube-version", reason)
        }
        Exclusion::MinAge => {
            let created = parse_rfc3339(&e.created).unwrap_or(input.now);
            let until = too_young_until(input, e).unwrap_or(input.now);
            let age = u64::try_from(input.now.saturating_sub(created)).unwrap_or(0);
            skip(
                "min-age",
                format!(
                    "{v} was published {} ago; the policy waits {} (until {})",
                    format_duration(age),
                    format_duration(p.min_age_secs),
                    format_rfc3339(until)
                ),
            )
        }
    }
}

fn change_kind(from: &Version, to: &Version) -> &'static str {
    if from.major != to.major {
        "major"
    } else if from.minor != to.minor {
        "minor"
    } else {
        "patch"
    }
}

/// Whether and to which version to upgrade one release now.
pub fn decide(input: &Input) -> Decision {
    let p = input.policy;
    if p.auto_upgrade == Track::Off {
        return skip(
            "off",
            "automatic upgrades are off for this release".to_string(),
        );
    }
    let Some(to) = newest_allowed(input) else {
        let closest = newer(input)
            .filter_map(|e| check(input, e).err().map(|why| (why, e)))
            .max_by(|(wa, a), (wb, b)| wa.cmp(wb).then_with(|| a.version.cmp(&b.version)));
        return match closest {
            Some((why, e)) => explain(input, e, why),
            None => skip(
                "up-to-date",
                format!("{} is up to date: no newer version", input.current),
            ),
        };
    };
    if !in_window(&p.windows, input.now) {
        let next = match next_opening(&p.windows, input.now) {
            Some((t, w)) => format!("the next opens at {} (`{w}`)", format_rfc3339(t)),
            None => "no window opens within 8 days".to_string(),
        };
        return skip(
            "outside-window",
            format!(
                "{} is ready but now is outside the upgrade windows; {next}",
                to.version
            ),
        );
    }
    let security = newer(input).any(|e| !e.yanked && e.version <= to.version && is_security(e));
    let kind = if security {
        "security fix"
    } else {
        change_kind(input.current, &to.version)
    };
    Decision::Upgrade {
        to: to.version.clone(),
        security,
        reason: format!("{} -> {} ({kind})", input.current, to.version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Digest;
    use crate::package::Change;

    fn t(s: &str) -> UnixTime {
        parse_rfc3339(s).unwrap_or_else(|| panic!("bad time {s}"))
    }

    fn w(s: &str) -> Window {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn tracks_parse_and_display() {
        for (text, want, display) in [
            ("off", Track::Off, "off"),
            ("Patch", Track::Patch, "patch"),
            (" minor ", Track::Minor, "minor"),
            ("MAJOR", Track::Major, "major"),
            ("^2", Track::Req(VersionReq::parse("^2").unwrap()), "^2"),
            (
                ">=1.4, <3",
                Track::Req(VersionReq::parse(">=1.4, <3").unwrap()),
                ">=1.4, <3",
            ),
            ("*", Track::Req(VersionReq::STAR), "*"),
        ] {
            let got: Track = text.parse().unwrap();
            assert_eq!(got, want, "{text}");
            assert_eq!(got.to_string(), display, "{text}");
            assert_eq!(display.parse::<Track>().unwrap(), got, "{text}");
            let json = serde_json::to_string(&got).unwrap();
            assert_eq!(json, format!("\"{display}\""));
            assert_eq!(serde_json::from_str::<Track>(&json).unwrap(), got);
        }
        for bad in ["", "sometimes", "^x", ">=1.4 <<3"] {
            let e = bad.parse::<Track>().unwrap_err().to_string();
            assert!(e.contains("`off`, `patch`, `minor`, `major`"), "{bad}: {e}");
            assert!(e.contains(&format!("`{bad}`")), "{bad}: {e}");
        }
        assert!(serde_json::from_str::<Track>("\"nope\"").is_err());
    }

    #[test]
    fn windows_parse_and_display() {
        for (text, canonical) in [
            (
                "Sat,Sun 02:00-05:00 Asia/Seoul",
                "Sat,Sun 02:00-05:00 Asia/Seoul",
            ),
            (
                "sun,SAT 2:00-05:00 asia/seoul",
                "Sat,Sun 02:00-05:00 Asia/Seoul",
            ),
            ("Sat, Sun 02:00-05:00 UTC", "Sat,Sun 02:00-05:00 UTC"),
            (
                "Mon-Fri 09:30-17:00 Europe/Berlin",
                "Mon-Fri 09:30-17:00 Europe/Berlin",
            ),
            ("mon,tue,wed 01:00-02:00 UTC", "Mon-Wed 01:00-02:00 UTC"),
            ("daily 03:00-04:00 UTC", "daily 03:00-04:00 UTC"),
            ("Mon-Sun 03:00-04:00 utc", "daily 03:00-04:00 UTC"),
            ("fri-mon 03:00-04:00 UTC", "Mon,Fri-Sun 03:00-04:00 UTC"),
            ("Sun-Sun 03:00-04:00 UTC", "Sun 03:00-04:00 UTC"),
            ("Fri 22:00-02:00 UTC", "Fri 22:00-02:00 UTC"),
            (
                "Sat 00:00-23:59 America/New_York",
                "Sat 00:00-23:59 America/New_York",
            ),
            ("Tue,Thu 12:00-00:00 UTC", "Tue,Thu 12:00-00:00 UTC"),
        ] {
            let win = w(text);
            assert_eq!(win.to_string(), canonical, "{text}");
            assert_eq!(w(canonical), win, "{text}");
            let json = serde_json::to_string(&win).unwrap();
            assert_eq!(json, format!("\"{canonical}\""));
            assert_eq!(serde_json::from_str::<Window>(&json).unwrap(), win);
        }
        for (bad, needle) in [
            ("", "expected DAYS HH:MM-HH:MM TIMEZONE"),
            ("Sat 02:00-05:00", "expected DAYS HH:MM-HH:MM TIMEZONE"),
            ("Sat,Sun 02:00 05:00 UTC", "unknown day"),
            ("Sat 02:00 UTC", "bad time range `02:00`"),
            ("Sat 25:00-05:00 UTC", "bad time range"),
            ("Sat 02:60-05:00 UTC", "bad time range"),
            ("Sat 02:0-05:00 UTC", "bad time range"),
            ("Sat 24:00-05:00 UTC", "bad time range"),
            ("Sat 02:00-05:00 Mars/Base", "unknown time zone `Mars/Base`"),
            ("Sat 02:00-05:00 Etc/Unknown", "unknown time zone"),
            ("Sat 02:00-02:00 UTC", "same time"),
            ("Saturday 02:00-05:00 UTC", "unknown day `Saturday`"),
            ("Sat,,Sun 02:00-05:00 UTC", "empty day"),
            ("Mon-Xyz 02:00-05:00 UTC", "unknown day `Xyz`"),
        ] {
            let e = bad.parse::<Window>().unwrap_err().to_string();
            assert!(e.contains(needle), "{bad}: {e}");
            if !needle.starts_with("unknown time zone") {
                assert!(
                    e.starts_with(&format!("invalid upgrade window `{bad}`")),
                    "{e}"
                );
            }
        }
        assert_eq!(
            "Sat 02:00-05:00".parse::<Window>().unwrap_err().to_string(),
            "invalid upgrade window `Sat 02:00-05:00`: expected DAYS HH:MM-HH:MM TIMEZONE, \
             e.g. `Sat,Sun 02:00-05:00 Asia/Seoul`"
        );
    }

    /// (window, now, inside?, next opening)
    #[test]
    fn window_table() {
        let cases: &[(&str, &str, bool, &str)] = &[
            // Seoul is UTC+9 all year: Sat,Sun 02:00-05:00 KST = Fri,Sat 17:00-20:00 UTC.
            (
                "Sat,Sun 02:00-05:00 Asia/Seoul",
                "2026-01-09T17:00:00Z",
                true,
                "2026-01-09T17:00:00Z",
            ),
            (
                "Sat,Sun 02:00-05:00 Asia/Seoul",
                "2026-01-09T19:59:59Z",
                true,
                "2026-01-09T19:59:59Z",
            ),
            (
                "Sat,Sun 02:00-05:00 Asia/Seoul",
                "2026-01-09T20:00:00Z",
                false,
                "2026-01-10T17:00:00Z",
            ),
            (
                "Sat,Sun 02:00-05:00 Asia/Seoul",
                "2026-01-10T18:00:00Z",
                true,
                "2026-01-10T18:00:00Z",
            ),
            (
                "Sat,Sun 02:00-05:00 Asia/Seoul",
                "2026-01-10T20:00:00Z",
                false,
                "2026-01-16T17:00:00Z",
            ),
            (
                "Sat,Sun 02:00-05:00 Asia/Seoul",
                "2026-01-09T16:59:59Z",
                false,
                "2026-01-09T17:00:00Z",
            ),
            // Midnight crossing: Fri 22:00 to Sat 02:00 (2026-01-09 is a Friday).
            (
                "Fri 22:00-02:00 UTC",
                "2026-01-09T21:59:00Z",
                false,
                "2026-01-09T22:00:00Z",
            ),
            (
                "Fri 22:00-02:00 UTC",
                "2026-01-09T23:00:00Z",
                true,
                "2026-01-09T23:00:00Z",
            ),
            (
                "Fri 22:00-02:00 UTC",
                "2026-01-10T01:00:00Z",
                true,
                "2026-01-10T01:00:00Z",
            ),
            (
                "Fri 22:00-02:00 UTC",
                "2026-01-10T03:00:00Z",
                false,
                "2026-01-16T22:00:00Z",
            ),
            (
                "Fri 22:00-02:00 UTC",
                "2026-01-10T22:30:00Z",
                false,
                "2026-01-16T22:00:00Z",
            ),
            // Wrapping day range Fri-Mon; 2026-01-13 is a Tuesday.
            (
                "fri-mon 03:00-04:00 UTC",
                "2026-01-12T03:30:00Z",
                true,
                "2026-01-12T03:30:00Z",
            ),
            (
                "fri-mon 03:00-04:00 UTC",
                "2026-01-13T03:30:00Z",
                false,
                "2026-01-16T03:00:00Z",
            ),
            (
                "daily 03:00-04:00 UTC",
                "2026-01-13T04:00:00Z",
                false,
                "2026-01-14T03:00:00Z",
            ),
            // Berlin, ordinary days: CET = UTC+1 in winter, CEST = UTC+2 in summer.
            (
                "Mon-Fri 09:00-17:00 Europe/Berlin",
                "2026-01-12T08:00:00Z",
                true,
                "2026-01-12T08:00:00Z",
            ),
            (
                "Mon-Fri 09:00-17:00 Europe/Berlin",
                "2026-01-12T07:59:00Z",
                false,
                "2026-01-12T08:00:00Z",
            ),
            (
                "Mon-Fri 09:00-17:00 Europe/Berlin",
                "2026-07-06T07:00:00Z",
                true,
                "2026-07-06T07:00:00Z",
            ),
            (
                "Mon-Fri 09:00-17:00 Europe/Berlin",
                "2026-07-06T15:00:00Z",
                false,
                "2026-07-07T07:00:00Z",
            ),
            // Berlin spring forward, Sun 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
            // 02:00 does not exist, so the window opens at 03:00 CEST = 01:00 UTC and closes at
            // 04:00 CEST = 02:00 UTC.
            (
                "Sun 02:00-04:00 Europe/Berlin",
                "2026-03-29T00:30:00Z",
                false,
                "2026-03-29T01:00:00Z",
            ),
            (
                "Sun 02:00-04:00 Europe/Berlin",
                "2026-03-29T01:00:00Z",
                true,
                "2026-03-29T01:00:00Z",
            ),
            (
                "Sun 02:00-04:00 Europe/Berlin",
                "2026-03-29T01:59:59Z",
                true,
                "2026-03-29T01:59:59Z",
            ),
            (
                "Sun 02:00-04:00 Europe/Berlin",
                "2026-03-29T02:00:00Z",
                false,
                "2026-04-05T00:00:00Z",
            ),
            // The week before (CET): 02:00-04:00 CET = 01:00-03:00 UTC.
            (
                "Sun 02:00-04:00 Europe/Berlin",
                "2026-03-22T00:59:59Z",
                false,
                "2026-03-22T01:00:00Z",
            ),
            (
                "Sun 02:00-04:00 Europe/Berlin",
                "2026-03-22T02:30:00Z",
                true,
                "2026-03-22T02:30:00Z",
            ),
            // Berlin fall back, Sun 2026-10-25: 03:00 CEST goes back to 02:00 CET (01:00 UTC).
            // 02:00 happens twice; the earlier (CEST, 00:00 UTC) is taken. 03:00 is CET
            // (02:00 UTC): the window lasts two hours that day.
            (
                "Sun 02:00-03:00 Europe/Berlin",
                "2026-10-24T23:59:59Z",
                false,
                "2026-10-25T00:00:00Z",
            ),
            (
                "Sun 02:00-03:00 Europe/Berlin",
                "2026-10-25T00:00:00Z",
                true,
                "2026-10-25T00:00:00Z",
            ),
            (
                "Sun 02:00-03:00 Europe/Berlin",
                "2026-10-25T01:30:00Z",
                true,
                "2026-10-25T01:30:00Z",
            ),
            (
                "Sun 02:00-03:00 Europe/Berlin",
                "2026-10-25T02:00:00Z",
                false,
                "2026-11-01T01:00:00Z",
            ),
            // New York spring forward, Sun 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
            // 01:00 EST = 06:00 UTC; 03:00 EDT = 07:00 UTC: one hour.
            (
                "Sun 01:00-03:00 America/New_York",
                "2026-03-08T06:00:00Z",
                true,
                "2026-03-08T06:00:00Z",
            ),
            (
                "Sun 01:00-03:00 America/New_York",
                "2026-03-08T07:00:00Z",
                false,
                "2026-03-15T05:00:00Z",
            ),
            // New York fall back, Sun 2026-11-01: 02:00 EDT goes back to 01:00 EST (06:00 UTC).
            // 01:00 happens twice, the earlier is 01:00 EDT = 05:00 UTC; 02:00 EST = 07:00 UTC.
            (
                "Sun 01:00-02:00 America/New_York",
                "2026-11-01T04:59:00Z",
                false,
                "2026-11-01T05:00:00Z",
            ),
            (
                "Sun 01:00-02:00 America/New_York",
                "2026-11-01T06:30:00Z",
                true,
                "2026-11-01T06:30:00Z",
            ),
            (
                "Sun 01:00-02:00 America/New_York",
                "2026-11-01T07:00:00Z",
                false,
                "2026-11-08T06:00:00Z",
            ),
            // New York ordinary Saturdays: EDT (UTC-4) in July, EST (UTC-5) in January.
            (
                "Sat 09:00-17:00 America/New_York",
                "2026-07-04T13:00:00Z",
                true,
                "2026-07-04T13:00:00Z",
            ),
            (
                "Sat 09:00-17:00 America/New_York",
                "2026-07-04T21:00:00Z",
                false,
                "2026-07-11T13:00:00Z",
            ),
            (
                "Sat 09:00-17:00 America/New_York",
                "2026-01-10T13:30:00Z",
                false,
                "2026-01-10T14:00:00Z",
            ),
            (
                "Sat 09:00-17:00 America/New_York",
                "2026-01-10T21:59:59Z",
                true,
                "2026-01-10T21:59:59Z",
            ),
            // A window starting on Friday local that is already Saturday in UTC.
            (
                "Fri 23:00-01:00 Asia/Seoul",
                "2026-01-09T14:30:00Z",
                true,
                "2026-01-09T14:30:00Z",
            ),
            (
                "Fri 23:00-01:00 Asia/Seoul",
                "2026-01-09T16:00:00Z",
                false,
                "2026-01-16T14:00:00Z",
            ),
        ];
        for &(win, now, inside, next) in cases {
            let ws = [w(win)];
            let now_t = t(now);
            assert_eq!(in_window(&ws, now_t), inside, "{win} at {now}");
            assert_eq!(
                next_window(&ws, now_t).map(format_rfc3339).as_deref(),
                Some(next),
                "{win} at {now}"
            );
        }
    }

    #[test]
    fn several_windows_and_none() {
        let now = t("2026-01-13T12:00:00Z"); // a Tuesday
        assert!(in_window(&[], now));
        assert_eq!(next_window(&[], now), None);
        let ws = [w("Sat 02:00-05:00 UTC"), w("Wed 01:00-02:00 Europe/Berlin")];
        assert!(!in_window(&ws, now));
        // Wed 01:00 CET = Wed 00:00 UTC, before Saturday.
        assert_eq!(next_window(&ws, now), Some(t("2026-01-14T00:00:00Z")));
        assert!(in_window(&ws, t("2026-01-17T02:00:00Z")));
        // A spring-forward day whose window is entirely skipped: 02:30 becomes 03:30 CEST,
        // after the 03:00 end; the next is a week later.
        let gap = [w("Sun 02:30-03:00 Europe/Berlin")];
        assert!(!in_window(&gap, t("2026-03-29T01:15:00Z")));
        assert_eq!(
            next_window(&gap, t("2026-03-29T00:00:00Z")),
            Some(t("2026-04-05T00:30:00Z"))
        );
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
            assert_eq!(crate::time::parse_duration_secs(text), Ok(secs), "{text}");
        }
        for bad in ["", "h", "5x", "1.5h", "30m1h", "1h1h", "-5m", "5 m"] {
            let e = crate::time::parse_duration_secs(bad).unwrap_err();
            assert!(
                e.contains("`1h30m`") && e.contains(&format!("`{bad}`")),
                "{bad}: {e}"
            );
        }
        // Overflowing values are refused as too long (see `time::tests::durations`).
        assert!(
            crate::time::parse_duration_secs("99999999999999999999")
                .unwrap_err()
                .contains("too long")
        );
        for (secs, text) in [
            (0, "0s"),
            (45, "45s"),
            (300, "5m"),
            (5_400, "1h30m"),
            (259_200, "72h"),
            (3_661, "1h1m1s"),
        ] {
            assert_eq!(format_duration(secs), text);
            assert_eq!(crate::time::parse_duration_secs(text), Ok(secs));
        }
    }

    #[test]
    fn policy_serde() {
        let p: Policy = serde_json::from_str(
            r#"{"autoUpgrade":"minor","windows":["sat,sun 02:00-05:00 Asia/Seoul"],
                "allowPrerelease":true,"minAgeSecs":259200,"soakSecs":600}"#,
        )
        .unwrap();
        assert_eq!(
            p,
            Policy {
                auto_upgrade: Track::Minor,
                windows: vec![w("Sat,Sun 02:00-05:00 Asia/Seoul")],
                allow_prerelease: true,
                min_age_secs: 259_200,
                soak_secs: 600,
                on_drift: OnDrift::Warn,
            }
        );
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"autoUpgrade":"minor","windows":["Sat,Sun 02:00-05:00 Asia/Seoul"],"allowPrerelease":true,"minAgeSecs":259200,"soakSecs":600}"#
        );
        assert_eq!(serde_json::from_str::<Policy>(&json).unwrap(), p);
        assert_eq!(
            serde_json::to_string(&Policy::default()).unwrap(),
            r#"{"autoUpgrade":"off","allowPrerelease":false,"minAgeSecs":0,"soakSecs":0}"#
        );
        assert_eq!(
            serde_json::from_str::<Policy>("{}").unwrap(),
            Policy::default()
        );
        let e = serde_json::from_str::<Policy>(
            r#"{"autoUpgrade":"minor","windows":["Sat 02:00-05:00 Mars/Base"]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown time zone `Mars/Base`"), "{e}");
    }

    // ---- decide() -----------------------------------------------------------------------------

    /// 2026-06-06 is a Saturday.
    const NOW: &str = "2026-06-06T12:00:00Z";
    const OLD: &str = "2026-01-01T00:00:00Z";
    const NEW: &str = "2026-06-06T09:00:00Z"; // 3h before NOW

    /// A version entry from `VERSION [yanked] [sec] [new] [kube=REQ]`.
    fn e(spec: &str) -> VersionEntry {
        let mut words = spec.split_whitespace();
        let v = words.next().unwrap();
        let mut entry = VersionEntry {
            version: Version::parse(v).unwrap(),
            url: format!("archives/x-{v}.tgz"),
            digest: Digest::of(v.as_bytes()),
            size: 1,
            app_version: None,
            kube_version: None,
            created: OLD.into(),
            yanked: false,
            changelog: vec![Change {
                description: "changes".into(),
                security: false,
            }],
        };
        for w in words {
            match w {
                "yanked" => entry.yanked = true,
                "sec" => entry.changelog.push(Change {
                    description: "fixes CVE".into(),
                    security: true,
                }),
                "new" => entry.created = NEW.into(),
                "badtime" => entry.created = "yesterday".into(),
                _ => match w.strip_prefix("kube=") {
                    Some(req) => entry.kube_version = Some(req.into()),
                    None => panic!("bad spec word {w}"),
                },
            }
        }
        entry
    }

    /// A policy from `TRACK [pre] [age=DURATION] [win=WINDOW with _ for spaces]`.
    fn pol(spec: &str) -> Policy {
        let mut words = spec.split_whitespace();
        let mut p = Policy {
            auto_upgrade: words.next().unwrap().replace('_', " ").parse().unwrap(),
            ..Policy::default()
        };
        for w in words {
            if w == "pre" {
                p.allow_prerelease = true;
            } else if let Some(d) = w.strip_prefix("age=") {
                p.min_age_secs = crate::time::parse_duration_secs(d).unwrap();
            } else if let Some(win) = w.strip_prefix("win=") {
                p.windows.push(win.replace('_', " ").parse().unwrap());
            } else {
                panic!("bad policy word {w}");
            }
        }
        p
    }

    fn run(policy: &str, current: &str, versions: &[&str], kube: &str) -> Decision {
        let policy = pol(policy);
        let current = Version::parse(current).unwrap();
        let versions: Vec<VersionEntry> = versions.iter().map(|s| e(s)).collect();
        let kube = Version::parse(kube).unwrap();
        decide(&Input {
            policy: &policy,
            current: &current,
            versions: &versions,
            now: t(NOW),
            kube_version: &kube,
        })
    }

    /// (policy, current, versions, expected: `upgrade V [sec]` or `skip CODE`, reason snippet)
    #[test]
    fn decision_table() {
        let std = [
            "1.1.0", "1.2.0", "1.2.1", "1.3.0", "1.4.1", "2.0.0", "2.1.0", "3.0.0",
        ];
        let cases: &[(&str, &str, &[&str], &str, &str)] = &[
            // Tracks.
            (
                "off",
                "1.2.0",
                &std,
                "skip off",
                "automatic upgrades are off",
            ),
            (
                "patch",
                "1.2.0",
                &std,
                "upgrade 1.2.1",
                "1.2.0 -> 1.2.1 (patch)",
            ),
            (
                "minor",
                "1.2.0",
                &std,
                "upgrade 1.4.1",
                "1.2.0 -> 1.4.1 (minor)",
            ),
            (
                "major",
                "1.2.0",
                &std,
                "upgrade 3.0.0",
                "1.2.0 -> 3.0.0 (major)",
            ),
            ("^2", "1.2.0", &std, "upgrade 2.1.0", "(major)"),
            (
                ">=1.4,_<1.6",
                "1.2.0",
                &["1.3.0", "1.4.0", "1.5.2", "1.6.0"],
                "upgrade 1.5.2",
                "(minor)",
            ),
            // Never downgrade, never the same version.
            (
                "major",
                "3.0.0",
                &std,
                "skip up-to-date",
                "3.0.0 is up to date",
            ),
            (
                "minor",
                "1.5.0",
                &["1.2.0", "1.4.0", "1.5.0"],
                "skip up-to-date",
                "",
            ),
            ("^1", "1.5.0", &["1.4.0"], "skip up-to-date", ""),
            ("minor", "1.2.0", &[], "skip up-to-date", ""),
            (
                ">=1.4,_<1.6",
                "1.7.0",
                &["1.5.2", "1.8.0"],
                "skip track",
                "1.8.0 is newer but the policy `>=1.4, <1.6` does not allow it",
            ),
            // Outside the track.
            (
                "minor",
                "1.4.1",
                &std,
                "skip track",
                "3.0.0 is newer but the policy `minor` allows only 1.x",
            ),
            (
                "patch",
                "1.2.1",
                &std,
                "skip track",
                "3.0.0 is newer but the policy `patch` allows only 1.2.x",
            ),
            // Pre-releases.
            (
                "minor",
                "1.2.0",
                &["1.3.0-rc.1"],
                "skip prerelease",
                "1.3.0-rc.1 is newer but is a pre-release",
            ),
            (
                "minor pre",
                "1.2.0",
                &["1.3.0-rc.1"],
                "upgrade 1.3.0-rc.1",
                "(minor)",
            ),
            (
                "minor pre",
                "1.2.0",
                &["1.3.0-rc.1", "1.3.0"],
                "upgrade 1.3.0",
                "",
            ),
            (
                "minor",
                "1.2.0",
                &["1.2.1", "1.3.0-rc.1"],
                "upgrade 1.2.1",
                "",
            ),
            (
                "major pre",
                "1.2.0",
                &["1.3.0", "2.0.0-rc.1"],
                "upgrade 2.0.0-rc.1",
                "",
            ),
            (
                "patch pre",
                "1.2.0",
                &["1.3.0-rc.1"],
                "skip track",
                "allows only 1.2.x",
            ),
            (
                "patch pre",
                "1.2.0",
                &["1.2.1-beta.1", "1.3.0-rc.1"],
                "upgrade 1.2.1-beta.1",
                "",
            ),
            (
                "^2 pre",
                "2.0.0",
                &["2.1.0-beta.1", "3.0.0-rc.1"],
                "upgrade 2.1.0-beta.1",
                "",
            ),
            ("^2", "2.0.0", &["2.1.0-beta.1"], "skip prerelease", ""),
            (
                "minor pre",
                "1.3.0-rc.1",
                &["1.3.0-rc.2", "1.3.0"],
                "upgrade 1.3.0",
                "1.3.0-rc.1 -> 1.3.0 (patch)",
            ),
            ("minor", "1.3.0-rc.1", &["1.3.0"], "upgrade 1.3.0", ""),
            ("minor", "1.3.0", &["1.3.0-rc.1"], "skip up-to-date", ""),
            // The most relevant exclusion: the version that passed more checks.
            (
                "minor",
                "1.2.0",
                &["1.3.0-rc.1", "2.0.0"],
                "skip track",
                "2.0.0 is newer",
            ),
            (
                "minor",
                "1.2.0",
                &["1.3.0 yanked", "2.0.0-rc.1"],
                "skip prerelease",
                "",
            ),
            // Yanked.
            (
                "minor",
                "1.2.0",
                &["1.2.1", "1.3.0 yanked"],
                "upgrade 1.2.1",
                "",
            ),
            (
                "minor",
                "1.2.0",
                &["1.3.0 yanked"],
                "skip yanked",
                "1.3.0 is newer but was yanked",
            ),
            ("minor", "1.2.0", &["1.3.0 yanked sec"], "skip yanked", ""),
            // Minimum age, and security fixes skipping it.
            (
                "minor age=72h",
                "1.2.0",
                &["1.2.1 new"],
                "skip min-age",
                "1.2.1 was published 3h ago; the policy waits 72h (until 2026-06-09T09:00:00Z)",
            ),
            (
                "minor age=72h",
                "1.2.0",
                &["1.2.1", "1.2.2 new"],
                "upgrade 1.2.1",
                "",
            ),
            (
                "minor age=2h",
                "1.2.0",
                &["1.2.1", "1.2.2 new"],
                "upgrade 1.2.2",
                "",
            ),
            (
                "minor age=72h",
                "1.2.0",
                &["1.2.1", "1.2.2 new sec"],
                "upgrade 1.2.2 sec",
                "1.2.0 -> 1.2.2 (security fix)",
            ),
            (
                "minor age=72h",
                "1.2.0",
                &["1.2.1 new sec", "1.2.2 new"],
                "upgrade 1.2.1 sec",
                "",
            ),
            (
                "minor age=72h",
                "1.2.0",
                &["1.2.1 badtime"],
                "upgrade 1.2.1",
                "",
            ),
            (
                "minor age=72h",
                "1.2.0",
                &["1.2.1 new", "2.0.0"],
                "skip min-age",
                "1.2.1 was published",
            ),
            // Security: any non-yanked version in (current, to].
            (
                "minor",
                "1.2.0",
                &["1.2.1 sec", "1.3.0"],
                "upgrade 1.3.0 sec",
                "1.2.0 -> 1.3.0 (security fix)",
            ),
            (
                "minor",
                "1.2.0",
                &["1.2.1 sec yanked", "1.3.0"],
                "upgrade 1.3.0",
                "(minor)",
            ),
            (
                "minor",
                "1.2.0",
                &["1.1.0 sec", "1.3.0", "1.4.0 sec"],
                "upgrade 1.4.0 sec",
                "",
            ),
            (
                "patch",
                "1.2.0",
                &["1.2.1", "1.3.0 sec"],
                "upgrade 1.2.1",
                "(patch)",
            ),
            // kubeVersion (the cluster runs 1.29.4).
            (
                "minor",
                "1.2.0",
                &["1.3.0 kube=>=1.30.0"],
                "skip kube-version",
                "1.3.0 needs Kubernetes >=1.30.0, the cluster runs 1.29.4",
            ),
            (
                "minor",
                "1.2.0",
                &["1.2.1", "1.3.0 kube=>=1.30.0"],
                "upgrade 1.2.1",
                "",
            ),
            (
                "minor",
                "1.2.0",
                &["1.3.0 kube=>=1.25.0"],
                "upgrade 1.3.0",
                "",
            ),
            (
                "minor",
                "1.2.0",
                &["1.3.0 kube=banana"],
                "skip kube-version",
                "invalid kubeVersion `banana`",
            ),
            (
                "minor age=72h",
                "1.2.0",
                &["1.3.0 kube=>=1.30.0", "1.2.1 new"],
                "skip min-age",
                "",
            ),
            // Windows: NOW is Saturday 12:00 UTC.
            (
                "minor win=Sat_10:00-14:00_UTC",
                "1.2.0",
                &std,
                "upgrade 1.4.1",
                "",
            ),
            (
                "minor win=Sat,Sun_21:00-23:00_Asia/Seoul",
                "1.2.0",
                &std,
                "upgrade 1.4.1",
                "",
            ),
            (
                "minor win=Sun_02:00-05:00_UTC",
                "1.2.0",
                &std,
                "skip outside-window",
                "1.4.1 is ready but now is outside the upgrade windows; the next opens at 2026-06-07T02:00:00Z (`Sun 02:00-05:00 UTC`)",
            ),
            (
                "minor win=Sun_02:00-05:00_UTC win=Sat_14:00-15:00_Europe/Berlin",
                "1.2.0",
                &std,
                "upgrade 1.4.1",
                "",
            ),
            (
                "minor win=Sun_02:00-05:00_UTC win=Sat_15:00-16:00_Europe/Berlin",
                "1.2.0",
                &std,
                "skip outside-window",
                "2026-06-06T13:00:00Z (`Sat 15:00-16:00 Europe/Berlin`)",
            ),
            (
                "minor win=Sun_02:00-05:00_UTC",
                "1.4.1",
                &std,
                "skip track",
                "",
            ),
            (
                "minor win=Sun_02:00-05:00_UTC",
                "3.0.0",
                &std,
                "skip up-to-date",
                "",
            ),
            ("off win=Sat_10:00-14:00_UTC", "1.2.0", &std, "skip off", ""),
        ];
        for &(policy, current, versions, want, snippet) in cases {
            let got = run(policy, current, versions, "1.29.4");
            let (summary, reason) = match &got {
                Decision::Upgrade {
                    to,
                    security,
                    reason,
                } => (
                    format!("upgrade {to}{}", if *security { " sec" } else { "" }),
                    reason,
                ),
                Decision::Skip(s) => (format!("skip {}", s.code), &s.reason),
            };
            let label = format!("{policy} | {current} | {versions:?}");
            assert_eq!(summary, want, "{label}: {reason}");
            assert!(
                reason.contains(snippet),
                "{label}: {reason:?} lacks {snippet:?}"
            );
        }
    }

    #[test]
    fn kube_version_ignores_cluster_prerelease() {
        assert_eq!(
            run(
                "minor",
                "1.2.0",
                &["1.3.0 kube=>=1.30.0"],
                "1.30.0-gke.1200"
            ),
            Decision::Upgrade {
                to: Version::parse("1.3.0").unwrap(),
                security: false,
                reason: "1.2.0 -> 1.3.0 (minor)".into(),
            }
        );
    }

    #[test]
    fn newest_and_newest_allowed() {
        let vs: Vec<VersionEntry> = ["1.0.0", "2.0.0 yanked", "1.5.0", "3.0.0-rc.1", "1.6.0 new"]
            .iter()
            .map(|s| e(s))
            .collect();
        let v = |e: Option<&VersionEntry>| e.map(|e| e.version.to_string());
        assert_eq!(v(newest(&vs, false)).as_deref(), Some("1.6.0"));
        assert_eq!(v(newest(&vs, true)).as_deref(), Some("3.0.0-rc.1"));
        assert_eq!(v(newest(&[], true)), None);
        let current = Version::parse("1.0.0").unwrap();
        let kube = Version::parse("1.33.0").unwrap();
        let allowed = |policy: &str| {
            let policy = pol(policy);
            v(newest_allowed(&Input {
                policy: &policy,
                current: &current,
                versions: &vs,
                now: t(NOW),
                kube_version: &kube,
            }))
        };
        assert_eq!(allowed("minor").as_deref(), Some("1.6.0"));
        assert_eq!(allowed("minor age=1d").as_deref(), Some("1.5.0"));
        assert_eq!(allowed("major pre").as_deref(), Some("3.0.0-rc.1"));
        assert_eq!(allowed("major").as_deref(), Some("1.6.0"));
        assert_eq!(allowed("patch"), None);
        assert_eq!(allowed("off"), None);
        // Windows are ignored.
        assert_eq!(
            allowed("minor win=Sun_02:00-05:00_UTC").as_deref(),
            Some("1.6.0")
        );
    }

    #[test]
    fn decisions_serialize() {
        let d = run("minor", "1.2.0", &["1.3.0"], "1.29.0");
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!({"action": "upgrade", "to": "1.3.0", "security": false, "reason": "1.2.0 -> 1.3.0 (minor)"})
        );
        let d = run("off", "1.2.0", &["1.3.0"], "1.29.0");
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!({"action": "skip", "code": "off", "reason": "automatic upgrades are off for this release"})
        );
    }
}
