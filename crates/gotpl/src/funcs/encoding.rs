//! Template functions: Sprig's encoding family: `b64enc`, `b64dec`, `b32enc`, `b32dec` and the
//! JSON helpers `toJson`, `toPrettyJson`, `toRawJson`, `fromJson` with their `must*` forms.
//!
//! Sprig's plain forms swallow errors: `toJson` of a NaN is "", `b64dec` of bad input returns
//! Go's error text (`illegal base64 data at input byte 0`) as its result. The `must*` forms
//! fail with Go's message. Helm replaces `toJson`, `mustToJson` and `fromJson` with its own
//! (`funcs::helm`), registered after these.

use super::{FuncCtx, FuncError, FuncMap, Sig, Ty};
use crate::json;
use crate::value::Value;

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::{Any, String as S};
    map.add("b64enc", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(crate::value::base64_std(
            &crate::value::go_bytes(s(a)),
        )))
    });
    map.add("b64dec", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(match decode_base64(s(a)) {
            Ok(b) => crate::value::go_string_from_bytes(&b),
            Err(e) => e,
        }))
    });
    map.add("b32enc", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(encode_base32(&crate::value::go_bytes(s(a)))))
    });
    map.add("b32dec", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(match decode_base32(s(a)) {
            Ok(b) => crate::value::go_string_from_bytes(&b),
            Err(e) => e,
        }))
    });
    map.add("toJson", Sig::fixed(&[Any]), |c, a| {
        Ok(Value::str(json_or_empty(c, arg(a), JsonForm::Plain)?))
    });
    map.add("toPrettyJson", Sig::fixed(&[Any]), |c, a| {
        Ok(Value::str(json_or_empty(c, arg(a), JsonForm::Pretty)?))
    });
    map.add("toRawJson", Sig::fixed(&[Any]), |c, a| {
        Ok(Value::str(json_or_empty(c, arg(a), JsonForm::Raw)?))
    });
    map.add("mustToJson", Sig::fixed(&[Any]), |c, a| {
        Ok(Value::str(must_json(c, arg(a), JsonForm::Plain)?))
    });
    map.add("mustToPrettyJson", Sig::fixed(&[Any]), |c, a| {
        Ok(Value::str(must_json(c, arg(a), JsonForm::Pretty)?))
    });
    map.add("mustToRawJson", Sig::fixed(&[Any]), |c, a| {
        Ok(Value::str(must_json(c, arg(a), JsonForm::Raw)?))
    });
    // Sprig's fromJson decodes into interface{}: any JSON type, nil on error.
    map.add("fromJson", Sig::fixed(&[S]), |_, a| {
        Ok(json::parse(s(a)).unwrap_or(Value::Nil))
    });
    map.add("mustFromJson", Sig::fixed(&[S]), |_, a| {
        json::parse(s(a)).map_err(|e| FuncError::msg(e.0))
    });
}

fn s(args: &[Value]) -> &str {
    args.first().and_then(Value::as_str).unwrap_or("")
}

fn arg(args: &[Value]) -> &Value {
    args.first().unwrap_or(&Value::Nil)
}

/// Which of Go's JSON writers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonForm {
    /// `json.Marshal`.
    Plain,
    /// `json.MarshalIndent(v, "", "  ")`.
    Pretty,
    /// An encoder with `SetEscapeHTML(false)`, final newline trimmed (`toRawJson`).
    Raw,
}

/// Go's JSON text of `v`, or Go's error; a result over the value cap fails as a limit.
pub(crate) fn json_text(
    c: &FuncCtx<'_>,
    v: &Value,
    form: JsonForm,
) -> Result<Result<String, String>, FuncError> {
    let r = match form {
        JsonForm::Plain => json::to_json(v, true),
        JsonForm::Pretty => json::to_json_indent(v, "  ", true),
        JsonForm::Raw => json::to_json(v, false),
    };
    match r {
        Ok(text) => {
            c.check_len("toJson", text.len())?;
            Ok(Ok(text))
        }
        Err(e) => Ok(Err(e.0)),
    }
}

fn json_or_empty(c: &FuncCtx<'_>, v: &Value, form: JsonForm) -> Result<String, FuncError> {
    Ok(json_text(c, v, form)?.unwrap_or_default())
}

fn must_json(c: &FuncCtx<'_>, v: &Value, form: JsonForm) -> Result<String, FuncError> {
    json_text(c, v, form)?.map_err(FuncError::msg)
}

