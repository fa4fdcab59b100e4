//! Template functions: Sprig's crypto family, as Helm v4 registers it.
//!
//! - Hashes (`sha1sum`, `sha256sum`, `sha512sum`, `adler32sum`), `derivePassword` (the Master
//!   Password algorithm: scrypt N=32768 r=8 p=2, then HMAC-SHA256; deterministic, as Sprig),
//!   `randBytes` and `uuidv4`.
//! - Keys and certificates: `genPrivateKey` (`RSA PRIVATE KEY` PKCS#1 4096 bits, `EC PRIVATE
//!   KEY` SEC1 P-256, `PRIVATE KEY` PKCS#8 Ed25519), `genCA`, `genCAWithKey`,
//!   `genSelfSignedCert`, `genSelfSignedCertWithKey`, `genSignedCert`, `genSignedCertWithKey`
//!   (RSA 2048 keys unless one is given), `buildCustomCert`. Certificates are written here as
//!   Go 1.25's `x509.CreateCertificate` writes Sprig's templates (same fields, extensions and
//!   order, SHA-256 signatures, Go's truncated-SHA-256 subject key id for CAs); the result is
//!   [`Certificate`] (`sprig.certificate`, fields `.Cert` and `.Key`).
//! - `encryptAES`/`decryptAES` (AES-256-CBC, key = password zero-padded or cut to 32 bytes,
//!   random IV in front, PKCS#7, base64), with Go's runtime errors for malformed input.
//! - `bcrypt` (cost 10, `$2a$`) and `htpasswd`.
//! - `getHostByName`: Helm renders it as "" unless DNS is enabled; this crate does no IO.
//!
//! Randomness (keys, serials, IVs, salts) comes from [`Env::fill_random`], the clock from
//! [`Env`]. Known differences from Helm: DSA keys (`genPrivateKey "dsa"`) cannot sign
//! certificates, as in Go, and are generated with the `dsa` crate; EC keys read
//! from PEM must be P-256; parse errors for malformed keys and certificates keep Go's prefixes
//! but not always Go's detailed ASN.1 text; `%v` of a certificate prints the map form.

use std::convert::Infallible;
use std::sync::Arc;

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::{Env, FuncCtx, FuncError, FuncMap, FuncResult, Sig, Ty};
use crate::value::{Map, Object, Value, base64_std};

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::{Any, Int, List, String as S};
    map.add("sha1sum", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(hex(&Sha1::digest(crate::value::go_bytes(s(
            a, 0,
        ))))))
    });
    map.add("sha256sum", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(hex(&Sha256::digest(crate::value::go_bytes(s(
            a, 0,
        ))))))
    });
    map.add("sha512sum", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(hex(&Sha512::digest(crate::value::go_bytes(s(
            a, 0,
        ))))))
    });
    map.add("adler32sum", Sig::fixed(&[S]), |_, a| {
        Ok(Value::str(
            adler32(&crate::value::go_bytes(s(a, 0))).to_string(),
        ))
    });
    map.add("uuidv4", Sig::fixed(&[]), uuidv4);
    map.add("randBytes", Sig::fixed(&[Int]), rand_bytes);
    map.add(
        "derivePassword",
        Sig::fixed(&[Int, S, S, S, S]),
        derive_password_fn,
    );
    map.add("genPrivateKey", Sig::fixed(&[S]), gen_private_key);
    map.add("encryptAES", Sig::fixed(&[S, S]), encrypt_aes);
    map.add("decryptAES", Sig::fixed(&[S, S]), decrypt_aes);
    map.add("bcrypt", Sig::fixed(&[S]), bcrypt_fn);
    map.add("htpasswd", Sig::fixed(&[S, S]), htpasswd);
    map.add("getHostByName", Sig::fixed(&[S]), |_, _| Ok(Value::str("")));
    map.add("buildCustomCert", Sig::fixed(&[S, S]), build_custom_cert);
    map.add("genCA", Sig::fixed(&[S, Int]), |c, a| {
        let key = rsa_2048(c)?;
        gen_ca(c, a, key)
    });
    map.add("genCAWithKey", Sig::fixed(&[S, Int, S]), |c, a| {
        gen_ca(c, a, pem_key_arg(a, 2)?)
    });
    map.add(
        "genSelfSignedCert",
        Sig::fixed(&[S, List, List, Int]),
        |c, a| {
            let key = rsa_2048(c)?;
            gen_self_signed(c, a, key)
        },
    );
    map.add(
        "genSelfSignedCertWithKey",
        Sig::fixed(&[S, List, List, Int, S]),
        |c, a| gen_self_signed(c, a, pem_key_arg(a, 4)?),
    );
    // The CA parameter is Go's `certificate` struct: checked in the function.
    map.add(
        "genSignedCert",
        Sig::fixed(&[S, List, List, Int, Any]),
        |c, a| {
            let ca = certificate_arg(a.get(4).unwrap_or(&Value::Nil))?;
            let key = rsa_2048(c)?;
            gen_signed(c, a, &ca, key)
        },
    );
    map.add(
        "genSignedCertWithKey",
        Sig::fixed(&[S, List, List, Int, Any, S]),
        |c, a| {
            let ca = certificate_arg(a.get(4).unwrap_or(&Value::Nil))?;
            gen_signed(c, a, &ca, pem_key_arg(a, 5)?)
        },
    );
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

// ---- randomness adapter -----------------------------------------------------------------------

/// `rand_core`'s RNG traits over [`Env::fill_random`], for the key-generation crates.
struct EnvRng<'a>(&'a mut Env);

impl rand_core::TryRng for EnvRng<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.0.fill_random(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.0.fill_random(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill_random(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for EnvRng<'_> {}

// ---- DER writing and reading ------------------------------------------------------------------

mod der {
    //! The little DER this module writes and reads: tag-length-value with definite lengths.

    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const UTF8_STRING: u8 = 0x0c;
    pub const PRINTABLE_STRING: u8 = 0x13;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const BOOLEAN: u8 = 0x01;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;

    pub const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    pub const OID_SHA256_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    pub const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    pub const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    pub const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    pub const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

    pub const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
    pub const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
    pub const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
    pub const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
    pub const OID_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
    pub const OID_AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
    pub const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
    pub const OID_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
    pub const OID_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];

    /// One TLV.
    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(content.len() + 6);
        out.push(tag);
        let n = content.len();
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let bytes = n.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            let len_bytes = bytes.get(skip..).unwrap_or(&[]);
            out.push(0x80 | len_bytes.len() as u8);
            out.extend_from_slice(len_bytes);
        }
        out.extend_from_slice(content);
        out
    }

    /// A constructed value from already-encoded parts.
    pub fn cons(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
        tlv(tag, &parts.concat())
    }

    pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
        cons(SEQUENCE, parts)
    }

    pub fn oid(content: &[u8]) -> Vec<u8> {
        tlv(OID, content)
    }

    /// A non-negative INTEGER from big-endian magnitude bytes.
    pub fn uint(be: &[u8]) -> Vec<u8> {
        let skip = be.iter().take_while(|b| **b == 0).count();
        let mag = be.get(skip..).unwrap_or(&[]);
        let mut content = Vec::with_capacity(mag.len() + 1);
        if mag.first().is_none_or(|b| b & 0x80 != 0) {
            content.push(0);
        }
        content.extend_from_slice(mag);
        tlv(INTEGER, &content)
    }

    /// A BIT STRING with no unused bits.
    pub fn bits(content: &[u8]) -> Vec<u8> {
        let mut c = Vec::with_capacity(content.len() + 1);
        c.push(0);
        c.extend_from_slice(content);
        tlv(BIT_STRING, &c)
    }

    /// A reader over a run of TLVs.
    #[derive(Clone, Copy)]
    pub struct Reader<'a> {
        pub rest: &'a [u8],
    }

    /// One element read: its tag, its content, and its whole encoding.
    #[derive(Clone, Copy)]
    pub struct Elem<'a> {
        pub tag: u8,
        pub content: &'a [u8],
        pub raw: &'a [u8],
    }

    impl<'a> Reader<'a> {
        pub fn new(bytes: &'a [u8]) -> Reader<'a> {
            Reader { rest: bytes }
        }

        pub fn is_empty(&self) -> bool {
            self.rest.is_empty()
        }

        /// The next element, or `None` when the input is malformed or exhausted.
        pub fn next(&mut self) -> Option<Elem<'a>> {
            let all = self.rest;
            let tag = *all.first()?;
            if tag & 0x1f == 0x1f {
                return None;
            }
            let first = usize::from(*all.get(1)?);
            let (len, header) = if first < 0x80 {
                (first, 2)
            } else {
                let n = first & 0x7f;
                if n == 0 || n > 4 {
                    return None;
                }
                let bytes = all.get(2..2 + n)?;
                if bytes.first() == Some(&0) {
                    return None;
                }
                let len = bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
                if len < 0x80 {
                    return None;
                }
                (len, 2 + n)
            };
            let end = header.checked_add(len)?;
            let raw = all.get(..end)?;
            let content = all.get(header..end)?;
            self.rest = all.get(end..)?;
            Some(Elem { tag, content, raw })
        }

        /// The next element if it has `tag`.
        pub fn take(&mut self, tag: u8) -> Option<Elem<'a>> {
            let mut probe = *self;
            let e = probe.next()?;
            if e.tag != tag {
                return None;
            }
            *self = probe;
            Some(e)
        }
    }

    /// The whole input as exactly one element with `tag`.
    pub fn single(bytes: &[u8], tag: u8) -> Option<Elem<'_>> {
        let mut r = Reader::new(bytes);
        let e = r.take(tag)?;
        r.is_empty().then_some(e)
    }
}

// ---- PEM --------------------------------------------------------------------------------------

