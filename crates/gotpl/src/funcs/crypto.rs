//! Template functions: Sprig's crypto family. Hashes (`sha1sum`, `sha256sum`, `sha512sum`,
//! `adler32sum`), `derivePassword` (the Master Password algorithm: scrypt N=32768 r=8 p=2,
//! then HMAC-SHA256; deterministic, as Sprig), `randBytes` and `uuidv4` (randomness from
//! [`crate::funcs::Env`]).
//!
//! Not implemented yet: key and certificate generation (`genPrivateKey`, `buildCustomCert`,
//! `genCA*`, `genSelfSignedCert*`, `genSignedCert*`), `encryptAES`/`decryptAES`, `bcrypt`,
//! `htpasswd`. They are registered, so templates that merely mention them parse as in Helm,
//! and fail when called with a message saying so.

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::{FuncCtx, FuncError, FuncMap, FuncResult, Sig, Ty};
use crate::value::{Value, base64_std};

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::{Any, Int, String as S};
    map.add("sha1sum", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(hex(&Sha1::digest(s(a, 0).as_bytes()))))
    });
    map.add("sha256sum", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(hex(&Sha256::digest(s(a, 0).as_bytes()))))
    });
    map.add("sha512sum", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(hex(&Sha512::digest(s(a, 0).as_bytes()))))
    });
    map.add("adler32sum", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(adler32(s(a, 0).as_bytes()).to_string()))
    });
    map.add("uuidv4", Sig::fixed(&[]), uuidv4);
    map.add("randBytes", Sig::fixed(&[Int]), rand_bytes);
    map.add(
        "derivePassword",
        Sig::fixed(&[Int, S, S, S, S]),
        derive_password_fn,
    );
    for name in [
        "genPrivateKey",
        "decryptAES",
        "encryptAES",
        "bcrypt",
        "genCA",
        "genSelfSignedCert",
        "buildCustomCert",
    ] {
        map.add(name, stub_sig(name), not_implemented);
    }
    map.add("htpasswd", Sig::fixed(&[S, S]), not_implemented);
    map.add("genCAWithKey", Sig::fixed(&[S, Int, S]), not_implemented);
    map.add(
        "genSelfSignedCertWithKey",
        Sig::fixed(&[S, Any, Any, Int, S]),
        not_implemented,
    );
    map.add(
        "genSignedCert",
        Sig::fixed(&[S, Any, Any, Int, Any]),
        not_implemented,
    );
    map.add(
        "genSignedCertWithKey",
        Sig::fixed(&[S, Any, Any, Int, Any, S]),
        not_implemented,
    );
}

fn stub_sig(name: &str) -> Sig {
    use Ty::{Any, Int, String as S};
    match name {
        "genPrivateKey" | "bcrypt" => Sig::fixed(&[S]),
        "encryptAES" | "decryptAES" => Sig::fixed(&[S, S]),
        "genCA" => Sig::fixed(&[S, Int]),
        "genSelfSignedCert" => Sig::fixed(&[S, Any, Any, Int]),
        _ => Sig::fixed(&[S, S]),
    }
}

fn not_implemented(_: &mut FuncCtx<'_>, _: &[Value]) -> FuncResult {
    Err(FuncError::msg(
        "this function is not implemented by this renderer yet",
    ))
}

fn s(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or("")
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// Go's `hash/adler32.Checksum`.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// `github.com/google/uuid.New().String()`: random, version 4, RFC 4122 variant.
fn uuidv4(c: &mut FuncCtx<'_>, _: &[Value]) -> FuncResult {
    let mut b = [0u8; 16];
    c.env.fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    Ok(Value::str(format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or(""),
        h.get(8..12).unwrap_or(""),
        h.get(12..16).unwrap_or(""),
        h.get(16..20).unwrap_or(""),
        h.get(20..32).unwrap_or("")
    )))
}

/// Sprig's `randBytes n`: n random bytes, base64.
fn rand_bytes(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let n = match a.first() {
        Some(Value::Int(n) | Value::Int64(n)) => *n,
        _ => 0,
    };
    let n = usize::try_from(n)
        .map_err(|_| FuncError::msg("runtime error: makeslice: len out of range"))?;
    c.check_len("randBytes", n.saturating_mul(4) / 3)?;
    let mut buf = vec![0u8; n];
    c.env.fill_random(&mut buf);
    Ok(Value::str(base64_std(&buf)))
}

