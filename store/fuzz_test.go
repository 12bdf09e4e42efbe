package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/store"
	"github.com/picpool/picpool/store/storetest"
)

// FuzzListPrefix checks the LIKE escaping against strings.HasPrefix: a
// prefix lists exactly the keys that start with it, whatever % _ ! \
// or other characters either holds.
func FuzzListPrefix(f *testing.F) {
	for _, seed := range [][3]string{
		{"a%b", "a_b", "a%"}, {"a_b", "axb", "a_"}, {"ca!t", "cat", "ca!"}, {`c\at`, "cat", `c\`},
		{"Cat", "cat", "c"}, {"🐱x", "🐱", "🐱"}, {"%", "_", "%"}, {"a!!", "a!", "a!!"}, {"x", "y", ""},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	ctx := context.Background()
	blobs, _ := storetest.FileBlobs(f)
	l := store.NewLibrary(storetest.Open(f, "sqlite::memory:"), blobs, nil)
	f.Fuzz(func(t *testing.T, key1, key2, prefix string) {
		if err := l.DeleteAll(ctx); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, k := range []string{key1, key2} {
			_, err := l.Put(ctx, k, gallery.Content{Type: "image/png"}, []byte("x"))
			if errors.Is(err, store.ErrInvalidKey) {
				continue
			}
			if err != nil {
				t.Fatalf("Put(%q): %v", k, err)
			}
			keys = append(keys, k)
		}
		var want []string
		for _, k := range keys {
			// Keys are text: a prefix that is not (half a character)
			// starts none of them.
			if utf8.ValidString(prefix) && strings.HasPrefix(k, prefix) && !slices.Contains(want, k) {
				want = append(want, k)
			}
		}
		images, total, err := l.List(ctx, gallery.ListOptions{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, img := range images {
			got = append(got, img.Key)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) || total != len(want) {
			t.Errorf("List(prefix %q) over keys %q = %q (total %d), want %q", prefix, keys, got, total, want)
		}
	})
}
