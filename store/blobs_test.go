package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/store"
	"github.com/picpool/picpool/store/storetest"
)

// blobKinds opens a fresh blob store of each kind.
var blobKinds = []struct {
	name string
	open func(t *testing.T) store.Blobs
}{
	{"file", func(t *testing.T) store.Blobs { b, _ := storetest.FileBlobs(t); return b }},
	{"s3", func(t *testing.T) store.Blobs { return storetest.S3Blobs(t) }},
}

func blobNames(t *testing.T, b store.Blobs) []string {
	t.Helper()
	names, err := store.BlobNames(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// TestBlobs is the conformance suite every blob store passes.
func TestBlobs(t *testing.T) {
	for _, bk := range blobKinds {
		t.Run(bk.name, func(t *testing.T) {
			ctx := context.Background()
			b := bk.open(t)
			big := bytes.Repeat([]byte{0, 1, 2, 0xff}, 256<<10) // 1 MiB, binary
			objects := map[string][]byte{
				"img/a.png":    []byte("\x89PNG\r\n\x1a\nfirst"),
				"img/b.jpg":    big,
				"img/empty":    {},
				"top-level":    []byte("x"),
				"img/sub/c.gi": []byte("GIF89a"),
			}
			for name, data := range objects {
				if err := b.Put(ctx, name, "image/png", data); err != nil {
					t.Fatalf("Put(%q): %v", name, err)
				}
			}
			for name, want := range objects {
				got, err := b.Get(ctx, name)
				if err != nil {
					t.Fatalf("Get(%q): %v", name, err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("Get(%q) = %d bytes, want the %d put", name, len(got), len(want))
				}
			}
			if err := b.Put(ctx, "img/a.png", "image/png", []byte("second")); err != nil {
				t.Fatal(err)
			}
			if got, err := b.Get(ctx, "img/a.png"); err != nil || string(got) != "second" {
				t.Errorf("Get after overwrite = %q, %v; want %q", got, err, "second")
			}
			if _, err := b.Get(ctx, "img/missing.png"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get(missing): err = %v, want store.ErrNotFound", err)
			}
			if err := b.Delete(ctx, "img/a.png"); err != nil {
				t.Errorf("Delete: %v", err)
			}
			if _, err := b.Get(ctx, "img/a.png"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get after Delete: err = %v, want store.ErrNotFound", err)
			}
			if err := b.Delete(ctx, "img/a.png"); err != nil {
				t.Errorf("Delete of a missing object: %v, want nil", err)
			}
			want := []string{"img/b.jpg", "img/empty", "img/sub/c.gi", "top-level"}
			if diff := cmp.Diff(want, blobNames(t, b)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if err := b.DeleteMany(ctx, []string{"img/b.jpg", "img/sub/c.gi", "img/missing"}); err != nil {
				t.Fatalf("DeleteMany: %v", err)
			}
			if diff := cmp.Diff([]string{"img/empty", "top-level"}, blobNames(t, b)); diff != "" {
				t.Errorf("objects after DeleteMany, which must delete the named and only them (-want +got):\n%s", diff)
			}
		})
	}
}

// TestS3DeleteManyStaysInPrefix checks that DeleteMany removes the named
// objects under its own prefix only, in more than one batch of 1000.
func TestS3DeleteManyStaysInPrefix(t *testing.T) {
	ctx := context.Background()
	fake := storetest.NewS3(t)
	mine := fake.Blobs(t, "shared", "picpool")
	theirs := store.NewS3Blobs(fake.Client, "shared", "picpool-other")
	var names []string
	for i := range 1100 { // more than one batch of 1000
		names = append(names, "img/"+strconv.Itoa(i))
		if err := mine.Put(ctx, names[i], "", []byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := theirs.Put(ctx, "img/keep.png", "image/png", []byte("keep")); err != nil {
		t.Fatal(err)
	}
	if err := mine.DeleteMany(ctx, append(names, "img/keep.png")); err != nil {
		t.Fatal(err)
	}
	if got := blobNames(t, mine); len(got) != 0 {
		t.Errorf("%d objects left under the prefix, want none", len(got))
	}
	if got, err := theirs.Get(ctx, "img/keep.png"); err != nil || string(got) != "keep" {
		t.Errorf("object under another prefix: %q, %v; want it kept", got, err)
	}
}

func TestFileBlobsRefuseEscapingNames(t *testing.T) {
	ctx := context.Background()
	b, dir := storetest.FileBlobs(t)
	for _, name := range []string{"", "../outside", "img/../../outside", "/etc/passwd", `img\..\x`} {
		if err := b.Put(ctx, name, "", []byte("x")); err == nil {
			t.Errorf("Put(%q) succeeded, want a refusal", name)
		}
		if _, err := b.Get(ctx, name); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q): err = %v, want a refusal", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "outside")); err == nil {
		t.Error("a file was written outside the folder")
	}
}

// TestOpenBlobsS3FromEnvironment opens s3:// through the standard AWS
// environment, endpoint included, as a deployment does.
func TestOpenBlobsS3FromEnvironment(t *testing.T) {
	fake := storetest.NewS3(t)
	fake.CreateBucket(t, "photos")
	t.Setenv("AWS_ENDPOINT_URL", fake.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "picpool")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "picpool-secret")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx := context.Background()

	b, err := store.OpenBlobs(ctx, "s3://photos/gallery/")
	if err != nil {
		t.Fatalf("OpenBlobs: %v", err)
	}
	if err := b.Put(ctx, "img/x.png", "image/png", []byte("png")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	out, err := fake.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("gallery/img/x.png")})
	if err != nil {
		t.Fatalf("object not under the prefix: %v", err)
	}
	out.Body.Close()
	if got := aws.ToString(out.ContentType); got != "image/png" {
		t.Errorf("content type = %q, want image/png", got)
	}

	if _, err := store.OpenBlobs(ctx, "s3://no-such-bucket/x"); err == nil || !strings.Contains(err.Error(), `store: open blobs s3://no-such-bucket/x: bucket "no-such-bucket"`) {
		t.Errorf("OpenBlobs on a missing bucket: err = %v, want one naming the bucket", err)
	}
}

func TestOpenBlobsErrors(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct{ url, want string }{
		{"ftp://host/x", `unknown scheme "ftp"`},
		{"data/blobs", "has no scheme"},
		{"file:", "no folder given"},
		{"file://", "no folder given"},
		{"s3:///prefix", "no bucket named"},
	} {
		t.Run(tt.url, func(t *testing.T) {
			if _, err := store.OpenBlobs(ctx, tt.url); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("OpenBlobs(%q): err = %v, want it to contain %q", tt.url, err, tt.want)
			}
		})
	}
	dir := filepath.Join(t.TempDir(), "a", "b")
	if _, err := store.OpenBlobs(ctx, "file:"+dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("OpenBlobs did not create the folder: %v", err)
	}
}
