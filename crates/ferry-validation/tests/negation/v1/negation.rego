# Negation shapes in Rego v1: each rule c<N> raises a concern with id c<N>
# when it holds. tests/opa_differential_negation.rs evaluates this package
# with real OPA and with ferry and wants the same concerns for every input.
package io.konveyor.forklift.negtest

import rego.v1

rules_version := {"rules_version": 1}

validate := {"rules_version": 1, "errors": [], "concerns": concerns}

concerns contains {"id": id, "category": "Information", "label": id} if {
	some id, v in checks
	v == true
}

concerns contains {"id": "c24", "category": "Information", "label": sprintf("%v", [c24])}

concerns contains {"id": "c40", "category": "Information", "label": sprintf("%v", [x])} if {
	some x in c40
}

checks["c1"] := c1

checks["c2"] := c2

checks["c3"] := c3

checks["c4"] := c4

checks["c5"] := c5

checks["c6"] := c6

checks["c7"] := c7

checks["c8"] := c8

checks["c9"] := c9

checks["c10"] := c10

checks["c11"] := c11

checks["c12"] := c12

checks["c13"] := c13

checks["c14"] := c14

checks["c15"] := c15

checks["c16"] := c16

checks["c17"] := c17

checks["c18"] := c18

checks["c19"] := c19

checks["c20"] := c20

checks["c21"] := c21

checks["c22"] := c22

checks["c23"] := c23

checks["c25"] := c25

checks["c26"] := c26

checks["c27"] := c27

checks["c28"] := c28

checks["c29"] := c29

checks["c30"] := c30

checks["c31"] := c31

checks["c32"] := c32

checks["c33"] := c33

checks["c34"] := c34

checks["c35"] := c35

checks["c36"] := c36

checks["c37"] := c37

checks["c38"] := c38

checks["c39"] := c39

checks["c41"] := c41

checks["c42"] := c42

f(x) if x == 1

g(x, y) if x == y

h(x) := x.a

maybe if input.flag == true

maybe_obj := {"k1": 1, "k2": 2} if input.flag == true

maybe_a := input.a if input.flag == true

fn(v) if not f(v.a)

e := 1 if input.flag == true
else := 2 if not f(input.a)

# a call with a missing argument
c1 if not f(input.a)

# a plain reference
c2 if not input.a

# `==` keeps a top-level reference in place
c3 if not input.a == 1

# a nested call
c4 if not count(input.list) > 0

# a deeper reference
c5 if not f(input.obj.b)

# a builtin
c6 if not startswith(input.s, "x")

# several arguments
c7 if not g(input.a, input.b)

# a call inside a call
c8 if not g(lower(input.s), "x")

# a bound variable
c9 if {
	x := input.a
	not f(x)
}

# `with` on the negation applies to the bindings too
c10 if not f(input.a) with input.a as 1

c11 if not f(count(input.list))

c12 if not lower(input.s) == "x"

# composites with a reference
c13 if not [input.a] == []

c14 if not f(data.nothing)

c15 if not {"k": input.a} == {}

c16 if not input.a != 1

c17 if not input.a > 1

c18 if not input.a in {1}

# a dynamic index
c19 if not input.obj[input.k]

c20 if not input.obj[input.k] == 1

# a rule that may be undefined, as an argument
c21 if not g(maybe_a, 1)

# two negations in one body
c22 if {
	not g(input.a, 1)
	not f(input.b)
}

# a negation inside a loop
c23 if {
	is_array(input.list)
	some x in input.list
	not g(x, input.a)
}

# a negation inside a comprehension
c24 := [x |
	is_array(input.list)
	some x in input.list
	not g(x, input.a)
]

# a negation inside `every`
c25 if {
	is_array(input.list)
	every x in input.list {
		not g(x, input.a)
	}
}

# a negation inside a function
c26 if fn(input)

# a negation in an `else` body
c27 if e == 2

# a negation inside a comprehension inside a negated call
c28 if not count([x | is_array(input.list); some x in input.list; not f(input.a)]) > 1

c29 if not input.n + 1 == 2

c30 if not f(input.a) with input.b as 2

c31 if not object.get(input, "a", 0) == 1

c32 if not f(h(input))

c33 if not g(input.a, input.missing)

c34 if not input.obj[input.k][0]

c35 if not sum([input.n, input.m]) == 2

c36 if not is_null(input.a)

c37 if not "k1", input.a in input.obj

c38 if not f(maybe_obj[input.k])

# a negated rule (not a call): true when the rule is undefined
c39 if not maybe

# a negation in a partial set rule
c40 contains x if {
	is_array(input.list)
	some x in input.list
	not f(input.obj[x])
}

# a negation with an unbraced body on a multi-value rule
c41 if not g(input.a, input.s)

c42 if {
	true
	not f(input.a)
	input.b == 1
}
