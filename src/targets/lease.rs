//! Leases: the one rule every target follows to decide who may hold a release's lease
//! ([`decide`], pure), and who is asking ([`Holder`]: `user@host/pid`).
//!
//! The rule, in order: no lease (or one without a holder) is acquired; a lease held by the
//! requester itself is re-acquired (renewed); an expired lease is taken over; a lease whose
//! holder is a process of this host that is gone (`/proc/PID` absent) is taken over at once;
//! anything else is held, and the error says by whom, since when and for how long still.
//! A take-over tells the caller whom it took the lease from, so it can mark that operation's
//! pending revision failed.
//!
//! [`decide`] is pure: the caller passes the time and a liveness probe. [`Holder::current`] and
//! [`local_liveness`] are the IO edge (environment, `/etc/hostname`, `/proc`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Lease;
use crate::time::UnixTime;

/// Who holds (or asks for) a lease: `user@host/pid`. Holders written by other tools (a kube
/// Lease's `holderIdentity`) are kept as they are: `user` then holds the whole text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Holder {
    pub user: String,
    pub host: String,
    pub pid: Option<u32>,
}

impl Holder {
    /// Parses `user@host/pid`; `user@host` and a bare name are accepted too.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        let Some((user, rest)) = text.split_once('@') else {
            return Self {
                user: text.to_string(),
                host: String::new(),
                pid: None,
            };
        };
        match rest.rsplit_once('/') {
            Some((host, pid)) if !host.is_empty() && pid.parse::<u32>().is_ok() => Self {
                user: user.to_string(),
                host: host.to_string(),
                pid: pid.parse().ok(),
            },
            _ => Self {
                user: user.to_string(),
                host: rest.to_string(),
                pid: None,
            },
        }
    }

    /// Nobody (a kube Lease with an empty `holderIdentity`).
    pub fn is_empty(&self) -> bool {
        self.user.is_empty() && self.host.is_empty() && self.pid.is_none()
    }

    /// This process: `$USER` (else the uid owning `/proc/self`), the host name, the PID.
    pub fn current() -> Self {
        Self {
            user: current_user(),
            host: current_host(),
            pid: Some(std::process::id()),
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.user)?;
        if !self.host.is_empty() {
            write!(f, "@{}", self.host)?;
        }
        if let Some(pid) = self.pid {
            write!(f, "/{pid}")?;
        }
        Ok(())
    }
}

impl From<&str> for Holder {
    fn from(text: &str) -> Self {
        Self::parse(text)
    }
}

impl From<String> for Holder {
    fn from(text: String) -> Self {
        Self::parse(&text)
    }
}

impl Serialize for Holder {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Holder {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self::parse(&s))
    }
}

/// Whether a lease's holder still runs, as far as this host can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    /// A process of this host that is gone.
    Dead,
    /// Another host, or no PID: only the expiry tells.
    Unknown,
}

/// Why a lease is taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakeOverReason {
    Expired,
    /// Its holder is a process of this host that is gone.
    HolderGone,
}

/// What a target does with a request for a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nobody holds it: take it.
    Acquire,
    /// The requester holds it already: take it again (renew it).
    Reacquire,
    /// Take it from an interrupted operation, whose pending revision must be marked failed.
    TakeOver {
        from: Holder,
        reason: TakeOverReason,
    },
    /// Someone else holds it: fail fast.
    Held {
        holder: Holder,
        since: UnixTime,
        /// Seconds until it expires.
        expires_in: i64,
    },
}

impl Decision {
    /// The lease a store that swaps records whole (kube, memory) writes: when it was acquired
    /// (kept on a re-acquire of the lease `existing_acquired`) and whom it was taken from, or the
    /// "held" error.
    pub fn grant(
        self,
        release: &str,
        existing_acquired: Option<UnixTime>,
        now: UnixTime,
    ) -> Result<(UnixTime, Option<Holder>), super::TargetError> {
        match self {
            Decision::Held {
                holder,
                since,
                expires_in,
            } => Err(super::TargetError::lease_held(
                release, &holder, since, expires_in,
            )),
            Decision::Acquire => Ok((now, None)),
            Decision::Reacquire => Ok((existing_acquired.unwrap_or(now), None)),
            Decision::TakeOver { from, .. } => Ok((now, Some(from))),
        }
    }
}

/// The lease rule of every target (see the module docs).
pub fn decide(
    existing: Option<&Lease>,
    requester: &Holder,
    now: UnixTime,
    liveness: &dyn Fn(&Holder) -> Liveness,
) -> Decision {
    let Some(lease) = existing.filter(|l| !l.holder.is_empty()) else {
        return Decision::Acquire;
    };
    if lease.holder == *requester {
        return Decision::Reacquire;
    }
    if lease.expires <= now {
        return Decision::TakeOver {
            from: lease.holder.clone(),
            reason: TakeOverReason::Expired,
        };
    }
    if liveness(&lease.holder) == Liveness::Dead {
        return Decision::TakeOver {
            from: lease.holder.clone(),
            reason: TakeOverReason::HolderGone,
        };
    }
    Decision::Held {
        holder: lease.holder.clone(),
        since: lease.acquired,
        expires_in: lease.expires.saturating_sub(now),
    }
}

