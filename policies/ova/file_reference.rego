package io.konveyor.forklift.ova

import rego.v1

# ferry-only rule. Every References/File href must name a file inside the
# package. ferry never opens one that leaves it ('..', absolute paths, URLs),
# and a missing or truncated file cannot be migrated.
file_problem_texts := {
	"empty": "the reference is empty",
	"parentTraversal": "it leaves the package with '..'",
	"absolutePath": "it is an absolute path",
	"url": "it is a URL, which is not followed",
	"badCharacter": "it contains a forbidden character",
	"missing": "the package does not contain it",
	"truncated": "the archive ends before the end of the file",
}

concerns contains flag if {
	is_array(input.integrity.fileProblems)
	some problem in input.integrity.fileProblems
	is_object(problem)
	href := object.get(problem, "href", "unknown")
	reason := object.get(file_problem_texts, object.get(problem, "problem", ""), "it cannot be used")
	flag := {
		"id": "ferry.ova.file.reference.invalid",
		"category": "Critical",
		"label": sprintf("File reference '%v' cannot be used", [href]),
		"assessment": sprintf("The OVF references '%v' but %v. Fix the descriptor's References section or re-export the appliance.", [href, reason]),
	}
}
