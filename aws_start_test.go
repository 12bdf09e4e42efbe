package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/scaling"
	"github.com/picpool/picpool/scaling/awsfake"
)

// TestOwnerFirstStartWaitsForTheGroup starts a pool owner of two nodes on
// a group of one whose instances are in service before their nodes
// answer, as the manager's first start does (`--nodes 2`): it raises the
// group's capacity, waits for both nodes to answer, and configures them,
// rather than fail on a node still starting.
func TestOwnerFirstStartWaitsForTheGroup(t *testing.T) {
	port, err := awsfake.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	const token = "first-start"
	noStats := statsPublisherFunc(func(context.Context, cache.NodeStats) error { return nil })
	fake := awsfake.NewServer(awsfake.Config{
		Launch: func(ctx context.Context, _, ip string) (func(), error) {
			return startAWSNode(ctx, ip, port, token, noStats)
		},
		Boot: func(int) awsfake.Boot {
			return awsfake.Boot{Pending: 200 * time.Millisecond, Start: 500 * time.Millisecond}
		},
	})
	t.Cleanup(fake.Close)
	if err := fake.AddGroup(awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 1}); err != nil {
		t.Fatal(err)
	}
	cfg := fake.AWSConfig()
	asg, err := scaling.NewASG(scaling.ASGConfig{AutoScaling: autoscaling.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg),
		Group: "nodes", Port: port, Poll: 50 * time.Millisecond, ProbeEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := cache.NewPool(t.Context(), cache.PoolOptions{Provider: asg, Token: token, InitialNodes: 2,
		Config: cache.NodeConfig{Capacity: 2 * mebibyte, Policy: "sieve"}, MemberWait: time.Minute})
	if err != nil {
		t.Fatalf("the owner's first start: %v", err)
	}
	t.Cleanup(pool.Close)
	members := pool.Table().Members
	if len(members) != 2 {
		t.Fatalf("members %v, want 2", members)
	}
	for _, h := range pool.Health(t.Context()) {
		if !h.Healthy || h.Status.Config != pool.Table().Config {
			t.Errorf("node %s: %+v, want healthy and configured", h.Addr, h)
		}
	}
	var ops []string
	for _, c := range fake.Calls() {
		ops = append(ops, c.Operation)
	}
	if !slices.Contains(ops, "SetDesiredCapacity") {
		t.Errorf("the group's capacity was not raised: calls %v", ops)
	}
}