/// Go's `pem.EncodeToMemory` of a block without headers.
fn pem_encode(kind: &str, der: &[u8]) -> String {
    let b64 = base64_std(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * kind.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(kind);
    out.push_str("-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or(""));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(kind);
    out.push_str("-----\n");
    out
}

/// Go's `pem.Decode`: the first well-formed block (type and DER bytes), or `None`.
fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let mut from = 0usize;
    // Each failed candidate rescans the rest: bound the candidates so that hostile input with
    // many `BEGIN` lines stays linear-ish (Go would keep trying).
    for _ in 0..MAX_PEM_CANDIDATES {
        let rest = text.get(from..)?;
        let pos = rest.find("-----BEGIN ")?;
        let at = from + pos;
        from = at + 1;
        if at != 0 && !text.get(..at).is_some_and(|b| b.ends_with('\n')) {
            continue;
        }
        let after = text.get(at + "-----BEGIN ".len()..)?;
        let line_end = after.find('\n').unwrap_or(after.len());
        let line = after.get(..line_end)?.trim_end_matches(['\r', ' ', '\t']);
        let Some(kind) = line.strip_suffix("-----") else {
            continue;
        };
        let body_all = after.get(line_end..)?.strip_prefix('\n').unwrap_or("");
        let end_marker = format!("-----END {kind}-----");
        let end_pos = if body_all.starts_with(&end_marker) {
            0
        } else {
            match body_all.find(&format!("\n{end_marker}")) {
                Some(p) => p + 1,
                None => continue,
            }
        };
        let mut body = body_all.get(..end_pos)?;
        // Headers ("Key: value" lines up to a blank line) are skipped.
        if body.lines().next().is_some_and(|l| l.contains(':')) {
            match body.find("\n\n").or_else(|| body.find("\r\n\r\n")) {
                Some(p) => body = body.get(p..)?,
                None => continue,
            }
        }
        let cleaned: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        match super::encoding::decode_base64(&cleaned) {
            Ok(bytes) => return Some((kind.to_string(), bytes)),
            Err(_) => continue,
        }
    }
    None
}

/// Most `-----BEGIN` lines [`pem_decode`] tries before giving up.
const MAX_PEM_CANDIDATES: usize = 256;

// ---- keys -------------------------------------------------------------------------------------

/// A private key as Sprig handles them (`crypto.PrivateKey`).
enum Key {
    Rsa(Box<rsa::PrivateKey>),
    Ec(p256::SecretKey),
    Ed(ed25519_dalek::SigningKey),
    /// A DSA key read from PEM: Go's `x509.CreateCertificate` cannot sign with it.
    Dsa,
}

impl Key {
    fn generate_rsa(env: &mut Env, bits: usize) -> Result<Key, String> {
        rsa::PrivateKey::new(&mut EnvRng(env), bits)
            .map(|k| Key::Rsa(Box::new(k)))
            .map_err(|e| e.to_string())
    }

    fn generate_ec(env: &mut Env) -> Key {
        loop {
            let mut b = [0u8; 32];
            env.fill_random(&mut b);
            if let Ok(k) = p256::SecretKey::from_slice(&b) {
                return Key::Ec(k);
            }
        }
    }

    fn generate_ed(env: &mut Env) -> Key {
        let mut seed = [0u8; 32];
        env.fill_random(&mut seed);
        Key::Ed(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Sprig's `pemBlockForKey`, encoded.
    fn to_pem(&self) -> Result<String, String> {
        Ok(match self {
            Key::Rsa(k) => {
                let der = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(k.as_ref())
                    .map_err(|e| e.to_string())?;
                pem_encode("RSA PRIVATE KEY", der.as_bytes())
            }
            Key::Ec(k) => pem_encode("EC PRIVATE KEY", &sec1_der(k)),
            Key::Ed(k) => {
                let inner = der::tlv(der::OCTET_STRING, &k.to_bytes());
                let pkcs8 = der::seq(&[
                    &der::uint(&[]),
                    &der::seq(&[&der::oid(der::OID_ED25519)]),
                    &der::tlv(der::OCTET_STRING, &inner),
                ]);
                pem_encode("PRIVATE KEY", &pkcs8)
            }
            Key::Dsa => {
                return Err(
                    "x509: unknown key type while marshaling PKCS#8: *dsa.PrivateKey".into(),
                );
            }
        })
    }

    /// The DER `SubjectPublicKeyInfo`, as Go's `x509.MarshalPKIXPublicKey` writes it.
    fn spki(&self) -> Result<Vec<u8>, String> {
        Ok(match self {
            Key::Rsa(k) => {
                let pk = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(k.as_public_key())
                    .map_err(|e| e.to_string())?;
                der::seq(&[
                    &der::seq(&[&der::oid(der::OID_RSA), &der::tlv(der::NULL, &[])]),
                    &der::bits(pk.as_bytes()),
                ])
            }
            Key::Ec(k) => der::seq(&[
                &der::seq(&[&der::oid(der::OID_EC_PUBLIC_KEY), &der::oid(der::OID_P256)]),
                &der::bits(&ec_point(k)),
            ]),
            Key::Ed(k) => der::seq(&[
                &der::seq(&[&der::oid(der::OID_ED25519)]),
                &der::bits(&k.verifying_key().to_bytes()),
            ]),
            Key::Dsa => return Err("x509: unsupported public key type: *dsa.PublicKey".into()),
        })
    }

    /// The signature algorithm Go picks for this signer (SHA-256 based), DER.
    fn signature_algorithm(&self) -> Vec<u8> {
        match self {
            Key::Rsa(_) => der::seq(&[&der::oid(der::OID_SHA256_RSA), &der::tlv(der::NULL, &[])]),
            Key::Ec(_) => der::seq(&[&der::oid(der::OID_ECDSA_SHA256)]),
            Key::Ed(_) | Key::Dsa => der::seq(&[&der::oid(der::OID_ED25519)]),
        }
    }

    fn sign(&self, env: &mut Env, msg: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            Key::Rsa(k) => {
                let digest = Sha256::digest(msg);
                k.sign_with_rng(
                    &mut EnvRng(env),
                    rsa::pkcs1v15::Pkcs1v15Sign::new::<Sha256>(),
                    &digest,
                )
                .map_err(|e| e.to_string())
            }
            Key::Ec(k) => {
                use p256::ecdsa::signature::Signer;
                let signer = p256::ecdsa::SigningKey::from(k);
                let sig: p256::ecdsa::Signature = signer.sign(msg);
                Ok(sig.to_der().as_bytes().to_vec())
            }
            Key::Ed(k) => {
                use ed25519_dalek::Signer;
                Ok(k.sign(msg).to_bytes().to_vec())
            }
            Key::Dsa => {
                Err("x509: certificate private key does not implement crypto.Signer".into())
            }
        }
    }
}

/// The uncompressed public point of a P-256 key.
fn ec_point(k: &p256::SecretKey) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToSec1Point;
    k.public_key().to_sec1_point(false).as_bytes().to_vec()
}

/// Go's `x509.MarshalECPrivateKey`: SEC1 with the named curve and the public key.
fn sec1_der(k: &p256::SecretKey) -> Vec<u8> {
    der::seq(&[
        &der::uint(&[1]),
        &der::tlv(der::OCTET_STRING, &k.to_bytes()),
        &der::cons(0xa0, &[&der::oid(der::OID_P256)]),
        &der::cons(0xa1, &[&der::bits(&ec_point(k))]),
    ])
}

/// Go's `asn1` "tags don't match" wording, shortened to what Sprig's callers show.
fn asn1_error(what: &str) -> String {
    format!(
        "asn1: structure error: tags don't match (16 vs {{class:0 tag:0 length:0 isCompound:false}}) {{optional:false explicit:false application:false private:false defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false omitEmpty:false}} {what} @2"
    )
}

/// A SEC1 `ECPrivateKey`; `curve` is the named curve from a PKCS#8 wrapper, if any.
fn parse_sec1(der_bytes: &[u8], curve: Option<&[u8]>) -> Result<Key, String> {
    let seq = der::single(der_bytes, der::SEQUENCE).ok_or_else(|| {
        format!(
            "x509: failed to parse EC private key: {}",
            asn1_error("ecPrivateKey")
        )
    })?;
    let mut r = der::Reader::new(seq.content);
    let version = r.take(der::INTEGER).map(|e| e.content);
    if version != Some(&[1][..]) {
        return Err(format!(
            "x509: unknown EC private key version {}",
            version.and_then(|v| v.last()).copied().unwrap_or(0)
        ));
    }
    let secret = r
        .take(der::OCTET_STRING)
        .ok_or("x509: failed to parse EC private key")?
        .content;
    let mut named = curve.map(<[u8]>::to_vec);
    if let Some(params) = r.take(0xa0) {
        let mut pr = der::Reader::new(params.content);
        if let Some(o) = pr.take(der::OID) {
            named = Some(o.content.to_vec());
        }
    }
    match named.as_deref() {
        Some(der::OID_P256) => {}
        _ => return Err("x509: unknown elliptic curve".into()),
    }
    if secret.len() > 32 {
        return Err("x509: invalid private key length".into());
    }
    let mut padded = [0u8; 32];
    if let Some(dst) = padded.get_mut(32 - secret.len()..) {
        dst.copy_from_slice(secret);
    }
    p256::SecretKey::from_slice(&padded)
        .map(Key::Ec)
        .map_err(|_| "x509: invalid elliptic curve private key value".into())
}

/// Go's `x509.ParsePKCS8PrivateKey` for RSA, P-256 and Ed25519 keys.
fn parse_pkcs8(der_bytes: &[u8]) -> Result<Key, String> {
    let seq = der::single(der_bytes, der::SEQUENCE).ok_or_else(|| asn1_error("pkcs8"))?;
    let mut r = der::Reader::new(seq.content);
    r.take(der::INTEGER).ok_or_else(|| asn1_error("pkcs8"))?;
    let alg = r.take(der::SEQUENCE).ok_or_else(|| asn1_error("pkcs8"))?;
    let key = r
        .take(der::OCTET_STRING)
        .ok_or_else(|| asn1_error("pkcs8"))?;
    let mut ar = der::Reader::new(alg.content);
    let oid = ar
        .take(der::OID)
        .ok_or_else(|| asn1_error("pkcs8"))?
        .content;
    match oid {
        der::OID_RSA => rsa::pkcs8::DecodePrivateKey::from_pkcs8_der(der_bytes)
            .map(|k| Key::Rsa(Box::new(k)))
            .map_err(|e| format!("x509: failed to parse RSA private key embedded in PKCS#8: {e}")),
        der::OID_EC_PUBLIC_KEY => {
            let curve = ar.take(der::OID).map(|e| e.content);
            parse_sec1(key.content, curve).map_err(|e| {
                format!("x509: failed to parse EC private key embedded in PKCS#8: {e}")
            })
        }
        der::OID_ED25519 => {
            let inner = der::single(key.content, der::OCTET_STRING)
                .map(|e| e.content)
                .ok_or("x509: invalid Ed25519 private key: asn1: syntax error")?;
            let seed: [u8; 32] = inner.try_into().map_err(|_| {
                format!("x509: invalid Ed25519 private key length: {}", inner.len())
            })?;
            Ok(Key::Ed(ed25519_dalek::SigningKey::from_bytes(&seed)))
        }
        _ => Err(format!(
            "x509: PKCS#8 wrapping contained private key with unknown algorithm: {}",
            oid_string(oid)
        )),
    }
}

/// Dotted form of an OID's content bytes.
fn oid_string(content: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for (i, b) in content.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() && i < 8 {
                let (a, rest) = if acc < 40 {
                    (0, acc)
                } else if acc < 80 {
                    (1, acc - 40)
                } else {
                    (2, acc - 80)
                };
                parts.push(a);
                parts.push(rest);
            } else {
                parts.push(acc);
            }
            acc = 0;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Sprig's `parsePrivateKeyPEM`.
fn parse_private_key_pem(text: &str) -> Result<Key, String> {
    let (kind, bytes) = pem_decode(text).ok_or("no PEM data in input")?;
    if kind == "PRIVATE KEY" {
        return parse_pkcs8(&bytes).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
    }
    let Some(prefix) = kind.strip_suffix(" PRIVATE KEY") else {
        return Err(format!("no private key data in PEM block of type {kind}"));
    };
    match prefix {
        "RSA" => {
            if der::single(&bytes, der::SEQUENCE).is_none() {
                return Err(format!(
                    "parsing RSA private key from PEM: {}",
                    asn1_error("pkcs1PrivateKey")
                ));
            }
            rsa::pkcs1::DecodeRsaPrivateKey::from_pkcs1_der(&bytes)
                .map(|k| Key::Rsa(Box::new(k)))
                .map_err(|e| format!("parsing RSA private key from PEM: x509: {e}"))
        }
        "EC" => {
            parse_sec1(&bytes, None).map_err(|e| format!("parsing EC private key from PEM: {e}"))
        }
        "DSA" => {
            let ok = der::single(&bytes, der::SEQUENCE).is_some_and(|s| {
                let mut r = der::Reader::new(s.content);
                (0..6).all(|_| r.take(der::INTEGER).is_some())
            });
            if ok {
                Ok(Key::Dsa)
            } else {
                Err(format!(
                    "parsing DSA private key from PEM: {}",
                    asn1_error("DSAKeyFormat")
                ))
            }
        }
        _ => Err(format!("invalid private key type {kind}")),
    }
}

/// Sprig's `genPrivateKey`.
fn gen_private_key(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let key = match s(a, 0) {
        "" | "rsa" => match Key::generate_rsa(c.env, 4096) {
            Ok(k) => k,
            Err(e) => return Ok(Value::str(format!("failed to generate private key: {e}"))),
        },
        "ecdsa" => Key::generate_ec(c.env),
        "ed25519" => Key::generate_ed(c.env),
        "dsa" => return Ok(Value::str(generate_dsa_pem(c.env))),
        other => return Ok(Value::str(format!("Unknown type {other}"))),
    };
    Ok(Value::str(key.to_pem().unwrap_or_default()))
}

/// Sprig's DSA key: L2048N256 parameters, then Go's `DSAKeyFormat` (version 0, P, Q, G, Y,
/// X) as a `DSA PRIVATE KEY` block.
fn generate_dsa_pem(env: &mut Env) -> String {
    let mut rng = EnvRng(env);
    let Ok(components) =
        dsa::Components::try_generate_from_rng_with_key_size(&mut rng, dsa::KeySize::DSA_2048_256);
    let Ok(key) = dsa::SigningKey::try_generate_from_rng_with_components(&mut rng, components);
    let vk = key.verifying_key();
    let c = vk.components();
    let body = der::seq(&[
        &der::uint(&[]),
        &der::uint(&c.p().to_be_bytes()),
        &der::uint(&c.q().to_be_bytes()),
        &der::uint(&c.g().to_be_bytes()),
        &der::uint(&vk.y().to_be_bytes()),
        &der::uint(&key.x().to_be_bytes()),
    ]);
    pem_encode("DSA PRIVATE KEY", &body)
}

// ---- certificates -----------------------------------------------------------------------------

/// Sprig's `certificate` struct: `.Cert` and `.Key`, PEM text.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub cert: String,
    pub key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(self.cert.as_str())),
            "Key" => Some(Value::str(self.key.as_str())),
            _ => None,
        }
    }

    fn to_value(&self) -> Value {
        Value::map(Map::from([
            ("Cert".to_string(), Value::str(self.cert.as_str())),
            ("Key".to_string(), Value::str(self.key.as_str())),
        ]))
    }
}

