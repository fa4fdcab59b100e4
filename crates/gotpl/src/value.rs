//! The values templates see, modelled on the Go types Helm hands to `text/template`.
//!
//! Helm reads values files through `sigs.k8s.io/yaml` (YAML -> JSON -> `interface{}`), so every
//! number in `.Values` is a `float64` ([`Value::Float`]); `--set` integers are `int64`
//! ([`Value::Int64`]); integer literals in templates and `len` results are Go `int`
//! ([`Value::Int`]). The distinction shows in `typeOf`, `kindOf`, `printf "%T"` and in `eq`, which
//! refuses to compare a `float64` with an `int` ("incompatible types for comparison"), exactly as
//! Helm does. Maps are Go `map[string]interface{}`: templates, `toYaml` and `toJson` see their keys
//! in sorted order, hence a `BTreeMap`.
//!
//! Cloning a [`Value`] is cheap: strings, lists, maps and objects are reference counted.
//!
//! **Maps are shared and mutable, as Go maps are.** `$_ := set $d "k" "v"` must be visible
//! through every other reference to `$d`, and `set .Values "x" 1` or Bitnami's `merge $dst $src`
//! change what later templates see, so a map is a [`MapRef`]: `Arc<RwLock<Map>>`. Rules for
//! code that touches maps: never hold a guard while evaluating anything else or while locking
//! another map (`merge $d $d` names the same map twice: clone out with [`MapRef::snapshot`]
//! first, then write), and bound recursion when walking values (a map may contain itself after
//! `set $d "self" $d`; printers and copiers stop at [`MAX_VALUE_DEPTH`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Deepest nesting printers, serializers and copiers walk before giving up (a self-containing
/// map would otherwise recurse for ever). Walkers must also bound the total output they build
/// (two self-references double it per level).
pub const MAX_VALUE_DEPTH: usize = 100;

/// A Go `map[string]interface{}`.
pub type Map = BTreeMap<String, Value>;

/// One template value.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Go's untyped `nil` (a missing map key under `missingkey=zero`, a YAML `null`).
    #[default]
    Nil,
    Bool(bool),
    /// Go `int`: integer literals in templates, `len`, `atoi`, `int`.
    Int(i64),
    /// Go `int64`: `--set` integers, Sprig arithmetic (`add`, `mul`, ...), `int64`.
    Int64(i64),
    /// Go `float64`: every number parsed from YAML or JSON values, float literals, `float64`.
    Float(f64),
    String(Arc<str>),
    /// Go `[]byte` (`.Files.GetBytes`).
    Bytes(Arc<[u8]>),
    /// Go `[]interface{}` (also stands for `[]string` results such as `splitList`).
    List(Arc<Vec<Value>>),
    /// Go `map[string]interface{}`: shared and mutable (see the module docs).
    Map(MapRef),
    /// A host value with fields and methods (Go structs such as `.Chart`, `.Capabilities`,
    /// `.Files`).
    Object(Arc<dyn Object>),
}

/// A shared, mutable Go map: clones are the same map, as in Go.
#[derive(Clone, Default)]
pub struct MapRef(Arc<Shared>);

/// A map and the speculative execution that made it (0: made outside any, see [`speculate`]).
#[derive(Default)]
struct Shared {
    owner: u64,
    /// Its tick on the map clock (see [`WriteLog`]).
    born: u64,
    map: RwLock<Map>,
}

/// The map clock: every map is born at its own tick (see [`WriteLog`]).
static CLOCK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Every write to a map, in order, with the tick the written map was born at.
static WRITES: std::sync::Mutex<WriteLog> = std::sync::Mutex::new(WriteLog {
    count: 0,
    floor: 0,
    stack: Vec::new(),
});

/// The writes to maps so far, kept just enough to answer [`WriteLog::oldest_since`]: the
/// oldest map written since a given write. What a template renders from a value at tick `t`
/// can only change through a write to a map born before `t` (every map reachable from the
/// value then was; a newer map becomes reachable only by writing an older one), so a render
/// remembered at `t`, after write `w`, still holds while `oldest_since(w) >= t`.
struct WriteLog {
    /// Writes logged so far.
    count: u64,
    /// Writes before this one were forgotten.
    floor: u64,
    /// (write, birth tick of the written map), births strictly increasing upwards: a write of
    /// a map no younger than a later write's is never the oldest since any point.
    stack: Vec<(u64, u64)>,
}

