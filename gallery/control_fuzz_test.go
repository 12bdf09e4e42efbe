package gallery

import (
	"log/slog"
	"math"
	"net/url"
	"slices"
	"testing"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/scaling"
)

// FuzzParseChange: whatever the parameters, ParseChange and Check either
// refuse them, each refusal about a named parameter with a message, or
// leave a change whose every field is in range.
func FuzzParseChange(f *testing.F) {
	f.Add("auto", "3", "64", "RR", "0.5", "0.2", "2", "0.5")
	f.Add("", "", "", "", "", "", "", "")
	f.Add("x", "0", "-1", "FIFO", "NaN", "Inf", "1e400", "-0")
	f.Add("MANUAL", " 8 ", "65536", "lru", "1", "0", "1.0000001", "0.999")
	f.Fuzz(func(t *testing.T, mode, numNodes, cacheSize, policy, maxMiss, minMiss, expRatio, shrinkRatio string) {
		v := url.Values{"mode": {mode}, "numNodes": {numNodes}, "cacheSize": {cacheSize}, "policy": {policy},
			"maxMiss": {maxMiss}, "minMiss": {minMiss}, "expRatio": {expRatio}, "shrinkRatio": {shrinkRatio}}
		ch, err := ParseChange(v)
		if err == nil {
			var errs FieldErrors
			if errs, err = NewControl(funcPool{}, &memSettings{}, slog.New(slog.DiscardHandler)).Check(t.Context(), ch); err != nil {
				t.Fatal(err)
			}
			if len(errs) > 0 {
				err = errs
			}
		}
		if err != nil {
			fe, ok := err.(FieldErrors)
			if !ok || len(fe) == 0 {
				t.Fatalf("error %T %v, want FieldErrors", err, err)
			}
			for _, e := range fe {
				if e.Code != Invalid || e.Message == "" || !slices.Contains([]string{"mode", "numNodes", "cacheSize", "policy", "maxMiss", "minMiss", "expRatio", "shrinkRatio"}, e.Field) {
					t.Fatalf("refusal %+v", e)
				}
			}
			return
		}
		if ch.NumNodes != nil && (*ch.NumNodes < scaling.MinNodes || *ch.NumNodes > scaling.MaxNodes) {
			t.Fatalf("numNodes %d accepted", *ch.NumNodes)
		}
		if ch.CapacityMB != nil && (*ch.CapacityMB < 0 || *ch.CapacityMB > MaxCacheMB) {
			t.Fatalf("cacheSize %d accepted", *ch.CapacityMB)
		}
		if ch.CachePolicy != nil && !slices.Contains(cache.Policies(), *ch.CachePolicy) {
			t.Fatalf("policy %q accepted", *ch.CachePolicy)
		}
		if ch.Mode != nil && *ch.Mode != "manual" && *ch.Mode != "auto" {
			t.Fatalf("mode %q accepted", *ch.Mode)
		}
		for _, x := range []*float64{ch.MaxMiss, ch.MinMiss, ch.ExpRatio, ch.ShrinkRatio} {
			if x != nil && (math.IsNaN(*x) || math.IsInf(*x, 0)) {
				t.Fatalf("%v accepted", *x)
			}
		}
	})
}