/// A `sprig.certificate` argument, or Go's argument-type error.
fn certificate_arg(v: &Value) -> Result<Certificate, FuncError> {
    match v {
        Value::Object(o) if o.type_name() == "sprig.certificate" => {
            let get = |f: &str| {
                o.field(f)
                    .and_then(|x| x.as_str().map(str::to_string))
                    .unwrap_or_default()
            };
            Ok(Certificate {
                cert: get("Cert"),
                key: get("Key"),
            })
        }
        Value::Nil => Err(FuncError::msg("cannot assign nil to sprig.certificate")),
        other => Err(FuncError::msg(format!(
            "wrong type for value; expected sprig.certificate; got {}",
            other.type_name()
        ))),
    }
}

/// The parts of a parsed certificate a signer needs.
struct ParsedCert {
    raw_subject: Vec<u8>,
    spki: Vec<u8>,
    subject_key_id: Option<Vec<u8>>,
}

/// The structure of Go's `x509.ParseCertificate`, checked loosely: its errors are Go's
/// generic ones.
fn parse_certificate(bytes: &[u8]) -> Result<ParsedCert, String> {
    let malformed = || "x509: malformed certificate".to_string();
    let cert = der::single(bytes, der::SEQUENCE).ok_or_else(malformed)?;
    let mut r = der::Reader::new(cert.content);
    let tbs = r.take(der::SEQUENCE).ok_or_else(malformed)?;
    r.take(der::SEQUENCE)
        .ok_or("x509: malformed signature algorithm identifier")?;
    r.take(der::BIT_STRING).ok_or("x509: malformed signature")?;
    let mut t = der::Reader::new(tbs.content);
    t.take(0xa0);
    t.take(der::INTEGER)
        .ok_or("x509: malformed serial number")?;
    t.take(der::SEQUENCE)
        .ok_or("x509: malformed signature algorithm identifier")?;
    t.take(der::SEQUENCE).ok_or("x509: malformed issuer")?;
    t.take(der::SEQUENCE).ok_or("x509: malformed validity")?;
    let subject = t.take(der::SEQUENCE).ok_or("x509: malformed subject")?;
    let spki = t.take(der::SEQUENCE).ok_or("x509: malformed spki")?;
    let mut subject_key_id = None;
    while let Some(e) = t.next() {
        if e.tag != 0xa3 {
            continue;
        }
        let exts = der::single(e.content, der::SEQUENCE).ok_or("x509: malformed extensions")?;
        let mut er = der::Reader::new(exts.content);
        while let Some(ext) = er.next() {
            let mut x = der::Reader::new(ext.content);
            let oid = x
                .take(der::OID)
                .ok_or("x509: malformed extension OID field")?;
            x.take(der::BOOLEAN);
            let value = x
                .take(der::OCTET_STRING)
                .ok_or("x509: malformed extension value field")?;
            if oid.content == der::OID_SUBJECT_KEY_ID {
                let id = der::single(value.content, der::OCTET_STRING)
                    .ok_or("x509: invalid subject key identifier")?;
                subject_key_id = Some(id.content.to_vec());
            }
        }
    }
    Ok(ParsedCert {
        raw_subject: subject.raw.to_vec(),
        spki: spki.raw.to_vec(),
        subject_key_id,
    })
}

/// Sprig's `getBaseCertTemplate` plus what Go's `x509.CreateCertificate` derives.
struct Template {
    subject: Vec<u8>,
    ips: Vec<Vec<u8>>,
    dns: Vec<String>,
    not_before: i64,
    not_after: i64,
    is_ca: bool,
}

/// Go's `encoding/asn1` string choice: PrintableString when every character allows it (no
/// `*` or `&`), UTF8String otherwise.
fn asn1_string(s: &str) -> Vec<u8> {
    let printable = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
    der::tlv(
        if printable {
            der::PRINTABLE_STRING
        } else {
            der::UTF8_STRING
        },
        s.as_bytes(),
    )
}

/// `pkix.Name{CommonName: cn}` as an RDN sequence (empty when `cn` is).
fn name_der(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return der::seq(&[]);
    }
    let atv = der::seq(&[&der::oid(der::OID_CN), &asn1_string(cn)]);
    der::seq(&[&der::cons(der::SET, &[&atv])])
}

