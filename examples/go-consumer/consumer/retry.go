package consumer

import (
	"context"
	"math"
	"math/rand"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// permanentCodes say "this request will fail again however often you send it" (a bad selector or consumer id, a
// missing token or permission, an RPC the server lacks): retrying would hide a mistake behind a log line repeated
// forever, so a consumer stops with them. The TypeScript client's transient-error.ts has the same list.
var permanentCodes = map[codes.Code]bool{
	codes.InvalidArgument:    true,
	codes.NotFound:           true,
	codes.AlreadyExists:      true,
	codes.PermissionDenied:   true,
	codes.FailedPrecondition: true,
	codes.OutOfRange:         true,
	codes.Unimplemented:      true,
	codes.Unauthenticated:    true,
	codes.DataLoss:           true,
}

// IsTransient reports whether a failed call may succeed when sent again later. Every code not known to be permanent
// counts as transient, because a connection that drops shows up under many of them depending on the moment
// (Unavailable, Canceled, Internal, Unknown, ...).
func IsTransient(err error) bool {
	return !permanentCodes[status.Code(err)]
}

// backoffDelay is the wait before retry number attempt (0 for the first): uniform between 0 and
// min(max, initial * 2^attempt) ("full jitter"), so that the consumers of a restarted Event Store do not all come
// back in one wave.
func backoffDelay(attempt int, initial, max time.Duration) time.Duration {
	if attempt < 0 {
		attempt = 0
	}
	if attempt > 52 {
		attempt = 52
	}
	ceiling := math.Min(float64(max), float64(initial)*math.Pow(2, float64(attempt)))
	return time.Duration(rand.Float64() * ceiling)
}

// backoff counts consecutive failures.
type backoff struct {
	initial, max time.Duration
	attempt      int
}

func (b *backoff) reset() { b.attempt = 0 }

func (b *backoff) next() time.Duration {
	d := backoffDelay(b.attempt, b.initial, b.max)
	b.attempt++
	return d
}

// sleep waits d, or less when ctx ends first; it reports whether the whole wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
