//! Fault rules: the next N matching requests are delayed and/or answered with an error.

use crate::validation::ApiError;
use crate::{Shared, lock};

/// A fault rule: the next `times` requests whose method matches (any when `None`) and whose
/// path contains `path_contains` sleep `delay_ms`, then, when `status` is not 0, get a `Status`
/// error with that code instead of being handled.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: Option<String>,
    pub path_contains: String,
    /// 0: no error, only the delay.
    pub status: u16,
    pub times: usize,
    pub delay_ms: u64,
}

impl ApiError {
    /// The answer of a fault rule.
    pub(crate) fn injected(code: u16) -> Self {
        let (reason, message) = match code {
            400 => ("BadRequest", "injected fault"),
            401 => ("Unauthorized", "Unauthorized (injected fault)"),
            403 => ("Forbidden", "forbidden (injected fault)"),
            404 => (
                "NotFound",
                "the server could not find the requested resource (injected fault)",
            ),
            405 => (
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource (injected fault)",
            ),
            409 => ("Conflict", "Operation cannot be fulfilled: injected fault"),
            410 => (
                "Expired",
                "the resource version is too old (injected fault)",
            ),
            415 => (
                "UnsupportedMediaType",
                "unsupported media type (injected fault)",
            ),
            422 => ("Invalid", "invalid (injected fault)"),
            429 => (
                "TooManyRequests",
                "Too many requests, please try again later. (injected fault)",
            ),
            500 => ("InternalError", "Internal error occurred: injected fault"),
            503 => (
                "ServiceUnavailable",
                "the server is currently unable to handle the request (injected fault)",
            ),
            504 => (
                "Timeout",
                "the server was unable to return a response in the time allotted, but may still be processing the request (injected fault)",
            ),
            _ => ("Unknown", "injected fault"),
        };
        Self::new(code, reason, message)
    }
}

impl Shared {
    /// The first queued rule matching the request, used once.
    pub(crate) fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let i = faults.iter().position(|f| {
            f.times > 0
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && path.contains(&f.path_contains)
        })?;
        let hit = faults[i].clone();
        faults[i].times -= 1;
        if faults[i].times == 0 {
            faults.remove(i);
        }
        Some(hit)
    }
}
