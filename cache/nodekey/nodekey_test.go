package nodekey

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/picpool/picpool/cache/partition"
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
		got := Of(tt.key).In(Namespace{tt.gen, tt.fence})
		if tt.want != "" && got != tt.want {
			t.Errorf("Of(%q).In(%d.%d) = %q, want %q", tt.key, tt.gen, tt.fence, got, tt.want)
		}
		if msg := Valid(got); msg != "" {
			t.Errorf("Of(%q) = %q, which a node refuses: %s", tt.key, got, msg)
		}
		k, ns, ok := Parse(got)
		if !ok || k.Hash() != md5.Sum([]byte(tt.key))[0] || ns != (Namespace{tt.gen, tt.fence}) || k.body != keyBody(tt.key) || k != Of(tt.key) {
			t.Errorf("Parse(%q) = %x %v %q %v", got, k.Hash(), ns, k.body, ok)
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
		if Of(forged).In(Namespace{}) == Of(long).In(Namespace{}) {
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
		nk := Of(key).In(Namespace{1 << 63, 1 << 63})
		if msg := Valid(nk + "@display"); msg != "" {
			t.Errorf("Of(%q) with a derived suffix = %q (%d bytes): %s", key, nk, len(nk), msg)
		}
	}
}

func TestParseRefusesForeignKeys(t *testing.T) {
	for _, nk := range []string{"", "k1", "zz:0.0:k", "b6:0:k", "b6:x.0:k", "b6:0.0", "b6-0.0:k"} {
		if _, _, ok := Parse(nk); ok {
			t.Errorf("Parse(%q) accepted a key the pool does not make", nk)
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
		ns := Namespace{4, 9}
		nk := Of(a).In(ns)
		if msg := Valid(nk); msg != "" {
			t.Fatalf("Of(%q) = %q, which a node refuses: %s", a, nk, msg)
		}
		if b != a && b != "" && utf8.ValidString(b) && Of(b).In(ns) == nk {
			t.Fatalf("Of(%q) and Of(%q) share the node key %q", a, b, nk)
		}
		k, got, ok := Parse(nk)
		if !ok || got != ns {
			t.Fatalf("Parse(%q) = %v, %v; want namespace %v", nk, got, ok, ns)
		}
		if moved := k.In(Namespace{5, 0}); moved != Of(a).In(Namespace{5, 0}) {
			t.Fatalf("%q moved to namespace 5.0 is %q", nk, moved)
		}
		for _, name := range []string{partition.NameECE1779, partition.NameRendezvous} {
			pt, _ := partition.New(name)
			if p := partition.OfHash(pt, k.Hash()); p != pt.Partition(a) {
				t.Fatalf("%s: node key partition %d, key partition %d", name, p, pt.Partition(a))
			}
		}
	})
}

func TestDerivedRoutesWithItsOriginal(t *testing.T) {
	long := strings.Repeat("é", 200) // hashed body
	for _, key := range []string{"k1", "a@thumb", "a:b#c@d%e", long} {
		k := Of(key)
		d := k.Derived("thumb")
		if d.Hash() != k.Hash() {
			t.Errorf("Of(%q).Derived: hash %x, want the original's %x", key, d.Hash(), k.Hash())
		}
		nk := d.In(Namespace{2, 5})
		if msg := Valid(nk); msg != "" {
			t.Errorf("Of(%q).Derived = %q, which a node refuses: %s", key, nk, msg)
		}
		if got, want := nk, k.In(Namespace{2, 5})+"@thumb"; got != want {
			t.Errorf("Of(%q).Derived(thumb).In = %q, want %q", key, got, want)
		}
		// No gallery key's node key meets a derived one.
		if Of(key+"@thumb") == d {
			t.Errorf("gallery key %q@thumb has the node key of %q's thumb", key, key)
		}
	}
}