fn derive_password_fn(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let counter = match a.first() {
        Some(Value::Int(n) | Value::Int64(n)) => *n as u32,
        _ => 0,
    };
    let _ = c;
    Ok(Value::str(derive_password(
        counter,
        s(a, 1),
        s(a, 2),
        s(a, 3),
        s(a, 4),
    )))
}

const SEED: &str = "com.lyndir.masterpassword";

fn template_chars(c: u8) -> &'static [u8] {
    match c {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        b'x' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
        _ => b"",
    }
}

fn password_templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

/// Sprig's `derivePassword` (Master Password v3).
pub(crate) fn derive_password(
    counter: u32,
    kind: &str,
    password: &str,
    user: &str,
    site: &str,
) -> String {
    let Some(templates) = password_templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let mut salt = SEED.as_bytes().to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user.as_bytes());
    let key = scrypt(password.as_bytes(), &salt, 32768, 8, 2, 64);
    let mut msg = SEED.as_bytes().to_vec();
    msg.extend_from_slice(&(site.len() as u32).to_be_bytes());
    msg.extend_from_slice(site.as_bytes());
    msg.extend_from_slice(&counter.to_be_bytes());
    let seed = hmac_sha256(&key, &msg);
    let pick = usize::from(seed.first().copied().unwrap_or(0));
    let template = templates
        .get(pick % templates.len().max(1))
        .copied()
        .unwrap_or("");
    let mut out = String::new();
    for (i, t) in template.bytes().enumerate() {
        let chars = template_chars(t);
        let idx = usize::from(seed.get(i + 1).copied().unwrap_or(0));
        if let Some(&ch) = chars.get(idx % chars.len().max(1)) {
            out.push(char::from(ch));
        }
    }
    out
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        let d = Sha256::digest(key);
        if let Some(s) = k.get_mut(..32) {
            s.copy_from_slice(&d);
        }
    } else {
        if let Some(s) = k.get_mut(..key.len()) {
            s.copy_from_slice(key);
        }
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let ih = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(ih);
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize());
    out
}

fn pbkdf2_sha256_1(password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut i: u32 = 1;
    while out.len() < len {
        let mut msg = salt.to_vec();
        msg.extend_from_slice(&i.to_be_bytes());
        let t = hmac_sha256(password, &msg);
        let need = (len - out.len()).min(32);
        out.extend_from_slice(t.get(..need).unwrap_or(&[]));
        i += 1;
    }
    out
}

fn salsa20_8(b: &mut [u32; 16]) {
    let mut x = *b;
    for _ in 0..4 {
        macro_rules! qr {
            ($a:expr, $b:expr, $c:expr, $d:expr) => {
                x[$b] ^= x[$a].wrapping_add(x[$d]).rotate_left(7);
                x[$c] ^= x[$b].wrapping_add(x[$a]).rotate_left(9);
                x[$d] ^= x[$c].wrapping_add(x[$b]).rotate_left(13);
                x[$a] ^= x[$d].wrapping_add(x[$c]).rotate_left(18);
            };
        }
        qr!(0, 4, 8, 12);
        qr!(5, 9, 13, 1);
        qr!(10, 14, 2, 6);
        qr!(15, 3, 7, 11);
        qr!(0, 1, 2, 3);
        qr!(5, 6, 7, 4);
        qr!(10, 11, 8, 9);
        qr!(15, 12, 13, 14);
    }
    for (o, v) in b.iter_mut().zip(x.iter()) {
        *o = o.wrapping_add(*v);
    }
}

fn block_mix(input: &[[u32; 16]], out: &mut [[u32; 16]]) {
    let n = input.len();
    let mut x = input.last().copied().unwrap_or([0; 16]);
    for (i, block) in input.iter().enumerate() {
        for (a, b) in x.iter_mut().zip(block.iter()) {
            *a ^= *b;
        }
        salsa20_8(&mut x);
        let dst = if i % 2 == 0 { i / 2 } else { n / 2 + i / 2 };
        if let Some(slot) = out.get_mut(dst) {
            *slot = x;
        }
    }
}

