package node

import (
	"fmt"
	"testing"

	"github.com/picpool/picpool/cache/memproto"
)

// BenchmarkCurveCost measures what recording the curve adds to a GET:
// a node's whole counted lookup (get: the engine, the counters and the
// curve) beside the curve's part alone (record), for a hot set of 64
// keys (all sampled: the worst case, every GET takes the recorder's
// lock) and for 20,000 keys (sampled at the rate the memory bound
// allows), 100 KB values, in parallel on every core.
//
//	go test -run '^$' -bench CurveCost ./cache/node
func BenchmarkCurveCost(b *testing.B) {
	for _, keys := range []int{64, 20_000} {
		n, err := New(Options{Token: "t", Config: Config{Capacity: 4 << 30, Policy: "lru"}})
		if err != nil {
			b.Fatal(err)
		}
		names := make([]string, keys)
		value := make([]byte, 100<<10)
		for i := range names {
			names[i] = fmt.Sprintf("pp:1.0:img-%05d", i)
			n.set(names[i], 1, memproto.Value{B: append([]byte(nil), value...)})
		}
		b.Run(fmt.Sprintf("get/%d-keys", keys), func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					it, ok := n.store.Get(names[(i*7919)%keys], false)
					if !ok {
						b.Error("miss")
						return
					}
					it.Value.Release()
				}
			})
		})
		b.Run(fmt.Sprintf("record/%d-keys", keys), func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					n.curve.lookup(names[(i*7919)%keys], len(value), true)
				}
			})
		})
		b.Logf("%d keys: sampling rate %v, curve memory %d bytes", keys, n.curve.rec.Load().Rate(), n.CurveMemory())
	}
}
