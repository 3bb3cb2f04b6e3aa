//! Lexer and parser for the Go `text/template` subset Forklift's name
//! templates use: text, `{{ pipeline }}` actions with `|`, function calls,
//! `.Field`, string/number/bool literals, parentheses, `if`/`else if`/
//! `else`/`end`, comments and the `{{-`/`-}}` trim markers.
use super::funcs;
use super::{Position, TemplateError, TemplateErrorKind};

/// Longest template source accepted.
pub const MAX_SOURCE_LEN: usize = 4096;
/// Deepest nesting of `if` blocks and parentheses.
pub const MAX_DEPTH: usize = 32;

/// A parsed template node.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Literal text.
    Text(String),
    /// `{{ pipeline }}`: print the value.
    Action(Pipeline),
    /// `{{if p}} .. {{else if q}} .. {{else}} .. {{end}}`.
    If {
        /// Each condition with its body, in order.
        branches: Vec<(Pipeline, Vec<Node>)>,
        /// The `else` body (may be empty).
        otherwise: Vec<Node>,
    },
}

/// Commands joined by `|`; each command's value is passed as the last
/// argument of the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// Where the pipeline starts (for execution errors).
    pub pos: Position,
    /// The commands, at least one.
    pub commands: Vec<Command>,
}

/// One command: operands separated by spaces. When the first is a function
/// name the rest are its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// Where the command starts.
    pub pos: Position,
    /// The operands, at least one.
    pub operands: Vec<Operand>,
}

/// One operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `.A` or `.A.B`.
    Field(Vec<String>, Position),
    /// `.` alone.
    Dot,
    /// A function name.
    Func(String, Position),
    /// A string literal.
    Str(String),
    /// An integer literal.
    Int(i64),
    /// A floating-point literal.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `nil`.
    Nil,
    /// `( pipeline )`.
    Sub(Box<Pipeline>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Pipe,
    LParen,
    RParen,
    Field(Vec<String>),
    Dot,
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
}

struct Lexed {
    tok: Tok,
    pos: Position,
}

/// One `{{ ... }}` or a text run, before parsing.
enum Piece {
    Text(String),
    Action { toks: Vec<Lexed>, pos: Position },
}

fn err(kind: TemplateErrorKind, pos: Position) -> TemplateError {
    TemplateError {
        kind,
        position: Some(pos),
    }
}

fn syntax(msg: impl Into<String>, pos: Position) -> TemplateError {
    err(TemplateErrorKind::Syntax(msg.into()), pos)
}

/// Byte offset to 1-based column (in characters).
fn pos_of(src: &str, byte: usize) -> Position {
    Position {
        column: src[..byte.min(src.len())].chars().count() + 1,
    }
}

