package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/tcpproxy"
	"github.com/picpool/picpool/store"
	"github.com/picpool/picpool/store/storetest"
)

// clock returns a clock that starts at a fixed time and moves one second
// per reading, so that every upload has its own, known update time.
func clock() func() time.Time {
	var ticks atomic.Int64
	start := time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)
	return func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * time.Second) }
}

// forEachStore runs fn once per database kind and blob store kind.
func forEachStore(t *testing.T, fn func(t *testing.T, kind string, newBlobs func(t *testing.T) store.Blobs)) {
	for _, kind := range storetest.Kinds(t) {
		for _, bk := range blobKinds {
			t.Run(kind+"+"+bk.name, func(t *testing.T) { fn(t, kind, bk.open) })
		}
	}
}

// forEachDB runs fn once per database kind, with a library on a fresh
// database of that kind and a file blob store.
func forEachDB(t *testing.T, fn func(t *testing.T, l *store.Library)) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			blobs, _ := storetest.FileBlobs(t)
			fn(t, newLibrary(t, storetest.OpenDB(t, kind), blobs))
		})
	}
}

func newLibrary(t *testing.T, db *store.DB, blobs store.Blobs) *store.Library {
	l := store.NewLibrary(db, blobs, nil)
	l.SetClock(clock())
	return l
}

func TestLibraryPutLoad(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string, newBlobs func(*testing.T) store.Blobs) {
		ctx := context.Background()
		blobs := newBlobs(t)
		l := newLibrary(t, storetest.OpenDB(t, kind), blobs)

		if _, _, err := l.Load(ctx, "cat"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Load of a new key: err = %v, want store.ErrNotFound", err)
		}
		if _, err := l.Stat(ctx, "cat"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Stat of a new key: err = %v, want store.ErrNotFound", err)
		}
		first, err := l.Put(ctx, "cat", gallery.Content{Type: "image/png"}, []byte("png v1"))
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		t1 := time.Date(2025, 6, 1, 12, 0, 1, 123456000, time.UTC) // the clock, to the microsecond
		want := gallery.Image{Key: "cat", Object: first.Object, ContentType: "image/png", Size: 6, Version: 1, Created: t1, Updated: t1, Hash: gallery.ContentHash([]byte("png v1"))}
		if diff := cmp.Diff(want, first); diff != "" {
			t.Errorf("Put (-want +got):\n%s", diff)
		}
		if !strings.HasPrefix(first.Object, "img/") || !strings.HasSuffix(first.Object, ".png") || len(first.Object) != len("img/")+32+len(".png") {
			t.Errorf("object name %q, want img/<32 hex>.png", first.Object)
		}

		second, err := l.Put(ctx, "cat", gallery.Content{Type: "image/jpeg"}, []byte("jpeg v2!"))
		if err != nil {
			t.Fatalf("second Put: %v", err)
		}
		t2 := t1.Add(time.Second)
		want = gallery.Image{Key: "cat", Object: second.Object, ContentType: "image/jpeg", Size: 8, Version: 2, Created: t1, Updated: t2, Hash: gallery.ContentHash([]byte("jpeg v2!"))}
		if diff := cmp.Diff(want, second); diff != "" {
			t.Errorf("second Put (-want +got):\n%s", diff)
		}
		img, data, err := l.Load(ctx, "cat")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, img); diff != "" {
			t.Errorf("Load (-want +got):\n%s", diff)
		}
		if string(data) != "jpeg v2!" {
			t.Errorf("Load data = %q, want %q", data, "jpeg v2!")
		}
		if diff := cmp.Diff([]string{second.Object}, blobNames(t, blobs)); diff != "" {
			t.Errorf("blobs after the second upload (-want +got); the old one must be deleted:\n%s", diff)
		}

		// Versions come from one sequence: another key takes the next one.
		if other, err := l.Put(ctx, "dog", gallery.Content{Type: "image/gif"}, []byte("gif")); err != nil || other.Version != 3 {
			t.Errorf("Put of another key = v%d, %v; want v3", other.Version, err)
		}

		if _, err := l.Put(ctx, strings.Repeat("k", 251), gallery.Content{Type: "image/png"}, []byte("x")); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Put with a 251-character key: err = %v, want store.ErrInvalidKey", err)
		}
		if _, err := l.Put(ctx, "", gallery.Content{Type: "image/png"}, []byte("x")); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Put with an empty key: err = %v, want store.ErrInvalidKey", err)
		}
	})
}

