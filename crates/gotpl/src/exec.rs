//! The template set and the executor of Go's `text/template` (`exec.go`, Go 1.25), with Helm's
//! engine intrinsics (`include`, `tpl`).
//!
//! [`Templates`] owns parsed trees by name (files and their `define`/`block`s in one set, as
//! Helm parses a chart) and executes one of them into a `String`. Execution follows Go's
//! `state.walk`/`evalPipeline`/`evalCommand`/`evalField`/`evalCall` closely, including the error
//! texts and the node Go blames (`template: x.yaml:3:12: executing "x.yaml" at <.a.b>: ...`),
//! and keeps a structured [`ExecError`] so the host can print Helm's forms.
//!
//! Go distinguishes an invalid value (untyped nil: a missing variable value) from a nil held in
//! an `interface{}` (a map entry that is `null` or missing under `missingkey=zero`, a list
//! element): field access on the second fails ("nil pointer evaluating interface {}.b") and it
//! is "wrong type" for a typed parameter. The executor tracks that bit beside each value.
//!
//! Hostile templates meet limits ([`ExecOptions`]): a step budget, a nesting depth for
//! `template`/`include`/`tpl` (and a global nesting budget so deep recursion cannot overflow
//! the stack), Helm's 1000 nested `include`s of one name, and an output cap.

use crate::NameMap as HashMap;
use std::fmt;
use std::sync::Arc;

use crate::funcs::{Env, FuncCtx, FuncDef, FuncError, FuncMap, Host, Limits, Ty};
use crate::parse::{
    self, Arg, Branch, Command, Node, Number, ParseError, Pipe, TemplateCall, Tree,
};
use crate::value::Value;

/// What a missing map key yields (Go's `missingkey` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// Go's default: an invalid value (prints `<no value>`).
    Default,
    /// `missingkey=zero`: the zero value of `interface{}`, as Helm renders.
    #[default]
    Zero,
    /// `missingkey=error`: execution fails, as Helm's `--strict` and `lint`.
    Error,
}

/// Execution settings and limits.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    pub missing_key: MissingKey,
    /// Steps (node evaluations, commands, range iterations) one `execute` may take.
    pub max_steps: u64,
    /// Largest output one template (or one `include`/`tpl` result) may produce, in bytes.
    pub max_output: usize,
    /// Deepest nesting of `template`, `include` and `tpl` calls. Go allows 100000 `template`
    /// levels; this executor stops earlier (with Go's message) to stay inside the stack.
    pub max_depth: usize,
    /// Helm's `include` recursion rule: a name included while already nested this many times
    /// fails with "rendering template has a nested reference name".
    pub max_include_nesting: usize,
    /// Name of the set's root template (Helm's engine: `gotpl`): `tpl` parses under this
    /// name and `include` of an unknown name reports it.
    pub root_name: String,
    /// Caps handed to functions.
    pub limits: Limits,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            missing_key: MissingKey::Zero,
            max_steps: 50_000_000,
            max_output: 64 * 1024 * 1024,
            max_depth: 1500,
            max_include_nesting: 1000,
            root_name: "gotpl".into(),
            limits: Limits::default(),
        }
    }
}

/// Global nesting budget (evaluation frames) of one execution: keeps deep recursion of any
/// kind (templates calling templates with deeply nested expressions) inside a 64 MiB stack.
const MAX_NESTING: usize = 20_000;

/// A template error: parsing, or execution.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    Parse(ParseError),
    Exec(Box<ExecError>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse(e) => write!(f, "{e}"),
            Error::Exec(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Parse(e)
    }
}

impl Error {
    /// The message of a `fail`/`required` call at the bottom of this error, if any (Helm
    /// prints those as `execution error at (FILE:LINE:COL): MSG`).
    pub fn fail_message(&self) -> Option<&str> {
        match self {
            Error::Exec(e) => e.fail_message.as_deref(),
            Error::Parse(_) => None,
        }
    }
}

/// Where in a template's text an error happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (top-level template) the node was parsed from.
    pub file: String,
    pub line: usize,
    /// 0-based byte column, as Go prints it.
    pub col: usize,
}

/// An execution error, structured; `Display` is Go's text.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecError {
    /// The executing template (`x.yaml`, or a `define` name); empty when no template ran
    /// (Go's `ExecuteTemplate` of an unknown name).
    pub template: String,
    /// Where, when a node was being evaluated.
    pub location: Option<Location>,
    /// The node's text (`.Values.a.b`, `include "x" .`).
    pub context: String,
    /// The function whose call failed (`error calling NAME: ...`).
    pub func: Option<String>,
    /// The message (for a failed call, the function's own error text).
    pub message: String,
    /// The message of a `fail`/`required` at the bottom of the chain.
    pub fail_message: Option<String>,
    /// A limit of [`ExecOptions`] (or [`FuncError::Limit`]) stopped execution.
    pub limit: bool,
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(l) => write!(
                f,
                "template: {}:{}:{}: executing {} at <{}>: ",
                l.file,
                l.line,
                l.col,
                crate::fmt::go_quote(&self.template),
                self.context
            )?,
            None if self.template.is_empty() => f.write_str("template: ")?,
            None => write!(f, "template: {}: ", self.template)?,
        }
        if let Some(func) = &self.func {
            write!(f, "error calling {func}: ")?;
        }
        f.write_str(&self.message)
    }
}

type EResult<T> = Result<T, Box<ExecError>>;

/// A set of named templates sharing one function map (Go's `*template.Template` family).
///
/// `Send + Sync`: parse once, execute different templates on different threads.
#[derive(Clone, Debug)]
pub struct Templates {
    funcs: Arc<FuncMap>,
    trees: HashMap<String, Arc<Tree>>,
}

/// A template and its `define`s, parsed but not yet added to a set.
#[derive(Debug)]
pub struct Parsed(Vec<Tree>);

impl Templates {
    pub fn new(funcs: Arc<FuncMap>) -> Templates {
        Templates {
            funcs,
            trees: HashMap::default(),
        }
    }

    /// The function map templates call.
    pub fn funcs(&self) -> &FuncMap {
        &self.funcs
    }

