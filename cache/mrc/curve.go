package mrc

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Point is one point of a curve: the miss ratio of a cache of Capacity
// bytes.
type Point struct {
	Capacity  int64
	MissRatio float64
}

// Curve is a miss-ratio curve: a node's, from its Recorder, or a pool's,
// from Combine. Between its points the miss ratio is interpolated (see
// MissRatio). It encodes to JSON as
//
//	{"policy":"lru","requests":1200,"keys":40,"points":[[65536,0.91],[131072,0.85]]}
//
// with miss ratios to four decimals, so that nodes can publish it with
// their statistics.
type Curve struct {
	// Policy is the replacement policy the curve is for; "" when the
	// curves combined had different ones.
	Policy string `json:"policy"`
	// Requests counts the requests behind the curve: its weight when
	// curves are combined.
	Requests int64 `json:"requests"`
	// Keys estimates the distinct keys requested (see Combine and
	// PoolMissRatio); 0 for unknown.
	Keys int64 `json:"keys,omitempty"`
	// Points by ascending capacity, each capacity once.
	Points []Point `json:"points"`
}

// MissRatio returns the predicted miss ratio of a cache of capacity
// bytes. Between two points it is linear in the logarithm of the capacity
// (a Zipf workload's curve is close to a line there); from 0 to the first
// point it runs linearly from 1 (an empty cache misses every request);
// past the last point it stays at the last point's value, the prediction
// that claims no gain it has not seen. A curve without points returns NaN.
func (c Curve) MissRatio(capacity int64) float64 {
	ps := c.Points
	if len(ps) == 0 {
		return math.NaN()
	}
	if capacity <= 0 {
		return 1
	}
	i, found := slices.BinarySearchFunc(ps, capacity, func(p Point, c int64) int {
		switch {
		case p.Capacity < c:
			return -1
		case p.Capacity > c:
			return 1
		}
		return 0
	})
	switch {
	case found:
		return ps[i].MissRatio
	case i == len(ps):
		return ps[i-1].MissRatio
	case i == 0:
		first := ps[0]
		t := float64(capacity) / float64(first.Capacity)
		return 1 + t*(first.MissRatio-1)
	}
	lo, hi := ps[i-1], ps[i]
	t := math.Log(float64(capacity)/float64(lo.Capacity)) / math.Log(float64(hi.Capacity)/float64(lo.Capacity))
	return lo.MissRatio + t*(hi.MissRatio-lo.MissRatio)
}

// simplify drops points that interpolation between their neighbours
// reproduces within tolerance, so a flat or straight stretch of the curve
// costs two points, not dozens. The first and last points stay.
func simplify(ps []Point, tolerance float64) []Point {
	if len(ps) <= 2 {
		return ps
	}
	out, last := []Point{ps[0]}, 0
	for i := 1; i < len(ps)-1; i++ {
		// Keep ps[i] if a line from the last kept point to ps[i+1] would
		// misplace any point in between.
		seg := Curve{Points: []Point{ps[last], ps[i+1]}}
		for j := last + 1; j <= i; j++ {
			if math.Abs(seg.MissRatio(ps[j].Capacity)-ps[j].MissRatio) > tolerance {
				out, last = append(out, ps[i]), i
				break
			}
		}
	}
	return append(out, ps[len(ps)-1])
}

// MarshalJSON encodes a point as [capacity, missRatio], the miss ratio to
// four decimals.
func (p Point) MarshalJSON() ([]byte, error) {
	if math.IsNaN(p.MissRatio) || math.IsInf(p.MissRatio, 0) {
		return nil, fmt.Errorf("mrc: point at %d bytes: miss ratio %v cannot be encoded", p.Capacity, p.MissRatio)
	}
	return json.Marshal([2]any{p.Capacity, math.Round(p.MissRatio*1e4) / 1e4})
}

// UnmarshalJSON decodes [capacity, missRatio].
func (p *Point) UnmarshalJSON(b []byte) error {
	var pair []json.Number
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		return errors.New("mrc: a point must be [capacity, missRatio]")
	}
	c, err := pair[0].Int64()
	if err != nil {
		return fmt.Errorf("mrc: point capacity %s is not a whole number of bytes", pair[0])
	}
	m, err := pair[1].Float64()
	if err != nil {
		return fmt.Errorf("mrc: point miss ratio %s is not a number", pair[1])
	}
	p.Capacity, p.MissRatio = c, m
	return nil
}

// UnmarshalJSON decodes a curve and checks it, since curves arrive from
// other processes: capacities positive and strictly ascending, miss ratios
// within [0, 1], requests and keys not negative.
func (c *Curve) UnmarshalJSON(b []byte) error {
	type plain Curve // without this method
	var d plain
	if err := json.Unmarshal(b, &d); err != nil {
		return fmt.Errorf("mrc: decode curve: %w", err)
	}
	if err := Curve(d).check(); err != nil {
		return err
	}
	*c = Curve(d)
	return nil
}

// check returns an error naming the first thing wrong with the curve.
func (c Curve) check() error {
	if c.Requests < 0 || c.Keys < 0 {
		return fmt.Errorf("mrc: curve with %d requests and %d keys: want neither negative", c.Requests, c.Keys)
	}
	for i, p := range c.Points {
		if p.Capacity <= 0 || (i > 0 && p.Capacity <= c.Points[i-1].Capacity) {
			return fmt.Errorf("mrc: curve point %d: capacity %d is not positive and above the previous point's", i, p.Capacity)
		}
		if !(p.MissRatio >= 0 && p.MissRatio <= 1) {
			return fmt.Errorf("mrc: curve point %d: miss ratio %v is not within [0, 1]", i, p.MissRatio)
		}
	}
	return nil
}