/// Go's `net.ParseIP` then `To4` when it is an IPv4 (or IPv4-mapped) address.
fn parse_ip(s: &str) -> Option<Vec<u8>> {
    match s.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => Some(v4.octets().to_vec()),
        std::net::IpAddr::V6(v6) => Some(match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().to_vec(),
        }),
    }
}

fn base_template(
    c: &mut FuncCtx<'_>,
    cn: &str,
    ips: &[Value],
    dns: &[Value],
    days: i64,
) -> Result<(Template, Vec<u8>), FuncError> {
    let mut ip_bytes = Vec::with_capacity(ips.len());
    for ip in ips {
        let Value::String(text) = ip else {
            return Err(FuncError::msg(format!(
                "error parsing ip: {} is not a string",
                crate::fmt::format_v(ip)
            )));
        };
        ip_bytes.push(
            parse_ip(text).ok_or_else(|| FuncError::msg(format!("error parsing ip: {text}")))?,
        );
    }
    let mut names = Vec::with_capacity(dns.len());
    for d in dns {
        let Value::String(text) = d else {
            return Err(FuncError::msg(format!(
                "error processing alternate dns name: {} is not a string",
                crate::fmt::format_v(d)
            )));
        };
        names.push(text.to_string());
    }
    // A random serial below 2^128.
    let mut serial = [0u8; 16];
    c.env.fill_random(&mut serial);
    // `time.Hour * 24 * time.Duration(daysValid)` wraps like Go's int64 arithmetic.
    let validity_nanos = 86_400_000_000_000i64.wrapping_mul(days);
    let now = c.env.now_unix;
    let not_after = now
        .saturating_add(validity_nanos.div_euclid(1_000_000_000))
        .saturating_add(
            (i64::from(c.env.now_nanos.min(999_999_999))
                + validity_nanos.rem_euclid(1_000_000_000))
                / 1_000_000_000,
        );
    Ok((
        Template {
            subject: name_der(cn),
            ips: ip_bytes,
            dns: names,
            not_before: now,
            not_after,
            is_ca: false,
        },
        serial.to_vec(),
    ))
}

/// Days since 1970-01-01 to a civil date.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Go's X.509 time: UTCTime for 1950..2049, GeneralizedTime otherwise.
fn x509_time(secs: i64) -> Result<Vec<u8>, String> {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let (h, mi, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    if (1950..2050).contains(&y) {
        let text = format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100);
        Ok(der::tlv(der::UTC_TIME, text.as_bytes()))
    } else if (0..=9999).contains(&y) {
        let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z");
        Ok(der::tlv(der::GENERALIZED_TIME, text.as_bytes()))
    } else {
        Err("asn1: time did not serialize back to the original value and may be invalid".into())
    }
}

fn extension(oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let crit = if critical {
        der::tlv(der::BOOLEAN, &[0xff])
    } else {
        Vec::new()
    };
    der::seq(&[&der::oid(oid), &crit, &der::tlv(der::OCTET_STRING, value)])
}

/// Go's `x509.CreateCertificate(rand, template, parent, pub, priv)` for Sprig's templates:
/// `parent` is `None` for a self-signed certificate. Returns the DER.
fn create_certificate(
    env: &mut Env,
    template: &Template,
    serial: &[u8],
    subject_key: &Key,
    parent: Option<&ParsedCert>,
    signer: &Key,
) -> Result<Vec<u8>, String> {
    if matches!(signer, Key::Dsa) {
        return Err("x509: certificate private key does not implement crypto.Signer".into());
    }
    let spki = subject_key.spki()?;
    if let Some(p) = parent
        && p.spki != signer.spki()?
    {
        return Err("x509: provided PrivateKey doesn't match parent's PublicKey".into());
    }
    let issuer = parent.map_or(template.subject.clone(), |p| p.raw_subject.clone());
    let sig_alg = signer.signature_algorithm();

    let mut exts: Vec<Vec<u8>> = Vec::new();
    // Key usage: digitalSignature | keyEncipherment (| certSign for a CA).
    let ku: &[u8] = if template.is_ca {
        &[0x03, 0x02, 0x02, 0xa4]
    } else {
        &[0x03, 0x02, 0x05, 0xa0]
    };
    exts.push(extension(der::OID_KEY_USAGE, true, ku));
    exts.push(extension(
        der::OID_EXT_KEY_USAGE,
        false,
        &der::seq(&[
            &der::oid(der::OID_SERVER_AUTH),
            &der::oid(der::OID_CLIENT_AUTH),
        ]),
    ));
    let bc = if template.is_ca {
        der::seq(&[&der::tlv(der::BOOLEAN, &[0xff])])
    } else {
        der::seq(&[])
    };
    exts.push(extension(der::OID_BASIC_CONSTRAINTS, true, &bc));
    if template.is_ca {
        // Go 1.25: the first 160 bits of SHA-256 over the public key bits.
        let mut r =
            der::Reader::new(der::single(&spki, der::SEQUENCE).map_or(&[][..], |e| e.content));
        r.take(der::SEQUENCE);
        let key_bits = r
            .take(der::BIT_STRING)
            .and_then(|e| e.content.get(1..))
            .unwrap_or(&[]);
        let digest = Sha256::digest(key_bits);
        let id = digest.get(..20).unwrap_or(&[]);
        exts.push(extension(
            der::OID_SUBJECT_KEY_ID,
            false,
            &der::tlv(der::OCTET_STRING, id),
        ));
    }
    if issuer != template.subject
        && let Some(id) = parent.and_then(|p| p.subject_key_id.as_ref())
        && !id.is_empty()
    {
        exts.push(extension(
            der::OID_AUTHORITY_KEY_ID,
            false,
            &der::seq(&[&der::tlv(0x80, id)]),
        ));
    }
    if !template.dns.is_empty() || !template.ips.is_empty() {
        let mut names: Vec<Vec<u8>> = Vec::new();
        for d in &template.dns {
            if !d.is_ascii() {
                return Err(format!(
                    "x509: {} cannot be encoded as an IA5String",
                    crate::fmt::go_quote(d)
                ));
            }
            names.push(der::tlv(0x82, d.as_bytes()));
        }
        for ip in &template.ips {
            names.push(der::tlv(0x87, ip));
        }
        let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        let empty_subject = template.subject == der::seq(&[]);
        exts.push(extension(der::OID_SAN, empty_subject, &der::seq(&refs)));
    }
    let ext_refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
    let tbs = der::seq(&[
        &der::cons(0xa0, &[&der::uint(&[2])]),
        &der::uint(serial),
        &sig_alg,
        &issuer,
        &der::seq(&[
            &x509_time(template.not_before)?,
            &x509_time(template.not_after)?,
        ]),
        &template.subject,
        &spki,
        &der::cons(0xa3, &[&der::seq(&ext_refs)]),
    ]);
    let signature = signer.sign(env, &tbs)?;
    Ok(der::seq(&[&tbs, &sig_alg, &der::bits(&signature)]))
}

/// Sprig's `getCertAndKey`: the certificate and the subject's key, PEM.
fn cert_and_key(
    env: &mut Env,
    template: &Template,
    serial: &[u8],
    subject_key: &Key,
    parent: Option<&ParsedCert>,
    signer: &Key,
) -> FuncResult {
    let der = create_certificate(env, template, serial, subject_key, parent, signer)
        .map_err(|e| FuncError::msg(format!("error creating certificate: {e}")))?;
    let key = subject_key
        .to_pem()
        .map_err(|e| FuncError::msg(format!("error pem-encoding key: {e}")))?;
    Ok(Value::Object(Arc::new(Certificate {
        cert: pem_encode("CERTIFICATE", &der),
        key,
    })))
}

fn int_arg(a: &[Value], i: usize) -> i64 {
    match a.get(i) {
        Some(Value::Int(n) | Value::Int64(n)) => *n,
        _ => 0,
    }
}

fn list_arg(a: &[Value], i: usize) -> &[Value] {
    a.get(i).and_then(Value::as_list).unwrap_or(&[])
}

fn rsa_2048(c: &mut FuncCtx<'_>) -> Result<Key, FuncError> {
    Key::generate_rsa(c.env, 2048)
        .map_err(|e| FuncError::msg(format!("error generating rsa key: {e}")))
}

fn pem_key_arg(a: &[Value], i: usize) -> Result<Key, FuncError> {
    parse_private_key_pem(s(a, i)).map_err(|e| FuncError::msg(format!("parsing private key: {e}")))
}

/// `genCA CN DAYS` and `genCAWithKey CN DAYS KEY`.
fn gen_ca(c: &mut FuncCtx<'_>, a: &[Value], key: Key) -> FuncResult {
    let (mut t, serial) = base_template(c, s(a, 0), &[], &[], int_arg(a, 1))?;
    t.is_ca = true;
    cert_and_key(c.env, &t, &serial, &key, None, &key)
}

/// `genSelfSignedCert CN IPS DNS DAYS` and its `WithKey` form.
fn gen_self_signed(c: &mut FuncCtx<'_>, a: &[Value], key: Key) -> FuncResult {
    let (t, serial) = base_template(c, s(a, 0), list_arg(a, 1), list_arg(a, 2), int_arg(a, 3))?;
    cert_and_key(c.env, &t, &serial, &key, None, &key)
}

/// `genSignedCert CN IPS DNS DAYS CA` and its `WithKey` form.
fn gen_signed(c: &mut FuncCtx<'_>, a: &[Value], ca: &Certificate, key: Key) -> FuncResult {
    let block =
        pem_decode(&ca.cert).ok_or_else(|| FuncError::msg("unable to decode certificate"))?;
    let parent = parse_certificate(&block.1).map_err(|e| {
        FuncError::msg(format!(
            "error parsing certificate: decodedSignerCert.Bytes: {e}"
        ))
    })?;
    let signer = parse_private_key_pem(&ca.key)
        .map_err(|e| FuncError::msg(format!("error parsing private key: {e}")))?;
    let (t, serial) = base_template(c, s(a, 0), list_arg(a, 1), list_arg(a, 2), int_arg(a, 3))?;
    cert_and_key(c.env, &t, &serial, &key, Some(&parent), &signer)
}