    /// Parses `text` as template `name` and adds it and its `define`/`block`s to the set. A
    /// later definition of a name replaces an earlier one (Go's `AddParseTree`), except that
    /// an empty definition does not replace a non-empty one. On error nothing is added.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let parsed = self.parse_alone(name, text)?;
        self.add(parsed);
        Ok(())
    }

    /// Parses `text` as template `name` without adding it (so that several templates can be
    /// parsed at the same time); [`Templates::add`] them in order afterwards.
    pub fn parse_alone(&self, name: &str, text: &str) -> Result<Parsed, Error> {
        let has = |n: &str| self.funcs.contains(n);
        Ok(Parsed(parse::parse(name, text, &has)?))
    }

    /// Adds what [`Templates::parse_alone`] parsed, as [`Templates::parse`] would.
    pub fn add(&mut self, parsed: Parsed) {
        for t in parsed.0 {
            add_tree(&mut self.trees, None, t);
        }
    }

    /// Whether a template of that name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// The template names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.trees.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Executes template `name` with `data` as `.` and `$`.
    pub fn execute(
        &self,
        name: &str,
        data: &Value,
        opts: &ExecOptions,
        env: &mut Env,
        host: &mut dyn Host,
    ) -> Result<String, Error> {
        let mut ex = Exec {
            set: self,
            overlays: Vec::new(),
            opts,
            env,
            host: Counted { host, calls: 0 },
            steps: 0,
            depth: 0,
            nest: 0,
            included: HashMap::default(),
            memo: HashMap::default(),
        };
        ex.execute_named(name, data.clone()).map_err(Error::Exec)
    }
}

/// Finds a template by name in the enclosing scope (for `tpl`'s overlay).
type Lookup<'a> = &'a dyn Fn(&str) -> Option<Arc<Tree>>;

/// Adds a tree under Go's `associate` rule: an empty tree does not replace a non-empty one.
fn add_tree(map: &mut HashMap<String, Arc<Tree>>, existing: Option<Lookup<'_>>, t: Tree) {
    let old = match map.get(&t.name) {
        Some(o) => Some(o.clone()),
        None => existing.and_then(|f| f(&t.name)),
    };
    if let Some(old) = old
        && t.is_empty()
        && !old.is_empty()
    {
        return;
    }
    map.insert(t.name.clone(), Arc::new(t));
}

/// A value plus Go's "nil inside an interface" bit (see the module docs).
#[derive(Clone, Debug)]
struct Val {
    v: Value,
    /// `v` is held in an `interface{}` (a map entry or list element): nil is then a nil
    /// interface, not an invalid value, and field errors name the type `interface {}`.
    iface: bool,
}

impl Val {
    fn plain(v: Value) -> Val {
        Val { v, iface: false }
    }

    fn held(v: Value) -> Val {
        Val { v, iface: true }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

/// The node being evaluated, for error messages.
#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Node(&'t Node),
    Pipe(&'t Pipe),
    Cmd(&'t Command),
    Arg(&'t Arg),
    Tmpl(&'t TemplateCall),
    Branch(&'static str, &'t Branch),
}

impl At<'_> {
    fn pos(&self) -> Option<usize> {
        Some(match self {
            At::None => return None,
            At::Node(n) => match n {
                Node::Text(_) => 0,
                Node::Action(p) => p.pos,
                Node::If(b) | Node::With(b) | Node::Range(b) => b.pos,
                Node::Template(t) => t.pos,
                Node::Break(p) | Node::Continue(p) => *p,
            },
            At::Pipe(p) => p.pos,
            At::Cmd(c) => c.pos,
            At::Arg(a) => a.pos(),
            At::Tmpl(t) => t.pos,
            At::Branch(_, b) => b.pos,
        })
    }

    fn text(&self) -> String {
        match self {
            At::None => String::new(),
            At::Node(n) => n.to_string(),
            At::Pipe(p) => p.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Arg(a) => a.to_string(),
            At::Tmpl(t) => t.to_string(),
            At::Branch(kind, b) => {
                // Go prints the whole control node.
                struct W<'a>(&'static str, &'a Branch);
                impl fmt::Display for W<'_> {
                    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "{{{{{} {}}}}}", self.0, self.1.pipe)?;
                        for n in &self.1.list {
                            write!(f, "{n}")?;
                        }
                        if let Some(e) = &self.1.else_list {
                            f.write_str("{{else}}")?;
                            for n in e {
                                write!(f, "{n}")?;
                            }
                        }
                        f.write_str("{{end}}")
                    }
                }
                W(kind, b).to_string()
            }
        }
    }
}

/// Per-template execution state (Go's `state`): the tree, the variables, the current node.
struct State<'t> {
    tree: &'t Tree,
    vars: Vec<(&'t str, Val)>,
    at: At<'t>,
}

/// The error a function-like intrinsic returns: a plain function error, or a whole template
/// error from a nested execution (`include`, `tpl`).
enum CallError {
    Func(FuncError),
    Nested(String, Option<String>, bool),
}

struct Exec<'a> {
    set: &'a Templates,
    /// Trees added by `tpl` (innermost last), seen before the set's.
    overlays: Vec<HashMap<String, Arc<Tree>>>,
    opts: &'a ExecOptions,
    env: &'a mut Env,
    host: Counted<'a>,
    steps: u64,
    depth: usize,
    nest: usize,
    included: HashMap<String, usize>,
    /// `include` results by template and argument (see [`Exec::include`]), under
    /// [`memo_hash`].
    memo: HashMap<u64, Vec<Memo>>,
}

/// What `include` of a template rendered from one argument, and when.
struct Memo {
    /// The template (its tree's address: the tree lives as long as the set).
    tree: usize,
    /// The argument: a map's entries (another map with the same entries renders the same), or
    /// the value itself.
    arg: MemoArg,
    /// [`crate::value::mark`] before it rendered.
    mark: (u64, u64),
    out: Value,
}

enum MemoArg {
    Entries(Vec<(String, Value)>),
    Value(Value),
}

/// Largest map argument `include` remembers renders of (entries compared on every call).
const MEMO_MAX_ENTRIES: usize = 32;

/// Whether `a` and `b` read the same to a template: equal scalars and strings, the same map,
/// list, bytes or object (their insides are compared by [`crate::value::still_reads_as`]).
fn same_atom(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => Arc::ptr_eq(x, y),
        (Value::List(x), Value::List(y)) => Arc::ptr_eq(x, y),
        (Value::Map(x), Value::Map(y)) => x.same(y),
        (Value::Object(x), Value::Object(y)) => std::ptr::addr_eq(Arc::as_ptr(x), Arc::as_ptr(y)),
        _ => false,
    }
}

fn hash_atom(h: &mut impl std::hash::Hasher, v: &Value) {
    use std::hash::Hash as _;
    std::mem::discriminant(v).hash(h);
    match v {
        Value::Nil => {}
        Value::Bool(b) => b.hash(h),
        Value::Int(i) | Value::Int64(i) => i.hash(h),
        Value::Float(f) => f.to_bits().hash(h),
        Value::String(s) => s.hash(h),
        Value::Bytes(b) => (Arc::as_ptr(b) as *const u8 as usize).hash(h),
        Value::List(l) => (Arc::as_ptr(l) as usize).hash(h),
        Value::Map(m) => m.addr().hash(h),
        Value::Object(o) => (Arc::as_ptr(o) as *const u8 as usize).hash(h),
    }
}

