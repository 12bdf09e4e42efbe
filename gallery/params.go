package gallery

import (
	"net/url"
	"slices"
	"strings"
)

// ChangeParams are the parameter names of a change in the test API, in
// the order the messages list them.
var ChangeParams = []string{"mode", "numNodes", "cacheSize", "policy", "maxMiss", "minMiss", "expRatio", "shrinkRatio", "rule", "targetMiss"}

// CheckParams refuses parameters a change does not have, one refusal
// naming each: a typo ("targetmiss", "numnodes") would otherwise answer
// success and change nothing. Names are compared exactly, as ParseChange
// reads them; empty values of known names stay accepted (ParseChange
// reads them as absent).
func CheckParams(v url.Values) error {
	var unknown []string
	for name := range v {
		if !slices.Contains(ChangeParams, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	errs := make(FieldErrors, len(unknown))
	for i, name := range unknown {
		errs[i] = FieldErrorf(Invalid, name, "Unknown parameter %q: configure_cache takes %s.", name, strings.Join(ChangeParams, ", "))
	}
	return errs
}
