package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// The table's shape; deploy/terraform/aws/dynamodb.tf declares the same.
const (
	// indexByGroup is the local secondary index on lsk (projection: all attributes).
	indexByGroup = "by-group"
	// attrTTL is the table's TTL attribute: epoch seconds.
	attrTTL = "ttl"
)

// tableActiveTimeout bounds EnsureTable, its wait for a new table to become ACTIVE included.
const tableActiveTimeout = 2 * time.Minute

// EnsureTable creates the store's table (on-demand billing, the by-group index, TTL on ttl) if
// it does not exist, and waits until it is ACTIVE. It is meant for development and tests;
// production tables come from Terraform, and the role that runs adofleet then needs no
// CreateTable permission. An emulator without UpdateTimeToLive gets a warning, not an error.
func EnsureTable(ctx context.Context, client API, table string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "store", "backend", "dynamodb", "table", table)
	ctx, cancel := context.WithTimeout(ctx, tableActiveTimeout) // the whole of it, waiting included
	defer cancel()
	_, err := client.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: aws.String(table)})
	var nf *types.ResourceNotFoundException
	switch {
	case err == nil:
	case errors.As(err, &nf):
		if err := createTable(ctx, client, table); err != nil {
			return fmt.Errorf("dynamodb: create table %q: %w", table, err)
		}
		log.Info("created table")
	default:
		return fmt.Errorf("dynamodb: describe table %q: %w", table, err)
	}
	if err := waitActive(ctx, client, table); err != nil {
		return fmt.Errorf("dynamodb: table %q: %w", table, err)
	}
	return ensureTTL(ctx, client, table, log)
}

func createTable(ctx context.Context, client API, table string) error {
	str := types.ScalarAttributeTypeS
	_, err := client.CreateTable(ctx, &ddb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: str},
			{AttributeName: aws.String("sk"), AttributeType: str},
			{AttributeName: aws.String("lsk"), AttributeType: str},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
			IndexName: aws.String(indexByGroup),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("lsk"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil // created meanwhile by another process
	}
	return err
}

// waitActive polls DescribeTable until the table is ACTIVE.
func waitActive(ctx context.Context, client API, table string) error {
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		out, err := client.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("describe: %w", err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for status ACTIVE (now %s): %w", out.Table.TableStatus, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// ensureTTL turns on expiry by the ttl attribute if it is off.
func ensureTTL(ctx context.Context, client API, table string, log *slog.Logger) error {
	out, err := client.DescribeTimeToLive(ctx, &ddb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("dynamodb: describe time to live of %q: %w", table, err)
	}
	if d := out.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == attrTTL &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &ddb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrTTL), Enabled: aws.Bool(true),
		},
	})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "UnknownOperationException" {
		log.Warn("the endpoint does not support UpdateTimeToLive (an emulator?); finished records will not expire")
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamodb: enable time to live on %q by %s: %w", table, attrTTL, err)
	}
	return nil
}

// checkTable fails unless the table exists with the key schema and index this store writes.
func (s *Store) checkTable(ctx context.Context) error {
	var out *ddb.DescribeTableOutput
	err := s.call(ctx, func(ctx context.Context) (err error) {
		out, err = s.opts.Client.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: s.table})
		return err
	})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("no such table (create it with deploy/terraform/aws, or set store.dynamodb.createTable for development): %w", err)
	}
	if err != nil {
		return fmt.Errorf("describe table: %w", err)
	}
	t := out.Table
	if !hasKeys(t.KeySchema, "pk", "sk") {
		return errors.New("key schema is not pk (hash) and sk (range), both strings; is it another application's table?")
	}
	for _, ix := range t.LocalSecondaryIndexes {
		if aws.ToString(ix.IndexName) == indexByGroup && hasKeys(ix.KeySchema, "pk", "lsk") {
			return nil
		}
	}
	return fmt.Errorf("no local secondary index %q on (pk, lsk); local indexes can only be created with the table", indexByGroup)
}

func hasKeys(ks []types.KeySchemaElement, hash, rng string) bool {
	var h, r string
	for _, k := range ks {
		switch k.KeyType {
		case types.KeyTypeHash:
			h = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			r = aws.ToString(k.AttributeName)
		}
	}
	return h == hash && r == rng
}