/// The memo key of template `tree` with argument `data` (`None`: not remembered).
fn memo_hash(tree: usize, data: &Value) -> Option<u64> {
    use std::hash::{BuildHasher as _, Hash as _, Hasher as _};
    let mut h = foldhash::fast::FixedState::default().build_hasher();
    tree.hash(&mut h);
    match data {
        Value::Map(m) => {
            let m = m.read();
            if m.len() > MEMO_MAX_ENTRIES {
                return None;
            }
            for (k, v) in m.iter() {
                k.hash(&mut h);
                hash_atom(&mut h, v);
            }
        }
        v => hash_atom(&mut h, v),
    }
    Some(h.finish())
}

impl Memo {
    fn matches(&self, tree: usize, data: &Value) -> bool {
        if self.tree != tree {
            return false;
        }
        match (&self.arg, data) {
            (MemoArg::Entries(e), Value::Map(m)) => {
                let m = m.read();
                m.len() == e.len()
                    && m.iter()
                        .zip(e)
                        .all(|((k, v), (k2, v2))| k == k2 && same_atom(v, v2))
            }
            (MemoArg::Value(v), d) if !matches!(d, Value::Map(_)) => same_atom(v, d),
            _ => false,
        }
    }

    fn arg_of(data: &Value) -> MemoArg {
        match data {
            Value::Map(m) => MemoArg::Entries(
                m.read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            v => MemoArg::Value(v.clone()),
        }
    }
}

/// The host, counting the questions asked of it (an answer may change between two).
struct Counted<'a> {
    host: &'a mut dyn Host,
    calls: u64,
}

impl Host for Counted<'_> {
    fn lookup(
        &mut self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, FuncError> {
        self.calls += 1;
        self.host.lookup(api_version, kind, namespace, name)
    }
}

const DOLLAR: &str = "$";

