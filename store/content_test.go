package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/store"
)

// TestLibraryKeepsContent: a row keeps its bytes' hash and the size it
// was given; a row stored before they were kept gets its hash on its
// first Load, saved for the next reads, and its size stays unknown.
func TestLibraryKeepsContent(t *testing.T) {
	forEachDB(t, func(t *testing.T, l *store.Library) {
		ctx := t.Context()
		data := []byte("a photo")
		img, err := l.Put(ctx, "p", gallery.Content{Type: "image/jpeg", Width: 3000, Height: 4000}, data)
		if err != nil {
			t.Fatal(err)
		}
		type content struct {
			Hash          string
			Width, Height int
		}
		want := content{gallery.ContentHash(data), 3000, 4000}
		if got := (content{img.Hash, img.Width, img.Height}); got != want {
			t.Errorf("Put = %+v, want %+v", got, want)
		}
		st, err := l.Stat(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		if got := (content{st.Hash, st.Width, st.Height}); got != want {
			t.Errorf("Stat = %+v, want %+v", got, want)
		}
		imgs, _, err := l.List(ctx, gallery.ListOptions{})
		if err != nil || len(imgs) != 1 {
			t.Fatalf("List = %v, %v", imgs, err)
		}
		if diff := cmp.Diff(st, imgs[0]); diff != "" {
			t.Errorf("List differs from Stat (-Stat +List):\n%s", diff)
		}

		if err := l.ForgetContent(ctx, "p"); err != nil {
			t.Fatal(err)
		}
		if st, _ := l.Stat(ctx, "p"); st.Hash != "" || st.Width != 0 {
			t.Fatalf("ForgetContent left %+v", st)
		}
		loaded, _, err := l.Load(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := (content{loaded.Hash, loaded.Width, loaded.Height}), (content{want.Hash, 0, 0}); got != want {
			t.Errorf("Load of an old row = %+v, want %+v", got, want)
		}
		if st, _ := l.Stat(ctx, "p"); st.Hash != want.Hash {
			t.Errorf("after Load, the row's hash is %q, want %q saved", st.Hash, want.Hash)
		}
	})
}
