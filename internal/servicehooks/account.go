package servicehooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// CallerIdentity is the STS call ResolveAccount makes; *sts.Client implements it.
type CallerIdentity interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// resolveTimeout bounds the STS call at start-up (the SDK retries inside it).
const resolveTimeout = 10 * time.Second

// ResolveAccount returns the AWS account id of the credentials adofleet runs with, which is the
// account its ecs and ec2 providers start agents in. It is called once at start-up when
// hooks.account is not configured.
func ResolveAccount(ctx context.Context, c CallerIdentity) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("sts GetCallerIdentity: %w", err)
	}
	account := aws.ToString(out.Account)
	if account == "" {
		return "", errors.New("sts GetCallerIdentity: the answer names no account")
	}
	return account, nil
}
