// Command go-consumer is an example consumer: it follows the ESKIT Application Log from its saved offset and prints
// each entry as one line of JSON (the protobuf JSON mapping: ids as strings, camelCase names, as Connect JSON and
// toJson in TypeScript give). Its own messages (start, reconnections, stop) go to stderr as JSON lines, so stdout
// holds entries only. The token, if the Event Store needs one, comes from ESKIT_TOKEN. Ctrl-C or SIGTERM stops it
// cleanly: the offset is saved, and the next run resumes right after the last entry printed.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	pb "eskit.example/eskitpb/eventstore/v1"
	"eskit.example/go-consumer/consumer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

func main() { os.Exit(run()) }

func run() int {
	o := consumer.DefaultOptions()
	target := flag.String("target", "127.0.0.1:8081", "the Event Store's host:port")
	consumerID := flag.String("consumer-id", "go-example", "whose offset to resume")
	flag.StringVar(&o.Selector, "selector", "", "'' or '*' = all, 'User.*', 'User.Created', '*.Deleted'")
	flag.StringVar(&o.PipelineID, "pipeline-id", "", "only this entity type (combined with -selector)")
	flag.StringVar(&o.Start, "start", o.Start, "saved, beginning or end")
	batches := flag.Bool("batches", false, "hand the handler each LogsPoll message's entries at once")
	flag.IntVar(&o.SaveEveryEntries, "save-every-entries", o.SaveEveryEntries, "save the offset every N entries")
	flag.DurationVar(&o.SaveInterval, "save-interval", o.SaveInterval, "save a handled entry within this long")
	flag.DurationVar(&o.InitialBackoff, "initial-backoff", o.InitialBackoff, "first reconnection delay cap")
	flag.DurationVar(&o.MaxBackoff, "max-backoff", o.MaxBackoff, "reconnection delay cap")
	flag.DurationVar(&o.HeartbeatTimeout, "heartbeat-timeout", o.HeartbeatTimeout,
		"reconnect after this long without a message; 0 = never")
	flag.DurationVar(&o.KeepaliveTime, "keepalive-time", o.KeepaliveTime,
		"PING a connection this long silent (10s at least)")
	flag.DurationVar(&o.KeepaliveTimeout, "keepalive-timeout", o.KeepaliveTimeout, "drop it when no answer came by then")
	flag.Parse()
	o.Token = os.Getenv("ESKIT_TOKEN")
	o.OnReconnect = func(cause error, delay time.Duration, attempt int) {
		st, _ := status.FromError(cause)
		logLine("warn", "reconnecting", map[string]any{
			"delayMs": delay.Milliseconds(), "attempt": attempt, "code": st.Code().String(), "details": st.Message(),
		})
	}

	o.OnStarted = func(after uint64) {
		logLine("info", "started", map[string]any{"after": fmt.Sprint(after), "fromId": fmt.Sprint(after + 1)})
	}

	c, err := consumer.Dial(*target, *consumerID, o)
	if err != nil {
		logLine("error", "bad options", map[string]any{"error": err.Error()})
		return 2
	}
	defer c.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	out := bufio.NewWriter(os.Stdout)
	printEntry := func(e *pb.AppLogEntry) error {
		line, err := protojson.Marshal(e)
		if err != nil {
			return err
		}
		// protojson varies its spacing on purpose; one compact line per entry keeps the output line-oriented.
		var compact bytes.Buffer
		if err := json.Compact(&compact, line); err != nil {
			return err
		}
		compact.WriteByte('\n')
		if _, err := out.Write(compact.Bytes()); err != nil {
			return err
		}
		return out.Flush()
	}
	logLine("info", "consuming", map[string]any{"target": *target, "consumerId": *consumerID, "selector": o.Selector})
	var summary consumer.Summary
	if *batches {
		summary, err = c.ConsumeBatches(ctx, func(entries []*pb.AppLogEntry) error {
			for _, e := range entries {
				if err := printEntry(e); err != nil {
					return err
				}
			}
			return nil
		})
	} else {
		summary, err = c.Consume(ctx, printEntry)
	}
	if err != nil {
		st, _ := status.FromError(err)
		logLine("error", "stopped by an error", map[string]any{"code": st.Code().String(), "details": st.Message()})
		return 1
	}
	logLine("info", "stopped", map[string]any{"offset": fmt.Sprint(summary.Offset), "handled": summary.Handled})
	return 0
}

func logLine(level, msg string, fields map[string]any) {
	record := map[string]any{"time": time.Now().UnixMilli(), "level": level, "msg": msg}
	for k, v := range fields {
		record[k] = v
	}
	line, _ := json.Marshal(record)
	fmt.Fprintln(os.Stderr, string(line))
}
