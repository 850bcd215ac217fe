package consumer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/status"
)

// offsetSaver saves a consumer's offset in the background as entries are handled, and a last time on close: every
// everyEntries entries or within interval of an entry handled, never ahead of the handler (the policy of the
// TypeScript client's offset-saver.ts). Saves run one at a time in one goroutine, so an older offset never
// overwrites a newer one and a slow store slows saving, not consuming. A save that fails while running is no error
// yet (the store is usually down and the stream reconnecting too): it is tried again with more entries or after a
// backoff. A permanent error (a read-only token: PermissionDenied) goes to onPermanentFailure: the consumer stops.
type offsetSaver struct {
	save               func(ctx context.Context, offset uint64) error
	everyEntries       int
	interval           time.Duration
	unaryTimeout       time.Duration
	initial, max       time.Duration
	onSaved            func(uint64)
	onPermanentFailure func(error)

	mu           sync.Mutex
	handledUpTo  uint64
	confirmed    uint64
	saved        uint64
	unsaved      int
	due          time.Time // zero: nothing waits to be saved
	failures     int
	lastErr      error
	permanentErr error

	kick     chan struct{}
	closing  chan struct{}
	done     chan struct{}
	lifetime context.Context
	cancel   context.CancelFunc
}

func newOffsetSaver(
	o Options, save func(context.Context, uint64) error, baseline, initialSaved uint64, onPermanentFailure func(error),
) *offsetSaver {
	lifetime, cancel := context.WithCancel(context.Background())
	s := &offsetSaver{
		save: save, everyEntries: o.SaveEveryEntries, interval: o.SaveInterval, unaryTimeout: o.UnaryTimeout,
		initial: o.InitialBackoff, max: o.MaxBackoff, onSaved: o.OnOffsetSaved, onPermanentFailure: onPermanentFailure,
		handledUpTo: baseline, confirmed: baseline, saved: initialSaved,
		kick: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{}),
		lifetime: lifetime, cancel: cancel,
	}
	go s.loop()
	return s
}

// handled records that the entries up to and including offset (count of them) were handled.
func (s *offsetSaver) handled(offset uint64, count int) {
	s.mu.Lock()
	s.handledUpTo = offset
	s.unsaved += count
	if s.due.IsZero() {
		s.due = time.Now().Add(s.interval)
	}
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// nextTarget returns the offset to save now (ok), or how long to wait before asking again (wait < 0: until kicked).
func (s *offsetSaver) nextTarget() (target uint64, wait time.Duration, ok, quit bool) {
	select {
	case <-s.closing:
		return 0, 0, false, true
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.permanentErr != nil {
		return 0, 0, false, true
	}
	if s.handledUpTo <= s.confirmed {
		return 0, -1, false, false
	}
	wait = time.Until(s.due)
	if s.unsaved >= s.everyEntries || wait <= 0 {
		s.unsaved, s.due = 0, time.Time{}
		return s.handledUpTo, 0, true, false
	}
	return 0, wait, false, false
}

func (s *offsetSaver) loop() {
	defer close(s.done)
	for {
		target, wait, ok, quit := s.nextTarget()
		if quit {
			return
		}
		if ok {
			s.saveInBackground(target)
			continue
		}
		var timeout <-chan time.Time
		var timer *time.Timer
		if wait >= 0 {
			timer = time.NewTimer(wait)
			timeout = timer.C
		}
		select {
		case <-s.kick:
		case <-timeout:
		case <-s.closing:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

func (s *offsetSaver) saveInBackground(target uint64) {
	ctx, cancel := context.WithTimeout(s.lifetime, s.unaryTimeout)
	err := s.save(ctx, target)
	cancel()
	if err == nil {
		s.succeeded(target)
		return
	}
	if s.lifetime.Err() != nil {
		return // cut short by close's deadline: close reports it
	}
	if !IsTransient(err) {
		s.mu.Lock()
		s.permanentErr = err
		s.mu.Unlock()
		s.onPermanentFailure(err)
		return
	}
	s.mu.Lock()
	s.lastErr = err
	retryIn := backoffDelay(s.failures, s.initial, s.max)
	if retryIn < s.interval {
		retryIn = s.interval
	}
	s.failures++
	if at := time.Now().Add(retryIn); s.due.IsZero() || at.Before(s.due) {
		s.due = at
	}
	s.mu.Unlock()
}

func (s *offsetSaver) succeeded(offset uint64) {
	s.mu.Lock()
	if offset > s.confirmed {
		s.confirmed = offset
	}
	s.saved = s.confirmed
	s.failures, s.lastErr = 0, nil
	s.mu.Unlock()
	s.onSaved(offset)
}

// close stops saving in the background and saves the last handled offset, retrying transient failures for at most
// timeout. It returns the saved offset, the permanent error, or an error saying from where entries come again.
func (s *offsetSaver) close(timeout time.Duration) (uint64, error) {
	deadline := time.AfterFunc(timeout, s.cancel)
	defer deadline.Stop()
	defer s.cancel()
	close(s.closing)
	select {
	case <-s.done:
	case <-s.lifetime.Done():
	}
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		permanentErr, target, confirmed, saved, lastErr := s.permanentErr, s.handledUpTo, s.confirmed, s.saved, s.lastErr
		s.mu.Unlock()
		if permanentErr != nil {
			return saved, permanentErr
		}
		if target <= confirmed {
			return saved, nil
		}
		if s.lifetime.Err() != nil {
			reason := "no answer"
			if lastErr != nil {
				st := status.Convert(lastErr)
				reason = fmt.Sprintf("%s: %s", st.Code(), st.Message())
			}
			return saved, fmt.Errorf("could not save offset %d within %s (%s): entries after the last saved offset "+
				"will be delivered again", target, timeout, reason)
		}
		ctx, cancel := context.WithTimeout(s.lifetime, s.unaryTimeout)
		err := s.save(ctx, target)
		cancel()
		if err == nil {
			s.succeeded(target)
			continue
		}
		if s.lifetime.Err() == nil && !IsTransient(err) {
			return saved, err
		}
		s.mu.Lock()
		s.lastErr = err
		s.mu.Unlock()
		sleep(s.lifetime, backoffDelay(attempt, s.initial, s.max))
	}
}
