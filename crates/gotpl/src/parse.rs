//! The parser of Go's `text/template` (`text/template/parse/parse.go` and `node.go`, Go 1.25):
//! turns a template text into trees: the named top-level tree and one tree per
//! `{{define}}`/`{{block}}`. Errors read as Go's (`template: NAME:LINE: unexpected ...`).
//!
//! Nodes keep their byte position in the text they came from, so the executor can report
//! `NAME:LINE:COL` the way Go's `ErrorContext` does, and print the node back (`at <.a.b>`) with
//! Go's `String()` forms. Nesting (parentheses, blocks) is capped at [`MAX_PARSE_DEPTH`] so a
//! hostile template cannot overflow the stack.

use std::fmt;
use std::sync::Arc;

use crate::lex::{Kind, Lexed, Token, lex};
use crate::value::Value;

/// Deepest nesting of parenthesized pipelines plus control blocks a template may have (Go
/// allows 10000 parentheses; 250 keeps parsing and executing inside a 2 MiB stack even in a
/// debug build, far beyond what charts nest).
pub const MAX_PARSE_DEPTH: usize = 250;

/// One parsed template: a file or a `define`.
#[derive(Debug)]
pub struct Tree {
    /// The template's name (`x.yaml`, or the `define` name).
    pub name: String,
    /// The name of the top-level template the text came from, for error locations.
    pub parse_name: Arc<str>,
    /// The whole text the tree was parsed from (node positions index it).
    pub text: Arc<str>,
    pub root: Vec<Node>,
}

impl Tree {
    /// Go's `parse.IsEmptyTree`: only whitespace text (and comments).
    pub fn is_empty(&self) -> bool {
        self.root.iter().all(|n| match n {
            Node::Text(t) => t.trim_ascii().is_empty(),
            _ => false,
        })
    }

    /// Go's `ErrorContext` location: `NAME:LINE:COL` (COL is the 0-based byte offset in the
    /// line).
    pub fn location(&self, pos: usize) -> (usize, usize) {
        let before = self.text.get(..pos).unwrap_or(&self.text);
        let line = 1 + before.bytes().filter(|b| *b == b'\n').count();
        let col = match before.rfind('\n') {
            Some(i) => pos - i - 1,
            None => pos,
        };
        (line, col)
    }
}

/// A node of a template body.
#[derive(Debug)]
pub enum Node {
    Text(String),
    Action(Box<Pipe>),
    If(Box<Branch>),
    With(Box<Branch>),
    Range(Box<Branch>),
    Template(Box<TemplateCall>),
    Break(usize),
    Continue(usize),
}

/// `if`, `with` and `range`: the pipeline, the body and the optional `else` body.
#[derive(Debug)]
pub struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

/// `{{template "name" pipeline}}` (also what `{{block}}` leaves in place).
#[derive(Debug)]
pub struct TemplateCall {
    pub pos: usize,
    pub name: String,
    pub pipe: Option<Pipe>,
}

/// A pipeline, with its variable declarations (`$x :=`) or assignments (`$x =`).
#[derive(Debug)]
pub struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<VarDecl>,
    pub cmds: Vec<Command>,
}

#[derive(Debug)]
pub struct VarDecl {
    pub pos: usize,
    pub name: String,
}

/// One command of a pipeline: a function or method call, or an operand.
#[derive(Debug)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Debug)]
pub enum Arg {
    /// `.a.b`
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    /// `(pipe).a.b`
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    /// A function name.
    Ident {
        pos: usize,
        name: String,
    },
    /// `$x.a.b` (`idents[0]` is `$x`).
    Var {
        pos: usize,
        idents: Vec<String>,
    },
    Dot(usize),
    Nil(usize),
    Bool(usize, bool),
    Number(usize, Box<Number>),
    /// A string constant: the original quoted text and the value.
    Str {
        pos: usize,
        quoted: String,
        value: Value,
    },
    /// A parenthesized pipeline.
    Pipe(Box<Pipe>),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Ident { pos, .. }
            | Arg::Var { pos, .. }
            | Arg::Dot(pos)
            | Arg::Nil(pos)
            | Arg::Bool(pos, _)
            | Arg::Number(pos, _)
            | Arg::Str { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

/// A number constant, with every Go type it can be (Go's `NumberNode`).
#[derive(Debug, Clone)]
pub struct Number {
    pub text: String,
    pub is_int: bool,
    pub is_uint: bool,
    pub is_float: bool,
    pub is_complex: bool,
    pub int: i64,
    pub uint: u64,
    pub float: f64,
}

// ---- Go's String() forms, for error contexts ----

fn write_list(f: &mut fmt::Formatter<'_>, list: &[Node]) -> fmt::Result {
    for n in list {
        write!(f, "{n}")?;
    }
    Ok(())
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text(t) => f.write_str(t),
            Node::Action(p) => write!(f, "{{{{{p}}}}}"),
            Node::If(b) => write_branch(f, "if", b),
            Node::With(b) => write_branch(f, "with", b),
            Node::Range(b) => write_branch(f, "range", b),
            Node::Template(t) => write!(f, "{t}"),
            Node::Break(_) => f.write_str("{{break}}"),
            Node::Continue(_) => f.write_str("{{continue}}"),
        }
    }
}