impl Exec<'_> {
    fn lookup(&self, name: &str) -> Option<Arc<Tree>> {
        for o in self.overlays.iter().rev() {
            if let Some(t) = o.get(name) {
                return Some(t.clone());
            }
        }
        self.set.trees.get(name).cloned()
    }

    fn funcs(&self) -> &FuncMap {
        &self.set.funcs
    }

    // ---- errors ----

    fn err_at(&self, st: &State<'_>, msg: impl Into<String>) -> Box<ExecError> {
        let location = st.at.pos().map(|pos| {
            let (line, col) = st.tree.location(pos);
            Location {
                file: st.tree.parse_name.to_string(),
                line,
                col,
            }
        });
        Box::new(ExecError {
            template: st.tree.name.clone(),
            location,
            context: st.at.text(),
            func: None,
            message: msg.into(),
            fail_message: None,
            limit: false,
        })
    }

    fn limit_err(&self, st: &State<'_>, msg: impl Into<String>) -> Box<ExecError> {
        let mut e = self.err_at(st, msg);
        e.limit = true;
        e
    }

    fn step(&mut self, st: &State<'_>) -> EResult<()> {
        self.steps += 1;
        if self.steps > self.opts.max_steps {
            return Err(self.limit_err(st, "template execution budget exhausted"));
        }
        Ok(())
    }

    fn enter(&mut self, st: &State<'_>) -> EResult<()> {
        self.nest += 1;
        if self.nest > MAX_NESTING {
            return Err(self.limit_err(
                st,
                format!(
                    "exceeded maximum template depth ({})",
                    self.opts.max_depth.min(MAX_NESTING)
                ),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nest -= 1;
    }

    // ---- templates ----

    fn execute_named(&mut self, name: &str, data: Value) -> EResult<String> {
        let Some(tree) = self.lookup(name) else {
            return Err(Box::new(ExecError {
                template: String::new(),
                location: None,
                context: String::new(),
                func: None,
                message: format!(
                    "no template {} associated with template {}",
                    crate::fmt::go_quote(name),
                    crate::fmt::go_quote(&self.opts.root_name)
                ),
                fail_message: None,
                limit: false,
            }));
        };
        let mut out = String::new();
        self.exec_tree(&tree, Val::plain(data), &mut out)?;
        Ok(out)
    }

    fn exec_tree(&mut self, tree: &Tree, dot: Val, out: &mut String) -> EResult<()> {
        let mut st = State {
            tree,
            vars: vec![(DOLLAR, dot.clone())],
            at: At::None,
        };
        if self.depth >= self.opts.max_depth {
            return Err(self.limit_err(
                &st,
                format!("exceeded maximum template depth ({})", self.opts.max_depth),
            ));
        }
        self.depth += 1;
        self.enter(&st)?;
        let r = self.walk_list(&mut st, &dot, &tree.root, out);
        self.leave();
        self.depth -= 1;
        r.map(|_| ())
    }

    // ---- walking ----

    fn walk_list<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        list: &'t [Node],
        out: &mut String,
    ) -> EResult<Flow> {
        for n in list {
            let f = self.walk(st, dot, n, out)?;
            if f != Flow::Normal {
                return Ok(f);
            }
        }
        Ok(Flow::Normal)
    }

    fn write(&self, st: &State<'_>, out: &mut String, s: &str) -> EResult<()> {
        if out.len() + s.len() > self.opts.max_output {
            return Err(self.limit_err(
                st,
                format!(
                    "template output exceeds the limit of {} bytes",
                    self.opts.max_output
                ),
            ));
        }
        out.push_str(s);
        Ok(())
    }

    fn walk<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        node: &'t Node,
        out: &mut String,
    ) -> EResult<Flow> {
        self.step(st)?;
        st.at = At::Node(node);
        match node {
            Node::Text(t) => self.write(st, out, t)?,
            Node::Action(pipe) => {
                let v = self.eval_pipeline(st, dot, pipe)?;
                if pipe.decl.is_empty() {
                    st.at = At::Node(node);
                    match &v {
                        Value::Nil => self.write(st, out, "<no value>")?,
                        Value::String(s) => self.write(st, out, s)?,
                        v => {
                            let s = crate::fmt::format_v(v);
                            self.write(st, out, &s)?;
                        }
                    }
                }
            }
            Node::If(b) => return self.walk_if_with(st, dot, b, false, out),
            Node::With(b) => return self.walk_if_with(st, dot, b, true, out),
            Node::Range(b) => return self.walk_range(st, dot, b, out),
            Node::Template(t) => self.walk_template(st, dot, t, out)?,
            Node::Break(_) => return Ok(Flow::Break),
            Node::Continue(_) => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_if_with<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        b: &'t Branch,
        with: bool,
        out: &mut String,
    ) -> EResult<Flow> {
        self.enter(st)?;
        let mark = st.vars.len();
        let val = self.eval_pipeline(st, dot, &b.pipe)?;
        let flow = if truth(&val) {
            if with {
                self.walk_list(st, &Val::plain(val), &b.list, out)?
            } else {
                self.walk_list(st, dot, &b.list, out)?
            }
        } else if let Some(e) = &b.else_list {
            self.walk_list(st, dot, e, out)?
        } else {
            Flow::Normal
        };
        st.vars.truncate(mark);
        self.leave();
        Ok(flow)
    }

    fn set_var(&self, st: &mut State<'_>, name: &str, v: Val) -> EResult<()> {
        for (n, slot) in st.vars.iter_mut().rev() {
            if *n == name {
                *slot = v;
                return Ok(());
            }
        }
        Err(self.err_at(st, format!("undefined variable: {name}")))
    }

    fn set_top_var(st: &mut State<'_>, n: usize, v: Val) {
        let len = st.vars.len();
        if let Some(slot) = len.checked_sub(n).and_then(|i| st.vars.get_mut(i)) {
            slot.1 = v;
        }
    }

    fn walk_range<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        r: &'t Branch,
        out: &mut String,
    ) -> EResult<Flow> {
        self.enter(st)?;
        st.at = At::Branch("range", r);
        let mark0 = st.vars.len();
        let val = self.eval_pipeline(st, dot, &r.pipe)?;
        let val = match val {
            Value::Object(o) => match o.to_value() {
                v @ (Value::List(_) | Value::Map(_)) => v,
                _ => Value::Object(o),
            },
            v => v,
        };
        let mark = st.vars.len();
        let decl = &r.pipe.decl;
        let mut ran = false;
        let one = |this: &mut Self,
                   st: &mut State<'t>,
                   index: Value,
                   elem: Val,
                   out: &mut String|
         -> EResult<bool> {
            this.step(st)?;
            if let Some(d0) = decl.first() {
                if r.pipe.is_assign {
                    if decl.len() > 1 {
                        this.set_var(st, &d0.name, Val::plain(index.clone()))?;
                    } else {
                        this.set_var(st, &d0.name, elem.clone())?;
                    }
                } else {
                    Self::set_top_var(st, 1, elem.clone());
                }
            }
            if let Some(d1) = decl.get(1) {
                if r.pipe.is_assign {
                    this.set_var(st, &d1.name, elem.clone())?;
                } else {
                    Self::set_top_var(st, 2, Val::plain(index));
                }
            }
            let f = this.walk_list(st, &elem, &r.list, out);
            st.vars.truncate(mark);
            Ok(f? == Flow::Break)
        };
        match &val {
            Value::List(items) if !items.is_empty() => {
                ran = true;
                for (i, item) in items.iter().enumerate() {
                    if one(self, st, Value::Int(i as i64), Val::held(item.clone()), out)? {
                        break;
                    }
                }
            }
            Value::Bytes(b) if !b.is_empty() => {
                ran = true;
                for (i, x) in b.iter().enumerate() {
                    let e = Val::plain(Value::Int(i64::from(*x)));
                    if one(self, st, Value::Int(i as i64), e, out)? {
                        break;
                    }
                }
            }
            Value::Map(m) if !m.is_empty() => {
                ran = true;
                let entries = m.snapshot();
                for (k, v) in entries {
                    if one(self, st, Value::str(k), Val::held(v), out)? {
                        break;
                    }
                }
            }
            Value::Int(n) | Value::Int64(n) => {
                if decl.len() > 1 {
                    return Err(self.err_at(
                        st,
                        format!(
                            "can't use {} to iterate over more than one variable",
                            crate::fmt::format_v(&val)
                        ),
                    ));
                }
                let int64 = matches!(val, Value::Int64(_));
                if *n > 0 {
                    ran = true;
                    for i in 0..*n {
                        let e = if int64 {
                            Value::Int64(i)
                        } else {
                            Value::Int(i)
                        };
                        if one(self, st, Value::Nil, Val::plain(e), out)? {
                            break;
                        }
                    }
                }
            }
            Value::List(_) | Value::Map(_) | Value::Bytes(_) | Value::Nil => {}
            v => {
                return Err(self.err_at(
                    st,
                    format!("range can't iterate over {}", crate::fmt::format_v(v)),
                ));
            }
        }
        if !ran && let Some(e) = &r.else_list {
            self.walk_list(st, dot, e, out)?;
        }
        st.vars.truncate(mark0);
        self.leave();
        Ok(Flow::Normal)
    }

    fn walk_template<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        t: &'t TemplateCall,
        out: &mut String,
    ) -> EResult<()> {
        st.at = At::Tmpl(t);
        let Some(tree) = self.lookup(&t.name) else {
            return Err(self.err_at(
                st,
                format!("template {} not defined", crate::fmt::go_quote(&t.name)),
            ));
        };
        if self.depth >= self.opts.max_depth {
            return Err(self.limit_err(
                st,
                format!("exceeded maximum template depth ({})", self.opts.max_depth),
            ));
        }
        let new_dot = match &t.pipe {
            Some(p) => self.eval_pipeline(st, dot, p)?,
            None => Value::Nil,
        };
        self.exec_tree(&tree, Val::plain(new_dot), out)
    }

    // ---- evaluation ----

    fn eval_pipeline<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        pipe: &'t Pipe,
    ) -> EResult<Value> {
        self.enter(st)?;
        st.at = At::Pipe(pipe);
        let mut value: Option<Val> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(st, dot, cmd, value.take())?;
            value = Some(Val::plain(v.v));
        }
        let value = value.map(|v| v.v).unwrap_or(Value::Nil);
        for d in &pipe.decl {
            if pipe.is_assign {
                self.set_var(st, &d.name, Val::plain(value.clone()))?;
            } else {
                st.vars.push((d.name.as_str(), Val::plain(value.clone())));
            }
        }
        self.leave();
        Ok(value)
    }

    fn not_a_function(&self, st: &State<'_>, args: &[Arg], fin: &Option<Val>) -> EResult<()> {
        if args.len() > 1 || fin.is_some() {
            let first = args.first().map(ToString::to_string).unwrap_or_default();
            return Err(self.err_at(st, format!("can't give argument to non-function {first}")));
        }
        Ok(())
    }

    fn eval_command<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        cmd: &'t Command,
        fin: Option<Val>,
    ) -> EResult<Val> {
        self.step(st)?;
        let Some(first) = cmd.args.first() else {
            return Ok(Val::plain(Value::Nil));
        };
        match first {
            Arg::Field { idents, .. } => {
                st.at = At::Arg(first);
                return self.eval_field_chain(st, dot, dot.clone(), first, idents, &cmd.args, fin);
            }
            Arg::Chain { .. } => return self.eval_chain(st, dot, first, &cmd.args, fin),
            Arg::Ident { name, .. } => {
                st.at = At::Arg(first);
                return self.eval_function(st, dot, name, At::Cmd(cmd), &cmd.args, fin);
            }
            Arg::Pipe(p) => {
                self.not_a_function(st, &cmd.args, &fin)?;
                return self.eval_pipeline(st, dot, p).map(Val::plain);
            }
            Arg::Var { .. } => return self.eval_variable(st, dot, first, &cmd.args, fin),
            _ => {}
        }
        st.at = At::Arg(first);
        self.not_a_function(st, &cmd.args, &fin)?;
        Ok(Val::plain(match first {
            Arg::Bool(_, b) => Value::Bool(*b),
            Arg::Dot(_) => return Ok(dot.clone()),
            Arg::Nil(_) => return Err(self.err_at(st, "nil is not a command")),
            Arg::Number(_, n) => self.ideal_constant(st, n)?,
            Arg::Str { value, .. } => value.clone(),
            _ => Value::Nil,
        }))
    }

    fn ideal_constant(&self, st: &State<'_>, n: &Number) -> EResult<Value> {
        let is_hex_int = n.text.len() > 2
            && n.text.starts_with('0')
            && matches!(n.text.as_bytes().get(1), Some(b'x' | b'X'))
            && !n.text.contains(['p', 'P']);
        let is_rune = n.text.starts_with('\'');
        if n.is_float && !is_hex_int && !is_rune && n.text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(n.float));
        }
        if n.is_int {
            return Ok(Value::Int(n.int));
        }
        if n.is_uint {
            return Err(self.err_at(st, format!("{} overflows int", n.text)));
        }
        Ok(Value::Nil)
    }

    fn eval_variable<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Option<Val>,
    ) -> EResult<Val> {
        st.at = At::Arg(node);
        let Arg::Var { idents, .. } = node else {
            return Ok(Val::plain(Value::Nil));
        };
        let name = idents.first().map(String::as_str).unwrap_or("$");
        let Some(value) = st
            .vars
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
        else {
            return Err(self.err_at(st, format!("undefined variable: {name}")));
        };
        if idents.len() == 1 {
            self.not_a_function(st, args, &fin)?;
            return Ok(value);
        }
        self.eval_field_chain(
            st,
            dot,
            value,
            node,
            idents.get(1..).unwrap_or(&[]),
            args,
            fin,
        )
    }

    fn eval_chain<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Option<Val>,
    ) -> EResult<Val> {
        st.at = At::Arg(node);
        let Arg::Chain {
            node: inner,
            fields,
            ..
        } = node
        else {
            return Ok(Val::plain(Value::Nil));
        };
        if matches!(inner.as_ref(), Arg::Nil(_)) {
            return Err(self.err_at(st, format!("indirection through explicit nil in {node}")));
        }
        let recv = self.eval_arg_untyped(st, dot, inner)?;
        self.eval_field_chain(st, dot, recv, node, fields, args, fin)
    }

    /// Go's `evalArg(dot, nil, n)`: the operand's value without type checks.
    fn eval_arg_untyped<'t>(&mut self, st: &mut State<'t>, dot: &Val, n: &'t Arg) -> EResult<Val> {
        st.at = At::Arg(n);
        match n {
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Ok(Val::plain(Value::Nil)),
            Arg::Field { idents, .. } => self.eval_field_chain(
                st,
                dot,
                dot.clone(),
                n,
                idents,
                std::slice::from_ref(n),
                None,
            ),
            Arg::Var { .. } => self.eval_variable(st, dot, n, &[], None),
            Arg::Pipe(p) => self.eval_pipeline(st, dot, p).map(Val::plain),
            Arg::Ident { name, .. } => self.eval_function(st, dot, name, At::Arg(n), &[], None),
            Arg::Chain { .. } => self.eval_chain(st, dot, n, &[], None),
            Arg::Bool(_, b) => Ok(Val::plain(Value::Bool(*b))),
            Arg::Number(_, num) => self.ideal_constant(st, num).map(Val::plain),
            Arg::Str { value, .. } => Ok(Val::plain(value.clone())),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field_chain<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        mut recv: Val,
        node: &'t Arg,
        idents: &'t [String],
        args: &'t [Arg],
        fin: Option<Val>,
    ) -> EResult<Val> {
        let n = idents.len();
        for id in idents.iter().take(n.saturating_sub(1)) {
            recv = self.eval_field(st, dot, id, node, &[], None, recv)?;
        }
        match idents.last() {
            Some(last) => self.eval_field(st, dot, last, node, args, fin, recv),
            None => Ok(recv),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Option<Val>,
        recv: Val,
    ) -> EResult<Val> {
        if recv.v.is_nil() {
            if !recv.iface {
                if self.opts.missing_key == MissingKey::Error {
                    return Err(self.err_at(
                        st,
                        format!("nil data; no entry for key {}", crate::fmt::go_quote(name)),
                    ));
                }
                return Ok(Val::plain(Value::Nil));
            }
            return Err(self.err_at(st, format!("nil pointer evaluating interface {{}}.{name}")));
        }
        let has_args = args.len() > 1 || fin.is_some();
        match &recv.v {
            Value::Map(m) => {
                if has_args {
                    return Err(
                        self.err_at(st, format!("{name} is not a method but has arguments"))
                    );
                }
                match m.get(name) {
                    Some(v) => Ok(Val::held(v)),
                    None => match self.opts.missing_key {
                        MissingKey::Default => Ok(Val::plain(Value::Nil)),
                        MissingKey::Zero => Ok(Val::held(Value::Nil)),
                        MissingKey::Error => Err(self.err_at(
                            st,
                            format!("map has no entry for key {}", crate::fmt::go_quote(name)),
                        )),
                    },
                }
            }
            Value::Object(o) => {
                let o = o.clone();
                if has_args {
                    let mut argv = Vec::new();
                    for a in args.iter().skip(1) {
                        argv.push(self.eval_arg(st, dot, Ty::Any, a)?);
                    }
                    if let Some(f) = fin {
                        argv.push(self.validate_type(st, f, Ty::Any)?);
                    }
                    return match o.call_method(name, &argv) {
                        Some(Ok(v)) => Ok(Val::plain(v)),
                        Some(Err(e)) => {
                            st.at = At::Arg(node);
                            Err(self.call_error(st, name, CallError::Func(e)))
                        }
                        None => {
                            st.at = At::Arg(node);
                            if o.field(name).is_some() {
                                Err(self.err_at(
                                    st,
                                    format!(
                                        "{name} has arguments but cannot be invoked as function"
                                    ),
                                ))
                            } else {
                                Err(self.err_at(
                                    st,
                                    format!(
                                        "can't evaluate field {name} in type {}",
                                        o.type_name()
                                    ),
                                ))
                            }
                        }
                    };
                }
                if let Some(v) = o.field(name) {
                    return Ok(Val::plain(v));
                }
                match o.call_method(name, &[]) {
                    Some(Ok(v)) => Ok(Val::plain(v)),
                    Some(Err(e)) => Err(self.call_error(st, name, CallError::Func(e))),
                    None => Err(self.err_at(
                        st,
                        format!("can't evaluate field {name} in type {}", o.type_name()),
                    )),
                }
            }
            v => {
                let ty = if recv.iface {
                    "interface {}"
                } else {
                    v.type_name()
                };
                Err(self.err_at(st, format!("can't evaluate field {name} in type {ty}")))
            }
        }
    }

    fn eval_function<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        name: &str,
        node: At<'t>,
        args: &'t [Arg],
        fin: Option<Val>,
    ) -> EResult<Val> {
        let Some(def) = self.funcs().get(name).copied() else {
            return Err(self.err_at(
                st,
                format!("{} is not a defined function", crate::fmt::go_quote(name)),
            ));
        };
        self.eval_call(st, dot, &def, node, args, fin)
    }

    fn call_error(&self, st: &State<'_>, name: &str, e: CallError) -> Box<ExecError> {
        let mut err = self.err_at(st, String::new());
        err.func = Some(name.to_string());
        match e {
            CallError::Func(f) => {
                err.limit = matches!(f, FuncError::Limit(_));
                if let FuncError::Fail(m) = &f {
                    err.fail_message = Some(m.clone());
                }
                err.message = f.to_string();
            }
            CallError::Nested(msg, fail, limit) => {
                err.message = msg;
                err.fail_message = fail;
                err.limit = limit;
            }
        }
        err
    }

    fn eval_call<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        def: &FuncDef,
        node: At<'t>,
        args: &'t [Arg],
        fin: Option<Val>,
    ) -> EResult<Val> {
        let name = def.name;
        let args = args.get(1..).unwrap_or(&[]);
        let intrinsic = intrinsic(def);
        let sig = def.sig;
        let num_in = args.len() + usize::from(fin.is_some());
        let num_fixed = if sig.variadic.is_some() {
            sig.params.len()
        } else {
            args.len()
        };
        if sig.variadic.is_some() {
            if num_in < num_fixed {
                return Err(self.err_at(
                    st,
                    format!(
                        "wrong number of args for {name}: want at least {} got {}",
                        sig.params.len(),
                        args.len()
                    ),
                ));
            }
        } else if num_in != sig.params.len() {
            return Err(self.err_at(
                st,
                format!(
                    "wrong number of args for {name}: want {} got {num_in}",
                    sig.params.len()
                ),
            ));
        }
        // and/or short-circuit and return the deciding operand.
        if let Some(k @ (Intrinsic::And | Intrinsic::Or)) = intrinsic {
            let want = k == Intrinsic::Or;
            let mut v = Value::Nil;
            for a in args {
                v = self.eval_arg(st, dot, Ty::Any, a)?;
                if truth(&v) == want {
                    return Ok(Val::plain(v));
                }
            }
            if let Some(f) = fin {
                v = self.validate_type(st, f, Ty::Any)?;
            }
            return Ok(Val::plain(v));
        }
        let mut argv = Vec::with_capacity(num_in);
        let mut i = 0;
        while i < num_fixed && i < args.len() {
            let ty = sig.params.get(i).copied().unwrap_or(Ty::Any);
            if let Some(a) = args.get(i) {
                argv.push(self.eval_arg(st, dot, ty, a)?);
            }
            i += 1;
        }
        if let Some(rest) = sig.variadic {
            for a in args.iter().skip(i) {
                argv.push(self.eval_arg(st, dot, rest, a)?);
            }
        }
        if let Some(f) = fin {
            let ty = match sig.variadic {
                Some(rest) => {
                    if num_in - 1 < num_fixed {
                        sig.params.get(num_in - 1).copied().unwrap_or(Ty::Any)
                    } else {
                        rest
                    }
                }
                None => sig.params.last().copied().unwrap_or(Ty::Any),
            };
            argv.push(self.validate_type(st, f, ty)?);
        }
        let result = match intrinsic {
            Some(Intrinsic::Include) => self.include(&argv),
            Some(Intrinsic::Tpl) => self.tpl(&argv),
            Some(Intrinsic::Call) => {
                let callee = args.first().map(ToString::to_string).unwrap_or_default();
                Err(CallError::Func(FuncError::msg(match argv.first() {
                    None | Some(Value::Nil) => "call of nil".to_string(),
                    Some(v) => format!("non-function {callee} of type {}", v.type_name()),
                })))
            }
            _ => {
                let mut ctx = FuncCtx {
                    env: &mut *self.env,
                    limits: &self.opts.limits,
                    host: &mut self.host,
                };
                (def.f)(&mut ctx, &argv).map_err(CallError::Func)
            }
        };
        match result {
            Ok(v) => Ok(Val::plain(v)),
            Err(e) => {
                st.at = node;
                Err(self.call_error(st, name, e))
            }
        }
    }

    fn eval_arg<'t>(
        &mut self,
        st: &mut State<'t>,
        dot: &Val,
        ty: Ty,
        n: &'t Arg,
    ) -> EResult<Value> {
        st.at = At::Arg(n);
        match n {
            Arg::Dot(_) => return self.validate_type(st, dot.clone(), ty),
            Arg::Nil(_) => {
                return match ty {
                    Ty::Any => Ok(Value::Nil),
                    Ty::List => Ok(Value::list(Vec::new())),
                    Ty::Map => Ok(Value::map(Default::default())),
                    _ => Err(self.err_at(st, format!("cannot assign nil to {}", ty_name(ty)))),
                };
            }
            Arg::Field { .. }
            | Arg::Var { .. }
            | Arg::Pipe(_)
            | Arg::Ident { .. }
            | Arg::Chain { .. } => {
                let v = self.eval_arg_untyped(st, dot, n)?;
                return self.validate_type(st, v, ty);
            }
            _ => {}
        }
        let found = |this: &Self, st: &State<'_>, what: &str| {
            Err(this.err_at(st, format!("expected {what}; found {n}")))
        };
        match ty {
            Ty::Bool => match n {
                Arg::Bool(_, b) => Ok(Value::Bool(*b)),
                _ => found(self, st, "bool"),
            },
            Ty::Float64 => match n {
                Arg::Number(_, num) if num.is_float => Ok(Value::Float(num.float)),
                _ => found(self, st, "float"),
            },
            Ty::Int | Ty::Int64 => match n {
                Arg::Number(_, num) if num.is_int => Ok(if ty == Ty::Int {
                    Value::Int(num.int)
                } else {
                    Value::Int64(num.int)
                }),
                _ => found(self, st, "integer"),
            },
            Ty::String => match n {
                Arg::Str { value, .. } => Ok(value.clone()),
                _ => found(self, st, "string"),
            },
            Ty::Any => self.eval_arg_untyped(st, dot, n).map(|v| v.v),
            Ty::List | Ty::Map => Err(self.err_at(
                st,
                format!("can't handle {n} for arg of type {}", ty_name(ty)),
            )),
        }
    }

    fn validate_type(&self, st: &State<'_>, val: Val, ty: Ty) -> EResult<Value> {
        if val.v.is_nil() {
            if ty == Ty::Any {
                return Ok(Value::Nil);
            }
            if val.iface {
                return Err(self.err_at(
                    st,
                    format!(
                        "wrong type for value; expected {}; got interface {{}}",
                        ty_name(ty)
                    ),
                ));
            }
            return match ty {
                Ty::List => Ok(Value::list(Vec::new())),
                Ty::Map => Ok(Value::map(Default::default())),
                _ => Err(self.err_at(st, format!("invalid value; expected {}", ty_name(ty)))),
            };
        }
        let ok = match ty {
            Ty::Any => true,
            Ty::String => matches!(val.v, Value::String(_)),
            Ty::Int => matches!(val.v, Value::Int(_)),
            Ty::Int64 => matches!(val.v, Value::Int64(_)),
            Ty::Float64 => matches!(val.v, Value::Float(_)),
            Ty::Bool => matches!(val.v, Value::Bool(_)),
            Ty::List => matches!(val.v, Value::List(_)),
            Ty::Map => matches!(val.v, Value::Map(_)),
        };
        if ok {
            Ok(val.v)
        } else {
            Err(self.err_at(
                st,
                format!(
                    "wrong type for value; expected {}; got {}",
                    ty_name(ty),
                    val.v.type_name()
                ),
            ))
        }
    }

    // ---- Helm's include and tpl ----

    fn include(&mut self, argv: &[Value]) -> Result<Value, CallError> {
        let name = argv
            .first()
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let data = argv.get(1).cloned().unwrap_or(Value::Nil);
        let count = self.included.entry(name.clone()).or_insert(0);
        if *count > self.opts.max_include_nesting {
            return Err(CallError::Func(FuncError::msg(format!(
                "rendering template has a nested reference name: {name}: unable to execute template"
            ))));
        }
        // Charts include the same helper with the same arguments many times (`include
        // "app.labels" .` in every object, Bitnami's `(dict "context" $ ...)`). Output depends
        // only on the template and its argument (Go's named templates see no caller
        // variables), so a template that is not inside itself nor inside `tpl` (whose
        // definitions may shadow) renders what it rendered before from an argument that reads
        // the same: the same map or a map of the same entries, while no map that existed then
        // has been written since; unless that render drew random bytes or asked the cluster.
        let tree = if self.overlays.is_empty() && *count == 0 {
            self.set.trees.get(&name).map(|t| Arc::as_ptr(t) as usize)
        } else {
            None
        };
        let key = tree.and_then(|t| memo_hash(t, &data).map(|h| (t, h)));
        if let Some((t, h)) = key
            && let Some(memo) = self.memo.get(&h).and_then(|ms| {
                ms.iter()
                    .find(|m| m.matches(t, &data) && crate::value::still_reads_as(m.mark))
            })
        {
            return Ok(memo.out.clone());
        }
        *count += 1;
        let mark = crate::value::mark();
        let (draws, calls) = (self.env.draws(), self.host.calls);
        let r = self.execute_named(&name, data.clone());
        if let Some(c) = self.included.get_mut(&name) {
            *c = c.saturating_sub(1);
        }
        match r {
            Ok(s) => {
                let out = Value::str(s);
                if let Some((t, h)) = key
                    && draws == self.env.draws()
                    && calls == self.host.calls
                    && crate::value::still_reads_as(mark)
                {
                    let memo = Memo {
                        tree: t,
                        arg: Memo::arg_of(&data),
                        mark,
                        out: out.clone(),
                    };
                    let slot = self.memo.entry(h).or_default();
                    slot.retain(|m| !m.matches(t, &data));
                    slot.push(memo);
                }
                Ok(out)
            }
            Err(e) => Err(CallError::Nested(
                e.to_string(),
                e.fail_message.clone(),
                e.limit,
            )),
        }
    }

    fn tpl(&mut self, argv: &[Value]) -> Result<Value, CallError> {
        let text = argv
            .first()
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let data = argv.get(1).cloned().unwrap_or(Value::Nil);
        let root = self.opts.root_name.clone();
        let funcs = self.set.funcs.clone();
        let has = |n: &str| funcs.contains(n);
        let trees = match parse::parse(&root, &text, &has) {
            Ok(t) => t,
            Err(e) => {
                return Err(CallError::Func(FuncError::msg(format!(
                    "cannot parse template {}: {e}",
                    crate::fmt::go_quote(&text)
                ))));
            }
        };
        let mut overlay = HashMap::default();
        for t in trees {
            let lookup = |n: &str| self.lookup(n);
            add_tree(&mut overlay, Some(&lookup), t);
        }
        let Some(tree) = overlay.get(&root).cloned() else {
            return Ok(Value::str(""));
        };
        self.overlays.push(overlay);
        let mut out = String::new();
        let r = self.exec_tree(&tree, Val::plain(data), &mut out);
        self.overlays.pop();
        match r {
            Ok(()) => Ok(Value::str(out.replace("<no value>", ""))),
            Err(e) => Err(CallError::Nested(
                format!(
                    "error during tpl function execution for {}: {e}",
                    crate::fmt::go_quote(&text)
                ),
                e.fail_message.clone(),
                e.limit,
            )),
        }
    }
}

