//! The function library templates call, grouped by family as Sprig's source is.
//!
//! A function is a [`FuncDef`]: a name, a Go-like signature ([`Sig`]) and a Rust function. The
//! executor checks the arguments against the signature the way Go's `text/template` does with
//! reflection before the function runs: the arity ("wrong number of args for trunc: want 2 got
//! 1"), untyped constants converted to the parameter type (`trunc 63 .x` passes an `int`),
//! and data values only where assignable ("wrong type for value; expected int; got float64",
//! "invalid value; expected string" for nil). So a function body receives arguments of the
//! types its signature declares and never re-checks them; parameters declared [`Ty::Any`] (Go's
//! `interface{}`) receive anything, and the function converts as Sprig does (`cast.ToInt64`,
//! `fmt.Sprint`, ...).
//!
//! Families (one file each, each with `pub(crate) fn register(map: &mut FuncMap)`):
//! `builtin` (Go's own), `strings`, `lists`, `dicts`, `math`, `defaults`, `reflect`, `regexp`,
//! `encoding`, `crypto`, `versions` (semver), `dates`, `paths`, `urls`, `helm` (Helm's additions).
//! `include`, `tpl`, `template` and `block` need the template set and live in the executor.

use crate::NameMap as HashMap;

use crate::value::Value;

mod builtin;
pub mod cast;
mod crypto;
mod dates;
mod defaults;
mod dicts;
mod encoding;
mod helm;
mod lists;
mod math;
mod paths;
mod reflect;
mod regexp;
mod strings;
mod urls;
pub mod versions;

/// A Go parameter type, for the executor's argument checks and constant conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// `interface{}`: any value, nil included.
    Any,
    /// `string`.
    String,
    /// `int`.
    Int,
    /// `int64`.
    Int64,
    /// `float64`.
    Float64,
    /// `bool`.
    Bool,
    /// `[]interface{}` (a list).
    List,
    /// `map[string]interface{}`.
    Map,
}

/// A function's Go signature: fixed parameters, then an optional variadic tail.
#[derive(Clone, Copy, Debug)]
pub struct Sig {
    pub params: &'static [Ty],
    pub variadic: Option<Ty>,
}

impl Sig {
    pub const fn fixed(params: &'static [Ty]) -> Sig {
        Sig {
            params,
            variadic: None,
        }
    }

    pub const fn variadic(params: &'static [Ty], rest: Ty) -> Sig {
        Sig {
            params,
            variadic: Some(rest),
        }
    }
}

