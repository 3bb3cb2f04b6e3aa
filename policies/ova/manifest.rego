package io.konveyor.forklift.ova

import rego.v1

# ferry-only rule. The package's .mf manifest lists a digest for each file;
# a file that does not match it, or is missing, means the package is corrupt
# or was tampered with, and its disks must not be migrated.
manifest_problem_texts := {
	"checksumMismatch": "its checksum does not match the manifest",
	"missing": "the manifest lists it but the package does not contain it",
	"unsafeName": "the manifest names a file outside the package",
	"unsupportedAlgorithm": "the manifest uses an unsupported digest algorithm",
	"malformed": "the manifest has a malformed line",
	"unreadable": "the file could not be read",
}

concerns contains flag if {
	is_array(input.integrity.manifestProblems)
	some problem in input.integrity.manifestProblems
	is_object(problem)
	file := object.get(problem, "file", "unknown")
	reason := object.get(manifest_problem_texts, object.get(problem, "problem", ""), "the manifest check failed")
	flag := {
		"id": "ferry.ova.manifest.checksum.mismatch",
		"category": "Critical",
		"label": sprintf("Manifest check failed for '%v'", [file]),
		"assessment": sprintf("File '%v': %v. The package is corrupt or was modified after export; copy or export it again.", [file, reason]),
	}
}
