//! Gives negations OPA's answer in regorus.
//!
//! OPA's compiler binds the dynamic parts of a negated expression in
//! statements placed before the `not` (its "expand expression terms" and
//! "rewrite dynamic terms" stages): nested calls, references and variables
//! passed as call arguments, references inside arrays, sets and objects, and
//! dynamic indexes of a reference. When such a part is undefined the whole
//! body is undefined, so `not f(input.missing)` is undefined in OPA.
//! regorus evaluates the negated expression as a whole and answers true.
//!
//! [`rewrite`] parses a module with regorus's parser, walks every query of
//! its AST and moves those parts into `__ferry_notN__ := part` statements in
//! front of the negation (with the literal's `with` modifiers), the way OPA
//! does. `==` and `=` keep a top-level reference in place, as OPA does: there
//! `not input.missing == 1` is true.
use regorus::Source;
use regorus::unstable::{
    AssignOp, BoolOp, Expr, Literal, LiteralStmt, Module, Parser, Query, Rule, RuleHead,
};

/// Prefix of the variables the rewrite introduces.
const VAR_PREFIX: &str = "__ferry_not";
/// A module with more nested negations than this is refused.
const MAX_PASSES: usize = 64;

/// `text` with every negation rewritten (unchanged when none needs it).
/// `rego_v1` selects the syntax, as the engine's `set_rego_v0(false)`.
/// Errors are parse errors of `text` (with line and column).
pub(crate) fn rewrite(origin: &str, text: &str, rego_v1: bool) -> Result<String, String> {
    let mut text = text.to_owned();
    let mut next_var = 0usize;
    for _ in 0..MAX_PASSES {
        let module = parse(origin, &text, rego_v1)?;
        let mut found = Vec::new();
        walk_module(&module, &text, &mut found);
        let edits = choose(found, &mut next_var);
        if edits.is_empty() {
            return Ok(text);
        }
        text = apply(&text, edits);
    }
    Err(format!(
        "{origin}: negations are nested more than {MAX_PASSES} deep"
    ))
}

fn parse(origin: &str, text: &str, rego_v1: bool) -> Result<Module, String> {
    let source =
        Source::from_contents(origin.to_owned(), text.to_owned()).map_err(|e| e.to_string())?;
    let mut parser = Parser::new(&source).map_err(|e| e.to_string())?;
    if rego_v1 {
        parser.enable_rego_v1().map_err(|e| e.to_string())?;
    }
    parser.parse().map_err(|e| e.to_string())
}

/// One negated literal to rewrite.
struct Negation {
    /// Byte offset of the literal (where the bindings go).
    start: usize,
    /// Byte offset just past the literal and its `with` modifiers.
    end: usize,
    /// Byte ranges of the parts to bind, in source order, not overlapping.
    parts: Vec<(usize, usize)>,
    /// The literal's `with` modifiers, copied to each binding.
    with: String,
    /// The literal is a whole rule body written without braces: add them.
    wrap: bool,
}

struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// Picks negations whose text does not overlap an earlier pick (a negation
/// inside a part moved out of another one is rewritten in the next pass)
/// and turns them into edits.
fn choose(mut found: Vec<Negation>, next_var: &mut usize) -> Vec<Edit> {
    found.retain(|n| !n.parts.is_empty());
    found.sort_by_key(|n| n.start);
    let mut edits = Vec::new();
    let mut taken_until = 0usize;
    for n in found {
        if n.start < taken_until {
            continue;
        }
        taken_until = n.end;
        let mut bindings = String::new();
        if n.wrap {
            bindings.push_str("{ ");
        }
        let mut replaced = Vec::new();
        for &(s, e) in &n.parts {
            let var = format!("{VAR_PREFIX}{next_var}__");
            *next_var += 1;
            replaced.push(Edit {
                start: s,
                end: e,
                text: var.clone(),
            });
            bindings.push_str(&var);
            bindings.push_str(" := ");
            bindings.push_str(&format!("\u{0}{s}:{e}\u{0}"));
            bindings.push_str(&n.with);
            bindings.push_str("; ");
        }
        edits.push(Edit {
            start: n.start,
            end: n.start,
            text: bindings,
        });
        edits.extend(replaced);
        if n.wrap {
            edits.push(Edit {
                start: n.end,
                end: n.end,
                text: " }".to_owned(),
            });
        }
    }
    edits
}

