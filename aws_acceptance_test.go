package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
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
	"github.com/picpool/picpool/internal/awsfake"
	"github.com/picpool/picpool/internal/bytesize"
	"github.com/picpool/picpool/photo"
	"github.com/picpool/picpool/scaling"
	"github.com/picpool/picpool/store"
	"github.com/picpool/picpool/store/storetest"
)

// TestAWSAcceptance runs the whole system in "AWS mode" against the
// protocol-level AWS fake, behaving as AWS does: cache nodes are instances
// of an Auto Scaling group over three zones (each a real node server on
// its own 127.0.0.x address) that boot in one to three minutes, one of
// which never starts its node and one of which fails to launch; they
// publish their statistics to CloudWatch, which shows them one to three
// minutes late; 5 % of all AWS calls are refused as busy or throttled;
// and once the pool has eight nodes, an AZ rebalance terminates a serving
// one. The autoscaler reads the pool's miss rate from CloudWatch and
// resizes the pool through the group; images live in S3 (gofakes3) with
// their rows in SQLite. Every AWS call goes through the real SDK clients,
// with no retries of their own.
//
// Automatic mode with max 0.5, min 0.2, expand 2, shrink 0.5: reads of
// keys spread over more images than eight nodes hold drive the pool
// 1 → 2 → 4 → 8, where it holds; reads of a few hot keys bring it back
// down to 1. No request may fail, and no instance may be left outside
// the pool at the end. Time runs twelve times faster than AWS's: the
// autoscaler's period is 5 s for 60 s, and every delay above and every
// interval of the provider (polling the group every 5 s, so 417 ms here)
// keeps its ratio to it; nodes publish every second instead of every 5.
func TestAWSAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("the AWS acceptance scenario takes about 5 minutes; it runs without -short")
	}
	const scale = 12 // AWS's time / the test's
	aws := func(d time.Duration) time.Duration { return d / scale }
	period := aws(time.Minute)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
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
		readers     = 6
		phaseLimit  = 6 * time.Minute
		nodesPolicy = "lru"
		group       = "picpool-nodes"
		neverStarts = 4 // the 4th launch (in the 2 → 4 grow): in service, its node never answers
		noCapacity  = 7 // the 7th: EC2 cannot launch it
	)

	// AWS: the fake, whose instances each run a real node.
	var metrics atomic.Pointer[scaling.CloudWatch]
	fake, port := nodeFleet(t, awsfake.Config{
		Boot:      bootsLikeAWS(scale, 1, map[int]awsfake.BootFailure{neverStarts: awsfake.NeverStarts, noCapacity: awsfake.LaunchFails}),
		MetricLag: period, MetricLagJitter: 2 * period, // ingested one to three minutes late
		BusyRate: 0.05, Seed: 1,
		ReplaceAfter: aws(10 * time.Second),
	}, token, node.PublishFunc(func(ctx context.Context, s node.Stats) error {
		return publisher(metrics.Load()).PublishStats(ctx, s)
	}))
	awsCfg := fake.AWSConfig()
	cw, err := scaling.NewCloudWatch(scaling.CloudWatchConfig{Client: cloudwatch.NewFromConfig(awsCfg), Namespace: "PicPool/Acceptance",
		Timeout: aws(10 * time.Second), Backoff: aws(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	metrics.Store(cw)
	// As the template makes it: new instances protected from scale in.
	if err := fake.AddGroup(awsfake.Group{Name: group, MinSize: 1, MaxSize: 8, DesiredCapacity: 1,
		Zones: []string{"a", "b", "c"}, NewInstancesProtected: true}); err != nil {
		t.Fatal(err)
	}
	asg, err := scaling.NewASG(scaling.ASGConfig{
		AutoScaling: autoscaling.NewFromConfig(awsCfg), EC2: ec2.NewFromConfig(awsCfg), Group: group, Port: port,
		Poll: aws(scaling.DefaultPoll), ProbeEvery: aws(scaling.DefaultProbeEvery),
		StartTimeout: aws(3 * time.Minute), DeadAfter: aws(scaling.DefaultDeadAfter), Backoff: aws(time.Second), Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	var _ pool.Provider = asg

	// Storage: rows in SQLite, images in S3.
	db := storetest.OpenDB(t, "sqlite")
	blobs := storetest.NewS3(t).Blobs(t, "picpool-images", "images/")
	lib := store.NewLibrary(db, blobs, log)

	// The pool starts while the group's first instance still boots: it
	// waits for it, as the manager's first start does; it reconciles its
	// table with the group as the manager does (roles.go).
	p, err := pool.New(ctx, pool.Options{
		Provider: asg, Tables: db, Token: token, InitialNodes: 1,
		Config:      node.Config{Capacity: nodeCapMB * bytesize.MiB, Policy: nodesPolicy},
		FollowEvery: 200 * time.Millisecond, Settle: 400 * time.Millisecond,
		MemberWait: aws(scaling.MemberWait), ReconcileEvery: aws(30 * time.Second), Log: log,
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

	// The decisions, each with when its resize returned, and the fault:
	// once the pool has eight nodes, an AZ rebalance kills a serving one.
	var mu sync.Mutex
	var decisions []scaling.Decision
	var done []time.Time
	rebalanced := make(chan rebalanceFault, 1)
	var rebalanceOnce sync.Once
	auto, err := scaling.NewAutoscaler(scaling.AutoscalerConfig{
		Pool: p, Metrics: cw, Period: period, Cooldown: 1, SampleEvery: nodeStatsEvery, Log: log,
		Settings: func(ctx context.Context) (scaling.Settings, error) {
			s, _, err := db.LoadSettings(ctx)
			return s, err
		},
		OnDecision: func(d scaling.Decision) {
			mu.Lock()
			decisions, done = append(decisions, d), append(done, time.Now())
			mu.Unlock()
			t.Logf("%s  nodes %d → %d  window %s–%s (%d samples)  miss rate %.2f over %d lookups  %s: %s",
				d.Time.Format("15:04:05.0"), d.Current, d.Target, clock(d.PeriodStart), clock(periodEndOf(d, period)), d.Samples,
				d.MissRate, d.Lookups, d.Outcome, d.Reason)
			if p.Nodes() == pool.MaxNodes {
				rebalanceOnce.Do(func() { go func() { rebalanced <- rebalance(fake, group, p, port) }() })
			}
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
						if rctx.Err() == nil {
							failures.Add(1)
							t.Errorf("read failed: %v", err)
						}
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

	// No instance outside the pool: the reconciliation removes what a
	// failed launch or a replacement left, within a few of its rounds.
	want := p.Table().Members
	var inGroup []string
	for deadline := time.Now().Add(aws(5 * time.Minute)); ; time.Sleep(100 * time.Millisecond) {
		if inGroup = groupAddrs(fake, port); slices.Equal(inGroup, want) || time.Now().After(deadline) {
			break
		}
	}
	if !slices.Equal(inGroup, want) {
		t.Errorf("the group has instances %v, the pool %v: want the same", inGroup, want)
	}

	mu.Lock()
	defer mu.Unlock()
	var steps []string
	for i, d := range decisions {
		if d.Outcome == scaling.OutcomeResized || d.Outcome == scaling.OutcomeFailed {
			steps = append(steps, fmt.Sprintf("%d→%d", d.Current, d.Target))
		}
		if d.Outcome == scaling.OutcomeFailed {
			t.Errorf("a resize failed: %s", d.Reason)
		}
		if d.Outcome == scaling.OutcomeResized && d.Target > d.Current {
			n := describeCalls(fake, d.Time, done[i])
			t.Logf("grow %d→%d: %d Describe calls in %v", d.Current, d.Target, n, done[i].Sub(d.Time).Round(100*time.Millisecond))
			if n > 60 {
				t.Errorf("grow %d→%d made %d Describe calls, more than 60", d.Current, d.Target, n)
			}
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
	checkFaults(t, fake, rebalanced, neverStarts, noCapacity)
	t.Logf("%d requests, %d failed; %d decisions; final size %d", requests.Load(), failures.Load(), len(decisions), p.Nodes())
}
