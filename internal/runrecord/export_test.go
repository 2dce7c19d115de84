package runrecord

import (
	"context"

	"github.com/perfbase/perfbase/internal/store"
)

// For the external tests (exporter_test.go, package runrecord_test), which
// import the exporter and so cannot live in this package: the exporter
// links the analyzer, which reads records.
type BulkAppender = bulkAppender

var TestMeta = testMeta

var (
	T0       = t0
	BucketOf = bucketOf
)

// NewBulkAppender adapts a store bulk write to a TSDB appender.
func NewBulkAppender(ctx context.Context, b *store.Bulk) BulkAppender {
	return bulkAppender{ctx: ctx, b: b}
}

// DiffRecords says how two lists of records differ, "" when they do not.
func DiffRecords(got, want []Record) string { return diffRecords(got, want) }
