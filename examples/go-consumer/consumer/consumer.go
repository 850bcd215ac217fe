// Package consumer follows the ESKIT Application Log over gRPC and keeps its offset in the Event Store, as the
// TypeScript client's createLogConsumer does (docs/consumers.md), with the same guarantees:
//
//   - Offset = the id of the last entry handled, kept through ConsumerService. A consumer resumes at offset + 1
//     (LogsPoll's from_id is inclusive) and saves its offset after its handler succeeded: every SaveEveryEntries
//     entries or within SaveInterval, and when it stops.
//   - At-least-once: no entry is ever skipped. While the consumer runs, an entry that was handled is not delivered
//     again, across reconnections too; a process that dies loses only the offset it had not saved yet, so the next
//     run delivers those entries again: make handlers idempotent (store the entry id with your writes).
//   - Reconnection: a stream that fails with a transient error (Unavailable when the Event Store restarts, ...),
//     ends, or brings no message (not even the Event Store's 15 s heartbeat) for HeartbeatTimeout is reopened at
//     the last handled id + 1 after an exponential backoff with full jitter, reset by every message received. A
//     permanent error (InvalidArgument for a bad selector, Unauthenticated, PermissionDenied, ...) stops it.
//   - Stopping: cancelling the context given to Consume cancels the stream, lets a running handler finish, saves
//     the offset, then Consume returns.
package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	pb "eskit.example/eskitpb/eventstore/v1"
	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Options of a Consumer; start from DefaultOptions, whose values are the TypeScript helper's defaults.
type Options struct {
	Selector   string // "" or "*" = all, "User.*", "User.Created", "*.Deleted"
	PipelineID string // when set, only this entity type (combined with Selector)
	Start      string // "saved" (after the saved offset, or from the beginning), "beginning" or "end"
	// Token is sent as "Authorization: Bearer <Token>"; a full token, since saving the offset is a write.
	Token            string
	SaveEveryEntries int
	SaveInterval     time.Duration // 0 = save right away
	HandlerRetries   int
	InitialBackoff   time.Duration
	MaxBackoff       time.Duration
	HeartbeatTimeout time.Duration // 0 = never
	// KeepaliveTime and KeepaliveTimeout: PING a connection silent this long, drop it when no answer came by then
	// (grpc-go raises a KeepaliveTime under 10 s to 10 s).
	KeepaliveTime    time.Duration
	KeepaliveTimeout time.Duration
	UnaryTimeout     time.Duration // GetOffset, SaveOffset, GetHead; not LogsPoll, which never ends
	FinalSaveTimeout time.Duration
	OnReconnect      func(cause error, delay time.Duration, attempt int)
	OnOffsetSaved    func(offset uint64)
	// OnStarted is told where the consumer starts: it streams the entries after log id `after`.
	OnStarted func(after uint64)
}

// DefaultOptions are those of createLogConsumer: save every 100 entries or 1 s, backoff 100 ms to 10 s,
// reconnect after 45 s without a message (three heartbeats), 10 s per unary call, 5 s for the final save.
func DefaultOptions() Options {
	return Options{
		Start: "saved", SaveEveryEntries: 100, SaveInterval: time.Second,
		InitialBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second, HeartbeatTimeout: 45 * time.Second,
		KeepaliveTime: 15 * time.Second, KeepaliveTimeout: 10 * time.Second,
		UnaryTimeout: 10 * time.Second, FinalSaveTimeout: 5 * time.Second,
	}
}

// Summary says how a stopped consumer ended: its saved offset (the next run resumes after it) and how many entries
// it handled.
type Summary struct {
	Offset  uint64
	Handled int
}

// Consumer follows the Application Log for one consumer id.
type Consumer struct {
	id         string
	o          Options
	conn       *grpc.ClientConn
	eventStore pb.EventStoreServiceClient
	consumers  pb.ConsumerServiceClient
}

