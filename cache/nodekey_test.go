package cache

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNodeKeyLayout(t *testing.T) {
	tests := []struct {
		key        string
		gen, fence uint64
		want       string
	}{
		// md5("k1") starts b6: the routing byte leads.
		{"k1", 0, 0, "b6:0.0:k1"},
		{"k1", 3, 7, "b6:3.7:k1"},
		{"my photo ü", 1, 0, "" /* checked below */},
		{"a:b#c@d%e", 0, 0, ""},
	}
	for _, tt := range tests {
		got := NodeKey(tt.key, tt.gen, tt.fence)
		if tt.want != "" && got != tt.want {
			t.Errorf("NodeKey(%q, %d, %d) = %q, want %q", tt.key, tt.gen, tt.fence, got, tt.want)
		}
		if msg := ValidNodeKey(got); msg != "" {
			t.Errorf("NodeKey(%q) = %q, which a node refuses: %s", tt.key, got, msg)
		}
		h, ns, body, ok := parseNodeKey(got)
		if !ok || h != md5.Sum([]byte(tt.key))[0] || ns != (namespace{tt.gen, tt.fence}) || body != keyBody(tt.key) {
			t.Errorf("parseNodeKey(%q) = %x %v %q %v", got, h, ns, body, ok)
		}
	}
	if got := keyBody("my photo ü"); got != "my%20photo%20%C3%BC" {
		t.Errorf("keyBody escapes %q", got)
	}
	if got := keyBody("a:b#c@d%e"); got != "a%3Ab%23c%40d%25e" {
		t.Errorf("keyBody escapes %q", got)
	}
}

// TestNodeKeyDigestFormCannotBeForged is the regression test of the hostile
// review's first finding: a long key's node key was "#sha256:<hex>", itself
// a valid gallery key, so uploading that text replaced the long key's
// image. Now a gallery key's body never holds an unescaped '#'.
func TestNodeKeyDigestFormCannotBeForged(t *testing.T) {
	long := strings.Repeat("é", 126) // 252 bytes: past the old 250-byte cut-off
	sum := sha256.Sum256([]byte(long))
	for _, forged := range []string{
		"#sha256:" + hex.EncodeToString(sum[:]), // the old digest form
		keyBody(long),                           // the new one, typed as a key
	} {
		if NodeKey(forged, 0, 0) == NodeKey(long, 0, 0) {
			t.Errorf("the key %q shares the node key of a 126 × é key", forged)
		}
	}
	if b := keyBody(long); !strings.HasPrefix(b, "#") {
		t.Errorf("a 252-byte key's body %q is not in the digest form", b)
	}
}

func TestNodeKeyFitsEveryValidKey(t *testing.T) {
	for _, key := range []string{
		strings.Repeat("k", 250),
		strings.Repeat("🌄", 250), // 1000 bytes
		strings.Repeat("%", 60),  // 180 escaped bytes: the longest escaped body
		strings.Repeat("%", 61),  // one more: digest form
	} {
		nk := NodeKey(key, 1<<63, 1<<63)
		if msg := ValidNodeKey(nk + "@display"); msg != "" {
			t.Errorf("NodeKey(%q) with a derived suffix = %q (%d bytes): %s", key, nk, len(nk), msg)
		}
	}
}

func TestHashPartitionAgreesWithPartition(t *testing.T) {
	for _, name := range []string{PartitionerECE1779, PartitionerRendezvous} {
		pt, _ := NewPartitioner(name)
		for _, key := range []string{"k1", "k2", "x", "photo 42", strings.Repeat("é", 200)} {
			got, ok := nodeKeyPartition(pt, NodeKey(key, 2, 5))
			if !ok || got != pt.Partition(key) {
				t.Errorf("%s: node key of %q is in partition %d (%v), the key in %d", name, key, got, ok, pt.Partition(key))
			}
		}
	}
}

func TestParseNodeKeyRefusesForeignKeys(t *testing.T) {
	for _, nk := range []string{"", "k1", "zz:0.0:k", "b6:0:k", "b6:x.0:k", "b6:0.0", "b6-0.0:k"} {
		if _, _, _, ok := parseNodeKey(nk); ok {
			t.Errorf("parseNodeKey(%q) accepted a key the pool does not make", nk)
		}
	}
}

// FuzzNodeKey: distinct valid gallery keys never share a node key; every
// node key is one a node accepts, routes to the key's partition, and moves
// between namespaces intact.
func FuzzNodeKey(f *testing.F) {
	long := strings.Repeat("é", 126)
	sum := sha256.Sum256([]byte(long))
	f.Add(long, "#sha256:"+hex.EncodeToString(sum[:]))
	for _, s := range []string{"k1", "ü", strings.Repeat("a", 251), "%2F", "a b", "a%20b", "#x", "a@b"} {
		f.Add(s, "other")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if a == "" || !utf8.ValidString(a) {
			return // the gallery refuses these before they reach the pool
		}
		nk := NodeKey(a, 4, 9)
		if msg := ValidNodeKey(nk); msg != "" {
			t.Fatalf("NodeKey(%q) = %q, which a node refuses: %s", a, nk, msg)
		}
		if b != a && b != "" && utf8.ValidString(b) && NodeKey(b, 4, 9) == nk {
			t.Fatalf("NodeKey(%q) == NodeKey(%q) = %q", a, b, nk)
		}
		moved, ok := withNamespace(nk, namespace{5, 0})
		if !ok || moved != NodeKey(a, 5, 0) {
			t.Fatalf("withNamespace(%q) = %q, %v", nk, moved, ok)
		}
		for _, name := range []string{PartitionerECE1779, PartitionerRendezvous} {
			pt, _ := NewPartitioner(name)
			if p, ok := nodeKeyPartition(pt, nk); !ok || p != pt.Partition(a) {
				t.Fatalf("%s: node key partition %d, key partition %d", name, p, pt.Partition(a))
			}
		}
	})
}