fn write_branch(f: &mut fmt::Formatter<'_>, name: &str, b: &Branch) -> fmt::Result {
    write!(f, "{{{{{name} {}}}}}", b.pipe)?;
    write_list(f, &b.list)?;
    if let Some(e) = &b.else_list {
        f.write_str("{{else}}")?;
        write_list(f, e)?;
    }
    f.write_str("{{end}}")
}

impl fmt::Display for TemplateCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = crate::fmt::go_quote(&self.name);
        match &self.pipe {
            Some(p) => write!(f, "{{{{template {name} {p}}}}}"),
            None => write!(f, "{{{{template {name}}}}}"),
        }
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (i, v) in self.decl.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(&v.name)?;
            }
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(p) = node.as_ref() {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for i in fields {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Ident { name, .. } => f.write_str(name),
            Arg::Var { idents, .. } => f.write_str(&idents.join(".")),
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => f.write_str(if *b { "true" } else { "false" }),
            Arg::Number(_, n) => f.write_str(&n.text),
            Arg::Str { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

/// A parse error, in Go's words: `template: NAME:LINE: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The template (file) name.
    pub name: String,
    pub line: usize,
    /// The message without the `template: NAME:LINE: ` prefix.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template: {}:{}: {}", self.name, self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

type PResult<T> = Result<T, ParseError>;

/// What `textOrAction` found: a node, or the `{{end}}`/`{{else}}` closing a list.
enum Item {
    Node(Node),
    End,
    Else,
}

struct Parser<'a> {
    name: Arc<str>,
    text: Arc<str>,
    lexed: Lexed<'a>,
    cursor: usize,
    token: [usize; 3],
    peek_count: usize,
    vars: Vec<String>,
    range_depth: usize,
    /// Where the action being parsed starts, for errors that span lines.
    action_pos: Option<usize>,
    depth: usize,
    has_func: &'a dyn Fn(&str) -> bool,
    trees: Vec<Tree>,
    // Stacks the lists being parsed grow on (nested lists above their parents'), each moved
    // into a list of its exact size when it ends: no list regrows, and the tree takes no more
    // memory than it holds. A parse error ends the whole parse, so nothing is left half-done.
    nodes: Vec<Node>,
    cmds: Vec<Command>,
    args: Vec<Arg>,
}

/// Parses `text` as the template `name`: returns its trees, the top-level one last (Go's
/// `treeSet` order of `add`), each `define`/`block` before it in order of appearance.
/// `has_func` tells whether a function name exists (Go checks at parse time).
pub fn parse(name: &str, text: &str, has_func: &dyn Fn(&str) -> bool) -> PResult<Vec<Tree>> {
    let name: Arc<str> = Arc::from(name);
    let text_arc: Arc<str> = Arc::from(text);
    let mut p = Parser {
        name: name.clone(),
        text: text_arc.clone(),
        lexed: lex(text),
        cursor: 0,
        token: [0; 3],
        peek_count: 0,
        vars: vec!["$".into()],
        range_depth: 0,
        action_pos: None,
        depth: 0,
        has_func,
        trees: Vec::new(),
        nodes: Vec::new(),
        cmds: Vec::new(),
        args: Vec::new(),
    };
    let root = p.parse_top()?;
    let tree = Tree {
        name: name.to_string(),
        parse_name: name,
        text: text_arc,
        root,
    };
    p.add(tree)?;
    Ok(p.trees)
}

impl<'a> Parser<'a> {
    /// The text of token `t` in the template.
    fn val(&self, t: &Token) -> &'a str {
        self.lexed.val(t)
    }

    fn tok(&self, i: usize) -> &Token {
        self.lexed.toks.get(i).unwrap_or(&Token::EOF)
    }

    fn lex_next(&mut self) -> usize {
        let i = self.cursor;
        if self.cursor + 1 < self.lexed.toks.len() {
            self.cursor += 1;
        }
        i
    }

    fn next(&mut self) -> Token {
        if self.peek_count > 0 {
            self.peek_count -= 1;
        } else {
            self.token[0] = self.lex_next();
        }
        *self.tok(self.token[self.peek_count])
    }

    fn backup(&mut self) {
        self.peek_count += 1;
    }

    fn backup2(&mut self, t1: usize) {
        self.token[1] = t1;
        self.peek_count = 2;
    }

    fn backup3(&mut self, t2: usize, t1: usize) {
        self.token[1] = t1;
        self.token[2] = t2;
        self.peek_count = 3;
    }

    fn peek(&mut self) -> Token {
        if self.peek_count > 0 {
            return *self.tok(self.token[self.peek_count - 1]);
        }
        self.peek_count = 1;
        self.token[0] = self.lex_next();
        *self.tok(self.token[0])
    }

    /// Index of the token `next` would return... used to push tokens back.
    fn next_idx(&mut self) -> usize {
        if self.peek_count > 0 {
            self.peek_count -= 1;
        } else {
            self.token[0] = self.lex_next();
        }
        self.token[self.peek_count]
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next();
            if t.kind != Kind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err(ParseError {
            name: self.name.to_string(),
            line: self.lexed.line_of(self.tok(self.token[0]).pos()),
            message: msg.into(),
        })
    }

    fn unexpected<T>(&self, token: &Token, context: &str) -> PResult<T> {
        if token.kind == Kind::Error {
            let mut extra = String::new();
            let action_line = self.action_pos.map(|p| self.lexed.line_of(p));
            if let Some(action_line) = action_line
                && action_line != self.lexed.line_of(token.pos())
            {
                extra = format!(" in action started at {}:{}", self.name, action_line);
                if self.lexed.text_of(token).ends_with(" action") {
                    extra = extra.replacen(" in action", "", 1);
                }
            }
            return self.err(format!("{}{}", self.lexed.text_of(token), extra));
        }
        let described = token.describe(self.lexed.text_of(token));
        self.err(format!("unexpected {described} in {context}"))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> PResult<Token> {
        let t = self.next_non_space();
        if t.kind != kind {
            return self.unexpected(&t, context);
        }
        Ok(t)
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth >= MAX_PARSE_DEPTH {
            return self.err("max expression depth exceeded");
        }
        Ok(())
    }

    /// Go's `Tree.add` within one parse: a second non-empty definition is an error.
    fn add(&mut self, tree: Tree) -> PResult<()> {
        if let Some(i) = self.trees.iter().position(|t| t.name == tree.name) {
            if self.trees.get(i).is_some_and(Tree::is_empty) {
                self.trees.remove(i);
                self.trees.push(tree);
                return Ok(());
            }
            if !tree.is_empty() {
                return self.err(format!(
                    "template: multiple definition of template {}",
                    crate::fmt::go_quote(&tree.name)
                ));
            }
            return Ok(());
        }
        self.trees.push(tree);
        Ok(())
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let mark = self.nodes.len();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let delim = self.next_idx();
                if self.next_non_space().kind == Kind::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.backup2(delim);
            }
            match self.text_or_action()? {
                Item::Node(n) => self.nodes.push(n),
                Item::End => return self.err("unexpected {{end}}"),
                Item::Else => return self.err("unexpected {{else}}"),
            }
        }
        Ok(self.nodes.drain(mark..).collect())
    }

    fn parse_definition(&mut self) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let t = self.next_non_space();
        if t.kind != Kind::String && t.kind != Kind::RawString {
            return self.unexpected(&t, CONTEXT);
        }
        let name = match unquote(self.val(&t)) {
            Some(s) => s,
            None => return self.err("invalid syntax"),
        };
        self.expect(Kind::RightDelim, CONTEXT)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_range = std::mem::take(&mut self.range_depth);
        let (list, end) = self.item_list()?;
        if !matches!(end, Item::End) {
            return self.err(format!("unexpected {{{{else}}}} in {CONTEXT}"));
        }
        self.vars = saved_vars;
        self.range_depth = saved_range;
        let tree = Tree {
            name,
            parse_name: self.name.clone(),
            text: self.text.clone(),
            root: list,
        };
        self.add(tree)
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, Item)> {
        let mark = self.nodes.len();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Item::Node(n) => self.nodes.push(n),
                end => return Ok((self.nodes.drain(mark..).collect(), end)),
            }
        }
        self.err("unexpected EOF")
    }

    fn text_or_action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Text => Ok(Item::Node(Node::Text(self.val(&t).to_string()))),
            Kind::LeftDelim => {
                self.action_pos = Some(t.pos());
                let r = self.action();
                self.action_pos = None;
                r
            }
            _ => self.unexpected(&t, "input"),
        }
    }

    fn action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Block => return self.block_control().map(Item::Node),
            Kind::Break | Kind::Continue => {
                let what = if t.kind == Kind::Break {
                    "{{break}}"
                } else {
                    "{{continue}}"
                };
                let n = self.next_non_space();
                if n.kind != Kind::RightDelim {
                    return self.unexpected(&n, what);
                }
                if self.range_depth == 0 {
                    return self.err(format!("{what} outside {{{{range}}}}"));
                }
                return Ok(Item::Node(if t.kind == Kind::Break {
                    Node::Break(t.pos())
                } else {
                    Node::Continue(t.pos())
                }));
            }
            Kind::Else => {
                let peek = self.peek_non_space();
                if peek.kind == Kind::If || peek.kind == Kind::With {
                    return Ok(Item::Else);
                }
                self.expect(Kind::RightDelim, "else")?;
                return Ok(Item::Else);
            }
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Item::End);
            }
            Kind::If => return self.control("if").map(|b| Item::Node(Node::If(b))),
            Kind::Range => return self.control("range").map(|b| Item::Node(Node::Range(b))),
            Kind::With => return self.control("with").map(|b| Item::Node(Node::With(b))),
            Kind::Template => return self.template_control().map(Item::Node),
            _ => {}
        }
        self.backup();
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Item::Node(Node::Action(Box::new(pipe))))
    }

    fn control(&mut self, context: &str) -> PResult<Box<Branch>> {
        self.enter()?;
        let mark = self.vars.len();
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        match next {
            Item::End => {}
            Item::Else => {
                let pk = self.peek().kind;
                if context == "if" && pk == Kind::If {
                    self.next();
                    let b = self.control("if")?;
                    else_list = Some(vec![Node::If(b)]);
                } else if context == "with" && pk == Kind::With {
                    self.next();
                    let b = self.control("with")?;
                    else_list = Some(vec![Node::With(b)]);
                } else {
                    let (l, n) = self.item_list()?;
                    if !matches!(n, Item::End) {
                        return self.err("expected end; found {{else}}");
                    }
                    else_list = Some(l);
                }
            }
            Item::Node(_) => {}
        }
        self.vars.truncate(mark);
        self.depth -= 1;
        Ok(Box::new(Branch {
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        }))
    }

    fn template_name(&mut self, t: &Token, context: &str) -> PResult<String> {
        match t.kind {
            Kind::String | Kind::RawString => match unquote(self.val(t)) {
                Some(s) => Ok(s),
                None => self.err("invalid syntax"),
            },
            _ => self.unexpected(t, context),
        }
    }

    fn template_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, CONTEXT)?;
        let mut pipe = None;
        if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(CONTEXT, Kind::RightDelim)?);
        }
        Ok(Node::Template(Box::new(TemplateCall {
            pos: t.pos(),
            name,
            pipe,
        })))
    }

    fn block_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        self.enter()?;
        let t = self.next_non_space();
        let name = self.template_name(&t, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, Kind::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_range = std::mem::take(&mut self.range_depth);
        let (list, end) = self.item_list()?;
        if !matches!(end, Item::End) {
            return self.err(format!("unexpected {{{{else}}}} in {CONTEXT}"));
        }
        self.vars = saved_vars;
        self.range_depth = saved_range;
        self.add(Tree {
            name: name.clone(),
            parse_name: self.name.clone(),
            text: self.text.clone(),
            root: list,
        })?;
        self.depth -= 1;
        Ok(Node::Template(Box::new(TemplateCall {
            pos: t.pos(),
            name,
            pipe: Some(pipe),
        })))
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> PResult<Pipe> {
        let t = self.peek_non_space();
        let mut pipe = Pipe {
            pos: t.pos(),
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            let v_idx = self.next_idx();
            let after_idx = {
                self.peek();
                self.token[self.peek_count - 1]
            };
            let after_kind = self.tok(after_idx).kind;
            let next = self.peek_non_space();
            if next.kind == Kind::Assign || next.kind == Kind::Declare {
                pipe.is_assign = next.kind == Kind::Assign;
                self.next_non_space();
                pipe.decl.push(VarDecl {
                    pos: v.pos(),
                    name: self.val(&v).to_string(),
                });
                self.vars.push(self.val(&v).to_string());
                break;
            } else if next.kind == Kind::Char && self.val(&next) == "," {
                self.next_non_space();
                pipe.decl.push(VarDecl {
                    pos: v.pos(),
                    name: self.val(&v).to_string(),
                });
                self.vars.push(self.val(&v).to_string());
                if context == "range" && pipe.decl.len() < 2 {
                    match self.peek_non_space().kind {
                        Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                        _ => return self.err("range can only initialize variables"),
                    }
                }
                return self.err(format!("too many declarations in {context}"));
            } else if after_kind == Kind::Space {
                self.backup3(v_idx, after_idx);
                break;
            } else {
                self.backup2(v_idx);
                break;
            }
        }
        let mark = self.cmds.len();
        loop {
            let t = self.next_non_space();
            match t.kind {
                k if k == end => {
                    pipe.cmds = self.cmds.drain(mark..).collect();
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    self.cmds.push(c);
                }
                _ => return self.unexpected(&t, context),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return self.err(format!("missing value for {context}"));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args.first(),
                Some(Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number(..) | Arg::Str { .. })
            ) {
                return self.err(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                ));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos();
        let mark = self.args.len();
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                self.args.push(op);
            }
            let t = self.next();
            match t.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return self.unexpected(&t, "operand"),
            }
            break;
        }
        if self.args.len() == mark {
            return self.err("empty command");
        }
        Ok(Command {
            pos,
            args: self.args.drain(mark..).collect(),
        })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos();
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            let t = self.next();
            fields.push(self.val(&t).get(1..).unwrap_or("").to_string());
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field {
                    pos: chain_pos,
                    idents,
                }
            }
            Arg::Var { mut idents, .. } => {
                idents.extend(fields);
                Arg::Var {
                    pos: chain_pos,
                    idents,
                }
            }
            Arg::Bool(..) | Arg::Str { .. } | Arg::Number(..) | Arg::Nil(_) | Arg::Dot(_) => {
                return self.err(format!(
                    "unexpected . after term {}",
                    crate::fmt::go_quote(&node.to_string())
                ));
            }
            node => Arg::Chain {
                pos: chain_pos,
                node: Box::new(node),
                fields,
            },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        Ok(Some(match t.kind {
            Kind::Identifier => {
                if !(self.has_func)(self.val(&t)) {
                    return self.err(format!(
                        "function {} not defined",
                        crate::fmt::go_quote(self.val(&t))
                    ));
                }
                Arg::Ident {
                    pos: t.pos(),
                    name: self.val(&t).to_string(),
                }
            }
            Kind::Dot => Arg::Dot(t.pos()),
            Kind::Nil => Arg::Nil(t.pos()),
            Kind::Variable => {
                let idents: Vec<String> = self.val(&t).split('.').map(str::to_string).collect();
                let first = idents.first().cloned().unwrap_or_default();
                if !self.vars.contains(&first) {
                    return self.err(format!(
                        "undefined variable {}",
                        crate::fmt::go_quote(&first)
                    ));
                }
                Arg::Var {
                    pos: t.pos(),
                    idents,
                }
            }
            Kind::Field => Arg::Field {
                pos: t.pos(),
                idents: vec![self.val(&t).get(1..).unwrap_or("").to_string()],
            },
            Kind::Bool => Arg::Bool(t.pos(), self.val(&t) == "true"),
            Kind::CharConstant | Kind::Complex | Kind::Number => {
                let n = match new_number(self.val(&t), t.kind) {
                    Ok(n) => n,
                    Err(e) => return self.err(e),
                };
                Arg::Number(t.pos(), Box::new(n))
            }
            Kind::LeftParen => {
                self.enter()?;
                let p = self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                self.depth -= 1;
                Arg::Pipe(Box::new(p))
            }
            Kind::String | Kind::RawString => match unquote(self.val(&t)) {
                Some(s) => Arg::Str {
                    pos: t.pos(),
                    quoted: self.val(&t).to_string(),
                    value: Value::str(s),
                },
                None => return self.err("invalid syntax"),
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

// ---- Go's strconv pieces the parser needs ----

/// Go's `strconv.Unquote` for `"..."` and `` `...` `` literals (bytes that are not UTF-8,
/// written with `\x`, become U+FFFD).
pub fn unquote(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return None;
    }
    let (first, last) = (b[0], b[b.len() - 1]);
    if first != last {
        return None;
    }
    let inner = s.get(1..s.len() - 1)?;
    match first {
        b'`' => {
            if inner.contains('`') {
                return None;
            }
            Some(inner.replace('\r', ""))
        }
        b'"' => {
            // Most literals have no escapes: they are their text.
            if !inner.contains(['\\', '"', '\n']) {
                return Some(inner.to_string());
            }
            let mut bytes = Vec::with_capacity(inner.len());
            let mut rest = inner;
            while !rest.is_empty() {
                if rest.starts_with('"') || rest.starts_with('\n') {
                    return None;
                }
                let (c, tail) = unquote_char(rest, b'"')?;
                match c {
                    Unq::Char(c) => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                    Unq::Byte(x) => bytes.push(x),
                }
                rest = tail;
            }
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        _ => None,
    }
}

enum Unq {
    Char(char),
    Byte(u8),
}

/// Go's `strconv.UnquoteChar`.
fn unquote_char(s: &str, quote: u8) -> Option<(Unq, &str)> {
    let mut chars = s.chars();
    let c = chars.next()?;
    if c as u32 == u32::from(quote) && (quote == b'\'' || quote == b'"') {
        return None;
    }
    if c != '\\' {
        return Some((Unq::Char(c), chars.as_str()));
    }
    let e = chars.next()?;
    let rest = chars.as_str();
    let simple = |c: char| Some((Unq::Char(c), rest));
    match e {
        'a' => simple('\x07'),
        'b' => simple('\x08'),
        'f' => simple('\x0c'),
        'n' => simple('\n'),
        'r' => simple('\r'),
        't' => simple('\t'),
        'v' => simple('\x0b'),
        '\\' => simple('\\'),
        '\'' | '"' => {
            if e as u32 != u32::from(quote) {
                return None;
            }
            simple(e)
        }
        'x' | 'u' | 'U' => {
            let n = match e {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex = rest.get(..n)?;
            let v = u32::from_str_radix(hex, 16).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let tail = rest.get(n..)?;
            if e == 'x' {
                return Some((Unq::Byte(u8::try_from(v).ok()?), tail));
            }
            Some((Unq::Char(char::from_u32(v)?), tail))
        }
        '0'..='7' => {
            let oct = s.get(1..4)?;
            if !oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return None;
            }
            let v = u32::from_str_radix(oct, 8).ok()?;
            Some((Unq::Byte(u8::try_from(v).ok()?), s.get(4..)?))
        }
        _ => None,
    }
}

/// Go's `parse.newNumber`: every type a number constant can take.
fn new_number(text: &str, kind: Kind) -> Result<Number, String> {
    let mut n = Number {
        text: text.to_string(),
        is_int: false,
        is_uint: false,
        is_float: false,
        is_complex: false,
        int: 0,
        uint: 0,
        float: 0.0,
    };
    if kind == Kind::CharConstant {
        let inner = text.get(1..).unwrap_or("");
        let (c, tail) = unquote_char(inner, b'\'').ok_or_else(|| "invalid syntax".to_string())?;
        if tail != "'" {
            return Err(format!("malformed character constant: {text}"));
        }
        let v = match c {
            Unq::Char(c) => u32::from(c),
            Unq::Byte(b) => u32::from(b),
        };
        n.int = i64::from(v);
        n.uint = u64::from(v);
        n.float = f64::from(v);
        n.is_int = true;
        n.is_uint = true;
        n.is_float = true;
        return Ok(n);
    }
    if kind == Kind::Complex || text.ends_with('i') {
        return Err(format!("complex numbers are not supported: {text}"));
    }
    let u = parse_uint(text);
    if let Some(u) = u {
        n.is_uint = true;
        n.uint = u;
    }
    if let Some(i) = parse_int(text) {
        n.is_int = true;
        n.int = i;
        if i == 0 {
            n.is_uint = true;
            n.uint = 0;
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float = n.int as f64;
    } else if n.is_uint {
        n.is_float = true;
        n.float = n.uint as f64;
    } else if let Some(f) = parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", crate::fmt::go_quote(text)));
        }
        n.is_float = true;
        n.float = f;
        if f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
            n.is_int = true;
            n.int = f as i64;
        }
        if f.fract() == 0.0 && (0.0..1.844_674_407_370_955e19).contains(&f) {
            n.is_uint = true;
            n.uint = f as u64;
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!(
            "illegal number syntax: {}",
            crate::fmt::go_quote(text)
        ));
    }
    Ok(n)
}

/// Go's `underscoreOK`: underscores only between digits or after a base prefix.
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut saw = '^';
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i = 1;
    }
    let mut hex = false;
    if b.len() - i >= 2 && b[i] == b'0' && matches!(b[i + 1] | 0x20, b'b' | b'o' | b'x') {
        hex = b[i + 1] | 0x20 == b'x';
        i += 2;
        saw = '0';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = '0';
        } else if c == b'_' {
            if saw != '0' {
                return false;
            }
            saw = '_';
        } else {
            if saw == '_' {
                return false;
            }
            saw = '!';
        }
        i += 1;
    }
    saw != '_'
}

