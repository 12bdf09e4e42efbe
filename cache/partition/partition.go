// Package partition maps gallery keys to partitions, and partitions to
// the members of a pool: the MD5 of a key picks its partition, a
// Partitioner picks each partition's owner.
package partition

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Partitioner maps keys to partitions and partitions to members. Keys are
// partitioned by the MD5 of the key, so that every process and every
// language computes the same partition; only the mapping of partitions to
// members differs between partitioners.
type Partitioner interface {
	// Name is how tables and flags refer to the partitioner.
	Name() string
	// Partitions is the number of partitions, numbered from 0.
	Partitions() int
	// Partition returns the partition of a gallery key.
	Partition(key string) int
	// Owner returns the index in members of the member owning partition p.
	// members is never empty.
	Owner(p int, members []string) int
}

// Partitioner names.
const (
	NameECE1779    = "ece1779"
	NameRendezvous = "rendezvous"
	// DefaultName moves only about 1/N of the partitions on a resize.
	DefaultName = NameRendezvous
)

// New returns the partitioner of that name ("" is the default).
func New(name string) (Partitioner, error) {
	switch name {
	case NameECE1779:
		return ece1779{}, nil
	case NameRendezvous, "":
		return Rendezvous{}, nil
	}
	return nil, fmt.Errorf("cache: unknown partitioner %q (known: %s, %s)", name, NameRendezvous, NameECE1779)
}

// ece1779 is the course handout's rule, kept for compatibility: 16
// partitions from the first hex digit of the key's MD5, partition p on
// member p mod N. Almost every partition moves when N changes.
type ece1779 struct{}

func (ece1779) Name() string                      { return NameECE1779 }
func (ece1779) Partitions() int                   { return 16 }
func (ece1779) Partition(key string) int          { return int(md5.Sum([]byte(key))[0] >> 4) }
func (ece1779) Owner(p int, members []string) int { return p % len(members) }

// Rendezvous is highest-random-weight hashing over 256 partitions (the
// first byte of the key's MD5): each partition belongs to the member with
// the highest Weight(member, partition), so adding or removing one member
// moves only the partitions that member wins or held, about 1/N of them.
type Rendezvous struct {
	// Weight scores a member for a partition; nil means RendezvousWeight.
	// Tests inject a readable one.
	Weight func(member string, partition int) uint64
}

func (Rendezvous) Name() string             { return NameRendezvous }
func (Rendezvous) Partitions() int          { return 256 }
func (Rendezvous) Partition(key string) int { return int(md5.Sum([]byte(key))[0]) }

func (r Rendezvous) Owner(p int, members []string) int {
	weight := r.Weight
	if weight == nil {
		weight = RendezvousWeight
	}
	best, bestW := 0, uint64(0)
	for i, m := range members {
		if w := weight(m, p); i == 0 || w > bestW || (w == bestW && m < members[best]) {
			best, bestW = i, w
		}
	}
	return best
}

// RendezvousWeight is the default weight: the first 8 bytes of the MD5 of
// the member and the partition number. It is fixed (not seeded), so every
// process agrees on the owners.
func RendezvousWeight(member string, partition int) uint64 {
	var buf [8]byte
	h := md5.New()
	h.Write([]byte(member))
	binary.BigEndian.PutUint64(buf[:], uint64(partition))
	h.Write(buf[:])
	return binary.BigEndian.Uint64(h.Sum(nil)[:8])
}

// Owners returns, for every partition, the index of its owner in members
// (all zero when members is empty).
func Owners(pt Partitioner, members []string) []int {
	o := make([]int, pt.Partitions())
	if len(members) == 0 {
		return o
	}
	for p := range o {
		o[p] = pt.Owner(p, members)
	}
	return o
}

// OfHash returns the partition of pt that a key whose MD5 starts with byte
// h falls in: the top log2(Partitions) bits of h, which is what Partition
// computes from the key itself (a test checks they agree). Node keys carry
// that byte (see package nodekey), so a node can tell the partition of
// what it holds without the gallery keys.
func OfHash(pt Partitioner, h byte) int {
	return int(h >> (8 - bits.Len(uint(pt.Partitions()-1))))
}
