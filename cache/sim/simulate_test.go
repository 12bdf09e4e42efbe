package sim

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadTrace(t *testing.T) {
	got, err := ReadTrace(strings.NewReader("# comment\n\na 10\n  b\t2000  \nimg:1 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Request{{"a", 10}, {"b", 2000}, {"img:1", 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("ReadTrace (-want +got):\n%s", diff)
	}
	var buf bytes.Buffer
	if err := WriteTrace(&buf, want); err != nil {
		t.Fatal(err)
	}
	again, err := ReadTrace(&buf)
	if err != nil || !slices.Equal(again, want) {
		t.Fatalf("WriteTrace then ReadTrace = %v, %v; want %v", again, err, want)
	}
}

func TestReadTraceErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"a 1\nb\n", `cache: trace line 2: want "key size", got 1 fields`},
		{"# x\n\na 1 2\n", `cache: trace line 3: want "key size", got 3 fields`},
		{"a -1\n", `cache: trace line 1: size "-1" is not a whole number of bytes`},
		{"a 1\na 1.5\n", `cache: trace line 2: size "1.5" is not a whole number of bytes`},
	}
	for _, tt := range tests {
		if _, err := ReadTrace(strings.NewReader(tt.in)); err == nil || err.Error() != tt.msg {
			t.Errorf("ReadTrace(%q) error = %v, want %q", tt.in, err, tt.msg)
		}
	}
}

// TestSimulateLRU checks the counts against a replay worked out by hand.
func TestSimulateLRU(t *testing.T) {
	// Each item costs 1+100+64 = 165 bytes: three fit in 500.
	trace := []Request{{"a", 100}, {"b", 100}, {"a", 100}, {"c", 100}, {"d", 100}, {"b", 100}, {"a", 100}, {"a", 50}, {"x", 1000}}
	// a miss, b miss, a HIT, c miss, d miss (evicts b), b miss (evicts a),
	// a miss (evicts c), a with another size: miss, x too large: miss.
	got, err := Simulate([]string{"LRU"}, 500, trace, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{{Policy: "lru", Requests: 8, Hits: 1, Bytes: 1650, HitBytes: 100, Len: 3, Size: 165 + 165 + 115}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Simulate (-want +got):\n%s", diff)
	}
	if got[0].HitRatio() != 1.0/8 || got[0].ByteHitRatio() != 100.0/1650 {
		t.Fatalf("ratios %v, %v; want 1/8 and 100/1650", got[0].HitRatio(), got[0].ByteHitRatio())
	}
	if _, err := Simulate([]string{"lru", "mru"}, 500, trace, 0); err == nil || !strings.Contains(err.Error(), `unknown replacement policy "mru"`) {
		t.Fatalf("unknown policy: err = %v", err)
	}
}

func TestZipfTrace(t *testing.T) {
	z := ZipfTrace{Objects: 1000, Requests: 5000, S: 1.01, MinSize: 10, MaxSize: 1000, Seed: 7}
	a, err := z.Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := z.Generate()
	if !slices.Equal(a, b) {
		t.Fatal("the same ZipfTrace generated two different traces")
	}
	counts := map[string]int{}
	sizes := map[string]int{}
	for _, r := range a {
		if r.Size < 10 || r.Size > 1000 {
			t.Fatalf("size %d outside [10, 1000]", r.Size)
		}
		if s, ok := sizes[r.Key]; ok && s != r.Size {
			t.Fatalf("key %s has sizes %d and %d", r.Key, s, r.Size)
		}
		sizes[r.Key] = r.Size
		counts[r.Key]++
	}
	top := 0
	for _, n := range counts {
		top = max(top, n)
	}
	// Zipf 1.01 over 1000 objects: the most popular gets about 13 %.
	if top < 5000/20 || len(counts) < 300 {
		t.Fatalf("most popular key requested %d times of 5000 over %d keys: not Zipf-like", top, len(counts))
	}
	for _, bad := range []ZipfTrace{{Objects: 0, Requests: 1, S: 1.1, MinSize: 1, MaxSize: 1}, {Objects: 1, S: 1, MinSize: 1, MaxSize: 1}, {Objects: 1, S: 1.1, MinSize: 5, MaxSize: 4}} {
		if _, err := bad.Generate(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// mapStore is a Store that keeps everything: Replay must drive a cache
// that is not a cache.Engine the same way.
type mapStore map[string][]byte

func (m mapStore) Get(k string) ([]byte, bool)  { v, ok := m[k]; return v, ok }
func (m mapStore) Set(k string, v []byte) error { m[k] = v; return nil }

func TestReplayStore(t *testing.T) {
	trace := []Request{{"a", 10}, {"a", 10}, {"b", 20}, {"a", 10}, {"b", 30}, {"b", 30}}
	// Counted from the second request: a HIT, b miss, a HIT, b with a new
	// size: miss (and Set again), b HIT.
	s := mapStore{}
	got := Replay(s, trace, 1)
	want := Result{Requests: 5, Hits: 3, Bytes: 100, HitBytes: 50}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Replay (-want +got):\n%s", diff)
	}
	if len(s["b"]) != 30 {
		t.Fatalf("b holds %d bytes after the replay, want its new size 30", len(s["b"]))
	}
}
