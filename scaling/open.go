package scaling

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
		cfg, err := awsConfig(ctx, "metrics "+spec)
		if err != nil {
			return nil, err
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
// configuration of the environment; log receives what it does to the
// group. A pool over it waits up to MemberWait for new nodes.
func OpenProvider(ctx context.Context, spec string, port int, log *slog.Logger) (*ASG, error) {
	if !IsProvider(spec) {
		return nil, fmt.Errorf("scaling: unknown provider %q: want asg:GROUP", spec)
	}
	cfg, err := awsConfig(ctx, "provider "+spec)
	if err != nil {
		return nil, err
	}
	return NewASG(ASGConfig{
		AutoScaling: autoscaling.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg),
		Group: strings.TrimPrefix(spec, "asg:"), Port: port, Log: log,
	})
}

// MemberWait is how long a pool over an Auto Scaling group waits for new
// nodes to serve: an instance boots in one to three minutes, and one
// whose node never starts is replaced after DefaultStartTimeout.
const MemberWait = 15 * time.Minute

// awsConfig loads the standard AWS configuration (environment, ~/.aws,
// instance role) for what (a flag's value, named in errors), and refuses
// one without a region rather than guess one: CloudWatch and Auto Scaling
// are regional, and a guess would find no group and no metrics.
func awsConfig(ctx context.Context, what string) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("scaling: %s: AWS configuration: %w", what, err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("scaling: %s: no AWS region is set: set AWS_REGION (for example AWS_REGION=eu-west-1) or region in ~/.aws/config", what)
	}
	return cfg, nil
}