/// Most writes [`WriteLog`] remembers (each 16 bytes); the older half is then forgotten.
const WRITE_LOG_CAP: usize = 4096;

impl WriteLog {
    fn push(&mut self, born: u64) {
        let write = self.count;
        self.count += 1;
        while self.stack.last().is_some_and(|&(_, b)| b >= born) {
            self.stack.pop();
        }
        self.stack.push((write, born));
        if self.stack.len() > WRITE_LOG_CAP {
            let cut = WRITE_LOG_CAP / 2;
            self.floor = self.stack[cut - 1].0 + 1;
            self.stack.drain(..cut);
        }
    }

    /// The birth tick of the oldest map written at or after write `since` (`u64::MAX`: none;
    /// 0 when those writes were forgotten).
    fn oldest_since(&self, since: u64) -> u64 {
        if since < self.floor {
            return 0;
        }
        let i = self.stack.partition_point(|&(w, _)| w < since);
        self.stack.get(i).map_or(u64::MAX, |&(_, b)| b)
    }
}

fn write_log() -> std::sync::MutexGuard<'static, WriteLog> {
    WRITES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where the map clock and the write log stand now: maps born from here on are new, writes
/// from here on are later. See [`still_reads_as`].
pub(crate) fn mark() -> (u64, u64) {
    let writes = write_log().count;
    (CLOCK.load(std::sync::atomic::Ordering::Acquire), writes)
}

/// Whether every value reads now as it did at `mark` (no map born before it has been written
/// since; writes to maps made later do not count).
pub(crate) fn still_reads_as(mark: (u64, u64)) -> bool {
    write_log().oldest_since(mark.1) >= mark.0
}

