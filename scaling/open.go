package scaling

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// OpenMetrics opens the metrics backend that spec names: "db" is the
// database's backend, given here as db (it lives in package store);
// "cloudwatch:NAMESPACE" is CloudWatch, with the AWS configuration of the
// environment; "none" is no backend (nil).
func OpenMetrics(ctx context.Context, spec string, db Metrics) (Metrics, error) {
	switch {
	case spec == "none":
		return nil, nil
	case spec == "db":
		if db == nil {
			return nil, fmt.Errorf("scaling: metrics %q needs the database (--db)", spec)
		}
		return db, nil
	case strings.HasPrefix(spec, "cloudwatch:"):
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("scaling: metrics %s: AWS configuration: %w", spec, err)
		}
		return NewCloudWatch(CloudWatchConfig{Client: cloudwatch.NewFromConfig(cfg), Namespace: strings.TrimPrefix(spec, "cloudwatch:")})
	}
	return nil, fmt.Errorf("scaling: unknown metrics backend %q: use db, cloudwatch:NAMESPACE or none", spec)
}

// IsProvider reports whether spec names a provider that OpenProvider
// opens: "asg:GROUP".
func IsProvider(spec string) bool { return strings.HasPrefix(spec, "asg:") }

// OpenProvider opens the pool's provider that spec names, "asg:GROUP": the
// EC2 Auto Scaling group GROUP, whose nodes listen on port, with the AWS
// configuration of the environment.
func OpenProvider(ctx context.Context, spec string, port int) (*ASG, error) {
	if !IsProvider(spec) {
		return nil, fmt.Errorf("scaling: unknown provider %q: want asg:GROUP", spec)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("scaling: provider %s: AWS configuration: %w", spec, err)
	}
	return NewASG(ASGConfig{
		AutoScaling: autoscaling.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg),
		Group: strings.TrimPrefix(spec, "asg:"), Port: port,
	})
}
