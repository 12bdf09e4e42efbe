package scaling

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// Which instances are members: Auto Scaling has them InService and
// Healthy, and their node has answered /healthz. Auto Scaling's own checks
// (EC2 status checks) cannot tell a node that never started, or crashed,
// from a serving one; these probes can, and an instance they find dead is
// marked unhealthy so that the group replaces it.

// probe is what the provider knows of one in-service instance's node.
type probe struct {
	inService   time.Time // first seen in service
	lastProbe   time.Time
	served      bool      // answered /healthz at least once
	failingFrom time.Time // first failed probe since the last answer; zero while it answers
	marked      bool      // marked unhealthy
}

// Members returns "privateIP:port" of each instance of the group that is
// in service and healthy and whose node has answered /healthz, oldest
// launch first (ties by instance ID), so that a new node comes last.
func (a *ASG) Members(ctx context.Context) ([]string, error) {
	v, err := a.current(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("scaling: asg: members: %w", err)
	}
	a.probeAll(ctx, v)
	a.markDead(ctx, v)

	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []string
	for _, in := range v.instances {
		p := a.probes[in.id]
		if in.lifecycle == astypes.LifecycleStateInService && in.healthy && p != nil && p.served && !p.marked {
			ids = append(ids, in.id)
		}
	}
	slices.SortFunc(ids, func(x, y string) int {
		return cmp.Or(a.ips[x].launched.Compare(a.ips[y].launched), cmp.Compare(x, y))
	})
	members := []string{}
	for _, id := range ids {
		members = append(members, a.addr(a.ips[id].ip))
	}
	return members, nil
}

func (a *ASG) addr(ip string) string { return net.JoinHostPort(ip, strconv.Itoa(a.port)) }

// probeAll asks /healthz of every in-service, healthy instance whose
// address is known and that was not probed in the last ProbeEvery, in
// parallel, and forgets instances the group no longer has in service.
func (a *ASG) probeAll(ctx context.Context, v groupView) {
	now := time.Now()
	type target struct {
		p    *probe
		addr string
	}
	var targets []target
	a.mu.Lock()
	seen := map[string]bool{}
	for _, in := range v.instances {
		info, known := a.ips[in.id]
		if in.lifecycle != astypes.LifecycleStateInService || !in.healthy || !known {
			continue
		}
		seen[in.id] = true
		p := a.probes[in.id]
		if p == nil {
			p = &probe{inService: now}
			a.probes[in.id] = p
		}
		if !p.marked && now.Sub(p.lastProbe) >= a.cfg.ProbeEvery {
			p.lastProbe = now
			targets = append(targets, target{p, a.addr(info.ip)})
		}
	}
	for id := range a.probes {
		if !seen[id] {
			delete(a.probes, id)
		}
	}
	a.mu.Unlock()

	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Go(func() {
			ok := a.healthz(ctx, t.addr)
			a.mu.Lock()
			defer a.mu.Unlock()
			switch {
			case ok:
				if !t.p.served {
					a.log.Info("node answers", "member", t.addr, "after", time.Since(t.p.inService).Round(time.Millisecond))
				}
				t.p.served, t.p.failingFrom = true, time.Time{}
			case t.p.failingFrom.IsZero():
				t.p.failingFrom = now
			}
		})
	}
	wg.Wait()
}

// healthz reports whether the node at addr answers GET /healthz with 200.
func (a *ASG) healthz(ctx context.Context, addr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := a.cfg.HTTP.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	return resp.StatusCode == http.StatusOK
}

// markDead marks unhealthy the instances whose node never answered within
// StartTimeout of their being in service, or has not answered for
// DeadAfter, so that the group terminates and replaces them.
func (a *ASG) markDead(ctx context.Context, v groupView) {
	now := time.Now()
	type dead struct {
		id, why string
		p       *probe
	}
	var found []dead
	a.mu.Lock()
	for _, in := range v.instances {
		p := a.probes[in.id]
		switch {
		case p == nil || p.marked:
		case !p.served && now.Sub(p.inService) >= a.cfg.StartTimeout:
			found = append(found, dead{in.id, fmt.Sprintf("its node did not answer within %v of its being in service", a.cfg.StartTimeout), p})
		case p.served && !p.failingFrom.IsZero() && now.Sub(p.failingFrom) >= a.cfg.DeadAfter:
			found = append(found, dead{in.id, fmt.Sprintf("its node has not answered for %v", a.cfg.DeadAfter), p})
		}
	}
	a.mu.Unlock()
	for _, d := range found {
		err := a.retry.do(ctx, "set instance health", func(ctx context.Context) error {
			_, err := a.as.SetInstanceHealth(ctx, &autoscaling.SetInstanceHealthInput{
				InstanceId: aws.String(d.id), HealthStatus: aws.String("Unhealthy"), ShouldRespectGracePeriod: aws.Bool(false),
			})
			return err
		})
		if err != nil {
			a.log.Warn("could not mark a dead node's instance unhealthy; trying again later", "instance", d.id, "err", err)
			continue
		}
		a.log.Warn("marked an instance unhealthy for the group to replace it", "instance", d.id, "why", d.why)
		a.mu.Lock()
		d.p.marked = true
		a.mu.Unlock()
	}
}
