package scaling

import "math"

// PoolCurve predicts a pool's miss rate from its size: the miss-ratio
// curve the pool's owner combines from its nodes' curves (package
// cache/mrc) satisfies it.
type PoolCurve interface {
	// PoolMissRatio returns the expected miss rate of a pool of nodes
	// nodes of nodeCapacity bytes each; NaN if the curve has seen no
	// requests.
	PoolMissRatio(nodes int, nodeCapacity int64) float64
}

// Target is the target policy's rule: size the pool to the fewest nodes
// whose predicted miss rate is at most MissRate.
type Target struct {
	// MissRate is the miss rate to stay at or under: 0 < MissRate < 1.
	MissRate float64
	// Hysteresis keeps a pool from shrinking back and forth on a curve
	// that moves a little from one period to the next: the pool shrinks
	// only to a size predicted at or under MissRate × (1 − Hysteresis).
	// In [0, 1).
	Hysteresis float64
}

// DefaultHysteresis is the target policy's hysteresis unless the operator
// sets one: a target of 0.1 shrinks only to a size predicted at 0.08 or
// less.
const DefaultHysteresis = 0.2

// Predict returns the curve's predicted miss rate of a pool of 1 to
// MaxNodes nodes of nodeCapacity bytes each: element i is for i+1 nodes.
func Predict(curve PoolCurve, nodeCapacity int64) []float64 {
	p := make([]float64, MaxNodes)
	for i := range p {
		p[i] = curve.PoolMissRatio(i+1, nodeCapacity)
	}
	return p
}

// DecideTarget returns the pool size the target policy asks for, given
// the current size, the pool's curve and the capacity of each node.
//
// A pool predicted above t.MissRate moves at once to the smallest size
// predicted at or under it (MaxNodes if none is): usually a larger one,
// in one resize. A pool within the target shrinks only to the smallest
// size predicted at or under t.MissRate × (1 − t.Hysteresis), and
// otherwise stays. So a size it picked is one it picks again from the
// same curve: moving to n leaves every smaller size above the target,
// which is above the shrink threshold, and shrinking to n leaves n within
// the target.
//
// With no curve, a curve that predicts NaN (a pool that saw no requests),
// no capacity, or an invalid target, the size stays. The result is always
// within [MinNodes, MaxNodes], like Decide's.
func DecideTarget(current int, curve PoolCurve, nodeCapacity int64, t Target) int {
	current = clampNodes(float64(current))
	if curve == nil || nodeCapacity <= 0 || t.Validate() != nil {
		return current
	}
	predicted := Predict(curve, nodeCapacity)
	for _, m := range predicted {
		if math.IsNaN(m) {
			return current
		}
	}
	smallest := func(limit float64) int { // 0 when no size is predicted at or under limit
		for i, m := range predicted {
			if m <= limit {
				return i + 1
			}
		}
		return 0
	}
	if predicted[current-1] > t.MissRate {
		if n := smallest(t.MissRate); n != 0 {
			return n
		}
		return MaxNodes
	}
	if n := smallest(t.MissRate * (1 - t.Hysteresis)); n != 0 && n < current {
		return n
	}
	return current
}

// Validate returns nil for a usable target, or a *PolicyError listing each
// invalid field: "targetMiss", the test API's name for the miss rate, and
// "hysteresis".
func (t Target) Validate() error {
	var fields []FieldError
	if !(t.MissRate > 0 && t.MissRate < 1) {
		fields = append(fields, FieldError{Field: "targetMiss",
			Message: "The target miss rate must be greater than 0 and less than 1; got " + num(t.MissRate) + "."})
	}
	if !(t.Hysteresis >= 0 && t.Hysteresis < 1) {
		fields = append(fields, FieldError{Field: "hysteresis",
			Message: "The hysteresis must be at least 0 and less than 1; got " + num(t.Hysteresis) + "."})
	}
	if len(fields) > 0 {
		return &PolicyError{Fields: fields}
	}
	return nil
}
