package mrc

// fenwick is a binary indexed tree of byte counts over positions in time:
// the stack puts each followed key's size at the position of its last use,
// and the bytes used since a position are a prefix sum away, in O(log n).
type fenwick []int64

// add adds v at position i.
func (f fenwick) add(i int, v int64) {
	for i++; i <= len(f); i += i & -i {
		f[i-1] += v
	}
}

// prefix returns the sum over positions 0..i.
func (f fenwick) prefix(i int) int64 {
	var s int64
	for i++; i > 0; i -= i & -i {
		s += f[i-1]
	}
	return s
}

// build turns f, holding the value at each position, into the tree of
// those values, in O(n).
func (f fenwick) build() {
	for i := 1; i <= len(f); i++ {
		if j := i + i&-i; j <= len(f) {
			f[j-1] += f[i-1]
		}
	}
}
