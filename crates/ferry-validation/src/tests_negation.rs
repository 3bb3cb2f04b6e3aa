#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::rewrite;

fn v1(body: &str) -> String {
    let text = format!("package p\nimport rego.v1\nf(x) if x == 1\ng(x, y) if x == y\n{body}\n");
    let out = rewrite("t.rego", &text, true).unwrap();
    out.split_once("g(x, y) if x == y\n")
        .unwrap()
        .1
        .trim_end()
        .to_owned()
}

#[test]
fn a_call_argument_is_bound_before_the_negation() {
    assert_eq!(
        v1("r if not f(input.a)"),
        "r if { __ferry_not0__ := input.a; not f(__ferry_not0__) }"
    );
}

#[test]
fn braced_bodies_get_the_binding_in_place() {
    assert_eq!(
        v1("r if {\n\tx := 1\n\tnot g(input.a, x)\n}"),
        "r if {\n\tx := 1\n\t__ferry_not0__ := input.a; __ferry_not1__ := x; not g(__ferry_not0__, __ferry_not1__)\n}"
    );
}

#[test]
fn equality_keeps_a_reference_but_binds_its_dynamic_index() {
    assert_eq!(v1("r if not input.a == 1"), "r if not input.a == 1");
    assert_eq!(
        v1("r if not input.o[input.k] == 1"),
        "r if { __ferry_not0__ := input.k; not input.o[__ferry_not0__] == 1 }"
    );
    assert_eq!(v1("r if not input.a"), "r if not input.a");
}

#[test]
fn nested_calls_and_composites_are_bound() {
    assert_eq!(
        v1("r if not count(input.l) > 0"),
        "r if { __ferry_not0__ := count(input.l); not __ferry_not0__ > 0 }"
    );
    assert_eq!(
        v1("r if not [input.a, 1] == []"),
        "r if { __ferry_not0__ := input.a; not [__ferry_not0__, 1] == [] }"
    );
}

#[test]
fn with_modifiers_are_copied_to_the_bindings() {
    assert_eq!(
        v1("r if not f(input.a) with input.a as 1"),
        "r if { __ferry_not0__ := input.a with input.a as 1; not f(__ferry_not0__) with input.a as 1 }"
    );
}

#[test]
fn comprehensions_get_bindings_without_braces() {
    assert_eq!(
        v1("r := [x | some x in input.l; not g(x, input.a)]"),
        "r := [x | some x in input.l; __ferry_not0__ := x; __ferry_not1__ := input.a; not g(__ferry_not0__, __ferry_not1__)]"
    );
}

#[test]
fn a_negation_inside_a_bound_part_is_rewritten_in_a_later_pass() {
    let out = v1("r if not count([x | some x in input.l; not f(input.a)]) > 1");
    assert_eq!(
        out,
        "r if { __ferry_not0__ := count([x | some x in input.l; __ferry_not1__ := input.a; not f(__ferry_not1__)]); not __ferry_not0__ > 1 }"
    );
}

#[test]
fn v0_bodies_and_else() {
    let text = "package p\nf(x) { x == 1 }\ne = 1 { input.b } else = 2 { not f(input.a) }\n";
    let out = rewrite("t.rego", text, false).unwrap();
    assert!(
        out.contains("else = 2 { __ferry_not0__ := input.a; not f(__ferry_not0__) }"),
        "{out}"
    );
}

#[test]
fn text_without_negations_is_unchanged() {
    let text = "package p\nimport rego.v1\nr if input.a == 1\n";
    assert_eq!(rewrite("t.rego", text, true).unwrap(), text);
}

#[test]
fn a_parse_error_names_the_file_and_line() {
    let err = rewrite("dir/bad.rego", "package p\nr if {\n", true).unwrap_err();
    assert!(err.contains("bad.rego"), "{err}");
}

#[test]
fn strings_at_the_end_keep_their_quotes() {
    assert_eq!(
        v1("r if not lower(input.s) == \"x\""),
        "r if { __ferry_not0__ := lower(input.s); not __ferry_not0__ == \"x\" }"
    );
    assert_eq!(
        v1("r if not f(input.a) with input.b as `y`"),
        "r if { __ferry_not0__ := input.a with input.b as `y`; not f(__ferry_not0__) with input.b as `y` }"
    );
}

#[test]
fn every_rewritten_module_parses() {
    for (file, v1) in [("v1/negation.rego", true), ("v0/negation.rego", false)] {
        let path = format!("{}/tests/negation/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let out = rewrite(&path, &text, v1).unwrap();
        assert_ne!(out, text);
        assert!(!out.contains("not f(input."), "{out}");
    }
}
