# The shapes of ../v1/negation.rego that Rego v0 can write, in v0 syntax as
# Forklift's rules are written. ferry's answers for this package must equal
# OPA's for the v1 package (OPA 1.x no longer loads v0 without a flag).
package io.konveyor.forklift.negtest0

rules_version = {"rules_version": 1}

validate = {"rules_version": 1, "errors": [], "concerns": concerns}

concerns[{"id": id, "category": "Information", "label": id}] {
	v := checks[id]
	v == true
}

concerns[{"id": "c24", "category": "Information", "label": sprintf("%v", [c24])}]

concerns[{"id": "c40", "category": "Information", "label": sprintf("%v", [x])}] {
	x := c40[_]
}

checks["c1"] = c1
checks["c2"] = c2
checks["c3"] = c3
checks["c4"] = c4
checks["c5"] = c5
checks["c6"] = c6
checks["c7"] = c7
checks["c8"] = c8
checks["c9"] = c9
checks["c10"] = c10
checks["c11"] = c11
checks["c12"] = c12
checks["c13"] = c13
checks["c14"] = c14
checks["c15"] = c15
checks["c16"] = c16
checks["c17"] = c17
checks["c19"] = c19
checks["c20"] = c20
checks["c21"] = c21
checks["c22"] = c22
checks["c23"] = c23
checks["c26"] = c26
checks["c27"] = c27
checks["c28"] = c28
checks["c29"] = c29
checks["c30"] = c30
checks["c31"] = c31
checks["c32"] = c32
checks["c33"] = c33
checks["c34"] = c34
checks["c35"] = c35
checks["c36"] = c36
checks["c38"] = c38
checks["c39"] = c39
checks["c41"] = c41
checks["c42"] = c42

f(x) {
	x == 1
}

g(x, y) {
	x == y
}

h(x) = x.a

maybe {
	input.flag == true
}

maybe_a = input.a {
	input.flag == true
}

maybe_obj = {"k1": 1, "k2": 2} {
	input.flag == true
}

fn(v) {
	not f(v.a)
}

e = 1 {
	input.flag == true
} else = 2 {
	not f(input.a)
}

c1 { not f(input.a) }
c2 { not input.a }
c3 { not input.a == 1 }
c4 { not count(input.list) > 0 }
c5 { not f(input.obj.b) }
c6 { not startswith(input.s, "x") }
c7 { not g(input.a, input.b) }
c8 { not g(lower(input.s), "x") }
c9 {
	x := input.a
	not f(x)
}
c10 { not f(input.a) with input.a as 1 }
c11 { not f(count(input.list)) }
c12 { not lower(input.s) == "x" }
c13 { not [input.a] == [] }
c14 { not f(data.nothing) }
c15 { not {"k": input.a} == {} }
c16 { not input.a != 1 }
c17 { not input.a > 1 }
c19 { not input.obj[input.k] }
c20 { not input.obj[input.k] == 1 }
c21 { not g(maybe_a, 1) }
c22 {
	not g(input.a, 1)
	not f(input.b)
}
c23 {
	is_array(input.list)
	x := input.list[_]
	not g(x, input.a)
}
c24 = [x | is_array(input.list); x := input.list[_]; not g(x, input.a)]
c26 { fn(input) }
c27 { e == 2 }
c28 { not count([x | is_array(input.list); x := input.list[_]; not f(input.a)]) > 1 }
c29 { not input.n + 1 == 2 }
c30 { not f(input.a) with input.b as 2 }
c31 { not object.get(input, "a", 0) == 1 }
c32 { not f(h(input)) }
c33 { not g(input.a, input.missing) }
c34 { not input.obj[input.k][0] }
c35 { not sum([input.n, input.m]) == 2 }
c36 { not is_null(input.a) }
c38 { not f(maybe_obj[input.k]) }
c39 { not maybe }
c40[x] {
	is_array(input.list)
	x := input.list[_]
	not f(input.obj[x])
}
c41 { not g(input.a, input.s) }
c42 {
	true
	not f(input.a)
	input.b == 1
}
