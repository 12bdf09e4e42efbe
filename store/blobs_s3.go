package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// s3Blobs keeps each object in an S3 bucket, under an optional prefix.
type s3Blobs struct {
	client *s3.Client
	bucket string
	prefix string // "" or ending in "/"
}

// defaultRegion is the region of a client with a custom endpoint
// (AWS_ENDPOINT_URL, an S3-compatible server) when none is set: such
// servers take any region, and usually none is configured for them.
const defaultRegion = "us-east-1"

// errNoRegion: on AWS itself, a client without a region would sign for
// one the bucket may not be in, so it is asked for rather than guessed.
var errNoRegion = errors.New("no AWS region is set: set AWS_REGION to the bucket's region (or region in ~/.aws/config)")

func openS3Blobs(ctx context.Context, raw string) (*s3Blobs, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Host == "" {
		return nil, errors.New("no bucket named (want s3://bucket/prefix)")
	}
	// LoadDefaultConfig reads the standard chain, AWS_ENDPOINT_URL (and
	// AWS_ENDPOINT_URL_S3) included.
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	client, err := newS3Client(cfg)
	if err != nil {
		return nil, err
	}
	b := NewS3Blobs(client, u.Host, u.Path).(*s3Blobs)
	// Fail at start-up, not at the first upload, when the bucket is
	// missing or the credentials are wrong.
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.bucket)}); err != nil {
		return nil, fmt.Errorf("bucket %q: %w", b.bucket, err)
	}
	return b, nil
}

// newS3Client returns an S3 client for cfg. With a custom endpoint it
// addresses buckets path-style ("endpoint/bucket/key"), which every
// S3-compatible server understands, and takes us-east-1 when no region is
// set; on AWS itself it keeps virtual-hosted style (AWS's default: it
// has deprecated path-style requests) and needs a region.
func newS3Client(cfg aws.Config) (*s3.Client, error) {
	var err error
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// NewFromConfig has resolved the endpoint by now: the general
		// AWS_ENDPOINT_URL, or the service's own AWS_ENDPOINT_URL_S3.
		custom := o.BaseEndpoint != nil
		o.UsePathStyle = custom
		switch {
		case o.Region != "":
		case custom:
			o.Region = defaultRegion
		default:
			err = errNoRegion
		}
	})
	return client, err
}

// NewS3Blobs returns a blob store on bucket, with objects under prefix
// ("" for the bucket's root), through the given client. OpenBlobs builds
// the client from the environment; tests and callers with their own
// configuration pass one here. Bodies are seekable, so the SDK signs the
// payload without buffering it again.
func NewS3Blobs(client *s3.Client, bucket, prefix string) Blobs {
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &s3Blobs{client: client, bucket: bucket, prefix: prefix}
}

// Put uploads the object.
func (b *s3Blobs) Put(ctx context.Context, name, contentType string, data []byte) error {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(b.bucket),
		Key:           aws.String(b.prefix + name),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if _, err := b.client.PutObject(ctx, in); err != nil {
		return fmt.Errorf("store: put blob s3://%s/%s%s: %w", b.bucket, b.prefix, name, err)
	}
	return nil
}

// Get downloads the object.
func (b *s3Blobs) Get(ctx context.Context, name string) ([]byte, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(b.prefix + name),
	})
	if err != nil {
		if isS3NotFound(err) {
			return nil, fmt.Errorf("store: get blob s3://%s/%s%s: %w", b.bucket, b.prefix, name, ErrNotFound)
		}
		return nil, fmt.Errorf("store: get blob s3://%s/%s%s: %w", b.bucket, b.prefix, name, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("store: get blob s3://%s/%s%s: %w", b.bucket, b.prefix, name, err)
	}
	return data, nil
}

// isS3NotFound reports a missing key: NoSuchKey, or a bare 404 (what a
// HEAD-style answer or some S3-compatible servers give).
func isS3NotFound(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == 404 && !isNoSuchBucket(err)
}

func isNoSuchBucket(err error) bool {
	var nsb *types.NoSuchBucket
	if errors.As(err, &nsb) {
		return true
	}
	return strings.Contains(err.Error(), "NoSuchBucket")
}

// Delete removes the object; S3 answers success for a missing one.
func (b *s3Blobs) Delete(ctx context.Context, name string) error {
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(b.prefix + name),
	})
	if err != nil && !isS3NotFound(err) {
		return fmt.Errorf("store: delete blob s3://%s/%s%s: %w", b.bucket, b.prefix, name, err)
	}
	return nil
}

// DeleteMany deletes the named objects, up to 1000 per request.
func (b *s3Blobs) DeleteMany(ctx context.Context, names []string) error {
	for len(names) > 0 {
		batch := names[:min(len(names), 1000)]
		names = names[len(batch):]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, n := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(b.prefix + n)}
		}
		out, err := b.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(b.bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("store: delete %d blobs in s3://%s/%s: %w", len(batch), b.bucket, b.prefix, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("store: delete blobs in s3://%s/%s: %d not deleted, first %s: %s", b.bucket, b.prefix, len(out.Errors), aws.ToString(e.Key), aws.ToString(e.Message))
		}
	}
	return nil
}

// each calls fn with the keys of every object under the prefix, one page
// (at most 1000) at a time.
func (b *s3Blobs) each(ctx context.Context, fn func(keys []string) error) error {
	pages := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(b.bucket),
		Prefix: aws.String(b.prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(page.Contents))
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		if len(keys) == 0 {
			continue
		}
		if err := fn(keys); err != nil {
			return err
		}
	}
	return nil
}

// names lists every object's name (without the prefix), for tests and
// maintenance.
func (b *s3Blobs) names(ctx context.Context) ([]string, error) {
	var names []string
	err := b.each(ctx, func(keys []string) error {
		for _, k := range keys {
			names = append(names, strings.TrimPrefix(k, b.prefix))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list blobs in s3://%s/%s: %w", b.bucket, b.prefix, err)
	}
	return names, nil
}
