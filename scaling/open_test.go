package scaling

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
	const want = "no AWS region is set: set AWS_REGION (for example AWS_REGION=eu-west-1) or region in ~/.aws/config"
	_, err := OpenMetrics(t.Context(), "cloudwatch:PicPool", nil)
	if err == nil || err.Error() != "scaling: metrics cloudwatch:PicPool: "+want {
		t.Errorf("OpenMetrics(cloudwatch:PicPool) = %v, want the region error", err)
	}
	_, err = OpenProvider(t.Context(), "asg:nodes", 5100, nil)
	if err == nil || !strings.HasSuffix(err.Error(), want) || !strings.HasPrefix(err.Error(), "scaling: provider asg:nodes: ") {
		t.Errorf("OpenProvider(asg:nodes) = %v, want the region error", err)
	}
	t.Setenv("AWS_REGION", "eu-west-1")
	if _, err := OpenMetrics(t.Context(), "cloudwatch:PicPool", nil); err != nil {
		t.Errorf("OpenMetrics with a region: %v", err)
	}
}
