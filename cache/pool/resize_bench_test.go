package pool

import (
	"fmt"
	"testing"

	"github.com/picpool/picpool/cache/partition"
)

// BenchmarkResizeMove fills a local pool with 100 KB values, resizes it,
// and reports the share of entries lost (not on their new owner
// afterwards: the target is 0), the bytes the resize moved, and how long
// the copy took:
//
//	go test -run '^$' -bench ResizeMove -benchtime 1x ./cache/pool
//
// "4→2 of 2GiB" moves the two leaving nodes' 1 GiB.
func BenchmarkResizeMove(b *testing.B) {
	for _, tt := range []struct {
		from, to int
		total    int64
	}{
		{2, 3, 1 << 30},
		{4, 2, 1 << 30},
		{4, 2, 2 << 30},
	} {
		b.Run(fmt.Sprintf("%d→%d of %dGiB", tt.from, tt.to, tt.total>>30), func(b *testing.B) {
			const valueSize = 100 << 10
			n := int(tt.total / valueSize)
			value := make([]byte, valueSize)
			for b.Loop() {
				b.StopTimer()
				tp := newTestPool(b, tt.from, partition.NameRendezvous, tt.total) // each node could hold everything
				for i := range n {
					if !tp.Set(b.Context(), fmt.Sprintf("img:%07d", i), 1, value) {
						b.Fatalf("fill: img:%07d not stored", i)
					}
				}
				b.StartTimer()
				if err := tp.Resize(b.Context(), tt.to); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				lost := 0
				for i := range n {
					if _, _, hit := tp.Get(b.Context(), fmt.Sprintf("img:%07d", i)); !hit {
						lost++
					}
				}
				r := tp.LastMove()
				b.ReportMetric(100*float64(lost)/float64(n), "lost-%")
				b.ReportMetric(float64(r.Bytes)/(1<<20), "moved-MiB")
				b.ReportMetric(r.Took.Seconds(), "copy-s")
				b.ReportMetric(float64(r.Bytes)/(1<<20)/r.Took.Seconds(), "MiB/s")
				tp.Close()
				tp.local.Close()
				b.StartTimer()
			}
		})
	}
}
