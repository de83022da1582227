// Command ours-event is our event-mode echo server (package server/event)
// that cmd/compare starts, the handler examples/echo -event serves.
package main

import "github.com/rfc6455/ws/bench/servers"

func main() { servers.Main("ours-event", nil) }
