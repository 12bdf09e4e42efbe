package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/testimg"
)

// BenchmarkGalleryGet measures GET of a 100 KB image over loopback, 16
// connections, side by side in one run:
//
//   - fileserver: Go's http.FileServer serving the same bytes from a file,
//     in this process: the yardstick of the target;
//   - cached: /image/{key} through the gallery, a hit on its cache node
//     (revalidated URL);
//   - versioned: /image/{key}?v=<hash>, the URL the pages use (immutable);
//   - storage: /image/{key} with the cache off (capacity 0: the gallery
//     reads the row from SQLite and the file from the blob folder).
//
// It reports ops/s and p50/p99 of each, then the ratios of cached and
// versioned to the file server's ops/s.
//
//	go tool task bench:gallery
func BenchmarkGalleryGet(b *testing.B) {
	base, _ := startDev(b)
	img := testimg.NoisePNG(b, 184, 184, 1) // ~100 KB: noise does not compress
	if r := apiCall(b, base, "/api/upload", map[string]string{"key": "bench"}, img); r.status != 200 {
		b.Fatalf("upload: %v", r)
	}
	files := fileServer(b, img)
	const conns = 16
	ops := map[string]float64{}
	for _, mode := range []struct{ name, url, cacheSize, want string }{
		{"fileserver", files + "/bench.png", "", ""},
		{"cached", base + "/image/bench", "64", "HIT"},
		{"versioned", base + "/image/bench?v=" + gallery.ContentHash(img), "64", "HIT"},
		{"storage", base + "/image/bench", "0", "OFF"},
	} {
		b.Run(mode.name, func(b *testing.B) {
			if mode.cacheSize != "" {
				if r := apiCall(b, base, "/api/configure_cache", map[string]string{"cacheSize": mode.cacheSize}, nil); r.status != 200 {
					b.Fatalf("configure: %v", r)
				}
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
			get := func(buf []byte) (string, int, error) {
				resp, err := client.Get(mode.url)
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
				b.Fatalf("X-Cache %q, %v; want %q", got, err, mode.want)
			}
			ops[mode.name] = measureLoad(b, conns, len(img), func(_, _ int, buf []byte) error {
				_, _, err := get(buf[:len(img)])
				return err
			}).opsPerSec
		})
	}
	if fs := ops["fileserver"]; fs > 0 {
		fmt.Printf("ratio to http.FileServer (ops/s, %d connections, %d-byte image): cached %.2f×, versioned %.2f×, storage %.2f×\n",
			conns, len(img), ops["cached"]/fs, ops["versioned"]/fs, ops["storage"]/fs)
	}
}

// fileServer serves data as /bench.png from a temporary folder with
// http.FileServer on loopback, and returns its base URL.
func fileServer(b *testing.B, data []byte) string {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bench.png"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}