thread_local! {
    /// The speculative execution running on this thread (0: none).
    static SPECULATION: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Whether it wrote to a map it does not own.
    static DIVERTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` as speculative execution `id` (≥ 1) on this thread, for running independent
/// templates at the same time while keeping Helm's sequential semantics.
///
/// Helm executes a chart's templates one after the other over shared maps, so a template that
/// writes into `.Values` (`set`, `unset`, `merge`) changes what later templates see. During a
/// speculation every map remembers the execution that made it, and a write to a map made
/// before (shared with other templates) is *diverted*: it goes to a private copy that is
/// dropped, so the shared maps stay exactly as they were and no concurrent execution sees the
/// write. The returned flag says whether that happened: the result is then not what Helm
/// would render, and the caller must run the templates again one after the other.
pub fn speculate<R>(id: u64, f: impl FnOnce() -> R) -> (R, bool) {
    let before = SPECULATION.with(|s| s.replace(id.max(1)));
    let diverted_before = DIVERTED.with(|d| d.replace(false));
    let out = f();
    let diverted = DIVERTED.with(|d| d.replace(diverted_before));
    SPECULATION.with(|s| s.set(before));
    (out, diverted)
}

/// A write lock on a map, or (in a speculation, on a map the execution does not own) a private
/// copy that is dropped with the guard.
pub enum MapWrite<'a> {
    Locked(RwLockWriteGuard<'a, Map>),
    Diverted(Box<Map>),
}

impl std::ops::Deref for MapWrite<'_> {
    type Target = Map;
    fn deref(&self) -> &Map {
        match self {
            MapWrite::Locked(g) => g,
            MapWrite::Diverted(m) => m,
        }
    }
}

impl std::ops::DerefMut for MapWrite<'_> {
    fn deref_mut(&mut self) -> &mut Map {
        match self {
            MapWrite::Locked(g) => g,
            MapWrite::Diverted(m) => m,
        }
    }
}

impl fmt::Debug for MapRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.map.try_read() {
            Ok(m) => f.debug_map().entries(m.iter()).finish(),
            Err(_) => f.write_str("map[<locked>]"),
        }
    }
}

impl MapRef {
    pub fn new(map: Map) -> MapRef {
        MapRef(Arc::new(Shared {
            owner: SPECULATION.with(std::cell::Cell::get),
            born: CLOCK.fetch_add(1, std::sync::atomic::Ordering::AcqRel),
            map: RwLock::new(map),
        }))
    }

    /// Reads the map. Hold the guard briefly: evaluate nothing and lock no other map meanwhile.
    pub fn read(&self) -> RwLockReadGuard<'_, Map> {
        self.0.map.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the map in place (visible through every clone of this `MapRef`); inside a
    /// [`speculate`] on a map made before it, changes a private copy instead.
    pub fn write(&self) -> MapWrite<'_> {
        write_log().push(self.0.born);
        let running = SPECULATION.with(std::cell::Cell::get);
        if running != 0 && running != self.0.owner {
            DIVERTED.with(|d| d.set(true));
            return MapWrite::Diverted(Box::new(self.snapshot()));
        }
        MapWrite::Locked(self.0.map.write().unwrap_or_else(|e| e.into_inner()))
    }

    /// The value under `key` (a cheap clone).
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.read().contains_key(key)
    }

    pub fn insert(&self, key: impl Into<String>, value: Value) {
        self.write().insert(key.into(), value);
    }

    pub fn remove(&self, key: &str) -> Option<Value> {
        self.write().remove(key)
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// The keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    /// A shallow copy of the entries (values still share their own maps).
    pub fn snapshot(&self) -> Map {
        self.read().clone()
    }

    /// Where the map lives: the same for every clone, never another live map's.
    pub(crate) fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// True when both refer to the same Go map.
    pub fn same(&self, other: &MapRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A struct-like value provided by the host (the chart renderer): fields, methods, and the form
/// `toYaml`/`toJson` see.
pub trait Object: fmt::Debug + Send + Sync {
    /// The Go type name, as `printf "%T"` and Sprig's `typeOf` print it (`*chart.Metadata`).
    fn type_name(&self) -> &str;
    /// The Go kind, as Sprig's `kindOf` prints it (`struct`, `ptr`, `map`, `slice`).
    fn kind_name(&self) -> &str {
        "struct"
    }
    /// An exported field, or a method that takes no arguments (`.Chart.Name`,
    /// `.Capabilities.KubeVersion.Version`). `None` when there is no such field or method.
    fn field(&self, name: &str) -> Option<Value>;
    /// Calls a method with arguments (`.Files.Get "x"`, `.Capabilities.APIVersions.Has "v1"`).
    /// `None` when there is no such method.
    fn call_method(
        &self,
        name: &str,
        args: &[Value],
    ) -> Option<Result<Value, crate::funcs::FuncError>> {
        let _ = (name, args);
        None
    }
    /// The value `toYaml`, `toJson` and `%v` see (Go marshals the struct's JSON fields).
    fn to_value(&self) -> Value;
    /// Go's `fmt.Stringer`: when the Go type has a `String()` method, what `print`, `%v`, `%s`,
    /// `%q`, `%x` and `%X` show instead of [`Object::to_value`] (`time.Time`, `time.Month`,
    /// `time.Duration`, `chartutil.KubeVersion`).
    fn stringer(&self) -> Option<String> {
        None
    }
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    /// A new map value.
    pub fn map(map: Map) -> Value {
        Value::Map(MapRef::new(map))
    }

    /// Go's truthiness, as `if`, `with`, `and`, `or`, `not` and `default` see it: false, zero
    /// numbers, nil, and empty strings, lists and maps are false; everything else is true.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(n) | Value::Int64(n) => *n != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Object(_) => true,
        }
    }

    /// The Go type name (`printf "%T"`, Sprig's `typeOf`): `float64`, `int`, `int64`, `string`,
    /// `bool`, `[]interface {}`, `map[string]interface {}`, `[]uint8`; `<nil>` for nil.
    pub fn type_name(&self) -> &str {
        match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) => "[]uint8",
            Value::List(_) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::Object(o) => o.type_name(),
        }
    }

    /// The Go reflect kind (Sprig's `kindOf`, `kindIs`): `invalid` for nil, `slice`, `map`, ...
    pub fn kind_name(&self) -> &str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) | Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(o) => o.kind_name(),
        }
    }

    /// The string inside a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The map inside a map value.
    pub fn as_map(&self) -> Option<&MapRef> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items of a list value.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Converts JSON as Helm's values reach templates: every number becomes a `float64`
    /// (`sigs.k8s.io/yaml` and `encoding/json` decode numbers into `interface{}` that way).
    pub fn from_json_values(v: &serde_json::Value) -> Value {
        Self::from_json_with(v, &|n: &serde_json::Number| {
            Value::Float(n.as_f64().unwrap_or(f64::NAN))
        })
    }

    /// Converts JSON keeping integers as `int64` (Helm's `--set` parser types integers so).
    pub fn from_json_int64(v: &serde_json::Value) -> Value {
        Self::from_json_with(v, &|n: &serde_json::Number| match n.as_i64() {
            Some(i) => Value::Int64(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        })
    }

    fn from_json_with(v: &serde_json::Value, num: &dyn Fn(&serde_json::Number) -> Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => num(n),
            serde_json::Value::String(s) => Value::str(s.as_str()),
            serde_json::Value::Array(a) => {
                Value::list(a.iter().map(|x| Self::from_json_with(x, num)).collect())
            }
            serde_json::Value::Object(o) => Value::map(
                o.iter()
                    .map(|(k, x)| (k.clone(), Self::from_json_with(x, num)))
                    .collect(),
            ),
        }
    }

    /// Converts to JSON data (objects through [`Object::to_value`]). Non-finite floats become
    /// `null`; bytes become a base64 string, as Go's `encoding/json` writes `[]byte`; nesting
    /// deeper than [`MAX_VALUE_DEPTH`] becomes `null`. This is data conversion, not Go's JSON
    /// text: `toJson` writes text itself.
    pub fn to_json(&self) -> serde_json::Value {
        self.to_json_depth(0)
    }

    fn to_json_depth(&self, depth: usize) -> serde_json::Value {
        if depth > MAX_VALUE_DEPTH {
            return serde_json::Value::Null;
        }
        match self {
            Value::Nil => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(n) | Value::Int64(n) => serde_json::Value::from(*n),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Bytes(b) => serde_json::Value::String(base64_std(b)),
            Value::List(l) => {
                serde_json::Value::Array(l.iter().map(|x| x.to_json_depth(depth + 1)).collect())
            }
            Value::Map(m) => {
                let entries = m.snapshot();
                serde_json::Value::Object(
                    entries
                        .iter()
                        .map(|(k, v)| (k.clone(), v.to_json_depth(depth + 1)))
                        .collect(),
                )
            }
            Value::Object(o) => o.to_value().to_json_depth(depth + 1),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::map(m)
    }
}

impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::list(l)
    }
}

/// Standard base64 with padding (Go's `base64.StdEncoding`).
pub(crate) fn base64_std(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_log_answers_the_oldest_map_written_since() {
        let mut log = WriteLog {
            count: 0,
            floor: 0,
            stack: Vec::new(),
        };
        assert_eq!(log.oldest_since(0), u64::MAX);
        // Writes 0..4 to maps born at 50, 10, 30, 20.
        for born in [50, 10, 30, 20] {
            log.push(born);
        }
        assert_eq!(log.oldest_since(0), 10);
        assert_eq!(log.oldest_since(1), 10);
        assert_eq!(log.oldest_since(2), 20);
        assert_eq!(log.oldest_since(3), 20);
        assert_eq!(log.oldest_since(4), u64::MAX);
        // Past its capacity it forgets the older half, and says so (0: anything may have
        // changed) for points before what it still knows.
        for born in 100..100 + WRITE_LOG_CAP as u64 {
            log.push(born);
        }
        assert!(log.floor > 0);
        assert_eq!(log.oldest_since(0), 0);
        assert_eq!(
            log.oldest_since(log.count - 1),
            100 + WRITE_LOG_CAP as u64 - 1
        );
        assert!(log.stack.len() <= WRITE_LOG_CAP);
    }

    #[test]
    fn a_speculation_writes_only_to_its_own_maps() {
        let shared = MapRef::new(Map::new());
        shared.insert("a", Value::Int(1));
        let ((), diverted) = speculate(1, || {
            let own = MapRef::new(Map::new());
            own.insert("b", Value::Int(2));
            assert_eq!(own.len(), 1);
        });
        assert!(!diverted, "writing to a map made inside is not diverted");
        let ((), diverted) = speculate(2, || {
            shared.insert("x", Value::Int(9));
            shared.remove("a");
        });
        assert!(diverted);
        assert_eq!(
            shared.keys(),
            vec!["a".to_string()],
            "the shared map is untouched"
        );
        // Outside a speculation writes go through again.
        shared.insert("x", Value::Int(9));
        assert_eq!(shared.len(), 2);
    }

    #[test]
    fn go_truthiness() {
        assert!(!Value::Nil.truthy());
        assert!(!Value::Float(0.0).truthy());
        assert!(!Value::str("").truthy());
        assert!(!Value::list(vec![]).truthy());
        assert!(!Value::map(Map::new()).truthy());
        assert!(Value::str("0").truthy());
        assert!(Value::Int64(-1).truthy());
    }

    #[test]
    fn values_numbers_are_float64() {
        let v = Value::from_json_values(&serde_json::json!({"a": 3}));
        let a = v.as_map().and_then(|m| m.get("a"));
        assert_eq!(a.as_ref().map(Value::type_name), Some("float64"));
        let v = Value::from_json_int64(&serde_json::json!({"a": 3}));
        let a = v.as_map().and_then(|m| m.get("a"));
        assert_eq!(a.as_ref().map(Value::type_name), Some("int64"));
    }

    #[test]
    fn maps_are_shared_like_go_maps() {
        let d = Value::map(Map::new());
        let alias = d.clone();
        if let Value::Map(m) = &alias {
            m.insert("k", Value::str("v"));
        }
        assert_eq!(
            d.as_map()
                .and_then(|m| m.get("k"))
                .and_then(|v| v.as_str().map(String::from)),
            Some("v".to_string())
        );
    }

    #[test]
    fn a_map_containing_itself_converts_without_overflow() {
        let d = Value::map(Map::new());
        if let Value::Map(m) = &d {
            m.insert("self", d.clone());
        }
        let _ = d.to_json();
    }

    #[test]
    fn base64_matches_go() {
        assert_eq!(base64_std(b""), "");
        assert_eq!(base64_std(b"f"), "Zg==");
        assert_eq!(base64_std(b"fo"), "Zm8=");
        assert_eq!(base64_std(b"foo"), "Zm9v");
        assert_eq!(base64_std(b"hello world"), "aGVsbG8gd29ybGQ=");
    }
}

/// The first code point of the range that stands for a byte of a Go string that is not UTF-8:
/// byte `b` (0x80..=0xFF) is `char::from_u32(BYTE_ESCAPE + b)`, in Unicode's plane-16 private
/// use area. Go strings are byte strings (`b64dec`, `.Files.Get`, `toString` of `[]byte` keep
/// binary data); ours are UTF-8, so a byte that is not part of valid UTF-8 is kept as one of
/// these code points and turned back into the byte by [`go_bytes`] wherever Go reads a
/// string's bytes (`len`, `b64enc`, the hashes), so binary data round-trips exactly.
pub const BYTE_ESCAPE: u32 = 0x10_FF00;

/// A Go string from bytes: valid UTF-8 as is, every other byte escaped (see [`BYTE_ESCAPE`]).
pub fn go_string_from_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    out.push(char::from_u32(BYTE_ESCAPE + u32::from(*b)).unwrap_or('\u{FFFD}'));
                }
            }
            out
        }
    }
}

/// The bytes of a Go string: escaped bytes (see [`BYTE_ESCAPE`]) turned back into themselves.
pub fn go_bytes(s: &str) -> std::borrow::Cow<'_, [u8]> {
    // Every escape is encoded as F4 8F BC..BF xx: no 0xF4 byte, nothing escaped.
    if !s.as_bytes().contains(&0xF4) {
        return std::borrow::Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let n = u32::from(c);
        if (BYTE_ESCAPE + 0x80..=BYTE_ESCAPE + 0xFF).contains(&n) {
            out.push((n - BYTE_ESCAPE) as u8);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Go's nil `[]interface{}` (Sprig's `rest`/`initial` of an empty list): prints `[]`, marshals
/// as `null`, is empty and has length 0.
#[derive(Debug, Clone, Copy)]
pub struct NilSlice;

impl NilSlice {
    pub fn value() -> Value {
        Value::Object(Arc::new(NilSlice))
    }
}

impl Object for NilSlice {
    fn type_name(&self) -> &str {
        "[]interface {}"
    }

    fn kind_name(&self) -> &str {
        "slice"
    }

    fn field(&self, _: &str) -> Option<Value> {
        None
    }

    fn to_value(&self) -> Value {
        Value::Nil
    }

    fn stringer(&self) -> Option<String> {
        Some("[]".into())
    }
}
