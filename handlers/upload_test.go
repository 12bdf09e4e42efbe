package handlers

import (
	"bytes"
	"errors"
	"mime/multipart"
	"runtime"
	"testing"
)

// partOf returns the file part of a multipart body holding data, and the
// body's length.
func partOf(t *testing.T, data []byte) (*multipart.Part, int64) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "photo.png")
	fw.Write(data)
	mw.Close()
	n := int64(body.Len())
	p, err := multipart.NewReader(&body, mw.Boundary()).NextPart()
	if err != nil {
		t.Fatal(err)
	}
	return p, n
}

// TestReadPartHoldsOneCopy: with the request's length known, a file of
// 4 MiB is read into one buffer of about its size, not grown by copies
// (nor assembled at the end, as io.ReadAll does): the memory an upload in
// flight holds is its own size.
func TestReadPartHoldsOneCopy(t *testing.T) {
	data := bytes.Repeat([]byte("picpool!"), 4<<20/8)
	p, length := partOf(t, data)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := readPart(p, 10<<20, length)
	runtime.ReadMemStats(&after)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("readPart: %v; got the data back: %v", err, bytes.Equal(got, data))
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 5<<20 {
		t.Errorf("reading 4 MiB allocated %d bytes, want about 4 MiB", allocated)
	}
}

func TestReadPart(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 3000)
	for _, tt := range []struct {
		name    string
		max     int64
		hint    bool
		wantErr error
	}{
		{"fits, length known", 3000, true, nil},
		{"fits, length unknown", 3000, false, nil},
		{"one byte over, length known", 2999, true, errPartTooLarge},
		{"one byte over, length unknown", 2999, false, errPartTooLarge},
		{"far over", 100, true, errPartTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, length := partOf(t, data)
			if !tt.hint {
				length = -1
			}
			got, err := readPart(p, tt.max, length)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !bytes.Equal(got, data) {
				t.Errorf("got %d bytes, want the 3000", len(got))
			}
		})
	}
}
