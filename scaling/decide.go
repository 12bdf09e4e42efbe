package scaling

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// DefaultPolicy is the automatic mode's rule until the operator changes it:
// grow ×2 above a 50 % miss rate, shrink ×0.5 below 20 %, and take no
// decision from a period with fewer than 20 lookups.
func DefaultPolicy() Policy {
	return Policy{
		MaxMissRate: 0.5,
		MinMissRate: 0.2,
		ExpandRatio: 2,
		ShrinkRatio: 0.5,
		MinRequests: 20,
	}
}

// Decide returns the pool size the policy asks for, given the current size,
// the miss rate of the last period and its number of lookups (hits +
// misses).
//
// Above p.MaxMissRate the size becomes ceil(current × p.ExpandRatio), and at
// least one more; below p.MinMissRate it becomes floor(current ×
// p.ShrinkRatio), and at least one less. A miss rate exactly at a threshold,
// or between them, keeps the size, and so does a period with fewer than
// p.MinRequests lookups (a quiet pool's miss rate means nothing) or a NaN
// miss rate. The result is always clamped to [MinNodes, MaxNodes], so a
// current size outside those bounds is brought back inside them even when
// no decision is taken.
//
// Decide does not validate p (see Policy.Validate); with an invalid policy
// it still returns a size within the bounds, moving by at least one node in
// the direction the miss rate asks for.
func Decide(current int, missRate float64, requests int64, p Policy) int {
	switch {
	case requests < p.MinRequests, math.IsNaN(missRate):
		return clampNodes(float64(current))
	case missRate > p.MaxMissRate:
		// Float arithmetic first and clamping before the conversion: an
		// int conversion of a huge or NaN float is implementation-defined.
		grown := math.Ceil(float64(current) * p.ExpandRatio)
		if !(grown > float64(current)) { // also NaN, from a NaN ratio
			grown = float64(current) + 1
		}
		return clampNodes(grown)
	case missRate < p.MinMissRate:
		shrunk := math.Floor(float64(current) * p.ShrinkRatio)
		if !(shrunk < float64(current)) {
			shrunk = float64(current) - 1
		}
		return clampNodes(shrunk)
	default:
		return clampNodes(float64(current))
	}
}

// clampNodes bounds n to [MinNodes, MaxNodes]; NaN counts as MinNodes.
func clampNodes(n float64) int {
	switch {
	case n >= MaxNodes:
		return MaxNodes
	case n >= MinNodes:
		return int(n)
	default: // below the minimum, or NaN
		return MinNodes
	}
}

// ErrInvalidPolicy is what every *PolicyError matches with errors.Is.
var ErrInvalidPolicy = errors.New("scaling: invalid policy")

// FieldError is one invalid field of a form or an API call: Field is the
// test API's parameter name ("maxMiss", "minMiss", "expRatio",
// "shrinkRatio", "minRequests"), so that forms can show the message next to
// the right input; Message is a full sentence for people, naming the
// allowed range and the value given.
type FieldError struct {
	Field   string
	Message string
}

// PolicyError lists every invalid field of a Policy, in the order of the
// form: max miss, min miss, expand ratio, shrink ratio, min requests.
type PolicyError struct {
	Fields []FieldError
}

// Error joins the messages of every field, after the package prefix.
func (e *PolicyError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Message
	}
	return "scaling: invalid policy: " + strings.Join(msgs, " ")
}

// Unwrap makes errors.Is(err, ErrInvalidPolicy) true.
func (e *PolicyError) Unwrap() error { return ErrInvalidPolicy }

// Validate returns nil for a usable policy, or a *PolicyError listing every
// invalid field. NaN and infinite values are invalid everywhere.
func (p Policy) Validate() error {
	var fields []FieldError
	add := func(field, msg string) { fields = append(fields, FieldError{Field: field, Message: msg}) }

	maxOK := isRate(p.MaxMissRate)
	if !maxOK {
		add("maxMiss", "The maximum miss rate must be between 0 and 1; got "+num(p.MaxMissRate)+".")
	}
	minOK := isRate(p.MinMissRate)
	if !minOK {
		add("minMiss", "The minimum miss rate must be between 0 and 1; got "+num(p.MinMissRate)+".")
	}
	if maxOK && minOK && p.MinMissRate >= p.MaxMissRate {
		add("minMiss", "The minimum miss rate ("+num(p.MinMissRate)+
			") must be lower than the maximum miss rate ("+num(p.MaxMissRate)+").")
	}
	// !(x > 1) rather than x <= 1, so that NaN is refused too.
	if !(p.ExpandRatio > 1) || math.IsInf(p.ExpandRatio, 0) {
		add("expRatio", "The expand ratio must be greater than 1; got "+num(p.ExpandRatio)+".")
	}
	if !(p.ShrinkRatio > 0 && p.ShrinkRatio < 1) {
		add("shrinkRatio", "The shrink ratio must be greater than 0 and less than 1; got "+num(p.ShrinkRatio)+".")
	}
	if p.MinRequests < 0 {
		add("minRequests", "The minimum number of requests must be 0 or more; got "+
			strconv.FormatInt(p.MinRequests, 10)+".")
	}
	if len(fields) > 0 {
		return &PolicyError{Fields: fields}
	}
	return nil
}

// isRate reports whether r is a miss rate: within [0, 1], NaN excluded.
func isRate(r float64) bool { return r >= 0 && r <= 1 }

// num formats a float the shortest way that reads back to the same value:
// "1.5", "1", "NaN", "+Inf".
func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