/// Sprig's `buildCustomCert B64CERT B64KEY`.
fn build_custom_cert(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let cert = super::encoding::decode_base64(s(a, 0))
        .map_err(|_| FuncError::msg("unable to decode base64 certificate"))?;
    let key = super::encoding::decode_base64(s(a, 1))
        .map_err(|_| FuncError::msg("unable to decode base64 private key"))?;
    let cert_text = String::from_utf8_lossy(&cert).into_owned();
    let key_text = String::from_utf8_lossy(&key).into_owned();
    let block =
        pem_decode(&cert_text).ok_or_else(|| FuncError::msg("unable to decode certificate"))?;
    parse_certificate(&block.1).map_err(|e| {
        FuncError::msg(format!("error parsing certificate: decodedCert.Bytes: {e}"))
    })?;
    parse_private_key_pem(&key_text)
        .map_err(|e| FuncError::msg(format!("error parsing private key: {e}")))?;
    Ok(Value::Object(Arc::new(Certificate {
        cert: cert_text,
        key: key_text,
    })))
}

// ---- AES, bcrypt, DNS -------------------------------------------------------------------------

fn aes_key(password: &str) -> Result<aes::Aes256, FuncError> {
    use aes::cipher::KeyInit;
    let mut key = [0u8; 32];
    for (k, p) in key.iter_mut().zip(password.bytes()) {
        *k = p;
    }
    aes::Aes256::new_from_slice(&key).map_err(|e| FuncError::msg(e.to_string()))
}

/// Sprig's `encryptAES PASSWORD TEXT`: AES-256-CBC, the password zero-padded or cut to 32
/// bytes as the key, a random IV first, PKCS#7 padding, base64.
fn encrypt_aes(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    use aes::cipher::BlockCipherEncrypt;
    let text = s(a, 1).as_bytes();
    if text.is_empty() {
        return Ok(Value::str(""));
    }
    c.check_len(
        "encryptAES",
        text.len().saturating_add(32).saturating_mul(4) / 3,
    )?;
    let cipher = aes_key(s(a, 0))?;
    let pad = 16 - text.len() % 16;
    let mut content = Vec::with_capacity(text.len() + pad + 16);
    let mut iv = [0u8; 16];
    c.env.fill_random(&mut iv);
    content.extend_from_slice(&iv);
    content.extend_from_slice(text);
    content.resize(16 + text.len() + pad, pad as u8);
    let mut prev = iv;
    for chunk in content.get_mut(16..).unwrap_or(&mut []).chunks_mut(16) {
        let mut block = [0u8; 16];
        for ((b, x), p) in block.iter_mut().zip(chunk.iter()).zip(prev.iter()) {
            *b = x ^ p;
        }
        let mut blk = aes::Block::from(block);
        cipher.encrypt_block(&mut blk);
        chunk.copy_from_slice(&blk);
        prev.copy_from_slice(chunk);
    }
    Ok(Value::str(base64_std(&content)))
}

/// Sprig's `decryptAES PASSWORD BASE64`, with Go's runtime errors for malformed input.
fn decrypt_aes(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    use aes::cipher::BlockCipherDecrypt;
    let input = s(a, 1);
    if input.is_empty() {
        return Ok(Value::str(""));
    }
    let cipher = aes_key(s(a, 0))?;
    let crypt = super::encoding::decode_base64(input).map_err(FuncError::msg)?;
    let (Some(iv), Some(body)) = (crypt.get(..16), crypt.get(16..)) else {
        return Err(FuncError::msg(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            crypt.len()
        )));
    };
    if body.len() % 16 != 0 {
        return Err(FuncError::msg("crypto/cipher: input not full blocks"));
    }
    let mut out = Vec::with_capacity(body.len());
    let mut prev: &[u8] = iv;
    for chunk in body.chunks(16) {
        let mut block = [0u8; 16];
        block.copy_from_slice(chunk);
        let mut blk = aes::Block::from(block);
        cipher.decrypt_block(&mut blk);
        out.extend(blk.iter().zip(prev.iter()).map(|(x, p)| x ^ p));
        prev = chunk;
    }
    let Some(&last) = out.last() else {
        return Err(FuncError::msg("runtime error: index out of range [-1]"));
    };
    let keep = out.len() as i64 - i64::from(last);
    if keep < 0 {
        return Err(FuncError::msg(format!(
            "runtime error: slice bounds out of range [:{keep}]"
        )));
    }
    out.truncate(keep as usize);
    Ok(Value::str(go_string_from_bytes(&out)))
}

