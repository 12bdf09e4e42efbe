package main

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/picpool/picpool/internal/testimg"
)

// BenchmarkGalleryGet measures GET /image/{key} of a 100 KB image through
// the gallery over loopback, 8 connections: served from the cache pool
// (a hit on its node), and served from storage with the cache off
// (capacity 0: the gallery reads the row from SQLite and the file from
// the blob folder). It reports ops/s and p50/p99 of each.
//
//	go tool task bench:gallery
func BenchmarkGalleryGet(b *testing.B) {
	base, _ := startDev(b)
	img := testimg.NoisePNG(b, 184, 184, 1) // ~100 KB: noise does not compress
	if r := apiCall(b, base, "/api/upload", map[string]string{"key": "bench"}, img); r.status != 200 {
		b.Fatalf("upload: %v", r)
	}
	for _, mode := range []struct{ name, cacheSize, want string }{
		{"cached", "64", "HIT"},
		{"storage", "0", "OFF"},
	} {
		b.Run(mode.name, func(b *testing.B) {
			if r := apiCall(b, base, "/api/configure_cache", map[string]string{"cacheSize": mode.cacheSize}, nil); r.status != 200 {
				b.Fatalf("configure: %v", r)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			get := func(buf []byte) (string, int, error) {
				resp, err := client.Get(base + "/image/bench")
				if err != nil {
					return "", 0, err
				}
				defer resp.Body.Close()
				n, err := io.ReadFull(resp.Body, buf[:len(img)])
				if resp.StatusCode != 200 {
					return "", n, fmt.Errorf("HTTP %d", resp.StatusCode)
				}
				return resp.Header.Get("X-Cache"), n, err
			}
			buf := make([]byte, len(img))
			get(buf) // warm: the first read of the cached run loads the image
			if got, _, err := get(buf); err != nil || got != mode.want {
				b.Fatalf("X-Cache %q, %v; want %s", got, err, mode.want)
			}
			measureLoad(b, 8, len(img), func(_, _ int, buf []byte) error {
				_, _, err := get(buf[:len(img)])
				return err
			})
		})
	}
}
