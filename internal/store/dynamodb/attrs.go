package dynamodb

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Partition keys of the kinds listed together (see the package comment).
const (
	pkAgent    = "agent"
	pkDecision = "decision"
	pkVM       = "vm"
	pkOutbox   = "outbox"
	pkCheck    = "check"
	// skSingle is the sort key of kinds alone in their partition.
	skSingle = "-"
)

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}
}

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func sval(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// str returns a string attribute's value, "" if absent or not a string.
func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// numStr returns a number attribute as written, for messages.
func numStr(v types.AttributeValue) string {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return "none"
}

// group is the prefix-free index key part of one grouping value (see the package comment).
func group(s string) string { return strconv.Itoa(len(s)) + ":" + s + "|" }

// timeKey encodes t so that byte order is time order: 16 hex digits of its microseconds since
// the epoch with the sign bit flipped.
func timeKey(t time.Time) string {
	return fmt.Sprintf("%016x", uint64(t.UnixMicro())^(1<<63))
}

// hashKey names an item by several strings without any separator ambiguity: the SHA-256 of their
// JSON array, which also bounds the key's length.
func hashKey(prefix string, parts ...string) string {
	b, _ := json.Marshal(parts) // strings always marshal
	sum := sha256.Sum256(b)
	return prefix + hex.EncodeToString(sum[:])
}

// sequence hands out keys that increase in this process and are unique across processes: the
// clock in microseconds (never repeating or going back here), then random bits.
type sequence struct {
	now  func() time.Time
	mu   sync.Mutex
	last int64
}

func newSequence(now func() time.Time) *sequence { return &sequence{now: now} }

func (q *sequence) next() string {
	q.mu.Lock()
	v := max(q.now().UnixMicro(), q.last+1)
	q.last = v
	q.mu.Unlock()
	var r [4]byte
	_, _ = rand.Read(r[:]) // never fails
	return fmt.Sprintf("%016x%s", uint64(v)^(1<<63), hex.EncodeToString(r[:]))
}

// item builds an item, leaving out zero values: an absent attribute reads back as the zero value,
// and the zero time stays zero.
type item map[string]types.AttributeValue

func newItem(pk, sk string) item { return item(key(pk, sk)) }

func (it item) s(name, v string) {
	if v != "" {
		it[name] = sval(v)
	}
}

func (it item) n(name string, v int64) {
	if v != 0 {
		it[name] = num(v)
	}
}

// t stores an instant as microseconds since the epoch.
func (it item) t(name string, v time.Time) {
	if !v.IsZero() {
		it[name] = num(v.UnixMicro())
	}
}

func (it item) list(name string, v []string) {
	if len(v) == 0 {
		return
	}
	l := make([]types.AttributeValue, len(v))
	for i, s := range v {
		l[i] = sval(s)
	}
	it[name] = &types.AttributeValueMemberL{Value: l}
}

func (it item) b(name string, v []byte) {
	if len(v) > 0 {
		it[name] = &types.AttributeValueMemberB{Value: v}
	}
}

// reader reads an item's attributes, keeping the first malformed one as its error.
type reader struct {
	it  map[string]types.AttributeValue
	err error
}

func (r *reader) fail(name string, v types.AttributeValue) {
	if r.err == nil {
		r.err = fmt.Errorf("attribute %s of item %s/%s: unexpected %T", name, str(r.it["pk"]), str(r.it["sk"]), v)
	}
}

func (r *reader) s(name string) string {
	v, ok := r.it[name]
	if !ok {
		return ""
	}
	s, ok := v.(*types.AttributeValueMemberS)
	if !ok {
		r.fail(name, v)
		return ""
	}
	return s.Value
}

func (r *reader) n(name string) int64 {
	v, ok := r.it[name]
	if !ok {
		return 0
	}
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		r.fail(name, v)
		return 0
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		r.fail(name, v)
	}
	return i
}

func (r *reader) t(name string) time.Time {
	if _, ok := r.it[name]; !ok {
		return time.Time{}
	}
	return time.UnixMicro(r.n(name)).UTC()
}

func (r *reader) list(name string) []string {
	v, ok := r.it[name]
	if !ok {
		return nil
	}
	l, ok := v.(*types.AttributeValueMemberL)
	if !ok {
		r.fail(name, v)
		return nil
	}
	out := make([]string, 0, len(l.Value))
	for _, e := range l.Value {
		s, ok := e.(*types.AttributeValueMemberS)
		if !ok {
			r.fail(name, e)
			return nil
		}
		out = append(out, s.Value)
	}
	return out
}

func (r *reader) b(name string) []byte {
	v, ok := r.it[name]
	if !ok {
		return nil
	}
	b, ok := v.(*types.AttributeValueMemberB)
	if !ok {
		r.fail(name, v)
		return nil
	}
	return b.Value
}