/// `4m12s`, `1h0m5s`, `9s`: how long until a lease expires.
pub fn format_expires_in(secs: i64) -> String {
    let secs = secs.max(0);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

/// The liveness of a holder seen from this host: a process of this host is alive while
/// `/proc/PID` exists and is not a zombie; anything else is unknown.
pub fn local_liveness(holder: &Holder) -> Liveness {
    let Some(pid) = holder.pid else {
        return Liveness::Unknown;
    };
    if holder.host != current_host() {
        return Liveness::Unknown;
    }
    if pid == std::process::id() {
        return Liveness::Alive;
    }
    // Without procfs nothing can be told.
    if !std::path::Path::new("/proc/self").exists() {
        return Liveness::Unknown;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may hold spaces.
        Ok(stat) => match stat.rsplit_once(')').map(|(_, rest)| rest.trim_start()) {
            Some(rest) if rest.starts_with('Z') || rest.starts_with('X') => Liveness::Dead,
            _ => Liveness::Alive,
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Liveness::Dead,
        // Present but unreadable (another user's process under hidepid): alive.
        Err(_) => Liveness::Alive,
    }
}

fn current_user() -> String {
    if let Some(user) = std::env::var("USER").ok().filter(|u| !u.trim().is_empty()) {
        return user.trim().to_string();
    }
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata("/proc/self") {
        Ok(m) => format!("uid{}", m.uid()),
        // No procfs: the uid is still in the environment of most shells, else say so.
        Err(_) => std::env::var("UID")
            .ok()
            .filter(|u| !u.is_empty())
            .map_or_else(|| "unknown-user".into(), |u| format!("uid{u}")),
    }
}

fn current_host() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: &str, acquired: UnixTime, expires: UnixTime) -> Lease {
        Lease {
            service_map: "shop".into(),
            release: "web".into(),
            holder: Holder::parse(holder),
            acquired,
            expires,
            took_over_from: None,
        }
    }

    #[test]
    fn holders_parse_and_print() {
        for text in ["alice@ci-7/4242", "alice@ci-7", "tester", "ci@runner/42"] {
            assert_eq!(Holder::parse(text).to_string(), text);
        }
        let h = Holder::parse("alice@ci-7/4242");
        assert_eq!(
            (h.user.as_str(), h.host.as_str(), h.pid),
            ("alice", "ci-7", Some(4242))
        );
        // Not a PID: part of the host.
        assert_eq!(Holder::parse("a@b/c").host, "b/c");
        assert!(Holder::parse("").is_empty());
        let me = Holder::current();
        assert!(!me.user.is_empty() && me.user != "someone");
        assert_eq!(me.pid, Some(std::process::id()));
    }

    #[test]
    fn the_rule_for_every_target() {
        let me = Holder::parse("bob@here/2");
        let unknown = |_: &Holder| Liveness::Unknown;
        let dead = |_: &Holder| Liveness::Dead;
        let alive = |_: &Holder| Liveness::Alive;
        let alice = lease("alice@there/1", 100, 400);
        type Probe<'a> = &'a dyn Fn(&Holder) -> Liveness;
        let table: Vec<(Option<Lease>, UnixTime, Probe, Decision)> = vec![
            (None, 200, &unknown, Decision::Acquire),
            (Some(lease("", 0, 1_000)), 200, &unknown, Decision::Acquire),
            (
                Some(lease("bob@here/2", 100, 400)),
                200,
                &unknown,
                Decision::Reacquire,
            ),
            (
                Some(alice.clone()),
                200,
                &unknown,
                Decision::Held {
                    holder: Holder::parse("alice@there/1"),
                    since: 100,
                    expires_in: 200,
                },
            ),
            (
                Some(alice.clone()),
                200,
                &alive,
                Decision::Held {
                    holder: Holder::parse("alice@there/1"),
                    since: 100,
                    expires_in: 200,
                },
            ),
            (
                Some(alice.clone()),
                200,
                &dead,
                Decision::TakeOver {
                    from: Holder::parse("alice@there/1"),
                    reason: TakeOverReason::HolderGone,
                },
            ),
            (
                Some(alice.clone()),
                400,
                &unknown,
                Decision::TakeOver {
                    from: Holder::parse("alice@there/1"),
                    reason: TakeOverReason::Expired,
                },
            ),
            // A different PID of the same user and host is someone else.
            (
                Some(lease("bob@here/3", 100, 400)),
                200,
                &unknown,
                Decision::Held {
                    holder: Holder::parse("bob@here/3"),
                    since: 100,
                    expires_in: 200,
                },
            ),
        ];
        for (existing, now, liveness, want) in table {
            assert_eq!(
                decide(existing.as_ref(), &me, now, liveness),
                want,
                "{existing:?} at {now}"
            );
        }
    }

    #[test]
    fn expiry_is_said_in_minutes_and_seconds() {
        assert_eq!(format_expires_in(252), "4m12s");
        assert_eq!(format_expires_in(9), "9s");
        assert_eq!(format_expires_in(3_605), "1h0m5s");
        assert_eq!(format_expires_in(-3), "0s");
    }

    #[test]
    fn a_process_of_this_host_that_is_gone_is_dead() {
        let mut h = Holder::current();
        assert_eq!(local_liveness(&h), Liveness::Alive);
        // A child that exited and was reaped: its PID is gone.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        h.pid = Some(pid);
        if std::path::Path::new("/proc/self").exists()
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            assert_eq!(local_liveness(&h), Liveness::Dead);
        }
        h.host = "elsewhere.example".into();
        assert_eq!(local_liveness(&h), Liveness::Unknown);
        h.pid = None;
        assert_eq!(local_liveness(&h), Liveness::Unknown);
    }
}