// hostileKeys are keys that break naive SQL, LIKE patterns, collations
// and encodings.
var hostileKeys = []string{
	"it's", `"quoted"`, "`tick`", "100%", "a_b", "a%b", `back\slash`, `\\`, `\'`, "a!%",
	"Cat", "cat", "cat ", " cat", "CAT",
	"emoji 🐱📷", "日本語のキー", "é" /* NFC */, "e\u0301" /* NFD */, "\u2126", "\u03a9", // Ohm sign and Omega: canonically equivalent, different keys
	"; DROP TABLE images; --", "?", "$1", "?TableName", ":name", "?0",
	strings.Repeat("k", 250), strings.Repeat("𝄞", 250), strings.Repeat("é", 250),
}

func TestLibraryHostileKeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, l *store.Library) {
		ctx := context.Background()
		for i, key := range hostileKeys {
			if _, err := l.Put(ctx, key, gallery.Content{Type: "image/png"}, []byte(fmt.Sprint("image ", i))); err != nil {
				t.Fatalf("Put(%q): %v", key, err)
			}
		}
		for i, key := range hostileKeys {
			img, data, err := l.Load(ctx, key)
			if err != nil {
				t.Errorf("Load(%q): %v", key, err)
				continue
			}
			if img.Key != key || img.Version != int64(i+1) || string(data) != fmt.Sprint("image ", i) {
				t.Errorf("Load(%q) = key %q v%d %q, want its own image, v%d", key, img.Key, img.Version, data, i+1)
			}
		}
		keys, err := l.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(hostileKeys)
		slices.Reverse(want) // newest first
		if diff := cmp.Diff(want, keys); diff != "" {
			t.Errorf("Keys (-want +got):\n%s", diff)
		}
	})
}