/// Split the source into text runs and lexed actions.
fn scan(src: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest_start = 0usize;
    let mut trim_next_text = false;
    while rest_start <= src.len() {
        let rest = &src[rest_start..];
        let Some(open_rel) = rest.find("{{") else {
            let mut text = rest.to_string();
            if trim_next_text {
                text = text.trim_start().to_string();
            }
            if !text.is_empty() {
                pieces.push(Piece::Text(text));
            }
            break;
        };
        let open = rest_start + open_rel;
        let mut text = src[rest_start..open].to_string();
        if trim_next_text {
            text = text.trim_start().to_string();
        }
        let mut inner_start = open + 2;
        let after = &src[inner_start..];
        if after.starts_with("- ") || after.starts_with("-\t") || after.starts_with("-\n") {
            text = text.trim_end().to_string();
            inner_start += 1;
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        let inner = &src[inner_start..];
        let trimmed_inner = inner.trim_start();
        let action_pos = pos_of(src, open);
        if trimmed_inner.starts_with("/*") {
            // A comment: runs to "*/" then "}}" (optionally " -}}").
            let c_start = inner_start + (inner.len() - trimmed_inner.len());
            let Some(end_rel) = src[c_start..].find("*/") else {
                return Err(syntax("unclosed comment", action_pos));
            };
            let after_comment = c_start + end_rel + 2;
            let tail = &src[after_comment..];
            let tail_trim = tail.trim_start();
            let skipped = tail.len() - tail_trim.len();
            if let Some(t) = tail_trim.strip_prefix("-}}") {
                if skipped == 0 {
                    return Err(syntax(
                        "comment ends with \"-}}\" without a space before '-'",
                        action_pos,
                    ));
                }
                trim_next_text = true;
                rest_start = src.len() - t.len();
            } else if tail_trim.starts_with("}}") && skipped == 0 {
                trim_next_text = false;
                rest_start = after_comment + 2;
            } else {
                return Err(syntax("comment must end with \"*/}}\"", action_pos));
            }
            continue;
        }
        let (toks, end, trim_after) = lex_action(src, inner_start)?;
        pieces.push(Piece::Action {
            toks,
            pos: action_pos,
        });
        trim_next_text = trim_after;
        rest_start = end;
    }
    Ok(pieces)
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Lex from `start` up to and including the closing `}}`. Returns the
/// tokens, the byte offset after `}}` and whether `-}}` asked to trim.
fn lex_action(src: &str, start: usize) -> Result<(Vec<Lexed>, usize, bool), TemplateError> {
    let bytes = src.as_bytes();
    let mut i = start;
    let mut toks = Vec::new();
    loop {
        let Some(&b) = bytes.get(i) else {
            return Err(syntax(
                "unclosed action: missing \"}}\"",
                pos_of(src, start.saturating_sub(2)),
            ));
        };
        let pos = pos_of(src, i);
        let c = char::from(b);
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if src[i..].trim_start().starts_with("-}}") {
                    let skip = src[i..].len() - src[i..].trim_start().len();
                    return Ok((toks, i + skip + 3, true));
                }
                i += 1;
            }
            '}' if bytes.get(i + 1) == Some(&b'}') => return Ok((toks, i + 2, false)),
            '|' => {
                toks.push(Lexed {
                    tok: Tok::Pipe,
                    pos,
                });
                i += 1;
            }
            '(' => {
                toks.push(Lexed {
                    tok: Tok::LParen,
                    pos,
                });
                i += 1;
            }
            ')' => {
                toks.push(Lexed {
                    tok: Tok::RParen,
                    pos,
                });
                i += 1;
            }
            '.' => {
                let next = src[i + 1..].chars().next();
                if next.is_some_and(|n| n.is_ascii_digit()) {
                    let (tok, end) = lex_number(src, i)?;
                    toks.push(Lexed { tok, pos });
                    i = end;
                    continue;
                }
                let mut path = Vec::new();
                while bytes.get(i) == Some(&b'.') {
                    let name_start = i + 1;
                    let mut j = name_start;
                    while src[j..].chars().next().is_some_and(is_ident_char) {
                        j += 1;
                    }
                    if j == name_start {
                        break;
                    }
                    path.push(src[name_start..j].to_string());
                    i = j;
                }
                if path.is_empty() {
                    toks.push(Lexed { tok: Tok::Dot, pos });
                    i += 1;
                } else {
                    toks.push(Lexed {
                        tok: Tok::Field(path),
                        pos,
                    });
                }
            }
            '"' => {
                let (s, end) = lex_quoted(src, i)?;
                toks.push(Lexed {
                    tok: Tok::Str(s),
                    pos,
                });
                i = end;
            }
            '`' => {
                let Some(close) = src[i + 1..].find('`') else {
                    return Err(syntax("unterminated raw string", pos));
                };
                toks.push(Lexed {
                    tok: Tok::Str(src[i + 1..i + 1 + close].to_string()),
                    pos,
                });
                i = i + 2 + close;
            }
            '-' | '+' | '0'..='9' => {
                let (tok, end) = lex_number(src, i)?;
                toks.push(Lexed { tok, pos });
                i = end;
            }
            '$' => {
                return Err(err(
                    TemplateErrorKind::Unsupported("template variables ($name)".into()),
                    pos,
                ));
            }
            ':' if bytes.get(i + 1) == Some(&b'=') => {
                return Err(err(
                    TemplateErrorKind::Unsupported("variable declarations (:=)".into()),
                    pos,
                ));
            }
            c if is_ident_start(c) => {
                let mut j = i;
                while src[j..].chars().next().is_some_and(is_ident_char) {
                    j += 1;
                }
                toks.push(Lexed {
                    tok: Tok::Ident(src[i..j].to_string()),
                    pos,
                });
                i = j;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(syntax(format!("unexpected {ch:?} in action"), pos));
            }
        }
    }
}

fn lex_quoted(src: &str, start: usize) -> Result<(String, usize), TemplateError> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + 1 + off + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                Some((_, '\'')) => out.push('\''),
                _ => {
                    return Err(syntax(
                        "unsupported escape in string (use \\n \\t \\r \\\\ \\\" \\')",
                        pos_of(src, start + 1 + off),
                    ));
                }
            },
            '\n' => return Err(syntax("newline in string", pos_of(src, start))),
            c => out.push(c),
        }
    }
    Err(syntax("unterminated string", pos_of(src, start)))
}

