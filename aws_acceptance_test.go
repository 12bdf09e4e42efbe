package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/handlers"
	"github.com/picpool/picpool/internal/bytesize"
	"github.com/picpool/picpool/photo"
	"github.com/picpool/picpool/scaling"
	"github.com/picpool/picpool/scaling/awsfake"
	"github.com/picpool/picpool/store"
	"github.com/picpool/picpool/store/storetest"
)

// TestAWSAcceptance runs the whole system in "AWS mode" against the
// protocol-level AWS fake: cache nodes are instances of an Auto Scaling
// group (each a real node server on its own 127.0.0.x address), they
// publish their statistics to CloudWatch, the autoscaler reads the pool's
// miss rate from CloudWatch and resizes the pool through the group, and
// images live in S3 (gofakes3) with their rows in SQLite. Every AWS call
// goes through the real SDK clients.
//
// Automatic mode with max 0.5, min 0.2, expand 2, shrink 0.5: reads of
// keys spread over more images than eight nodes hold drive the pool
// 1 → 2 → 4 → 8, where it holds; reads of a few hot keys bring it back
// down to 1. No request may fail during any resize. The period is 5 s
// instead of 60 s (nodes publish every second instead of 5 s), and the
// cooldown one period instead of two, to keep the test near 2 minutes.
func TestAWSAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("the AWS acceptance scenario takes about 2 minutes; it runs without -short")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	const (
		token       = "acceptance-token"
		nodeCapMB   = 1
		images      = 1200 // 12 KB each, 14 MB in all: more than 8 nodes of 1 MB hold
		hotKeys     = 10
		period      = 5 * time.Second
		readers     = 6
		phaseLimit  = 150 * time.Second
		nodesPolicy = "lru"
	)

	// AWS: the fake, with a launcher that starts a real node per instance.
	port, err := awsfake.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	var metrics atomic.Pointer[scaling.CloudWatch]
	launch := func(ctx context.Context, id, ip string) (func(), error) {
		return startAWSNode(ctx, ip, port, token, node.PublishFunc(func(ctx context.Context, s node.Stats) error {
			return publisher(metrics.Load()).PublishStats(ctx, s)
		}))
	}
	fake := awsfake.NewServer(awsfake.Config{Launch: launch})
	t.Cleanup(fake.Close)
	awsCfg := fake.AWSConfig()
	cw, err := scaling.NewCloudWatch(scaling.CloudWatchConfig{Client: cloudwatch.NewFromConfig(awsCfg), Namespace: "PicPool/Acceptance"})
	if err != nil {
		t.Fatal(err)
	}
	metrics.Store(cw)
	if err := fake.AddGroup(awsfake.Group{Name: "picpool-nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 1}); err != nil {
		t.Fatal(err)
	}
	fake.Wait()
	asg, err := scaling.NewASG(scaling.ASGConfig{AutoScaling: autoscaling.NewFromConfig(awsCfg), EC2: ec2.NewFromConfig(awsCfg), Group: "picpool-nodes", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	var _ pool.Provider = asg

	// Storage: rows in SQLite, images in S3.
	db := storetest.OpenDB(t, "sqlite")
	blobs := storetest.NewS3(t).Blobs(t, "picpool-images", "images/")
	lib := store.NewLibrary(db, blobs, log)

	p, err := pool.New(ctx, pool.Options{
		Provider: asg, Tables: db, Token: token, InitialNodes: 1,
		Config:      node.Config{Capacity: nodeCapMB * bytesize.MiB, Policy: nodesPolicy},
		FollowEvery: 200 * time.Millisecond, Settle: 400 * time.Millisecond, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	go p.Run(ctx)
	policy := scaling.Policy{MaxMissRate: 0.5, MinMissRate: 0.2, ExpandRatio: 2, ShrinkRatio: 0.5, MinRequests: 20}
	if err := db.SaveSettings(ctx, scaling.Settings{Mode: scaling.Auto, Policy: policy}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var decisions []scaling.Decision
	auto, err := scaling.NewAutoscaler(scaling.AutoscalerConfig{
		Pool: p, Metrics: cw, Period: period, Cooldown: 1, Log: log,
		Settings: func(ctx context.Context) (scaling.Settings, error) {
			s, _, err := db.LoadSettings(ctx)
			return s, err
		},
		OnDecision: func(d scaling.Decision) {
			mu.Lock()
			decisions = append(decisions, d)
			mu.Unlock()
			t.Logf("%s  nodes %d → %d  miss rate %.2f over %d lookups  %s: %s",
				d.Time.Format("15:04:05"), d.Current, d.Target, d.MissRate, d.Lookups, d.Outcome, d.Reason)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	go auto.Run(ctx)

	// The gallery, over real HTTP.
	g := gallery.NewService(lib, p, photo.Limits{MaxBytes: 10 * bytesize.MiB}, log)
	srv := httptest.NewServer(handlers.GalleryServer{Gallery: g, Pool: p, Configurer: gallery.NewControl(p, db, log),
		Guard: handlers.Access{Open: true}.Guard(), Log: log}.Handler())
	defer srv.Close()

	keys := uploadImages(t, ctx, lib, images)

	// reads runs readers against keys chosen by pick until stop says so, and
	// counts failures: a resize must never fail a request.
	var requests, failures atomic.Int64
	reads := func(pick func(r *rand.Rand) string, stop func() bool) {
		rctx, rcancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 10 * time.Second}
		for g := range readers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(g), 42))
				for rctx.Err() == nil {
					resp, err := client.Post(srv.URL+"/api/key/"+url.PathEscape(pick(r)), "", nil)
					requests.Add(1)
					if err != nil {
						failures.Add(1)
						t.Errorf("read failed: %v", err)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						failures.Add(1)
						t.Errorf("read failed: HTTP %d", resp.StatusCode)
					}
				}
			})
		}
		deadline := time.Now().Add(phaseLimit)
		for !stop() && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(200 * time.Millisecond)
		}
		rcancel()
		wg.Wait()
	}
	// held reports whether the last decisions kept the pool at n, n times.
	held := func(n, times int) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			count := 0
			for i := len(decisions) - 1; i >= 0 && decisions[i].Outcome != scaling.OutcomeResized; i-- {
				if decisions[i].Outcome == scaling.OutcomeHeld && decisions[i].Current == n {
					count++
				}
			}
			return p.Nodes() == n && count >= times
		}
	}

	// Phase 1: keys spread over all the images miss more than half the time
	// until eight nodes hold most of them.
	reads(func(r *rand.Rand) string { return keys[r.IntN(len(keys))] }, held(pool.MaxNodes, 2))
	// Phase 2: a few hot keys hit nearly always.
	reads(func(r *rand.Rand) string { return keys[r.IntN(hotKeys)] }, held(pool.MinNodes, 1))

	mu.Lock()
	defer mu.Unlock()
	var steps []string
	for _, d := range decisions {
		if d.Outcome == scaling.OutcomeResized || d.Outcome == scaling.OutcomeFailed {
			steps = append(steps, fmt.Sprintf("%d→%d", d.Current, d.Target))
		}
		if d.Outcome == scaling.OutcomeFailed {
			t.Errorf("a resize failed: %s", d.Reason)
		}
	}
	if want := []string{"1→2", "2→4", "4→8", "8→4", "4→2", "2→1"}; !slices.Equal(steps, want) {
		t.Errorf("resizes %v, want %v", steps, want)
	}
	for _, d := range decisions {
		switch {
		case d.Outcome == scaling.OutcomeResized && d.Target > d.Current && !(d.MissRate > policy.MaxMissRate):
			t.Errorf("grew %d→%d at miss rate %.2f, not above %.2f", d.Current, d.Target, d.MissRate, policy.MaxMissRate)
		case d.Outcome == scaling.OutcomeResized && d.Target < d.Current && !(d.MissRate < policy.MinMissRate):
			t.Errorf("shrank %d→%d at miss rate %.2f, not below %.2f", d.Current, d.Target, d.MissRate, policy.MinMissRate)
		}
	}
	if f := failures.Load(); f != 0 {
		t.Errorf("%d of %d requests failed during the resizes", f, requests.Load())
	}
	if got := len(activeInstances(fake)); got != p.Nodes() {
		t.Errorf("%d instances in service for a pool of %d nodes", got, p.Nodes())
	}
	t.Logf("%d requests, %d failed; %d decisions; final size %d", requests.Load(), failures.Load(), len(decisions), p.Nodes())
}

