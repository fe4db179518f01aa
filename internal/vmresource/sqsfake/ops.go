package sqsfake

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/testclock"
)

// Request and response shapes, with the member names of the SQS model (checked against
// botocore's sqs service-2.json by the package's tests).

type sendMessageRequest struct {
	QueueUrl                string
	MessageBody             *string
	DelaySeconds            *int32
	MessageAttributes       map[string]Attribute
	MessageSystemAttributes map[string]Attribute
	MessageDeduplicationId  string
	MessageGroupId          string
}

type sendMessageResult struct {
	MessageId        string
	MD5OfMessageBody string
}

type receiveMessageRequest struct {
	QueueUrl                    string
	AttributeNames              []string
	MessageSystemAttributeNames []string
	MessageAttributeNames       []string
	MaxNumberOfMessages         *int32
	VisibilityTimeout           *int32
	WaitTimeSeconds             *int32
	ReceiveRequestAttemptId     string
}

type receiveMessageResult struct {
	Messages []messageOut `json:",omitempty"`
}

type messageOut struct {
	MessageId         string
	ReceiptHandle     string
	MD5OfBody         string
	Body              string
	Attributes        map[string]string    `json:",omitempty"`
	MessageAttributes map[string]Attribute `json:",omitempty"`
}

type deleteMessageRequest struct {
	QueueUrl      string
	ReceiptHandle string
}

type deleteMessageBatchRequest struct {
	QueueUrl string
	Entries  []deleteMessageBatchRequestEntry
}

type deleteMessageBatchRequestEntry struct {
	Id            string
	ReceiptHandle string
}

type deleteMessageBatchResult struct {
	Successful []deleteMessageBatchResultEntry
	Failed     []batchResultErrorEntry
}

type deleteMessageBatchResultEntry struct {
	Id string
}

type batchResultErrorEntry struct {
	Id          string
	SenderFault bool
	Code        string
	Message     string
}

type changeMessageVisibilityRequest struct {
	QueueUrl          string
	ReceiptHandle     string
	VisibilityTimeout *int32
}

type getQueueUrlRequest struct {
	QueueName              string
	QueueOwnerAWSAccountId string
}

type getQueueUrlResult struct {
	QueueUrl string
}

type empty struct{}

// maxVisibility is SQS's limit on a visibility timeout (12 hours).
const maxVisibility = 12 * time.Hour