/// Applies edits (insertions at a point, replacements of ranges). A
/// `\0start:end\0` placeholder in an inserted text stands for the original
/// text of that range.
fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    let original = |s: &str| -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('\u{0}') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let Some(j) = after.find('\u{0}') else {
                out.push_str(&rest[i..]);
                return out;
            };
            let range = &after[..j];
            if let Some((a, b)) = range.split_once(':')
                && let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>())
                && let Some(t) = text.get(a..b)
            {
                out.push_str(t);
            }
            rest = &after[j + 1..];
        }
        out.push_str(rest);
        out
    };
    // Later edits first, so earlier offsets stay valid; at one offset the
    // insertion (empty range) goes in before the replacement that starts there.
    edits.sort_by_key(|e| std::cmp::Reverse((e.start, e.end)));
    let mut out = text.to_owned();
    for e in edits {
        out.replace_range(e.start..e.end, &original(&e.text));
    }
    out
}

fn walk_module(module: &Module, text: &str, out: &mut Vec<Negation>) {
    for rule in &module.policy {
        match rule.as_ref() {
            Rule::Spec { head, bodies, .. } => {
                match head {
                    RuleHead::Compr { refr, assign, .. } => {
                        walk_expr(refr, text, out);
                        if let Some(a) = assign {
                            walk_expr(&a.value, text, out);
                        }
                    }
                    RuleHead::Set { refr, key, .. } => {
                        walk_expr(refr, text, out);
                        if let Some(k) = key {
                            walk_expr(k, text, out);
                        }
                    }
                    RuleHead::Func {
                        refr, args, assign, ..
                    } => {
                        walk_expr(refr, text, out);
                        for a in args {
                            walk_expr(a, text, out);
                        }
                        if let Some(a) = assign {
                            walk_expr(&a.value, text, out);
                        }
                    }
                }
                for body in bodies {
                    if let Some(a) = &body.assign {
                        walk_expr(&a.value, text, out);
                    }
                    // A braced body's query span starts at `{` (or at
                    // `else` for a v0 `else = x { ... }`).
                    let braced = text
                        .get(body.query.span.start as usize..)
                        .is_some_and(|t| t.starts_with('{') || t.starts_with("else"));
                    walk_query(&body.query, !braced, text, out);
                }
            }
            Rule::Default { value, .. } => walk_expr(value, text, out),
        }
    }
}

/// `bare_body`: a rule body written without braces (one literal).
fn walk_query(query: &Query, bare_body: bool, text: &str, out: &mut Vec<Negation>) {
    for stmt in &query.stmts {
        walk_stmt(stmt, bare_body && query.stmts.len() == 1, text, out);
    }
}

fn walk_stmt(stmt: &LiteralStmt, wrap: bool, text: &str, out: &mut Vec<Negation>) {
    for w in &stmt.with_mods {
        walk_expr(&w.refr, text, out);
        walk_expr(&w.r#as, text, out);
    }
    match &stmt.literal {
        Literal::SomeVars { .. } => {}
        Literal::SomeIn {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(k) = key {
                walk_expr(k, text, out);
            }
            walk_expr(value, text, out);
            walk_expr(collection, text, out);
        }
        Literal::Expr { expr, .. } => walk_expr(expr, text, out),
        Literal::Every { domain, query, .. } => {
            walk_expr(domain, text, out);
            walk_query(query, false, text, out);
        }
        Literal::NotExpr { expr, .. } => {
            walk_expr(expr, text, out);
            let mut parts = Vec::new();
            negated(expr, &mut parts);
            let with = stmt
                .with_mods
                .iter()
                .map(|w| {
                    let start = w.span.start as usize;
                    let t = text
                        .get(start..token_end(text, w.span.end as usize))
                        .unwrap_or_default();
                    if t.starts_with("with") {
                        format!(" {t}")
                    } else {
                        format!(" with {t}")
                    }
                })
                .collect();
            out.push(Negation {
                start: stmt.span.start as usize,
                end: token_end(text, stmt.span.end as usize),
                parts,
                with,
                wrap,
            });
        }
    }
}

/// The parser's spans end before the closing quote of a string that ends
/// them; this is the offset past that quote.
fn token_end(text: &str, end: usize) -> usize {
    match text.as_bytes().get(end) {
        Some(b'"' | b'`') => end + 1,
        _ => end,
    }
}

/// Finds the queries of comprehensions inside `expr`.
fn walk_expr(expr: &Expr, text: &str, out: &mut Vec<Negation>) {
    match expr {
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            walk_expr(term, text, out);
            walk_query(query, false, text, out);
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            walk_expr(key, text, out);
            walk_expr(value, text, out);
            walk_query(query, false, text, out);
        }
        _ => {
            for child in children(expr) {
                walk_expr(child, text, out);
            }
        }
    }
}