// startAWSNode serves a cache node as an EC2 instance would: HTTP on
// ip:port, the binary data path on ip and a free port, statistics every
// second.
func startAWSNode(ctx context.Context, ip string, port int, token string, pub node.StatsPublisher) (func(), error) {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	n, err := node.New(node.Options{Token: token, Name: addr, Publisher: pub, StatsInterval: time.Second})
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	hl, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	bl, err := lc.Listen(ctx, "tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		hl.Close()
		return nil, err
	}
	srv := &node.Server{Node: n, HTTP: hl, Data: bl}
	srv.Start()
	return func() { srv.Stop(time.Second) }, nil
}

// uploadImages stores n distinct noise PNGs of about 12 KB and returns
// their keys.
func uploadImages(t *testing.T, ctx context.Context, lib *store.Library, n int) []string {
	t.Helper()
	keys := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for i := g; i < n; i += 4 {
				keys[i] = fmt.Sprintf("img-%05d", i)
				if _, err := lib.Put(ctx, keys[i], "image/png", noisePNG(r, 64, 64)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return keys
}

// noisePNG encodes a w×h image of random pixels: PNG cannot compress it,
// so its size is about 3 bytes a pixel.
func noisePNG(r *rand.Rand, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(r.Uint32()), uint8(r.Uint32()), uint8(r.Uint32()), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func activeInstances(fake *awsfake.Server) []awsfake.Instance {
	var out []awsfake.Instance
	for _, in := range fake.Instances() {
		if in.LifecycleState == "InService" {
			out = append(out, in)
		}
	}
	return out
}
