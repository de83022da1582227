// Package servers holds the echo servers of the other libraries that
// cmd/compare starts, one command per library under servers/<lib>, each
// serving the endpoint defined in internal/peers. Ours is examples/echo
// in the root module; servers/ours serves the same echo.Handler with a
// CPU profile option, for profiling only.
package servers

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/rfc6455/ws/bench/internal/peers"
)

// Main runs library lib's echo server on -addr until SIGINT or SIGTERM;
// with -compress it negotiates permessage-deflate as the library
// recommends (see peers.Lib.Compression), the flag examples/echo has too.
// serve, when not nil, replaces the library's Serve.
func Main(lib string, serve func(ln net.Listener, o peers.Options) error) {
	addr := flag.String("addr", "127.0.0.1:9001", "address to serve on (loopback)")
	var o peers.Options
	flag.BoolVar(&o.Compress, "compress", false, "negotiate permessage-deflate (RFC 7692)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file until the server is stopped")
	flag.Parse()
	l, err := peers.Get(lib)
	if err != nil {
		log.Fatal(err)
	}
	if serve == nil {
		serve = l.Serve
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		pprof.StopCPUProfile()
		os.Exit(0)
	}()
	fmt.Fprintf(os.Stderr, "%s echo: serving on ws://%s/\n", lib, ln.Addr())
	if err := serve(ln, o); err != nil {
		log.Fatal(err)
	}
	select {}
}