/// Go's `base64.StdEncoding.DecodeString`: newlines ignored, padding required, errors as
/// `illegal base64 data at input byte N`.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let src = text.as_bytes();
    let corrupt = |n: usize| format!("illegal base64 data at input byte {n}");
    let map = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    loop {
        let mut dbuf = [0u32; 4];
        let mut dlen = 4;
        let mut j = 0;
        let mut done = false;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                // Padding is required.
                return Err(corrupt(si - j));
            }
            let c = src.get(si).copied().unwrap_or(0);
            si += 1;
            if let Some(v) = map(c) {
                if let Some(slot) = dbuf.get_mut(j) {
                    *slot = v;
                }
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' {
                return Err(corrupt(si - 1));
            }
            match j {
                0 | 1 => return Err(corrupt(si - 1)),
                2 => {
                    while si < src.len() && matches!(src.get(si), Some(b'\n' | b'\r')) {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(corrupt(src.len()));
                    }
                    if src.get(si) != Some(&b'=') {
                        return Err(corrupt(si - 1));
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && matches!(src.get(si), Some(b'\n' | b'\r')) {
                si += 1;
            }
            if si < src.len() {
                return Err(corrupt(si));
            }
            dlen = j;
            done = true;
            break;
        }
        let val = (dbuf[0] << 18) | (dbuf[1] << 12) | (dbuf[2] << 6) | dbuf[3];
        let bytes = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
        out.extend_from_slice(bytes.get(..dlen - 1).unwrap_or(&[]));
        if done {
            return Ok(out);
        }
    }
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Go's `base32.StdEncoding.EncodeToString`.
pub(crate) fn encode_base32(src: &[u8]) -> String {
    let mut out = String::with_capacity(src.len().div_ceil(5) * 8);
    for chunk in src.chunks(5) {
        let mut buf = [0u8; 5];
        if let Some(b) = buf.get_mut(..chunk.len()) {
            b.copy_from_slice(chunk);
        }
        let n = buf.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                let idx = ((n >> (35 - 5 * i)) & 31) as usize;
                out.push(char::from(B32[idx]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `base32.StdEncoding.DecodeString` (newlines stripped first).
pub(crate) fn decode_base32(text: &str) -> Result<Vec<u8>, String> {
    let src: Vec<u8> = text.bytes().filter(|&b| b != b'\n' && b != b'\r').collect();
    let corrupt = |n: usize| format!("illegal base32 data at input byte {n}");
    let map = |c: u8| -> Option<u64> {
        match c {
            b'A'..=b'Z' => Some(u64::from(c - b'A')),
            b'2'..=b'7' => Some(u64::from(c - b'2') + 26),
            _ => None,
        }
    };
    let olen = src.len();
    let mut rest: &[u8] = &src;
    let mut out = Vec::new();
    let mut end = false;
    while !rest.is_empty() && !end {
        let mut dbuf = [0u64; 8];
        let mut dlen = 8;
        let mut j = 0;
        while j < 8 {
            let Some((&c, tail)) = rest.split_first() else {
                return Err(corrupt(olen - rest.len() - j));
            };
            rest = tail;
            if c == b'=' && j >= 2 && rest.len() < 8 {
                if rest.len() + j < 7 {
                    return Err(corrupt(olen));
                }
                for k in 0..(7 - j) {
                    if rest.len() > k && rest.get(k) != Some(&b'=') {
                        return Err(corrupt(olen - rest.len() + k - 1));
                    }
                }
                dlen = j;
                end = true;
                if matches!(dlen, 1 | 3 | 6) {
                    return Err(corrupt(olen - rest.len() - 1));
                }
                break;
            }
            match map(c) {
                Some(v) => {
                    if let Some(slot) = dbuf.get_mut(j) {
                        *slot = v;
                    }
                }
                None => return Err(corrupt(olen - rest.len() - 1)),
            }
            j += 1;
        }
        let n = dbuf.iter().fold(0u64, |acc, &v| (acc << 5) | v);
        let bytes = [
            (n >> 32) as u8,
            (n >> 24) as u8,
            (n >> 16) as u8,
            (n >> 8) as u8,
            n as u8,
        ];
        let produced = match dlen {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            _ => 0,
        };
        out.extend_from_slice(bytes.get(..produced).unwrap_or(&[]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_like_go() {
        // From helm v4.1.4: b64enc "héllo", b64dec "aGVsbG8=", "!!", "aGVsbG8".
        assert_eq!(crate::value::base64_std("héllo".as_bytes()), "aMOpbGxv");
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("aGVsbG8=", Ok("hello")),
            ("!!", Err("illegal base64 data at input byte 0")),
            ("aGVsbG8", Err("illegal base64 data at input byte 4")),
            ("aGVs\nbG8=", Ok("hello")),
            ("", Ok("")),
            ("aGVsbA==", Ok("hell")),
            ("aGVsbA=", Err("illegal base64 data at input byte 7")),
            ("aGVsbA==x", Err("illegal base64 data at input byte 8")),
            ("a===", Err("illegal base64 data at input byte 1")),
        ];
        for (input, want) in cases {
            let got = decode_base64(input).map(|b| String::from_utf8_lossy(&b).into_owned());
            assert_eq!(
                got.as_deref().map_err(String::as_str),
                want.map_err(|e| e),
                "{input}"
            );
        }
    }

    #[test]
    fn base32_like_go() {
        // From helm v4.1.4: b32enc "hello" = NBSWY3DP, b32dec "x" fails at byte 0.
        assert_eq!(encode_base32(b"hello"), "NBSWY3DP");
        assert_eq!(encode_base32(b"a"), "ME======");
        assert_eq!(encode_base32(b"abcd"), "MFRGGZA=");
        assert_eq!(decode_base32("NBSWY3DP").ok(), Some(b"hello".to_vec()));
        assert_eq!(decode_base32("ME======").ok(), Some(b"a".to_vec()));
        assert_eq!(decode_base32("MFRGGZA=").ok(), Some(b"abcd".to_vec()));
        assert_eq!(
            decode_base32("x").err().as_deref(),
            Some("illegal base32 data at input byte 0")
        );
    }
}
