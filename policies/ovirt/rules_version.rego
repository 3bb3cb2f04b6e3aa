# Version of the rule set in this folder. The inventory revalidates every VM
# whose `rulesVersion` differs from this number, so bump it with every change
# to any rule here. It starts at 6, the version of Forklift's oVirt rules
# whose concern ids, categories and labels this pack reproduces.
package io.konveyor.forklift.ovirt

import rego.v1

RULES_VERSION := 6

rules_version := {"rules_version": RULES_VERSION}