// Dial checks the options and opens a channel to target ("host:port": the Event Store's one port serves gRPC).
func Dial(target, consumerID string, o Options) (*Consumer, error) {
	switch {
	case len(consumerID) < 1 || len(consumerID) > 255:
		return nil, errors.New("consumer id must be 1-255 characters")
	case o.Start != "saved" && o.Start != "beginning" && o.Start != "end":
		return nil, fmt.Errorf("start must be saved, beginning or end, not %q", o.Start)
	case o.SaveEveryEntries < 1 || o.HandlerRetries < 0 || o.SaveInterval < 0 || o.HeartbeatTimeout < 0:
		return nil, errors.New("SaveEveryEntries must be >= 1; retries, intervals and timeouts >= 0")
	case o.InitialBackoff < 0 || o.MaxBackoff < o.InitialBackoff:
		return nil, errors.New("need 0 <= InitialBackoff <= MaxBackoff")
	case o.UnaryTimeout <= 0 || o.KeepaliveTime <= 0 || o.KeepaliveTimeout <= 0:
		return nil, errors.New("UnaryTimeout, KeepaliveTime and KeepaliveTimeout must be > 0")
	}
	if o.OnReconnect == nil {
		o.OnReconnect = func(error, time.Duration, int) {}
	}
	if o.OnOffsetSaved == nil {
		o.OnOffsetSaved = func(uint64) {}
	}
	if o.OnStarted == nil {
		o.OnStarted = func(uint64) {}
	}
	conn, err := grpc.Dial(target,
		grpc.WithInsecure(),
		// PINGs find a connection that died silently (a NAT that forgot it), as the Node transport does. All calls
		// share one connection: without them a stream reopened after a heartbeat timeout would wait on the dead one.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: o.KeepaliveTime, Timeout: o.KeepaliveTimeout}),
		// The channel's own reconnection follows our backoff instead of grpc's default (1 s growing to 120 s).
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: grpcbackoff.Config{
				BaseDelay: o.InitialBackoff, Multiplier: 1.6, Jitter: 0.2, MaxDelay: o.MaxBackoff,
			},
			MinConnectTimeout: 5 * time.Second,
		}),
		// A LogsPoll message holds at most 256 KiB of entries, but one large entry travels alone.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)),
	)
	if err != nil {
		return nil, err
	}
	return &Consumer{id: consumerID, o: o, conn: conn,
		eventStore: pb.NewEventStoreServiceClient(conn), consumers: pb.NewConsumerServiceClient(conn)}, nil
}

// Close closes the channel.
func (c *Consumer) Close() error { return c.conn.Close() }

// unit is what one handler call covers: the last id in it, how many entries, and the call.
type unit struct {
	last  uint64
	count int
	call  func() error
}

// Consume calls handle for each entry, one at a time, in log order, until ctx is cancelled; it returns once the
// final offset is saved. It returns the handler's error (after HandlerRetries retries, having saved the offset of
// the last entry that succeeded), a permanent RPC error, or the error of a final save that failed.
func (c *Consumer) Consume(ctx context.Context, handle func(*pb.AppLogEntry) error) (Summary, error) {
	return c.run(ctx, func(entries []*pb.AppLogEntry) []unit {
		units := make([]unit, len(entries))
		for i, e := range entries {
			e := e
			units[i] = unit{last: e.Id, count: 1, call: func() error { return handle(e) }}
		}
		return units
	})
}

// ConsumeBatches is Consume with one handler call per LogsPoll message; a failed batch is retried or fails whole.
func (c *Consumer) ConsumeBatches(ctx context.Context, handle func([]*pb.AppLogEntry) error) (Summary, error) {
	return c.run(ctx, func(entries []*pb.AppLogEntry) []unit {
		return []unit{{last: entries[len(entries)-1].Id, count: len(entries), call: func() error { return handle(entries) }}}
	})
}

func (c *Consumer) withToken(ctx context.Context) context.Context {
	if c.o.Token == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.o.Token)
}

func (c *Consumer) run(ctx context.Context, split func([]*pb.AppLogEntry) []unit) (Summary, error) {
	// One context for "stop now": the caller's cancel, a failed handler, or an offset the store refuses to save.
	stop, stopNow := context.WithCancel(ctx)
	defer stopNow()
	var mu sync.Mutex
	var failure error
	fail := func(err error) {
		mu.Lock()
		if failure == nil {
			failure = err
		}
		mu.Unlock()
		stopNow()
	}
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return failure
	}
	after, saved, err := c.startPosition(stop)
	if err != nil {
		return Summary{}, err
	}
	if stop.Err() != nil {
		return Summary{Offset: saved}, failed()
	}
	c.o.OnStarted(after)
	save := func(ctx context.Context, offset uint64) error {
		_, err := c.consumers.SaveOffset(c.withToken(ctx), &pb.SaveOffsetRequest{ConsumerId: c.id, Offset: offset})
		return err
	}
	saver := newOffsetSaver(c.o, save, after, saved, fail)
	handled := c.follow(stop, after, saver, split, fail)
	if err := failed(); err != nil {
		// Best effort: the failure is what the caller must hear about, not a save that could not follow it.
		offset, _ := saver.close(c.o.FinalSaveTimeout)
		return Summary{Offset: offset, Handled: handled}, err
	}
	offset, err := saver.close(c.o.FinalSaveTimeout)
	return Summary{Offset: offset, Handled: handled}, err
}

