package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/internal/awsfake"
	"github.com/picpool/picpool/internal/bytesize"
	"github.com/picpool/picpool/scaling"
)

// TestOwnerFirstStartWaitsForTheGroup starts a pool owner of two nodes on
// a group of one whose instances are in service before their nodes
// answer, as the manager's first start does (`--nodes 2`): it raises the
// group's capacity, waits for both nodes to answer, and configures them,
// rather than fail on a node still starting.
func TestOwnerFirstStartWaitsForTheGroup(t *testing.T) {
	const token = "first-start"
	noStats := node.PublishFunc(func(context.Context, node.Stats) error { return nil })
	fake, port := nodeFleet(t, awsfake.Config{
		Boot: func(int) awsfake.Boot {
			return awsfake.Boot{Pending: 200 * time.Millisecond, Start: 500 * time.Millisecond}
		},
	}, token, noStats)
	if err := fake.AddGroup(awsfake.Group{Name: "nodes", MinSize: 1, MaxSize: 8, DesiredCapacity: 1}); err != nil {
		t.Fatal(err)
	}
	cfg := fake.AWSConfig()
	asg, err := scaling.NewASG(scaling.ASGConfig{AutoScaling: autoscaling.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg),
		Group: "nodes", Port: port, Poll: 50 * time.Millisecond, ProbeEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pool.New(t.Context(), pool.Options{Provider: asg, Token: token, InitialNodes: 2,
		Config: node.Config{Capacity: 2 * bytesize.MiB, Policy: "sieve"}, MemberWait: time.Minute})
	if err != nil {
		t.Fatalf("the owner's first start: %v", err)
	}
	t.Cleanup(p.Close)
	members := p.Table().Members
	if len(members) != 2 {
		t.Fatalf("members %v, want 2", members)
	}
	for _, h := range p.Health(t.Context()) {
		if !h.Healthy || h.Status.Config != p.Table().Config {
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