/// The operands and elements of `expr` (not comprehension queries).
fn children(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            items.iter().map(|i| i.as_ref()).collect()
        }
        Expr::Object { fields, .. } => fields
            .iter()
            .flat_map(|(_, k, v)| [k.as_ref(), v.as_ref()])
            .collect(),
        Expr::Call { fcn, params, .. } => std::iter::once(fcn.as_ref())
            .chain(params.iter().map(|p| p.as_ref()))
            .collect(),
        Expr::UnaryExpr { expr, .. } => vec![expr.as_ref()],
        Expr::RefDot { refr, .. } => vec![refr.as_ref()],
        Expr::RefBrack { refr, index, .. } => vec![refr.as_ref(), index.as_ref()],
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => vec![lhs.as_ref(), rhs.as_ref()],
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => key
            .iter()
            .map(|k| k.as_ref())
            .chain([value.as_ref(), collection.as_ref()])
            .collect(),
        _ => Vec::new(),
    }
}

fn span(expr: &Expr) -> (usize, usize) {
    let s = expr.span();
    (s.start as usize, s.end as usize)
}

/// The parts of the negated expression `expr` that OPA binds before the
/// negation.
fn negated(expr: &Expr, parts: &mut Vec<(usize, usize)>) {
    match expr {
        // `==` becomes unification in OPA; unification keeps a reference
        // operand in place and binds only its dynamic parts.
        Expr::BoolExpr {
            op: BoolOp::Eq,
            lhs,
            rhs,
            ..
        }
        | Expr::AssignExpr {
            op: AssignOp::Eq | AssignOp::ColEq,
            lhs,
            rhs,
            ..
        } => {
            unified(lhs, parts);
            unified(rhs, parts);
        }
        // Every other operator is a call: its operands are bound.
        Expr::Call { params, .. } => {
            for p in params {
                operand(p, parts);
            }
        }
        Expr::UnaryExpr { expr, .. } => operand(expr, parts),
        Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::BinExpr { lhs, rhs, .. } => {
            operand(lhs, parts);
            operand(rhs, parts);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(k) = key {
                operand(k, parts);
            }
            operand(value, parts);
            operand(collection, parts);
        }
        // A term: like a unification operand.
        other => unified(other, parts),
    }
}

/// A call operand: references, variables and nested calls are bound;
/// arrays, sets and objects have their elements looked at.
fn operand(expr: &Expr, parts: &mut Vec<(usize, usize)>) {
    match expr {
        Expr::Var { span: s, .. } => {
            let name = s.text();
            if name != "_" && !name.starts_with(VAR_PREFIX) {
                parts.push(span(expr));
            }
        }
        Expr::RefDot { .. }
        | Expr::RefBrack { .. }
        | Expr::Call { .. }
        | Expr::UnaryExpr { .. }
        | Expr::BoolExpr { .. }
        | Expr::ArithExpr { .. }
        | Expr::BinExpr { .. }
        | Expr::Membership { .. }
        | Expr::AssignExpr { .. } => parts.push(span(expr)),
        Expr::Array { .. } | Expr::Set { .. } | Expr::Object { .. } => {
            for child in children(expr) {
                operand(child, parts);
            }
        }
        _ => {}
    }
}

/// A unification operand: a reference stays, its dynamic indexes are bound;
/// a variable stays; calls are bound; composite elements are operands.
fn unified(expr: &Expr, parts: &mut Vec<(usize, usize)>) {
    match expr {
        Expr::RefDot { refr, .. } => reference_base(refr, parts),
        Expr::RefBrack { refr, index, .. } => {
            reference_base(refr, parts);
            operand(index, parts);
        }
        Expr::Var { .. } => {}
        Expr::Array { .. } | Expr::Set { .. } | Expr::Object { .. } => {
            for child in children(expr) {
                operand(child, parts);
            }
        }
        Expr::Call { .. }
        | Expr::UnaryExpr { .. }
        | Expr::BoolExpr { .. }
        | Expr::ArithExpr { .. }
        | Expr::BinExpr { .. }
        | Expr::Membership { .. }
        | Expr::AssignExpr { .. } => parts.push(span(expr)),
        _ => {}
    }
}

fn reference_base(expr: &Expr, parts: &mut Vec<(usize, usize)>) {
    match expr {
        Expr::RefDot { refr, .. } => reference_base(refr, parts),
        Expr::RefBrack { refr, index, .. } => {
            reference_base(refr, parts);
            operand(index, parts);
        }
        other => unified(other, parts),
    }
}

#[cfg(test)]
#[path = "tests_negation.rs"]
mod tests;
