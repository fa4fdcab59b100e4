//! The lexer of Go's `text/template` (`text/template/parse/lex.go`, Go 1.25): splits a template
//! into text and the tokens inside `{{ }}` actions, applying the trim markers `{{- ` and ` -}}`
//! and dropping comments, exactly as Go does (a trim marker needs the space: `{{-3}}` is the
//! number -3).
//!
//! The whole input is scanned eagerly into a `Vec`; a lexical error becomes the last token
//! ([`Kind::Error`]), which the parser reports when it reaches it, as Go does.

/// A token kind (Go's `itemType`). Kinds after [`Kind::Keyword`] are keywords.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    Keyword,
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

/// One token: its kind and byte span in the input. 12 bytes and `Copy`: a template of charts'
/// size makes thousands, and every one is written once and read by the parser. Its text is
/// [`Lexed::val`], its line [`Lexed::line_of`] (counted only for an error message, as the
/// line of Go's `item` is the number of newlines before it); an error token's message is
/// [`Lexed::error`].
#[derive(Clone, Copy, Debug)]
pub struct Token {
    pub kind: Kind,
    /// Byte offset of the token in the input.
    start: u32,
    /// Byte length of the token text.
    len: u32,
}

impl Token {
    /// End of input, for reads past the last token.
    pub const EOF: Token = Token {
        kind: Kind::Eof,
        start: 0,
        len: 0,
    };

    /// Byte offset of the token in the input.
    pub fn pos(&self) -> usize {
        self.start as usize
    }

    /// Go's `item.String()`, as parse errors print tokens, given the token's text (an error
    /// token's message).
    pub fn describe(&self, val: &str) -> String {
        match self.kind {
            Kind::Eof => "EOF".into(),
            Kind::Error => val.to_string(),
            k if k > Kind::Keyword => format!("<{val}>"),
            _ => {
                if val.chars().count() > 10 {
                    let head: String = val.chars().take(10).collect();
                    format!("{}...", crate::fmt::go_quote(&head))
                } else {
                    crate::fmt::go_quote(val)
                }
            }
        }
    }
}

const _: () = assert!(std::mem::size_of::<Token>() == 12);

/// A lexed template: its tokens, ending with [`Kind::Eof`] or [`Kind::Error`].
#[derive(Debug)]
pub struct Lexed<'a> {
    pub input: &'a str,
    pub toks: Vec<Token>,
    /// The message of the final [`Kind::Error`] token, if the input has a lexical error.
    pub error: Option<String>,
}

impl<'a> Lexed<'a> {
    /// The text of `t` (empty for an error token: its message is [`Lexed::error`]).
    pub fn val(&self, t: &Token) -> &'a str {
        let start = t.start as usize;
        self.input.get(start..start + t.len as usize).unwrap_or("")
    }

    /// The 1-based line of byte `pos`.
    pub fn line_of(&self, pos: usize) -> usize {
        let before = self
            .input
            .as_bytes()
            .get(..pos)
            .unwrap_or(self.input.as_bytes());
        1 + crate::bytes::positions(b'\n', before).count()
    }

    /// The text of `t`, or for an error token its message.
    pub fn text_of(&self, t: &Token) -> &str {
        match (t.kind, &self.error) {
            (Kind::Error, Some(msg)) => msg,
            _ => self.val(t),
        }
    }
}

const LEFT_DELIM: &str = "{{";
const RIGHT_DELIM: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// How many of Go's space characters (` \t\r\n`) `s` starts with.
fn count_spaces(s: &[u8]) -> usize {
    s.iter().take_while(|b| is_space_byte(**b)).count()
}

fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        return c == '_' || c.is_ascii_alphanumeric();
    }
    c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(char::from(b[1]))
}

fn has_right_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(char::from(b[0])) && b[1] == b'-'
}