/// Go's `strconv.ParseUint(s, 0, 64)`.
fn parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    let (base, digits) = base_prefix(s);
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() {
        return None;
    }
    u64::from_str_radix(&clean, base).ok()
}

fn base_prefix(s: &str) -> (u32, &str) {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b'0' {
        match b[1] | 0x20 {
            b'x' => return (16, s.get(2..).unwrap_or("")),
            b'o' => return (8, s.get(2..).unwrap_or("")),
            b'b' => return (2, s.get(2..).unwrap_or("")),
            _ => return (8, s.get(1..).unwrap_or("")),
        }
    }
    (10, s)
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let u = parse_uint(body)?;
    if neg {
        if u > 1u64 << 63 {
            return None;
        }
        Some((u as i64).wrapping_neg())
    } else {
        i64::try_from(u).ok()
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for what the lexer accepts (decimal and hex floats,
/// underscores between digits).
fn parse_float(s: &str) -> Option<f64> {
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let clean: String = s.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, clean.get(1..)?),
        Some(b'+') => (false, clean.get(1..)?),
        _ => (false, clean.as_str()),
    };
    let v = if body.len() > 2 && (body.starts_with("0x") || body.starts_with("0X")) {
        parse_hex_float(body.get(2..)?)?
    } else {
        if body.is_empty()
            || !body
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    if v.is_infinite() {
        return None;
    }
    Some(if neg { -v } else { v })
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.find(['p', 'P']) {
        Some(i) => (s.get(..i)?, s.get(i + 1..)?.parse::<i32>().ok()?),
        None => return None,
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(_: &str) -> bool {
        true
    }

    fn p(text: &str) -> Result<String, String> {
        let has = |n: &str| matches!(n, "printf" | "eq" | "include" | "len" | "and");
        parse("x", text, &has)
            .map(|trees| {
                trees
                    .iter()
                    .map(|t| {
                        let body: String = t.root.iter().map(ToString::to_string).collect();
                        format!("{}={}", t.name, body)
                    })
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn round_trips() {
        let cases = [
            ("a{{.}}b", "x=a{{.}}b"),
            ("{{ .a.b | printf \"%s\" }}", "x={{.a.b | printf \"%s\"}}"),
            ("{{ (.a).b }}", "x={{(.a).b}}"),
            ("{{ $x := 1 }}{{ $x = 2 }}", "x={{$x := 1}}{{$x = 2}}"),
            (
                "{{ range $i, $v := . }}{{ $v }}{{ else }}e{{ end }}",
                "x={{range $i, $v := .}}{{$v}}{{else}}e{{end}}",
            ),
            (
                "{{ if 1 }}a{{ else if 2 }}b{{ end }}",
                "x={{if 1}}a{{else}}{{if 2}}b{{end}}{{end}}",
            ),
            (
                "{{define \"t\"}}T{{end}}{{ template \"t\" . }}",
                "t=T;x={{template \"t\" .}}",
            ),
            ("{{block \"b\" .}}B{{end}}", "b=B;x={{template \"b\" .}}"),
            (
                "{{ 0x1F }} {{ 1_000 }} {{ 'a' }} {{ -3 }}",
                "x={{0x1F}} {{1_000}} {{'a'}} {{-3}}",
            ),
        ];
        for (src, want) in cases {
            assert_eq!(p(src).as_deref(), Ok(want), "{src}");
        }
    }

    #[test]
    fn errors_match_go() {
        // Checked against helm v4.1.4 (Go 1.25) where marked.
        let cases = [
            ("{{ foo }}", "template: x:1: function \"foo\" not defined"),
            ("{{ (1 }}", "template: x:1: unclosed left paren"),
            ("{{ 1) }}", "template: x:1: unexpected right paren"),
            ("{{ end }}", "template: x:1: unexpected {{end}}"),
            ("{{ if 1 }}", "template: x:1: unexpected EOF"),
            ("{{ $x }}", "template: x:1: undefined variable \"$x\""),
            ("{{ break }}", "template: x:1: {{break}} outside {{range}}"),
            (
                "{{ . | 1 }}",
                "template: x:1: non executable command in pipeline stage 2",
            ),
            ("{{ }}", "template: x:1: missing value for command"),
            ("a\n{{ 1.a }}", "template: x:2: bad number syntax: \"1.a\""),
            (
                "{{ \"x\".a }}",
                "template: x:1: unexpected . after term \"\\\"x\\\"\"",
            ),
            (
                "{{define \"a\"}}1{{end}}{{define \"a\"}}2{{end}}",
                "template: x:1: template: multiple definition of template \"a\"",
            ),
            ("{{ if }}", "template: x:1: missing value for if"),
            (
                "{{ 99999999999999999999 }}",
                "template: x:1: integer overflow: \"99999999999999999999\"",
            ),
            ("{{ else }}", "template: x:1: unexpected {{else}}"),
            (
                "{{ range $a, $b, $c := . }}{{end}}",
                "template: x:1: too many declarations in range",
            ),
            ("{{ .a\n", "template: x:2: unclosed action started at x:1"),
            // Lines after trim markers, comments, CRLF, raw strings and multi-line actions,
            // as helm v4.1.4 reports them.
            (
                "a: 1\n{{- /* multi\nline\ncomment */ -}}\n\n{{ .x\n| len\n\n}}\n{{ if }}\n",
                "template: x:10: missing value for if",
            ),
            (
                "a\n\n{{- \"x\" -}}\n\n\nb {{ (1\n\n}}\n",
                "template: x:8: unclosed left paren in action started at x:6",
            ),
            (
                "x: {{ \"a\nb\" }}\n",
                "template: x:1: unterminated quoted string",
            ),
            (
                "x\r\n{{- 3 -}}\r\n\r\n{{ $x := 1 }}{{ $y }}\n",
                "template: x:4: undefined variable \"$y\"",
            ),
            (
                "{{ `raw\nstring` }}\n{{ 1 2 }}\n{{ else }}\n",
                "template: x:4: unexpected {{else}}",
            ),
        ];
        for (src, want) in cases {
            assert_eq!(p(src).err().as_deref(), Some(want), "{src}");
        }
    }

    #[test]
    fn numbers() {
        let n = new_number("0x10", Kind::Number).ok();
        assert_eq!(n.map(|n| n.int), Some(16));
        let n = new_number("1e3", Kind::Number).ok();
        assert!(
            n.as_ref()
                .is_some_and(|n| n.is_int && n.int == 1000 && n.is_float)
        );
        let n = new_number("0o17", Kind::Number).ok();
        assert_eq!(n.map(|n| n.int), Some(15));
        let n = new_number("0b101", Kind::Number).ok();
        assert_eq!(n.map(|n| n.int), Some(5));
        let n = new_number("017", Kind::Number).ok();
        assert_eq!(n.map(|n| n.int), Some(15));
        let n = new_number("1.5", Kind::Number).ok();
        assert!(n.is_some_and(|n| !n.is_int && n.float == 1.5));
        assert!(new_number("1i", Kind::Number).is_err());
        let _ = all("");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let src = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
        assert!(p(&src).is_err());
        let src = format!("{}{}", "{{if 1}}".repeat(5000), "{{end}}".repeat(5000));
        assert!(p(&src).is_err());
    }
}