/// The Rust side of a template function. Arguments already match the signature.
pub type Func = fn(&mut FuncCtx<'_>, &[Value]) -> Result<Value, FuncError>;

/// One template function.
#[derive(Clone, Copy, Debug)]
pub struct FuncDef {
    pub name: &'static str,
    pub sig: Sig,
    pub f: Func,
}

/// The functions a template set can call, by name.
#[derive(Clone, Debug, Default)]
pub struct FuncMap {
    funcs: HashMap<&'static str, FuncDef>,
}

impl FuncMap {
    /// No functions at all (Go's builtins live here too, so a template without them cannot
    /// even compare).
    pub fn empty() -> FuncMap {
        FuncMap::default()
    }

    /// Go's builtins only (plain `text/template`).
    pub fn go() -> FuncMap {
        let mut m = FuncMap::empty();
        builtin::register(&mut m);
        m
    }

    /// Everything Helm gives chart templates: Go's builtins, Sprig v3's `TxtFuncMap` without
    /// `env` and `expandenv`, then Helm's own functions (which replace Sprig's of the same
    /// name, as in Helm's `funcMap()`). `include`, `tpl` and `lookup` are provided by the
    /// executor and the host.
    pub fn helm() -> FuncMap {
        // Sized once for the ~350 functions (growing would touch every smaller table too).
        let mut m = FuncMap {
            funcs: HashMap::with_capacity_and_hasher(448, Default::default()),
        };
        builtin::register(&mut m);
        strings::register(&mut m);
        lists::register(&mut m);
        dicts::register(&mut m);
        math::register(&mut m);
        defaults::register(&mut m);
        reflect::register(&mut m);
        regexp::register(&mut m);
        encoding::register(&mut m);
        crypto::register(&mut m);
        versions::register(&mut m);
        dates::register(&mut m);
        paths::register(&mut m);
        urls::register(&mut m);
        helm::register(&mut m);
        m
    }

    /// Adds or replaces a function.
    pub fn insert(&mut self, def: FuncDef) {
        self.funcs.insert(def.name, def);
    }

    /// Adds or replaces a function from its parts.
    pub fn add(&mut self, name: &'static str, sig: Sig, f: Func) {
        self.insert(FuncDef { name, sig, f });
    }

    /// Removes a function (Helm removes Sprig's `env` and `expandenv`).
    pub fn remove(&mut self, name: &str) {
        self.funcs.remove(name);
    }

    pub fn get(&self, name: &str) -> Option<&FuncDef> {
        self.funcs.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    /// Every function name, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.funcs.keys().copied().collect();
        names.sort_unstable();
        names
    }
}

/// The outside world as template functions see it: the clock and randomness are passed in,
/// so rendering stays deterministic under test and the crate does no IO.
pub struct Env {
    /// Now, as Unix seconds and nanoseconds (`now`, `date`, `ago`).
    pub now_unix: i64,
    pub now_nanos: u32,
    /// The IANA name of Go's `time.Local` (Helm in a container: `UTC`), for `date` and
    /// `now`'s printed form.
    pub local_zone: String,
    /// Fills a buffer with random bytes (`randAlphaNum`, `uuidv4`, `genPrivateKey`, `shuffle`).
    pub random: RandomSource,
    /// Helm's lint mode (`helm lint`): `required` with a missing value and `fail` give `""`
    /// instead of stopping the render.
    pub lint_mode: bool,
    /// Random draws so far (see [`Env::draws`]).
    draws: u64,
}

/// Where random bytes come from: fills the buffer it is given.
pub type RandomSource = Box<dyn FnMut(&mut [u8]) + Send>;

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("now_unix", &self.now_unix)
            .field("now_nanos", &self.now_nanos)
            .field("local_zone", &self.local_zone)
            .finish_non_exhaustive()
    }
}

impl Env {
    /// A clock and a cryptographically strong stream derived from a 32-byte `seed` (SHA-256 in
    /// counter mode). With a seed from the operating system this is what `randAlphaNum`,
    /// `genPrivateKey` and friends need; with a fixed seed the render is reproducible.
    pub fn seeded(now_unix: i64, now_nanos: u32, seed: [u8; 32]) -> Env {
        Env::seeded_by(now_unix, now_nanos, move || seed)
    }

    /// [`Env::seeded`] with the seed made by `seed` on the first draw (most templates draw
    /// nothing: deriving a seed per template would be wasted).
    pub fn seeded_by(
        now_unix: i64,
        now_nanos: u32,
        seed: impl FnOnce() -> [u8; 32] + Send + 'static,
    ) -> Env {
        use sha2::Digest as _;
        let mut make_seed = Some(seed);
        let mut seed = [0u8; 32];
        let mut counter: u64 = 0;
        let mut block = [0u8; 32];
        let mut used = block.len();
        Env {
            now_unix,
            now_nanos,
            local_zone: "UTC".into(),
            lint_mode: false,
            draws: 0,
            random: Box::new(move |buf: &mut [u8]| {
                if let Some(make) = make_seed.take() {
                    seed = make();
                }
                for b in buf.iter_mut() {
                    if used == block.len() {
                        let mut h = sha2::Sha256::new();
                        h.update(seed);
                        h.update(counter.to_le_bytes());
                        block.copy_from_slice(&h.finalize());
                        counter = counter.wrapping_add(1);
                        used = 0;
                    }
                    *b = block[used];
                    used += 1;
                }
            }),
        }
    }

