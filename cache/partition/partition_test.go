package partition

import (
	"crypto/md5"
	"fmt"
	"strings"
	"testing"
)

func TestPartitionGolden(t *testing.T) {
	tests := []struct {
		partitioner string
		key         string
		want        int
	}{
		// The course handout's examples, 0-based.
		{NameECE1779, "k1", 11},
		{NameECE1779, "k2", 6},
		// md5("k1") = b637b17a..., md5("k2") = 61620957...: the first byte.
		{NameRendezvous, "k1", 0xb6},
		{NameRendezvous, "k2", 0x61},
	}
	for _, tt := range tests {
		t.Run(tt.partitioner+"/"+tt.key, func(t *testing.T) {
			pt, err := New(tt.partitioner)
			if err != nil {
				t.Fatal(err)
			}
			if got := pt.Partition(tt.key); got != tt.want {
				t.Fatalf("Partition(%q) = %d, want %d", tt.key, got, tt.want)
			}
		})
	}
}

func TestECE1779OwnerIsModulo(t *testing.T) {
	pt, _ := New(NameECE1779)
	members := []string{"a", "b", "c"}
	for p := range 16 {
		if got := pt.Owner(p, members); got != p%3 {
			t.Fatalf("Owner(%d) = %d, want %d", p, got, p%3)
		}
	}
}

// TestRendezvousInjectedWeight uses a readable weight: the member with the
// highest "member number × partition" wins.
func TestRendezvousInjectedWeight(t *testing.T) {
	r := Rendezvous{Weight: func(m string, p int) uint64 {
		var n int
		fmt.Sscanf(m, "n%d", &n)
		return uint64((n * 7919 * (p + 1)) % 101)
	}}
	members := []string{"n1", "n2", "n3"}
	for p := range 10 {
		best := 0
		for i, m := range members {
			if r.Weight(m, p) > r.Weight(members[best], p) {
				best = i
			}
		}
		if got := r.Owner(p, members); got != best {
			t.Fatalf("Owner(%d) = %d, want %d", p, got, best)
		}
	}
}

// TestRendezvousMovesAboutOneNth: growing N→N+1 moves only partitions to
// the new member, about 1/(N+1) of them; shrinking moves only the removed
// member's.
func TestRendezvousMovesAboutOneNth(t *testing.T) {
	var r Rendezvous
	for n := 1; n < 8; n++ {
		from := make([]string, n)
		for i := range from {
			from[i] = fmt.Sprintf("10.0.0.%d:5100", i+1)
		}
		to := append(from[:n:n], fmt.Sprintf("10.0.0.%d:5100", n+1))
		a, b := Owners(r, from), Owners(r, to)
		moved := 0
		for p := range a {
			if from[a[p]] != to[b[p]] {
				moved++
				if b[p] != n {
					t.Fatalf("%d→%d: partition %d moved between old members", n, n+1, p)
				}
			}
		}
		want := 256.0 / float64(n+1)
		if float64(moved) < want*0.5 || float64(moved) > want*1.6 {
			t.Errorf("%d→%d moved %d partitions, want about %.0f", n, n+1, moved, want)
		}
	}
}

func TestNewUnknown(t *testing.T) {
	if _, err := New("consistent"); err == nil || !strings.Contains(err.Error(), `unknown partitioner "consistent"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestOfHashAgreesWithPartition(t *testing.T) {
	for _, name := range []string{NameECE1779, NameRendezvous} {
		pt, _ := New(name)
		for _, key := range []string{"k1", "k2", "x", "photo 42", strings.Repeat("é", 200)} {
			if got := OfHash(pt, md5.Sum([]byte(key))[0]); got != pt.Partition(key) {
				t.Errorf("%s: the hash byte of %q is in partition %d, the key in %d", name, key, got, pt.Partition(key))
			}
		}
	}
}