/// Functions the executor runs itself (they need the template set or lazy arguments). They
/// are registered in the function map (so parsing knows them and a later registration can
/// replace them); the executor recognises them by function identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Intrinsic {
    And,
    Or,
    Call,
    Include,
    Tpl,
}

/// Placeholder bodies of the intrinsics (only reached if called outside the executor).
#[inline(never)]
pub(crate) fn intrinsic_and(_: &mut FuncCtx<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let mut last = Value::Nil;
    for a in args {
        if !a.truthy() {
            return Ok(a.clone());
        }
        last = a.clone();
    }
    Ok(last)
}

#[inline(never)]
pub(crate) fn intrinsic_or(_: &mut FuncCtx<'_>, args: &[Value]) -> Result<Value, FuncError> {
    let mut last = Value::Nil;
    for a in args {
        if a.truthy() {
            return Ok(a.clone());
        }
        last = a.clone();
    }
    Ok(last)
}

#[inline(never)]
pub(crate) fn intrinsic_call(_: &mut FuncCtx<'_>, _: &[Value]) -> Result<Value, FuncError> {
    Err(FuncError::msg("call of nil"))
}

#[inline(never)]
pub(crate) fn intrinsic_include(_: &mut FuncCtx<'_>, _: &[Value]) -> Result<Value, FuncError> {
    Err(FuncError::msg("include is only available inside templates"))
}