    /// A fixed clock and a deterministic pseudo-random stream (xorshift seeded by `seed`), for
    /// tests and reproducible renders.
    pub fn fixed(now_unix: i64, seed: u64) -> Env {
        let mut state = seed | 1;
        Env {
            now_unix,
            now_nanos: 0,
            local_zone: "UTC".into(),
            lint_mode: false,
            draws: 0,
            random: Box::new(move |buf: &mut [u8]| {
                for b in buf.iter_mut() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    *b = (state >> 24) as u8;
                }
            }),
        }
    }

    /// Random bytes.
    pub fn fill_random(&mut self, buf: &mut [u8]) {
        self.draws += 1;
        (self.random)(buf);
    }

    /// How many times random bytes were drawn: a template that drew none rendered what it
    /// would render again from the same data.
    pub fn draws(&self) -> u64 {
        self.draws
    }

    /// A random integer in `0..n` (`n > 0`), without modulo bias.
    pub fn random_below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let mut b = [0u8; 8];
            self.fill_random(&mut b);
            let x = u64::from_le_bytes(b);
            if x < zone {
                return x % n;
            }
        }
    }
}

/// Caps that keep hostile templates from exhausting memory or time.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest string or list a single function may build (`repeat`, `until`, `indent`, ...),
    /// in bytes or items.
    pub max_value_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_value_len: 64 * 1024 * 1024,
        }
    }
}

/// What the host (the chart renderer) answers for templates: Helm's `lookup`.
pub trait Host {
    /// Helm's `lookup apiVersion kind namespace name`: the object as a map, or with an empty
    /// `name` a list object (`{"items": [...]}`); an empty map when there is nothing.
    fn lookup(
        &mut self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, FuncError>;
}

/// No cluster: `lookup` returns an empty map, as `helm template` does.
#[derive(Debug, Default, Clone, Copy)]
pub struct Offline;

impl Host for Offline {
    fn lookup(&mut self, _: &str, _: &str, _: &str, _: &str) -> Result<Value, FuncError> {
        Ok(Value::map(crate::value::Map::new()))
    }
}

/// What a function receives besides its arguments.
pub struct FuncCtx<'a> {
    pub env: &'a mut Env,
    pub limits: &'a Limits,
    pub host: &'a mut dyn Host,
}

impl FuncCtx<'_> {
    /// Fails when a result of `len` units would pass the value cap.
    pub fn check_len(&self, what: &str, len: usize) -> Result<(), FuncError> {
        if len > self.limits.max_value_len {
            return Err(FuncError::Limit(format!(
                "{what} would produce {len} bytes, over the {} limit",
                self.limits.max_value_len
            )));
        }
        Ok(())
    }
}

/// A function that failed. The executor adds where (template, line, column, the call) and,
/// like Go, reports `error calling NAME: MESSAGE`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FuncError {
    /// An ordinary failure, in Go's wording (`strconv.Atoi: parsing "x": invalid syntax`).
    #[error("{0}")]
    Message(String),
    /// `fail` and `required`: Helm reports these as `execution error at (FILE:LINE:COL): MSG`.
    #[error("{0}")]
    Fail(String),
    /// A hostile-input limit was reached.
    #[error("{0}")]
    Limit(String),
}

impl FuncError {
    pub fn msg(m: impl Into<String>) -> FuncError {
        FuncError::Message(m.into())
    }
}

/// Shorthand for a function result.
pub type FuncResult = Result<Value, FuncError>;

#[cfg(test)]
mod tests {
    use super::Env;

    #[test]
    fn a_seeded_stream_depends_on_its_seed_only() {
        let draw = |seed: [u8; 32]| {
            let mut env = Env::seeded(0, 0, seed);
            let mut a = [0u8; 20];
            let mut b = [0u8; 50];
            env.fill_random(&mut a);
            env.fill_random(&mut b);
            [a.to_vec(), b.to_vec()].concat()
        };
        assert_eq!(draw([1; 32]), draw([1; 32]));
        assert_ne!(draw([1; 32]), draw([2; 32]));
        // Successive blocks differ (the counter moves on).
        let all = draw([1; 32]);
        assert_ne!(all[..32], all[32..64]);
    }
}
