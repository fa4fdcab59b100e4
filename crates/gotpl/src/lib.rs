//! Go's `text/template` with Sprig v3 and Helm's own template functions, reproducing what Helm
//! renders byte for byte.
//!
//! The crate owns three things and nothing about charts:
//!
//! - the template language (`lex` -> `parse` -> `exec`), with Go's semantics: pipelines,
//!   variables, `if/else if/with/range/break/continue`, `define/template/block`, trimming,
//!   comments, Go's truthiness and comparison rules, Go's `fmt` verbs (`fmt`);
//! - the data model ([`Value`]), which mirrors what Helm hands to templates: values parsed from
//!   YAML are `float64`, `--set` integers are `int64`, maps iterate in sorted key order;
//! - the function library ([`funcs`]): Go's builtins, Sprig v3 (minus `env`/`expandenv` and
//!   network lookups, as in Helm), Helm's `toYaml`/`fromYaml`/`toJson`/`toToml`/`required`/`fail`
//!   and, inside the executor, `include`/`tpl`/`template`.
//!
//! No IO: the clock and randomness come in through [`funcs::Env`]; hostile templates meet a
//! step budget, a recursion limit and an output cap, never a hang, a stack overflow or an
//! out-of-memory.

mod bytes;
pub mod exec;
pub mod fmt;
pub mod funcs;
pub mod json;
pub mod lex;
pub mod parse;
pub mod toml;
pub mod value;
pub mod yaml;

pub use value::{Map, MapRef, Object, Value, speculate};

pub use exec::{Error, ExecError, ExecOptions, Location, MissingKey, Parsed, Templates};
pub use parse::ParseError;

/// Hash maps keyed by template and function names: foldhash, a well-kept fast hasher seeded
/// per process (lookups happen on every call and `include`).
pub(crate) type NameMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