/// scrypt (RFC 7914) as `golang.org/x/crypto/scrypt.Key`.
fn scrypt(password: &[u8], salt: &[u8], n: usize, r: usize, p: usize, len: usize) -> Vec<u8> {
    let block_len = 128 * r;
    let mut b = pbkdf2_sha256_1(password, salt, p * block_len);
    let blocks = 2 * r;
    let mut v: Vec<[u32; 16]> = vec![[0; 16]; n * blocks];
    for chunk in b.chunks_mut(block_len) {
        let mut x: Vec<[u32; 16]> = chunk
            .chunks(64)
            .map(|c| {
                let mut w = [0u32; 16];
                for (k, word) in c.chunks(4).enumerate() {
                    if let (Some(slot), Ok(bytes)) = (w.get_mut(k), <[u8; 4]>::try_from(word)) {
                        *slot = u32::from_le_bytes(bytes);
                    }
                }
                w
            })
            .collect();
        let mut tmp = vec![[0u32; 16]; blocks];
        for i in 0..n {
            if let Some(dst) = v.get_mut(i * blocks..(i + 1) * blocks) {
                dst.copy_from_slice(&x);
            }
            block_mix(&x, &mut tmp);
            std::mem::swap(&mut x, &mut tmp);
        }
        for _ in 0..n {
            let j = x.last().map_or(0, |w| w[0] as usize) & (n - 1);
            if let Some(vj) = v.get(j * blocks..(j + 1) * blocks) {
                for (xb, vb) in x.iter_mut().zip(vj.iter()) {
                    for (a, c) in xb.iter_mut().zip(vb.iter()) {
                        *a ^= *c;
                    }
                }
            }
            block_mix(&x, &mut tmp);
            std::mem::swap(&mut x, &mut tmp);
        }
        for (c, w) in chunk.chunks_mut(64).zip(x.iter()) {
            for (k, word) in c.chunks_mut(4).enumerate() {
                if let Some(val) = w.get(k) {
                    word.copy_from_slice(&val.to_le_bytes());
                }
            }
        }
    }
    pbkdf2_sha256_1(password, &b, len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::{Env, Limits, Offline};

    #[test]
    fn hashes_like_sprig() {
        // From helm v4.1.4.
        assert_eq!(
            hex(&Sha1::digest(b"hello")),
            "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
        );
        assert_eq!(
            hex(&Sha256::digest(b"hello")),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(adler32(b"hello"), 103547413);
        assert_eq!(adler32(b""), 1);
    }

    #[test]
    fn scrypt_matches_rfc7914() {
        // RFC 7914 test vector 2 (N=1024, r=8, p=16).
        let k = scrypt(b"password", b"NaCl", 1024, 8, 16, 64);
        assert_eq!(
            hex(&k),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        );
    }

    #[test]
    fn derive_password_like_sprig() {
        // From helm v4.1.4: derivePassword 1 "long" "password" "user" "example.com".
        assert_eq!(
            derive_password(1, "long", "password", "user", "example.com"),
            DERIVED_LONG
        );
        assert_eq!(
            derive_password(3, "maximum", "secret", "alice", "x.org"),
            "DmIJVRbcM9eOaA63eh6@"
        );
        assert_eq!(
            derive_password(1, "nope", "p", "u", "s"),
            "cannot find password template nope"
        );
    }

    const DERIVED_LONG: &str = "ZedaFaxcZaso9*";

    #[test]
    fn random_shapes() {
        let mut env = Env::fixed(0, 7);
        let limits = Limits::default();
        let mut host = Offline;
        let mut ctx = FuncCtx {
            env: &mut env,
            limits: &limits,
            host: &mut host,
        };
        let u = uuidv4(&mut ctx, &[]).unwrap_or_default();
        let u = u.as_str().unwrap_or("");
        assert_eq!(u.len(), 36);
        assert_eq!(u.get(14..15), Some("4"));
        assert!(matches!(u.get(19..20), Some("8" | "9" | "a" | "b")));
        let b = rand_bytes(&mut ctx, &[Value::Int(5)]).unwrap_or_default();
        assert_eq!(b.as_str().map(str::len), Some(8));
        assert!(rand_bytes(&mut ctx, &[Value::Int(-1)]).is_err());
    }
}
