package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
)

// TestS3ClientStyleAndRegion checks how the S3 client is built from the
// standard AWS environment: path-style and a default region only for a
// custom endpoint; on AWS itself, virtual-hosted style and a region that
// must be set.
func TestS3ClientStyleAndRegion(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		pathStyle bool
		region    string
		err       error
	}{
		{"AWS", map[string]string{"AWS_REGION": "eu-west-1"}, false, "eu-west-1", nil},
		{"AWS without a region", nil, false, "", errNoRegion},
		{"custom endpoint", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-1"}, true, "eu-west-1", nil},
		{"custom endpoint without a region", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}, true, defaultRegion, nil},
		{"S3's own endpoint", map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"}, true, defaultRegion, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"} {
				t.Setenv(k, "")
			}
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg, err := config.LoadDefaultConfig(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			client, err := newS3Client(cfg)
			if !errors.Is(err, tt.err) {
				t.Fatalf("newS3Client() error = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			o := client.Options()
			if o.UsePathStyle != tt.pathStyle || o.Region != tt.region {
				t.Errorf("path style %v, region %q; want %v, %q", o.UsePathStyle, o.Region, tt.pathStyle, tt.region)
			}
		})
	}
}