fn lex_number(src: &str, start: usize) -> Result<(Tok, usize), TemplateError> {
    let end = src[start..]
        .char_indices()
        .skip(1)
        .find(|&(_, c)| {
            !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '+' || c == '-')
        })
        .map_or(src.len(), |(o, _)| start + o);
    // "e-5" / "e+5" are fine; a trailing '-' as in "3-}}" is not part of the number.
    let mut end = end;
    while end > start + 1
        && src[..end].ends_with(['-', '+'])
        && !src[..end - 1].ends_with(['e', 'E'])
    {
        end -= 1;
    }
    let text = &src[start..end];
    let pos = pos_of(src, start);
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (neg, digits) = match clean.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let parsed_int = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(hex, 16).ok()
    } else if digits.chars().all(|c| c.is_ascii_digit()) && !digits.is_empty() {
        digits.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(v) = parsed_int {
        return Ok((Tok::Int(if neg { -v } else { v }), end));
    }
    match clean.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok((Tok::Float(f), end)),
        _ => Err(syntax(format!("bad number syntax {text:?}"), pos)),
    }
}

struct Parser<'a> {
    pieces: std::iter::Peekable<std::vec::IntoIter<Piece>>,
    src: &'a str,
}

/// What ended a list of nodes.
enum ListEnd {
    Eof,
    Else(Option<(Vec<Lexed>, Position)>),
    End,
}

impl Parser<'_> {
    fn parse_list(
        &mut self,
        depth: usize,
    ) -> Result<(Vec<Node>, ListEnd, Position), TemplateError> {
        let mut nodes = Vec::new();
        while let Some(piece) = self.pieces.next() {
            match piece {
                Piece::Text(t) => nodes.push(Node::Text(t)),
                Piece::Action { toks, pos } => {
                    let first = toks.first().map(|l| l.tok.clone());
                    match first {
                        None => return Err(syntax("missing value for command", pos)),
                        Some(Tok::Ident(kw)) if kw == "if" => {
                            if depth >= MAX_DEPTH {
                                return Err(err(TemplateErrorKind::TooDeep, pos));
                            }
                            nodes.push(self.parse_if(toks, pos, depth + 1)?);
                        }
                        Some(Tok::Ident(kw)) if kw == "else" => {
                            let rest: Vec<Lexed> = toks.into_iter().skip(1).collect();
                            let chained = match rest.first().map(|l| &l.tok) {
                                None => None,
                                Some(Tok::Ident(k)) if k == "if" => Some((rest, pos)),
                                Some(_) => {
                                    return Err(syntax("unexpected text after \"else\"", pos));
                                }
                            };
                            return Ok((nodes, ListEnd::Else(chained), pos));
                        }
                        Some(Tok::Ident(kw)) if kw == "end" => {
                            if toks.len() > 1 {
                                return Err(syntax("unexpected text after \"end\"", pos));
                            }
                            return Ok((nodes, ListEnd::End, pos));
                        }
                        Some(Tok::Ident(kw))
                            if matches!(
                                kw.as_str(),
                                "range"
                                    | "with"
                                    | "define"
                                    | "template"
                                    | "block"
                                    | "break"
                                    | "continue"
                            ) =>
                        {
                            return Err(err(
                                TemplateErrorKind::Unsupported(format!("the {kw:?} action")),
                                pos,
                            ));
                        }
                        Some(_) => {
                            let pipeline = self.parse_pipeline_toks(toks, pos, depth)?;
                            nodes.push(Node::Action(pipeline));
                        }
                    }
                }
            }
        }
        Ok((nodes, ListEnd::Eof, pos_of(self.src, self.src.len())))
    }

    fn parse_if(
        &mut self,
        toks: Vec<Lexed>,
        pos: Position,
        depth: usize,
    ) -> Result<Node, TemplateError> {
        let cond_toks: Vec<Lexed> = toks.into_iter().skip(1).collect();
        if cond_toks.is_empty() {
            return Err(syntax("missing condition after \"if\"", pos));
        }
        let mut branches = Vec::new();
        let mut cond = self.parse_pipeline_toks(cond_toks, pos, depth)?;
        loop {
            let (body, end, end_pos) = self.parse_list(depth)?;
            match end {
                ListEnd::Eof => {
                    return Err(syntax("\"if\" has no matching \"{{end}}\"", pos));
                }
                ListEnd::End => {
                    branches.push((cond, body));
                    return Ok(Node::If {
                        branches,
                        otherwise: Vec::new(),
                    });
                }
                ListEnd::Else(Some((toks, else_pos))) => {
                    branches.push((cond, body));
                    let rest: Vec<Lexed> = toks.into_iter().skip(1).collect();
                    if rest.is_empty() {
                        return Err(syntax("missing condition after \"else if\"", else_pos));
                    }
                    cond = self.parse_pipeline_toks(rest, else_pos, depth)?;
                }
                ListEnd::Else(None) => {
                    branches.push((cond, body));
                    let (otherwise, end, _) = self.parse_list(depth)?;
                    return match end {
                        ListEnd::End => Ok(Node::If {
                            branches,
                            otherwise,
                        }),
                        ListEnd::Eof => Err(syntax("\"if\" has no matching \"{{end}}\"", pos)),
                        ListEnd::Else(_) => Err(syntax("second \"else\" in one \"if\"", end_pos)),
                    };
                }
            }
        }
    }

    fn parse_pipeline_toks(
        &self,
        toks: Vec<Lexed>,
        pos: Position,
        depth: usize,
    ) -> Result<Pipeline, TemplateError> {
        let mut it = toks.into_iter().peekable();
        let p = parse_pipeline(&mut it, pos, depth, false)?;
        if let Some(extra) = it.next() {
            return Err(syntax("unexpected \")\"", extra.pos));
        }
        Ok(p)
    }
}

