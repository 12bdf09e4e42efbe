package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestAWSBackendsNeedARegion checks that CloudWatch metrics and the Auto
// Scaling provider refuse to start without a region, and say how to set
// one, instead of silently using us-east-1.
func TestAWSBackendsNeedARegion(t *testing.T) {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s := &system{}
	const want = "no AWS region is set: set AWS_REGION (for example AWS_REGION=eu-west-1) or region in ~/.aws/config"
	err := s.openMetrics(t.Context(), "cloudwatch:PicPool")
	if err == nil || err.Error() != "metrics cloudwatch:PicPool: "+want {
		t.Errorf("openMetrics(cloudwatch:PicPool) = %v, want the region error", err)
	}
	_, err = s.provider(t.Context(), "asg:nodes", "token", 5100)
	if err == nil || !strings.HasSuffix(err.Error(), want) || !strings.HasPrefix(err.Error(), "provider asg:nodes: ") {
		t.Errorf("provider(asg:nodes) = %v, want the region error", err)
	}
}