/// Where `{{` first starts in `s` (a byte search: text between actions is most of a template).
fn find_left_delim(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = crate::bytes::find(b'{', b.get(from..)?) {
        let at = from + i;
        if b.get(at + 1) == Some(&b'{') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn keyword(word: &str) -> Option<Kind> {
    Some(match word {
        "." => Kind::Dot,
        "block" => Kind::Block,
        "break" => Kind::Break,
        "continue" => Kind::Continue,
        "define" => Kind::Define,
        "else" => Kind::Else,
        "end" => Kind::End,
        "if" => Kind::If,
        "range" => Kind::Range,
        "nil" => Kind::Nil,
        "template" => Kind::Template,
        "with" => Kind::With,
        _ => return None,
    })
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    width: usize,
    paren_depth: usize,
    items: Vec<Token>,
    error: Option<String>,
}

#[derive(Clone, Copy)]
enum State {
    Text,
    LeftDelim,
    Comment,
    RightDelim,
    InsideAction,
    Space,
    Identifier,
    Field,
    Variable,
    Char,
    Number,
    Quote,
    RawQuote,
    Done,
}

/// Scans `input` into tokens, ending with [`Kind::Eof`] or [`Kind::Error`].
pub fn lex(input: &str) -> Lexed<'_> {
    if u32::try_from(input.len()).is_err() {
        return Lexed {
            input,
            toks: vec![Token {
                kind: Kind::Error,
                start: 0,
                len: 0,
            }],
            error: Some("template too large: over 4 GiB".into()),
        };
    }
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        width: 0,
        paren_depth: 0,
        // About one token per 8 bytes in charts' templates.
        items: Vec::with_capacity(input.len() / 8 + 4),
        error: None,
    };
    let mut state = State::Text;
    loop {
        state = match state {
            State::Text => l.lex_text(),
            State::LeftDelim => l.lex_left_delim(),
            State::Comment => l.lex_comment(),
            State::RightDelim => l.lex_right_delim(),
            State::InsideAction => l.lex_inside_action(),
            State::Space => l.lex_space(),
            State::Identifier => l.lex_identifier(),
            State::Field => l.lex_field_or_variable(Kind::Field),
            State::Variable => l.lex_variable(),
            State::Char => l.lex_char(),
            State::Number => l.lex_number(),
            State::Quote => l.lex_quote(),
            State::RawQuote => l.lex_raw_quote(),
            State::Done => break,
        };
    }
    Lexed {
        input,
        toks: l.items,
        error: l.error,
    }
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or("")
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.width = c.map_or(0, char::len_utf8);
        self.pos += self.width;
        c
    }

    fn peek(&self) -> Option<char> {
        // Actions are ASCII but for the odd identifier or string: no decoding for those bytes.
        if let Some(&b) = self.input.as_bytes().get(self.pos)
            && b.is_ascii()
        {
            return Some(char::from(b));
        }
        self.rest().chars().next()
    }

    fn backup(&mut self) {
        if self.width > 0 {
            self.pos -= self.width;
            self.width = 0;
        }
    }

    fn emit(&mut self, kind: Kind) {
        // `lex` refuses inputs over u32::MAX bytes, so offsets fit.
        self.items.push(Token {
            kind,
            start: self.start as u32,
            len: (self.pos - self.start) as u32,
        });
        self.start = self.pos;
    }

    fn ignore(&mut self) {
        self.start = self.pos;
    }

    fn errorf(&mut self, msg: String) -> State {
        self.items.push(Token {
            kind: Kind::Error,
            start: self.start as u32,
            len: 0,
        });
        self.error = Some(msg);
        State::Done
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.backup();
                false
            }
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while let Some(c) = self.next() {
            if !valid.contains(c) {
                self.backup();
                return;
            }
        }
    }

    fn lex_text(&mut self) -> State {
        self.width = 0;
        if let Some(x) = find_left_delim(self.rest()) {
            let ldn = LEFT_DELIM.len();
            let delim_at = self.pos + x;
            let mut trim = 0;
            if has_left_trim(self.input.get(delim_at + ldn..).unwrap_or("")) {
                let before = self
                    .input
                    .as_bytes()
                    .get(self.start..delim_at)
                    .unwrap_or(&[]);
                trim = before
                    .iter()
                    .rev()
                    .take_while(|b| is_space_byte(**b))
                    .count();
            }
            self.pos = delim_at - trim;
            if self.pos > self.start {
                self.emit(Kind::Text);
            }
            self.pos = delim_at;
            self.ignore();
            return State::LeftDelim;
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.emit(Kind::Text);
        }
        self.emit(Kind::Eof);
        State::Done
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim(rest) && rest.get(2..).is_some_and(|r| r.starts_with(RIGHT_DELIM)) {
            return (true, true);
        }
        if rest.starts_with(RIGHT_DELIM) {
            return (true, false);
        }
        (false, false)
    }

    fn lex_left_delim(&mut self) -> State {
        self.pos += LEFT_DELIM.len();
        let trim = has_left_trim(self.rest());
        let after = if trim { 2 } else { 0 };
        if self
            .input
            .get(self.pos + after..)
            .is_some_and(|r| r.starts_with(LEFT_COMMENT))
        {
            self.pos += after;
            self.ignore();
            return State::Comment;
        }
        self.emit(Kind::LeftDelim);
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        State::InsideAction
    }

    fn lex_comment(&mut self) -> State {
        self.pos += LEFT_COMMENT.len();
        let Some(i) = self.rest().find(RIGHT_COMMENT) else {
            return self.errorf("unclosed comment".into());
        };
        self.pos += i + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.errorf("comment ends before closing delimiter".into());
        }
        if trim {
            self.pos += 2;
        }
        self.pos += RIGHT_DELIM.len();
        if trim {
            self.pos += count_spaces(self.rest().as_bytes());
        }
        self.ignore();
        State::Text
    }

    fn lex_right_delim(&mut self) -> State {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += 2;
            self.ignore();
        }
        self.pos += RIGHT_DELIM.len();
        self.emit(Kind::RightDelim);
        if trim {
            self.pos += count_spaces(self.rest().as_bytes());
            self.ignore();
        }
        State::Text
    }

    fn lex_inside_action(&mut self) -> State {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return State::RightDelim;
            }
            return self.errorf("unclosed left paren".into());
        }
        let Some(r) = self.next() else {
            return self.errorf("unclosed action".into());
        };
        match r {
            c if is_space(c) => {
                self.backup();
                return State::Space;
            }
            '=' => self.emit(Kind::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.errorf("expected :=".into());
                }
                self.emit(Kind::Declare);
            }
            '|' => self.emit(Kind::Pipe),
            '"' => return State::Quote,
            '`' => return State::RawQuote,
            '$' => return State::Variable,
            '\'' => return State::Char,
            '.' => {
                let next = self.input.as_bytes().get(self.pos);
                if next.is_some_and(|b| !b.is_ascii_digit()) {
                    return State::Field;
                }
                self.backup();
                return State::Number;
            }
            '+' | '-' | '0'..='9' => {
                self.backup();
                return State::Number;
            }
            c if is_alnum(c) => {
                self.backup();
                return State::Identifier;
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(Kind::LeftParen);
            }
            ')' => {
                if self.paren_depth == 0 {
                    return self.errorf("unexpected right paren".into());
                }
                self.paren_depth -= 1;
                self.emit(Kind::RightParen);
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(Kind::Char),
            c => {
                return self.errorf(format!(
                    "unrecognized character in action: {}",
                    crate::fmt::go_unicode_hash(c)
                ));
            }
        }
        State::InsideAction
    }

    fn lex_space(&mut self) -> State {
        let n = count_spaces(self.rest().as_bytes());
        self.pos += n;
        self.width = usize::from(n > 0);
        // A trim-marked right delimiter starts with a space: leave it for the delimiter.
        let before = self.input.get(self.pos - 1..).unwrap_or("");
        if has_right_trim(before) && before.get(2..).is_some_and(|r| r.starts_with(RIGHT_DELIM)) {
            self.pos -= 1;
            if n == 1 {
                return State::RightDelim;
            }
        }
        self.emit(Kind::Space);
        State::InsideAction
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) => self.rest().starts_with(RIGHT_DELIM),
        }
    }

    fn bad_char(&mut self) -> State {
        let c = self.peek();
        let s = match c {
            Some(c) => crate::fmt::go_unicode_hash(c),
            None => "U+FFFFFFFFFFFFFFFF".into(),
        };
        self.errorf(format!("bad character {s}"))
    }

    /// Moves past letters, digits and `_` (ASCII bytes without decoding).
    fn skip_alnum(&mut self) {
        let bytes = self.input.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if b.is_ascii() {
                if b != b'_' && !b.is_ascii_alphanumeric() {
                    break;
                }
                self.pos += 1;
            } else {
                match self.rest().chars().next() {
                    Some(c) if is_alnum(c) => self.pos += c.len_utf8(),
                    _ => break,
                }
            }
        }
        self.width = 0;
    }

    fn lex_identifier(&mut self) -> State {
        self.skip_alnum();
        if !self.at_terminator() {
            return self.bad_char();
        }
        let word = self.input.get(self.start..self.pos).unwrap_or("");
        let kind = if let Some(k) = keyword(word) {
            k
        } else if word.starts_with('.') {
            Kind::Field
        } else if word == "true" || word == "false" {
            Kind::Bool
        } else {
            Kind::Identifier
        };
        self.emit(kind);
        State::InsideAction
    }

    fn lex_variable(&mut self) -> State {
        if self.at_terminator() {
            self.emit(Kind::Variable);
            return State::InsideAction;
        }
        self.lex_field_or_variable(Kind::Variable)
    }

    fn lex_field_or_variable(&mut self, kind: Kind) -> State {
        if self.at_terminator() {
            self.emit(if kind == Kind::Variable {
                Kind::Variable
            } else {
                Kind::Dot
            });
            return State::InsideAction;
        }
        self.skip_alnum();
        if !self.at_terminator() {
            return self.bad_char();
        }
        self.emit(kind);
        State::InsideAction
    }

    fn lex_char(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => {}
                    _ => return self.errorf("unterminated character constant".into()),
                },
                None | Some('\n') => {
                    return self.errorf("unterminated character constant".into());
                }
                Some('\'') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::CharConstant);
        State::InsideAction
    }

    fn lex_number(&mut self) -> State {
        if !self.scan_number() {
            let text = self
                .input
                .get(self.start..self.pos)
                .unwrap_or("")
                .to_string();
            return self.errorf(format!(
                "bad number syntax: {}",
                crate::fmt::go_quote(&text)
            ));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            let ok = self.scan_number();
            if !ok || !self.input.get(..self.pos).unwrap_or("").ends_with('i') {
                let text = self
                    .input
                    .get(self.start..self.pos)
                    .unwrap_or("")
                    .to_string();
                return self.errorf(format!(
                    "bad number syntax: {}",
                    crate::fmt::go_quote(&text)
                ));
            }
            self.emit(Kind::Complex);
        } else {
            self.emit(Kind::Number);
        }
        State::InsideAction
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.next();
            return false;
        }
        true
    }

    fn lex_quote(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => {}
                    _ => return self.errorf("unterminated quoted string".into()),
                },
                None | Some('\n') => return self.errorf("unterminated quoted string".into()),
                Some('"') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::String);
        State::InsideAction
    }

    fn lex_raw_quote(&mut self) -> State {
        loop {
            match self.next() {
                None => return self.errorf("unterminated raw quoted string".into()),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::RawString);
        State::InsideAction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Kind, String)> {
        let l = lex(s);
        l.toks
            .iter()
            .map(|t| (t.kind, l.text_of(t).to_string()))
            .collect()
    }

    #[test]
    fn trims_and_comments() {
        use Kind::*;
        let k = kinds("a \n{{- 3 -}}\n b");
        assert_eq!(
            k,
            vec![
                (Text, "a".into()),
                (LeftDelim, "{{".into()),
                (Number, "3".into()),
                (RightDelim, "}}".into()),
                (Text, "b".into()),
                (Eof, "".into()),
            ]
        );
        let k = kinds("x{{-3}}");
        assert_eq!(k[2], (Number, "-3".into()));
        let k = kinds("a \t{{- /* c */ -}}\n\tb");
        assert_eq!(
            k,
            vec![(Text, "a".into()), (Text, "b".into()), (Eof, "".into())]
        );
    }

    #[test]
    fn errors() {
        let last = |s: &str| {
            let l = lex(s);
            l.toks
                .last()
                .map(|t| l.text_of(t).to_string())
                .unwrap_or_default()
        };
        assert_eq!(last("{{ (1 }}"), "unclosed left paren");
        assert_eq!(last("{{ 1) }}"), "unexpected right paren");
        assert_eq!(last("{{ 1"), "unclosed action");
        assert_eq!(last("{{/* x "), "unclosed comment");
        assert_eq!(
            last("{{/* x */ }}"),
            "comment ends before closing delimiter"
        );
        assert_eq!(last("{{ \"abc }}"), "unterminated quoted string");
        assert_eq!(last("{{ 3x }}"), "bad number syntax: \"3x\"");
        assert_eq!(last("{{ .a# }}"), "bad character U+0023 '#'");
    }

    #[test]
    fn lines() {
        let l = lex("a\nb{{ x\n y }}\nc{{ z }}");
        let z = l.toks.iter().find(|t| l.val(t) == "z");
        assert_eq!(z.map(|t| l.line_of(t.pos())), Some(4));
        let y = l.toks.iter().find(|t| l.val(t) == "y");
        assert_eq!(y.map(|t| l.line_of(t.pos())), Some(3));
    }
}