type TokIter = std::iter::Peekable<std::vec::IntoIter<Lexed>>;

fn parse_pipeline(
    it: &mut TokIter,
    pos: Position,
    depth: usize,
    in_paren: bool,
) -> Result<Pipeline, TemplateError> {
    let mut commands = Vec::new();
    loop {
        let cmd_pos = it.peek().map_or(pos, |l| l.pos);
        let mut operands = Vec::new();
        loop {
            match it.peek().map(|l| &l.tok) {
                None | Some(Tok::Pipe) => break,
                Some(Tok::RParen) if in_paren => break,
                Some(Tok::RParen) => {
                    let p = it.peek().map_or(pos, |l| l.pos);
                    return Err(syntax("unexpected \")\"", p));
                }
                Some(_) => {}
            }
            let Some(lexed) = it.next() else { break };
            operands.push(operand(lexed, it, depth)?);
        }
        if operands.is_empty() {
            return Err(syntax("missing value for command", cmd_pos));
        }
        if !commands.is_empty() && !matches!(operands.first(), Some(Operand::Func(..))) {
            return Err(syntax(
                "non-function after \"|\" cannot take the piped value",
                cmd_pos,
            ));
        }
        commands.push(Command {
            pos: cmd_pos,
            operands,
        });
        match it.peek().map(|l| &l.tok) {
            Some(Tok::Pipe) => {
                it.next();
            }
            _ => break,
        }
    }
    Ok(Pipeline { pos, commands })
}

fn operand(lexed: Lexed, it: &mut TokIter, depth: usize) -> Result<Operand, TemplateError> {
    let pos = lexed.pos;
    Ok(match lexed.tok {
        Tok::Field(path) => Operand::Field(path, pos),
        Tok::Dot => Operand::Dot,
        Tok::Str(s) => Operand::Str(s),
        Tok::Int(i) => Operand::Int(i),
        Tok::Float(f) => Operand::Float(f),
        Tok::Ident(name) => match name.as_str() {
            "true" => Operand::Bool(true),
            "false" => Operand::Bool(false),
            "nil" => Operand::Nil,
            "if" | "else" | "end" | "range" | "with" | "define" | "template" | "block" => {
                return Err(syntax(
                    format!("unexpected keyword {name:?} inside a command"),
                    pos,
                ));
            }
            _ if funcs::exists(&name) => Operand::Func(name, pos),
            _ => return Err(err(TemplateErrorKind::UnknownFunction(name), pos)),
        },
        Tok::LParen => {
            if depth >= MAX_DEPTH {
                return Err(err(TemplateErrorKind::TooDeep, pos));
            }
            let inner = parse_pipeline(it, pos, depth + 1, true)?;
            match it.next() {
                Some(Lexed {
                    tok: Tok::RParen, ..
                }) => Operand::Sub(Box::new(inner)),
                _ => return Err(syntax("unclosed \"(\"", pos)),
            }
        }
        Tok::RParen => return Err(syntax("unexpected \")\"", pos)),
        Tok::Pipe => return Err(syntax("unexpected \"|\"", pos)),
    })
}

/// Parse a whole template.
pub fn parse(src: &str) -> Result<Vec<Node>, TemplateError> {
    if src.len() > MAX_SOURCE_LEN {
        return Err(TemplateError {
            kind: TemplateErrorKind::TooLong(src.len()),
            position: None,
        });
    }
    let pieces = scan(src)?;
    let mut parser = Parser {
        pieces: pieces.into_iter().peekable(),
        src,
    };
    let (nodes, end, pos) = parser.parse_list(0)?;
    match end {
        ListEnd::Eof => Ok(nodes),
        ListEnd::End => Err(syntax("unexpected \"{{end}}\"", pos)),
        ListEnd::Else(_) => Err(syntax("unexpected \"{{else}}\"", pos)),
    }
}