// startPosition returns (after, saved): the consumer streams from after + 1. Start-up calls are retried with
// backoff like a reconnection; a consumer that never saved an offset (NotFound) starts from the beginning.
func (c *Consumer) startPosition(stop context.Context) (after, saved uint64, err error) {
	b := backoff{initial: c.o.InitialBackoff, max: c.o.MaxBackoff}
	for stop.Err() == nil {
		ctx, cancel := context.WithTimeout(c.withToken(stop), c.o.UnaryTimeout)
		switch c.o.Start {
		case "beginning":
			cancel()
			return 0, 0, nil
		case "end":
			var head *pb.GetHeadResponse
			if head, err = c.eventStore.GetHead(ctx, &pb.GetHeadRequest{}); err == nil {
				cancel()
				return head.HeadId, 0, nil
			}
		default:
			var got *pb.GetOffsetResponse
			got, err = c.consumers.GetOffset(ctx, &pb.GetOffsetRequest{ConsumerId: c.id})
			if err == nil {
				cancel()
				return got.Offset, got.Offset, nil
			}
			if status.Code(err) == codes.NotFound {
				cancel()
				return 0, 0, nil
			}
		}
		cancel()
		if stop.Err() != nil {
			break
		}
		if !IsTransient(err) {
			return 0, 0, err
		}
		delay := b.next()
		c.o.OnReconnect(err, delay, b.attempt)
		sleep(stop, delay)
	}
	return 0, 0, nil
}

// follow streams from after + 1 until stop ends, reconnecting from the last handled id + 1, never further back.
func (c *Consumer) follow(
	stop context.Context, after uint64, saver *offsetSaver, split func([]*pb.AppLogEntry) []unit, fail func(error),
) int {
	handled := 0
	b := backoff{initial: c.o.InitialBackoff, max: c.o.MaxBackoff}
	for stop.Err() == nil {
		// Its own context: the watchdog cancels this call only, and leaving the loop always cancels it.
		call, cancelCall := context.WithCancel(c.withToken(stop))
		silence := newWatchdog(c.o.HeartbeatTimeout, cancelCall)
		request := &pb.LogsPollRequest{FromId: after + 1, Selector: c.o.Selector, PipelineId: c.o.PipelineID}
		cause := errors.New("LogsPoll ended, but the log never ends: reconnecting")
		stream, err := c.eventStore.LogsPoll(call, request)
		for err == nil {
			silence.arm()
			var response *pb.LogsPollResponse
			response, err = stream.Recv()
			silence.disarm()
			if err != nil {
				break
			}
			b.reset()
			if len(response.Entries) == 0 {
				continue // a heartbeat: the stream is alive
			}
			for _, u := range split(response.Entries) {
				if stop.Err() != nil || !c.handle(stop, u, fail) {
					break
				}
				after = u.last
				handled += u.count
				saver.handled(after, u.count)
			}
			if stop.Err() != nil {
				break
			}
		}
		cancelCall()
		if stop.Err() != nil {
			break
		}
		switch {
		case err == io.EOF:
		case silence.hasFired():
			cause = fmt.Errorf("LogsPoll brought no message for %s, not even a heartbeat: reconnecting", c.o.HeartbeatTimeout)
		case !IsTransient(err):
			fail(err)
			return handled
		default:
			cause = err
		}
		delay := b.next()
		c.o.OnReconnect(cause, delay, b.attempt)
		sleep(stop, delay)
	}
	return handled
}

// handle calls the handler, retrying it HandlerRetries times; false when it failed for good (the consumer then
// stops with its error) or stopping cut a retry short.
func (c *Consumer) handle(stop context.Context, u unit, fail func(error)) bool {
	b := backoff{initial: c.o.InitialBackoff, max: c.o.MaxBackoff}
	for attempt := 0; ; attempt++ {
		err := u.call()
		if err == nil {
			return true
		}
		if attempt == c.o.HandlerRetries {
			fail(err)
			return false
		}
		if !sleep(stop, b.next()) {
			return false
		}
	}
}

// watchdog calls onSilence once d passes between arm and disarm (never when d is 0).
type watchdog struct {
	d         time.Duration
	onSilence func()
	mu        sync.Mutex
	timer     *time.Timer
	fired     bool
}

func newWatchdog(d time.Duration, onSilence func()) *watchdog {
	return &watchdog{d: d, onSilence: onSilence}
}

func (w *watchdog) arm() {
	if w.d <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = time.AfterFunc(w.d, func() {
		w.mu.Lock()
		w.fired = true
		w.mu.Unlock()
		w.onSilence()
	})
}

func (w *watchdog) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

func (w *watchdog) hasFired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fired
}