/// A Go string of arbitrary bytes: invalid UTF-8 becomes U+FFFD, as Go prints it.
fn go_string_from_bytes(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Sprig's `bcrypt`: cost 10, `$2a$`, a random salt.
fn bcrypt_hash(env: &mut Env, text: &str) -> String {
    if text.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .into();
    }
    let mut salt = [0u8; 16];
    env.fill_random(&mut salt);
    match bcrypt::hash_with_salt(text.as_bytes(), 10, salt) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

fn bcrypt_fn(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    Ok(Value::str(bcrypt_hash(c.env, s(a, 0))))
}

/// Sprig's `htpasswd USER PASSWORD`.
fn htpasswd(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let user = s(a, 0);
    if user.contains(':') {
        return Ok(Value::str(format!("invalid username: {user}")));
    }
    Ok(Value::str(format!(
        "{user}:{}",
        bcrypt_hash(c.env, s(a, 1))
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::{Limits, Offline};
    use crate::value::MapRef;

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

    // ---- keys, certificates, AES, bcrypt ----

    /// A CA, its RSA key and a DSA key, all made by helm v4.1.4 (`genCA "my-ca" 365`,
    /// `genPrivateKey "dsa"`).
    const HELM_CA: &str = r"-----BEGIN CERTIFICATE-----
MIIDCzCCAfOgAwIBAgIQLKuQEkmSCNISbkEcl7KcJTANBgkqhkiG9w0BAQsFADAQ
MQ4wDAYDVQQDEwVteS1jYTAeFw0yNjExMzAxNzI2MDhaFw0yNzExMzAxNzI2MDha
MBAxDjAMBgNVBAMTBW15LWNhMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKC
AQEA4k8ERGezNYryDZ9EDvMEDkWrPoo9aJccFDDSvWFI94T85PeE9HwUQJ4oNCs6
cP+jNmXjefKHS+9G/b4D4REyRqdPaVKD1/VcMenMDMnqyd1hS2ngWSKxRtNGAKpK
DsWjU3HL1xN+wMt3HdtJAJJy4+NsmhHP2FrqRQmgbplQKj1uO1DkoFnsqiE3TDWj
S3qA3x2NqiJmU/ZytasGHgGbjfFWBbreZFkfZxvVawZy8jEDENsLSeNSkLt0qDUg
p9lTfgxZtNe6m4XXMavbV6/jL6yWoz9D8Zn0LKOg6nbE+27+i/KO+QWMVNjW1YMn
hOMhwRlqYvjiE+wFsulePrgs/wIDAQABo2EwXzAOBgNVHQ8BAf8EBAMCAqQwHQYD
VR0lBBYwFAYIKwYBBQUHAwEGCCsGAQUFBwMCMA8GA1UdEwEB/wQFMAMBAf8wHQYD
VR0OBBYEFCHrnUr/i6UEa7zlI0XQcID39CkAMA0GCSqGSIb3DQEBCwUAA4IBAQBN
m6WqRb9VRUsPzqm2U1v2WS3fj4HAYx/4R48LBEaSORpmisyrQyscYpKEaJPNeca+
MRKhzcuvjMHCnRdlDyyD0K8FrFsbCm/O+J6TKOz3H0X8H0Z7vbnMztnAX++5Y4Ue
ywkvqgvJklslyNd2PxWUVSA9lQK/OxoqmMvUmHnOPLqiqbVbETgRXlZvZLnzp0/A
E2TUduzbWYo5YcaiaCGoHf4DHUy/EAiOg6ZiSClNCvuz+tLyhi4qNoopMSXnJtPW
yGQym2VaPqQS/7eaV2fSmIBvKhXU8wgruAd69pOdXEgSeOosJdRtLfYovpjvIi+/
y3A6tJCgwnvFMSQ522Rb
-----END CERTIFICATE-----
";
    const HELM_CA_KEY: &str = r"-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEA4k8ERGezNYryDZ9EDvMEDkWrPoo9aJccFDDSvWFI94T85PeE
9HwUQJ4oNCs6cP+jNmXjefKHS+9G/b4D4REyRqdPaVKD1/VcMenMDMnqyd1hS2ng
WSKxRtNGAKpKDsWjU3HL1xN+wMt3HdtJAJJy4+NsmhHP2FrqRQmgbplQKj1uO1Dk
oFnsqiE3TDWjS3qA3x2NqiJmU/ZytasGHgGbjfFWBbreZFkfZxvVawZy8jEDENsL
SeNSkLt0qDUgp9lTfgxZtNe6m4XXMavbV6/jL6yWoz9D8Zn0LKOg6nbE+27+i/KO
+QWMVNjW1YMnhOMhwRlqYvjiE+wFsulePrgs/wIDAQABAoIBACmkp6Dcwi3SlQrr
qS7lCfSEXmgCMR2bXMfcWhMOIUqmtpB9eYIxiNqBH93FrJnZeJOMeSjZ94qCC7qq
afVS4ED/DY5QaEFnfWET5//cce9WZM5nO6i7SQrC2slJjJoeRRkYQg2gIT1h01fz
n4HS8QA9O6E4MNpblGtCw7pGTOmQjpS2f663K6nbN1XWCOEWAQtraDMThZmPkfLN
40gT0kQi+6dRWtIhbizkXHXofXUymYj9oNr7xIJg/mpaljjlYB1bpMIOHNGx+shI
5PPYbWXXHgfqCOIQkMqpZ8JkRkEVx3F4ausq1KuPM4k19YQMsIR4m3z3vbfUl5CA
o1Iti70CgYEA/OZUPXU0t4kmIhaj2E18VNbFcKG97Bkl8hF67JlsEkvelwU+Gs09
JEiowdvC3QsSH1Zq7c2dIJPIxK9gShQxGhM4FeKVehT0NKljgTPfQQj86jvTYBLu
UPm9vEitiFWCyBESUp20QD2q8Q2ELkFesxBicWz6A7XT/xeYSswoC0UCgYEA5RU8
wN8GSpm30U9lbqsvQlhM/3vQwhXEkncKC+lUlOGg99K1dhY9Kh8mNnE3elAdDxse
JW7YRsRq5U+PBHYuC715poGl3hLsLwkPGwYTtX6tIPow5Bcw+V6PW8dkEkel6lnO
Nyol5l4wn5T0A+NhsPNIiMeQnd1RWAZlvsiB+XMCgYBsCIib6GGotbHQhhNf51nh
dA3L24wiO2v2SHlWcQO1nSttIBQzptEjmtZcWeCYRI5tTKFJDLi+neL6AmEDxDRl
iyg+URjBmgnoJSQYoWwRgCFqfjwBopSjisv+jp1yy/SeOoy1NiE2ACHx73AzwkEO
BUXIZmE3DImPQykPar8AcQKBgGmupHpt6R8dTznWoPqvKnw29D6gxivjku3m0NGx
8P1GIdZydJhnpgv6lsxi6q8Yqm8/mWa3fjsXfiEP1PC//HoaDTcNdJHAtQj16uwS
n6EJMaGXClsPf95rC0PR9o6gUyCMEaBNZ3KhXVkhhHkOuxDBC2NefY72fQJY4TNk
mOGVAoGAJZ0nAcV/3YHzsEsTaMI2pM11XOFdVh8QiFSoNjBBqTjgklyGIraCXObT
ZRxc3Gi2TkHpv/WLq38c3r3WehVrQ/zsrTt+3fqsSNtDdt1bRJ+oQhZha6ZI7y0k
iwoBd58Gk6SkbrQAftKXaLBh+Nb+oyEQX7cvSKL4Sq5fd/ort+k=
-----END RSA PRIVATE KEY-----
";
    const HELM_DSA_KEY: &str = r"-----BEGIN DSA PRIVATE KEY-----
MIIDVwIBAAKCAQEA5FLR069YCSeGiY3zTjAc0RKyDBU5qnBx68kMai5ia9oIpB8r
MNjepJ1pY10VYt9jPpjlkpd3IFOs9Nu0AkbrPq43uIyOCgMSwzkvNgYIYCVbZnFS
9NvzHN7CmTNtGSZfKZ+S4qI4t1JRGZB6pK2m3Ex77TVCurEboNP2FFHwwrUrB41L
MfW2jdaZVbPrmeOkIo5YwKDOOSHCMIRiFlYXmL2cbzMRh2ufUmXn2cJkDG30mXk2
ewKjTo86OCjJf2G2MTWrm4v8jPb3TxuXLZxb23ht9I16XM9N8QzKVusBO68ZKYRO
Pk1ZyJVdVkqD0bhj/p+hGekiIS7Os3cTfqT9cwIhAO7oD2UXsF/ysh/PwGyW0J1p
rKyW7XfBHjBsyh5X9xV3AoIBABVa5zbvvUqS7adarhw/GGs/wEjX1nw30o9oS1Q5
VYBoi8oXY1KoFSrURmkQ2H8nX9YicTvdsgKWk0eA8XK5XndaW/2LRdTKRwqJvRmM
Qxsf5MFlx9gKsdVrThG8Nxc+NJQ/qeCmIpBCzeeBRrVH9TjUaH9wEBIzQ6x89H3r
vft3xDvQriOObplYFmFe+d5J0k+I5dJ+A9tk/sUKuHoNNfA9X46nk8COqTugH89u
swSdiRf15h2LYV+j6IrplYaq2nfH59APSWBr5W0KUwipsjXjdaEMpRVdfmmRf9AS
g9f7ufXhorwDl5FH7wOX/JLsKYp5Wnm52QALu5D3gcdwhLICggEBAIXmp03QnfJW
/SE/BxU8kEDYSImNPh6ooIpocMOTFMxJHQnzw3u+EIf0rK+crCrFDtxjPHpcDbB1
Y8/kGxD89aJWbRm9GTv3U/N1x80yjZYvQOvWKGtWfGZfnkI1bHN/7s06v1d+yxdH
wtaiKkcRhzMF5yhERn7nzxYaEaKd/lgZUWhNaCQ/JD8GHJeAwrr+1pLFeUwvTbAs
xIBjRVk48NbdMxfRw5uGDjbgJybmFvImJJ3ZedhV2g3AYWjF4D2qSRspno4YDUED
BdClHiGTJL9u7+aY88d3eWdEebQL3VYS3A34v+74WRmelQu2Di3QQrOHIixcXUwp
xm/iwUQnIp8CIQDssvVukF4cuo0y4833cwJYuf1Q/MF5XmMrJSEeFImsdA==
-----END DSA PRIVATE KEY-----
";

    fn with_ctx<T>(now: i64, f: impl FnOnce(&mut FuncCtx<'_>) -> T) -> T {
        let mut env = Env::fixed(now, 42);
        let limits = Limits::default();
        let mut host = Offline;
        let mut ctx = FuncCtx {
            env: &mut env,
            limits: &limits,
            host: &mut host,
        };
        f(&mut ctx)
    }

    fn call(name: &str, now: i64, args: &[Value]) -> FuncResult {
        let mut m = FuncMap::empty();
        register(&mut m);
        let def = m.get(name).copied();
        with_ctx(now, |c| match def {
            Some(d) => (d.f)(c, args),
            None => Err(FuncError::msg("no such function")),
        })
    }

    fn text(r: FuncResult) -> String {
        match r {
            Ok(v) => v.as_str().unwrap_or("<not a string>").to_string(),
            Err(e) => format!("ERR {e}"),
        }
    }

    fn cert_of(r: FuncResult) -> Certificate {
        match r {
            Ok(v) => certificate_arg(&v).unwrap_or_else(|e| panic!("{e}")),
            Err(e) => panic!("{e}"),
        }
    }

    fn cert_value(c: &Certificate) -> Value {
        Value::Object(Arc::new(c.clone()))
    }

    fn strs(items: &[&str]) -> Value {
        Value::list(items.iter().map(|s| Value::str(*s)).collect())
    }

    fn pem_der(text: &str, kind: &str) -> Vec<u8> {
        let (k, der) = pem_decode(text).unwrap_or_default();
        assert_eq!(k, kind);
        der
    }

    /// (tbs, signature) of a certificate.
    fn tbs_and_sig(der_bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let cert = der::single(der_bytes, der::SEQUENCE)
            .map(|e| e.content)
            .unwrap_or(&[]);
        let mut r = der::Reader::new(cert);
        let tbs = r.next().map(|e| e.raw.to_vec()).unwrap_or_default();
        r.next();
        let sig = r
            .take(der::BIT_STRING)
            .and_then(|e| e.content.get(1..))
            .unwrap_or(&[])
            .to_vec();
        (tbs, sig)
    }

    fn verify_rsa(signer_key_pem: &str, cert_der: &[u8]) {
        let Ok(Key::Rsa(k)) = parse_private_key_pem(signer_key_pem) else {
            panic!("not an RSA key");
        };
        let (tbs, sig) = tbs_and_sig(cert_der);
        let digest = Sha256::digest(&tbs);
        assert!(
            k.as_public_key()
                .verify(rsa::pkcs1v15::Pkcs1v15Sign::new::<Sha256>(), &digest, &sig)
                .is_ok()
        );
    }

    const NOW: i64 = 1_795_000_000; // 2026-11-18T08:26:40Z

    #[test]
    fn pem_round_trip_and_garbage() {
        let p = pem_encode("X", &[1u8; 100]);
        assert!(p.starts_with("-----BEGIN X-----\nAQEB"));
        assert_eq!(p.lines().nth(1).map(str::len), Some(64));
        assert_eq!(
            pem_decode(&format!("junk\n{p}trailer")),
            Some(("X".into(), vec![1u8; 100]))
        );
        assert_eq!(pem_decode("junk"), None);
        assert_eq!(pem_decode("-----BEGIN X-----\n!!\n-----END X-----\n"), None);
    }

    #[test]
    fn private_key_errors_like_sprig() {
        // From helm v4.1.4 (`genCAWithKey "x" 1 KEY`).
        let pem = |kind: &str| format!("-----BEGIN {kind}-----\nAAAA\n-----END {kind}-----\n");
        let cases: &[(String, &str)] = &[
            ("junk".into(), "no PEM data in input"),
            (pem("FOO"), "no private key data in PEM block of type FOO"),
            (
                pem("X PRIVATE KEY"),
                "invalid private key type X PRIVATE KEY",
            ),
            (
                pem("PRIVATE KEY"),
                "decoding PEM as PKCS#8: asn1: structure error: tags don't match (16 vs {class:0 tag:0 length:0 isCompound:false}) {optional:false explicit:false application:false private:false defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false omitEmpty:false} pkcs8 @2",
            ),
            (
                pem("RSA PRIVATE KEY"),
                "parsing RSA private key from PEM: asn1: structure error: tags don't match (16 vs {class:0 tag:0 length:0 isCompound:false}) {optional:false explicit:false application:false private:false defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false omitEmpty:false} pkcs1PrivateKey @2",
            ),
            (
                pem("EC PRIVATE KEY"),
                "parsing EC private key from PEM: x509: failed to parse EC private key: asn1: structure error: tags don't match (16 vs {class:0 tag:0 length:0 isCompound:false}) {optional:false explicit:false application:false private:false defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false omitEmpty:false} ecPrivateKey @2",
            ),
            (
                pem("DSA PRIVATE KEY"),
                "parsing DSA private key from PEM: asn1: structure error: tags don't match (16 vs {class:0 tag:0 length:0 isCompound:false}) {optional:false explicit:false application:false private:false defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false omitEmpty:false} DSAKeyFormat @2",
            ),
        ];
        for (key, want) in cases {
            let got = call(
                "genCAWithKey",
                NOW,
                &[Value::str("x"), Value::Int(1), Value::str(key.as_str())],
            );
            assert_eq!(
                text(got),
                format!("ERR parsing private key: {want}"),
                "{key}"
            );
        }
        // From helm v4.1.4: a DSA key parses but cannot sign.
        let got = call(
            "genCAWithKey",
            NOW,
            &[Value::str("x"), Value::Int(1), Value::str(HELM_DSA_KEY)],
        );
        assert_eq!(
            text(got),
            "ERR error creating certificate: x509: certificate private key does not implement crypto.Signer"
        );
    }

    #[test]
    fn ca_with_helm_key_is_what_go_writes() {
        let ca = cert_of(call(
            "genCAWithKey",
            NOW,
            &[
                Value::str("my-ca"),
                Value::Int(365),
                Value::str(HELM_CA_KEY),
            ],
        ));
        // Go re-encodes the key: PKCS#1, byte for byte what helm printed.
        assert_eq!(ca.key, HELM_CA_KEY);
        let der_bytes = pem_der(&ca.cert, "CERTIFICATE");
        let (_, x) =
            x509_parser::parse_x509_certificate(&der_bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(x.subject().to_string(), "CN=my-ca");
        assert_eq!(x.issuer().to_string(), "CN=my-ca");
        assert_eq!(x.validity().not_before.timestamp(), NOW);
        assert_eq!(x.validity().not_after.timestamp(), NOW + 365 * 86_400);
        assert!(x.is_ca());
        let ku = x.key_usage().ok().flatten().map(|k| k.value.flags);
        assert_eq!(ku, Some(0b10_0101));
        // Same public key and subject key id as the helm-made CA of that key.
        let helm = pem_der(HELM_CA, "CERTIFICATE");
        let (_, h) = x509_parser::parse_x509_certificate(&helm).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(x.public_key().raw, h.public_key().raw);
        let skid = |c: &x509_parser::certificate::X509Certificate<'_>| {
            parse_certificate(c.as_raw())
                .ok()
                .and_then(|p| p.subject_key_id)
        };
        assert!(skid(&x).is_some());
        assert_eq!(skid(&x), skid(&h));
        // Same layout as helm's certificate, apart from the serial, times and signature.
        let layout = |d: &[u8]| {
            let (tbs, _) = tbs_and_sig(d);
            let mut r = der::Reader::new(
                der::single(&tbs, der::SEQUENCE)
                    .map(|e| e.content)
                    .unwrap_or(&[]),
            );
            let mut parts = Vec::new();
            while let Some(e) = r.next() {
                parts.push((
                    e.tag,
                    if matches!(e.tag, der::INTEGER | 0x30) && e.content.len() == 13 {
                        Vec::new()
                    } else {
                        e.content.to_vec()
                    },
                ));
            }
            parts.remove(1);
            parts.remove(3);
            parts
        };
        assert_eq!(layout(&der_bytes), layout(&helm));
        verify_rsa(HELM_CA_KEY, &der_bytes);
    }

    #[test]
    fn signed_certs_verify_against_their_ca() {
        // A CA made by helm, through buildCustomCert, signs an Ed25519 key's certificate.
        let ca = cert_of(call(
            "buildCustomCert",
            NOW,
            &[
                Value::str(base64_std(HELM_CA.as_bytes())),
                Value::str(base64_std(HELM_CA_KEY.as_bytes())),
            ],
        ));
        assert_eq!(ca.cert, HELM_CA);
        let ed_key = text(call("genPrivateKey", NOW, &[Value::str("ed25519")]));
        assert!(ed_key.starts_with("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"));
        let leaf = cert_of(call(
            "genSignedCertWithKey",
            NOW,
            &[
                Value::str("srv"),
                strs(&["10.0.0.1", "::1", "::ffff:1.2.3.4"]),
                strs(&["a.example", "b.example"]),
                Value::Int(30),
                cert_value(&ca),
                Value::str(ed_key.as_str()),
            ],
        ));
        assert_eq!(leaf.key, ed_key);
        let der_bytes = pem_der(&leaf.cert, "CERTIFICATE");
        verify_rsa(HELM_CA_KEY, &der_bytes);
        let (_, x) =
            x509_parser::parse_x509_certificate(&der_bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(x.subject().to_string(), "CN=srv");
        assert_eq!(x.issuer().to_string(), "CN=my-ca");
        assert!(!x.is_ca());
        assert_eq!(x.validity().not_after.timestamp(), NOW + 30 * 86_400);
        let san = x
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|s| format!("{:?}", s.value.general_names));
        assert_eq!(
            san.as_deref(),
            Some(
                "[DNSName(\"a.example\"), DNSName(\"b.example\"), IPAddress([10, 0, 0, 1]), IPAddress([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), IPAddress([1, 2, 3, 4])]"
            )
        );
        let eku = x
            .extended_key_usage()
            .ok()
            .flatten()
            .map(|e| (e.value.server_auth, e.value.client_auth));
        assert_eq!(eku, Some((true, true)));
        let akid = parse_certificate(&pem_der(HELM_CA, "CERTIFICATE"))
            .ok()
            .and_then(|p| p.subject_key_id);
        let got_akid = x
            .iter_extensions()
            .find(|e| e.oid.to_id_string() == "2.5.29.35")
            .map(|e| e.value.get(4..).unwrap_or(&[]).to_vec());
        assert_eq!(got_akid, akid);

        // An ECDSA CA signs a certificate whose key is generated (ECDSA signature checked).
        let ec_key = text(call("genPrivateKey", NOW, &[Value::str("ecdsa")]));
        assert!(ec_key.starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
        let ec_ca = cert_of(call(
            "genCAWithKey",
            NOW,
            &[Value::str(""), Value::Int(1), Value::str(ec_key.as_str())],
        ));
        let ec_leaf = cert_of(call(
            "genSignedCertWithKey",
            NOW,
            &[
                Value::str("q"),
                Value::list(vec![]),
                strs(&["q"]),
                Value::Int(1),
                cert_value(&ec_ca),
                Value::str(ed_key.as_str()),
            ],
        ));
        let (tbs, sig) = tbs_and_sig(&pem_der(&ec_leaf.cert, "CERTIFICATE"));
        let Ok(Key::Ec(k)) = parse_private_key_pem(&ec_key) else {
            panic!("not an EC key")
        };
        use p256::ecdsa::signature::Verifier;
        let vk = p256::ecdsa::VerifyingKey::from(p256::ecdsa::SigningKey::from(&k));
        let sig = p256::ecdsa::Signature::from_der(&sig).unwrap_or_else(|e| panic!("{e}"));
        assert!(vk.verify(&tbs, &sig).is_ok());
        // Empty subject: the SAN extension is critical (Go's rule).
        let ec_ca_der = pem_der(&ec_ca.cert, "CERTIFICATE");
        let (_, x) =
            x509_parser::parse_x509_certificate(&ec_ca_der).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(x.subject().to_string(), "");
        // The wrong key for a CA is refused as Go refuses it.
        let wrong = CertificateBuilder::mixed(&ca, &ec_ca);
        let got = call(
            "genSignedCertWithKey",
            NOW,
            &[
                Value::str("q"),
                Value::Nil,
                Value::Nil,
                Value::Int(1),
                cert_value(&wrong),
                Value::str(ed_key.as_str()),
            ],
        );
        assert_eq!(
            text(got),
            "ERR error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey"
        );
    }

    struct CertificateBuilder;

    impl CertificateBuilder {
        /// The certificate of `a` with the key of `b`.
        fn mixed(a: &Certificate, b: &Certificate) -> Certificate {
            Certificate {
                cert: a.cert.clone(),
                key: b.key.clone(),
            }
        }
    }

    #[test]
    fn generated_rsa_certificates() {
        // RSA 2048 keys generated here (slow in debug builds: one CA and one leaf).
        let ca = cert_of(call("genCA", NOW, &[Value::str("gen-ca"), Value::Int(10)]));
        assert!(ca.key.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        let der_bytes = pem_der(&ca.cert, "CERTIFICATE");
        verify_rsa(&ca.key, &der_bytes);
        let leaf = cert_of(call(
            "genSignedCert",
            NOW,
            &[
                Value::str("leaf"),
                Value::Nil,
                strs(&["x"]),
                Value::Int(1),
                cert_value(&ca),
            ],
        ));
        verify_rsa(&ca.key, &pem_der(&leaf.cert, "CERTIFICATE"));
        let Ok(Key::Rsa(k)) = parse_private_key_pem(&leaf.key) else {
            panic!("not an RSA key")
        };
        use rsa::traits::PublicKeyParts;
        assert_eq!(k.as_public_key().n_bytes().len(), 256);
    }

    #[test]
    fn certificate_errors_like_sprig() {
        // From helm v4.1.4.
        let self_signed = |ips: Value, dns: Value, days: i64| {
            text(call(
                "genSelfSignedCertWithKey",
                NOW,
                &[
                    Value::str("x"),
                    ips,
                    dns,
                    Value::Int(days),
                    Value::str(HELM_CA_KEY),
                ],
            ))
        };
        let cases: &[(Value, Value, &str)] = &[
            (
                Value::list(vec![Value::Int(1)]),
                Value::Nil,
                "ERR error parsing ip: 1 is not a string",
            ),
            (strs(&["1.2.3"]), Value::Nil, "ERR error parsing ip: 1.2.3"),
            (
                strs(&["fe80::1%eth0"]),
                Value::Nil,
                "ERR error parsing ip: fe80::1%eth0",
            ),
            (
                strs(&["01.2.3.4"]),
                Value::Nil,
                "ERR error parsing ip: 01.2.3.4",
            ),
            (
                Value::Nil,
                Value::list(vec![Value::Int(1)]),
                "ERR error processing alternate dns name: 1 is not a string",
            ),
        ];
        for (ips, dns, want) in cases {
            assert_eq!(self_signed(ips.clone(), dns.clone(), 1), *want);
        }
        let b64 = |s: &str| Value::str(base64_std(s.as_bytes()));
        let custom: &[(Value, Value, &str)] = &[
            (
                Value::str("!"),
                Value::str(""),
                "ERR unable to decode base64 certificate",
            ),
            (
                Value::str(""),
                Value::str("!"),
                "ERR unable to decode base64 private key",
            ),
            (
                Value::str(""),
                Value::str(""),
                "ERR unable to decode certificate",
            ),
            (
                b64("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                Value::str(""),
                "ERR error parsing certificate: decodedCert.Bytes: x509: malformed certificate",
            ),
            (
                b64(HELM_CA),
                Value::str(""),
                "ERR error parsing private key: no PEM data in input",
            ),
        ];
        for (c, k, want) in custom {
            assert_eq!(
                text(call("buildCustomCert", NOW, &[c.clone(), k.clone()])),
                *want
            );
        }
        let signed = |ca: Value| {
            text(call(
                "genSignedCertWithKey",
                NOW,
                &[
                    Value::str("x"),
                    Value::Nil,
                    Value::Nil,
                    Value::Int(1),
                    ca,
                    Value::str(HELM_CA_KEY),
                ],
            ))
        };
        assert_eq!(
            signed(Value::Nil),
            "ERR cannot assign nil to sprig.certificate"
        );
        assert_eq!(
            signed(Value::map(Map::new())),
            "ERR wrong type for value; expected sprig.certificate; got map[string]interface {}"
        );
    }

    #[test]
    fn certificate_fields_and_times() {
        let ca = cert_of(call(
            "genCAWithKey",
            NOW,
            &[
                Value::str("*.a&b"),
                Value::Int(200_000),
                Value::str(HELM_CA_KEY),
            ],
        ));
        let v = cert_value(&ca);
        assert_eq!(v.type_name(), "sprig.certificate");
        assert_eq!(v.kind_name(), "struct");
        let Value::Object(o) = &v else { panic!() };
        assert_eq!(
            o.field("Cert").as_ref().and_then(Value::as_str),
            Some(ca.cert.as_str())
        );
        let m = o.to_value();
        assert_eq!(
            m.as_map().map(MapRef::keys),
            Some(vec!["Cert".to_string(), "Key".to_string()])
        );
        let der_bytes = pem_der(&ca.cert, "CERTIFICATE");
        let (_, x) =
            x509_parser::parse_x509_certificate(&der_bytes).unwrap_or_else(|e| panic!("{e}"));
        // From helm v4.1.4: `*` and `&` make Go write a UTF8String; 200000 days wrap Go's
        // int64 nanoseconds (helm printed a 1989 expiry for a 2026 start).
        assert_eq!(x.subject().to_string(), "CN=*.a&b");
        let wrapped = 86_400_000_000_000i64.wrapping_mul(200_000);
        assert_eq!(
            x.validity().not_after.timestamp(),
            NOW + wrapped.div_euclid(1_000_000_000)
        );
        assert!(x.validity().not_after.timestamp() < NOW);
        assert_eq!(asn1_string("a-b.c")[0], der::PRINTABLE_STRING);
        assert_eq!(asn1_string("a_b")[0], der::UTF8_STRING);
        assert_eq!(asn1_string("é")[0], der::UTF8_STRING);
        assert_eq!(
            x509_time(2_524_608_000).ok().map(|t| t[0]),
            Some(der::GENERALIZED_TIME)
        );
        assert_eq!(
            x509_time(2_524_607_999).ok().map(|t| t[0]),
            Some(der::UTC_TIME)
        );
        assert_eq!(oid_string(der::OID_SHA256_RSA), "1.2.840.113549.1.1.11");
    }

    #[test]
    fn aes_like_sprig() {
        // Ciphertexts made by helm v4.1.4's encryptAES.
        let cases: &[(&str, &str, &str)] = &[
            (
                "secretkey",
                "z4dxuU8d13rwdmgM4GupXJSYwleuL4ydR3dZTJaF8O9YiF0+ghAL2psrUNAkpCZR",
                "hello world, this is plaintext",
            ),
            ("", "R6lKqSKpwivcF4oF2elF8qyKvn5ZHeKTUFyF/Rr5b3g=", "x"),
            (
                "0123456789abcdef0123456789abcdef-toolong",
                "SlGp1D95lLBKt769PJptNwtaRBKBmUjHyuSaHjZhJtg1R/oNwjNc7YiL9wHuqMlH",
                "exactly16bytes!!",
            ),
            ("k", "", ""),
        ];
        for (pw, crypt, plain) in cases {
            assert_eq!(
                text(call(
                    "decryptAES",
                    NOW,
                    &[Value::str(*pw), Value::str(*crypt)]
                )),
                *plain
            );
        }
        // Go's errors (runtime panics recovered by text/template), from helm v4.1.4.
        let errors: &[(&str, &str)] = &[
            ("abc", "illegal base64 data at input byte 0"),
            (
                "QUJD",
                "runtime error: slice bounds out of range [:16] with capacity 3",
            ),
            (
                "QUJDREVGR0hJSktMTU5PUA==",
                "runtime error: index out of range [-1]",
            ),
            (
                "QUJDREVGR0hJSktMTU5PUEFC",
                "crypto/cipher: input not full blocks",
            ),
            (
                "QUJDREVGR0hJSktMTU5PUA",
                "illegal base64 data at input byte 20",
            ),
        ];
        for (crypt, want) in errors {
            assert_eq!(
                text(call(
                    "decryptAES",
                    NOW,
                    &[Value::str("k"), Value::str(*crypt)]
                )),
                format!("ERR {want}")
            );
        }
        let bad_pad = text(call(
            "decryptAES",
            NOW,
            &[
                Value::str("k"),
                Value::str("QUJDREVGR0hJSktMTU5PUEFCQ0RFRkdISUpLTE1OT1A="),
            ],
        ));
        assert!(
            bad_pad.starts_with("ERR runtime error: slice bounds out of range [:-"),
            "{bad_pad}"
        );
        // Round trips, and the shape: IV + padded blocks.
        with_ctx(NOW, |c| {
            for plain in ["x", "exactly16bytes!!", "round trip é"] {
                let enc = encrypt_aes(c, &[Value::str("pw"), Value::str(plain)]);
                let enc = text(enc);
                let raw = super::super::encoding::decode_base64(&enc).unwrap_or_default();
                assert_eq!(raw.len(), 16 + (plain.len() / 16 + 1) * 16);
                let dec = decrypt_aes(c, &[Value::str("pw"), Value::str(enc.as_str())]);
                assert_eq!(text(dec), plain);
            }
            assert_eq!(
                text(encrypt_aes(c, &[Value::str("pw"), Value::str("")])),
                ""
            );
        });
    }

    #[test]
    fn bcrypt_and_htpasswd_like_sprig() {
        let h = text(call("bcrypt", NOW, &[Value::str("password")]));
        assert!(h.starts_with("$2a$10$") && h.len() == 60, "{h}");
        assert_eq!(bcrypt::verify("password", &h).ok(), Some(true));
        // From helm v4.1.4: a hash it made verifies here too.
        assert_eq!(
            bcrypt::verify(
                "password",
                "$2a$10$GOYBF4.lCU98WhdPmfGpTuwoCMUV6if3eDuvDzz7ixFH8xl2sMjpm"
            )
            .ok(),
            Some(true)
        );
        assert_eq!(
            text(call("bcrypt", NOW, &[Value::str("a".repeat(73))])),
            "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
        );
        let ht = text(call(
            "htpasswd",
            NOW,
            &[Value::str("user"), Value::str("pw")],
        ));
        let (user, hash) = ht.split_once(':').unwrap_or_default();
        assert_eq!(user, "user");
        assert_eq!(bcrypt::verify("pw", hash).ok(), Some(true));
        assert_eq!(
            text(call(
                "htpasswd",
                NOW,
                &[Value::str("us:er"), Value::str("pw")]
            )),
            "invalid username: us:er"
        );
    }

    #[test]
    fn private_keys_and_dns() {
        // From helm v4.1.4.
        assert_eq!(
            text(call("genPrivateKey", NOW, &[Value::str("foo")])),
            "Unknown type foo"
        );
        assert_eq!(
            text(call("getHostByName", NOW, &[Value::str("localhost")])),
            ""
        );
        let ec = text(call("genPrivateKey", NOW, &[Value::str("ecdsa")]));
        let der_bytes = pem_der(&ec, "EC PRIVATE KEY");
        assert_eq!(der_bytes.len(), 121);
        assert!(matches!(parse_private_key_pem(&ec), Ok(Key::Ec(_))));
        let ed = text(call("genPrivateKey", NOW, &[Value::str("ed25519")]));
        assert_eq!(pem_der(&ed, "PRIVATE KEY").len(), 48);
        assert!(matches!(parse_private_key_pem(HELM_DSA_KEY), Ok(Key::Dsa)));
        // Deterministic under a fixed environment.
        assert_eq!(
            ed,
            text(call("genPrivateKey", NOW, &[Value::str("ed25519")]))
        );
    }
}
