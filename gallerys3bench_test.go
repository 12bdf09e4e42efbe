package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/picpool/picpool/internal/testimg"
	"github.com/picpool/picpool/store/storetest"
)

// s3FirstByte is the latency the proxy in front of the fake S3 adds to
// every request: a typical first-byte time of S3 from EC2 in the same
// region, 20–50 ms.
const s3FirstByte = 30 * time.Millisecond

// BenchmarkGalleryS3 measures what the cache buys where images live in
// S3: the p50 of GET /image/{key} (100 KB) with the cache on (a hit on
// its node) and off (the gallery reads the row from SQLite and the object
// from S3), with gofakes3 behind a proxy that delays every request by
// s3FirstByte. Each mode runs a fixed 1 600 requests over 16 connections
// (a cache-off request costs s3FirstByte; b.N would make it take
// minutes), and the benchmark prints the ratio of the p50s.
//
//	go tool task bench:gallery
func BenchmarkGalleryS3(b *testing.B) {
	fake := storetest.NewS3(b)
	fake.CreateBucket(b, "picpool")
	target, err := url.Parse(fake.Endpoint)
	if err != nil {
		b.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(s3FirstByte)
		proxy.ServeHTTP(w, r)
	}))
	b.Cleanup(slow.Close)
	b.Setenv("AWS_ENDPOINT_URL", slow.URL)
	b.Setenv("AWS_ACCESS_KEY_ID", "picpool")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "picpool-secret")
	b.Setenv("AWS_REGION", "us-east-1")
	base, _ := startCommand(b, "dev", []string{"gallery", "manager"}, "--gallery-addr", "127.0.0.1:0", "--manager-addr", "127.0.0.1:0",
		"--db", "sqlite:"+b.TempDir()+"/picpool.db", "--blobs", "s3://picpool/images")
	gallery := base["gallery"]
	img := testimg.NoisePNG(b, 184, 184, 1)
	if r := apiCall(b, gallery, "/api/upload", map[string]string{"key": "bench"}, img); r.status != 200 {
		b.Fatalf("upload: %v", r)
	}
	const conns, requests = 16, 1600
	p50 := map[string]time.Duration{}
	for _, mode := range []struct{ name, cacheSize, want string }{
		{"cached", "64", "HIT"},
		{"storage", "0", "OFF"},
	} {
		b.Run(mode.name, func(b *testing.B) {
			if r := apiCall(b, gallery, "/api/configure_cache", map[string]string{"cacheSize": mode.cacheSize}, nil); r.status != 200 {
				b.Fatalf("configure: %v", r)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
			get := func() (string, error) {
				resp, err := client.Get(gallery + "/image/bench")
				if err != nil {
					return "", err
				}
				defer resp.Body.Close()
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					return "", err
				}
				if resp.StatusCode != 200 {
					return "", fmt.Errorf("HTTP %d", resp.StatusCode)
				}
				return resp.Header.Get("X-Cache"), nil
			}
			get() // warm: the first read of the cached run loads the image
			if got, err := get(); err != nil || got != mode.want {
				b.Fatalf("X-Cache %q, %v; want %q", got, err, mode.want)
			}
			lat := make([][]time.Duration, conns)
			errs := make([]error, conns)
			var wg sync.WaitGroup
			b.ResetTimer()
			for c := range conns {
				wg.Go(func() {
					for range requests / conns {
						t0 := time.Now()
						if _, err := get(); err != nil {
							errs[c] = err
							return
						}
						lat[c] = append(lat[c], time.Since(t0))
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			all := slices.Sorted(slices.Values(slices.Concat(lat...)))
			p50[mode.name] = all[len(all)/2]
			b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(0, "ns/op")
		})
	}
	if c := p50["cached"]; c > 0 {
		fmt.Printf("S3 (+%s first byte): cached p50 %s, cache-off p50 %s: cached is 1/%.0f of cache-off\n",
			s3FirstByte, c, p50["storage"], float64(p50["storage"])/float64(c))
	}
}