func (s *Server) sendMessage(body []byte) (any, *apiError) {
	var in sendMessageRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.MessageBody == nil || *in.MessageBody == "" {
		return nil, &apiError{400, "MissingParameter", "MissingParameter", "Sender", "The request must contain the parameter MessageBody."}
	}
	if len(*in.MessageBody) > 256*1024 {
		return nil, errInvalid("One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.")
	}
	for name, a := range in.MessageAttributes {
		if a.DataType == "" || (a.StringValue == "" && a.BinaryValue == nil) {
			return nil, errInvalid("The message attribute '%s' must contain a non-empty value of type '%s'.", name, a.DataType)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	now := s.o.Now()
	s.nextID++
	m := &message{id: fmt.Sprintf("00000000-0000-4000-8000-%012x", s.nextID), body: *in.MessageBody, attrs: in.MessageAttributes,
		sent: now, visibleAt: now}
	if in.DelaySeconds != nil {
		m.visibleAt = now.Add(time.Duration(*in.DelaySeconds) * time.Second)
	}
	q.msgs = append(q.msgs, m)
	s.wakeLocked()
	return sendMessageResult{MessageId: m.id, MD5OfMessageBody: md5Hex(m.body)}, nil
}

func (s *Server) receiveMessage(r *http.Request, body []byte) (any, *apiError) {
	var in receiveMessageRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	max := int32(1)
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
	}
	if max < 1 || max > 10 {
		return nil, errInvalid("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
	}
	var wait time.Duration
	if in.WaitTimeSeconds != nil {
		if *in.WaitTimeSeconds < 0 || *in.WaitTimeSeconds > 20 {
			return nil, errInvalid("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *in.WaitTimeSeconds)
		}
		wait = min(time.Duration(*in.WaitTimeSeconds)*time.Second, s.o.LongPollLimit)
	}
	vis := s.o.DefaultVisibility
	if in.VisibilityTimeout != nil {
		vis = time.Duration(*in.VisibilityTimeout) * time.Second
		if vis < 0 || vis > maxVisibility {
			return nil, errInvalid("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.", *in.VisibilityTimeout)
		}
	}
	names := append(slices.Clone(in.AttributeNames), in.MessageSystemAttributeNames...)
	var deadline <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		s.mu.Lock()
		q, aerr := s.queueLocked(in.QueueUrl)
		if aerr != nil {
			s.mu.Unlock()
			return nil, aerr
		}
		out := s.takeLocked(q, int(max), vis, names, in.MessageAttributeNames)
		changed := s.changed
		s.mu.Unlock()
		if len(out.Messages) > 0 || deadline == nil {
			return out, nil
		}
		select {
		case <-changed:
		case <-deadline:
			return receiveMessageResult{}, nil
		case <-r.Context().Done():
			return receiveMessageResult{}, nil
		}
	}
}

// takeLocked receives up to n visible messages, oldest first, making them invisible for vis.
func (s *Server) takeLocked(q *queue, n int, vis time.Duration, sysNames, attrNames []string) receiveMessageResult {
	now := s.o.Now()
	var out receiveMessageResult
	for _, m := range q.msgs {
		if len(out.Messages) == n {
			break
		}
		if now.Before(m.visibleAt) {
			continue
		}
		m.receives++
		m.backoff = false
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.visibleAt = now.Add(vis)
		m.handles++
		m.handle = fmt.Sprintf("%s#%d", m.id, m.handles)
		out.Messages = append(out.Messages, messageOut{
			MessageId: m.id, ReceiptHandle: m.handle, MD5OfBody: md5Hex(m.body), Body: m.body,
			Attributes: systemAttributes(m, sysNames), MessageAttributes: messageAttributes(m, attrNames),
		})
	}
	return out
}

func systemAttributes(m *message, names []string) map[string]string {
	all := slices.Contains(names, "All")
	out := map[string]string{}
	add := func(name, v string) {
		if all || slices.Contains(names, name) {
			out[name] = v
		}
	}
	add("ApproximateReceiveCount", strconv.Itoa(m.receives))
	add("SentTimestamp", strconv.FormatInt(m.sent.UnixMilli(), 10))
	add("ApproximateFirstReceiveTimestamp", strconv.FormatInt(m.firstReceive.UnixMilli(), 10))
	add("SenderId", "AIDAFAKE")
	if len(out) == 0 {
		return nil
	}
	return out
}

func messageAttributes(m *message, names []string) map[string]Attribute {
	out := map[string]Attribute{}
	for k, v := range m.attrs {
		for _, n := range names {
			if n == "All" || n == ".*" || n == k || (strings.HasSuffix(n, ".*") && strings.HasPrefix(k, strings.TrimSuffix(n, "*"))) {
				out[k] = v
				break
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// findHandleLocked returns the message a receipt handle names. stale is true when the handle is
// an earlier one than the message's latest.
func findHandleLocked(q *queue, handle string) (i int, stale bool, aerr *apiError) {
	id, _, ok := strings.Cut(handle, "#")
	if !ok {
		return -1, false, &apiError{400, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "Sender",
			fmt.Sprintf("The input receipt handle %q is not a valid receipt handle.", handle)}
	}
	for i, m := range q.msgs {
		if m.id == id {
			return i, m.handle != handle, nil
		}
	}
	return -1, false, nil // deleted already
}

// deleteLocked deletes by receipt handle. As in SQS, deleting an already-deleted message, or
// with an earlier handle, succeeds; an earlier handle leaves the message in the queue.
func (s *Server) deleteLocked(q *queue, handle string) *apiError {
	i, stale, aerr := findHandleLocked(q, handle)
	if aerr != nil {
		return aerr
	}
	if i >= 0 && !stale {
		q.msgs = slices.Delete(q.msgs, i, i+1)
	}
	return nil
}

func (s *Server) deleteMessage(body []byte) (any, *apiError) {
	var in deleteMessageRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.deleteLocked(q, in.ReceiptHandle); aerr != nil {
		return nil, aerr
	}
	return empty{}, nil
}

func (s *Server) deleteMessageBatch(body []byte) (any, *apiError) {
	var in deleteMessageBatchRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	switch {
	case len(in.Entries) == 0:
		return nil, &apiError{400, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "Sender", "There should be at least one DeleteMessageBatchRequestEntry in the request."}
	case len(in.Entries) > 10:
		return nil, &apiError{400, "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "Sender",
			fmt.Sprintf("Maximum number of entries per request are 10. You have sent %d.", len(in.Entries))}
	}
	seen := map[string]bool{}
	for _, e := range in.Entries {
		if seen[e.Id] {
			return nil, &apiError{400, "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Sender", "Id " + e.Id + " repeated."}
		}
		seen[e.Id] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	out := deleteMessageBatchResult{Successful: []deleteMessageBatchResultEntry{}, Failed: []batchResultErrorEntry{}}
	for _, e := range in.Entries {
		if aerr := s.deleteLocked(q, e.ReceiptHandle); aerr != nil {
			out.Failed = append(out.Failed, batchResultErrorEntry{Id: e.Id, SenderFault: true, Code: aerr.queryCode, Message: aerr.msg})
			continue
		}
		out.Successful = append(out.Successful, deleteMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func (s *Server) changeVisibility(body []byte) (any, *apiError) {
	var in changeMessageVisibilityRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.VisibilityTimeout == nil {
		return nil, &apiError{400, "MissingParameter", "MissingParameter", "Sender", "The request must contain the parameter VisibilityTimeout."}
	}
	vis := time.Duration(*in.VisibilityTimeout) * time.Second
	if vis < 0 || vis > maxVisibility {
		return nil, errInvalid("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200.", *in.VisibilityTimeout)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	i, stale, aerr := findHandleLocked(q, in.ReceiptHandle)
	switch {
	case aerr != nil:
		return nil, aerr
	case i < 0 || stale:
		return nil, errInvalid("Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", in.ReceiptHandle)
	}
	m := q.msgs[i]
	now := s.o.Now()
	if !now.Before(m.visibleAt) {
		return nil, &apiError{400, "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "Sender", "Message does not exist or is not available for visibility timeout change."}
	}
	m.visibleAt = now.Add(vis)
	m.backoff = true
	s.wakeLocked()
	return empty{}, nil
}

func (s *Server) getQueueURL(body []byte) (any, *apiError) {
	var in getQueueUrlRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queues[in.QueueName] == nil {
		return nil, errNoQueue()
	}
	return getQueueUrlResult{QueueUrl: s.queueURL(in.QueueName)}, nil
}

// Clock is a manual clock for Options.Now.
type Clock = testclock.Manual

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return testclock.NewManual(t) }
