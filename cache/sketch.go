package cache

// sketch is a count-min sketch of 4-bit counters, the frequency estimate
// behind TinyLFU admission (Einziger et al., as in Caffeine and otter):
// four counters per key, the estimate is their minimum, and every
// sampleSize increments all counters are halved, so that old popularity
// fades. It remembers keys that are no longer (or never were) cached, in a
// few bytes per cached item.
type sketch struct {
	table      []uint64 // 16 counters of 4 bits per word
	mask       uint64   // len(table)-1
	additions  int
	sampleSize int
}

const (
	minSketchWords = 64
	maxCount       = 15
	resetMask      = 0x7777777777777777 // each counter halved: drop its low bit
)

// sketchRows is the number of counters per key.
const sketchRows = 4

func newSketch() sketch {
	var s sketch
	s.resize(minSketchWords)
	return s
}

// ensure sizes the table for items cached items (one word, 16 counters,
// per item as in Caffeine). It grows by doubling, which keeps every count:
// a row's word index is the hash masked to the table, so the word a key
// uses in the doubled table is the old one or its copy one half up.
func (s *sketch) ensure(items int) {
	for items > len(s.table) {
		old := s.table
		s.table = append(old, old...)
		s.mask = uint64(len(s.table) - 1)
		s.sampleSize = 10 * len(s.table)
	}
}

func (s *sketch) resize(words int) {
	s.table = make([]uint64, words)
	s.mask = uint64(words - 1)
	s.additions = 0
	s.sampleSize = 10 * words
}

// reset forgets every count and returns the table to its smallest size.
func (s *sketch) reset() { s.resize(minSketchWords) }

// slot returns the word and the bit offset of row i's counter for h. A
// key's four counters share one 64-byte block of 8 words, one counter in
// each pair of words, as in Caffeine's sketch: one cache miss per access,
// not four.
func (s *sketch) slot(h uint64, i int) (word uint64, shift uint) {
	x := h * 0x9e3779b97f4a7c15
	block := (x >> 32) & s.mask &^ 7
	y := x >> (8 * i)
	return block + uint64(2*i) + y&1, uint(y>>1&15) << 2
}

// frequency is the estimated number of recent accesses of h's key, 0-15.
func (s *sketch) frequency(h uint64) int {
	f := maxCount
	for i := range sketchRows {
		w, sh := s.slot(h, i)
		f = min(f, int(s.table[w]>>sh&maxCount))
	}
	return f
}

// increment counts one access of h's key. Only the counters at the
// minimum go up (conservative update): the others already over-count.
func (s *sketch) increment(h uint64) {
	var words [sketchRows]uint64
	var shifts [sketchRows]uint
	least := maxCount
	for i := range sketchRows {
		words[i], shifts[i] = s.slot(h, i)
		least = min(least, int(s.table[words[i]]>>shifts[i]&maxCount))
	}
	if least == maxCount {
		return
	}
	for i := range words {
		if int(s.table[words[i]]>>shifts[i]&maxCount) == least {
			s.table[words[i]] += 1 << shifts[i]
		}
	}
	s.additions++
	if s.additions >= s.sampleSize {
		s.age()
	}
}

// age halves every counter.
func (s *sketch) age() {
	for i, w := range s.table {
		s.table[i] = w >> 1 & resetMask
	}
	s.additions /= 2
}
