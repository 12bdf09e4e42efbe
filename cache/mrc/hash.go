package mrc

// hashKey is a seeded 64-bit hash of a key, a word at a time with a
// murmur-style finalizer. Sampling needs its top bits uniform and
// independent of the partitioner's MD5, and tests need it reproducible,
// which hash/maphash (randomly seeded only) is not.
func hashKey(seed uint64, key string) uint64 {
	const m = 0x9e3779b97f4a7c15
	h := seed ^ uint64(len(key))*m
	for len(key) >= 8 {
		w := uint64(key[0]) | uint64(key[1])<<8 | uint64(key[2])<<16 | uint64(key[3])<<24 |
			uint64(key[4])<<32 | uint64(key[5])<<40 | uint64(key[6])<<48 | uint64(key[7])<<56
		h = (h ^ mix(w)) * m
		key = key[8:]
	}
	var w uint64
	for i := 0; i < len(key); i++ {
		w |= uint64(key[i]) << (8 * i)
	}
	h = mix(h ^ mix(w^uint64(len(key))))
	if h == 0 {
		h = 1 // 0 marks an empty slot (see stack)
	}
	return h
}

// mix is MurmurHash3's 64-bit finalizer: every input bit flips each
// output bit with probability close to one half.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// fullRate is the threshold that samples every key: a key is sampled when
// the top 32 bits of its hash are below the threshold.
const fullRate = 1 << 32

// sampled reports whether a key of hash h is sampled under threshold t.
func sampled(h, t uint64) bool { return h>>32 < t }

// rateOf is the share of keys a threshold samples.
func rateOf(t uint64) float64 { return float64(t) / fullRate }