func TestLibraryList(t *testing.T) {
	forEachDB(t, func(t *testing.T, l *store.Library) {
		ctx := context.Background()
		// Uploaded in this order, one second apart: listed in reverse.
		for _, key := range []string{"a%b", "a%c", "axb", "a_b", "aab", "Cat", "cat", "ca!t", `c\at`, "dog"} {
			if _, err := l.Put(ctx, key, gallery.Content{Type: "image/png"}, []byte(key)); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name      string
			opts      gallery.ListOptions
			wantKeys  []string
			wantTotal int
		}{
			{"all", gallery.ListOptions{}, []string{"dog", `c\at`, "ca!t", "cat", "Cat", "aab", "a_b", "axb", "a%c", "a%b"}, 10},
			{"percent is literal", gallery.ListOptions{Prefix: "a%"}, []string{"a%c", "a%b"}, 2},
			{"underscore is literal", gallery.ListOptions{Prefix: "a_"}, []string{"a_b"}, 1},
			{"case-sensitive", gallery.ListOptions{Prefix: "c"}, []string{`c\at`, "ca!t", "cat"}, 3},
			{"escape character is literal", gallery.ListOptions{Prefix: "ca!"}, []string{"ca!t"}, 1},
			{"backslash is literal", gallery.ListOptions{Prefix: `c\`}, []string{`c\at`}, 1},
			{"whole key", gallery.ListOptions{Prefix: "dog"}, []string{"dog"}, 1},
			{"no match", gallery.ListOptions{Prefix: "zebra"}, []string{}, 0},
			{"first page", gallery.ListOptions{Limit: 3}, []string{"dog", `c\at`, "ca!t"}, 10},
			{"second page", gallery.ListOptions{Limit: 3, Offset: 3}, []string{"cat", "Cat", "aab"}, 10},
			{"last page", gallery.ListOptions{Limit: 3, Offset: 9}, []string{"a%b"}, 10},
			{"past the end", gallery.ListOptions{Limit: 3, Offset: 10}, []string{}, 10},
			{"offset without limit", gallery.ListOptions{Offset: 8}, []string{"a%c", "a%b"}, 10},
			{"prefix and page", gallery.ListOptions{Prefix: "a", Limit: 2, Offset: 1}, []string{"a_b", "axb"}, 5},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				images, total, err := l.List(ctx, tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				keys := []string{}
				for _, img := range images {
					keys = append(keys, img.Key)
				}
				if diff := cmp.Diff(tt.wantKeys, keys); diff != "" || total != tt.wantTotal {
					t.Errorf("List(%+v): total %d, want %d; keys (-want +got):\n%s", tt.opts, total, tt.wantTotal, diff)
				}
			})
		}
		// A listed image is the whole row.
		images, _, err := l.List(ctx, gallery.ListOptions{Prefix: "dog"})
		if err != nil {
			t.Fatal(err)
		}
		stat, err := l.Stat(ctx, "dog")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]gallery.Image{stat}, images); diff != "" {
			t.Errorf("List row (-Stat +List):\n%s", diff)
		}
	})
}

func TestLibraryDeleteAll(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string, newBlobs func(*testing.T) store.Blobs) {
		ctx := context.Background()
		blobs := newBlobs(t)
		db := storetest.OpenDB(t, kind)
		l := newLibrary(t, db, blobs)
		for _, key := range []string{"a", "b", "c"} {
			if _, err := l.Put(ctx, key, gallery.Content{Type: "image/png"}, []byte(key)); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.DeleteAll(ctx); err != nil {
			t.Fatal(err)
		}
		if keys, err := l.Keys(ctx); err != nil || len(keys) != 0 {
			t.Errorf("Keys after DeleteAll = %q, %v; want none", keys, err)
		}
		if names := blobNames(t, blobs); len(names) != 0 {
			t.Errorf("blobs after DeleteAll = %q, want none", names)
		}
		// Versions never repeat, not even for a key deleted and uploaded
		// again: a cache tombstone or a browser's copy of the old image
		// must not match the new one.
		img, err := l.Put(ctx, "a", gallery.Content{Type: "image/png"}, []byte("again"))
		if err != nil || img.Version != 4 {
			t.Errorf("Put after DeleteAll = v%d, %v; want v4, after the three before", img.Version, err)
		}
		// The cache's generation went up with the rows, in one transaction.
		if f, err := db.LoadFences(ctx); err != nil || f.Generation != 1 {
			t.Errorf("fences after DeleteAll = %+v, %v; want generation 1", f, err)
		}
	})
}

// TestLibraryConcurrentPuts uploads one key from many goroutines at once.
func TestLibraryConcurrentPuts(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string, newBlobs func(*testing.T) store.Blobs) {
		ctx := context.Background()
		blobs := newBlobs(t)
		l := newLibrary(t, storetest.OpenDB(t, kind), blobs)
		const n = 12
		imgs := make([]gallery.Image, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				imgs[i], errs[i] = l.Put(ctx, "hot key", gallery.Content{Type: "image/png"}, fmt.Appendf(nil, "upload %d", i))
			})
		}
		wg.Wait()
		var versions []int64
		var top int
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("Put %d: %v", i, errs[i])
			}
			versions = append(versions, imgs[i].Version)
			if imgs[i].Version > imgs[top].Version {
				top = i
			}
		}
		slices.Sort(versions)
		var want []int64
		for v := range int64(n) {
			want = append(want, v+1)
		}
		if diff := cmp.Diff(want, versions); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
		img, data, err := l.Load(ctx, "hot key")
		if err != nil {
			t.Fatal(err)
		}
		if img.Version != n || img.Object != imgs[top].Object || string(data) != fmt.Sprintf("upload %d", top) {
			t.Errorf("final row v%d %s %q, want v%d %s %q", img.Version, img.Object, data, n, imgs[top].Object, fmt.Sprintf("upload %d", top))
		}
		if diff := cmp.Diff([]string{img.Object}, blobNames(t, blobs)); diff != "" {
			t.Errorf("blobs (-want +got); every replaced blob must be deleted:\n%s", diff)
		}
	})
}

// TestLibraryReadersDuringWrites loads a key while it is being replaced:
// a reader never fails, and never sees a version older than one it saw.
func TestLibraryReadersDuringWrites(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string, newBlobs func(*testing.T) store.Blobs) {
		ctx := context.Background()
		l := newLibrary(t, storetest.OpenDB(t, kind), newBlobs(t))
		if _, err := l.Put(ctx, "k", gallery.Content{Type: "image/png"}, []byte("v1")); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				var seen int64
				for {
					select {
					case <-done:
						return
					default:
					}
					img, data, err := l.Load(ctx, "k")
					if err != nil {
						t.Errorf("Load during uploads: %v", err)
						return
					}
					if img.Version < seen || string(data) != fmt.Sprint("v", img.Version) {
						t.Errorf("Load = v%d %q after seeing v%d", img.Version, data, seen)
						return
					}
					seen = img.Version
				}
			})
		}
		for v := 2; v <= 20; v++ {
			if _, err := l.Put(ctx, "k", gallery.Content{Type: "image/png"}, fmt.Append(nil, "v", v)); err != nil {
				t.Fatal(err)
			}
		}
		close(done)
		wg.Wait()
	})
}

// TestLibraryBlobStoreFails uploads through a blob store that fails: the
// error says so, the old image stays readable, and the row is unchanged.
func TestLibraryBlobStoreFails(t *testing.T) {
	broken := []struct {
		name string
		open func(t *testing.T) store.Blobs
		want string
	}{
		{"file folder gone", func(t *testing.T) store.Blobs {
			b, dir := storetest.FileBlobs(t)
			// The folder is replaced by a file: nothing can be written in it.
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return b
		}, "not a directory"},
		{"s3 bucket gone", func(t *testing.T) store.Blobs {
			fake := storetest.NewS3(t)
			b := fake.Blobs(t, "gone", "p")
			if _, err := fake.Client.DeleteBucket(context.Background(), deleteBucket("gone")); err != nil {
				t.Fatal(err)
			}
			return b
		}, "NoSuchBucket"},
	}
	for _, kind := range storetest.Kinds(t) {
		for _, bb := range broken {
			t.Run(kind+"+"+bb.name, func(t *testing.T) {
				ctx := context.Background()
				db := storetest.OpenDB(t, kind)
				good, _ := storetest.FileBlobs(t)
				before, err := newLibrary(t, db, good).Put(ctx, "k", gallery.Content{Type: "image/png"}, []byte("old"))
				if err != nil {
					t.Fatal(err)
				}
				_, err = newLibrary(t, db, bb.open(t)).Put(ctx, "k", gallery.Content{Type: "image/png"}, []byte("new"))
				if err == nil || !strings.HasPrefix(err.Error(), `store: put image "k": store: put blob`) || !strings.Contains(err.Error(), bb.want) {
					t.Fatalf("Put through a broken blob store: err = %v, want a put blob error with %q", err, bb.want)
				}
				checkOldImage(t, newLibrary(t, db, good), before)
			})
		}
	}
}

// TestLibraryDatabaseFails uploads while the database is down: the error
// says so, the new blob is removed, and once the database is back the old
// image is what it holds.
func TestLibraryDatabaseFails(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, kind)
			blobs, _ := storetest.FileBlobs(t)
			var (
				db   *store.DB
				down func()
				want string
			)
			if kind == storetest.SQLite {
				// No server to take away: the handle itself goes.
				db, err := store.Open(ctx, dsn, nil)
				if err != nil {
					t.Fatal(err)
				}
				down = func() { db.Close() }
				want = "database is closed"
				defer down()
				uploadWithDatabaseDown(t, ctx, db, blobs, down, want, dsn)
				return
			}
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			proxy := tcpproxy.Start(t, u.Host)
			u.Host = proxy.Addr()
			db = storetest.Open(t, u.String())
			down = proxy.Cut
			want = "store: put image \"k\": "
			uploadWithDatabaseDown(t, ctx, db, blobs, down, want, dsn)
		})
	}
}

// uploadWithDatabaseDown uploads "k", takes the database down, uploads
// again, and checks the error, the blobs, and (through direct, a working
// address of the same database) the row.
func uploadWithDatabaseDown(t *testing.T, ctx context.Context, db *store.DB, blobs store.Blobs, down func(), want, direct string) {
	t.Helper()
	l := newLibrary(t, db, blobs)
	before, err := l.Put(ctx, "k", gallery.Content{Type: "image/png"}, []byte("old"))
	if err != nil {
		t.Fatal(err)
	}
	down()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = l.Put(ctx, "k", gallery.Content{Type: "image/png"}, []byte("new"))
	if err == nil || !strings.HasPrefix(err.Error(), `store: put image "k": `) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Put with the database down: err = %v, want a put image error containing %q", err, want)
	}
	t.Logf("error with the database down: %v", err)
	if diff := cmp.Diff([]string{before.Object}, blobNames(t, blobs)); diff != "" {
		t.Errorf("blobs after the failed upload (-want +got); the new blob must be removed:\n%s", diff)
	}
	checkOldImage(t, newLibrary(t, storetest.Open(t, direct), blobs), before)
}

// checkOldImage checks that key "k" still holds the image "old" uploaded
// as before, after a failed upload.
func checkOldImage(t *testing.T, l *store.Library, before gallery.Image) {
	t.Helper()
	img, data, err := l.Load(context.Background(), "k")
	if err != nil || string(data) != "old" {
		t.Fatalf("Load after the failed upload = %q, %v; want the old image", data, err)
	}
	if diff := cmp.Diff(before, img); diff != "" {
		t.Errorf("row after the failed upload (-before +after):\n%s", diff)
	}
}

// TestLibraryMissingBlob checks that a row whose blob is gone is reported
// as an error, not as an unknown key.
func TestLibraryMissingBlob(t *testing.T) {
	ctx := context.Background()
	blobs, dir := storetest.FileBlobs(t)
	l := newLibrary(t, storetest.OpenDB(t, storetest.SQLite), blobs)
	img, err := l.Put(ctx, "k", gallery.Content{Type: "image/png"}, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, filepath.FromSlash(img.Object))); err != nil {
		t.Fatal(err)
	}
	_, _, err = l.Load(ctx, "k")
	if err == nil || errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "missing from the blob store") {
		t.Errorf("Load with the blob gone: err = %v, want a missing-blob error that is not ErrNotFound", err)
	}
}

func TestLibraryLargeImage(t *testing.T) {
	ctx := context.Background()
	l := newLibrary(t, storetest.OpenDB(t, storetest.SQLite), storetest.S3Blobs(t))
	big := bytes.Repeat([]byte("0123456789abcdef"), 10<<20/16) // 10 MiB
	if _, err := l.Put(ctx, "big", gallery.Content{Type: "image/jpeg"}, big); err != nil {
		t.Fatal(err)
	}
	img, data, err := l.Load(ctx, "big")
	if err != nil || !bytes.Equal(data, big) || img.Size != int64(len(big)) {
		t.Errorf("Load of a 10 MiB image: size %d, %d bytes back, equal %v, %v", img.Size, len(data), bytes.Equal(data, big), err)
	}
}

func deleteBucket(name string) *s3.DeleteBucketInput {
	return &s3.DeleteBucketInput{Bucket: aws.String(name)}
}

// TestLibraryListTies checks that images uploaded at the same instant are
// listed by key, byte by byte, the same way on every database.
func TestLibraryListTies(t *testing.T) {
	forEachDB(t, func(t *testing.T, l *store.Library) {
		ctx := context.Background()
		l.SetClock(func() time.Time { return noon })
		for _, key := range []string{"é", "b", "z", "B", "a", "a ", "🐱", "_", "%"} {
			if _, err := l.Put(ctx, key, gallery.Content{Type: "image/png"}, []byte(key)); err != nil {
				t.Fatal(err)
			}
		}
		keys, err := l.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"%", "B", "_", "a", "a ", "b", "z", "é", "🐱"}
		if diff := cmp.Diff(want, keys); diff != "" {
			t.Errorf("Keys with equal upload times (-want +got):\n%s", diff)
		}
	})
}

// benchLibrary returns a library on a fresh database of kind with the
// file blob store, and a 100 KB image.
func benchLibrary(b *testing.B, kind string) (*store.Library, []byte) {
	blobs, _ := storetest.FileBlobs(b)
	data := bytes.Repeat([]byte{7}, 100<<10)
	b.SetBytes(int64(len(data)))
	return store.NewLibrary(storetest.OpenDB(b, kind), blobs, nil), data
}

// BenchmarkLibraryLoad reads a 100 KB image (row + blob), what a cache
// miss costs, on each database with the file blob store.
func BenchmarkLibraryLoad(b *testing.B) {
	for _, kind := range storetest.Kinds(b) {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			l, data := benchLibrary(b, kind)
			if _, err := l.Put(ctx, "bench", gallery.Content{Type: "image/jpeg"}, data); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, _, err := l.Load(ctx, "bench"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkLibraryPut uploads a 100 KB image over and over (new blob,
// transaction, old blob deleted) on each database.
func BenchmarkLibraryPut(b *testing.B) {
	for _, kind := range storetest.Kinds(b) {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			l, data := benchLibrary(b, kind)
			for b.Loop() {
				if _, err := l.Put(ctx, "bench", gallery.Content{Type: "image/jpeg"}, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