#[inline(never)]
pub(crate) fn intrinsic_tpl(_: &mut FuncCtx<'_>, _: &[Value]) -> Result<Value, FuncError> {
    Err(FuncError::msg("tpl is only available inside templates"))
}

fn intrinsic(def: &FuncDef) -> Option<Intrinsic> {
    use std::ptr::fn_addr_eq;
    let f = def.f;
    let table: [(crate::funcs::Func, Intrinsic); 5] = [
        (intrinsic_and, Intrinsic::And),
        (intrinsic_or, Intrinsic::Or),
        (intrinsic_call, Intrinsic::Call),
        (intrinsic_include, Intrinsic::Include),
        (intrinsic_tpl, Intrinsic::Tpl),
    ];
    table
        .iter()
        .find(|(g, _)| fn_addr_eq(f, *g))
        .map(|(_, k)| *k)
}

/// Go's `text/template` truth (`isTrue`): objects (structs) are true.
fn truth(v: &Value) -> bool {
    v.truthy()
}

/// How Go prints a parameter type in errors.
pub(crate) fn ty_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Any => "interface {}",
        Ty::String => "string",
        Ty::Int => "int",
        Ty::Int64 => "int64",
        Ty::Float64 => "float64",
        Ty::Bool => "bool",
        Ty::List => "[]interface {}",
        Ty::Map => "map[string]interface {}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::Offline;

    fn run(src: &str, data: Value) -> Result<String, String> {
        let mut t = Templates::new(Arc::new(FuncMap::go()));
        t.parse("x", src).map_err(|e| e.to_string())?;
        let mut env = Env::fixed(0, 1);
        t.execute("x", &data, &ExecOptions::default(), &mut env, &mut Offline)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn basics() {
        assert_eq!(run("a{{ . }}b", Value::Int(3)).as_deref(), Ok("a3b"));
        assert_eq!(
            run("{{ .x }}", Value::map(Default::default())).as_deref(),
            Ok("<no value>")
        );
        assert!(Templates::new(Arc::new(FuncMap::go())).names().is_empty());
    }

    /// A cluster whose answer changes with every question.
    struct Ticking(i64);

    impl Host for Ticking {
        fn lookup(&mut self, _: &str, _: &str, _: &str, _: &str) -> Result<Value, FuncError> {
            self.0 += 1;
            let mut m = crate::value::Map::new();
            m.insert("n".into(), Value::Int(self.0));
            Ok(Value::map(m))
        }
    }

    fn helm(src: &str, host: &mut dyn Host) -> String {
        let mut t = Templates::new(Arc::new(FuncMap::helm()));
        t.parse("x", src).unwrap_or_else(|e| panic!("{e}"));
        let mut m = crate::value::Map::new();
        m.insert("a".into(), Value::str("1"));
        let mut env = Env::fixed(0, 1);
        t.execute("x", &Value::map(m), &ExecOptions::default(), &mut env, host)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn include_memo_never_shows_stale_output() {
        let mut offline = Offline;
        // Same template, same map: the same text, also when remembered.
        let same = r#"{{ define "t" }}[{{ .a }}]{{ end }}{{ include "t" . }}{{ include "t" . }}"#;
        assert_eq!(helm(same, &mut offline), "[1][1]");
        // A write between two includes shows in the second.
        let written = r#"{{ define "t" }}[{{ .a }}]{{ end }}{{ include "t" . }}{{ $_ := set . "a" "2" }}{{ include "t" . }}"#;
        assert_eq!(helm(written, &mut offline), "[1][2]");
        // A write to a map inside the argument shows too.
        let nested = r#"{{ define "t" }}[{{ .in.a }}]{{ end }}{{ $d := dict "in" (dict "a" 1) }}{{ include "t" $d }}{{ $_ := set $d.in "a" 2 }}{{ include "t" $d }}"#;
        assert_eq!(helm(nested, &mut offline), "[1][2]");
        // A template that writes while it renders is rendered again each time.
        let counting = r#"{{ define "t" }}{{ $_ := set . "n" (add1 (default 0 .n)) }}{{ .n }}{{ end }}{{ include "t" . }}{{ include "t" . }}"#;
        assert_eq!(helm(counting, &mut offline), "12");
        // Random bytes are drawn again on every include.
        let random = r#"{{ define "t" }}{{ randAlphaNum 12 }}{{ end }}{{ include "t" . }} {{ include "t" . }}"#;
        let out = helm(random, &mut offline);
        let (a, b) = out.split_once(' ').unwrap_or_default();
        assert_eq!(a.len(), 12);
        assert_ne!(a, b);
        // The cluster is asked again on every include.
        let lookup = r#"{{ define "t" }}{{ (lookup "v1" "ConfigMap" "ns" "x").n }}{{ end }}{{ include "t" . }}{{ include "t" . }}"#;
        assert_eq!(helm(lookup, &mut Ticking(0)), "12");
        // A different template or an argument with other entries renders anew.
        let other = r#"{{ define "t" }}{{ .a }}{{ end }}{{ define "u" }}u{{ .a }}{{ end }}{{ include "t" . }}{{ include "u" . }}{{ include "t" (dict "a" 3) }}{{ include "t" (dict "a" 4) }}{{ include "t" (dict "a" 3 "b" 1) }}"#;
        assert_eq!(helm(other, &mut offline), "1u1343");
        // Bitnami's style, a fresh dict per call: a write to a map the dict reaches shows.
        let dicts = r#"{{ define "t" }}[{{ .ctx.a }}]{{ end }}{{ include "t" (dict "ctx" $) }}{{ $_ := set $ "a" "2" }}{{ include "t" (dict "ctx" $) }}"#;
        assert_eq!(helm(dicts, &mut offline), "[1][2]");
        // Writes to maps the template makes itself do not stop it being remembered, and a later
        // write to one of them changes nothing it read.
        let local = r#"{{ define "t" }}{{ $d := dict "x" .a }}{{ $_ := set $d "y" "z" }}{{ $d | toJson }}{{ end }}{{ include "t" . }}{{ include "t" . }}"#;
        assert_eq!(
            helm(local, &mut offline),
            r#"{"x":"1","y":"z"}{"x":"1","y":"z"}"#
        );
        // A write to a map made after the first render but reachable through an older one.
        let grafted = r#"{{ define "t" }}{{ .in | toJson }}{{ end }}{{ $_ := set . "in" (dict) }}{{ include "t" . }}{{ $n := dict }}{{ $_ := set . "in" $n }}{{ include "t" . }}{{ $_ := set $n "k" 1 }}{{ include "t" . }}"#;
        assert_eq!(helm(grafted, &mut offline), r#"{}{}{"k":1}"#);
    }

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn templates_are_send_sync() {
        assert_send_sync::<Templates>();
    }
}
