// Command drills-ferretdb runs FerretDB v1.24.2 embedded, as the local-runtime
// stand-in for MongoDB: a MongoDB wire-protocol server over PostgreSQL (or SQLite).
//
// It exists because FerretDB's own cmd/ferretdb panics when built with `go install`
// (build/version wants a generated version.txt when the main module is FerretDB).
// The embedded package github.com/FerretDB/FerretDB/ferretdb has no such check.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP listen address (empty disables TCP)")
	listenUnix := flag.String("listen-unix", "", "Unix socket path (empty disables it)")
	handler := flag.String("handler", "postgresql", "backend: postgresql or sqlite")
	pgURL := flag.String("postgresql-url", "postgres://127.0.0.1:5432/ferretdb", "PostgreSQL URL (postgresql handler)")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite URI, a directory (sqlite handler)")
	telemetry := flag.String("telemetry", "disable", "only 'disable' is accepted: embedded FerretDB never reports")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	showVersion := flag.Bool("version", false, "print the embedded FerretDB module version and exit")
	flag.Parse()

	if *showVersion {
		// e.g. "drills-ferretdb FerretDB v1.24.2 go1.26.8": for an "already built?" check
		v := "unknown"
		goV := "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			goV = bi.GoVersion
			for _, d := range bi.Deps {
				if d.Path == "github.com/FerretDB/FerretDB" {
					v = d.Version
				}
			}
		}
		fmt.Printf("drills-ferretdb FerretDB %s %s\n", v, goV)
		return
	}

	// The embedded package creates no telemetry reporter and locks telemetry off
	// (ferretdb.New: s.DisableTelemetry(); s.TelemetryLocked = true). The flag and
	// DO_NOT_TRACK only make that explicit for anyone reading the command line.
	if *telemetry != "disable" {
		fmt.Fprintln(os.Stderr, "drills-ferretdb: --telemetry must be 'disable'")
		os.Exit(2)
	}
	os.Setenv("DO_NOT_TRACK", "1")

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "drills-ferretdb: --log-level: %v\n", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{
			TCP:  *listenAddr,
			Unix: *listenUnix,
		},
		Logger:        logger,
		Handler:       *handler,
		PostgreSQLURL: *pgURL,
		SQLiteURL:     *sqliteURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "drills-ferretdb: %v\n", err)
		os.Exit(1)
	}

	// New has already bound the listeners, so the URI is known (and the port is open).
	fmt.Fprintf(os.Stderr, "drills-ferretdb: listening %s\n", f.MongoDBURI())

	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "drills-ferretdb: %v\n", err)
		os.Exit(1)
	}
}
