package ec2fake

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// Client returns a real SDK client for the fake: static credentials, the fake's endpoint, and
// the SDK's standard retryer with no backoff delay, so throttling is retried at once.
func (s *Server) Client(optFns ...func(*ec2.Options)) *ec2.Client {
	return ec2.New(ec2.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
		Retryer:      FastRetryer(),
	}, optFns...)
}

// FastRetryer is the SDK's standard retryer (same retryable codes, including
// RequestLimitExceeded) without the backoff delay.
func FastRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = noBackoff{}
	})
}

type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }
