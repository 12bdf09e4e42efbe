package cache

import (
	"hash/maphash"
	"testing"
)

func TestSketchCountsAgesAndGrows(t *testing.T) {
	seed := maphash.MakeSeed()
	h := func(i int) uint64 { return maphash.Comparable(seed, i) }
	s := newSketch()
	for i := range 10 {
		for range i {
			s.increment(h(i))
		}
	}
	for i := range 10 {
		// Count-min never under-counts; with 10 keys in 1024 counters a
		// row collision that over-counts all four rows is unlikely.
		if got := s.frequency(h(i)); got != i {
			t.Errorf("frequency of key %d = %d, want %d", i, got, i)
		}
	}
	for range 40 {
		s.increment(h(99))
	}
	if got := s.frequency(h(99)); got != maxCount {
		t.Errorf("frequency after 40 increments = %d, want the cap %d", got, maxCount)
	}
	s.ensure(5 * minSketchWords) // doubles to 512 words, keeping every count
	if len(s.table) != 8*minSketchWords {
		t.Fatalf("table has %d words after ensure(%d), want %d", len(s.table), 5*minSketchWords, 8*minSketchWords)
	}
	for i := range 10 {
		if got := s.frequency(h(i)); got != i {
			t.Errorf("after growing: frequency of key %d = %d, want %d", i, got, i)
		}
	}
	s.age()
	for i := range 10 {
		if got := s.frequency(h(i)); got != i/2 {
			t.Errorf("after aging: frequency of key %d = %d, want %d", i, got, i/2)
		}
	}
	s.additions = s.sampleSize - 1
	s.increment(h(3)) // the sample is full: every counter halves again
	if got := s.frequency(h(8)); got != 2 {
		t.Errorf("after the sample filled: frequency of key 8 = %d, want 2", got)
	}
}
