package mrc

import (
	"math/bits"
	"runtime"
)

// engineBytes estimates the heap an engine from cache.New holds with this
// many items of 8-byte keys whose values share one buffer, peak the most
// it held since it was made: its item table (an arena of 40-byte entries
// in chunks of 1024, an index of 8-byte slots at most 3/4 full, at least
// 64) and its policy's own arrays (TinyLFU's tags and sketch grow with
// the items and never shrink). The figures follow package cache's layout;
// TestMemoryMatchesHeap checks the sum against the heap.
func engineBytes(policy string, items, peak int) int64 {
	const (
		chunk     = 1024
		entry     = 40
		engine    = 256 // the engine's struct, its table header, locks
		keyBytes  = 8   // each key's own allocation
		stripeLen = 320 // a TinyLFU read-buffer stripe
	)
	chunks := int64((items + 1 + chunk - 1) / chunk)
	slots := int64(max(64, pow2(items*4/3+1)))
	b := engine + chunks*chunk*entry + slots*8 + int64(items)*keyBytes
	switch policy {
	case "sieve":
		b += chunks * chunk / 8 // a visited bit per entry
	case "tinylfu", "sizelfu":
		stripes := int64(min(max(pow2(4*runtime.GOMAXPROCS(0)), 4), 64))
		peakChunks := int64((peak + 1 + chunk - 1) / chunk)
		b += peakChunks*chunk + // a segment tag per entry
			int64(max(64, pow2(peak+1)))*8 + // the sketch: a word per item
			stripes*stripeLen
	}
	return b
}

// pow2 returns the least power of two at or above n (1 for n <= 1).
func pow2(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}
