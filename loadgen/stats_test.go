package loadgen

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPercentile(t *testing.T) {
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i + 1)
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", []time.Duration{7}, 99, 7},
		{"median of ten", ten, 50, 5},
		{"p99 of ten is the max", ten, 99, 10},
		{"p10 of ten", ten, 10, 1},
		{"p100", ten, 100, 10},
		{"tiny p is the min", ten, 0.001, 1},
		{"p99 of 100", hundred, 99, 99},
		{"p50 of 100", hundred, 50, 50},
		{"p50 of two", []time.Duration{1, 9}, 50, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Fatalf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	samples := []Sample{
		{Type: TypeRead, Latency: 1 * ms, Status: 200, Cache: "HIT"},
		{Type: TypeRead, Latency: 3 * ms, Status: 200, Cache: "MISS"},
		{Type: TypeRead, Latency: 2 * ms, Status: 404, Err: "no such key", Cache: ""},
		{Type: TypeRead, Latency: 10 * ms, Status: 404, Err: "no such key"},
		{Type: TypeWrite, Latency: 4 * ms, Status: 200},
		{Type: TypeWrite, Latency: 6 * ms, Status: 0, Err: "connection refused"},
		{Type: "other", Latency: 5 * ms, Status: 200},
	}
	got := Summarize(samples, 2*time.Second)
	want := []Summary{
		{Type: TypeRead, Requests: 4, Failures: 2, Hits: 1, Misses: 1, Median: 2 * ms, P99: 10 * ms, Avg: 4 * ms, Min: 1 * ms, Max: 10 * ms, RPS: 2,
			FailureKinds: []FailureKind{{TypeRead, 404, "no such key", 2}}},
		{Type: TypeWrite, Requests: 2, Failures: 1, Median: 4 * ms, P99: 6 * ms, Avg: 5 * ms, Min: 4 * ms, Max: 6 * ms, RPS: 1,
			FailureKinds: []FailureKind{{TypeWrite, 0, "connection refused", 1}}},
		{Type: "other", Requests: 1, Median: 5 * ms, P99: 5 * ms, Avg: 5 * ms, Min: 5 * ms, Max: 5 * ms, RPS: 0.5},
		{Type: "Total", Requests: 7, Failures: 3, Hits: 1, Misses: 1, Median: 4 * ms, P99: 10 * ms, Avg: 31 * ms / 7, Min: 1 * ms, Max: 10 * ms, RPS: 3.5,
			FailureKinds: []FailureKind{{TypeRead, 404, "no such key", 2}, {TypeWrite, 0, "connection refused", 1}}},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(Summary{})); diff != "" {
		t.Fatalf("Summarize (-want +got):\n%s", diff)
	}
	if h := got[0].HitRate(); h != 0.5 {
		t.Errorf("hit rate of one hit and one miss = %v, want 0.5", h)
	}
	if h := got[1].HitRate(); h != -1 {
		t.Errorf("hit rate without cached reads = %v, want -1", h)
	}
}

func TestRecorderBound(t *testing.T) {
	r := NewRecorder(2)
	for i, want := range []bool{true, true, false} {
		if got := r.Add(Sample{Type: TypeRead}); got != want {
			t.Fatalf("Add #%d = %v, want %v", i+1, got, want)
		}
	}
	if !r.Full() || r.Len() != 2 || len(r.Since(1)) != 1 || len(r.Since(5)) != 0 {
		t.Fatalf("after a refused Add: full %v, len %d", r.Full(), r.Len())
	}
}

func TestGenerateImages(t *testing.T) {
	sizes := Sizes{10 << 10, 300 << 10}
	images, err := GenerateImages(rand.New(rand.NewPCG(1, 2)), 5, sizes)
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 5 {
		t.Fatalf("got %d images, want 5", len(images))
	}
	for i, img := range images {
		target := sizes.Min + (sizes.Max-sizes.Min)*int64(i)/4
		_, format, err := image.DecodeConfig(bytes.NewReader(img.Data))
		wantFormat := map[bool]string{true: "png", false: "jpeg"}[i%2 == 0]
		if err != nil || format != wantFormat {
			t.Errorf("image %d (%s): %v, format %q, want %s", i, img.Name, err, format, wantFormat)
		}
		// PNG lands within a pixel row; JPEG within some percent.
		if got := int64(len(img.Data)); got < target*85/100 || got > target*115/100 {
			t.Errorf("image %d (%s) is %d bytes, want about %d", i, img.Name, got, target)
		}
	}
	if many, _ := GenerateImages(rand.New(rand.NewPCG(1, 2)), 1000, Sizes{1024, 2048}); len(many) != maxDistinctImages {
		t.Errorf("1000 keys generated %d images, want them to share %d", len(many), maxDistinctImages)
	}
}

func TestKeyDist(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, d := range []keyDist{{n: 1}, {n: 7, uniform: true}, {n: 50}} {
		pick := d.picker(r)
		counts := make([]int, d.n)
		for range 5000 {
			i := pick()
			if i < 0 || i >= d.n {
				t.Fatalf("%+v drew %d", d, i)
			}
			counts[i]++
		}
		if !d.uniform && d.n > 2 && counts[0] < 4*counts[d.n-1] {
			t.Errorf("%+v: key 0 drawn %d times, the last %d: not skewed", d, counts[0], counts[d.n-1])
		}
	}
}
