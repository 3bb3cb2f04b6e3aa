# Version of the rule set in this folder. The inventory revalidates every VM
# whose `rulesVersion` differs from this number, so bump it with every change
# to any rule here. ferry's vSphere pack started at 5, the version of
# Forklift's VMware rules whose concern ids, categories and labels it
# reproduces; 6 makes the rules fire exactly when Forklift's do.
package io.konveyor.forklift.vmware

import rego.v1

RULES_VERSION := 6

rules_version := {"rules_version": RULES_VERSION}
